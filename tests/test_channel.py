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
from unetlab.inference.predict import PredictOptions, fit_channels, predict_image
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
    with pytest.raises(UnetlabError, match="has 2 channels, the model takes 1: choose one with"):
        predict_image(grey_model, image)  # without it: refused, with the fix
    with pytest.raises(UnetlabError, match=r"has 2 channels \(0 to 1\), no channel 2"):
        predict_image(grey_model, image, channel=2)
    with pytest.raises(UnetlabError, match="channel index at least 0"):
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
    assert "channel index at least 0" in capsys.readouterr().err


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
    with pytest.raises(
        UnetlabError, match=r"s.tif: 1 NaN or infinite pixel in page 1; they are NaN, as"
    ):
        predict_file(grey_model, tmp_path / "s.tif", tmp_path / "out")


@pytest.mark.parametrize(
    "kind",
    ["imagej_cyx_16bit", "imagej_cyx_8bit", "minisblack_yxc_16bit", "ome_cyx_8bit"],
)
def test_fluorescence_channels_are_refused_for_a_grey_model_not_averaged(tmp_path, kind):
    """3 stains are no RGB picture: their luminance is no image of any stain (the audit's
    DAPI model found 95 'nuclei' in it, 31 with --channel 0)."""
    rng = np.random.default_rng(1)
    dtype = np.uint8 if "8bit" in kind else np.uint16
    cyx = rng.integers(0, 200, (3, 40, 36)).astype(dtype)
    path = tmp_path / f"{kind}.tif"
    if kind.startswith("imagej"):
        tifffile.imwrite(path, cyx, imagej=True, metadata={"axes": "CYX"})
    elif kind.startswith("ome"):  # planes of RGB photometry that the metadata calls channels
        tifffile.imwrite(
            path, cyx, metadata={"axes": "CYX"}, photometric="rgb", planarconfig="separate"
        )
    else:
        tifffile.imwrite(
            path, np.moveaxis(cyx, 0, -1), photometric="minisblack", planarconfig="contig"
        )
    grey = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    fix = r"has 3 channels, the model takes 1: choose one with channel=C, e\.g\."  # s56: no flag
    with pytest.raises(UnetlabError, match=fix):
        predict_file(grey, path, tmp_path / "out")
    with pytest.raises(UnetlabError, match=fix):
        predict_file(grey, path, tmp_path / "out", large_threshold=100)  # streamed
    (written,) = predict_file(grey, path, tmp_path / "one", channel=2)
    expected = predict_image(grey, cyx[2]).argmax(0)
    assert np.array_equal(read_image(written), expected)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_colour_picture_still_gives_its_luminance(tmp_path, dtype, caplog):
    rgb = np.random.default_rng(2).integers(0, 200, (40, 36, 3)).astype(dtype)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    grey = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    (written,) = predict_file(grey, tmp_path / "rgb.tif", tmp_path / "out")
    assert "predicting its luminance" in caplog.text
    # the Python form to a Python caller (it was told --channel C first)
    assert "give channel=C, counted from 0" in caplog.text and "--channel" not in caplog.text
    expected = predict_image(grey, fit_channels(rgb, 1, colour=True)).argmax(0)
    assert np.array_equal(read_image(written), expected)
    if dtype == np.uint8:  # an array of 3 bytes a pixel is taken for a colour picture
        assert np.array_equal(predict_image(grey, rgb).argmax(0), expected)
    else:  # 16-bit channels of an array: stains, unless the caller says otherwise
        with pytest.raises(UnetlabError, match="has 3 channels, the model takes 1"):
            predict_image(grey, rgb)


