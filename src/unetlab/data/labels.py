"""From the values stored in mask files to class indices, and back.

A mask file stores *label values* (0/255 for a binary mask, 0/1/2 for class-index PNGs,
palette indices for palette PNGs). The net works with *class indices* 0..C-1. ``label_values``
lists, for each class index, the value that encodes it (``[0, 255]`` for ISBI: membrane, cell).
Pixels whose value is ``ignore_value`` become ``IGNORE_INDEX`` and count in no loss or metric.
"""

from __future__ import annotations

import numpy as np

from unetlab.errors import DatasetError

IGNORE_INDEX = -1


def encode_mask(
    mask: np.ndarray,
    label_values: list[int],
    *,
    ignore_value: int | None = None,
    name: str = "mask",
) -> np.ndarray:
    """(H, W) label values -> (H, W) int64 class indices; unknown values raise DatasetError."""
    mask = np.asarray(mask)
    lut_size = int(max(max(label_values), mask.max(initial=0), ignore_value or 0)) + 1
    if mask.min(initial=0) < 0 or not np.issubdtype(mask.dtype, np.integer) or lut_size > 2**20:
        # generic path for negative, float or huge values
        out = np.full(mask.shape, -2, dtype=np.int64)
        for index, value in enumerate(label_values):
            out[mask == value] = index
        if ignore_value is not None:
            out[mask == ignore_value] = IGNORE_INDEX
    else:
        lut = np.full(lut_size, -2, dtype=np.int64)
        lut[np.asarray(label_values, dtype=np.int64)] = np.arange(len(label_values))
        if ignore_value is not None:
            lut[ignore_value] = IGNORE_INDEX
        out = lut[mask]
    if (out == -2).any():
        unknown = sorted(set(np.unique(mask[out == -2]).tolist()))[:10]
        raise DatasetError(
            f"{name}: label value(s) {unknown} are not among the classes' values {list(label_values)}; "
            "set data.label_values (or data.ignore_value) in the config, or fix the mask"
        )
    return out


def decode_mask(indices: np.ndarray, label_values: list[int]) -> np.ndarray:
    """(H, W) class indices -> the label values the masks use (ignored pixels -> 0)."""
    lut = np.asarray(label_values)
    return np.where(indices >= 0, lut[np.clip(indices, 0, len(lut) - 1)], 0).astype(lut.dtype)
