"""A Fiji stack saved as slices with a frame interval (Image > Properties on a plain stack)
is read as Z, said in one line that names the fix; given ``--axes TYX`` it is a time-lapse:
its outputs keep the interval and its tables ``t_s`` (they lost both: the given axes never
read the file's timing; audit s37 timelapse)."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet
from unetlab.data.tiffmeta import read_page_axes
from unetlab.errors import command_spelling
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions

T, H, W = 3, 24, 20


def _slices_with_interval(path):
    movie = np.random.default_rng(0).integers(0, 4000, (T, H, W)).astype(np.uint16)
    meta = {"axes": "ZYX", "finterval": 30.0}
    path.parent.mkdir(exist_ok=True)
    tifffile.imwrite(path, movie, imagej=True, metadata=meta)
    return path


def test_given_time_axis_keeps_the_recorded_interval(tmp_path):
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    path = _slices_with_interval(tmp_path / "m.tif")
    assert read_page_axes(path, T).letters == "Z"  # as Fiji shows it: slices
    objects = ObjectOptions(min_area=1)
    written = predict_file(net, path, tmp_path / "o", axes="TYX", objects=objects)
    for out in written:
        if out.suffix == ".tif":
            with tifffile.TiffFile(out) as tif:
                assert tif.series[0].axes == "TYX"
                assert tif.imagej_metadata["finterval"] == pytest.approx(30.0), out.name
    table = next(p for p in written if p.name == "m_objects.csv")
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "no objects to read t_s from"
    assert {(r["t"], r["t_s"]) for r in rows} <= {("0", "0"), ("1", "30"), ("2", "60")}


def test_slices_with_an_interval_are_said(tmp_path, caplog):
    path = _slices_with_interval(tmp_path / "s.tif")
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert read_page_axes(path, T).letters == "Z"
        read_page_axes(path, T)
    line = (
        "s.tif: its 3 pages are slices (Z), yet it records a frame interval (30 s): read as "
        "a Z stack without it; if they are time points, give {}, or save them as frames"
    )
    assert caplog.text.count(line.format("axes='TYX'")) == 1  # not both (s56)
    assert "--axes" not in caplog.text
    caplog.clear()
    path = _slices_with_interval(tmp_path / "c" / "s.tif")
    with caplog.at_level(logging.WARNING, logger="unetlab"), command_spelling():
        read_page_axes(path, T)
    assert caplog.text.count(line.format("--axes TYX")) == 1 and "axes='" not in caplog.text
    plain = tmp_path / "z.tif"
    tifffile.imwrite(plain, np.zeros((T, H, W), np.uint16), imagej=True, metadata={"axes": "ZYX"})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        read_page_axes(plain, T)
    assert "frame interval" not in caplog.text


@pytest.mark.parametrize(
    "setting, given", [("data", "cfg.data.axes = 'TYX'"), ("keyword", "axes='TYX'")]
)
def test_slices_with_an_interval_that_training_reads_name_its_config_key(
    tmp_path, caplog, setting, given
):
    """Training's data (a stack's split, its folds, fit's notes) said "give axes='TYX'", a
    keyword fit lacks (s56 review): a training names cfg.data.axes to Python; split_pairs
    called with its axes= keyword names that (s56 review F2: it named cfg.data.axes)."""
    from unetlab.data.datasets import split_pairs
    from unetlab.data.io import DATA_AXES

    (tmp_path / "d" / "images").mkdir(parents=True)
    (tmp_path / "d" / "masks").mkdir()
    _slices_with_interval(tmp_path / "d" / "images" / "s.tif")
    mask = np.zeros((T, H, W), np.uint8)
    tifffile.imwrite(
        tmp_path / "d" / "masks" / "s.tif", mask, imagej=True, metadata={"axes": "ZYX"}
    )
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        kind = dict(axes_setting=DATA_AXES) if setting == "data" else {}  # training's readers
        train, val = split_pairs(tmp_path / "d", val_fraction=0.34, **kind)
    assert train and val  # a single stack: its last pages for val, said with the axes
    assert f"give {given}, or save them as frames" in caplog.text


def test_slices_with_an_interval_are_said_to_each_reader_in_its_form(tmp_path, caplog):
    """Said once per file, the first reader's wording won: a file a training read first
    (cfg.data.axes = 'TYX') was not said again to predict's axes= (s57)."""
    from unetlab.data.tiffmeta import AXES_AS, DATA_AXES_AS

    path = _slices_with_interval(tmp_path / "f" / "s.tif")
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        for axes_as in (DATA_AXES_AS, AXES_AS, DATA_AXES_AS, AXES_AS):
            read_page_axes(path, T, axes_as=axes_as)
    assert caplog.text.count("give cfg.data.axes = 'TYX', or save") == 1
    assert caplog.text.count("give axes='TYX', or save") == 1
