"""A streamed input given a channel is not said to have a constant channel: the channel check
runs on a one-pixel probe, which is always constant (review s33 3)."""

import logging

import numpy as np
import tifffile
import torch

from unetlab import UNet
from unetlab.inference.files import predict_file


def test_no_constant_channel_line_for_a_streamed_channel(tmp_path, caplog):
    image = (np.random.default_rng(0).random((2, 48, 40)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "two.tif", image, metadata={"axes": "CYX"})
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "per_image"}
    caplog.set_level(logging.WARNING)
    predict_file(model, tmp_path / "two.tif", tmp_path / "out", channel=1, large_threshold=100)
    assert tifffile.TiffFile(tmp_path / "out" / "two.tif").is_ome  # streamed
    assert not [r for r in caplog.records if "constant" in r.getMessage()], caplog.text
