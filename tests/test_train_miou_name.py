"""A nuclei (instance) model's val mIoU, the mean IoU of its three target classes, is named so
in the log, the summary line and summary.json: evaluate's mIoU (background against objects) is
another figure (audit s31 fewshot 6)."""

from __future__ import annotations

import json
import logging

import pytest

from unetlab.cli import main
from unetlab.train.log import miou_name

from .test_train_instances import write_discs

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = [
    "--no-plan",
    "--no-progress",
    "--epochs",
    "1",
    *("--set", "model.depth=2", "--set", "model.base_channels=4"),
    *("--set", "data.tile_size=32", "--set", "data.tiles_per_epoch=4"),
    *("--set", "train.batch_size=4", "--set", "train.device=cpu"),
]


def test_miou_name_says_which_classes():
    assert miou_name(["background", "boundary", "interior"]) == (
        "mIoU (background/boundary/interior)"
    )
    assert miou_name(["0", "255"]) == miou_name([]) == "mIoU"


def test_a_nuclei_runs_val_miou_is_named_by_its_three_classes(tmp_path, caplog, capsys):
    data = write_discs(tmp_path / "data", 3)
    run = tmp_path / "run"
    argv = ["train", "--data", str(data), "--run-dir", str(run), *TINY]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--set", "data.target=instances"]) == 0
    log = (run / "train.log").read_text()
    assert "val mIoU here is the mean IoU of the three target classes" in log
    assert "evaluate's mIoU scores background against the objects found" in log
    assert "  mIoU (background/boundary/interior) 0." in log
    assert "val mIoU (background/boundary/interior) 0." in capsys.readouterr().out
    summary = json.loads((run / "summary.json").read_text())
    assert summary["val_miou_classes"] == ["background", "boundary", "interior"]
    # each class's labelled val pixels, which tell compare a class missing from val
    assert len(summary["val_pixels"]) == 3 and sum(summary["val_pixels"]) > 0


def test_the_folds_of_a_nuclei_model_name_their_miou(tmp_path, capsys):
    data = write_discs(tmp_path / "data", 4)
    argv = ["train", "--data", str(data), "--run-dir", str(tmp_path / "cv"), "--folds", "2"]
    assert main([*argv, *TINY, "--set", "data.target=instances"]) == 0
    out = capsys.readouterr().out
    assert "val mIoU (background/boundary/interior) of best.pt" in out
    assert "over the folds: val mIoU (background/boundary/interior) of best.pt" in out
