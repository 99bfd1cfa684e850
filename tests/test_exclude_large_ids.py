"""drop_mostly_excluded (evaluate --exclude-rows, an image's nodata) of object ids far above
the pixel count: it counted each object's pixels in arrays as long as the largest id, so
ids near 4e8 (which evaluate --gt-instances takes: below 2**31) of a 40 x 48 image took
1 min and 6.5 GB; larger ones a MemoryError, and uint64 ids a casting error."""

import numpy as np
import pytest

from unetlab.data.exclude import drop_mostly_excluded


def _ids(dtype, big: int) -> np.ndarray:
    ids = np.zeros((10, 4), dtype)
    ids[0:3, :2] = big  # away from the bar: kept
    ids[4:9, 2:] = big - 1  # mostly in the bar (rows 6..): dropped
    ids[5:7, :2] = 3  # half in the bar: kept, its pixels there 0
    return ids


@pytest.mark.parametrize(
    ("dtype", "big"), [(np.int64, 2**40), (np.uint64, 2**64 - 1), (np.uint32, 7)]
)
def test_large_ids_are_dropped_as_their_small_equivalents(dtype, big):
    bar = np.zeros((10, 4), bool)
    bar[6:] = True
    ids = _ids(dtype, big)
    out = drop_mostly_excluded(ids, bar)
    assert out.dtype == ids.dtype
    assert sorted(np.unique(out).tolist()) == [0, 3, big]
    assert (out[bar] == 0).all() and (out[5, :2] == 3).all() and (out[0:3, :2] == big).all()


def test_ids_without_background_keep_their_first_object():
    ids = np.full((4, 4), 2**40, np.int64)
    ids[:, :2] = 2**41
    bar = np.zeros((4, 4), bool)
    bar[3] = True
    out = drop_mostly_excluded(ids, bar)
    assert (out[:3] == ids[:3]).all() and (out[3] == 0).all()
