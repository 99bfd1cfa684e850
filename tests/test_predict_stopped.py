"""A prediction stopped by SIGTERM says how many inputs have their outputs and how to go
on (audit s30 ops 9)."""

from __future__ import annotations

import signal

import numpy as np

import unetlab.inference.folders as folders
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.models import UNet
from unetlab.signals import Stopped


def test_a_stopped_prediction_counts_its_outputs_and_names_the_fix(tmp_path, monkeypatch, capsys):
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", model)
    rng = np.random.default_rng(0)
    for i in range(4):
        write_png(tmp_path / "in" / f"{i:02d}.png", rng.integers(0, 255, (24, 24), np.uint8))
    real, calls = folders.predict_or_fail, []

    def stopped_at_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", stopped_at_the_third)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(out), "--device", "cpu"]) == 143
    err = capsys.readouterr().err
    assert (
        f"unetlab predict: stopped by SIGTERM with the outputs of 2 of 4 inputs in {out}; "
        "continue with the same command and --skip-existing"
    ) in err
    assert err.count("stopped by SIGTERM") == 1
