"""Instances, SEG and object F1: exact values on hand-built cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from unetlab.metrics.objects import (
    f1_from_counts,
    instances,
    object_counts,
    object_f1,
    overlaps,
    seg_score,
)


def test_instances_are_components_of_each_non_boundary_class():
    labels = np.array([
        [1, 1, 0, 2],
        [0, 0, 0, 2],
        [1, 0, 1, 1],
    ])  # fmt: skip
    ids = instances(labels)
    assert ids.dtype == np.int32
    # class 1: three 4-connected regions, class 2: one
    assert ids.max() == 4
    assert (ids[labels == 0] == 0).all()
    assert len(np.unique(ids[labels == 2])) == 1
    assert ids[0, 0] == ids[0, 1] != ids[2, 0] != ids[2, 2]


def test_touching_objects_of_different_classes_stay_apart_and_diagonals_need_8():
    labels = np.array([[1, 2], [2, 1]])
    assert len(np.unique(instances(labels))) == 4  # 4-connected: every pixel alone
    assert len(np.unique(instances(labels, connectivity=2))) == 2  # diagonals join
    assert instances(labels, boundary_class=None).min() == 1
    assert instances(np.array([[0, -1], [1, 1]]), ignore_index=-1).tolist() == [[0, 0], [1, 1]]
    with pytest.raises(ValueError, match="integer"):
        instances(np.zeros((2, 2)))


def test_overlaps_table_and_sizes():
    gt = np.array([[1, 1, 0], [5, 5, 5]])
    pred = np.array([[3, 0, 0], [3, 3, 7]])
    table, gt_sizes, pred_sizes = overlaps(pred, gt)
    # rows: none, gt 1, gt 5; cols: none, pred 3, pred 7
    assert table.tolist() == [[1, 0, 0], [1, 1, 0], [0, 2, 1]]
    assert gt_sizes.tolist() == [2, 3] and pred_sizes.tolist() == [3, 1]


def test_seg_single_object_and_half_coverage_rule():
    gt = np.zeros((4, 4), int)
    gt[:2, :2] = 1  # 4 px
    pred = np.zeros_like(gt)
    pred[:2, :3] = 1  # covers all 4 of gt, 6 px
    assert seg_score(pred, gt) == pytest.approx(4 / 6)
    half = np.zeros_like(gt)
    half[0, :2] = 1  # exactly half of gt: not "more than half" -> 0
    assert seg_score(half, gt) == 0.0
    assert seg_score(gt, gt) == 1.0
    assert math.isnan(seg_score(pred, np.zeros_like(gt)))


def test_seg_and_f1_with_touching_gt_objects_merged_by_the_prediction():
    gt = np.array([[1, 1, 2, 2, 2, 2]])
    merged = np.ones_like(gt)
    # gt 1: 2 px, covered fully by the merged object (6 px): J = 2/6; gt 2: 4/6
    assert seg_score(merged, gt) == pytest.approx((2 / 6 + 4 / 6) / 2)
    # IoU with gt 2 is 4/6 > 0.5: one match, gt 1 missed
    assert object_counts(merged, gt) == (1, 0, 1)
    assert object_f1(merged, gt) == pytest.approx(2 / 3)


def test_object_f1_counts_and_edge_cases():
    gt = np.array([[1, 1, 0, 2, 2, 0, 3]])
    pred = np.array([[4, 4, 0, 5, 0, 0, 0]])  # exact, IoU 1/2 (not above 0.5), missing
    assert object_counts(pred, gt) == (1, 1, 2)
    assert object_f1(pred, gt) == pytest.approx(2 / 5)
    assert object_counts(pred, gt, iou=0.9) == (1, 1, 2)
    assert math.isnan(object_f1(np.zeros((2, 2), int), np.zeros((2, 2), int)))
    assert object_f1(np.ones((2, 2), int), np.zeros((2, 2), int)) == 0.0
    assert f1_from_counts(0, 0, 0)["precision"] != f1_from_counts(0, 0, 0)["precision"]
    with pytest.raises(ValueError, match="0.5"):
        object_counts(pred, gt, iou=0.3)
    with pytest.raises(ValueError, match="same size"):
        overlaps(pred, gt[:, :3])


def test_instance_ids_run_in_raster_order_across_classes():
    labels = np.array([[2, 1, 2, 1], [0, 0, 0, 0], [1, 2, -1, 2]])
    assert instances(labels).tolist() == [[1, 2, 3, 4], [0, 0, 0, 0], [5, 6, 0, 7]]
    # 8-connected: each diagonal chain of a class is one object; 1-D and 3-D maps work too
    assert instances(np.array([[1, 0], [0, 1]]), connectivity=2).tolist() == [[1, 0], [0, 1]]
    assert instances(np.array([1, 1, 0, 2, 1])).tolist() == [1, 1, 0, 2, 3]
    assert instances(np.ones((2, 2, 2), np.uint8)).max() == 1
