"""GeoTIFF: the tags that put an image on the map, and the pixel size they state.

A drone orthomosaic or satellite scene exported by GDAL or QGIS carries its georeference
in six TIFF tags (GeoTIFF 1.1, OGC 19-008r4): ModelPixelScale (33550), ModelTiepoint
(33922), ModelTransformation (34264), GeoKeyDirectory (34735), GeoDoubleParams (34736) and
GeoAsciiParams (34737). :func:`read_geotags` reads them as tifffile ``extratags``, to be
written unchanged into the outputs of the same pixel grid, so that QGIS lays the labels
over the orthomosaic. GDAL's own tags are not copied: its metadata (42112) holds the
input's band statistics and descriptions, and its nodata value (42113, "0") would hide
class 0 of the labels and every 0 probability.

:func:`geotiff_pixel_size` reads ModelPixelScale as the pixel size where the GeoKeys say
the model is projected in a linear unit (metres, feet), in micrometres as unetlab carries
pixel sizes (a 0.05 m pixel is 50000 um); :func:`length_unit` says that the tables of such
a map are in metres (``area_m2``). Degrees (a geographic CRS) are no pixel size.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from unetlab.data.read_notes import say_once_a_call
from unetlab.data.tiff_files import HEADERS, given_name, is_tiff_name, open_tiff, real_path
from unetlab.words import twelve_digits

log = logging.getLogger(__name__)

#: the GeoTIFF tags copied into outputs of an input's pixel grid
GEOTIFF_TAGS = (33550, 33922, 34264, 34735, 34736, 34737)

#: GeoKeys read here: GTModelTypeGeoKey (1 projected, 2 geographic, 3 geocentric),
#: ProjectedCSTypeGeoKey (EPSG code) and ProjLinearUnitsGeoKey (EPSG unit code)
MODEL_TYPE, PROJECTED_CRS, LINEAR_UNITS = 1024, 3072, 3076

#: a GeoKey's code for a CRS the file defines itself (no EPSG code)
USER_DEFINED = 32767

#: metres per EPSG linear unit: metre, foot, US survey foot, kilometre
METRES = {9001: 1.0, 9002: 0.3048, 9003: 1200 / 3937, 9036: 1000.0}

#: EPSG projected CRS whose unit is the metre, for files that name no ProjLinearUnitsGeoKey:
#: WGS 84 / UTM (north, south), ETRS89 / UTM, NAD83 / UTM
METRE_CRS = (range(32601, 32661), range(32701, 32761), range(25828, 25839), range(26901, 26924))

#: what was said outside a command or public call ((logger, key) of :func:`say_once`)
_SAID: set = set()


def geotags(page) -> tuple[tuple, ...]:
    """The GeoTIFF tags of a tifffile page as ``extratags`` entries (code, datatype, count,
    value, True), in tag order; () for a page without them."""
    found = []
    for code in GEOTIFF_TAGS:
        tag = page.tags.get(code)
        if tag is not None:
            found.append((code, int(tag.dtype), int(tag.count), tag.value, True))
    return tuple(found)


def read_geotags(path: str | os.PathLike) -> tuple[tuple, ...]:
    """:func:`geotags` of the first page of the TIFF at ``path``; () for other files. Read
    once within ``HEADERS.kept()`` while the file is unchanged (:data:`HEADERS`)."""
    if not is_tiff_name(path):
        return ()
    return HEADERS.read(("geotags",), real_path(path), lambda: _read_geotags(path))


def _read_geotags(path: str | os.PathLike) -> tuple[tuple, ...]:
    with open_tiff(path) as tif:
        return geotags(tif.pages[0])


def geokeys(page) -> dict[int, int]:
    """The GeoKeys of a page whose values lie in the directory itself (SHORT values:
    model type, CRS and unit codes), by key; {} without a GeoKeyDirectory."""
    tag = page.tags.get(34735)
    return _directory(None if tag is None else tag.value)


def geotiff_pixel_size(tif, page) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel from ``page``'s ModelPixelScale where its GeoKeys name a
    projected CRS in a linear unit (``METRES``; a UTM CRS named by EPSG code alone: metres);
    None for a file without ModelPixelScale, or where the scale is in degrees or a unit not
    known (said once)."""
    scale = page.tags.get(33550)
    if scale is None or len(scale.value) < 2:
        return None
    keys, name = geokeys(page), given_name(tif)
    if keys.get(MODEL_TYPE) == 2:
        say_once(
            "degrees",
            "%s: its GeoTIFF pixel size is in degrees (a geographic CRS), which is no length: "
            "no pixel size used (said once); reproject it to a projected CRS in metres (QGIS: "
            "Raster > Projections > Warp) for areas in m²",
            name,
        )
        return None
    per_unit = _metres(keys)
    x, y = (float(v) for v in scale.value[:2])
    if per_unit is None and keys.get(PROJECTED_CRS) == USER_DEFINED and x > 0 and y > 0:
        say_once(
            "user-defined",
            "%s: its GeoTIFF names a user-defined CRS (ProjectedCSTypeGeoKey 32767) and no "
            "linear unit: its tables are in metres only where the CRS in GDAL's %s.aux.xml "
            "(or a .prj) beside it names the metre (said once)",
            name,
            name,
        )
        return None
    if per_unit is None or x <= 0 or y <= 0:
        say_once(
            "unit",
            "%s: its GeoTIFF names no linear unit unetlab knows (ProjLinearUnitsGeoKey %s): "
            "its ModelPixelScale is not used as a pixel size (said once)",
            name,
            keys.get(LINEAR_UNITS),
        )
        return None
    # 12 digits: 0.05 m is 50000 um, not 50000.00000000001
    size = tuple(twelve_digits(v * per_unit * 1e6) for v in (y, x))
    say_once(
        "size",
        "%s: pixel size %g x %g m from its GeoTIFF ModelPixelScale (said once): its objects "
        "table is in metres (area_m2, centroid_x_m, ...)",
        name,
        size[0] / 1e6,
        size[1] / 1e6,
    )
    return size


