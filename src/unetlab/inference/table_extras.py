"""The columns at the end of predict's objects table (``<stem>_objects.csv``), after the
measures of :mod:`unetlab.inference.measure`: appended, so that scripts reading the earlier
columns by position keep working (audit s33 plates 1, 2).

- ``saturated_fraction`` (integer images): the share of each object's pixels at the
  image's ceiling in any channel (:func:`image_ceilings`: its dtype's maximum, 65535 in a
  uint16 image, or a camera's in a wider file: a 12-bit one's 4095 in uint16), of a slide
  streamed piece by piece too (:class:`SaturationCounts`: the same ceiling). An object
  with :data:`SATURATED_SHARE` or more is counted saturated (debris, an overexposed cell:
  its object and measures are not to be trusted as a nucleus's); one with a few clipped
  highlight pixels is not.
- ``image``: the input file's name on every row, so that the tables of a plate's wells
  concatenated keep each object's well.
- ``path`` (predict_folder's, predict_tree's: :func:`table_path`): the input's path from the
  folder given, so that two users' ``img_00.png`` stay apart in a merged table.
- ``well``, ``row``, ``column``, ``field`` (an HCS plate's field: :func:`table_place`):
  where on its plate the field is (``A01``, ``A``, 1, 0), for per-well sums.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import numpy as np

from unetlab.data.ceiling import CeilingTally, plane_ceiling
from unetlab.data.large_ids import compact_large_ids
from unetlab.data.plates import FieldPlace, field_place

__all__ = [
    "PLATE_COLUMNS",
    "SATURATED_SHARE",
    "SaturationCounts",
    "appended_columns",
    "channel_planes",
    "image_ceilings",
    "saturated_fraction",
    "saturated_pixels",
    "table_path",
    "table_place",
    "with_image_columns",
    "with_saturation",
]

#: an object with this share of its pixels or more at the image's ceiling counts as
#: saturated (the summary's count and line). Measured: the clipped highlights of the
#: demo's 32 synthetic 8-bit images reach 0.35 of an object (1,594 objects), of kromp2020's
#: widefield nuclei 0.09; the audit's saturated debris reads 0.44-0.55 (14 blobs), and
#: kromp2020's three overexposed confocal nuclei 0.56-0.77 (then 0.38 and under)
SATURATED_SHARE = 0.4


def channel_planes(image: np.ndarray) -> list[np.ndarray]:
    """The (H, W) plane of each channel of ``image`` ((H, W): itself; (H, W, C): views)."""
    return [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]


def image_ceilings(image: np.ndarray) -> list[int | None]:
    """The value each channel of ``image`` ((H, W) or (H, W, C), integer) saturates at
    (:func:`~unetlab.data.ceiling.plane_ceiling`: its dtype's maximum where a pixel reaches
    it, else a 10/12/14-bit camera's where the pixels pile up there); None where it
    reaches none."""
    planes = channel_planes(image)
    return [plane_ceiling(p) for p in planes]


def saturated_pixels(
    ids: np.ndarray, image: np.ndarray, n: int, ceilings: list[int | None]
) -> np.ndarray | None:
    """The pixels of each id 0..``n - 1`` of ``ids`` ((H, W), a whole image or a piece of
    one) where ``image`` ((H, W) or (H, W, C)) is at its ceiling in any channel (int64,
    length ``n``): each channel's of ``ceilings`` (:func:`image_ceilings` of the whole
    image; a streamed page's: :class:`SaturationCounts`); None for a float image (no
    ceiling to be at)."""
    if not np.issubdtype(image.dtype, np.integer):
        return None
    planes = channel_planes(image)
    tops = [p == c for p, c in zip(planes, ceilings, strict=True) if c is not None]
    if not tops:
        return np.zeros(n, np.int64)
    top = np.logical_or.reduce(tops) if len(tops) > 1 else tops[0]
    return np.bincount(ids[top].ravel(), minlength=n)[:n].astype(np.int64)


def saturated_fraction(ids: np.ndarray, image: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The share of the pixels of each object of ``present`` (ids in ``ids``, (H, W)) where
    ``image`` ((H, W) or (H, W, C), integer) is at its ceiling (:func:`image_ceilings`) in
    any channel; float64, 0 for an object with none. ValueError for a float image (no
    ceiling). Ids far above the pixel count are counted by their ranks
    (:func:`~unetlab.data.large_ids.compact_large_ids`: counts by id went by the largest,
    48 GB for an id of 3e9)."""
    if not np.issubdtype(image.dtype, np.integer):
        raise ValueError(f"saturation needs an integer image, not {image.dtype}")
    ids, present = np.asarray(ids), np.asarray(present)
    top = int(max(ids.max(initial=0), present.max(initial=0)))
    ranks, original = compact_large_ids(ids, top)
    rows = present.astype(np.int64) if original is None else _ranks_of(present, original)
    n = top + 1 if original is None else len(original) + 1  # the last: ids not in ``ids``
    saturated = saturated_pixels(ranks, image, n, image_ceilings(image))
    area = np.bincount(ranks.ravel(), minlength=n)[rows]
    return saturated[rows] / np.maximum(area, 1)


