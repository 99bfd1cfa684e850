"""Object outlines of a label image, for QuPath (GeoJSON) and Fiji's ROI Manager (ImageJ ROIs).

- :func:`object_polygons`: each object's outline, traced exactly along its pixels' edges.
- :func:`geojson_features` / :func:`write_geojson`: a GeoJSON FeatureCollection of detections
  that QuPath opens with File > Import objects.
- :func:`roi_bytes` / :func:`write_imagej_rois`: a .zip of ImageJ ROIs, one per object, that
  Fiji's ROI Manager opens with More > Open (or File > Open).
- :func:`boxed_polygons`: outlines traced window by window, for a label image larger than
  memory; :func:`write_planes`: the planes of a stack as one GeoJSON file, each feature
  written as it is made (a streamed slide's too).
- :func:`write_outlines`: the GeoJSON and ImageJ ROIs of an image's planes, each object on
  its plane; :func:`outline_class`: the class QuPath files a model's objects under (a
  semantic model's objects: each its own, the table's ``class`` and ``class_name``).
- A georeferenced input's outlines (``grid``: its GeoTIFF tags' or world file's) are in its
  map coordinates, for QGIS: :class:`unetlab.data.geotiff.MapGrid`.

Conventions. Coordinates are pixel corners in the image's pixels, ``x`` (column) then ``y``
(row): pixel ``(row, col)`` is the unit square from ``(col, row)`` to ``(col + 1, row + 1)``,
the convention of QuPath and ImageJ for area outlines. So a 1-pixel object is a unit square,
an outline's area (shoelace) equals the object's pixel count, and the pixels whose centres
lie inside the outline are exactly the object's pixels (no corner is cut, unlike
``skimage.measure.find_contours`` at 0.5, which runs through the pixel centres).

An object is a list of polygons; a polygon is a list of rings, its outer ring first and then
its holes; a ring is an ``(n, 2)`` int64 array of its corners ``(x, y)`` without repeating the
first (vertices where the outline runs straight on are left out). Outer rings have a
positive shoelace area (counter-clockwise with the y axis up, as RFC 7946 asks; clockwise
on the screen), holes a negative one. Pixels that touch only at a corner are separate
pieces (4-connectivity, ``scipy.ndimage.label``'s default): an object of several pieces has
several polygons (a GeoJSON MultiPolygon). Rings never cross, and none touches itself: where
pixels meet at a corner the outline is split so that rings only touch other rings there (a
hole may touch its outer ring at a corner; two pieces may touch at a corner), which keeps
every geometry valid for JTS/shapely (QuPath's geometry library).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data import instances
from unetlab.data.geotiff import MapGrid
from unetlab.data.large_ids import compact_large_ids
from unetlab.data.shown import shown_path
from unetlab.deferred import deferred
from unetlab.errors import FormatLimitError, Spelled, UnetlabError, said_as
from unetlab.inference.measure import pixel_pair
from unetlab.inference.predict import class_names_of
from unetlab.inference.records import label_colours
from unetlab.inference.slide_overlay import by_object
from unetlab.outputs import claim_files
from unetlab.plots import palette
from unetlab.words import numbered

log = logging.getLogger(__name__)
ndimage = deferred("scipy.ndimage")

if TYPE_CHECKING:
    from unetlab.data.tiffmeta import PageAxes

#: an object's outline: polygons, each [outer ring, *holes], each ring (n, 2) int64 (x, y)
Polygons = list[list[np.ndarray]]
#: the largest coordinate an ImageJ ROI holds (its bounds are 16-bit signed)
ROI_SIDE = 32767
#: the most corners a traced ImageJ ROI holds (its count is an unsigned short); an outline of
#: more is written as a composite ROI, whose path has no such limit, as ImageJ saves one
ROI_CORNERS = 65535


def rois_fit(h: int, w: int) -> bool:
    """Whether ImageJ ROIs reach every corner of an (h, w) px plane (:data:`ROI_SIDE`)."""
    return max(h, w) <= ROI_SIDE


# Directions along the corner grid: 0 +x, 1 +y, 2 -x, 3 -y. A corner's code says which of the
# four pixels around it belong to the object: 1 top-left, 2 top-right, 4 bottom-left,
# 8 bottom-right. The outline runs with the object on its left (in x-right, y-up terms);
# an edge leaves the corner in direction d when pixel HAVE[d] is the object's, LACK[d] not.
_HAVE = (8, 4, 1, 2)
_LACK = (2, 8, 4, 1)
#: the one direction an outline leaves a corner by; -1 where none or two (a saddle: the object
#: holds two diagonal pixels, codes 6 and 9)
_OUT = tuple(
    (dirs[0] if len(dirs) == 1 else -1)
    for dirs in (
        [d for d in range(4) if code & _HAVE[d] and not code & _LACK[d]] for code in range(16)
    )
)


def object_polygons(labels: np.ndarray) -> dict[int, Polygons]:
    """Each object's outline: ``{id: [[outer ring, *holes], ...]}``, ids ascending.

    ``labels``: a 2-D integer label image (0 background, objects 1..N; gaps allowed); it is
    not changed. Each object is traced on its bounding box only (``scipy.ndimage.find_objects``),
    so the work grows with the objects' perimeters, not with the image. See the module's
    docstring for the coordinates, the rings' order and orientation, and pieces. Ids far
    above the pixel count (a tracker's 32- or 64-bit ids) are traced by their ranks and
    keyed by their own ids (``find_objects`` listed a box per id up to the largest).
    """
    labels, original = compact_large_ids(_label_image(labels))
    out: dict[int, Polygons] = {}
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is not None:
            key = index if original is None else int(original[index])
            out[key] = _outline(labels[box] == index, box[1].start, box[0].start)
    return out


def boxed_polygons(
    window: np.ndarray, boxes: Mapping[int, tuple[int, int, int, int]], *, origin=(0, 0)
) -> dict[int, Polygons]:
    """The outlines of the objects ``boxes`` names, ``{id: (top, left, bottom, right)}``
    (their bounding boxes in the image, bottom and right exclusive: the ``bbox_*`` columns of
    :func:`unetlab.inference.measure.object_table`), traced in ``window``: the part of the
    label image whose top-left pixel is the image's ``origin`` (row, column) and which holds
    each box whole. Coordinates are the image's, as :func:`object_polygons` gives them: a
    label image larger than memory (a streamed slide) is traced window by window."""
    window = _label_image(window)
    y0, x0 = origin
    out: dict[int, Polygons] = {}
    for index, (top, left, bottom, right) in sorted(boxes.items()):
        mask = window[top - y0 : bottom - y0, left - x0 : right - x0] == index
        out[int(index)] = _outline(mask, int(left), int(top))
    return out


def _label_image(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise UnetlabError(
            f"outlines need a 2-D label image, not one of shape {labels.shape}: pass one plane"
        )
    if labels.dtype == bool:
        return labels.astype(np.uint8)
    if labels.dtype.kind not in "iu":
        raise UnetlabError(
            f"outlines need integer object ids, not {labels.dtype} values: pass the instance "
            "label image (e.g. <stem>_objects.tif)"
        )
    if labels.dtype.kind == "i" and labels.size and labels.min() < 0:
        raise UnetlabError("outlines need object ids >= 0 (0 is background); found negative ids")
    return labels


def _outline(mask: np.ndarray, left: int, top: int) -> Polygons:
    """The polygons of a boolean mask whose top-left pixel is the image's (top, left)."""
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), dtype=np.uint8)
    padded[1:-1, 1:-1] = mask
    codes = padded[:-1, :-1] | padded[:-1, 1:] << 1 | padded[1:, :-1] << 2 | padded[1:, 1:] << 3
    width = codes.shape[1]
    flat = codes.ravel().tolist()
    saddles = np.nonzero((codes == 6) | (codes == 9))
    pieces = ndimage.label(padded)[0] if len(saddles[0]) else None  # 4-connectivity
    joined = set() if pieces is None else _joined(saddles, codes, pieces)
    rings, seen = [], set()
    for start in np.flatnonzero((codes & 10) == 8).tolist():  # corners left by a +x edge
        if start not in seen:
            rings.append(_trace(flat, width, start, joined, seen))
    corners = np.array([p for ring in rings for p in ring], dtype=np.int64)
    y, x = np.divmod(corners, width)
    xy = np.split(np.stack([x, y], axis=1), np.cumsum([len(ring) for ring in rings[:-1]]))
    if len(xy) == 1:  # the common case: one piece without holes
        return [[xy[0] + (left, top)]]
    pieces = ndimage.label(padded)[0] if pieces is None else pieces
    return [[ring + (left, top) for ring in polygon] for polygon in _assemble(xy, pieces)]


