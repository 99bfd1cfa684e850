"""Overlap-tile pieces and the loop over any callable: exact equality with the untiled result."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unetlab import UNet
from unetlab.data.mirror import reflect_indices, reflect_window
from unetlab.inference.tiling import (
    TTA_TRANSFORMS,
    Geometry,
    axis_starts,
    blend_weights,
    coverage,
    iter_tiled_rows,
    tile_grid,
    tiled_apply,
    tta_names,
    with_tta,
)

# --- pure pieces --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 7])
@pytest.mark.parametrize("pads", [(0, 0), (1, 2), (6, 0), (20, 13)])
def test_mirrored_window_equals_numpy_reflect_for_any_width(size, pads):
    a = np.arange(size * 5).reshape(size, 5)
    out = reflect_window(a, -pads[0], -pads[1], size + sum(pads), 5 + sum(pads))
    assert np.array_equal(out, np.pad(a, (pads, pads[::-1]), mode="reflect"))


def test_mirror_indices_exact_values():
    assert reflect_indices(-3, 6, 4).tolist() == [3, 2, 1, 0, 1, 2, 3, 2, 1]
    assert reflect_indices(-2, 3, 1).tolist() == [0, 0, 0, 0, 0]


def test_read_tile_inside_is_a_view_and_never_modifies_the_image():
    a = np.arange(30).reshape(5, 6)
    before = a.copy()
    assert np.shares_memory(reflect_window(a, 1, 1, 3, 3), a)
    t = reflect_window(a, -2, 4, 4, 4)
    assert np.array_equal(t, np.pad(a, 2, mode="reflect")[0:4, 6:10])
    t[:] = -1
    assert np.array_equal(a, before)


def test_axis_starts_exact_values():
    assert axis_starts(10, 4, 4) == [0, 4, 6]
    assert axis_starts(3, 8, 8) == [0]
    # the paper net's 388-px output tiles step by 384; the last start stays on the 16-grid
    assert axis_starts(1000, 388, 384, 16) == [0, 384, 624]
    with pytest.raises(ValueError, match="multiple"):
        axis_starts(100, 388, 388, 16)


def test_paper_grid_steps_by_384_and_tiles_start_on_the_16_grid():
    geometry = Geometry.of(UNet.from_preset("paper", base_channels=1))
    assert geometry == Geometry(border=92, multiple=16, min_size=188, overlap=0)
    grid = tile_grid((1000, 1000), geometry, 572)
    assert grid.out_tile == (388, 388) and grid.ys == (0, 384, 624)
    assert all(y % 16 == 0 for y in grid.ys)
    assert grid.padded_shape[0] >= 1000 + 2 * 92


def test_grid_shrinks_tiles_to_small_images_and_strips():
    geometry = Geometry(border=92, multiple=16, min_size=188)
    grid = tile_grid((1, 700), geometry, 572)
    assert grid.tile == (188, 572) and grid.ys == (0,)
    assert tile_grid((3, 3), Geometry(multiple=8, min_size=8), 64).tile == (8, 8)


def test_grid_refuses_bad_tiles():
    geometry = Geometry(border=92, multiple=16, min_size=188)
    with pytest.raises(ValueError, match="try 572 or 588"):
        tile_grid((100, 100), geometry, 573)
    with pytest.raises(ValueError, match="too small"):
        tile_grid((1000, 1000), geometry, 188)  # 4-px outputs cannot step by 16


def test_blend_weights_and_coverage_exact_values():
    assert blend_weights(3, "mean").tolist() == [1, 1, 1]
    g = blend_weights(8, "gaussian")
    assert g.argmax() in (3, 4) and g.min() > 0 and np.allclose(g, g[::-1])
    assert coverage(10, [0, 4, 6], np.ones(4, np.float32)).tolist() == [1] * 6 + [2, 2, 1, 1]
    with pytest.raises(ValueError, match="blend"):
        blend_weights(4, "max")


# --- the loop over any callable -----------------------------------------------------------


def _reference(fn, image, geometry, padded_shape):
    h, w = image.shape[:2]
    b = geometry.border
    pads = ((b, padded_shape[0] - h - b), (b, padded_shape[1] - w - b), (0, 0))
    padded = np.pad(image, pads[: image.ndim], mode="reflect")
    x = torch.from_numpy(np.ascontiguousarray(np.moveaxis(padded, -1, 0)))[None]
    return fn(x)[0, :, :h, :w].numpy()


def _valid_conv_stack():
    """Valid 3x3 conv, 2x2 max pool, nearest x2, valid 3x3 conv, crop 2: n -> n - 8 (border
    4), shift grid 2; integer weights in float64, so every summation order gives the same bits."""
    g = torch.Generator().manual_seed(0)
    w1 = torch.randint(-2, 3, (3, 2, 3, 3), generator=g).double()
    w2 = torch.randint(-2, 3, (2, 3, 3, 3), generator=g).double()

    def fn(x):
        y = F.max_pool2d(F.relu(F.conv2d(x.double(), w1)), 2)
        return F.conv2d(F.interpolate(y, scale_factor=2), w2)[..., 2:-2, 2:-2]

    return fn, Geometry(border=4, multiple=2, min_size=10)


def _tiled(fn, image, grid, where, **kwargs):
    """tiled_apply on a numpy image, or on the same image as a tensor (everything on its
    device): the two paths must agree bit for bit."""
    if where == "numpy":
        return tiled_apply(fn, image, grid, **kwargs)
    out = tiled_apply(fn, torch.from_numpy(image), grid, **kwargs)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    return out.numpy()


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (17, 23), (40, 31)])
@pytest.mark.parametrize("tile", [12, 18])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("where", ["numpy", "tensor"])
def test_valid_conv_stack_tiled_equals_untiled_exactly(shape, tile, batch, where):
    fn, geometry = _valid_conv_stack()
    image = np.random.default_rng(1).integers(0, 9, (*shape, 2)).astype(np.float64)
    grid = tile_grid(shape, geometry, tile)
    out = _tiled(fn, image, grid, where, batch_size=batch)
    assert out.shape == (2, *shape) and out.dtype == np.float32
    ref = _reference(fn, image, geometry, grid.padded_shape).astype(np.float32)
    assert np.array_equal(out, ref)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (13, 1), (29, 17)])
@pytest.mark.parametrize("blend", ["mean", "gaussian"])
@pytest.mark.parametrize("where", ["numpy", "tensor"])
def test_plus_one_blended_equals_untiled(shape, blend, where):
    image = np.random.default_rng(2).integers(0, 255, shape).astype(np.uint8)
    geometry = Geometry(multiple=4, min_size=4, overlap=4)
    grid = tile_grid(shape, geometry, 8)
    before = image.copy()
    out = _tiled(lambda x: x + 1, image, grid, where, batch_size=2, blend=blend)
    assert np.array_equal(image, before)
    expected = image.astype(np.float32)[None] + 1
    if blend == "mean":  # integer values: every sum and division is exact
        assert np.array_equal(out, expected)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize("where", ["numpy", "tensor"])
def test_stats_normalise_each_tile_like_the_whole_image(where):
    image = np.random.default_rng(3).integers(0, 255, (21, 19, 3)).astype(np.uint8)
    mean, std = np.array([10.0, 20.0, 30.0]), np.array([2.0, 4.0, 8.0])
    grid = tile_grid(image.shape[:2], Geometry(multiple=1, min_size=1, overlap=2), 8)
    out = _tiled(lambda x: x, image, grid, where, stats=(mean, std), batch_size=4)
    expected = (np.moveaxis(image, -1, 0).astype(np.float32) - mean[:, None, None]) / std[
        :, None, None
    ]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def _wavy(x: torch.Tensor) -> torch.Tensor:
    """Two channels of inexact values, so that the order of a blend's sums shows."""
    return torch.cat([torch.sin(x * 1.37) * 0.3 + 0.1, torch.cos(x) ** 2 / 3.0], 1)


