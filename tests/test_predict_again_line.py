"""The same predict run twice says that it predicts again what the first run finished, and
names the flag that keeps it (walk s49: a finished slide's rerun predicted it again for
minutes without a word)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, predict_folder, save_model
from unetlab.cli import main

AGAIN = "by this checkpoint and settings: predicted again, replacing them"


@pytest.fixture
def work(tmp_path):
    (tmp_path / "in").mkdir()
    for i in range(3):
        image = np.random.default_rng(i).integers(0, 255, (24, 20), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "in" / f"0{i}.png")
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *extra])


def _said(caplog, work, *extra: str) -> str:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(work, *extra) == 0
    return caplog.text


def test_a_rerun_says_it_predicts_again_and_names_the_flag(work, caplog):
    assert AGAIN not in _said(caplog, work)  # nothing there the first time
    said = _said(caplog, work)
    assert f"holds the outputs of 00.png and 2 more inputs {AGAIN} (--skip-existing" in said
    for other in (("--skip-existing",), ("--overwrite",), ("--tile-size", "16")):
        # kept; told to replace; another run's settings
        assert AGAIN not in _said(caplog, work, *other), other


def test_from_python_the_line_names_the_keyword(work, caplog):
    from unetlab import load_model

    model = load_model(work / "m.pt")
    predict_folder(model, work / "in", work / "out", progress=False)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(model, work / "in", work / "out", progress=False)
    assert f"{AGAIN} (skip_existing=True keeps them)" in caplog.text


PARTIAL = "not all the outputs asked for now"


def test_skip_existing_says_why_it_predicts_a_finished_input_again(work, caplog):
    """walk s50: --skip-existing with --overlay added predicted each input (a slide: minutes)
    again without a word; the line names the inputs and the outputs that are missing."""
    _said(caplog, work)
    said = _said(caplog, work, "--skip-existing", "--overlay")
    assert "00.png and 2 more inputs: the labels this checkpoint and settings made" in said
    assert f"{PARTIAL} (overlay missing)" in said
    line = said.split(PARTIAL)[1].splitlines()[0]
    assert "predicted again" in line
    assert "drawn from those there without the net where the image is read whole" in line
    assert "SEG" not in line  # s74 review: a DICOM series' SEG named in a PNG run's line
    assert PARTIAL not in _said(caplog, work, "--skip-existing", "--overlay")  # all there now
    (work / "in" / "03.png").write_bytes((work / "in" / "00.png").read_bytes())
    assert PARTIAL not in _said(caplog, work, "--skip-existing")  # a new input: no line


def test_skip_existing_names_each_missing_kind(work, caplog):
    _said(caplog, work, "--overlay")
    for name in ("00_overlay.png", "01_overlay.png", "02_overlay.png"):
        (work / "out" / name).unlink()
    said = _said(caplog, work, "--skip-existing", "--overlay", "--save-probabilities")
    assert f"{PARTIAL} (probabilities, overlay missing)" in said
    assert "without the net" not in said.split(PARTIAL)[1].splitlines()[0]  # they need it
