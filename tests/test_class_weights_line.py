"""The training line of class weights (review s64): a class with no pixels in the training
masks was shown with weight 1, which no pixel is ever weighted by; it is said unused."""

import logging
from types import SimpleNamespace

import numpy as np

from unetlab.config import Config
from unetlab.train.setup import class_weights


def test_a_class_without_pixels_is_said_unused_not_weight_1(caplog):
    cfg = Config()
    cfg.train.class_weights = "median_frequency"
    mask = np.zeros((8, 8), np.int64)
    mask[:2] = 1  # class 2 (person) in no training pixel
    data = SimpleNamespace(
        train=[SimpleNamespace(mask=mask)], class_names=["sky", "road", "person"]
    )
    with caplog.at_level(logging.INFO, logger="unetlab"):
        weights = class_weights(cfg, data, 3)
    assert weights[2] == 1.0  # kept, as the loss takes one weight per class
    (line,) = [r.getMessage() for r in caplog.records if "class weights" in r.getMessage()]
    assert line.endswith("sky 0.667, road 2, person unused (no pixels)"), line
