"""How the lr and the time are spent: the optimiser and its schedule, the ``train.max_minutes``
budget (:class:`TimeBudget`, :class:`BudgetSchedule`), and the pacing of validations
(:class:`ValidationPacer`)."""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence

import torch
from torch import nn

from unetlab.config import Config
from unetlab.distributed import Group
from unetlab.errors import Spelled, UnetlabError, said_as
from unetlab.inference.tta import fitting_tta

log = logging.getLogger(__name__)

VALIDATION_SHARE = 0.1  # with a time budget, validations take at most this share of the time
#: with a time budget, the label offset's measurement may take at most this share of it
OFFSET_SHARE = 0.2
#: a run's end repeats an epoch's end twice: the last epoch's checkpoints, then the finish's
#: plot and summary with best.pt loaded again for the label offset
END_REPEATS = 2
#: the epochs' ends whose most sets that reserve: enough to hold a plot (every 30 s) among
#: epochs of a fifth of a second
END_WINDOW = 200
#: a validation forward's time per input pixel as a share of a training step's (forward and
#: backward) per input pixel; measured 0.43 for the paper net on a 2-core CPU (s29 audit:
#: 16 s per ISBI slice, 700 x 700 px with its border, against 25 s per 572 x 572 step)
FORWARD_SHARE = 0.5
#: the most of the budget kept for the first validation before one has measured it: the
#: estimate above took 112 s of a 2-minute budget for a ~20 s validation of a small net
#: (audit s35 laptop 2: 6 steps trained, 37 s left unused)
FIRST_RESERVE_SHARE = 0.25
#: the budget's readings whose median gap is taken as a step's time
STEP_GAPS = 25


def build_optimizer(model: nn.Module, train) -> torch.optim.Optimizer:
    """SGD with (the paper's 0.99) momentum, or AdamW, from a ``TrainSection``."""
    if train.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=train.lr,
            momentum=train.momentum,
            weight_decay=train.weight_decay,
        )
    return torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)


def on_clock(train) -> bool:
    """Whether ``train``'s (its config section's) schedule runs on the clock: cosine or
    poly under a time budget (``train.max_minutes`` > 0), a :class:`BudgetSchedule` that
    is the run's budget too; plateau and none leave the budget a timer of its own."""
    return train.max_minutes > 0 and train.schedule in ("cosine", "poly")


def build_scheduler(
    optimizer,
    train,
    total_steps: int,
    *,
    clock: Callable[[], float] | None = None,
    since: float | None = None,
):
    """Per-step cosine / poly (to 0 at ``total_steps``), per-validation plateau, or None.

    With a time budget (``train.max_minutes`` > 0) cosine and poly run on the clock instead
    (:class:`BudgetSchedule`, read with ``clock``, default ``time.perf_counter``, from
    ``since``, default now); else they
    are torch's ``CosineAnnealingLR`` / ``PolynomialLR`` (power 0.9) over ``total_steps``.
    """
    if train.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=5
        )
    if train.schedule == "none":
        return None
    if on_clock(train):
        return BudgetSchedule(
            optimizer,
            train.schedule,
            total_steps=total_steps,
            seconds=60 * train.max_minutes,
            clock=clock or time.perf_counter,
            since=since,
        )
    total = max(total_steps, 1)
    if train.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total, eta_min=0.0)
    return torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters=total, power=0.9)


def schedule_factor(kind: str, progress: float) -> float:
    """lr / base lr at ``progress`` in [0, 1] (clipped): cosine 0.5 (1 + cos(pi p)), poly
    (1 - p) ** 0.9; both 1 at the start and exactly 0 at the end."""
    p = min(max(progress, 0.0), 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * p)) if kind == "cosine" else (1.0 - p) ** 0.9


