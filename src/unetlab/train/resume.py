"""Resuming a run: the command that does it, the files it trained on, and its state restored
from ``last.pt`` (a changed length or time budget laid over the schedule)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch

from unetlab.checkpoint import check_training_state, load_checkpoint
from unetlab.config import Config, config_changes, describe_changes, load_run_config
from unetlab.data.datasets import data_split
from unetlab.data.pairs import Pair
from unetlab.data.split_record import (
    EDITED_CHECKPOINT,
    SPLIT_FILE,
    added_pairs,
    checked_format,
    describe_pairs,
    describe_unchanged,
    read_split,
    recorded_pairs,
    refuse_record_truth,
)
from unetlab.errors import CheckpointError, Spelled, UnetlabError, quoted, said_as
from unetlab.provenance import unetlab_command
from unetlab.run_records import read_summary
from unetlab.signals import CallerSays
from unetlab.train.loop import TrainState
from unetlab.train.schedule import BudgetSchedule, TimeBudget, on_clock, schedule_factor
from unetlab.words import numbered, worded

log = logging.getLogger(__name__)


def resume_command(run_dir: str | os.PathLike, processes: int = 1) -> str:
    """The command that resumes ``run_dir`` as it trained (in ``processes`` processes)."""
    nproc = ("--nproc", processes) if processes > 1 else ()
    return unetlab_command("train", "--run-dir", run_dir, "--resume", *nproc)


#: how to go on with a stopped ``fit``, said by its caller (:func:`caller_says_resume`)
_RESUME = CallerSays("caller_says_resume")


def caller_says_resume() -> contextlib.AbstractContextManager[bool]:
    """Within: a stopped ``fit`` says where it saved and leaves out how to go on
    (:func:`continue_with`): its caller says it (a fold of ``fit_folds``, whose run goes on
    with all the folds, not alone)."""
    return _RESUME.within()


def continue_with(
    run_dir: str | os.PathLike, processes: int = 1, *, command: bool = False, first: str = ""
) -> str:
    """The end of a stopped run's line: ``; continue with: unetlab train --run-dir ...
    --resume`` on the command line (:func:`resume_command`), ``; continue with: the same
    fit(...) with resume=True`` in Python (:func:`~unetlab.errors.said_as`), the command
    always with ``command`` (train.log's record of an error: :func:`ending_line`), ``first``
    before it ("fix that error, then "); nothing within :func:`caller_says_resume`."""
    if _RESUME.by_caller():
        return ""
    resume = resume_command(run_dir, processes)
    how = resume if command else said_as(Spelled("the same fit(...) with resume=True", resume))
    return f"; {first}continue with: {how}"


def saved_record(run_dir: str | os.PathLike) -> dict | None:
    """The ``last.pt`` of the run in ``run_dir``, its tensors mapped, not read (the weights
    and optimiser state of a large net took longer than the rest of a resume's first line);
    None without a readable one that records its ``train_state``."""
    try:
        checkpoint = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt", mmap=True)
    except (UnetlabError, OSError):
        return None
    return checkpoint if isinstance(checkpoint.get("train_state"), dict) else None


def saved_state(checkpoint: dict, state: TrainState | None = None) -> TrainState:
    """Where the run of ``checkpoint`` (:func:`saved_record`) is, set in ``state`` (a new
    one where None), as its resume restores it (:func:`restore_checkpoint`, which also
    counts its tiles)."""
    state = TrainState() if state is None else state
    for name, value in checkpoint["train_state"].items():
        setattr(state, name, value)
    return state


def saved_at(run_dir: str | os.PathLike) -> str | None:
    """Where the run in ``run_dir`` would resume: ``step 16, the end of epoch 2`` (or
    ``step 20, epoch 3, batch 4``) of its ``last.pt`` (:func:`saved_record`); None without a
    readable one."""
    if (checkpoint := saved_record(run_dir)) is None:
        return None
    state = saved_state(checkpoint)
    return trained_to(state.step, state.epoch, state.batch)


def budget_spent(checkpoint: dict, cfg: Config) -> bool:
    """Whether ``cfg``'s time budget (``train.max_minutes``) is spent as the run's
    ``checkpoint`` (:func:`saved_record`) records it: before a resume loads its data, which
    only adds to the time spent, so a budget spent here is spent after it too. A schedule on
    the clock ended (its ``done``) under this budget; another budget is laid over it only
    once loaded (:meth:`~unetlab.train.schedule.BudgetSchedule.load_state_dict`), and one
    that loading spends is told then."""
    t = cfg.train
    clocked = on_clock(t)
    state = checkpoint.get("scheduler" if clocked else "budget")
    if t.max_minutes <= 0 or not isinstance(state, dict) or "elapsed" not in state:
        return False
    if clocked:
        return bool(state.get("done")) and _budget_seconds(checkpoint) == 60 * t.max_minutes
    budget = TimeBudget(60 * t.max_minutes, clock=lambda: 0.0)  # the time as saved
    budget.load_state_dict(state)
    return budget.spent()


def trained_to(step: int, epoch: int, batch: int) -> str:
    """The point a run saved at, as every line names it (the stop's, the resume's, the
    in-use refusal's): ``step 82, the end of epoch 41`` (``epoch`` epochs done, ``batch`` 0)
    or ``step 20, epoch 3, batch 4`` (``batch`` batches of the next one done)."""
    at = f"epoch {epoch + 1}, batch {batch}" if batch else f"the end of epoch {epoch}"
    return f"step {step}, {at}"


def ending_line(exc: BaseException, run_dir: Path, processes: int = 1) -> str | None:
    """The last line of train.log for a run that ended on an error (a batch job's record;
    the command says it on stderr): the error's line (a bug's type too), and where the run
    goes on from: last.pt's step, the metrics.csv rows after it redone, and the command
    (not within :func:`caller_says_resume`). None for a stop (Ctrl-C, SIGTERM, SIGHUP:
    logged as such). A lost process of a launch is named as the command names it, one look
    for both (:func:`~unetlab.distributed.lost_peer_told`; s67 review: "a process of the
    group ended (killed? out of memory?)" where it ended on its error), to fix first where
    it did."""
    from unetlab.distributed import lost_peer_told, peer_lost, peer_silent

    if isinstance(exc, KeyboardInterrupt):
        return None
    what, fix = quoted(exc), ""  # as the console says it (cfg.* or --set)
    if peer_lost(exc):
        lost = lost_peer_told(exc)  # kept on exc: the command's line says this look's words
        on_stderr = lost.said("on stderr") if lost else None
        what = f"{on_stderr or 'a process of the group ended (killed? out of memory?)'}: {what}"
        fix = lost.fix("that {}") if lost else ""
    elif peer_silent(exc):
        what = (
            f"a collective timed out: a process of the group may have ended, or a bug left it "
            f"waiting (its traceback is on stderr): {type(exc).__name__}: {what}"
        )
    elif not isinstance(exc, UnetlabError):
        what = f"{type(exc).__name__}: {what} (a bug in unetlab: its traceback is on stderr)"
    if (at := saved_at(run_dir)) is None:
        return f"stopped by an error: {what}; no checkpoint was saved: {fix}start the run again"
    return (
        f"stopped by an error: {what}; last.pt holds {at} (rows of metrics.csv after it are "
        f"trained again){continue_with(run_dir, processes, command=True, first=fix)}"
    )


def recorded_split(run_dir: Path, cfg: Config) -> tuple[list[Pair], list[Pair]] | None:
    """The (train, val) pairs a resumed run trained and validated on, as its split.json (or
    its last.pt) records them, in its data folder now; DatasetError if some are gone or
    changed. One line names the pairs the folder holds now that the record leaves out. None
    for a run from before runs recorded their files: the folder is split again."""
    record = read_split(run_dir / SPLIT_FILE)
    if record is None:
        last = run_dir / "checkpoints" / "last.pt"
        record = resumed_checkpoint(last).get("split")
        record = None if record is None else checked_format(record, last, EDITED_CHECKPOINT)
    if record is None:
        log.info("this run recorded no list of its files: its data folder is split again")
        return None
    return listed_split(record, cfg, doing="resuming")


def listed_split(record: dict, cfg: Config, *, doing: str) -> tuple[list[Pair], list[Pair]]:
    """The (train, val) pairs ``record`` (a run's split.json) lists, in ``cfg``'s data folder
    now; DatasetError if some are gone or changed (its fix for a resumed run, or for a new
    one that repeats another's split). One line (``doing``: ``resuming``, or ``training``,
    ``checking`` a new run) names the pairs the folder holds now that the record leaves out,
    or says that the folder holds the record's files, unchanged."""
    axes = cfg.data.axes
    given = f"the run's {SPLIT_FILE}" if doing == "resuming" else "the split record given (split=)"
    refuse_record_truth(record, cfg.data, given)
    split = recorded_pairs(record, cfg.data.root, new_run=doing != "resuming", axes=axes)
    now = data_split(cfg.data, problems=[])  # the folder's pairs, split as training does
    added = added_pairs(record, [p for part in now for p in part], cfg.data.root)
    if not added:  # checked and the same: said, or it reads as not checked (audit s34 repro 10)
        log.info("%s", describe_unchanged(record, f"the run's {SPLIT_FILE}", split=False))
    else:
        log.info(
            "data %s: %s on the %d training and %d validation images the run recorded "
            "(%s); %s added to the folder, or readable only now, since %s left out: %s",
            cfg.data.root,
            doing,
            len(split[0]),
            len(split[1]),
            SPLIT_FILE,
            numbered(len(added), "image"),
            worded(len(added), "is", "are"),
            describe_pairs(added),
        )
    return split


#: the ``extra`` of a setup line that a resume whose training had ended says too
#: (:func:`unetlab.train.log.quiet_setup`: the changes it resumes with, review s67)
SAID_FINISHED = {"said_finished": True}


def log_changes(own: Path, cfg: Config) -> dict:
    """One line naming the keys in which a resumed run's config differs from the run's, and
    one for each value of the run's that this version refuses and ``cfg`` replaces; returns
    them all (:func:`unetlab.config.config_changes`, :func:`unetlab.config.load_run_config`)."""
    if not own.is_file():
        return {}
    before, fixed = load_run_config(own, cfg)
    for key, (old, new) in fixed.items():
        log.warning(
            "%s holds %s %s, which this version of unetlab refuses: the run goes on with %s",
            own,
            key,
            old,
            new,
        )
    if changes := config_changes(before, cfg):
        said = describe_changes(changes), own  # config.yaml is rewritten with them
        log.info("resuming with %s (the rest as in %s)", *said, extra=SAID_FINISHED)
    return fixed | changes


def restore_checkpoint(
    path: Path,
    model,
    optimizer,
    scheduler,
    scaler,
    state: TrainState,
    *,
    budget=None,
    processes: int = 1,
    epochs: int | None = None,
    planned: Callable[[TrainState], int] | None = None,
) -> dict:
    """The run's state from its ``last.pt`` (``path``) into these parts; ``planned``: the
    steps the run will have taken at its end from a restored state (:func:`planned_steps`),
    which a cosine / poly schedule is laid over (a resume may change the length, the batch
    or the processes). Returns the run's last validation as saved (``{}`` where it records
    none): a resume that validates no more (a finished run resumed again) returns it."""
    checkpoint = resumed_checkpoint(path)
    _check_resumable(checkpoint, path, model, epochs=epochs, processes=processes)
    key = _schedule_length(scheduler)  # this config's, before the saved state replaces it
    model.load_state_dict(checkpoint["model"])
    model.normalization = run_normalization(checkpoint, model.normalization, path)
    model.init_checkpoint = checkpoint.get("init_checkpoint")  # a fine-tuned run's start
    optimizer.load_state_dict(checkpoint["optimizer"])
    saved = checkpoint.get("scheduler")
    if scheduler is not None and saved is not None:
        saved = _saved_schedule(checkpoint, scheduler)
        scheduler.load_state_dict(saved)
        if planned is None:
            _stretch_schedule(scheduler, key)
    scaler.load_state_dict(checkpoint["scaler"])
    _restore_budget(budget, checkpoint)
    saved_state(checkpoint, state)
    state.tiles = tiles_done(checkpoint, processes)
    if scheduler is not None and saved is not None and planned is not None:
        _stretch_schedule(scheduler, key and (key[0], planned(state)))
        if isinstance(scheduler, BudgetSchedule):  # its steps' share of the length
            scheduler.total = max(planned(state), 1)
    torch.set_rng_state(checkpoint["rng"])  # the point is said by the run's first line
    if saved is not None:
        _log_budget(scheduler, saved)
    return dict(checkpoint.get("last_validation") or {})


def recorded_validation(rows: list[dict], classes: list[str], run_dir: Path) -> dict:
    """The run's last validation as metrics.csv's ``rows`` record it (``loss``, ``miou``,
    ``mdice``, ``iou`` of ``classes``; 6 significant digits) with summary.json's ``pixels``:
    what a resume returns where last.pt records none (an older unetlab's, s64 notebook:
    ``val`` {}); {} where no row was validated. A column the row lacks leaves its key out
    (``iou``: where one class's is missing), not None (review s65)."""
    row = next((r for r in reversed(rows) if r.get("val_miou") is not None), None)
    if row is None:
        return {}
    found = {key: row.get(f"val_{key}") for key in ("loss", "miou", "mdice")}
    found = {key: value for key, value in found.items() if value is not None}
    iou = [row.get(f"val_iou_{name}") for name in classes]
    if None not in iou:
        found["iou"] = iou
    if (pixels := read_summary(run_dir).get("val_pixels")) is not None:
        found["pixels"] = pixels
    return found


def resumed_checkpoint(path: Path) -> dict:
    """The parts of a run's ``last.pt`` (``path``); CheckpointError naming the fixes that fit
    a resume where its bytes cannot be read (truncated by a full disk or a copy cut short):
    the generic "use a file written by unetlab train" said nothing a resume can do (s51)."""
    try:
        return load_checkpoint(path)
    except CheckpointError as exc:
        if exc.__cause__ is None:  # read, but refused (a newer format...): its own fix fits
            raise
        raise CheckpointError(**_unreadable_last(path, exc.__cause__)) from exc


def _unreadable_last(path: Path, cause: BaseException) -> dict:
    """The keywords of the refusal of a ``last.pt`` (``path``) that cannot be read: the run
    starts again, from its ``best.pt`` where that one is whole, in a new folder (best.pt
    would be replaced in this one), else in this one overwritten or a new one. best.pt's
    tensors are mapped, not read: a truncated file fails either way (its zip directory is
    at the end), and a full read of a large net's file was work for nothing."""
    best = path.with_name("best.pt")
    try:
        load_checkpoint(best, mmap=True)
    except (CheckpointError, OSError):
        starts = ("overwrite=True, or a new run_dir", "--overwrite, or in a new --run-dir")
        start = "start the run again with {}"
    else:
        starts = (f"init_checkpoint={str(best)!r}, run_dir=NEW", f"--init {best} --run-dir NEW")
        start = "start a new run from its best.pt: {}"
    said = f"{path}: truncated or corrupt ({type(cause).__name__}), so the run cannot resume "
    python, cli = (said + "from it; " + start.format(s) for s in starts)
    return {"message": python, "cli": cli}


def _check_resumable(checkpoint: dict, path: Path, model, *, epochs, processes: int) -> None:
    """UnetlabError where ``checkpoint`` (of ``path``) cannot go on as this run: not a
    training state, more epochs done than asked, another architecture than ``model``'s."""
    check_training_state(checkpoint, path)  # a model saved over last.pt: one line, no KeyError
    refuse_fewer_epochs(checkpoint["train_state"], epochs, path)
    _warn_other_processes(checkpoint.get("processes"), processes)
    if checkpoint["config"] != asdict(model.config):
        raise UnetlabError(
            f"{path} holds a different architecture ({checkpoint['config']}); resume with its "
            "config"
        )


def _restore_budget(budget, checkpoint: dict) -> None:
    """The time spent of a budgeted run's ``checkpoint`` into ``budget`` (none: nothing)."""
    if budget is not None and checkpoint.get("budget"):  # none of a run made without one
        budget.load_state_dict(checkpoint["budget"])
        log.info(
            "time budget: %.2g of %g min spent", budget.seconds_spent / 60, budget.seconds / 60
        )
        warn_budget_below_spent(checkpoint["budget"].get("seconds"), budget)


def tiles_done(checkpoint: dict, processes: int = 1) -> int:
    """The tiles of its current epoch that a ``last.pt`` had trained, all processes': as
    recorded, or for one from before the record its batches x its batch x its processes
    (where it records none, older still: the ``processes`` it resumes in, as unetlab took
    then; 1 would redo the tiles of the other processes)."""
    state = checkpoint["train_state"]
    if "tiles" in state:
        return int(state["tiles"])
    batch_size = (checkpoint.get("train_config") or {}).get("train", {}).get("batch_size", 0)
    world = checkpoint.get("processes") or processes
    return int(state.get("batch", 0)) * int(batch_size) * int(world)


def epoch_steps(tiles: int, start: int, batch_size: int, world: int) -> int:
    """The steps of an epoch of ``tiles`` from tile ``start``: each of ``world`` processes
    takes every world-th tile (:meth:`unetlab.group.Group.shard`), ``batch_size`` a step."""
    return math.ceil(max(tiles - start, 0) // world / batch_size)


def planned_steps(state: TrainState, *, epochs: int, tiles: int, batch_size: int, world: int):
    """The steps a run in ``state`` will have taken at the end of epoch ``epochs``: those
    done, the rest of the current epoch (from the tiles it has done) and the epochs after,
    at this ``batch_size`` and ``world`` (a resume may change them, or the length)."""
    if state.epoch >= epochs:
        return state.step
    rest = epoch_steps(tiles, state.tiles, batch_size, world)
    return state.step + rest + (epochs - state.epoch - 1) * epoch_steps(tiles, 0, batch_size, world)


def refuse_fewer_epochs(state: dict, epochs: int | None, path: Path) -> None:
    """UnetlabError in one line where a resumed run's ``epochs`` (train.epochs) are fewer
    than its last.pt (``path``, of training ``state``) has trained, the last in part where it
    stopped in an epoch: it would train nothing, lay its schedule over a length it has passed
    and record fewer epochs than it trained. As many end the run there; None: not checked."""
    done = int(state.get("epoch", 0)) + (1 if state.get("batch") else 0)
    if epochs is None or epochs >= done:
        return
    part = " (the last in part)" if state.get("batch") else ""
    raise UnetlabError(
        f"train.epochs {epochs} is fewer than the {done} epochs {path} has trained{part}: "
        f"resume with train.epochs {done} (--epochs {done}) to end the run there, or more"
    )


#: normalisation parts that training computes (not the config): an older unetlab's run lacks them
_COMPUTED = ("floor", "dtype", "floors")


def run_normalization(checkpoint: dict, computed: dict, path: Path) -> dict:
    """The normalisation a resumed run goes on with: the one this version ``computed`` for it,
    unless the run's checkpoint (read from ``path``) records none of its floor (an older
    unetlab began it): then the run's own, said once, so that its checkpoints go on predicting
    as its earlier ones did (audit s31 upgrade 6; the floor leaves the training images alone)."""
    own = dict(checkpoint.get("normalization") or {})
    if "floor" in own or "floor" not in computed:  # a floor without its dtype gains it
        return computed
    if {k: v for k, v in computed.items() if k not in _COMPUTED} != own:
        return computed
    log.info(
        "%s: this run began without a normalisation floor (an older unetlab): it goes on "
        "without one, so that its checkpoints predict as its earlier ones (a new run gets one)",
        path,
    )
    return own


#: how a run goes on in its ``{}`` processes, and gets a time budget of more than ``{}``
#: minutes, as a Python caller (who has no --nproc nor --minutes: s54) and the command line do
IN_PROCESSES = Spelled("in {0} processes (torchrun --nproc_per_node {0})", "with --nproc {0}")
BUDGET = Spelled("train.max_minutes", "--minutes, train.max_minutes")
MORE_MINUTES = Spelled("set cfg.train.max_minutes to more than {}", "give --minutes more than {}")


def _warn_other_processes(saved: int | None, processes: int) -> None:
    """A run resumed in another number of processes than it trained in (``saved``; None:
    not recorded) trains on with another global batch: say so, and how to go on as before."""
    if saved is None or saved == processes:
        return
    log.warning(
        "this run trained in %d process(es) and resumes in %d: its global batch changes with "
        "them (batch_size x processes); resume %s to go on as it trained",
        saved,
        processes,
        said_as(IN_PROCESSES).format(saved),
    )


def minutes_spent(run_dir: str | os.PathLike) -> float | None:
    """The minutes of its time budget that the run in ``run_dir`` had spent as its last.pt
    was saved (the schedule's or the budget's state); None where it has no last.pt, none
    that reads, or no time budget."""
    try:
        checkpoint = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt")
    except (UnetlabError, OSError):
        return None
    for part in ("scheduler", "budget"):
        if isinstance(state := checkpoint.get(part), dict) and "elapsed" in state:
            return float(state["elapsed"]) / 60
    return None


def warn_budget_below_spent(before: float | None, timer) -> None:
    """One warning line where a resume gave a time budget (``timer``: its seconds and
    seconds spent) other than the run's (``before`` s; None: not recorded) and below the
    time the run has spent already: training ends at once (it was said at INFO only). The
    same budget given again (a requeued job of a run that spent it) says nothing."""
    spent = timer.seconds_spent
    if before is None or before == timer.seconds or spent < timer.seconds:
        return
    minutes = f"{math.ceil(spent / 60 * 100) / 100:g}"  # rounded up: "more than" holds
    log.warning(
        "warning: the run has spent %s min, more than the new time budget of %g min (%s): "
        "training ends at once; to train on, %s",
        minutes,
        timer.seconds / 60,
        said_as(BUDGET),
        said_as(MORE_MINUTES).format(minutes),
    )


def _saved_schedule(checkpoint: dict, scheduler) -> dict:
    """The schedule's state in ``checkpoint``; a time budget's with the seconds it ran under
    (in its train config, for a checkpoint from before they were in the state)."""
    state = dict(checkpoint["scheduler"])
    if isinstance(scheduler, BudgetSchedule) and (seconds := _budget_seconds(checkpoint)):
        state["seconds"] = seconds
    return state


def _budget_seconds(checkpoint: dict) -> float | None:
    """The seconds of the time budget the run of ``checkpoint`` ran under: its schedule's
    state, or its train config for a checkpoint from before they were in the state."""
    if seconds := (checkpoint.get("scheduler") or {}).get("seconds"):
        return seconds
    minutes = (checkpoint.get("train_config") or {}).get("train", {}).get("max_minutes")
    return 60 * minutes if minutes else None


def _log_budget(scheduler, saved: dict) -> None:
    """One line on what a resumed run's new time budget buys."""
    before = saved.get("seconds")
    if not isinstance(scheduler, BudgetSchedule) or before in (None, scheduler.seconds):
        return
    now, spent = scheduler.seconds / 60, scheduler.seconds_spent / 60
    line = f"the time budget is now {now:g} min (it was {before / 60:g}; {spent:.2g} min spent)"
    if scheduler.spent():
        log.info("%s: it is spent, so no more training", line)
        warn_budget_below_spent(before, scheduler)
        return
    log.info(
        "%s: it buys %.0f s more training, the %s schedule laid over them (lr %.3g now, 0 at "
        "the end)",
        line,
        scheduler.training_left(),
        scheduler.kind,
        scheduler.optimizer.param_groups[0]["lr"],
    )


def _schedule_length(scheduler) -> tuple[str, int] | None:
    """(attribute, steps) of a step schedule's length (cosine, poly), or None."""
    for key in ("T_max", "total_iters"):
        if hasattr(scheduler, key):
            return key, getattr(scheduler, key)
    return None


def _stretch_schedule(scheduler, length: tuple[str, int] | None) -> None:
    """A resumed run whose length changed (train.epochs, the tiles per epoch or the batch):
    its cosine / poly schedule is laid over the new length, the lr set to the new curve's
    value at this step (else it would rise again after reaching 0, or never anneal). Public
    state only: torch's cosine and poly steps go on from the optimiser's lr and the length
    (``get_last_lr()``, which unetlab does not read, catches up at the next step)."""
    if length is None or getattr(scheduler, length[0]) == length[1]:
        return
    key, steps = length
    before = getattr(scheduler, key)
    setattr(scheduler, key, steps)
    kind, step = ("cosine" if key == "T_max" else "poly"), scheduler.last_epoch
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
        group["lr"] = base * schedule_factor(kind, step / max(steps, 1))
    log.info(
        "the run's %s schedule ended at step %d; it now ends at step %d (lr %.3g at step %d)",
        kind,
        before,
        steps,
        scheduler.optimizer.param_groups[0]["lr"],
        step,
    )
