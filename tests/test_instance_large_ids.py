"""Instance masks whose ids are far above their pixel count (a tracker's ids, any id below
2**31 that instance_ids takes) load for training as their ranks would, at the cost of the
objects: split_pieces (scipy's find_objects) and the object-size facts made arrays as long
as the largest id (ids near 2e9 in a 48 x 48 mask: a MemoryError)."""

from __future__ import annotations

import logging
import tracemalloc

import numpy as np

from unetlab.data.datasets import load_instance_samples
from unetlab.data.io import write_tiff
from unetlab.data.pairs import find_pairs


def _mask(big: int) -> np.ndarray:
    mask = np.zeros((48, 48), np.uint32)
    mask[2:12, 2:12] = big
    mask[20:30, 20:35] = big - 1
    mask[12:20, 2:12] = 7
    mask[40:44, 2:6] = big  # a second piece of the first id: named by its own id
    return mask


def _load(tmp_path, mask: np.ndarray, name: str, caplog):
    root = tmp_path / name
    image = np.random.default_rng(0).integers(0, 200, mask.shape, dtype=np.uint8)
    write_tiff(root / "images" / "a.tif", image)
    write_tiff(root / "masks" / "a.tif", mask)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        tracemalloc.start()
        try:
            loaded = load_instance_samples(
                find_pairs(root), normalization={"mode": "per_image"}, weight_map={}
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return loaded, peak, caplog.text


def test_large_ids_load_as_their_ranks_and_warnings_name_them(tmp_path, caplog):
    (samples, stats), peak, text = _load(tmp_path, _mask(30_000_000), "big", caplog)
    (same, same_stats), _, small_text = _load(tmp_path, _mask(9), "small", caplog)
    assert stats == same_stats
    np.testing.assert_array_equal(samples[0].mask, same[0].mask)
    np.testing.assert_array_equal(samples[0].weight, same[0].weight)
    assert "a:30000000" in text and "a:9" in small_text  # the split id, as the user has it
    assert peak < 20_000_000  # bytes: not arrays of 30 million ids
