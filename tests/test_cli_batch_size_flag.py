"""predict --batch-size 0 said "batch size must be at least 1, not 0", naming no flag: the
command names --batch-size, the Python API batch_size (s52 badinput)."""

from __future__ import annotations

import numpy as np
import tifffile

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet


def test_a_batch_size_of_0_is_refused_naming_the_flag(tmp_path, capsys):
    checkpoint = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((32, 32), np.float32))
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "a.tif")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--batch-size", "0"]) == 2
    err = capsys.readouterr().err
    assert "unetlab predict: error: --batch-size must be at least 1, not 0" in err
    assert not (tmp_path / "out").exists()
