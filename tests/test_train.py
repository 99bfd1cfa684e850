"""Training: tiles, schedules, overfitting two images, exact resume, refusals, NaN stop, the CLI."""

import logging
import re
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import ndimage

from unetlab import train as train_mod
from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.io import write_png
from unetlab.errors import OutputError, UnetlabError, first_line
from unetlab.losses import build_loss
from unetlab.models import UNet
from unetlab.runtime import supports_bf16
from unetlab.train import Precision, TrainingError, fit, schedule_factor, validate
from unetlab.train import run as run_mod
from unetlab.train.loop import _log_odds

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def write_blobs(root: Path, n: int, size: int = 48, seed: int = 0) -> Path:
    """images/ + masks/ of smooth noise; mask 255 where the image is bright (learnable fast)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        field = ndimage.gaussian_filter(rng.normal(size=(size, size)), 3)
        image = np.clip(128 + field / field.std() * 50, 0, 255).astype(np.uint8)
        write_png(root / "images" / f"{i}.png", image)
        write_png(root / "masks" / f"{i}.png", np.where(image > 128, 255, 0).astype(np.uint8))
    return root


def tiny_config(root, *extra):
    return load_config(
        None,
        [
            f"data.root={root}",
            "data.label_values=[0, 255]",
            "data.class_names={0: dark, 255: bright}",
            "model.depth=2",
            "model.base_channels=4",
            "data.tile_size=32",
            "data.tiles_per_epoch=8",
            "train.batch_size=4",
            "train.epochs=2",
            "train.seed=3",
            "train.device=cpu",  # exact comparisons: CUDA runs are tested in test_cuda.py
            *extra,
        ],
    )


@pytest.fixture
def data(tmp_path):
    return write_blobs(tmp_path / "data", 4)


def test_validation_loss_sees_the_predicted_probabilities():
    probs = torch.tensor([0.1, 0.6, 0.3]).reshape(1, 3, 1, 1)
    assert torch.allclose(_log_odds(probs).softmax(1), probs)
    binary = torch.tensor([0.2]).reshape(1, 1, 1, 1)
    assert torch.allclose(torch.sigmoid(_log_odds(binary)), binary)


def test_validate_counts_every_pixel_of_whole_images():
    model = UNet.from_preset("small-valid", depth=2, base_channels=4).eval()
    rng = np.random.default_rng(0)
    samples = [
        SimpleNamespace(
            image=rng.normal(size=(1, h, w)).astype(np.float32),
            mask=rng.integers(0, 2, (h, w)),
            weight=None,
        )
        for h, w in [(37, 50), (20, 23)]
    ]
    result = validate(model, samples, build_loss("ce"), device=torch.device("cpu"))
    assert set(result) >= {"loss", "miou", "mdice", "iou", "dice"} and result["loss"] > 0
    assert 0 <= result["miou"] <= 1 and len(result["iou"]) == 2
    assert all(p.is_contiguous() for p in model.parameters())  # training layout restored


def test_schedules_exact_values():
    cosine = [schedule_factor("cosine", p) for p in (0.0, 0.5, 1.0, 1.5)]
    assert cosine == pytest.approx([1.0, 0.5, 0.0, 0.0])
    poly = [schedule_factor("poly", p) for p in (0.0, 0.5, 1.0)]
    assert poly[0] == 1.0 and poly[2] == 0.0 and poly[1] == pytest.approx(0.5**0.9)


def test_precision_choice():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert Precision.choose("auto", None, cpu) == Precision(None, False)
    assert Precision.choose("off", None, cuda) == Precision(None, True)
    assert Precision.choose("fp16", False, cuda) == Precision(torch.float16, False)
    assert Precision.choose("bf16", None, cpu).describe() == "amp bfloat16, channels_last off"
    native = torch.bfloat16 if supports_bf16("cpu") else None
    assert Precision.choose("native", True, cpu) == Precision(native, True)


def test_bf16_autocast_trains_on_cpu(tmp_path, data):
    result = fit(
        tiny_config(data, "train.amp=bf16", "train.epochs=1"),
        run_dir=tmp_path / "r",
        progress=False,
    )
    assert result["steps"] == 2 and np.isfinite(result["val"]["loss"])


#: settings under which the tiny net learns the blobs in 20 short epochs
LEARNS_FAST = (
    "train.epochs=20",
    "train.lr=0.01",
    "model.base_channels=8",
    "model.norm=none",
    "data.normalization={mode: scale}",
    "data.tiles_per_epoch=32",
    "train.batch_size=8",
)


def test_tiny_net_overfits_two_images(tmp_path):
    root = write_blobs(tmp_path / "two", 2)
    cfg = tiny_config(root, "data.val_fraction=0", *LEARNS_FAST, "augment.enabled=false")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    rows = list(np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True))
    first, last = rows[0]["train_loss"], rows[-1]["train_loss"]
    assert last < 0.2 * first, (first, last)


@pytest.mark.parametrize("loss", ["focal+dice", "ce+lovasz"])
def test_the_other_losses_train_a_net(tmp_path, loss):
    root = write_blobs(tmp_path / "two", 2)
    extra = ("data.val_fraction=0", *LEARNS_FAST, "augment.enabled=false", "train.epochs=10")
    fit(tiny_config(root, *extra, f"train.loss={loss}"), run_dir=tmp_path / "run", progress=False)
    rows = list(np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True))
    assert rows[-1]["train_loss"] < 0.5 * rows[0]["train_loss"]


def _interrupt_at(monkeypatch, call: int):
    """Send SIGINT (Ctrl-C) to this process during the ``call``-th use of the loss."""
    real = run_mod.build_loss
    calls = {"n": 0}

    def build_loss(name, **kw):
        loss = real(name, **kw)

        def interrupting(*args):
            calls["n"] += 1
            if calls["n"] == call:
                signal.raise_signal(signal.SIGINT)
            return loss(*args)

        return interrupting

    monkeypatch.setattr(run_mod, "build_loss", build_loss)


def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path, data, monkeypatch):
    cfg = tiny_config(data, "train.epochs=3", "model.dropout=0.2")
    straight = fit(cfg, run_dir=tmp_path / "straight", progress=False)
    with monkeypatch.context() as m:
        _interrupt_at(
            m, call=4
        )  # epoch 2, batch 1 (epoch 1: 2 training steps + 1 validation batch)
        with pytest.raises(KeyboardInterrupt):
            fit(cfg, run_dir=tmp_path / "cut", progress=False)
    with pytest.raises(OutputError, match="resume=True"):
        fit(cfg, run_dir=tmp_path / "cut", progress=False)
    saved = load_checkpoint(tmp_path / "cut" / "checkpoints" / "last.pt")["train_state"]
    assert (saved["epoch"], saved["batch"], saved["step"]) == (1, 1, 3)
    resumed = fit(cfg, run_dir=tmp_path / "cut", resume=True, progress=False)
    assert resumed["steps"] == straight["steps"] == 6
    a, b = (load_checkpoint(tmp_path / r / "checkpoints" / "last.pt") for r in ("straight", "cut"))
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    for pa, pb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        assert all(torch.equal(pa[k], pb[k]) for k in pa)
    csv_a, csv_b = (
        (tmp_path / r / "metrics.csv").read_text().splitlines() for r in ("straight", "cut")
    )
    for name in ("train_loss", "lr"):  # the same lr sequence, to the last bit
        column = csv_a[0].split(",").index(name)
        assert [r.split(",")[column] for r in csv_a] == [r.split(",")[column] for r in csv_b]


def test_worker_processes_draw_the_same_tiles_every_epoch(tmp_path, data):
    """Workers persist across epochs, yet each epoch's tiles are that epoch's: two worker
    processes train exactly as the main process alone."""
    cfg = tiny_config(data, "train.epochs=3", "model.dropout=0.0")
    alone = fit(cfg, run_dir=tmp_path / "alone", progress=False)
    workers = fit(
        tiny_config(data, "train.epochs=3", "model.dropout=0.0", "train.num_workers=2"),
        run_dir=tmp_path / "workers",
        progress=False,
    )
    a, b = (load_checkpoint(r["last_checkpoint"])["model"] for r in (alone, workers))
    for key, value in a.items():
        assert torch.equal(value, b[key]), key


def test_fit_returns_the_val_miou_of_the_epoch_saved_as_best(tmp_path, data):
    """An audit (notebook): ``best_val_miou`` was the smoothed score (0.57 for a best.pt
    whose validation measured 0.64); it is best.pt's own now, the score beside it."""
    cfg = tiny_config(data, "train.epochs=4", "train.lr=0.01")
    result = fit(cfg, run_dir=tmp_path / "run", progress=False)
    saved = load_checkpoint(result["best_checkpoint"])["metrics"]
    assert result["best_epoch"] == saved["epoch"] > 1  # where smoothing changes the score
    assert result["best_val_miou"] == saved["val_miou"]
    assert result["best_val_miou_smoothed"] == saved["val_miou_smoothed"]
    assert result["best_val_miou_smoothed"] != result["best_val_miou"]


