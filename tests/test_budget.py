"""The time budget: a clock-driven schedule ends annealed on fast and slow machines alike;
validations are paced; best.pt follows a smoothed validation score."""

import logging
import re

import numpy as np
import pytest
import torch

from unetlab.config import load_config
from unetlab.inference.tta import fitting_tta
from unetlab.train import (
    BudgetSchedule,
    TrainState,
    ValidationPacer,
    build_scheduler,
    fit,
    offset_fit_cost,
    schedule_factor,
    smooth,
)
from unetlab.train import loop as train_loop
from unetlab.train import offset as train_offset
from unetlab.train import run as train_run
from unetlab.train.fitting import _track

from .test_train import tiny_config, write_blobs


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _optimizer(lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def test_schedule_factor_exact_values():
    assert schedule_factor("cosine", 0.0) == 1.0 and schedule_factor("cosine", 1.0) == 0.0
    assert schedule_factor("cosine", 0.5) == pytest.approx(0.5)
    assert schedule_factor("poly", 0.5) == pytest.approx(0.5**0.9)
    assert schedule_factor("poly", 2.0) == 0.0 and schedule_factor("cosine", -1) == 1.0


@pytest.mark.parametrize("seconds_per_step", [0.05, 0.7])
def test_budget_schedule_ends_annealed_on_any_machine(seconds_per_step):
    clock, optimizer = FakeClock(), _optimizer()
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=60.0, clock=clock)
    steps = 0
    while not schedule.spent():
        clock.now += seconds_per_step
        schedule.step()
        steps += 1
    assert steps == pytest.approx(60.0 / seconds_per_step, abs=1)
    assert optimizer.param_groups[0]["lr"] == 0.0
    clock, optimizer = FakeClock(), _optimizer()
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=60.0, clock=clock)
    clock.now += 30.0  # halfway through the 60 s: half the base lr (cosine)
    schedule.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)


def test_a_shrinking_reserve_never_raises_the_lr_again():
    """A slow first validation reserves much, a cheaper one later less: the progress waits
    for the clock instead of going back (the lr rose from 2.9e-05 to 1.8e-04 in an audit)."""
    clock, optimizer = FakeClock(), _optimizer()
    schedule = BudgetSchedule(optimizer, "cosine", total_steps=10**9, seconds=100.0, clock=clock)
    pacer = ValidationPacer(0.1, budget=schedule, after=1)  # the offset's cost: 1 validation
    pacer.record(clock.now, clock.now + 20.0)  # cold: 40 s kept, training ends at 60 s
    clock.now += 40.0
    schedule.step()
    high = schedule.reached
    pacer.record(clock.now, clock.now + 2.5)
    pacer.record(clock.now, clock.now + 2.5)  # the median of 20, 2.5, 2.5: 5 s kept
    lrs = []
    while not schedule.spent():
        clock.now += 1.0
        schedule.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert all(b <= a for a, b in zip(lrs, lrs[1:])) and lrs[-1] == 0.0
    assert schedule.reached >= high and schedule.kept == pytest.approx(5.0)
    assert clock.now - 100.0 == pytest.approx(100.0 - 5.0, abs=1.0)  # the budget used, not 60 s


def test_budget_schedule_resumes_the_budget_it_had_spent():
    clock, optimizer = FakeClock(), _optimizer()
    first = BudgetSchedule(optimizer, "poly", total_steps=100, seconds=10.0, clock=clock)
    clock.now += 4.0
    first.step()
    state = first.state_dict()
    clock.now += 1000.0  # time between the interruption and the resume does not count
    second = BudgetSchedule(_optimizer(), "poly", total_steps=100, seconds=10.0, clock=clock)
    second.load_state_dict(state)
    assert second.elapsed() == pytest.approx(4.0) and second.steps == 1
    # steps drive it when they run ahead of the clock
    second.steps = 79
    second.step()
    assert second.progress() == pytest.approx(0.8)


def test_step_driven_schedules_are_torchs_and_reach_zero():
    cfg = load_config(None, ["train.schedule=cosine"]).train
    optimizer = _optimizer()
    scheduler = build_scheduler(optimizer, cfg, 20)
    assert isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR)
    lrs = []
    for _ in range(20):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs[9] == pytest.approx(0.05) and lrs[-1] == pytest.approx(0.0, abs=1e-12)
    poly = build_scheduler(_optimizer(), load_config(None, ["train.schedule=poly"]).train, 20)
    assert isinstance(poly, torch.optim.lr_scheduler.PolynomialLR)
    budget = load_config(None, ["train.max_minutes=2"]).train
    assert isinstance(build_scheduler(_optimizer(), budget, 20), BudgetSchedule)


