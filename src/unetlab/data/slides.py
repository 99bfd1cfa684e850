"""Whole-slide images read window by window: tiled, compressed, pyramidal TIFF and OME-Zarr.

:func:`open_slide` opens a TIFF/BigTIFF/OME-TIFF (any compression tifffile and imagecodecs
decode: JPEG, LZW, deflate, zstd, ...; strips or tiles; pyramid levels) through tifffile's
Zarr store, a plain uncompressed TIFF through a memory map of the rows it reads, or a Zarr /
OME-Zarr folder through ``zarr``. Nothing is read until a window is asked for, so memory
follows the windows, not the image. Each page is an (H, W, C) array-like that slices
(:class:`SlidePage`): the tiling loop reads it tile by tile, and the page keeps the last band
of full-width rows it read, so the tiles of one row of tiles decode each chunk about once.

The physical pixel size (micrometres, (y, x)) comes from the OME metadata, the TIFF
resolution tags or the OME-Zarr ``coordinateTransformations``, scaled to the level read.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.czi import CziView, czi_source, is_czi_name
from unetlab.data.folder_notes import ZARR_MARKERS, is_zarr
from unetlab.data.h5 import H5View, h5_letters, h5_source, is_h5_name
from unetlab.data.io import (
    AXES_GIVEN,
    TIFF_SUFFIXES,
    TiffHead,
    axes_letters,
    given_letters,
    level_head,
    say_other_series,
    short_file_line,
    tiff_head,
    truncated_line,
    untiffed_error,
)
from unetlab.data.mrc import header_sizes, is_mrc_name, mrc_header, mrc_map
from unetlab.data.ngff import axis_names, axis_units, micrometres, multiscale
from unetlab.data.npy import is_mapped, npy_header, npy_letters, npy_map
from unetlab.data.positions import series_of
from unetlab.data.shown import shown_path
from unetlab.data.tiff_codecs import undecodable_line
from unetlab.data.tiff_files import open_tiff, tiff_file
from unetlab.data.tiffmeta import tiff_sizes
from unetlab.errors import ImageReadError, Spelled, UnetlabError, first_line, spelled
from unetlab.words import numbered

log = logging.getLogger(__name__)


def zarr_channels(path: str | os.PathLike) -> tuple[int, list[str]] | None:
    """The channel count of the Zarr folder ``path`` (its level 0) and the names its OME-Zarr
    ``omero`` metadata gives them (each channel's ``label``; [] where it gives none, or not
    one for each); None for no Zarr (s50 slideleft: --channel DAPI was refused for a Zarr
    that names its channels, and a one-channel Zarr was told to give an index)."""
    if not is_zarr(path):
        return None
    with open_slide(path) as slide:
        count = slide.shape[3]
    attrs = dict(_zarr_node(Path(path), scales=False)[0].attrs)  # a container's: its image's
    ome = attrs.get("ome") if isinstance(attrs.get("ome"), dict) else {}
    omero = attrs.get("omero") or ome.get("omero") or {}
    channels = omero.get("channels") if isinstance(omero, dict) else None
    channels = channels if isinstance(channels, list) else []  # damaged: no names
    names = [str(c.get("label") or "") for c in channels if isinstance(c, dict)]
    return count, names if len(names) == count and all(n.strip() for n in names) else []


def zarr_within(path: str | os.PathLike) -> tuple[Path, tuple[str, ...]] | None:
    """The outermost Zarr store that holds the Zarr ``path`` (an array or group given by
    its path inside the store: a level ``x.ome.zarr/0``, a series ``x.ome.zarr/1/0``) and
    the parts of ``path`` inside it (``(x.ome.zarr, ("0",))``); None where ``path`` is no
    Zarr held in another (a store given whole, or no Zarr). The store's path is absolute
    (``0`` given inside ``x.ome.zarr``: the store is the working folder)."""
    if not is_zarr(path):
        return None
    path = Path(os.path.abspath(path))
    store = path
    while is_zarr(store.parent) and store.parent != store:
        store = store.parent
    return None if store == path else (store, path.relative_to(store).parts)


def slide_name(path: str | os.PathLike) -> str:
    """How the lines name the input ``path``: its name, with its store's where it is a Zarr
    held in one (``x.ome.zarr/0``, given so: ``0`` alone named nothing)."""
    within = zarr_within(path)
    return Path(path).name if within is None else "/".join((within[0].name, *within[1]))


@dataclass(frozen=True)
class Layout:
    """Where the pages, rows, columns and channels are in a stored array's axes.

    ``axes``: one letter per stored axis, ``Y``, ``X``, ``C`` (channels or samples) or ``P``
    (any other axis: pages, z, time), e.g. ``"PCYX"`` or ``"YXC"``.
    """

    axes: str
    shape: tuple[int, ...]

    @property
    def pages(self) -> int:
        return math.prod(s for a, s in zip(self.axes, self.shape) if a == "P")

    @property
    def channels(self) -> int:
        return math.prod(s for a, s in zip(self.axes, self.shape) if a == "C")

    @property
    def plane(self) -> tuple[int, int]:
        return self.shape[self.axes.index("Y")], self.shape[self.axes.index("X")]

    def index(self, page: int, rows: slice, cols: slice, channels: slice = slice(None)) -> tuple:
        """The stored array's index of ``rows`` x ``cols`` of page ``page`` (``channels``:
        all)."""
        page_shape = [s for a, s in zip(self.axes, self.shape) if a == "P"]
        coords = iter(np.unravel_index(page, page_shape) if page_shape else ())
        parts = {"Y": rows, "X": cols, "C": channels}
        return tuple(int(next(coords)) if a == "P" else parts[a] for a in self.axes)

    @property
    def planar(self) -> bool:
        """Whether the channels come before Y and X (a multiplexed OME-TIFF's pages, an
        OME-Zarr's CYX), each a plane of its own (whether its chunks hold one channel each
        is the stored array's: :attr:`Slide.channel_chunk`)."""
        return "C" in self.axes and self.axes.index("C") < self.axes.index("Y")

    def to_hwc(self, block: np.ndarray) -> np.ndarray:
        """A block read with :meth:`index` as (h, w, C)."""
        kept = [a for a in self.axes if a != "P"]
        if "C" not in kept:
            block, kept = block[..., None], [*kept, "C"]
        return np.transpose(block, [kept.index(a) for a in "YXC"])


def layout_of(axes: str, shape: tuple[int, ...]) -> Layout:
    """A :class:`Layout` from tifffile's or OME-Zarr's axis letters (``S`` and ``C`` are
    channels; anything but Y, X, C, S is a page axis). At most one channel axis larger than 1."""
    axes = axes.upper()
    if "Y" not in axes or "X" not in axes or len(axes) != len(shape):
        raise UnetlabError(f"axes {axes!r} of shape {shape} have no rows and columns (Y, X)")
    letters = ["C" if a in "CS" else a if a in "YX" else "P" for a in axes]
    channel = [i for i, a in enumerate(letters) if a == "C"]
    if len(channel) > 1:
        # keep the larger channel axis; a 1-long one becomes a page axis of one page
        keep = max(channel, key=lambda i: shape[i])
        if any(shape[i] > 1 for i in channel if i != keep):
            raise UnetlabError(f"axes {axes!r} of shape {shape} hold two channel axes")
        letters = [("P" if i in channel and i != keep else a) for i, a in enumerate(letters)]
    return Layout("".join(letters), tuple(int(s) for s in shape))


def channel_spans(channels: tuple, chunk: int) -> list[slice]:
    """The reads of ``channels`` from an array whose chunks hold ``chunk`` channels each:
    the asked channels grouped by their chunk, chunks next to each other read together,
    each read from its lowest asked channel to its highest, so that every chunk holding one
    is decoded once and no other (chunks of 1: a run of neighbours at once; chunks of every
    channel: one read). s69 review: chunks of 4 of 24, (0, 23) asked: 6 chunks decoded
    where 2 hold them (a 1,024² Zarr's rows: 0.043-0.074 s CPU, now 0.012 s)."""
    spans: list[slice] = []
    for c in sorted(set(channels)):
        if spans and c // chunk - (spans[-1].stop - 1) // chunk <= 1:
            spans[-1] = slice(spans[-1].start, c + 1)
        else:
            spans.append(slice(c, c + 1))
    return spans


class SlidePage:
    """One page of a slide as an (H, W, C) array-like: ``page[rows, cols]`` reads only that
    window (``rows``/``cols`` slices with step 1), and keeps the last band of rows it read
    (full width, at least ``band_rows`` rows) to serve the next windows from memory.
    ``channels``: the slide's channels it holds, in that order (None: all)."""

    ndim = 3

    def __init__(
        self, slide: Slide, index: int, *, band_rows: int = 0, channels: tuple | None = None
    ):
        self.slide, self.index, self.band_rows = slide, index, band_rows
        self.channels = channels
        count = slide.layout.channels if channels is None else len(channels)
        self.shape = (*slide.layout.plane, count)
        self.dtype = slide.dtype
        self._band: np.ndarray | None = None
        self._top = 0

    def __getitem__(self, key) -> np.ndarray:
        rows, cols = (key, slice(None)) if not isinstance(key, tuple) else (*key, slice(None))[:2]
        h = self.shape[0]
        r0, r1, step = rows.indices(h)
        if step != 1:
            raise ValueError("slide windows read with step 1 only")
        r1 = max(r0, r1)
        band = self._band
        if band is None or r0 < self._top or r1 > self._top + band.shape[0]:
            top, bottom = r0, min(h, max(r1, r0 + self.band_rows))
            window = (self.index, slice(top, bottom), slice(None))
            self._band = band = self.slide.read(*window, channels=self.channels)
            self._top = top
        return band[r0 - self._top : r1 - self._top, cols]

    def drop(self) -> None:
        """Forget the band kept in memory."""
        self._band = None


class Slide:
    """A lazily read image: ``layout`` (where pages, rows, columns and channels are),
    ``dtype``, ``pixel_size`` ((y, x) micrometres, or None), ``z_spacing`` (micrometres
    between pages, or None), ``levels`` (pyramid levels of the file), ``level`` (the one
    read), ``downsample`` ((y, x) level-0 pixels per pixel of that level: (1.0, 1.0) at
    level 0; QuPath and other viewers place shapes in level-0 pixels), ``chunked`` (tiled
    or compressed storage), ``given_axes`` (the axes the user gave for a TIFF, naming what
    its pages are: :func:`open_slide`; None where none were given), ``axes_trained``
    (whether those are the checkpoint's, none given), ``turn`` (a TIFF's Orientation tag:
    1 upright; its windows are read as stored).

    Pages are (H, W, C) windows readers: :meth:`page`. Close with :meth:`close` (or ``with``).
    """

    def __init__(
        self,
        path: Path,
        array,
        layout: Layout,
        *,
        dtype,
        pixel_size,
        levels,
        level,
        chunked: bool,
        closer=None,
        z_spacing: float | None = None,
        downsample: tuple[float, float] = (1.0, 1.0),
        given_axes: str | None = None,
        turn: int = 1,
    ):
        self.path, self.array, self.layout, self.turn = path, array, layout, turn
        self.given_axes, self.axes_trained = given_axes, False
        self.downsample = downsample
        self.dtype = np.dtype(dtype)
        self.pixel_size, self.levels, self.level = pixel_size, levels, level
        self.z_spacing = z_spacing
        self.chunked = chunked
        self._closer = closer

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(pages, H, W, C)."""
        return (self.layout.pages, *self.layout.plane, self.layout.channels)

    def page(
        self, index: int = 0, *, band_rows: int = 0, channels: tuple | None = None
    ) -> SlidePage:
        """Page ``index`` as an (H, W, C) windows reader (:class:`SlidePage`) of its
        ``channels`` (None: all)."""
        if not 0 <= index < self.layout.pages:
            raise IndexError(f"page {index} of {self.layout.pages}")
        self._check_channels(channels)
        return SlidePage(self, index, band_rows=band_rows, channels=channels)

    def read(
        self, page: int, rows: slice, cols: slice, *, channels: tuple | None = None
    ) -> np.ndarray:
        """The window ``rows`` x ``cols`` of page ``page`` as a new (h, w, C) array of
        ``channels`` (indices, in that order; None: all). Only the stored chunks that hold
        one of them are decoded, each once (:func:`channel_spans`): one channel of 24 of a
        multiplexed OME-TIFF decoded 24 pages' tiles before (s69: 5.1 s CPU a pass of a
        4,096² slide, 0.14 s for one)."""
        self._check_channels(channels)
        spans = [slice(None)] if channels is None else channel_spans(channels, self.channel_chunk)
        index = (self.layout.index(page, rows, cols, span) for span in spans)
        blocks = [self.layout.to_hwc(self._read(i, page, rows)) for i in index]
        if channels is None:
            return np.ascontiguousarray(blocks[0])
        planes = {
            c: block[..., c - span.start]
            for span, block in zip(spans, blocks)
            for c in range(span.start, span.stop)
        }
        return np.stack([planes[c] for c in channels], 2)  # a new array, C-contiguous

    @property
    def channel_chunk(self) -> int:
        """How many channels one stored chunk holds (one read of any of them decodes them
        all): a chunked array's depth along C; else 1 where the channels are stored apart
        (:attr:`Layout.planar`: a memory map reads only theirs), and every channel where
        they are interleaved in each pixel."""
        if "C" not in self.layout.axes:
            return 1
        chunks = getattr(self.array, "chunks", None)  # a memory map has none: no decoding
        if chunks is not None:
            return int(chunks[self.layout.axes.index("C")])
        return 1 if self.layout.planar else self.layout.channels

    def _check_channels(self, channels: tuple | None) -> None:
        """IndexError unless each of ``channels`` (None: all) is one of the slide's, and
        there is one at least (a planar slide gave (h, w, 0) for channel 9 of 6 or -1)."""
        count = self.layout.channels
        if channels is not None and not (channels and all(0 <= c < count for c in channels)):
            raise IndexError(f"channels {tuple(channels)} of a slide of {count} (0-{count - 1})")

    def _read(self, index: tuple, page: int, rows: slice) -> np.ndarray:
        """The stored array's block at ``index`` (of ``rows`` of ``page``, named in an error)."""
        top, bottom, _ = rows.indices(self.layout.plane[0])
        with _window_errors(self.path, f"rows {top}-{bottom} of page {page}"):
            if callable(self.array):  # a memory map made for this read only
                mapped = self.array()  # in the machine's byte order: a big-endian file's
                block = np.array(mapped[index], mapped.dtype.newbyteorder("="))
                del mapped
                return block
            return np.asarray(self.array[index])

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> Slide:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def _window_errors(path: Path, window: str) -> Iterator[None]:
    """Turn what the decoders and stores raise on a window of ``path`` (a truncated or
    corrupt file: its tiles end early or decode to nothing) into one ImageReadError naming
    the file and the window, so that a batch skips this file and goes on."""
    try:
        yield
    except (UnetlabError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - only the decoders and the store run in this block
        # imagecodecs' Jpeg8Error/DeflateError, tifffile's and zarr's ValueError/KeyError,
        # OSError of a short memory map: nearly anything, on broken bytes
        if (codec := undecodable_line(path)) is not None:
            raise ImageReadError(codec) from exc
        reason = first_line(exc, default="no details")
        raise ImageReadError(
            f"{path}: cannot read {window} ({type(exc).__name__}: {reason}); the file looks "
            "truncated or corrupt: copy or export it again"
        ) from exc


#: the pyramid level read, as the Python API and the command line spell it
LEVEL = Spelled("level", "--level")


def shape_as_read(slide: Slide, axes: str | None) -> tuple[int, int, int, int]:
    """(pages, rows, columns, channels) of ``slide`` as ``axes`` read it whole (None: as its
    file says, :attr:`Slide.shape`). A TIFF of pages of one sample (its layout all ``P``,
    ``Y``, ``X``) read by as many letters as its header's series has axes pairs them: a
    model's ``YXC`` reads tifffile's pages of a 2-channel array saved without metadata or
    axes ((48, 64, 2): 48 pages of 64 x 2 px) as one 48 x 64 image of 2 channels, ``ZYXC``
    a (5, 48, 64, 2) one as 5 planes of 48 x 64 (s63: its 240 pages of 128 px were counted).
    Axes that read it otherwise than its file does are refused where it is read window by
    window (:func:`refuse_other_layout`)."""
    letters, layout = "" if axes is None else axes.upper(), slide.layout
    if "C" in layout.axes or len(letters) != len(layout.shape) or not {"Y", "X"} <= set(letters):
        return slide.shape
    sizes = dict(zip(letters, layout.shape))
    pages = math.prod(n for a, n in sizes.items() if a not in "YXC")
    return pages, sizes["Y"], sizes["X"], sizes.get("C", 1)


def pixels_as_read(slide: Slide, axes: str | None) -> int:
    """The pixels of one image (a page's) of ``slide`` as ``axes`` read it whole
    (:func:`shape_as_read`)."""
    _, h, w, _ = shape_as_read(slide, axes)
    return h * w


def read_whole(pixels: int | str, more: str = "") -> Spelled:
    """How a caller has a large image read whole, above its ``pixels`` a page (``more``
    said after the number): the command line's ``--large-pixels``, Python's
    ``large_threshold`` keyword, as predict_file, predict_folder and predict_tree take it (a
    predict_folder caller was sent to predict_file, s56 fixI), with a word for one who called
    ``predict_slide``, which takes it but always reads window by window."""
    return Spelled(
        f"large_threshold={pixels}{more} (predict_slide always reads window by window: call "
        "predict_file for a whole read)",
        f"--large-pixels {pixels}{more}",
    )


def open_slide(
    path: str | os.PathLike,
    *,
    level: int = 0,
    colour_planes: bool = False,
    axes: str | None = None,
    trained: bool = False,
) -> Slide:
    """Open a TIFF file or a Zarr / OME-Zarr folder for window-by-window reading of pyramid
    level ``level`` (0: full resolution); ``colour_planes``: a planar RGB(A) TIFF without
    axes metadata is one colour image, not pages (:func:`unetlab.data.io.tiff_letters`).
    ``axes``: a TIFF's axes as the user gives them (``--axes``), which may name what its
    pages are (``TYX`` for a stack of slices that are time points: ``Slide.given_axes``)
    but not read it otherwise (:func:`refuse_other_layout`; ``trained``: the axes are the
    checkpoint's, none given). Raises ImageReadError for unreadable files and UnetlabError
    for a level the file does not have."""
    path = Path(path)
    if level < 0:
        raise UnetlabError(**spelled(lambda f: f"{f} must be at least 0, not {level}", LEVEL))
    tiff = path.suffix.lower() in TIFF_SUFFIXES and path.is_file()
    if axes is not None and not (tiff or is_mapped(path)):
        raise untiffed_error(path)
    if is_zarr(path):
        return _open_zarr(path, level)
    if tiff:
        return _open_tiff(path, level, colour_planes, axes, trained)
    if is_mrc_name(path) and path.is_file():
        return _mrc_slide(path, level)
    if is_h5_name(path) and path.is_file():
        return _h5_slide(path, level)
    if is_czi_name(path) and path.is_file():
        return _czi_slide(path, level)
    if is_mapped(path):
        return _given(_npy_slide(path, level, colour_planes), axes, trained)
    raise _not_a_tiff(path, None)


def _not_a_tiff(path: Path, axes: str | None) -> ImageReadError:
    """What :func:`open_slide` raises for a ``path`` that is no TIFF file nor a Zarr."""
    if axes is not None:
        return untiffed_error(path)
    return ImageReadError(f"{path}: not a TIFF file or a Zarr folder")


def slide_header(
    path: str | os.PathLike,
    *,
    colour_planes: bool = False,
    axes: str | None = None,
    trained: bool = False,
) -> Slide:
    """The :class:`Slide` of level 0 of the TIFF at ``path`` as :func:`open_slide` opens
    it, but of its header alone (:func:`~unetlab.data.io.tiff_head`, read once within
    :func:`~unetlab.data.io.axes_read_once`): its layout, sample type, levels and given
    axes, refused as :func:`open_slide` refuses them (a file named otherwise than a TIFF,
    one cut off before its pixels end); no pixels, no pixel size. A Zarr folder is opened
    (:func:`open_slide`: its metadata, no pixels). For what the pixel rule and the memory
    rule ask of a file (s62: they opened it, then the prediction again). Raises
    ImageReadError as :func:`open_slide`."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:  # by its name, as open_slide: no stat
        return _other_header(path, axes, colour_planes)
    try:
        with _tiff_errors(path):
            head = tiff_head(path)  # a stat each ask (its stamp), no more
    except ImageReadError:
        if not path.is_file():  # a folder named .tif, a Zarr too; a missing file
            return _other_header(path, axes, colour_planes)
        raise
    if head.promised > head.held:  # as _tiff_pixels
        raise ImageReadError(truncated_line(path, head.promised, head.held))
    layout = layout_of(axes_letters(head.found, colour_planes=colour_planes), head.shape)
    sizes = dict(pixel_size=None, levels=head.levels, level=0, chunked=head.chunked)
    slide = Slide(path, None, layout, dtype=head.dtype, turn=head.turn, **sizes)
    return _given(slide, axes, trained)


def _other_header(path: Path, axes: str | None, colour_planes: bool) -> Slide:
    """:func:`slide_header` of a ``path`` that is no TIFF file: a Zarr folder's, an MRC
    file's or a ``.npy``'s slide (its pixels not read), else refused as :func:`open_slide`
    refuses it."""
    if axes is None and (is_zarr(path) or (_own_axes(path) and path.is_file())):
        with open_slide(path) as slide:
            return slide
    if is_mapped(path):
        with open_slide(path, colour_planes=colour_planes, axes=axes) as slide:
            return slide
    raise _not_a_tiff(path, axes)


def reads_by_window(path: str | os.PathLike) -> bool:
    """Whether the file ``path`` can be read window by window (:func:`open_slide`): a TIFF,
    an MRC or an HDF5 file, a ``.npy`` of numbers (a Zarr folder too: :func:`is_zarr`)."""
    path = Path(path)
    return path.suffix.lower() in TIFF_SUFFIXES or _own_axes(path) or is_mapped(path)


def _own_axes(path: Path) -> bool:
    """Whether ``path`` is named as a file whose header gives its axes (MRC's, HDF5's)."""
    return is_mrc_name(path) or is_h5_name(path) or is_czi_name(path)


def _given(slide: Slide, axes: str | None, trained: bool) -> Slide:
    """``slide`` read by the user's (or, ``trained``, the checkpoint's) ``axes``, refused
    where they read it otherwise than its file does (:func:`refuse_other_layout`)."""
    if axes is not None:
        letters = given_letters(axes, slide.layout.shape, slide.path)
        refuse_other_layout(slide, letters, axes, trained=trained)
        slide.given_axes, slide.axes_trained = axes.upper(), trained
    return slide


def _open_tiff(path: Path, level: int, colour_planes: bool, axes: str | None, trained: bool):
    with _tiff_errors(path):
        tif, close = tiff_file(path)
    try:
        return _given(_tiff_slide(path, tif, level, colour_planes, close), axes, trained)
    except BaseException:
        close()
        raise


def refuse_other_layout(slide: Slide, letters: str, axes: str, *, trained: bool = False) -> None:
    """UnetlabError where the user's ``axes`` (their ``letters``:
    :func:`~unetlab.data.io.given_letters`) read the TIFF of ``slide`` otherwise than the
    file's own axes do (pages as channels, channels as pages): a large image is read window
    by window as its file says; the axes may only say what its pages are (T or Z).
    ``trained``: they are the checkpoint's (``data.axes``), none given: the line says so."""
    if letters == slide.layout.axes:
        return
    pages, h, w, channels = slide.shape
    as_read = f"{numbered(pages, 'page')} of {h} x {w} px" + (
        f", {channels} channels" if channels > 1 else ""
    )

    def line(given: str, named: str, whole: str) -> str:
        said = f"the model's axes {axes} (as trained; none given) read" if trained else given
        return (
            f"{shown_path(slide.path)}: {said} it otherwise than its file does ({as_read}), "
            f"which a large image read window by window cannot: there {named} only says what "
            "its pages are (T or Z, e.g. TYX); save the file with its axes (tifffile.imwrite("
            f"..., metadata={{'axes': '{axes.upper()}'}})), or read it whole with {whole}"
        )

    given = Spelled(f"axes={axes!r} reads", f"--axes {axes} reads")
    whole = read_whole(pixels_as_read(slide, axes))  # as the pixel rule counts it
    raise UnetlabError(**spelled(line, given, AXES_GIVEN, whole))


