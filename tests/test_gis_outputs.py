"""GIS outputs of GeoTIFF inputs (audit s31 drone, findings 1, 7, 11; note31 "GIS"): where
a GeoTIFF places its pixels (MapGrid), tables in metres where its pixel size is its
ModelPixelScale in metres, the outlines of a semantic model's class regions with their
class (in map coordinates), world files beside PNG outputs, and the summary's areas."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_geotiff import GEO, _keys
from tests.test_geotiff_streamed import _pyramid
from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.cli.predict import area_text, classes_text
from unetlab.data import geotiff
from unetlab.data.geotiff import length_unit, map_grid
from unetlab.inference import world_files
from unetlab.inference.measure import class_areas, object_table, with_micrometres
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.outlines import object_polygons, polygon_area, write_planes
from unetlab.inference.records import OutputOptions

#: degrees: geographic (1024 = 2), WGS 84 (2048 = 4326); 0.0001 deg pixels at 15 E, 48 N
DEGREE_KEYS = _keys({1024: (0, 1, 2), 2048: (0, 1, 4326)})
DEGREES = [
    (33550, 12, 3, (0.0001, 0.0001, 0.0), True),
    (33922, 12, 6, (0.0, 0.0, 0.0, 15.0, 48.0, 0.0), True),
    (34735, 3, len(DEGREE_KEYS), DEGREE_KEYS, True),
]
#: the same place as GEO (0.05 m, 500000 E 5500000 N), by ModelTransformation alone
MATRIX = (0.05, 0.0, 0.0, 500000.0, 0.0, -0.05, 0.0, 5500000.0, 0, 0, 0, 0, 0, 0, 0, 1.0)
TRANSFORMED = [(34264, 12, 16, MATRIX, True), GEO[2]]


@pytest.fixture(autouse=True)
def _say_again(monkeypatch):
    """Lines said once a process are said in each test."""
    monkeypatch.setattr(geotiff, "_SAID", set())


def test_map_grid_of_a_tie_point_and_scale_and_of_a_transformation():
    grid = map_grid(tuple(GEO))
    assert grid.affine == (0.05, 0.0, 500000.0, 0.0, -0.05, 5500000.0)
    assert (grid.epsg, grid.metres, grid.how, grid.flips) == (32633, 1.0, "tiepoint", True)
    # corner (3, 2): 3 columns east, 2 rows south of the tie point, by hand
    assert grid.apply(np.array([[3, 2]])).tolist() == [[500000.15, 5499999.9]]
    moved = map_grid(tuple(TRANSFORMED))
    assert moved.affine == grid.affine and moved.how == "transformation"
    point = [*GEO[:2], (34735, 3, 24, _keys({1025: (0, 1, 2)}), True)]  # PixelIsPoint
    assert map_grid(tuple(point)).affine[2::3] == (499999.975, 5500000.025)
    degrees = map_grid(tuple(DEGREES))
    assert (degrees.epsg, degrees.metres, degrees.crs_member()) == (4326, None, None)
    assert map_grid(()) is None and map_grid((GEO[1], GEO[2])) is None  # no scale: no affine
    assert grid.world_file().split() == ["0.05", "0", "0", "-0.05", "500000.025", "5499999.975"]


def test_tables_are_in_metres_only_for_a_geotiffs_own_metre_scale():
    assert length_unit((50000.0, 50000.0), tuple(GEO)) == "m"
    assert length_unit((0.5, 0.5), tuple(GEO)) == "um"  # a size from elsewhere (OME)
    assert length_unit((50000.0, 50000.0), ()) == "um"
    assert length_unit((0.5, 0.5), tuple(DEGREES)) == "um"
    assert length_unit(None, tuple(GEO)) == "um"
    labels, ids = grains_and_pores()
    table = object_table(ids, classes=labels, class_names=["bg", "grain", "pore"], background=0)
    metres = with_micrometres(table, (50000.0, 50000.0), unit="m")
    assert "area_um2" not in metres and "centroid_x_um" not in metres
    # grain 1: rows and columns 1-8 (its hole filled), 64 px of 0.05 m x 0.05 m
    assert metres["area_m2"][0] == pytest.approx(64 * 0.0025)
    assert metres["perimeter_m"].tolist() == pytest.approx((table["perimeter"] * 0.05).tolist())
    assert metres["centroid_x_m"][0] == pytest.approx(4.5 * 0.05)
    assert metres["major_axis_length_m"][0] == pytest.approx(table["major_axis_length"][0] * 0.05)
    microns = with_micrometres(table, (50000.0, 50000.0))
    assert microns["area_um2"][0] == pytest.approx(64 * 2.5e9)  # the µm columns as before
    assert class_areas(metres) == pytest.approx({"grain": 0.3, "pore": 0.025})
    assert class_areas(microns) == {}  # µm² are no map's areas


def test_the_summary_gives_each_class_its_area_on_a_map():
    counts, areas = {"vegetation": 39, "water": 2, "1": 5}, {"vegetation": 654.2, "water": 15234.0}
    text = classes_text(counts, areas)
    assert text == ": 39 vegetation (654 m²), 2 water (1.52 ha), 5 class 1"
    assert classes_text(counts) == ": 39 vegetation, 2 water, 5 class 1"
    assert [area_text(a) for a in (0.25, 12.345, 1.2e6)] == ["0.25 m²", "12.3 m²", "120 ha"]


def _semantic_geojson(tmp_path, grid):
    labels, ids = grains_and_pores()
    table = object_table(ids, classes=labels, class_names=["bg", "grain", "pore"], background=0)
    table = with_micrometres(table, (50000.0, 50000.0), unit="m")
    path = write_planes(tmp_path / "o.geojson", [(ids, table, None)], grid=grid)
    return ids, json.loads(path.read_text(encoding="utf-8"))


def test_semantic_outlines_carry_each_objects_class(tmp_path):
    ids, data = _semantic_geojson(tmp_path, None)  # pixels, QuPath's properties
    props = [f["properties"] for f in data["features"]]
    assert [(p["class"], p["class_name"]) for p in props] == [
        (1, "grain"),
        (1, "grain"),
        (2, "pore"),
        (2, "pore"),
    ]
    assert [p["classification"]["name"] for p in props] == ["grain", "grain", "pore", "pore"]
    assert "class" not in props[0]["measurements"] and "area_um2" not in props[0]["measurements"]
    assert [1, 1] in data["features"][0]["geometry"]["coordinates"][0]  # pixel corners
    assert "crs" not in data


def test_outlines_on_the_map_by_hand_against_the_tie_point(tmp_path):
    ids, data = _semantic_geojson(tmp_path, map_grid(tuple(GEO)))
    assert data["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32633"
    first = data["features"][0]
    assert first["properties"]["id"] == 1 and first["properties"]["class_name"] == "grain"
    assert first["properties"]["area_m2"] == pytest.approx(0.16)  # flat: a QGIS attribute
    ring = np.array(first["geometry"]["coordinates"][0])
    # grain 1 spans columns and rows 1-8: corners x 1..9, y 1..9 -> E 500000.05..500000.45,
    # N 5499999.95..5499999.55
    assert ring[:, 0].min() == pytest.approx(500000.05) and ring[:, 0].max() == 500000.45
    assert ring[:, 1].max() == pytest.approx(5499999.95) and ring[:, 1].min() == 5499999.55
    x, y = ring[:-1, 0] - 500000, ring[:-1, 1] - 5499999
    shoelace = (x @ np.roll(y, -1) - np.roll(x, -1) @ y) / 2
    area_px = polygon_area(object_polygons(ids)[1])
    assert shoelace == pytest.approx(area_px * 0.0025)  # counter-clockwise on the map (RFC 7946)


def test_a_semantic_models_outlines_are_written_by_predict(tmp_path):
    OutputOptions(objects=ObjectOptions(), outlines="geojson").for_model(three_class_net())
    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "g.tif", labels.astype(np.float32))
    objects = ObjectOptions(min_area=1)
    unetlab.predict_folder(
        three_class_net(), tmp_path / "in", tmp_path / "o", objects=objects, outlines="both"
    )
    data = json.loads((tmp_path / "o" / "g_objects.geojson").read_text(encoding="utf-8"))
    names = [f["properties"]["class_name"] for f in data["features"]]
    assert names == ["grain", "pore", "grain", "pore"]
    assert (tmp_path / "o" / "g_objects_rois.zip").is_file()


def test_png_outputs_of_a_georeferenced_input_get_a_world_file(tmp_path, caplog):
    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "deg.tif", labels.astype(np.float32), extratags=DEGREES)
    tifffile.imwrite(tmp_path / "in" / "tr.tif", labels.astype(np.float32), extratags=TRANSFORMED)
    tifffile.imwrite(tmp_path / "in" / "plain.tif", labels.astype(np.float32))
    (tmp_path / "o").mkdir()
    stale = tmp_path / "o" / "tr_overlay.pgw"
    stale.write_text("1\n0\n0\n-1\n0\n0\n")  # not this command's: left as it is
    with caplog.at_level(logging.INFO):
        done = unetlab.predict_folder(
            three_class_net(), tmp_path / "in", tmp_path / "o", draw_overlay=True, overwrite=True
        )
    out = tmp_path / "o"
    assert (out / "deg.pgw").read_text().split() == [
        "0.0001",
        "0",
        "0",
        "-0.0001",
        "15.00005",
        "47.99995",
    ]
    assert (out / "tr.pgw").read_text().split()[4:] == ["500000.025", "5499999.975"]
    assert (out / "deg_overlay.pgw").is_file() and stale.read_text().startswith("1\n0")
    assert not list(out.glob("plain*.pgw"))
    assert out / "deg.pgw" in done.written[tmp_path / "in" / "deg.tif"]
    assert "world file there already" in caplog.text
    assert caplog.text.count("is placed by ModelTransformation alone") == 1
    assert "deg.tif is in degrees" in caplog.text and "carry no GeoTIFF tags" in caplog.text


def test_a_downsampled_overlay_gets_its_steps_world_file(tmp_path):
    from unetlab.data.io import write_png

    src = tmp_path / "m.tif"
    tifffile.imwrite(src, np.zeros((40, 60), np.uint8), extratags=GEO)
    png = tmp_path / "m_overlay.png"
    write_png(png, np.zeros((10, 15, 3), np.uint8), text={"unetlab.scale": '{"step": 4}'})
    other = tmp_path / "m_other.png"
    write_png(other, np.zeros((7, 7), np.uint8))
    made = world_files.world_files(src, [png, other])  # and the files naming EPSG:32633
    beside = ("m_overlay.pgw", "m_overlay.prj", "m_overlay.png.aux.xml")
    assert made == [tmp_path / name for name in beside]
    lines = (tmp_path / "m_overlay.pgw").read_text().split()
    assert lines == ["0.2", "0", "0", "-0.2", "500000.1", "5499999.9"]


def test_world_files_are_the_folders_own_for_the_next_run(tmp_path):
    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "deg.tif", labels.astype(np.float32), extratags=DEGREES)
    net, out = three_class_net(), tmp_path / "o"
    unetlab.predict_folder(net, tmp_path / "in", out, draw_overlay=True)
    again = unetlab.predict_folder(net, tmp_path / "in", out, draw_overlay=True)  # not refused
    assert again.written and (out / "deg.pgw").is_file()  # the same: left as it is
    skipped = unetlab.predict_folder(
        net, tmp_path / "in", out, draw_overlay=True, skip_existing=True
    )
    assert skipped.skipped == [tmp_path / "in" / "deg.tif"]
    manifest = (out / ".unetlab-outputs").read_text(encoding="utf-8")
    assert "deg.pgw\tpredict\t" in manifest and "deg_overlay.pgw\tpredict\t" in manifest
    (out / "deg.pgw").write_text("1\n0\n0\n-1\n0\n0\n")  # listed: unetlab's, put right again
    unetlab.predict_folder(net, tmp_path / "in", out, draw_overlay=True)
    assert (out / "deg.pgw").read_text().split()[0] == "0.0001"


def test_a_level_above_0_gets_its_levels_world_file(tmp_path):
    """--level 1 of a 2-level GeoTIFF (0.05 m at level 0, 64 x 48 px): its overlay lies on
    level 1's grid, pixels of 0.1 m (review s32 6: it got level 0's, half the size)."""
    src = _pyramid(tmp_path / "ortho.tif")
    net, how = three_class_net(), dict(draw_overlay=True, large_threshold=100)
    unetlab.predict_folder(net, src, tmp_path / "o", level=1, **how)
    lines = (tmp_path / "o" / "ortho_overlay.pgw").read_text().split()
    assert lines == ["0.1", "0", "0", "-0.1", "500000.05", "5499999.95"]
    unetlab.predict_folder(net, src, tmp_path / "o0", **how)
    lines = (tmp_path / "o0" / "ortho_overlay.pgw").read_text().split()
    assert lines == ["0.05", "0", "0", "-0.05", "500000.025", "5499999.975"]


def test_sampled_grid_of_a_level_with_its_own_downsample_on_each_axis():
    grid = map_grid(tuple(GEO))
    got = world_files.sampled_grid(grid, 4, (2.0, 1.5)).affine
    assert got == pytest.approx((0.3, 0.0, 500000.0, 0.0, -0.4, 5500000.0), abs=1e-9)
    assert world_files.sampled_grid(grid, 4).affine == grid.scaled(4).affine


def test_a_flag_is_true_or_false_in_the_geojson_as_in_the_csv(tmp_path):
    """touches_border was 1.0 / 0.0 in the GeoJSON where the CSV says true / false (s49
    ids): a bool, QGIS's flat property and beside QuPath's measurements (which hold
    numbers only: 1 / 0 there)."""
    ids = np.zeros((12, 12), np.int32)
    ids[0:3, 0:3], ids[5:8, 5:8] = 1, 2  # 1 at the image's edge, 2 inside
    table = object_table(ids)
    for grid in (None, map_grid(tuple(GEO))):
        path = write_planes(tmp_path / "o.geojson", [(ids, table, None)], grid=grid)
        props = [f["properties"] for f in json.loads(path.read_text())["features"]]
        assert [p["touches_border"] for p in props] == [True, False]
        if grid is None:
            assert [p["measurements"]["touches_border"] for p in props] == [1.0, 0.0]
