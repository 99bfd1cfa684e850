"""A grey image given to a model whose channels are stains (CYX, not an RGB picture's
colours) is refused in one line by every entry point, not only by ``unetlab predict`` with a
checkpoint that records ``data.axes``: predict_image, the napari plugin's decision, a
bioimage.io package's sample and a checkpoint without recorded axes (its training images'
dtype tells stains from colours) repeated the grey picture into every channel."""

from __future__ import annotations

import logging
import re

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from tests.test_trained_axes import H, W, _net
from unetlab import predict_image, save_model
from unetlab.checkpoint import load_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.pages import stains_of
from unetlab.napari.core import channel_problem, grey_layer_problem, predict_planes


def _old(channels: int = 3, dtype: str | None = "uint16", **normalization) -> object:
    """A ``channels`` model whose checkpoint records no axes, trained on ``dtype`` images."""
    net = _net(None, channels)
    net.appearance = None if dtype is None else {"dtype": dtype, "images": 2, "mean": [1.0] * 3}
    net.normalization = {"mode": "per_image", **normalization}
    return net


def _grey() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (H, W), dtype=np.uint8)


def test_what_tells_a_models_channels_are_stains():
    """Its recorded axes with C (not YXC); none recorded, its images' dtype: 8-bit images,
    bright-field tissue or ImageNet normalisation, or no record at all are colours (or
    nothing tells): the grey image is repeated into them as before."""
    assert stains_of(_net("CYX", 3)) == "CYX" and stains_of(_net("ZCYX", 2)) == "ZCYX"
    assert stains_of(_net("YXC", 3)) is None and stains_of(_net("CYX", 1)) is None
    assert stains_of(_old()) == "uint16 images" and stains_of(_old(2, "float32"))
    assert stains_of(_old(dtype="uint8")) is None and stains_of(_old(dtype=None)) is None
    assert stains_of(_old(tissue=True)) is None
    assert stains_of(_old(mode="imagenet")) is None
    assert stains_of(_old(1)) is None


def test_predict_image_refuses_a_grey_array_for_a_stains_model(caplog):
    """predict_image repeated a grey array into a CYX model's 3 stains with a warning."""
    said = "image: a grey image (one channel); the model was trained on CYX, 3 channels"
    with pytest.raises(UnetlabError, match=re.escape(said)):
        predict_image(_net("CYX", 3), _grey())
    with pytest.raises(UnetlabError, match="trained on uint16 images, 3 channels"):
        predict_image(_old(), _grey())
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_image(_old(dtype="uint8"), _grey()).shape[-2:] == (H, W)
    assert "its channel is repeated" in caplog.text


def test_a_checkpoint_without_axes_refuses_a_grey_picture_as_one_with_them(tmp_path, capsys):
    """A 16-bit stains model's checkpoint that records no data.axes repeated a grey PNG into
    its 3 channels; now the line of one that records CYX, from the API and the CLI. An
    8-bit (RGB) model's still repeats it."""
    iio.imwrite(tmp_path / "g.png", _grey())
    stains = save_model(tmp_path / "s.pt", _old(), appearance=_old().appearance)
    model = load_model(stains)
    assert model.training_data is None and stains_of(model) == "uint16 images"
    line = (
        "g.png: a grey image (one channel); the model was trained on uint16 images, 3 "
        "channels (stains, not colours)"
    )
    with pytest.raises(UnetlabError, match=re.escape(line)):
        predict_file(model, tmp_path / "g.png", tmp_path / "o")
    argv = ["predict", "--checkpoint", str(stains), "--input", str(tmp_path / "g.png")]
    capsys.readouterr()
    assert main([*argv, "--output", str(tmp_path / "p"), "--no-progress"]) != 0
    err = capsys.readouterr().err
    assert line in err and "Traceback" not in err
    rgb = save_model(tmp_path / "r.pt", _old(dtype="uint8"), appearance={"dtype": "uint8"})
    assert predict_file(load_model(rgb), tmp_path / "g.png", tmp_path / "r")


def test_the_napari_plugin_decides_as_predict_does():
    """The widget's decision (channel_problem, grey_layer_problem) let a grey layer through
    for a 3-channel model, and predict_planes repeated it into the stains."""
    stains = stains_of(_net("CYX", 3))
    line = grey_layer_problem(rgb=False, in_channels=3, stains=stains)
    assert line == (
        "the layer: a grey image (one channel); the model was trained on CYX, 3 channels "
        "(stains, not colours), which a grey plane is not: choose a layer of its 3 channels "
        "(as the model's training images were) and their axis, or convert this layer to 3 "
        "channels"
    )
    shape = (H, W)
    how = dict(channel_axis=None, channel=None, in_channels=3)
    assert channel_problem(shape, rgb=False, stains=stains, **how) == line
    assert channel_problem(shape, rgb=False, stains=None, **how) is None  # an RGB model
    assert channel_problem((H, W, 3), rgb=True, stains=stains, **how) is None
    assert (
        channel_problem((3, H, W), rgb=False, stains=stains, **{**how, "channel_axis": 0}) is None
    )
    with pytest.raises(UnetlabError, match=re.escape(line)):
        predict_planes(_net("CYX", 3), _grey())
    assert predict_planes(_net(None, 3), _grey()).labels.shape == (H, W)
    cyx = np.stack([_grey()] * 3)
    assert predict_planes(_net("CYX", 3), cyx, channel_axis=0).labels.shape == (H, W)


