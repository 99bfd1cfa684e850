"""The plan: exact choices from made-up fingerprints, the user's keys winning, and the CLI
printing its plan or refusing contradicting data before a run folder exists."""

import numpy as np
import pytest

from unetlab.checkpoint import load_model
from unetlab.cli import main
from unetlab.config import Config, explicit_keys, load_config
from unetlab.data.fingerprint import Fingerprint, PairFacts
from unetlab.data.io import write_png, write_tiff
from unetlab.errors import DatasetError, command_spelling
from unetlab.plan import (
    Geometry,
    check_data,
    make_plan,
    plan_batch,
    plan_loss,
    plan_normalization,
    plan_precision,
    plan_tile,
    plan_workers,
)


def facts(
    *, side=256, dtype="uint8", counts=(20, 80), areas=(), touching=0, n=1, lmh=(10, 120, 240)
):
    low, median, high = ((float(v),) for v in lmh)
    one = PairFacts(
        "a.png",
        side,
        side,
        1,
        dtype,
        low,
        median,
        high,
        (0, 255),
        tuple(counts),
        tuple(areas),
        touching,
    )
    return Fingerprint([one] * n)


def test_geometry_of_the_presets():
    cfg = load_config(None, [])  # small: depth 4, same padding
    assert Geometry.of(cfg) == Geometry(4, "same") and Geometry.of(cfg).min_image == 8
    paper = Geometry.of(load_config(None, ["model.preset=paper"]))
    assert (paper.min_input, paper.output(572)) == (188, 388)
    assert Geometry(4, "same").inputs(48) == [8, 16, 24, 32, 40, 48]


def test_tile_spans_several_objects_within_image_and_budget():
    same = Geometry(4, "same")
    area = np.pi * 10**2  # objects 20 px across: 4 across need 80 px
    tile = plan_tile(facts(areas=[area] * 5), same, "cpu")
    assert tile.value == 80
    # the median is an area (pixels counted), the diameter a length: said as such
    assert "objects are ~20 px across (median area 314 px): 4 across" in tile.reason
    small = plan_tile(facts(side=64, areas=[area * 9] * 5), same, "cpu")  # 60 px objects
    assert small.value == 64 and "smallest image side (64 px)" in small.reason
    big = plan_tile(facts(side=2048, areas=[area * 100] * 5), same, "cpu")
    assert big.value == 256 and "cpu budget" in big.reason
    assert plan_tile(facts(side=2048, areas=[area * 100] * 5), same, "cuda").value == 512
    assert plan_tile(facts(side=100), same, "cpu").value == 96  # no objects: largest that fits


def test_tile_reason_names_images_whose_objects_differ_in_size_by_magnification():
    """Audit s45 newuser: Kromp mixes 20x and 63x nuclei (per image 17-179 px across); the
    plan said '~28 px across' (most objects are the 20x ones) as if of every image."""
    same = Geometry(4, "same")
    small, large = np.pi * 10**2, np.pi * 90**2  # 20 and 180 px across
    mixed = Fingerprint([facts(areas=[small] * 30).pairs[0], facts(areas=[large] * 3).pairs[0]])
    tile = plan_tile(mixed, same, "cpu")
    assert tile.value == 80  # the tile itself: the median of all objects, as before
    assert "per image the median object is 20-180 px across (magnifications differ?)" in (
        tile.reason
    )
    assert "predict_folder(..., scale=N) resizes" in tile.reason and "--scale" not in tile.reason
    assert "; cfg.data.tile_size = N sets it, " in tile.reason  # the key was bare (s57)
    with command_spelling():
        assert "predict --scale resizes" in plan_tile(mixed, same, "cpu").reason
        assert "; --set data.tile_size=N sets it, " in plan_tile(mixed, same, "cpu").reason
    alike = Fingerprint([facts(areas=[small] * 30).pairs[0], facts(areas=[small * 9] * 3).pairs[0]])
    assert "per image" not in plan_tile(alike, same, "cpu").reason  # 20 and 60 px: alike


