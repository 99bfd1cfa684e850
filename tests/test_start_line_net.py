"""The training start line names the net built (s61 words): "model small preset, N
parameters" was said of a run whose --set model.depth=2 and model.base_channels=4 built
another net than the preset's."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.config import load_config
from unetlab.data.io import write_png
from unetlab.models import UNet


def test_net_words_names_what_differs_from_the_preset():
    from unetlab.train.log import net_words

    section = load_config(None).model
    assert section.preset == "small"
    assert net_words(section, UNet.from_preset("small", in_channels=3, num_classes=4)) == (
        "small preset"
    )
    changed = UNet.from_preset("small", depth=3, base_channels=8, norm=None, dropout=0.25)
    assert net_words(section, changed) == (
        "small preset with depth 3, base_channels 8, norm none, dropout 0.25"
    )


@pytest.mark.usefixtures("one_thread")
def test_the_start_line_names_the_overridden_net(tmp_path, caplog):
    from unetlab.cli import main

    for stem in ("a", "b", "c"):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:24, 8:24] = 1
        write_png(tmp_path / "data" / "images" / f"{stem}.png", (mask * 150 + 40).astype(np.uint8))
        write_png(tmp_path / "data" / "masks" / f"{stem}.png", mask)
    tiny = ["--no-plan", "--no-progress", "--epochs", "1", "--set", "model.depth=2"]
    tiny += ["--set", "data.tile_size=32", "--set", "model.base_channels=4"]
    argv = ["train", "--data", str(tmp_path / "data"), "--run-dir", str(tmp_path / "run")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, *tiny]) == 0
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("model ")]
    assert len(said) == 1 and said[0].startswith(
        "model small preset with depth 2, base_channels 4, "
    ), said
