"""The loop: ``train_one_epoch`` and ``validate`` (one screen each), the run's place
(:class:`TrainState`) and its precision (:class:`Precision`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from unetlab.data.labels import IGNORE_INDEX
from unetlab.distributed import SOLO, Group
from unetlab.errors import UnetlabError, set_to
from unetlab.inference.predict import model_ignored_class, predict_tensor
from unetlab.metrics import ConfusionMatrix
from unetlab.metrics.confusion import class_indices, metrics_from_matrix, no_class_column
from unetlab.models import UNet
from unetlab.runtime import autocast_dtype, inference_layout


class TrainingError(UnetlabError):
    """Training cannot go on (a non-finite loss); the message says where and what to change."""


@dataclass
class TrainState:
    """Where a run is: completed epochs, optimiser steps, progress inside the current epoch."""

    epoch: int = 0  # completed epochs
    step: int = 0  # optimiser steps so far
    batch: int = 0  # batches done in the current (unfinished) epoch
    tiles: int = 0  # tiles of the current epoch done, all processes' (where a resume goes on)
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
        dtype = autocast_dtype(amp, device)
        return cls(dtype, cuda if channels_last is None else channels_last)

    def autocast(self, device: torch.device):
        return torch.autocast(device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    @property
    def inference(self) -> str:
        """The ``precision`` prediction (and so :func:`validate`) runs in: ``"bf16"`` under
        bf16 autocast, else fp32, fp16 autocast too: prediction has no fp16
        (:data:`~unetlab.runtime.PRECISIONS`), so an fp16 run validates, and its
        checkpoints' ``val_precision`` records, fp32 (s51 kromplines: checked, not a slip)."""
        return "bf16" if self.amp_dtype == torch.bfloat16 else "fp32"

    def describe(self) -> str:
        amp = str(self.amp_dtype).removeprefix("torch.") if self.amp_dtype else "off"
        return f"amp {amp}, channels_last {'on' if self.channels_last else 'off'}"


FULL_PRECISION = Precision()  # fp32, default memory layout


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
    for batch in loader:
        got = time.perf_counter()
        data_s += got - tick
        loss, logits = batch_loss(model, batch, loss_fn, device, precision)
        value, stopping = group.step(loss, stop())  # every process stops at the same step
        _check_finite(value, state, logits, optimizer)
        optimizer_step(model, loss, optimizer, scaler, scheduler, grad_clip)
        _count_step(state, value.item(), bar, tiles=len(batch[0]) * group.world)
        tick = time.perf_counter()
        compute_s += tick - got
        if stopping:
            raise KeyboardInterrupt
        if until():
            break
    return data_s, compute_s


def batch_loss(model, batch, loss_fn, device, precision) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's loss (in fp32, so that AMP's NaNs report) and the logits it came from."""
    image, target, weight = _to_device(*batch, device, precision)
    with precision.autocast(device):
        logits = model(image)
    return loss_fn(logits.float(), target, weight), logits


def optimizer_step(model, loss, optimizer, scaler, scheduler, grad_clip: float) -> None:
    """Backpropagate ``loss`` and step the optimiser (gradients clipped to ``grad_clip`` if
    positive) and the per-batch scheduler."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip > 0:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    if scheduler is not None:
        scheduler.step()


def _count_step(state: TrainState, loss: float, bar: tqdm | None, *, tiles: int) -> None:
    """Record one finished step of ``tiles`` tiles (all processes') and its mean loss in
    ``state`` and on the progress bar."""
    state.step, state.batch, state.loss_sum = state.step + 1, state.batch + 1, state.loss_sum + loss
    state.tiles += tiles
    if bar is not None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")


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
    ``ConfusionMatrix``; a 1-channel (sigmoid) net counts as two classes at p = 0.5. A
    prediction of the class of the mask value training ignores
    (:func:`~unetlab.inference.predict.model_ignored_class`) is an error of the true class,
    that class in no mean (:func:`~unetlab.metrics.confusion.no_class_column`, as evaluate
    scores it; review s68: val mIoU, which picks best.pt, was the mean of three with that
    class's IoU 0).
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
    counts = no_class_column(matrix.matrix, model_ignored_class(model))
    return {"loss": loss_sum / max(pixels, 1), **metrics_from_matrix(*counts)}


def val_classes(model) -> dict:
    """summary.json's ``val_miou_classes`` (val mIoU is the mean IoU of these) and
    ``val_ignored_class``: the class of the mask value training ignores, in no mean
    (:func:`~unetlab.inference.predict.model_ignored_class`; None: none), which compare
    reads ``ignored``."""
    ignored, names = model_ignored_class(model), list(model.classes)
    return {
        "val_miou_classes": [n for k, n in enumerate(names) if k != ignored],
        "val_ignored_class": None if ignored is None else names[ignored],
    }


def _log_odds(probs: torch.Tensor) -> torch.Tensor:
    """Logits whose softmax (sigmoid for one channel) gives ``probs`` back."""
    p = probs.clamp(1e-7, 1 - 1e-7)
    return torch.log(p / (1 - p)) if p.shape[1] == 1 else torch.log(p)


def _to_device(image, target, weight, device, precision):
    fmt = torch.channels_last if precision.channels_last else torch.contiguous_format
    image = image.to(device, non_blocking=True).contiguous(memory_format=fmt)
    return image, target.to(device, non_blocking=True), weight.to(device, non_blocking=True)


#: the setting that trains in float32, as :func:`_check_finite`'s caller sets it
AMP_OFF = set_to("train.amp", "off")


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
    said = (
        f"loss is {loss.item()} at step {state.step + 1} (epoch {state.epoch + 1}, batch "
        f"{state.batch + 1}), lr {lr:.3g}, {span}, {int((~finite).sum())} non-finite logits; "
        "lower train.lr, set train.grad_clip, or try {}"
    )  # as the caller sets it (fit in a notebook was told the command line's, s53)
    raise TrainingError(said.format(AMP_OFF.python), cli=said.format(AMP_OFF.cli))
