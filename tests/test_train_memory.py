"""A training step's memory: the count of what autograd saves against autograd itself, the
estimate against a measured step, and the refusal of a tile x batch that cannot fit before
the data is loaded (audit s35 laptop 3: 16 tiles of 1024 px died at the first step after 36 s
of loading, and --check said nothing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import asdict, replace

import pytest
import torch

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.errors import UnetlabError
from unetlab.models import UNet
from unetlab.models.memory import STEP_FACTOR, counted_bytes, saved_bytes, step_bytes
from unetlab.plan import memory as plan_memory
from unetlab.plan.memory import PLAN_SHARE, StepMemory, check_step_memory
from unetlab.plan.tiles import plan_batch

NETS = [
    ("small", {}, 64),
    ("small-valid", {"norm": None, "in_channels": 3, "num_classes": 5}, 108),
    ("paper", {"base_channels": 4}, 188),  # valid, no norm, the bottleneck's dropout
    ("small", {"norm": "group", "base_channels": 8}, 64),
    ("small", {"upsample": "bilinear", "fusion": "add"}, 64),
]


@pytest.mark.parametrize(("preset", "over", "tile"), NETS)
def test_saved_bytes_is_what_autograd_saves(preset, over, tile):
    model = UNet.from_preset(preset, **over).train()
    config = asdict(model.config)
    counted = counted_bytes(model, config["in_channels"], tile)
    assert saved_bytes(config, tile) == pytest.approx(counted, rel=0.01)  # norm statistics


def test_a_net_on_the_meta_device_counts_as_on_real_tiles():
    torch.manual_seed(0)
    real = UNet.from_preset("small", norm="group", base_channels=8).train()
    with torch.device("meta"):
        meta = UNet.from_preset("small", norm="group", base_channels=8).train()
    assert counted_bytes(meta, 1, 64) == counted_bytes(real, 1, 64) > 0


def test_an_encoder_net_is_counted_on_the_meta_device(monkeypatch):
    """Counted on real tiles, vgg16 took 5-11 s at each train start on a loaded CPU."""
    from unetlab import models
    from unetlab.models import memory
    from unetlab.plan.memory import net_architecture

    built, make = [], models.model_from_config

    def recorded(config):
        model = make(config)
        built.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(models, "model_from_config", recorded)
    config = net_architecture(load_config(None, ["model.encoder=vgg16"]))
    sides, counts = memory._encoder_counts.__wrapped__(tuple(sorted(config.items())))
    assert built == ["meta"] and len(counts) == 3 and 0 < counts[0] < counts[1] < counts[2]


_MEASURED = """
from unetlab.models import UNet
from unetlab.train.memory import measure_step

def build():
    return UNet.from_preset("small", base_channels=8, depth=3)

