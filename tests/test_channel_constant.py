"""A colour image given to a grey model names --channel C; an empty chosen channel is said
to be constant, not "N x below the model's floor" (audit s33 migrant finding 9)."""

from __future__ import annotations

import logging

import numpy as np

from unetlab.data.normalize import contrast_note
from unetlab.inference.predict import fit_channels


def _rgb() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.zeros((16, 16, 3), np.uint8)
    image[..., 1] = rng.integers(0, 200, (16, 16))  # nuclei in green, blue empty
    image[..., 0] = 5
    return image


def test_luminance_line_names_the_channel_option(caplog):
    with caplog.at_level(logging.WARNING):
        fit_channels(_rgb(), 1, name="x.tif")
    assert "predicting its luminance" in caplog.text
    # called from Python: the keyword (the command line's --channel C: tests/test_channel.py)
    assert "give channel=C, counted from 0 (0 red, 1 green, 2 blue)" in caplog.text


def test_an_empty_chosen_channel_is_said_constant(caplog):
    with caplog.at_level(logging.WARNING):
        out = fit_channels(_rgb(), 1, name="x.tif", channel=2)
    assert out.shape == (16, 16, 1)
    assert "x.tif: channel 2 is constant (empty: every pixel 0)" in caplog.text
    assert "cellpose's chan 2 is channel=1)" in caplog.text  # from Python: the keyword
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        fit_channels(_rgb(), 1, name="x.tif", channel=1)  # the nuclei: nothing to say
        fit_channels(_rgb(), 1, name="x.tif", channel=2, quiet=True)
    assert "constant" not in caplog.text


def test_an_empty_channel_on_the_command_line_names_the_flag(tmp_path, caplog):
    """The command line is told --channel 1, not the Python keyword."""
    import tifffile

    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.models import UNet

    tifffile.imwrite(tmp_path / "rgb.tif", _rgb(), photometric="rgb")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same").eval())
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "rgb.tif")]
    with caplog.at_level(logging.WARNING):
        assert main([*argv, "--output", str(tmp_path / "o"), "--channel", "2"]) == 0
    assert "rgb.tif: channel 2 is constant" in caplog.text
    assert "cellpose's chan 2 is --channel 1)" in caplog.text and "channel=" not in caplog.text


def test_a_constant_image_is_not_called_far_below_the_floor():
    spec = {"mode": "per_image", "floor": [36.0], "dtype": "uint8"}
    kind, line = contrast_note(spec, np.uint8, np.array([1e-6]))
    assert kind == "dim" and "constant (empty" in line and "below" not in line
    kind, line = contrast_note(spec, np.uint8, np.array([0.36]))
    assert "100x below the model's floor 36" in line
