"""The distance split of objects (Fiji's Binary > Watershed): touching discs split, one
bumpy disc whole."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, split_by_distance

YY, XX = np.mgrid[:80, :120]


def disc(cy: float, cx: float, r: float) -> np.ndarray:
    return (YY - cy) ** 2 + (XX - cx) ** 2 <= r * r


def touching_pair_probabilities() -> np.ndarray:
    """Two discs of radius 15 whose centres are 27 px apart, painted interior as one blob
    (the seam not marked as boundary), a 2-px boundary rim around the union."""
    from scipy import ndimage

    union = disc(40, 40, 15) | disc(40, 67, 15)
    interior = ndimage.binary_erosion(union, iterations=2)
    probs = np.zeros((3, *union.shape))
    probs[0] = ~union
    probs[1] = union & ~interior
    probs[2] = interior
    return probs


def test_touching_discs_with_one_interior_blob_are_split_with_the_option():
    probs = touching_pair_probabilities()
    plain = ObjectOptions(mode="instances", min_area=36)
    assert objects_from_probabilities(probs, plain).max() == 1
    ids = objects_from_probabilities(
        probs, ObjectOptions(mode="instances", min_area=36, distance_split=True)
    )
    assert ids.max() == 2
    assert ids[40, 40] != ids[40, 67] and ids[40, 40] > 0 and ids[40, 67] > 0
    areas = np.bincount(ids.ravel())[1:]
    assert abs(int(areas[0]) - int(areas[1])) <= 0.02 * areas.sum()  # cut at the neck


@pytest.mark.parametrize(("amplitude", "lobes"), [(0.1, 6), (0.2, 5), (0.25, 8)])
def test_a_single_bumpy_disc_is_not_split(amplitude, lobes):
    angle, radius = np.arctan2(YY - 40, XX - 60), np.hypot(YY - 40, XX - 60)
    bumpy = radius <= 20 * (1 + amplitude * np.sin(lobes * angle))
    assert split_by_distance(bumpy.astype(np.int32)).max() == 1


def test_split_keeps_other_objects_and_numbers_new_pieces_last():
    ids = np.zeros(YY.shape, np.int32)
    ids[disc(40, 20, 12) | disc(40, 41, 12)] = 1
    ids[disc(40, 95, 10)] = 2
    out = split_by_distance(ids)
    assert out.max() == 3
    assert out[40, 95] == 2 and out[40, 20] == 1 and out[40, 41] == 3
    assert np.array_equal(out > 0, ids > 0)
