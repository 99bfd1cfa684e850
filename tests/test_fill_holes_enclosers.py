"""fill_object_holes on random label maps (rings, nested and overlapping objects, leaky
rings, objects cut by the image edge, nodata) equals a plain region-by-region reading of its
rule: an enclosed background region touching one object joins it; one touching several joins
the first of them (by id) whose ``binary_fill_holes`` holds it; otherwise it stays 0."""

import numpy as np
import pytest
from scipy import ndimage

from unetlab.inference.objects import fill_object_holes


def _by_rule(ids: np.ndarray, outside: np.ndarray | None) -> tuple[np.ndarray, int]:
    """The filled map and how many regions touching several objects joined one."""
    out, shared = ids.astype(np.int32).copy(), 0
    regions, n = ndimage.label(ids == 0)
    h, w = ids.shape
    for r in range(1, n + 1):
        here = regions == r
        ys, xs = np.nonzero(here)
        if ys.min() == 0 or xs.min() == 0 or ys.max() == h - 1 or xs.max() == w - 1:
            continue
        if outside is not None and outside[here].any():
            continue
        touched = np.unique(ids[ndimage.binary_dilation(here) & ~here])
        touched = touched[touched > 0]
        if len(touched) == 1:
            out[here] = touched[0]
            continue
        for i in touched:
            if ndimage.binary_fill_holes(ids == i)[ys[0], xs[0]]:
                out[here], shared = i, shared + 1
                break
    return out, shared


def _random_map(rng) -> np.ndarray:
    h, w = rng.integers(8, 40, 2)
    ids = np.zeros((h, w), np.int32)
    yy, xx = np.ogrid[:h, :w]
    for k in range(1, rng.integers(2, 16)):
        cy, cx = rng.integers(-3, h + 3), rng.integers(-3, w + 3)
        inner = rng.integers(1, 9)
        outer = inner + rng.integers(1, 4)
        d = np.hypot(yy - cy, xx - cx) if rng.random() < 0.5 else abs(yy - cy) + abs(xx - cx)
        shape = d < outer if rng.random() < 0.3 else (d >= inner) & (d < outer)
        if rng.random() < 0.3:
            shape &= rng.random((h, w)) < 0.85
        ids[shape] = k
    return ids


@pytest.mark.parametrize("seed", range(4))
def test_fill_holes_follows_its_rule_on_random_maps(seed):
    rng = np.random.default_rng(seed)
    shared = 0
    for _ in range(40):
        ids = _random_map(rng)
        outside = rng.random(ids.shape) < 0.01 if rng.random() < 0.2 else None
        got = fill_object_holes(ids, outside=outside)
        assert got.dtype == np.int32
        expected, joined = _by_rule(ids, outside)
        np.testing.assert_array_equal(got, expected)
        shared += joined
    assert shared > 0  # some filled regions touched several objects


def test_a_fragment_in_a_hole_leaves_the_gap_to_the_ring():
    ids = np.zeros((11, 11), np.int32)
    ids[1:10, 1:10] = 1
    ids[2:9, 2:9] = 0  # the ring's hole
    ids[5, 5] = 2  # a fragment inside it
    got = fill_object_holes(ids)
    assert (got[2:9, 2:9][ids[2:9, 2:9] == 0] == 1).all() and got[5, 5] == 2
