"""Training: ``train_one_epoch`` and ``validate`` (one screen each), and ``fit(cfg)`` around them.

``fit`` owns the run folder (``config.yaml``, ``metrics.csv``, ``train.log``,
``checkpoints/{best,last}.pt``, ``curves.png``), resumes exactly where a run stopped (the
training tiles of epoch e, item i are drawn from ``rng([seed, e, i])``, and the optimiser,
schedule, step and RNG state travel in ``last.pt``, so an interrupted and resumed run ends with
the same weights as an uninterrupted one), and stops on a non-finite loss with the step and
values. Launched by torchrun (``unetlab train --nproc N``), it trains data-parallel
(:mod:`unetlab.distributed`): each process on its share of the tiles, the main one writing.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import shlex
import shutil
import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler
from tqdm import tqdm

from unetlab.checkpoint import (
    load_checkpoint,
    model_from_checkpoint,
    save_model,
    update_checkpoint,
)
from unetlab.config import (
    Config,
    check_resumed,
    config_changes,
    describe_changes,
    load_config,
    save_config,
)
from unetlab.data.classes import NAMES_FILE, dataset_palette, void_value
from unetlab.data.datasets import (
    TileDataset,
    choose_target,
    data_folders,
    discover_label_values,
    load_instance_samples,
    load_samples,
    scan_masks,
    split_pairs,
)
from unetlab.data.instances import CLASS_NAMES, object_areas, object_statistics
from unetlab.data.io import atomic_path
from unetlab.data.labels import IGNORE_INDEX, instances
from unetlab.data.pairs import Pair, problems_error
from unetlab.data.split_record import (
    SPLIT_FILE,
    added_pairs,
    describe_pairs,
    read_split,
    recorded_pairs,
    split_record,
    write_split,
)
from unetlab.distributed import SOLO, Group
from unetlab.errors import (
    OutOfMemoryError,
    OutputError,
    UnetlabError,
)
from unetlab.inference.offset import MIN_IMAGES, OffsetFit, estimate_offset
from unetlab.inference.predict import predict_tensor
from unetlab.inference.tta import fitting_tta
from unetlab.losses import (
    AUTO_IMBALANCE,
    AUTO_POWER,
    build_loss,
    class_pixel_counts,
    imbalance,
    median_frequency_weights,
)
from unetlab.metrics import ConfusionMatrix
from unetlab.metrics.confusion import class_indices
from unetlab.models import EncoderUNet, UNet
from unetlab.models.pretrained import load_encoder_weights
from unetlab.outputs import (
    FolderLock,
    record,
    refuse_inside,
    remove_stale_temporaries,
    write_error,
    written_here,
)
from unetlab.plan import BUDGET_EPOCHS, declared_names
from unetlab.provenance import code_identity, command_line, describe_code, machine
from unetlab.run_records import (
    HISTORY_FILE,
    SUMMARY_FILE,
    append_history,
    history_entry,
    write_summary,
)
from unetlab.runtime import (
    available_cpus,
    busy_cpu_warning,
    configure_threads,
    inference_layout,
    memory_hint,
    resolve_device,
    supports_bf16,
)
from unetlab.signals import STOP_SIGNALS, Stopped

log = logging.getLogger(__name__)

OFFSET_FILE = "label_offset.json"  # train.label_offset: fit's measurement
RUN_FILES = (
    "config.yaml",
    "plan.yaml",
    "metrics.csv",
    "train.log",
    "curves.png",
    OFFSET_FILE,
    SPLIT_FILE,
    HISTORY_FILE,
    SUMMARY_FILE,
    "checkpoints",
)
CHECKPOINTS = ("best.pt", "last.pt")  # the files of checkpoints/
VALIDATION_SHARE = 0.1  # with a time budget, validations take at most this share of the time
#: with a time budget, the label offset's measurement may take at most this share of it
OFFSET_SHARE = 0.2


class TrainingError(UnetlabError):
    """Training cannot go on (a non-finite loss); the message says where and what to change."""


class _StopRequest:
    """Handler of the :data:`STOP_SIGNALS`: the first one lets the current step finish, so
    that the saved weights, BatchNorm statistics and RNG state belong to a step boundary; a
    second stops at once, except in a process of a group (torchrun sends each process the
    signal it got, a terminal or a scheduler may too: the processes stop together at the
    next step). A signal the program ignores (``nohup``'s SIGHUP) stays ignored; the previous
    handlers are back when the block ends."""

    def __init__(self, *, at_once: bool = True):
        self.signum: int | None = None
        self.at_once, self._previous = at_once, {}

    def __call__(self) -> bool:
        return self.signum is not None

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            if self.at_once:
                raise self.interrupt(signum)
            return
        self.signum = signum
        name = signal.Signals(signum).name
        again = "press Ctrl-C" if signum == signal.SIGINT else f"send {name}"
        again = f" ({again} again to stop at once)" if self.at_once else ""
        log.info("%s: stopping after this step%s", name, again)

    def interrupt(self, signum: int | None = None) -> KeyboardInterrupt:
        """What a stopped run raises: Stopped(signal), or KeyboardInterrupt for Ctrl-C."""
        signum = signum or self.signum
        return KeyboardInterrupt() if signum in (None, signal.SIGINT) else Stopped(signum)

    def describe(self) -> str:
        """``interrupted`` (Ctrl-C), or ``stopped by SIGTERM``."""
        if self.signum in (None, signal.SIGINT):
            return "interrupted"
        return f"stopped by {signal.Signals(self.signum).name}"

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}


@dataclass
class TrainState:
    """Where a run is: completed epochs, optimiser steps, progress inside the current epoch."""

    epoch: int = 0  # completed epochs
    step: int = 0  # optimiser steps so far
    batch: int = 0  # batches done in the current (unfinished) epoch
    loss_sum: float = 0.0  # sum of batch losses in the current epoch
    best: float = -math.inf  # best smoothed monitored value (val mIoU, or -train loss)
    best_epoch: int | None = None  # the epoch saved as best.pt (None: a run from before)
    best_value: float | None = None  # the monitored value of that epoch, not smoothed
    bad_epochs: int = 0  # validations since the best one
    smoothed: float | None = None  # exponential average of the monitored value


@dataclass(frozen=True)
class Precision:
    """Mixed precision and memory layout for one device (CUDA: autocast + channels_last)."""

    amp_dtype: torch.dtype | None = None
    channels_last: bool = False

    @classmethod
    def choose(cls, amp: str, channels_last: bool | None, device: torch.device) -> Precision:
        cuda = device.type == "cuda"
        if amp == "auto":
            dtype = (
                (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
                if cuda
                else None
            )
        elif amp == "native":
            dtype = torch.bfloat16 if supports_bf16(device) else None
        else:
            dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "off": None}[amp]
        return cls(dtype, cuda if channels_last is None else channels_last)

    def autocast(self, device: torch.device):
        return torch.autocast(device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    @property
    def inference(self) -> str:
        """The ``precision`` prediction runs in: ``"bf16"`` under bf16 autocast, else fp32."""
        return "bf16" if self.amp_dtype == torch.bfloat16 else "fp32"

    def describe(self) -> str:
        amp = str(self.amp_dtype).removeprefix("torch.") if self.amp_dtype else "off"
        return f"amp {amp}, channels_last {'on' if self.channels_last else 'off'}"


FULL_PRECISION = Precision()  # fp32, default memory layout

# --- the loop ------------------------------------------------------------------------------


def train_one_epoch(
    model: nn.Module,
    loader,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    state: TrainState,
    *,
    device: torch.device,
    precision: Precision = FULL_PRECISION,
    scaler: torch.amp.GradScaler | None = None,
    scheduler=None,
    grad_clip: float = 0.0,
    bar: tqdm | None = None,
    stop: Callable[[], bool] = lambda: False,
    group: Group = SOLO,
    until: Callable[[], bool] = lambda: False,
) -> tuple[float, float]:
    """One pass over ``loader`` of (image (N,C,H,W) float32, target (N,h,w) int64, weight
    (N,h,w) float32). Updates ``state`` (step, batch, loss_sum) in place; the scheduler, if
    given, is stepped per batch. Raises KeyboardInterrupt between steps once ``stop()`` is true
    (in any process of ``group``, whose mean loss is the one checked and recorded), and
    ends the epoch early once ``until()`` is true, before its first step too (a spent time
    budget: every process of ``group`` must give the same answer). Returns (seconds waiting for data, seconds computing)."""
    model.train()
    scaler = scaler or torch.amp.GradScaler(device.type, enabled=False)
    data_s = compute_s = 0.0
    if until():  # a resumed run stopped in the step that spent its budget: no step more
        return data_s, compute_s
    tick = time.perf_counter()
    for image, target, weight in loader:
        got = time.perf_counter()
        data_s += got - tick
        image, target, weight = _to_device(image, target, weight, device, precision)
        with precision.autocast(device):
            logits = model(image)
        loss = loss_fn(logits.float(), target, weight)  # the loss in fp32 (NaN reports with AMP)
        value, stopping = group.step(loss, stop())  # every process stops at the same step
        _check_finite(value, state, logits, optimizer)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if grad_clip > 0:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        state.step, state.batch, state.loss_sum = (
            state.step + 1,
            state.batch + 1,
            state.loss_sum + value.item(),
        )
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{value.item():.4f}")
        tick = time.perf_counter()
        compute_s += tick - got
        if stopping:
            raise KeyboardInterrupt
        if until():
            break
    return data_s, compute_s


def validate(
    model: UNet,
    samples,
    loss_fn: nn.Module,
    *,
    device: torch.device,
    precision: Precision = FULL_PRECISION,
) -> dict:
    """Loss and metrics over whole validation images, predicted with overlap-tile.

    ``samples``: objects with ``image`` (C, H, W) float32 normalised, ``mask`` (H, W) int64
    (IGNORE_INDEX allowed), ``weight`` (H, W) float32 or None. The loss is ``loss_fn`` of the
    log-probabilities (whose softmax is the predicted probabilities), averaged over labelled
    pixels. Returns ``{"loss", "miou", "mdice", "iou": [...], "dice": [...], ...}`` of a
    ``ConfusionMatrix``; a 1-channel (sigmoid) net counts as two classes at p = 0.5.
    """
    matrix = ConfusionMatrix(max(model.num_classes, 2), ignore_index=IGNORE_INDEX)
    loss_sum, pixels = 0.0, 0
    model.to(memory_format=inference_layout(device))  # once, not per image
    for sample in samples:
        x = torch.from_numpy(sample.image)[None].to(device)
        probs = predict_tensor(model, x, precision=precision.inference)  # (1, K, H, W)
        target = torch.from_numpy(sample.mask)[None].to(device)
        weight = None if sample.weight is None else torch.from_numpy(sample.weight)[None].to(device)
        n = int((target != IGNORE_INDEX).sum())
        if n:
            loss_sum += loss_fn(_log_odds(probs), target, weight).item() * n
            pixels += n
        matrix.update(class_indices(probs), target)
    # back to the training layout
    model.to(
        memory_format=torch.channels_last if precision.channels_last else torch.contiguous_format
    )
    return {"loss": loss_sum / max(pixels, 1), **matrix.compute()}


def _log_odds(probs: torch.Tensor) -> torch.Tensor:
    """Logits whose softmax (sigmoid for one channel) gives ``probs`` back."""
    p = probs.clamp(1e-7, 1 - 1e-7)
    return torch.log(p / (1 - p)) if p.shape[1] == 1 else torch.log(p)


def _to_device(image, target, weight, device, precision):
    fmt = torch.channels_last if precision.channels_last else torch.contiguous_format
    image = image.to(device, non_blocking=True).contiguous(memory_format=fmt)
    return image, target.to(device, non_blocking=True), weight.to(device, non_blocking=True)


def _check_finite(loss: torch.Tensor, state: TrainState, logits: torch.Tensor, optimizer) -> None:
    if torch.isfinite(loss):
        return
    lr = optimizer.param_groups[0]["lr"]
    finite = torch.isfinite(logits)
    span = (
        f"logits in [{logits[finite].min().item():.3g}, {logits[finite].max().item():.3g}]"
        if finite.any()
        else "no finite logits"
    )
    raise TrainingError(
        f"loss is {loss.item()} at step {state.step + 1} (epoch {state.epoch + 1}, batch "
        f"{state.batch + 1}), lr {lr:.3g}, {span}, {int((~finite).sum())} non-finite logits; "
        "lower train.lr, set train.grad_clip, or try train.amp=off"
    )


# --- building blocks of fit ------------------------------------------------------------------


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
    if train.max_minutes > 0:
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


class _Schedule:
    """lr factor at step t: cosine 0.5 (1 + cos(pi t / T)) or poly (1 - t / T) ** 0.9."""

    def __init__(self, kind: str, total_steps: int):
        self.kind, self.total = kind, max(total_steps, 1)

    def __call__(self, step: int) -> float:
        return schedule_factor(self.kind, step / self.total)


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
    at most half the budget). The seconds used travel in ``state_dict`` (as last read:
    reading the clock there would break the lock-step reading of a clock shared between
    processes), so a resumed run spends what is left of the budget, not a new one."""

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
        self.offset_dropped = False  # the label offset left out as too costly (ValidationPacer)

    def elapsed(self) -> float:
        """Seconds of the budget used (this process's time plus a resumed run's)."""
        self._read = self._before + self.clock() - self._since
        return self._read

    @property
    def seconds_spent(self) -> float:
        """Seconds of the budget used, as last read (a resumed run's: those it had spent)."""
        return self._read

    def _training(self) -> float:
        """Seconds of the budget for training: all but the reserve."""
        return max(self.seconds - self.reserve, 0.5 * self.seconds)

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
    data); progress never goes back when the reserve shrinks, so the lr never rises again.
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
            self.done, self.kept = True, self.reserve
        self._set_lr(progress)

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
        self.kept = self.reserve if self.done else 0.0
        self._set_lr(self.reached)