def _tiff_slide(path: Path, tif, level: int, colour_planes: bool, close) -> Slide:
    """The :class:`Slide` of level ``level`` of an open TIFF, which ``close`` closes. Only tifffile's and zarr's
    calls run under :func:`_tiff_errors`; the layout is worked out outside it, so a bug
    there keeps its traceback."""
    with _tiff_errors(path):
        series = series_of(tif)
        levels = series.levels
        say_other_series(tif, path)
    _check_level(path, level, len(levels))
    with _tiff_errors(path):
        head = level_head(tif, series, level)
        base = level_head(tif, series, 0) if level else head
        array = _tiff_pixels(path, series, level, head)
        # tifffile's metadata: ImageJ's and OME's text may hold anything. Level 0's size,
        # scaled below: OME-XML holds level 0's, and a reduced page's own resolution tags
        # (SVS, libvips) are already scaled (audit s32 histo 1: not twice)
        size, spacing = tiff_sizes(tif, levels[0].keyframe)
    if head.turn != 1:  # turned when read whole (data.orientation); not window by window
        _say_turned(path, head.turn)
    # the rule of images read whole: a large stack reads as a small one does
    layout = layout_of(axes_letters(head.found, colour_planes=colour_planes), head.shape)
    downsample = (1.0, 1.0)
    if level:
        base_layout = layout_of(axes_letters(base.found, colour_planes=colour_planes), base.shape)
        downsample = _scaled((1.0, 1.0), base_layout, layout)
        size = None if size is None else _scaled(size, base_layout, layout)
    return Slide(
        path,
        array,
        layout,
        dtype=head.dtype,
        pixel_size=size,
        levels=head.levels,
        level=level,
        chunked=head.chunked,
        closer=close,
        z_spacing=spacing,
        downsample=downsample,
        turn=head.turn,
    )


