"""A finished run resumed with ``plan=`` (a notebook cell run again with ``resume=True``) says
that it had ended, once: not the plan again ("measured the data in 1 s") nor the time budget
its loading took ("0 s left"), and leaves its plan.yaml as it was (s66 notebook). A resume
that trains on still says its plan."""

from __future__ import annotations

import logging

from unetlab.plan import plan_training
from unetlab.train import fit

from .test_train import tiny_config, write_blobs


def _planned(data, epochs: int):
    """A planned config of ``epochs`` under a 5-minute budget that only ends the run (no
    schedule on the clock: a cosine one ends with the first run's last step)."""
    budget = ("train.max_minutes=5", "train.schedule=none")
    cfg = tiny_config(data, f"train.epochs={epochs}", *budget, "data.tiles_per_epoch=4")
    return plan_training(cfg)


def test_a_finished_run_resumed_with_its_plan_says_it_ended_alone(tmp_path, caplog):
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    cfg, plan = _planned(data, 1)
    fit(cfg, run_dir=run, plan=plan, progress=False)
    plan_yaml = (run / "plan.yaml").read_bytes()
    cfg, plan = _planned(data, 1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        fit(cfg, run_dir=run, plan=plan, resume=True, progress=False)
    said = caplog.messages
    assert [m for m in said if m.startswith("training had ended")] == [
        "training had ended (epoch 1, step 1): finishing the run"
    ]
    assert not [m for m in said if m.startswith(("measured the data", "plan from the data"))]
    assert not [m for m in said if m.startswith("loading the data and building the net")]
    assert (run / "plan.yaml").read_bytes() == plan_yaml


def test_a_resume_that_trains_on_says_its_plan_and_budget(tmp_path, caplog):
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    cfg, plan = _planned(data, 1)
    fit(cfg, run_dir=run, plan=plan, progress=False)
    cfg, plan = _planned(data, 2)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        result = fit(cfg, run_dir=run, plan=plan, resume=True, progress=False)
    assert result["epochs"] == 2
    said = caplog.messages
    assert len([m for m in said if m.startswith("plan from the data")]) == 1
    assert len([m for m in said if m.startswith("loading the data and building the net")]) == 1


SETUP = ("run folder ", "device ", "model ", "training for ", "data ", "mask values found")


def _resumed(tmp_path, caplog, epochs: int) -> None:
    """A planned run of 1 epoch, then resumed for ``epochs`` with its plan, its lines in
    ``caplog`` (those of the first run cleared)."""
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    cfg, plan = _planned(data, 1)
    fit(cfg, run_dir=run, plan=plan, progress=False)
    cfg, plan = _planned(data, epochs)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        fit(cfg, run_dir=run, plan=plan, resume=True, progress=False)


def test_a_finished_run_resumed_says_no_setup_line(tmp_path, caplog):
    """s67 notebook: a finished run resumed still said where it resumed from, its data
    checks, data, model and time budget ("training for 5 min ..."), then that it had ended:
    now that line alone of them."""
    _resumed(tmp_path, caplog, 1)
    said = [r.getMessage() for r in caplog.records if r.levelno < logging.WARNING]  # warnings kept
    assert said[0] == "training had ended (epoch 1, step 1): finishing the run", said
    assert not [m for m in said if m.startswith((*SETUP, "resuming the run"))], said


def test_a_resume_that_trains_on_says_its_plan_before_its_setup(tmp_path, caplog):
    """Its plan follows the line on where it resumes from and leads its data, model and
    budget lines, as a new run's leads them (s67 notebook: it followed them all)."""
    _resumed(tmp_path, caplog, 2)
    said = caplog.messages
    at = {m.split(" ", 1)[0]: i for i, m in reversed(list(enumerate(said)))}  # the first
    first_setup = min(i for i, m in enumerate(said) if m.startswith(SETUP))
    plan_at = next(i for i, m in enumerate(said) if m.startswith("plan from the data"))
    assert at["resuming"] < plan_at < first_setup, said


def test_lines_held_over_a_setup_that_fails_are_said_in_their_order(caplog):
    """A resume's setup lines are held until it is known whether a step is to come; a
    setup that raises says those it said before its error, in order, warnings among them."""
    import pytest

    from unetlab.train.log import held_lines

    caplog.set_level(logging.INFO)
    said = logging.getLogger("unetlab.train.run")
    with pytest.raises(RuntimeError), held_lines():
        said.info("resuming")
        said.warning("a warning")
        assert caplog.messages == []  # held
        raise RuntimeError("setup failed")
    assert caplog.messages == ["resuming", "a warning"]