measure_step(build, 128, 1)  # the library's one-time workspace, paid before
print(measure_step(build, 192, 1), measure_step(build, 192, 3))
"""


@pytest.mark.skipif(
    not __import__("unetlab.train.memory", fromlist=["x"]).can_measure(),
    reason="peak memory is measured through Linux's /proc/self/clear_refs",
)
def test_estimate_within_tolerance_of_a_measured_step():
    """The estimate's share per tile (STEP_FACTOR x the saved bytes) against the growth of
    the peak resident memory from one tile to three in real steps (bench/README.md: the
    factor's rows lie within -30%..+30% of the fit), and the whole estimate not below a
    measured step. Measured in a fresh process of one thread: in the suite's process the
    memory earlier tests freed but kept moved the peaks (54 MB a tile against 39 +- 15 in a
    fresh clone's CI, s51)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", _MEASURED], env=env, capture_output=True, text=True, check=True
    ).stdout
    one, three = map(float, out.split())
    per_tile = (three - one) / 2  # 33 MB measured (one thread), 20 MB saved
    config = asdict(UNet.from_preset("small", base_channels=8, depth=3).config)
    factor = STEP_FACTOR["fp32"]
    assert per_tile == pytest.approx(factor * saved_bytes(config, 192), rel=0.4)
    assert step_bytes(config, 192, 3) >= three


def _memory(cfg, available: float) -> StepMemory:
    return StepMemory.of(cfg, "cpu", available=available)


def test_refusal_names_the_largest_batch_that_fits():
    cfg = load_config(None, ["data.tile_size=512", "train.batch_size=16", "train.amp=off"])
    memory = _memory(cfg, 2e9)
    fits = memory.largest_batch(512)
    assert 1 <= fits < 16
    assert memory.bytes(512, fits) <= 2e9 < memory.bytes(512, fits + 1)
    with pytest.raises(UnetlabError) as err:
        check_step_memory(cfg, "cpu", memory)
    line = str(err.value)
    assert "(this machine has 2.00 GB available)" in line and "\n" not in line
    # as its caller sets it: a notebook calling fit was told "set train.batch_size=3" (s52)
    assert line.endswith(f"; cfg.train.batch_size = {fits} (the most tiles of 512 px that fit)")
    assert f"; --set train.batch_size={fits} (the most" in err.value.cli


def test_refusal_names_a_smaller_tile_where_not_one_fits():
    cfg = load_config(None, ["data.tile_size=1024", "train.batch_size=2", "train.amp=off"])
    memory = _memory(cfg, 0.5e9)
    with pytest.raises(
        UnetlabError, match=r"not one tile of 1024 px fits: cfg.data.tile_size = (\d+) or smaller$"
    ) as err:
        check_step_memory(cfg, "cpu", memory)
    tile = int(err.value.cli.split("--set data.tile_size=")[-1].split()[0])
    assert memory.bytes(tile, 1) <= 0.5e9 < memory.bytes(1024, 1)
    assert f"cfg.data.tile_size = {tile} or smaller" in str(err.value)


def test_a_step_that_fits_passes():
    cfg = load_config(None, ["data.tile_size=128", "train.batch_size=2"])
    memory = _memory(cfg, 8e9)
    assert check_step_memory(cfg, "cpu", memory).available == 8e9
    unknown = StepMemory(memory.net, memory.precision, None)  # not Linux: nothing said of it
    assert check_step_memory(cfg, "cpu", unknown) is unknown
    assert "available" not in unknown.said(128, 2)


def test_plan_keeps_its_batch_within_the_budget():
    cfg = load_config(None, ["train.amp=off"])
    memory = _memory(cfg, 1e9)
    choice = plan_batch(256, "cuda", memory)  # a GPU's aim: 32 tiles of 256 px
    assert choice.value == memory.largest_batch(256, PLAN_SHARE) < 32
    assert memory.bytes(256, choice.value) <= PLAN_SHARE * 1e9
    assert "~" in choice.reason and "(the GPU has" not in choice.reason  # a cpu StepMemory
    roomy = plan_batch(256, "cuda", _memory(cfg, 1e12))
    assert roomy.value == 32 and "this machine has 1000 GB available" in roomy.reason


def _fake_available(monkeypatch, available: float) -> None:
    monkeypatch.setattr(plan_memory, "available_memory", lambda device: available)


def _not_loaded(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr("unetlab.train.run.prepare_data", refuse)


def test_check_refuses_before_loading(two_pair_data, tmp_path, monkeypatch, capsys):
    _fake_available(monkeypatch, 0.3e9)
    _not_loaded(monkeypatch)
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(two_pair_data), "--check", "--run-dir", str(run_dir)]
    args += ["--set", "data.tile_size=256", "--set", "train.batch_size=8", "--set", "train.amp=off"]
    assert main(args) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("unetlab train: error:"))
    assert "train.batch_size 8 x data.tile_size 256" in line and "--set train.batch_size=" in line
    assert "cfg." not in line
    assert "this machine has 0.30 GB available" in line
    assert not run_dir.exists()


def test_train_refuses_before_the_run_folder(two_pair_data, tmp_path, monkeypatch, capsys):
    _fake_available(monkeypatch, 0.3e9)
    _not_loaded(monkeypatch)
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(two_pair_data), "--run-dir", str(run_dir), "--no-plan"]
    args += ["--set", "data.tile_size=256", "--set", "train.batch_size=8", "--set", "train.amp=off"]
    assert main(args) == 2
    assert "it would run out of memory at its first step" in capsys.readouterr().err
    assert not run_dir.exists()


def test_a_refused_train_says_the_plan_first(two_pair_data, tmp_path, monkeypatch, caplog):
    """The plan's lines (the batch line with each step's memory) before the refusal, as
    --check shows them: fit logs them only once the run folder is made (they were lost)."""
    _fake_available(monkeypatch, 0.3e9)
    _not_loaded(monkeypatch)
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(two_pair_data), "--run-dir", str(run_dir)]
    args += ["--set", "data.tile_size=256", "--set", "train.batch_size=8", "--set", "train.amp=off"]
    with caplog.at_level("INFO", logger="unetlab"):
        assert main(args) == 2
    lines = [r.getMessage() for r in caplog.records]
    batch = next(x for x in lines if x.startswith("plan: train.batch_size"))
    assert "your 8: ~" in batch and "(this machine has 0.30 GB available)" in batch
    assert not run_dir.exists()


