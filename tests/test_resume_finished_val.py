"""A finished run resumed again (a notebook's fit cell run twice with resume=True) returns
the last validation it ended with, as the first fit returned it, and its summary.json keeps
that validation's pixel counts: the resume validates nothing, so it held none."""

import csv
import json
import signal

import pytest
import torch

from unetlab.train import Stopped, fit, fitting

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def test_a_finished_run_resumed_again_returns_its_last_validation(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=2", "data.val_fraction=0.5")
    run = tmp_path / "run"
    first = fit(cfg, run_dir=run, progress=False)
    pixels = json.loads((run / "summary.json").read_text())["val_pixels"]
    again = fit(cfg, run_dir=run, resume=True, progress=False)
    assert first["val"] and again["val"] == first["val"]
    assert json.loads((run / "summary.json").read_text())["val_pixels"] == pixels is not None


def test_an_older_checkpoint_s_finished_run_keeps_its_val_pixels(tmp_path):
    """last.pt and best.pt written before they recorded last_validation: the resume wrote
    val_pixels None over summary.json's (review s64 user)."""
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "data.val_fraction=0.5")
    run = tmp_path / "run"
    fit(cfg, run_dir=run, progress=False)
    pixels = json.loads((run / "summary.json").read_text())["val_pixels"]
    for name in ("last.pt", "best.pt"):  # as an older unetlab wrote them
        checkpoint = torch.load(run / "checkpoints" / name, weights_only=True)
        del checkpoint["last_validation"]
        torch.save(checkpoint, run / "checkpoints" / name)
    fit(cfg, run_dir=run, resume=True, progress=False)
    assert json.loads((run / "summary.json").read_text())["val_pixels"] == pixels is not None


def test_an_older_checkpoint_s_finished_run_returns_the_validation_metrics_csv_records(
    tmp_path,
):
    """Resumed after it ended from a last.pt without ``last_validation`` (an older
    unetlab's), fit returned ``val`` {} (s64 notebook): it is the last validation row of
    metrics.csv (its 6 significant digits), with summary.json's pixel counts."""
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=2", "data.val_fraction=0.5")
    run = tmp_path / "run"
    first = fit(cfg, run_dir=run, progress=False)["val"]
    checkpoint = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    del checkpoint["last_validation"]  # as an older unetlab wrote it
    torch.save(checkpoint, run / "checkpoints" / "last.pt")
    val = fit(cfg, run_dir=run, resume=True, progress=False)["val"]
    assert set(val) == {"loss", "miou", "mdice", "iou", "pixels"}
    for key in ("loss", "miou", "mdice", "iou"):
        assert val[key] == pytest.approx(first[key], rel=1e-5), key
    assert val["pixels"] == first["pixels"]


def _older(run):
    """``run``'s last.pt as an older unetlab wrote it (no ``last_validation``); what it held."""
    checkpoint = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    held = checkpoint.pop("last_validation")
    torch.save(checkpoint, run / "checkpoints" / "last.pt")
    return held


def test_the_validation_returned_is_the_last_validated_row_not_the_last_row(tmp_path, monkeypatch):
    """With ``train.val_every=2`` a run stopped at the end of epoch 3 (not validated) and
    resumed with ``train.epochs=3`` (it trains no step) returns epoch 2's validation, the
    last row of metrics.csv that holds one (review s65: untested)."""
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=4", "train.val_every=2", "data.val_fraction=0.5")
    real = fitting.rethread

    def stopping_after_epoch_3(run):  # a SIGTERM at the end of epoch 3
        real(run)
        if run.state.epoch == 3:
            signal.raise_signal(signal.SIGTERM)

    monkeypatch.setattr(fitting, "rethread", stopping_after_epoch_3)
    run = tmp_path / "run"
    with pytest.raises(Stopped):
        fit(cfg, run_dir=run, progress=False)
    monkeypatch.undo()
    held = _older(run)
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows if r["val_miou"]] == ["2"] and rows[-1]["epoch"] == "3"
    cfg.train.epochs = 3
    val = fit(cfg, run_dir=run, resume=True, progress=False)["val"]
    assert set(val) == {"loss", "miou", "mdice", "iou", "pixels"}
    for key in ("loss", "miou", "mdice", "iou"):
        assert val[key] == pytest.approx(held[key], rel=1e-5), key


def test_a_class_column_missing_from_metrics_csv_leaves_iou_out(tmp_path, caplog):
    """A ``val_iou_<class>`` column missing from metrics.csv gave None in ``iou``, and the
    weak-classes line at the run's end raised TypeError on it (review s65): ``iou`` is left
    out, the other keys kept."""
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "data.val_fraction=0.5")
    run = tmp_path / "run"
    fit(cfg, run_dir=run, progress=False)
    _older(run)
    path = run / "metrics.csv"
    rows = list(csv.DictReader(path.open()))
    fields = [name for name in rows[0] if name != "val_iou_bright"]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    val = fit(cfg, run_dir=run, resume=True, progress=False)["val"]
    assert set(val) == {"loss", "miou", "mdice", "pixels"}
