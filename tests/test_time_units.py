"""A time-lapse's frame interval in any time unit its writer records gives ``t_s`` in
seconds: OME's µs, ns and d and ImageJ's µs and days were no unit, so the tables lost
``t_s`` (and an OME movie its outputs' interval) without a word (audit s37 timelapse);
a unit still unknown is said in one line."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab.data.tiffmeta import frame_seconds, read_page_axes

FRAMES = np.zeros((3, 8, 8), np.uint16)


@pytest.mark.parametrize(
    ("unit", "seconds"), [("\u00b5s", 5e-4), ("ns", 5e-7), ("d", 43200.0), ("ms", 0.5)]
)
def test_ome_time_units(tmp_path, unit, seconds):
    path = tmp_path / "m.ome.tif"
    meta = {"axes": "TYX", "TimeIncrement": 500.0, "TimeIncrementUnit": unit}
    if unit == "d":
        meta["TimeIncrement"] = 0.5
    tifffile.imwrite(path, FRAMES, metadata=meta)
    axes = read_page_axes(path, 3)
    assert frame_seconds(axes.timing) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("unit", "seconds"), [("\\u00B5s", 2e-6), ("us", 2e-6), ("days", 172800.0)]
)
def test_imagej_time_units(tmp_path, unit, seconds):
    path = tmp_path / "m.tif"
    meta = {"axes": "TYX", "finterval": 2.0, "tunit": unit}
    tifffile.imwrite(path, FRAMES, imagej=True, metadata=meta)
    assert frame_seconds(read_page_axes(path, 3).timing) == pytest.approx(seconds)


def test_an_unknown_time_unit_is_said(tmp_path, caplog):
    path = tmp_path / "odd.tif"
    meta = {"axes": "TYX", "finterval": 2.0, "tunit": "fortnight"}
    tifffile.imwrite(path, FRAMES, imagej=True, metadata=meta)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert frame_seconds(read_page_axes(path, 3).timing) is None
    assert "odd.tif: its frame interval is in 'fortnight', a time unit unetlab does not" in (
        caplog.text
    )