def test_validation_pacer_bounds_the_share():
    pacer = ValidationPacer(0.1)
    assert pacer.due(0.0)  # nothing measured yet
    pacer.record(10.0, 12.0)  # a 2 s validation: the next after 18 s more
    assert not pacer.due(29.9) and pacer.due(30.0)
    with pytest.raises(ValueError, match="share"):
        ValidationPacer(0.0)
    budget = BudgetSchedule(_optimizer(), "cosine", total_steps=10, seconds=600)
    pacer = ValidationPacer(0.1, budget=budget, after=10)
    pacer.record(10.0, 12.0)
    assert budget.reserve == 22.0  # the last validation and ten validations' worth after it
    pacer.record(30.0, 40.0)  # one slow validation (a busy machine) moves it to the median
    assert budget.reserve == pytest.approx(66.0)


def test_the_label_offset_costs_validations_by_its_predictions():
    fit_cfg = load_config(None, ["train.label_offset=fit"])
    assert offset_fit_cost(fit_cfg) == 8 + 2  # eight flips and turns, and the search
    assert (
        offset_fit_cost(
            load_config(
                None, ["train.label_offset=fit", "augment.flip=false", "augment.rot90=false"]
            )
        )
        == 1 + 2
    )
    assert offset_fit_cost(load_config(None, ["train.label_offset=[0.5, 0]"])) == 0
    upright = load_config(None, ["train.label_offset=fit", "augment.vflip=false"])
    assert offset_fit_cost(upright) == 8 + 2  # turns and left-right flips: all 8
    upright = load_config(None, ["augment.vflip=false", "augment.rot90=false"])
    assert fitting_tta(upright.augment) == ("identity", "hflip")  # never seen upside down
    assert fitting_tta(load_config(None, ["augment.flip=false"]).augment) == (
        "identity",
        "rot90",
        "rot180",
        "rot270",
    )
    assert len(fitting_tta(load_config(None, ["augment.rot90=false"]).augment)) == 4
    assert fitting_tta(load_config(None, ["augment.enabled=false"]).augment) == ()


def test_smoothed_score_keeps_a_lucky_spike_out_of_best():
    assert smooth(None, 0.4, 0.5) == 0.4 and smooth(0.4, 0.8, 0.5) == pytest.approx(0.6)
    scores = [0.5, 0.9, 0.5, 0.7, 0.72, 0.74]  # smoothed: .5 .7 .6 .65 .685 .7125
    state, best = TrainState(), []
    for epoch, score in enumerate(scores):
        if _track(state, score, smoothing=0.5):
            best.append(epoch)
    assert best == [0, 1, 5] and state.best == pytest.approx(0.7125)
    raw = TrainState()
    assert [e for e, s in enumerate(scores) if _track(raw, s)] == [0, 1]


def _fake_machine(monkeypatch, seconds_per_step: float) -> FakeClock:
    """Every use of the loss (a training step, a validation image) costs this much fake time."""
    clock, real = FakeClock(), train_run.build_loss

    def build_loss(name, **kw):
        loss = real(name, **kw)

        def timed(*args):
            clock.now += seconds_per_step
            return loss(*args)

        return timed

    monkeypatch.setattr(train_run, "build_loss", build_loss)
    return clock


#: epochs of 4 steps of one tile each: the fake machine charges a step, whatever its batch;
#: batches of 4 tiles only made the real steps slower (these tests took twice as long)
FOUR_STEPS = ("data.tiles_per_epoch=4", "train.batch_size=1")


@pytest.mark.parametrize("seconds_per_step", [0.1, 0.5])
def test_a_budgeted_run_ends_with_the_final_lr_fast_or_slow(
    tmp_path, monkeypatch, seconds_per_step
):
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, seconds_per_step)
    cfg = tiny_config(data, "train.epochs=1000", "train.max_minutes=0.05", *FOUR_STEPS)
    result = fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    rows = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)
    assert rows["lr"][-1] == 0.0
    # 3 s of fake time bought about 3 s / step time, less the validations' share
    assert 0.7 * 3 / seconds_per_step <= result["steps"] <= 3 / seconds_per_step
    assert f"bought {result['steps']} steps" in (tmp_path / "run" / "train.log").read_text()


def test_a_run_that_ends_at_its_epoch_cap_does_not_claim_the_budget_ran_out(tmp_path):
    # the schedule anneals by steps or time, whichever is further: the cap came first here
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=2", "train.max_minutes=30", "data.tiles_per_epoch=4")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "time budget" not in log and "done: best checkpoint" in log


