"""The data check names an inverted binary mask among the others (audit s34 messy 2)."""

from __future__ import annotations

import numpy as np

from unetlab.config import load_config
from unetlab.data.io import write_png
from unetlab.plan.training import check_training_data


def test_the_check_names_an_inverted_mask(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    rng = np.random.default_rng(0)
    for k in range(6):
        mask = np.zeros((48, 48), np.uint8)
        mask[10:20, 10 + k : 20 + k] = 255
        mask = 255 - mask if k == 3 else mask
        write_png(tmp_path / "masks" / f"m{k}.png", mask)
        write_png(tmp_path / "images" / f"m{k}.png", rng.integers(0, 255, (48, 48), np.uint8))
    cfg = load_config(None, [f"data.root={tmp_path}", "model.depth=2", "data.tile_size=32"])
    notes = check_training_data(cfg)
    inverted = [n for n in notes if "inverted mask" in n]
    assert len(inverted) == 1 and "covers 96% of" in inverted[0]
    assert f"{tmp_path}/masks/m3.png but 4% of each of the 5 other masks" in inverted[0]
