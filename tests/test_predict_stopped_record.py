"""A prediction stopped by SIGTERM records what it wrote in predict.json (audit s30 ops 9)."""

from __future__ import annotations

import json
import signal

import numpy as np

import unetlab.inference.folders as folders
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.models import UNet
from unetlab.signals import Stopped


def test_a_stopped_prediction_keeps_its_record(tmp_path, monkeypatch):
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    for i in range(3):
        write_png(tmp_path / "in" / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
    real, calls = folders.predict_or_fail, []

    def stopped_at_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", stopped_at_the_second)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(out)]) == 143
    assert json.loads((out / "predict.json").read_text())
