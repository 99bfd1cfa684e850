"""Objects from Python (audit s30, notebook findings 5, 7, 8): ``predict_folder(...,
objects=True)`` is the model's own object options (it crashed with a TypeError); a pixel
size gives ``predict_objects`` its µm columns, and a misspelt setting is one line naming
the settings; probabilities of three classes read without options say how to read them as
an instance model's."""

import logging

import numpy as np
import pytest

from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, predict_objects
from unetlab.inference.records import OutputOptions


def _model():
    return UNet(1, 2, depth=2, base_channels=2, padding="same")


def test_objects_true_writes_the_models_own_objects(tmp_path):
    write_png(tmp_path / "in" / "a.png", np.zeros((32, 32), np.uint8))
    done = predict_folder(_model(), tmp_path / "in", tmp_path / "out", objects=True)
    names = [p.name for p in done.written[tmp_path / "in" / "a.png"]]
    assert "a_objects.tif" in names and "a_objects.csv" in names
    assert OutputOptions(objects=False).objects is None


def test_objects_of_another_kind_is_one_line_naming_the_forms():
    with pytest.raises(UnetlabError, match="objects must be True .* not 'instances'"):
        OutputOptions(objects="instances")


def test_predict_objects_takes_a_pixel_size_and_names_its_settings():
    image = np.zeros((32, 32), np.uint8)
    image[8:20, 8:20] = 200
    ids, table = predict_objects(_model(), image, pixel_size=0.5, min_area=1)
    assert "area_um2" in table and np.allclose(table["area_um2"], table["area"] * 0.25)
    _, plain = predict_objects(_model(), image, min_area=1)
    assert "area_um2" not in plain
    with pytest.raises(
        UnetlabError, match="predict_objects has no keyword tile_sise: did you mean tile_size"
    ):
        predict_objects(_model(), image, tile_sise=32)


def test_three_classes_without_options_say_how_to_read_an_instance_model(caplog):
    probs = np.zeros((3, 16, 16), np.float32)
    probs[0] = 1.0
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        objects_from_probabilities(probs)
    assert "ObjectOptions.for_model(model)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        objects_from_probabilities(probs, ObjectOptions())  # chosen: nothing to say
        objects_from_probabilities(probs[:2])
    assert caplog.text == ""


@pytest.mark.parametrize("frames", [3, 10])
def test_a_movie_given_to_predict_objects_names_the_call_that_gives_its_objects(frames):
    """A (T, Y, X) movie given to predict_objects was refused naming a predict_image loop
    (probabilities, not objects) or 'image[i]'; the line names the predict_objects loop, which
    gives each frame's (ids, table), and objects_3d=True for a z-stack (s51 axes4d item 4)."""
    movie = np.zeros((frames, 24, 20), np.uint8)
    movie[:, 5:15, 5:15] = 200
    with pytest.raises(UnetlabError) as refused:
        predict_objects(_model(), movie)
    line = str(refused.value)
    assert "[predict_objects(model, frame) for frame in movie]" in line
    assert "predict_objects(model, stack, objects_3d=True)" in line
    assert "predict_image" not in line and "image[i]" not in line
    found = [predict_objects(_model(), frame) for frame in movie]  # the call named works
    assert len(found) == frames and all(ids.shape == (24, 20) for ids, _ in found)