def _metres(keys: dict[int, int]) -> float | None:
    """Metres per model unit of a projected CRS; None where the GeoKeys do not say."""
    if LINEAR_UNITS in keys:
        return METRES.get(keys[LINEAR_UNITS])
    crs = keys.get(PROJECTED_CRS)
    return 1.0 if crs is not None and any(crs in r for r in METRE_CRS) else None


def say_once(key: str, message: str, *args, logger: logging.Logger = log) -> None:
    """Log ``message`` (INFO) once for ``key`` of ``logger`` (a GeoTIFF's tags are read for
    each output; :mod:`unetlab.inference.world_files` says its lines here too): once a
    command or public Python call, so that a second call on other files hears it too, and
    once a process outside any; each line speaks for all files like the one read ("said
    once"), so a loop of one-file calls (``predict_file``) hears it once, as outside any
    (:func:`~unetlab.data.read_notes.first_said_of_all`: review D, each call said them)."""
    say_once_a_call(
        logger, logging.INFO, (logger.name, key), message, *args, outside=_SAID, of_all=True
    )


#: GTRasterTypeGeoKey (1 PixelIsArea, 2 PixelIsPoint: raster coordinates name pixel centres),
#: GeographicTypeGeoKey (the EPSG code of a geographic CRS)
RASTER_TYPE, GEOGRAPHIC_CRS = 1025, 2048

#: the world file beside an image of each suffix (ESRI's: QGIS and GDAL read them)
WORLD_SUFFIX = {".png": ".pgw", ".jpg": ".jgw", ".jpeg": ".jgw", ".tif": ".tfw", ".tiff": ".tfw"}


