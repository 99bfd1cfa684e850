"""One open TIFF per file while the file is predicted, instead of one per reader.

Each reader of a TIFF's pixels and metadata (pages, axes, pixel size, channel names,
colour, nodata, the stream rule) opened the file anew, and each open that asks for its
series (tifffile's ``TiffFile.series``) parses the OME-XML and loads every page of the file:
a multi-position OME-TIFF's readers, about ten per position, cost positions x all pages.
Within :func:`keeping_open` (around the prediction of one file) :func:`open_tiff` and
:func:`tiff_file` give that file's one ``TiffFile``, opened at the first ask and closed at
the end: one file held open at a time (Windows' open-file limits), none held between runs.
Its readers all read the version it was opened at (one replaced meanwhile is read anew at
the next :func:`keeping_open`; s59 opened it again, and stat-ed it at each ask). Other
files, and every file outside :func:`keeping_open`, are opened and closed by each reader as
before. The kept one belongs to
the thread (context) that keeps it: another thread opens its own.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from unetlab.read_once import ReadOnce

__all__ = [
    "HEADERS",
    "given_name",
    "given_path",
    "keeping_open",
    "open_tiff",
    "path_key",
    "real_path",
    "tiff_file",
]

#: what is read of a TIFF's header (its axes, its level 0's shape and type, its GeoTIFF
#: tags), kept within ``HEADERS.kept()`` while the file is unchanged
#: (:func:`~unetlab.data.io.axes_read_once`): ``unetlab predict``'s first look at each input
#: reads them all from one open, which its phases then share (s62: its output positions,
#: streaming rule, prediction and GeoTIFF tags opened each input 4 times)
HEADERS = ReadOnce("tiff_headers_read", inputs=True)


def real_path(path: str | os.PathLike) -> str:
    """``os.path.realpath(path)``, resolved once a command for each path (within
    ``HEADERS.kept()``), by which the reads of a file's header are kept: the first look at
    an input resolved it 8 times (s63: its positions, axes, level 0, GeoTIFF tags and kept
    open file each), and each check of a command again; outside, each ask resolves it.
    What a record says of the file an output came from resolves it anew
    (``os.path.realpath``): a link retargeted during the command is named as it is then."""
    return HEADERS.once(("real path", path_key(path)), lambda: os.path.realpath(path))


def path_key(path: str | os.PathLike) -> str:
    """``path`` joined to the working folder, not normalised, as a key of what is kept of it
    once a command: ``in/sub/../a.tif`` is not ``in/a.tif`` where ``sub`` is a link
    (``os.path.abspath`` made them one before the link was followed: s63)."""
    return os.path.join(os.getcwd(), os.fspath(path))


#: the suffixes of files read as TIFF: .tif and .tiff, BigTIFF's .btf, and the TIFF-based
#: files of slide scanners and confocals (Aperio .svs, Hamamatsu .ndpi, Leica .scn, Zeiss
#: .lsm), which a folder search passed over and a named one read whole through Pillow,
#: never streamed (s36)
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".svs", ".ndpi", ".scn", ".lsm")


def is_tiff_name(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name says a TIFF (:data:`TIFF_SUFFIXES`)."""
    return str(path).lower().endswith(TIFF_SUFFIXES)


#: the path each open ``TiffFile`` of ours was given (:func:`given_path`)
_GIVEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def given_path(tif) -> str:
    """The path an open tifffile ``TiffFile`` was opened by, as given (a link's own:
    ``TiffFile.filehandle`` names its target, which a warning named: s63), for what is said
    of it; its file handle's for one opened elsewhere."""
    return _GIVEN.get(tif) or str(tif.filehandle.path)


def given_name(tif) -> str:
    """The name of the file an open ``TiffFile`` was given by (:func:`given_path`'s: a
    link's, not its target's), for the lines said of it."""
    return os.path.basename(given_path(tif))


def _opened(path: str | os.PathLike):
    """``tifffile.TiffFile(path)``, its :func:`given_path` kept."""
    import tifffile

    tif = tifffile.TiffFile(path)
    _GIVEN[tif] = os.fspath(path)
    return tif


class _Kept:
    """The file kept open (its real path) and its ``TiffFile`` once opened."""

    def __init__(self, path: str | os.PathLike):
        self.path = real_path(path)
        self.tif = None

    def get(self, path: str | os.PathLike):
        """The open ``TiffFile`` of the file: opened at the first ask, the same one after
        (no stat each ask, s60: 3 a file predicted): all its readers read the version it
        was opened at, which nothing of ours rewrites meanwhile (no output replaces an
        input: :func:`~unetlab.outputs.refuse_inputs`)."""
        if self.tif is None:
            self.tif = _opened(path)  # raises as a reader's own open would
        return self.tif

    def close(self) -> None:
        if self.tif is not None:
            self.tif.close()
        self.tif = None


_KEPT: ContextVar[_Kept | None] = ContextVar("unetlab_kept_tiff", default=None)


@contextlib.contextmanager
def keeping_open(path: str | os.PathLike) -> Iterator[None]:
    """Within, the TIFF at ``path`` is opened once for all its readers (:func:`open_tiff`),
    and closed at the end; within a :func:`keeping_open` of the same file, nothing more."""
    kept = _KEPT.get()
    if kept is not None and kept.path == real_path(path):
        yield
        return
    kept = _Kept(path)
    token = _KEPT.set(kept)
    try:
        yield
    finally:
        _KEPT.reset(token)
        kept.close()


def _kept(path: str | os.PathLike) -> _Kept | None:
    kept = _KEPT.get()
    return kept if kept is not None and kept.path == real_path(path) else None


def tiff_file(path: str | os.PathLike) -> tuple[object, Callable[[], None]]:
    """An open tifffile ``TiffFile`` of ``path`` and what closes it when its reader is done:
    the one kept open (:func:`keeping_open`), closed at that end, else its own."""
    kept = _kept(path)
    if kept is not None:
        return kept.get(path), lambda: None
    tif = _opened(path)
    return tif, tif.close


@contextlib.contextmanager
def open_tiff(path: str | os.PathLike) -> Iterator:
    """``with open_tiff(path) as tif``: :func:`tiff_file`, closed at the end of the block
    unless kept open."""
    tif, close = tiff_file(path)
    try:
        yield tif
    finally:
        close()
