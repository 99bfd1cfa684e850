"""Object ids far larger than their image's pixel count: a tracker's or a hash's 32- or
64-bit ids (one object of id 2e7 or 3e9, uint64 ids above 2**63).

Arrays indexed by id (``np.bincount``, a lookup table, ``ndimage.find_objects``) are as
long as the largest id: a 64 x 64 image of one id 2e7 took 25 s and 3.5 GB in the objects
table, 3e9 a MemoryError, and uint64 ids above 2**63 no int64 array holds.
:func:`compact_large_ids` gives such ids as their ranks 1..n, the same objects in the same
order, and the id each rank stands for; ids within a few times the pixel count are left as
they are (a lookup by id is then O(pixels) and faster than the sort).

The other way, :func:`id_dtype` is the least dtype ids are given and written in: uint16 at
least (what Fiji and napari open as a label image), wider only where the largest id needs it.
"""

from __future__ import annotations

import numpy as np


def far_above(ids: np.ndarray, top: int | None = None) -> bool:
    """Whether the largest of ``ids`` (non-negative; ``top`` where the caller has it) is
    too large to size arrays by: more than four times the pixel count (and 1024). No pass
    over the pixels where the dtype holds no such id (8- and 16-bit ids of 16 k px or more)."""
    bound = 4 * ids.size + 1024
    if top is None and ids.dtype.kind in "iu" and np.iinfo(ids.dtype).max <= bound:
        return False
    return (int(ids.max(initial=0)) if top is None else top) > bound


def compact_large_ids(
    ids: np.ndarray, top: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``ids`` and None where its largest id (``top`` where the caller has it: no pass
    over the pixels here) is not :func:`far_above` its pixels; else the ids as 1..n in the
    same order (0 stays 0; intp) and the original id of each (index 0: 0), int64 where it
    fits, else uint64 (ids above 2**63)."""
    ids = np.asarray(ids)
    if not far_above(ids, top):
        return ids, None
    values = np.unique(ids)
    original = values if values[0] == 0 else np.concatenate([np.zeros(1, values.dtype), values])
    compact = np.searchsorted(original, ids)
    return compact, original.astype(np.int64) if int(values[-1]) < 2**63 else original


def largest_compact(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """(``ids`` or their ranks, as :func:`compact_large_ids` gives them, and the largest of
    those): one pass for the largest id where the ids are compact already."""
    ids = np.asarray(ids)
    top = int(ids.max(initial=0))
    ids, original = compact_large_ids(ids, top)
    return ids, top if original is None else len(original) - 1


def id_dtype(count: int) -> np.dtype:
    """uint16 for up to 65,535 objects (what Fiji and napari open as a label image), else
    uint32, uint64 past its largest (a slide's, streamed: never wrapped)."""
    for dtype in (np.uint16, np.uint32):
        if count <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


def label_dtype(top: int) -> np.dtype:
    """uint8 for class values up to 255, uint16 up to 65,535: what a label volume (an MRC
    file's mode 0 or 6, a NIfTI's) holds values of largest ``top`` in; ValueError beyond."""
    for dtype in (np.uint8, np.uint16):
        if top <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise ValueError(f"label values up to {top}: beyond uint16, which label volumes hold")


def least_ids(ids: np.ndarray) -> np.ndarray:
    """``ids`` (0 and 1..n) in :func:`id_dtype` of their largest: the dtype every public
    function gives object ids in, as the files hold them (``_objects.tif``)."""
    return ids.astype(id_dtype(int(ids.max(initial=0))), copy=False)


def index_dtype(count: int) -> np.dtype:
    """int32 where it holds every index 0..``count`` (a window's pixels or its distinct ids),
    else int64: an int64 index per 2**21-px window held twice the memory."""
    return np.dtype(np.int32 if count <= np.iinfo(np.int32).max else np.int64)
