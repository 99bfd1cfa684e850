"""The chunks of a Zarr array (v2 or v3, a local folder) that are not stored.

A chunk that is not stored reads as the array's ``fill_value``, without a word from zarr:
writers leave out chunks that hold nothing but it (zarr-python's default: a sparse Zarr,
its background unstored), and a partial copy or an interrupted conversion lacks chunks
of real pixels. Which it is, the store cannot say; :func:`unstored_chunks` counts them
and where they lie, for the reader to say (:mod:`unetlab.inference.slide_nodata`).

The folder is listed once and the listing compared with the array's grid of stored
objects (chunks, or shards of a sharded v3 array: a shard's inner chunks are not listed):
0.08 s for 25,600 chunks, where zarr's ``nchunks_initialized`` (a list searched for each
key) took 6.4 s.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Unstored:
    """``missing`` of the ``total`` stored objects (chunks or shards) of an array are not
    stored; they read as ``fill`` (the array's fill value; 0 where it has none). ``rows``
    and ``columns``: the first and last pixel (inclusive) of the rows and columns they
    span."""

    missing: int
    total: int
    fill: object
    rows: tuple[int, int]
    columns: tuple[int, int]

    @property
    def fill_text(self) -> str:
        """The fill value as a number for a command line (``0``, ``nan``)."""
        try:
            return f"{float(self.fill):g}"
        except (TypeError, ValueError):
            return str(self.fill)


def unstored_chunks(array, axes: str) -> Unstored | None:
    """What of the Zarr ``array`` (opened from a local folder) is not stored, or None where
    every chunk is, or the store is not a local folder (nor readable). ``axes``: one letter
    per axis of the array, ``Y`` and ``X`` among them (:class:`~unetlab.data.slides.Layout`)."""
    folder = _folder(array)
    if folder is None:
        return None
    try:
        stored = _listed(folder)
    except OSError:
        return None
    shape = tuple(array.shape)
    step = tuple(getattr(array, "shards", None) or array.chunks)
    grid = tuple(math.ceil(s / c) for s, c in zip(shape, step))
    encode = array.metadata.encode_chunk_key
    lacking = np.fromiter(
        (encode(at) not in stored for at in np.ndindex(grid)), bool, math.prod(grid)
    ).reshape(grid)
    missing = int(lacking.sum())
    if not missing:
        return None
    y, x = axes.index("Y"), axes.index("X")
    fill = 0 if array.fill_value is None else array.fill_value
    return Unstored(
        missing,
        lacking.size,
        fill,
        _span(lacking, y, step[y], shape[y]),
        _span(lacking, x, step[x], shape[x]),
    )


def _folder(array) -> Path | None:
    """The folder of ``array``'s chunks, or None where its store is no local folder."""
    from zarr.storage import LocalStore

    store_path = getattr(array, "store_path", None)
    if store_path is None or not isinstance(store_path.store, LocalStore):
        return None
    return Path(store_path.store.root) / store_path.path


def _listed(folder: Path) -> set[str]:
    """The files under ``folder`` as store keys relative to it (``/`` between parts)."""
    keys: set[str] = set()
    for root, _dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder).as_posix()
        prefix = "" if rel == "." else rel + "/"
        keys.update(prefix + name for name in files)
    return keys


def _span(lacking: np.ndarray, axis: int, step: int, size: int) -> tuple[int, int]:
    """The first and last pixel along ``axis`` of the chunks ``lacking`` marks."""
    others = tuple(i for i in range(lacking.ndim) if i != axis)
    where = np.flatnonzero(lacking.any(axis=others))
    return int(where[0]) * step, min(size, (int(where[-1]) + 1) * step) - 1