def test_a_packages_grey_sample_is_refused_for_a_stains_model(tmp_path):
    """Export repeated a grey sample into a CYX model's stains with a warning (its test
    tensors then unlike the training images); the package's model refuses a grey image."""
    from unetlab.inference.bioimageio import export_bioimageio
    from unetlab.packages import load_package

    model = _net("CYX", 3)
    grey = np.random.default_rng(6).integers(0, 255, (128, 128), dtype=np.uint8)
    with pytest.raises(UnetlabError, match="the sample image: a grey image .* trained on CYX"):
        export_bioimageio(
            model, tmp_path / "g", sample=grey, weight_formats=("pytorch_state_dict",)
        )
    assert not (tmp_path / "g").exists()
    sample = np.stack([grey] * 3, axis=-1)
    dest = export_bioimageio(
        model, tmp_path / "p", sample=sample, weight_formats=("pytorch_state_dict",)
    )
    with pytest.raises(UnetlabError, match="a grey image .* trained on CYX, 3 channels"):
        predict_image(load_package(dest), _grey())


@pytest.mark.parametrize("read", [{}, {"large_threshold": 100}], ids=["whole", "streamed"])
def test_a_grey_tiff_is_refused_for_a_stains_model_without_axes_read_whole_or_streamed(
    tmp_path, read
):
    """A grey TIFF given to a 16-bit stains model whose checkpoint records no axes was
    repeated into its channels, read whole and window by window (a large image); a grey
    TIFF given --axes YX is the user's word: repeated, as for a model of recorded axes."""
    tifffile.imwrite(tmp_path / "g.tif", _grey())
    with pytest.raises(UnetlabError, match="g.tif: a grey image .* on uint16 images, 3 channels"):
        predict_file(_old(), tmp_path / "g.tif", tmp_path / "o", **read)
    assert predict_file(_old(), tmp_path / "g.tif", tmp_path / "a", axes="YX", **read)


def test_a_package_of_a_stains_model_without_axes_refuses_a_grey_image(tmp_path):
    """A package exported from a 16-bit stains model whose checkpoint records no axes left
    out the training images' record (its appearance), so the package's model repeated a
    grey image into its stains; the package now carries it, with its intensity check."""
    from unetlab.inference.bioimageio import export_bioimageio
    from unetlab.packages import load_package

    model = _old()
    sample = np.random.default_rng(6).integers(0, 60000, (128, 128, 3), dtype=np.uint16)
    how = dict(sample=sample, weight_formats=("pytorch_state_dict",))
    loaded = load_package(export_bioimageio(model, tmp_path / "p", **how))
    assert loaded.appearance == model.appearance
    with pytest.raises(UnetlabError, match="a grey image .* trained on uint16 images, 3 chan"):
        predict_image(loaded, _grey())


def test_a_stains_model_without_its_training_data_exports_with_the_synthetic_sample(
    tmp_path, caplog
):
    """With no --sample and no training images at hand, export makes a synthetic grey
    sample of its own and repeats it into the channels, as it says; the refusal of a grey
    sample given (above) refused this one too, naming a "sample image" the user never gave,
    and a CYX model could not be exported without its data."""
    from unetlab.inference.bioimageio import export_bioimageio
    from unetlab.packages import load_package

    with caplog.at_level(logging.WARNING):
        dest = export_bioimageio(
            _net("CYX", 3), tmp_path / "p", weight_formats=("pytorch_state_dict",)
        )
    (line,) = [r.getMessage() for r in caplog.records]  # not "the sample image is grey"
    assert line.startswith("sample image: a synthetic EM image (")
    assert "), its one channel repeated into the model's 3; an image like the training " in line
    assert "images as sample= gives" in line  # export_bioimageio's keyword (s54: --sample)
    with pytest.raises(UnetlabError, match="a grey image .* trained on CYX, 3 channels"):
        predict_image(load_package(dest), _grey())


def test_a_layer_of_planes_with_no_channel_axis_is_told_to_choose_it_for_a_stains_model():
    """A (3, H, W) layer with no channel axis chosen, given to a CYX model, was told it was
    "a grey image (one channel)" and to convert it (by the widget and predict_planes): the
    line names its planes and the axis to choose, as the widget says for other models."""
    model = _net("CYX", 3)
    cyx = np.stack([_grey()] * 3)
    how = dict(channel_axis=None, channel=None, in_channels=3, stains=stains_of(model))
    line = channel_problem(cyx.shape, rgb=False, **how)
    assert line == (
        "the layer has 3 planes and no axis of channels chosen; the model takes 3 channels "
        "(stains: trained on CYX), not one grey plane at a time: choose the layer's axis of "
        "channels (channel_axis=)"
    )
    with pytest.raises(UnetlabError, match=re.escape(line)):
        predict_planes(model, cyx)
    assert "2 x 3 planes" in channel_problem((2, 3, H, W), rgb=False, **how)
    assert predict_planes(model, cyx, channel_axis=0).labels.shape == (H, W)


@pytest.mark.parametrize(
    "axes, stains",
    [("CYX", True), ("cyx", True), ("ZCYX", True), ("TCZYX", True), ("YXC", False)]
    + [("ZYXC", False), ("TYXC", False), ("yxc", False), ("ZYX", False), ("YX", False)],
)
def test_stains_are_a_c_axis_that_is_no_pictures_colours_last(axes, stains):
    from unetlab.data.io import stain_axes

    assert stain_axes(axes) is stains


def test_a_model_trained_on_stacks_of_colour_pictures_repeats_a_grey_one():
    from types import SimpleNamespace

    from unetlab.inference.pages import stains_of

    model = SimpleNamespace(in_channels=3, training_data={"axes": "ZYXC"})
    assert stains_of(model) is None
    assert stains_of(SimpleNamespace(in_channels=3, training_data={"axes": "CYX"})) == "CYX"
