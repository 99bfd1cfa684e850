"""predict_file(progress=True) draws a bar of the tiles, as predict_image and predict_folder
do (it took only a function: audit s32 notebook 4)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import unetlab
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError


def test_progress_true_draws_a_bar_and_anything_else_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # a notebook
    write_png(tmp_path / "a.png", np.random.default_rng(0).integers(0, 255, (40, 40), np.uint8))
    net = unetlab.UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    assert unetlab.predict_file(net, tmp_path / "a.png", tmp_path / "out", progress=True)
    assert "a.png: " in capsys.readouterr().err
    done = []
    unetlab.predict_file(net, tmp_path / "a.png", tmp_path / "two", progress=done.append)
    assert sum(done) >= 1
    with pytest.raises(UnetlabError, match="progress must be True"):
        unetlab.predict_file(net, tmp_path / "a.png", tmp_path / "three", progress="yes")
    assert not (tmp_path / "three").exists()
