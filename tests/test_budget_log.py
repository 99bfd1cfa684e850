"""Under a time budget the log says how long the run trains, not '100000 epochs', and its
epoch lines have no '/100000'; without a budget they are as before."""

import re

import pytest

from unetlab.plan import BUDGET_EPOCHS
from unetlab.train import fit

from .test_budget import _fake_machine
from .test_train import tiny_config, write_blobs


@pytest.mark.parametrize("epochs", [BUDGET_EPOCHS, 1000])
def test_a_budgeted_run_logs_its_minutes_and_bare_epoch_numbers(tmp_path, monkeypatch, epochs):
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.5)
    budget = ("train.max_minutes=0.05", "data.tiles_per_epoch=8")
    cfg = tiny_config(data, f"train.epochs={epochs}", *budget)
    fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    log = (tmp_path / "run" / "train.log").read_text()
    ends = "the budget" if epochs == BUDGET_EPOCHS else "the budget or epoch 1000"
    assert f"training for 0.05 min in epochs of 2 steps of batch 4; {ends} ends the run (" in log
    assert "epochs x" not in log
    numbers = re.findall(r" epoch (\d+(?:/\d+)?)  train loss", log)
    assert numbers[0] == ("1" if epochs == BUDGET_EPOCHS else "1/1000")


def test_a_run_without_a_budget_logs_epochs_as_before(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    fit(tiny_config(data), run_dir=tmp_path / "run", progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "training 2 epochs x 2 steps of batch 4 (adamw, lr 0.001, cosine schedule, ce" in log
    assert " epoch 1/2  train loss" in log and " epoch 2/2  train loss" in log


def test_a_one_epoch_run_says_one_epoch(tmp_path):
    """ "training 1 epochs x 3 steps" (s65 notebook walk): the count and its noun agree."""
    data = write_blobs(tmp_path / "data", 4)
    fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "training 1 epoch x 2 steps of batch 4 (adamw" in log and "1 epochs" not in log
