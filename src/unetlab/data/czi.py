"""Zeiss CZI files (ZEN's ``.czi``) as images, with Zeiss' pylibCZIrw (an optional extra:
``pip install 'unetlab[czi]'``): its channels as channels (named as the file names them, so
``--channel DAPI`` picks one), its time points and z planes as pages (``TZ``, as an
OME-TIFF stack's), its pixel size from the metadata's ``Scaling`` (metres) in µm, its pixel
type kept (Gray8, Gray16, Gray32Float; Bgr24 and Bgr48 read as RGB).

A tiled mosaic (a slide scan: tiles at their stage positions, its bounding box anywhere) is
read by region, window by window (:class:`CziView`: libCZI composes the tiles a window
touches), so a whole slide is never read at once; where its tiles leave gaps, the gaps (read
as 0) are nodata, told by the tiles' rectangles (:func:`tile_gaps`), never by the value: a
pixel 0 inside a tile is image. A file of several
scenes is read as a multi-position OME-TIFF is (:mod:`unetlab.data.positions`): ``unetlab
predict`` predicts each scene as an image of its own (``<stem>_pos0``, ``<stem>_pos1``),
other commands read scene 0 and say so.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np

from unetlab.data.positions import every_position_read, position_of
from unetlab.data.read_notes import say_once_a_call
from unetlab.data.tiff_files import real_path
from unetlab.errors import ImageReadError, first_line, optional_module
from unetlab.read_once import file_stamp

log = logging.getLogger(__name__)

CZI_SUFFIXES = (".czi",)
#: the first bytes of a CZI file (its file header segment's id)
CZI_MAGIC = b"ZISRAWFILE"
#: the line a user whose data is CZI reads where pylibCZIrw is not installed
NEEDS_CZI = "reading Zeiss CZI (.czi) needs pylibCZIrw: pip install 'unetlab[czi]'"
EXPORT_AGAIN = "a damaged or cut-short file: copy it again, or save it again in ZEN"
#: CZI pixel types read: (dtype, samples; 3 samples are stored blue, green, red)
PIXEL_TYPES = {
    "Gray8": (np.uint8, 1),
    "Gray16": (np.uint16, 1),
    "Gray32Float": (np.float32, 1),
    "Bgr24": (np.uint8, 3),
    "Bgr48": (np.uint16, 3),
}
#: where the metadata lists an image's channels and scenes
IMAGE_DIMENSIONS = ("Information", "Image", "Dimensions")
#: rows of a mosaic :func:`covered_area` looks at a time: the grid of its tiles' edges within
#: them (80 x 80 tiles of 512 px: 47 ms CPU, 2.7 MB traced where they are jittered under 8 px;
#: more as the jitter grows, the grid's edges with it: 18.5 MB at 32 px, 44.7 MB at 128)
GAP_ROWS = 8192
#: the (input, scene count) pairs whose unread scenes were said (outside a command)
_SAID: set = set()


def is_czi_name(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name says a CZI file."""
    return Path(path).suffix.lower() in CZI_SUFFIXES