def _joined(saddles: tuple[np.ndarray, np.ndarray], codes, pieces) -> set[int]:
    """The saddles (flat corner indices) whose two diagonal pixels are of one 4-connected
    piece. The outline joins those pixels there, and separates the pieces at the other
    saddles: then no ring touches itself. (Separating at a saddle of one piece would give a
    ring through it twice; joining there splits that ring in two, and the two background
    pixels at it belong to different background regions, as the piece's path between its
    diagonal pixels closes a loop around one of them, so no ring can come back to it.)"""
    rows, cols = saddles
    falling = codes[rows, cols] == 9  # top-left and bottom-right pixels, else the other two
    first = pieces[rows, np.where(falling, cols, cols + 1)]
    second = pieces[rows + 1, np.where(falling, cols + 1, cols)]
    same = first == second
    return set((rows[same] * codes.shape[1] + cols[same]).tolist())


def _trace(flat: list[int], width: int, start: int, joined: set[int], seen: set[int]):
    """Follow one ring from the edge leaving corner ``start`` by +x; its corners (flat
    indices) in order; the +x edges it used are added to ``seen``."""
    step = (1, width, -1, -width)
    corners = []
    seen.add(start)
    point, direction = start, 0
    while True:
        point += step[direction]
        turn = _OUT[flat[point]]
        if turn < 0:  # a saddle: turn toward the object (separate the pieces) unless joined
            turn = (direction + (3 if point in joined else 1)) % 4
        if turn != direction:
            corners.append(point)
        if turn == 0:
            if point == start:
                return corners
            seen.add(point)
        direction = turn


