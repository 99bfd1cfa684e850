"""predict_image / predict_tensor / predict_file on tiny nets: shapes, exactness, no mutation."""

import warnings

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet
from unetlab.data.normalize import normalize
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import (
    encode_labels,
    fit_channels,
    labels_from_probabilities,
    predict_image,
    predict_tensor,
    probability_fn,
)
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.tiling import Geometry
from unetlab.plots import display_rgb, overlay, palette
from unetlab.runtime import supports_bf16


def _one_piece(model, image):
    """Probabilities of the whole mirrored image in one forward pass."""
    g = Geometry.of(model)
    x = normalize(image, model.normalization)
    h, w = image.shape[:2]
    ph, pw = g.round_up(h + 2 * g.border), g.round_up(w + 2 * g.border)
    pads = ((g.border, ph - h - g.border), (g.border, pw - w - g.border), (0, 0))
    padded = np.pad(np.moveaxis(x, 0, -1), pads, mode="reflect")
    with torch.inference_mode():
        logits = model.eval()(torch.from_numpy(np.moveaxis(padded, -1, 0).copy())[None])
    return torch.softmax(logits, 1)[0, :, :h, :w].numpy()


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 255, (517, 333), dtype=np.uint8)


def test_valid_net_in_tiles_equals_one_piece(image):
    model = UNet(1, 2, depth=3, base_channels=4)
    before = image.copy()
    out = predict_image(model, image, tile_size=124, batch_size=3)
    assert np.array_equal(image, before)
    assert out.shape == (2, 517, 333) and out.dtype == np.float32
    assert len(choose_tiling(model, image.shape, tile_size=124)[0]) > 10
    assert np.abs(out - _one_piece(model, image)).max() <= 1e-4


@pytest.mark.parametrize("depth", [3, 4])
def test_same_net_mean_blend_counts_tile_interiors_only(image, depth):
    # "mean" trims half the overlap (>= half the receptive field) from inner tile edges, so
    # every counted pixel saw its whole context: equal to one piece up to float rounding.
    model = UNet(1, 2, depth=depth, base_channels=4, padding="same", norm="batch").eval()
    out = predict_image(model, image, tile_size=256, blend="mean")
    assert len(choose_tiling(model, image.shape, tile_size=256)[0]) >= 4
    assert np.abs(out - _one_piece(model, image)).max() <= 1e-5


def test_same_net_differs_only_near_seams(image):
    model = UNet(1, 2, depth=3, base_channels=4, padding="same")
    ref = _one_piece(model, image)
    grid, _ = choose_tiling(model, image.shape, tile_size=256)
    out = predict_image(model, image, tile_size=256, blend="gaussian")
    diff = np.abs(out - ref).max(0)
    near_seam = np.zeros(image.shape, bool)
    reach = model.receptive_field  # farther from a tile edge, its zero padding is not seen
    for axis, starts in enumerate((grid.ys, grid.xs)):
        t = grid.tile[axis]
        for edge in {*starts[1:], *(s + t for s in starts[:-1])}:
            band = slice(max(edge - reach, 0), edge + reach)
            near_seam[(band, slice(None)) if axis == 0 else (slice(None), band)] = True
    assert near_seam.mean() < 0.8
    assert diff[~near_seam].max() <= 1e-4
    assert diff.mean() < 0.01  # measured 4.7e-4 with this seed


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (17, 1), (3, 5, 3)])
def test_any_size_and_channels(padding, shape):
    model = UNet(3, 3, depth=2, base_channels=2, padding=padding)
    image = np.random.default_rng(1).random(shape).astype(np.float32)
    out = predict_image(model, image if len(shape) == 3 else image[..., None].repeat(3, -1))
    assert out.shape == (3, *shape[:2])
    np.testing.assert_allclose(out.sum(0), 1, rtol=1e-5)


def test_sigmoid_net_gives_one_channel_and_threshold_labels():
    model = UNet(1, 1, depth=2, base_channels=2, padding="same")
    out = predict_image(model, np.zeros((9, 11), np.uint16))
    assert out.shape == (1, 9, 11)
    assert labels_from_probabilities(np.array([[[0.2, 0.5]]])).tolist() == [[0, 1]]


@pytest.mark.parametrize("k", [2, 3, 7, 300])
def test_labels_equal_argmax_ties_included(k):
    rng = np.random.default_rng(k)
    probs = rng.integers(0, 4, (k, 13, 17)).astype(np.float32)  # many ties
    labels = labels_from_probabilities(probs)
    assert labels.dtype == (np.uint8 if k <= 256 else np.uint16)
    assert np.array_equal(labels, probs.argmax(0))


