"""The ISBI measures score (N, H, W) stacks (review s32 11), frame by frame as the
challenge's Fiji scripts scored its 30-slice stack, so ids that restart in every frame are
not joined across frames; the object measures keep refusing stacks."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.errors import UnetlabError
from unetlab.metrics.isbi import (
    information_score,
    information_scores,
    pixel_error,
    rand_counts,
    rand_error,
    rand_from_counts,
    rand_scores,
)
from unetlab.metrics.objects import iou_matrix, object_scores


def _frames() -> tuple[np.ndarray, np.ndarray]:
    """Two 8x8 frames of cell ids (0 = membrane), the second's ids past the first's, and a
    prediction that splits a cell of the first and merges the second's two."""
    truth = np.zeros((2, 8, 8), np.int64)
    truth[0, :, :4], truth[0, :, 5:] = 1, 2
    truth[1, :4], truth[1, 5:] = 3, 4
    pred = truth.copy()
    pred[0, :4, :4] = 5
    pred[1, 4] = 3
    pred[1][pred[1] == 4] = 3
    return pred, truth


def test_pixel_error_of_a_stack_counts_every_pixel_once():
    pred, truth = _frames()
    wrong = np.count_nonzero(pred != truth)
    assert pixel_error(pred, truth) == pytest.approx(wrong / truth.size)
    assert pixel_error(pred, truth) == pytest.approx(
        np.mean([pixel_error(p, t) for p, t in zip(pred, truth, strict=True)])
    )


def test_rand_of_a_stack_of_distinct_ids_sums_the_frames_counts():
    pred, truth = _frames()
    summed = np.sum([rand_counts(p, t) for p, t in zip(pred, truth, strict=True)], axis=0)
    assert rand_counts(pred, truth) == pytest.approx(tuple(summed))
    expected = rand_from_counts(*summed)
    assert rand_scores(pred, truth) == pytest.approx(expected)
    assert 0 < expected["rand_error"] < 1
    assert 0 < information_scores(pred, truth)["v_info"] < 1


def test_the_object_measures_still_refuse_a_stack():
    pred, truth = _frames()
    for measure in (object_scores, iou_matrix):
        with pytest.raises(
            UnetlabError,
            match=r"the object measures score one \(H, W\) image; .*pooled_object_scores",
        ):
            measure(pred, truth)


def test_frames_whose_ids_restart_are_scored_each_on_its_own():
    """Object 1 of frame 0 and object 1 of frame 1 are two objects (the challenge labelled
    each slice on its own): a prediction right in every frame scores perfectly, whatever ids
    it gives; read as one volume, the restarted truth joined them and called it a split."""
    pred, truth = _frames()
    restarted = truth.copy()
    restarted[1] -= 2 * (restarted[1] > 0)  # frame 1's cells 3, 4 -> 1, 2
    assert rand_error(truth, restarted) == 0.0
    assert information_score(truth, restarted) == pytest.approx(1.0)
    assert rand_scores(restarted, truth)["rand_error"] == 0.0
    assert rand_counts(pred, restarted) == pytest.approx(rand_counts(pred, truth))
    per_frame = [information_scores(p, t) for p, t in zip(pred, restarted, strict=True)]
    assert information_scores(pred, restarted) == pytest.approx(
        {k: np.mean([f[k] for f in per_frame]) for k in per_frame[0]}
    )


def test_a_frame_without_cells_is_left_out_of_the_information_mean():
    pred, truth = _frames()
    stack = np.concatenate([truth, np.zeros_like(truth[:1])])
    guess = np.concatenate([pred, np.ones_like(pred[:1])])
    both = [information_scores(p, t)["v_info"] for p, t in zip(pred, truth, strict=True)]
    assert information_scores(guess, stack)["v_info"] == pytest.approx(np.mean(both))
    assert rand_counts(guess, stack) == pytest.approx(rand_counts(pred, truth))