def _assemble(rings: list[np.ndarray], pieces: np.ndarray) -> Polygons:
    """Rings into polygons, one per 4-connected piece (``pieces``: their labels, on the
    mask padded by 1): a ring's piece is the one on its left; the outer ring (positive
    area) goes first, then the holes."""
    polygons: dict[int, list[np.ndarray]] = {}
    for ring in rings:
        (x0, y0), (x1, y1) = ring[0], ring[1]
        ux, uy = np.sign(x1 - x0), np.sign(y1 - y0)
        # the pixel on the first edge's left, its centre (x0 + (ux - uy) / 2, y0 + (uy + ux)
        # / 2), in the padded mask (rows and columns one on)
        piece = pieces[y0 + (uy + ux + 1) // 2, x0 + (ux - uy + 1) // 2]
        polygons.setdefault(int(piece), []).append(ring)
    for polygon in polygons.values():
        outer = [i for i, ring in enumerate(polygon) if _signed_area(ring) > 0]
        if len(outer) != 1:
            raise RuntimeError(f"a piece with {len(outer)} outer rings: a bug in outlines")
        polygon.insert(0, polygon.pop(outer[0]))
    return list(polygons.values())


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    twice = x[:-1] @ y[1:] - x[1:] @ y[:-1] + x[-1] * y[0] - x[0] * y[-1]
    return float(twice) / 2


def polygon_area(polygons: Polygons) -> float:
    """The area (pixels) inside an object's polygons: outer rings less their holes."""
    return sum(_signed_area(ring) for polygon in polygons for ring in polygon)


def _objects(labels) -> dict[int, Polygons]:
    """A label image's outlines, or :func:`object_polygons`' result as it is (no retrace)."""
    return dict(labels) if isinstance(labels, Mapping) else object_polygons(labels)


def outline_class(model, options=None) -> str | None:
    """The class QuPath files a model's objects under: its foreground, the last of its
    ``classes`` that makes objects (neither the ``background`` nor of ``no_class`` of its
    :class:`~unetlab.inference.objects.ObjectOptions`, ``options``: a bg / cell / void
    model's cells were filed under void, review s69); None (unclassified, as QuPath leaves
    a detection without ``classification``) for a model that names none, or whose classes
    are the instance target's parts (background, boundary, interior: a nucleus is no
    "interior")."""
    return class_of_objects(class_names_of(model), options)


def class_of_objects(class_names: Sequence[str], options=None) -> str | None:
    """:func:`outline_class` of a model of classes ``class_names``."""
    classes = list(class_names)
    if not classes or tuple(classes) == instances.CLASS_NAMES:
        return None
    gone = {getattr(options, "background", None), *getattr(options, "no_class", ())}
    return next((n for k, n in reversed(list(enumerate(classes))) if k not in gone), None)


def outline_colours(model, objects) -> dict[str, list[int]] | None:
    """Each of ``model``'s classes' colour as its overlay draws it (the data set's own where
    it was trained on palette masks, else the VOC colours:
    :func:`~unetlab.inference.records.label_colours`), by class name and by index (as
    text), for its outlines' classes (ROIs' stroke, QuPath's classification colour: the
    VOC colour of the class index, or a name's hash, differed from the overlay's, s36);
    None where the overlay shows objects, not classes (``objects`` of an instance model:
    :func:`~unetlab.inference.slide_overlay.by_object`)."""
    if objects is None or by_object(objects):
        return None
    colours = label_colours(model, color=True, values=False).tolist()
    found = {str(k): c for k, c in enumerate(colours)}
    names = class_names_of(model)
    found.update({str(name): c for name, c in zip(names, colours, strict=False)})
    return found


def geojson_features(
    labels: np.ndarray | Mapping[int, Polygons],
    *,
    pixel_size: float | tuple[float, float] | None = None,
    class_names: str | Mapping[int, str] | None = None,
    measurements: Mapping[str, object] | None = None,
    plane: Mapping[str, int] | None = None,
    colours: Mapping[str, Sequence[int]] | None = None,
) -> dict:
    """A GeoJSON FeatureCollection of the objects, as QuPath (0.4 and later) imports them
    (File > Import objects): one Feature per object, ids ascending.

    ``labels``: a 2-D label image, or :func:`object_polygons`' result. Each Feature's
    geometry is a Polygon (a MultiPolygon for an object of several pieces) in the image's
    pixels, whatever ``pixel_size`` says (QuPath places objects in pixels); its properties
    are ``objectType`` "detection", ``name`` the id (``"12"``), ``classification`` when
    ``class_names`` gives one (one name for all objects, or ``{id: name}``), and
    ``measurements``: the row of the ``measurements`` table (columns of equal length with
    an ``id`` column, as :func:`unetlab.inference.measure.measure_objects` returns) whose
    id is the object's, numeric columns only, NaN left out (JSON has none); given
    ``pixel_size`` (µm per pixel, one number or (y, x)), ``area_um2`` too, where the table
    has none. ``plane``: the plane of a stack the objects lie in, ``{"z": z, "t": t}``
    (0-based), as QuPath places an object on a plane (its geometry's ``plane``); None for
    a 2-D image. ``colours``: the colour of each class, by name (:func:`outline_colours`:
    the model's overlay's); None: the VOC colour of a class index, else chosen by name.
    """
    objects = _objects(labels).items()
    how = dict(pixel_size=pixel_size, class_names=class_names, plane=plane, colours=colours)
    return {"type": "FeatureCollection", "features": list(_features(objects, measurements, **how))}


def _features(
    objects: Iterable[tuple[int, Polygons]],
    measurements,
    *,
    pixel_size,
    class_names,
    plane,
    scale: tuple[float, float] | None = None,
    grid: MapGrid | None = None,
    colours: Mapping[str, Sequence[int]] | None = None,
) -> Iterator[dict]:
    """:func:`geojson_features`' features, one at a time, of ``(id, polygons)`` pairs; a
    table's ``class`` / ``class_name`` columns (a semantic model's objects) name each
    object's class, before ``class_names``. With a ``grid``, in its map coordinates, for
    QGIS: the properties are flat (``id``, ``class``, ``class_name``, then the table's
    columns: one attribute each), without QuPath's keys."""
    row, kind = _rows(measurements), _classes(measurements)
    pixel_area = _pixel_area(pixel_size)
    for index, polygons in objects:
        own, values = kind(index), row(index)
        if pixel_area is not None and "area_m2" not in values:
            values.setdefault("area_um2", polygon_area(polygons) * pixel_area)
        if grid is not None:
            properties = {"id": int(index), **own, **values}
            geometry = _on_map(polygons, scale, grid)
        else:
            properties = {"objectType": "detection", "name": str(index), **own}
            name = own.get("class_name", own.get("class")) if own else _named(class_names, index)
            if name is not None:
                colour = _colour(str(name), own.get("class"), colours)
                properties["classification"] = {"name": str(name), "color": colour}
            flags = {k: v for k, v in values.items() if isinstance(v, bool)}
            if values:  # QuPath's measurements hold numbers only: a flag's 1 / 0 there
                properties["measurements"] = {k: float(v) for k, v in values.items()}
            properties.update(flags)  # and its true / false beside them, as in the CSV
            geometry = _geometry(polygons, scale)
        if plane is not None:
            geometry["plane"] = {"c": -1, "z": 0, "t": 0, **plane}
        yield {"type": "Feature", "geometry": geometry, "properties": properties}


def _geometry(polygons: Polygons, scale: tuple[float, float] | None = None) -> dict:
    factor = None if scale is None or tuple(scale) == (1, 1) else _factor(scale)
    coordinates = [
        [_closed(ring if factor is None else ring * factor) for ring in polygon]
        for polygon in polygons
    ]
    if len(coordinates) == 1:
        return {"type": "Polygon", "coordinates": coordinates[0]}
    return {"type": "MultiPolygon", "coordinates": coordinates}


def _named(class_names: str | Mapping[int, str] | None, index: int) -> str | None:
    if isinstance(class_names, str) or class_names is None:
        return class_names
    return class_names.get(index)


def _on_map(polygons: Polygons, scale, grid: MapGrid) -> dict:
    """:func:`_geometry` in ``grid``'s map coordinates (9 decimals), rings turned so that
    outer ones stay counter-clockwise on the map (RFC 7946) where its Y runs up."""
    factor = np.ones(2) if scale is None else np.array([scale[1], scale[0]], np.float64)
    coordinates = [
        [_closed(np.round(grid.apply(_turned(ring, grid) * factor), 9)) for ring in polygon]
        for polygon in polygons
    ]
    if len(coordinates) == 1:
        return {"type": "Polygon", "coordinates": coordinates[0]}
    return {"type": "MultiPolygon", "coordinates": coordinates}


def _turned(ring: np.ndarray, grid: MapGrid) -> np.ndarray:
    return ring[::-1] if grid.flips else ring


def _factor(scale: tuple[float, float]) -> np.ndarray:
    """(x, y) factors of (y, x) ``scale`` for (x, y) rings: whole numbers stay integers."""
    factor = np.array([scale[1], scale[0]], dtype=np.float64)
    return factor.astype(np.int64) if np.all(factor == np.round(factor)) else factor


def _closed(ring: np.ndarray) -> list[list[int]]:
    points = ring.tolist()
    return points + points[:1]


def _rows(table: Mapping[str, object] | None) -> Callable[[int], dict[str, float]]:
    """A function of an id giving its row of a column table, ``{column: value}`` (a new
    dict; empty for an id the table has not; the last row of an id given twice): numeric
    columns, finite values only, a flag's (``touches_border``) a bool, as the CSV's
    ``true``. The table is checked at once; rows are made on demand,
    so that a slide's million objects are not a million dicts at a time."""
    if table is None:
        return lambda index: {}
    if "id" not in table:
        raise UnetlabError(
            f"measurements need an 'id' column to match rows to objects; got {sorted(table)}"
        )
    ids = np.asarray(table["id"])
    columns = {}
    for name, column in table.items():
        column = np.asarray(column)
        if name in ("id", "class") or column.ndim != 1 or column.dtype.kind not in "biuf":
            continue
        if len(column) != len(ids):
            raise UnetlabError(
                f"measurements column {name!r} has {len(column)} values for {len(ids)} ids: "
                "pass a table whose columns are of equal length"
            )
        columns[name] = column if column.dtype == bool else column.astype(np.float64)
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]

    def row(index: int) -> dict[str, float | bool]:
        at = int(np.searchsorted(ordered, index, "right")) - 1
        if at < 0 or ordered[at] != index:
            return {}
        i = order[at]
        values = ((name, column[i].item()) for name, column in columns.items())
        return {name: value for name, value in values if math.isfinite(value)}

    return row


