"""Paired augmentation: exact geometry, masks keep their labels, image and mask stay aligned."""

import numpy as np
import pytest
from scipy import ndimage

from unetlab.config import AugmentSection
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.transforms import (
    Augment,
    adjust_grey,
    affine_matrix,
    elastic_displacement,
    flip_rot90,
    sample_coords,
    warp,
)

EVERYTHING = Augment(
    elastic=True,
    rotate=30.0,
    shift=6.0,
    brightness=0.2,
    contrast=0.2,
    gamma=0.3,
    p_elastic=1.0,
    p_rotate=1.0,
    p_shift=1.0,
    p_brightness=1.0,
    p_contrast=1.0,
    p_gamma=1.0,
)


def test_elastic_displacement_is_the_spline_through_the_grid():
    shape = (51, 71)
    field = elastic_displacement(shape, np.random.default_rng(3), grid=3, sigma=10.0)
    values = np.random.default_rng(3).normal(0.0, 10.0, size=(2, 3, 3))
    assert field.shape == (2, 51, 71) and field.dtype == np.float32
    # the grid points sit on the corner, edge-middle and centre pixels
    for (gy, gx), (py, px) in {(0, 0): (0, 0), (2, 2): (50, 70), (1, 1): (25, 35)}.items():
        np.testing.assert_allclose(field[:, py, px], values[:, gy, gx], rtol=1e-5)
    spline = np.stack([ndimage.zoom(v, (51 / 3, 71 / 3), order=3, mode="mirror") for v in values])
    np.testing.assert_allclose(field, spline, atol=1e-4)


