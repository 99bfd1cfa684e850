"""find_images and read errors on a careless user's folders (audit s34 messy 3 and 8)."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data.io import find_images, read_stack, write_png, write_tiff
from unetlab.errors import ImageReadError


def test_find_images_passes_over_macos_twins(tmp_path):
    write_tiff(tmp_path / "a.tif", np.zeros((4, 4), np.uint8))
    (tmp_path / "._a.tif").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    assert find_images(tmp_path) == [tmp_path / "a.tif"]
    assert find_images(str(tmp_path / "*.tif")) == [tmp_path / "a.tif"]


def test_a_png_named_tif_says_the_rename(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "a.png").rename(tmp_path / "a.tif")
    with pytest.raises(ImageReadError, match=r"a PNG file named \.tif: rename it a\.png"):
        read_stack(tmp_path / "a.tif")
