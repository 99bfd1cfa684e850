"""A model trained on images of several dtypes (8- and 16-bit stains) records no figures in
one unit (:func:`~unetlab.data.appearance.mixed_record`); an image of another dtype than all
of theirs is still said, naming each: it was said of none, so a float image given to a
dataset-normalised model of 8- and 16-bit stains (no floor to say it) passed silently, where
a model of one dtype says it."""

import logging

import numpy as np
import pytest
import torch

from unetlab.data.appearance import appearance_shift
from unetlab.data.datasets import Sample
from unetlab.data.normalize import check_keys
from unetlab.errors import UnetlabError
from unetlab.inference.appearance import far_run
from unetlab.inference.predict import floor_run, model_stats
from unetlab.train.setup import samples_appearance

MIXED = {"dtypes": ["uint16", "uint8"], "channels": "stains"}


def test_another_dtype_than_every_trained_one_is_said_naming_each():
    shift = appearance_shift(MIXED, np.ones(2), np.float32)
    assert shift.kind == "dtype"
    assert shift.figures() == "float32 pixels, the model trained on uint16 and uint8 images"
    assert "give the image as uint16 or uint8, as the model was trained" in shift.line()
    assert appearance_shift(MIXED, np.ones(2), np.uint8) is None  # a trained dtype: no figures
    assert appearance_shift(MIXED, np.ones(2), np.uint16) is None
    one = {"dtypes": ["uint8"], "channels": "stains"}  # several channel counts, one dtype
    assert appearance_shift(one, np.ones(2), np.uint16).figures().endswith("on uint8 images")
    unknown = {"dtypes": ["None", "uint8"], "channels": "stains"}  # a dtype not recorded
    assert appearance_shift(unknown, np.ones(2), np.float32) is None


class _Mixed(torch.nn.Module):
    """A 2-channel model normalised per data set (no floor) on 8- and 16-bit stains."""

    in_channels = 2
    normalization = {"mode": "dataset", "mean": [9000.0, 9000.0], "std": [8000.0, 8000.0]}
    appearance = MIXED


def test_predict_says_a_float_image_to_a_model_of_several_dtypes_once(caplog):
    caplog.set_level(logging.WARNING)
    image = np.random.default_rng(0).random((24, 24, 2)).astype(np.float32)
    with floor_run(), far_run():
        for name in ("a.tif", "b.tif"):
            model_stats(_Mixed(), image, name=name)
        model_stats(_Mixed(), (image * 255).astype(np.uint8), name="c.tif")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(
        "a.tif: float32 pixels, the model trained on uint16 and uint8 images"
    )


def _grey(dtype: str, mean: float) -> Sample:
    zero = np.zeros((1, 4, 4))
    return Sample("x", zero, zero, dtype=dtype, appearance=(np.array([mean]), np.array([3.0])))


class _Grey(torch.nn.Module):
    """A 1-channel model normalised per data set (no floor)."""

    in_channels = 1
    normalization = {"mode": "dataset", "mean": [900.0], "std": [800.0]}


def test_a_grey_model_of_two_dtypes_records_them_and_says_a_third(caplog):
    """A 1-channel set of 8- and 16-bit images recorded nothing (only stains had a record
    without figures), so a float image given to its model passed silently."""
    model = _Grey()
    model.appearance = samples_appearance([_grey("uint8", 40.0), _grey("uint16", 9000.0)], [])
    assert model.appearance == {"dtypes": ["uint16", "uint8"]}
    caplog.set_level(logging.WARNING)
    image = np.random.default_rng(0).random((24, 24)).astype(np.float32)
    with floor_run(), far_run():
        model_stats(model, image, name="f.tif")
        model_stats(model, (image * 255).astype(np.uint8), name="g.tif")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith(
        "f.tif: float32 pixels, the model trained on uint16 and uint8 images"
    )


def test_floors_without_the_dtype_of_floor_are_refused_in_one_line():
    """Accepted before, and then ignored: floor_entry reads floors only beside a dtype."""
    spec = {"mode": "percentile", "floor": [30.0], "floors": {"uint16": [7000.0]}}
    with pytest.raises(UnetlabError, match="floors .* need dtype") as caught:
        check_keys(spec)
    assert "\n" not in str(caught.value) and "add it (dtype: uint8)" in str(caught.value)
    assert check_keys({**spec, "dtype": "uint8"})["dtype"] == "uint8"
