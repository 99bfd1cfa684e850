"""A folder of mixed 8- and 16-bit PNGs given to a model trained on 8-bit images: the floor's
"not applied to uint16 images" line names the first such image (audit s46 scenes: it named
none, and a user with 11 inputs could not tell which one was 16-bit)."""

import logging

import numpy as np
import torch

from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder


def _model() -> UNet:
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "per_image", "floor": [12.0], "dtype": "uint8"}
    return model


def test_the_floor_line_names_the_16bit_image(tmp_path, caplog):
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    write_png(tmp_path / "in" / "a_photo.png", rng.integers(0, 200, (40, 40)).astype(np.uint8))
    deep = rng.integers(100, 4000, (40, 40)).astype(np.uint16)
    write_png(tmp_path / "in" / "b_deep.png", deep)
    write_png(tmp_path / "in" / "c_deep.png", deep)
    caplog.set_level(logging.WARNING)
    predict_folder(_model(), tmp_path / "in", tmp_path / "out")
    lines = [r.getMessage() for r in caplog.records if "not applied to uint16" in r.getMessage()]
    assert len(lines) == 1, lines  # still once a run
    assert lines[0].startswith("b_deep.png (the first uint16 image): the model"), lines[0]
    assert "a_photo" not in lines[0] and "c_deep" not in lines[0]