@dataclass(frozen=True)
class MapGrid:
    """Where an image's pixels lie on the map: the affine ``(a, b, c, d, e, f)`` of a point
    ``(x, y)`` in pixel corners (x the column, y the row; pixel (0, 0) spans (0, 0) to
    (1, 1), the outlines' convention) to map coordinates ``X = a x + b y + c``,
    ``Y = d x + e y + f``; ``epsg``: the CRS's EPSG code where the GeoKeys name one;
    ``metres``: metres per map unit of a projected CRS in a known linear unit, else None
    (degrees, or a unit not known); ``how``: "tiepoint" (ModelTiepoint and ModelPixelScale)
    or "transformation" (ModelTransformation)."""

    affine: tuple[float, float, float, float, float, float]
    epsg: int | None = None
    metres: float | None = None
    how: str = "tiepoint"

    def apply(self, xy: np.ndarray) -> np.ndarray:
        """(n, 2) pixel-corner points ``(x, y)`` as (n, 2) float64 map points ``(X, Y)``."""
        a, b, c, d, e, f = self.affine
        xy = np.asarray(xy, dtype=np.float64)
        x, y = xy[:, 0], xy[:, 1]
        return np.stack([a * x + b * y + c, d * x + e * y + f], axis=1)

    @property
    def flips(self) -> bool:
        """True where the map's Y runs against the rows (a north-up image): a ring's turn
        is reversed on the map."""
        a, b, _, d, e, _ = self.affine
        return a * e - b * d < 0

    def scaled(self, step: float) -> MapGrid:
        """The grid of an image sampled every ``step`` pixels (a downsampled overlay)."""
        a, b, c, d, e, f = self.affine
        return replace(self, affine=(a * step, b * step, c, d * step, e * step, f))

    def level(self, downsample=(1.0, 1.0)) -> MapGrid:
        """The grid of a pyramid level whose pixels are ``downsample`` ((y, x)) of this
        grid's (a :class:`~unetlab.data.slides.Slide`'s ``downsample``): a column spans
        ``x`` of these columns, a row ``y`` of these rows, from the same corner, as GDAL
        places an overview (the level's size over the image's extent)."""
        sy, sx = (float(v) for v in downsample)
        a, b, c, d, e, f = self.affine
        return replace(self, affine=(a * sx, b * sy, c, d * sx, e * sy, f))

    @property
    def north_up(self) -> bool:
        """True where the rows run along Y and the columns along X (no rotation)."""
        return self.affine[1] == 0 and self.affine[3] == 0

    def world_file(self) -> str:
        """The six lines of an ESRI world file (.pgw, .jgw): x size, rotations, y size,
        then the map point of the centre of the top-left pixel."""
        a, b, c, d, e, f = self.affine
        lines = (a, d, b, e, a / 2 + b / 2 + c, d / 2 + e / 2 + f)
        return "".join(f"{v:.12g}\n" for v in lines)

    def crs_member(self) -> dict | None:
        """The GeoJSON ``crs`` member (the 2008 form QGIS and GDAL read) naming ``epsg``;
        None without a code, and for WGS 84 (4326: GeoJSON's own, RFC 7946)."""
        if self.epsg is None or self.epsg == 4326:
            return None
        return {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{self.epsg}"}}


def map_grid(tags: tuple[tuple, ...]) -> MapGrid | None:
    """The :class:`MapGrid` of GeoTIFF ``tags`` (:func:`geotags`' entries): from
    ModelTransformation (34264), else the first ModelTiepoint (33922) with ModelPixelScale
    (33550); None where neither places the pixels (no tags, or tie points without a scale:
    ground control points, which are no affine). A PixelIsPoint raster's coordinates name
    pixel centres: its affine is moved half a pixel to corners."""
    values = {entry[0]: entry[3] for entry in tags}
    keys = _directory(values.get(34735))
    if 34264 in values and len(values[34264]) >= 8:
        m = [float(v) for v in values[34264]]
        affine, how = (m[0], m[1], m[3], m[4], m[5], m[7]), "transformation"
    elif 33922 in values and 33550 in values and len(values[33922]) >= 6:
        i, j, _, x, y, _ = (float(v) for v in values[33922][:6])
        sx, sy = (float(v) for v in values[33550][:2])
        affine, how = (sx, 0.0, x - i * sx, 0.0, -sy, y + j * sy), "tiepoint"
    else:
        return None
    if keys.get(RASTER_TYPE) == 2:  # corner (x, y) is raster point (x - 0.5, y - 0.5)
        a, b, c, d, e, f = affine
        affine = (a, b, c - (a + b) / 2, d, e, f - (d + e) / 2)
    geographic = keys.get(MODEL_TYPE) == 2
    epsg = keys.get(GEOGRAPHIC_CRS if geographic else PROJECTED_CRS)
    epsg = epsg if epsg is not None and 1024 <= epsg < USER_DEFINED else None
    metres = None if geographic else _metres(keys)
    return MapGrid(affine, epsg, metres, how)


#: the tags that place the pixels (replaced in a level's: :func:`level_geotags`)
PLACING = (33550, 33922, 34264)


def level_geotags(tags: tuple[tuple, ...], downsample=(1.0, 1.0)) -> tuple[tuple, ...]:
    """GeoTIFF ``tags`` (:func:`geotags`' entries, of level 0) that place a pyramid level
    whose pixels are ``downsample`` ((y, x)) of level 0's, on its grid
    (:meth:`MapGrid.level`, as its world file): a tie point at raster (0, 0) with the
    level's pixel scale, or the level's ModelTransformation; the GeoKeys as they are (a
    PixelIsPoint raster's tie point names the level's first pixel centre). ``tags``
    themselves at level 0; () where they do not place the pixels (:func:`map_grid`)."""
    grid = map_grid(tags)
    if grid is None or tuple(float(v) for v in downsample) == (1.0, 1.0):
        return tuple(tags) if grid is not None else ()
    a, b, c, d, e, f = grid.level(downsample).affine
    values = {entry[0]: entry[3] for entry in tags}
    if _directory(values.get(34735)).get(RASTER_TYPE) == 2:  # raster points: pixel centres
        c, f = c + (a + b) / 2, f + (d + e) / 2
    # 15 digits: 0.05 x 1.5 is 0.075, not 0.07500000000000001
    a, b, c, d, e, f = (float(f"{v:.15g}") for v in (a, b, c, d, e, f))
    if grid.how == "transformation":
        m = [float(v) for v in values[34264]]
        m[0], m[1], m[3], m[4], m[5], m[7] = a, b, c, d, e, f
        placed = [(34264, 12, 16, tuple(m), True)]
    else:
        z = float(values[33550][2]) if len(values[33550]) > 2 else 0.0
        placed = [(33550, 12, 3, (a, -e, z), True)]
        placed.append((33922, 12, 6, (0.0, 0.0, 0.0, c, f, 0.0), True))
    kept = [entry for entry in tags if entry[0] not in PLACING]
    return tuple(sorted(kept + placed, key=lambda entry: entry[0]))


def length_unit(size: tuple[float, float] | None, tags: tuple[tuple, ...]) -> str:
    """ "m" where the pixel ``size`` ((y, x) micrometres, as unetlab reads it) is the
    ModelPixelScale of GeoTIFF ``tags`` in a known linear unit (a drone or satellite map),
    so that its tables give metres and m²; "um" otherwise (a microscope's)."""
    return grid_length_unit(size, map_grid(tags) if size is not None else None)


def grid_length_unit(size: tuple[float, float] | None, grid: MapGrid | None) -> str:
    """:func:`length_unit` of a :class:`MapGrid` (a pyramid level's: :meth:`MapGrid.level`,
    or a world file's with a CRS in metres beside it: :mod:`unetlab.data.world_file`):
    "m" where the pixel ``size`` ((y, x) micrometres) is the grid's north-up pixel in a
    known linear unit; "um" otherwise."""
    if size is None or grid is None or grid.metres is None:
        return "um"
    if grid.how not in ("tiepoint", "world file") or not grid.north_up:
        return "um"
    a, _, _, _, e, _ = grid.affine
    sides = (abs(e) * grid.metres * 1e6, abs(a) * grid.metres * 1e6)
    same = all(math.isclose(s, float(v), rel_tol=1e-6) for s, v in zip(sides, size))
    return "m" if same else "um"


def world_path(image: str | os.PathLike) -> Path | None:
    """The world file beside ``image`` (``labels.png``: ``labels.pgw``); None for a suffix
    that has none."""
    image = Path(image)
    suffix = WORLD_SUFFIX.get(image.suffix.lower())
    return None if suffix is None else image.with_suffix(suffix)


def _directory(values) -> dict[int, int]:
    """The GeoKeys of a GeoKeyDirectory's values whose values lie in the directory."""
    if values is None or len(values) < 4:
        return {}
    values = [int(v) for v in values]
    entries = [values[4 + 4 * i : 8 + 4 * i] for i in range(values[3])]
    return {key: value for key, where, _, value in entries if where == 0}
