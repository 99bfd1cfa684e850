"""faint_objects (an instance model's objects whose interior stays under the least peak)
from the pixels that reach it: the objects ``ndimage.maximum`` found, without sorting every
pixel (a wide slide's band window's largest temporaries)."""

import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

from unetlab.inference.objects import faint_objects


def _reference(ids, interior, least):
    """faint_objects as it was (session 49): each object's maximum by ``ndimage.maximum``."""
    present = np.flatnonzero(np.bincount(ids.ravel().astype(np.int64))[1:]) + 1
    peak = np.asarray(ndimage.maximum(interior, ids, present))
    return present[peak < least]


@pytest.mark.parametrize("seed", range(6))
def test_the_faint_objects_are_those_whose_maximum_is_under_the_least(seed):
    """Values rounded (ties at the least itself), ids with gaps, NaN pixels in some."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(4, 90, 2))
    ids, _ = ndimage.label(rng.random(shape) < 0.45)
    ids = (ids * rng.integers(1, 4)).astype([np.int32, np.int64, np.uint16][seed % 3])
    interior = (np.round(rng.random(shape) * 8) / 8).astype(np.float32)
    if seed % 2:
        interior[rng.random(shape) < 0.01] = np.nan
    for least in (0.5, 0.875, 1.0, 0.0):
        found = faint_objects(ids, interior, least)
        assert found.tolist() == _reference(ids, interior, least).tolist()


def test_faint_objects_hold_under_4_bytes_a_pixel():
    """1024 x 1024 px of 10,000-odd objects: ndimage.maximum's sort held 19 B a pixel, this 3."""
    rng = np.random.default_rng(0)
    ids, _ = ndimage.label(rng.random((1024, 1024)) < 0.4)
    interior = rng.random((1024, 1024)).astype(np.float32)
    tracemalloc.start()
    try:
        faint = faint_objects(ids, interior, 0.9)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert faint.tolist() == _reference(ids, interior, 0.9).tolist()
    assert peak / ids.size < 4
