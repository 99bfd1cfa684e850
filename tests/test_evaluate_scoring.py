"""What the evaluation's object scores count: ignored pixels, classes, instance masks, the
averaging of each figure, and the hints for masks or predictions of object ids read as classes."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions


def _write(tmp_path, gt: np.ndarray, pred: np.ndarray, pred_name: str = "a.png"):
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "pred" / pred_name, pred)
    return tmp_path / "pred", tmp_path / "gt"


def test_ignored_pixels_count_in_no_object_score(tmp_path):
    gt = np.zeros((14, 12), np.uint8)
    gt[1:9, 1:9] = 255  # a void rim (VOC's outlines) around a 6 x 6 object
    gt[2:8, 2:8] = 1
    gt[11:14, :] = 255  # a void band
    pred = np.zeros_like(gt)
    pred[1:9, 1:9] = 1  # the object with its rim: right on every labelled pixel
    pred[12:14, 0:3] = 1  # an object wholly in the void band
    d = evaluate_predictions(*_write(tmp_path, gt, pred), ignore_value=255).summary
    assert d["miou"] == 1.0
    assert (d["objects"], d["pred_objects"]) == (1, 1)
    assert (d["dsb"], d["object_f1"], d["pq"], d["seg"]) == (1.0, 1.0, 1.0, 1.0)