def test_one_channel_for_a_two_channel_model_is_refused_not_repeated(tmp_path):
    """The audit's DAPI + membrane model given DAPI alone (or --channel 0) found 0 objects
    with status 0: its channel had been repeated into both."""
    both = UNet(2, 2, depth=2, base_channels=2, padding="same").eval()
    dapi = np.random.default_rng(3).integers(0, 4000, (3, 40, 36), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "zyx.tif", dapi, imagej=True, metadata={"axes": "ZYX"})
    with pytest.raises(UnetlabError, match=r"zyx.tif: has 1 channel, the model takes 2 \(it"):
        predict_file(both, tmp_path / "zyx.tif", tmp_path / "out")
    with pytest.raises(UnetlabError, match="has 1 channel, the model takes 2"):
        predict_image(both, dapi[0])
    two = _two_channels()
    with pytest.raises(UnetlabError, match="channel 0 was asked for, but the model takes 2"):
        predict_image(both, two, channel=0)
    with pytest.raises(UnetlabError) as refused:  # not "give it all 3 channels" (s57)
        predict_image(UNet(3, 2, depth=2, base_channels=2, padding="same"), two, channel=0)
    assert str(refused.value) == (
        "image: channel 0 was asked for, but the model takes 3 channels and the image has 2 "
        "channels: predict it with a model trained on 2-channel images, or a 1-channel one "
        "(channel= picks its channel)"
    )
    with pytest.raises(UnetlabError, match=r"leave channel= out to give it all 3 channels \("):
        rgb_image = np.zeros((64, 48, 3), np.uint8)
        predict_image(UNet(3, 2, depth=2, base_channels=2, padding="same"), rgb_image, channel=0)
    assert predict_image(both, two).shape == (2, 64, 48)  # its own 2 channels
    rgb = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    assert predict_image(rgb, dapi[0]).shape == (2, 40, 36)  # grey for an RGB net: repeated


def test_channel_for_a_multi_band_model_is_refused_once_before_any_file(tmp_path, capsys):
    """--channel with a 13-band model failed every file of a folder alike, each in its own
    'failed' line, exit 3 (a name such as '3,2,1' first as 'records no channel names'); now
    one line, exit 2, nothing made (audit s37 bands)."""
    bands = UNet(4, 2, depth=2, base_channels=2, padding="same").eval()
    save_model(tmp_path / "m.pt", bands)
    (tmp_path / "in").mkdir()
    for i in range(3):
        image = np.random.default_rng(i).integers(0, 9000, (32, 32, 4), dtype=np.uint16)
        tifffile.imwrite(tmp_path / "in" / f"{i}.tif", image, planarconfig="contig")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    for channel in ("3", "3,2,1"):
        capsys.readouterr()
        assert main([*argv, "--output", str(tmp_path / "out"), "--channel", channel]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        one = (
            "channel 3 was asked for, but the model takes 4 channels: leave --channel out to "
            "give it all 4 channels (--channel picks one channel for a 1-channel model)"
        )
        bands = (  # a band list (s38): 3 bands for a net of 4
            "channels 3, 2, 1 were asked for (3 bands), but the model takes 4 channels: give "
            "--channel 4 bands, or leave it out (the bands it trained on, "
            "data.channel, else all)"
        )
        assert line == f"unetlab predict: error: {one if channel == '3' else bands}"
        assert not (tmp_path / "out").exists()


def test_four_bytes_a_pixel_are_four_channels_for_a_grey_model_as_in_a_file(tmp_path):
    """read_image of a 4-channel uint8 TIFF gives (H, W, 4), which predict_image took for
    RGBA and predicted its luminance with a 'colour image' line, while predict_file and the
    command line refused the same file (review s48 apiwalk): an array has no photometric,
    so 4 channels are 4 channels, refused with the file's line and the RGBA fix."""
    four = np.random.default_rng(3).integers(0, 200, (48, 40, 4)).astype(np.uint8)
    path = tmp_path / "four.tif"
    tifffile.imwrite(path, four, photometric="minisblack", planarconfig="contig")
    grey = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    said = r"has 4 channels, the model takes 1: choose one with channel=C, e\.g\."
    with pytest.raises(UnetlabError, match=said):
        predict_file(grey, path, tmp_path / "out")
    with pytest.raises(UnetlabError, match=said + r".*RGBA picture.*image\[\.\.\., :3\]"):
        predict_image(grey, read_image(path))
    opaque = np.concatenate([four[..., :3], np.full_like(four[..., :1], 255)], axis=2)
    tifffile.imwrite(tmp_path / "rgba.tif", opaque, photometric="rgb", extrasamples=["unassalpha"])
    (written,) = predict_file(grey, tmp_path / "rgba.tif", tmp_path / "rgba")  # its luminance
    colours = predict_image(grey, four[..., :3]).argmax(0)
    assert np.array_equal(read_image(written), colours)
    rgb = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()  # an RGB net: as before
    assert predict_image(rgb, four).shape == (2, 48, 40)


def test_a_colour_picture_on_the_command_line_names_the_flag(tmp_path, caplog):
    """The luminance line says --channel C to the command line, not the Python keyword."""
    rgb = np.random.default_rng(2).integers(0, 200, (40, 36, 3)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same").eval())
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "rgb.tif")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert "give --channel C, counted from 0" in caplog.text and "channel=C" not in caplog.text
