"""In a notebook (or a terminal) the lines a call says while its bar is drawn are said once,
above the bar: predict_folder said each file's line twice (its own stderr line, and again
through the bar's tqdm.write), evaluate_model wrote it onto the bar's own line (user trial
s64, /work/wt/user-trial4 c34.py, c31_bar.py)."""

from __future__ import annotations

import logging
import sys
import types

import numpy as np
import pytest

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model
from unetlab.inference.folders import predict_folder

CONSTANT = "the image is constant"


@pytest.fixture
def notebook(monkeypatch):
    """A Jupyter kernel without ipywidgets (text bars on stderr) whose logging nothing set up:
    call it in the test (pytest's root handlers, added once the test is called, set aside)."""

    def fresh():
        monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
        monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails: the text bar
        monkeypatch.setattr(logging.root, "handlers", [])
        monkeypatch.setattr(logging.root, "level", logging.WARNING)

    return fresh


def _net():
    """A net with a normalisation floor, which a constant image is said against."""
    net = local_net()
    net.normalization = {"mode": "per_image", "floor": [1.5], "dtype": "uint8"}
    return net


def _folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    write_png(images / "a.png", nuclei_image(48, 48).astype(np.uint8))
    write_png(images / "b.png", np.full((48, 48), 7, np.uint8))  # said: constant
    return images


def _said_lines(err: str) -> list[str]:
    """The text of each line as a terminal shows it: what follows its last carriage return
    (a bar redrawn over itself) or cursor-up."""
    return [line.split("\r")[-1].split("\x1b[A")[-1] for line in err.split("\n")]


def test_a_folder_s_lines_are_said_once_above_its_bars(notebook, tmp_path, capsys):
    notebook()
    predict_folder(_net(), _folder(tmp_path), tmp_path / "out")
    err = capsys.readouterr().err
    assert err.count(CONSTANT) == 1, err
    assert any(
        line.endswith("b.png: " + CONSTANT)
        or "b.png: " + CONSTANT in line[:200]
        and not line.startswith("b.png: 0tile")
        for line in _said_lines(err)
    ), err


def test_an_evaluation_s_lines_are_said_above_its_bar(notebook, tmp_path, capsys):
    notebook()
    _folder(tmp_path)
    masks = tmp_path / "masks"
    masks.mkdir()
    for name in ("a.png", "b.png"):
        write_png(masks / name, np.zeros((48, 48), np.uint8))
    evaluate_model(_net(), tmp_path)
    err = capsys.readouterr().err
    assert err.count(CONSTANT) == 1, err
    said = [line for line in _said_lines(err) if CONSTANT in line]
    assert not said[0].startswith("images"), err  # not written onto the bar's line
