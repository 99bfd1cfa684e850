"""A model trained on palette masks draws its overlay in the data set's own colours: its
objects' outlines (QuPath's classification colour, Fiji ROIs' stroke) take the same, read
whole and streamed (s36: they took the VOC colour of the class index, which differs)."""

import json
import struct
import zipfile

import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.outlines import outline_colours
from unetlab.models import UNet
from unetlab.plots import palette

#: the data set's colours of mask values 0, 1, 2 (VOC's are black, dark red, dark green)
COLOURS = [[0, 0, 0], [20, 200, 240], [250, 210, 10]]


def _palette_net() -> UNet:
    """A semantic model of two object classes (rims, bright cores), as trained on palette
    masks."""
    net = local_net()
    del net.objects  # no instance model's record
    net.classes = ["background", "healthy", "apoptotic"]
    net.label_values = [0, 1, 2]
    net.palette = COLOURS + [[k, k, k] for k in range(3, 256)]
    return net


OWN = {"healthy": COLOURS[1], "apoptotic": COLOURS[2]}


def _classified(path) -> dict[str, list[int]]:
    """Each class's colour in a GeoJSON's features (one a class)."""
    found = {}
    for f in json.loads(path.read_text())["features"]:
        kind = f["properties"]["classification"]
        found.setdefault(kind["name"], []).append(kind["color"])
    assert all(c == colours[0] for colours in found.values() for c in colours)
    return {name: colours[0] for name, colours in found.items()}


def test_outlines_take_the_overlays_colours_of_a_palette_model(tmp_path):
    net = _palette_net()
    write_png(tmp_path / "a.png", nuclei_image(64, 64))
    objects = ObjectOptions(min_area=1)
    how = dict(objects=objects, outlines="both", draw_overlay=True)
    predict_file(net, tmp_path / "a.png", tmp_path / "out", **how)
    found = _classified(tmp_path / "out" / "a_objects.geojson")
    assert found == OWN
    with zipfile.ZipFile(tmp_path / "out" / "a_objects_rois.zip") as archive:
        for name in archive.namelist():
            (argb,) = struct.unpack(">I", archive.read(name)[40:44])
            assert list((argb & 0xFFFFFF).to_bytes(3, "big")) == OWN[name.split("-")[0]]


def test_a_streamed_slides_outlines_take_them_too(tmp_path):
    net = _palette_net()
    tifffile.imwrite(tmp_path / "big.tif", nuclei_image(96, 80, seed=2))
    how = dict(objects=ObjectOptions(min_area=1), outlines="geojson", large_threshold=100)
    predict_file(net, tmp_path / "big.tif", tmp_path / "out", **how)
    found = _classified(tmp_path / "out" / "big_objects.geojson")
    assert found == OWN


def test_a_model_without_a_palette_keeps_the_voc_colours_and_an_instance_model_none():
    net = UNet(in_channels=1, num_classes=3, depth=2, base_channels=4)
    net.classes = ["background", "healthy", "apoptotic"]
    semantic = ObjectOptions(min_area=1)
    colours = outline_colours(net, semantic)
    voc = palette(3).tolist()
    assert colours["healthy"] == colours["1"] == voc[1] and colours["apoptotic"] == voc[2]
    assert outline_colours(net, ObjectOptions(mode="instances")) is None
    assert outline_colours(net, None) is None
