"""fit(cfg, plan=plan) trains cfg's values; a key whose value in cfg is not the plan's (set
after plan_training, as fit's memory refusal advises, or the cfg from before plan_training,
s52 notebook) is recorded as the user's in plan.yaml and train.log, as a key set with --set,
and said in one line: neither file ever gives a plan value the run did not train with."""

import pytest
import yaml

from unetlab import fit
from unetlab.plan.record import Choice, Plan

from .test_train import tiny_config, write_blobs

PLAN = Plan(
    choices=[
        Choice("data.tile_size", 64, "objects are ~14 px across"),
        Choice("train.batch_size", 32, "memory", user=True, yours=8),
        Choice("data.normalization", {"mode": "per_image"}, "fluorescence"),
    ]
)


def test_keys_changed_after_planning_become_the_users_with_the_configs_values():
    cfg = tiny_config("data", "train.batch_size=8")
    cfg.data.tile_size = 64
    held = PLAN.held(cfg)  # only data.normalization is not the plan's
    assert [(c.key, c.user, c.used) for c in held.choices] == [
        ("data.tile_size", False, 64),
        ("train.batch_size", True, 8),
        ("data.normalization", True, None),
    ]
    assert held.after == (
        "data.normalization null (the plan's {mode: per_image}) set after planning: "
        "trained and recorded as yours"
    )
    late = held.choices[2]
    assert late.line() == (
        "data.normalization = null: set after planning (the plan would choose "
        "{mode: per_image}: fluorescence)"
    )
    assert held.to_dict()["plan"]["data.normalization"]["reason"] == (
        "set after planning: yours trained (the plan chose {mode: per_image}: fluorescence)"
    )
    assert held.to_dict()["plan"]["train.batch_size"]["reason"] == "memory"  # set before
    cfg.data.normalization = {"mode": "per_image"}
    assert PLAN.held(cfg) is PLAN  # nothing changed after planning: the plan as it is


def test_many_keys_not_the_plans_are_counted_and_the_planned_config_named():
    held = PLAN.held(tiny_config("data"))
    assert [c.used for c in held.choices] == [32, 4, None]
    assert held.after.startswith(
        "fit's config differs from the plan in 3 keys (data.tile_size 32 (the plan's 64), "
        "and 2 more): fit trains the config's values as yours; if it is the config from "
        "before plan_training, give fit the one plan_training returned (cfg, plan = "
    )


def _plan_file(run):
    return {
        k: (v["value"], v["set_by"]) for k, v in yaml.safe_load(run.read_text())["plan"].items()
    }


def test_fit_trains_and_records_the_configs_values_not_the_plans(tmp_path):
    cfg = tiny_config(write_blobs(tmp_path / "data", 3), "train.epochs=1", "train.batch_size=2")
    fit(cfg, run_dir=tmp_path / "run", plan=PLAN, progress=False)
    assert _plan_file(tmp_path / "run" / "plan.yaml") == {
        "data.tile_size": (32, "user"),
        "train.batch_size": (2, "user"),
        "data.normalization": (None, "user"),
    }
    trained = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert trained["data"]["tile_size"] == 32 and trained["train"]["batch_size"] == 2
    log = (tmp_path / "run" / "train.log").read_text()
    assert "plan: data.tile_size = 32: set after planning (the plan would choose 64: " in log
    reason = yaml.safe_load((tmp_path / "run" / "plan.yaml").read_text())["plan"]
    assert reason["data.tile_size"]["reason"] == (
        "set after planning: yours trained (the plan chose 64: objects are ~14 px across)"
    )
    assert log.count("fit's config differs from the plan in 3 keys") == 1
    assert "plan: data.tile_size = 64" not in log


