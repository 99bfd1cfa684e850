"""The objects of a label image, measured in a few passes over the whole image.

A mask's distinct values and their pixel counts (:func:`distinct_values`), each pixel's
value id (:func:`value_ids`), the objects of a mask (:func:`object_labels`: one per value of
an instance mask, else one per 4-connected region of each value; :func:`count_regions`
counts the latter, :func:`value_regions` per value) and how many objects lie
near another (:func:`touching_objects`, :func:`touching_in_class`). Work per value or class
runs inside its bounding box (``ndimage.find_objects``), never over the whole image: an
instance mask read as 32 classes costs a few passes, not 32 of them. The results equal
``np.unique`` and one full-image filter per class exactly (``tests/test_regions.py``).
"""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np

from unetlab.data.large_ids import index_dtype
from unetlab.deferred import deferred
from unetlab.read_once import ContextKept

ndimage = deferred("scipy.ndimage")

MAX_COUNTED = 1 << 20  # whole numbers below this are counted with bincount, not sorted
SORTED_SLICE = 1 << 18  # pixels placed among sorted values at a time (int64 positions)


#: the regions of each value of the masks :func:`object_labels` numbered within
#: :func:`regions_counted_once`, by :func:`_mask_key`
_COUNTED = ContextKept("unetlab_regions_counted")


def regions_counted_once() -> contextlib.AbstractContextManager:
    """Within: a mask whose objects :func:`object_labels` numbered (the plan's measure of
    a data set) gives :func:`value_regions` (training's scan of the same masks) its regions
    of each value, not labelled again (s60: each mask's twice); kept by the mask's pixels
    (their digest) and background, so only the same pixels share them. Within another:
    that one's."""
    return _COUNTED.kept()


def _mask_key(mask: np.ndarray, background_value) -> tuple:
    """What tells a mask's regions apart: its shape, dtype, background and pixels' digest."""
    data = np.ascontiguousarray(mask)
    digest = hashlib.blake2b(data.data.cast("B"), digest_size=16).digest()
    return data.shape, data.dtype.str, np.asarray(background_value).item(), digest


def _countable(mask: np.ndarray) -> bool:
    """Whether ``mask`` holds whole numbers in [0, MAX_COUNTED) that bincount takes."""
    if mask.size == 0 or mask.dtype.kind not in "iu":
        return False
    if mask.dtype.kind == "u" and mask.dtype.itemsize <= 2:
        return True
    return int(mask.min()) >= 0 and int(mask.max()) < MAX_COUNTED


