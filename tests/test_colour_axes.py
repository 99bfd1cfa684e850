"""--axes with a C says a file's channels are stains or colours by the one rule
(:func:`~unetlab.data.io.stain_axes`: YXC, ZYXC, TYXC are an RGB picture's colours), for
predict as for a checkpoint's record of its channels. Before, predict took any C as stains:
an RGB TIFF given --axes YXC was refused by a grey model ("has 3 channels ... --channel")
read whole, and refused by any model read window by window ("--axes YXC says its channels
are channels, not colours"), while training with --axes YXC recorded colours."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab import UNet
from unetlab.inference.files import predict_file
from unetlab.inference.pages import page_colour

H, W = 40, 36


def _grey_net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _rgb(path, pages: int = 1) -> None:
    rgb = np.random.default_rng(0).integers(0, 255, (pages, H, W, 3), dtype=np.uint8)
    tifffile.imwrite(path, rgb[0] if pages == 1 else rgb, photometric="rgb")


def _labels(path) -> np.ndarray:
    if path.suffix == ".png":
        return np.asarray(Image.open(path))
    return tifffile.imread(path)


@pytest.mark.parametrize(
    "axes, colour",
    [("YXC", True), ("yxc", True), ("ZYXC", True), ("TYXC", True), ("YXS", True)]
    + [("CYX", False), ("ZCYX", False), ("TCZYX", False), (None, True), ("QYX", True)],
)
def test_a_c_axis_is_colours_last_after_y_and_x_and_stains_elsewhere(tmp_path, axes, colour):
    _rgb(tmp_path / "rgb.tif")  # no C nor S given: as the file says (RGB photometry)
    assert page_colour(tmp_path / "rgb.tif", axes) is colour


@pytest.mark.parametrize("pages, axes", [(1, "YXC"), (2, "ZYXC")])
@pytest.mark.parametrize("large", [None, 100])
def test_a_grey_model_predicts_the_luminance_of_an_rgb_tiff_given_yxc(tmp_path, pages, axes, large):
    """Read whole and window by window alike: as the file says (no axes), its luminance."""
    _rgb(tmp_path / "rgb.tif", pages)
    how = dict(large_threshold=large)
    plain = predict_file(_grey_net(), tmp_path / "rgb.tif", tmp_path / "o", **how)[-1]
    given = predict_file(_grey_net(), tmp_path / "rgb.tif", tmp_path / "g", axes=axes, **how)
    assert given[-1].name == plain.name  # streamed: rgb.tif, read whole: rgb.png (1 page)
    np.testing.assert_array_equal(_labels(given[-1]), _labels(plain))


def test_a_16_bit_yxc_tiff_given_yxc_is_read_window_by_window_as_whole(tmp_path):
    """A minisblack (Y, X, 3) TIFF is channels by its file, colours by --axes YXC: window by
    window the given word holds as read whole (it was refused there, the check being the
    file's word against the user's)."""
    rgb = np.random.default_rng(0).integers(0, 60000, (H, W, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="minisblack", metadata={"axes": "YXC"})
    whole = predict_file(_grey_net(), tmp_path / "c.tif", tmp_path / "o", axes="YXC")
    streamed = predict_file(
        _grey_net(), tmp_path / "c.tif", tmp_path / "s", axes="YXC", large_threshold=100
    )
    np.testing.assert_array_equal(_labels(streamed[-1]), _labels(whole[-1]))


def _pair(root, image: np.ndarray, **how) -> None:
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    tifffile.imwrite(root / "images" / "a.tif", image, **how)
    Image.fromarray((image[..., 0] > 30000).astype(np.uint8)).save(root / "masks" / "a.png")


@pytest.mark.parametrize(
    "how, axes",
    [(dict(photometric="rgb"), None), (dict(photometric="rgb"), "YXC")]
    + [(dict(photometric="minisblack", metadata={"axes": "YXC"}), "YXC")],
    ids=["rgb16", "rgb16-yxc", "minisblack-yxc"],
)
def test_evaluate_fits_colours_to_a_grey_model_as_predict_does(tmp_path, how, axes):
    """Evaluate fitted the pixels by their dtype alone (3 channels of 8 bits: colours), so a
    16-bit RGB TIFF, or one given --axes YXC, was refused ("has 3 channels ... --channel")
    where predict scores its luminance; a minisblack one given no axes is refused by both."""
    from unetlab.errors import UnetlabError
    from unetlab.evaluate import evaluate_model

    image = np.random.default_rng(0).integers(0, 60000, (H, W, 3), dtype=np.uint16)
    _pair(tmp_path / "d", image, **how)
    report = evaluate_model(_grey_net(), tmp_path / "d", axes=axes)
    path = tmp_path / "d" / "images" / "a.tif"
    predicted = predict_file(_grey_net(), path, tmp_path / "o", axes=axes)
    assert len(report.images) == 1 and _labels(predicted[-1]).shape == (H, W)
    if how["photometric"] == "minisblack":
        with pytest.raises(UnetlabError, match="has 3 channels, the model takes 1"):
            evaluate_model(_grey_net(), tmp_path / "d")