def test_run_folder_and_checkpoint_carry_what_prediction_needs(tmp_path, data):
    result = fit(tiny_config(data), run_dir=tmp_path / "run", progress=False)
    run = tmp_path / "run"
    for name in (
        "config.yaml",
        "metrics.csv",
        "train.log",
        "curves.png",
        "checkpoints/best.pt",
        "checkpoints/last.pt",
    ):
        assert (run / name).is_file(), name
    assert load_config(run / "config.yaml") == tiny_config(data)
    assert "torch" in (run / "config.yaml").read_text().splitlines()[0]
    assert "epoch 2/2" in (run / "train.log").read_text()
    model = load_model(result["best_checkpoint"])
    assert model.classes == ["dark", "bright"] and model.label_values == [0, 255]
    assert model.normalization["mode"] == "per_image" and model.normalization["floor"][0] > 0
    assert 0.0 <= result["best_val_miou"] <= 1.0
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {
        "train_loss",
        "val_loss",
        "val_miou",
        "val_mdice",
        "lr",
        "seconds",
        "data_s",
        "compute_s",
    } <= set(header)
    with pytest.raises(OutputError, match="already holds a run"):
        fit(tiny_config(data), run_dir=run, progress=False)
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, overwrite=True, progress=False)
    assert len((run / "metrics.csv").read_text().splitlines()) == 2


