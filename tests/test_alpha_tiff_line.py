"""An RGBA TIFF (its alpha recorded: ExtraSamples) given to an RGB model: its transparent
pixels are said once, by the line of its --nodata setting, as an RGBA PNG's are; it said
besides "its 4th channel is left out, as reading an RGBA file drops the alpha", a second
line of the same channel that did not agree with the first (s52 badinput). A 4-channel
TIFF whose 4th channel is not recorded as alpha keeps that line."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab.data import read_notes
from unetlab.inference.files import predict_file
from unetlab.models import UNet


def _lines(tmp_path, caplog, extra: int, nodata: str | int) -> list[str]:
    """The lines of predicting an RGBA TIFF (rows 0-14 alpha 0) whose 4th sample is of
    ExtraSamples kind ``extra`` (2: unassociated alpha; 0: unspecified) with an RGB model."""
    rgba = np.random.default_rng(0).integers(1, 255, (48, 40, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[:15, :, 3] = 0
    tifffile.imwrite(tmp_path / "cut.tif", rgba, photometric="rgb", extrasamples=[extra])
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_file(model, tmp_path / "cut.tif", tmp_path / "o", tile_size=32, nodata=nodata)
    return [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("nodata", ["auto", "none"])
def test_a_recorded_alpha_is_said_once_by_its_transparency_line(
    tmp_path, caplog, monkeypatch, nodata
):
    monkeypatch.setattr(read_notes, "_said", set())  # said once a process: not by earlier tests
    lines = _lines(tmp_path, caplog, 2, nodata)
    assert not [line for line in lines if "4th channel" in line], lines
    said = [line for line in lines if "cut.tif 31%" in line]
    assert len(said) == 1, lines
    assert ("left out of the normalisation" if nodata == "auto" else "like the rest") in said[0]


def test_a_fourth_channel_not_recorded_as_alpha_is_still_said(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(read_notes, "_said", set())
    lines = _lines(tmp_path, caplog, 0, "auto")
    assert [line for line in lines if "cut.tif: 4-channel image" in line], lines
    assert not [line for line in lines if "transparent" in line], lines


def test_a_recorded_alpha_with_a_number_for_nodata_is_said_left_out(tmp_path, caplog, monkeypatch):
    """s52 fix1: with nodata a number the alpha is read as sample, not as transparency, so
    no transparency line says it: the "4th channel is left out" line does (it was lost)."""
    monkeypatch.setattr(read_notes, "_said", set())
    lines = _lines(tmp_path, caplog, 2, 0)
    assert [line for line in lines if "cut.tif: 4-channel image" in line], lines
    assert not [line for line in lines if "transparent" in line], lines
