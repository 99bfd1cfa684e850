"""Where an input image lies on the map: its GeoTIFF tags, or the world file beside it.

A PNG or JPEG exported from QGIS, ArcGIS or GDAL carries no tags; an ESRI world file beside
it places it (``field.png``: ``field.pgw``, ``field.pngw`` or ``field.wld``; ``.jgw`` for a
JPEG; ``.tfw`` for a TIFF without GeoTIFF tags, as GDAL exports with ``TFW=YES``): six
lines, the pixel's x size, two rotations, its y size and the map point of the top-left
pixel's centre. A world file names no CRS and no unit. GDAL's ``field.png.aux.xml``
(its ``SRS``) or a ``field.prj`` beside it may: their WKT is read for the CRS's EPSG code
(the GeoJSON's ``crs``) and its linear unit (metres per unit, so that the objects table is
in metres where the unit is known: :func:`grid_pixel_size`). Without either, the outputs
are placed on the map all the same (world files, outlines in map coordinates) and the
tables stay in pixels.

:func:`input_grid` is the :class:`~unetlab.data.geotiff.MapGrid` of any input: a GeoTIFF's
tags first (:func:`~unetlab.data.geotiff.map_grid`), else its world file
(:func:`read_world_file`, ``how`` "world file").
"""

from __future__ import annotations

import logging
import os
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

from unetlab.data.geotiff import METRE_CRS, MapGrid, map_grid, read_geotags, say_once
from unetlab.data.read_notes import say_once_a_call
from unetlab.words import twelve_digits

log = logging.getLogger(__name__)

#: the world files GDAL looks for beside an image of each suffix, in its order
SIDECARS = {
    ".png": (".pgw", ".pngw", ".wld"),
    ".jpg": (".jgw", ".jpgw", ".wld"),
    ".jpeg": (".jgw", ".jpegw", ".wld"),
    ".tif": (".tfw", ".tifw", ".wld"),
    ".tiff": (".tfw", ".tiffw", ".wld"),
}

#: WKT keywords of a projected and of a geographic CRS (WKT1, ESRI and WKT2)
PROJECTED = {"PROJCS", "PROJCRS", "PROJECTEDCRS"}
GEOGRAPHIC = {"GEOGCS", "GEOGCRS", "GEOGRAPHICCRS", "GEODCRS", "GEODETICCRS"}


def input_grid(path: str | os.PathLike) -> MapGrid | None:
    """Where the pixels of the input at ``path`` lie: its GeoTIFF tags' grid, else its world
    file's (:func:`read_world_file`); None where neither places them. A GeoTIFF whose
    GeoKeys name no EPSG code (a user-defined CRS, ProjectedCSTypeGeoKey 32767) takes the
    code and metres per unit of the CRS that GDAL's ``<input>.aux.xml`` or a ``.prj``
    beside it names (:func:`sidecar_crs`; GDAL reads the .aux.xml's first), where it does."""
    grid = map_grid(read_geotags(path)) if Path(path).is_file() else None
    if grid is None:
        return read_world_file(path)
    if grid.epsg is None and (wkt := sidecar_wkt(path)) is not None:
        epsg, metres = wkt_crs(wkt)
        if epsg is not None or metres is not None:
            return replace(grid, epsg=epsg, metres=metres)
    return grid


def placement(path: str | os.PathLike, downsample=(1.0, 1.0)) -> dict | None:
    """Where an OME-Zarr output's full-resolution array (``"0"``) lies on the map, for its
    group's ``unetlab_geo`` attributes: the input at ``path`` (:func:`input_grid`), at the
    level of pixels ``downsample`` ((y, x)) times its own. ``transform``: ``[a, b, c, d,
    e, f]`` of a pixel corner (column x, row y; pixel (0, 0) spans (0, 0) to (1, 1)) to
    the map point ``X = a x + b y + c``, ``Y = d x + e y + f``; ``gdal_geotransform``: the
    same as GDAL orders it (``[c, a, b, f, d, e]``); ``crs``: ``EPSG:<code>`` or None;
    ``crs_wkt``: the WKT beside the input (``.aux.xml``, ``.prj``), else a code's ESRI WKT
    where unetlab spells it (:func:`~unetlab.data.esri_wkt.esri_wkt`), else None. None for
    an input not placed on a map."""
    from unetlab.data.esri_wkt import esri_wkt

    grid = input_grid(path)
    if grid is None:
        return None
    a, b, c, d, e, f = (float(v) for v in grid.level(downsample).affine)
    wkt = sidecar_wkt(path)
    if wkt is None or epsg_text(wkt) is not None:  # no WKT beside it, or only a code
        wkt = esri_wkt(grid.epsg)
    return {
        "transform": [a, b, c, d, e, f],
        "gdal_geotransform": [c, a, b, f, d, e],
        "crs": None if grid.epsg is None else f"EPSG:{grid.epsg}",
        "crs_wkt": wkt,
        "placed_by": grid.how,
    }


