"""What a run says: its log file and console, the lines at its start and after each epoch, and
the progress bar."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from unetlab.api_lines import stderr_handler
from unetlab.cpu_share import (
    LEAST_SECONDS,
    CpuReading,
    ThreadsWatch,
    busy_cpu_warning,
    cores_in_use,
    cpu_reading,
    cpu_share,
    fewer_threads_line,
    shared_cpu_warning,
    threads_beside,
    threads_fixed,
    threads_next,
)
from unetlab.data.checks import PICK_CHANNEL
from unetlab.data.datasets import more_validation
from unetlab.data.instances import CLASS_NAMES as INSTANCE_CLASSES
from unetlab.data.split_record import copied_images, describe_pairs
from unetlab.data.stack_split import next_to_training, sequences_on_both_sides
from unetlab.errors import said_as
from unetlab.metrics.confusion import RARE_IOU
from unetlab.models import PRESETS, UNetConfig
from unetlab.plan import BUDGET_EPOCHS
from unetlab.run_records import amend_resolved, read_summary
from unetlab.runtime import fresh_threads
from unetlab.train.resume import BUDGET, SAID_FINISHED
from unetlab.train.schedule import TimeBudget
from unetlab.words import numbered

if TYPE_CHECKING:
    from unetlab.train.run import Run


log = logging.getLogger(__name__)


def log_start(run: Run, in_size: int, out_size: int) -> None:
    cfg, device = run.cfg, run.device
    n = torch.get_num_threads()
    threads = f" ({numbered(n, 'thread')})" if device.type == "cpu" else ""
    log.info("run folder %s", run.run_dir)
    log.info("device %s%s, %s", device, threads, run.precision.describe())
    if run.group.active:
        log.info(
            "data-parallel over %d processes (%s): global batch %d",
            run.group.world,
            "NCCL" if device.type == "cuda" else "gloo",
            cfg.train.batch_size * run.group.world,
        )
    _log_data_and_model(run, in_size, out_size)
    log_validation(run.data.pairs, run.cfg.data.root)
    if run.data.val and tuple(run.model.classes) == INSTANCE_CLASSES:
        log.info(
            "val mIoU here is the mean IoU of the three target classes (background, boundary, "
            "interior: best.pt is chosen by it); unetlab evaluate's mIoU scores background "
            "against the objects found, another figure (report evaluate's, and for counting "
            "its object F1)"
        )


def warn_busy_cpu(run: Run) -> None:
    """One warning line where a time budget on the CPU starts training while other work
    shares the cores (:func:`~unetlab.cpu_share.busy_cpu_warning`: it buys fewer steps): in
    the main process, from the cores other work kept busy since the setup began
    (``run.cpu``), as bench samples them. A resume that trains no step (its training ended,
    its budget spent) does not call it: no step is bought, fewer or not."""
    cfg = run.cfg
    if cfg.train.max_minutes <= 0 or run.device.type != "cpu" or not run.group.is_main:
        return
    in_use = cores_in_use(since=run.cpu)
    if busy := busy_cpu_warning(cfg.train.max_minutes, in_use=in_use):
        log.warning(busy)
    _threads_beside_other_work(run, in_use)


def _threads_beside_other_work(run: Run, in_use: float | None) -> None:
    """Fewer threads where other work holds cores as a run on the clock begins
    (:func:`~unetlab.cpu_share.threads_beside`), said in one line, and a watch for
    :func:`rethread` to look again at epoch ends (loader workers' CPU time counts as the
    run's: :class:`~unetlab.cpu_share.CpuReading`); not where the threads were chosen
    (:func:`~unetlab.cpu_share.threads_fixed`). ``fit`` puts torch's count back when it
    ends."""
    if threads_fixed(run.group.active):
        return
    threads = torch.get_num_threads()
    run.threads_watch = ThreadsWatch(threads, run_reading(run))
    fewer = threads_beside(threads, in_use)
    if fewer < threads:
        _set_threads(fewer, threads, in_use, "")
        amend_resolved(run.run_dir, threads=fewer)  # the count its steps ran on (s56)


def threads_record(run: Run) -> dict:
    """What summary.json says of this command's CPU threads: the count its steps began on
    (``threads``, as history.yaml's ``resolved``; None on a GPU) and, where the watch beside
    other work changed it during the run, each change (``threads_changed``: [from, to]); a
    command that trains no step (:attr:`Run.trained_threads`), the earlier command's."""
    if run.device.type != "cpu":
        return {"threads": None}
    if run.trained_threads is not None:
        return dict(run.trained_threads)
    watch = run.threads_watch
    if watch is None or not watch.moves:
        return {"threads": torch.get_num_threads()}
    moves = [[before, after] for _wall, before, after in watch.moves]
    return {"threads": moves[0][0], "threads_changed": moves}


def keep_trained_threads(run: Run) -> None:
    """Where this command trains no step (a finished run resumed), summary.json's threads of
    the command that trained them: its repeat keeps their count (s64 notebook: a notebook's
    second fit cell, on 2 threads, dropped the repeat's OMP_NUM_THREADS=1); none recorded
    (a run killed before it wrote one): this command's."""
    summary = read_summary(run.run_dir)
    if isinstance(summary.get("threads"), int):
        run.trained_threads = {
            k: summary[k] for k in ("threads", "threads_changed") if k in summary
        }


def repeat_nproc(run: Run) -> int:
    """The processes a repeat of ``run`` is started as (``--nproc``, on one machine): its
    group's, as the same batches need; 1 for a plain process."""
    return run.group.world if run.group.active else 1


def repeat_threads(run: Run) -> int | None:
    """The CPU threads a repeat of ``run`` is to be given (OMP_NUM_THREADS) to train on the
    count its steps began on (:func:`threads_record`): None where a fresh command gets that
    count by default (:func:`~unetlab.runtime.fresh_threads`, each of the repeat's
    :func:`repeat_nproc` processes its share), or the run trained on a GPU."""
    threads = threads_record(run)["threads"]
    return None if threads in (None, fresh_threads(repeat_nproc(run))) else threads


def rethread(run: Run) -> None:
    """At an epoch's end, every :data:`~unetlab.cpu_share.RECHECK_SECONDS` at most: the
    count :func:`~unetlab.cpu_share.threads_next` gives from the cores other work held since
    the last look (up where it has gone, down where it came), said in one line."""
    watch, now = run.threads_watch, torch.get_num_threads()
    if watch is None or not watch.due(now):
        return
    in_use = cores_in_use(since=watch.since)
    watch.since = run_reading(run)
    threads, watch.pending = threads_next(watch.alone, now, in_use, watch.pending)
    if threads != now and watch.allowed(threads):
        watch.moved(watch.since.wall, now, threads)
        _set_threads(threads, watch.alone, in_use, " now")


def run_reading(run: Run) -> CpuReading:
    """The clocks now, with the loader workers' CPU time where the run has workers (the
    run's own; a notebook's other children are other work): the watch's looks, and the
    share training got (``run.cpu``, :func:`shared_cpu`)."""
    return cpu_reading(workers=run.loader.num_workers > 0)


def _set_threads(threads: int, alone: int, in_use: float | None, now: str) -> None:
    torch.set_num_threads(threads)
    if threads == alone:
        log.info(
            "training on %d threads again: other work holds %.1f of the cores now",
            threads,
            in_use or 0.0,
        )
        return
    log.info("%s", fewer_threads_line("training", "step", threads, alone, in_use, now))


def shared_cpu(run: Run) -> tuple[float | None, str | None]:
    """(share, warning): the fraction of its threads' time the run's training got since
    ``run.cpu`` (:mod:`unetlab.cpu_share`) and the line that says the CPU was shared, or
    None, for a time budget on the CPU in the main process that trained
    :data:`LEAST_SECONDS` or more; (None, None) otherwise. Its loader workers' CPU time is
    the run's (:func:`run_reading`), its share that of its threads: workers mostly wait for
    the next batch, so counting them as threads read a run that had all its cores as
    starved (4 threads, 4 workers, 4.4 cores' CPU: 55%, review s55 A2)."""
    cfg = run.cfg
    watched = cfg.train.max_minutes > 0 and run.device.type == "cpu" and run.group.is_main
    if not watched or run.cpu is None:
        return None, None
    reading, threads = run_reading(run), torch.get_num_threads()
    if run.threads_watch is not None:  # a count changed during the run: its mean
        threads = run.threads_watch.mean_threads(run.cpu.wall, reading.wall, threads)
    share = cpu_share(run.cpu, reading, threads)  # workers' CPU the run's (they mostly wait:
    if share.wall < LEAST_SECONDS:  # review s55 A2); a resume that only finished: no figure
        return None, None
    workers = run.loader.num_workers
    return share.share, shared_cpu_warning(share, cfg.train.max_minutes, workers=workers)


#: validation sets of fewer images are said to give noisy figures
FEW_VALIDATION = 3
#: whether a caller said it once for all the runs it makes (train --folds)
_FEW_SAID = contextvars.ContextVar("few_validation_said", default=False)


@contextlib.contextmanager
def few_validation_said():
    """Within: runs do not warn of a validation set of 1-2 images; the caller said it once
    for all of them (the folds of a cross-validation, audit s31 fewshot)."""
    token = _FEW_SAID.set(True)
    try:
        yield
    finally:
        _FEW_SAID.reset(token)


def log_validation(pairs: tuple[list, list], root) -> None:
    """Warn of what makes the validation figures (val mIoU, the choice of best.pt) mislead:
    a validation image that is a copy of a training image (same bytes: inflated, audit s31
    fewshot 1), a validation page next to a training page of the same stack (a near copy,
    audit s34 stacks 7), a frame of a sequence that trains too (a recorded split, s69), and
    a validation set of 1-2 images (noisy, fewshot 5). Says; changes nothing."""
    train, val = pairs
    for copy, original in copied_images(train, val, root):
        log.warning(
            "validation image %s is a copy of training image %s (the same bytes): the "
            "validation figures (val mIoU, the choice of best.pt) are inflated; remove the "
            "copy from one of the two sets",
            copy,
            original,
        )
    if near := next_to_training(train, val):
        log.warning(
            "%s (%s) %s next to training pages of the same stack: "
            "neighbouring frames are near copies, so the validation figures (val mIoU, the "
            "choice of best.pt) are inflated; validate on other files (a val/ folder), or "
            "train a new run, which keeps a stack's pages apart",
            numbered(len(near), "validation page"),
            describe_pairs(near),
            "sits" if len(near) == 1 else "sit",
        )
    if both := sequences_on_both_sides(train, val):
        log.warning(
            "%s (%s) of sequences that train too: neighbouring frames are alike, so the "
            "validation figures (val mIoU, the choice of best.pt) are inflated; train a new "
            "run, which holds whole sequences out",
            numbered(len(both), "validation frame"),
            describe_pairs(both),
        )
    if 0 < len(val) < FEW_VALIDATION and not _FEW_SAID.get():
        log.warning(
            "only %d validation image%s (%s): the val figures and the choice of best.pt rest "
            "on %s and are noisy; report a test set the run never saw (%s for a steadier "
            "choice)",
            len(val),
            "s" * (len(val) != 1),
            describe_pairs(val),
            "it" if len(val) == 1 else "them",
            more_validation(root),
        )


def channels_trained(channel: int | str | list[int] | None, count: int) -> str:
    """Which channels of the images train, as the data line says it: ``channel``
    (``data.channel``; None: all), ``count`` the channels the net reads. Where all of a
    multi-channel image train, the key that picks some is named (a 2-channel nuclei +
    cytoplasm set said only '2 channel(s)': audit s39 audit2)."""
    if channel is not None:
        bands = list(channel) if isinstance(channel, list) else [channel]
        which = "channel" if len(bands) == 1 else "channels"
        return f"{which} {', '.join(map(str, bands))} of each image (data.channel)"
    if count == 1:
        return "1 channel"
    return f"{count} channels, all trained ({said_as(PICK_CHANNEL)}, or a list [C, D], picks some)"


def classes_text(class_names, label_values) -> str:
    """``0 (road), 1 (sidewalk), ...``: each class's mask value and its name (a name that is
    the value itself said once)."""
    return ", ".join(
        str(v) if n == str(v) else f"{v} ({n})" for n, v in zip(class_names, label_values)
    )


def _log_data_and_model(run: Run, in_size: int, out_size: int) -> None:
    cfg, data, model, t = run.cfg, run.data, run.model, run.cfg.train
    h, w = data.train[0].mask.shape
    log.info(
        "data %s: %d training and %d validation images (the first %d px wide, %d high, "
        "%s), classes %s",
        cfg.data.root,
        len(data.train),
        len(data.val),
        w,
        h,
        channels_trained(cfg.data.channel, data.train[0].image.shape[0]),
        classes_text(data.class_names, data.label_values),
    )
    arch = (
        net_words(cfg.model, model) if cfg.model.encoder == "none" else f"{cfg.model.encoder} U-Net"
    )
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info(
        "model %s%s, %s parameters, tile %d -> output %d px (border %d px)",
        arch,
        ", ImageNet encoder" if cfg.model.encoder_weights else "",
        f"{params:,}",
        in_size,
        out_size,
        model.border,
    )
    how = f"{t.optimizer}, lr {t.lr:g}, {t.schedule} schedule, {t.loss} loss"
    how += ", weight map" if cfg.data.weight_map else ""
    tiles = cfg.data.tiles_per_epoch // max(run.group.world, 1)  # each process's share
    log.info("training %s (%s)", _length(t, run.steps_per_epoch, tiles), how)


def net_words(section, model) -> str:
    """``small preset``, or ``small preset with depth 3, base_channels 8``: the preset of the
    config's model ``section`` and the options of the net built (``model.config``) that
    differ from it (the start line named the preset alone, its overrides unsaid, s61)."""
    built = asdict(model.config)
    preset = asdict(UNetConfig(built["in_channels"], built["num_classes"]))
    preset |= PRESETS[section.preset]
    changed = [f"{k} {'none' if v is None else v}" for k, v in built.items() if v != preset[k]]
    return f"{section.preset} preset" + (f" with {', '.join(changed)}" if changed else "")


def _length(t, steps: int, tiles: int | None = None) -> str:
    """How long the run trains: its epochs, or its time budget (and epoch cap, if any)."""
    epoch = steps_text(steps, t.batch_size, tiles)
    if not t.max_minutes:
        return f"{numbered(t.epochs, 'epoch')} x {epoch}"
    ends = "the budget" if _budget_only(t) else f"the budget or epoch {t.epochs}"
    return f"for {t.max_minutes:g} min in epochs of {epoch}; {ends} ends the run"


def steps_text(steps: int, batch: int, tiles: int | None = None) -> str:
    """An epoch's steps as they are: ``3 steps of batch 25 (64 tiles: the last step 14)``,
    ``1 step of 8 tiles (data.tiles_per_epoch, under the batch size 25)``; ``tiles``: an
    epoch's tiles (None: ``steps`` full batches)."""
    if tiles is not None and tiles < batch:
        return f"1 step of {tiles} tiles (data.tiles_per_epoch, under the batch size {batch})"
    text = f"{numbered(steps, 'step')} of batch {batch}"
    if tiles is not None and tiles % batch:
        text += f" ({tiles} tiles: the last step {tiles % batch})"
    return text


def _budget_only(t) -> bool:
    """Whether the time budget alone ends the run (the plan's epoch cap is never reached)."""
    return t.max_minutes > 0 and t.epochs >= BUDGET_EPOCHS


def epoch_name(epoch: int, t) -> str:
    """``epoch 5/50``; ``epoch 5`` where the time budget ends the run."""
    return f"epoch {epoch}" if _budget_only(t) else f"epoch {epoch}/{t.epochs}"


def miou_name(classes) -> str:
    """What a run's val mIoU is called: ``mIoU``, or for an instance (nuclei) model's three
    target classes ``mIoU (background/boundary/interior)``, lest it be read as evaluate's
    (background against objects, audit s31 fewshot 6)."""
    return "mIoU (background/boundary/interior)" if tuple(classes) == INSTANCE_CLASSES else "mIoU"


def log_epoch(
    row: dict, t, val_pixels: list[int] | None = None, ignored: int | None = None
) -> None:
    """The epoch's line and, after a validation, each class's val IoU (``val_pixels``: the
    validation's labelled pixels of each class, which mark the classes it lacks; ``ignored``:
    the class of the ignored mask value, :func:`class_ious_text`)."""
    classes = [k.removeprefix("val_iou_") for k in row if k.startswith("val_iou_")]
    val = (
        f"  val loss {row['val_loss']:.4f}  {miou_name(classes)} {row['val_miou']:.4f}  "
        f"Dice {row['val_mdice']:.4f}"
        if "val_miou" in row
        else ""
    )
    log.info(
        "%s  train loss %.4f%s  lr %.3g  %.1f s (data %.1f s, compute %.1f s)",
        epoch_name(row["epoch"], t),
        row["train_loss"],
        val,
        row["lr"],
        row["seconds"],
        row["data_s"],
        row["compute_s"],
    )
    if ious := [
        (k.removeprefix("val_iou_"), v) for k, v in row.items() if k.startswith("val_iou_")
    ]:
        log.info("  val IoU per class: %s", class_ious_text(ious, val_pixels, ignored))


def weak_classes_line(classes, iou, pixels) -> str | None:
    """The line naming the classes that the last validation's images hold (``pixels`` > 0)
    and whose val IoU there is under :data:`RARE_IOU`, or None (audit s50 road scenes: a
    3-minute run ended on "val mIoU 0.7105" with pole 0.002 and person 0.000, said only
    in the per-class lines among the epochs)."""
    weak = [
        f"{name} {value:.3f}"
        for name, value, held in zip(classes, iou, pixels, strict=True)
        if held and not math.isnan(value) and value < RARE_IOU
    ]
    if not weak:
        return None
    return (
        f"val IoU under {RARE_IOU:g} at the last validation: {', '.join(weak)}: the net barely "
        f"predicts them; a rare class needs more steps ({said_as(BUDGET)}) or more images "
        "that hold it"
    )


def log_weak_classes(classes, last: dict | None) -> None:
    """Say :func:`weak_classes_line` of the last validation ``last`` (none: nothing)."""
    if not (last and last.get("iou") and last.get("pixels")):
        return
    if line := weak_classes_line(classes, last["iou"], last["pixels"]):
        log.info("%s", line)


def class_ious_text(
    ious: list[tuple[str, float]], pixels: list[int] | None = None, ignored: int | None = None
) -> str:
    """``name 0.917, ...``; a class with no pixels in the validation images (``pixels``)
    marked ``(not in val)``: its 0 is false positives only, its n/a no prediction either
    (audit s43 scenes: a rare class missing from val/ read ``person 0.000``, or ``nan``);
    the class ``ignored`` (the ignored mask value's, in every mask: review s68) ``ignored``."""
    pixels = pixels if pixels is not None and len(pixels) == len(ious) else [1] * len(ious)
    return ", ".join(
        f"{n} ignored"
        if k == ignored
        else f"{n} {'n/a' if math.isnan(v) else f'{v:.3f}'}{'' if p else ' (not in val)'}"
        for k, ((n, v), p) in enumerate(zip(ious, pixels, strict=True))
    )


def log_loading(seconds: float, timer: TimeBudget) -> None:
    """One line on the time budget that loading the data took (it counts: fit's call ends
    by the budget, the schedule laid over what is left)."""
    left = max(timer.seconds - timer.seconds_spent, 0.0)
    log.info(
        "loading the data and building the net took %.1f s of the %g-minute budget; %.0f s left",
        seconds,
        timer.seconds / 60,
        left,
    )


def file_handler(path: Path) -> logging.Handler:
    """A handler that appends to ``path`` (a run's train.log) as :func:`log_to_file`'s does,
    attached to no logger: to write a line there alone."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    return handler


def log_to_file(path: Path) -> logging.Handler:
    handler = file_handler(path)
    package = logging.getLogger("unetlab")
    handler._previous_level = package.level  # restored by detach_log
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    package.addHandler(handler)
    return handler


def console_log() -> logging.Handler | None:
    """The run's lines (the plan, each epoch, the end) on the console at the level the
    program asked for, whatever :func:`log_to_file` lowers the package's level to for
    train.log; call it first. Where the program set logging up (root handlers: a
    ``logging.basicConfig`` cell, the CLI's), its handlers get the records they got before
    the run (:class:`_Forward`; basicConfig(level=WARNING): warnings only, audit s32
    notebook 12); where nothing is set up (a notebook, a script), a stderr
    handler at the ``unetlab`` logger's own level, else INFO. None where ``unetlab``'s
    records do not reach the root logger's handlers (``propagate`` off: the program's)."""
    package = logging.getLogger("unetlab")
    if not package.propagate:
        return None
    if logging.getLogger().handlers:
        handler: logging.Handler = _Forward(package.level)
        package.propagate = False  # restored by detach_console
    else:
        handler = stderr_handler(package.level or logging.INFO)  # as the API's (api_lines)
    package.addHandler(handler)
    return handler


class _Forward(logging.Handler):
    """Passes on to the handlers above the package (the root logger's) the records that
    would have reached them before train.log lowered the package's level from ``before``
    (its own, NOTSET where unset): those at or above their logger's effective level then."""

    def __init__(self, before: int):
        super().__init__()
        self.before = before

    def emit(self, record: logging.LogRecord) -> None:
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:  # the effective level, with the package's as it was
            level = self.before if logger.name == "unetlab" else logger.level
            if level:
                break
            logger = logger.parent
        if record.levelno >= level and (root := logging.getLogger("unetlab").parent):
            root.handle(record)


def detach_console(handler: logging.Handler | None) -> None:
    """Undo :func:`console_log`."""
    if handler is None:
        return
    package = logging.getLogger("unetlab")
    package.removeHandler(handler)
    if isinstance(handler, _Forward):
        package.propagate = True


def quiet_log() -> logging.Handler:
    """For the other processes of a group: no log file, and only warnings on the console."""
    handler = logging.NullHandler()
    package = logging.getLogger("unetlab")
    handler._previous_level = package.level  # restored by detach_log
    package.setLevel(logging.WARNING)
    package.addHandler(handler)
    return handler


def detach_log(handler: logging.Handler) -> None:
    package = logging.getLogger("unetlab")
    package.removeHandler(handler)
    package.setLevel(handler._previous_level)
    handler.close()


class _Quiet(logging.Filter):
    """Leaves unsaid the lines below WARNING of unetlab's loggers that the thread that set
    it says (another thread's are its own: a notebook's, a watcher's), but those marked
    :data:`SAID_FINISHED` (:func:`quiet_setup`)."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        unetlab = record.name == "unetlab" or record.name.startswith("unetlab.")
        if not unetlab or record.thread != self.thread or record.levelno >= logging.WARNING:
            return True
        return all(getattr(record, key, False) for key in SAID_FINISHED)


@contextlib.contextmanager
def quiet_setup(quiet: bool = True):
    """Within (``quiet``): the setup of a resume whose training had ended says only its
    warnings and the lines marked :data:`SAID_FINISHED` (the changes it resumes with), by
    every handler unetlab's lines reach, train.log's and the console's; it said that it had
    ended before it loaded its data (s67 notebook: it said its data, model and budget)."""
    handlers, logger = [], logging.getLogger("unetlab")
    while quiet and logger is not None:
        handlers += [h for h in logger.handlers if h not in handlers]
        logger = logger.parent if logger.propagate else None
    quieted = _Quiet()
    for handler in handlers:
        handler.addFilter(quieted)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quieted)
