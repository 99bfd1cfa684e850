"""The no-pixel-size line counts the run's inputs that record none (s51 kromplines): it
read every input's metadata where the line was said, outside the run's per-file failures,
so a corrupt TIFF in the folder ended the whole run with tifffile's traceback (s51 review).
It fails on its own, with its own line; the other inputs are predicted and recorded."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet


def test_a_corrupt_tiff_beside_the_first_input_fails_alone(tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO)
    (inputs := tmp_path / "in").mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32), np.uint8)).save(
        inputs / "a.png"
    )
    (inputs / "b.tif").write_bytes(b"II*\x00garbage")
    checkpoint = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(inputs)]
    code = main([*argv, "--output", str(tmp_path / "out"), "--instances"])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    said = [r.getMessage() for r in caplog.records]
    assert [
        line for line in said if "1 of 2 inputs record no usable pixel size (first: a.png)" in line
    ]
    assert "b.tif" in err and (tmp_path / "out" / "a_objects.csv").is_file()
    assert (tmp_path / "out" / "predict.json").is_file()
