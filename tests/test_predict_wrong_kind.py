"""predict of a PNG named .tif said tifffile's "cannot read this TIFF (TiffFileError: not a
TIFF file: header=b'\\x89PNG'); it is damaged or not a TIFF": the large-image check opens
every TIFF first, and its refusal missed the rename line that reading a file whole gives
(s52 badinput). The others are still predicted (exit 3, as for any failed input)."""

from __future__ import annotations

import numpy as np

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png, write_tiff
from unetlab.models import UNet


def test_a_png_named_tif_is_told_its_rename(tmp_path, capsys):
    checkpoint = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    (tmp_path / "in").mkdir()
    write_png(tmp_path / "in" / "a.png", np.zeros((32, 32), np.uint8))
    (tmp_path / "in" / "a.png").rename(tmp_path / "in" / "a.tif")
    write_tiff(tmp_path / "in" / "b.tif", np.random.default_rng(0).random((32, 32)))
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    said = f"failed: {tmp_path / 'in' / 'a.tif'}: a PNG file named .tif: rename it a.png"
    assert said in err and "not a TIFF" not in err and "Traceback" not in err
    assert (tmp_path / "out" / "b.png").is_file()
