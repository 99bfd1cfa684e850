"""One channel of a multi-channel image for a grey model (`predict --channel C`): the
nuclear stain of a fluorescence slide, read whole or streamed."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import read_image
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import PredictOptions, predict_image
from unetlab.models import UNet


@pytest.fixture
def grey_model() -> UNet:
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _two_channels(h: int = 64, w: int = 48) -> np.ndarray:
    """(H, W, 2) uint16: noise in channel 0, the 'nuclei' in channel 1."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 4000, (h, w, 2), dtype=np.uint16)


def test_predict_image_takes_the_channel_asked_for(grey_model):
    image = _two_channels()
    expected = predict_image(grey_model, image[..., 1])
    assert np.allclose(predict_image(grey_model, image, channel=1), expected, atol=1e-6)
    with pytest.raises(UnetlabError, match="has 2 channels but the model expects 1"):
        predict_image(grey_model, image)  # without it: refused, as before
    with pytest.raises(UnetlabError, match=r"has 2 channel\(s\) \(0 to 1\), no channel 2"):
        predict_image(grey_model, image, channel=2)
    with pytest.raises(UnetlabError, match="channel index >= 0"):
        PredictOptions(channel=-1)


def test_read_whole_and_streamed_give_the_same_labels(tmp_path, grey_model):
    image = _two_channels()
    path = tmp_path / "slide.ome.tif"
    tifffile.imwrite(path, np.moveaxis(image, -1, 0), metadata={"axes": "CYX"})
    whole = predict_file(grey_model, path, tmp_path / "whole", channel=1)
    streamed = predict_file(grey_model, path, tmp_path / "streamed", channel=1, large_threshold=100)
    labels = read_image(whole[0])
    expected = predict_image(grey_model, image[..., 1]).argmax(0)
    assert np.array_equal(labels, expected)
    assert np.array_equal(tifffile.imread(streamed[0]), expected)


def test_cli_channel(tmp_path, grey_model, capsys):
    image = _two_channels()
    (tmp_path / "in").mkdir()
    two = np.moveaxis(image, -1, 0)  # as a microscope writes it: (C, H, W), OME axes
    tifffile.imwrite(tmp_path / "in" / "two.ome.tif", two, metadata={"axes": "CYX"})
    save_model(tmp_path / "m.pt", grey_model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--channel", "1"]) == 0
    assert len(list((tmp_path / "out").glob("two.*"))) == 1
    assert main([*argv, "--output", str(tmp_path / "bad"), "--channel", "-1"]) == 2
    assert "channel index >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("large", [None, 100], ids=["whole", "streamed"])
def test_only_the_channel_read_is_checked_for_nan(tmp_path, grey_model, large):
    """A NaN in a channel --channel leaves out is no reason to refuse the file; one in the
    channel read still is, read whole or streamed."""
    image = _two_channels().astype(np.float32)
    image[5, 7, 0] = np.nan
    image[40, 30, 0] = -np.inf
    path = tmp_path / "slide.ome.tif"
    tifffile.imwrite(path, np.moveaxis(image, -1, 0), metadata={"axes": "CYX"}, tile=(32, 32))
    (written,) = predict_file(grey_model, path, tmp_path / "one", channel=1, large_threshold=large)
    expected = predict_image(grey_model, image[..., 1]).argmax(0)
    assert np.array_equal(
        read_image(written) if large is None else tifffile.imread(written), expected
    )
    with pytest.raises(UnetlabError, match=r"slide.ome.tif: [12] NaN or infinite pixels?"):
        predict_file(grey_model, path, tmp_path / "zero", channel=0, large_threshold=large)


def test_a_stack_names_the_page_with_nan(tmp_path, grey_model):
    stack = np.random.default_rng(0).random((3, 24, 20)).astype(np.float32)
    stack[1, 2, 3] = np.nan
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    with pytest.raises(UnetlabError, match=r"s.tif: 1 NaN or infinite pixel in page 1; replace"):
        predict_file(grey_model, tmp_path / "s.tif", tmp_path / "out")
