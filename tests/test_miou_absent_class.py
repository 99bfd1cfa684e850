"""How the mean IoU treats a class missing from the truth, the same in validation and evaluate.

The convention of mmsegmentation's IoUMetric, torchmetrics' JaccardIndex, Keras' MeanIoU,
ignite's mIoU and torchvision's segmentation references (one confusion matrix over the data
set): a class absent from the truth AND the prediction has no IoU (NaN) and the mean skips
it; a class absent from the truth but predicted has IoU 0 (its union is its false positives)
and counts. MONAI's per-image ``ignore_empty`` (NaN wherever the truth is empty) is the
exception, not followed."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import unetlab.train.loop as loop
from unetlab.evaluate.accumulate import Accumulator
from unetlab.losses import build_loss
from unetlab.metrics.confusion import confusion_matrix, metrics_from_matrix
from unetlab.models import UNet

TRUTH = np.array([[0, 0, 1, 1], [0, 0, 1, 1]])  # classes 0 and 1; 2 and 3 absent
PRED = np.array([[0, 2, 1, 1], [0, 0, 1, 1]])  # one pixel of class 2; 3 never predicted


def test_a_predicted_class_absent_from_the_truth_counts_as_iou_0():
    r = metrics_from_matrix(confusion_matrix(PRED, TRUTH, 4))
    assert r["iou"][:3] == pytest.approx([0.75, 1.0, 0.0]) and math.isnan(r["iou"][3])
    assert r["miou"] == pytest.approx((0.75 + 1.0 + 0.0) / 3)  # class 3 left out, 2 counted
    assert r["pixels"] == [4, 4, 0, 0]


def test_validation_and_evaluate_give_the_same_iou_for_it(monkeypatch):
    one_hot = torch.nn.functional.one_hot(torch.from_numpy(PRED), 4).permute(2, 0, 1)[None]
    monkeypatch.setattr(loop, "predict_tensor", lambda *a, **k: one_hot.float())
    model = UNet(1, 4, depth=2, base_channels=2, padding="same")
    sample = SimpleNamespace(image=np.zeros((1, 2, 4), np.float32), mask=TRUTH, weight=None)
    validated = loop.validate(model, [sample], build_loss("ce"), device=torch.device("cpu"))
    accumulator = Accumulator(boundary_class=None, connectivity=1, objects=False)
    accumulator.add("a", PRED, TRUTH)
    evaluated = accumulator.report(["0", "1", "2", "3"], thresholds=None, worst=0).summary
    for figures in (validated, evaluated):
        assert figures["miou"] == pytest.approx((0.75 + 1.0 + 0.0) / 3)
        assert figures["iou"][:3] == pytest.approx([0.75, 1.0, 0.0]) and math.isnan(
            figures["iou"][3]
        )
