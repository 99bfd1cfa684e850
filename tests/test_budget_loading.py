"""A time budget that loading the data spent before training began (audit s33 readme3 3):
the run trains one step and validates once, the least that leaves a usable, scored best.pt,
and says so in one line with the budget that would train."""

import numpy as np
import pytest

from unetlab.train import fit
from unetlab.train import run as train_run

from .test_budget import FOUR_STEPS, _fake_machine
from .test_train import tiny_config, write_blobs


@pytest.mark.parametrize("schedule", ["cosine", "none", "plateau"])
def test_a_budget_spent_by_loading_trains_one_step_and_says_so(tmp_path, monkeypatch, schedule):
    """Whatever the schedule: under none and plateau a new run was counted as trained (its
    budget spent), said "training had ended (epoch 0, step 0)" and trained nothing, the line
    on loading left out (s66 review)."""
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.1)  # a step, a validation image: 0.1 s
    real = train_run.started

    def slow_loading(*args, **kw):
        clock.now += 5.0  # of a 3-s budget
        return real(*args, **kw)

    monkeypatch.setattr(train_run, "started", slow_loading)
    cfg = tiny_config(
        data,
        "train.epochs=1000",
        "train.max_minutes=0.05",
        *FOUR_STEPS,
        f"train.schedule={schedule}",
    )
    result = fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    log = (tmp_path / "run" / "train.log").read_text()
    assert result["steps"] == 1 and result["epochs"] == 1
    rows = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)
    assert np.isfinite(rows["val_miou"])  # one validation: best.pt is scored
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()
    line = (
        "loading the data and building the net took 5.0 s of the 0.05-minute budget (3 s): "
        "none left to train; one step and one validation follow, so that the run leaves a "
        "usable checkpoint; set cfg.train.max_minutes to 1 or more to train"  # fit's (s54)
    )
    assert line in log, log
    assert "it bought 1 step (1 epoch)" in log and "0 s kept" not in log
    assert "training had ended" not in log
