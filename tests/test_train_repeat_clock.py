"""A time-budget run (--minutes) says the steps and epochs it bought and the command that
trains that length again without the clock (audit s31 fewshot 10)."""

from __future__ import annotations

import json
import shlex

import pytest

from unetlab.cli import main
from unetlab.train import fit

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_budget_run_names_its_length_and_the_epochs_that_repeat_it(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "run"
    cfg = tiny_config(data, "train.epochs=100000", "train.max_minutes=0.02")
    result = fit(cfg, run_dir=run, progress=False)
    repeat = json.loads((run / "summary.json").read_text())["repeat"]
    assert repeat["epochs"] == result["epochs"] >= 1 and repeat["steps"] == result["steps"]
    steps = f"{result['steps']} step" + ("s" if result["steps"] != 1 else "")  # 1 under load
    assert f"this run on the clock trained {steps}," in (run / "train.log").read_text()
    again = tmp_path / "again"
    words = shlex.split(repeat["command"].replace("NEW_RUN", str(again)))
    argv = words[words.index("train") :]  # after OMP_NUM_THREADS=1 (one_thread's count)
    assert main([*argv, "--no-progress"]) == 0
    repeated = json.loads((again / "summary.json").read_text())
    assert repeated["epochs"] == repeat["epochs"]
    assert repeated["steps"] == repeat["steps_of_epochs"] and "repeat" not in repeated


def test_an_epochs_run_has_no_repeat_line(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    assert "repeat" not in json.loads((tmp_path / "run" / "summary.json").read_text())