def _check_level(path: Path, level: int, levels: int) -> None:
    """Refuse a pyramid level the file does not have; a TIFF cut off before its reduced
    levels (written after level 0) as truncated, not as a file of fewer levels."""
    if level >= levels and (short := short_file_line(path)) is not None:
        raise ImageReadError(short)
    if level >= levels == 1:
        raise UnetlabError(**no_pyramid(path, level))
    if level >= levels:
        said = f"{path}: has {levels} pyramid levels; choose "
        fix = Spelled(f"level=0 to level={levels - 1}", f"--level 0 to {levels - 1}")
        raise UnetlabError(**spelled(lambda f: said + f, fix))


#: how to make a pyramid of an input without one (the README's "Whole-slide images"): a
#: copy named after it, in a folder DIR outside the inputs (:func:`pyramid_copy`)
MAKE_PYRAMID = (
    "vips tiffsave {name} {copy} --tile --pyramid --subifd, DIR a folder outside the inputs"
)


def no_pyramid(path: str | os.PathLike, level: int, *, named: str | None = None) -> dict:
    """The keywords of the error for ``--level`` ``level`` of ``path`` (named ``named`` in the
    line, else as given), a file without a pyramid (:func:`~unetlab.errors.spelled`): leave
    the level out, or (a one-page image, which libvips reads whole) predict a pyramidal
    copy, made as :data:`MAKE_PYRAMID` says, of ``path`` as given (the line's name may be
    its name alone: review s55 G2). Not that copy for a stack (libvips copies its first
    page alone) or a Zarr (libvips cannot read it; s55 fixC)."""
    named = str(Path(path)) if named is None else named
    said = f"{named}: has no pyramid (level 0 alone): "
    fix = Spelled("give level=0 (full resolution)", f"drop --level {level} (full resolution)")
    if not _one_page(path):
        return spelled(lambda f: said + f, fix)
    copy = MAKE_PYRAMID.format(name=shlex.quote(str(path)), copy=shlex.quote(pyramid_copy(path)))
    return spelled(lambda f: f"{said}{f}, or predict a pyramidal copy of it (libvips: {copy})", fix)