class TimeBudget:
    """The ``train.max_minutes`` budget: ``seconds`` on ``clock``, counted from ``since`` (the
    clock's reading when it began: ``fit``'s start, so the loading counts; default now). For
    a schedule not run on the clock (none, plateau) it only ends the run; a
    :class:`BudgetSchedule` anneals over it. ``reserve`` seconds at its end are kept for the
    last validation and the label offset's measurement (set by the :class:`ValidationPacer`;
    at most half the budget); until a validation has run, ``first_validation`` (its expected
    cost in training steps, :func:`first_validation_steps`) times a step's time (the median
    gap between the budget's readings: the loop reads it after every step) is kept instead,
    so that a run whose first validation is its last still ends in time. The seconds used
    travel in ``state_dict`` (as last read: reading the clock there would break the
    lock-step reading of a clock shared between processes), so a resumed run spends what is
    left of the budget, not a new one."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.perf_counter,
        since: float | None = None,
    ):
        if seconds <= 0:
            raise UnetlabError(f"a time budget must be positive, not {seconds} s")
        self.seconds, self.clock = seconds, clock
        now = clock()
        self._before, self._since = 0.0, now if since is None else since
        self._read = now - self._since  # elapsed() as last read
        self.reserve = 0.0
        self.first_validation = 0.0  # its expected cost in steps, kept until one has run
        self._gaps: deque[float] = deque(maxlen=STEP_GAPS)  # seconds between readings
        self.offset_dropped = False  # the label offset left out as too costly (ValidationPacer)

    def elapsed(self) -> float:
        """Seconds of the budget used (this process's time plus a resumed run's)."""
        read = self._before + self.clock() - self._since
        self._gaps.append(read - self._read)
        self._read = read
        return read

    def step_seconds(self) -> float:
        """A training step's seconds: the median gap between the recent readings (0: none)."""
        return statistics.median(self._gaps) if self._gaps else 0.0

    def held_back(self) -> float:
        """Seconds kept at the end: the reserve, or before a validation has measured one,
        the first validation's expected cost (``first_validation`` steps), at most
        :data:`FIRST_RESERVE_SHARE` of the budget."""
        if self.reserve > 0 or not self.first_validation:
            return self.reserve
        estimate = self.first_validation * self.step_seconds()
        return min(estimate, FIRST_RESERVE_SHARE * self.seconds)

    def measured(self, reserve: float, at: float, took: float | None = None) -> None:
        """A validation that ended at ``at`` (a reading of the clock; ``took``: its seconds)
        has set the ``reserve`` (:class:`ValidationPacer`)."""
        self.reserve = reserve

    @property
    def seconds_spent(self) -> float:
        """Seconds of the budget used, as last read (a resumed run's: those it had spent)."""
        return self._read

    def _training(self) -> float:
        """Seconds of the budget for training: all but the reserve."""
        return max(self.seconds - self.held_back(), 0.5 * self.seconds)

    def spent(self) -> bool:
        return self.elapsed() >= self._training()

    def state_dict(self) -> dict:
        return {
            "seconds": self.seconds,
            "elapsed": self._read,
            "reserve": self.reserve,
            "offset_dropped": self.offset_dropped,
        }

    def load_state_dict(self, state: dict) -> None:
        """A run's seconds used, on this budget (a resume may give another one), and this
        process's since it began."""
        self._before = state["elapsed"]
        self.elapsed()
        self._gaps.clear()  # the jump to the resumed run's seconds is no step
        self.reserve = state.get("reserve", 0.0)
        self.offset_dropped = state.get("offset_dropped", False)