def _joined(rows, shape) -> np.ndarray:
    out = np.full(shape, np.nan, np.float32)
    for y, block in rows:
        out[:, y : y + block.shape[1]] = block
    return out


@pytest.mark.parametrize("blend", ["mean", "gaussian"])
@pytest.mark.parametrize("shape", [(97, 131), (200, 150)])
@pytest.mark.parametrize("where", ["numpy", "tensor"])
def test_blends_are_the_same_bit_for_bit_in_any_batches(blend, shape, where):
    # a batch holding the last tiles of one row and the first of the next summed the next
    # row's tiles before the rows carried into it: gaussian blends differed in the last bit
    # with the batch size (58 to 2,481 pixels here)
    image = np.random.default_rng(5).random(shape, dtype=np.float32)
    grid = tile_grid(shape, Geometry(multiple=8, min_size=8, overlap=24), 64)
    ref = _tiled(_wavy, image, grid, where, blend=blend)
    for batch in (2, 3, 5):
        assert np.array_equal(_tiled(_wavy, image, grid, where, blend=blend, batch_size=batch), ref)
        rows = iter_tiled_rows(_wavy, image, grid, blend=blend, batch_size=batch)
        assert np.array_equal(_joined(rows, ref.shape), ref)


@pytest.mark.parametrize("blend", ["mean", "gaussian"])
@pytest.mark.parametrize("border", [0, 3])
def test_tiles_are_stitched_into_the_output_without_row_buffers(monkeypatch, blend, border):
    # tiled_apply joined iter_tiled_rows' blocks: each row of tiles had a (K, tile, W)
    # buffer beside the output (12 MP photo, 11 classes: two of 189 MB at its peak)
    import unetlab.inference.tiling as tiling

    made = []
    zeros = tiling.page_zeros
    monkeypatch.setattr(tiling, "page_zeros", lambda shape: made.append(shape) or zeros(shape))
    image = np.random.default_rng(6).random((70, 90), dtype=np.float32)
    geometry = Geometry(border=border, multiple=4, min_size=4 + 2 * border, overlap=8)
    grid = tile_grid(image.shape, geometry, 24 + 2 * border)

    def fn(x):
        return _wavy(x)[:, :, border : x.shape[2] - border, border : x.shape[3] - border]

    out = tiled_apply(fn, image, grid, blend=blend, batch_size=2)
    assert len(grid.ys) > 2 and made == [(2, 70, 90)]
    rows = iter_tiled_rows(fn, image, grid, blend=blend, batch_size=2)
    assert np.array_equal(out, _joined(rows, out.shape))  # the same sums, bit for bit