class ValidationPacer:
    """Spaces validations so that they take at most ``share`` of the time: after a validation
    that took v seconds, the next is due once v (1 - share) / share seconds have passed, and
    a ``budget`` keeps m (1 + ``after``) seconds at its end for the last validation and the
    work that follows it, ``after`` validations' worth (:func:`offset_fit_cost`), m the
    median cost of the validations so far. When even the cheapest validation says that the
    work after would take more than ``OFFSET_SHARE`` of the budget, it is dropped
    (``dropped_after``): the time goes to training instead."""

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
            # the median: one cold first validation, or one slowed by a busy machine, would
            # otherwise set the reserve (x 11 with the label offset) for the whole run
            after = 0.0 if self.dropped_after else self.after
            self.budget.reserve = statistics.median(self.costs) * (1.0 + after)

    def _drop_costly_after(self, cheapest: float) -> None:
        cost, seconds = cheapest * self.after, self.budget.seconds
        if cost <= OFFSET_SHARE * seconds:
            return
        log.info(
            "label offset: not measured: it would take about %.0f s of the %.0f s budget "
            "(%d validations' worth of predictions); the time goes to training (give more "
            "--minutes to measure it)",
            cost,
            seconds,
            round(self.after),
        )
        self.budget.offset_dropped = True


def prepare_run_dir(run_dir: str | os.PathLike, *, resume: bool, overwrite: bool) -> Path:
    """Create ``run_dir``; refuse an existing run unless resuming or overwriting.

    The folder's manifest (:mod:`unetlab.outputs`) lists the run files unetlab wrote there
    (recorded before they are written); a run file that exists but is not listed is someone
    else's and is refused whatever the flags. A run made before run folders had manifests
    counts as unetlab's when it holds ``checkpoints/last.pt`` or ``best.pt``. A run that
    stopped before its first checkpoint (bad data found while loading) is simply started
    again."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise UnetlabError("choose one of resume and overwrite")
    existing = [name for name in RUN_FILES if (run_dir / name).exists()]
    ours = _own_run_files(run_dir)
    if foreign := [name for name in existing if name not in ours]:
        others = f" (nor were {', '.join(foreign[1:])})" if len(foreign) > 1 else ""
        raise OutputError(
            f"{run_dir / foreign[0]} exists and was not written by unetlab{others}: choose "
            "another --run-dir (unetlab never replaces files it did not write)"
        )
    if resume and not (run_dir / "checkpoints" / "last.pt").is_file():
        raise OutputError(
            f"{run_dir}: no checkpoints/last.pt to resume from; start the run again with "
            "--overwrite (or give the --run-dir of a run that saved a checkpoint)"
        )
    started = any((run_dir / "checkpoints" / name).is_file() for name in CHECKPOINTS)
    if existing and not resume:
        if started and not overwrite:  # one that stopped before a checkpoint is started again
            raise OutputError(
                f"{run_dir} already holds a run ({', '.join(existing)}): use --resume to continue "
                "it, --overwrite to start again, or another --run-dir"
            )
        _remove_run(run_dir, existing)
    run_dir.mkdir(parents=True, exist_ok=True)
    record(run_dir, RUN_FILES, command="train")  # before any of them is written
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    record(run_dir / "checkpoints", CHECKPOINTS, command="train")
    for folder in (run_dir, run_dir / "checkpoints"):  # left by a killed run (we hold the lock)
        remove_stale_temporaries(folder)
    return run_dir


def _own_run_files(run_dir: Path) -> set[str]:
    """The names of RUN_FILES that unetlab wrote in ``run_dir``: those its manifest lists, or
    all of them in a run from before run folders had manifests (one with checkpoints)."""
    listed = written_here(run_dir) & set(RUN_FILES)
    if "checkpoints" not in listed and any(
        (run_dir / "checkpoints" / name).is_file() for name in CHECKPOINTS
    ):
        return set(RUN_FILES)
    if "checkpoints" in listed and _offset_record(run_dir / OFFSET_FILE):
        listed.add(OFFSET_FILE)  # a run's from before its manifest listed it
    return listed


def _offset_record(path: Path) -> bool:
    """Whether ``path`` holds a label offset as :func:`fit_label_offset` writes it."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and {"offset", "miou", "unshifted_miou"} <= set(found)


