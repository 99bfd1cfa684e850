"""The ESRI WKT (a ``.prj``) of the CRS a GeoTIFF names by EPSG code, where unetlab can
spell it without a projection library: the UTM zones of WGS 84 (EPSG 32601-32660 north,
32701-32760 south), ETRS89 (25828-25838) and NAD83 (26901-26923), the codes
:data:`~unetlab.data.geotiff.METRE_CRS` reads as metres, and their geographic CRS (4326,
4258, 4269). A UTM zone's CRS follows from its code alone: Transverse Mercator about the
zone's central meridian (``6 * zone - 183`` degrees), scale 0.9996, false easting 500000 m,
false northing 0 m (10000000 m south of the equator), on its datum's ellipsoid. Written as
ESRI names it (ArcGIS reads a raster's ``.prj``; GDAL and QGIS read the ``.aux.xml``
beside it); other codes get None (no ``.prj``: their definition is in the EPSG database,
which unetlab does not carry).
"""

from __future__ import annotations

#: ESRI's names of each datum: (GEOGCS, DATUM, SPHEROID, semi-major axis (m), inverse
#: flattening), by the prefix of its projected CRS's name
DATUMS = {
    "WGS_1984": ("GCS_WGS_1984", "D_WGS_1984", "WGS_1984", 6378137.0, 298.257223563),
    "ETRS_1989": ("GCS_ETRS_1989", "D_ETRS_1989", "GRS_1980", 6378137.0, 298.257222101),
    "NAD_1983": (
        "GCS_North_American_1983",
        "D_North_American_1983",
        "GRS_1980",
        6378137.0,
        298.257222101,
    ),
}
#: the geographic CRS (degrees) of each datum, by EPSG code
GEOGRAPHIC = {4326: "WGS_1984", 4258: "ETRS_1989", 4269: "NAD_1983"}
#: the UTM zones: (first code, last code, the first code's zone, datum, hemisphere)
UTM = (
    (32601, 32660, 1, "WGS_1984", "N"),
    (32701, 32760, 1, "WGS_1984", "S"),
    (25828, 25838, 28, "ETRS_1989", "N"),
    (26901, 26923, 1, "NAD_1983", "N"),
)
#: radians per degree, as ESRI writes it
DEGREE = "0.0174532925199433"


def esri_wkt(epsg: int | None) -> str | None:
    """The ESRI WKT of the CRS of EPSG code ``epsg`` (a UTM zone of WGS 84, ETRS89 or
    NAD83, or their geographic CRS); None for another code, or none."""
    if epsg in GEOGRAPHIC:
        return _geogcs(GEOGRAPHIC[epsg])
    for first, last, zone, datum, hemisphere in UTM:
        if epsg is not None and first <= epsg <= last:
            return _utm(datum, zone + epsg - first, hemisphere)
    return None


def _geogcs(datum: str) -> str:
    geogcs, name, spheroid, a, inverse = DATUMS[datum]
    return (
        f'GEOGCS["{geogcs}",DATUM["{name}",SPHEROID["{spheroid}",{a!r},{inverse!r}]],'
        f'PRIMEM["Greenwich",0.0],UNIT["Degree",{DEGREE}]]'
    )


def _utm(datum: str, zone: int, hemisphere: str) -> str:
    north = 10000000.0 if hemisphere == "S" else 0.0
    parameters = (
        ("False_Easting", 500000.0),
        ("False_Northing", north),
        ("Central_Meridian", float(6 * zone - 183)),
        ("Scale_Factor", 0.9996),
        ("Latitude_Of_Origin", 0.0),
    )
    listed = "".join(f'PARAMETER["{k}",{v!r}],' for k, v in parameters)
    return (
        f'PROJCS["{datum}_UTM_Zone_{zone}{hemisphere}",{_geogcs(datum)},'
        f'PROJECTION["Transverse_Mercator"],{listed}UNIT["Meter",1.0]]'
    )