@dataclass(frozen=True)
class CziSource:
    """What the CZI file holds of the scene read: ``rect`` its (x, y, w, h) in the file's
    pixel coordinates, ``planes`` the (T, Z, C) starts and sizes, ``dtype``, ``samples`` (3:
    RGB), ``names`` the channels' names ([] where any is unnamed), ``pixel_size`` ((y, x)
    µm, or None), ``z_spacing`` (µm, or None), ``scenes`` the file's scene numbers and
    ``scene_names`` their names (ZEN's, a well's position ``B4 P1``; ``scene N`` where it
    names none),
    ``scene`` the one read (None: a file of none), ``tiles`` where its tiles leave gaps in
    it, their (x0, y0, x1, y1) within it (clipped to it; else () ), every plane's: a pixel
    no plane's tile covers is a gap; ``lacking`` ((t, z, c), px) of each plane whose tiles
    leave px uncovered that another plane's cover (:func:`say_lacking`); ``pyramid`` the
    zooms of ZEN's pyramid layers (2: half size), its levels above 0, and ``layers`` each
    layer's tiles, their (x0, y0, x1, y1) within ``rect`` as ``tiles``' (at level 0's
    pixels: :func:`level_tiles`)."""

    rect: tuple[int, int, int, int]
    planes: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    dtype: np.dtype
    samples: int
    names: tuple[str, ...] = ()
    pixel_size: tuple[float, float] | None = None
    z_spacing: float | None = None
    scenes: tuple[int, ...] = ()
    scene_names: tuple[str, ...] = ()
    scene: int | None = None
    tiles: tuple[tuple[int, int, int, int], ...] = ()
    lacking: tuple[tuple[tuple[int, int, int], int], ...] = ()
    pyramid: tuple[int, ...] = ()
    layers: tuple[tuple[tuple[int, int, int, int], ...], ...] = ()

    @property
    def letters(self) -> str:
        """The axes of the image read: ``P`` time points (where more than one), ``P`` z
        planes, then Y, X, C."""
        return "P" * (self.planes[0][1] > 1) + "PYXC"

    @property
    def shape(self) -> tuple[int, ...]:
        (_, t), (_, z), (_, c) = self.planes
        channels = c * self.samples
        return (*((t,) if t > 1 else ()), z, self.rect[3], self.rect[2], channels)

    @property
    def page_axes(self) -> tuple[str, tuple[int, ...]]:
        """What its pages are (``TZ``, ``T``: a time-lapse of one plane, as an OME-TIFF's
        ``TYX``; ``Z``) and their sizes."""
        (_, t), (_, z), _ = self.planes
        if t > 1:
            return ("TZ", (t, z)) if z > 1 else ("T", (t,))
        return "Z", (z,)


@contextlib.contextmanager
def czi_file(path: str | os.PathLike):
    """The CZI file ``path`` open for reading (pylibCZIrw's reader), errors of its reads
    as ImageReadError in one line: no pylibCZIrw, no file, a file of another kind, a
    damaged one (cut short: libCZI's "Not enough data read")."""
    path = Path(path)
    pyczi = optional_module("pylibCZIrw.czi", path, NEEDS_CZI).czi
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    with czi_errors(path), pyczi.open_czi(str(path)) as reader:
        yield reader


@contextlib.contextmanager
def czi_errors(path: Path, what: str = ""):
    """libCZI's errors (RuntimeError) within as ImageReadError naming ``path`` (and
    ``what`` was read) in one line; a file of another kind as such."""
    try:
        yield
    except RuntimeError as exc:
        from unetlab.data.file_kind import wrong_kind_line  # which imports this module

        said = wrong_kind_line(path)
        where = f" ({what})" if what else ""
        from unetlab.data.io import short_file_line  # (it imports this module)

        said = said or short_file_line(path)  # 0 bytes: as a PNG's or a TIFF's
        why = first_line(exc).rstrip(".")
        raise ImageReadError(
            said or f"{path}: cannot be read as CZI{where}: {why}: {EXPORT_AGAIN}"
        ) from None


def czi_source(path: str | os.PathLike) -> CziSource:
    """The :class:`CziSource` of the scene read of the CZI file ``path`` (the position read:
    :func:`~unetlab.data.positions.position_of`, else scene 0) from its header, subblock
    directory and metadata (no pixels read), once while the file is unchanged (s74 review:
    train read each header 9 to 13 times, a slide scan's directory of 6,400 tiles each)."""
    return _source(real_path(path), position_of(path), file_stamp(path))


@functools.lru_cache(maxsize=256)
def _source(path: str, scene: int | None, _stamp) -> CziSource:
    return _read(Path(path), scene)


def _read(path: Path, scene: int | None) -> CziSource:
    with czi_file(path) as reader:
        box, scenes = reader.total_bounding_box, reader.scenes_bounding_rectangle
        _no_pixels(path, reader.total_bounding_rectangle)
        picked = sorted(scenes)[scene or 0] if scenes else None
        r = reader.total_bounding_rectangle if picked is None else scenes[picked]
        rect = (r.x, r.y, r.w, r.h)
        types = sorted(set(reader.pixel_types.values()))
        dtype, samples = _pixel_type(path, types)
        meta = reader.metadata
        planes = tuple((box.get(a, (0, 1))[0], _size(box.get(a, (0, 1)))) for a in "TZC")
        tiles, lacking, pyramid, layers = _tiles(reader, rect, picked)
    size, spacing = _scaling(meta)
    names = _names(meta, planes[2][1]) if samples == 1 else ()
    scene_list = tuple(sorted(scenes))
    said = (scene_list, _scene_names(meta, scene_list))
    found = (*said, picked, tiles, lacking, pyramid, layers)
    return CziSource(rect, planes, dtype, samples, names, size, spacing, *found)


