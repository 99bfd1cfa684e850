"""Masks drawn as outlines: ImageJ ROIs (Fiji's ROI Manager) and GeoJSON (QuPath), read as
instance masks.

A data set's masks folder may hold, in place of a label image, ``NAME.zip`` (a ``RoiSet.zip``
of ImageJ ``.roi`` files, as the ROI Manager saves it), ``NAME.roi`` (one ROI) or
``NAME.geojson`` (QuPath's File > Export objects, or :func:`unetlab.inference.outlines.
write_geojson`'s): :data:`~unetlab.data.names.ANNOTATION_SUFFIXES`. :func:`read_outlines`
gives its :class:`Outline` s in file order, :func:`rasterise` the instance-id map of the
image's size: outline ``i`` (0-based, in file order) is object ``i + 1``, a later outline
drawn over an earlier one where they overlap (the count said once a file); an outline
reaching outside the image is clipped (said once a file).

Coordinates are pixel corners, as ImageJ and QuPath give area outlines (and unetlab writes
them): pixel ``(row, col)`` is the unit square from ``(col, row)`` to ``(col + 1, row + 1)``,
and it belongs to an outline whose area holds its centre. So an outline traced along pixel
edges gives back exactly its pixels.

The ImageJ ROI format (ImageJ's ``RoiDecoder``): a 64-byte big-endian header ("Iout", the
version, the type at byte 6, top, left, bottom, right at 8 to 15, the number of corners at
16, the composite's shape size at 36, the options at 50), then the corners as int16 offsets
from (left, top), all x then all y, and after them, where the options hold
:data:`SUB_PIXEL`, the corners again as float32 image coordinates. Polygon, freehand and
traced ROIs are outlines, a rectangle its box, an oval the ellipse inside its box, a
composite (ImageJ's ShapeRoi, unetlab's object with holes or several pieces) its rings,
filled even-odd; lines, points and text are refused. GeoJSON: Polygons, MultiPolygons and
GeometryCollections of them, each one object, the union of its polygons (holes are holes;
parts that overlap, as QuPath's brush writes them, are no holes); QuPath's ``classification``
name is each outline's ``label`` (instance training has one foreground class: outlines of
several classes are said once, as one); outlines of QuPath's classes ``Region*`` and
``Ignore*`` (:data:`NO_OBJECTS`) are passed over, and so are its annotations and TMA cores
around its detections, cells or tiles (the regions they were found in; one around none is an
object, and one around one alone, or two (a nucleus split), of about their size and over
most of them, is them redrawn: read in their place); a cell is read as its nucleus (``nucleusGeometry``)."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from unetlab.data.read_notes import CORRECTION_AREA, HAND_REACH, note_once, note_regions
from unetlab.deferred import deferred
from unetlab.errors import DatasetError
from unetlab.words import numbered
from unetlab.zip_damage import PASSWORD_FIX, ZipFixes, open_zip, read_member

draw = deferred("skimage.draw")
measure = deferred("skimage.measure")
sparse = deferred("scipy.sparse")
csgraph = deferred("scipy.sparse.csgraph")

#: ImageJ's ROI types (``Roi.POLYGON`` ...), by the byte at offset 6
ROI_TYPES = (
    "polygon",
    "rectangle",
    "oval",
    "straight line",
    "freehand line",
    "segmented line",
    "no ROI",
    "freehand",
    "traced",
    "angle",
    "point",
)
#: the types that are areas drawn from their corners
CORNER_TYPES = (0, 7, 8)  # polygon, freehand, traced
RECT, OVAL = 1, 2
#: the subtypes (at offset 48) of rectangles that are no area: text, an image overlay
NOT_AREAS = {1: "text", 4: "image"}
#: the option flag of ROIs saved with float (subpixel) corners, and the version it came with
#: (a rectangle's and an oval's float box: the next, 223)
SUB_PIXEL, SUB_PIXEL_VERSION = 128, 222
#: the version whose ROIs have a second header (a hyperstack's C, Z, T position, the name)
HEADER2_VERSION = 218
#: a composite's path segments (java.awt.geom.PathIterator's codes) and their coordinates
MOVE_TO, LINE_TO, CLOSE = 0, 1, 4
SEGMENT_SIZE = {0: 2, 1: 2, 2: 4, 3: 6, 4: 0}
#: QuPath's classes of areas that are no objects: the region annotated, one left out
NO_OBJECTS = ("Region*", "Ignore*")
#: QuPath's kinds of the objects it finds; its annotations (TMA cores) around them are regions
DETECTIONS = ("detection", "cell", "tile")
#: an annotation over this many times the largest detection's bounds (in area) is a region
REGION_AREA = 10
_BOX = struct.Struct(">4hH")  # top, left, bottom, right, corners (at offset 8)
ROI_FIX = "convert it to an area in Fiji (Edit > Selection > Line to Area) or delete it"


@dataclass(frozen=True)
class Outline:
    """One object: its ``rings`` (``(n, 2)`` float arrays of corners ``(x, y)``, filled
    even-odd: a hole is a ring inside another), or for an ellipse its box ``(left, top,
    right, bottom)`` (``box`` set, ``rings`` empty); ``name`` (the ROI's or feature's),
    ``label`` (QuPath's classification name, or None); ``position``: ImageJ's (slice, z,
    t) of the ROI, 1-based, 0 where not set (:func:`outline_pages`)."""

    name: str
    rings: tuple[np.ndarray, ...] = ()
    box: tuple[float, float, float, float] | None = None
    label: str | None = None
    position: tuple[int, int, int] = (0, 0, 0)
    #: the count of rings of each polygon, in order, where the polygons are filled apart and
    #: joined (a MultiPolygon's or GeometryCollection's, which may overlap: their union; each
    #: one's other rings its holes); empty: every ring filled even-odd together (an ImageJ ROI)
    parts: tuple[int, ...] = ()
    #: the indices in ``rings`` of the outer rings (each GeoJSON polygon's first; its others
    #: are its holes); empty: every ring (an ImageJ ROI's, whose holes are not told apart)
    outer: tuple[int, ...] = ()
    #: whether every pixel whose centre lies on an edge of its rings is filled too, as PIL
    #: fills a polygon with its outline (labelme's drawing: an edge drawn there and back, a
    #: tail or a neck 1 px wide, is its pixels); False: those of an odd number of edges
    edges: bool = False

    def outer_rings(self) -> tuple[np.ndarray, ...]:
        """Its outer rings (:attr:`outer`): a point in a hole is inside one of them."""
        return tuple(self.rings[i] for i in self.outer) if self.outer else self.rings

    def bounds(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) of the outline, in pixel corners."""
        if self.box is not None:
            return self.box
        points = np.concatenate(self.rings)
        (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
        return float(left), float(top), float(right), float(bottom)


def box_ring(left: float, top: float, right: float, bottom: float) -> np.ndarray:
    """The ring of a box's four corners, ``(4, 2)`` ``(x, y)``: top-left, top-right,
    bottom-right, bottom-left (a labelme rectangle's, a YOLO box's)."""
    return np.array([(left, top), (right, top), (right, bottom), (left, bottom)], np.float64)


def read_outlines(path: str | os.PathLike) -> list[Outline]:
    """The outlines of an annotation file (``.zip`` of ImageJ ROIs, ``.roi``, ``.geojson``)
    in file order; a DatasetError names a file that is none, or an outline that is no area
    (with the ROI's or feature's name and the fix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".roi":
            return [decode_roi(path.read_bytes(), f"{path}: ROI {path.stem}", path.stem)]
        if suffix == ".zip":
            return _roi_set(path)
        return geojson_outlines(json.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read as {_KINDS[suffix]} ({exc})") from None


_KINDS = {".roi": "an ImageJ ROI", ".zip": "a RoiSet.zip", ".geojson": "GeoJSON"}


def _roi_set(path: Path) -> list[Outline]:
    """The ROIs of a RoiSet.zip, in its order (the ROI Manager's); a damaged one is one line
    (:func:`~unetlab.zip_damage.damaged_zip`: its "version needed" byte, an encrypted flag,
    a compression method zipfile lacks gave tracebacks, s61); an encrypted one, or one
    compressed by a method zipfile lacks (Deflate64), says so
    (:func:`~unetlab.zip_damage.unreadable`: "damaged" before, s62)."""
    with open_zip(path, _ROI_FIXES) as archive:
        entries = [e for e in archive.namelist() if e.lower().endswith(".roi")]
        if not entries:
            raise DatasetError(
                f"{path}: holds no .roi files, so it is no RoiSet.zip: save the ROIs from "
                "Fiji's ROI Manager (More > Save), or give the mask as a label image"
            )
        named = [(e, Path(e).stem) for e in entries]
        return [
            decode_roi(read_member(archive, e, path, _ROI_FIXES), f"{path}: ROI {n}", n)
            for e, n in named
        ]


#: the fixes :func:`_roi_set` says for a RoiSet.zip it cannot read
_ROI_FIXES = ZipFixes(
    "save the ROIs from Fiji's ROI Manager again (More > Save)",
    f"{PASSWORD_FIX} and zip its .roi files again",
    "unzip it and zip its .roi files again with deflate, or save the ROIs from Fiji's ROI"
    " Manager again (More > Save)",
    DatasetError,
)


def decode_roi(data: bytes, where: str, name: str) -> Outline:
    """The :class:`Outline` of one ImageJ ``.roi`` file's bytes; ``where`` names it in an
    error (``"RoiSet.zip: ROI 0001"``), ``name`` is its name."""
    if len(data) < 64 or data[:4] != b"Iout":
        raise DatasetError(f"{where}: not an ImageJ ROI (no 'Iout' header): save it from Fiji")
    version, kind = struct.unpack_from(">h", data, 4)[0], data[6]
    *box, _ = _BOX.unpack_from(data, 8)
    box = tuple(v + 65536 if v < -5000 else v for v in box)  # ImageJ's rule
    subtype, options = struct.unpack_from(">hH", data, 48)
    if subtype in NOT_AREAS:
        raise DatasetError(f"{where}: a {NOT_AREAS[subtype]} ROI, not an area: delete it")
    sub_pixel = bool(options & SUB_PIXEL) and version >= SUB_PIXEL_VERSION + (kind in (RECT, OVAL))
    outline = _area(data, where, name, sub_pixel=sub_pixel, box=box)
    return replace(outline, position=_position(data, version))


def _position(data: bytes, version: int) -> tuple[int, int, int]:
    """ImageJ's (slice, z, t) of a ROI's bytes: the slice at byte 56; z and t in the second
    header (its offset at byte 60, from version 218; C, Z, T at its bytes 4 to 15)."""
    flat, header2 = struct.unpack_from(">2i", data, 56)
    if version < HEADER2_VERSION or header2 <= 0 or header2 + 16 > len(data):
        return (max(flat, 0), 0, 0)
    _, z, t = struct.unpack_from(">3i", data, header2 + 4)
    return (max(flat, 0), max(z, 0), max(t, 0))


def _area(data: bytes, where: str, name: str, *, sub_pixel: bool, box) -> Outline:
    """The :class:`Outline` of a ROI's bytes whose header :func:`decode_roi` read."""
    kind, shape_size = data[6], struct.unpack_from(">i", data, 36)[0]
    top, left, bottom, right = box
    n = struct.unpack_from(">H", data, 16)[0]
    if shape_size > 0:
        rings = _composite(np.frombuffer(data, ">f4", shape_size, 64), where)
        return Outline(name, rings=rings)
    if sub_pixel and kind in (RECT, OVAL):
        x, y, w, h = struct.unpack_from(">4f", data, 18)
        left, top, right, bottom = x, y, x + w, y + h
    if kind == RECT:
        corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
        return Outline(name, rings=(np.array(corners, dtype=np.float64),))
    if kind == OVAL:
        return Outline(name, box=(float(left), float(top), float(right), float(bottom)))
    if kind not in CORNER_TYPES:
        what = ROI_TYPES[kind] if kind < len(ROI_TYPES) else f"type {kind}"
        fix = ROI_FIX if "line" in what else "delete it"
        raise DatasetError(f"{where}: a {what} ROI, not an area: {fix}")
    if n == 0 or len(data) < 64 + (12 if sub_pixel else 4) * n:
        raise DatasetError(f"{where}: a {ROI_TYPES[kind]} ROI without its corners: delete it")
    if sub_pixel:
        xs = np.frombuffer(data, ">f4", n, 64 + 4 * n)
        ys = np.frombuffer(data, ">f4", n, 64 + 8 * n)
    else:
        xs = np.frombuffer(data, ">i2", n, 64) + left
        ys = np.frombuffer(data, ">i2", n, 64 + 2 * n) + top
    return Outline(name, rings=(np.stack([xs, ys], axis=1).astype(np.float64),))


def outline_pages(
    outlines: list[Outline], letters: str, sizes: tuple[int, ...], where: str
) -> list[int | None]:
    """The 0-based page of each outline in a stack whose pages are of the axes ``letters``
    (``"T"``, ``"Z"``, ``"TZ"``, ``"ZT"`` in the file's order, of ``sizes``; ``"Q"`` for
    pages of no known axes), by its ImageJ position: a hyperstack's z and t where set, else
    its slice; None (every page, as ImageJ shows it) where none is set. A position beyond
    the stack is a DatasetError naming the ROI (``where``: the file)."""
    pages = int(np.prod(sizes)) if sizes else 1
    return [_page(o, letters, sizes, pages, f"{where}: ROI {o.name}") for o in outlines]


def _page(outline: Outline, letters: str, sizes: tuple[int, ...], pages: int, where: str):
    """The page of one outline (:func:`outline_pages`)."""
    flat, z, t = outline.position
    if not (z or t):
        page = flat - 1 if flat else None
    else:
        page = _hyperstack_page({"Z": z, "T": t}, letters, sizes)
    if page is not None and not 0 <= page < pages:
        raise DatasetError(
            f"{where}: at {_shown(outline.position)}, no one plane of this {pages}-plane "
            f"image{f' (planes {letters})' if letters in ('Z', 'T', 'ZT', 'TZ') else ''}: "
            "draw it on a plane the image has (the ROI Manager's Properties: Position), or "
            "delete it"
        )
    return page


def _hyperstack_page(at: dict[str, int], letters: str, sizes: tuple[int, ...]) -> int | None:
    """The page of a ROI at ImageJ's ``at`` z and t (1-based; 0: every one), in a stack of
    page axes ``letters``: the index of its z and t among the stack's axes (a position of 1
    on an axis the stack lacks is ImageJ's default); for pages of no known axes, its one
    position beyond 1. None: on every page; -1: on no one page."""
    axes = [a for a in letters if a in at] if letters in ("Z", "T", "ZT", "TZ") else []
    if not axes:
        return max(at.values()) - 1 if min(at.values()) <= 1 else -1
    if any(at[a] > 1 for a in at if a not in axes):
        return -1
    if not any(at[a] for a in axes):
        return None
    if not all(0 < at[a] <= n for a, n in zip(axes, sizes)):
        return -1
    return int(np.ravel_multi_index([at[a] - 1 for a in axes], sizes))


def _shown(position: tuple[int, int, int]) -> str:
    """An ImageJ position as said: ``slice 5``, ``z 2 t 3``."""
    flat, z, t = position
    return f"z {z} t {t}" if z or t else f"slice {flat}"


def _composite(path: np.ndarray, where: str) -> tuple[np.ndarray, ...]:
    """The rings of a composite ROI's path (moveTo x y, lineTo x y ..., close); curves
    (combined ovals) are refused."""
    rings, ring, i = [], [], 0
    while i < len(path):
        code = int(path[i])
        if code not in (MOVE_TO, LINE_TO, CLOSE):
            raise DatasetError(
                f"{where}: a composite ROI with curved edges: split it in Fiji's ROI Manager "
                "(More > Split) or make it a polygon (Edit > Selection > Interpolate), and save "
                "the set again"
            )
        if code in (MOVE_TO, CLOSE) and len(ring) > 2:
            rings.append(np.array(ring, dtype=np.float64))
        ring = [] if code != LINE_TO else ring
        if code != CLOSE:
            ring.append(tuple(path[i + 1 : i + 3]))
        i += 1 + SEGMENT_SIZE[code]
    if len(ring) > 2:
        rings.append(np.array(ring, dtype=np.float64))
    if not rings:
        raise DatasetError(f"{where}: a composite ROI without an area: {ROI_FIX}")
    return tuple(rings)


def geojson_outlines(data, where: str) -> list[Outline]:
    """The outlines of GeoJSON ``data`` (a FeatureCollection, a list of Features as older
    QuPath exports, or one Feature): Polygons and MultiPolygons; others refused."""
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        data = data.get("features", [])
    features = data if isinstance(data, list) else [data]
    outlines = _qupath_objects(features, where)
    kept = [o for o in outlines if o.label not in NO_OBJECTS]
    if len(kept) < len(outlines):
        note_once(
            f"{where}: {numbered(len(outlines) - len(kept), 'outline')} of QuPath's class "
            f"{' or '.join(NO_OBJECTS)}: no objects, passed over{_FIRST}",
            key="outlines of no objects",
        )
    return kept


def _qupath_objects(features: list, where: str) -> list[Outline]:
    """The outlines of the features that are objects, in file order. A TMA core is never one;
    where QuPath's export holds detections, cells or tiles (:data:`DETECTIONS`), an annotation
    is the region they were found in, passed over, when it is around three's centres or
    more, or one's or two's of over :data:`CORRECTION_AREA` times its area, or its area is over
    :data:`REGION_AREA` times the largest one's bounds (a region where none was found). One
    around one detection's centre alone (or two's: a nucleus split), of about their size,
    over most of them (two: of their class or none), is them redrawn by hand (QuPath's correction loop: the
    detection is kept): the annotation is the object, the detections dropped
    (:func:`_annotation_roles`). Both said once a command
    (:func:`note_regions`). Other annotations are objects (drawn by hand: the nucleus a model
    missed). Cells are read as their nuclei (:func:`_feature`; said once). Read before as one
    large object, a cell as its grown outline; then every annotation passed over (s63); then
    a redrawn detection as a region, the wrong detection kept (s64)."""
    cells = sum(isinstance(f, dict) and "nucleusGeometry" in f for f in features)
    if cells:
        note_once(
            f"{where}: {numbered(cells, 'QuPath cell')} read as their nuclei "
            f"(nucleusGeometry; the cells' own outlines are not read){_FIRST}",
            key="cells as nuclei",
        )
    kinds = [_object_type(f) for f in features]
    outlines = [_feature(f, i, where) for i, f in enumerate(features)]
    grown = lambda i: _cell_size(features[i], f"{where}: feature {i + 1}'s cell")  # noqa: E731
    regions, corrections = _annotation_roles(outlines, kinds, grown)
    if any(regions) or corrections:
        note_regions(where, sum(regions), len(corrections))
    dropped = {i for found in corrections.values() for i in found}
    return [
        o for i, (o, region) in enumerate(zip(outlines, regions)) if not region and i not in dropped
    ]


def _annotation_roles(
    outlines: list[Outline], kinds: list, grown: Callable[[int], float | None]
) -> tuple[list[bool], dict[int, tuple[int, ...]]]:
    """Which of ``outlines`` (of QuPath's ``kinds``) are regions, and the corrections: the
    index of each annotation around the centres of one detection alone, or of two (a nucleus
    QuPath split, redrawn as one), that is them redrawn (:func:`_redrawn`, :func:`_covers`;
    ``grown``: a cell's own area by its index, asked only of a detection an annotation is
    around: every cell's took 60-90% longer to read, s64) to those detections' indices
    (:func:`_qupath_objects`). One of their size around them but not over most of them (a
    nucleus drawn in a crescent's hollow) is an object; one of QuPath's class Region* or
    Ignore* is neither (passed over: :data:`NO_OBJECTS`; s64 review: it dropped the
    detection it was around); one around three or more is a region (s65: two, one nucleus
    split, was one too)."""
    regions = [kind == "tma_core" for kind in kinds]
    found = [i for i, kind in enumerate(kinds) if kind in DETECTIONS]
    corrections: dict[int, tuple[int, ...]] = {}
    if not found or len(found) == len(outlines):
        return regions, corrections
    bounds = _bounds([outlines[i] for i in found])  # left, top, right, bottom
    centres = (bounds[:, :2] + bounds[:, 2:]) / 2
    order = np.argsort(centres[:, 0], kind="stable")  # by x: see _around
    centres = centres[order]
    large = REGION_AREA * np.max(np.prod(bounds[:, 2:] - bounds[:, :2], axis=1))
    for i, (outline, kind) in enumerate(zip(outlines, kinds)):
        if kind in DETECTIONS or regions[i] or outline.label in NO_OBJECTS:
            continue
        size = _size(outline, enough=large)
        inside = [] if size > large else _around(outline, centres, most=3)
        alone = tuple(found[order[k]] for k in inside) if len(inside) in (1, 2) else ()
        owns = [_size(outlines[k]) for k in alone]
        classed = bool(alone) and _same_class(outline, [outlines[k] for k in alone])
        if not classed or not _redrawn(size, owns, [grown(k) for k in alone]):
            regions[i] = size > large or bool(inside)
        elif _covers(outline, [outlines[k] for k in alone]):
            corrections[i] = alone
    return regions, corrections


def _redrawn(size: float, owns: list[float], grown: list[float | None]) -> bool:
    """Whether an annotation of area ``size`` over most of detections of areas ``owns``
    (one, or two: a nucleus split) is them redrawn: under :data:`CORRECTION_AREA` times
    their area and reaching past them by under :data:`HAND_REACH` px, as a circle of its
    area past one of theirs; one detection's redraw may reach further where it is no cell
    (``grown`` None) or nearer its nucleus's area than its cell's (``grown``: the cell's own
    area; ``owns``: its nucleus's). Two detections' redraw may not (s65 review: a tumour bud
    drawn with its cytoplasm round two touching nuclei, up to 3.2x their area, replaced both;
    a split nucleus redrawn is about 1-1.3x its halves). s64 review: a cell traced by hand,
    324 px around a 100 px nucleus, replaced the nucleus; s65: a nucleus redrawn 1.5 px
    larger, its cell grown 2 px in dense tissue, was passed over."""
    own = sum(owns)
    if size >= CORRECTION_AREA * own:
        return False
    if np.sqrt(size / np.pi) - np.sqrt(own / np.pi) < HAND_REACH:
        return True
    if len(owns) > 1:
        return False
    return grown[0] is None or size < np.sqrt(own * grown[0])


def _same_class(annotation: Outline, detections: list[Outline]) -> bool:
    """Whether the annotation may be ``detections`` redrawn by its class: one detection's
    redraw may be of any class (s65 re-read: a "Nucleus" redraw of an unclassified
    detection, or one reclassified Negative to Positive, was passed over); two's (a nucleus
    split) has none (drawn by hand) or theirs (a redraw keeps its class); one of another
    class is another object (s65 review: a "Tumor" bud drawn round two unclassified nuclei
    replaced them)."""
    if len(detections) == 1:
        return True
    return annotation.label is None or all(d.label == annotation.label for d in detections)


def _covers(annotation: Outline, detections: list[Outline]) -> bool:
    """Whether the pixels (centres inside) the annotation and the ``detections`` together
    hold are over half of the smaller one's: a crescent's centre lies in its hollow,
    outside it (s64 review: a nucleus drawn there replaced the crescent); a detection
    redrawn smaller lies inside it (s64 review: over half of the detection asked, it was
    kept as a ring around the redrawn one)."""
    bounds = np.array([annotation.bounds(), *(d.bounds() for d in detections)])
    left, top = bounds[:, :2].min(axis=0)
    right, bottom = bounds[:, 2:].max(axis=0)
    shape = (int(np.ceil(max(bottom, 0))), int(np.ceil(max(right, 0))))
    box = _pixel_box((left, top, right, bottom), shape)
    mine = _inside(annotation, box)
    own = np.logical_or.reduce([_inside(d, box) for d in detections])
    return 2 * int((own & mine).sum()) > min(int(own.sum()), int(mine.sum()))


def _cell_size(feature: dict, where: str) -> float | None:
    """The area of a QuPath cell's own outline (its ``geometry``, the nucleus grown; None
    where it has none that reads, or no ``nucleusGeometry``: then its outline is the one
    read, and a larger redraw of it was dropped, s64 review); ``where``: the file and
    feature, which a line of it names (s65: none was named)."""
    if "nucleusGeometry" not in feature:
        return None
    try:
        polygons = _polygons(feature.get("geometry") or {}, where)
        rings = tuple(_ring(r) for p in polygons for r in p if len(r))
    except (DatasetError, TypeError, ValueError, IndexError):
        return None
    return _size(Outline("cell", rings=rings, outer=_outer(polygons))) if rings else None


def _bounds(outlines: list[Outline]) -> np.ndarray:
    """The ``(n, 4)`` bounds (left, top, right, bottom) of GeoJSON ``outlines`` (rings, no
    ellipse box), as :meth:`Outline.bounds` gives each, all at once (98,000 detections one by
    one took 1.7 CPU s of a 5.8 s read, s64)."""
    rings = [ring for outline in outlines for ring in outline.rings]
    owner = np.repeat(np.arange(len(outlines)), [len(o.rings) for o in outlines])
    points = np.bincount(owner, weights=[len(ring) for ring in rings], minlength=len(outlines))
    starts = np.r_[0, np.cumsum(points[:-1])].astype(np.int64)
    corners = np.concatenate(rings)
    low, high = np.minimum.reduceat(corners, starts), np.maximum.reduceat(corners, starts)
    return np.concatenate([low, high], axis=1)


#: QuPath 0.2's kinds of objects, by the feature's ``id`` (0.3 on: ``objectType``)
_OLD_KINDS = {
    "PathAnnotationObject": "annotation",
    "PathDetectionObject": "detection",
    "PathCellObject": "cell",
    "PathTileObject": "tile",
    "TMACoreObject": "tma_core",
}


def _object_type(feature) -> str | None:
    """QuPath's kind of a GeoJSON feature: its ``objectType`` (0.4), ``object_type`` (early
    0.3) or 0.2's ``id`` (``PathDetectionObject``); None where it says none."""
    if not isinstance(feature, dict):
        return None
    properties = feature.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    kind = properties.get("objectType") or properties.get("object_type")
    return kind or _OLD_KINDS.get(str(feature.get("id")))


def _size(outline: Outline, enough: float = np.inf) -> float:
    """The area an outline covers (its bounds' for an ellipse): the area of its outer rings'
    union (:meth:`Outline.outer_rings`), a hole's counted as inside, as :func:`_around`
    counts its points: each group of rings whose bounds overlap (:func:`_overlapping`)
    filled (:func:`_union_area`), a ring alone by its corners; where its largest ring alone
    is over ``enough``, that ring's area (the union's is no less: enough to tell a region).
    Its largest ring's before (s65): a region of many parts around no detection, each under
    :data:`REGION_AREA` times the largest one's bounds, was read as an object; then its
    holes' taken away (s65 review): a thin ring around no detection, or around one in its
    lumen, was read as an object; then parts that overlap (a GeometryCollection's, an island
    in a hole) counted twice (s66): a hand-drawn object of two overlapping strokes was passed
    over as a region; then all its parts filled at one scale where two met (s66 review: 17 s
    an annotation of 10,000 parts, and 20 squares of 10 px over 40,000 px read 2,815 px of
    their 1,975)."""
    if outline.box is not None:
        left, top, right, bottom = outline.box
        return (right - left) * (bottom - top)
    outer = tuple(ring for ring in outline.outer_rings() if len(ring))
    if not outer:
        return 0.0
    areas, low, high = _ring_extents(outer)
    if areas.max() > enough:
        return float(areas.max())
    return float(
        sum(
            areas[g[0]] if len(g) == 1 else _union_area([outer[i] for i in g], low[g], high[g])
            for g in _overlapping(low, high)
        )
    )


def _ring_extents(rings: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The area of each of ``rings`` by its corners (the shoelace formula), and its bounds'
    lowest and highest (x, y), all at once (one by one, 10,000 rings took 0.35 CPU s, s66)."""
    counts = np.array([len(ring) for ring in rings])
    ends = np.cumsum(counts)
    starts = ends - counts
    points = np.concatenate(rings)
    x, y = points.T
    ahead = np.arange(1, ends[-1] + 1)
    ahead[ends - 1] = starts  # each ring's last corner to its first
    areas = np.abs(np.add.reduceat(x * y[ahead] - y * x[ahead], starts)) / 2
    return areas, np.minimum.reduceat(points, starts), np.maximum.reduceat(points, starts)


def _overlapping(low: np.ndarray, high: np.ndarray) -> list[list[int]]:
    """The indices of the boxes ``low``, ``high`` ((n, 2): x, y) in groups linked by boxes
    that overlap (one's with one of its group's, over some area: boxes that touch only are
    apart), a box alone in its own (its ring's area may then be summed). The pairs are
    found all at once (:func:`_pairs_meeting`; one search a box took 0.16 CPU s for 10,000
    boxes, s67)."""
    pairs = _pairs_meeting(low, high)
    if not len(pairs):
        return [[i] for i in range(len(low))]
    a, b = pairs.T
    links = sparse.coo_array((np.ones(len(a)), (a, b)), shape=(len(low),) * 2)
    _, group = csgraph.connected_components(links, directed=False)
    by_group = np.argsort(group, kind="stable")
    bounds = [0, *(np.flatnonzero(np.diff(group[by_group])) + 1).tolist(), len(group)]
    listed = by_group.tolist()  # sliced as lists: 10,000 arrays took longer than the pairs
    return [listed[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


#: the most pairs of boxes :func:`_pairs_meeting` tests at once (some tens of MB)
_PAIRS_AT_ONCE = 2**20


def _pairs_meeting(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The ``(m, 2)`` pairs of indices of the boxes ``low``, ``high`` that overlap: by their
    left sides, each box with those after it that start left of its right side, kept where
    they meet upright too; tested some :data:`_PAIRS_AT_ONCE` at a time."""
    if not len(low):  # no boxes: no pairs (their last count is none)
        return np.empty((0, 2), np.int64)
    order = np.argsort(low[:, 0], kind="stable")
    low, high = low[order], high[order]
    after = np.arange(1, len(low) + 1)  # each box's first one after it
    counts = np.maximum(np.searchsorted(low[:, 0], high[:, 0], side="left") - after, 0)
    ends = np.cumsum(counts)
    cuts = np.searchsorted(ends, np.arange(_PAIRS_AT_ONCE, ends[-1], _PAIRS_AT_ONCE))
    found = [np.empty((0, 2), np.int64)]
    for first, last in zip([0, *cuts.tolist()], [*cuts.tolist(), len(low)]):
        a = np.repeat(np.arange(first, last), counts[first:last])
        start = np.repeat(ends[first:last] - counts[first:last], counts[first:last])
        b = a + 1 + np.arange(len(a)) - (start - (ends[first - 1] if first else 0))
        meet = (low[b, 1] < high[a, 1]) & (high[b, 1] > low[a, 1])
        found.append(np.stack([order[a[meet]], order[b[meet]]], axis=1))
    return np.concatenate(found)


#: the most pixels :func:`_union_area` fills of a group of rings' boxes, and of their bounds:
#: larger ones are filled at a coarser scale (an area is compared with others' by factors,
#: not to the pixel): parts some 128 px across are filled to the pixel, and two overlapping
#: 4,000 px squares 0.7% off (s66: 2**16 was 0.2% off and took twice as long)
UNION_PIXELS = 2**14, 2**22


def _union_area(rings: list[np.ndarray], low: np.ndarray, high: np.ndarray) -> float:
    """The area of the union of ``rings`` (of boxes ``low``, ``high``; holes none): the
    pixels whose centres lie inside one (each even-odd alone), at a scale that keeps their
    boxes' and their bounds' under :data:`UNION_PIXELS` (their bounds' alone before, s66
    review: small parts scattered wide were filled as few coarse pixels, 40% off)."""
    (left, top), (right, bottom) = low.min(axis=0), high.max(axis=0)
    boxes = float(np.prod(high - low, axis=1).sum())
    bounds = (right - left) * (bottom - top)
    scale = max(1.0, *(np.sqrt(n / most) for n, most in zip((boxes, bounds), UNION_PIXELS)))
    shape = (int(np.ceil((bottom - top) / scale)), int(np.ceil((right - left) / scale)))
    centred = [((r[:, 1] - top) / scale - 0.5, (r[:, 0] - left) / scale - 0.5) for r in rings]
    return float(_scanned(centred, shape, union=True).sum()) * scale**2


def _around(outline: Outline, points: np.ndarray, most: int) -> list[int]:
    """The indices of up to ``most`` of ``points`` ((n, 2): x, y, sorted by x) inside one of
    ``outline``'s outer rings (:meth:`Outline.outer_rings`): a hole's point counts, as
    inside its polygon's outer ring (a region around a lumen holds the cells in it), so a
    hole's ring is not tested (it was, s65: work that changed nothing). Those within the
    bounds are tested, some thousands at a time, until ``most`` are inside (the test took
    2-4 CPU s a region of 98,000 detections, s63 re-review)."""
    left, top, right, bottom = outline.bounds()
    lo, hi = np.searchsorted(points[:, 0], [left, right], side="right")
    near = points[lo:hi]
    within = (near[:, 0] > left) & (near[:, 0] < right) & (near[:, 1] > top) & (near[:, 1] < bottom)
    near, at = near[within], lo + np.flatnonzero(within)
    if outline.box is not None:
        return at[:most].tolist()
    outer = outline.outer_rings()
    inside: list[int] = []
    for start in range(0, len(near), 4096):
        chunk = near[start : start + 4096]
        hits = np.zeros(len(chunk), bool)
        for ring in outer:
            hits |= measure.points_in_poly(chunk, ring)
        inside += at[start : start + 4096][hits].tolist()
        if len(inside) >= most:
            break
    return inside[:most]


def _feature(feature, index: int, where: str) -> Outline:
    """One GeoJSON Feature's :class:`Outline`: of QuPath's cell, its nucleus
    (``nucleusGeometry``; the cell's ``geometry`` is the nucleus grown by a set distance)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise DatasetError(f"{where}: item {index + 1} is no GeoJSON Feature: export from QuPath")
    properties = feature.get("properties") or {}
    named = properties.get("name")
    name = str(named or f"feature {index + 1}")
    said = f"feature {index + 1}" + (f" ({named})" if named else "")  # "feature feature 3", s63
    geometry = feature.get("nucleusGeometry") or feature.get("geometry") or {}
    polygons = _polygons(geometry, f"{where}: {said}")
    try:
        rings = [[_ring(r) for r in p if len(r)] for p in polygons]
    except (TypeError, ValueError, IndexError):
        rings = []
    if not any(rings):
        raise DatasetError(
            f"{where}: {said} has no corners, or not as [x, y] pairs: delete it and export again"
        )
    parts = tuple(len(p) for p in rings if p)  # their union: QuPath's brush parts overlap
    label = _class_name(properties.get("classification"))
    flat = tuple(r for p in rings for r in p)
    return Outline(name, rings=flat, label=label, parts=parts, outer=_outer(rings))


def _polygons(geometry, where: str, holding: str = "") -> list:
    """The polygons of a GeoJSON geometry, as a MultiPolygon's coordinates: a Polygon is one, a
    MultiPolygon its own, a GeometryCollection (QuPath writes one for some merged objects)
    those of its geometries, one object (refused as no area before, s64; the union of its
    polygons: :attr:`Outline.parts`), less a line or point of no length in it (said);
    anything else, or a collection holding it, is refused naming the feature (``where``)."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        return [geometry.get("coordinates")]
    if kind == "MultiPolygon" and isinstance(geometry.get("coordinates"), list):
        return geometry["coordinates"]
    if kind == "GeometryCollection" and isinstance(geometry.get("geometries"), list):
        within = " a GeometryCollection holding"
        return [p for part in geometry["geometries"] for p in _polygons(part, where, within)]
    if holding and _no_length(geometry):  # what a union in QuPath can leave beside its areas
        note_once(
            f"{where} is{holding} a {kind} of no length beside its areas: passed over",
            key="a collection's line of no length",
        )
        return []
    said = f"is{holding} a {kind}" if kind else "has no geometry"
    said += " without coordinates" if kind == "MultiPolygon" else ""
    raise DatasetError(
        f"{where} {said}, not an area: delete it, or draw it as an area in QuPath, and export again"
    )


def _no_length(geometry: dict) -> bool:
    """Whether ``geometry`` is a point, or a line whose corners are all one point."""
    if geometry.get("type") not in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        return False
    try:
        corners = np.asarray(geometry.get("coordinates"), dtype=np.float64)
    except (TypeError, ValueError):
        return False
    corners = corners.reshape(-1, corners.shape[-1]) if corners.ndim else corners
    return corners.ndim == 2 and len(np.unique(corners, axis=0)) == 1


def _outer(polygons: list) -> tuple[int, ...]:
    """The indices of GeoJSON ``polygons``' outer rings among their rings of corners (as
    :func:`_feature` reads them: those of none left out): each polygon's first, its others
    its holes, as GeoJSON writes them (no ring tested inside another: 300 holes took 1.2
    CPU s so, s65 review). :attr:`Outline.outer`."""
    counts = [sum(1 for ring in polygon if len(ring)) for polygon in polygons]
    starts = np.cumsum([0, *counts])[:-1].tolist()
    return tuple(start for start, count in zip(starts, counts) if count)


def _ring(corners) -> np.ndarray:
    """A GeoJSON ring's corners as an ``(n, 2)`` float array (a third coordinate dropped)."""
    ring = np.asarray(corners, dtype=np.float64)
    if ring.ndim != 2 or ring.shape[1] < 2 or not np.isfinite(ring).all():
        raise ValueError("no [x, y] pairs")
    return ring[:, :2]


def _class_name(classification) -> str | None:
    """QuPath's classification (``{"name": ..., "color": ...}``, or a bare name) as a name."""
    if isinstance(classification, dict):
        classification = classification.get("name")
    return None if classification is None else str(classification)


def rasterise(outlines: list[Outline], shape: tuple[int, int], where: str) -> np.ndarray:
    """The (H, W) instance-id map of ``outlines`` (uint16; int32 beyond 65,535 objects):
    outline ``i`` is id ``i + 1``, later ones drawn over earlier ones; the pixels whose
    centres lie inside. What overlaps, reaches outside ``shape`` or is of several classes is
    said once (``where``: the file)."""
    dtype = np.uint16 if len(outlines) <= np.iinfo(np.uint16).max else np.int32
    ids = np.zeros(shape, dtype=dtype)
    over, outside, empty = 0, 0, 0
    for index, outline in enumerate(outlines, start=1):
        left, top, right, bottom = outline.bounds()
        outside += left < 0 or top < 0 or right > shape[1] or bottom > shape[0]
        box = _pixel_box(outline.bounds(), shape)
        inside = _inside(outline, box)
        window = ids[box[1] : box[3], box[0] : box[2]]
        over += bool(window[inside].any())
        empty += not inside.any()
        window[inside] = index
    _say(where, len(outlines), over, outside, empty, {o.label for o in outlines} - {None})
    return ids


def _pixel_box(bounds: tuple[float, ...], shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels whose centres may lie inside ``bounds``,
    clipped to the image (right, bottom exclusive; empty where all is outside)."""
    left, top, right, bottom = bounds
    x0, y0 = (min(max(int(np.floor(v)), 0), n) for v, n in ((left, shape[1]), (top, shape[0])))
    x1, y1 = (min(max(int(np.ceil(v)), 0), n) for v, n in ((right, shape[1]), (bottom, shape[0])))
    return x0, y0, max(x1, x0), max(y1, y0)


def _inside(outline: Outline, box: tuple[int, int, int, int]) -> np.ndarray:
    """The pixels of the window ``box`` whose centres lie inside ``outline`` (even-odd)."""
    x0, y0, x1, y1 = box
    inside = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    if outline.box is not None:
        left, top, right, bottom = outline.box
        centre = ((top + bottom) / 2 - 0.5 - y0, (left + right) / 2 - 0.5 - x0)
        radii = ((bottom - top) / 2, (right - left) / 2)
        if min(radii) > 0:
            inside[draw.ellipse(*centre, *radii, shape=inside.shape)] = True
        return inside
    rings = [(ring[:, 1] - 0.5 - y0, ring[:, 0] - 0.5 - x0) for ring in outline.rings]
    if len(outline.parts) < 2:
        return _filled(rings, inside.shape, outline.edges) if rings else inside
    for end, count in zip(np.cumsum(outline.parts).tolist(), outline.parts):
        # their union (s64 review), each in its box (over the whole window, 200 parts over
        # 4,000 px took 37 CPU s: s67 review)
        part = rings[end - count : end]
        c0, r0, c1, r1 = _rings_box(part, inside.shape)
        if r1 > r0 and c1 > c0:
            part = [(ys - r0, xs - c0) for ys, xs in part]
            inside[r0:r1, c0:c1] |= _filled(part, (r1 - r0, c1 - c0), outline.edges)
    return inside


def _rings_box(
    rings: list[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int]
) -> tuple[int, int, int, int]:
    """:func:`_pixel_box` of the pixels of ``shape`` that ``rings`` ((ys, xs) each, in
    pixels of ``shape``) may fill, their edges' included."""
    ys, xs = np.concatenate([r[0] for r in rings]), np.concatenate([r[1] for r in rings])
    return _pixel_box((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), shape)


def _filled(
    rings: list[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int], edges: bool = False
) -> np.ndarray:
    """The pixels (r, c) of ``shape`` inside the polygon of ``rings`` ((ys, xs) each; even-
    odd between rings, so a ring inside another is a hole), as skimage.draw.polygon fills
    each (with the pixels on its edges), by scanlines: each row's edge crossings sorted, the
    pixels from an odd crossing to the next filled. Its cost grows with the vertices and the
    rows they span, not with vertices x pixels (s42: a traced outline of 14,414 vertices over
    1277 x 1022 px took minutes). Rings no edge of which can meet a pixel centre (a traced
    outline's) are scanned together; the others each in its box with its edges' pixels
    (``edges``: each pixel on an edge, not only those on an odd number of them)."""
    apart = [_may_meet_centres(ys, xs) for ys, xs in rings]
    together = [ring for ring, alone in zip(rings, apart) if not alone]
    inside = _scanned(together, shape) if together else np.zeros(shape, bool)
    for ys, xs in (ring for ring, alone in zip(rings, apart) if alone):
        c0, r0, c1, r1 = _rings_box([(ys, xs)], shape)
        ys, xs, box = ys - r0, xs - c0, (r1 - r0, c1 - c0)
        on = _on_edges(ys, xs, box)
        inside[r0:r1, c0:c1] ^= _scanned([(ys, xs)], box) | (on % 2 == 1)
        if edges:
            inside[r0:r1, c0:c1] |= on > 0
    return inside


def _may_meet_centres(ys: np.ndarray, xs: np.ndarray) -> bool:
    """Whether an edge of the ring ``ys``, ``xs`` may pass a pixel centre (whole numbers):
    not where each is level or upright along a line between them."""
    y1, x1 = np.roll(ys, -1), np.roll(xs, -1)
    level = (ys == y1) & (ys != np.round(ys))
    upright = (xs == x1) & (xs != np.round(xs))
    return not (level | upright).all()


def _scanned(
    rings: list[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int], union: bool = False
) -> np.ndarray:
    """The pixels of ``shape`` inside ``rings`` by their crossings (even-odd; of those on
    an edge, some); ``union``: inside one of them, each even-odd alone."""
    h, w = shape
    rows, cross = zip(*(_crossings(ys, xs, h) for ys, xs in rings))
    ring = np.repeat(np.arange(len(rings)), [len(r) for r in rows]) if union else None
    rows, cross = np.concatenate(rows), np.concatenate(cross)
    order = np.lexsort((cross, rows) if ring is None else (cross, rows, ring))
    rows, cols = rows[order], np.clip(np.ceil(cross[order]), 0, w).astype(np.int64)
    first = rows[1:] != rows[:-1]
    if ring is not None:
        first |= ring[order][1:] != ring[order][:-1]
    starts = np.flatnonzero(np.r_[True, first])  # each row's (of each ring) first crossing
    nth = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    toggles = np.zeros((h, w + 1), np.int32)
    np.add.at(toggles, (rows, cols), np.where(nth % 2 == 0, 1, -1))
    return np.cumsum(toggles, axis=1)[:, :w] > 0


def _on_edges(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """How many edges of the ring ``ys``, ``xs`` each pixel of ``shape`` lies exactly on
    (its centre), a corner's 1 (skimage.draw.polygon counts those of an odd number inside;
    an edge drawn there and back, none): each edge's whole rows from end to end, the column
    where it meets each, kept where it meets it exactly."""
    h, w = shape
    y1, x1 = np.roll(ys, -1), np.roll(xs, -1)
    first = np.clip(np.ceil(np.minimum(ys, y1)), 0, h).astype(np.int64)
    count = np.maximum(np.clip(np.floor(np.maximum(ys, y1)) + 1, 0, h).astype(np.int64) - first, 0)
    which = np.repeat(np.arange(len(count)), count)
    rows = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count) + first[which]
    ya, yb, xa, xb = ys[which], y1[which], xs[which], x1[which]
    level = ya == yb  # a level edge: every whole column between its ends
    lo, hi = (
        np.maximum(np.ceil(np.minimum(xa, xb)), 0),
        np.minimum(np.floor(np.maximum(xa, xb)), w - 1),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        at = np.round(np.where(level, lo, xa + (rows - ya) * (xb - xa) / (yb - ya)))
    meets = np.where(level, lo <= hi, (xb - xa) * (rows - ya) == (yb - ya) * (at - xa))
    spans = np.where(level, hi - lo + 1, 1).astype(np.int64) * meets
    rows, cols = np.repeat(rows, spans), np.repeat(at, spans).astype(np.int64)
    cols += np.arange(len(cols)) - np.repeat(np.cumsum(spans) - spans, spans)
    keep = (cols >= 0) & (cols < w)
    hits = np.zeros(shape, np.int32)
    np.add.at(hits, (rows[keep], cols[keep]), 1)
    corner = (
        (ys == np.round(ys)) & (xs == np.round(xs)) & (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
    )
    hits[ys[corner].astype(np.int64), xs[corner].astype(np.int64)] = 1
    return hits


def _crossings(ys: np.ndarray, xs: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the closed polygon ``ys``, ``xs`` crosses the rows 0..h-1: (row, x) of each
    crossing; an edge spans the rows from its lower end up to, not at, its upper end."""
    y1, x1 = np.roll(ys, -1), np.roll(xs, -1)
    edge = ys != y1  # a level edge crosses no row
    ya, yb, xa, xb = ys[edge], y1[edge], xs[edge], x1[edge]
    first = np.clip(np.ceil(np.minimum(ya, yb)), 0, h).astype(np.int64)
    count = np.clip(np.ceil(np.maximum(ya, yb)), 0, h).astype(np.int64) - first
    which = np.repeat(np.arange(len(count)), count)  # each crossing's edge
    rows = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count) + first[which]
    ya, yb, xa, xb = ya[which], yb[which], xa[which], xb[which]
    return rows, xa + (rows - ya) * (xb - xa) / (yb - ya)


def _say(where: str, n: int, over: int, outside: int, empty: int, labels: set[str]) -> None:
    """The lines said of outlines that overlap, are clipped, or are of several classes:
    each once a command, for the first file it happens in (``where``)."""
    if over:
        note_once(
            f"{where}: {over} of {n} outlines overlap earlier ones: the later are drawn over "
            f"the earlier (object ids in file order){_FIRST}",
            key="outlines overlap",
        )
    if outside:
        gone = f", {empty} of them left without a pixel" if empty else ""
        line = f"{where}: {outside} of {n} outlines reach outside the image: clipped{gone}"
        note_once(line + _FIRST, key="outlines clipped")
    if len(labels) > 1:
        note_once(
            f"{where}: outlines of {len(labels)} classes ({', '.join(sorted(labels))}): read as "
            "objects of one foreground class (instance training: background, boundary, "
            f"interior){_FIRST}",
            key="outlines of classes",
        )


_FIRST = " (said for the first such file only)"