def world_file_of(image: str | os.PathLike) -> Path | None:
    """The world file beside the PNG, JPEG or TIFF ``image`` (:data:`SIDECARS`, the suffix
    in either case); None where there is none."""
    image = Path(image)
    for suffix in SIDECARS.get(image.suffix.lower(), ()):
        for candidate in (image.with_suffix(suffix), image.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None


def read_world_file(image: str | os.PathLike) -> MapGrid | None:
    """The :class:`~unetlab.data.geotiff.MapGrid` of the world file beside ``image``
    (:func:`world_file_of`; ``how`` "world file"), with the EPSG code and metres per unit
    of the CRS its ``.aux.xml`` or ``.prj`` names (:func:`sidecar_crs`); None without a
    world file, and for one that holds no six numbers (a warning naming it, once a process)."""
    path = world_file_of(image)
    if path is None:
        return None
    try:
        values = [float(v) for v in path.read_text(encoding="utf-8", errors="replace").split()]
    except ValueError:
        values = []
    if len(values) != 6 or values[0] * values[3] - values[1] * values[2] == 0:
        _warn_once(path, image)
        return None
    a, d, b, e, x, y = values  # x, y: the centre of pixel (0, 0), corner (0.5, 0.5)
    affine = (a, b, x - a / 2 - b / 2, d, e, y - d / 2 - e / 2)
    epsg, metres = sidecar_crs(image)
    return MapGrid(affine, epsg, metres, "world file")


#: the malformed world files warned of in this process outside a command or call, as (path,
#: mtime, size): the world file of an input is read for its table, its pixel size and its
#: outputs' world files
_WARNED: set[tuple] = set()


def _warn_once(path: Path, image: str | os.PathLike) -> None:
    """Warn that ``path`` is no world file, once a command or public call for this version
    of it (:func:`~unetlab.data.read_notes.say_once_a_call`; outside one, once a process)."""
    stat = path.stat()
    key = ("world file", str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    say_once_a_call(
        log,
        logging.WARNING,
        key,
        "%s: not a world file (six numbers: x size, two rotations, y size, the top-left "
        "pixel's centre), so %s is not placed on the map; correct or remove it",
        path.name,
        Path(image).name,
        outside=_WARNED,
    )


def sidecar_crs(image: str | os.PathLike) -> tuple[int | None, float | None]:
    """(EPSG code, metres per unit) of the CRS that GDAL's ``<image>.aux.xml`` (``SRS``)
    or a ``.prj`` beside ``image`` names in WKT (:func:`sidecar_wkt`, :func:`wkt_crs`);
    (None, None) where neither is there or says."""
    wkt = sidecar_wkt(image)
    return (None, None) if wkt is None else wkt_crs(wkt)


def sidecar_wkt(image: str | os.PathLike) -> str | None:
    """The WKT of the CRS beside ``image``: GDAL's ``<image>.aux.xml``'s ``SRS``, else a
    ``.prj`` (:func:`sidecar_prj`) as it is; None where neither is there."""
    image = Path(image)
    aux = image.with_name(image.name + ".aux.xml")
    if aux.is_file():
        try:
            srs = ElementTree.parse(aux).getroot().find(".//SRS")
        except ElementTree.ParseError:
            srs = None
        if srs is not None and srs.text:
            return srs.text
    return sidecar_prj(image)


def sidecar_prj(image: str | os.PathLike) -> str | None:
    """The text of the ``.prj`` beside ``image`` (``field.prj`` or ``field.png.prj``) as it
    is; None where there is none."""
    image = Path(image)
    for prj in (image.with_suffix(".prj"), image.with_name(image.name + ".prj")):
        if prj.is_file():
            return prj.read_text(encoding="utf-8", errors="replace")
    return None


def epsg_text(srs: str) -> int | None:
    """The code of ``srs`` where it is ``EPSG:<code>`` alone (no WKT: as unetlab writes a
    GeoTIFF's CRS into an output's ``.aux.xml``); None for WKT."""
    code = _EPSG.fullmatch(srs.strip())
    return None if code is None else int(code.group(1))


def wkt_crs(wkt: str) -> tuple[int | None, float | None]:
    """(EPSG code, metres per unit) of a CRS in WKT (1, ESRI's or 2): the code of its own
    ``AUTHORITY`` / ``ID`` (not its base CRS's); metres per unit of a projected CRS's own
    ``UNIT`` / ``LENGTHUNIT`` (its axes'; not a parameter's), None for a geographic CRS
    (degrees), and (None, None) for text that is no CRS (said once). ``EPSG:<code>`` (as
    unetlab writes a GeoTIFF's CRS into an output's ``.aux.xml``) names the code, in metres
    for the UTM-like codes :data:`~unetlab.data.geotiff.METRE_CRS` lists."""
    epsg = epsg_text(wkt)
    if epsg is not None:
        return epsg, 1.0 if any(epsg in r for r in METRE_CRS) else None
    tree = _wkt_tree(wkt)
    if tree is None or tree[0].upper() not in PROJECTED | GEOGRAPHIC:
        say_once(
            "wkt",
            "a .prj or .aux.xml beside an input holds no CRS unetlab reads (WKT PROJCS / "
            "GEOGCS): its outlines name no CRS and its tables stay in pixels (said once)",
            logger=log,
        )
        return None, None
    keyword, items = tree
    epsg = None
    for child in _children(items, "AUTHORITY", "ID"):
        if len(child) >= 2 and str(child[0]).upper() == "EPSG" and str(child[1]).isdigit():
            epsg = int(child[1])
    if keyword.upper() in GEOGRAPHIC:
        return epsg, None
    units = list(_children(items, "UNIT", "LENGTHUNIT"))
    for axis in _children(items, "AXIS"):
        units += list(_children(axis, "LENGTHUNIT", "UNIT"))
    factors = [_number(u[1]) for u in units if len(u) >= 2]
    metres = factors[0] if factors and factors[0] is not None and factors[0] > 0 else None
    return epsg, metres


def grid_pixel_size(grid: MapGrid | None) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel of a world file's north-up ``grid`` whose CRS's unit is
    known (:func:`sidecar_crs`), or a GeoTIFF's tie point and scale in a CRS whose unit
    only the file beside it names (:func:`input_grid`), as unetlab carries pixel sizes;
    None otherwise (a world file alone names no unit: its tables stay in pixels)."""
    if grid is None or grid.how not in ("world file", "tiepoint") or grid.metres is None:
        return None
    if not grid.north_up or (grid.how == "tiepoint" and not grid.affine[0] > 0 > grid.affine[4]):
        return None  # a tie point's scale is positive (a negative one: no pixel size said)
    a, _, _, _, e, _ = grid.affine
    return tuple(twelve_digits(abs(v) * grid.metres * 1e6) for v in (e, a))


_EPSG = re.compile(r"EPSG:(\d+)", re.IGNORECASE)
_TOKEN = re.compile(
    r'\s*(?:"((?:[^"]|"")*)"|([A-Za-z_][A-Za-z0-9_]*)\s*[\[(]|([\])])|([^,\[\]()"]+)|(,))'
)


def _wkt_tree(text: str):
    """WKT as nested ``(keyword, items)`` (items: strings and nodes); None where it is no
    WKT."""
    stack: list[tuple[str, list]] = [("", [])]
    text, at = text.strip(), 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            return None
        at = match.end()
        quoted, opened, closed, bare, _ = match.groups()
        if quoted is not None:
            stack[-1][1].append(quoted.replace('""', '"'))
        elif opened is not None:
            stack.append((opened, []))
        elif closed is not None:
            if len(stack) < 2:
                return None
            node = stack.pop()
            stack[-1][1].append(node)
        elif bare is not None and bare.strip():
            stack[-1][1].append(bare.strip())
    roots = [n for n in stack[0][1] if isinstance(n, tuple)]
    return roots[0] if len(stack) == 1 and len(roots) == 1 else None


def _children(items: list, *keywords: str):
    """The items of the direct children of ``items`` named one of ``keywords``."""
    for item in items:
        if isinstance(item, tuple) and item[0].upper() in keywords:
            yield item[1]


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
