"""Instances, SEG and object F1: exact values on hand-built cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from unetlab.metrics.objects import (
    DSB_THRESHOLDS,
    dsb_score,
    f1_from_counts,
    instances,
    iou_matrix,
    match_counts,
    match_pairs,
    object_counts,
    object_f1,
    object_scores,
    overlaps,
    panoptic_quality,
    seg_score,
    summarize_objects,
)


def test_instances_are_components_of_each_non_boundary_class():
    labels = np.array(
        [
            [1, 1, 0, 2],
            [0, 0, 0, 2],
            [1, 0, 1, 1],
        ]
    )
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
    pred = np.array([[4, 4, 0, 5, 0, 0, 0]])  # exact, IoU exactly 1/2 (a match: >=), missing
    assert object_counts(pred, gt) == (2, 0, 1)
    assert object_f1(pred, gt) == pytest.approx(4 / 5)
    assert object_counts(pred, gt, iou=0.9) == (1, 1, 2)
    assert object_counts(pred, gt, iou=0.3) == (2, 0, 1)
    assert math.isnan(object_f1(np.zeros((2, 2), int), np.zeros((2, 2), int)))
    assert object_f1(np.ones((2, 2), int), np.zeros((2, 2), int)) == 0.0
    assert f1_from_counts(0, 0, 0)["precision"] != f1_from_counts(0, 0, 0)["precision"]
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        object_counts(pred, gt, iou=0)
    with pytest.raises(ValueError, match="same size"):
        overlaps(pred, gt[:, :3])


def test_instance_ids_run_in_raster_order_across_classes():
    labels = np.array([[2, 1, 2, 1], [0, 0, 0, 0], [1, 2, -1, 2]])
    assert instances(labels).tolist() == [[1, 2, 3, 4], [0, 0, 0, 0], [5, 6, 0, 7]]
    # 8-connected: each diagonal chain of a class is one object; 1-D and 3-D maps work too
    assert instances(np.array([[1, 0], [0, 1]]), connectivity=2).tolist() == [[1, 0], [0, 1]]
    assert instances(np.array([1, 1, 0, 2, 1])).tolist() == [1, 1, 0, 2, 3]
    assert instances(np.ones((2, 2, 2), np.uint8)).max() == 1


# --- matching, DSB 2018 score, panoptic quality ----------------------------------------


def test_matching_scores_of_a_touching_pair_predicted_exactly():
    gt = np.array([[1, 1, 2, 2], [1, 1, 2, 2]])
    pred = np.where(gt == 1, 7, 3)  # other ids, same objects
    s = object_scores(pred, gt)
    assert s["dsb"] == 1.0 and s["f1"] == 1.0 and s["pq"] == 1.0 and s["seg"] == 1.0
    assert (s["tp"], s["fp"], s["fn"], s["pred_objects"], s["true_objects"]) == (2, 0, 0, 2, 2)
    assert dsb_score(pred, gt) == 1.0


def test_matching_scores_of_a_split_object():
    gt = np.ones((1, 6), int)
    pred = np.array([[1, 1, 1, 1, 2, 2]])  # IoU 4/6 and 2/6
    s = object_scores(pred, gt)
    # 4/6 > t for t = 0.50, 0.55, 0.60, 0.65: 1 / (1 TP + 1 FP) there, 0 at the other six
    assert s["dsb"] == pytest.approx(4 * 0.5 / 10)
    assert (s["precision"], s["recall"], s["f1"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert (s["sq"], s["rq"], s["pq"]) == pytest.approx((2 / 3, 2 / 3, 4 / 9))
    assert s["seg"] == pytest.approx(2 / 3)
    assert (s["pred_objects"], s["true_objects"]) == (2, 1)
    # IoU exactly 0.5 for both halves: one of them matches (IoU >= t, one to one, as
    # StarDist's matching), at 0.5 only; SEG's "more than half" takes neither
    halves = object_scores(np.array([[1, 1, 1, 2, 2, 2]]), gt)
    assert (halves["tp"], halves["fp"], halves["fn"]) == (1, 1, 0)
    assert halves["dsb"] == pytest.approx(0.5 / 10) and halves["seg"] == 0.0


def test_matching_scores_of_a_merged_pair():
    gt = np.array([[1, 1, 2, 2, 2, 2]])
    merged = np.full_like(gt, 5)  # IoU 2/6 with gt 1, 4/6 with gt 2
    s = object_scores(merged, gt)
    assert s["dsb"] == pytest.approx(0.2)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 0, 1)
    assert s["pq"] == pytest.approx(4 / 6 * 2 / 3)
    assert panoptic_quality(merged, gt) == pytest.approx({"pq": 4 / 9, "sq": 4 / 6, "rq": 2 / 3})
    assert s["seg"] == pytest.approx((2 / 6 + 4 / 6) / 2)
    # one predicted object matches one true object at any threshold, 0.3 included
    m = match_counts(merged, gt, (0.3, 0.5, 0.7))
    assert m.tp.tolist() == [1, 1, 0] and m.fn.tolist() == [1, 1, 2] and m.fp.tolist() == [0, 0, 1]
    assert m.iou_sum == pytest.approx([4 / 6, 4 / 6, 0])


def test_empty_images_empty_vs_empty_is_nan_a_false_object_scores_zero():
    empty = np.zeros((3, 3), int)
    one = np.zeros((3, 3), int)
    one[1, 1] = 4
    both = object_scores(empty, empty)
    for key in ("dsb", "f1", "precision", "recall", "pq", "sq", "rq", "seg"):
        assert math.isnan(both[key]), key
    assert (both["pred_objects"], both["true_objects"]) == (0, 0)
    false = object_scores(one, empty)  # one false positive
    assert false["dsb"] == 0.0 and false["f1"] == 0.0 and false["pq"] == 0.0
    assert false["precision"] == 0.0 and math.isnan(false["recall"]) and math.isnan(false["sq"])
    missed = object_scores(empty, one)  # one false negative
    assert missed["dsb"] == 0.0 and missed["recall"] == 0.0 and math.isnan(missed["precision"])
    assert missed["seg"] == 0.0 and missed["pq"] == 0.0
    assert iou_matrix(empty, one).shape == (1, 0)


def test_match_pairs_below_one_half_is_an_optimal_assignment():
    iou = np.array([[0.40, 0.30], [0.35, 0.00]])
    # greedy (best first) pairs gt 0 - pred 0 and leaves gt 1 alone; two pairs are possible
    rows, cols = match_pairs(iou, 0.2)
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (1, 0)]
    rows, cols = match_pairs(np.array([[0.30, 0.45]]), 0.2)  # one pair: the larger IoU
    assert (rows.tolist(), cols.tolist()) == ([0], [1])
    assert match_pairs(np.zeros((0, 3)), 0.1)[0].size == 0
    with pytest.raises(ValueError, match="threshold"):
        match_pairs(iou, 0.0)
    assert match_pairs(np.array([[1.0, 0.5]]), 1.0)[1].tolist() == [0]  # IoU 1 >= 1


def test_match_pairs_counts_an_iou_of_exactly_t_once_for_two_halves():
    # two predicted halves of one true object: IoU exactly 0.5 each; one pair, not two
    iou = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.75]])
    rows, cols = match_pairs(iou, 0.5)
    assert rows.tolist() == [0, 1] and cols.tolist()[1] == 2 and cols[0] in (0, 1)
    assert len(match_pairs(iou, 0.55)[0]) == 1 and len(match_pairs(iou, 0.75)[0]) == 1


def _brute_force_matches(iou: np.ndarray, t: float) -> int:
    """The largest number of one-to-one pairs with IoU >= t, by trying every assignment."""
    n_gt, n_pred = iou.shape
    best = 0
    for perm in itertools.permutations(range(max(n_gt, n_pred)), n_gt):
        pairs = sum(1 for g, p in enumerate(perm) if p < n_pred and iou[g, p] >= t)
        best = max(best, pairs)
    return best


def _random_objects(rng, shape=(20, 20), count=5, centres=None):
    ids = np.zeros(shape, int)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    centres = rng.uniform(2, shape[0] - 2, (count, 2)) if centres is None else centres
    for i, (cy, cx) in enumerate(centres, start=1):
        r = rng.uniform(2, 5)
        ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = i  # later objects cover earlier ones
    return ids, centres


def test_dsb_score_equals_a_brute_force_computation_from_the_definition():
    rng = np.random.default_rng(3)
    scores, mine = [], []
    for _ in range(12):
        gt, centres = _random_objects(rng, count=int(rng.integers(0, 6)))
        pred, _ = _random_objects(rng, centres=centres + rng.normal(0, 1.5, centres.shape))
        if rng.random() < 0.3:
            pred[pred == pred.max()] = 0  # a missed object now and then
        # the definition, written out: IoU of every pair from the pixels themselves, the
        # most one-to-one pairs above t by trying every assignment, then the DSB formula
        g_ids, p_ids = [i for i in np.unique(gt) if i], [i for i in np.unique(pred) if i]
        iou = np.zeros((len(g_ids), len(p_ids)))
        for a, g in enumerate(g_ids):
            for b, p in enumerate(p_ids):
                inter = np.sum((gt == g) & (pred == p))
                iou[a, b] = inter / np.sum((gt == g) | (pred == p))
        per_t = []
        for t in DSB_THRESHOLDS:
            tp = _brute_force_matches(iou, t)
            fp, fn = len(p_ids) - tp, len(g_ids) - tp
            per_t.append(tp / (tp + fp + fn) if tp + fp + fn else math.nan)
        scores.append(float(np.mean(per_t)))
        mine.append(dsb_score(pred, gt))
        for t in (0.1, 0.3):  # the assignment below 0.5, too
            assert len(match_pairs(iou_matrix(pred, gt), t)[0]) == _brute_force_matches(iou, t)
    assert np.allclose(mine, scores, equal_nan=True)
    assert 0.05 < np.nanmean(scores) < 0.95  # the cases are neither trivial nor hopeless


def test_dsb_thresholds_are_exact():
    assert DSB_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def test_the_object_table_in_micrometres_beside_pixels():
    from unetlab.inference.measure import object_table, with_micrometres

    ids = np.zeros((10, 12), np.int32)
    ids[2:4, 3:7] = 1  # 8 px, centroid (2.5, 4.5)
    table = with_micrometres(object_table(ids), (0.5, 0.25))
    assert list(table)[:4] == ["id", "area", "area_um2", "centroid_y"]
    assert table["area_um2"][0] == pytest.approx(8 * 0.125)
    assert (table["centroid_y_um"][0], table["centroid_x_um"][0]) == pytest.approx((1.25, 1.125))
    plain = object_table(ids)
    assert with_micrometres(plain, None) is plain


def test_summarize_objects_sums_counts_and_averages_images_that_have_objects():
    gt_a = np.zeros((6, 6), np.int64)
    gt_a[0:2, 0:2], gt_a[4:6, 4:6] = 1, 2
    pred_a = np.where(gt_a == 1, 1, 0)  # one found exactly, one missed
    empty = np.zeros((4, 4), np.int64)  # nothing to score: its DSB score is NaN, skipped
    gt_c = np.zeros((4, 4), np.int64)
    gt_c[0:2, 0:2] = 1
    pred_c = np.zeros((4, 4), np.int64)
    pred_c[0:2, 0:3] = 1  # IoU 4/6, drawn 1.5x too large
    images = [object_scores(p, g) for p, g in ((pred_a, gt_a), (empty, empty), (pred_c, gt_c))]
    got = summarize_objects(images)
    assert (got["object_tp"], got["objects"], got["pred_objects"]) == (2, 3, 2)
    assert got["object_precision"] == 1.0 and got["object_recall"] == pytest.approx(2 / 3)
    assert got["object_f1"] == pytest.approx(0.8)
    assert got["dsb"] == pytest.approx((images[0]["dsb"] + images[2]["dsb"]) / 2)
    assert got["seg"] == pytest.approx((1.0 + 0.0 + 4 / 6) / 3)  # over all true objects
    assert got["area_ratio"] == pytest.approx(1.25) and got["object_classes"] == 1


def test_match_pairs_group_by_group_equals_one_whole_assignment():
    """Solved per group of linked objects, the pairs count and their summed IoU equal those
    of one assignment over the whole matrix (the objective is separate per group)."""
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(7)
    for _ in range(30):
        iou = rng.random((9, 8)) * (rng.random((9, 8)) < 0.25)
        for t in (0.1, 0.3, 0.5):
            rows, cols = match_pairs(iou, t)
            ok = iou >= t
            weight = np.where(ok, 1.0 + iou / 10, 0.0)
            r, c = linear_sum_assignment(weight, maximize=True)
            keep = ok[r, c]
            assert len(rows) == keep.sum() and (np.diff(rows) > 0).all()
            assert iou[rows, cols].sum() == pytest.approx(iou[r[keep], c[keep]].sum())
            assert (ok[rows, cols]).all() and len(set(cols.tolist())) == len(cols)