def test_tile_reason_says_no_magnification_of_a_set_of_several_classes():
    """Audit s46 scenes: road scenes (11 classes, objects 23-106 px across per image) were
    asked "magnifications differ?" and told of "such a nuclei set": the spread is the
    classes' sizes."""
    from dataclasses import replace

    same = Geometry(4, "same")
    small, large = int(np.pi * 10**2), int(np.pi * 90**2)  # 20 and 180 px across
    cars = replace(facts(areas=[small] * 30).pairs[0], object_values=(1,) * 30)
    roads = replace(facts(areas=[large] * 3).pairs[0], object_values=(2,) * 3)
    reason = plan_tile(Fingerprint([cars, roads]), same, "cpu").reason
    assert "per image the median object is 20-180 px across" in reason
    assert "objects of 2 classes, whose sizes differ" in reason
    assert "all objects (cfg.data.tile_size = N sets it)" in reason  # was the bare key
    with command_spelling():
        again = plan_tile(Fingerprint([cars, roads]), same, "cpu").reason
    assert "all objects (--set data.tile_size=N sets it)" in again
    assert "magnification" not in reason and "nuclei" not in reason


def test_batch_keeps_pixels_per_step():
    assert plan_batch(128, "cpu").value == 8 and plan_batch(64, "cpu").value == 32
    assert plan_batch(256, "cpu").value == 2 and plan_batch(1024, "cpu").value == 1


def test_normalization_from_dtype_and_intensities():
    assert plan_normalization(facts(dtype="uint16")).value["mode"] == "percentile"
    assert plan_normalization(facts(lmh=(2, 8, 200))).value["mode"] == "percentile"  # dark
    assert plan_normalization(facts()).value == {"mode": "per_image"}  # EM-like