def _no_pixels(path: Path, rect) -> None:
    """ImageReadError for a CZI that stores no image (no subblock: libCZI's bounding box of
    width -1, its pixel type 'Invalid'), said before its pixel type is (s74 review: "a CZI
    of pixel type Invalid ... export it from ZEN as OME-TIFF")."""
    if rect.w < 1 or rect.h < 1:
        raise ImageReadError(
            f"{path}: a CZI that holds no image (no pixels stored: an acquisition stopped "
            "before its first image, or a file ZEN did not finish): acquire it again, or save it "
            "again in ZEN"
        )


def _size(span: tuple[int, int]) -> int:
    return int(span[1]) - int(span[0])


def _pixel_type(path: Path, types: list[str]) -> tuple[np.dtype, int]:
    """(dtype, samples) of the file's channels' pixel types; ImageReadError for types of
    more than one kind or one not read."""
    if len(types) != 1 or types[0] not in PIXEL_TYPES:
        odd = [t for t in types if t not in PIXEL_TYPES]
        why = f"pixel type {odd[0]}" if odd else f"channels of pixel types {', '.join(types)}"
        raise ImageReadError(
            f"{path}: a CZI of {why}, which unetlab does not read (it reads "
            f"{', '.join(PIXEL_TYPES)}, one type a file): export it from ZEN as OME-TIFF"
        )
    dtype, samples = PIXEL_TYPES[types[0]]
    return np.dtype(dtype), samples


def _listed(meta: dict, *keys: str) -> list[dict]:
    """The items (mappings) the metadata's ``ImageDocument/Metadata/<keys...>`` holds, as a
    list (one item of XML is a dict, several a list); [] where any step is absent."""
    found = meta
    for key in ("ImageDocument", "Metadata", *keys):
        found = found.get(key) if isinstance(found, dict) else None
    return [
        item for item in (found if isinstance(found, list) else [found]) if isinstance(item, dict)
    ]


def _scaling(meta: dict) -> tuple[tuple[float, float] | None, float | None]:
    """((y, x) µm, z µm) of the metadata's ``Scaling/Items/Distance`` (metres a pixel);
    None for each it records none of (0, absent)."""
    metres = {}
    for item in _listed(meta, "Scaling", "Items", "Distance"):
        with contextlib.suppress(TypeError, ValueError):
            metres[str(item.get("@Id"))] = float(item.get("Value"))
    um = {a: float(f"{m * 1e6:.7g}") for a, m in metres.items() if m > 0}
    size = (um["Y"], um["X"]) if "X" in um and "Y" in um else None
    return size, um.get("Z")


def _names(meta: dict, count: int) -> tuple[str, ...]:
    """The ``Name`` of each of the ``count`` channels the metadata lists, in order; () where
    it lists another number or any has none."""
    found = _listed(meta, *IMAGE_DIMENSIONS, "Channels", "Channel")
    names = tuple(str(c.get("@Name") or "").strip() for c in found)
    return names if len(names) == count and all(names) else ()


def _scene_names(meta: dict, scenes: tuple[int, ...]) -> tuple[str, ...]:
    """The name of each of ``scenes`` as the metadata's ``Dimensions/S/Scenes/Scene`` gives
    it by its ``Index``: a plate's well (its ``ArrayName``, ``B4``) then its position's
    ``Name`` (``P1``) where it gives both (``B4 P1``), else the one given (a region's
    ``Scene 1``); ``scene N`` where it gives none."""
    named = {}
    for scene in _listed(meta, *IMAGE_DIMENSIONS, "S", "Scenes", "Scene"):
        parts = [str(scene.get(k) or "").strip() for k in ("ArrayName", "@Name")]
        with contextlib.suppress(TypeError, ValueError):
            named[int(scene.get("@Index"))] = " ".join(dict.fromkeys(p for p in parts if p))
    return tuple(named.get(s) or f"scene {s}" for s in scenes)