def _offset_run(
    tmp_path,
    monkeypatch,
    offset: str,
    *,
    tta_cost: float,
    minutes=0.2,
    schedule="cosine",
    save_cost=0.0,
):
    """A budget (12 s) on the fake machine whose predictions cost 0.05 s, ``tta_cost`` with
    TTA (the label offset's), and a checkpoint written ``save_cost``: (the clock, fit's
    result, train.log)."""
    data = write_blobs(tmp_path / "data", 6)
    clock = _fake_machine(monkeypatch, 0.1)
    save = train_run.save_model

    def slow_save(*args, **kw):
        clock.now += save_cost
        return save(*args, **kw)

    monkeypatch.setattr(train_run, "save_model", slow_save)
    real = train_loop.predict_tensor

    def timed(model, x, *args, tta=False, **kw):
        clock.now += tta_cost if tta else 0.05
        return real(model, x, *args, tta=tta, **kw)

    for module in (train_loop, train_offset):  # the validations' and the label offset's
        monkeypatch.setattr(module, "predict_tensor", timed)
    cfg = tiny_config(
        data,
        "train.epochs=1000",
        f"train.max_minutes={minutes}",
        "data.tiles_per_epoch=16",  # 16 steps an epoch: fewer ends (checkpoints) to write
        "train.batch_size=1",  # of one tile (FOUR_STEPS)
        "data.val_fraction=0.5",
        f"train.label_offset={offset}",
        f"train.schedule={schedule}",
    )
    result = fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    return clock, result, (tmp_path / "run" / "train.log").read_text()


@pytest.mark.parametrize(
    "offset, schedule",
    [("fit", "cosine"), ("none", "cosine"), ("fit", "none"), ("fit", "plateau")],
)
def test_the_budget_ends_after_the_label_offset_is_measured(
    tmp_path, monkeypatch, offset, schedule
):
    """A prediction of a validation image costs fake time too, eight times over with TTA:
    the whole run, the label offset's measurement included, ends within its budget (an
    audit: with schedule none or plateau the measurement came after the budget, 8 s more)."""
    clock, result, log = _offset_run(
        tmp_path, monkeypatch, offset, tta_cost=8 * 0.05, schedule=schedule
    )
    assert clock.now - 100.0 <= 12.0 + 0.1 + 1e-9  # the budget, and the step that crossed it
    assert ("label offset: " in log) == (offset == "fit")
    assert result["steps"] >= 50


def test_a_label_offset_that_would_overrun_the_budget_is_cut_at_its_end(tmp_path, monkeypatch):
    """Predictions for the label offset that cost far more than the validations promised
    (80 times a plain one): the run still ends at its budget (and one prediction), and says
    what it left out."""
    clock, result, log = _offset_run(tmp_path, monkeypatch, "fit", tta_cost=4.0, minutes=0.5)
    assert "it would take" not in log  # the validations promised a fifth of the budget at most
    assert clock.now - 100.0 <= 30.0 + 4.0 + 1e-9  # the budget, and the prediction that crossed
    assert re.search(r"label offset: not measured \(the time budget ran out after \d of 3", log)
    assert result["label_offset"] is None


def test_the_budget_keeps_time_for_the_checkpoints_written_at_its_end(tmp_path, monkeypatch):
    """On a GPU a validation takes a tenth of a second and writing a checkpoint more: the
    reserve counted validations only, so the end's writing ate it and the label offset was
    never measured (three 6-minute ISBI runs on an H200, 0 of 5 predictions). Here each
    checkpoint written costs 2 s of fake time (without this, 1 s was kept, the offset was not
    measured and the run ended 3.6 s past its budget): the offset is measured, within it."""
    clock, result, log = _offset_run(
        tmp_path, monkeypatch, "fit", tta_cost=8 * 0.05, minutes=0.5, save_cost=2.0
    )
    assert "label offset: " in log and "not measured" not in log
    assert clock.now - 100.0 <= 30.0 + 1e-9


def test_a_label_offset_that_would_eat_the_budget_is_not_measured(tmp_path, monkeypatch):
    clock, result, log = _offset_run(tmp_path, monkeypatch, "fit", tta_cost=0.4)
    assert "label offset: not measured: it would take about" in log
    assert "kept for the last validation and the label offset" not in log
    assert clock.now - 100.0 <= 12.0 + 0.1 + 1e-9 and result["label_offset"] is None