def test_check_says_the_step_memory(two_pair_data, tmp_path, monkeypatch, caplog):
    _fake_available(monkeypatch, 4e9)
    run_dir = tmp_path / "run"
    args = ["train", "--data", str(two_pair_data), "--check", "--run-dir", str(run_dir)]
    args += ["--set", "train.device=cpu"]  # the CPU's line: a GPU's says "as on a CPU"
    with caplog.at_level("INFO", logger="unetlab"):
        assert main(args + ["--set", "train.amp=off"]) == 0
    lines = [r.getMessage() for r in caplog.records]
    said = r"GB a step \+ ~0 MB of data \(this machine has 4.00 GB available\)"  # 2 x 32 px
    batch = next(x for x in lines if x.startswith("plan: train.batch_size"))
    assert re.search(said, batch)
    check = next(x for x in lines if x.startswith("check:"))
    assert re.search(said, check)


def test_available_memory_reads_meminfo_and_the_gpu(tmp_path, monkeypatch):
    from unetlab import runtime

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  8000000 kB\nMemAvailable:    2000000 kB\n")
    monkeypatch.setattr(runtime, "MEMINFO", meminfo)
    monkeypatch.setattr(runtime, "_cgroup_room", lambda: None)
    monkeypatch.setattr(runtime, "_address_space_room", lambda: 1.5e9)
    assert runtime.available_memory("cpu") == 1.5e9  # the least of them: ulimit -v
    monkeypatch.setattr(runtime, "_address_space_room", lambda: None)
    assert runtime.available_memory("cpu") == 2000000 * 1024
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (3e9, 8e9))
    assert runtime.available_memory("cuda") == 3e9


def test_a_gpu_step_is_said_against_its_free_memory():
    cfg = load_config(None, ["data.tile_size=512", "train.batch_size=64"])
    memory = StepMemory.of(cfg, "cuda:0", available=3e9)
    assert memory.precision == {"amp": "bf16", "optimizer": "adamw"}
    assert memory.said(512, 1).endswith("(the GPU has 3.00 GB free)")
    with pytest.raises(UnetlabError, match="the GPU has 3.00 GB free"):
        check_step_memory(cfg, "cuda", memory)


