"""fit(cfg, plan=plan) given a cfg that does not hold the plan's values (s52 notebook: the
cfg from before plan_training, ``planned, plan = plan_training(cfg); fit(cfg, plan=plan)``)
is refused in one line before the run folder is made: its train.log and plan.yaml would say
values the run did not train with."""

import pytest

from unetlab import fit, load_config
from unetlab.errors import UnetlabError
from unetlab.plan.record import Choice, Plan

from .test_train import write_blobs

PLAN = Plan(
    choices=[
        Choice("data.tile_size", 64, "objects are ~14 px across"),
        Choice("train.batch_size", 32, "memory", user=True, yours=8),
        Choice("data.normalization", {"mode": "per_image"}, "fluorescence"),
    ]
)


def test_the_keys_a_config_does_not_hold_are_named():
    cfg = load_config(None, [])
    assert PLAN.unapplied(cfg) == [
        "data.tile_size is 256, the plan's 64",
        "train.batch_size is 4, your 8",
        "data.normalization is null, the plan's {mode: per_image}",
    ]
    cfg.train.batch_size = 8
    assert PLAN.unapplied(PLAN.apply(cfg)) == []


def test_fit_refuses_a_plan_its_config_does_not_hold(tmp_path):
    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 2)}"])
    with pytest.raises(UnetlabError) as caught:
        fit(cfg, run_dir=tmp_path / "run", plan=PLAN, progress=False)
    said = str(caught.value)
    assert said.startswith("fit's plan is not in cfg: data.tile_size is 256, the plan's 64 (and")
    assert "cfg, plan = plan_training(cfg)" in said and "\n" not in said
    assert not (tmp_path / "run").exists()
