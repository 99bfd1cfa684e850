"""``unseeded_numbered`` (``unetlab.data.region_watershed``) switches its markers to int64 by
the highest number it gives, not by a bound (the highest marker plus every region's count)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from unetlab.data.region_watershed import unseeded_numbered

TOP = int(np.iinfo(np.int32).max)


def _five_regions(first: int, seeded: list[int]) -> tuple[np.ndarray, np.ndarray, int]:
    """Five one-pixel regions in a row (labels 1..5), those of ``seeded`` holding a marker
    numbered ``first`` and below."""
    mask = np.zeros((3, 11), bool)
    mask[1, 1::2] = True
    regions, n_regions = ndimage.label(mask)
    markers = np.zeros(mask.shape, np.int32)
    for i, label in enumerate(seeded):
        markers[regions == label] = first - i
    return markers, regions, n_regions


def test_numbers_that_end_at_int32_s_top_stay_int32():
    """Regions 4 and 5 seeded, 1-3 numbered first+1..first+3 = int32's top: they fit (the
    bound, first + 5, passed it and made a copy in int64 of the whole image)."""
    markers, regions, n_regions = _five_regions(TOP - 3, [5, 4])
    out, top = unseeded_numbered(markers, regions, n_regions)
    assert out.dtype == np.int32 and top == TOP == out.max()
    assert out[1, 1::2].tolist() == [TOP - 2, TOP - 1, TOP, TOP - 4, TOP - 3]


def test_numbers_past_int32_s_top_are_int64():
    markers, regions, n_regions = _five_regions(TOP - 2, [5, 4])
    out, top = unseeded_numbered(markers, regions, n_regions)
    assert out.dtype == np.int64 and top == TOP + 1 == out.max()
    assert out[1, 1::2].tolist() == [TOP - 1, TOP, TOP + 1, TOP - 3, TOP - 2]
