"""A channel whose percentiles meet (zeros but for a few bright pixels: a sparse stain, a
cirrus band, saturated cloud tops) is scaled by its span, not by the 1e-6 floor, which made
inputs of 3e9 (audit s37 bands); a constant channel still normalises to 0."""

import numpy as np
import pytest

from unetlab.data.normalize import normalize, percentile_stats
from unetlab.plan.normalization import PERCENTILE_SPEC


class Rows:
    """An image that only slices by rows (a streamed slide's reader)."""

    def __init__(self, image):
        self.image, self.shape, self.dtype, self.ndim = image, image.shape, image.dtype, image.ndim

    def __getitem__(self, rows):
        return self.image[rows]


def scene(dtype, bright) -> np.ndarray:
    """Three bands of 128 x 128: a textured one, one of zeros with 16 pixels (0.1%) at
    ``bright``, and a constant one."""
    rng = np.random.default_rng(0)
    image = np.zeros((128, 128, 3), dtype=dtype)
    image[..., 0] = rng.integers(500, 3000, (128, 128)).astype(dtype)
    image[:4, :4, 1] = bright
    return image


@pytest.mark.parametrize(
    ("dtype", "bright"),
    [(np.uint16, 3000), (np.uint16, 65535), (np.uint8, 200), (np.float32, 0.4)],
)
def test_a_sparse_band_is_scaled_by_its_span(dtype, bright):
    x = normalize(scene(dtype, bright), dict(PERCENTILE_SPEC))
    assert np.abs(x[0]).max() < 1.1
    assert x[1].max() == pytest.approx(1.0) and x[1].min() == 0.0
    assert not np.any(x[2])


def test_a_streamed_float_sparse_band_too():
    image = scene(np.float32, 0.4)
    low, width = percentile_stats(Rows(image), 1.0, 99.8, chunk_rows=16)
    assert width[1] == pytest.approx(0.4) and width[2] == pytest.approx(1e-6)
    assert low[1] == 0.0


def test_the_exported_formula_says_the_span():
    from unetlab.data.normalize import normalization_formula

    text = normalization_formula(dict(PERCENTILE_SPEC))
    assert "or where that is at most 1e-06" in text and "max - min" in text
