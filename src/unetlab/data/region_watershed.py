"""A seeded watershed flooded region by region, so that its ties depend on the region alone.

scikit-image's ``watershed`` pushes every marker pixel on one queue at the same priority
(-inf, age 0) and pops them in the order its binary heap's layout gives, a function of all
the image's markers: which seed first claims a pixel at a tie (equal values, or a pixel
beside two seeds) depended on what else the image held. A slide's band windows and column
blocks are crops of one image holding other objects, so the same clump split differently
(bands of 10 rows or of 23) moved pixels between touching objects (1-4 px a 120 x 90 image
of 25 touching one-hot discs, ``tests/test_region_watershed.py``).

Each connected region of the mask is flooded alone, in its own bounding box: a region with
one marker needs no flood (its pixels are that marker's, as the whole flood gives them); one
with several is flooded by ``watershed`` over its own pixels and markers, whose order in the
box is their raster order wherever the region lies. The ids are then a function of the
region's pixels and values only: the same in any window that holds the region whole.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def watershed_by_region(
    elevation: np.ndarray,
    markers: np.ndarray,
    mask: np.ndarray,
    *,
    connectivity: int = 1,
    line: bool = False,
) -> np.ndarray:
    """``skimage.segmentation.watershed(elevation, markers, mask=mask, connectivity=
    connectivity, watershed_line=line)`` with each ``connectivity``-connected region of
    ``mask`` flooded alone, and each region holding no marker an object of its own
    (:func:`unseeded_numbered`): (H, W) ids in ``markers``' dtype (int64 where those
    numbers pass int32's), 0 outside ``mask`` (and on the lines).

    ``markers`` (int, of ``ndimage.label``: each marker lies in one region) is modified.
    In place, and the watershed's copies of one box at a time (its float64 values, padded
    markers and mask), the image's region labels let go before the largest box's flood:
    a region as large as the image holds 27 B a pixel, as one flood of the image did
    (``tests/test_grow_seeds_memory.py``)."""
    structure = ndimage.generate_binary_structure(markers.ndim, connectivity)
    regions, n_regions = ndimage.label(mask, structure)
    markers = unseeded_numbered(markers, regions, n_regions)
    lone, many = _lone_markers(markers, regions)
    single = lone[regions]
    np.copyto(markers, single, where=single > 0)
    del single
    boxes = ndimage.find_objects(regions)
    floods = sorted((_area(boxes[k - 1]), k) for k in many.tolist())
    for i, (_, k) in enumerate(floods):
        box = boxes[k - 1]
        own = regions[box] == k
        if i == len(floods) - 1:
            del regions  # the largest flood, with no labels of the whole image beside it
        _flood(elevation[box], markers[box], own, connectivity, line)
    return markers


def unseeded_numbered(markers: np.ndarray, regions: np.ndarray, n_regions: int) -> np.ndarray:
    """``markers`` (int32, modified) with each of the ``n_regions`` ``regions`` of the
    mask (labelled 1..n) that holds none a marker of its own, numbered after every marker
    in the raster order of its first pixel (int64 where those numbers pass int32's)."""
    seeded = np.zeros(n_regions + 1, bool)
    seeded[regions[markers > 0]] = True
    alone = (regions > 0) & ~seeded[regions]
    first = int(markers.max(initial=0))
    if first + n_regions > np.iinfo(np.int32).max:
        markers = markers.astype(np.int64)
    markers[alone] = regions[alone].astype(markers.dtype) + first
    return markers


def _flood(elevation, markers, own, connectivity: int, line: bool) -> None:
    """Flood the region ``own`` (bool, of a box) from its ``markers`` (of the box, modified:
    its pixels take the ids) over ``elevation``."""
    from skimage.segmentation import watershed

    grown = watershed(elevation, markers, mask=own, connectivity=connectivity, watershed_line=line)
    np.copyto(markers, grown, where=own)


def _area(box: tuple) -> int:
    return math.prod(s.stop - s.start for s in box)


def _lone_markers(markers: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lone, many)``: each region's one marker (0 where it holds none or several), by
    region, in ``markers``' dtype; and the regions that hold several."""
    owner = np.zeros(int(markers.max(initial=0)) + 1, regions.dtype)
    owner[markers] = regions
    owner = owner[1:]
    present = np.flatnonzero(owner)  # each marker label given, by its region
    count = np.bincount(owner[present], minlength=int(regions.max(initial=0)) + 1)
    lone = np.zeros(count.size, markers.dtype)
    lone[owner[present]] = (present + 1).astype(markers.dtype)
    lone[count != 1] = 0
    return lone, np.flatnonzero(count > 1)