def test_a_reason_derived_from_a_key_set_after_planning_is_marked_stale():
    from unetlab.config import load_config
    from unetlab.plan import make_plan

    from .test_plan import facts

    cfg = load_config(None, ["data.tiles_per_epoch=101"])
    plan = make_plan(facts(areas=[300.0] * 10, n=12), cfg, explicit=set(), device="cpu")
    cfg = plan.apply(cfg)
    planned = {c.key: c for c in plan.choices}
    tile, batch = planned["data.tile_size"].value, planned["train.batch_size"]
    assert f"of {tile} px" in batch.reason
    cfg.data.tile_size = 92  # the tile changed after planning: the batch's reason was for 'tile'
    held = {c.key: c for c in plan.held(cfg).choices}
    assert held["train.batch_size"].reason == (
        f"{batch.reason} [reasoned for data.tile_size {tile}, set after planning to 92]"
    )
    assert "[reasoned for" in held["train.batch_size"].line()
    assert "[reasoned for" not in held["data.normalization"].reason  # not derived from it
    per_epoch = held["data.tiles_per_epoch"]
    assert per_epoch.reason == planned["data.tiles_per_epoch"].reason  # its batch is the same
    cfg.train.batch_size = batch.value + 1
    held = {c.key: c for c in plan.held(cfg).choices}
    assert held["data.tiles_per_epoch"].reason.endswith(
        f"[reasoned for train.batch_size {batch.value}, set after planning to {batch.value + 1}]"
    )
    assert held["train.batch_size"].late and "[reasoned" not in held["train.batch_size"].reason


def test_a_budget_s_epoch_cap_set_after_planning_is_said_as_the_plan_says_it():
    """The plan's epoch cap under a time budget is "no limit" in its lines, and so in the
    line of train.epochs set after planning (s64 user: "train.epochs 4 (the plan's 100000)
    set after planning")."""
    cap = Choice("train.epochs", 100000, "the 1 min budget ends the run", shown="no limit")
    cfg = tiny_config("data")
    cfg.train.epochs = 4
    assert Plan(choices=[cap]).held(cfg).after == (
        "train.epochs 4 (the plan's no limit) set after planning: trained and recorded as yours"
    )


def test_the_measurement_line_names_the_budget_that_trains(caplog):
    """A budget set off after planning is not named as the one the measurement was outside
    of (s64 user: cfg.train.max_minutes = 0 after a 1-minute plan, and fit said "measured
    the data in 1 s (outside the 1 min budget)")."""
    cfg = tiny_config("data", "train.max_minutes=0")
    caplog.set_level("INFO", logger="unetlab")
    Plan(choices=PLAN.choices, seconds=1.0, budget=1.0).held(cfg).log()
    assert "measured the data in 1 s" in caplog.messages
    cfg.train.max_minutes = 2.5
    caplog.clear()
    Plan(choices=PLAN.choices, seconds=1.0, budget=1.0).held(cfg).log()
    assert "measured the data in 1 s (outside the 2.5 min budget)" in caplog.messages


def _budget_plan(cfg):
    from unetlab.plan import make_plan

    from .test_plan import facts

    explicit = {"data.root", "train.device"}
    return make_plan(facts(areas=[300.0] * 10, n=12), cfg, explicit=explicit, device="cpu")


def test_a_budget_turned_off_after_planning_marks_its_reasons_stale():
    cfg = tiny_config("data", "train.max_minutes=1")
    plan = _budget_plan(cfg)
    cfg = plan.apply(cfg)
    cfg.train.max_minutes, cfg.train.epochs = 0, 4
    held = {c.key: c for c in plan.held(cfg).choices}
    assert held["train.patience"].reason == (
        "the 1 min budget ends the run, the lr annealed, not early stopping"
        " [reasoned for train.max_minutes 1, set after planning to 0]"
    )
    assert held["train.epochs"].late and "[reasoned" not in held["train.epochs"].reason
    cfg.train.max_minutes, cfg.train.epochs = 1, 100000
    assert plan.held(cfg) is plan  # as planned: nothing marked


