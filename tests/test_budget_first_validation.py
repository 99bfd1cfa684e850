"""A time budget keeps time for the first validation before one has run: a short run whose
first validation is its last still ends in its budget (an audit's paper net overran 2 min by
70 s: its 3-slice validation took ~50 s and nothing was kept for it)."""

import types

import numpy as np
import pytest
import torch

from unetlab.config import load_config
from unetlab.train.schedule import (
    FORWARD_SHARE,
    BudgetSchedule,
    TimeBudget,
    first_validation_steps,
    time_budget,
)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _steps_until_spent(out_of_time, clock, seconds_per_step: float) -> int:
    steps = 0
    while not out_of_time():  # the loop reads the budget after every step
        clock.now += seconds_per_step
        steps += 1
    return steps


def test_the_first_validation_is_kept_before_it_has_run():
    cfg = load_config(None, ["train.max_minutes=1", "train.schedule=none"])
    clock = FakeClock()
    budget = TimeBudget(100.0, clock=clock)
    out_of_time, pacer = time_budget(cfg, None, budget, first_validation=10.0)
    steps = _steps_until_spent(out_of_time, clock, 2.0)
    # 10 steps' worth (20 s) kept: training ends at 80 s, the validation then ends by 100 s
    assert steps == 40 and budget.held_back() == pytest.approx(20.0)
    pacer.record(clock.now, clock.now + 5.0)  # measured: 5 s; the estimate goes
    assert budget.held_back() == 5.0
    unplanned = TimeBudget(100.0, clock=FakeClock())
    assert _steps_until_spent(unplanned.spent, unplanned.clock, 2.0) == 50  # as before


def test_a_budget_schedule_anneals_over_the_time_before_the_first_validation():
    cfg = load_config(None, ["train.max_minutes=1"])
    clock = FakeClock()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=100.0, clock=clock)
    out_of_time, _ = time_budget(cfg, schedule, None, first_validation=10.0)
    steps = 0
    while not out_of_time():
        clock.now += 2.0
        schedule.step()
        steps += 1
    assert steps == 40 and optimizer.param_groups[0]["lr"] == 0.0
    assert schedule.kept == pytest.approx(20.0)


def test_first_validation_steps_counts_the_input_pixels_a_forward_reads():
    cfg = load_config(None, ["data.tile_size=572", "train.batch_size=1"])
    paper = types.SimpleNamespace(border=92)
    val = [types.SimpleNamespace(mask=np.zeros((512, 512), np.int64))] * 3
    expected = FORWARD_SHARE * 3 * 696**2 / 572**2  # ~2.2 steps: ~55 s at 25 s a step
    assert first_validation_steps(cfg, paper, val) == pytest.approx(expected)
    assert first_validation_steps(cfg, paper, []) == 0.0


def _run(schedule, out_of_time, pacer, clock, step: float, validation: float) -> int:
    """Steps of ``step`` s, a validation of ``validation`` s at the end of every 8-step
    epoch when due and once the budget is spent (the loop's order); returns the steps."""
    steps = 0
    while True:
        clock.now += step
        schedule.step()
        steps += 1
        if steps % 8 and not out_of_time():
            continue
        if out_of_time() or pacer.due(clock.now):
            started = clock.now
            clock.now += validation
            pacer.record(started, clock.now)
        if out_of_time():
            return steps


def test_the_first_validation_s_estimate_is_capped_and_its_measure_gives_time_back():
    """Audit s35 laptop 2: before the first validation 112 s of a 2-minute budget were kept
    for it (an estimate from the training step's time), the lr reached 0 after 6 steps and
    the ~20 s validation left 37 s unused. Now the estimate is at most a quarter of the
    budget, and a cheaper measured validation gives the rest back to training."""
    cfg = load_config(None, ["train.max_minutes=2"])
    clock = FakeClock()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = BudgetSchedule(
        optimizer, "cosine", total_steps=10**9, seconds=120.0, clock=clock, since=clock.now
    )
    clock.now += 34.0  # loading the data
    schedule.start = schedule.elapsed()
    out_of_time, pacer = time_budget(cfg, schedule, None, first_validation=32.0)
    steps = _run(schedule, out_of_time, pacer, clock, step=3.5, validation=2.0)
    assert schedule.held_back() == 2.0  # measured
    assert clock.now - 100.0 > 120.0 - 2 * 3.5 - 2.0  # the budget used, less a step or so
    assert steps > 20 and optimizer.param_groups[0]["lr"] == 0.0  # ended annealed


def test_a_latched_schedule_gets_back_what_its_estimate_kept_too_much():
    clock = FakeClock()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=60.0, clock=clock)
    schedule.first_validation = 100.0  # steps: capped at 15 s
    while not schedule.spent():
        clock.now += 1.0
        schedule.step()
    assert clock.now - 100.0 == pytest.approx(45.0) and schedule.kept == 15.0
    pacer_end = clock.now + 2.0
    schedule.measured(2.0, pacer_end)  # the validation took 2 s: 13 s go back
    assert not schedule.spent() and optimizer.param_groups[0]["lr"] > 0.0
    while not schedule.spent():
        clock.now += 1.0
        schedule.step()
    assert clock.now - 100.0 == pytest.approx(58.0) and schedule.kept == 2.0


def test_a_schedule_its_steps_ended_gets_nothing_back(caplog):
    """A budget run that reached train.epochs before its clock: the last validation's
    measurement said "... 588 s go back to training" and the run ended all the same."""
    clock = FakeClock()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10, seconds=600.0, clock=clock)
    schedule.first_validation = 5.0
    while not schedule.spent():
        clock.now += 1.0
        schedule.step()
    assert schedule.steps == 10
    with caplog.at_level("INFO", logger="unetlab"):
        schedule.measured(1.0, clock.now + 1.0)
    assert schedule.spent() and "go back to training" not in caplog.text
    assert optimizer.param_groups[0]["lr"] == 0.0


def test_the_relay_line_says_what_the_validation_took_not_the_reserve(caplog):
    """The line of time given back said 'the validation took 28 s' of a 2-s validation: it
    named the reserve (the validation, 10 validations' worth for the label offset and twice
    an epoch's end). It says the validation's seconds and what stays kept."""
    cfg = load_config(None, ["train.label_offset=fit"])
    clock = FakeClock()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=600.0, clock=clock)
    out_of_time, pacer = time_budget(cfg, schedule, None, first_validation=10_000.0)
    pacer.after = 10.0  # what follows: 10 validations' worth
    pacer.ended_epoch(3.0)  # an epoch's end: checkpoints, plot
    while not out_of_time():
        clock.now += 1.0
        schedule.step()
    assert schedule.kept == pytest.approx(150.0)  # the first validation's estimate, capped
    with caplog.at_level("INFO", logger="unetlab"):
        pacer.record(clock.now, clock.now + 2.0)
    line = next(r.getMessage() for r in caplog.records if "go back" in r.getMessage())
    assert line.startswith("the validation took 2 s, not the 150 s kept for it: ")
    assert line.endswith("go back to training (28 s stay kept for it and what follows)")
