"""Where outputs lie on the map beyond a GeoTIFF read whole at level 0 (note32 "GIS"): a
streamed ``--level N``'s outlines and table on that level's grid, ``predict_file`` called
alone writing world files, a PNG's own world file (and the CRS a .prj or .aux.xml beside it
names) passed on, and the objects table's map X and Y (``centroid_x_map``,
``centroid_y_map``)."""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_geotiff_streamed import GEO
from tests.test_gis_outputs import DEGREES
from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.data import geotiff
from unetlab.data.geotiff import MapGrid, map_grid
from unetlab.data.io import write_png
from unetlab.data.world_file import input_grid, read_world_file, wkt_crs, world_file_of
from unetlab.inference.files import predict_file
from unetlab.inference.measure import with_map_centroids
from unetlab.inference.objects import ObjectOptions

#: WGS 84 / UTM zone 33N, as GDAL writes it (WKT1), ESRI's .prj and PROJ's WKT2
UTM_WKT1 = (
    'PROJCS["WGS 84 / UTM zone 33N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",'
    '6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM['
    '"Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY['
    '"EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER['
    '"latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",'
    '0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,'
    'AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG",'
    '"32633"]]'
)
UTM_ESRI = (
    'PROJCS["WGS_1984_UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID['
    '"WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",'
    '0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",'
    '500000.0],UNIT["Meter",1.0]]'
)
UTM_WKT2 = """PROJCRS["WGS 84 / UTM zone 33N",
    BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",
        ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],
        PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4326]],
    CONVERSION["UTM zone 33N",METHOD["Transverse Mercator",ID["EPSG",9807]],
        PARAMETER["False easting",500000,LENGTHUNIT["foot",0.3048],ID["EPSG",8806]]],
    CS[Cartesian,2],
        AXIS["(E)",east,ORDER[1],LENGTHUNIT["metre",1]],
        AXIS["(N)",north,ORDER[2],LENGTHUNIT["metre",1]],
    ID["EPSG",32633]]
"""
FEET = (
    'PROJCS["NAD83 / California zone 3 (ftUS)",GEOGCS["NAD83",UNIT["degree",0.01745]],'
    'PROJECTION["Lambert_Conformal_Conic_2SP"],PARAMETER["false_easting",6561666.667],'
    'UNIT["US survey foot",0.304800609601219,AUTHORITY["EPSG","9003"]],AUTHORITY["EPSG","2227"]]'
)
WGS84 = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM['
    '"Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)
#: the world file of a 0.1 m pixel at 500000 E, 5500000 N (the top-left pixel's centre)
WORLD = "0.1\n0\n0\n-0.1\n500000.05\n5499999.95\n"


@pytest.fixture(autouse=True)
def _say_again(monkeypatch):
    monkeypatch.setattr(geotiff, "_SAID", set())


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _geojson(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


HOW = dict(objects=ObjectOptions(min_area=1), outlines="geojson")


def _pyramid(folder):
    """A 2-level GeoTIFF of grains and pores (0.05 m at level 0, 40 x 48 px: each label
    pixel 2 x 2), and its level 1 alone as a GeoTIFF of its own grid (0.1 m, 20 x 24)."""
    labels, _ = grains_and_pores()
    big = np.kron(labels, np.ones((2, 2), np.int64)).astype(np.float32)
    folder.mkdir()
    with tifffile.TiffWriter(folder / "pyr.tif") as tif:
        tif.write(big, tile=(16, 16), subifds=1, extratags=GEO)
        tif.write(labels.astype(np.float32), tile=(16, 16), subfiletype=1)
    level1 = [(33550, 12, 3, (0.1, 0.1, 0.0), True), *GEO[1:]]
    tifffile.imwrite(folder / "one.tif", labels.astype(np.float32), extratags=level1)
    return folder / "pyr.tif", folder / "one.tif"


def test_a_streamed_levels_outlines_and_table_lie_on_that_levels_grid(tmp_path):
    """--level 1, streamed, against level 1 saved alone as a GeoTIFF of its own grid and
    read whole: the same polygons on the map, in the same CRS, the same map centroids and
    m² (its GeoJSON was in level-0 pixels and named no CRS; its table in um)."""
    pyramid, alone = _pyramid(tmp_path / "in")
    net = three_class_net()
    unetlab.predict_folder(net, alone, tmp_path / "whole", **HOW)
    unetlab.predict_folder(net, pyramid, tmp_path / "level1", level=1, **HOW)
    unetlab.predict_folder(net, pyramid, tmp_path / "level0", **HOW)  # read whole
    whole = _geojson(tmp_path / "whole" / "one_objects.geojson")
    streamed = _geojson(tmp_path / "level1" / "pyr_objects.geojson")
    assert streamed["crs"] == whole["crs"]
    assert streamed["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32633"
    shapes = [[f["geometry"] for f in d["features"]] for d in (whole, streamed)]
    assert shapes[0] == shapes[1]
    # grain 1, columns 1-8 of level 1 (0.1 m): by hand from the tie point
    assert shapes[1][0]["coordinates"][0][0] == [500000.1, 5499999.9]
    assert not list(tmp_path.glob("*/*.tfw"))  # a GeoTIFF's TIFF outputs carry its tags
    level0 = _geojson(tmp_path / "level0" / "pyr_objects.geojson")
    assert [f["geometry"] for f in level0["features"]] == shapes[0]  # the same map place
    rows = [_rows(tmp_path / d / f"{s}_objects.csv") for d, s in (("whole", "one"),)]
    rows.append(_rows(tmp_path / "level1" / "pyr_objects.csv"))
    for name in ("area_m2", "centroid_x_map", "centroid_y_map"):
        assert [r[name] for r in rows[0]] == [r[name] for r in rows[1]], name
    assert (rows[1][0]["centroid_x_map"], rows[1][0]["centroid_y_map"]) == (
        "500000.5",
        "5499999.5",
    )


def test_a_geotiffs_table_gives_each_objects_map_x_and_y_whole_and_streamed(tmp_path):
    """centroid_x_map / centroid_y_map: the map point of the centroid (the _m columns are
    distances from the top-left pixel's centre)."""
    pyramid, _ = _pyramid(tmp_path / "in")
    net, got = three_class_net(), []
    for name, extra in (("whole", {}), ("streamed", dict(large_threshold=100))):
        unetlab.predict_folder(net, pyramid, tmp_path / name, **HOW, **extra)
        got.append(_rows(tmp_path / name / "pyr_objects.csv"))
    assert got[0] == got[1]
    first = got[0][0]
    columns = list(first)
    at = columns.index("centroid_x_m")
    assert columns[at + 1 : at + 3] == ["centroid_x_map", "centroid_y_map"]
    # grain 1: rows and columns 2-17 of 0.05 m, centroid pixel (9.5, 9.5), corner 10
    assert (first["centroid_x"], first["centroid_x_m"]) == ("9.5", "0.475")
    assert (first["centroid_x_map"], first["centroid_y_map"]) == ("500000.5", "5499999.5")


def test_map_centroids_of_a_table_by_hand():
    grid = map_grid(tuple(GEO))
    table = {"id": np.array([1, 2]), "centroid_y": np.array([0.0, 3.5])}
    table["centroid_x"] = np.array([0.0, 1.0])
    out = with_map_centroids(table, grid)
    assert list(out) == ["id", "centroid_y", "centroid_x", "centroid_x_map", "centroid_y_map"]
    assert out["centroid_x_map"].tolist() == [500000.025, 500000.075]
    assert out["centroid_y_map"].tolist() == [5499999.975, 5499999.8]
    assert with_map_centroids(table, None) is table


def test_a_levels_grid_is_its_world_files():
    grid = map_grid(tuple(GEO))
    assert grid.level((2.0, 2.0)).world_file().split() == [
        *("0.1", "0", "0", "-0.1", "500000.05", "5499999.95")
    ]
    assert grid.level((2.0, 1.5)).affine == pytest.approx(
        (0.075, 0.0, 500000.0, 0.0, -0.1, 5500000.0)
    )


def test_predict_file_alone_writes_the_world_files(tmp_path):
    """predict_file called alone (the notebook's API) gives a map's PNG outputs their
    world files, as predict_folder does, listed as the folder's own."""
    labels, _ = grains_and_pores()
    src = tmp_path / "deg.tif"
    tifffile.imwrite(src, labels.astype(np.float32), extratags=DEGREES)
    net, out = three_class_net(), tmp_path / "o"
    written = predict_file(net, src, out, draw_overlay=True)
    assert out / "deg.pgw" in written and out / "deg_overlay.pgw" in written
    lines = (out / "deg.pgw").read_text().split()
    assert lines == ["0.0001", "0", "0", "-0.0001", "15.00005", "47.99995"]
    manifest = (out / ".unetlab-outputs").read_text(encoding="utf-8")
    assert "deg.pgw\tpredict\t" in manifest
    again = unetlab.predict_folder(net, src, out, draw_overlay=True)  # the folder's own
    assert again.written[src]


def _field(folder, *, world=WORLD, prj=None, aux=None):
    """The grains and pores as a PNG with a world file (and a .prj or .aux.xml) beside it."""
    labels, _ = grains_and_pores()
    folder.mkdir()
    write_png(folder / "field.png", labels.astype(np.uint8))
    (folder / "field.pgw").write_text(world)
    if prj is not None:
        (folder / "field.prj").write_text(prj)
    if aux is not None:
        srs = aux.replace("&", "&amp;").replace('"', "&quot;")
        (folder / "field.png.aux.xml").write_text(f"<PAMDataset><SRS>{srs}</SRS></PAMDataset>")
    return folder / "field.png"


def test_a_pngs_own_world_file_is_passed_on(tmp_path, caplog):
    """A PNG placed by its world file alone: its outputs get the same world file and its
    outlines and map centroids the map's coordinates, the same as the GeoTIFF of that grid
    gives; no CRS or unit is named, so no m² and no crs (said)."""
    src = _field(tmp_path / "in")
    net = three_class_net()
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(net, src, tmp_path / "o", draw_overlay=True, **HOW)
    out = tmp_path / "o"
    assert (out / "field.pgw").read_text() == WORLD
    assert (out / "field_overlay.pgw").read_text() == WORLD
    assert (out / "field_objects.tfw").read_text() == WORLD  # its TIFF carries no tags
    data = _geojson(out / "field_objects.geojson")
    assert "crs" not in data
    _, alone = _pyramid(tmp_path / "geo")
    unetlab.predict_folder(net, alone, tmp_path / "g", **HOW)
    geo = _geojson(tmp_path / "g" / "one_objects.geojson")
    assert [f["geometry"] for f in data["features"]] == [f["geometry"] for f in geo["features"]]
    rows, geo_rows = _rows(out / "field_objects.csv"), _rows(tmp_path / "g" / "one_objects.csv")
    assert "area_m2" not in rows[0] and "area_um2" not in rows[0]
    for name in ("centroid_x_map", "centroid_y_map"):
        assert [r[name] for r in rows] == [r[name] for r in geo_rows]
    assert "field.png is placed by its world file field.pgw, which names no CRS" in caplog.text


@pytest.mark.parametrize("where", ["prj", "aux"])
def test_a_pngs_crs_in_metres_beside_it_gives_metres(tmp_path, caplog, where):
    src = _field(tmp_path / "in", **{where: UTM_WKT1})
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **HOW)
    rows = _rows(tmp_path / "o" / "field_objects.csv")
    assert rows[0]["area_m2"] == "0.64" and rows[0]["centroid_x_m"] == "0.45"
    assert rows[0]["centroid_x_map"] == "500000.5"
    data = _geojson(tmp_path / "o" / "field_objects.geojson")
    assert data["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32633"
    assert data["features"][0]["properties"]["area_m2"] == pytest.approx(0.64)
    assert "(EPSG:32633 in metres" in caplog.text


def test_a_degree_crs_beside_a_png_gives_no_metres(tmp_path):
    world = "0.0001\n0\n0\n-0.0001\n15.00005\n47.99995\n"
    src = _field(tmp_path / "in", world=world, prj=WGS84)
    unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **HOW)
    rows = _rows(tmp_path / "o" / "field_objects.csv")
    assert "area_m2" not in rows[0] and rows[0]["centroid_x_map"] == "15.0005"
    assert "crs" not in _geojson(tmp_path / "o" / "field_objects.geojson")  # 4326: GeoJSON's


def test_wkt_crs_reads_the_crss_own_code_and_unit():
    assert wkt_crs(UTM_WKT1) == (32633, 1.0)
    assert wkt_crs(UTM_ESRI) == (None, 1.0)
    assert wkt_crs(UTM_WKT2) == (32633, 1.0)  # the axes' metre, not a parameter's foot
    assert wkt_crs(FEET) == (2227, 0.304800609601219)
    assert wkt_crs(WGS84) == (4326, None)
    assert wkt_crs("not a CRS") == (None, None) and wkt_crs("") == (None, None)


def test_world_files_of_each_picture_and_their_grid(tmp_path, caplog):
    for name in ("a.jpg", "b.JPEG", "c.png", "d.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "a.jgw").write_text(WORLD)
    (tmp_path / "b.wld").write_text(WORLD)
    (tmp_path / "c.PGW").write_text(WORLD)
    (tmp_path / "d.pngw").write_text("0.1 0 0 oops\n")
    assert world_file_of(tmp_path / "a.jpg") == tmp_path / "a.jgw"
    assert world_file_of(tmp_path / "b.JPEG") == tmp_path / "b.wld"
    assert world_file_of(tmp_path / "c.png") == tmp_path / "c.PGW"
    grid = read_world_file(tmp_path / "a.jpg")
    assert grid == MapGrid((0.1, 0.0, 500000.0, 0.0, -0.1, 5500000.0), None, None, "world file")
    assert grid.world_file() == WORLD  # read back as written
    with caplog.at_level(logging.WARNING):
        assert read_world_file(tmp_path / "d.png") is None
    assert "d.pngw: not a world file" in caplog.text
    assert input_grid(tmp_path / "none.png") is None


@pytest.mark.parametrize("kind", ["tiepoint", "point", "transformation"])
def test_a_levels_geotags_place_it_on_its_grid(kind):
    """level_geotags: the tags a --level N output would carry (its grid's, read back by
    map_grid), for a tie point, a PixelIsPoint raster and a ModelTransformation."""
    from tests.test_geotiff import _keys
    from tests.test_gis_outputs import TRANSFORMED
    from unetlab.data.geotiff import level_geotags

    tags = {
        "tiepoint": list(GEO),
        "point": [*GEO[:2], (34735, 3, 24, _keys({1025: (0, 1, 2)}), True)],
        "transformation": list(TRANSFORMED),
    }[kind]
    level = level_geotags(tuple(tags), (2.0, 1.5))
    want = map_grid(tuple(tags)).level((2.0, 1.5))
    assert map_grid(level).affine == pytest.approx(want.affine, abs=1e-9)
    assert map_grid(level).how == want.how and [t for t in level if t[0] == 34735] == [
        t for t in tags if t[0] == 34735
    ]
    if kind == "tiepoint":  # by hand: 0.075 m wide, 0.1 m high, from the same corner
        assert dict((t[0], t[3]) for t in level)[33550] == (0.075, 0.1, 0.0)
        assert dict((t[0], t[3]) for t in level)[33922][3:5] == (500000.0, 5500000.0)
    assert level_geotags(tuple(tags)) == tuple(tags) and level_geotags(()) == ()


def test_a_turned_world_file_places_the_outlines_but_gives_no_metres(tmp_path, caplog):
    """A world file with rotation terms (a quarter turn) and a .prj in metres: the outlines
    and map centroids are turned onto the map, by hand; the table has no metres (its
    pixels have no (y, x) size), and the line says why."""
    world = "0\n-0.1\n-0.1\n0\n500000.05\n5499999.95\n"  # x down, y left: a quarter turn
    src = _field(tmp_path / "in", world=world, prj=UTM_WKT1)
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **HOW)
    rows = _rows(tmp_path / "o" / "field_objects.csv")
    assert "area_m2" not in rows[0]
    # grain 1's centroid, pixel (4.5, 4.5), corner (5, 5): X = 500000.1 - 0.5, Y = ... - 0.5
    assert (rows[0]["centroid_x_map"], rows[0]["centroid_y_map"]) == ("499999.6", "5499999.5")
    assert "turns the image" in caplog.text
    assert (tmp_path / "o" / "field.pgw").read_text() == world