def _tiles(reader, rect: tuple[int, int, int, int], scene: int | None) -> tuple:
    """``(tiles, lacking, pyramid, layers)``: the (x0, y0, x1, y1) within ``rect`` of the
    tiles (full-resolution subblocks) of ``scene`` (libCZI composes a scene of its own tiles
    alone) that reach into it, of every plane, sorted by row then column, where they leave
    any of its pixels uncovered (else ()); :func:`_lacking` of its planes; the zooms of
    ZEN's pyramid layers of it (2: half size), its tiles stored zoomed out, and each
    layer's tiles, as the tiles' (sorted by row)."""
    planes: dict[tuple[int, int, int], set] = {}
    zooms: dict[int, set] = {}  # ZEN's pyramid layers (level-0 pixels a stored pixel): tiles

    def keep(_index, info) -> bool:
        r, size, at = info.logicalRect, info.physicalSize, info.coordinate.to_dict()
        if scene is not None and at.get("S") != scene:
            return True
        x0, y0 = r.x - rect[0], r.y - rect[1]
        tile = (max(x0, 0), max(y0, 0), min(x0 + r.w, rect[2]), min(y0 + r.h, rect[3]))
        if (size.w, size.h) != (r.w, r.h):  # a pyramid tile (zoomed out), told apart
            zoom = round(max(r.w, r.h) / max(size.w, size.h, 1))  # libCZI's: larger side
            planes_of = zooms.setdefault(zoom, set())
        else:
            planes_of = planes.setdefault(tuple(at.get(a, 0) for a in "TZC"), set())
        if tile[0] < tile[2] and tile[1] < tile[3]:
            planes_of.add(tile)
        return True

    reader.enumerate_subblocks(keep)
    w, h = rect[2:]
    tiles = tuple(sorted(set().union(*planes.values()), key=_row_first))
    every = functools.cache(lambda rows: covered_area(tiles, w, rows))  # (top, bottom)
    pyramid = tuple(sorted(set(zooms) - {1}))
    return (
        (tiles if every((0, h)) < w * h else ()),
        _lacking(planes, tiles, (w, h), every),
        pyramid,
        tuple(tuple(sorted(zooms[z], key=_row_first)) for z in pyramid),
    )


def _lacking(planes: dict, tiles: tuple, size: tuple, every: Callable[[tuple], int]) -> tuple:
    """``((t, z, c), px)`` of each of ``planes`` ((t, z, c) -> its tiles) whose own tiles
    leave ``px`` pixels of (0, 0, *size) uncovered that others of ``tiles`` (every
    plane's, sorted by row; ``every`` rows: their count) cover: libCZI reads them 0 in it;
    () where none does. Each set of tiles is looked at once, in the rows of the tiles it
    lacks alone (s75 review: a full count a plane, 1.6 s for 10 time points of 80 x 80)."""
    found, known, union = [], {}, frozenset(tiles)
    for plane, own in sorted(planes.items()):
        key = frozenset(own)
        if key not in known:
            known[key] = _short(union, key, size, every)
        if known[key]:
            found.append((plane, known[key]))
    return tuple(found)


