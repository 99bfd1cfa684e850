"""Training images of several dtypes (float reflectance among 16-bit scenes; 8-bit and
16-bit stains): each dtype's floor is set by its images alone, in its units; the most common
one's is ``floor`` with its ``dtype``, the others' ``floors``. Before, one floor set by all
put the float image's 0.13 on the 16-bit images (audit s37 bands), and then the most common
dtype's alone told the model's own 8-bit training images that its floor was in the 16-bit
values it trained on, not applied to them (s48)."""

import logging

import numpy as np
import torch

from unetlab.checkpoint import features
from unetlab.data.datasets import Sample
from unetlab.data.normalize import (
    check_keys,
    contrast_note,
    floor_for,
    image_stats,
    normalization_formula,
)
from unetlab.errors import command_spelling
from unetlab.inference.predict import floor_run, model_stats
from unetlab.train.setup import most_common_dtype, with_contrast_floor

SPEC = {"mode": "percentile", "low": 1.0, "high": 99.8}


def _sample(dtype: str | None, contrast: float) -> Sample:
    zero = np.zeros((4, 4))
    return Sample("x", zero, zero, contrast=np.array([contrast]), dtype=dtype)


def test_the_floor_of_mixed_dtypes_is_the_most_common_ones():
    train = [_sample("uint16", c) for c in (2600.0, 2500.0, 3000.0)] + [_sample("float32", 0.25)]
    spec = with_contrast_floor(SPEC, train)
    assert spec["floor"] == [1250.0] and spec["dtype"] == "uint16"
    empty = np.full((16, 16), 900, np.uint16)  # an empty 16-bit field is floored
    assert image_stats(empty, spec)[1].tolist() == [1250.0]
    one = with_contrast_floor(SPEC, [_sample("uint8", 80.0), _sample("uint8", 60.0)])
    assert one == {**SPEC, "floor": [30.0], "dtype": "uint8"}
    old = with_contrast_floor(SPEC, [_sample(None, 80.0), _sample("uint8", 60.0)])
    assert old == {**SPEC, "floor": [30.0]}  # no recorded dtype: all images, as before


def test_the_most_common_dtype_takes_the_first_on_a_tie():
    assert most_common_dtype([_sample("float32", 1), _sample("uint16", 1)]) == "float32"
    assert most_common_dtype([_sample("uint8", 1), _sample("uint16", 1)] * 2) == "uint8"
    assert most_common_dtype([_sample("uint8", 1), _sample(None, 1)]) is None


def _mixed() -> dict:
    """The floor record of two uint8 and two uint16 training images (the 16-bit ones 200x
    the 8-bit ones' values, as a 16-bit camera's)."""
    train = [_sample("uint16", c) for c in (16000.0, 14000.0)]
    return with_contrast_floor(SPEC, train + [_sample("uint8", c) for c in (80.0, 70.0)])


def test_each_dtype_of_mixed_training_images_gets_its_own_floor():
    spec = _mixed()
    assert spec["floor"] == [7000.0] and spec["dtype"] == "uint16"
    assert spec["floors"] == {"uint8": [35.0]}
    assert check_keys(spec) == spec  # a run's config.yaml holds it
    assert floor_for(spec, np.uint8).tolist() == [35.0]
    assert floor_for(spec, np.uint16).tolist() == [7000.0]
    assert floor_for(spec, np.float32) is None
    assert "normalization.floors" in features({"normalization": spec})  # older: refused
    assert "[35.0] for uint8 images" in normalization_formula(spec)


def test_the_models_own_training_images_of_either_dtype_get_no_line():
    """It said of its own 8-bit training images that its floor was in the uint16 values it
    trained on, not applied to uint8 images."""
    spec = _mixed()
    assert contrast_note(spec, np.uint8, np.array([70.0])) is None
    assert contrast_note(spec, np.uint16, np.array([14000.0])) is None


def test_a_far_fainter_image_of_the_other_dtype_is_still_said_dim():
    kind, line = contrast_note(_mixed(), np.uint8, np.array([5.0]))
    assert kind == "dim" and "floor 35 (trained on uint8)" in line
    kind, line = contrast_note(_mixed(), np.uint8, np.array([22.0]))
    assert kind == "faint"
    kind, line = contrast_note(_mixed(), np.float32, np.array([0.2]))
    assert kind == "dtype" and "uint16 values it trained on (uint8 images have their own)" in line


def test_an_image_of_an_untrained_dtype_is_told_every_trained_dtype():
    """The fix named the most common dtype alone ("give the image as uint16") to a model
    that trained on uint8 images too."""
    _, line = contrast_note(_mixed(), np.float32, np.array([0.2]))
    assert "give the image as uint16 or uint8, as the model was trained" in line
    assert "astype('uint16') or (image * 255).round().astype('uint8')" in line
    with command_spelling():  # the command line's own fix (Python's too until s56)
        _, line = contrast_note(_mixed(), np.float32, np.array([0.2]))
    assert "as the model was trained (save the file as uint16 or uint8)" in line
    _, line = contrast_note(_mixed(), np.int16, np.array([20.0]))
    assert "convert these to uint16 or uint8 as the training images were" in line
    _, line = contrast_note({**SPEC, "floor": [7000.0], "dtype": "uint16"}, np.float32, [0.2])
    assert "give the image as uint16, as" in line and "uint8" not in line


def test_an_older_mixed_record_reads_as_before():
    """A checkpoint of before s48: the most common dtype's floor alone."""
    old = {**SPEC, "floor": [7000.0], "dtype": "uint16"}
    assert floor_for(old, np.uint8) is None
    kind, line = contrast_note(old, np.uint8, np.array([70.0]))
    assert kind == "dtype" and "in the uint16 values it trained on, not applied" in line
    assert features({"normalization": old}) == ["normalization.floor"]


class _Mixed(torch.nn.Module):
    normalization = _mixed()


def test_predict_says_nothing_of_the_training_images_of_either_dtype(caplog):
    """Prediction's lines (:func:`model_stats`) of a model trained on 8- and 16-bit images,
    given images like its training ones of each dtype, and an 8-bit one 20x fainter."""
    caplog.set_level(logging.WARNING)
    scene = np.random.default_rng(0).integers(0, 255, (40, 40, 1))
    with floor_run():
        model_stats(_Mixed(), scene.astype(np.uint8), name="a.tif")
        model_stats(_Mixed(), (scene * 200).astype(np.uint16), name="b.tif")
        assert caplog.records == []
        _, std = model_stats(_Mixed(), (scene // 20).astype(np.uint8), name="dim.tif")
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("dim.tif: contrast 12 is") and "floor 35 (trained on uint8)" in line
    assert std.tolist() == [35.0]
