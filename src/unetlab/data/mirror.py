"""Mirror (reflect) indexing, shared by training tiles and prediction tiles."""

from __future__ import annotations

import numpy as np


def reflect_indices(start: int, stop: int, size: int) -> np.ndarray:
    """Indices into an axis of ``size`` for positions ``start..stop-1`` that may lie outside it,
    mirrored without repeating the edge (numpy's "reflect" padding), at any distance:
    (stop - start,) int64. A 1-px axis maps everything to 0."""
    i = np.arange(start, stop, dtype=np.int64)
    if size == 1:
        return np.zeros_like(i)
    period = 2 * (size - 1)
    i = np.mod(i, period)
    return np.where(i < size, i, period - i)
