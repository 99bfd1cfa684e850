"""Predict's line of the pixels it leaves out fits predict (audit s50 roads: predict of RGBA
images said they were "left out of the normalisation, the loss and validation": predict has
neither, and its setting is --nodata, not data.nodata)."""

from __future__ import annotations

import logging

import pytest

from tests.test_nodata_alpha_lines import _cut_png
from unetlab import save_model
from unetlab.cli import main
from unetlab.data import read_notes
from unetlab.data.read_notes import left_out_line
from unetlab.inference.files import predict_file
from unetlab.models import UNet

SHARES = {"a.png": (0.31, "transparent")}


def test_trainings_line_is_unchanged_and_predicts_has_no_loss():
    assert left_out_line(SHARES) == (
        "1 image with nodata or transparent pixels (a.png 31% transparent): left out of the "
        "normalisation, the loss and validation, and predicted as background, with no object "
        "there (a TIFF label image holds a no-data value there, which its GDAL_NODATA tag "
        "names; data.nodata; none reads them as sample)"
    )
    assert left_out_line(SHARES, predicted=True) == (
        "1 image with nodata or transparent pixels (a.png 31% transparent): left out of the "
        "normalisation and predicted as background, with no object there (a TIFF label image "
        "holds a no-data value there, which its GDAL_NODATA tag names; nodata='none' reads "
        "them as sample)"
    )


def _model(path):
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "cell"]
    save_model(path, model)
    return model


@pytest.mark.parametrize("how", ["cli", "python"])
def test_predict_of_a_cut_out_says_predicts_line(tmp_path, caplog, monkeypatch, how):
    monkeypatch.setattr(read_notes, "_said", set())  # said once a process: not by earlier tests
    (tmp_path / "in").mkdir()
    _cut_png(tmp_path / "in" / "cut.png")
    model = _model(tmp_path / "m.pt")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        if how == "cli":
            argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
            assert (
                main([*argv, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "o")]) == 0
            )
        else:
            predict_file(model, tmp_path / "in" / "cut.png", tmp_path / "o", tile_size=32)
    (line,) = [r.getMessage() for r in caplog.records if "left out of" in r.getMessage()]
    assert "left out of the normalisation and predicted as background" in line
    assert "loss" not in line and "validation" not in line and "data.nodata" not in line
    fix = "--nodata none" if how == "cli" else "nodata='none'"
    assert line.endswith(f"; {fix} reads them as sample)")
