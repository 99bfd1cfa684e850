"""objects_3d's seeds: unetlab.inference.lean.h_maxima_float marks the voxels
scikit-image's h_maxima marks (it replaced it: h_maxima held about 130 bytes a voxel of a group
of touching nuclei), on random float images, smoothed ones, ones with plateaus and ones whose
values differ by a few units of rounding (h_maxima's allowance for it)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import h_maxima

import unetlab.inference.lean
from unetlab.inference.lean import distance_edt, h_maxima_float


def _images(rng: np.random.Generator):
    """(image, h) pairs of several kinds and shapes."""
    for shape in [(1, 1, 1), (1, 9, 7), (5, 12, 10), (9, 16, 16)]:
        noise = rng.random(shape)
        yield noise, 0.1
        yield ndimage.gaussian_filter(noise, 1.0), 0.02
        yield np.round(noise * 6) / 6, 1 / 6  # plateaus, and steps of exactly h
        yield 1e6 + ndimage.gaussian_filter(noise, 1.0), 0.02  # large values: coarse rounding
        # neighbours a few units of rounding apart: the allowance decides which is a maximum
        ulps = rng.integers(-3, 4, shape)
        yield np.nextafter(2.0, 3.0 * (ulps > 0)) + np.spacing(2.0) * ulps, 0.5
        yield 2.0 + np.spacing(2.0) * ulps, 0.5


@pytest.mark.parametrize("slab", [1, 2**20])  # a plane at a time, or all
def test_h_maxima_float_marks_what_skimage_marks(monkeypatch, slab):
    monkeypatch.setattr(unetlab.inference.lean, "SLAB", slab)
    rng = np.random.default_rng(7)
    cases = list(_images(rng))
    differ = [
        (k, image.shape, h)
        for k, (image, h) in enumerate(cases)
        if not np.array_equal(h_maxima_float(image, h), h_maxima(image, h).astype(bool))
    ]
    assert not differ, differ
    assert sum(h_maxima_float(image, h).sum() > 1 for image, h in cases) >= 8  # not all trivial


def test_h_maxima_float_with_a_maximum_h_above_the_range_or_wide():
    """A plateau wider than the first box around a candidate, and an h above the range."""
    image = np.zeros((3, 40, 40))
    image[1, 2:38, 2:38] = 1.0
    image[1, 20, 20] = 1.5  # the highest, 0.5 above a plateau of 1 joined to it
    assert np.array_equal(h_maxima_float(image, 0.4), h_maxima(image, 0.4).astype(bool))
    assert np.array_equal(h_maxima_float(image, 0.6), h_maxima(image, 0.6).astype(bool))
    assert not h_maxima_float(image, 2.0).any()
    with pytest.raises(ValueError):
        h_maxima_float(image.astype(np.float32), 0.4)


def test_single_voxel_peaks_are_settled_without_a_box_each(monkeypatch):
    """A lattice of 1,024 single-voxel peaks of many heights: one box labelled per peak took
    0.70 s against skimage's 0.01 (8 x 64 x 64); settled at once, the same voxels."""
    image = np.zeros((8, 32, 32))
    image[::2, ::2, ::2] = 1 + np.random.default_rng(0).random((4, 16, 16))
    image[1, 1, 1] = image[0, 0, 0]  # a peak of two voxels, beside 8 others: boxes still
    boxes = []
    alone = unetlab.inference.lean._alone_above
    monkeypatch.setattr(
        unetlab.inference.lean, "_alone_above", lambda *a: boxes.append(a[1]) or alone(*a)
    )
    assert np.array_equal(h_maxima_float(image, 0.5), h_maxima(image, 0.5).astype(bool))
    assert 1 <= len(boxes) <= 9  # 1,018 before


@pytest.mark.parametrize("slab", [1, 2**20])
def test_distance_edt_gives_scipys_values(monkeypatch, slab):
    """objects_3d's distance: scipy's distance_transform_edt, float64, bit for bit."""
    monkeypatch.setattr(unetlab.inference.lean, "SLAB", slab)
    rng = np.random.default_rng(3)
    # sparse background: far voxels, whose squares summed in another order round otherwise
    for shape, sampling in [((6, 15, 13), (2.0, 0.5, 0.5)), ((8, 24, 24), (0.7, 0.3, 0.11))]:
        inside = rng.random(shape) > 0.02
        expected = ndimage.distance_transform_edt(inside, sampling=sampling)
        assert np.array_equal(distance_edt(inside, sampling), expected)


def _small_peaks(rng: np.random.Generator, shape=(10, 24, 24)) -> np.ndarray:
    """Peaks of 1-4 voxels of random heights on a lattice, some voxels a little or h lower,
    some beside the image's sides or joined to the next peak."""
    image = np.zeros(shape)
    for z, y, x in np.argwhere(np.ones((4, 6, 6), bool)) * (3, 4, 4):
        value = 1 + rng.random()
        for step in rng.integers(0, 3, (rng.integers(1, 5), 3)):
            at = tuple(np.minimum((z, y, x) + step, np.array(shape) - 1))
            image[at] = value - rng.choice([0, 0.1, 0.6])
    return image


