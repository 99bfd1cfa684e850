"""A checkpoint records, as a fact, whether its training images' channels were an RGB
picture's colours or separate stains (``appearance["channels"]``), so that a grey image is
repeated into a 16-bit RGB model's colours (with the warning) and refused for a 16-bit
stains model, where the checkpoint records no data.axes: the dtype rule alone ("uint16
images" -> stains) refused a grey image for a 16-bit RGB TIFF model."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.test_trained_axes import H, W, _net
from unetlab import predict_image
from unetlab.config import load_config
from unetlab.data.colour import channels_kind, same_kind
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.inference.pages import stains_of


def _rgb16(path: Path, image: np.ndarray) -> None:
    tifffile.imwrite(path.with_suffix(".tif"), image.astype(np.uint16) * 200, photometric="rgb")


def _cyx16(path: Path, image: np.ndarray) -> None:
    cyx = np.moveaxis(image.astype(np.uint16) * 200, -1, 0)
    tifffile.imwrite(
        path.with_suffix(".tif"), cyx, photometric="minisblack", metadata={"axes": "CYX"}
    )


def _rgb8(path: Path, image: np.ndarray) -> None:
    write_png(path.with_suffix(".png"), image)


def _data(root: Path, write) -> Path:
    """Two 3-channel images of 32x32 (written by ``write``) and their masks under ``root``."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for stem in ("a", "b"):
        image = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        write(root / "images" / stem, image)
        write_png(root / "masks" / f"{stem}.png", np.where(image[..., 0] > 128, 255, 0))
    return root


def _trained_record(root: Path) -> dict:
    from unetlab.train.setup import prepare_data

    settings = ["data.label_values=[0, 255]", "model.in_channels=3", "data.val_fraction=0"]
    return prepare_data(load_config(None, [f"data.root={root}", *settings])).appearance


def _model(record: dict) -> object:
    net = _net(None, 3)
    net.appearance, net.normalization = record, {"mode": "per_image"}
    return net


def _grey() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 255, (H, W), dtype=np.uint8)


@pytest.mark.parametrize(
    "write, kind, dtype",
    [(_rgb16, "colours", "uint16"), (_cyx16, "stains", "uint16"), (_rgb8, "colours", "uint8")],
    ids=["rgb16", "cyx16", "rgb8"],
)
def test_training_records_what_its_images_channels_were(tmp_path, write, kind, dtype):
    record = _trained_record(_data(tmp_path / "d", write))
    assert record["channels"] == kind and record["dtype"] == dtype


def test_a_16_bit_rgb_model_repeats_a_grey_image_a_16_bit_cyx_one_refuses_it(tmp_path, caplog):
    """A 16-bit RGB TIFF model refused a grey image ("uint16 images, 3 channels (stains, not
    colours)"); now it is repeated with the warning, as for an 8-bit RGB model; a 16-bit
    CYX model still refuses it."""
    rgb16 = _model(_trained_record(_data(tmp_path / "rgb16", _rgb16)))
    assert stains_of(rgb16) is None
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_image(rgb16, _grey()).shape[-2:] == (H, W)
    assert "its channel is repeated" in caplog.text
    cyx16 = _model(_trained_record(_data(tmp_path / "cyx16", _cyx16)))
    assert stains_of(cyx16) == "uint16 images"
    with pytest.raises(UnetlabError, match=r"trained on uint16 images, 3 channels \(stains"):
        predict_image(cyx16, _grey())
    rgb8 = _model(_trained_record(_data(tmp_path / "rgb8", _rgb8)))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_image(rgb8, _grey()).shape[-2:] == (H, W)
    assert "its channel is repeated" in caplog.text


def test_the_recorded_channels_come_before_the_dtype_rule():
    """A record's word wins over the dtype and normalisation rules of older checkpoints."""
    colours = {"dtype": "uint16", "images": 2, "mean": [1.0] * 3, "channels": "colours"}
    assert stains_of(_model(colours)) is None
    assert stains_of(_model({**colours, "channels": "stains", "dtype": "uint8"})) == "uint8 images"
    assert stains_of(_model({**colours, "channels": None})) == "uint16 images"  # older: dtype