class BudgetSchedule(TimeBudget):
    """A cosine / poly schedule whose progress is the time spent out of a
    :class:`TimeBudget` of ``seconds`` (or the steps done out of ``total_steps``, whichever
    is further), so that a run ends annealed when its time is up however fast the machine is.

    ``step()`` after each optimiser step sets the lr of every parameter group to its base lr
    times :func:`schedule_factor`; ``spent()`` says when a step has reached the end of the
    schedule (so the run ends with the lr at its final value). The annealing is laid over
    the budget less its reserve, from ``start`` (the seconds spent when it began: loading the
    data); progress never goes back when the reserve shrinks, so the lr never rises again,
    except where the schedule had ended on a first validation's estimate and the validation
    then took less: the time left goes back to training (:meth:`measured`).
    Time-driven, so a resumed run is not bit-equal to an uninterrupted one.
    """

    def __init__(
        self,
        optimizer,
        kind: str,
        *,
        total_steps: int,
        seconds: float,
        clock: Callable[[], float] = time.perf_counter,
        since: float | None = None,
    ):
        super().__init__(seconds, clock=clock, since=since)
        self.optimizer, self.kind = optimizer, kind
        self.total, self.steps = max(total_steps, 1), 0
        self.base = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        self.start, self.done = self._read, False  # annealed from start
        self.reached = 0.0  # the furthest progress so far: the lr never rises again
        self.kept = 0.0  # the reserve in force when the budget was spent

    def progress(self) -> float:
        return self._progress(self.elapsed())

    def _progress(self, elapsed: float) -> float:
        span = self._training() - self.start  # the annealing's seconds, after the loading
        timed = (elapsed - self.start) / span if span > 0 else 1.0
        return min(max(timed, self.steps / self.total), 1.0)

    def training_left(self) -> float:
        """Seconds of training left (from the time as last read) before the schedule ends."""
        return max(self._training() - self._read, 0.0)

    def spent(self) -> bool:
        return self.done

    def step(self) -> None:
        self.steps += 1
        # a later, cheaper validation shrinks the reserve: progress then waits, never goes back
        self.reached = progress = max(self.reached, self.progress())
        if progress >= 1.0 and not self.done:
            self.done, self.kept = True, self._left_kept()
        self._set_lr(progress)

    def _left_kept(self) -> float:
        """The seconds kept at the end, as the budget has them left: the reserve (or the
        first validation's estimate, which a slow step can make longer than the whole budget:
        "194 s kept" of 90, audit s35 workshop 8) no more than the seconds not yet used."""
        return min(self.held_back(), max(self.seconds - self._read, 0.0))

    def measured(self, reserve: float, at: float, took: float | None = None) -> None:
        """The reserve (:meth:`TimeBudget.measured`); where the schedule had ended keeping
        more for the validation than it took (the estimate before one had run), the time
        left goes back to training: the rest of the annealing is laid over the new end, as
        if the run had had it from the start (:meth:`_relay`; audit s35 laptop 2: lr 0
        after 6 steps, 37 s of 2 min unused). The line says the validation's ``took``
        seconds and, where the reserve holds more (the label offset, the checkpoints), what
        stays kept (it called the reserve what the validation took)."""
        super().measured(reserve, at, took)
        elapsed = self._before + at - self._since
        reached = self._progress(elapsed)
        if not self.done or reached >= 1.0:  # not ended, or ended by its steps or clock still
            return
        took = reserve if took is None else took
        kept = (
            f" ({reserve:.0f} s stay kept for it and what follows)"
            if round(reserve) > round(took)
            else ""
        )
        log.info(
            "the validation took %.0f s, not the %.0f s kept for it: %.0f s go back to training%s",
            took,
            self.kept,
            self._training() - elapsed,
            kept,
        )
        self.reached, self.done, self.kept = reached, False, 0.0
        self._set_lr(reached)

    def _set_lr(self, progress: float) -> None:
        factor = schedule_factor(self.kind, progress)
        for group, base in zip(self.optimizer.param_groups, self.base):
            group["lr"] = base * factor

    def state_dict(self) -> dict:
        """The budget's, with the steps, base lrs and where the annealing is."""
        return super().state_dict() | {
            "steps": self.steps,
            "start": self.start,
            "base": list(self.base),
            "done": self.done,
            "reached": self.reached,
            "kept": self.kept,
        }

    def load_state_dict(self, state: dict) -> None:
        """The state of a run, on this schedule's budget: a resume given another budget
        (``seconds`` in ``state``, the one it ran under, differs) goes on with this one. The
        seconds this process has spent since ``since`` (loading the data) count too."""
        super().load_state_dict(state)
        self.steps, self.base = state["steps"], list(state["base"])
        self.start, self.done = state.get("start", 0.0), state.get("done", False)
        self.reached, self.kept = state.get("reached", 0.0), state.get("kept", self.reserve)
        if state.get("seconds", self.seconds) != self.seconds:
            self._relay()

    def _relay(self) -> None:
        """Progress on this budget from the time spent, as if the run had had it from the
        start: the rest of the annealing laid over the new end (a longer budget lets a spent
        run go on, the lr set to the new curve's value now; a shorter one may be spent)."""
        self.reached = self._progress(self._read)
        self.done = self.reached >= 1.0
        self.kept = self._left_kept() if self.done else 0.0
        self._set_lr(self.reached)


