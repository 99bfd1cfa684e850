"""Masks read as class indices holding more values beyond the predicted classes than there
are predicted classes are said in one line naming the file and the values: a 16-bit mask of
12 object ids beside 2-class predictions was scored as 13 classes unsaid (s62)."""

from __future__ import annotations

import logging

import numpy as np

from unetlab.cli import main
from unetlab.data.io import write_png, write_tiff
from unetlab.evaluate import evaluate_predictions

BEYOND = "are no class of the predictions"


def _ids(objects: int) -> np.ndarray:
    """A 16-bit mask of ``objects`` object ids, each one square."""
    mask = np.zeros((40, 10 * objects + 10), np.uint16)
    for i in range(1, objects + 1):
        mask[5:15, i * 9 : i * 9 + 6] = i
    return mask


def test_a_mask_of_twelve_ids_beside_two_class_predictions_is_said(tmp_path, caplog):
    mask = _ids(12)
    write_tiff(tmp_path / "gt" / "a.tif", mask)
    write_png(tmp_path / "pred" / "a.png", (mask > 0).astype(np.uint8))
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    assert len(report.class_names) == 13  # said, not decided: scored as read
    said = [r.getMessage() for r in caplog.records if BEYOND in r.getMessage()]
    assert said == [
        f"{tmp_path / 'gt' / 'a.tif'}: its mask values 2..12 are no class of the predictions "
        "(class indices 0..1) and are scored each as a class of its own: object ids (instance "
        "masks)? score them as objects with gt_instances=True; class labels of another model? "
        "score that model's predictions, or name the classes with class_names=[...]"
    ], said
    args = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert main(args) == 0
    said = [r.getMessage() for r in caplog.records if BEYOND in r.getMessage()]
    assert len(said) == 1 and "with --gt-instances;" in said[0], said
    assert said[0].endswith("name the classes with --class-names"), said


def test_classes_the_predictions_hold_or_a_rare_one_missing_are_not_said(tmp_path, caplog):
    """A 13-class model's masks of 0..12 beside its predictions of 0..12, and masks of 0..2
    beside predictions of 0..1 (a class the model never predicted here) stay silent."""
    mask = _ids(12)
    write_tiff(tmp_path / "gt" / "a.tif", mask)
    write_tiff(tmp_path / "pred" / "a.tif", mask.astype(np.uint8))
    write_tiff(tmp_path / "gt2" / "a.tif", np.minimum(mask, 2))
    write_png(tmp_path / "pred2" / "a.png", (mask > 0).astype(np.uint8))
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert len(evaluate_predictions(tmp_path / "pred", tmp_path / "gt").class_names) == 13
        assert len(evaluate_predictions(tmp_path / "pred2", tmp_path / "gt2").class_names) == 3
    assert BEYOND not in caplog.text
