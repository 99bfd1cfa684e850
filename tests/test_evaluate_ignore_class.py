"""``evaluate --ignore-value V`` where V is the mask value of one of the checkpoint's
classes: scored, that class's pixels left out of every score, and said in one line naming
the class (s63: ``--ignore-value 1`` beside a model whose class 1 is road scored road n/a
unsaid; review s63: leaving background 0 out of mIoU is a legitimate use, not refused)."""

import logging

import numpy as np
import pytest

from unetlab import UNet
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model

NAMES = ["background", "road", "car"]
SAID = "its pixels are left out of every score"


def _run(tmp_path, label_values, ignore_value=None):
    """A 3-class checkpoint (class i: mask value i where ``label_values`` is None; its
    training ignored ``ignore_value``) and a data folder of two images and masks of 0..2."""
    rng = np.random.default_rng(1)
    model = UNet(1, 3, depth=2, base_channels=2)
    model.classes, model.label_values = list(NAMES), label_values
    model.ignore_value = ignore_value
    save_model(tmp_path / "m.pt", model)
    for name in "ab":
        write_png(tmp_path / "data" / "images" / f"{name}.png", rng.integers(0, 255, (20, 24)))
        write_png(tmp_path / "data" / "masks" / f"{name}.png", rng.integers(0, 3, (20, 24)))
    return ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]


@pytest.mark.parametrize("label_values", [None, [0, 1, 2]])
def test_an_ignore_value_of_a_class_is_scored_and_said(tmp_path, capsys, caplog, label_values):
    argv = [*_run(tmp_path, label_values), "--device", "cpu", "--no-progress"]
    assert main([*argv, "--ignore-value", "1"]) == 0
    assert _said(caplog) == [f"--ignore-value 1 is class 'road': {SAID}"]
    out = capsys.readouterr().out
    assert "road" in out and "mIoU" in out
    caplog.clear()
    assert main([*argv, "--ignore-value", "7"]) == 0  # a value no class has: nothing said
    assert _said(caplog) == []


def _said(caplog) -> list[str]:
    """The lines logged that say a class's pixels are left out."""
    return [r.getMessage() for r in caplog.records if SAID in r.getMessage()]


def test_a_notebook_is_told_in_its_keywords(tmp_path, caplog):
    _run(tmp_path, None)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_model(tmp_path / "m.pt", tmp_path / "data", ignore_value=0, device="cpu")
    assert _said(caplog) == [f"ignore_value=0 is class 'background': {SAID}"]
    assert report.matrix[0].sum() == 0  # no background pixel of the masks is scored


def test_the_checkpoints_own_ignore_value_is_not_said(tmp_path, caplog):
    """The value the checkpoint's training ignored is left out silently, even where it is
    the value of one of its classes (class i: mask value i; review s63: the exemption was
    tested through the helper alone)."""
    argv = [*_run(tmp_path, None, ignore_value=2), "--device", "cpu", "--no-progress"]
    assert main([*argv, "--ignore-value", "2"]) == 0
    assert _said(caplog) == []
    assert main([*argv, "--ignore-value", "1"]) == 0  # another class's value: said
    assert _said(caplog) == [f"--ignore-value 1 is class 'road': {SAID}"]