def _classes(table: Mapping[str, object] | None) -> Callable[[int], dict]:
    """A function of an id giving ``{"class": k, "class_name": name}`` from a table's
    ``class`` (and ``class_name``) columns ({} for an id the table has not, or a table
    without ``class``)."""
    if table is None or "class" not in table or "id" not in table:
        return lambda index: {}
    ids = np.asarray(table["id"]).tolist()
    kinds = np.asarray(table["class"]).tolist()
    names = np.asarray(table["class_name"]).tolist() if "class_name" in table else None
    found = {
        int(i): {"class": int(k), **({} if names is None else {"class_name": str(names[n])})}
        for n, (i, k) in enumerate(zip(ids, kinds, strict=True))
    }
    return lambda index: dict(found.get(int(index), {}))


def _pixel_area(pixel_size: float | tuple[float, float] | None) -> float | None:
    pair = pixel_pair(pixel_size)  # the line measure_objects says of a bad one
    return None if pair is None else pair[0] * pair[1]


#: colours QuPath shows a class in (the first ten of matplotlib's tab10), chosen by name
_PALETTE = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)


def _colour(
    name: str, index: int | None = None, colours: Mapping[str, Sequence[int]] | None = None
) -> list[int]:
    """The colour of a class: its own in ``colours`` (by name: :func:`outline_colours`, the
    model's overlay's), else that of its index ``index`` in the VOC palette
    (:func:`unetlab.plots.palette`, so the classes of one model never share one: the hash
    of the names gave tumour and lymphocyte the same, audit s35 multiclass 5), else chosen
    by the name (one class of an instance model)."""
    if colours is not None and name in colours:
        return [int(v) for v in colours[name]]
    if index is not None and index > 0:
        return [int(v) for v in palette(index + 1)[index]]
    return list(_PALETTE[zlib.crc32(name.encode("utf-8")) % len(_PALETTE)])


