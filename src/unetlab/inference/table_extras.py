"""The columns at the end of predict's objects table (``<stem>_objects.csv``), after the
measures of :mod:`unetlab.inference.measure`: appended, so that scripts reading the earlier
columns by position keep working (audit s33 plates 1, 2).

- ``saturated_fraction`` (integer images): the share of each object's pixels at the
  image's ceiling in any channel (:func:`image_ceilings`: its dtype's maximum, 65535 in a
  uint16 image, or a camera's in a wider file: a 12-bit one's 4095 in uint16). An object
  with :data:`SATURATED_SHARE` or more is counted saturated (debris, an overexposed cell:
  its object and measures are not to be trusted as a nucleus's); one with a few clipped
  highlight pixels is not.
- ``image``: the input file's name on every row, so that the tables of a plate's wells
  concatenated keep each object's well.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SATURATED_SHARE",
    "appended_columns",
    "image_ceilings",
    "saturated_fraction",
    "saturated_pixels",
    "with_image_columns",
]

#: an object with this share of its pixels or more at the image's ceiling counts as
#: saturated (the summary's count and line). Measured: the clipped highlights of the
#: demo's 32 synthetic 8-bit images reach 0.35 of an object (1,594 objects), of kromp2020's
#: widefield nuclei 0.09; the audit's saturated debris reads 0.44-0.55 (14 blobs), and
#: kromp2020's three overexposed confocal nuclei 0.56-0.77 (then 0.38 and under)
SATURATED_SHARE = 0.4
#: the camera depths looked for in a wider container (a 12-bit camera's 4095 in uint16,
#: 8-bit values converted to 16-bit: 255)
CAMERA_BITS = (8, 10, 12, 14, 16)
#: a camera's ceiling counts where this many pixels or more are at it ...
PILE_PIXELS = 8
#: ... and this many times more than at each of the 16 values below it, on average (a
#: clipped camera piles up at its ceiling; an image whose maximum merely happens to be
#: 4095 has one or two pixels there, as at the values below)
PILE_RATIO = 4


def image_ceilings(image: np.ndarray) -> list[int | None]:
    """The value each channel of ``image`` ((H, W) or (H, W, C), integer) saturates at: its
    dtype's maximum where a pixel reaches it, else a camera's of :data:`CAMERA_BITS`
    (2^k - 1, or that shifted to the top bits of an unsigned container: 4095 or 65520 for
    12 bits in uint16) where the channel's maximum is one and the pixels pile up at it
    (:data:`PILE_PIXELS`, :data:`PILE_RATIO`); None where it reaches none."""
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    return [_ceiling(p) for p in planes]


def _ceiling(plane: np.ndarray) -> int | None:
    top, info = int(plane.max(initial=0)), np.iinfo(plane.dtype)
    if top == info.max:
        return top
    bits = info.bits - (info.min < 0)
    for k in (k for k in CAMERA_BITS if k < bits):
        step = 1 << (bits - k) if info.min == 0 else None  # the top bits' camera
        if top == (1 << k) - 1 and _piled(plane, top, 1):
            return top
        if step and top == ((1 << k) - 1) * step and _piled(plane, top, step):
            return top
    return None


def _piled(plane: np.ndarray, top: int, step: int) -> bool:
    """Whether ``plane``'s pixels pile up at ``top`` (values in steps of ``step``)."""
    if step > 1 and int(np.bitwise_or.reduce(plane, axis=None)) % step:
        return False  # not a camera's values shifted up
    at = int(np.count_nonzero(plane == top))
    below = int(np.count_nonzero(plane >= top - 16 * step)) - at
    return at >= PILE_PIXELS and at >= PILE_RATIO * below / 16


def saturated_pixels(
    ids: np.ndarray, image: np.ndarray, n: int, ceilings: list[int | None] | None = None
) -> np.ndarray | None:
    """The pixels of each id 0..``n - 1`` of ``ids`` ((H, W), a whole image or a piece of
    one) where ``image`` ((H, W) or (H, W, C)) is at its ceiling in any channel (int64,
    length ``n``): each channel's of ``ceilings`` (:func:`image_ceilings` of the whole
    image; None: the dtype's maximum, the same for every piece); None for a float image
    (no ceiling to be at)."""
    if not np.issubdtype(image.dtype, np.integer):
        return None
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    ceilings = ceilings or [np.iinfo(image.dtype).max] * len(planes)
    tops = [p == c for p, c in zip(planes, ceilings, strict=True) if c is not None]
    if not tops:
        return np.zeros(n, np.int64)
    top = np.logical_or.reduce(tops) if len(tops) > 1 else tops[0]
    return np.bincount(ids[top].ravel(), minlength=n)[:n].astype(np.int64)


def saturated_fraction(ids: np.ndarray, image: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The share of the pixels of each object of ``present`` (ids in ``ids``, (H, W)) where
    ``image`` ((H, W) or (H, W, C), integer) is at its ceiling (:func:`image_ceilings`) in
    any channel; float64, 0 for an object with none. ValueError for a float image (no
    ceiling)."""
    present = np.asarray(present, np.int64)
    n = int(max(ids.max(initial=0), present.max(initial=0))) + 1
    if not np.issubdtype(image.dtype, np.integer):
        raise ValueError(f"saturation needs an integer image, not {image.dtype}")
    saturated = saturated_pixels(ids, image, n, image_ceilings(image))
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
