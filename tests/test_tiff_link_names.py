"""What is said of a TIFF's header names the path given, a link as given, not its target:
tifffile's file handle resolves a link, and its name was the warning's (s63)."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import tifffile
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_linked_tiffs_resolution_line_names_the_link(tmp_path, caplog):
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "store").mkdir(), (tmp_path / "in").mkdir()
    target = tmp_path / "store" / "blob_17.tif"
    tifffile.imwrite(target, np.zeros((24, 24), np.uint8), resolution=(3, 3), resolutionunit=1)
    try:
        os.symlink(target, tmp_path / "in" / "link.tif")
    except OSError:
        pytest.skip("no symbolic links here")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in" / "link.tif"), "--output", str(tmp_path / "o")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--no-progress"]) == 0
    said = [r.getMessage() for r in caplog.records if "no unit" in r.getMessage()]
    assert said and said[0].startswith("link.tif: its resolution tags have no unit"), said
    assert "blob_17" not in caplog.text
