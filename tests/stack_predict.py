"""The check that a 2-channel (3, 40, 50) stack of 2.0 µm z spacing and (0.5, 0.25) µm
pixels in a format of its own is predicted as a TIFF is, read whole and streamed (for
tests/test_h5.py, tests/test_czi.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, predict_folder
from unetlab.data.tiffmeta import read_pixel_size
from unetlab.inference.records import OutputOptions


def predicted_whole_as_streamed(path: Path, out: Path) -> None:
    """Predict the folder holding ``path`` alone to ``out/whole`` and ``out/streamed``: TIFF
    labels of its shape, z spacing and pixel size, the same either way; the input untouched."""
    before = path.read_bytes()
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, path.parent, out / "whole")
    predict_folder(net, path.parent, out / "streamed", OutputOptions(large_threshold=100))
    labels = f"{path.stem}.tif"
    with tifffile.TiffFile(out / "whole" / labels) as tif:
        assert tif.series[0].shape == (3, 40, 50) and tif.imagej_metadata["spacing"] == 2.0
        whole = tif.asarray()
    assert read_pixel_size(out / "whole" / labels).size == pytest.approx((0.5, 0.25))
    np.testing.assert_array_equal(tifffile.imread(out / "streamed" / labels), whole)
    assert path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == [path.name]