def test_tta_and_bf16_keep_shapes_and_training_flag():
    model = UNet(1, 2, depth=2, base_channels=2).train()
    image = np.random.default_rng(2).random((30, 21)).astype(np.float32)
    plain = predict_image(model, image)
    assert model.training  # restored
    tta = predict_image(model, image, tta=["identity", "hflip"])
    assert tta.shape == plain.shape
    if supports_bf16("cpu"):
        bf16 = predict_image(model, image, precision="bf16")
        assert bf16.shape == plain.shape
        assert np.abs(bf16 - plain).max() < 0.1
    else:  # emulated bf16 would be far slower than fp32: refused with the fix
        with pytest.raises(ValueError, match="use --precision fp32"):
            predict_image(model, image, precision="bf16")
    # the bf16 path itself (autocast, float32 softmax) runs anywhere
    fn = probability_fn(model.eval(), precision="bf16")
    h, w = 30, 20  # the net's own sizes: the tiler is not in this path
    assert model.is_valid_size(h) and model.is_valid_size(w)
    with torch.inference_mode():
        probs = fn(torch.from_numpy(image[:h, :w])[None, None])
    assert probs.dtype == torch.float32
    assert torch.allclose(probs.sum(1), torch.ones(1), atol=1e-5)
    with pytest.raises(ValueError, match="precision"):
        predict_image(model, image, precision="fp8")


def test_predict_tensor_matches_predict_image():
    model = UNet(1, 2, depth=2, base_channels=2)
    image = np.random.default_rng(3).random((25, 19)).astype(np.float32)
    x = torch.from_numpy(normalize(image, model.normalization))[None]
    out = predict_tensor(model, torch.cat([x, x]), tile_size=28)
    assert out.shape == (2, 2, 25, 19)
    np.testing.assert_allclose(out[1].numpy(), predict_image(model, image), atol=1e-5)


def test_raw_tensors_go_to_predict_image_and_channels_first_is_named():
    """A notebook's tensor of raw pixels is normalised by predict_image like its numpy
    array; predict_tensor, which takes normalised batches, refuses integer pixels."""
    model = UNet(1, 2, depth=2, base_channels=2)
    image = np.random.default_rng(4).integers(0, 255, (24, 20), dtype=np.uint8)
    expected = predict_image(model, image)
    np.testing.assert_array_equal(predict_image(model, torch.from_numpy(image)), expected)
    with pytest.raises(UnetlabError, match="expects a normalised float tensor, not a torch.uint8"):
        predict_tensor(model, torch.from_numpy(image)[None, None])
    with pytest.raises(
        UnetlabError,
        match=r"looks like one grey plane with its channel axis first; give \(H, W\): image\[0\]",
    ):
        predict_image(model, image[None])


def test_predict_tensor_refuses_a_batch_not_of_the_models_channels():
    model = UNet(1, 2, depth=2, base_channels=2)
    for shape in ((2, 16, 16), (1, 3, 16, 16), (0, 1, 16, 16)):
        with pytest.raises(UnetlabError, match=r"predict_tensor: expected \(N, 1, H, W\), not"):
            predict_tensor(model, torch.zeros(shape))


def test_auto_tile_is_big_for_the_paper_net_and_never_more_than_needed():
    with torch.device("meta"):
        paper = UNet.from_preset("paper")
    grid, batch = choose_tiling(paper, (1024, 1024))
    assert grid.tile[0] >= 1000 and batch == 1
    assert choose_tiling(paper, (100, 30))[0].tile == (284, 220)  # round_up(100 + 184)
    with pytest.raises(ValueError, match="try 572 or 588"):
        choose_tiling(paper, (100, 100), tile_size=573)


def test_fit_channels():
    grey = np.zeros((4, 5), np.uint8)
    assert fit_channels(grey, 3).shape == (4, 5, 3)
    rgb = np.full((4, 5, 3), 100, np.uint8)
    assert fit_channels(rgb, 1).dtype == np.uint8 and (fit_channels(rgb, 1) == 100).all()
    with pytest.raises(UnetlabError, match="has 2 channels but the model expects 3"):
        fit_channels(np.zeros((4, 5, 2)), 3)
    rgba = np.dstack([rgb, np.full((4, 5), 255, np.uint8)])  # np.asarray(an RGBA PNG)
    assert np.array_equal(fit_channels(rgba, 3), rgb)  # as reading the file gives
    with pytest.raises(UnetlabError, match="has 4 channels but the model expects 2"):
        fit_channels(rgba, 2)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.uint32, np.int64])
