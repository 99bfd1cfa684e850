"""The floor's "read as nearly empty" warning names the file predicted (audit s29 scenes,
finding 6: three lines began "image:" and no one could tell which files they meant)."""

import logging

import numpy as np
import torch

from unetlab import UNet
from unetlab.data.io import write_tiff
from unetlab.inference.files import predict_file

SPEC16 = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [12997.0], "dtype": "uint16"}


def test_the_nearly_empty_warning_starts_with_the_file(tmp_path, caplog):
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = SPEC16
    dim = np.random.default_rng(0).integers(0, 130, (24, 20)).astype(np.uint16)
    path = tmp_path / "dim.tif"
    write_tiff(path, dim)  # 100x below the floor: read as nearly empty
    caplog.set_level(logging.WARNING)
    predict_file(model, path, tmp_path / "out")
    lines = [r.getMessage() for r in caplog.records if "nearly empty" in r.getMessage()]
    assert lines and all(line.startswith(f"{path}: contrast") for line in lines), lines
