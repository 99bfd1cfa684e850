"""Stacks and masks saved by ImageJ without axes (tifffile reads them as CYX: 5 planes are one
image of 5 channels): a mask of such channels is refused naming what it is and the fix, the
axes a user gives."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.data.io import read_stack
from unetlab.errors import ImageReadError


def _stacks(folder, **metadata) -> None:
    """Two 5-plane stacks of 32x32 and their masks under ``folder`` (images/, masks/), saved
    as ImageJ TIFFs without axes, or with the ``metadata`` given (``axes='ZYX'``)."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    how = {"metadata": metadata} if metadata else {"imagej": True}
    for stem in ("a", "b"):
        image = rng.integers(0, 255, (5, 32, 32), dtype=np.uint8)
        tifffile.imwrite(folder / "images" / f"{stem}.tif", image, **how)
        tifffile.imwrite(folder / "masks" / f"{stem}.tif", (image > 128).astype(np.uint8), **how)


@pytest.fixture
def bare(tmp_path):
    _stacks(tmp_path / "bare")
    return tmp_path / "bare"


def test_train_check_says_a_mask_s_pages_read_as_channels_and_names_axes(bare, capsys):
    assert main(["train", "--data", str(bare), "--check", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "colour (RGB)" not in err
    assert "read as one image of 5 channels" in err and "--axes ZYX" in err


@pytest.mark.parametrize("planes", [2, 5])
def test_a_mask_of_other_than_3_or_4_channels_is_refused(tmp_path, planes):
    """2 channels raised IndexError; 5 planes whose first 3 are equal (empty: an object in
    the last planes only) were read as the first plane alone, the others lost unsaid."""
    mask = np.zeros((planes, 8, 8), np.uint8)
    mask[-1, 2:4, 2:4] = 1
    tifffile.imwrite(tmp_path / "m.tif", mask, imagej=True)
    with pytest.raises(ImageReadError, match=f"one image of {planes} channels"):
        read_stack(tmp_path / "m.tif", mask=True)