def _ranks_of(present: np.ndarray, original: np.ndarray) -> np.ndarray:
    """The rank of each id of ``present`` among ``original`` (ascending), or
    ``len(original)`` where it is not one of them."""
    at = np.minimum(np.searchsorted(original, present), len(original) - 1)
    return np.where(original[at] == present, at, len(original))


class SaturationCounts:
    """The pixels of each id 0..``n - 1`` at its page's ceiling in any channel (what
    :func:`saturated_pixels` gives with :func:`image_ceilings` of the page read whole),
    counted as the page's pieces stream past (:meth:`add`), before its ceilings are known.
    Exact: a channel's ceiling is its maximum or none (:class:`CeilingTally`, summed over
    the pieces), so only a piece's pixels at the piece's maximum, where that is the
    channel's so far and could be a ceiling, can be at it; they are counted per id by the
    channels they are at, and forgotten for a channel whose maximum a later piece
    exceeds. Memory: ``n`` counts per combination of channels met (one for a grey
    image)."""

    def __init__(self, n: int, dtype, channels: int):
        self.n = n
        self.tallies = [CeilingTally(dtype) for _ in range(channels)]
        self.counts: dict[int, np.ndarray] = {}  # channels' bits -> pixels per id at them

    def add(self, ids: np.ndarray, image: np.ndarray) -> None:
        """Count a piece: ``ids`` ((h, w), each < ``n``) and ``image`` ((h, w) or (h, w,
        C)) of the page's pixels there."""
        planes = channel_planes(image)
        before = [t.top for t in self.tallies]
        maxima = [t.add(p) for t, p in zip(self.tallies, planes, strict=True)]
        for c, (t, top) in enumerate(zip(self.tallies, before)):
            if top is not None and t.top > top:
                self._forget(c)
        live = [
            c
            for c, (t, m) in enumerate(zip(self.tallies, maxima))
            if m is not None and m == t.top and t.possible(m)
        ]
        if len(live) == 1:  # a grey image's: no combinations
            (c,) = live
            self._count(1 << c, ids[planes[c] == maxima[c]])
            return
        if not live:
            return
        at = np.stack([planes[c] == maxima[c] for c in live], axis=-1).reshape(-1, len(live))
        hit = at.any(axis=1)
        hit_ids, at = ids.reshape(-1)[hit], at[hit]
        for row, chosen in _combinations(at):
            self._count(sum(1 << live[j] for j in np.flatnonzero(row)), hit_ids[chosen])

    def pixels(self) -> np.ndarray:
        """Each id's pixels at the page's ceilings (int64, length ``n``)."""
        ceiling = sum(1 << c for c, t in enumerate(self.tallies) if t.ceiling() is not None)
        total = np.zeros(self.n, np.int64)
        for bits, counts in self.counts.items():
            if bits & ceiling:
                total += counts
        return total

    def _count(self, bits: int, ids: np.ndarray) -> None:
        """Count ``ids``' pixels (one each) at the channels of ``bits``: in time with the
        piece's ids (a band's objects), not the page's."""
        if ids.size:
            lo = int(ids.min())
            per_id = np.bincount(ids - lo)
            self._counts(bits)[lo : lo + per_id.size] += per_id

    def _counts(self, bits: int) -> np.ndarray:
        if bits not in self.counts:
            self.counts[bits] = np.zeros(self.n, np.int64)
        return self.counts[bits]

    def _forget(self, c: int) -> None:
        """Channel ``c``'s maximum rose: no pixel counted at its earlier one is at its
        ceiling."""
        for bits in [b for b in self.counts if b >> c & 1]:
            counts = self.counts.pop(bits)
            if bits & ~(1 << c):
                self._counts(bits & ~(1 << c))[:] += counts


def _combinations(at: np.ndarray):
    """``(row, chosen)`` for each combination ``row`` (bool, (P,)) of channels that rows of
    ``at`` ((N, P) bool, each row one pixel's: at which channels) hold, ``chosen`` those
    rows (bool, (N,))."""
    p = at.shape[1]
    if p > 62:  # no int64 code: the distinct rows themselves
        rows, inverse = np.unique(at, axis=0, return_inverse=True)
        for k, row in enumerate(rows):
            yield row, inverse.reshape(-1) == k
        return
    code = at.astype(np.int64) @ (np.int64(1) << np.arange(p, dtype=np.int64))
    present = np.flatnonzero(np.bincount(code)) if p <= 16 else np.unique(code)
    for v in present.tolist():
        yield (v >> np.arange(p)) & 1 > 0, code == v