def test_non_finite_loss_stops_with_step_and_values(tmp_path, data, monkeypatch):
    monkeypatch.setattr(
        run_mod, "build_loss", lambda name, **kw: lambda logits, *a: logits.sum() * float("nan")
    )
    with pytest.raises(
        TrainingError, match=r"loss is nan at step 1 \(epoch 1, batch 1\), lr 0.001, logits in"
    ) as caught:
        fit(tiny_config(data), run_dir=tmp_path / "run", progress=False)
    # fit in a notebook: as Python sets it (s53: it was told the command line's form)
    assert str(caught.value).endswith(", or try cfg.train.amp = 'off'")
    assert first_line(caught.value, cli=True).endswith(", or try --set train.amp=off")


def test_bad_settings_are_named(tmp_path, data):
    with pytest.raises(
        ValueError, match="data.tile_size: 31 is not a valid input size.*try 30 or 32"
    ):
        fit(tiny_config(data, "data.tile_size=31"), run_dir=tmp_path / "a", progress=False)
    with pytest.raises(ValueError, match="larger than every training image"):
        fit(tiny_config(data, "data.tile_size=64"), run_dir=tmp_path / "b", progress=False)
    with pytest.raises(
        ValueError, match="model.num_classes is 3 but the masks have 2 label values"
    ):
        fit(tiny_config(data, "model.num_classes=3"), run_dir=tmp_path / "c", progress=False)


