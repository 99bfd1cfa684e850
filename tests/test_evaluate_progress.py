"""evaluate_model(progress=True) draws a bar of the images, as fit and predict_folder do (it
raised "'bool' object is not callable" after the first image: audit s32 notebook 4)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import unetlab
from unetlab.errors import UnetlabError


def test_progress_is_a_bar_a_function_or_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # a notebook
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 32, 32)).astype(np.uint8)
    unetlab.write_dataset(images, (images > 128).astype(np.uint8), tmp_path / "data")
    net = unetlab.UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    report = unetlab.evaluate_model(net, tmp_path / "data", progress=True)
    assert len(report.images) == 2 and "2/2" in capsys.readouterr().err
    names = []
    unetlab.evaluate_model(net, tmp_path / "data", progress=names.append)
    assert names == ["000", "001"]
    with pytest.raises(UnetlabError, match="progress must be True .* function of each image"):
        unetlab.evaluate_model(net, tmp_path / "data", progress=1)
