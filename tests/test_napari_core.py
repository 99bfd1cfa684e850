"""The napari plugin's logic, without napari: planes of a layer, prediction with progress and
cancel, the layers to add, the sample, and the npe2 manifest's references."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
import yaml

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.tiffmeta import series_axes
from unetlab.errors import UnetlabError
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, predict_objects
from unetlab.inference.predict import fit_channels, labels_from_probabilities, predict_image
from unetlab.models import UNet
from unetlab.napari.core import (
    FEW_CHANNELS,
    AxisReading,
    PredictionCancelled,
    axis_names,
    channel_axis_choices,
    channel_problem,
    chosen_axes,
    count_tiles,
    default_channel,
    layer_axes,
    layer_tuples,
    model_summary,
    plane_geometry,
    planes,
    predict_planes,
    read_layer_axes,
    sample_data,
    spatial_scale,
)

MANIFEST = Path(__file__).resolve().parents[1] / "src" / "unetlab" / "napari" / "napari.yaml"


def _tiny(in_channels: int = 1) -> UNet:
    model = UNet(in_channels, 2, depth=2, base_channels=2, padding="same").eval()
    model.classes = ["membrane", "cell"]
    return model


def test_planes_of_images_stacks_and_rgb():
    assert [p.shape for p in planes(np.zeros((5, 6)), rgb=False, channels=1)] == [(5, 6)]
    assert [p.shape for p in planes(np.zeros((2, 5, 6)), rgb=False, channels=1)] == [(5, 6)] * 2
    assert [p.shape for p in planes(np.zeros((5, 6, 3)), rgb=True, channels=3)] == [(5, 6, 3)]
    grey = np.arange(30).reshape(5, 6)
    (rgb,) = planes(grey, rgb=False, channels=3)
    assert rgb.shape == (5, 6, 3) and np.array_equal(rgb[:, :, 2], grey)
    # a (T, Z, Y, X) layer: its planes in order (audit s28 stacks, finding 5)
    assert [p.shape for p in planes(np.zeros((2, 3, 5, 6)), rgb=False, channels=1)] == [(5, 6)] * 6
    with pytest.raises(UnetlabError, match="5 spatial axes"):
        planes(np.zeros((2, 2, 3, 5, 6)), rgb=False, channels=1)


def test_predict_planes_equals_predict_image_with_progress_and_objects():
    model = _tiny()
    stack = np.random.default_rng(0).integers(0, 255, (3, 40, 36), dtype=np.uint8)
    done = []
    result = predict_planes(model, stack, objects=True, progress=done.append)
    assert result.labels.shape == stack.shape and result.objects.shape == stack.shape
    for plane, labels, ids in zip(stack, result.labels, result.objects):
        probs = predict_image(model, plane)
        assert np.array_equal(labels, labels_from_probabilities(probs))
        assert np.array_equal(
            ids, objects_from_probabilities(probs, ObjectOptions.for_model(model))
        )
    assert sum(done) == count_tiles(model, (40, 36), 3)
    assert result.classes == ["membrane", "cell"]
    single = predict_planes(model, stack[0])
    assert single.labels.shape == (40, 36) and single.objects is None


def test_objects_of_a_nuclei_model_are_the_cli_objects():
    """An instance (background / boundary / interior) model: the widget's objects are those
    of ``predict --instances`` (``predict_objects``), one per nucleus, not one per connected
    piece of the boundary and of the interior class."""
    net = local_net()
    stack = np.stack([nuclei_image(90, 80, seed) for seed in (0, 1)])
    result = predict_planes(net, stack, objects=True)
    assert result.labels.shape == result.objects.shape == stack.shape
    for plane, ids in zip(stack, result.objects):
        expected, _ = predict_objects(net, plane)
        assert expected.max() >= 10
        assert np.array_equal(ids, expected)
    single = predict_planes(net, stack[0], objects=True).objects
    assert np.array_equal(single, result.objects[0])
    # the ids' dtype rule (least_ids: uint16 here), as the files and predict_objects: no int32
    assert result.objects.dtype == single.dtype == expected.dtype == np.uint16


def test_cancel_stops_at_the_next_batch():
    model = _tiny()
    stack = np.zeros((4, 32, 32), np.uint8)
    seen = []
    with pytest.raises(PredictionCancelled):
        predict_planes(model, stack, progress=seen.append, cancelled=lambda: len(seen) >= 1)
    assert len(seen) == 1  # one batch of the first of 4 planes, then the cancel


def test_layer_tuples_name_the_classes():
    model = _tiny()
    result = predict_planes(model, np.zeros((32, 32), np.uint8), objects=True)
    (labels, kwargs, kind), (ids, obj_kwargs, obj_kind) = layer_tuples(
        result, name="em", scale=(0.5, 0.5)
    )
    assert kind == obj_kind == "labels" and labels is result.labels and ids is result.objects
    assert kwargs["name"] == "em classes" and obj_kwargs["name"] == "em objects"
    assert kwargs["features"] == {"index": [0, 1], "class": ["membrane", "cell"]}
    assert kwargs["metadata"]["unetlab_classes"] == {0: "membrane", 1: "cell"}
    assert kwargs["scale"] == obj_kwargs["scale"] == (0.5, 0.5)


def test_the_widget_s_layers_name_their_axes_as_the_reader_s(monkeypatch):
    """The widget's output layers had the image layer's scale but no axis_labels or units,
    where the reader's layers of the same outputs name them: now the image layer's, less its
    channel axis as from its scale, by the reader's keywords; none where napari is older
    than 0.5.1, as the reader's (s51 axes4d2 item 3)."""
    from unetlab.napari import reader

    result = predict_planes(_tiny(), np.zeros((2, 32, 32), np.uint8), objects=True)
    labels, units = ("z", "c", "y", "x"), ("micrometer", "pixel", "micrometer", "micrometer")
    axes = layer_axes(labels, units, channel_axis=1, ndim=3)
    assert axes == reader.axes_keywords(("z", "y", "x"), ("micrometer",) * 3)
    assert axes == {"axis_labels": ("z", "y", "x"), "units": ("micrometer",) * 3}
    for _, kwargs, _ in layer_tuples(result, name="em", scale=(2.0, 0.5, 0.5), axes=axes):
        assert (kwargs["axis_labels"], kwargs["units"]) == (axes["axis_labels"], axes["units"])
        assert kwargs["scale"] == (2.0, 0.5, 0.5)
    assert layer_axes(None, None, channel_axis=None, ndim=3) == {}  # napari < 0.5: none
    monkeypatch.setattr(reader, "napari_names_axes", lambda: False)
    assert layer_axes(labels, units, channel_axis=1, ndim=3) == {}