def _short(union: frozenset, own: frozenset, size: tuple, every: Callable[[tuple], int]) -> int:
    """The pixels the tiles of ``union`` cover (``every`` rows (top, bottom): their count)
    that ``own`` (some of them) leaves uncovered, counted in the bands of :data:`GAP_ROWS`
    rows that those it lacks meet (outside them, ``own`` covers what ``union`` does)."""
    missing = union - own
    if not missing:
        return 0
    top, bottom = min(map(itemgetter(1), missing)), max(map(itemgetter(3), missing))
    rows = (top - top % GAP_ROWS, min(-(-bottom // GAP_ROWS) * GAP_ROWS, size[1]))
    return every(rows) - covered_area(tuple(sorted(own, key=_row_first)), size[0], rows)


def _row_first(tile: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return tile[1], tile[0], tile[3], tile[2]


def covered_area(tiles: tuple[tuple[int, int, int, int], ...], w: int, rows: tuple) -> int:
    """The pixels of the ``rows`` (top, bottom) of columns 0 to ``w`` that ``tiles`` ((x0,
    y0, x1, y1) each, sorted by row: :func:`_tiles`) cover (``w`` times the rows: no gap),
    by :func:`tile_gaps`' grid, :data:`GAP_ROWS` rows at a time, never a mask of them (s74
    review: a 40,960-pixel-square slide scan's took 1.6 GB)."""
    area, (top, bottom) = 0, rows
    for start in range(top, bottom, GAP_ROWS):
        ys, xs, covered = _covered(tiles, (start, 0, min(GAP_ROWS, bottom - start), w))
        area += int(np.diff(ys) @ (covered @ np.diff(xs)))
    return area


def tile_gaps(
    tiles: tuple[tuple[int, int, int, int], ...], window: tuple[int, int, int, int]
) -> np.ndarray | None:
    """(h, w) bool: the pixels of ``window`` (top, left, h, w) that none of ``tiles`` ((x0,
    y0, x1, y1) each, sorted by row: :func:`_tiles`) covers, a mosaic's gaps; None where
    every pixel is covered."""
    ys, xs, covered = _covered(tiles, window)
    if covered.all():
        return None
    return ~np.repeat(np.repeat(covered, np.diff(ys), 0), np.diff(xs), 1)


def _covered(
    tiles: tuple[tuple[int, int, int, int], ...], window: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ys, xs, covered)``: the grid of the edges within ``window`` (top, left, h, w) of
    the ``tiles`` whose rows meet it (those starting above its bottom: a prefix of tiles
    sorted by row) and which of its cells they cover, each tile marking its own."""
    top, left, h, w = window
    above = bisect.bisect_left(tiles, top + h, key=lambda t: t[1])
    inside = [
        (max(a - left, 0), max(b - top, 0), min(c - left, w), min(d - top, h))
        for a, b, c, d in tiles[:above]
        if d > top and c > left and a < left + w
    ]
    xs = np.unique([0, w, *[t[0] for t in inside], *[t[2] for t in inside]])
    ys = np.unique([0, h, *[t[1] for t in inside], *[t[3] for t in inside]])
    covered = np.zeros((len(ys) - 1, len(xs) - 1), bool)
    for a, b, c, d in inside:
        rows = slice(np.searchsorted(ys, b), np.searchsorted(ys, d))
        covered[rows, np.searchsorted(xs, a) : np.searchsorted(xs, c)] = True
    return ys, xs, covered


@functools.lru_cache(maxsize=16)  # the nodata's and the line's: 0.2 s of 80 x 80 tiles
def level_tiles(source: CziSource, zoom: int) -> tuple[tuple[int, int, int, int], ...]:
    """The tiles of ``source`` at its level of ``zoom`` (1: level 0; else a layer of ZEN's
    pyramid), (x0, y0, x1, y1) of its pixels, sorted by row, where they leave gaps in it
    (else ()): where its layer's own tiles and level 0's both reach (a level pixel a tile
    reaches into is sample), as libCZI reads a level from its layer's tiles alone (s75
    review: 0 where the layer has none, predicted as image)."""
    if zoom == 1:
        return source.tiles
    w, h = source.rect[2] // zoom, source.rect[3] // zoom
    tiles = _scaled(source.layers[source.pyramid.index(zoom)], zoom, (w, h))
    if source.tiles:
        tiles = _overlaps(tiles, _scaled(source.tiles, zoom, (w, h)))
    return tiles if covered_area(tiles, w, (0, h)) < w * h else ()


def _scaled(tiles: tuple, zoom: int, size: tuple[int, int]) -> tuple:
    """``tiles`` (level 0's pixels) at ``zoom``, within ``size`` (w, h), each reaching every
    pixel it reaches into, sorted by row."""
    w, h = size
    found = {
        (a // zoom, b // zoom, min(-(-c // zoom), w), min(-(-d // zoom), h)) for a, b, c, d in tiles
    }
    return tuple(sorted((t for t in found if t[0] < t[2] and t[1] < t[3]), key=_row_first))


def _overlaps(tiles: tuple, others: tuple) -> tuple:
    """The (x0, y0, x1, y1) where one of ``tiles`` and one of ``others`` overlap, sorted by
    row: the pixels both cover."""
    if not tiles or not others:
        return ()
    b = np.array(others)
    found = set()
    for x0, y0, x1, y1 in tiles:
        cut = np.stack(
            [np.maximum(b[:, 0], x0), np.maximum(b[:, 1], y0)]
            + [np.minimum(b[:, 2], x1), np.minimum(b[:, 3], y1)],
            1,
        )
        found.update(map(tuple, cut[(cut[:, 0] < cut[:, 2]) & (cut[:, 1] < cut[:, 3])].tolist()))
    return tuple(sorted(found, key=_row_first))


def say_layer_short(path: Path, source: CziSource, zoom: int) -> None:
    """One line, once a command, where the layer of ZEN's pyramid of ``zoom`` leaves pixels
    uncovered that level 0's tiles cover, and their share (libCZI reads them 0 there: nodata,
    :func:`level_tiles`)."""
    if zoom == 1:
        return
    w, h = source.rect[2] // zoom, source.rect[3] // zoom
    full = _scaled(source.tiles or ((0, 0, *source.rect[2:]),), zoom, (w, h))
    wanted = covered_area(full, w, (0, h))
    got = covered_area(level_tiles(source, zoom) or ((0, 0, w, h),), w, (0, h))
    if got < wanted:
        level = source.pyramid.index(zoom) + 1
        say_once_a_call(
            log,
            logging.WARNING,
            ("czi layer short", str(path), source.scene, zoom),
            "%s: level %d (ZEN's pyramid layer of 1/%d) lacks %d%% of the image level 0 holds "
            "(%d of %d px: its tiles cover less); there it reads 0 and is predicted as nodata: "
            "--level 0 reads it all (or save the pyramid again in ZEN)",
            *(path.name, level, zoom, round(100 * (wanted - got) / wanted), wanted - got, wanted),
            outside=_SAID,
        )


def _say_scenes(path: Path, names: tuple[str, ...]) -> None:
    say_once_a_call(
        log,
        logging.WARNING,
        ("czi scenes", str(path)),
        "%s holds %d scenes (%s); this command reads the first (%s) only: unetlab predict "
        "predicts each as an image of its own (%s_pos0, %s_pos1, ...); to train on the "
        "others, save each scene as its own file (ZEN: Processing > Split Scenes)",
        *(path.name, len(names), ", ".join(names), names[0], path.stem, path.stem),
        outside=_SAID,
    )


def say_lacking(path: Path, source: CziSource) -> None:
    """One line, once a command, for each channel of ``source`` (a CZI mosaic's scene read)
    with planes whose tiles leave pixels uncovered that another plane's cover
    (:attr:`CziSource.lacking`), the most a plane lacks and how many planes: read 0 there
    and predicted as image; the gaps are where no plane's tile is."""
    (_, t), (_, z), (c0, _) = source.planes
    short: dict[int, list[int]] = {}
    for (_, _, c), px in source.lacking:
        short.setdefault(c, []).append(px)
    for c, counts in short.items():
        name = source.names[c - c0] if source.names else str(c - c0)
        most = f"{counts[0]} px" if t * z == 1 else f"up to {max(counts)} px"
        planes = f" in {len(counts)} of its {t * z} planes" if t * z > 1 else ""
        say_once_a_call(
            log,
            logging.WARNING,
            ("czi lacking", str(path), source.scene, c),
            "%s: channel %s lacks %s%s that other planes' tiles cover (its tiles stop short of "
            "theirs or lie elsewhere: an acquisition cut off, a stage moved?); they read as 0 "
            "there and are predicted as image, not nodata (nodata is only where no plane has "
            "a tile): check its tiles in ZEN",
            *(path.name, name, most, planes),
            outside=_SAID,
        )


def czi_scenes(path: str | os.PathLike) -> list[str]:
    """The names of the scenes of the CZI file ``path`` where it holds more than one (ZEN's,
    ``scene N`` where it names none: :class:`CziSource`), which ``unetlab predict`` predicts
    one by one; [] else, or for a file that cannot be read (read, it says why)."""
    with contextlib.suppress(ImageReadError):
        with_scenes = _source(real_path(path), None, file_stamp(path))
        if len(with_scenes.scenes) > 1:
            return list(with_scenes.scene_names)
    return []


class CziView:
    """A :class:`CziSource`'s image as one array-like (``shape``, ``dtype``): ``view[index]``
    (single indices of its pages, slices of step 1 of Y, X and C) reads only that region of
    each plane it spans (libCZI composes the tiles it touches). The file is opened at the
    first read and kept open until :meth:`close`."""

    chunks = None
    ndim = property(lambda self: len(self.shape))

    def __init__(self, path: Path, source: CziSource, zoom: int = 1):
        self.path, self.source, self.zoom = path, source, zoom
        *pages, h, w, c = source.shape
        self.shape, self.dtype = (*pages, h // zoom, w // zoom, c), source.dtype
        self._open: contextlib.ExitStack | None = None
        self._reader = None

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
        self._open = self._reader = None

    def __getitem__(self, index) -> np.ndarray:
        index = index if isinstance(index, tuple) else (index,)
        index = (*index, *((slice(None),) * (self.ndim - len(index))))
        pages, (rows, cols, channels) = index[:-3], index[-3:]
        picked = [range(n)[p] for p, n in zip(pages, self.shape)]  # an int, or a range
        picked = [0, *picked] if len(picked) == 1 else picked  # no time axis: its one point
        (r0, r1, _), (c0, c1, _) = rows.indices(self.shape[-3]), cols.indices(self.shape[-2])
        roi = (c0, r0, max(c1 - c0, 0), max(r1 - r0, 0))
        t_list, z_list = ([p] if isinstance(p, int) else list(p) for p in picked)
        grid = [[self._plane(t, z, roi)[..., channels] for z in z_list] for t in t_list]
        kept = tuple(0 if isinstance(p, int) else slice(None) for p in picked)
        return np.stack([np.stack(row) for row in grid])[kept]

    def _plane(self, t: int, z: int, roi: tuple[int, int, int, int]) -> np.ndarray:
        """Every channel of plane (t, z) within ``roi`` (x, y, w, h of the scene) as (h, w,
        C), blue-green-red samples as red-green-blue."""
        source = self.source
        (t0, _), (z0, _), (c_start, count) = source.planes
        x, y, w, h = roi
        if not (w and h):
            return np.zeros((h, w, self.shape[-1]), self.dtype)
        f = self.zoom  # a pyramid layer's own tiles, read by libCZI at its zoom
        at = (source.rect[0] + x * f, source.rect[1] + y * f, w * f, h * f)
        reader = self._opened()
        blocks = []
        with czi_errors(self.path, f"plane t={t}, z={z}, rows {y}-{y + h}"):
            for c in range(c_start, c_start + count):
                plane = {"T": t0 + t, "Z": z0 + z, "C": c}
                zoom = None if f == 1 else 1 / f
                block = reader.read(roi=at, plane=plane, scene=source.scene, zoom=zoom)
                blocks.append(block[..., ::-1] if source.samples == 3 else block)
        return np.concatenate(blocks, -1).astype(self.dtype, copy=False)

    def _opened(self):
        if self._reader is None:
            say_lacking(self.path, self.source)  # its pixels read: not a header's look
            say_layer_short(self.path, self.source, self.zoom)
            self._open = contextlib.ExitStack()
            self._reader = self._open.enter_context(czi_file(self.path))
        return self._reader


def read_czi(path: str | os.PathLike) -> tuple[np.ndarray, str]:
    """The image of the CZI file ``path`` (the scene read) in memory and its letters; the
    line that its other scenes are not read, where it has others and they are not."""
    source = czi_source(path)
    if len(source.scenes) > 1 and position_of(path) is None and not every_position_read():
        _say_scenes(Path(path), source.scene_names)  # its pixels read: not a header's look
    view = CziView(Path(path), source)
    try:
        return view[(slice(None),) * view.ndim], source.letters
    finally:
        view.close()


def czi_pixel_size(path: str | os.PathLike) -> tuple[tuple[float, float], float | None] | None:
    """((y, x) µm, z µm) of the CZI file ``path``, or None where it records none."""
    source = czi_source(path)
    return None if source.pixel_size is None else (source.pixel_size, source.z_spacing)


def czi_tiles(path: str | os.PathLike, level: int = 0) -> tuple[tuple[int, int, int, int], ...]:
    """The tiles of the CZI file ``path`` (the scene read) at ``level`` where they leave gaps
    in it, a mosaic's (:func:`level_tiles`: its pixels outside them are nodata); () else."""
    source = czi_source(path)
    return level_tiles(source, (1, *source.pyramid)[level])
