"""Outlines of a semantic model's objects carry their class: Fiji ROIs are named
``<class>-<id>`` and drawn in the class's colour, and QuPath's classification colours are
the overlay's colour of each class index, so two classes never share one (audit s35
multiclass 5: ROIs were named by id only; tumour and lymphocyte hashed to one colour)."""

import json
import struct
import zipfile

import numpy as np

from unetlab.inference.outlines import write_outlines
from unetlab.plots import palette

from .test_outlines import _decode_roi


def _two_kinds():
    ids = np.zeros((20, 30), np.uint16)
    ids[2:8, 2:8], ids[10:16, 4:10], ids[3:9, 15:25] = 1, 2, 3
    table = {
        "id": np.array([1, 2, 3]),
        "class": np.array([1, 2, 1]),
        "class_name": np.array(["tumour", "lymphocyte", "tumour"]),
    }
    return ids, table


def test_rois_and_qupath_classes_carry_the_class_and_its_colour(tmp_path):
    ids, table = _two_kinds()
    paths = dict(geojson=tmp_path / "o.geojson", rois=tmp_path / "o.zip")
    write_outlines([ids], [table], **paths)
    colours = palette(3).tolist()
    with zipfile.ZipFile(paths["rois"]) as archive:
        names = archive.namelist()
        assert names == ["tumour-0001.roi", "lymphocyte-0002.roi", "tumour-0003.roi"]
        for name, k in zip(names, (1, 2, 1)):
            data = archive.read(name)
            assert _decode_roi(data)["name"] == name[:-4]
            (argb,) = struct.unpack(">I", data[40:44])  # RoiDecoder's stroke colour
            assert argb >> 24 == 0xFF and list((argb & 0xFFFFFF).to_bytes(3, "big")) == colours[k]
    features = json.loads(paths["geojson"].read_text())["features"]
    got = {
        f["properties"]["classification"]["name"]: f["properties"]["classification"]["color"]
        for f in features
    }
    assert got == {"tumour": colours[1], "lymphocyte": colours[2]}


def test_rois_without_a_class_keep_their_id_names_and_imagejs_colour(tmp_path):
    ids, table = _two_kinds()
    write_outlines([ids], [{"id": table["id"]}], rois=tmp_path / "o.zip")
    with zipfile.ZipFile(tmp_path / "o.zip") as archive:
        assert archive.namelist() == ["0001.roi", "0002.roi", "0003.roi"]
        assert struct.unpack(">I", archive.read("0001.roi")[40:44]) == (0,)
