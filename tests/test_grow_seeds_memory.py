"""grow_seeds (the instance mode's watershed) with int32 markers: the ids of the int64 markers
it had, in about half the memory."""

import tracemalloc

import numpy as np
import pytest
from scipy import ndimage
from skimage.segmentation import watershed

from unetlab.data.labels import grow_seeds
from unetlab.data.region_watershed import unseeded_numbered


def _reference(elevation, seeds, mask, *, connectivity=1, min_seed_area=1, line=False):
    """grow_seeds as it was (session 41): int64 markers, the regions' labels held through;
    each region of ``mask`` flooded alone over the whole image (its ties its own, s59), on
    :func:`_priorities` (s59 fixF: grow_seeds floods once, by the same order)."""
    structure = ndimage.generate_binary_structure(2, connectivity)
    markers, _ = ndimage.label(seeds & mask, structure)
    small = np.bincount(markers.ravel()) < min_seed_area
    small[0] = False
    markers[small[markers]] = 0
    regions, n_regions = ndimage.label(mask, structure)
    seeded = np.zeros(n_regions + 1, bool)
    seeded[regions[markers > 0]] = True
    alone = (regions > 0) & ~seeded[regions]
    markers = markers.astype(np.int64)
    markers[alone] = regions[alone] + int(markers.max())
    out = np.zeros(mask.shape, np.int64)
    priorities = _priorities(elevation, markers > 0)
    for k in range(1, n_regions + 1):
        own = regions == k
        grown = watershed(
            priorities,
            np.where(own, markers, 0),
            mask=own,
            connectivity=connectivity,
            watershed_line=line,
        )
        out[own] = grown[own]
    return out


def _priorities(elevation, seeded):
    """The flood's tie rule by ``np.unique`` of rows: (value's dense level, 0 for a marker
    pixel, its raster index; or 1 and 0 for another pixel): markers of one value alone, in
    raster order, before the other pixels of that value, which share a rank (skimage's
    age, first pushed first popped, orders those, as in any window)."""
    level = np.unique(elevation, return_inverse=True)[1].reshape(-1)
    index = np.where(seeded.reshape(-1), np.arange(elevation.size), 0)
    rows = np.stack([level, ~seeded.reshape(-1), index], axis=1).astype(np.int64)
    rank = np.unique(rows, axis=0, return_inverse=True)[1]
    return rank.reshape(elevation.shape).astype(float)


def _interior(rng, shape, levels):
    """A nuclei-like interior map: smoothed noise in [0, 1], rounded to ``levels`` steps
    (None: not rounded) so that equal values, the watershed's ties, are common."""
    p = ndimage.gaussian_filter(rng.random(shape), rng.uniform(1.5, 4))
    p = (p - p.min()) / (np.ptp(p) or 1.0)
    return (p if levels is None else np.round(p * levels) / levels).astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_the_ids_are_the_int64_markers_ones(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(5, 160, 2))
    interior = _interior(rng, shape, [None, 4, 16][seed % 3])
    foreground = interior >= rng.uniform(0.2, 0.5)
    seeds = interior >= rng.uniform(0.5, 0.8)
    for connectivity, line, least in ((1, False, 4), (2, False, 1), (1, True, 10)):
        how = dict(connectivity=connectivity, min_seed_area=least, line=line)
        found = grow_seeds(-interior, seeds, foreground, **how)
        assert np.array_equal(found, _reference(-interior, seeds, foreground, **how))
        assert found.dtype == np.int32


def test_the_watershed_holds_under_33_bytes_a_pixel():
    """1024 x 1024 px of nuclei-like seeds: int64 markers peaked at 47 B a pixel (12 MP of
    21,500 nuclei: 567 MB), int32 ones at 26 (315 MB); the flood's ranks beside them 31.9
    here, where the foreground is one region across the image, flooded whole."""
    rng = np.random.default_rng(0)
    interior = _interior(rng, (1024, 1024), None)
    foreground, seeds, elevation = interior >= 0.3, interior >= 0.6, -interior
    tracemalloc.start()
    try:
        grow_seeds(elevation, seeds, foreground, min_seed_area=4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / interior.size < 33


def test_unseeded_regions_past_int32_are_numbered_in_int64():
    markers = np.zeros((3, 7), np.int32)
    markers[1, 1] = np.iinfo(np.int32).max - 1  # a seed numbered near int32's end
    mask = np.zeros((3, 7), bool)
    mask[1, 1] = mask[1, 3] = mask[1, 5] = True  # two regions with no seed
    regions, n_regions = ndimage.label(mask, ndimage.generate_binary_structure(2, 1))
    out, top = unseeded_numbered(markers, regions, n_regions)
    first = np.iinfo(np.int32).max - 1
    assert out.dtype == np.int64
    assert out[1, [1, 3, 5]].tolist() == [first, first + 2, first + 3]
    assert top == out.max() == first + 3
