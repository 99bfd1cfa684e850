"""``--pixel-size`` given with ``--level N`` (pixel_size=, level=): the size given is level
0's, so the level's pixels are that times its downsample; the objects table (in level 0's
frame) and the outputs' metadata carry it (s38 noticed: no test)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.data.tiffmeta import read_pixel_size
from unetlab.inference.objects import ObjectOptions


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_given_pixel_size_is_level_0s_and_scaled_to_the_level(tmp_path):
    labels, _ = grains_and_pores()
    big = np.kron(labels, np.ones((2, 2), np.int64)).astype(np.float32)
    (tmp_path / "in").mkdir()
    with tifffile.TiffWriter(tmp_path / "in" / "pyr.tif") as tif:  # records no pixel size
        tif.write(big, tile=(16, 16), subifds=1)
        tif.write(labels.astype(np.float32), tile=(16, 16), subfiletype=1)
    net, how = three_class_net(), dict(objects=ObjectOptions(min_area=1), pixel_size=0.5)
    pyramid = tmp_path / "in" / "pyr.tif"
    unetlab.predict_folder(net, pyramid, tmp_path / "l1", level=1, **how)
    unetlab.predict_folder(net, pyramid, tmp_path / "l0", **how)  # read whole
    level, whole = (_rows(tmp_path / d / "pyr_objects.csv") for d in ("l1", "l0"))
    assert len(level) == len(whole) > 1
    for name in ("area_um2", "centroid_y_um", "centroid_x_um", "equivalent_diameter_um"):
        assert [float(r[name]) for r in level] == pytest.approx([float(r[name]) for r in whole])
    for row in level:  # level-0 pixels (the table's frame) times the size given
        assert float(row["centroid_x_um"]) == pytest.approx(float(row["centroid_x"]) * 0.5)
        assert float(row["area_um2"]) == pytest.approx(float(row["area"]) * 0.25)
    # the level's own pixels: 2 level-0 pixels each, 1 µm; its label image records that
    assert read_pixel_size(tmp_path / "l1" / "pyr.tif").size == pytest.approx((1.0, 1.0))
    assert read_pixel_size(tmp_path / "l0" / "pyr.tif").size == pytest.approx((0.5, 0.5))


def test_the_given_size_line_says_it_is_level_0s_and_the_levels_size(tmp_path, caplog):
    """s50 slidelines: "records pixel size 0.5x0.5 µm: taken as 0.25 µm as given" with
    --level 1, whose labels got 0.5 µm pixels: the line now says whose size it is."""
    labels, _ = grains_and_pores()
    big = np.kron(labels, np.ones((2, 2), np.int64)).astype(np.float32)
    pyramid = tmp_path / "pyr.ome.tif"
    with tifffile.TiffWriter(pyramid) as tif:  # records 0.5 µm pixels at level 0
        size = dict(PhysicalSizeX=0.5, PhysicalSizeY=0.5)
        tif.write(big, tile=(16, 16), subifds=1, metadata={"axes": "YX", **size})
        tif.write(labels.astype(np.float32), tile=(16, 16), subfiletype=1)
    how = dict(objects=ObjectOptions(min_area=1), pixel_size=0.25, level=1)
    with caplog.at_level("INFO"):
        unetlab.predict_folder(three_class_net(), pyramid, tmp_path / "l1", **how)
    said = "pyr.ome.tif records pixel size 0.5x0.5 µm: taken as 0.25 µm as given (level 0's: "
    assert said + "level 1's pixels are 0.5 µm)" in caplog.text
    assert read_pixel_size(tmp_path / "l1" / "pyr.tif").size == pytest.approx((0.5, 0.5))