def write_geojson(
    path: str | os.PathLike,
    labels: np.ndarray | Mapping[int, Polygons],
    *,
    pixel_size: float | tuple[float, float] | None = None,
    class_names: str | Mapping[int, str] | None = None,
    measurements: Mapping[str, object] | None = None,
    colours: Mapping[str, Sequence[int]] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write :func:`geojson_features` to ``path`` (``.geojson``), atomically: a temporary
    beside ``path`` renamed over it once complete (strict JSON, one line). Returns ``path``.
    The file is claimed first (:func:`claim_outline`: never an image, a file unetlab did
    not write only with ``overwrite``)."""
    how = dict(pixel_size=pixel_size, class_names=class_names, colours=colours)
    path = claim_outline(path, "GeoJSON", overwrite)
    return write_planes(path, [(labels, measurements, None)], **how)


def claim_outline(path: str | os.PathLike, fmt: str, overwrite: bool) -> Path:
    """``path`` claimed for a public writer of outlines (:func:`unetlab.outputs.claim_files`,
    as ``outlines``, format ``fmt``): OutputError (one line) for a training run's file, one
    whose suffix names another format (an image), or an existing file unetlab did not
    write unless ``overwrite`` (audit s48 apiwalk: write_geojson replaced an image). The
    outlines ``predict`` writes into the folder it holds are not claimed again."""
    path = Path(path)
    claim_files(
        [path],
        overwrite=overwrite,
        command="outlines",
        formats={path: fmt},
    )
    return path


def write_planes(
    path: str | os.PathLike,
    planes: Iterable[tuple[object, Mapping[str, object] | None, Mapping[str, int] | None]],
    *,
    pixel_size: float | tuple[float, float] | None = None,
    class_names: str | Mapping[int, str] | None = None,
    scale: tuple[float, float] | None = None,
    grid: MapGrid | None = None,
    colours: Mapping[str, Sequence[int]] | None = None,
) -> Path:
    """Write the objects of ``planes`` as one GeoJSON FeatureCollection to ``path``, the
    features of :func:`geojson_features` in order, atomically (strict JSON, one line).
    ``scale``: (y, x) factors the coordinates are multiplied by (a pyramid level's
    downsample, so that QuPath, which places shapes in full-resolution pixels, puts the
    objects of a level where they lie on the slide); ``pixel_size`` is the objects' own
    (their areas in µm² do not change). ``planes`` yields ``(objects, measurements, plane)``: ``objects`` a label image,
    :func:`object_polygons`' result or an iterable of ``(id, polygons)`` pairs in id order;
    ``measurements`` and ``plane`` (None for a 2-D image) as :func:`geojson_features` takes
    them. Each feature is written as it is made, so that neither the features nor the text
    are held whole (a streamed slide's outlines may be traced as they are written).
    ``grid`` (:func:`unetlab.data.world_file.input_grid`: the input's GeoTIFF tags' or
    world file's; a pyramid level's: :meth:`~unetlab.data.geotiff.MapGrid.level`): the
    coordinates are the map's (QGIS places them; the collection names the CRS where the
    GeoKeys give its EPSG code), not pixels. ``colours``: as :func:`geojson_features`.
    Returns ``path``."""
    how = dict(pixel_size=pixel_size, class_names=class_names, scale=scale, grid=grid)
    how["colours"] = colours
    features = (
        feature
        for objects, measurements, plane in planes
        for feature in _features(_pairs(objects), measurements, plane=plane, **how)
    )
    return _write_features(path, features, None if grid is None else grid.crs_member())


def _pairs(objects) -> Iterable[tuple[int, Polygons]]:
    if isinstance(objects, np.ndarray):
        return object_polygons(objects).items()
    return objects.items() if isinstance(objects, Mapping) else objects


def write_collection(path: str | os.PathLike, collections: Sequence[dict]) -> Path:
    """Write the features of ``collections`` (:func:`geojson_features` results: a stack's
    planes, each with its ``plane``) as one GeoJSON FeatureCollection to ``path``,
    atomically (strict JSON, one line). Returns ``path``."""
    return _write_features(path, (f for c in collections for f in c["features"]))


#: strict JSON on one line, as ``json.dumps(..., allow_nan=False, separators=(",", ":"))``
_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _write_features(
    path: str | os.PathLike, features: Iterable[dict], crs: dict | None = None
) -> Path:
    """A FeatureCollection of ``features`` (and its ``crs`` member where given), each
    encoded and written as it comes: the same text as the collection encoded whole."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection",')
        out.write("" if crs is None else f'"crs":{_JSON.encode(crs)},')
        out.write('"features":[')
        for i, feature in enumerate(features):
            out.write("," + _JSON.encode(feature) if i else _JSON.encode(feature))
        out.write("]}\n")
    return path


def write_outlines(
    ids: Sequence[np.ndarray],
    tables: Sequence[Mapping[str, object]],
    *,
    geojson: str | os.PathLike | None = None,
    rois: str | os.PathLike | None = None,
    pixel_size: float | tuple[float, float] | None = None,
    class_name: str | None = None,
    axes: PageAxes | None = None,
    grid: MapGrid | None = None,
    channels: int = 1,
    colours: Mapping[str, Sequence[int]] | None = None,
    source: str | os.PathLike | None = None,
) -> list[Path]:
    """The outlines of a label image's planes (``ids``: one 2-D id image a plane), each
    traced once (:func:`object_polygons`), written to ``geojson`` (:func:`write_planes`,
    measured by ``tables``, each plane's rows; objects of ``class_name``) and ``rois``
    (:func:`write_imagej_rois`), those given. A stack's objects lie on their planes: the
    pages of ``axes`` (:class:`~unetlab.data.tiffmeta.PageAxes`; None: the pages are z).
    ``grid``: where the input's pixels lie on the map (its GeoTIFF tags or world file:
    :func:`unetlab.data.world_file.input_grid`): the GeoJSON is in map coordinates (the
    ImageJ ROIs stay in pixels). A table's ``class`` and ``class_name`` (a semantic
    model's objects) give each object its class. ``channels``: the input's (its ROIs
    carry hyperstack positions where it has several). ``colours``: each class's, by name
    (:func:`outline_colours`: the model's overlay's), for both. ``source``: the input read
    whole they are predicted from, which the line of objects ROIs cannot reach names
    (:func:`_reached`).
    Returns the paths written."""
    if geojson is None and rois is None:
        return []
    polygons = [object_polygons(i) for i in ids]
    stack, written = len(ids) > 1, []
    if geojson is not None:
        where = [_plane(axes, p) if stack else None for p in range(len(ids))]
        planes = zip(polygons, tables, where, strict=True)
        how = dict(pixel_size=pixel_size, class_names=class_name, grid=grid, colours=colours)
        written.append(write_planes(geojson, planes, **how))
    if rois is not None:
        at = imagej_positions(axes, len(ids), channels) if stack else None
        shapes, beside = [i.shape for i in ids], None if geojson is None else Path(geojson)
        reached = _reached(polygons, shapes, Path(source or rois), Path(rois), beside)
        planes = reached if stack else reached[0]
        written.append(_write_rois(rois, planes, positions=at, tables=tables, colours=colours))
    return written


def _reached(
    polygons: list, shapes: list, source: Path, rois: Path, geojson: Path | None = None
) -> list:
    """Each plane's objects of ``polygons`` that ImageJ ROIs reach (:func:`rois_fit`): a plane
    past :data:`ROI_SIDE` (``shapes``; a one-level TIFF read whole for its ROIs:
    :func:`~unetlab.inference.stream_rule.is_streamed`) has those past it left out of the
    zip ``rois``, said in one line naming ``source`` and GeoJSON, which holds them all: the
    file ``geojson`` where it is written beside the zip (s65 review: ``both`` was told to ask
    for it), else how to ask for it (s65: one failed the whole image, every tile predicted)."""
    reached, total = [], sum(len(objects) for objects in polygons)
    for objects, shape in zip(polygons, shapes, strict=True):
        if not rois_fit(*shape):
            objects = {i: p for i, p in objects.items() if rois_fit(*_far_corner(p))}
        reached.append(objects)
    past = total - sum(len(objects) for objects in reached)
    if past:
        log.warning(
            "%s: %s of its %s %s past %s px, which ImageJ ROIs cannot reach: not in %s (%s "
            "holds them all)",
            shown_path(source),
            f"{past:,}",
            numbered(total, "object"),
            "lies" if past == 1 else "lie",
            f"{ROI_SIDE:,}",
            rois.name,
            geojson.name if geojson else said_as(GEOJSON_OUTLINES),
        )
    return reached


def _far_corner(polygons: Polygons) -> tuple[int, int]:
    """The (bottom, right) corner of an object's outline (:func:`rois_fit`'s (h, w))."""
    right, bottom = np.max([ring.max(axis=0) for polygon in polygons for ring in polygon], axis=0)
    return int(bottom), int(right)


def _plane(axes: PageAxes | None, page: int) -> dict[str, int]:
    """QuPath's plane of ``page`` (``z``, ``t``; a stack of no known axes: its pages as z)."""
    index = axes.index(page) if axes is not None else None
    return {"z": index.get("z", 0), "t": index.get("t", 0)} if index else {"z": page}


def imagej_positions(axes: PageAxes | None, pages: int, channels: int) -> list:
    """Each page's ImageJ position: its slice (:func:`_imagej_slice`) in a plain stack (one
    page axis of one channel); in a hyperstack (T and Z, or several input ``channels``) its
    ``(c, z, t)`` (:func:`_hyperstack_position`), which ImageJ's ROI Manager and overlays
    put on that frame and plane over the labels and over the input alike (a slice number
    lands on the wrong frame, plane or channel there: audit s34 stacks 4)."""
    letters = axes.axes if axes is not None else ""
    if len(letters) < 2 and channels < 2:
        return [_imagej_slice(axes, p) for p in range(pages)]
    return [_hyperstack_position(axes, p) for p in range(pages)]


def _hyperstack_position(axes: PageAxes | None, page: int) -> tuple[int, int, int]:
    """ImageJ's (c, z, t) of ``page``, 1-based; 0 where the image has no such axis (c 0:
    every channel; pages of no known axes are planes, as written)."""
    index = axes.index(page) if axes is not None else {}
    if not index:
        return (0, page + 1, 0)
    return (0, index.get("z", -1) + 1, index.get("t", -1) + 1)


def _imagej_slice(axes: PageAxes | None, page: int) -> int:
    """The 1-based slice of ``page`` in the ImageJ TIFF its outputs are written as (T, then
    Z, of one channel)."""
    index = axes.index(page) if axes is not None else None
    if not index:
        return page + 1
    depth = axes.shape[axes.letters.index("Z")] if "Z" in axes.letters else 1
    return index.get("t", 0) * depth + index.get("z", 0) + 1


# ImageJ's .roi format (ij/io/RoiEncoder.java, RoiDecoder.java): a 64-byte big-endian header,
# the coordinates, a 64-byte second header and the name in UTF-16.
_VERSION = 228
_TRACED, _RECT = 8, 1  # ROI types; a composite ROI is of type rect with a shape size
_SEG_MOVETO, _SEG_LINETO, _SEG_CLOSE = 0, 1, 4  # java.awt.geom.PathIterator's codes
#: "Iout", version, type, top, left, bottom, right, corners, shape size, stroke colour,
#: position, header2 at
_HEADER = struct.Struct(">4shBx4hH16x2xiI12x2i")  # the I: the stroke colour, ARGB (0: none)
#: C, Z, T position; the name's offset and length (characters)
_HEADER2 = struct.Struct(">4x3i2i40x")


def roi_bytes(
    polygons: Polygons,
    *,
    name: str,
    position: int | Sequence[int] = 0,
    colour: Sequence[int] | None = None,
) -> bytes:
    """One object as an ImageJ ROI file's bytes.

    One ring (an object of one piece without holes) becomes a traced polygon ROI, the kind
    Fiji's Analyze Particles makes, so Measure gives Fiji's own area and perimeter; more
    rings become a composite ROI (ImageJ's ShapeRoi, filled even-odd: holes stay holes), and
    so does one ring of more than :data:`ROI_CORNERS` corners, exact, as ImageJ's own
    RoiEncoder saves such a polygon (a whole-read image's ROI zip failed on it, s66).
    Coordinates are pixel corners; the bounds (top, left, bottom, right) are the object's
    bounding box with bottom and right exclusive. ``position``: the stack slice (1-based,
    ImageJ's order) the ROI belongs to; 0: every slice (a 2-D image); a hyperstack's
    ``(c, z, t)`` (1-based, 0: every one of that axis) goes to the second header's C, Z and
    T positions (version 228) and the slice is 0 (ImageJ's reader takes C, Z, T over it).
    ``colour``: (r, g, b) the ROI is drawn in (None: ImageJ's default).
    """
    rings = [ring for polygon in polygons for ring in polygon]
    points = np.concatenate(rings)
    left, top = points.min(axis=0).tolist()
    right, bottom = points.max(axis=0).tolist()
    if not rois_fit(bottom, right):
        past = f"it reaches {max(bottom, right):,} px, past the {ROI_SIDE:,} one reaches"
        raise FormatLimitError(f"object {name} does not fit an ImageJ ROI ({past})")
    if len(rings) == 1 and len(points) <= ROI_CORNERS:
        kind, count, shape = _TRACED, len(points), 0
        relative = points - (left, top)
        body = relative[:, 0].astype(">i2").tobytes() + relative[:, 1].astype(">i2").tobytes()
    else:
        path = _shape_array(rings)
        kind, count, shape = _RECT, 0, len(path)
        body = path.astype(">f4").tobytes()
    header2_at = 64 + len(body)
    flat, czt = (
        (position, (0, 0, 0)) if isinstance(position, (int, np.integer)) else (0, tuple(position))
    )
    argb = 0 if colour is None else 0xFF000000 | int.from_bytes(bytes(map(int, colour)), "big")
    header = _HEADER.pack(
        b"Iout", _VERSION, kind, top, left, bottom, right, count, shape, argb, flat, header2_at
    )
    header2 = _HEADER2.pack(*czt, header2_at + 64, len(name))
    return header + body + header2 + name.encode("utf-16-be")


def _shape_array(rings: list[np.ndarray]) -> np.ndarray:
    """ImageJ's ShapeRoi path: per ring moveTo x y, lineTo x y ..., close."""
    parts = []
    for ring in rings:
        codes = np.full((len(ring), 1), _SEG_LINETO, dtype=np.float64)
        codes[0] = _SEG_MOVETO
        parts += [np.hstack([codes, ring]).ravel(), [_SEG_CLOSE]]
    return np.concatenate(parts)


def write_imagej_rois(
    path: str | os.PathLike,
    labels: np.ndarray | Mapping[int, Polygons] | Sequence,
    *,
    positions: Sequence[int | tuple[int, int, int]] | None = None,
    tables: Sequence[Mapping[str, object] | None] | None = None,
    colours: Mapping[str, Sequence[int]] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write each object as an ImageJ ROI (:func:`roi_bytes`) into the zip ``path``,
    atomically; the entries are named by id, zero-padded to sort (``0001.roi``), and the
    ROI Manager shows them by that name. Returns ``path``. The file is claimed first
    (:func:`claim_outline`: never an image, a file unetlab did not write only with
    ``overwrite``).

    ``labels``: one plane (a 2-D label image or :func:`object_polygons`' result), or a
    stack's planes (a list of them, or a 3-D label image): then plane ``p``'s objects are
    named ``p<p>-<id>`` (``p0-0012``: ``p`` 0-based, as the ``page`` column of
    ``<stem>_objects.csv``) and tied to stack slice ``positions[p]`` (1-based, ImageJ's
    order; default ``p + 1``) or, a hyperstack's, to its ``(c, z, t)``
    (:func:`roi_bytes`). ``tables``: each plane's objects table; where its ``class`` /
    ``class_name`` columns give an object's class (a semantic model's objects), its name
    leads the ROI's (``apoptotic-0007``) and the ROI is drawn in the class's colour (its
    own in ``colours``, by name: the model's overlay's, :func:`outline_colours`; else
    :func:`_colour`'s)."""
    path = claim_outline(path, "ImageJ ROIs", overwrite)
    return _write_rois(path, labels, positions=positions, tables=tables, colours=colours)


def _write_rois(path, labels, *, positions=None, tables=None, colours=None) -> Path:
    """:func:`write_imagej_rois` without its claim (predict's, in the folder it holds)."""
    stack = isinstance(labels, (list, tuple)) or (
        isinstance(labels, np.ndarray) and labels.ndim == 3
    )
    planes = [_objects(plane) for plane in labels] if stack else [_objects(labels)]
    slices = list(positions) if positions is not None else list(range(1, len(planes) + 1))
    if stack and len(slices) != len(planes):
        raise UnetlabError(f"{len(slices)} positions for {len(planes)} planes: give one a plane")
    digits = max(4, len(str(max((max(p, default=0) for p in planes), default=0))))
    laid = (
        (objects.items(), tables[page] if tables else None, slices[page] if stack else None)
        for page, objects in enumerate(planes)
    )
    return write_roi_planes(path, laid, digits=digits, colours=colours)


def write_roi_planes(
    path: str | os.PathLike,
    planes: Iterable[tuple[Iterable, Mapping[str, object] | None, object]],
    *,
    digits: int = 4,
    colours: Mapping[str, Sequence[int]] | None = None,
) -> Path:
    """Write the objects of ``planes`` as ImageJ ROIs into the zip ``path``, atomically, each
    written as it comes (a streamed slide's, traced as they are written: none held whole).
    ``planes`` yields ``(objects, table, position)``: ``objects`` ``(id, polygons)`` pairs in
    id order, ``table`` the plane's objects table or None (:func:`write_imagej_rois`'
    ``tables``), ``position`` None for a 2-D image, else the plane's stack slice or
    hyperstack ``(c, z, t)``, its objects named ``p<plane>-<id>``; ids zero-padded to
    ``digits``. Returns ``path``."""
    with roi_zip(path, digits=digits, colours=colours) as put:
        for page, (objects, table, slice_) in enumerate(planes):
            collections.deque(put(objects, table, slice_, page), maxlen=0)
    return Path(path)


#: what gives outlines that ImageJ ROIs cannot hold, as the caller asks for it
GEOJSON_OUTLINES = Spelled("outlines='geojson'", "--outlines geojson")


@contextlib.contextmanager
def roi_zip(
    path: str | os.PathLike,
    *,
    digits: int = 4,
    colours: Mapping[str, Sequence[int]] | None = None,
) -> Iterator[Callable[..., Iterator[tuple[int, Polygons]]]]:
    """The zip ``path`` of ImageJ ROIs open for ``put(objects, table, position, page)``,
    which passes on each of a plane's ``(id, polygons)`` once it is written as a ROI (as
    :func:`write_roi_planes` writes them: another writer may pull them, each traced once);
    put in place atomically when the block ends without an error; an object no ROI holds
    is refused (:func:`_roi_of`)."""
    with atomic_path(Path(path)) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(objects, table, slice_, page: int) -> Iterator[tuple[int, Polygons]]:
            kind = _classes(table)
            for index, polygons in objects:
                name, colour = _roi_name(index, digits, kind(index), colours)
                name, position = (name, 0) if slice_ is None else (f"p{page}-{name}", slice_)
                how = dict(name=name, position=position, colour=colour)
                data = _roi_of(path, polygons, **how)
                # a fixed entry time: the same objects give the same bytes at any time
                entry = zipfile.ZipInfo(f"{name}.roi", date_time=(1980, 1, 1, 0, 0, 0))
                archive.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
                yield index, polygons

        yield put


def _roi_of(path, polygons: Polygons, **how) -> bytes:
    """:func:`roi_bytes` of an object of the zip ``path``; one no ROI holds (past
    :data:`ROI_SIDE`) is refused naming the zip and ``write_geojson``. Predict never meets
    one: it leaves such objects out (:func:`_reached`) and refuses a slide level past it
    first (its refusal naming the input and whether its prediction was kept is gone, s67)."""
    try:
        return roi_bytes(polygons, **how)
    except FormatLimitError as exc:
        raise FormatLimitError(f"{Path(path).name}: {exc}: write_geojson holds it") from None


def _roi_name(index: int, digits: int, own: dict, colours=None) -> tuple[str, list[int] | None]:
    """An object's ROI name (its id, zero-padded, after its class's name where it has a
    class: ``apoptotic-0007``) and colour (its class's; None without a class)."""
    name = f"{index:0{digits}d}"
    label = own.get("class_name", own.get("class"))
    if label is None:
        return name, None
    safe = re.sub(r"[^\w.+-]+", "_", str(label)) or "class"
    return f"{safe}-{name}", _colour(str(label), own.get("class"), colours)
