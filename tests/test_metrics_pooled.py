"""Object scores of a stack of frames or a data set held in memory (audit s32 notebook 1:
a (T, Y, X) stack given to object_scores was read as one volume, F1 0.0 instead of 0.87)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import unetlab
from unetlab.errors import UnetlabError
from unetlab.metrics.objects import object_scores, pooled_object_scores


def _frame(shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Truth with two squares; a prediction that finds the first and misses the second by
    ``shift`` px (ids restart at 1 in each frame, as predict_objects gives them)."""
    truth = np.zeros((20, 20), np.uint16)
    truth[2:8, 2:8], truth[10:16, 10:16] = 1, 2
    pred = np.zeros_like(truth)
    pred[2:8, 2:8] = 1
    pred[10 + shift : 16 + shift, 10:16] = 2
    return pred, truth


def test_a_stack_is_refused_in_one_line_naming_the_pooled_scorer():
    pred, truth = (np.stack(a) for a in zip(_frame(0), _frame(4), strict=True))
    with pytest.raises(UnetlabError, match="pooled_object_scores") as err:
        object_scores(pred, truth)
    assert "\n" not in str(err.value) and "(2, 20, 20)" in str(err.value)


def test_pooled_scores_sum_each_frames_counts():
    frames = [_frame(0), _frame(4), _frame(0)]
    pred, truth = (np.stack(a) for a in zip(*frames, strict=True))
    each = [object_scores(p, t) for p, t in frames]
    pooled = pooled_object_scores(pred, truth)
    tp, fp, fn = (sum(s[k] for s in each) for k in ("tp", "fp", "fn"))
    assert (pooled["object_tp"], pooled["object_fp"], pooled["object_fn"]) == (tp, fp, fn)
    assert (tp, fp, fn) == (5, 1, 1) and pooled["images"] == 3
    assert pooled["object_f1"] == pytest.approx(2 * 5 / (2 * 5 + 1 + 1))
    assert pooled["dsb"] == pytest.approx(np.mean([s["dsb"] for s in each]))
    # a list of images of different sizes is a data set held in memory
    small = (frames[0][0][:10, :10], frames[0][1][:10, :10])
    listed = pooled_object_scores([pred[0], small[0]], [truth[0], small[1]])
    assert listed["images"] == 2 and listed["object_tp"] == 3
    one = pooled_object_scores(pred[0], truth[0])  # one (H, W) image is one image
    assert one["images"] == 1 and one["object_f1"] == 1.0
    assert unetlab.pooled_object_scores is pooled_object_scores


def test_pooled_scores_refuse_unequal_counts_and_odd_shapes():
    pred, truth = _frame(0)
    with pytest.raises(UnetlabError, match="2 predicted images but 1 true"):
        pooled_object_scores([pred, pred], [truth])
    with pytest.raises(UnetlabError, match=r"shape \(1, 1, 20, 20\)"):
        pooled_object_scores(pred[None, None], truth[None, None])
    empty = pooled_object_scores(np.zeros((2, 4, 4), int), np.zeros((2, 4, 4), int))
    assert math.isnan(empty["object_f1"]) and empty["images"] == 2