def pyramid_copy(path: str | os.PathLike) -> str:
    """Where :data:`MAKE_PYRAMID` writes the copy of the input ``path``: ``<stem>_pyramid.tif``
    in a folder DIR the user chooses outside the inputs: a fixed ``pyramid.tif`` in the
    working folder was replaced by the next input's copy, and one beside or above the input
    could be in the inputs' tree, and the copies of two ``x.png`` meet (review s55 G3)."""
    stem = Path(path).stem.removesuffix(".ome")  # slide.ome.tif: slide_pyramid.tif
    return f"DIR/{stem}_pyramid.tif"


def _one_page(path: str | os.PathLike) -> bool:
    """Whether libvips reads all of ``path``: an image of one page, not a stack (libvips
    reads its first page) nor a Zarr, an MRC or an HDF5 file (libvips reads none)."""
    if is_zarr(path) or _own_axes(Path(path)):
        return False
    if Path(path).suffix.lower() not in TIFF_SUFFIXES:
        return True
    with _tiff_errors(Path(path)), open_tiff(path) as tif:
        return len(tif.pages) == 1


def _say_turned(path: Path, turn: int) -> None:
    log.warning(
        "%s: its Orientation tag says the picture is turned (%d), which an image read "
        "window by window does not follow: its outputs are in the stored orientation "
        "(turn the file first, or give a smaller image, which is read whole and turned)",
        shown_path(path),
        turn,
    )


