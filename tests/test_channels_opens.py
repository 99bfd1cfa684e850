"""What a checkpoint records of its training images' channels
(:func:`~unetlab.data.colour.training_channels`, at training start, beside the loading that
reads every image) reads each TIFF's header once: it opened each file twice (s49)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.data.colour import training_channels


def _counted(monkeypatch) -> list[str]:
    """The paths of every ``tifffile.TiffFile`` opened from now on."""
    opened: list[str] = []

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            opened.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


@pytest.mark.parametrize(("photometric", "kind"), [("minisblack", "stains"), ("rgb", "colours")])
def test_each_training_tiff_is_opened_once(tmp_path, monkeypatch, photometric, kind):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(20):
        path = tmp_path / f"i{i:02d}.tif"
        if photometric == "rgb":
            tifffile.imwrite(path, rng.integers(0, 255, (8, 8, 3), np.uint8), photometric="rgb")
        else:
            cyx = rng.integers(0, 9000, (2, 8, 8), np.uint16)
            tifffile.imwrite(path, cyx, photometric="minisblack")
        paths.append(path)
    opened = _counted(monkeypatch)
    assert training_channels([(p, None) for p in paths]) == kind
    assert sorted(opened) == sorted(str(p) for p in paths)  # 40 before: twice each