def appended_columns(
    table: dict, name: str, saturated: np.ndarray | None = None, position: int | None = None
) -> dict:
    """``table`` with, at its end, ``saturated_fraction`` (``saturated``: one per row, None
    for a float image: no column) and ``image``: ``name`` (the input file's) on every row,
    and ``position`` where it is one of a multi-position file's
    (:mod:`unetlab.data.positions`: tables of several positions joined stay apart)."""
    extra = {} if saturated is None else {"saturated_fraction": np.asarray(saturated)}
    extra["image"] = np.full(len(table["id"]), name, dtype=object)
    if position is not None:
        extra["position"] = np.full(len(table["id"]), position, dtype=np.int64)
    if (path := _PATH.get()) is not None:  # last: the earlier columns keep their places
        extra["path"] = np.full(len(table["id"]), path, dtype=object)
    if (place := _PLACE.get()) is not None:  # a plate's field: after all the others
        for key, value in zip(PLATE_COLUMNS, place.columns):
            extra[key] = np.full(len(table["id"]), value, dtype=object)
    return {**table, **extra}


#: the columns that end the tables of an HCS plate's fields (:func:`table_place`)
PLATE_COLUMNS = ("well", "row", "column", "field")

#: the plate place of the input whose tables are written (:func:`table_place`)
_PLACE: ContextVar[FieldPlace | None] = ContextVar("unetlab_table_place", default=None)


@contextlib.contextmanager
def table_place(path) -> Iterator[None]:
    """Objects tables written in this block end with the :data:`PLATE_COLUMNS` of the input
    ``path`` where it is a field of an HCS plate (:func:`~unetlab.data.plates.field_place`:
    ``A01``, ``A``, ``1``, ``0``); else with none."""
    token = _PLACE.set(field_place(path))
    try:
        yield
    finally:
        _PLACE.reset(token)


#: the ``path`` column of the tables written while :func:`table_path` holds one
_PATH: ContextVar[str | None] = ContextVar("unetlab_table_path", default=None)


@contextlib.contextmanager
def table_path(path: str | None) -> Iterator[None]:
    """Objects tables written in this block end with a ``path`` column holding ``path``
    (the input's path from the folder given: predict_folder's; None: no column)."""
    token = _PATH.set(path)
    try:
        yield
    finally:
        _PATH.reset(token)


def with_image_columns(
    table: dict, ids: np.ndarray, image: np.ndarray, name: str, position: int | None = None
) -> dict:
    """``table`` (one row per object of ``ids``: its ``id`` column) with, at its end,
    ``saturated_fraction`` where ``image`` is of an integer dtype, and ``image``: ``name``
    (the input file's) on every row, and its ``position`` (:func:`appended_columns`)."""
    return appended_columns(table, name, _saturation(table, ids, image), position)


def with_saturation(table: dict, ids: np.ndarray, images, by: str | None = None) -> dict:
    """``table`` (one row per object of ``ids``, planes (..., H, W)) with
    ``saturated_fraction`` at its end where ``images`` (those planes', (P, H, W[, C])) are
    of an integer dtype (:func:`saturated_fraction`; None or a float image: no column), each
    row's object found in the planes of its group: those of its ``by`` column's value
    (``page``: one plane; ``t``: a frame's z-stack), or all side by side (None): the array
    API's table, with the columns of ``<stem>_objects.csv`` but those naming the file
    (:func:`with_image_columns`)."""
    if images is None or not np.issubdtype(images.dtype, np.integer):
        return table
    planes = ids.reshape(-1, *ids.shape[-2:])
    groups = 1 if by is None else (len(planes) if by == "page" else ids.shape[0])
    step, column = len(planes) // groups, np.zeros(len(table["id"]))
    keys = np.zeros(len(column), np.int64) if by is None else np.asarray(table[by])
    for g in np.unique(keys).tolist():
        rows, at = keys == g, slice(g * step, (g + 1) * step)
        flat = planes[at].reshape(-1, planes.shape[-1])
        image = images[at].reshape(-1, *images.shape[2:])
        column[rows] = saturated_fraction(flat, image, table["id"][rows])
    return {**table, "saturated_fraction": column}


def _saturation(table: dict, ids: np.ndarray, image: np.ndarray) -> np.ndarray | None:
    """:func:`saturated_fraction` of the objects of ``table`` in an integer ``image``; None
    for a float one (no ceiling: no column)."""
    if not np.issubdtype(image.dtype, np.integer):
        return None
    return saturated_fraction(ids, image, table["id"])