@contextlib.contextmanager
def _tiff_errors(path: Path) -> Iterator[None]:
    """Turn what tifffile's parser raises on a corrupt TIFF into one ImageReadError naming
    ``path``; only tifffile's (and zarr's) calls run in this block."""
    try:
        yield
    except UnetlabError:
        raise
    except Exception as exc:  # noqa: BLE001 - tifffile's parser (tif.series) on corrupt
        # bytes raises nearly anything: ZeroDivisionError, TypeError, RuntimeError (fuzzed)
        from unetlab.data.file_kind import wrong_kind_line
        from unetlab.data.io import short_file_line

        # 0 bytes, cut off; a PNG named .tif, as reading it whole says (s52 badinput)
        if (short := short_file_line(path) or wrong_kind_line(path)) is not None:
            raise ImageReadError(short) from exc
        raise ImageReadError(
            f"{path}: cannot read this TIFF ({type(exc).__name__}: {first_line(exc)}); it is "
            "damaged or not a TIFF: copy or export it again (Fiji: File > Save As > Tiff)"
        ) from exc


def _tiff_pixels(path: Path, series, level: int, head: TiffHead):
    """Level ``level`` of a TIFF series (its ``head``): a memory map of uncompressed
    contiguous level-0 pixels (checked against the open file's length, not stat-ed again),
    else a Zarr view that decodes chunks."""
    import zarr

    if head.offset is None:  # compressed, tiled in pieces, or a pyramid level
        return zarr.open(series.aszarr(level=level), mode="r")
    if head.promised > head.held:
        raise ImageReadError(truncated_line(path, head.promised, head.held))
    shape, dtype, offset = head.shape, head.dtype, head.offset
    return lambda: np.memmap(path, dtype, "r", offset=offset, shape=shape)


