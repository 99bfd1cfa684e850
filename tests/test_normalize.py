"""Per-image normalisation statistics: exact for every pixel type, chunk by chunk."""

import numpy as np
import pytest

from unetlab.data.normalize import image_stats


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int8, np.int16, np.int32, np.float32])
@pytest.mark.parametrize("channels", [1, 3])
def test_per_image_stats_equal_numpy_for_every_pixel_type(dtype, channels):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        image = rng.integers(max(info.min, -5000), min(info.max, 60000), (37, 23, channels),
                             dtype=dtype, endpoint=True)  # fmt: skip
    else:
        image = rng.normal(3, 2, (37, 23, channels)).astype(dtype)
    mean, std = image_stats(image, {"mode": "per_image"}, chunk_rows=5)  # 8 chunks
    flat = image.astype(np.float64).reshape(-1, channels)
    np.testing.assert_allclose(mean, flat.mean(0), rtol=1e-12)
    np.testing.assert_allclose(std, flat.std(0), rtol=1e-9)
    assert mean.shape == std.shape == (channels,)


def test_a_flat_image_gets_a_positive_std():
    mean, std = image_stats(np.full((8, 8), 7, np.uint8), {"mode": "per_image"})
    assert mean.tolist() == [7.0] and std[0] > 0
