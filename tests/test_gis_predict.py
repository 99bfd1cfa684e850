"""predict on a GeoTIFF in metres (drone audit s31, findings 7 and 11; needs the gisfix s32
patch of files.py, slide_objects.py and slides.py): the objects table in metres and m², the
GeoJSON of a semantic model's class regions in the map's coordinates, and the summary's area
of each class, read whole and streamed."""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_geotiff import GEO
from tests.test_objects_classes import grains_and_pores, three_class_net
from tests.test_slide_resume_publish import _stop_after_one_rename
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data import geotiff
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.slides import predict_slide


@pytest.fixture(autouse=True)
def _say_again(monkeypatch):
    monkeypatch.setattr(geotiff, "_SAID", set())


def _ortho(tmp_path):
    labels, _ = grains_and_pores()  # 0.05 m pixels at 500000 E, 5500000 N (UTM 33N)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "g.tif", labels.astype(np.float32), extratags=GEO)
    return tmp_path / "in" / "g.tif"


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("streamed", [False, True])
def test_a_metre_geotiffs_objects_are_in_metres_and_on_the_map(tmp_path, streamed):
    src = _ortho(tmp_path)
    how = dict(objects=ObjectOptions(min_area=1), outlines="geojson")
    if streamed:
        how["large_threshold"] = 100  # 480 px: read window by window
    done = unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **how)
    rows = _rows(tmp_path / "o" / "g_objects.csv")
    assert "area_m2" in rows[0] and "area_um2" not in rows[0] and "centroid_x_um" not in rows[0]
    # by hand: 64, 9, 56 and 1 px of 0.05 m x 0.05 m
    got = sorted((r["class_name"], float(r["area"]), float(r["area_m2"])) for r in rows)
    want = [("grain", 56, 0.14), ("grain", 64, 0.16), ("pore", 1, 0.0025), ("pore", 9, 0.0225)]
    assert [(n, a) for n, a, _ in got] == [(n, a) for n, a, _ in want]
    assert [m for *_, m in got] == pytest.approx([m for *_, m in want])
    assert done.areas[src] == pytest.approx({"grain": 0.30, "pore": 0.025})
    data = json.loads((tmp_path / "o" / "g_objects.geojson").read_text(encoding="utf-8"))
    assert data["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32633"
    grain = next(f for f in data["features"] if f["properties"]["area_m2"] == pytest.approx(0.16))
    assert grain["properties"]["class_name"] == "grain"
    ring = np.array(grain["geometry"]["coordinates"][0])
    # rows and columns 1-8: E 500000.05 to 500000.45, N 5499999.95 down to 5499999.55
    assert ring[:, 0].min() == pytest.approx(500000.05) and ring[:, 0].max() == 500000.45
    assert ring[:, 1].max() == pytest.approx(5499999.95) and ring[:, 1].min() == 5499999.55


def test_cli_says_each_classs_area_on_the_map(tmp_path, caplog, monkeypatch):
    from unetlab.cli import predict

    _ortho(tmp_path)
    save_model(tmp_path / "m.pt", three_class_net())
    monkeypatch.setattr(predict, "_load", lambda args, device, **_: three_class_net())
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    argv += ["--output", str(tmp_path / "o"), "--instances", "--min-area", "1"]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--outlines", "geojson"]) == 0
    assert "g.tif: 4 objects: 2 grain (0.3 m²), 2 pore (0.025 m²)" in caplog.text


def test_a_degree_geotiffs_outlines_are_in_longitude_and_latitude(tmp_path, caplog):
    from tests.test_gis_outputs import DEGREES

    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "d.tif", labels.astype(np.float32), extratags=DEGREES)
    how = dict(objects=ObjectOptions(min_area=1), outlines="geojson")
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), tmp_path / "in", tmp_path / "o", **how)
    data = json.loads((tmp_path / "o" / "d_objects.geojson").read_text(encoding="utf-8"))
    assert "crs" not in data  # WGS 84 longitude, latitude: GeoJSON's own (RFC 7946)
    ring = np.array(data["features"][0]["geometry"]["coordinates"][0])
    # grain 1, columns and rows 1-8, from 15 E 48 N in 0.0001 degree pixels
    assert ring[:, 0].min() == pytest.approx(15.0001) and ring[:, 1].max() == pytest.approx(47.9999)
    assert "area_m2" not in data["features"][0]["properties"]  # a degree is no length
    assert "outlines (--outlines geojson) are in its map coordinates" in caplog.text


def test_a_publishing_the_rerun_finishes_keeps_each_classs_area(tmp_path, monkeypatch):
    """Stopped among the renames of a streamed GeoTIFF's outputs: the rerun that puts them
    in place gives the summary the objects of each class and their areas in m², as the
    whole run does (review s32 9: the areas were lost)."""
    src = _ortho(tmp_path)
    net, how = three_class_net(), dict(objects=ObjectOptions(min_area=1), outlines="geojson")
    whole, again = [], []
    predict_slide(net, src, tmp_path / "whole", counted=lambda *a: whole.append(a), **how)
    assert whole[0][2] == pytest.approx({"grain": 0.30, "pore": 0.025})
    _stop_after_one_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        predict_slide(net, src, tmp_path / "o", **how)
    assert (tmp_path / "o" / ".g.tif.publish.partial").is_dir()
    predict_slide(net, src, tmp_path / "o", counted=lambda *a: again.append(a), **how)
    assert again == whole