def _mrc_slide(path: Path, level: int) -> Slide:
    """The :class:`Slide` of an MRC file (:mod:`unetlab.data.mrc`): its sections as pages,
    each window read from a memory map of the file made for that read, its voxel size (Å)
    as the pixel size and z spacing in µm."""
    _check_level(path, level, 1)
    head = mrc_header(path)
    size, spacing = header_sizes(head) or (None, None)
    return Slide(
        path,
        lambda: mrc_map(path, head),
        Layout("PYX", head.shape),
        dtype=head.dtype.newbyteorder("="),
        pixel_size=size,
        levels=1,
        level=0,
        chunked=False,
        z_spacing=spacing,
    )


def _h5_slide(path: Path, level: int) -> Slide:
    """The :class:`Slide` of level ``level`` of an HDF5 file (:mod:`unetlab.data.h5`): its
    datasets sliced window by window through :class:`~unetlab.data.h5.H5View` (h5py reads
    the chunks a window touches), the file opened at the first read and open until the
    slide is closed (a header, its source read once a command, opens none); its voxel size
    (Imaris', BigDataViewer's) as the pixel size and z spacing."""
    head = h5_source(path)
    _check_level(path, level, head.levels)
    source = h5_source(path, level=level) if level else head
    view = H5View(path, source)
    layout = layout_of(h5_letters(source), view.shape)
    base = layout_of(h5_letters(head), head.shape)
    return Slide(
        path,
        view,
        layout,
        dtype=source.dtype,
        pixel_size=source.pixel_size,
        levels=source.levels,
        level=level,
        chunked=view.chunks is not None,
        closer=view.close,
        z_spacing=source.z_spacing,
        downsample=_scaled((1.0, 1.0), base, layout),
    )