def test_cli_train_and_resume(tmp_path, data, capsys):
    args = [
        "train",
        "--data",
        str(data),
        "--run-dir",
        str(tmp_path / "run"),
        "--epochs",
        "1",
        "--set",
        "model.depth=2",
        "--set",
        "model.base_channels=4",
        "--set",
        "data.tile_size=32",
        "--set",
        "data.tiles_per_epoch=4",
        "--no-progress",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "best checkpoint:" in out and "chosen by the val mIoU averaged over validations" in out
    assert re.search(r"\(epoch \d, val mIoU \d\.\d{4}; ", out)
    assert "; the last validation " in out
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (
        main(
            [
                "train",
                "--run-dir",
                str(tmp_path / "run"),
                "--resume",
                "--epochs",
                "2",
                "--no-progress",
            ]
        )
        == 0
    )
    assert len((tmp_path / "run" / "metrics.csv").read_text().splitlines()) == 3
    assert main(["train", "--run-dir", str(tmp_path / "other")]) == 2
    said = "no data folder: give --data DIR (or data.root in the --config file)"
    assert said in capsys.readouterr().err


def test_cli_ctrl_c_exits_130(tmp_path, data, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mod, "fit", interrupted)
    assert main(["train", "--data", str(data), "--run-dir", str(tmp_path / "r")]) == 130
    # the fake fit saved no last.pt: the line says so and names the command, not --resume
    assert "start the run again with the same command" in capsys.readouterr().err


def test_cli_train_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # as argparse wraps it
    assert "--resume" in shown
    # the layouts --data reads, as README lists them (outlines and the DSB's were missing)
    assert "RoiSet.zip" in shown and "ID/images/ID.png + ID/masks/" in shown


FIT_SCRIPT = """
import logging, sys
from unetlab import fit, load_config
if sys.argv[2] == "configured":
    logging.basicConfig(level=logging.INFO, format="app: %(message)s")
cfg = load_config(None, [f"data.root={sys.argv[1]}", "data.label_values=[0, 255]",
    "model.depth=2", "model.base_channels=4", "data.tile_size=32", "data.tiles_per_epoch=8",
    "train.batch_size=4", "train.epochs=1", "train.device=cpu"])
fit(cfg, run_dir=sys.argv[1] + "_run_" + sys.argv[2])
"""


def test_fit_from_a_script_shows_its_log_once(tmp_path):
    """A script or notebook that calls fit without setting up logging sees the run's lines on
    stderr; one that set up logging sees them once, through its own handler. The two
    scripts run at once (their start is most of their time), on a thread each, so that
    they do not slow each other's epochs on two cores."""
    import os
    import subprocess
    import sys

    data = write_blobs(tmp_path / "data", 4)
    scripts = {
        how: subprocess.Popen(
            [sys.executable, "-c", FIT_SCRIPT, str(data), how],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        for how in ("bare", "configured")
    }
    said = {how: script.communicate(timeout=300)[1] for how, script in scripts.items()}
    for how, err in said.items():
        assert scripts[how].returncode == 0, err[-2000:]
        epochs = [line for line in err.splitlines() if "epoch 1/1" in line]
        assert len(epochs) == 1 and epochs[0].startswith(
            "app: " if how == "configured" else "epoch"
        ), (how, epochs)
        assert "done: best checkpoint" in err


@pytest.mark.parametrize(
    "kind, at_8_of_10",
    [("cosine", 0.5 * (1 + np.cos(np.pi * 4 / 5))), ("poly", (1 - 4 / 5) ** 0.9)],
)
def test_a_resumed_run_given_more_epochs_anneals_to_zero_at_the_new_end(tmp_path, kind, at_8_of_10):
    """3 epochs, then resumed with 5: the cosine (poly) is laid over 5 epochs from where the
    run is, so the lr falls to 0 at the new end instead of rising again after reaching 0."""
    data = write_blobs(tmp_path / "data", 4)
    cfg = (f"train.schedule={kind}",)
    fit(tiny_config(data, "train.epochs=3", *cfg), run_dir=tmp_path / "run", progress=False)
    more = tiny_config(data, "train.epochs=5", *cfg)
    fit(more, run_dir=tmp_path / "run", resume=True, progress=False)
    rows = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)
    lr = rows["lr"]
    assert len(lr) == 5 and lr[2] == 0.0 and lr[-1] == pytest.approx(0.0, abs=1e-12)
    assert lr[3] > lr[4] and lr[3] == pytest.approx(0.001 * at_8_of_10)
    assert (
        f"{kind} schedule ended at step 6; it now ends at step 10"
        in (tmp_path / "run" / "train.log").read_text()
    )


def test_fit_leaves_the_callers_random_state_alone(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    assert torch.equal(torch.rand(3), expected) and torch.initial_seed() == 123


def test_a_planned_run_says_its_split_once_and_the_image_size_as_width_and_height(tmp_path, caplog):
    from unetlab.plan import plan_training

    rng = np.random.default_rng(0)
    for part, n in (("train", 3), ("val", 1)):
        for i in range(n):  # 40 high, 56 wide
            image = rng.integers(0, 255, (40, 56), dtype=np.uint8)
            write_png(tmp_path / "data" / part / "images" / f"{i}.png", image)
            write_png(tmp_path / "data" / part / "masks" / f"{i}.png", (image > 128) * 255)
    cfg = tiny_config(tmp_path / "data", "train.epochs=1", "data.tiles_per_epoch=4")
    with caplog.at_level("INFO", logger="unetlab"):
        cfg, plan = plan_training(cfg)
        fit(cfg, run_dir=tmp_path / "run", plan=plan, progress=False)
    assert caplog.text.count("using the split of") == 1
    assert "3 training and 1 validation images (the first 56 px wide, 40 high," in caplog.text


def test_a_training_image_smaller_than_the_tile_is_padded_not_refused(caplog):
    from unetlab.train.setup import tile_sizes

    model = UNet.from_preset("small", depth=2, base_channels=2)
    big, small = (
        SimpleNamespace(name=n, mask=np.zeros(s)) for n, s in (("a", (64, 80)), ("b", (20, 90)))
    )
    with caplog.at_level(logging.INFO, logger="unetlab.train"):
        assert tile_sizes(model, 32, [big, small]) == (32, 32)
    assert "1 of 2 training images are smaller than the 32 px tiles (b)" in caplog.text
    with pytest.raises(UnetlabError, match="larger than every training image") as err:
        tile_sizes(model, 72, [big, small])
    # as its caller sets it: fit in a notebook was told the command line's form (s52)
    assert str(err.value).endswith("px): use cfg.data.tile_size = 64")
    assert err.value.cli.endswith("px): use --set data.tile_size=64")
