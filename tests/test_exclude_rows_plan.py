"""data.exclude_rows in the plan's fingerprint (lead's patch /tmp/s31_barfix/lead_patch.diff +
plan_fingerprint.diff): the data bar's rows are not measured (audit s31 grains 8)."""

from __future__ import annotations

import numpy as np

from unetlab.data.fingerprint import fingerprint
from unetlab.data.io import write_tiff
from unetlab.data.pairs import find_pairs


def test_the_fingerprint_leaves_the_excluded_rows_out(tmp_path):
    ids = np.zeros((64, 64), np.uint16)
    ids[5:15, 5:15] = 1
    ids[30:40, 30:40] = 2
    ids[-8:] = 65535  # the bar: one id in every mask
    for name in ("a", "b"):
        write_tiff(tmp_path / "images" / f"{name}.tif", np.full((64, 64), 900, np.uint16))
        write_tiff(tmp_path / "masks" / f"{name}.tif", ids)
    pairs = find_pairs(tmp_path)
    kept = fingerprint(pairs, target="instances", exclude_rows={"bottom": 8})
    assert all(65535 not in p.values and p.height == 56 for p in kept.pairs)
    plain = fingerprint(pairs, target="instances")
    assert all(65535 in p.values and p.height == 64 for p in plain.pairs)


def test_training_data_leaves_the_excluded_rows_out(tmp_path):
    """prepare_data (what fit trains on) passes data.exclude_rows to its loaders: the
    region's mask pixels count in no loss."""
    from unetlab.config import load_config
    from unetlab.data.io import write_png
    from unetlab.data.labels import IGNORE_INDEX
    from unetlab.train import prepare_data

    rng = np.random.default_rng(0)
    for i in range(3):
        mask = np.zeros((48, 48), np.uint8)
        mask[8:20, 8:20] = 1
        write_png(tmp_path / "images" / f"{i}.png", rng.integers(0, 255, (48, 48), np.uint8))
        write_png(tmp_path / "masks" / f"{i}.png", mask)
    keys = [f"data.root={tmp_path}", "data.exclude_rows.bottom=8"]
    data = prepare_data(load_config(None, keys))
    for sample in data.train + data.val:
        assert (sample.mask[-8:] == IGNORE_INDEX).all() and (sample.mask[:-8] >= 0).all()
