"""The columns at the end of predict's objects table (``<stem>_objects.csv``), after the
measures of :mod:`unetlab.inference.measure`: appended, so that scripts reading the earlier
columns by position keep working (audit s33 plates 1, 2).

- ``saturated_fraction`` (integer images): the share of each object's pixels at the image
  dtype's maximum (65535 in a uint16 image) in any channel: a debris blob or an
  overexposed cell, whose object and measures are not to be trusted as a nucleus's.
- ``image``: the input file's name on every row, so that the tables of a plate's wells
  concatenated keep each object's well.
"""

from __future__ import annotations

import numpy as np

__all__ = ["saturated_fraction", "with_image_columns"]


def saturated_fraction(ids: np.ndarray, image: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The share of the pixels of each object of ``present`` (ids in ``ids``, (H, W)) where
    ``image`` ((H, W) or (H, W, C), integer) is at its dtype's maximum in any channel;
    float64, 0 for an object with none. ValueError for a float image (no maximum)."""
    if not np.issubdtype(image.dtype, np.integer):
        raise ValueError(f"saturation needs an integer image, not {image.dtype}")
    top = image == np.iinfo(image.dtype).max
    if top.ndim == 3:
        top = top.any(axis=2)
    present = np.asarray(present, np.int64)
    n = int(max(ids.max(initial=0), present.max(initial=0))) + 1
    area = np.bincount(ids.ravel(), minlength=n)[present]
    saturated = np.bincount(ids[top].ravel(), minlength=n)[present]
    return saturated / np.maximum(area, 1)


def with_image_columns(table: dict, ids: np.ndarray, image: np.ndarray, name: str) -> dict:
    """``table`` (one row per object of ``ids``: its ``id`` column) with, at its end,
    ``saturated_fraction`` where ``image`` is of an integer dtype, and ``image``: ``name``
    (the input file's) on every row."""
    rows = len(table["id"])
    extra = {}
    if np.issubdtype(image.dtype, np.integer):
        extra["saturated_fraction"] = saturated_fraction(ids, image, table["id"])
    extra["image"] = np.full(rows, name, dtype=object)
    return {**table, **extra}