def test_cpu_processes_share_the_memory():
    """--nproc 2 on a CPU: two steps at once, each in its own process."""
    cfg = load_config(None, ["data.tile_size=256", "train.batch_size=4", "train.amp=off"])
    one_step = StepMemory.of(cfg, "cpu", available=1e9).bytes(256, 4)
    memory = _memory(cfg, 1.5 * one_step)
    assert check_step_memory(cfg, "cpu", memory) is memory  # one process fits
    with pytest.raises(UnetlabError, match="each of 2 processes") as err:
        check_step_memory(cfg, "cpu", memory, processes=2)
    fits = int(err.value.cli.split("train.batch_size=")[1].split()[0])
    assert 2 * memory.bytes(256, fits) <= memory.available < 2 * memory.bytes(256, 4)
    gpu = StepMemory.of(cfg, "cuda", available=1.5 * one_step)  # one GPU each: its own
    checked = check_step_memory(cfg, "cuda", gpu, processes=2)  # no refusal
    assert checked.room == gpu.available and checked.data_room == gpu.host / 2  # data: each


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_the_estimate_takes_the_precision_training_takes(device, monkeypatch):
    """The plan's step estimate and training chose the autocast by two copies of one rule:
    on a GPU with bf16, ``amp: native`` trained in bf16 and was estimated in fp32."""
    from unetlab import runtime
    from unetlab.config import Config
    from unetlab.plan.memory import step_precision
    from unetlab.train import loop
    from unetlab.train.loop import Precision

    for module in (runtime, loop, plan_memory):  # each place that looked it up
        monkeypatch.setattr(module, "supports_bf16", lambda device="cpu": True, raising=False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    for amp in ("auto", "native", "bf16", "fp16", "off"):
        cfg = Config()
        cfg.train.amp = amp
        trained = Precision.choose(amp, None, torch.device(device)).amp_dtype
        assert step_precision(cfg, device)["amp"] == ("fp32" if trained is None else "bf16"), amp


# --- the loaded data's memory --------------------------------------------------------------


def test_the_data_bytes_are_what_the_loader_holds(two_pair_data):
    """The samples' arrays (image float32, mask int64, the weight map float32) and the
    images as read (uint8 here: freed, but kept by the heap), pixel by pixel."""
    from unetlab.data.footprint import data_bytes
    from unetlab.train.setup import prepare_data

    for weight_map in (False, True):
        cfg = load_config(None, [f"data.root={two_pair_data}", f"data.weight_map={weight_map}"])
        data = prepare_data(cfg)
        samples = data.train + data.val
        arrays = sum(s.image.nbytes + s.mask.nbytes for s in samples)
        arrays += sum(s.weight.nbytes for s in samples if s.weight is not None)
        read = sum(s.mask.size for s in samples)  # one uint8 channel each
        sizes = [(*s.mask.shape, s.image.shape[0], s.dtype) for s in samples]
        assert data_bytes(sizes, len(samples), weight_map=weight_map) == arrays + read


def test_a_data_set_that_alone_does_not_fit_is_refused():
    cfg = load_config(None, ["data.tile_size=128", "train.batch_size=2", "train.amp=off"])
    memory = replace(_memory(cfg, 2e9), data=3e9)
    with pytest.raises(UnetlabError) as err:
        check_step_memory(cfg, "cpu", memory)
    line = str(err.value)
    assert line.startswith("the data set: ~") and "+ ~3.00 GB of data" in line
    assert "fewer or smaller images" in line and "\n" not in line


def test_the_step_gets_what_the_data_leaves():
    """A batch that fits the machine alone does not fit beside its data set: the batch named
    fits in what the data leaves."""
    cfg = load_config(None, ["data.tile_size=512", "train.batch_size=4", "train.amp=off"])
    alone = _memory(cfg, 4e9)
    assert check_step_memory(cfg, "cpu", alone) is alone
    memory = replace(alone, data=4e9 - alone.bytes(512, 4) + 1e8)
    with pytest.raises(UnetlabError) as err:
        check_step_memory(cfg, "cpu", memory)
    fits = int(err.value.cli.split("train.batch_size=")[1].split()[0])
    assert 1 <= fits < 4 and memory.bytes(512, fits) + memory.data <= 4e9
    assert "GB of data (this machine has 4.00 GB available)" in str(err.value)
    assert "or train on fewer or smaller images" in str(err.value)


def test_check_refuses_a_data_set_too_large_before_loading(
    two_pair_data, tmp_path, monkeypatch, capsys
):
    """The plan's measure of the data reaches the check (the plan's batch line says it):
    5 GB of data, 4 GB available."""
    _fake_available(monkeypatch, 4e9)
    _not_loaded(monkeypatch)
    monkeypatch.setattr("unetlab.plan.make.data_memory", lambda fp, cfg, images: 5e9)
    run_dir = tmp_path / "run"
    for flags in (["--check"], []):
        args = ["train", "--data", str(two_pair_data), "--run-dir", str(run_dir), *flags]
        assert main(args) == 2
        err = capsys.readouterr().err
        line = next(x for x in err.splitlines() if x.startswith("unetlab train: error:"))
        assert "the data set: ~" in line and "+ ~5.00 GB of data (this machine has 4.00" in line
        assert not run_dir.exists()


def test_fit_refuses_with_its_plans_data(two_pair_data, tmp_path, monkeypatch):
    from unetlab.plan.record import Plan
    from unetlab.train.fitting import fit

    _fake_available(monkeypatch, 4e9)
    _not_loaded(monkeypatch)
    cfg = load_config(None, [f"data.root={two_pair_data}", "train.device=cpu"])
    with pytest.raises(UnetlabError, match=r"~5.00 GB of data \(this machine has 4.00 GB"):
        fit(cfg, run_dir=tmp_path / "run", plan=Plan(data_bytes=5e9), progress=False)
    assert not (tmp_path / "run").exists()


def test_fit_names_the_batch_as_python_sets_it(two_pair_data, tmp_path, monkeypatch):
    """A notebook's fit is told the fix as it would type it (``cfg.train.batch_size = 2``),
    not the command line's ``train.batch_size=2`` (s52)."""
    from unetlab.train.fitting import fit

    _fake_available(monkeypatch, 0.3e9)
    _not_loaded(monkeypatch)
    over = ["data.tile_size=256", "train.batch_size=8", "train.amp=off", "train.device=cpu"]
    cfg = load_config(None, [f"data.root={two_pair_data}", *over])
    with pytest.raises(UnetlabError, match=r"; cfg\.train\.batch_size = \d+ \(the most") as err:
        fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert "--set" not in str(err.value) and "train.batch_size=" not in str(err.value)


def test_a_gpu_step_is_said_as_a_cpu_estimate_and_its_data_in_the_machine():
    """The step's factors were fitted on CPU steps; the data set lives in the machine's
    memory, not the GPU's."""
    cfg = load_config(None, ["data.tile_size=256", "train.batch_size=4"])
    gpu = StepMemory.of(cfg, "cuda", available=8e9, data=3e9, host=2e9)
    said = gpu.said(256, 4)
    assert ", as on a CPU (the GPU has 8.00 GB free) + ~3.00 GB of data" in said
    assert said.endswith("(this machine has 2.00 GB available)")
    assert gpu.room == 8e9  # the data takes none of the GPU's
    with pytest.raises(UnetlabError, match="the data set: ~"):
        check_step_memory(cfg, "cuda", gpu)
    roomy = replace(gpu, host=16e9)
    assert check_step_memory(cfg, "cuda", roomy) is roomy


def test_the_encoder_table_is_what_the_nets_save(monkeypatch):
    """ENCODER_COUNTS against the count on the meta device (which imports torch._dynamo: a
    few seconds, once), with other input channels and classes than the table's."""
    from unetlab.models import memory
    from unetlab.models.encoders import EncoderUNetConfig

    for encoder, upsample in memory.ENCODER_COUNTS:
        config = asdict(EncoderUNetConfig(encoder, 3, 5, upsample))
        counted = memory._encoder_counts.__wrapped__(tuple(sorted(config.items())))
        assert memory.encoder_counts(config) == tuple(map(list, counted)), (encoder, upsample)


def test_an_encoder_step_is_estimated_without_building_a_net(monkeypatch):
    """The count on the meta device took 5-8 s at each train start on a loaded CPU."""
    from unetlab import models
    from unetlab.plan.memory import net_architecture

    def refuse(config):
        raise AssertionError("a net was built")

    monkeypatch.setattr(models, "model_from_config", refuse)
    config = net_architecture(load_config(None, ["model.encoder=resnet50"]))
    assert saved_bytes(config, 256) > saved_bytes(config, 128) > 0
    other = {**config, "decoder_depth": 3}  # an architecture the table does not know: counted
    with pytest.raises(AssertionError, match="a net was built"):
        saved_bytes(other, 256)


def test_the_plans_batch_line_counts_the_precision_it_plans(monkeypatch):
    """The batch line estimated the step in the config's amp (auto: fp32 on a CPU) while
    the plan set train.amp=native (bf16): 0.40 GB against --check's 0.35 GB (RGB, 256 px)."""
    from unetlab.data.fingerprint import Fingerprint, PairFacts
    from unetlab.plan.make import make_plan

    for module in ("unetlab.plan.device", "unetlab.runtime"):  # bf16 natively, both rules
        monkeypatch.setattr(f"{module}.supports_bf16", lambda device="cpu": True)
    _fake_available(monkeypatch, 8e9)
    cfg = load_config(None, ["data.tile_size=256", "train.batch_size=4"])
    grey = [(v,) * 3 for v in (10.0, 120.0, 240.0)]  # RGB
    one = PairFacts("a.png", 512, 512, 3, "uint8", *grey, (0, 255), (2, 8))
    plan = make_plan(Fingerprint([one] * 4), cfg, explicit={"data.tile_size"})
    assert next(c.value for c in plan.choices if c.key == "train.amp") == "native"
    planned = plan.apply(cfg)
    said = StepMemory.of(planned, "cpu", **plan_memory.planned_facts(plan))
    batch = next(c for c in plan.choices if c.key == "train.batch_size")
    assert said.precision["amp"] == "bf16" and said.said(256, batch.value) in batch.reason


def test_without_a_plan_the_data_is_sized_from_its_files(two_pair_data, monkeypatch):
    """--no-plan, fit(cfg) without a plan, a resume: the data's bytes from the files' headers
    and the first image's channels and dtype, as much as the loader holds."""
    from unetlab.plan.memory import listed_data_memory
    from unetlab.train.setup import prepare_data

    over = ["data.tile_size=64", "train.batch_size=2", "train.amp=off"]
    cfg = load_config(None, [f"data.root={two_pair_data}", *over])
    listed = listed_data_memory(cfg)
    samples = prepare_data(cfg).train + prepare_data(cfg).val
    loaded = sum(s.image.nbytes + s.mask.nbytes + s.mask.size for s in samples)  # + uint8 read
    assert listed == loaded > 0
    step = _memory(cfg, 1e9).bytes(64, 2)
    _fake_available(monkeypatch, step + listed / 2)
    with pytest.raises(UnetlabError, match="GB a step \\+ ~0 MB of data"):
        check_step_memory(cfg, "cpu")
    _fake_available(monkeypatch, step + 2 * listed)
    assert check_step_memory(cfg, "cpu").data == listed