def _czi_slide(path: Path, level: int) -> Slide:
    """The :class:`Slide` of a CZI file (:mod:`unetlab.data.czi`: the scene read), each
    window read by region through :class:`~unetlab.data.czi.CziView` (libCZI composes the
    tiles of a mosaic it touches), the file open until the slide is closed; its pixel size
    and z spacing from its metadata's Scaling. Its levels: level 0, then each layer of ZEN's
    pyramid its subblocks hold (:attr:`~unetlab.data.czi.CziSource.pyramid`, 2: half size),
    read from that layer's own tiles (libCZI's read at its zoom), at its size and pixel
    size; never a full-resolution read scaled down."""
    source = czi_source(path)
    zooms = (1, *source.pyramid)
    if level >= len(zooms) == 1:
        said = f"{path}: a CZI at full resolution only (it holds no pyramid of ZEN's): "
        raise UnetlabError(
            **spelled(lambda f: said + f, Spelled("give level=0", f"drop --level {level}"))
        )
    _check_level(path, level, len(zooms))
    zoom = zooms[level]
    view = CziView(path, source, zoom)
    size = None if source.pixel_size is None else tuple(v * zoom for v in source.pixel_size)
    return Slide(
        path,
        view,
        layout_of(source.letters, view.shape),
        dtype=source.dtype,
        pixel_size=size,
        levels=len(zooms),
        level=level,
        chunked=True,
        closer=view.close,
        z_spacing=source.z_spacing,
        downsample=(float(zoom), float(zoom)),
    )


def _npy_slide(path: Path, level: int, colour_planes: bool) -> Slide:
    """The :class:`Slide` of a ``.npy`` file (:mod:`unetlab.data.npy`): its axes as a bare
    TIFF's of its shape (:func:`~unetlab.data.npy.npy_letters`), each window read from a
    memory map of the file made for that read; no pixel size (an array records none)."""
    _check_level(path, level, 1)
    head = npy_header(path)
    letters = npy_letters(head.shape, colour_planes=colour_planes)
    return Slide(
        path,
        lambda: npy_map(path),
        layout_of(letters, head.shape),
        dtype=head.dtype.newbyteorder("="),
        pixel_size=None,
        levels=1,
        level=0,
        chunked=False,
    )


def _scaled(size, layout0: Layout, layout: Layout) -> tuple[float, float]:
    (h0, w0), (h, w) = layout0.plane, layout.plane
    return size[0] * h0 / h, size[1] * w0 / w


def zarr_layout(path: str | os.PathLike) -> Layout:
    """The :class:`Layout` of level 0 of the Zarr folder ``path`` from its axes and shape
    alone, its scales not read (one given by 'path', which :func:`open_slide` refuses, still
    has channels to count: s55); ImageReadError as :func:`open_slide`'s."""
    path = Path(path)
    node, scales = _zarr_node(path, scales=False)
    if scales is None:  # a bare array
        return _guess_layout(node.shape)
    array = _zarr_level(path, node, scales["datasets"][0]["path"])
    return layout_of("".join(n[0] for n in axis_names(path, scales, array.ndim)), array.shape)


def _zarr_node(path: Path, *, scales: bool = True) -> tuple:
    """The Zarr array or group at ``path`` and the group's ``multiscales`` entry (None for
    an array: :func:`~unetlab.data.ngff.multiscale`, its scales checked with ``scales``);
    ImageReadError for an unreadable Zarr, a group without OME-Zarr metadata."""
    import zarr

    try:
        node = zarr.open(path, mode="r")
    except (OSError, ValueError, KeyError) as exc:
        raise ImageReadError(
            f"{path}: cannot read this Zarr ({type(exc).__name__}: {exc})"
        ) from exc
    if isinstance(node, zarr.Array):
        return node, None
    if (found := multiscale(path, dict(node.attrs), scales=scales)) is not None:
        return node, found
    if (image := _container_image(path, node, scales=scales)) is not None:
        return image
    from unetlab.data.plates import refuse_damaged_plate

    if (plate := _plate_line(path, dict(node.attrs))) is not None:
        raise ImageReadError(plate)
    refuse_damaged_plate(path)  # a plate of no field on disk (cut short): its line
    raise ImageReadError(f"{path}: a Zarr group without OME-Zarr 'multiscales' metadata")


def _plate_line(path: Path, attrs: dict) -> str | None:
    """The refusal of an OME-Zarr HCS plate at ``path`` (``plate`` metadata in ``attrs``, at
    the top or under ``ome``; or bioformats2raw's row/column/field folders, A/1/0), many
    images, not one: the fix names one image's folder inside it (it failed as "a Zarr group
    without OME-Zarr 'multiscales' metadata", no fix, s57); None for no plate."""
    ome = attrs.get("ome") if isinstance(attrs.get("ome"), dict) else {}
    plate = attrs.get("plate") or ome.get("plate")
    listed = plate.get("wells") if isinstance(plate, dict) else None
    listed = listed if isinstance(listed, list) else []  # damaged metadata: as none (rev E)
    wells = [path / w["path"] for w in listed if isinstance(w, dict) and _named(w.get("path"))]
    wells = [w for w in wells if is_zarr(w)] or sorted(
        w for w in path.glob("*/*") if not w.name.startswith(".") and is_zarr(w)
    )
    fields = (sorted(f for f in w.iterdir() if f.name.isdigit() and is_zarr(f)) for w in wells)
    first = next((found[0] for found in fields if found), None)
    if first is None:
        return None
    return (
        f"{path}: an HCS plate of {numbered(len(wells), 'well')} (row/column/field folders), "
        f"many images: give one image's folder inside it, e.g. {first}"
    )


