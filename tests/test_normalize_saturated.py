"""Percentiles that leave out saturated pixels (the dtype's maximum: an SEM's burned-in data
bar text at 65535), in memory and streamed alike; old checkpoints' specs as before (audit s31
grains 1: 0.25% of such pixels squeezed every grain into 0-0.05 and no object was found)."""

import numpy as np
import pytest

from unetlab.data.normalize import (
    check_keys,
    image_stats,
    normalization_formula,
    percentile_stats,
)
from unetlab.errors import UnetlabError
from unetlab.plan.normalization import PERCENTILE_SPEC

OLD = {"mode": "percentile", "low": 1.0, "high": 99.8}
NEW = {**OLD, "ignore_saturated": True}
CAMERA = {**NEW, "camera_ceiling": True}  # the plan's since s35


class Rows:
    """An image that only slices by rows (a streamed slide's reader)."""

    def __init__(self, image):
        self.image, self.shape, self.dtype, self.ndim = image, image.shape, image.dtype, image.ndim

    def __getitem__(self, rows):
        return self.image[rows]


def grains(dtype=np.uint16, share=0.004, seed=0) -> np.ndarray:
    """A 12-bit image in a 16-bit container (200-3200) with ``share`` of its pixels at the
    dtype's maximum."""
    rng = np.random.default_rng(seed)
    image = rng.integers(200, 3201, (120, 130)).astype(dtype)
    flat = image.reshape(-1)
    flat[rng.choice(flat.size, int(share * flat.size), replace=False)] = np.iinfo(dtype).max
    return image


@pytest.mark.parametrize("dtype", [np.uint16, np.uint8, np.int16, np.int32])
def test_saturated_pixels_are_left_out_of_the_percentiles(dtype):
    image = grains(dtype) if dtype != np.uint8 else (grains() // 16).astype(np.uint8)
    top = np.iinfo(dtype).max
    if dtype == np.uint8:
        image[:2] = top
    kept = image[image < top].astype(np.float64)
    lo, hi = np.percentile(kept, [1.0, 99.8])
    mean, std = image_stats(image, NEW)
    assert mean[0] == pytest.approx(lo) and std[0] == pytest.approx(hi - lo)
    streamed = image_stats(Rows(image), NEW, chunk_rows=7)
    if dtype != np.int32:  # 32-bit streamed: a sample of rows (here every row)
        assert np.array_equal(streamed[0], mean) and np.array_equal(streamed[1], std)
    assert hi < 3201  # the grains fill 0-1, not 0-0.05
    camera = image_stats(image, CAMERA)  # the dtype's maximum is the ceiling there too
    assert np.array_equal(camera[0], mean) and np.array_equal(camera[1], std)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_an_old_checkpoints_spec_keeps_the_saturated_pixels_exactly(dtype):
    image = grains(dtype)
    lo, hi = np.percentile(image.astype(np.float64), [1.0, 99.8])
    mean, std = image_stats(image, OLD)
    assert mean[0] == lo and std[0] == hi - lo  # exactly as before the key
    assert hi == np.iinfo(dtype).max  # what squeezed the grains
    assert np.array_equal(image_stats(image, {**OLD, "ignore_saturated": False})[1], std)


def test_an_image_all_saturated_or_float_is_left_as_it_is():
    full = np.full((8, 8), 65535, np.uint16)
    assert np.array_equal(
        percentile_stats(full, 1, 99.8, ignore_saturated=True), percentile_stats(full, 1, 99.8)
    )
    floats = np.linspace(0, 1, 64).reshape(8, 8).astype(np.float32)
    assert np.array_equal(image_stats(floats, NEW)[1], image_stats(floats, OLD)[1])


def test_each_channel_leaves_out_its_own_saturated_pixels():
    image = np.stack([grains(seed=1), grains(share=0, seed=2)], axis=-1)
    mean, std = image_stats(image, NEW)
    for c in range(2):
        channel = image[..., c]
        lo, hi = np.percentile(channel[channel < 65535].astype(float), [1.0, 99.8])
        assert (mean[c], std[c]) == pytest.approx((lo, hi - lo))


def test_the_key_is_checked_planned_and_said():
    assert check_keys(dict(NEW)) == NEW
    with pytest.raises(UnetlabError, match="ignore_saturated is true or false"):
        check_keys({**OLD, "ignore_saturated": "yes"})
    with pytest.raises(UnetlabError, match="does not apply to mode per_image"):
        check_keys({"mode": "per_image", "ignore_saturated": True})
    assert PERCENTILE_SPEC == CAMERA
    assert "but its pixels at the integer dtype's maximum" in normalization_formula(NEW)
    assert "but its pixels at the channel's ceiling" in normalization_formula(CAMERA)
    assert "dtype's maximum" not in normalization_formula(OLD)
    assert check_keys(dict(CAMERA)) == CAMERA
    with pytest.raises(UnetlabError, match="camera_ceiling is true or false"):
        check_keys({**NEW, "camera_ceiling": 1})
    with pytest.raises(UnetlabError, match="camera_ceiling applies with ignore_saturated: true"):
        check_keys({**OLD, "camera_ceiling": True})


def camera(share=0.01, seed=0, dtype=np.uint16) -> np.ndarray:
    """A 12-bit camera's image (200-3200) in a wider container with ``share`` of its pixels
    clipped at the camera's ceiling, 4095."""
    image = grains(dtype, share=0, seed=seed)
    rng = np.random.default_rng(seed + 10)
    flat = image.reshape(-1)
    flat[rng.choice(flat.size, int(share * flat.size), replace=False)] = 4095
    return image


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_a_12_bit_cameras_clipped_pixels_are_left_out(dtype):
    # audit s33 plates: a 12-bit camera saved as 16-bit clips at 4095, not at 65535; the
    # same rule as predict's saturated objects (unetlab.data.ceiling)
    image = camera(dtype=dtype)
    lo, hi = np.percentile(image[image < 4095].astype(np.float64), [1.0, 99.8])
    mean, std = image_stats(image, CAMERA)
    assert (mean[0], std[0]) == pytest.approx((lo, hi - lo))
    assert hi < 3201
    if dtype == np.uint16:  # streamed: its histogram, the same
        streamed = image_stats(Rows(image), CAMERA, chunk_rows=7)
        assert np.array_equal(streamed[0], mean) and np.array_equal(streamed[1], std)
    # a checkpoint's spec without camera_ceiling (s31-s34: ignore_saturated alone, or
    # older: neither) normalises its images exactly as it did when it trained
    kept = np.percentile(image.astype(np.float64), [1.0, 99.8])
    for spec in (NEW, OLD):
        assert image_stats(image, spec)[1][0] == kept[1] - kept[0] == 4095 - kept[0]


def test_a_maximum_of_4095_that_does_not_pile_up_is_kept():
    image = grains(share=0)
    image[:2, :2] = 4095  # 4 px: too few to be a camera's ceiling
    lo, hi = np.percentile(image.astype(np.float64), [1.0, 99.8])
    assert tuple(v[0] for v in image_stats(image, CAMERA)) == pytest.approx((lo, hi - lo))
    two = np.stack([camera(seed=1), image], axis=-1)  # each channel its own ceiling
    mean, std = image_stats(two, CAMERA)
    assert std[1] == pytest.approx(hi - lo) and std[0] < 3201