class ValidationPacer:
    """Spaces validations so that they take at most ``share`` of the time: after a validation
    that took v seconds, the next is due once v (1 - share) / share seconds have passed, and
    a ``budget`` keeps m (1 + ``after``) + :data:`END_REPEATS` e seconds at its end for the
    last validation and the work that follows it: ``after`` validations' worth
    (:func:`offset_fit_cost`), m the median cost of the validations so far, e the most an
    epoch's end (its checkpoints and plot, :meth:`ended_epoch`) took recently. When even the
    cheapest validation says that the work after would take more than ``OFFSET_SHARE`` of the
    budget, it is dropped (``dropped_after``): the time goes to training instead."""

    def __init__(
        self,
        share: float = 0.1,
        *,
        budget: TimeBudget | None = None,
        after: float = 0.0,
    ):
        if not 0.0 < share <= 1.0:
            raise UnetlabError(f"validation share must be in (0, 1], not {share}")
        self.share, self.wait, self.last, self.budget = share, 0.0, -math.inf, budget
        self.after, self.costs = after, []
        self.ends: deque[float] = deque(maxlen=END_WINDOW)  # seconds of recent epochs' ends

    @property
    def dropped_after(self) -> bool:
        """The work after the last validation was left out (kept in the budget's state, so
        a resumed run leaves it out too)."""
        return self.budget is not None and self.budget.offset_dropped

    def due(self, now: float) -> bool:
        return now - self.last >= self.wait

    def record(self, started: float, ended: float) -> None:
        self.wait = (ended - started) * (1.0 - self.share) / self.share
        self.last = ended
        self.costs.append(ended - started)
        if self.budget is not None and self.after and not self.dropped_after:
            self._drop_costly_after(min(self.costs))
        if self.budget is not None:  # keep time for the last validation and what follows
            self.budget.measured(self._reserve(), ended, ended - started)

    def _reserve(self) -> float:
        """The seconds to keep: the median validation's (one cold first validation, or one
        slowed by a busy machine, would otherwise set the reserve, x 11 with the label
        offset, for the whole run) times 1 + ``after``, and the epochs' ends."""
        after = 0.0 if self.dropped_after else self.after
        end = END_REPEATS * max(self.ends, default=0.0)
        return statistics.median(self.costs) * (1.0 + after) + end

    def ended_epoch(self, seconds: float) -> None:
        """An epoch's end after its validation (checkpoints written, curves plotted) took
        ``seconds``; the reserve keeps :data:`END_REPEATS` times the most of these, raised
        now where this one is the most (not at the next validation: the first validation's
        epoch ends after it, and a slow validation's next is due after the budget: the end
        was never kept). On a GPU a validation takes a tenth of a second, so its multiples
        alone kept 1 s, less than the end's writing: the label offset was never measured
        (0 of 5 predictions, three 6-minute ISBI runs on an H200, stop 46)."""
        self.ends.append(seconds)
        if self.budget is not None and self.costs:  # raised only: no time given back here
            self.budget.reserve = max(self.budget.reserve, self._reserve())

    def _drop_costly_after(self, cheapest: float) -> None:
        cost, seconds = cheapest * self.after, self.budget.seconds
        if cost <= OFFSET_SHARE * seconds:
            return
        log.info(
            "label offset: not measured: it would take about %.0f s of the %.0f s budget "
            "(%d validations' worth of predictions); the time goes to training (%s to "
            "measure it)",
            cost,
            seconds,
            round(self.after),
            said_as(MORE_TIME),
        )
        self.budget.offset_dropped = True


