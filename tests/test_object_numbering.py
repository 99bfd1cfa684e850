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
