"""A file that is another kind than its suffix says (audit s34 messy 8), and macOS twins."""

from __future__ import annotations

import numpy as np

from unetlab.data.file_kind import content_kind, wrong_kind_line
from unetlab.data.folder_notes import is_macos_metadata
from unetlab.data.io import write_png, write_tiff

APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "


def test_a_png_named_tif_is_named_with_the_rename(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "a.png").rename(tmp_path / "img_006.tif")
    assert content_kind(tmp_path / "img_006.tif") == ("PNG", ".png")
    line = wrong_kind_line(tmp_path / "img_006.tif")
    assert line == (
        f"{tmp_path}/img_006.tif: a PNG file named .tif: rename it img_006.png (its suffix "
        "must say what it holds)"
    )


def test_a_file_of_its_suffix_has_no_line(tmp_path):
    write_tiff(tmp_path / "a.tiff", np.zeros((4, 4), np.uint8))
    (tmp_path / "b.png").write_bytes(b"not an image at all")
    assert wrong_kind_line(tmp_path / "a.tiff") is None
    assert wrong_kind_line(tmp_path / "b.png") is None
    assert wrong_kind_line(tmp_path / "gone.png") is None


def test_a_macos_twin_is_named_as_one(tmp_path):
    (tmp_path / "._a.tif").write_bytes(APPLE_DOUBLE)
    (tmp_path / "._b.tif").write_bytes(b"II*\x00")  # a real TIFF with an odd name
    assert is_macos_metadata(tmp_path / "._a.tif")
    assert not is_macos_metadata(tmp_path / "._b.tif")
    assert "macOS metadata file (AppleDouble), not an image: delete it" in wrong_kind_line(
        tmp_path / "._a.tif"
    )
