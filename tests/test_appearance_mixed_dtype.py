"""A model trained on images of several dtypes (8- and 16-bit stains) records no figures in
one unit (:func:`~unetlab.data.appearance.mixed_record`); an image of another dtype than all
of theirs is still said, naming each: it was said of none, so a float image given to a
dataset-normalised model of 8- and 16-bit stains (no floor to say it) passed silently, where
a model of one dtype says it."""

import logging

import numpy as np
import torch

from unetlab.data.appearance import appearance_shift
from unetlab.inference.appearance import far_run
from unetlab.inference.predict import floor_run, model_stats

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