def test_a_colour_image_at_its_dtypes_ends_gives_that_grey_without_overflow(dtype):
    """White at uint32's top rounds past 2**32 - 1 in float32 (the fuzz suite warned
    'invalid value encountered in cast'): the grey keeps the dtype and its range."""
    info = np.iinfo(dtype)
    rgb = np.array([[[info.max] * 3, [info.min] * 3, [100, 100, 100]]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grey = fit_channels(rgb, 1, colour=True)[..., 0]  # a 16-bit RGB TIFF, say
    assert grey.dtype == dtype
    if info.bits <= 32:  # exact; int64's ends sit within float64's rounding
        assert grey.tolist() == [[info.max, info.min, 100]]
    np.testing.assert_allclose(grey.astype(float), [[info.max, info.min, 100]], rtol=1e-12)


def test_labels_palette_overlay_exact_values():
    assert encode_labels(np.array([[0, 1]]), [0, 255]).tolist() == [[0, 255]]
    assert palette(3).tolist() == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    drawn = overlay(np.full((1, 2), 100, np.uint8), np.array([[0, 1]]), alpha=0.5)
    assert drawn.tolist() == [[[100, 100, 100], [114, 50, 50]]]


def test_overlay_tints_class_0_when_the_data_sets_palette_gives_it_a_colour():
    image, labels = np.full((1, 2), 100, np.uint8), np.array([[0, 1]])
    scene = np.array([[128, 64, 128], [0, 0, 200]], np.uint8)  # road, car: no background
    drawn = overlay(image, labels, alpha=0.5, colours=scene)
    assert drawn.tolist() == [[[114, 82, 114], [50, 50, 150]]]
    voc = np.array([[0, 0, 0], [0, 0, 200]], np.uint8)  # class 0 black: the background
    assert overlay(image, labels, alpha=0.5, colours=voc)[0, 0].tolist() == [100, 100, 100]


def test_large_tiff_is_streamed_through_memory_maps(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    image = np.random.default_rng(4).integers(0, 255, (70, 45), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "big.tif", image)
    out = predict_file(
        model,
        tmp_path / "big.tif",
        tmp_path / "out",
        save_probabilities=True,
        tile_size=16,
        large_threshold=100,
    )
    assert [p.name for p in out] == ["big.tif", "big_prob.tif"]
    probs = tifffile.imread(out[1])
    np.testing.assert_allclose(probs, predict_image(model, image, tile_size=16), atol=1e-6)
    assert np.array_equal(tifffile.imread(out[0]), labels_from_probabilities(probs))


def test_large_stack_is_streamed_page_by_page(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    stack = np.random.default_rng(5).integers(0, 255, (2, 30, 20), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    out = predict_file(model, tmp_path / "s.tif", tmp_path / "out", large_threshold=100, color=True)
    labels = tifffile.imread(out[0])
    assert labels.shape == (2, 30, 20)
    for page, lab in zip(stack, labels):
        assert np.array_equal(lab, labels_from_probabilities(predict_image(model, page)))


def test_automatic_tile_computes_the_fewest_pixels():
    with torch.device("meta"):
        paper = UNet.from_preset("paper")
        small = UNet.from_preset("small")
    grid, _ = choose_tiling(paper, (1024, 1024))
    assert grid.tile == (1212, 1212) and len(grid) == 1  # not four 1068 tiles
    grid, _ = choose_tiling(small, (20000, 20000))
    # same nets keep their overlap: tiles of at least twice the receptive field
    assert min(grid.tile) >= 2 * small.receptive_field
    assert grid.tile[0] * grid.tile[1] * 524 <= 2.0e9


def test_the_callers_weight_layout_survives_and_channels_last_is_not_converted():
    model = UNet.from_preset("small-valid", depth=2, base_channels=4).train()
    image = np.random.default_rng(0).integers(0, 256, (40, 50), dtype=np.uint8)
    first = predict_image(model, image)
    assert model.training and all(p.is_contiguous() for p in model.parameters())
    model.to(memory_format=torch.channels_last)  # as the CLI does once for many images
    pointers = [p.data_ptr() for p in model.parameters()]
    second = predict_image(model, image)
    assert [p.data_ptr() for p in model.parameters()] == pointers  # no copy per call
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_display_of_a_float_image_with_nan_and_infinities_draws_them_black():
    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    image[0, 0], image[0, 1], image[0, 2] = np.nan, np.inf, -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: "invalid value encountered in cast"
        rgb = display_rgb(image)
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8
    assert (rgb[0, :3] == 0).all() and rgb[7, 7, 0] == 255 and rgb[4, 0, 0] > 100
    assert (display_rgb(np.full((4, 4), np.nan)) == 0).all()


def test_a_grey_image_for_a_colour_model_is_said_once(tmp_path, caplog):
    model = UNet(3, 2, depth=2, base_channels=2)
    # four grey pages (three would be read as the model's three channels: test_bare_pages)
    stack = np.random.default_rng(5).integers(0, 255, (4, 24, 20), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    with caplog.at_level("WARNING"):
        predict_file(model, tmp_path / "s.tif", tmp_path / "out")
    said = [r for r in caplog.records if "grey image given to a 3-channel model" in r.message]
    assert len(said) == 1 and "(C, H, W) TIFF" in said[0].message
