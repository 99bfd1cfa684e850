"""ISBI 2012 measures: hand-built values and the scikit-image cross-check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import adapted_rand_error, variation_of_information

from unetlab.metrics.isbi import (
    CHALLENGE_THRESHOLDS,
    best_threshold,
    information_score,
    information_scores,
    pixel_counts,
    pixel_error,
    pixel_fscore_error,
    rand_counts,
    rand_error,
    rand_scores,
)


def _singletons(pred: np.ndarray) -> np.ndarray:
    """Give every 0 pixel of ``pred`` an id of its own (the challenge's reading of them)."""
    out = pred.copy()
    zeros = out == 0
    out[zeros] = out.max() + 1 + np.arange(zeros.sum())
    return out


def test_pixel_error_exact_and_ignore():
    gt = np.array([[0, 1], [1, -1]])
    pred = np.array([[1, 1], [1, 0]])
    assert pixel_error(pred, gt) == pytest.approx(1 / 3)
    assert math.isnan(pixel_error(pred, np.full((2, 2), -1)))
    with pytest.raises(ValueError, match="same size"):
        pixel_error(pred, gt[:1])


def test_float_labels_get_one_clear_message_from_every_measure():
    from unetlab.metrics.objects import dsb_score, object_scores, seg_score

    ids = np.array([[0, 1], [2, 2]])
    for measure in (rand_error, information_score, object_scores, seg_score, dsb_score):
        with pytest.raises(ValueError, match="prediction must hold integer labels, not float32"):
            measure(ids.astype(np.float32), ids)
        with pytest.raises(ValueError, match="ground truth must hold integer labels"):
            measure(ids, ids.astype(np.float64))


def test_rand_hand_built_split():
    gt = np.array([[1, 1, 1, 1]])
    pred = np.array([[1, 1, 2, 2]])
    # ordered pairs: truth 4*3 = 12 together; both 2*(2*1) = 4; prediction 4
    assert rand_counts(pred, gt) == (4.0, 12.0, 4.0)
    s = rand_scores(pred, gt)
    assert s["v_rand_split"] == pytest.approx(1 / 3) and s["v_rand_merge"] == 1.0
    assert s["v_rand"] == pytest.approx(0.5) and rand_error(pred, gt) == pytest.approx(0.5)


def test_rand_ignores_true_membrane_and_predicted_membrane_is_singletons():
    gt = np.array([[1, 1, 0, 2, 2]])
    perfect_inside = np.array([[5, 5, 9, 7, 7]])  # the true-membrane pixel may be anything
    assert rand_error(perfect_inside, gt) == 0.0
    assert information_score(perfect_inside, gt) == pytest.approx(1.0)
    holes = np.array([[5, 0, 0, 7, 0]])  # predicted membrane inside cells: singletons
    # kept pixels 4; truth pairs 2+2 = 4; prediction pairs 0 -> V_Rand 0
    assert rand_counts(holes, gt) == (0.0, 4.0, 0.0)
    assert rand_error(holes, gt) == 1.0


def test_rand_all_membrane_truth_is_nan_and_single_pixel_cells_agree():
    assert math.isnan(rand_error(np.ones((3, 3), int), np.zeros((3, 3), int)))
    assert math.isnan(information_score(np.ones((3, 3), int), np.zeros((3, 3), int)))
    assert rand_error(np.array([[1, 0, 2]]), np.array([[1, 0, 2]])) == 0.0


def test_information_hand_built_merge():
    gt = np.array([[1, 1, 2, 2]])
    pred = np.array([[1, 1, 1, 1]])
    s = information_scores(pred, gt)
    # H(T) = 1 bit, H(S) = 0, I = 0: a full merge
    assert s["vi_merge"] == pytest.approx(1.0) and s["vi_split"] == pytest.approx(0.0)
    assert s["v_info"] == 0.0 and s["v_info_split"] == 1.0 and s["v_info_merge"] == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_rand_equals_scikit_image_on_random_labels(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 6, (40, 50))
    pred = rng.integers(1, 5, (40, 50))  # no predicted membrane: skimage's reading is ours
    are, split, merge = adapted_rand_error(gt, pred)
    s = rand_scores(pred, gt)
    assert s["rand_error"] == pytest.approx(are, abs=1e-9)
    assert s["v_rand_split"] == pytest.approx(split, abs=1e-9)
    assert s["v_rand_merge"] == pytest.approx(merge, abs=1e-9)
    # with predicted membrane: ours == skimage after making each such pixel a singleton
    pred0 = rng.integers(0, 5, (40, 50))
    assert rand_error(pred0, gt) == pytest.approx(
        adapted_rand_error(gt, _singletons(pred0))[0], abs=1e-9
    )
    # ... which is not skimage's reading (0 = one more segment): the restriction we add
    assert abs(rand_error(pred0, gt) - adapted_rand_error(gt, pred0)[0]) > 1e-3


@pytest.mark.parametrize("seed", range(3))
def test_information_equals_scikit_image_variation_of_information(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 6, (30, 40))
    pred = rng.integers(0, 4, (30, 40))
    s = information_scores(pred, gt)
    h_split, h_merge = variation_of_information(gt, _singletons(pred), ignore_labels=[0])
    assert s["vi_split"] == pytest.approx(h_split, abs=1e-9)
    assert s["vi_merge"] == pytest.approx(h_merge, abs=1e-9)


def test_rand_of_a_512_image_of_300_ids_agrees_with_scikit_image():
    """A size pairwise loops could not do (its time: bench/bench_small_speeds.py)."""
    rng = np.random.default_rng(0)
    gt = rng.integers(1, 300, (512, 512))
    pred = rng.integers(1, 300, (512, 512))
    are, _, _ = adapted_rand_error(gt, pred)
    assert rand_error(pred, gt) == pytest.approx(are, abs=1e-9)


def test_best_threshold_picks_the_separating_level():
    gt = np.array([[1, 1, 0, 1, 1]])  # two cells split by one membrane pixel
    prob = np.array([[0.9, 0.8, 0.6, 0.7, 0.9]])
    r = best_threshold(prob, gt)
    assert [row["threshold"] for row in r["per_threshold"]] == list(CHALLENGE_THRESHOLDS)
    # above 0.6 the membrane pixel separates the cells; above 0.7 cell 2 loses a pixel
    assert r["rand_error"] == 0.0 and r["rand_threshold"] == 0.6
    assert r["pixel_error"] == 0.0 and r["pixel_threshold"] == 0.6
    assert r["information_score"] == pytest.approx(1.0) and r["information_threshold"] == 0.6
    low = r["per_threshold"][0]  # 0.0: everything one cell
    assert low["rand_error"] == pytest.approx(1 - 2 * 4 / (4 + 12))
    assert type(r["rand_error"]) is float
    stack = best_threshold([prob, prob], [gt, gt], thresholds=[0.5, 0.65])
    assert stack["rand_threshold"] == 0.65 and stack["rand_error"] == 0.0
    with pytest.raises(ValueError, match="2 probability maps but 1"):
        best_threshold([prob, prob], [gt])


def test_challenge_pixel_error_is_one_minus_the_f_score_of_the_cell_pixels():
    gt = np.array([[1, 1, 0, 1, 1, 0, 0, 1]], bool)  # 5 cell, 3 membrane pixels
    pred = np.array([[1, 0, 1, 1, 1, 0, 0, 1]], bool)  # one cell missed, one membrane called cell
    assert pixel_counts(pred, gt) == (4, 1, 1)
    assert pixel_fscore_error(4, 1, 1) == pytest.approx(1 - 8 / 10)  # F = 2tp / (2tp + fp + fn)
    assert pixel_error(pred.astype(int), gt.astype(int)) == pytest.approx(
        2 / 8
    )  # the other reading
    labelled = np.array([[1, 0, 0, 1, 1, 1, 1, 1]], bool)  # drop the missed and the false pixel
    assert pixel_counts(pred, gt, labelled) == (4, 0, 0)
    assert pixel_fscore_error(0, 0, 0) == 0.0  # no cell in either map: they agree
    assert pixel_fscore_error(0, 3, 0) == 1.0
    with pytest.raises(ValueError, match="differ in size"):
        pixel_counts(pred, gt[:, :4])


def test_best_threshold_reports_the_challenge_pixel_error_from_summed_counts():
    gt = np.array([[1, 1, 0, 1, 1]])
    prob = np.array([[0.9, 0.8, 0.6, 0.7, 0.9]])
    all_cell = np.ones_like(gt)
    r = best_threshold([prob, prob], [gt, all_cell], thresholds=[0.5, 0.65, 0.75])
    rows = {row["threshold"]: row for row in r["per_threshold"]}
    # 0.5: every pixel called cell: tp 4 + 5, fp 1, fn 0 over the stack
    assert rows[0.5]["challenge_pixel_error"] == pytest.approx(1 - 18 / 19)
    # 0.65: the membrane pixel is right in the first image, wrong (fn) in the second
    assert rows[0.65]["challenge_pixel_error"] == pytest.approx(1 - 16 / 17)
    # 0.75: tp 3 + 3, fn 1 + 2
    assert rows[0.75]["challenge_pixel_error"] == pytest.approx(1 - 12 / 15)
    assert r["challenge_pixel_threshold"] == 0.5  # 1/19 wrong beats 1/17
    assert r["challenge_pixel_error"] == rows[0.5]["challenge_pixel_error"]
    ignored = best_threshold(prob, np.full((1, 5), -1), thresholds=[0.5])
    assert math.isnan(ignored["challenge_pixel_error"])


def test_best_threshold_with_seeds_splits_cells_a_membrane_gap_merges():
    gt = np.ones((7, 11), np.int64)
    gt[:, 0] = gt[:, 5] = 0  # two true cells
    prob = np.where(gt == 1, 0.95, 0.1)
    prob[3, 5] = 0.6  # a gap in the predicted membrane
    plain = best_threshold(prob, gt, thresholds=[0.5])
    split = best_threshold(prob, gt, thresholds=[0.5], seed_threshold=0.9)
    assert plain["rand_error"] > 0.3 and split["rand_error"] == 0.0  # merged, then split
    assert split["seed_threshold"] == 0.9 and plain["seed_threshold"] is None
    assert split["pixel_error"] == 0.0 and plain["pixel_error"] == pytest.approx(1 / 77)
    keys = ("rand_error", "rand_threshold", "information_score")
    assert split["without_seeds"] == {k: plain[k] for k in keys} and "without_seeds" not in plain


def test_best_threshold_leaves_ignored_pixels_out():
    gt = np.array([[1, 1, 0, -1, 1]])  # the ignored pixel is wrong at every threshold
    prob = np.array([[0.9, 0.9, 0.1, 0.9, 0.9]])
    r = best_threshold(prob, gt, thresholds=[0.5])
    assert r["pixel_error"] == 0.0 and r["rand_error"] == 0.0
    assert math.isnan(best_threshold(prob, np.full((1, 5), -1), thresholds=[0.5])["pixel_error"])


def test_best_threshold_means_skip_images_without_cells_and_ties_keep_the_first():
    gt = np.array([[1, 1, 0, 1, 1]])
    prob = np.array([[0.9, 0.8, 0.6, 0.7, 0.9]])
    no_cells = np.zeros_like(gt)  # V_Info NaN: left out of the mean; pixel error counts
    r = best_threshold([prob, prob], [gt, no_cells], thresholds=[0.65, 0.5, 0.62])
    assert r["information_score"] == pytest.approx(1.0)
    assert r["information_threshold"] == 0.65 and r["rand_threshold"] == 0.65
    assert r["pixel_error"] == pytest.approx(0.5 * 4 / 5)  # 4 of 5 pixels called cell
    empty = best_threshold(prob, no_cells, thresholds=[0.5, 0.65])
    assert math.isnan(empty["information_score"]) and empty["information_threshold"] == 0.5
