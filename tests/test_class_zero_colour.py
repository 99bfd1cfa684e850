"""A class 0 the class names name as a class of its own (a road scene's ``road``, grey masks,
no colour table) gets a colour in overlays and ``--color`` label images, as a colour table's
road does; a background (named, or a class named by its mask value) stays black and untinted
(audit s39 roads: road was left untinted and drawn black)."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab import UNet
from unetlab.data.classes import names_a_class
from unetlab.data.io import write_png
from unetlab.data.preview import tile_colours
from unetlab.inference.files import predict_file
from unetlab.inference.records import label_colours
from unetlab.plots import overlay, palette

ROADS = ["road", "sidewalk", "car"]


def _net(names, label_values=None) -> UNet:
    net = UNet(1, len(names), depth=2, base_channels=2, padding="same")
    net.classes = list(names)
    if label_values is not None:
        net.label_values = label_values
    return net


def test_a_road_class_0_gets_the_first_voc_colour_no_class_has_and_is_tinted():
    colours = label_colours(_net(ROADS), color=True, values=False)
    assert colours.tolist() == palette(4)[[3, 1, 2]].tolist()
    image, labels = np.full((1, 2), 100, np.uint8), np.array([[0, 1]])
    assert overlay(image, labels, colours=colours)[0, 0].tolist() != [100, 100, 100]


@pytest.mark.parametrize(
    "names, values",
    [
        (["background", "nucleus"], None),  # binary nuclei
        (["0", "255"], [0, 255]),  # unnamed: classes named by their mask values
        (["membrane", "cell"], [0, 255]),  # ISBI
        (["cell", "membrane"], [255, 0]),  # ISBI, membrane class 1: class 0 was tinted-less
        (["background", "boundary", "interior"], None),  # an instance model
        (["grain boundary", "grain"], [0, 1]),  # boundaries as 0: the background, as membrane
        (["road", "background", "car"], None),  # another class is the background
        (["Void", "road", "car"], None),
    ],
)
def test_a_background_class_0_keeps_black(names, values):
    colours = label_colours(_net(names, values), color=True, values=False)
    assert colours.tolist() == palette(max(len(names), 2)).tolist()


def test_names_a_class_reads_case_and_separators_aside():
    assert names_a_class("road") and names_a_class("Ground") and names_a_class("traffic_sign")
    assert not any(map(names_a_class, ["Background", "no_class", "un-labelled", "12", None]))


def test_color_label_images_read_whole_and_streamed_colour_road(tmp_path):
    net = _net(ROADS)
    road = palette(4)[3].tolist()
    write_png(tmp_path / "a.png", np.zeros((24, 24), np.uint8))
    tifffile.imwrite(tmp_path / "big.tif", np.zeros((40, 36), np.uint8))
    predict_file(net, tmp_path / "a.png", tmp_path / "out", color=True)
    with Image.open(tmp_path / "out" / "a.png") as im:
        assert im.getpalette()[:3] == road
    predict_file(net, tmp_path / "big.tif", tmp_path / "out", color=True, large_threshold=100)
    with tifffile.TiffFile(tmp_path / "out" / "big.tif") as tif:
        assert (tif.pages[0].colormap[:, 0] // 257).tolist() == road


def test_the_training_preview_draws_the_target_in_the_same_colours():
    assert tile_colours([0, 1, 2], None, ROADS).tolist() == palette(4)[[3, 1, 2]].tolist()
    assert tile_colours([0, 1, 2], None, ["background", "a", "b"]).tolist() == palette(3).tolist()
    assert tile_colours([0, 255]).tolist() == palette(2).tolist()  # unnamed


def test_a_colour_table_models_streamed_color_labels_take_the_tables_colours(tmp_path):
    """A model trained on colour masks (``class_colors.txt``) writes its ``--color`` labels in
    the table's colours whether read whole or streamed: the streamed TIFF gave VOC's colours
    (road (192, 128, 0), sidewalk (128, 0, 0)) beside a legend in the table's (user2 s62)."""
    table = [[128, 64, 128], [244, 35, 232], [0, 0, 142]]  # road, sidewalk, car
    net = _net(ROADS, label_values=[0, 1, 2])
    net.palette = table + [[0, 0, 0]] * 253
    write_png(tmp_path / "a.png", np.zeros((24, 24), np.uint8))
    tifffile.imwrite(tmp_path / "big.tif", np.zeros((40, 36), np.uint8))
    predict_file(net, tmp_path / "a.png", tmp_path / "out", color=True)
    with Image.open(tmp_path / "out" / "a.png") as im:
        assert im.getpalette()[:9] == sum(table, [])
    predict_file(net, tmp_path / "big.tif", tmp_path / "out", color=True, large_threshold=100)
    with tifffile.TiffFile(tmp_path / "out" / "big.tif") as tif:
        assert (tif.pages[0].colormap[:, :3] // 257).T.tolist() == table


def test_streamed_labels_carry_the_palette_without_color_and_with_label_values(tmp_path):
    """A model that records its data set's palette writes it into streamed label TIFFs as into
    a label image read whole, without ``--color`` too (README), and with ``--label-values``
    the whole palette at the mask values written (review s62: neither was asserted)."""
    table = [[128, 64, 128], [244, 35, 232], [0, 0, 142]]
    net = _net(ROADS, label_values=[0, 2, 5])  # mask values: road 0, sidewalk 2, car 5
    net.palette = [[0, 0, 0]] * 256
    for value, colour in zip(net.label_values, table):
        net.palette[value] = colour
    tifffile.imwrite(tmp_path / "big.tif", np.zeros((40, 36), np.uint8))
    for values, out in ((False, "grey"), (True, "values")):
        predict_file(
            net, tmp_path / "big.tif", tmp_path / out, large_threshold=100, label_values=values
        )
    with tifffile.TiffFile(tmp_path / "grey" / "big.tif") as tif:
        assert (tif.pages[0].colormap[:, :3] // 257).T.tolist() == table  # classes 0, 1, 2
    with tifffile.TiffFile(tmp_path / "values" / "big.tif") as tif:
        colormap = (tif.pages[0].colormap // 257).T
    assert colormap[[0, 2, 5]].tolist() == table and not colormap[[1, 3, 4]].any()