def test_callable_output_of_the_wrong_size_is_named():
    grid = tile_grid((10, 10), Geometry(border=1, multiple=1, min_size=3), 6)
    with pytest.raises(ValueError, match="expected"):
        tiled_apply(lambda x: x, np.zeros((10, 10)), grid)


def test_tiny_valid_unet_tiled_equals_one_piece():
    model = UNet(1, 2, depth=3, base_channels=4).eval()
    geometry = Geometry.of(model)
    image = np.random.default_rng(4).random((517, 333), dtype=np.float32)[..., None]
    grid = tile_grid(image.shape[:2], geometry, geometry.round_up(120))
    with torch.inference_mode():
        out = tiled_apply(model, image, grid, batch_size=4)
        ref = _reference(model, image, geometry, grid.padded_shape)
    assert len(grid) > 10
    assert np.abs(out - ref).max() <= 1e-4


# --- test-time augmentation ---------------------------------------------------------------


def test_every_tta_transform_inverts_exactly():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    for name in TTA_TRANSFORMS:
        assert torch.equal(with_tta(lambda t: t, [name])(x), x), name
    assert torch.equal(with_tta(lambda t: t * 2, TTA_TRANSFORMS)(x), x * 2)


def test_tta_names():
    assert tta_names(True) == TTA_TRANSFORMS and tta_names(False) == ()
    assert tta_names(["hflip", "rot90"]) == ("hflip", "rot90")
    with pytest.raises(ValueError, match=r"unknown TTA transform \['spin'\]: choose"):
        tta_names(["spin"])
    with pytest.raises(ValueError, match=r"unknown TTA transforms \['spin', 'roll'\]: choose"):
        tta_names(["spin", "roll", "hflip"])
