"""An animated GIF or PNG is a time series: predict reads every frame (a TYX labels TIFF with
the frame interval), never the first alone; training and reading one image refuse it in one
line (audit s29 'scenes', finding 3)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.data.io import read_image, read_stack, stack_shape
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.errors import DatasetError, ImageReadError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import predict_image
from unetlab.models import UNet

T, H, W = 5, 12, 14


def _frames(seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of a few colours (a GIF keeps them exactly)."""
    colours = np.array([[0, 0, 0], [200, 30, 40], [20, 180, 90], [250, 250, 250]], np.uint8)
    return colours[np.random.default_rng(seed).integers(0, 4, (T, H, W))]


def _gif(path, frames: np.ndarray, ms: int = 40):
    ims = [Image.fromarray(f) for f in frames]
    ims[0].save(path, save_all=True, append_images=ims[1:], duration=ms, loop=0)
    return path


def _apng(path, frames: np.ndarray):
    ims = [Image.fromarray(f) for f in frames]
    ims[0].save(path, format="PNG", save_all=True, append_images=ims[1:], duration=100)
    return path


@pytest.mark.parametrize("write", [_gif, _apng], ids=["gif", "apng"])
def test_frames_are_pages_only_when_asked(tmp_path, write):
    frames = _frames()
    path = write(tmp_path / ("clip.gif" if write is _gif else "clip.png"), frames)
    np.testing.assert_array_equal(read_stack(path, frames=True), frames)
    assert stack_shape(path, frames=True) == (T, H, W)
    for read in (read_stack, read_image, stack_shape):
        with pytest.raises(ImageReadError) as err:
            read(path)
        assert str(err.value) == (
            f"{path}: {T} frames: save them as PNG files or a TIFF stack (Fiji: File > Save As "
            "> Image Sequence)"
        )


def test_grey_gif_frames_read_alike(tmp_path, caplog):
    """Pillow gives a GIF's first frame as a palette image and the others as RGB: all come
    back as pages of one shape, grey for a grey GIF (it was read as colour, and predicted as
    'colour image given to a grey model', s30); colour if any frame has colour."""
    grey = np.random.default_rng(1).integers(0, 4, (T, H, W)).astype(np.uint8) * 60
    path = _gif(tmp_path / "g.gif", grey)
    np.testing.assert_array_equal(read_stack(path, frames=True), grey)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    with caplog.at_level("WARNING", logger="unetlab"):
        predict_file(model, path, tmp_path / "out")
    assert "colour" not in caplog.text
    mixed = np.repeat(grey[..., None], 3, axis=-1)
    mixed[-1, 0, 0] = (200, 30, 40)
    pages = read_stack(_gif(tmp_path / "m.gif", mixed), frames=True)
    np.testing.assert_array_equal(pages, mixed)


def test_predict_gif_writes_every_frame(tmp_path):
    frames = _frames()
    path = _gif(tmp_path / "clip.gif", frames, ms=40)
    model = UNet(3, 3, depth=2, base_channels=4, padding="same").eval()
    written = predict_file(model, path, tmp_path / "out")
    assert [p.name for p in written] == ["clip.tif"]
    with tifffile.TiffFile(written[0]) as tif:
        assert tif.series[0].axes == "TYX"
        assert tif.imagej_metadata["finterval"] == pytest.approx(0.04)
        labels = tif.asarray()
    want = [predict_image(model, f).argmax(0) for f in frames]
    np.testing.assert_array_equal(labels, np.stack(want))


def test_training_refuses_an_animated_mask(tmp_path):
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    Image.fromarray(_frames()[0]).save(tmp_path / "images" / "a.png")
    masks = (_frames()[..., 0] > 100).astype(np.uint8)
    _apng(tmp_path / "masks" / "a.png", masks)
    with pytest.raises((DatasetError, ImageReadError), match="5 frames: save them as PNG"):
        [read_pair(p) for p in find_pairs(tmp_path)]


def test_a_data_folder_takes_gif_files(tmp_path):
    """A folder search took only named GIFs (s30): images/ and masks/ of GIFs pair."""
    image = np.random.default_rng(2).integers(0, 4, (H, W)).astype(np.uint8) * 60
    for sub, array in (("images", image), ("masks", (image > 60).astype(np.uint8))):
        (tmp_path / sub).mkdir()
        Image.fromarray(array).save(tmp_path / sub / "a.gif")
    (pair,) = find_pairs(tmp_path)
    assert (pair.image.name, pair.mask.name) == ("a.gif", "a.gif")
    got_image, got_mask = read_pair(pair)[:2]
    np.testing.assert_array_equal(got_image, image)
    np.testing.assert_array_equal(got_mask, image > 60)