def distinct_values(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(mask, return_counts=True)``: the distinct values, ascending, and their
    pixel counts; by counting where the values are small whole numbers."""
    mask = np.asarray(mask)
    if not _countable(mask):
        return np.unique(mask, return_counts=True)
    return _counted(mask)


def _counted(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`distinct_values` of a :func:`_countable` ``mask``, by ``bincount``."""
    counts = np.bincount(mask.ravel())
    values = np.flatnonzero(counts)
    return values.astype(mask.dtype), counts[values]


def value_ids(mask: np.ndarray, values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(values, ids): the distinct values of ``mask``, ascending, and an array of ``mask``'s
    shape holding each pixel's 1-based position among them (0 nowhere), int32 where that
    holds them (:func:`~unetlab.data.large_ids.index_dtype`), else int64. ``values``: those
    distinct values where known: exactly :func:`distinct_values`' first array, of
    ``mask``'s dtype, all of them (trusted, not checked: a value left out gives wrong ids;
    s59: not found again, a pass over the mask, a sort of it where its values are not
    counted)."""
    mask = np.asarray(mask)
    if not _countable(mask):
        return _sorted_ids(mask, values)
    if values is None:
        values = _counted(mask)[0]
    lookup = np.zeros(int(values[-1]) + 1, index_dtype(values.size))  # value -> its position
    lookup[values] = np.arange(1, values.size + 1)
    return values, lookup[mask]


def _sorted_ids(mask: np.ndarray, values: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`value_ids` by sorting (values too large or not whole numbers to count): each
    pixel's position found by ``searchsorted`` a slice at a time, into the index dtype
    (``np.unique(return_inverse=True)`` held an int64 index and sort order as large)."""
    values = np.unique(mask) if values is None else values
    ids = np.empty(mask.shape, index_dtype(values.size))
    pixels, out = mask.reshape(-1), ids.reshape(-1)
    for start in range(0, pixels.size, SORTED_SLICE):
        part = slice(start, start + SORTED_SLICE)
        out[part] = np.searchsorted(values, pixels[part])
    ids += 1
    return values, ids


def object_labels(mask: np.ndarray, background_value: int, *, instances: bool) -> np.ndarray:
    """(H, W) int64 object ids (0: background): one per mask value for instance masks, else
    one per 4-connected region of each non-background value, numbered value by value
    (ascending) and, within a value, in ``ndimage.label``'s order."""
    mask = np.asarray(mask)
    values, ids = value_ids(mask)
    if instances:
        return np.where(mask == background_value, np.int64(0), ids)  # int64, as documented
    out = np.zeros(mask.shape, dtype=np.int64)
    total, found = 0, {}
    for value, box in zip(values, ndimage.find_objects(ids)):
        if value == background_value:
            continue
        regions, n = ndimage.label(mask[box] == value)
        inside = regions > 0
        out[box][inside] = regions[inside] + total
        found[value.item()] = int(n)
        total += n
    if (counted := _COUNTED.get()) is not None:
        counted[_mask_key(mask, background_value)] = found
    return out


def count_regions(mask: np.ndarray, background_value: int) -> int:
    """How many 4-connected regions the values of ``mask`` but ``background_value`` form
    (the objects of :func:`object_labels` with ``instances=False``)."""
    return sum(value_regions(mask, background_value))


def value_regions(
    mask: np.ndarray, background_value: int, values: np.ndarray | None = None
) -> tuple[int, ...]:
    """The 4-connected regions of each distinct value of ``mask`` (ascending, as
    :func:`distinct_values`: ``values``, where known), 0 for ``background_value``'s;
    within :func:`regions_counted_once`, those :func:`object_labels` found of the mask."""
    mask = np.asarray(mask)
    if (kept := _kept_regions(mask, background_value, values)) is not None:
        return kept
    values, ids = value_ids(mask, values)
    boxes = ndimage.find_objects(ids)
    return tuple(
        0 if value == background_value else int(ndimage.label(mask[box] == value)[1])
        for value, box in zip(values, boxes)
    )


def _kept_regions(
    mask: np.ndarray, background_value: int, values: np.ndarray | None
) -> tuple[int, ...] | None:
    """:func:`value_regions` from the counts :func:`object_labels` kept of ``mask``; None
    where none are kept, or a value has none (NaN: not equal to itself, not found by key)."""
    counted = _COUNTED.get()
    if counted is None or not (found := counted.get(_mask_key(mask, background_value))):
        return None
    values = distinct_values(mask)[0] if values is None else values
    regions = [0 if v == background_value else found.get(v.item()) for v in values]
    return None if None in regions else tuple(regions)


def touching_in_class(mask: np.ndarray, objects: np.ndarray, gap: int, *, instances: bool) -> int:
    """How many objects (``objects``: :func:`object_labels` of ``mask``) lie within ``gap``
    px of another of their own class, the mask value (every object of an instance mask is
    of one class)."""
    if instances:
        return touching_objects(objects, gap)
    values, ids = value_ids(mask)
    classes = set(np.unique(np.asarray(mask)[objects > 0]).tolist())
    total = 0
    for value, box in zip(values, ndimage.find_objects(ids)):
        if value.item() in classes:  # outside its box a class's image is background
            total += touching_objects(np.where(mask[box] == value, objects[box], 0), gap)
    return total


def touching_objects(objects: np.ndarray, gap: int) -> int:
    """How many objects of an (H, W) id image (0: background) lie at most ``gap`` background
    px from another object (another's pixel in the (2 gap + 3) square around one of theirs)."""
    highest_id = int(objects.max(initial=0))
    if highest_id == 0:
        return 0
    above = highest_id + 1  # stands for background in the minimum
    if objects.dtype.kind in "iu" and objects.min() >= 0:
        objects = objects.astype(np.min_scalar_type(above), copy=False)  # filters faster
    size = 2 * gap + 3
    highest = ndimage.maximum_filter(objects, size=size, mode="constant", cval=0)
    inside = objects > 0
    lowest = ndimage.minimum_filter(
        np.where(inside, objects, objects.dtype.type(above)),
        size=size,
        mode="constant",
        cval=above,
    )
    near_other = inside & ((highest != objects) | (lowest != objects))
    return int(np.unique(objects[near_other]).size)