def _named(well) -> bool:
    """Whether ``well``, a plate's ``wells`` entry's path, names a folder inside it (not a
    number, nothing or a way out of it: damaged metadata, read as if not there)."""
    return isinstance(well, str) and bool(well) and not Path(well).is_absolute()


def _container_image(path: Path, node, *, scales: bool) -> tuple | None:
    """The image group and its ``multiscales`` of a bioformats2raw container (a root of
    images ``0/``, ``1/``, ... beside ``OME/``, as bioformats2raw converts a microscope
    file) that holds one image; ImageReadError naming each image's folder where it holds
    several; None for no such container (it failed as a group without metadata, s56)."""
    if "bioformats2raw.layout" not in node.attrs and not (path / "OME").is_dir():
        return None
    keys = sorted((p.name for p in path.iterdir() if p.name.isdigit() and is_zarr(p)), key=int)
    images = [(k, multiscale(path / k, dict(node[k].attrs), scales=scales)) for k in keys]
    images = [(k, found) for k, found in images if found is not None]
    if len(images) == 1:
        return node[images[0][0]], images[0][1]
    if not images:
        return None
    folders = ", ".join(str(path / k) for k, _ in images[:3]) + (", ..." if len(images) > 3 else "")
    raise ImageReadError(
        f"{path}: a bioformats2raw container of {len(images)} images: give each image's "
        f"folder ({folders})"
    )


def _open_zarr(path: Path, level: int) -> Slide:
    node, scales = _zarr_node(path)
    if scales is None:
        return _bare_zarr_slide(path, node, level)
    datasets = scales["datasets"]
    _check_level(path, level, len(datasets))
    array = _zarr_level(path, node, datasets[level]["path"])
    names = axis_names(path, scales, array.ndim)
    letters = "".join(n[0] for n in names)
    layout = layout_of(letters, array.shape)
    base = layout_of(letters, _zarr_level(path, node, datasets[0]["path"]).shape)
    return Slide(
        path,
        array,
        layout,
        dtype=array.dtype,
        pixel_size=_ngff_pixel_size(scales, datasets[level], names),
        levels=len(datasets),
        level=level,
        chunked=True,
        z_spacing=_ngff_sizes(scales, datasets[level], names, "z")[0],
        downsample=_scaled((1.0, 1.0), base, layout),
    )


def _zarr_level(path: Path, node, key: str):
    """The array ``key`` of the OME-Zarr group ``node`` (of ``path``); ImageReadError where
    its metadata names a level it does not hold (a copy cut short: zarr raised KeyError, a
    traceback in predict's run, s53 reviewB), or whose metadata file cannot be read (not
    JSON: a traceback, s75 hcs review A), naming the file."""
    try:
        return node[key]
    except KeyError as exc:
        raise ImageReadError(
            f"{path}: its OME-Zarr metadata names the level {key!r}, which it does not hold "
            "(an incomplete copy?): copy the Zarr again"
        ) from exc
    except ValueError as exc:  # json.JSONDecodeError among them
        file = next((path / key / m for m in ZARR_MARKERS if (path / key / m).exists()), path)
        raise ImageReadError(
            f"{file}: the metadata of the level {key!r} cannot be read ({exc}): copy the Zarr again"
        ) from exc


def _bare_zarr_slide(path: Path, array, level: int) -> Slide:
    """The :class:`Slide` of a Zarr array without OME metadata: one level, no pixel size."""
    if level:
        raise UnetlabError(**no_pyramid(path, level))  # each caller's form (s55 fixC)
    return Slide(
        path,
        array,
        _guess_layout(array.shape),
        dtype=array.dtype,
        pixel_size=None,
        levels=1,
        level=0,
        chunked=True,
    )


def _guess_layout(shape: tuple[int, ...]) -> Layout:
    """Axes of a bare Zarr array: (Y, X), (Y, X, C) for a last axis of at most 4,
    (C, Y, X) for a first axis of at most 4, else pages before (Y, X)."""
    if len(shape) == 2:
        return Layout("YX", tuple(shape))
    if len(shape) == 3 and shape[-1] <= 4:
        return Layout("YXC", tuple(shape))
    if len(shape) == 3 and shape[0] <= 4:
        return Layout("CYX", tuple(shape))
    return Layout("P" * (len(shape) - 2) + "YX", tuple(shape))


def _ngff_pixel_size(scales: dict, dataset: dict, names: list[str]) -> tuple[float, float] | None:
    """(y, x) micrometres from an OME-Zarr level's ``scale`` and the axes' units."""
    size = _ngff_sizes(scales, dataset, names, "yx")
    return None if None in size else (size[0], size[1])


def _ngff_sizes(scales: dict, dataset: dict, names: list[str], axes: str) -> list:
    """Micrometres per step along each of ``axes`` (None where the level's ``scale`` or the
    axis's unit does not say, or the axis is absent)."""
    scale = next(
        (t["scale"] for t in dataset.get("coordinateTransformations", []) if t["type"] == "scale"),
        None,
    )
    units = axis_units(scales)
    sizes = []
    for axis in axes:
        i = names.index(axis) if axis in names else None
        ok = scale is not None and len(scale) == len(names) and i is not None and i < len(units)
        per_unit = micrometres(units[i]) if ok else None
        sizes.append(None if per_unit is None else float(scale[i]) * per_unit)
    return sizes
