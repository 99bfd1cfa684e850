"""Object ids in the raster order of their first pixels, read whole and streamed (s49 ids)."""

import numpy as np

from unetlab.inference.objects import raster_numbered
from unetlab.inference.slide_objects import first_places, raster_lookup


def test_raster_numbered_orders_objects_by_their_first_pixel():
    ids = np.array([[0, 0, 3, 3], [2, 0, 3, 0], [2, 5, 5, 0]], np.int32)
    out = raster_numbered(ids)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1, 1], [2, 0, 1, 0], [2, 3, 3, 0]])


def test_windows_give_the_ids_of_the_page_read_whole():
    """Provisional ids (gaps, any order) seen window by window get the ids 1..n that
    raster_numbered gives the page: the least first pixel over the windows decides."""
    rng = np.random.default_rng(0)
    page = rng.choice([0, 7, 40, 9, 1000], size=(9, 11)).astype(np.int64)
    windows = [(slice(r, r + 4), slice(c, c + 5)) for r in range(0, 9, 4) for c in (0, 5, 10)]
    found = [first_places(page[r, c], r, c, page.shape[1]) for r, c in windows]
    keys, values = raster_lookup(found)
    assert keys.tolist() == [0, 7, 9, 40, 1000] and values[0] == 0
    np.testing.assert_array_equal(values[np.searchsorted(keys, page)], raster_numbered(page))


def test_the_id_lookup_keeps_the_staged_dtype_and_numbers_in_the_least_one():
    """A page's provisional -> final id lookup was built as int64 pairs: twice the memory
    of a 3072^2 page's million ids (84.0 -> 67.2 MB peak, by tracemalloc); the keys now
    keep the staged dtype (uint32), the values the least id dtype."""
    top = np.iinfo(np.uint32).max  # past int32: not wrapped
    rng = np.random.default_rng(0)
    page = rng.choice([0, 7, 40, 9, top], size=(9, 11)).astype(np.uint32)
    windows = [(slice(r, r + 4), slice(c, c + 5)) for r in range(0, 9, 4) for c in (0, 5, 10)]
    found = [first_places(page[r, c], r, c, page.shape[1]) for r, c in windows]
    keys, values = raster_lookup(found)
    assert (keys.dtype, values.dtype) == (np.uint32, np.uint16)
    assert keys.tolist() == [0, 7, 9, 40, top]
    at = np.searchsorted(keys, page)  # each pixel's id's rank: the same first pixels
    np.testing.assert_array_equal(values[at], raster_numbered(at))
