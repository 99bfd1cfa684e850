"""``fit(cfg)``: a run from its folder to its end: the epochs (:mod:`unetlab.train.loop`'s
``train_one_epoch``), validation, checkpoints, the stop on a signal, patience or the time
budget, and the run's summary."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
import yaml

from unetlab.checkpoint import load_checkpoint, update_checkpoint
from unetlab.config import Config, given_config
from unetlab.config.keywords import checks_keywords
from unetlab.data.mask_reading import reads_masks_as_config
from unetlab.data.pairs import refuse_missing_root, refuse_no_root
from unetlab.data.read_notes import call_notes, said_within
from unetlab.data.split_record import SPLIT_FILE
from unetlab.distributed import Group
from unetlab.errors import Spelled, UnetlabError, first_line
from unetlab.inference.predict import model_ignored_class
from unetlab.plan.memory import check_step_memory
from unetlab.plan.record import Plan
from unetlab.progress import checked, progress_bar, shown
from unetlab.run_records import (
    HISTORY_FILE,
    other_making,
    read_summary,
    say_resume_making,
    write_summary,
)
from unetlab.runtime import memory_hint, resolve_device, threads_kept, tuned_allocator
from unetlab.signals import Stopped
from unetlab.train.log import (
    console_log,
    detach_console,
    detach_log,
    epoch_name,
    keep_trained_threads,
    log_epoch,
    log_to_file,
    log_weak_classes,
    quiet_log,
    quiet_setup,
    repeat_nproc,
    repeat_threads,
    rethread,
    run_reading,
    shared_cpu,
    threads_record,
    warn_busy_cpu,
)
from unetlab.train.loop import TrainState, train_one_epoch, val_classes, validate
from unetlab.train.offset import fit_label_offset, measured_offset
from unetlab.train.repeat import checked_data, clock_free_repeat, describe_repeat
from unetlab.train.resume import (
    budget_spent,
    continue_with,
    ending_line,
    refuse_fewer_epochs,
    resumed_checkpoint,
    saved_record,
    saved_state,
    trained_to,
)
from unetlab.train.run import Run, setup_run
from unetlab.train.rundir import claim_run_dir, resume_wanted
from unetlab.train.schedule import BudgetSchedule, offset_fit_cost, shared_clock, validation_due
from unetlab.train.setup import check_stain_channels
from unetlab.train.stop import StopRequest
from unetlab.words import numbered

log = logging.getLogger(__name__)


@checks_keywords
@reads_masks_as_config
@call_notes()  # a call is one command for what reading notes, as the CLI's train
def fit(
    cfg: Config,
    *,
    run_dir: str | os.PathLike,
    resume: bool | str = False,
    overwrite: bool = False,
    progress: bool = True,
    plan: Plan | None = None,
    clock: Callable[[], float] | None = None,
    split: dict | None = None,
    config_file: str | os.PathLike | None = None,
) -> dict:
    """Train ``cfg`` into ``run_dir``; returns a plain dict: ``best_val_miou`` (epoch
    ``best_epoch``; ``best_val_miou_smoothed``: ``train.best_smoothing``'s average), ``val`` (the
    last validation: ``loss``, ``miou``, ``mdice``, ``iou``, ``pixels``, ``dice``...; an older
    last.pt's finished run: the first five alone), ``seconds``, ``val_miou_classes``,
    ``val_ignored_class`` (summary.json's), ``best_checkpoint``, ``last_checkpoint``, ``run_dir``
    (str), ``epochs``, ``steps``, ``label_offset``, ``cpu_share``, ``cpu_warning`` (or None).
    OutputError for an existing run unless ``resume`` (from ``checkpoints/last.pt``;
    ``"auto"``: where there is one, as a requeued batch job) or ``overwrite``, for run files
    unetlab did not write, a ``run_dir`` that is a file or in a folder the data is read from,
    and a run folder another process trains into (holds its lock). Ctrl-C, SIGTERM and SIGHUP
    stop at the next step (:class:`StopRequest`): ``last.pt`` is saved (a resume continues
    from that batch), then KeyboardInterrupt (:class:`Stopped` for SIGTERM, SIGHUP) is raised.
    Out of memory raises OutOfMemoryError naming the settings to lower. Under torchrun every
    process calls this; the main one locks, writes and logs. ``resume`` trains ``cfg`` as
    given: the run's ``config.yaml`` changed only in ``unetlab.config.RESUMABLE`` (epochs,
    max_minutes, batch_size, device, data.root, ...); other keys, or a cosine / poly schedule
    switched between a time budget and none, are refused naming them: resume with
    ``load_config(run_dir / "config.yaml")`` changed in those keys only.
    ``progress``: each epoch's bar (log lines: :func:`~unetlab.train.log.console_log`).
    ``plan``: a :class:`unetlab.plan.Plan` (reasons to train.log, values as trained to plan.yaml).
    ``clock``: seconds for ``train.max_minutes``. ``split``: another run's split record
    (:func:`~unetlab.data.split_record.read_split`) repeated on its files (changed: refused).
    ``config_file``: where ``cfg`` was loaded from (a run's config.yaml on other data warns)."""
    cfg, resume, plan = _prepared(cfg, run_dir, resume=resume, progress=progress, plan=plan)
    group = Group.from_env()
    device = group.device(resolve_device(cfg.train.device, "train.device: cpu (--device cpu)"))
    # before the run folder is made and the data loaded; CPU processes share the machine's
    check_step_memory(cfg, device.type, processes=group.world, plan=plan)  # + the data
    with group.joined(device, cfg.train.dist_timeout_minutes), contextlib.ExitStack() as held:
        started, clock = time.perf_counter(), shared_clock(clock or time.perf_counter, group)
        begun = clock()  # a time budget counts from here: loading the data is part of it
        _hold_training_state(held, device)
        run_dir = _claimed(run_dir, cfg, group, held, resume=resume, overwrite=overwrite)
        how = dict(resume=resume, progress=progress, clock=clock, begun=begun, split=split)
        return _logged_fit(cfg, run_dir, device, group, plan, config_file, started, **how)


def _logged_fit(
    cfg, run_dir, device, group, plan, config_file, started, *, resume, progress, **how
):
    """:func:`_fit` in the claimed ``run_dir`` with its logs open (the plan and beginning
    logged by the main process), stopped by a signal at a step boundary; its ``seconds``
    counted from ``started`` (the call's); what reading the data noted, gathered by the
    call (:func:`fit`'s ``call_notes``) or the command, said before its logs close, and in
    each fold's train.log (:func:`said_within`)."""
    with _run_logs(run_dir, group) as logged, said_within(logged):
        plan_said = plan_saved = _no_plan
        if group.is_main:
            began = dict(resume=resume, split=how["split"], train_log=logged)
            plan_said, plan_saved = _log_beginning(run_dir, cfg, plan, config_file, **began)
        fix = Spelled(  # a notebook's fit was told the command line's keys (s56)
            "lower cfg.train.batch_size or cfg.data.tile_size (or train on the GPU)",
            "lower train.batch_size or data.tile_size (or train on the GPU)",
        )
        stop = StopRequest(at_once=not group.active)
        with stop, memory_hint("training", fix), threads_kept():
            progress = progress and group.is_main
            result = _fit(
                cfg,
                run_dir,
                device=device,
                group=group,
                resume=resume,
                progress=progress,
                stop=stop,
                config_file=config_file,
                plan_said=plan_said,
                plan_saved=plan_saved,
                **how,
            )
        return result | {"seconds": time.perf_counter() - started}


def _prepared(
    cfg: Config, run_dir: str | os.PathLike, *, resume: bool | str, progress, plan: Plan | None
) -> tuple[Config, bool, Plan | None]:
    """``cfg`` checked and its paths made absolute, whether the run resumes, and ``plan``
    as ``cfg`` holds it (:meth:`~unetlab.plan.Plan.held`: ``cfg`` trains, a key it changed
    after planning is the user's): the refusals that come before the run folder is
    touched, so nothing is left behind."""
    cfg = given_config(cfg).checked()  # a bad value set as an attribute is one line
    checked(progress, "", calls=False)  # a function is not called: refused, not ignored
    refuse_no_root(cfg.data.root)
    resume = resume_wanted(resume, run_dir)
    cfg = absolute_paths(cfg, run_dir, resume=resume)
    refuse_missing_root(cfg.data.root)  # before the run folder is touched
    check_stain_channels(cfg)  # a grey data set with augment.stain
    if plan is None:
        return cfg, resume, None
    plan = replace(plan.held(cfg), shown_lines=plan.shown_once())  # the caller's forgets
    plan.check_ends(cfg)  # its budget's epoch cap with the budget turned off
    return cfg, resume, plan


def _log_beginning(
    run_dir: Path, cfg: Config, plan, config_file, *, resume: bool, split: dict | None, train_log
) -> tuple[Callable[[], None], Callable[[], None]]:
    """The main process's first lines: a new run's warnings about its data and making
    (:func:`warn_other_data`), and a new run's plan (its lines and plan.yaml); returns a
    resume's plan in two parts, said by :func:`_fit`: its lines where a step (or the label
    offset) is to come by last.pt's record under the ``cfg`` given, before the data loads
    (:func:`_resume_said`), and its plan.yaml once the setup has loaded it and a step (or
    the offset) is still to come: a finished run resumed with ``plan=`` said "measured the
    data in 1 s" again and rewrote its plan.yaml (s66 notebook); a resume refused in its
    setup, or killed in it, rewrote plan.yaml for training that never came (s67 re-read)."""
    if not resume:  # its making: once the threads are set (_say_making)
        warn_other_data(config_file, cfg, data=split is None, making=False)
    if plan is None:
        return _no_plan, _no_plan
    said = functools.partial(plan.log, train_log)  # those lines() showed: train.log alone
    saved = functools.partial(plan.save, run_dir / "plan.yaml")  # its values as trained
    if resume:
        return said, saved
    saved()
    said()
    return _no_plan, _no_plan


def _no_plan() -> None:
    """No plan to say (none given, said already, or not the main process's)."""


def absolute_paths(cfg: Config, run_dir: str | os.PathLike, *, resume: bool) -> Config:
    """``cfg`` (a copy of the caller's) with ``data.root``, ``model.encoder_weights`` and
    ``model.init_checkpoint`` read from the current folder (``~`` expanded), as the CLI's --data and --set do: config.yaml
    records the folder and file the run used. A resume keeps the weights file as the run's
    own config.yaml names it: made absolute only where that records the same file absolute
    (the first call's relative path given again); an empty one ("": no weights) stays, and
    so does no data folder (None: fit refuses it, the CLI's --check too)."""
    if cfg.data.root is not None:
        cfg.data.root = str(Path(cfg.data.root).expanduser().resolve())
    for key in ("encoder_weights", "init_checkpoint"):
        if weights := getattr(cfg.model, key):
            absolute = str(Path(weights).expanduser().resolve())
            if not resume or _recorded_weights(Path(run_dir), key) == absolute:
                setattr(cfg.model, key, absolute)
    return cfg


def warn_other_data(
    config_file: str | os.PathLike | None, cfg: Config, *, data: bool = True, making: bool = True
) -> None:
    """Where ``config_file`` is a run's config.yaml: a warning when this process trains with
    another unetlab commit, torch or thread count than the run's history.yaml records
    (:func:`unetlab.run_records.other_making`; not with ``making`` False); with ``data`` (no
    ``--split``, which checks its files itself), a warning when the data ``cfg`` would train on is not the files that
    run's split.json lists, else a line that they were checked and match
    (:func:`unetlab.train.repeat.checked_data`)."""
    found = checked_data(config_file, cfg) if data else None
    if found is not None and found[0]:
        log.info("%s", found[1])
    elif found is not None:
        log.warning("warning: %s", found[1])
    if making:
        _warn_making(config_file)


def _warn_making(config_file: str | os.PathLike | None) -> None:
    if warning := other_making(config_file):
        log.warning("warning: %s", warning)


def _say_making(run: Run, *, resume: bool, config_file) -> None:
    """In the main process, once the look beside other work has set the threads the steps run
    on: a resume's, or a repeat of the run whose config.yaml is ``config_file``'s, other
    commit, torch or thread count, in one line (s56 review U: the count before the look was
    compared)."""
    if not run.group.is_main:
        return
    if resume:
        say_resume_making(run.run_dir)
    else:
        _warn_making(config_file)


def _recorded_weights(run_dir: Path, key: str) -> str | None:
    """The ``model.KEY`` file the run's config.yaml records, or None (none readable: the
    resume's own checks say why)."""
    try:
        recorded = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        return recorded["model"][key]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None


def _claimed(
    run_dir: str | os.PathLike,
    cfg: Config,
    group: Group,
    held: contextlib.ExitStack,
    *,
    resume: bool,
    overwrite: bool,
) -> Path:
    """The run folder, claimed by the main process (:func:`claim_run_dir`: checked, made,
    its lock held in ``held``); a problem with it is raised in every process."""
    problem = None
    if group.is_main:
        try:
            run_dir = claim_run_dir(run_dir, cfg, resume=resume, overwrite=overwrite, held=held)
        except (UnetlabError, OSError) as exc:
            problem = exc
    problem, run_dir = group.share((problem, Path(run_dir)))
    if problem is not None:
        raise problem
    return run_dir


@contextlib.contextmanager
def _run_logs(run_dir: Path, group: Group):
    """The run's logging while it lasts: train.log in the main process (the others' logs
    quiet), and the console as the program set logging up, or on stderr where it did not
    (a notebook, a script: :func:`console_log`); yields train.log's handler (None in the
    others)."""
    console = console_log() if group.is_main else None  # before train.log lowers the level
    handler = log_to_file(run_dir / "train.log") if group.is_main else quiet_log()
    try:
        yield handler if group.is_main else None
    except BaseException as exc:  # a batch job's record says why the run ended (stderr did)
        if group.is_main and (line := ending_line(exc, run_dir, group.world)):
            handler.handle(log.makeRecord(log.name, logging.ERROR, __file__, 0, line, (), None))
        raise
    finally:
        detach_log(handler)
        detach_console(console)


def _hold_training_state(held: contextlib.ExitStack, device: torch.device) -> None:
    """Into ``held``: the caller's random state, restored at the end (the caller's seeds stay as
    they were), and on a CPU one tuned heap for training and validation, given back at the end
    (fewer page faults per step: :func:`unetlab.runtime.tuned_allocator`)."""
    held.enter_context(_own_random_state(device))
    if device.type == "cpu":
        held.enter_context(tuned_allocator())


def _own_random_state(device: torch.device):
    """torch's random state (the CPU's, and ``device``'s if a GPU) restored when training
    ends: the run seeds its own (train.seed), a notebook's seeds are left alone."""
    gpus = [device.index or 0] if device.type == "cuda" else []
    return torch.random.fork_rng(devices=gpus)


def _fit(
    cfg: Config,
    run_dir: Path,
    *,
    device: torch.device,
    group: Group,
    resume: bool,
    progress: bool,
    stop: StopRequest,
    clock: Callable[[], float] = time.perf_counter,
    begun: float | None = None,
    split: dict | None = None,
    config_file: str | os.PathLike | None = None,
    plan_said: Callable[[], None] = _no_plan,
    plan_saved: Callable[[], None] = _no_plan,
) -> dict:
    timing = dict(clock=clock, begun=begun)
    # a resume's first lines, before its data loads (a kill in a long load kept none: s67)
    ended = resume and _resume_said(cfg, run_dir, plan_said)
    with quiet_setup(ended):  # a finished run's setup: its warnings alone
        run = setup_run(
            cfg, run_dir, device=device, group=group, resume=resume, split=split, **timing
        )
    # resumed after its training ended (stopped in the label offset); never a new run, whose
    # budget loading spent trains one step (a new run said "training had ended", s66 review)
    trained = resume and _trained(run)  # where it had ended by last.pt, so has it here
    said = dict(resume=resume, config_file=config_file, plan_saved=plan_saved)
    _say_setup(run, trained=trained, ended=ended, **said)
    run.cpu = run_reading(run)  # the CPU time training gets, its workers' too (shared_cpu)
    if trained:
        keep_trained_threads(run)  # its repeat: the steps' count, not this command's
        return _finish(run, stop)
    try:
        while run.state.epoch < cfg.train.epochs:
            tick = time.perf_counter()
            row = _train_epoch(run, progress=progress, stop=stop)
            if _end_epoch(run, row, tick=tick, stop=stop):
                break
    except KeyboardInterrupt as exc:
        _save_stopped(run, stop)
        stopped = stop.interrupt() if stop() else exc  # SIGTERM, SIGHUP: for the exit status
        if isinstance(stopped, Stopped) and not isinstance(exc, Stopped):
            raise _said(stopped) from exc
        _said(exc)  # Ctrl-C: raised as it is, one traceback (s65 notebook walk: two)
        raise
    except Exception:  # curves.png of the epochs it trained: the first is drawn 30 s in
        stop.ending()  # a stop now is no stop after a step: the error is said
        _plot_failed(run)
        raise
    return _finish(run, stop)


def _resume_said(cfg: Config, run_dir: Path, plan_said) -> bool:
    """A resume's first lines, said before its data loads (:func:`setup_run`; a resume that
    spent minutes loading said nothing, a kill there kept nothing: review s67), from its
    last.pt's record and ``cfg``: where its training had ended and no label offset is due,
    that line alone (True: its setup quiet, :func:`quiet_setup`; s67 notebook: it said its
    data, model and budget); else where it goes on from, then its plan (``plan_said``),
    which leads its data, model and budget lines as a new run's does (False); False too
    where last.pt records no training state (the setup's error says why). UnetlabError,
    before any line: ``cfg`` asks fewer epochs than it has trained
    (:func:`refuse_fewer_epochs`); last.pt does not read (a torn one was refused after the
    setup's data lines, s68)."""
    last = Path(run_dir) / "checkpoints" / "last.pt"
    if (checkpoint := saved_record(run_dir)) is None:
        resumed_checkpoint(last)  # unreadable: its CheckpointError, the one line
        return False
    refuse_fewer_epochs(checkpoint["train_state"], cfg.train.epochs, last)
    state = saved_state(checkpoint)
    why = _ended_why(cfg.train, state, lambda: budget_spent(checkpoint, cfg))
    if why is not None and not _offset_due(cfg, run_dir):
        log.info("%s", _ended_line(cfg.train, state, why))
        return True
    at = trained_to(state.step, state.epoch, state.batch)
    log.info("resuming the run in %s from %s (checkpoints/last.pt)", run_dir, at)
    plan_said()
    return False


def _say_setup(
    run: Run, *, trained: bool, ended: bool, resume: bool, config_file, plan_saved
) -> None:
    """After the setup: where a step is to come, what loading took of the budget; where a
    step or the label offset is, a resume's plan.yaml (``plan_saved``) and the making; where none
    is, that training had ended, where not said before the setup (``ended``: :func:`_resume_said`;
    the time budget its loading
    spent, or one a resume changed, is known only after it)."""
    if not trained:  # a budget that trains no step buys no fewer steps either
        run.say_loading()  # what loading took of the budget
        warn_busy_cpu(run)  # over the setup: before run.cpu is read again
    if not trained or _offset_due(run.cfg, run.run_dir):  # a step, or the offset, to come
        plan_saved()
        _say_making(run, resume=resume, config_file=config_file)
    if trained and not ended:
        log.info("%s", _ended_line(run.cfg.train, run.state, run.ended or ""))


def _offset_due(cfg: Config, run_dir: Path) -> bool:
    """Whether the run's finish measures the label offset (not measured for its best.pt)."""
    return cfg.train.label_offset == "fit" and measured_offset(run_dir) is None


def _plot_failed(run: Run) -> None:
    """curves.png of a run an error ends, where it trained an epoch (a run shorter than 30 s
    had none, a resumed one the previous part's); a plot failing in turn is logged, not
    raised over the run's own error."""
    if not (run.group.is_main and run.metrics is not None and run.metrics.rows):
        return
    try:
        _plot(run.run_dir, run.metrics.rows)
    except Exception as exc:  # noqa: BLE001 - the run's error is the one to show
        log.warning("curves.png not drawn: %s", first_line(exc))


def _trained(run: Run) -> bool:
    """Whether the run has no step left to train (:func:`_ended_why`); an early stop marks
    ``run.ended``."""
    why = _ended_why(run.cfg.train, run.state, run.out_of_time)
    if why:
        run.ended = why
    return why is not None


def _ended_why(t, state: TrainState, out_of_time: Callable[[], bool]) -> str | None:
    """Why a run at ``state`` has no step left under ``t`` (its train config), at an
    epoch's end: "early stop" (train.patience spent, as last.pt's run_progress counts it: a
    run stopped on the epoch its patience ran out was recorded as ended, and its resume
    trained an epoch more), "" (train.epochs done, or the time budget spent:
    ``out_of_time``); None where a step is to come."""
    if state.batch != 0:
        return None
    if t.patience and state.bad_epochs >= t.patience:
        return "early stop"
    return "" if state.epoch >= t.epochs or out_of_time() else None


def _ended_line(t, state: TrainState, why: str) -> str:
    """The line of a resume that finds the run's training ended (:func:`_ended_why`'s
    ``why``); after an early stop, how to train on (more epochs alone train nothing:
    patience is spent)."""
    if why == "early stop":
        without = numbered(state.bad_epochs, "validation")
        # all train.epochs done too: more patience alone would train nothing either
        more = " and train.epochs" if state.epoch >= t.epochs else ""
        why = f" by early stop ({without} without a better val mIoU; raise train.patience"
        why += f"{more} to train on)"
    else:
        why = ""
    return f"training had ended{why} (epoch {state.epoch}, step {state.step}): finishing the run"


def _save_stopped(run: Run, stop: StopRequest) -> None:
    """last.pt of a stopped run, the plot, and one line on how to go on."""
    run.save("last.pt")
    if run.group.is_main:
        _plot(run.run_dir, run.metrics.rows)
        write_summary(run.run_dir, _summary(run, finished=False))
    state = run.state
    log.info(
        "%s at %s: saved %s%s",
        stop.describe(),
        trained_to(state.step, state.epoch, state.batch),  # as the resume will say it
        run.run_dir / "checkpoints" / "last.pt",
        continue_with(run.run_dir, run.group.world),  # the command, or fit's call
    )


def _said(exc: KeyboardInterrupt) -> KeyboardInterrupt:
    """``exc`` marked as a stop whose line (:func:`_save_stopped`) said how to go on: the
    command's own last line leaves the command out (it said "continue with" twice)."""
    exc.resume_said = True
    return exc


def _train_epoch(run: Run, *, progress: bool, stop: StopRequest) -> dict:
    """Train the rest of the current epoch; its row of metrics.csv so far."""
    t, state, group = run.cfg.train, run.state, run.group
    run.freeze(state.epoch)
    # from the tiles done, not the batches: a resume may change the batch or the processes
    run.items.set(state.epoch, group.shard(state.tiles, len(run.dataset)))
    left = math.ceil(len(run.items) / t.batch_size)
    with progress_bar(
        total=run.steps_per_epoch,
        initial=max(run.steps_per_epoch - left, 0),
        leave=False,
        disable=not shown(progress),
        desc=epoch_name(state.epoch + 1, t),
    ) as bar:
        data_s, compute_s = train_one_epoch(
            run.net,
            run.loader,
            run.optimizer,
            run.loss_fn,
            state,
            device=run.device,
            precision=run.precision,
            scaler=run.scaler,
            scheduler=run.scheduler if t.schedule in ("cosine", "poly") else None,
            grad_clip=t.grad_clip,
            bar=bar,
            stop=stop,
            group=group,
            until=lambda: state.step > 0 and run.out_of_time(),  # one step at least
        )
    return {
        "epoch": state.epoch + 1,
        "step": state.step,
        "train_loss": state.loss_sum / max(state.batch, 1),
        "lr": run.optimizer.param_groups[0]["lr"],
        "data_s": data_s,
        "compute_s": compute_s,
    }


def _end_epoch(run: Run, row: dict, *, tick: float, stop: StopRequest) -> bool:
    """Validate when due, record, checkpoint, log and plot; True when training should stop.

    last.pt is the commit point: the metrics row and best.pt are written before it, so that
    a run killed at any moment resumes from the last.pt before (the rows after its epoch are
    dropped and that epoch is redone) or after them, never with a row or best.pt lost."""
    t, state = run.cfg.train, run.state
    state.epoch, state.batch, state.tiles, state.loss_sum = state.epoch + 1, 0, 0, 0.0
    if run.data.val and validation_due(state.epoch, t, run.out_of_time, run.pacer, run.clock):
        _validate_epoch(run, row)
    writing = run.clock()
    monitor = row.get("val_miou") if run.data.val else -row["train_loss"]
    improved = _track(state, monitor, smoothing=t.best_smoothing)
    if "val_miou" in row:
        row["val_miou_smoothed"] = state.smoothed
    row["seconds"] = time.perf_counter() - tick
    if run.group.is_main:
        run.metrics.append(row)
    if improved:
        run.save("best.pt", metrics=row)
    if run.budget is not None:  # the seconds used that last.pt keeps: the validation's too
        run.budget.spent()
    run.save("last.pt")
    if run.group.is_main:
        pixels = run.last.get("pixels") if "val_miou" in row else None
        log_epoch(row, t, pixels, model_ignored_class(run.model))
        rethread(run)
        if run.curves_due():
            _plot(run.run_dir, run.metrics.rows)
            run.drew_curves()
    if run.pacer is not None:
        run.pacer.ended_epoch(run.clock() - writing)
    return _should_stop(run, stop)


def _validate_epoch(run: Run, row: dict) -> None:
    """The main process validates (the plain model: no collectives), the others wait."""
    started = run.clock()
    if run.group.is_main:
        run.last = validate(
            run.model, run.data.val, run.loss_fn, device=run.device, precision=run.precision
        )
    run.last = run.group.share(run.last if run.group.is_main else None)
    run.pacer.record(started, run.clock())
    last = run.last
    row.update(val_loss=last["loss"], val_miou=last["miou"], val_mdice=last["mdice"])
    row.update({f"val_iou_{name}": v for name, v in zip(run.model.classes, last["iou"])})
    if run.cfg.train.schedule == "plateau":
        run.scheduler.step(last["miou"])


def _should_stop(run: Run, stop: StopRequest) -> bool:
    """A stop signal (raised as KeyboardInterrupt), patience or the time budget; the main
    process's clock and stop request decide for all."""
    t, state = run.cfg.train, run.state
    stopping, out_of_time = run.group.share((stop(), run.out_of_time()))
    if stopping:
        raise KeyboardInterrupt
    if t.patience and state.bad_epochs >= t.patience:
        log.info("early stop: val mIoU has not improved for %d validations", state.bad_epochs)
        run.ended = "early stop"
        return True
    if out_of_time and state.epoch < t.epochs:  # at train.epochs the run ends anyway
        line = f"time budget of {t.max_minutes:g} min reached: it bought "
        line += f"{numbered(state.step, 'step')} ({numbered(state.epoch, 'epoch')})"
        if (kept := getattr(run.scheduler, "kept", 0.0)) >= 0.5:  # "0 s kept": none said
            measured = offset_fit_cost(run.cfg) and not run.pacer.dropped_after
            after = " and the label offset" if measured else ""
            line += f"; {kept:.0f} s kept for the last validation{after}"
        log.info("%s", line)
        run.ended = "time budget"
        return True
    return False


def _finish(run: Run, stop: StopRequest) -> dict:
    """The last plot, the label offset (``train.label_offset: fit``), and what the run gives
    back. A stop request skips the label offset (a resume measures it) and is raised."""
    offset, deadline, skipped = None, _budget_end(run), False  # every process reads the clock
    share, shared = shared_cpu(run)  # training's, before the label offset
    if run.group.is_main:
        _mark_ended(run)
        _plot(run.run_dir, run.metrics.rows)
        offset, skipped = _label_offset(run, stop, deadline)
    if run.group.share(skipped):  # every process stops, as the main one does
        raise stop.interrupt()
    result = _result(run, offset, share, shared)
    if run.group.is_main:
        _write_final_summary(run, result["label_offset"], share, shared)
    log_weak_classes(run.model.classes, run.last)
    log.info(
        "done: best checkpoint %s, metrics %s",
        result["best_checkpoint"],
        run.run_dir / "metrics.csv",
    )
    return result


def _mark_ended(run: Run) -> None:
    """last.pt and best.pt say the run's training had ended where their save could not know
    (the time budget, decided after it; a best.pt of an earlier epoch; a run resumed after
    its training had ended, which saved nothing): rewritten once, at the end of such a run,
    and never where they say so already (a finished run resumed again: ``--resume auto`` of
    a requeued job). A best.pt without the record (an older run's) is left as it is. The
    files keep their model's sha256 (``same_model``): outputs predicted from them before
    keep their key (``predict --skip-existing`` counted them another model's)."""
    for name in ("last.pt", "best.pt"):
        path = run.run_dir / "checkpoints" / name
        if not path.is_file():
            continue
        saved = run.saved_progress.get(name)
        if saved is None:  # nothing saved by this process: the file's own record
            saved = load_checkpoint(path).get("run_progress")
            if saved is None and name == "best.pt":
                continue
        if not (saved or {}).get("finished"):
            progress = run.progress(finished=True, saved_as=name)
            update_checkpoint(path, same_model=True, run_progress=progress)


def _label_offset(run: Run, stop: StopRequest, deadline: Callable[[], bool] | None) -> tuple:
    """(the label offset or None, whether a stop request skipped its fit): measured before
    for this best.pt (a finished run resumed), else fitted where ``train.label_offset`` is
    ``fit`` and the time budget left room for it."""
    if run.cfg.train.label_offset != "fit":
        return None, False
    offset = measured_offset(run.run_dir)
    if offset is not None:
        log.info("%s (measured before, for this best.pt)", offset.describe())
        return offset, False
    if run.pacer is not None and run.pacer.dropped_after:
        return None, False
    offset = fit_label_offset(
        run.cfg,
        run.run_dir,
        device=run.device,
        data=run.data,
        precision=run.precision.inference,
        out_of_time=deadline,
        stop=stop,
    )
    return offset, offset is None and stop()


def _result(run: Run, offset, share: float | None, shared: str | None) -> dict:
    """What :func:`fit` returns of a finished run: where it is, how far it went, its scores
    and files, the label offset (a list, or None), its share of the CPU time its threads
    could have had (``cpu_share``, as summary.json's; None: not measured) and the line that
    said other work took much of it (``cpu_warning``; None: not said)."""
    state, run_dir = run.state, run.run_dir
    return {
        "run_dir": str(run_dir),
        "epochs": state.epoch,
        "steps": state.step,
        **_best_scores(state, bool(run.data.val)),
        "val": dict(run.last),
        "best_checkpoint": str(run_dir / "checkpoints" / "best.pt"),
        **val_classes(run.model),  # as summary.json's: the ignored class in no mean
        "last_checkpoint": str(run_dir / "checkpoints" / "last.pt"),
        "seconds": time.perf_counter() - run.started,
        "label_offset": None if offset is None else list(offset.offset),
        "cpu_share": share,
        "cpu_warning": shared,
    }


def _write_final_summary(
    run: Run, label_offset: list | None, share: float | None, shared: str | None
) -> None:
    """summary.json of the finished run, with its CPU share (``shared``: the warning said
    where others' work took much of it); a run a clock ended also records how to train its
    steps again without one."""
    summary = _summary(run, finished=True, label_offset=label_offset)
    summary["cpu_share"] = None if share is None else round(share, 2)
    if shared:
        log.warning("warning: %s", shared)
    if run.cfg.train.max_minutes > 0:  # the steps a clock bought: how to train them again
        state = run.state
        per_epoch, threads = run.steps_per_epoch, repeat_threads(run)
        summary["repeat"] = clock_free_repeat(
            run.run_dir,
            epochs=state.epoch,
            steps=state.step,
            per_epoch=per_epoch,
            threads=threads,
            nproc=repeat_nproc(run),
        )
        log.info("%s", describe_repeat(summary["repeat"]))
    write_summary(run.run_dir, summary)


def _summary(run: Run, *, finished: bool, label_offset: list | None = None) -> dict:
    """What summary.json says of the run (:func:`unetlab.run_records.write_summary`): how
    far it trained and why it ended (``ended``: epochs, time budget, early stop; stopped
    when not ``finished``), the seconds its epochs took (``training_seconds``, all its
    commands') and this command's, best.pt's epoch and scores, the last epoch's and the
    last validation's, the label offset, its files."""
    state, rows, t = run.state, run.metrics.rows, run.cfg.train
    ended = run.ended or ("epochs" if state.epoch >= t.epochs else "time budget")
    last = rows[-1] if rows else {}
    checked = [r for r in rows if r.get("val_miou") is not None] or [{}]
    return {
        "finished": finished,
        "ended": ended if finished else "stopped",
        "epochs": state.epoch,
        "steps": state.step,
        "training_seconds": round(sum(r.get("seconds") or 0.0 for r in rows), 2),
        "command_seconds": round(time.perf_counter() - run.started, 2),
        **_best_scores(state, bool(run.data.val)),
        "last_epoch": _row(last, ("epoch", "train_loss", "lr")),
        "last_validation": _row(checked[-1], [k for k in checked[-1] if k.startswith("val_")]),
        "classes": list(run.model.classes),
        **val_classes(run.model),
        "val_pixels": _val_pixels(run),  # labelled val pixels of each class
        "label_offset": label_offset,
        **threads_record(run),  # as history.yaml's resolved, so a repeat compares them
        "train_images": len(run.data.train),
        "val_images": len(run.data.val),
        "files": {"split": SPLIT_FILE, "config": "config.yaml", "history": HISTORY_FILE},
        "checkpoints": {"best": "checkpoints/best.pt", "last": "checkpoints/last.pt"},
    }


def _val_pixels(run: Run) -> list[int] | None:
    """The labelled val pixels of each class of the run's last validation: a run resumed from
    a checkpoint that did not record it (``last_validation``, older files) and validating no
    more keeps what its summary.json said (it wrote None over them)."""
    if run.last:
        return run.last.get("pixels")
    return read_summary(run.run_dir).get("val_pixels")


def _row(row: dict, keys) -> dict:
    """``keys`` of a metrics.csv row (the epoch too, as a whole number); {} for none."""
    if not row:
        return {}
    return {"epoch": int(row["epoch"])} | {k: row.get(k) for k in keys if k != "epoch"}


def _best_scores(state: TrainState, val: bool) -> dict:
    """best.pt's epoch, its val mIoU as measured (``best_val_miou``; without validation
    images its train loss, ``best_train_loss``) and the smoothed score that chose it
    (``..._smoothed``, :func:`_track`). The measured one is None in a run resumed from a
    checkpoint that did not record it."""
    measured = state.best_value if val or state.best_value is None else -state.best_value
    name = "best_val_miou" if val else "best_train_loss"
    return {
        "best_epoch": state.best_epoch,
        name: measured,
        f"{name}_smoothed": state.best if val else -state.best,
    }


def _budget_end(run: Run) -> Callable[[], bool] | None:
    """Whether the time budget has run out, as the main process alone can ask (the budget's
    clock is read by every process here, in step; then the main process's own)."""
    budget = run.scheduler if isinstance(run.scheduler, BudgetSchedule) else run.budget
    if budget is None:
        return None
    left = budget.seconds - budget.elapsed()
    clock = time.perf_counter if run.group.active else run.clock
    end = clock() + left
    return lambda: clock() >= end


def smooth(previous: float | None, value: float, smoothing: float) -> float:
    """Exponential average: ``value`` at first, then ``smoothing * previous + (1 - smoothing)
    * value``. 0 keeps the newest value alone."""
    return value if previous is None else smoothing * previous + (1.0 - smoothing) * value


def _track(state: TrainState, monitor: float | None, *, smoothing: float = 0.0) -> bool:
    """Record a monitored value (higher is better; None: no validation this epoch). Its
    exponential average (:func:`smooth`) decides: one lucky validation does not make best.pt."""
    if monitor is None:
        return False
    state.smoothed = smooth(state.smoothed, monitor, smoothing)
    if state.smoothed > state.best:
        state.best, state.bad_epochs = state.smoothed, 0
        state.best_epoch, state.best_value = state.epoch, monitor
        return True
    state.bad_epochs += 1
    return False


def _plot(run_dir: Path, rows: list[dict]) -> None:
    from unetlab.plots import plot_curves

    plot_curves(rows, run_dir / "curves.png")
