"""ConfusionMatrix and pixel metrics: exact values on hand-built cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from unetlab.metrics.confusion import (
    ConfusionMatrix,
    _batched_counts,
    confusion_matrix,
    metrics_from_matrix,
)

TARGET = np.array([[0, 0, 1], [1, 2, -1]])
PRED = np.array([[0, 1, 1], [1, 1, 0]])


def test_matrix_rows_are_truth_and_ignored_pixels_skipped():
    m = confusion_matrix(PRED, TARGET, 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 2, 0], [0, 1, 0]])
    assert m.dtype == np.int64


def test_exact_metrics_of_a_hand_built_case():
    r = metrics_from_matrix(confusion_matrix(PRED, TARGET, 3))
    assert r["pixel_accuracy"] == pytest.approx(3 / 5)
    # class 0: tp 1, truth 2, predicted 1 -> IoU 1/2, Dice 2/3
    # class 1: tp 2, truth 2, predicted 4 -> IoU 2/4, Dice 4/6
    # class 2: tp 0, truth 1, predicted 0 -> IoU 0, Dice 0, precision NaN
    assert r["iou"] == pytest.approx([0.5, 0.5, 0.0])
    assert r["dice"] == pytest.approx([2 / 3, 2 / 3, 0.0])
    assert r["precision"][:2] == pytest.approx([1.0, 0.5]) and math.isnan(r["precision"][2])
    assert r["recall"] == pytest.approx([0.5, 1.0, 0.0])
    assert r["miou"] == pytest.approx(1 / 3)
    assert r["mdice"] == pytest.approx(4 / 9)
    assert r["pixels"] == [2, 2, 1] and r["total"] == 5


def test_class_absent_from_truth_and_prediction_is_nan_and_skipped_by_means():
    r = metrics_from_matrix([[3, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert math.isnan(r["iou"][2]) and math.isnan(r["dice"][2])
    assert r["miou"] == 1.0 and r["mdice"] == 1.0 and r["pixel_accuracy"] == 1.0


def test_all_ignored_gives_nan_not_an_error():
    r = metrics_from_matrix(confusion_matrix(np.zeros((2, 2), int), np.full((2, 2), -1), 2))
    assert r["total"] == 0
    assert all(math.isnan(r[k]) for k in ("pixel_accuracy", "miou", "mdice"))


def test_out_of_range_targets_and_predictions_are_refused_ignore_index_skipped():
    assert confusion_matrix(np.array([0, 1]), np.array([0, -1]), 2).sum() == 1
    assert confusion_matrix(np.array([0, 1]), np.array([0, 255]), 2, ignore_index=255).sum() == 1
    mask = np.array([[0, 255], [255, 255]], np.uint8)  # label values as stored: 0/255
    for target in (mask, torch.from_numpy(mask)):
        with pytest.raises(
            ValueError, match=r"target holds class index 255 above 0..1.*0/255 -> 0/1"
        ):
            ConfusionMatrix(2).update(np.zeros((2, 2), int), target)
    with pytest.raises(ValueError, match="target holds class index 255"):
        _batched_counts(
            torch.zeros(2, 2, dtype=torch.long), torch.from_numpy(mask), 2, -1, 1, use_torch=True
        )
    assert confusion_matrix(np.array([0, 1]), np.array([0, -100]), 2).sum() == 1  # negative
    with pytest.raises(ValueError, match="outside 0..1"):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="outside 0..1"):
        confusion_matrix(torch.tensor([0, -1]), torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="same size"):
        confusion_matrix(np.zeros(3, int), np.zeros(4, int), 2)
    with pytest.raises(ValueError, match="argmax"):
        ConfusionMatrix(2).update(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="argmax"):
        confusion_matrix(np.zeros(3), np.zeros(3, int), 2)


def test_streaming_equals_one_shot_and_merge_adds():
    rng = np.random.default_rng(0)
    preds = rng.integers(0, 4, (5, 7, 9))
    targets = rng.integers(-1, 4, (5, 7, 9))
    cm = ConfusionMatrix(4)
    for p, t in zip(preds, targets):
        cm.update(torch.from_numpy(p), torch.from_numpy(t))
    np.testing.assert_array_equal(cm.matrix, confusion_matrix(preds, targets, 4))
    a, b = ConfusionMatrix(4), ConfusionMatrix(4)
    a.update(preds[:2], targets[:2])
    b.update(preds[2:], targets[2:])
    np.testing.assert_array_equal(a.merge(b).matrix, cm.matrix)
    assert a.compute() == cm.compute()
    cm.reset()
    assert cm.matrix.sum() == 0
    with pytest.raises(ValueError, match="merge"):
        cm.merge(ConfusionMatrix(3))


def test_per_image_splits_a_batch():
    cm = ConfusionMatrix(3, per_image=True)
    cm.update(np.stack([PRED, TARGET.clip(0)]), np.stack([TARGET, TARGET]))
    rows = cm.compute_per_image()
    assert len(rows) == 2
    assert json.dumps(rows[0]) == json.dumps(metrics_from_matrix(confusion_matrix(PRED, TARGET, 3)))
    assert rows[1]["pixel_accuracy"] == 1.0
    with pytest.raises(ValueError, match="per_image"):
        ConfusionMatrix(3).compute_per_image()


def test_matches_a_per_class_count_on_random_data():
    rng = np.random.default_rng(1)
    p, t = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    r = metrics_from_matrix(confusion_matrix(p, t, 3))
    for c in range(3):
        inter = np.sum((p == c) & (t == c))
        union = np.sum((p == c) | (t == c))
        assert r["iou"][c] == pytest.approx(inter / union, abs=1e-12)
        assert r["dice"][c] == pytest.approx(2 * inter / (np.sum(p == c) + np.sum(t == c)))


def test_torch_bincount_path_equals_numpy():
    """CPU tensors are counted with numpy; the torch.bincount path (accelerators) must agree."""
    rng = np.random.default_rng(2)
    pred, target = rng.integers(0, 3, (4, 9, 11)), rng.integers(-2, 3, (4, 9, 11))
    on_numpy = _batched_counts(pred, target, 3, -1, 4, use_torch=False)
    on_torch = _batched_counts(
        torch.from_numpy(pred), torch.from_numpy(target).int(), 3, -1, 4, use_torch=True
    )
    assert isinstance(on_torch, torch.Tensor) and on_torch.dtype == torch.int64
    np.testing.assert_array_equal(on_torch.numpy(), on_numpy)
    with pytest.raises(ValueError, match="outside 0..2"):
        _batched_counts(torch.tensor([3]), torch.tensor([0]), 3, -1, 1, use_torch=True)


def test_class_indices_is_the_argmax_or_half_for_one_channel():
    from unetlab.metrics.confusion import class_indices

    p = torch.tensor([[[0.2, 0.7]], [[0.5, 0.1]], [[0.3, 0.2]]])  # (K=3, 1, 2)
    assert class_indices(p, 0).tolist() == [[1, 0]]
    assert class_indices(p[None]).tolist() == [[[1, 0]]]
    one = torch.tensor([[[0.5, 0.49]]])
    assert class_indices(one, 0).tolist() == [[1, 0]] and class_indices(one, 0).dtype == torch.int64


def test_missed_pixels_count_in_their_truth_row_and_no_class_s_column():
    """metrics_from_matrix(m, missed): the oracle is the (C+1, C+1) matrix whose extra column
    holds them, its first C classes' figures and means (metrics_with_missed's way, s67)."""
    from unetlab.metrics.confusion import nanmean

    m, missed = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]]), np.array([3, 0, 1])
    wide = np.zeros((4, 4), np.int64)
    wide[:3, :3], wide[:3, 3] = m, missed
    oracle, got = metrics_from_matrix(wide), metrics_from_matrix(m, missed)
    for key in ("iou", "dice", "precision", "recall", "pixels"):
        assert got[key] == oracle[key][:3], key
    assert got["pixel_accuracy"] == oracle["pixel_accuracy"] and got["total"] == oracle["total"]
    assert got["miou"] == nanmean(np.array(oracle["iou"][:3]))
    assert got["mdice"] == nanmean(np.array(oracle["dice"][:3]))
    assert metrics_from_matrix(m, np.zeros(3)) == metrics_from_matrix(m)