def test_what_a_files_channels_are(tmp_path):
    """As training reads them: the axes given first (YXC: colours; CYX: stains), then the
    file (an RGB TIFF or PNG: colours; CYX, an OME-Zarr folder: stains); planar RGB planes
    that record no axes are read as pages (nothing to say); mixed kinds tell nothing."""
    image = np.zeros((8, 9, 3), np.uint8)
    _rgb16(tmp_path / "r", image)
    _cyx16(tmp_path / "c", image)
    _rgb8(tmp_path / "p", image)
    bare = dict(photometric="rgb", planarconfig="separate")  # as tifffile wrote it unasked
    tifffile.imwrite(tmp_path / "bare.tif", np.zeros((3, 8, 9), np.uint16), **bare)
    (tmp_path / "z.zarr").mkdir()
    r, c, p = tmp_path / "r.tif", tmp_path / "c.tif", tmp_path / "p.png"
    assert [channels_kind(f) for f in (r, c, p)] == ["colours", "stains", "colours"]
    assert channels_kind(c, "YXC") == "colours" and channels_kind(r, "CYX") == "stains"
    assert channels_kind(p, "CYX") == "colours"  # no TIFF: read as it is
    assert channels_kind(tmp_path / "bare.tif") is None
    assert channels_kind(tmp_path / "z.zarr") == "stains"
    assert same_kind(channels_kind(f) for f in (r, p, r)) == "colours"
    assert same_kind(channels_kind(f) for f in (r, c)) is None
    assert same_kind([]) is None


def test_a_checkpoint_and_a_package_carry_what_the_channels_were(tmp_path, caplog):
    """The record travels in the checkpoint and in a bioimage.io package, whose model then
    repeats a grey image into a 16-bit RGB model's colours as the checkpoint's does."""
    from unetlab import save_model
    from unetlab.checkpoint import load_model
    from unetlab.inference.bioimageio import export_bioimageio
    from unetlab.packages import load_package

    record = {"dtype": "uint16", "images": 2, "mean": [1.0] * 3, "sd": [1.0] * 3}
    model = _model({**record, "channels": "colours"})
    loaded = load_model(save_model(tmp_path / "m.pt", model))
    assert loaded.appearance["channels"] == "colours" and stains_of(loaded) is None
    sample = np.random.default_rng(6).integers(0, 60000, (128, 128, 3), dtype=np.uint16)
    how = dict(sample=sample, weight_formats=("pytorch_state_dict",))
    package = load_package(export_bioimageio(loaded, tmp_path / "p", **how))
    assert package.appearance["channels"] == "colours"
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_image(package, _grey()).shape[-2:] == (H, W)
    assert "its channel is repeated" in caplog.text


def _cyx_mixed(path: Path, image: np.ndarray) -> None:
    """a: 8-bit stains, b: 16-bit stains (CYX), one training set."""
    cyx = np.moveaxis(image, -1, 0).astype(np.uint8 if path.stem == "a" else np.uint16)
    tifffile.imwrite(
        path.with_suffix(".tif"), cyx, photometric="minisblack", metadata={"axes": "CYX"}
    )


def test_stains_of_several_dtypes_stay_stains(tmp_path, caplog):
    """8-bit and 16-bit CYX stains trained one model that recorded nothing (their figures are
    in no one unit), so it repeated a grey image into its stains as an RGB model does: the
    record keeps what the channels were, with the dtypes, and no figures to compare with."""
    from unetlab.data.appearance import appearance_shift

    record = _trained_record(_data(tmp_path / "d", _cyx_mixed))
    assert record == {"dtypes": ["uint16", "uint8"], "channels": "stains"}
    model = _model(record)
    with pytest.raises(UnetlabError, match=r"trained on uint16 and uint8 images, 3 channels"):
        predict_image(model, _grey())
    assert appearance_shift(record, np.ones(3), np.uint16) is None  # no "None images" line
    image = np.random.default_rng(2).integers(0, 60000, (H, W, 3), dtype=np.uint16)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_image(model, image).shape[-2:] == (H, W)
    assert "trained on" not in caplog.text
