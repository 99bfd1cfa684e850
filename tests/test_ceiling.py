"""One rule for the value a channel saturates at (:mod:`unetlab.data.ceiling`), the same
for an image read whole, its pieces streamed in any order (a slide's objects:
:class:`~unetlab.inference.table_extras.SaturationCounts`) and its histogram (the
percentiles of ``ignore_saturated``)."""

import numpy as np
import pytest

from unetlab.data.ceiling import CeilingTally, plane_ceiling
from unetlab.inference.table_extras import SaturationCounts, image_ceilings, saturated_pixels


def _camera(bits=12, shape=(48, 40), clipped=0.05, seed=0, shift=0):
    """A ``bits``-bit camera's field (uint16, shifted up ``shift`` bits) with ``clipped``
    of its pixels at its ceiling."""
    rng = np.random.default_rng(seed)
    top = (1 << bits) - 1
    image = rng.integers(100, top // 2, shape).astype(np.uint16)
    image[rng.random(shape) < clipped] = top
    return image << shift


def _windows(h, w, seed):
    """Windows covering (h, w) in a random order (a slide's pieces)."""
    rng = np.random.default_rng(seed)
    ys = sorted({0, h, *rng.integers(1, h, 3).tolist()})
    xs = sorted({0, w, *rng.integers(1, w, 3).tolist()})
    out = [(slice(a, b), slice(c, d)) for a, b in zip(ys, ys[1:]) for c, d in zip(xs, xs[1:])]
    return [out[i] for i in rng.permutation(len(out))]


def _streamed(ids, image, n, seed=0):
    counts = SaturationCounts(n, image.dtype, 1 if image.ndim == 2 else image.shape[2])
    for rows, cols in _windows(*ids.shape, seed):
        counts.add(ids[rows, cols], image[rows, cols])
    return counts.pixels()


@pytest.mark.parametrize("bits,shift", [(10, 0), (12, 0), (14, 0), (12, 4), (16, 0)])
def test_pieces_in_any_order_count_as_the_image_read_whole(bits, shift):
    image = _camera(bits, shift=shift)
    assert image_ceilings(image) == [((1 << bits) - 1) << shift]
    ids = np.random.default_rng(1).integers(0, 7, image.shape)
    whole = saturated_pixels(ids, image, 7, image_ceilings(image))
    assert whole.sum() > 0
    for seed in range(4):
        assert np.array_equal(_streamed(ids, image, 7, seed), whole)


def test_a_maximum_that_is_no_ceiling_counts_nothing():
    image = _camera(12, clipped=0)
    image[:2, :2] = 4095  # 4 px at it: too few for a camera's pile
    image[5:7, :] = 4094
    ids = np.ones(image.shape, np.int64)
    assert image_ceilings(image) == [None]
    assert _streamed(ids, image, 2).tolist() == [0, 0]


def test_a_piece_below_the_slides_maximum_is_forgotten_per_channel():
    # a piece's maximum (1023: a 10-bit camera's) is no ceiling once a later piece reaches
    # 4095; each pixel
    # is counted once where it is at the ceiling of several channels
    grey = _camera(12, clipped=0.1)
    rgb = np.stack([grey, np.minimum(grey, 3000), np.where(grey == 4095, 65535, 7)], axis=2)
    rgb = rgb.astype(np.uint16)
    rgb[:, :8, 0] = np.minimum(rgb[:, :8, 0], 1023)
    ids = np.random.default_rng(2).integers(0, 5, grey.shape)
    ceilings = image_ceilings(rgb)
    assert ceilings == [4095, None, 65535]
    whole = saturated_pixels(ids, rgb, 5, ceilings)
    for seed in range(6):
        assert np.array_equal(_streamed(ids, rgb, 5, seed), whole)


def test_many_channels_are_counted_by_their_combinations():
    rng = np.random.default_rng(3)
    planes = [_camera(12, (12, 10), clipped=0.2, seed=s) for s in range(70)]
    image = np.stack(planes, axis=2)  # more channels than an int64 code holds
    image[..., 5] = np.minimum(image[..., 5], 4000)
    ids = rng.integers(0, 4, image.shape[:2])
    whole = saturated_pixels(ids, image, 4, image_ceilings(image))
    assert np.array_equal(_streamed(ids, image, 4), whole)
    few = image[..., :20]  # a code, counted by its values
    assert np.array_equal(
        _streamed(ids, few, 4), saturated_pixels(ids, few, 4, image_ceilings(few))
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
def test_a_histogram_gives_the_pixels_ceiling(dtype):
    for bits, clipped, shift in [(8, 0.1, 0), (12, 0.1, 0), (12, 0.001, 0), (12, 0.1, 4)]:
        image = _camera(bits, clipped=clipped, shift=shift)
        image = image.astype(dtype) if np.iinfo(dtype).max >= image.max() else image // 256
        values, counts = np.unique(image, return_counts=True)
        tally = CeilingTally(image.dtype)
        tally.add_counts(values, counts)
        assert tally.ceiling() == plane_ceiling(image)
    assert CeilingTally(np.uint16).ceiling() is None  # no pixels: none
