"""A streamed image's objects of a multi-class semantic model (audit s31 drone 8): the CSV's
``class`` and ``class_name`` columns and predict's count per class, as the same image read
whole gives them; the least object size per class; a pyramid level's CSV keeps the class."""

import csv
import logging

import numpy as np
import pytest
import tifffile

from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.cli import main
from unetlab.data import ome
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions

BY_CLASS = [None, {"count": 3, "area_p05": 40.0}, {"count": 3, "area_p05": 8.0}]


@pytest.fixture
def small_chunks(monkeypatch):
    """Labels and ids read back in 16 x 16 windows: objects cut by pieces' edges."""
    monkeypatch.setattr(ome, "CHUNK", 16)
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 16)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 256)


def grains(tmp_path, name="g.tif", repeat=(2, 2)):
    """A 40 x 48 image whose values are the classes (the net's labels), pixel size 0.5 um."""
    labels, _ = grains_and_pores()
    path = tmp_path / name
    tifffile.imwrite(path, np.tile(labels, repeat).astype(np.float32), resolution=(2.0, 2.0))
    return path


def predicted(net, path, out, **how):
    found = []
    written = predict_file(net, path, out, counted=lambda *a: found.append(a), **how)
    table = next(p for p in written if p.name.endswith("_objects.csv"))
    return table.read_bytes(), found


def net_of(values):
    net = three_class_net()
    net.label_values = values
    return net


@pytest.mark.parametrize("values", [None, [200, 0, 100]])  # labels written as mask values
def test_a_streamed_images_table_and_counts_are_those_of_the_image_read_whole(
    tmp_path, small_chunks, values
):
    path = grains(tmp_path)
    how = dict(objects=ObjectOptions(min_area=1), label_values=values is not None)
    whole, counted_whole = predicted(net_of(values), path, tmp_path / "w", **how)
    streamed, counted = predicted(net_of(values), path, tmp_path / "s", large_threshold=100, **how)
    assert (tmp_path / "s" / "g.tif").exists()  # streamed: an OME-TIFF of labels
    header = whole.decode().splitlines()[0].split(",")
    assert header[:3] == ["id", "class", "class_name"]
    assert streamed == whole
    assert counted == counted_whole == [([16], {"grain": 8, "pore": 8})]


def test_the_least_size_of_each_class_holds_on_a_streamed_image(tmp_path, small_chunks):
    path = grains(tmp_path)
    net = three_class_net(BY_CLASS)  # grains of 10 px or more, pores of 2 or more
    assert ObjectOptions.for_model(net).class_min_areas == (1, 10, 2)
    whole, counted_whole = predicted(net, path, tmp_path / "w", objects=ObjectOptions.for_model)
    streamed, counted = predicted(
        net, path, tmp_path / "s", objects=ObjectOptions.for_model, large_threshold=100
    )
    assert streamed == whole
    assert counted == counted_whole == [([12], {"grain": 8, "pore": 4})]  # 1-px pores gone


def test_a_levels_table_keeps_its_classes(tmp_path, small_chunks):
    level1 = grains(tmp_path)  # the level read whole, for its table in its own pixels
    image = np.kron(tifffile.imread(level1), np.ones((2, 2), np.float32))
    path = tmp_path / "p.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(image, tile=(16, 16), subifds=1, metadata={"PhysicalSizeX": 0.5})
        tif.write(image[::2, ::2], tile=(16, 16), subfiletype=1)
    objects = ObjectOptions(min_area=1)
    streamed, counted = predicted(three_class_net(), path, tmp_path / "s", objects=objects, level=1)
    whole, _ = predicted(three_class_net(), level1, tmp_path / "w", objects=objects)
    rows, before = (list(csv.DictReader(t.decode().splitlines())) for t in (streamed, whole))
    assert [r["class"] for r in rows] == [r["class"] for r in before]  # not scaled by 2 x 2
    assert [r["class_name"] for r in rows] == [r["class_name"] for r in before]
    assert [float(r["area"]) for r in rows] == [4 * float(r["area"]) for r in before]
    assert counted == [([16], {"grain": 8, "pore": 8})]


def test_cli_predict_says_a_streamed_images_objects_of_each_class(tmp_path, caplog, monkeypatch):
    from unetlab.checkpoint import save_model
    from unetlab.cli import predict

    (tmp_path / "in").mkdir()
    grains(tmp_path / "in", "g10.tif")
    save_model(tmp_path / "m.pt", three_class_net(BY_CLASS))
    monkeypatch.setattr(predict, "_load", lambda args, device, **_: three_class_net(BY_CLASS))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    argv += ["--output", str(tmp_path / "out"), "--instances", "--large-pixels", "100"]
    with caplog.at_level(logging.INFO):
        assert main(argv) == 0
    assert (tmp_path / "out" / "g10_objects.csv").exists()
    assert "g10.tif: 12 objects: 8 grain, 4 pore" in caplog.text
    caplog.clear()  # a file given alone: named by its path, as its streaming lines name it
    given = str(tmp_path / "in" / "g10.tif")
    argv[3:7] = ["--input", given, "--output", str(tmp_path / "alone")]
    with caplog.at_level(logging.INFO):
        assert main(argv) == 0
    assert f"{given}: 12 objects: 8 grain, 4 pore" in caplog.messages  # s56: by its name
    assert any(m.startswith(f"{given}: ") and "streaming" in m for m in caplog.messages)


def test_a_streamed_images_classes_are_a_step_said(tmp_path, small_chunks, caplog):
    """A semantic model's objects get their classes as they are measured: the step says
    so (it was not announced: s47)."""
    how = dict(objects=ObjectOptions(min_area=1), large_threshold=100)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        predicted(net_of(None), grains(tmp_path), tmp_path / "s", **how)
    assert "g_objects.tif: numbering, measuring and classifying 16 objects" in caplog.messages