def _remove_run(run_dir: Path, names: list[str]) -> None:
    """Remove the run files ``names`` (unetlab's own); anything else in the folder stays,
    also files that are not checkpoints in ``checkpoints/``."""
    for name in names:
        path = run_dir / name
        if name == "checkpoints":
            for checkpoint in CHECKPOINTS:
                (path / checkpoint).unlink(missing_ok=True)
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def check_run_dir(run_dir: str | os.PathLike, data_root: str | os.PathLike | None) -> None:
    """Refuse a ``run_dir`` that is a file, or that is (or lies in) a folder the data set of
    ``data_root`` reads images or masks from (the run's files would be read as data)."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise OutputError(f"{run_dir} is a file, not a folder: give --run-dir a folder")
    if data_root is not None:
        refuse_inside([run_dir], data_folders(data_root), command="train")


@dataclass
class Data:
    train: list
    val: list
    label_values: list[int]
    class_names: list[str]
    objects: dict | None = None  # object_record of the masks
    normalization: dict = field(default_factory=lambda: {"mode": "per_image"})
    palette: list[list[int]] | None = None  # (256, 3) colours of the mask values, palette masks
    ignore_value: int | None = None  # the mask value that counted nowhere (set or VOC's void)
    pairs: tuple[list[Pair], list[Pair]] = ([], [])  # the files of train and val


def prepare_data(cfg: Config, split: tuple[list[Pair], list[Pair]] | None = None) -> Data:
    """Split, check and load the data set of ``cfg.data`` (one DatasetError lists every problem).

    ``data.target`` (``auto`` reads the masks, :func:`unetlab.data.datasets.choose_target`)
    decides whether mask values are classes or object ids (then the three classes
    background / boundary / interior are trained). Palette masks (VOC) bring their colours,
    ``class_names.txt`` beside the data its class names. ``split``: the (train, val) pairs
    to load (a resumed run's record, :func:`_recorded_split`) instead of splitting the folder."""
    d = cfg.data
    if d.root is None:
        raise UnetlabError("no data folder: give --data DIR (or data.root in the config)")
    problems: list[str] = []  # the pairs' and the mask files' problems, raised together
    train_pairs, val_pairs = split or split_pairs(
        d.root, val_fraction=d.val_fraction, seed=d.seed, problems=problems
    )
    pairs = train_pairs + val_pairs
    scan = scan_masks(pairs, problems=problems) if d.label_values is None else None
    if problems:
        raise problems_error(problems)
    target = (
        d.target if d.target != "auto" or scan is None else choose_target("auto", pairs, scan=scan)
    )
    normalization = d.normalization or default_normalization(cfg)
    weight_map = {"w0": d.w0, "sigma": d.sigma} if d.weight_map else None
    if target == "instances":
        data = _instance_data(d, cfg, train_pairs, pairs, normalization, weight_map)
    else:
        data = _class_data(d, cfg, train_pairs, pairs, scan, normalization, weight_map)
    data.pairs = (list(train_pairs), list(val_pairs))
    return data


def _instance_data(d, cfg: Config, train_pairs, pairs, normalization, weight_map) -> Data:
    """Object-id masks trained as background / boundary / interior."""
    samples, stats = load_instance_samples(
        pairs,
        normalization=normalization,
        boundary_width=d.boundary_width,
        ignore_value=d.ignore_value,
        in_channels=cfg.model.in_channels,
        weight_map=weight_map,
        channel=d.channel,
    )
    log.info(
        "objects in the masks: %d, median area %.0f px (5-95%%: %.0f-%.0f px)",
        *(stats["count"], stats["area_median"], stats["area_p05"], stats["area_p95"]),
    )
    train, val = samples[: len(train_pairs)], samples[len(train_pairs) :]
    record = object_record("instances", stats)
    return Data(
        train, val, [0, 1, 2], list(CLASS_NAMES), record, normalization, ignore_value=d.ignore_value
    )


def _class_data(d, cfg: Config, train_pairs, pairs, scan, normalization, weight_map) -> Data:
    """Mask values as classes (with the data set's palette and class names, if any)."""
    palette = dataset_palette([p.mask for p in train_pairs])
    names, source = _declared_names(cfg)
    label_values, ignore_value = _label_values(d, pairs, scan, palette, names)
    if d.class_names and (unknown := set(names) - set(label_values)):
        raise UnetlabError(
            f"data.class_names has values {sorted(unknown)} that are not in data.label_values {label_values}"
        )
    samples = load_samples(
        pairs,
        label_values=label_values,
        ignore_value=ignore_value,
        normalization=normalization,
        in_channels=cfg.model.in_channels,
        weight_map=weight_map,
        channel=d.channel,
    )
    train, val = samples[: len(train_pairs)], samples[len(train_pairs) :]
    class_names = [str(names.get(v, v)) for v in label_values]
    _warn_unlearnable(train, label_values, class_names, source)
    areas = [object_areas(instances(s.mask, boundary_class=0)) for s in samples]
    stats = object_statistics(np.concatenate(areas), images=len(samples))
    return Data(
        train,
        val,
        list(label_values),
        class_names,
        object_record("semantic", stats),
        normalization,
        None if palette is None else palette.tolist(),
        ignore_value=ignore_value,
    )


def _declared_names(cfg: Config) -> tuple[dict[int, str], str | None]:
    """(``{mask value: name}``, where they come from): :func:`unetlab.plan.declared_names`
    and ``data.class_names`` or ``class_names.txt``; ``({}, None)`` when nothing names them."""
    d = cfg.data
    if not (names := declared_names(cfg)):
        return {}, None
    if d.class_names:
        return names, "data.class_names"
    log.info("class names from %s", Path(d.root) / NAMES_FILE)
    return names, NAMES_FILE


def _label_values(d, pairs, scan, palette, declared=None) -> tuple[list[int], int | None]:
    """(label values, ignore value): ``data.label_values``, or the values found in the masks
    less the ignored one; palette masks' void value (VOC's 255) is ignored unless set. Where
    the class names (``declared``: value -> name) name every value found, the classes are
    the named ones, all of them: a class with no pixels in these masks keeps its output and
    its value."""
    if d.label_values is not None:
        return list(d.label_values), d.ignore_value
    found = discover_label_values(pairs, scan=scan)
    ignore_value = d.ignore_value
    if ignore_value is None and (ignore_value := void_value(found, palette)) is not None:
        log.info("palette masks: value %d (VOC's void outlines) is ignored", ignore_value)
    label_values = [v for v in found if v != ignore_value]
    log.info(
        "mask values found: %s, one class each (data.label_values sets them otherwise)",
        label_values,
    )
    if declared and set(label_values) <= set(declared):
        label_values = sorted(set(declared) - {ignore_value})
    if len(label_values) > 16 and palette is None:  # palette masks hold classes, not objects
        log.warning(
            "%d classes: if each mask value is one object (8-bit instance masks), set "
            "data.target=instances or name the mask folder instances/",
            len(label_values),
        )
    return label_values, ignore_value


def _warn_unlearnable(train, label_values, class_names, source: str | None) -> None:
    """Warn of the classes with no pixels in the training masks (the net cannot learn them)."""
    pixels, _ = class_pixel_counts([s.mask for s in train], len(label_values))
    missing = [f"{v} ({n})" for v, n, k in zip(label_values, class_names, pixels) if k == 0]
    if missing:
        named = f"named in {source} but " if source else ""
        log.warning(
            "class(es) %s %shave no pixels in the training masks: the net keeps their "
            "outputs but cannot learn them; add training masks that hold them",
            ", ".join(missing),
            named,
        )


def object_record(target: str, stats: dict) -> dict:
    """The checkpoint part ``objects``: ``{"target": "instances" | "semantic", **stats}`` with
    the object statistics of the training masks
    (:func:`unetlab.data.instances.object_statistics`; for ``semantic`` the objects are the
    4-connected regions of every class but 0). Post-processing takes its defaults from it."""
    return {"target": target, **stats}


def default_normalization(cfg: Config) -> dict:
    """``data.normalization`` left null: ImageNet's for ImageNet weights, else per image."""
    return {"mode": "imagenet" if cfg.model.encoder_weights else "per_image"}


def class_weights(cfg: Config, data: Data, num_classes: int) -> list[float] | None:
    """The cross-entropy class weights ``train.class_weights`` asks for (None: unweighted)."""
    choice = cfg.train.class_weights
    k = max(num_classes, 2)
    if isinstance(choice, list):
        if len(choice) != k:
            raise UnetlabError(f"train.class_weights has {len(choice)} weights for {k} classes")
        return list(choice)
    if choice == "none":
        return None
    pixels, present = class_pixel_counts([s.mask for s in data.train], k)
    ratio = imbalance(pixels)
    if choice == "auto" and cfg.data.target == "instances":
        # the boundary class is each object's own rim: weighting it up grows every object
        # (Kromp nuclei: matched areas 1.22-1.29x the annotation weighted, 1.09x not)
        log.info("class weights: none (auto: an instance target's rare class is the objects' rim)")
        return None
    if choice == "auto" and (ratio < AUTO_IMBALANCE or cfg.data.weight_map):
        return None
    power = 1.0 if choice == "median_frequency" else AUTO_POWER
    weights = median_frequency_weights(pixels, present, power=power)
    why = f"classes {ratio:.0f}x unequal, " if choice == "auto" else ""
    log.info(
        "class weights (%smedian frequency, %sset train.class_weights=none to turn off): %s",
        "square root of " if power != 1 else "",
        why,
        ", ".join(f"{n} {w:.3g}" for n, w in zip(data.class_names, weights)),
    )
    return weights.tolist()


def build_model(cfg: Config, data: Data) -> UNet | EncoderUNet:
    """The configured net (a UNet, or an EncoderUNet with its ImageNet weights loaded), with
    the classes, label values, normalisation, palette and object record of the data (an
    instance model records no label values: its classes are no mask values)."""
    overrides = cfg.model.overrides()
    n_values = len(data.label_values)
    if n_values < 2:
        raise UnetlabError(
            f"the masks hold {n_values} label value(s) {data.label_values}: segmentation needs "
            "at least two classes; check the masks, or list them in data.label_values"
        )
    overrides.setdefault("num_classes", n_values)
    overrides.setdefault("in_channels", data.train[0].image.shape[0])
    if overrides["num_classes"] not in (n_values, 1) or (
        overrides["num_classes"] == 1 and n_values != 2
    ):
        raise UnetlabError(
            f"model.num_classes is {overrides['num_classes']} but the masks have {n_values} label values "
            f"{data.label_values}: set model.num_classes to {n_values} (or 1 for a sigmoid net on 2 values)"
        )
    if cfg.model.encoder == "none":
        model = UNet.from_preset(cfg.model.preset, **overrides)
    else:
        model = EncoderUNet(cfg.model.encoder, **overrides)
        if cfg.model.encoder_weights:
            load_encoder_weights(model, cfg.model.encoder_weights)
    model.classes = list(data.class_names)
    instance_mode = data.objects is not None and data.objects["target"] == "instances"
    model.label_values = None if instance_mode else list(data.label_values)
    model.normalization = dict(data.normalization)
    model.objects = data.objects
    model.palette = data.palette
    model.ignore_value = data.ignore_value
    model.tta = fitting_tta(cfg.augment)  # what predict --tta averages (inference.tta)
    model.channel = cfg.data.channel  # the one channel of the images it reads, or None
    if isinstance(cfg.train.label_offset, list):
        model.label_offset = tuple(cfg.train.label_offset)
    return model


def tile_sizes(model: UNet, tile_size: int, samples) -> tuple[int, int]:
    """(input, output) tile size; ValueError naming good sizes if invalid or larger than the data."""
    try:
        output = model.output_size(tile_size)
    except UnetlabError as exc:
        raise UnetlabError(f"data.tile_size: {exc}") from None
    smallest = min(min(s.mask.shape) for s in samples)
    if output > smallest:
        fits = [
            n
            for n in model.valid_input_sizes(smallest + 2 * model.border, 8)
            if model.output_size(n) <= smallest
        ]
        raise UnetlabError(
            f"data.tile_size {tile_size} gives {output} px outputs, larger than the smallest "
            f"training image side ({smallest} px): use data.tile_size={max(fits) if fits else model.min_input_size}"
        )
    return tile_size, output


# --- fit --------------------------------------------------------------------------------------


def fit(
    cfg: Config,
    *,
    run_dir: str | os.PathLike,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    plan=None,
    clock: Callable[[], float] | None = None,
) -> dict:
    """Train ``cfg`` into ``run_dir``; returns the final metrics and where things are:
    ``best_val_miou`` is the val mIoU of the epoch saved as best.pt (``best_epoch``),
    ``best_val_miou_smoothed`` the average over validations that chose it
    (``train.best_smoothing``); ``val`` the last validation's metrics.

    Raises OutputError for an existing run unless ``resume`` (continue from
    ``checkpoints/last.pt``) or ``overwrite``, for run files unetlab did not write, for a
    ``run_dir`` that is a file or lies in a folder the data is read from, and for a run folder
    another process is training into (it holds the folder's lock). Ctrl-C, SIGTERM and SIGHUP
    stop the run at the next step boundary (:class:`_StopRequest`): ``last.pt`` is saved (a
    later ``resume`` continues from the same batch) and KeyboardInterrupt (:class:`Stopped`
    for SIGTERM and SIGHUP) is raised. Out of
    memory raises OutOfMemoryError naming the settings to lower. Under torchrun every process
    calls this; the main one locks and writes the run folder and logs.

    ``resume`` trains ``cfg`` as given, which must be the run's own config (its
    ``config.yaml``, plan included) but for the keys a resume may change: how long and where it
    trains (``unetlab.config.RESUMABLE``: epochs, max_minutes, batch_size, device, data.root,
    ...). Any other difference (normalisation, loss, target, tile size, model, ...) would change
    what the run trains, so it is refused with one line naming the keys: resume with
    ``load_config(run_dir / "config.yaml")``, changed in those keys only. So is a switch of a
    cosine / poly schedule between a time budget and none (``train.max_minutes``).

    ``plan``: a :class:`unetlab.plan.Plan` whose reasons go to ``train.log`` and whose
    values go to ``plan.yaml`` in the run folder. ``clock`` (seconds, default
    ``time.perf_counter``) times the ``train.max_minutes`` budget; tests pass a fake one.
    """
    cfg = cfg.checked()  # before the run folder: a bad value set as an attribute is one line
    if cfg.data.root is None:  # before the run folder too: nothing is left behind
        raise UnetlabError(
            "no data folder: set data.root in the config (cfg.data.root = 'path/to/data'; "
            "unetlab train: --data DIR)"
        )
    group = Group.from_env()
    device = group.device(resolve_device(cfg.train.device))
    with group.joined(device), contextlib.ExitStack() as held:
        started, clock = time.perf_counter(), shared_clock(clock or time.perf_counter, group)
        begun = clock()  # a time budget counts from here: loading the data is part of it
        held.enter_context(_own_random_state(device))  # the caller's seeds stay as they were
        problem, made = None, False
        if group.is_main:
            try:
                check_run_dir(run_dir, cfg.data.root)
                if resume and not Path(run_dir).exists():  # before making it: none is left
                    raise OutputError(
                        f"{run_dir}: no such run folder to resume; give run_dir a run that "
                        "saved a checkpoint, or start a new run without resume=True"
                    )
                made = _made(run_dir)
                held.enter_context(FolderLock(run_dir))
                # inside the lock: a folder this call made goes again if its data is bad
                held.enter_context(_gone_if_unstarted(run_dir, made))
                run_dir = prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
                if resume:
                    _check_resumed(Path(run_dir), cfg)
            except (UnetlabError, OSError) as exc:
                problem = exc
        problem, run_dir = group.share((problem, Path(run_dir)))
        if problem is not None:
            raise problem
        handler = _log_to_file(run_dir / "train.log") if group.is_main else _quiet()
        console = _console(progress and group.is_main)
        try:
            if plan is not None and group.is_main:
                plan.save(run_dir / "plan.yaml")
                plan.log()
            fix = "lower train.batch_size or data.tile_size (or train on the GPU)"
            stop = _StopRequest(at_once=not group.active)
            with stop, memory_hint("training", fix):
                result = _fit(
                    cfg,
                    run_dir,
                    device=device,
                    group=group,
                    resume=resume,
                    progress=progress and group.is_main,
                    stop=stop,
                    clock=clock,
                    begun=begun,
                )
            return result | {"seconds": time.perf_counter() - started}  # the call's
        finally:
            _detach(handler)
            if console is not None:
                logging.getLogger("unetlab").removeHandler(console)


def _check_resumed(run_dir: Path, cfg: Config) -> None:
    """Refuse to resume the run in ``run_dir`` with a ``cfg`` that would change what it
    trains (:func:`unetlab.config.check_resumed`), or when its config.yaml is gone."""
    own = run_dir / "config.yaml"
    if not own.is_file():
        raise UnetlabError(
            f"{own} is missing: the run's settings are unknown, so it cannot be resumed; "
            "start a new run (another run_dir, or overwrite=True)"
        )
    check_resumed(load_config(own), cfg, source=str(own))


@contextlib.contextmanager
def _gone_if_unstarted(run_dir: str | os.PathLike, made: bool):
    """A run folder that this call ``made`` (held under its lock) is removed again when the
    run ends on the user's problem before its first checkpoint (bad data, or a setting that
    does not fit the data, found while loading): nothing is left behind, and the same
    command, fixed, starts afresh. A failed step (non-finite loss), out of memory and a full
    disk keep it, with the log that says what happened."""
    run_dir = Path(run_dir)
    try:
        yield
    except UnetlabError as exc:
        kept = isinstance(exc, (TrainingError, OutOfMemoryError, OutputError))
        saved = any((run_dir / "checkpoints" / name).is_file() for name in CHECKPOINTS)
        if made and not saved and not kept:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _own_random_state(device: torch.device):
    """torch's random state (the CPU's, and ``device``'s if a GPU) restored when training
    ends: the run seeds its own (train.seed), a notebook's seeds are left alone."""
    gpus = [device.index or 0] if device.type == "cuda" else []
    return torch.random.fork_rng(devices=gpus)


def _made(folder: str | os.PathLike) -> bool:
    """Make ``folder`` (and its parents); True when this call made it (os.mkdir decides, so
    of two processes starting at once only one did)."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except FileExistsError:
        return False
    except OSError as exc:
        raise write_error(folder, exc) from exc
    return True


@dataclass
class _Run:
    """One training run as the parts of :func:`_fit` share it: what setup built, where the
    run is, and its clock."""

    cfg: Config
    run_dir: Path
    device: torch.device
    group: Group
    precision: Precision
    data: Data
    model: UNet | EncoderUNet
    net: nn.Module  # DistributedDataParallel under torchrun, else the model
    dataset: TileDataset
    loader: DataLoader
    items: _EpochItems
    optimizer: torch.optim.Optimizer
    scheduler: object
    scaler: torch.amp.GradScaler
    loss_fn: nn.Module
    steps_per_epoch: int
    state: TrainState = field(default_factory=TrainState)
    metrics: _MetricsFile | None = None  # the main process's metrics.csv
    started: float = field(default_factory=time.perf_counter)
    plotted: float = 0.0
    last: dict = field(default_factory=dict)  # the latest validation
    freeze: Callable[[int], None] = lambda epoch: None  # the encoder's state for an epoch
    clock: Callable[[], float] = time.perf_counter  # the time budget's (shared by processes)
    out_of_time: Callable[[], bool] = lambda: False  # is the time budget spent?
    budget: TimeBudget | None = None  # a time budget not run by the schedule (none, plateau)
    pacer: ValidationPacer | None = None  # spaces validations under a time budget
    split: dict | None = None  # which files train and validate (split.json; main process)
    ended: str | None = None  # why training stopped early: "time budget", "early stop"

    def save(self, name: str, **extra) -> Path | None:
        """Write ``checkpoints/<name>`` with everything a resume needs (main process only)."""
        if not self.group.is_main:
            return None
        scheduler = self.scheduler.state_dict() if self.scheduler else None
        budget = self.budget.state_dict() if self.budget else None
        return save_model(
            self.run_dir / "checkpoints" / name,
            self.model,
            optimizer=self.optimizer.state_dict(),
            scheduler=scheduler,
            budget=budget,
            scaler=self.scaler.state_dict(),
            train_state=asdict(self.state),
            train_config=self.cfg.to_dict(),
            rng=torch.get_rng_state(),
            processes=self.group.world,  # the global batch is batch_size x processes
            split=self.split,
            **extra,
        )


def _fit(
    cfg: Config,
    run_dir: Path,
    *,
    device: torch.device,
    group: Group,
    resume: bool,
    progress: bool,
    stop: _StopRequest,
    clock: Callable[[], float] = time.perf_counter,
    begun: float | None = None,
) -> dict:
    run = _setup(cfg, run_dir, device=device, group=group, resume=resume, clock=clock, begun=begun)
    if _trained(run):  # resumed after its training ended (stopped in the label offset)
        state = run.state
        log.info(
            "training had ended (epoch %d, step %d): finishing the run", state.epoch, state.step
        )
        return _finish(run, stop)
    try:
        while run.state.epoch < cfg.train.epochs:
            tick = time.perf_counter()
            row = _train_epoch(run, progress=progress, stop=stop)
            if _end_epoch(run, row, tick=tick, stop=stop):
                break
    except KeyboardInterrupt as exc:
        _save_stopped(run, stop)
        if stop() and not isinstance(exc, Stopped):  # SIGTERM, SIGHUP: for the exit status
            raise stop.interrupt() from exc
        raise
    return _finish(run, stop)


def _trained(run: _Run) -> bool:
    """Whether the run has no step left to train: at an epoch's end, with train.epochs
    done or the time budget spent."""
    state = run.state
    return state.batch == 0 and (state.epoch >= run.cfg.train.epochs or run.out_of_time())


def _save_stopped(run: _Run, stop: _StopRequest) -> None:
    """last.pt of a stopped run, the plot, and one line on how to go on."""
    run.save("last.pt")
    if run.group.is_main:
        _plot(run.run_dir, run.metrics.rows)
        write_summary(run.run_dir, _summary(run, finished=False))
    state = run.state
    log.info(
        "%s at step %d (epoch %d, batch %d): saved %s; continue with: %s",
        stop.describe(),
        state.step,
        state.epoch + 1,
        state.batch,
        run.run_dir / "checkpoints" / "last.pt",
        resume_command(run.run_dir, run.group.world),
    )


def _setup(
    cfg: Config,
    run_dir: Path,
    *,
    device: torch.device,
    group: Group,
    resume: bool,
    clock: Callable[[], float] = time.perf_counter,
    begun: float | None = None,
) -> _Run:
    """Data, model, loader, optimiser and schedule of a run (restored from ``last.pt`` when
    resuming); the main process writes config.yaml and starts metrics.csv and the log. A time
    budget counts from ``begun``, the ``clock``'s reading when ``fit`` began (None: now)."""
    t = cfg.train
    precision = Precision.choose(t.amp, t.channels_last, device)
    if device.type == "cpu":
        # no more threads than the CPUs this process may use (its share, under torchrun)
        configure_threads(max(1, available_cpus() // group.world) if group.active else None)
    torch.manual_seed(t.seed)
    data = prepare_data(cfg, _recorded_split(run_dir, cfg) if resume else None)
    model = build_model(cfg, data)
    in_size, out_size = tile_sizes(model, cfg.data.tile_size, data.train)
    dataset = TileDataset(
        data.train,
        input_size=in_size,
        output_size=out_size,
        augment=_augment(cfg),
        tiles_per_epoch=cfg.data.tiles_per_epoch,
        seed=t.seed,
    )
    layout = torch.channels_last if precision.channels_last else torch.preserve_format
    model.to(device, memory_format=layout)
    net = group.wrap(model, device)
    if group.active:
        torch.manual_seed(t.seed + group.rank)  # own dropout masks per process
    steps_per_epoch = _steps_per_epoch(cfg, group)
    optimizer = build_optimizer(model, t)
    loader, items = _loader(dataset, t, device, group)
    scaler = torch.amp.GradScaler(device.type, enabled=precision.amp_dtype == torch.float16)
    weights = class_weights(cfg, data, model.num_classes)
    loss = build_loss(t.loss, focal_gamma=t.focal_gamma, class_weights=weights)
    scheduler = build_scheduler(optimizer, t, steps_per_epoch * t.epochs, clock=clock, since=begun)
    parts = (model, net, dataset, loader, items, optimizer, scheduler, scaler, loss)
    run = _Run(cfg, run_dir, device, group, precision, data, *parts, steps_per_epoch)
    run.freeze = _encoder_freezer(model, t.freeze_encoder_epochs, group)
    run.clock = clock
    if t.max_minutes > 0 and not isinstance(scheduler, BudgetSchedule):
        run.budget = TimeBudget(60 * t.max_minutes, clock=clock, since=begun)
    run.out_of_time, run.pacer = _time_budget(cfg, scheduler, run.budget)
    timer = scheduler if isinstance(scheduler, BudgetSchedule) else run.budget
    loading = timer.seconds_spent if timer is not None else None  # since fit began
    if resume:
        last = run_dir / "checkpoints" / "last.pt"
        parts = (model, optimizer, scheduler, scaler, run.state)
        _restore(last, *parts, budget=run.budget, processes=group.world)
    if group.is_main:
        changes = _log_changes(run_dir / "config.yaml", cfg) if resume else {}
        run.split = _record_split(run_dir, cfg, data)
        save_config(cfg, run_dir / "config.yaml", header=_provenance())
        run.metrics = _MetricsFile(
            run_dir / "metrics.csv", model.classes, keep_epochs=run.state.epoch
        )
        _log_start(run, in_size, out_size)
        entry = history_entry(resume=resume, state=asdict(run.state), changes=changes)
        append_history(run_dir, entry | run_info(run, weights))
        if timer is not None:
            _log_loading(loading, timer)
    return run


def _log_loading(seconds: float, timer: TimeBudget) -> None:
    """One line on the time budget that loading the data took (it counts: fit's call ends
    by the budget, the schedule laid over what is left)."""
    left = max(timer.seconds - timer.seconds_spent, 0.0)
    log.info(
        "loading the data and building the net took %.1f s of the %g-minute budget; %.0f s left",
        seconds,
        timer.seconds / 60,
        left,
    )


def _log_changes(own: Path, cfg: Config) -> dict:
    """One line naming the keys in which a resumed run's config differs from the run's;
    returns them (:func:`unetlab.config.config_changes`)."""
    if own.is_file() and (changes := config_changes(load_config(own), cfg)):
        log.info("resuming with %s (the rest as in %s)", describe_changes(changes), own)
        return changes
    return {}


def _recorded_split(run_dir: Path, cfg: Config) -> tuple[list[Pair], list[Pair]] | None:
    """The (train, val) pairs a resumed run trained and validated on, as its split.json (or
    its last.pt) records them, in its data folder now; DatasetError if some are gone or
    changed. One line names the pairs the folder holds now that the record leaves out. None
    for a run from before runs recorded their files: the folder is split again."""
    record = read_split(run_dir / SPLIT_FILE)
    if record is None:
        record = load_checkpoint(run_dir / "checkpoints" / "last.pt").get("split")
    if record is None:
        log.info("this run recorded no list of its files: its data folder is split again")
        return None
    split = recorded_pairs(record, cfg.data.root)
    now = [*split_pairs(cfg.data.root, problems=[], quiet=True)]
    if added := added_pairs(record, [p for part in now for p in part], cfg.data.root):
        log.info(
            "data %s: resuming on the %d training and %d validation images the run recorded "
            "(%s); %d image(s) added to the folder since are left out: %s",
            cfg.data.root,
            len(split[0]),
            len(split[1]),
            SPLIT_FILE,
            len(added),
            describe_pairs(added),
        )
    return split


def _record_split(run_dir: Path, cfg: Config, data: Data) -> dict:
    """The record of the files that train and validate the run (:mod:`unetlab.data.split_record`),
    written to split.json at its start (a resumed run keeps the one it has)."""
    if (record := read_split(run_dir / SPLIT_FILE)) is not None:
        return record
    record = split_record(cfg.data.root, *data.pairs)
    write_split(run_dir / SPLIT_FILE, record)
    return record


def _steps_per_epoch(cfg: Config, group: Group) -> int:
    """Each process takes every world-th tile: global batch = batch_size x processes."""
    steps = math.ceil(cfg.data.tiles_per_epoch // group.world / cfg.train.batch_size)
    if steps == 0:
        raise UnetlabError(
            f"data.tiles_per_epoch {cfg.data.tiles_per_epoch} is fewer than the "
            f"{group.world} processes: raise it"
        )
    return steps


def _loader(dataset: TileDataset, t, device: torch.device, group: Group):
    """(DataLoader, its sampler). One loader for the run: its workers persist across epochs
    (starting them each epoch cost a GPU run ~0.5 s of 2.5 s per paper-net epoch); the
    sampler sends (epoch, index) and the dataset draws from those alone. Its own generator:
    iterating must not draw from the global RNG (dropout's)."""
    workers = min(t.num_workers, available_cpus() // group.world)
    if workers < t.num_workers:
        log.info("train.num_workers %d > %d CPUs: using %d", t.num_workers, workers, workers)
    items = _EpochItems()
    loader = DataLoader(
        dataset,
        batch_size=t.batch_size,
        sampler=items,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
        generator=torch.Generator(),
    )
    return loader, items


def _train_epoch(run: _Run, *, progress: bool, stop: _StopRequest) -> dict:
    """Train the rest of the current epoch; its row of metrics.csv so far."""
    t, state, group = run.cfg.train, run.state, run.group
    run.freeze(state.epoch)
    run.items.set(
        state.epoch, group.shard(state.batch * t.batch_size * group.world, len(run.dataset))
    )
    show = progress and (sys.stderr.isatty() or in_notebook())
    with progress_bar(
        total=run.steps_per_epoch,
        initial=state.batch,
        leave=False,
        disable=not show,
        desc=_epoch_name(state.epoch + 1, t),
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
            until=run.out_of_time,
        )
    return {
        "epoch": state.epoch + 1,
        "step": state.step,
        "train_loss": state.loss_sum / max(state.batch, 1),
        "lr": run.optimizer.param_groups[0]["lr"],
        "data_s": data_s,
        "compute_s": compute_s,
    }


def _end_epoch(run: _Run, row: dict, *, tick: float, stop: _StopRequest) -> bool:
    """Validate when due, record, checkpoint, log and plot; True when training should stop.

    last.pt is the commit point: the metrics row and best.pt are written before it, so that
    a run killed at any moment resumes from the last.pt before (the rows after its epoch are
    dropped and that epoch is redone) or after them, never with a row or best.pt lost."""
    t, state = run.cfg.train, run.state
    state.epoch, state.batch, state.loss_sum = state.epoch + 1, 0, 0.0
    if run.data.val and _validation_due(state.epoch, t, run.out_of_time, run.pacer, run.clock):
        _validate_epoch(run, row)
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
        _log_epoch(row, t)
        if time.perf_counter() - run.plotted > 30:  # a plot costs ~0.3 s; the last at the end
            _plot(run.run_dir, run.metrics.rows)
            run.plotted = time.perf_counter()
    return _should_stop(run, stop)


def _validate_epoch(run: _Run, row: dict) -> None:
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


def _should_stop(run: _Run, stop: _StopRequest) -> bool:
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
        line = f"time budget of {t.max_minutes:g} min reached: it bought {state.step} steps"
        line += f" ({state.epoch} epochs)"
        if kept := getattr(run.scheduler, "kept", 0.0):
            measured = offset_fit_cost(run.cfg) and not run.pacer.dropped_after
            after = " and the label offset" if measured else ""
            line += f"; {kept:.0f} s kept for the last validation{after}"
        log.info("%s", line)
        run.ended = "time budget"
        return True
    return False


def _finish(run: _Run, stop: _StopRequest) -> dict:
    """The last plot, the label offset (``train.label_offset: fit``), and what the run gives
    back. A stop request skips the label offset (a resume measures it) and is raised."""
    state, run_dir, val = run.state, run.run_dir, bool(run.data.val)
    offset, deadline, skipped = None, _budget_end(run), False
    if run.group.is_main:
        _plot(run_dir, run.metrics.rows)
        dropped = run.pacer is not None and run.pacer.dropped_after
        offset = _measured_offset(run_dir) if run.cfg.train.label_offset == "fit" else None
        if offset is not None:  # a finished run resumed: measured for this best.pt
            log.info("%s (measured before, for this best.pt)", offset.describe())
        elif run.cfg.train.label_offset == "fit" and not dropped:
            offset = fit_label_offset(
                run.cfg,
                run_dir,
                device=run.device,
                data=run.data,
                precision=run.precision.inference,
                out_of_time=deadline,
                stop=stop,
            )
            skipped = offset is None and stop()
    if run.group.share(skipped):  # every process stops, as the main one does
        raise stop.interrupt()
    result = {
        "run_dir": str(run_dir),
        "epochs": state.epoch,
        "steps": state.step,
        **_best_scores(state, val),
        "val": dict(run.last),
        "best_checkpoint": str(run_dir / "checkpoints" / "best.pt"),
        "last_checkpoint": str(run_dir / "checkpoints" / "last.pt"),
        "seconds": time.perf_counter() - run.started,
        "label_offset": None if offset is None else list(offset.offset),
    }
    if run.group.is_main:
        write_summary(run_dir, _summary(run, finished=True, label_offset=result["label_offset"]))
    log.info(
        "done: best checkpoint %s, metrics %s", result["best_checkpoint"], run_dir / "metrics.csv"
    )
    return result


def _summary(run: _Run, *, finished: bool, label_offset: list | None = None) -> dict:
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
        "label_offset": label_offset,
        "train_images": len(run.data.train),
        "val_images": len(run.data.val),
        "files": {"split": SPLIT_FILE, "config": "config.yaml", "history": HISTORY_FILE},
        "checkpoints": {"best": "checkpoints/best.pt", "last": "checkpoints/last.pt"},
    }


def _row(row: dict, keys) -> dict:
    """``keys`` of a metrics.csv row (the epoch too, as a whole number); {} for none."""
    if not row:
        return {}
    return {"epoch": int(row["epoch"])} | {k: row.get(k) for k in keys if k != "epoch"}


def _measured_offset(run_dir: Path) -> OffsetFit | None:
    """The label offset measured for the run's present best.pt (``label_offset.json`` written
    after it), or None: not measured, or best.pt changed since (a resume trained on)."""
    record, best = run_dir / OFFSET_FILE, run_dir / "checkpoints" / "best.pt"
    try:
        if record.stat().st_mtime_ns < best.stat().st_mtime_ns:
            return None
        measured = json.loads(record.read_text())
        names = {f.name for f in fields(OffsetFit)}
        found = OffsetFit(**{k: v for k, v in measured.items() if k in names})
    except (OSError, ValueError, TypeError):
        return None
    return replace(found, offset=tuple(found.offset))


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


def _budget_end(run: _Run) -> Callable[[], bool] | None:
    """Whether the time budget has run out, as the main process alone can ask (the budget's
    clock is read by every process here, in step; then the main process's own)."""
    budget = run.scheduler if isinstance(run.scheduler, BudgetSchedule) else run.budget
    if budget is None:
        return None
    left = budget.seconds - budget.elapsed()
    clock = time.perf_counter if run.group.active else run.clock
    end = clock() + left
    return lambda: clock() >= end


def fit_label_offset(
    cfg: Config,
    run_dir: str | os.PathLike,
    *,
    device="cpu",
    data: Data | None = None,
    precision: str = "fp32",
    out_of_time: Callable[[], bool] | None = None,
    stop: Callable[[], bool] | None = None,
) -> OffsetFit | None:
    """Measure where the labels sit relative to the predictions of ``run_dir``'s best.pt on
    the validation images of ``cfg`` (``data``, or read again), with test-time augmentation
    when the net trained with flips or rotations (:func:`fitting_tta`), and store the offset
    in best.pt and last.pt (:mod:`unetlab.inference.offset`) and in ``label_offset.json``.
    ``precision``: the predictions' (training passes its validations' precision: bf16 gives
    the same offsets in half the time, bench/README.md). ``out_of_time``: a time budget's
    end (the search then keeps the best move it has tried if it tried every whole-pixel move;
    else nothing is stored). ``stop``: a stop request (Ctrl-C) that skips the measurement, the
    run's files left as they were. None without validation images, when the budget ran out
    before the predictions were made or before the search tried the whole-pixel moves, or
    when stopped. Also
    usable on a finished run: ``fit_label_offset(load_config(run / "config.yaml"), run)``."""
    data = data if data is not None else prepare_data(cfg)
    if len(data.val) < MIN_IMAGES:
        log.info(
            "label offset: not measured (%d validation image(s); at least %d tell an "
            "annotation's offset from chance)",
            len(data.val),
            MIN_IMAGES,
        )
        return None
    started, checkpoints = time.perf_counter(), Path(run_dir) / "checkpoints"
    stop = stop or (lambda: False)
    halt = stop if out_of_time is None else (lambda: stop() or out_of_time())
    device = torch.device(device)
    model = model_from_checkpoint(load_checkpoint(checkpoints / "best.pt")).to(device).eval()
    model.label_offset = (0.0, 0.0)  # measured from the unmoved predictions
    tta = fitting_tta(cfg.augment) or False
    probs = []
    for sample in data.val:
        if halt():
            return _not_measured(stop(), len(probs), len(data.val))
        x = torch.from_numpy(sample.image)[None].to(device)
        probs.append(predict_tensor(model, x, tta=tta, precision=precision)[0].cpu())
    found = estimate_offset(probs, [s.mask for s in data.val], out_of_time=halt)
    if stop():  # the search cut short: not the measurement asked for
        return _not_measured(True, len(probs), len(data.val))
    if not found.measured:  # the budget's end before every whole-pixel move: nothing stored
        log.info("%s; give more --minutes", found.describe())
        return None
    for name in ("best.pt", "last.pt"):
        if (checkpoints / name).is_file():
            update_checkpoint(checkpoints / name, label_offset=list(found.offset))
    measured = {
        **asdict(found),
        "tta": list(tta or ()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    record(run_dir, [OFFSET_FILE], command="train")  # a run's file, like the others
    with atomic_path(Path(run_dir) / OFFSET_FILE) as tmp:
        tmp.write_text(json.dumps(measured, indent=1) + "\n")
    log.info("%s (%.0f s)", found.describe(), measured["seconds"])
    return found


def _not_measured(stopped: bool, predicted: int, images: int) -> None:
    """Say why the label offset was left out: stopped, or the time budget's end."""
    if stopped:
        log.info("label offset: not measured (stopped); train --resume measures it")
    else:
        log.info(
            "label offset: not measured (the time budget ran out after %d of %d validation"
            " predictions; give more --minutes)",
            predicted,
            images,
        )


def _encoder_freezer(model, epochs: int, group: Group) -> Callable[[int], None]:
    """``freeze(epoch)``: the encoder frozen before epoch ``epochs``, trained from then on."""
    if not epochs:
        return lambda epoch: None
    if not isinstance(model, EncoderUNet):
        raise UnetlabError("train.freeze_encoder_epochs needs an encoder net (model.encoder)")
    if group.active:
        raise UnetlabError("train.freeze_encoder_epochs is not supported with --nproc > 1")

    def freeze(epoch: int) -> None:
        frozen = epoch < epochs
        if frozen != model.encoder_frozen:
            model.freeze_encoder(frozen)
            log.info("encoder %s from epoch %d", "frozen" if frozen else "trained", epoch + 1)

    return freeze


class _EpochItems(Sampler):
    """The ``(epoch, index)`` items of one epoch (or of what is left of it, on resume)."""

    def __init__(self):
        self.epoch, self.indices = 0, range(0)

    def set(self, epoch: int, indices: range) -> None:
        self.epoch, self.indices = epoch, indices

    def __iter__(self):
        return ((self.epoch, i) for i in self.indices)

    def __len__(self) -> int:
        return len(self.indices)


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


def _time_budget(
    cfg, scheduler, budget: TimeBudget | None
) -> tuple[Callable[[], bool], ValidationPacer]:
    """(is the ``train.max_minutes`` budget spent?, the pacer of validations). Without a
    budget nothing runs out and every ``val_every``-th epoch validates. A budget run by the
    schedule keeps time at its end for the last validation and the label offset's
    measurement; so does ``budget`` (none, plateau), which only stops the run."""
    if isinstance(scheduler, BudgetSchedule):
        after = offset_fit_cost(cfg)
        return scheduler.spent, ValidationPacer(VALIDATION_SHARE, budget=scheduler, after=after)
    if budget is not None:
        after = offset_fit_cost(cfg)
        return budget.spent, ValidationPacer(VALIDATION_SHARE, budget=budget, after=after)
    return lambda: False, ValidationPacer(1.0)


def _validation_due(epoch: int, train, out_of_time, pacer: ValidationPacer, clock) -> bool:
    """Validate after the last epoch; otherwise every ``val_every``-th epoch once the pacer
    allows (with a time budget validations take at most ``VALIDATION_SHARE`` of the time)."""
    if epoch == train.epochs or out_of_time():
        return True
    return epoch % train.val_every == 0 and pacer.due(clock())


def _augment(cfg: Config):
    if not cfg.augment.enabled:
        return None
    from unetlab.data.transforms import Augment

    return Augment(**cfg.augment.options())


def _restore(
    path: Path,
    model,
    optimizer,
    scheduler,
    scaler,
    state: TrainState,
    *,
    budget=None,
    processes: int = 1,
) -> None:
    checkpoint = load_checkpoint(path)
    _warn_other_processes(checkpoint.get("processes"), processes)
    if checkpoint["config"] != asdict(model.config):
        raise UnetlabError(
            f"{path} holds a different architecture ({checkpoint['config']}); resume with its config"
        )
    length = _schedule_length(scheduler)  # this config's, before the saved state replaces it
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    saved = checkpoint.get("scheduler")
    if scheduler is not None and saved is not None:
        saved = _saved_schedule(checkpoint, scheduler)
        scheduler.load_state_dict(saved)
        _stretch_schedule(scheduler, length)
    scaler.load_state_dict(checkpoint["scaler"])
    if budget is not None and checkpoint.get("budget"):  # none of a run made without one
        budget.load_state_dict(checkpoint["budget"])
        log.info(
            "time budget: %.2g of %g min spent", budget.seconds_spent / 60, budget.seconds / 60
        )
    for key, value in checkpoint["train_state"].items():
        setattr(state, key, value)
    torch.set_rng_state(checkpoint["rng"])
    log.info(
        "resuming %s at epoch %d, batch %d (step %d)",
        path,
        state.epoch + 1,
        state.batch,
        state.step,
    )
    if saved is not None:
        _log_budget(scheduler, saved)


def resume_command(run_dir: str | os.PathLike, processes: int = 1) -> str:
    """The command that resumes ``run_dir`` as it trained (in ``processes`` processes)."""
    nproc = f" --nproc {processes}" if processes > 1 else ""
    return f"unetlab train --run-dir {shlex.quote(str(run_dir))} --resume{nproc}"


def _warn_other_processes(saved: int | None, processes: int) -> None:
    """A run resumed in another number of processes than it trained in (``saved``; None:
    not recorded) trains on with another global batch: say so, and how to go on as before."""
    if saved is None or saved == processes:
        return
    log.warning(
        "this run trained in %d process(es) and resumes in %d: its global batch changes with "
        "them (batch_size x processes); resume with --nproc %d to go on as it trained",
        saved,
        processes,
        saved,
    )


def _saved_schedule(checkpoint: dict, scheduler) -> dict:
    """The schedule's state in ``checkpoint``; a time budget's with the seconds it ran under
    (in its train config, for a checkpoint from before they were in the state)."""
    state = dict(checkpoint["scheduler"])
    if isinstance(scheduler, BudgetSchedule) and "seconds" not in state:
        minutes = (checkpoint.get("train_config") or {}).get("train", {}).get("max_minutes")
        if minutes:
            state["seconds"] = 60 * minutes
    return state


def _log_budget(scheduler, saved: dict) -> None:
    """One line on what a resumed run's new time budget buys."""
    before = saved.get("seconds")
    if not isinstance(scheduler, BudgetSchedule) or before in (None, scheduler.seconds):
        return
    now, spent = scheduler.seconds / 60, scheduler.seconds_spent / 60
    line = f"the time budget is now {now:g} min (it was {before / 60:g}; {spent:.2g} min spent)"
    if scheduler.spent():
        log.info("%s: it is spent, so no more training", line)
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


class _MetricsFile:
    """metrics.csv, one row per epoch, appended and flushed (rows of later epochs dropped on resume)."""

    def __init__(self, path: Path, classes: list[str], *, keep_epochs: int):
        self.path = path
        self.columns = [
            "epoch",
            "step",
            "train_loss",
            "val_loss",
            "val_miou",
            "val_miou_smoothed",
            "val_mdice",
            "lr",
            "seconds",
            "data_s",
            "compute_s",
            *[f"val_iou_{c}" for c in classes],
        ]
        self.rows: list[dict] = []
        kept: list[dict] = []
        if path.exists():
            with path.open(newline="") as f:
                kept = [r for r in csv.DictReader(f) if int(float(r["epoch"])) <= keep_epochs]
            self.rows = [{k: float(v) if v else None for k, v in r.items()} for r in kept]
        with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(kept)

    def append(self, row: dict) -> None:
        self.rows.append(row)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.columns, extrasaction="ignore").writerow(
                {k: _fmt(row.get(k)) for k in self.columns}
            )
            f.flush()
            os.fsync(f.fileno())


def _fmt(value) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _plot(run_dir: Path, rows: list[dict]) -> None:
    from unetlab.plots import plot_curves

    plot_curves(rows, run_dir / "curves.png")


def _provenance() -> str:
    code = code_identity()
    return (
        f"resolved config of a unetlab run: {describe_code(code)}, torch {code['torch']}, "
        f"numpy {code['numpy']}, python {code['python']}\n"
        f"command: {command_line()}\n"
        f"each command, its code, machine, device, precision and net: {HISTORY_FILE}"
    )


def run_info(run: _Run, weights: list[float] | None) -> dict:
    """What one command's training ran with (its entry in ``history.yaml``): the code, the
    machine and what the config's open choices resolved to: device, precision, threads, the
    net built
    (its preset expanded), class weights and normalisation. config.yaml keeps them as asked
    (``auto``, a preset's name), so that it runs the same way elsewhere."""
    precision, model = run.precision, run.model
    amp = str(precision.amp_dtype).removeprefix("torch.") if precision.amp_dtype else "off"
    cpu = run.device.type == "cpu"
    return {
        "code": code_identity(),
        "machine": machine(run.device),
        "resolved": {
            "device": str(run.device),
            "threads": torch.get_num_threads() if cpu else None,
            "processes": run.group.world,
            "amp": amp,
            "channels_last": precision.channels_last,
            "model": built_model(run.cfg, model),
            "class_weights": weights,
            "normalization": dict(run.data.normalization),
            "label_values": [int(v) for v in run.data.label_values],
            "classes": list(model.classes),
        },
    }


def built_model(cfg: Config, model: nn.Module) -> dict:
    """The net as built: its class, the preset or encoder it came from, every architecture
    option (the preset's and the data's values filled in) and its parameter count."""
    source = {"preset": cfg.model.preset} if cfg.model.encoder == "none" else {}
    if cfg.model.encoder_weights:
        source["encoder_weights"] = cfg.model.encoder_weights
    return {
        "class": type(model).__name__,
        **source,
        **asdict(model.config),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def _log_start(run: _Run, in_size: int, out_size: int) -> None:
    cfg, device = run.cfg, run.device
    threads = f" ({torch.get_num_threads()} threads)" if device.type == "cpu" else ""
    log.info("run folder %s", run.run_dir)
    log.info("device %s%s, %s", device, threads, run.precision.describe())
    budget_on_cpu = cfg.train.max_minutes > 0 and device.type == "cpu"
    if budget_on_cpu and (busy := busy_cpu_warning(cfg.train.max_minutes)):
        log.warning(busy)
    if run.group.active:
        log.info(
            "data-parallel over %d processes (%s): global batch %d",
            run.group.world,
            "NCCL" if device.type == "cuda" else "gloo",
            cfg.train.batch_size * run.group.world,
        )
    _log_data_and_model(run, in_size, out_size)
    if run.state.step:
        log.info("continuing at epoch %d, step %d", run.state.epoch + 1, run.state.step)


def _log_data_and_model(run: _Run, in_size: int, out_size: int) -> None:
    cfg, data, model, t = run.cfg, run.data, run.model, run.cfg.train
    h, w = data.train[0].mask.shape
    log.info(
        "data %s: %d training and %d validation images (the first %d px wide, %d high, "
        "%d channel(s)), classes %s",
        cfg.data.root,
        len(data.train),
        len(data.val),
        w,
        h,
        data.train[0].image.shape[0],
        ", ".join(
            str(v) if n == str(v) else f"{v} ({n})"
            for n, v in zip(data.class_names, data.label_values)
        ),
    )
    arch = (
        f"{cfg.model.preset} preset"
        if cfg.model.encoder == "none"
        else f"{cfg.model.encoder} U-Net"
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
    log.info("training %s (%s)", _length(t, run.steps_per_epoch), how)


def _length(t, steps: int) -> str:
    """How long the run trains: its epochs, or its time budget (and epoch cap, if any)."""
    if not t.max_minutes:
        return f"{t.epochs} epochs x {steps} steps of batch {t.batch_size}"
    ends = "the budget" if _budget_only(t) else f"the budget or epoch {t.epochs}"
    return (
        f"for {t.max_minutes:g} min in epochs of {steps} steps of batch {t.batch_size}; "
        f"{ends} ends the run"
    )


def _budget_only(t) -> bool:
    """Whether the time budget alone ends the run (the plan's epoch cap is never reached)."""
    return t.max_minutes > 0 and t.epochs >= BUDGET_EPOCHS


def _epoch_name(epoch: int, t) -> str:
    """``epoch 5/50``; ``epoch 5`` where the time budget ends the run."""
    return f"epoch {epoch}" if _budget_only(t) else f"epoch {epoch}/{t.epochs}"


def _log_epoch(row: dict, t) -> None:
    val = (
        f"  val loss {row['val_loss']:.4f}  mIoU {row['val_miou']:.4f}  Dice {row['val_mdice']:.4f}"
        if "val_miou" in row
        else ""
    )
    log.info(
        "%s  train loss %.4f%s  lr %.3g  %.1f s (data %.1f s, compute %.1f s)",
        _epoch_name(row["epoch"], t),
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
        log.info("  val IoU per class: %s", ", ".join(f"{n} {v:.3f}" for n, v in ious))


def _log_to_file(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    package = logging.getLogger("unetlab")
    handler._previous_level = package.level  # restored by _detach
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    package.addHandler(handler)
    return handler


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (its stderr is no terminal, yet shown)."""
    return "ipykernel" in sys.modules


def progress_bar(**settings) -> tqdm:
    """A tqdm bar with ``settings``: in a Jupyter notebook with ipywidgets, ``tqdm.auto``'s (a
    widget there); elsewhere the text bar on stderr, as in the CLI, and also in a notebook
    without ipywidgets (whose widget bar raises "IProgress not found")."""
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return tqdm(**settings)
        from tqdm.auto import tqdm as auto

        return auto(**settings)
    return tqdm(**settings)


def _console(progress: bool) -> logging.Handler | None:
    """The log on stderr for the run, where the program has not set up logging itself (a
    notebook or a script calling ``fit``): the plan, each epoch, the end. None otherwise."""
    if not progress or logging.getLogger().handlers:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("unetlab").addHandler(handler)
    return handler


def _quiet() -> logging.Handler:
    """For the other processes of a group: no log file, and only warnings on the console."""
    handler = logging.NullHandler()
    package = logging.getLogger("unetlab")
    handler._previous_level = package.level  # restored by _detach
    package.setLevel(logging.WARNING)
    package.addHandler(handler)
    return handler


def _detach(handler: logging.Handler) -> None:
    package = logging.getLogger("unetlab")
    package.removeHandler(handler)
    package.setLevel(handler._previous_level)
    handler.close()
