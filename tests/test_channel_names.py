"""The channel a 1-channel model reads of a file (audit s28 'stacks', finding 6): a grey
image or stack given to a model trained on one channel of multi-channel images
(``data.channel``) is predicted as it is."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab.data.io import read_image
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.models import UNet


@pytest.fixture
def model() -> UNet:
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    net.channel = 1  # trained on channel 1 of 2-channel images (data.channel=1)
    return net


def _pixels(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 4000, shape, dtype=np.uint16)


def _labels(path) -> np.ndarray:
    return tifffile.imread(path) if path.suffix == ".tif" else read_image(path)


@pytest.mark.parametrize("axes", ["TYX", "YX"])
def test_a_grey_file_is_predicted_by_a_model_of_one_channel_of_two(tmp_path, model, axes, caplog):
    image = _pixels(3, 32, 40) if axes == "TYX" else _pixels(32, 40)
    tifffile.imwrite(tmp_path / "grey.tif", image, imagej=True, metadata={"axes": axes})
    with caplog.at_level(logging.INFO):
        labels = predict_file(model, tmp_path / "grey.tif", tmp_path / "a")[0]
    assert "grey.tif: has one channel; predicting it" in caplog.text
    model.channel = None  # the same net as a plain grey model: the same labels
    plain = predict_file(model, tmp_path / "grey.tif", tmp_path / "b")[0]
    assert np.array_equal(_labels(labels), _labels(plain))


def test_a_channel_asked_for_is_still_one_the_file_has(tmp_path, model):
    tifffile.imwrite(
        tmp_path / "grey.tif", _pixels(3, 32, 40), imagej=True, metadata={"axes": "TYX"}
    )
    with pytest.raises(UnetlabError, match="no channel 1"):
        predict_file(model, tmp_path / "grey.tif", tmp_path / "a", channel=1)
    predict_file(model, tmp_path / "grey.tif", tmp_path / "b", channel=0)
