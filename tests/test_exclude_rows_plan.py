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
