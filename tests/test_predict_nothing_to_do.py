"""A predict whose every input is skipped or clashing says so in its start line, not
``predict: 0 file(s) (0 large), model ...`` (s37 leftovers)."""

from __future__ import annotations

import logging

import numpy as np

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.data.io import write_png


def _predict(tmp_path, *flags):
    args = ["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), *flags]
    return main(["predict", "--checkpoint", str(tmp_path / "m.pt"), *args])


def test_a_run_with_nothing_to_predict_says_why(tmp_path, caplog):
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    for name in ("a.png", "b.png"):
        write_png(tmp_path / "in" / name, np.zeros((24, 28), np.uint8))
    assert _predict(tmp_path) == 0
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(tmp_path, "--skip-existing") == 0
    assert "predict: nothing to predict: 2 skipped (their outputs are there)" in caplog.text
    assert "predict: 0 file" not in caplog.text
    write_png(tmp_path / "in" / "b.jpg", np.zeros((24, 28), np.uint8))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(tmp_path, "--skip-existing") == 3
    said = "nothing to predict: 1 skipped (their outputs are there), 2 failed (their outputs"
    assert said in caplog.text and "predict: 0 file" not in caplog.text


def test_the_start_line_counts_the_inputs_left_out_before_the_run(tmp_path, caplog):
    """11 road scenes said ``predict: 7 file(s)``, then ``5 failed`` at the end: the 4 whose
    outputs clash were counted nowhere at the start (audit s46 scenes)."""
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    for name in ("a.png", "a.jpg", "c.png"):
        write_png(tmp_path / "in" / name, np.zeros((24, 28), np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(tmp_path) == 3
    (start,) = [m for m in caplog.messages if m.startswith("predict: 1 file (")]
    assert start.endswith("; besides, 2 failed (their outputs would clash: each said below)")
