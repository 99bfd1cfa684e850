"""A ``--level N`` objects table is in level 0's frame in every column (note33 "GIS"): its
``centroid_x`` / ``centroid_y`` were level-0 pixels while ``centroid_x_m`` /
``centroid_y_m`` were distances from the centre of the level's own top-left pixel (0.45 m
at level 1 against 0.475 m read whole at level 0 for the same grain)."""

from __future__ import annotations

import csv
import logging

import pytest

import unetlab
from tests.test_gis_placed import HOW, _pyramid
from tests.test_objects_classes import three_class_net


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_levels_table_gives_level_0s_positions_in_every_column(tmp_path, caplog):
    """Level 1 of a 2-level GeoTIFF (0.05 m at level 0; level 0 is level 1 blown up 2x2,
    so the objects are the same), streamed, against level 0 read whole."""
    pyramid, _ = _pyramid(tmp_path / "in")
    net = three_class_net()
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(net, pyramid, tmp_path / "l1", level=1, **HOW)
    unetlab.predict_folder(net, pyramid, tmp_path / "l0", **HOW)
    level, whole = (_rows(tmp_path / d / "pyr_objects.csv") for d in ("l1", "l0"))
    assert list(level[0]) == list(whole[0])
    same = ("area", "area_m2", "centroid_y", "centroid_y_m", "centroid_x", "centroid_x_m")
    same += ("centroid_x_map", "centroid_y_map", "bbox_top", "bbox_left", "bbox_bottom")
    for name in (*same, "bbox_right", "equivalent_diameter_m", "class", "id"):
        assert [r[name] for r in level] == [r[name] for r in whole], name
    for row in level:  # the m columns are level 0's pixels times level 0's pixel size
        assert float(row["centroid_x_m"]) == pytest.approx(float(row["centroid_x"]) * 0.05)
        assert float(row["centroid_y_m"]) == pytest.approx(float(row["centroid_y"]) * 0.05)
    # grain 1: level-1 columns 1-8 (0.1 m), level-0 columns 2-17: centroid pixel 9.5,
    # 0.475 m right of the centre of level 0's top-left pixel (was 0.45: the level's)
    assert (level[0]["centroid_x"], level[0]["centroid_x_m"]) == ("9.5", "0.475")
    assert "the m columns those times level 0's pixel size" in caplog.text
    # walk s50: the sum of the level's pixels times its downsample squared, said in the line
    # (it read "intensities are this level's pixels'", and Fiji's RawIntDen there is 4x less)
    assert "integrated_intensity: their mean times the level-0 area, not their sum" in caplog.text
    for one, other in zip(level, whole):
        assert float(one["integrated_intensity"]) == float(other["integrated_intensity"])
        mean_times_area = float(one["mean_intensity"]) * float(one["area"])
        assert float(one["integrated_intensity"]) == pytest.approx(mean_times_area)


def test_level0_pixel_size():
    from unetlab.inference.slide_objects import level0_pixel_size

    assert level0_pixel_size((100000.0, 100000.0), (2.0, 2.0)) == (50000.0, 50000.0)
    assert level0_pixel_size((0.3, 0.2), (3.0, 2.0)) == (0.1, 0.1)
    assert level0_pixel_size(None, (2.0, 2.0)) is None


def test_a_streamed_tiff_placed_by_its_tfw_is_placed_as_read_whole(tmp_path):
    """A TIFF without GeoTIFF tags placed by a .tfw, streamed: the same map X and Y and
    outlines as read whole (streamed, they were missing: only GeoTIFF tags were read)."""
    import json

    from tests.test_gis_sidecars import _tiff_field

    src = _tiff_field(tmp_path / "in", prj=None)
    net = three_class_net()
    unetlab.predict_folder(net, src, tmp_path / "whole", **HOW)
    unetlab.predict_folder(net, src, tmp_path / "streamed", large_threshold=100, **HOW)
    whole, streamed = (_rows(tmp_path / d / "field_objects.csv") for d in ("whole", "streamed"))
    assert [r["centroid_x_map"] for r in streamed] == [r["centroid_x_map"] for r in whole]
    assert [r["centroid_y_map"] for r in streamed] == [r["centroid_y_map"] for r in whole]
    assert streamed[0]["centroid_x_map"] == "500000.5"
    shapes = [
        [
            f["geometry"]
            for f in json.loads((tmp_path / d / "field_objects.geojson").read_text())["features"]
        ]
        for d in ("whole", "streamed")
    ]
    assert shapes[0] == shapes[1]