def test_elastic_grid_and_sigma():
    field = elastic_displacement((40, 40), np.random.default_rng(0), grid=5, sigma=0.0)
    np.testing.assert_array_equal(field, 0.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        elastic_displacement((8, 8), np.random.default_rng(0), grid=1)


@pytest.mark.parametrize("order", [0, 1, 3])
def test_warp_by_flip_and_turn_matrices_equals_flip_rot90(order):
    image = np.random.default_rng(0).random((2, 7, 7)).astype(np.float32)
    for flip_y in (False, True):
        for flip_x in (False, True):
            for k in range(4):
                matrix = affine_matrix(k90=k, flip_y=flip_y, flip_x=flip_x)
                got = warp(image, sample_coords((7, 7), matrix=matrix), order=order)
                expected = flip_rot90(image, flip_y=flip_y, flip_x=flip_x, k=k)
                np.testing.assert_allclose(got, expected, atol=2e-6)


def test_warp_matches_scipy_reflect():
    rng = np.random.default_rng(1)
    image = rng.random((9, 11))
    coords = rng.uniform(-6, 16, size=(2, 20, 30))
    linear = warp(image.astype(np.float32), coords.astype(np.float32), order=1)
    np.testing.assert_allclose(
        linear, ndimage.map_coordinates(image, coords, order=1, mode="reflect"), atol=1e-5
    )
    labels = rng.integers(-1, 5, size=(9, 11))
    coords = np.round(coords) + rng.uniform(-0.4, 0.4, size=coords.shape)  # no ties
    nearest = warp(labels, coords.astype(np.float32), order=0)
    assert nearest.dtype == labels.dtype
    np.testing.assert_array_equal(
        nearest, ndimage.map_coordinates(labels, coords, order=0, mode="reflect")
    )


def test_warp_shift_moves_content():
    image = np.zeros((1, 9, 9), np.float32)
    image[0, 4, 4] = 1.0
    moved = warp(image, sample_coords((9, 9), shift=(2.0, -3.0)), order=3)
    assert np.unravel_index(moved[0].argmax(), (9, 9)) == (6, 1)
    assert moved[0, 6, 1] == pytest.approx(1.0, abs=1e-6)


def test_warp_bicubic_keeps_constants_and_refuses_label_interpolation():
    coords = np.random.default_rng(0).uniform(-5, 15, size=(2, 6, 6)).astype(np.float32)
    constant = warp(np.full((3, 3), 2.5, np.float32), coords, order=3)
    np.testing.assert_allclose(constant, 2.5, rtol=1e-6)
    with pytest.raises(ValueError, match="order=0"):
        warp(np.zeros((3, 3), np.int64), coords, order=1)
    with pytest.raises(ValueError, match="order must be one of"):
        warp(np.zeros((3, 3), np.float32), coords, order=2)


def pattern(h, w, block=8):
    """An image that encodes each pixel's own (row, col), and a blocky mask of (row, col).

    Labels are -1, 0, 1 in 8-px blocks, so the mask of any output pixel can be predicted from
    the source position the warped image reports there.
    """
    rows, cols = np.indices((h, w)).astype(np.float32)
    image = np.stack([rows, cols])
    mask = (rows // block + cols // block).astype(np.int64) % 3 - 1
    return image, mask


def mask_of(rows, cols, block=8):
    return (np.floor(rows / block) + np.floor(cols / block)).astype(np.int64) % 3 - 1


@pytest.mark.parametrize("seed", range(6))
def test_augment_keeps_labels_and_alignment(seed):
    h, w = 64, 48
    image, mask = pattern(h, w)
    weight = (image[0] * w + image[1]).astype(np.float32)  # each pixel's own number
    aug = Augment(**{**EVERYTHING.__dict__, "brightness": 0.0, "contrast": 0.0, "gamma": 0.0})
    out_image, out_mask, out_weight = aug(image, mask, weight, rng=np.random.default_rng(seed))
    assert out_image.shape == image.shape and out_mask.shape == mask.shape
    assert out_image.dtype == np.float32 and out_mask.dtype == np.int64
    assert set(np.unique(out_mask).tolist()) <= {IGNORE_INDEX, 0, 1}
    # the image reports where each output pixel came from; the mask must be that place's label.
    # Reflection folds the source positions back into the tile, like the image values.
    src_r, src_c = out_image
    # away from the tile edge, where bicubic taps reach across the reflection fold
    inside = (src_r > 2) & (src_r < h - 3) & (src_c > 2) & (src_c < w - 3)
    near_edge = (np.abs(src_r / 8 - np.round(src_r / 8)) * 8 < 1) | (
        np.abs(src_c / 8 - np.round(src_c / 8)) * 8 < 1
    )
    check = inside & ~near_edge
    assert check.mean() > 0.4
    np.testing.assert_array_equal(out_mask[check], mask_of(src_r, src_c)[check])
    # the weight comes from the pixel the label came from (nearest: a whole pixel number),
    # the one nearest the image's source position (bicubic: off by up to 0.05 px on a ramp)
    source = out_weight.astype(np.int64)
    np.testing.assert_array_equal(out_weight, source)
    np.testing.assert_array_equal(out_mask, mask.ravel()[source])
    assert np.abs(source[inside] // w - src_r[inside]).max() <= 0.55
    assert np.abs(source[inside] % w - src_c[inside]).max() <= 0.55


@pytest.mark.parametrize("seed", range(4))
def test_each_pixel_keeps_the_weight_of_its_label(seed):
    """Sparse labels (2-px scribbles among ignored pixels) with their class weights: after
    rotation and elastic warp each pixel's weight is still its label's (0 where ignored).
    Bilinear weights mixed a labelled pixel's with its ignored neighbours' 0 and the other
    class's: labelled pixels lost 13% of their weight on average, some 70%."""
    mask = np.full((48, 48), IGNORE_INDEX, np.int64)
    for row in range(4, 44, 6):
        mask[row : row + 2, 4:44] = (row // 6) % 2
    table = np.array([1.0, 5.0, 0.0], np.float32)  # class 0, class 1, ignored (index -1)
    image = np.zeros((1, 48, 48), np.float32)
    aug = Augment(**{**EVERYTHING.__dict__, "brightness": 0.0, "contrast": 0.0, "gamma": 0.0})
    _, out_mask, out_weight = aug(image, mask, table[mask], rng=np.random.default_rng(seed))
    assert (out_mask >= 0).mean() > 0.2
    np.testing.assert_array_equal(out_weight, table[out_mask])


def test_augment_moves_things():
    image, mask = pattern(32, 32)
    out, out_mask, _ = EVERYTHING(image, mask, rng=np.random.default_rng(0))
    assert not np.allclose(out, image) and (out_mask != mask).any()


def test_flips_only_take_the_exact_path():
    rng = np.random.default_rng(0)
    image = rng.random((1, 16, 16)).astype(np.float32)
    mask = rng.integers(-1, 3, size=(16, 16))
    weight = image[0].copy()  # must follow the image exactly
    aug = Augment(brightness=0.0, contrast=0.0)
    variants = [
        (flip_rot90(image, flip_y=fy, flip_x=fx, k=k), flip_rot90(mask, flip_y=fy, flip_x=fx, k=k))
        for fy in (False, True)
        for fx in (False, True)
        for k in range(4)
    ]
    seen = set()
    for seed in range(40):
        out, out_mask, out_weight = aug(image, mask, weight, rng=np.random.default_rng(seed))
        hits = [
            i
            for i, (im, ma) in enumerate(variants)
            if np.array_equal(out, im) and np.array_equal(out_mask, ma)
        ]
        assert hits, "a flips/turns-only augmentation must be an exact flip/turn"
        seen.add(hits[0])
        np.testing.assert_array_equal(out_weight, out[0])
    assert len(seen) >= 5


def test_non_square_tiles_keep_their_shape():
    image, mask = pattern(24, 40)
    for seed in range(8):
        out, out_mask, _ = EVERYTHING(image, mask, rng=np.random.default_rng(seed))
        assert out.shape == (2, 24, 40) and out_mask.shape == (24, 40)
        out, out_mask, _ = Augment()(image, mask, rng=np.random.default_rng(seed))
        assert out.shape == (2, 24, 40) and out_mask.shape == (24, 40)


def test_reproducible_and_inputs_untouched():
    image, mask = pattern(32, 32)
    weight = np.ones((32, 32), np.float32)
    before = image.copy(), mask.copy(), weight.copy()
    first = EVERYTHING(image, mask, weight, rng=np.random.default_rng(7))
    again = EVERYTHING(image, mask, weight, rng=np.random.default_rng(7))
    other = EVERYTHING(image, mask, weight, rng=np.random.default_rng(8))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    for a, b in zip((image, mask, weight), before):
        np.testing.assert_array_equal(a, b)
    out = Augment(flip=False, rot90=False, brightness=0, contrast=0)(
        image, mask, weight, rng=np.random.default_rng(0)
    )
    assert all(o is not i for o, i in zip(out, (image, mask, weight)))


def test_adjust_grey_exact():
    image = np.array([[[0.0, 1.0, 2.0, 3.0]]], np.float32)
    # gamma on the tile's range [0, 3]: 3 * (x / 3) ** 2
    np.testing.assert_allclose(adjust_grey(image, gamma=2.0), [[[0, 1 / 3, 4 / 3, 3]]], rtol=1e-6)
    # contrast about the mean 1.5, then brightness
    np.testing.assert_allclose(
        adjust_grey(image, contrast=2.0, brightness=0.5), [[[-1, 1, 3, 5]]], rtol=1e-6
    )
    np.testing.assert_array_equal(adjust_grey(image), image)


def test_grey_variation_leaves_mask_alone():
    image, mask = pattern(16, 16)
    aug = Augment(
        flip=False,
        rot90=False,
        brightness=0.5,
        contrast=0.5,
        gamma=0.5,
        p_brightness=1,
        p_contrast=1,
        p_gamma=1,
    )
    out, out_mask, _ = aug(image, mask, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out_mask, mask)
    assert not np.allclose(out, image)


def test_config_section_builds_augment():
    aug = Augment(**AugmentSection().options())
    assert aug.grid == 3 and aug.elastic_sigma == 10.0


def test_validation():
    image, mask = pattern(8, 8)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        Augment()(image, mask, rng=0)
    with pytest.raises(ValueError, match="p_flip must be a probability"):
        Augment(p_flip=1.5)
    with pytest.raises(ValueError, match="contrast must be in"):
        Augment(contrast=1.0)
    with pytest.raises(ValueError, match="same H, W"):
        Augment()(image, mask[:4], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="integer class indices"):
        Augment()(image, mask.astype(np.float32), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="weight map shape"):
        Augment()(image, mask, np.ones((4, 4), np.float32), rng=np.random.default_rng(0))


def test_vflip_off_keeps_the_up_and_the_other_draws():
    image, mask = pattern(16, 16)
    both = Augment(p_flip=1.0, rot90=False, brightness=0, contrast=0)
    upright = Augment(p_flip=1.0, vflip=False, rot90=False, brightness=0, contrast=0)
    out = both(image, mask, rng=np.random.default_rng(0))[1]
    np.testing.assert_array_equal(out, mask[::-1, ::-1])
    kept = upright(image, mask, rng=np.random.default_rng(0))[1]
    np.testing.assert_array_equal(kept, mask[:, ::-1])  # left-right only
    turning = Augment(vflip=False, brightness=0.5, p_brightness=1)
    again = Augment(brightness=0.5, p_brightness=1)
    a = turning(image, mask, rng=np.random.default_rng(3))[0]
    b = again(image, mask, rng=np.random.default_rng(3))[0]
    assert np.isclose(a.mean() - image.mean(), b.mean() - image.mean())  # same draws after
