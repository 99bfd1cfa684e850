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
the model is projected in a linear unit (metres, feet), in micrometres as unetlab's
tables are: a 0.05 m pixel is 50000 um, and ``area_um2 / 1e12`` is m². Degrees (a
geographic CRS) are no pixel size.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

#: the GeoTIFF tags copied into outputs of an input's pixel grid
GEOTIFF_TAGS = (33550, 33922, 34264, 34735, 34736, 34737)

#: GeoKeys read here: GTModelTypeGeoKey (1 projected, 2 geographic, 3 geocentric),
#: ProjectedCSTypeGeoKey (EPSG code) and ProjLinearUnitsGeoKey (EPSG unit code)
MODEL_TYPE, PROJECTED_CRS, LINEAR_UNITS = 1024, 3072, 3076

#: metres per EPSG linear unit: metre, foot, US survey foot, kilometre
METRES = {9001: 1.0, 9002: 0.3048, 9003: 1200 / 3937, 9036: 1000.0}

#: EPSG projected CRS whose unit is the metre, for files that name no ProjLinearUnitsGeoKey:
#: WGS 84 / UTM (north, south), ETRS89 / UTM, NAD83 / UTM
METRE_CRS = (range(32601, 32661), range(32701, 32761), range(25828, 25839), range(26901, 26924))

#: what was said once a process (keys of :func:`_say_once`)
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
    """:func:`geotags` of the first page of the TIFF at ``path``; () for other files."""
    if not str(path).lower().endswith((".tif", ".tiff")):
        return ()
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return geotags(tif.pages[0])


def geokeys(page) -> dict[int, int]:
    """The GeoKeys of a page whose values lie in the directory itself (SHORT values:
    model type, CRS and unit codes), by key; {} without a GeoKeyDirectory."""
    tag = page.tags.get(34735)
    if tag is None or len(tag.value) < 4:
        return {}
    values = [int(v) for v in tag.value]
    count = values[3]
    entries = [values[4 + 4 * i : 8 + 4 * i] for i in range(count)]
    return {key: value for key, where, _, value in entries if where == 0}


def geotiff_pixel_size(tif, page) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel from ``page``'s ModelPixelScale where its GeoKeys name a
    projected CRS in a linear unit (``METRES``; a UTM CRS named by EPSG code alone: metres);
    None for a file without ModelPixelScale, or where the scale is in degrees or a unit not
    known (said once)."""
    scale = page.tags.get(33550)
    if scale is None or len(scale.value) < 2:
        return None
    keys, name = geokeys(page), os.path.basename(str(tif.filehandle.path))
    if keys.get(MODEL_TYPE) == 2:
        _say_once(
            "degrees",
            "%s: its GeoTIFF pixel size is in degrees (a geographic CRS), which is no length: "
            "no pixel size used (said once); reproject it to a projected CRS in metres (QGIS: "
            "Raster > Projections > Warp) for areas in m²",
            name,
        )
        return None
    per_unit = _metres(keys)
    x, y = (float(v) for v in scale.value[:2])
    if per_unit is None or x <= 0 or y <= 0:
        _say_once(
            "unit",
            "%s: its GeoTIFF names no linear unit unetlab knows (ProjLinearUnitsGeoKey %s): "
            "its ModelPixelScale is not used as a pixel size (said once)",
            name,
            keys.get(LINEAR_UNITS),
        )
        return None
    # 12 digits: 0.05 m is 50000 um, not 50000.00000000001
    size = tuple(float(f"{v * per_unit * 1e6:.12g}") for v in (y, x))
    _say_once(
        "size",
        "%s: pixel size %g x %g m from its GeoTIFF ModelPixelScale (said once), written in "
        "the tables in micrometres: %g x %g um; area_um2 / 1e12 is m², length_um / 1e6 m",
        name,
        size[0] / 1e6,
        size[1] / 1e6,
        *size,
    )
    return size


def _metres(keys: dict[int, int]) -> float | None:
    """Metres per model unit of a projected CRS; None where the GeoKeys do not say."""
    if LINEAR_UNITS in keys:
        return METRES.get(keys[LINEAR_UNITS])
    crs = keys.get(PROJECTED_CRS)
    return 1.0 if crs is not None and any(crs in r for r in METRE_CRS) else None


def _say_once(key: str, message: str, *args) -> None:
    if key not in _SAID:
        _SAID.add(key)
        log.info(message, *args)
