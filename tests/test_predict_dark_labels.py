"""Label images of three classes or more are grey class indices 0, 1, 2, ... by default
(downstream tools read them): black in an image viewer. predict ends with one line naming
--color (audit s43 legend 2); coloured or two-class outputs get none."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main


@pytest.fixture
def work(tmp_path):
    """in/00.png (grey 24x20), a 4-class checkpoint m4.pt and a 2-class one m2.pt."""
    (tmp_path / "in").mkdir()
    image = np.random.default_rng(0).integers(0, 255, (24, 20), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "in" / "00.png")
    torch.manual_seed(0)
    for k in (2, 4):
        save_model(tmp_path / f"m{k}.pt", UNet(1, k, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _hints(work, caplog, checkpoint: str, out: str, *extra: str) -> list[str]:
    argv = ["predict", "--checkpoint", str(work / checkpoint), "--input", str(work / "in")]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--output", str(work / out), "--device", "cpu", *extra]) == 0
    return [r.getMessage() for r in caplog.records if "--color" in r.getMessage()]


def test_grey_index_labels_of_many_classes_end_with_a_color_hint(work, caplog):
    (hint,) = _hints(work, caplog, "m4.pt", "grey")
    assert "class indices 0-3" in hint and "--color writes them in the classes' colours" in hint
    assert Image.open(work / "grey" / "00.png").mode == "L"  # the default format kept
    assert _hints(work, caplog, "m4.pt", "colour", "--color") == []
    assert Image.open(work / "colour" / "00.png").mode == "P"
    assert _hints(work, caplog, "m2.pt", "two") == []
