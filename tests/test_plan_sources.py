"""The plan names the config file a kept key comes from, and the shipped nuclei config does
not cap a time budget (counting audit 6: "train.epochs = 50: your setting" for a user who
set only --config nuclei --minutes 8)."""

from __future__ import annotations

from unetlab.config import load_config
from unetlab.plan import plan_training

from .test_plan_instances import write_ids


def test_file_keys_and_name_apart_from_overrides(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("train:\n  epochs: 20\n  patience: 4\n")
    cfg = load_config(mine, ["train.patience=3", "train.max_minutes=2"])
    assert cfg.file_keys == {"train.epochs"} and cfg.config_file == str(mine)
    assert {"train.epochs", "train.patience", "train.max_minutes"} <= cfg.user_keys
    shipped = load_config("configs/nuclei.yaml", [])
    assert shipped.config_file == "configs/nuclei.yaml"
    assert load_config(None, []).config_file is None


def test_shipped_nuclei_config_leaves_a_budget_to_the_plan(tmp_path):
    root = write_ids(tmp_path / "d")
    cfg = load_config("nuclei", [f"data.root={root}", "train.max_minutes=8"])
    assert not {"train.epochs", "train.patience"} & cfg.user_keys
    planned, plan = plan_training(cfg)
    assert planned.train.epochs == 100_000 and planned.train.patience == 0
    lines = {line.split(" = ")[0]: line for line in plan.lines()}
    assert lines["train.epochs"] == "train.epochs = no limit: the 8 min budget ends the run"
    assert "set in" not in lines["train.epochs"] + lines["train.patience"]
    # what the file does set is named as the file's, not the user's
    assert lines["data.tile_size"].startswith("data.tile_size = 128: set in configs/nuclei.yaml")
    assert not [line for line in lines.values() if "your setting" in line]
    # without a budget: the defaults, 50 epochs
    planned, _ = plan_training(load_config("nuclei", [f"data.root={root}"]))
    assert planned.train.epochs == 50


def test_a_files_cap_is_kept_and_named(tmp_path):
    root = write_ids(tmp_path / "d")
    mine = tmp_path / "mine.yaml"
    mine.write_text("train:\n  epochs: 30\n  patience: 10\n")
    overrides = [f"data.root={root}", "train.max_minutes=8", "train.patience=5"]
    planned, plan = plan_training(load_config(mine, overrides))
    assert (planned.train.epochs, planned.train.patience) == (30, 5)  # the user's values win
    lines = {line.split(" = ")[0]: line for line in plan.lines()}
    assert lines["train.epochs"].startswith(f"train.epochs = 30: set in {mine} (the plan would")
    assert lines["train.patience"].startswith("train.patience = 5: your setting (the plan")
    assert plan.to_dict()["plan"]["train.epochs"]["set_in"] == str(mine)
    assert "set_in" not in plan.to_dict()["plan"]["train.patience"]


def test_a_budgets_epoch_cap_is_said_as_no_limit(tmp_path):
    """Not 'the plan would choose 100000' (audit s33 readme3 7): the cap is never reached."""
    root = write_ids(tmp_path / "d")
    cfg = load_config("nuclei", [f"data.root={root}", "train.max_minutes=0.5", "train.epochs=30"])
    planned, plan = plan_training(cfg)
    line = next(line for line in plan.lines() if line.startswith("train.epochs"))
    assert line == (
        "train.epochs = 30: your setting (the plan would choose no limit: the 0.5 min budget "
        "ends the run)"
    )
    assert (
        planned.train.epochs == 30 and plan.to_dict()["plan"]["train.epochs"]["planned"] == 100_000
    )
