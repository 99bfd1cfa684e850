"""configs/paper.yaml is the paper's recipe: the plan changes none of its values, and it
sets the choices the paper makes that unetlab's defaults do not (every tile deformed, no
label offset)."""

from pathlib import Path

import numpy as np
from PIL import Image

from unetlab.config import load_config
from unetlab.plan import plan_training

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_the_plan_keeps_every_value_of_the_paper_recipe(tmp_path):
    rng = np.random.default_rng(0)
    mask = np.full((64, 64), 255, np.uint8)
    for k in range(3):  # a membrane network 3 px wide around 64 cells: none touch
        mask[k::8, :] = mask[:, k::8] = 0
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(10):
        Image.fromarray(rng.integers(0, 256, (64, 64), np.uint8)).save(tmp_path / f"images/{i}.png")
        Image.fromarray(mask).save(tmp_path / f"masks/{i}.png")
    cfg = load_config(CONFIGS / "paper.yaml", [f"data.root={tmp_path}"])
    assert cfg.train.label_offset == "none" and cfg.augment.p_elastic == 1.0
    assert cfg.data.weight_map and cfg.augment.elastic and cfg.model.dropout == 0.5
    planned, plan = plan_training(cfg)
    assert planned.to_dict() == cfg.to_dict()
    assert all(c.user for c in plan.choices), [c.key for c in plan.choices if not c.user]
    # where the plan would choose otherwise it says so, beside the value kept
    said = {c.key: c.line() for c in plan.choices}
    assert said["data.weight_map"].startswith("data.weight_map = true: set in ")
    assert "(the plan would choose false" in said["data.weight_map"]
