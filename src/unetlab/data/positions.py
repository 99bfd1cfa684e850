"""The positions of a multi-position OME-TIFF (Micro-Manager and other stage-position
acquisitions: each OME ``Image`` a series of its own) and which one is being read.

``unetlab predict`` predicts each position as an image of its own
(:func:`~unetlab.inference.files.predict_file`): within :func:`reading_position` every
reader of the TIFF's pixels and metadata (pages, axes, pixel size, frame interval, channel
names: :func:`series_of`, :func:`ome_image`) reads that position's series and OME
``Image``, and its outputs are named for it (:func:`position_suffix`: ``cells_pos0``,
``cells_pos1``; ``_pos00`` ... ``_pos11`` for 12, so that they sort). Outside it, a file
is read as before: its first series."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar

from unetlab.data.tiff_files import real_path

#: (the input's real path, index, count) of the position being read; None: none (each
#: file's first series, its outputs unnamed). Other files (the outputs, read back) are
#: read as ever: their first series.
_AT: ContextVar[tuple[str, int, int] | None] = ContextVar("unetlab_position", default=None)


#: whether the command reads every position (``unetlab predict``), not the first alone
_EACH: ContextVar[bool] = ContextVar("unetlab_each_position", default=False)


@contextlib.contextmanager
def each_position() -> Iterator[None]:
    """Within, each position of a multi-position OME-TIFF is read in turn (``unetlab
    predict``): the line that says the others than the first are not read is not said."""
    token = _EACH.set(True)
    try:
        yield
    finally:
        _EACH.reset(token)


def every_position_read() -> bool:
    """Whether each position is read (:func:`each_position`)."""
    return _EACH.get()


@contextlib.contextmanager
def reading_position(path: str | os.PathLike, index: int, count: int) -> Iterator[None]:
    """Read position ``index`` (0-based) of the file at ``path``, of ``count`` positions,
    within."""
    if not 0 <= index < count:
        raise ValueError(f"position {index} of {count}")
    token = _AT.set((real_path(path), index, count))
    try:
        yield
    finally:
        _AT.reset(token)


def _at(path: str | os.PathLike) -> tuple[int, int] | None:
    """(index, count) of the position of ``path`` being read, else None."""
    at = _AT.get()
    if at is None or real_path(path) != at[0]:
        return None
    return at[1], at[2]


def position_of(path: str | os.PathLike) -> int | None:
    """The index of the position of ``path`` being read (:func:`reading_position`), else None."""
    at = _at(path)
    return None if at is None else at[0]


def reading(path: str | os.PathLike) -> bool:
    """Whether a position of the file at ``path`` is being read (:func:`reading_position`)."""
    return _at(path) is not None


def image_of(tif) -> int:
    """The index of the OME ``Image`` (and tifffile series) of an open tifffile
    ``TiffFile`` being read: its position's, else 0 (the first)."""
    at = _at(tif.filehandle.path)
    return 0 if at is None else at[0]


def series_of(tif):
    """The series of an open tifffile ``TiffFile`` being read: its position's, else the first."""
    return tif.series[image_of(tif)]


def position_suffix(index: int, count: int) -> str:
    """What the outputs of position ``index`` of ``count`` add to the input's stem:
    ``_pos3``, zero-padded to the digits of the last (``_pos03`` of 12) so names sort."""
    return f"_pos{index:0{len(str(count - 1))}d}"


def current_suffix(path: str | os.PathLike) -> str:
    """:func:`position_suffix` of the position of ``path`` being read; "" where none is."""
    at = _at(path)
    return "" if at is None else position_suffix(*at)
