"""A finished run resumed with ``plan=`` (a notebook cell run again with ``resume=True``) says
that it had ended, once: not the plan again ("measured the data in 1 s") nor the time budget
its loading took ("0 s left"), and leaves its plan.yaml as it was (s66 notebook). A resume
that trains on still says its plan."""

from __future__ import annotations

import logging

import pytest

from unetlab.errors import DatasetError
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
    budget lines, as a new run's leads them (s67 notebook: it followed them all), in
    train.log too (review s67: there the plan came first, its times going back)."""
    _resumed(tmp_path, caplog, 2)
    logged = (tmp_path / "run" / "train.log").read_text().splitlines()
    logged = [line.split(" ", 2)[2] for line in logged]  # without the date and time
    resumed = next(i for i, m in enumerate(logged) if m.startswith("done:")) + 1
    for said in (caplog.messages, logged[resumed:]):
        at = {m.split(" ", 1)[0]: i for i, m in reversed(list(enumerate(said)))}  # the first
        first_setup = min(i for i, m in enumerate(said) if m.startswith(SETUP))
        plan_at = next(i for i, m in enumerate(said) if m.startswith("plan from the data"))
        assert at["resuming"] < plan_at < first_setup, said


def _loading_seen(monkeypatch, tmp_path) -> list:
    """What train.log held, the resumed part of it, when a resume began to load its data
    (a kill there, out of memory, keeps that alone)."""
    import unetlab.train.run

    seen, started = [], unetlab.train.run.started
    log = tmp_path / "run" / "train.log"

    def loading(*args, **kwargs):
        seen.append(log.read_text().split("\n")[len(seen_before) :])
        return started(*args, **kwargs)

    seen_before = log.read_text().split("\n")[:-1]
    monkeypatch.setattr(unetlab.train.run, "started", loading)
    return seen


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_resume_says_its_first_line_before_it_loads_its_data(tmp_path, monkeypatch, epochs):
    """Review s67: its setup's lines were held until its data and net were loaded, so a
    resume that spent minutes loading said nothing, and a kill in the load kept nothing in
    train.log. Now where it goes on from and its plan (a finished run: that it had ended)
    are in train.log before the data loads."""
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    cfg, plan = _planned(data, 1)
    fit(cfg, run_dir=run, plan=plan, progress=False)
    seen = _loading_seen(monkeypatch, tmp_path)
    cfg, plan = _planned(data, epochs)
    fit(cfg, run_dir=run, plan=plan, resume=True, progress=False)
    said = [line.split(" ", 2)[2] for line in seen[0] if line]
    if epochs == 1:
        assert said == ["training had ended (epoch 1, step 1): finishing the run"], said
    else:
        assert said[0].startswith(f"resuming the run in {run} from step 1, the end of epoch 1")
        assert [m for m in said if m.startswith("plan from the data")], said


def test_a_finished_run_resumed_with_a_changed_key_says_it(tmp_path, caplog):
    """Review s67: resumed with train.batch_size 4 -> 1 after its training had ended, the
    run rewrote config.yaml with it and no longer said so."""
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    budget = ("train.max_minutes=5", "train.schedule=none", "data.tiles_per_epoch=4")
    fit(tiny_config(data, "train.epochs=1", *budget), run_dir=run, progress=False)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        changed = tiny_config(data, "train.epochs=1", "train.batch_size=1", *budget)
        fit(changed, run_dir=run, resume=True, progress=False)
    said = [m for m in caplog.messages if m.startswith("resuming with train.batch_size 4 -> 1")]
    assert len(said) == 1, caplog.messages
    assert said[0] in (run / "train.log").read_text()
    assert caplog.messages.index(said[0]) > caplog.messages.index(
        "training had ended (epoch 1, step 1): finishing the run"
    )


def test_a_quiet_setup_leaves_other_threads_lines_said(caplog):
    """A finished run's setup says its warnings and its changes alone; the lines another
    thread says meanwhile (a notebook's, a watcher's) are their own, said."""
    import threading

    from unetlab.train.log import quiet_setup
    from unetlab.train.resume import SAID_FINISHED

    caplog.set_level(logging.INFO)
    said = logging.getLogger("unetlab.train.run")
    with quiet_setup():
        said.info("data ...")
        said.warning("a warning")
        said.info("resuming with ...", extra=SAID_FINISHED)
        other = threading.Thread(target=said.info, args=("another thread's",))
        other.start()
        other.join()
    said.info("after")
    assert caplog.messages == ["a warning", "resuming with ...", "another thread's", "after"]


def test_a_time_budget_is_told_spent_from_last_pt_as_after_loading():
    """:func:`budget_spent` before a resume loads its data: a budget spent as saved
    (its reserve kept), a schedule on the clock ended under the same budget; not one
    another budget replaces (told once loaded) nor a run with none."""
    from unetlab.config import Config
    from unetlab.train.resume import budget_spent

    cfg = Config()
    cfg.train.max_minutes, cfg.train.schedule = 5, "none"
    saved = {"seconds": 300.0, "elapsed": 290.0, "reserve": 10.0}
    assert budget_spent({"budget": saved}, cfg)
    assert not budget_spent({"budget": saved | {"elapsed": 289.0}}, cfg)
    assert not budget_spent({"budget": saved | {"reserve": 0.0}}, cfg)
    cfg.train.schedule = "cosine"
    clocked = saved | {"done": True}
    assert budget_spent({"scheduler": clocked}, cfg)
    assert not budget_spent({"scheduler": clocked | {"seconds": 600.0}}, cfg)
    assert not budget_spent({"scheduler": clocked | {"done": False}}, cfg)
    cfg.train.max_minutes = 0
    assert not budget_spent({"scheduler": clocked}, cfg)


def test_a_resume_refused_in_its_setup_leaves_its_plan_yaml_as_it_was(tmp_path):
    """s67 re-read: a resume saved plan.yaml before its data loaded, so one refused in its
    setup (here a pair its split.json lists gone) left a plan.yaml of training that
    never came."""
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    cfg, plan = _planned(data, 1)
    fit(cfg, run_dir=run, plan=plan, progress=False)
    plan_yaml = (run / "plan.yaml").read_bytes()
    cfg, plan = _planned(data, 2)  # a step to come
    (data / "images" / "0.png").unlink()
    (data / "masks" / "0.png").unlink()
    with pytest.raises(DatasetError):
        fit(cfg, run_dir=run, plan=plan, resume=True, progress=False)
    assert (run / "plan.yaml").read_bytes() == plan_yaml
