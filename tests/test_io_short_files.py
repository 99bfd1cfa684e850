"""A file cut short (0 bytes, a TIFF copy cut off) is named as such in one line, not by a
decoder's exception (audit s33 plates 6/7: ``TiffFileError ... header=b''``)."""

import numpy as np
import pytest
import tifffile

from unetlab.data.io import read_image, short_file_line
from unetlab.errors import ImageReadError


@pytest.mark.parametrize("name", ["a.tif", "a.png", "a.jpg"])
def test_empty_file_says_zero_bytes(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    assert str(err.value) == f"{path}: empty file (0 bytes); copy the file again"


def test_truncated_tiff_says_truncated(tmp_path):
    path = tmp_path / "A01_s1_w1.tif"
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    whole = path.stat().st_size
    path.write_bytes(path.read_bytes()[: whole // 2])
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    line = str(err.value)
    assert line.startswith(f"{path}: truncated: its header promises {whole} bytes")
    assert line.endswith(f"the file has {whole // 2}; copy the file again")
    assert "\n" not in line


def test_complete_and_other_broken_files_are_not_short(tmp_path):
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.zeros((8, 8), np.uint8))
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff at all")
    assert short_file_line(good) is None
    assert short_file_line(junk) is None
    assert short_file_line(tmp_path / "missing.tif") is None
    with pytest.raises(ImageReadError, match="cannot read this image"):
        read_image(junk)
