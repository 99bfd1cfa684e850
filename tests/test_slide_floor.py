"""A streamed slide's page says what the model's normalisation floor does to it, as an image
read whole does (audit s41 auditslide: a dim 8-bit slide, contrast 8x under the floor, gave
0 objects streamed without a word; read whole it was named as read nearly empty)."""

import logging

import numpy as np
import tifffile
import torch

from unetlab import UNet
from unetlab.inference.files import predict_file
from unetlab.inference.predict import floor_run

SPEC8 = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [48.0], "dtype": "uint8"}


def _model():
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = SPEC8
    return model


def _lines(caplog, tmp_path, image, how: str, meta=None, **kw) -> list[str]:
    path = tmp_path / f"{how}.tif"
    tifffile.imwrite(path, image, **({} if meta is None else dict(imagej=True, metadata=meta)))
    caplog.clear()
    caplog.set_level(logging.WARNING)
    with floor_run():
        predict_file(_model(), path, tmp_path / how, **kw)
    return [r.getMessage() for r in caplog.records]


def test_a_dim_streamed_slide_is_said_to_read_as_nearly_empty(tmp_path, caplog):
    rng = np.random.default_rng(0)
    dim = rng.integers(10, 17, (64, 64)).astype(np.uint8)  # contrast 6: 8x under the floor
    dim[:8, :8] = 0  # nodata, where it is asked for: left out of the statistics
    streamed = dict(large_threshold=100)
    for how, kw in (("whole", {}), ("streamed", streamed), ("nodata", {**streamed, "nodata": 0})):
        lines = _lines(caplog, tmp_path, dim, how, **kw)
        assert [m for m in lines if "read as nearly empty" in m], (how, lines)
    assert tifffile.TiffFile(tmp_path / "streamed" / "streamed.tif").is_ome  # it streamed


def test_a_streamed_slide_of_another_dtype_says_the_floor_is_not_applied(tmp_path, caplog):
    rng = np.random.default_rng(0)
    image = rng.integers(100, 4000, (64, 64)).astype(np.uint16)
    lines = _lines(caplog, tmp_path, image, "streamed", large_threshold=100)
    assert [m for m in lines if "not applied to uint16 images" in m], lines


def test_a_dim_streamed_stack_says_it_in_one_line(tmp_path, caplog):
    """Its planes read as nearly empty are one line, as a stack read whole says them."""
    rng = np.random.default_rng(0)
    dim = rng.integers(10, 17, (4, 64, 64)).astype(np.uint8)
    lines = _lines(caplog, tmp_path, dim, "stack", {"axes": "ZYX"}, large_threshold=100)
    (line,) = [m for m in lines if "nearly empty" in m]
    assert "stack.tif plane 0: contrast" in line and line.endswith("(and 3 more planes)"), line