def test_a_label_offset_that_would_eat_the_budget_is_left_unmeasured(caplog):
    """The slides audit: on 8 large validation images, 40% of a 2-min budget was kept for
    the offset, which then ran out of time anyway; training had 63 steps."""
    budget = BudgetSchedule(_optimizer(), "cosine", total_steps=10, seconds=60)
    cheap = ValidationPacer(0.1, budget=budget, after=10)
    cheap.record(0.0, 1.0)  # 10 s of 60 for the offset: within a fifth, kept
    assert not cheap.dropped_after and budget.reserve == pytest.approx(11.0)
    pacer = ValidationPacer(0.1, budget=budget, after=10)
    with caplog.at_level(logging.INFO, logger="unetlab.train"):
        pacer.record(0.0, 2.0)  # 20 s of 60: dropped, its time goes to training
    assert pacer.dropped_after and budget.reserve == pytest.approx(2.0)
    resumed = BudgetSchedule(_optimizer(), "cosine", total_steps=10, seconds=60)
    resumed.load_state_dict(budget.state_dict())  # a resumed run leaves it out too
    assert ValidationPacer(0.1, budget=resumed, after=10).dropped_after
    assert "label offset: not measured: it would take about 20 s of the 60 s budget" in caplog.text


@pytest.mark.parametrize("schedule", ["cosine", "none"])
def test_the_budget_counts_the_loading_and_anneals_over_what_is_left(
    tmp_path, monkeypatch, schedule
):
    """An audit (notebook): on the Kromp nuclei a 60 s budget took 84 s, 17-22 s of loading
    the data before the clock started. Here loading costs half of a 3 s budget."""
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.1)
    real = train_run.prepare_data

    def slow(cfg, *args, **kwargs):
        clock.now += 1.5
        return real(cfg, *args, **kwargs)

    monkeypatch.setattr(train_run, "prepare_data", slow)
    cfg = tiny_config(
        data,
        "train.epochs=1000",
        "train.max_minutes=0.05",
        *FOUR_STEPS,
        f"train.schedule={schedule}",
    )
    result = fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    # the budget, the step that crossed it (and without a reserve, the last validation)
    assert clock.now - 100.0 <= 3.0 + 0.1 + (0.1 if schedule == "none" else 0.0) + 1e-9
    assert 0.7 * 1.5 / 0.1 <= result["steps"] <= 1.5 / 0.1
    log = (tmp_path / "run" / "train.log").read_text()
    assert (
        "loading the data and building the net took 1.5 s of the 0.05-minute budget; 2 s left"
        in log
    )
    lr = np.genfromtxt(tmp_path / "run" / "metrics.csv", delimiter=",", names=True)["lr"]
    if schedule == "cosine":  # the annealing starts after the loading, ends annealed
        first = schedule_factor("cosine", 4 * 0.1 / (1.5 - 0.1 * 8))  # 4 steps, 1 validation
        assert lr[0] >= 0.001 * first - 1e-9 and lr[-1] == 0.0


def test_the_seconds_kept_at_the_end_are_no_more_than_the_budget_has_left():
    """A busy machine's 20 s steps made the first validation's estimate 194 s; the log said
    "194 s kept for the last validation" in a 90 s budget (audit s35 workshop 8). The
    estimate is now held to a quarter of the budget (laptop 2), and what is kept is still no
    more than the budget has left when the schedule ends."""
    clock = FakeClock()
    budget = BudgetSchedule(
        _optimizer(), "cosine", total_steps=10**9, seconds=90.0, clock=clock, since=79.0
    )  # loading the data took 21 s of it
    budget.first_validation = 9.7  # steps' worth
    while not budget.spent():
        clock.now += 20.0
        budget.step()
    assert budget.held_back() == pytest.approx(22.5)  # 194 s, held to a quarter of 90 s
    assert budget.kept == pytest.approx(90.0 - budget.seconds_spent) and budget.kept < 22.5


def test_an_epoch_s_end_is_kept_at_once_not_at_the_next_validation():
    """The end's checkpoints entered the reserve only at the validation after them: the
    first validation's epoch ends after it, and an 80 s validation's next is due 720 s
    later, after a 10-min budget: the end was never kept and the run ended past its budget
    by twice its writing. It is kept as it is measured (and never given back there)."""
    budget = BudgetSchedule(_optimizer(), "cosine", total_steps=10, seconds=600)
    pacer = ValidationPacer(0.1, budget=budget)
    pacer.record(0.0, 80.0)
    assert budget.reserve == pytest.approx(80.0) and not pacer.due(80.0 + 600.0)
    pacer.ended_epoch(3.0)  # last.pt and best.pt written
    assert budget.reserve == pytest.approx(86.0)
    pacer.ended_epoch(1.0)
    assert budget.reserve == pytest.approx(86.0)
