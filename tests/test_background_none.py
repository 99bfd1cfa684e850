"""A model trained with mask value 0 ignored (nodata around an orthomosaic) and no class
named background has no background class: every class makes objects (audit s31 drone,
finding 2: class index 0, vegetation, was taken for the background and never counted)."""

from __future__ import annotations

import numpy as np
import torch

from unetlab import UNet
from unetlab.cli.common import objects_line
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
from unetlab.inference.records import object_record


def _model(ignore_value, classes=None):
    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=2, padding="same")
    model.label_values, model.ignore_value = [1, 2, 3], ignore_value
    model.classes = classes or ["1", "2", "3"]
    return model


def _three_regions() -> np.ndarray:
    """(3, 6, 9) one-hot probabilities: a region of each class, 3 columns wide."""
    labels = np.repeat(np.arange(3), 3)[None, :].repeat(6, axis=0)
    return np.eye(3, dtype=np.float32)[labels].transpose(2, 0, 1)


def test_every_class_makes_objects_where_mask_value_0_was_ignored():
    options = ObjectOptions.for_model(_model(0), min_area=1)
    assert options.background is None
    ids = objects_from_probabilities(_three_regions(), options)
    assert ids.max() == 3 and (ids > 0).all()  # vegetation (class index 0) counted too
    assert "no background class" in objects_line(options, True)
    assert object_record(options)["background"] is None  # a new key: other outputs


def test_a_named_background_or_no_ignored_0_keeps_one():
    assert ObjectOptions.for_model(_model(None), min_area=1).background == 0
    named = _model(0, ["background", "water", "soil"])
    assert ObjectOptions.for_model(named, min_area=1).background == 0
    ids = objects_from_probabilities(_three_regions(), ObjectOptions(background=0, min_area=1))
    assert ids.max() == 2