def test_small_peaks_are_settled_in_small_boxes_at_once(monkeypatch):
    """Peaks of a few voxels: one box labelled each took 8-12x skimage's time on a lattice
    of 2-voxel ones (16 x 128 x 128: 1.0 s against 0.08); settled in 5 x 5 x 5 boxes at once
    where they end inside them, the same voxels as skimage's."""
    image = np.zeros((8, 32, 32))
    value = 1 + np.random.default_rng(0).random((4, 8, 8))
    image[::2, ::4, ::4], image[::2, ::4, 1::4] = value, value - 0.1  # 2-voxel peaks
    image[1, 1, 1] = image[0, 0, 0]  # joins 8 peaks: boxes still
    boxes = []
    alone = unetlab.inference.lean._alone_above
    monkeypatch.setattr(
        unetlab.inference.lean, "_alone_above", lambda *a: boxes.append(a[1]) or alone(*a)
    )
    assert np.array_equal(h_maxima_float(image, 0.5), h_maxima(image, 0.5).astype(bool))
    assert len(boxes) <= 8  # 255 before
    ties = np.zeros((3, 8, 8))  # a voxel's shifted value at, or an ulp over, its neighbour's level
    ties[1, 2, 2], ties[1, 2, 3] = 2.0, 2.0 + 9 * np.spacing(2.0)
    ties[1, 5, 5], ties[1, 5, 6] = 2.0, 2.0 + 10 * np.spacing(2.0)
    assert h_maxima(ties, 0.5)[1, 2, 2] and not h_maxima(ties, 0.5)[1, 5, 5]
    rng = np.random.default_rng(5)
    for image in [ties, *(_small_peaks(rng) for _ in range(6))]:
        for h in (0.5, 0.05):
            assert np.array_equal(h_maxima_float(image, h), h_maxima(image, h).astype(bool))
    assert len(boxes) >= 10  # some peaks met others beyond their boxes


def test_a_shifted_value_equal_to_the_level_leaves_a_plateau_a_maximum():
    """A plateau wider than its small boxes (so :func:`lean._alone_above` settles it) joined
    to a higher voxel whose shifted value (3 - h, less the allowance) is exactly the
    plateau's level: the reconstruction there equals the level, the plateau still lies h
    above it, so h_maxima marks it; only a shifted value above the level rules it out."""
    h, top, plateau = 0.5, 3.0, 2.999999999999994
    shifted = top - h - unetlab.inference.lean.ALLOWANCE * top
    assert plateau - shifted >= h and plateau - np.nextafter(shifted, 4.0) < h  # its level
    image = np.zeros((1, 3, 14))
    image[0, 1, 1:13] = plateau
    image[0, 1, 1] = top
    expected = h_maxima(image, h).astype(bool)
    assert expected[0, 1, 1:13].all()
    assert np.array_equal(h_maxima_float(image, h), expected)


def test_plateaus_are_settled_a_box_each_set_at_once(monkeypatch):
    """Flat tops of 2 x 4 x 4 voxels: one box labelled per plateau took 5x skimage's time
    (16 x 128 x 128: 0.40 s against 0.08); each set of joined candidates of one level is
    settled by its middle one's box, all at once. The same voxels as skimage's, also where
    plateaus meet the image's sides, are cut by them, or hold candidates an ulp apart."""
    boxes = []
    alone = unetlab.inference.lean._alone_above
    monkeypatch.setattr(
        unetlab.inference.lean, "_alone_above", lambda *a: boxes.append(a[1]) or alone(*a)
    )
    image = np.kron(np.random.default_rng(0).random((4, 8, 8)), np.ones((2, 4, 4)))
    for h, most in [(0.1, 12), (0.3, 8)]:  # 129 and 58 boxes before
        boxes.clear()
        assert np.array_equal(h_maxima_float(image, h), h_maxima(image, h).astype(bool))
        assert len(boxes) <= most
    rng = np.random.default_rng(11)
    for shape in [(5, 13, 11), (1, 30, 27), (7, 7, 9)]:
        for block in [(2, 4, 4), (1, 3, 5), (3, 2, 2)]:
            small = rng.random(tuple(-(-s // b) for s, b in zip(shape, block)))
            image = np.kron(np.round(small * 4) / 4, np.ones(block))[: shape[0], : shape[1]]
            image = np.ascontiguousarray(image[..., : shape[2]])
            image[rng.random(shape) < 0.05] += np.spacing(1.0)  # an ulp over the plateau
            for h in (0.25, 0.1):
                assert np.array_equal(h_maxima_float(image, h), h_maxima(image, h).astype(bool))
