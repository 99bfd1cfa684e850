"""The ISBI measures score (N, H, W) stacks as one array, as before the object measures'
2-D rule (review s32 11); the object measures keep refusing stacks."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.errors import UnetlabError
from unetlab.metrics.isbi import (
    information_scores,
    pixel_error,
    rand_counts,
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
