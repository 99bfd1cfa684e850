"""A streamed slide's overlay PNG says its pixel size where viewers read one: a pHYs chunk
(pixels per metre), as the in-memory overlay TIFF carries it in its resolution tags."""

from __future__ import annotations

import logging
import struct

import numpy as np
import pytest
import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.inference.files import predict_file
from unetlab.inference.slide_overlay import write_slide_overlay


def _phys(path) -> tuple[int, int, int] | None:
    """(x, y pixels per unit, unit: 1 = metre) of a PNG's pHYs chunk; None without one."""
    data = path.read_bytes()
    at = 8  # past the signature
    while at < len(data):
        (size,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"pHYs":
            return struct.unpack(">IIB", data[at + 8 : at + 8 + size])
        if kind == b"IDAT":
            return None  # pHYs must come before the pixels
        at += 12 + size
    return None


def _planes(h: int, w: int):
    image = np.zeros((h, w, 1), np.uint8)
    labels = np.zeros((h, w), np.uint8)
    return (lambda rows, cols: image[rows, cols]), (lambda rows, cols: labels[rows, cols])


@pytest.mark.parametrize(("side", "step"), [(120, 1), (40, 3)])
def test_the_overlay_png_has_the_sampled_pixel_size_in_pixels_per_metre(tmp_path, side, step):
    image, labels = _planes(90, 120)
    path = tmp_path / "o.png"
    pixel = (0.25, 0.5)  # (y, x) micrometres
    assert write_slide_overlay(path, (90, 120), image, labels, side=side, pixel_size=pixel) == step
    x, y, unit = _phys(path)
    assert unit == 1
    assert x == round(1e6 / (0.5 * step)) and y == round(1e6 / (0.25 * step))


def test_an_overlay_without_a_pixel_size_has_no_phys(tmp_path):
    image, labels = _planes(20, 30)
    write_slide_overlay(tmp_path / "o.png", (20, 30), image, labels)
    assert _phys(tmp_path / "o.png") is None


def test_a_streamed_slides_overlay_has_the_slides_pixel_size(tmp_path, caplog):
    path = tmp_path / "big.ome.tif"
    meta = {"axes": "YX", "PhysicalSizeX": 0.4, "PhysicalSizeY": 0.4}
    tifffile.imwrite(path, nuclei_image(120, 90), metadata=meta)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        predict_file(local_net(), path, tmp_path / "out", large_threshold=100, draw_overlay=True)
    assert _phys(tmp_path / "out" / "big_overlay.png") == (2_500_000, 2_500_000, 1)
    said = [m for m in caplog.messages if " px" in m]  # height x width, every size (s49 ids)
    assert "big.ome.tif: 120 x 90 px (1 page" in said[0]
    assert [m for m in said if "overlay big_overlay.png" in m][0].endswith(": 120 x 90 px")