#: what measures the label offset another time, as the caller asks for it (:func:`said_as`:
#: fit in a notebook was told ``give more --minutes``, s53 and s54)
MORE_TIME = Spelled("give more time (cfg.train.max_minutes)", "give more --minutes")


def shared_clock(clock: Callable[[], float], group: Group) -> Callable[[], float]:
    """The main process's ``clock`` in every process of ``group`` (a broadcast per reading;
    every process reads it at the same points), so that a time budget sets the same lr and
    ends the run at the same step everywhere."""
    if not group.active:
        return clock
    return lambda: group.share(clock())


def offset_fit_cost(cfg: Config) -> float:
    """What ``train.label_offset: fit`` costs after training, in validations: predicting the
    validation images once per test-time transform (:func:`fitting_tta`: 8 when the net
    trained with flips and turns, 2 with left-right flips only), and the search (measured:
    about two; 2.5 s against a 1.0 s validation on the ISBI slices, bench/README.md); 0 when
    the offset is not fitted."""
    if cfg.train.label_offset != "fit":
        return 0.0
    return (len(fitting_tta(cfg.augment)) or 1) + 2.0


def time_budget(
    cfg, scheduler, budget: TimeBudget | None, *, first_validation: float = 0.0
) -> tuple[Callable[[], bool], ValidationPacer]:
    """(is the ``train.max_minutes`` budget spent?, the pacer of validations). Without a
    budget nothing runs out and every ``val_every``-th epoch validates. A budget run by the
    schedule keeps time at its end for the last validation and the label offset's
    measurement; so does ``budget`` (none, plateau), which only stops the run. Before any
    validation has run, ``first_validation`` (its expected cost in training steps,
    :func:`first_validation_steps`) is kept."""
    timer = scheduler if isinstance(scheduler, BudgetSchedule) else budget
    if timer is None:
        return lambda: False, ValidationPacer(1.0)
    timer.first_validation = first_validation
    after = offset_fit_cost(cfg)
    return timer.spent, ValidationPacer(VALIDATION_SHARE, budget=timer, after=after)


def first_validation_steps(cfg: Config, model: nn.Module, val: Sequence) -> float:
    """What the first validation is expected to cost, in training steps, before one has
    run: the input pixels of the validation images (``val``: samples with a ``mask``), each
    grown by the net's border on every side as overlap-tile reads it, times
    :data:`FORWARD_SHARE` (a forward without the backward), over a training step's input
    pixels (``train.batch_size`` tiles of ``data.tile_size``)."""
    border = getattr(model, "border", 0)
    shapes = [s.mask.shape[-2:] for s in val]
    pixels = sum((h + 2 * border) * (w + 2 * border) for h, w in shapes)
    return FORWARD_SHARE * pixels / (cfg.train.batch_size * cfg.data.tile_size**2)


def validation_due(epoch: int, train, out_of_time, pacer: ValidationPacer, clock) -> bool:
    """Validate after the last epoch; otherwise every ``val_every``-th epoch once the pacer
    allows (with a time budget validations take at most ``VALIDATION_SHARE`` of the time)."""
    if epoch == train.epochs or out_of_time():
        return True
    return epoch % train.val_every == 0 and pacer.due(clock())
