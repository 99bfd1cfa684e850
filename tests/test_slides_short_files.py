"""The slide reader names a 0-byte TIFF as empty (audit s33 plates 7: predict said
``cannot read this TIFF (TiffFileError: not a TIFF file: header=b'')``)."""

import pytest

from unetlab.data.slides import open_slide
from unetlab.errors import ImageReadError


def test_empty_tiff_says_zero_bytes(tmp_path):
    path = tmp_path / "H14_s1_w1.tif"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError) as err:
        open_slide(path)
    assert str(err.value) == f"{path}: empty file (0 bytes); copy the file again"
