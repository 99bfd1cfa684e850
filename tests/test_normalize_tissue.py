"""per_image over the tissue only (``{"mode": "per_image", "tissue": true}``): a crop and the
same crop inside a slide of glass are scaled alike, and each stain batch's colours are
standardised (audit s32 histo 3)."""

import numpy as np
import pytest

from unetlab.data.normalize import (
    GLASS,
    check_keys,
    image_stats,
    normalization_formula,
    normalize,
)
from unetlab.errors import UnetlabError

TISSUE = {"mode": "per_image", "tissue": True}


def _crop(seed=0, shape=(32, 40, 3)):
    return np.random.default_rng(seed).integers(60, 200, shape, dtype=np.uint8)


def test_a_crop_inside_glass_is_scaled_as_the_crop_alone():
    crop = _crop()
    slide = np.full((200, 180, 3), 243, np.uint8)  # mostly glass, as a whole slide
    slide[50:82, 70:110] = crop
    np.testing.assert_allclose(
        normalize(slide, TISSUE)[:, 50:82, 70:110], normalize(crop, TISSUE), atol=1e-5
    )
    plain = normalize(slide, {"mode": "per_image"})[:, 50:82, 70:110]
    assert np.abs(plain - normalize(crop, TISSUE)).max() > 1  # all pixels: the glass rules


def test_tissue_statistics_leave_glass_out_in_chunks_and_fall_back_on_glass_alone():
    crop = _crop(1, (50, 30, 3))
    with_glass = np.concatenate([crop, np.full((20, 30, 3), 250, np.uint8)])
    mean, std = image_stats(with_glass, TISSUE, chunk_rows=7)
    pixels = crop.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(mean, pixels.mean(0))
    np.testing.assert_allclose(std, pixels.std(0))
    glass = np.full((20, 20, 3), 240, np.uint8)
    glass[0, 0] = 0  # one dark speck: under 1% tissue, all pixels count
    np.testing.assert_allclose(image_stats(glass, TISSUE)[0], glass.reshape(-1, 3).mean(0))
    assert GLASS * 255 < 243  # scanners' glass (243) is glass
    grey = _crop(2, (16, 16)).astype(np.float32)  # floats: all pixels, as per_image
    np.testing.assert_array_equal(
        image_stats(grey, TISSUE)[0], image_stats(grey, {"mode": "per_image"})[0]
    )


def test_tissue_is_a_per_image_key_said_in_the_formula():
    assert check_keys(dict(TISSUE)) == TISSUE
    with pytest.raises(UnetlabError, match="tissue is true or false"):
        check_keys({"mode": "per_image", "tissue": "yes"})
    with pytest.raises(UnetlabError, match="does not apply to mode fixed"):
        check_keys({"mode": "fixed", "mean": [1], "std": [1], "tissue": True})
    assert "tissue pixels" in normalization_formula(TISSUE)
    assert "over all pixels" in normalization_formula({"mode": "per_image"})
