"""A run resumed with another time budget goes on with it: a longer one lays the rest of the
annealing over the new end (as --resume --epochs N does for epochs), a spent run given more
minutes trains again, and the log says what the new budget buys."""

import numpy as np
import pytest

from unetlab.checkpoint import load_checkpoint, update_checkpoint
from unetlab.train import BudgetSchedule, TimeBudget, fit, schedule_factor

from .test_budget import FOUR_STEPS, FakeClock, _fake_machine, _optimizer
from .test_train import tiny_config, write_blobs


def _spent(seconds: float, clock: FakeClock) -> dict:
    """The state of a cosine budget of ``seconds`` that ran to its end."""
    schedule = BudgetSchedule(
        _optimizer(), "cosine", total_steps=10**9, seconds=seconds, clock=clock
    )
    while not schedule.spent():
        clock.now += 1.0
        schedule.step()
    return schedule.state_dict()


def test_a_longer_budget_lays_the_rest_of_the_annealing_over_its_end():
    clock = FakeClock()
    state = _spent(60.0, clock)
    assert state["done"] and state["reached"] == 1.0 and state["seconds"] == 60.0
    optimizer = _optimizer()
    longer = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=90.0, clock=clock)
    longer.load_state_dict(state)
    assert not longer.spent() and longer.kept == 0.0
    assert longer.reached == pytest.approx(60.0 / 90.0)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * schedule_factor("cosine", 2 / 3))
    assert longer.training_left() == pytest.approx(30.0)
    lrs = []
    while not longer.spent():
        clock.now += 1.0
        longer.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert len(lrs) == 30 and lrs[-1] == 0.0 and all(b <= a for a, b in zip(lrs, lrs[1:]))


def test_the_same_or_a_shorter_budget_keeps_a_spent_run_spent():
    clock = FakeClock()
    state = _spent(60.0, clock)
    for seconds in (60.0, 30.0):
        optimizer = _optimizer()
        schedule = BudgetSchedule(
            optimizer, "cosine", total_steps=10**9, seconds=seconds, clock=clock
        )
        schedule.load_state_dict(state)
        assert schedule.spent() and schedule.reached == 1.0
    shorter = _spent(60.0, clock) | {"done": False, "reached": 0.25, "elapsed": 15.0}
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=20.0, clock=clock)
    schedule.load_state_dict(shorter)  # 15 of 20 s spent: three quarters through
    assert not schedule.spent() and schedule.reached == pytest.approx(0.75)


@pytest.mark.parametrize("older", [False, True])
def test_resume_with_more_minutes_trains_on_to_the_new_budget(tmp_path, monkeypatch, older):
    """An audit: `train --resume --minutes 1.5` of a run that spent its 1 min trained one
    step and said 'time budget of 1.5 min reached'. ``older``: a last.pt whose schedule
    state does not say its budget (its train config does)."""
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.1)
    first = ("train.epochs=1000", *FOUR_STEPS, "train.max_minutes=0.05")
    ended = fit(tiny_config(data, *first), run_dir=tmp_path / "run", progress=False, clock=clock)
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    scheduler = load_checkpoint(last)["scheduler"]
    assert scheduler["done"] and scheduler.pop("seconds") == 3.0
    if older:
        update_checkpoint(last, scheduler=scheduler)
    more = (*first[:-1], "train.max_minutes=0.1")  # 3 s more than the 3 s spent
    resumed = fit(
        tiny_config(data, *more), run_dir=tmp_path / "run", resume=True, progress=False, clock=clock
    )
    log = (tmp_path / "run" / "train.log").read_text()
    assert "the time budget is now 0.1 min (it was 0.05; " in log
    bought = float(log.split(": it buys ")[1].split()[0])
    assert 2.0 <= bought <= 3.0
    assert resumed["steps"] - ended["steps"] >= 0.7 * bought / 0.1
    assert "time budget of 0.1 min reached" in log
    lr = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)["lr"]
    at_end = len(lr) - (resumed["epochs"] - ended["epochs"])
    assert lr[at_end - 1] == 0.0 and lr[at_end] > 0.0 and lr[-1] == 0.0


def test_a_budget_that_only_stops_the_run_keeps_its_time_in_the_state():
    """none and plateau: the budget's seconds used travel with the run, as a clock
    schedule's do; the time between the interruption and the resume does not count."""
    clock = FakeClock()
    budget = TimeBudget(60.0, clock=clock)
    clock.now += 25.0
    assert not budget.spent()
    assert budget.state_dict() == {
        "seconds": 60.0,
        "elapsed": 25.0,
        "reserve": 0.0,
        "offset_dropped": False,
    }
    clock.now += 1000.0
    for seconds, left in ((60.0, 35.0), (90.0, 65.0)):  # the same budget, or a longer one
        resumed = TimeBudget(seconds, clock=clock)
        resumed.load_state_dict(budget.state_dict())
        clock.now += left - 0.5
        assert not resumed.spent()
        clock.now += 0.5
        assert resumed.spent() and resumed.seconds_spent == 60.0 + left - 35.0


@pytest.mark.parametrize("schedule", ["none", "plateau"])
def test_a_resumed_run_without_a_clock_schedule_trains_what_is_left(
    tmp_path, monkeypatch, schedule
):
    """An audit: a run of 3 s stopped after 3 epochs and resumed trained another 3 s."""
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.1)
    own = (*FOUR_STEPS, "train.max_minutes=0.05", f"train.schedule={schedule}")
    whole = ("train.epochs=1000", *own)

    def train(name: str, *overrides: str, resume: bool = False) -> int:
        cfg = tiny_config(data, *overrides)
        return fit(cfg, run_dir=tmp_path / name, resume=resume, progress=False, clock=clock)[
            "steps"
        ]

    straight = train("straight", *whole)
    assert train("split", "train.epochs=3", *own) == 12  # 4 steps an epoch
    resumed = train("split", *whole, resume=True)
    assert abs(resumed - straight) <= 4, (resumed, straight)  # not 12 + straight
    assert train("split", *whole, resume=True) == resumed  # spent: no step more
    assert load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")["budget"]["elapsed"] >= 3