def test_sample_data_is_the_synthetic_em_image():
    (image, meta, kind), (truth, _, truth_kind) = sample_data()
    assert kind == "image" and truth_kind == "labels" and meta["name"] == "synthetic EM"
    assert image.shape == truth.shape == (512, 512) and image.dtype == np.uint8
    assert set(np.unique(truth)) == {0, 1}


def test_manifest_names_this_package_and_existing_callables():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["name"] == "unetlab"
    commands = {c["id"]: c["python_name"] for c in manifest["contributions"]["commands"]}
    for entry in manifest["contributions"]["widgets"] + manifest["contributions"]["sample_data"]:
        assert entry["command"] in commands
    module, name = commands["unetlab.synthetic_em"].split(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert commands["unetlab.predict_widget"] == "unetlab.napari.widget:PredictWidget"
    pyproject = (MANIFEST.parents[3] / "pyproject.toml").read_text()
    assert 'unetlab = "unetlab.napari:napari.yaml"' in pyproject


def test_a_channels_layer_is_predicted_on_the_channel_chosen_not_as_planes():
    """napari opens a CYX file as one (2, H, W) layer: the DAPI model predicted its
    membrane channel as a second plane (111 'nuclei'); a ZCYX layer was '4 spatial axes'."""
    model = _tiny()
    zcyx = np.random.default_rng(3).integers(0, 4000, (3, 2, 40, 36), dtype=np.uint16)
    cyx = zcyx[0]
    one = predict_planes(model, cyx, channel_axis=0, channel=1)
    expected = labels_from_probabilities(predict_image(model, cyx[1]))
    assert np.array_equal(one.labels, expected)
    with pytest.raises(UnetlabError, match="the layer: has 2 channels, the model takes 1"):
        predict_planes(model, cyx, channel_axis=0)
    stack = predict_planes(model, zcyx, channel_axis=1, channel=0)
    assert stack.labels.shape == (3, 40, 36)
    for z in range(3):
        plane = labels_from_probabilities(predict_image(model, zcyx[z, 0]))
        assert np.array_equal(stack.labels[z], plane)
    with pytest.raises(
        UnetlabError, match=r"5 spatial axes.*\(T, Z, C, Y, X\), give its channel_axis"
    ):
        predict_planes(model, zcyx[None])
    rgb_like = cyx[:1].repeat(3, axis=0).astype(np.uint8)  # 8-bit, but channels: no luminance
    with pytest.raises(UnetlabError, match="has 3 channels, the model takes 1"):
        predict_planes(model, rgb_like, channel_axis=0)
    with pytest.raises(UnetlabError, match="takes 2 channels"):
        predict_planes(_tiny(2), cyx, channel_axis=0, channel=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_an_rgb_layer_gives_a_grey_model_its_luminance_whatever_its_dtype(dtype):
    """napari's rgb flag says R, G, B: a 16-bit RGB layer was refused as '3 channels', and
    an RGB layer has no channel axis to choose one from."""
    rgb = np.random.default_rng(6).integers(0, 200, (40, 36, 3)).astype(dtype)
    model = _tiny()
    got = predict_planes(model, rgb, rgb=True).labels
    want = labels_from_probabilities(predict_image(model, fit_channels(rgb, 1, colour=True)))
    assert np.array_equal(got, want)


def test_channel_axis_choices_are_the_leading_axes_of_a_grey_layer():
    assert channel_axis_choices((5, 6), rgb=False) == []
    assert channel_axis_choices((5, 6, 3), rgb=True) == []
    assert channel_axis_choices((2, 5, 6), rgb=False) == [0]
    assert channel_axis_choices((4, 2, 5, 6), rgb=False) == [0, 1]


@pytest.mark.parametrize("shape", [(3, 40, 36), (4, 40, 36), (2, 40, 36), (3, 2, 40, 36)])
@pytest.mark.parametrize(
    "model", [dict(in_channels=1), dict(in_channels=1, channel=1), {"in_channels": 3}]
)
def test_a_short_grey_stack_that_names_no_axes_is_planes_whatever_the_model(shape, model):
    """A (3, Y, X) z-stack or (4, Y, X) time series was taken for channels by default when
    its length was the model's channel count (or held the channel a grey model records)."""
    reading = read_layer_axes(shape, rgb=False, **model)
    assert reading.axis is None
    assert reading.why.startswith(f"{' x '.join(map(str, shape[:-2]))} planes (ax")
    assert "nothing names the layer's axes" in reading.why


def test_a_layer_that_names_no_axes_says_which_may_hold_the_models_channels():
    grey = dict(rgb=False, in_channels=1)
    assert read_layer_axes((3, 40, 36), rgb=False, in_channels=3) == AxisReading(
        None,
        "3 planes (axis 0): nothing names the layer's axes; if axis 0 holds channels (the "
        "model takes 3), choose it as the channel axis",
    )
    assert read_layer_axes((3, 2, 40, 36), **grey, channel=1).why == (
        "3 x 2 planes (axes 0, 1): nothing names the layer's axes; if axis 1 holds channels "
        "(the model was trained on channel 1), choose it as the channel axis"
    )
    assert read_layer_axes((FEW_CHANNELS + 1, 40, 36), **grey, channel=0).why.endswith(
        "if one holds channels, choose it as the channel axis"
    )
    assert read_layer_axes((40, 36), **grey) == AxisReading(None, "")
    assert read_layer_axes((40, 36, 3), rgb=True, in_channels=1) == AxisReading(
        None, "an RGB layer: its colours are its channels"
    )


def test_napari_axis_labels_say_which_axis_holds_channels():
    grey = dict(rgb=False, in_channels=1)
    zc = read_layer_axes((3, 2, 40, 36), **grey, axis_labels=("z", "C", "y", "x"))
    assert zc == AxisReading(1, "2 channels on axis 1, as its axis labels say")
    assert read_layer_axes((12, 40, 36), **grey, axis_labels=("channel", "y", "x")).axis == 0
    assert read_layer_axes((2, 40, 36), **grey, axis_labels=("z", "y", "x")) == AxisReading(
        None, "2 planes (axis 0), as its axis labels say"
    )
    assert read_layer_axes((3, 40, 36), rgb=False, in_channels=3, axis_labels="tyx").axis is None
    # names that say nothing (or of the wrong number) leave it to what else the layer says
    for names in (("a", "b", "c2"), ("c", "y")):
        assert read_layer_axes((2, 40, 36), **grey, channel=0, axis_labels=names).axis is None


def test_the_file_a_layer_was_read_from_says_its_axes(tmp_path):
    zcyx = np.zeros((2, 3, 40, 36), np.uint16)
    tifffile.imwrite(tmp_path / "ij.tif", zcyx, imagej=True, metadata={"axes": "ZCYX"})
    tifffile.imwrite(tmp_path / "plain.tif", zcyx[0], photometric="minisblack")  # Q axes
    # what tifffile.imwrite(path, (3, Y, X) array) writes: planar "RGB" samples, no axes
    rgbish = dict(photometric="rgb", planarconfig="separate")
    tifffile.imwrite(tmp_path / "rgbish.tif", zcyx[0].astype(np.uint8), **rgbish)
    tifffile.imwrite(tmp_path / "z.tif", zcyx[:, 0], imagej=True, metadata={"axes": "ZYX"})
    ij = series_axes(tmp_path / "ij.tif")
    assert ij == ("ZCYX", (2, 3, 40, 36))
    grey = dict(rgb=False, in_channels=1)
    assert read_layer_axes(zcyx.shape, **grey, file_axes=ij) == AxisReading(
        1, "3 channels on axis 1, as the file's axes ZCYX say"
    )
    # one channel of it, split by napari (viewer.open(path, channel_axis=1)): planes
    assert read_layer_axes((2, 40, 36), **grey, file_axes=ij) == AxisReading(
        None, "2 planes (axis 0): one channel of a ZCYX file, split off by napari"
    )
    z = series_axes(tmp_path / "z.tif")
    assert read_layer_axes((2, 40, 36), **grey, file_axes=z).why == (
        "2 planes (axis 0), as the file's axes ZYX say"
    )
    for name in ("plain.tif", "rgbish.tif"):  # they name nothing
        said = read_layer_axes(
            (3, 40, 36), rgb=False, in_channels=3, file_axes=series_axes(tmp_path / name)
        )
        assert said.axis is None and "nothing names" in said.why
    # napari's own labels come first; a file of another shape says nothing
    assert read_layer_axes(zcyx.shape, **grey, file_axes=ij, axis_labels="tzyx").axis is None
    assert read_layer_axes((5, 40, 36), **grey, file_axes=ij).why.startswith("5 planes")
    assert series_axes(None) is None and series_axes(tmp_path / "gone.tif") is None
    (tmp_path / "text.tif").write_text("not a TIFF")
    assert series_axes(tmp_path / "text.tif") is None


def test_a_chosen_axis_is_said_as_chosen():
    assert chosen_axes((3, 40, 36), 0) == "3 channels on axis 0, as chosen"
    assert chosen_axes((3, 2, 40, 36), None) == "3 x 2 planes (axes 0, 1), as chosen"


def test_axis_names_leave_out_napari_defaults():
    assert axis_names(("-3", "-2", "-1"), 3) is None
    assert axis_names(("axis -2", "axis -1"), 2) is None
    assert axis_names(None, 2) is None
    assert axis_names(("c", "y", "x"), 3) == ("c", "y", "x")
    assert axis_names(("y", "x"), 3) is None  # an RGB layer's: not the data's axes
    assert axis_names("czyx", 4) == ("c", "z", "y", "x")


def test_default_channel_is_the_one_the_model_records():
    assert default_channel(2, in_channels=1, channel=1) == 1
    assert default_channel(2, in_channels=1, channel=None) is None
    assert default_channel(1, in_channels=1, channel=1) is None  # the layer lacks it
    assert default_channel(2, in_channels=2, channel=None) is None


def test_channel_problem_names_the_choice_to_make():
    cyx = (2, 40, 36)
    ok = dict(rgb=False, in_channels=1)
    assert channel_problem(cyx, channel_axis=0, channel=1, **ok) is None
    assert channel_problem(cyx, channel_axis=None, channel=None, **ok) is None
    assert channel_problem(cyx, channel_axis=0, channel=None, **ok) == (
        "the layer has 2 channels (axis 0), the model takes 1: choose the channel to predict"
    )
    two = dict(rgb=False, in_channels=2)
    assert channel_problem(cyx, channel_axis=0, channel=None, **two) is None
    assert "choose the layer's axis of channels" in channel_problem(
        cyx, channel_axis=None, channel=None, **two
    )
    assert "predict all channels" in channel_problem(cyx, channel_axis=0, channel=1, **two)
    assert channel_problem((3, 2, 40, 36), channel_axis=-4, channel=None, **two) == (
        "the layer has 3 channels (axis 0), the model takes 2: choose the axis of its channels"
    )
    assert (
        channel_problem((40, 36, 3), rgb=True, channel_axis=None, channel=None, in_channels=3)
        is None
    )
    assert (
        channel_problem((40, 36), rgb=False, channel_axis=None, channel=None, in_channels=3) is None
    )


def test_plane_geometry_and_scale_leave_the_channel_axis_out():
    assert plane_geometry((40, 36), rgb=False) == (1, (40, 36))
    assert plane_geometry((40, 36, 3), rgb=True) == (1, (40, 36))
    assert plane_geometry((5, 40, 36), rgb=False) == (5, (40, 36))
    assert plane_geometry((2, 40, 36), rgb=False, channel_axis=0) == (1, (40, 36))
    assert plane_geometry((5, 2, 40, 36), rgb=False, channel_axis=1) == (5, (40, 36))
    assert spatial_scale((3.0, 1.0, 0.5, 0.5), channel_axis=1, ndim=3) == (3.0, 0.5, 0.5)
    assert spatial_scale((1.0, 0.5, 0.25), channel_axis=0, ndim=2) == (0.5, 0.25)
    assert spatial_scale((2.0, 0.5, 0.25), channel_axis=None, ndim=3) == (2.0, 0.5, 0.25)


def test_model_summary_says_what_the_model_takes():
    model = _tiny()
    assert model_summary(model) == "model: takes 1 channel (grey); 2 classes (membrane, cell)"
    model.channel = 1
    assert model_summary(model) == (
        "model: takes 1 channel (grey), trained on channel 1 of its images; "
        "2 classes (membrane, cell)"
    )
    assert model_summary(_tiny(2)).startswith("model: takes 2 channels; ")


def test_the_widget_defaults_predict_a_channels_layer_as_its_recorded_channel():
    """The defaults chain: a grey model recording channel 1 and a (2, H, W) layer that names
    its channels predict that channel, as predicting it alone does."""
    model = _tiny()
    cyx = np.random.default_rng(4).integers(0, 4000, (2, 40, 36), dtype=np.uint16)
    expected = labels_from_probabilities(predict_image(model, cyx[1]))
    model.channel = 1
    labels = ("c", "y", "x")  # napari's, or the file's axes CYX: the layer names its channels
    axis = read_layer_axes(
        cyx.shape, rgb=False, in_channels=1, channel=model.channel, axis_labels=labels
    ).axis
    channel = default_channel(cyx.shape[axis], in_channels=1, channel=model.channel)
    assert (axis, channel) == (0, 1)
    result = predict_planes(model, cyx, channel_axis=axis, channel=channel)
    assert np.array_equal(result.labels, expected)


def test_a_band_subset_model_takes_a_layer_of_all_its_bands():
    """A model trained on channels [2, 0] of 4-band images (data.channel: a list) reads
    them of a 4-band layer: the widget refused it ('the model takes 2: choose the axis of
    its channels') and named the bands as one channel '[2, 0]' (s38 bands2)."""
    model = _tiny(2)
    model.channel = [2, 0]
    data = np.random.default_rng(0).random((4, 40, 36), dtype=np.float32)
    how = dict(rgb=False, channel=None, in_channels=2, bands=[2, 0])
    assert channel_problem(data.shape, channel_axis=0, **how) is None
    assert channel_problem((2, 40, 36), channel_axis=0, **how) == (
        "the layer has 2 channels (axis 0), the model reads channels 2, 0 of its images: "
        "choose their axis"
    )
    assert "trained on channels 2, 0 of its images" in model_summary(model)
    assert predict_planes(model, data, rgb=False, channel_axis=0).labels.shape == (40, 36)
    reading = read_layer_axes((5, 4, 40, 36), rgb=False, in_channels=2, channel=[2, 0])
    assert "if axis 1 holds channels (the model reads channels 2, 0)" in reading.why
