"""StarDist's matching table (metrics.matching): exact values on hand-built images."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_objects import _random_objects
from unetlab.errors import UnetlabError
from unetlab.metrics.matching import (
    MATCHING_COLUMNS,
    MATCHING_THRESHOLDS,
    iou_thresholds,
    matching_table,
    pooled_matching_table,
)
from unetlab.metrics.objects import match_counts, object_scores, pooled_object_scores


def _image():
    """True 1 (6 px) split in two halves (3 px each: IoU exactly 0.5 each); true 2 (4 px)
    found as 5 px (IoU 0.8); true 3 (2 px) missed."""
    truth = np.zeros((4, 8), np.uint16)
    truth[0, :6] = 1
    truth[2:4, :2] = 2
    truth[3, 6:8] = 3
    pred = np.zeros_like(truth)
    pred[0, :3], pred[0, 3:6] = 4, 9
    pred[2:4, :2] = 7
    pred[1, 0] = 7
    return truth, pred


def test_rows_at_each_threshold_count_iou_of_exactly_t_as_a_match_once():
    truth, pred = _image()
    rows = matching_table(truth=truth, prediction=pred, thresholds=(0.5, 0.6, 0.8, 0.9))
    assert [tuple(r) for r in rows] == [MATCHING_COLUMNS] * 4
    assert [(r["tp"], r["fp"], r["fn"]) for r in rows] == [
        (2, 1, 1),
        (1, 2, 2),
        (1, 2, 2),
        (0, 3, 3),
    ]
    at_half = rows[0]
    assert (at_half["true_objects"], at_half["pred_objects"]) == (3, 3)
    assert at_half["precision"] == pytest.approx(2 / 3) and at_half["recall"] == pytest.approx(
        2 / 3
    )
    assert at_half["accuracy"] == pytest.approx(2 / 4) and at_half["f1"] == pytest.approx(2 / 3)
    assert at_half["mean_matched_iou"] == pytest.approx((0.5 + 0.8) / 2)
    assert at_half["mean_true_iou"] == pytest.approx((0.5 + 0.8) / 3)
    assert at_half["panoptic_quality"] == pytest.approx(1.3 / (2 + 0.5 + 0.5))
    assert rows[2]["mean_matched_iou"] == pytest.approx(0.8)  # IoU 0.8 >= 0.8
    assert math.isnan(rows[3]["mean_matched_iou"]) and rows[3]["accuracy"] == 0.0


def test_default_thresholds_are_stardists_and_exact():
    assert MATCHING_THRESHOLDS == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    truth, pred = _image()
    rows = matching_table(truth=truth, prediction=pred)
    assert [r["threshold"] for r in rows] == list(MATCHING_THRESHOLDS)
    assert rows[0]["tp"] == 2  # at 0.1 too: one to one, 3 true and 3 predicted but 2 overlap
    assert iou_thresholds([0.9, 0.5, 0.5]) == (0.5, 0.9)
    for bad in ([0], [1.5], []):
        with pytest.raises(UnetlabError, match="IoU threshold"):
            iou_thresholds(bad)


def test_keywords_only_and_object_scores_keywords_say_which_is_which():
    truth, pred = _image()
    with pytest.raises(TypeError):
        matching_table(truth, pred)  # StarDist's order by position: refused, not guessed
    by_name = object_scores(prediction=pred, truth=truth)
    assert by_name["precision"] == object_scores(pred, truth)["precision"]
    assert object_scores(truth=truth, prediction=pred)["fn"] == 1
    with pytest.raises(UnetlabError, match="prediction= and truth="):
        object_scores(pred, truth=truth)
    with pytest.raises(UnetlabError, match="give the prediction and the truth"):
        object_scores(pred)
    assert pooled_object_scores(prediction=[pred], truth=[truth])["object_tp"] == 2


def test_pooled_sums_counts_then_derives_and_empty_is_nan():
    truth, pred = _image()
    empty = np.zeros_like(truth)
    one = matching_table(truth=truth, prediction=pred, thresholds=[0.5])[0]
    pooled = pooled_matching_table(
        truth=[truth, truth, empty], prediction=[pred, empty, empty], thresholds=[0.5]
    )[0]
    assert (pooled["tp"], pooled["fp"], pooled["fn"]) == (2, 1, 4)
    assert pooled["accuracy"] == pytest.approx(2 / 7)
    assert pooled["mean_matched_iou"] == pytest.approx(one["mean_matched_iou"])
    nothing = matching_table(truth=empty, prediction=empty, thresholds=[0.5])[0]
    assert math.isnan(nothing["accuracy"]) and nothing["tp"] == 0
    stack = pooled_matching_table(truth=np.stack([truth, truth]), prediction=np.stack([pred, pred]))
    assert stack[4]["threshold"] == 0.5 and stack[4]["tp"] == 4
    with pytest.raises(UnetlabError, match="2 predicted images but 1 true"):
        pooled_matching_table(truth=[truth], prediction=[pred, pred])


def test_object_scores_thresholds_give_the_same_counts():
    truth, pred = _image()
    m = object_scores(pred, truth, thresholds=(0.5, 0.9))["matching"]
    assert m.tp.tolist() == [2, 0] and m.thresholds == (0.5, 0.9)
    assert "matching" not in object_scores(pred, truth)


def test_pair_iou_counts_equal_the_dense_matching_bit_for_bit():
    """An evaluation keeps each image's IoUs above 0 (PairIoU) and matches them later at the
    thresholds asked: the counts and IoU sums equal those of the dense matrix exactly."""
    rng = np.random.default_rng(5)
    thresholds = (0.1, 0.3, 0.5, 0.55, 0.7, 0.9, 1.0)
    for _ in range(10):
        truth, centres = _random_objects(rng, count=int(rng.integers(0, 7)))
        pred, _ = _random_objects(rng, centres=centres + rng.normal(0, 1.5, centres.shape))
        kept = object_scores(prediction=pred, truth=truth)["pair_iou"]
        dense = match_counts(pred, truth, thresholds)
        late = kept.counts(thresholds)
        assert late.tp.tolist() == dense.tp.tolist() and late.fn.tolist() == dense.fn.tolist()
        assert late.iou_sum.tolist() == dense.iou_sum.tolist()  # same order: same floats
    truth, pred = _image()  # the two halves at exactly 0.5: one pair, from the assignment
    kept = object_scores(pred, truth)["pair_iou"].counts((0.5,))
    assert kept.tp.tolist() == [2] and kept.iou_sum.tolist() == [1.3]
