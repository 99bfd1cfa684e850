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

__all__ = ["appended_columns", "saturated_fraction", "saturated_pixels", "with_image_columns"]


def saturated_pixels(ids: np.ndarray, image: np.ndarray, n: int) -> np.ndarray | None:
    """The pixels of each id 0..``n - 1`` of ``ids`` ((H, W), a whole image or a piece of
    one) where ``image`` ((H, W) or (H, W, C)) is at its dtype's maximum in any channel
    (int64, length ``n``); None for a float image (no maximum to be at)."""
    if not np.issubdtype(image.dtype, np.integer):
        return None
    top = image == np.iinfo(image.dtype).max
    if top.ndim == 3:
        top = top.any(axis=2)
    return np.bincount(ids[top].ravel(), minlength=n)[:n].astype(np.int64)


def saturated_fraction(ids: np.ndarray, image: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The share of the pixels of each object of ``present`` (ids in ``ids``, (H, W)) where
    ``image`` ((H, W) or (H, W, C), integer) is at its dtype's maximum in any channel;
    float64, 0 for an object with none. ValueError for a float image (no maximum)."""
    present = np.asarray(present, np.int64)
    n = int(max(ids.max(initial=0), present.max(initial=0))) + 1
    saturated = saturated_pixels(ids, image, n)
    if saturated is None:
        raise ValueError(f"saturation needs an integer image, not {image.dtype}")
    area = np.bincount(ids.ravel(), minlength=n)[present]
    return saturated[present] / np.maximum(area, 1)


def appended_columns(table: dict, name: str, saturated: np.ndarray | None = None) -> dict:
    """``table`` with, at its end, ``saturated_fraction`` (``saturated``: one per row, None
    for a float image: no column) and ``image``: ``name`` (the input file's) on every row."""
    extra = {} if saturated is None else {"saturated_fraction": np.asarray(saturated)}
    extra["image"] = np.full(len(table["id"]), name, dtype=object)
    return {**table, **extra}


def with_image_columns(table: dict, ids: np.ndarray, image: np.ndarray, name: str) -> dict:
    """``table`` (one row per object of ``ids``: its ``id`` column) with, at its end,
    ``saturated_fraction`` where ``image`` is of an integer dtype, and ``image``: ``name``
    (the input file's) on every row (:func:`appended_columns`)."""
    integer = np.issubdtype(image.dtype, np.integer)
    saturated = saturated_fraction(ids, image, table["id"]) if integer else None
    return appended_columns(table, name, saturated)