def test_bright_field_colour_is_standardised_per_image_over_its_tissue():
    """Per-image statistics of a slide (mostly white glass) scaled its tissue about twice as
    strongly as training did: F1 0.80 on a slide region against 0.94 for the same pixels
    alone; the training set's fixed statistics (planned until s32) lost a second stain batch
    (synthetic H&E: mIoU 0.25 where per-image standardisation over the tissue kept 0.81).
    8-bit bright-field
    colour is planned per image over its tissue (glass left out); photographs and grey (EM)
    keep per-image standardisation."""
    from dataclasses import replace

    from unetlab.data.fingerprint import measure_pair
    from unetlab.data.normalize import normalize

    rng = np.random.default_rng(0)
    crops = [rng.integers(150, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
    mask = np.zeros((32, 32), np.uint8)
    fp = Fingerprint([measure_pair(c, mask, name=f"{i}.png") for i, c in enumerate(crops)])
    choice = plan_normalization(fp)
    spec = choice.value
    assert spec == {"mode": "per_image", "tissue": True}
    assert "bright-field colour: 2 of 2" in choice.reason and "glass left out" in choice.reason
    slide = np.full((128, 128, 3), 240, np.uint8)  # glass around a crop
    slide[40:72, 50:82] = crops[0]
    on_slide = normalize(slide, spec)[:, 40:72, 50:82]
    np.testing.assert_allclose(on_slide, normalize(crops[0], spec), atol=1e-5)
    stained = (crops[0] * np.array([0.9, 0.75, 0.8])).astype(np.uint8)  # another stain batch
    assert abs(float(normalize(stained, spec).mean())) < 1e-4  # standardised away
    photos = [rng.integers(10, 200, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
    scenes = Fingerprint([measure_pair(c, mask, name=f"{i}.png") for i, c in enumerate(photos)])
    assert plan_normalization(scenes).value == {"mode": "per_image"}  # lighting varies
    grey = Fingerprint([replace(p, channels=1, mean=p.mean[:1], std=p.std[:1]) for p in fp.pairs])
    assert plan_normalization(grey).value == {"mode": "per_image"}
    wide = Fingerprint([replace(p, dtype="float32") for p in fp.pairs])
    assert plan_normalization(wide).value == {"mode": "per_image"}


def test_loss_from_class_shares():
    cfg = Config()
    assert [c.value for c in plan_loss(facts(counts=(40, 60)), cfg)] == ["ce"]
    assert [c.value for c in plan_loss(facts(counts=(20, 80)), cfg)] == ["ce+dice"]
    loss, weights = plan_loss(facts(counts=(5, 95)), cfg)
    assert (loss.key, loss.value) == ("train.loss", "ce+dice")
    assert (weights.key, weights.value) == ("train.class_weights", "sqrt_median_frequency")
    assert "5.0% of the pixels" in weights.reason


def test_the_users_keys_win_and_are_marked():
    fp = facts(areas=[300.0] * 10, touching=10, n=12)
    cfg = load_config(None, ["data.tile_size=64", "train.max_minutes=2"])
    plan = make_plan(fp, cfg, explicit={"data.tile_size"}, device="cpu")
    keys = {c.key: c for c in plan.choices}
    assert keys["data.tile_size"].user and not keys["train.batch_size"].user
    assert keys["train.batch_size"].value == 32  # sized for the user's 64 px tile
    assert keys["data.weight_map"].value is True and keys["train.epochs"].value == 100_000
    assert keys["train.patience"].value == 0
    applied = plan.apply(cfg)
    assert applied.data.tile_size == 64 and applied.train.batch_size == 32
    assert keys["data.tile_size"].used == 64
    tile_line = next(line for line in plan.lines() if line.startswith("data.tile_size"))
    assert tile_line.startswith("data.tile_size = 64: your setting (the plan would choose ")
    assert plan.to_dict()["plan"]["data.tile_size"]["value"] == 64


def test_precision_is_bf16_only_where_the_cpu_runs_it_natively():
    native = {c.key: c.value for c in plan_precision("cpu", native_bf16=True)}
    assert native == {"train.amp": "native", "train.channels_last": True}
    assert [(c.key, c.value) for c in plan_precision("cpu", native_bf16=False)] == [
        ("train.amp", "off")
    ]
    assert plan_precision("cuda", native_bf16=True) == []  # train.amp auto autocasts there
    plan = make_plan(facts(areas=[300.0], touching=0, n=12), load_config(None, []), explicit=set())
    assert "train.amp" in {c.key for c in plan.choices}


def test_channels_last_is_not_planned_with_a_bf16_reason_when_the_user_turned_bf16_off(
    monkeypatch,
):
    # audit s34 repro 11: "channels_last = true: this CPU runs bf16 natively" for amp=off
    off = {c.key: c for c in plan_precision("cpu", native_bf16=True, amp="off")}
    assert off["train.channels_last"].value is False
    assert "train.amp is 'off' (your setting), not bf16" in off["train.channels_last"].reason
    assert "bf16 natively" not in off["train.channels_last"].reason
    bf16 = {c.key: c.value for c in plan_precision("cpu", native_bf16=True, amp="bf16")}
    assert bf16["train.channels_last"] is True
    monkeypatch.setattr("unetlab.plan.device.supports_bf16", lambda device: True)
    cfg = load_config(None, ["train.amp=off"])
    plan = make_plan(facts(areas=[300.0], touching=0, n=12), cfg, explicit={"train.amp"})
    layout = next(line for line in plan.lines() if line.startswith("train.channels_last"))
    assert "bf16 natively" not in layout and "\n" not in layout


def test_tile_workers_are_planned_beside_a_gpu_only():
    assert [(c.key, c.value) for c in plan_workers("cuda", cpus=16)] == [("train.num_workers", 8)]
    assert plan_workers("cuda", cpus=4)[0].value == 3  # one CPU left for the run itself
    assert plan_workers("cuda", cpus=1) == [] and plan_workers("cpu", cpus=16) == []
    fp, cfg = facts(areas=[300.0], touching=0, n=12), load_config(None, [])
    on_gpu = make_plan(fp, cfg, explicit=set(), device="cuda:0")
    assert "train.num_workers" in {c.key for c in on_gpu.choices}
    mine = make_plan(fp, cfg, explicit={"train.num_workers"}, device="cuda")
    assert mine.apply(load_config(None, ["train.num_workers=2"])).train.num_workers == 2
    on_cpu = make_plan(fp, cfg, explicit=set(), device="cpu")
    assert "train.num_workers" not in {c.key for c in on_cpu.choices}


def test_explicit_keys_from_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 0.01\ndata:\n  tile_size: 64\n")
    keys = explicit_keys(path, ["data.normalization.mode=scale", "train.epochs=3"])
    assert keys == {"train.lr", "data.tile_size", "data.normalization", "train.epochs"}


def test_check_data_names_the_net_minimum_and_a_fix():
    cfg = load_config(None, [])  # small: same padding, depth 4, so 8 px at least
    with pytest.raises(
        DatasetError, match=r"smaller than the net's 8 px minimum.*model.depth=3 needs 4 px"
    ):
        check_data(facts(side=6), cfg, set())
    check_data(facts(side=8), cfg, set())


def test_a_net_of_the_least_depth_says_the_size_to_pad_to():
    """depth 2 has no shallower net to offer: the fix names the size, not an empty "()"."""
    cfg = load_config(None, ["model.depth=2"])
    with pytest.raises(DatasetError, match=r"2 px minimum.*: pad them to 2 px or more a side$"):
        check_data(facts(side=1), cfg, set())


def _mixed(root):
    for i in range(4):
        mask = np.zeros((32, 32), dtype=np.uint8)
        mask[8:20, 8:20] = 1 if i < 2 else 255
        write_png(root / "images" / f"{i}.png", (mask * 50 + 20).astype(np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    return root


def test_cli_refuses_mixed_encodings_naming_files_and_leaves_no_run(tmp_path, capsys):
    data = _mixed(tmp_path / "mixed")
    assert main(["train", "--data", str(data), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "masks mix encodings: 0/1 in 2 files" in err and "0.png" in err and "3.png" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("check", [[], ["--check"]], ids=["train", "--check"])
def test_no_plan_still_refuses_mixed_encodings(tmp_path, capsys, check):
    """--no-plan drops the plan's choices, not its checks of the data."""
    data = _mixed(tmp_path / "mixed")
    argv = ["train", "--data", str(data), "--run-dir", str(tmp_path / "run"), "--no-plan"]
    assert main([*argv, *check]) == 2
    assert "masks mix encodings: 0/1 in 2 files" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_cli_refuses_an_image_whose_channels_differ_and_leaves_no_run(tmp_path, capsys):
    """Found by the plan's check, before the run folder (loading found it after)."""
    data = tmp_path / "data"
    for i in range(4):
        mask = np.zeros((32, 32), dtype=np.uint8)
        mask[8:20, 8:20] = 255
        image = mask // 2 + 20
        write_png(data / "images" / f"{i}.png", np.dstack([image] * 3) if i == 2 else image)
        write_png(data / "masks" / f"{i}.png", mask)
    assert main(["train", "--data", str(data), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"1 problem in {data}: {data / 'images' / '2.png'}: 3 channels but most" in err
    assert "0.png" not in err and not (tmp_path / "run").exists()
    argv = ["--run-dir", str(tmp_path / "run2"), "--set", "model.in_channels=3"]
    assert main(["train", "--data", str(data), *argv]) == 2
    assert "1.png: 1 channel but the model takes 3" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_plans_a_16_bit_set_and_writes_the_plan(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((64, 64), dtype=np.uint8)
        for y, x in rng.integers(8, 56, (4, 2)):
            mask[y - 4 : y + 4, x - 4 : x + 4] = 255
        image = (mask.astype(np.uint16) * 8 + rng.integers(100, 140, (64, 64))).astype(np.uint16)
        write_tiff(tmp_path / "data" / "images" / f"{i}.tif", image)
        write_png(tmp_path / "data" / "masks" / f"{i}.png", mask)
    args = [
        "train",
        "--data",
        str(tmp_path / "data"),
        "--run-dir",
        str(tmp_path / "run"),
        "--minutes",
        "0.05",
        "--set",
        "model.depth=2",
        "--set",
        "model.base_channels=4",
        "--no-progress",
    ]
    assert main(args) == 0
    assert "best checkpoint" in capsys.readouterr().out
    log = (tmp_path / "run" / "train.log").read_text()  # the console gets the same lines
    planned = "plan: data.normalization = {camera_ceiling: true, high: 99.8, ignore_saturated: tr"
    assert planned in log
    model = load_model(tmp_path / "run" / "checkpoints" / "best.pt")
    assert model.normalization["ignore_saturated"] is True  # the checkpoint records it
    assert model.normalization["camera_ceiling"] is True
    assert "plan: data.tile_size" in log and "plan: model.depth" not in log
    saved = (tmp_path / "run" / "plan.yaml").read_text()
    assert "uint16" in saved and "set_by: plan" in saved


PLANNED = [
    "data.tile_size",
    "train.batch_size",
    "data.normalization",
    "train.loss",
    "data.weight_map",
    "augment.elastic",
    "augment.vflip",
    "augment.rot90",
    "augment.brightness",
    "augment.contrast",
    "train.label_offset",
]


def test_the_shipped_isbi_config_is_what_the_plan_derives_from_the_isbi_data(isbi_dir, tmp_path):
    """configs/isbi2012.yaml won the recipe search as the plan's own choices: `unetlab train
    --data SLICES_00-24 --minutes 30` with nothing else must still choose them."""
    from pathlib import Path

    from unetlab.plan import plan_training

    for kind in ("images", "masks"):
        (tmp_path / kind).mkdir()
        for i in range(25):
            (tmp_path / kind / f"{i:02d}.png").symlink_to(
                isbi_dir / "train" / kind / f"{i:02d}.png"
            )
    overrides = [f"data.root={tmp_path}", "train.max_minutes=30"]
    given = load_config(None, overrides), explicit_keys(None, overrides)
    _, plan = plan_training(*given, device="cpu")  # the recipe was searched on a CPU
    chosen = {c.key: c.value for c in plan.choices}
    shipped = load_config(Path(__file__).resolve().parents[1] / "configs" / "isbi2012.yaml", [])
    for key in PLANNED:
        section, name = key.split(".")
        assert chosen[key] == getattr(getattr(shipped, section), name), key
    assert shipped.train.lr == Config().train.lr and shipped.data.val_fraction == 0.2


def test_the_label_offset_is_fitted_where_validation_images_can_measure_it():
    from unetlab.plan import plan_offset

    assert plan_offset(5).value == "fit" and "the 5 validation images" in plan_offset(5).reason
    assert plan_offset(2).value == "none" and "at least 3 tell an offset" in plan_offset(2).reason
    assert plan_offset(0).value == "none"


def test_a_notebook_plans_with_its_changed_values_kept_and_bad_data_refused(tmp_path):
    from unetlab import fit, plan_training

    from .test_train import write_blobs

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.data.tile_size, cfg.train.epochs, cfg.model.depth = 32, 1, 2  # as attributes
    planned, plan = plan_training(cfg)
    assert planned.data.tile_size == 32 and planned.train.epochs == 1
    assert {c.key for c in plan.choices if c.user} >= {"data.tile_size"}
    fit(planned, run_dir=tmp_path / "run", plan=plan, progress=False)
    saved = (tmp_path / "run" / "plan.yaml").read_text()
    assert "set_by: user" in saved and "&id" not in saved and "*id" not in saved
    with pytest.raises(DatasetError, match="masks mix encodings"):
        plan_training(load_config(None, [f"data.root={_mixed(tmp_path / 'mixed')}"]))


def test_a_notebook_plans_for_the_device_train_device_resolves_to(tmp_path, monkeypatch):
    """plan_training(cfg) planned for a CPU also where train.device auto trains on a GPU (a
    CPU's batch and precision for fit's GPU run); an explicit device is kept."""
    import torch

    from unetlab import plan_training

    from .test_train import write_blobs

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # torch says: one GPU
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (8e9, 16e9))

    def planned(cfg, device=None) -> dict:
        values = plan_training(cfg, **({"device": device} if device else {}))[0].to_dict()
        return values | {"train": values["train"] | {"device": None}}  # the plan's choices

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cpu, gpu = planned(cfg, "cpu"), planned(cfg, "cuda")
    assert cpu != gpu  # the two plans differ: the test can tell them apart
    assert cfg.train.device == "auto" and planned(cfg) == gpu
    cfg.train.device = "cpu"
    assert planned(cfg) == cpu


def test_a_notebook_keeps_the_values_its_file_sets_also_the_defaults(tmp_path):
    """An audit (notebook): ``load_config(my.yaml)`` then ``plan_training(cfg)`` planned over
    ``train.batch_size: 4`` (the default) where ``unetlab train --config my.yaml`` keeps it."""
    from unetlab import plan_training

    from .test_train import write_blobs

    mine = tmp_path / "my.yaml"
    mine.write_text("train: {batch_size: 4}\naugment: {elastic: false}\n")
    data = write_blobs(tmp_path / "data", 4)
    cfg = load_config(mine, [f"data.root={data}", "train.amp=auto"])
    assert cfg == Config.from_dict(cfg.to_dict()) and "user_keys" not in cfg.to_dict()
    planned, plan = plan_training(cfg)
    assert (planned.train.batch_size, planned.augment.elastic, planned.train.amp) == (
        4,
        False,
        "auto",
    )
    lines = "\n".join(plan.lines())
    assert f"train.batch_size = 4: set in {mine} (the plan would choose 32" in lines
    assert f"augment.elastic = false: set in {mine} (the plan would choose true" in lines
    assert {"train.batch_size", "augment.elastic", "train.amp"} <= planned.user_keys


def test_the_plan_reads_masks_as_the_config_says_training_will(tmp_path):
    """8-bit masks of object ids 1..3 in every file look like classes; data.target=instances
    says they are objects, and the plan measures and plans them as objects."""
    root = tmp_path / "ids"
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((48, 48), np.uint8)
        for k, (y, x) in enumerate([(4, 4), (4, 28), (28, 16)], start=1):
            mask[y : y + 14, x : x + 14] = k
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (48, 48), np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    from unetlab.plan import plan_training

    cfg = load_config(None, [f"data.root={root}", "data.target=instances"])
    _, plan = plan_training(cfg)
    measured = plan.fingerprint
    assert measured["instance_masks"] and list(measured["class_fractions"]) == [0, 1]
    assert next(c for c in plan.choices if c.key == "data.target").value == "instances"
    assert "train.loss" not in {c.key for c in plan.choices}  # not from the ids' pixel shares
    _, as_classes = plan_training(load_config(None, [f"data.root={root}"]))
    assert list(as_classes.fingerprint["class_fractions"]) == [0, 1, 2, 3]


def test_a_voc_set_is_planned_without_its_void_outlines(tmp_path):
    """VOC's 255 outlines (ignored in training) were measured as objects: 1,405 of 1,862
    'objects' were pieces of them, and the plan chose a 16 px tile and border weights."""
    from unetlab.data.scenes import write_voc_scenes
    from unetlab.plan import plan_training

    root = write_voc_scenes(tmp_path / "voc", n_train=6, n_val=2, size=96)
    _, plan = plan_training(load_config(None, [f"data.root={root}"]))
    chosen = {c.key: c for c in plan.choices}
    assert 255 not in plan.fingerprint["class_fractions"]
    assert chosen["data.tile_size"].value >= 64
    assert chosen["data.weight_map"].value is False  # classes meet: no border weights
    assert "colour images" in chosen["data.normalization"].reason
    _, kept = plan_training(
        load_config(None, [f"data.root={root}", "data.label_values=[0,1,2,3,4,5,6,255]"])
    )
    assert 255 in kept.fingerprint["class_fractions"]  # a class when the user says so


def _varied(fp: Fingerprint, channels: int) -> Fingerprint:
    """``fp``'s image as ``channels`` bands, twice: as it is and at a quarter of its range
    (ranges that differ between images: no calibrated scale)."""
    from dataclasses import replace

    (a,) = fp.pairs[:1]
    dim = dict(median=tuple(m / 4 for m in a.median), high=tuple(h / 4 for h in a.high))
    return Fingerprint([replace(a, channels=channels), replace(a, channels=channels, **dim)])


def test_calibrated_multispectral_bands_get_the_training_sets_statistics():
    """Per-image percentiles mapped each tile's own 1st percentile to 0, losing absolute
    reflectance (s37 bands D): bands whose ranges agree in every image, float or integer,
    of more than 5 channels get the dataset mode; microscopy's channels do not."""
    from dataclasses import replace

    for dtype in ("uint16", "float32"):
        (a,) = facts(dtype=dtype).pairs
        same = Fingerprint([replace(a, channels=13), replace(a, channels=13, high=(200.0,))])
        choice = plan_normalization(same)
        assert choice.value == {"mode": "dataset"}
        assert choice.reason.startswith(f"13-band {dtype} images whose bands span alike")
        assert plan_normalization(_varied(facts(dtype=dtype), 13)).value["mode"] != "dataset"
    (a,) = facts(dtype="uint16").pairs
    five = Fingerprint([replace(a, channels=5)] * 2)  # DAPI, GFP, RFP, Cy5, bright-field
    assert plan_normalization(five).value["mode"] == "percentile"
    zeroed = Fingerprint([replace(a, channels=2, high=(240.0, 0.0))] * 2)  # fewer: no
    assert plan_normalization(zeroed).value["mode"] == "percentile"
    zeroed = Fingerprint([replace(a, channels=6, high=(240.0, 0.0))] * 2)  # a band of 0
    assert plan_normalization(zeroed).value == {"mode": "dataset"}


def test_the_normalisation_line_of_multi_channel_images_says_per_channel():
    """A 32-band float stack was planned 'grey levels fill the range (EM, bright-field)', and
    no line said that a 13-band scene's bands are each scaled on their own (audit s37 bands)."""

    grey = facts(dtype="float32")
    bands = _varied(grey, 32)  # not calibrated: see the next test
    assert plan_normalization(grey).reason.startswith("grey levels fill the range (EM")
    reason = plan_normalization(bands).reason
    assert reason.startswith("32-channel images, not mostly dark: per-image standardisation")
    assert reason.endswith(", each of the 32 channels on its own")
    deep = _varied(facts(dtype="uint16"), 13)
    assert "0-1, each of the 13 channels on its own (saturated" in plan_normalization(deep).reason
    assert "channels on its own" not in plan_normalization(facts(dtype="uint16")).reason


def test_elastic_deformation_is_planned_by_the_training_images_not_those_that_validate(tmp_path):
    """12 pairs of which 3 validate: 9 train, fewer than FEW_IMAGES, so elastic; the plan
    counted all 12 ('20 images' of a road set whose 16 trained: audit s39 roads)."""
    from unetlab import plan_training
    from unetlab.plan import FEW_IMAGES

    from .test_train import write_blobs

    root = write_blobs(tmp_path / "data", 12, size=32)
    cfg = load_config(None, [f"data.root={root}", "data.val_fraction=0.25"])
    _, plan = plan_training(cfg, set())
    elastic = next(c for c in plan.choices if c.key == "augment.elastic")
    assert 9 < FEW_IMAGES < 12 and elastic.value is True
    assert elastic.reason.startswith("9 training images: few")


def test_mixed_encodings_name_the_first_files_in_order():
    """A new user's 12 masks (0/1 and 0/255 in turn) were named '00.png, 04.png, 06.png and
    3 more' (training files first, then validation's): the first files by name now."""
    from types import SimpleNamespace

    from unetlab.data.fingerprint import mixed_encodings

    names = [f"{k:02d}.png" for k in (0, 4, 6, 8, 2, 10, 1, 5, 3)]
    pairs = [
        SimpleNamespace(name=n, values={0, 255 if int(n[:2]) % 2 else 1}, instances=False)
        for n in names
    ]
    (line,) = mixed_encodings(pairs)
    assert "0/1 in 6 files (00.png, 02.png, 04.png and 3 more)" in line
    assert "0/255 in 3 files (01.png, 03.png, 05.png)" in line