def test_fit_refuses_the_plan_s_epoch_cap_with_the_budget_turned_off(tmp_path, monkeypatch):
    """plan_training under a 1 min budget set train.epochs to its "no limit" (100000); the
    budget turned off after planning trained 100000 epochs, said as none (review s64 user)."""
    from unetlab.errors import UnetlabError
    from unetlab.train import fitting

    def trained(*args, **kwargs):
        raise AssertionError("fit trained: nothing would end the run")

    monkeypatch.setattr(fitting, "_fit", trained)
    cfg = tiny_config(write_blobs(tmp_path / "data", 3), "train.max_minutes=1")
    plan = _budget_plan(cfg)
    cfg = plan.apply(cfg)
    assert cfg.train.epochs == 100000
    cfg.train.max_minutes = 0
    with pytest.raises(UnetlabError) as refused:
        fit(cfg, run_dir=tmp_path / "run", plan=plan, progress=False)
    assert str(refused.value) == (
        "train.epochs is the plan's no limit (a time budget ends the run), but"
        " train.max_minutes is 0, set after planning: nothing would end this run; set"
        " cfg.train.epochs (50, say) or cfg.train.max_minutes again before fit"
    )
    assert not (tmp_path / "run").exists()


def test_plan_lines_shown_in_the_cell_are_not_logged_again_but_kept_in_train_log(tmp_path, caplog):
    """``print("\\n".join(plan.lines()))`` then ``fit(cfg, plan=plan)`` said the plan's lines
    twice in the cell (s64 notebook): fit writes them to train.log alone and says so in one
    line; a line changed after planning (a key set on cfg since) is new, and said."""
    shown = Plan(
        choices=[
            Choice("data.tile_size", 32, "objects are ~14 px across"),
            Choice("train.batch_size", 2, "memory"),
        ]
    )
    print("\n".join(shown.lines()))
    cfg = tiny_config(write_blobs(tmp_path / "data", 3), "train.epochs=1", "train.batch_size=3")
    caplog.set_level("INFO", logger="unetlab")
    fit(cfg, run_dir=tmp_path / "run", plan=shown, progress=False)
    said = [m for m in caplog.messages if m.startswith("plan")]
    assert said == [
        f"plan from the data ({shown.how}): 1 line as plan.lines() showed them (in train.log), "
        "and:",
        "plan: train.batch_size = 3: set after planning (the plan would choose 2: memory)",
    ]
    log = (tmp_path / "run" / "train.log").read_text()
    assert log.count("plan: data.tile_size = 32: objects are ~14 px across") == 1
    assert log.count("plan: train.batch_size = 3: set after planning") == 1
    unseen = Plan(choices=shown.choices)  # its lines never shown: logged as before
    caplog.clear()
    fit(cfg, run_dir=tmp_path / "run2", plan=unseen, progress=False)
    assert "plan: data.tile_size = 32: objects are ~14 px across" in caplog.messages


def test_one_fit_takes_the_lines_shown_a_second_fit_says_them_in_the_cell(tmp_path, caplog):
    """The lines plan.lines() gave stayed recorded on the plan: a second
    ``fit(cfg, plan=plan)`` kept them from the cell again (review s65). One fit takes them;
    a second says every line, as a plan never shown."""
    plan = Plan(choices=[Choice("data.tile_size", 32, "objects are ~14 px across")])
    print("\n".join(plan.lines()))
    cfg = tiny_config(write_blobs(tmp_path / "data", 3), "train.epochs=1")
    caplog.set_level("INFO", logger="unetlab")
    fit(cfg, run_dir=tmp_path / "run", plan=plan, progress=False)
    assert "plan: data.tile_size = 32: objects are ~14 px across" not in caplog.messages
    caplog.clear()
    fit(cfg, run_dir=tmp_path / "run2", plan=plan, progress=False)
    assert "plan: data.tile_size = 32: objects are ~14 px across" in caplog.messages
    assert f"plan from the data ({plan.how}):" in caplog.messages
