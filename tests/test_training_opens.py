"""Training start reads each mask file once for its pixels: the mask scan (label values,
target) read every mask, and the loading read them all again (three opens of each mask
TIFF with the pairing's page count, now two); what the loading makes of them is what it
makes reading them itself."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.config import load_config
from unetlab.train.setup import prepare_data


def _mask_opens(monkeypatch) -> list[str]:
    """The mask files of every ``tifffile.TiffFile`` opened from now on."""
    opened: list[str] = []

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            if "/masks/" in str(path).replace("\\", "/"):
                opened.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


def _data_set(root, ids: bool, n: int = 12):
    """``n`` 2-D uint8 TIFF images beside 2-D TIFF masks: classes 0/1, or object ids."""
    rng = np.random.default_rng(1)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    mask = np.zeros((32, 32), np.uint16 if ids else np.uint8)
    mask[4:12, 4:12], mask[14:30, 14:30] = (7, 9) if ids else (1, 1)
    for i in range(n):
        tifffile.imwrite(
            root / "images" / f"i{i:02d}.tif", rng.integers(0, 255, (32, 32), np.uint8)
        )
        tifffile.imwrite(root / "masks" / f"i{i:02d}.tif", np.roll(mask, i, axis=1))
    return root


@pytest.mark.parametrize(
    ("ids", "known"),
    [(False, "data.label_values=[0, 1]"), (True, "data.target=instances")],
)
def test_each_mask_is_read_once_and_loaded_as_read_alone(tmp_path, monkeypatch, ids, known):
    root = _data_set(tmp_path / "set", ids)
    target = ["data.target=instances"] if ids else []
    opened = _mask_opens(monkeypatch)
    data = prepare_data(load_config(None, [f"data.root={root}", *target]))
    per_file = {path: opened.count(path) for path in opened}
    assert len(per_file) == 12 and sorted(per_file.values())[:-1] == [2] * 11  # 3 before
    assert sum(per_file.values()) <= 2 * 12 + 1  # the page count, the scan; the palette's look
    monkeypatch.undo()
    alone = prepare_data(load_config(None, [f"data.root={root}", known]))  # no mask scan
    got, want = data.train + data.val, alone.train + alone.val
    assert [s.name for s in got] == [s.name for s in want]
    for a, b in zip(got, want):
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.image, b.image)
