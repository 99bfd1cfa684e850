"""A training step's memory, measured (:func:`measure_step`: the peak resident memory of real
steps, Linux only) against the estimate of :mod:`unetlab.models.memory`."""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

import torch

from unetlab.losses import build_loss
from unetlab.runtime import tuned_allocator
from unetlab.train.loop import Precision, batch_loss, optimizer_step
from unetlab.train.schedule import build_optimizer

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def can_measure() -> bool:
    """Whether :func:`measure_step` works here: Linux's peak-RSS reset and glibc."""
    return _STATUS.is_file() and _CLEAR_REFS.exists() and ctypes.util.find_library("c") is not None


def _status_bytes(key: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in {_STATUS}")


def _reset_peak() -> int:
    """Free heap given back to the system and the peak resident size reset to the current;
    returns the current resident bytes."""
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    _CLEAR_REFS.write_text("5")
    return _status_bytes("VmRSS")


def measure_step(build, tile: int, batch: int, *, amp="fp32", channels_last=False, train=None):
    """Peak resident bytes that building the net (``build()``, on the CPU), its optimiser and
    two training steps on ``batch`` random tiles of ``tile`` px added to this process, as
    ``fit`` runs them (the tuned allocator, the loop's forward and optimiser step; the
    optimiser's state is made in the first step). ``amp``: ``fp32`` or ``bf16`` autocast;
    ``train``: a TrainSection (the optimiser; default AdamW). Linux only
    (:func:`can_measure`): the peak is reset through /proc/self/clear_refs."""
    from unetlab.config import TrainSection

    train = train or TrainSection()
    device = torch.device("cpu")
    precision = Precision(torch.bfloat16 if amp == "bf16" else None, channels_last)
    with tuned_allocator():
        base = _reset_peak()
        model = build()
        model.to(memory_format=torch.channels_last if channels_last else torch.preserve_format)
        optimizer, loss_fn = build_optimizer(model, train), build_loss("ce")
        out = model.output_size(tile)
        classes = max(model.num_classes, 2)
        batch_tensors = (
            torch.randn(batch, model.config.in_channels, tile, tile),
            torch.randint(0, classes, (batch, out, out)),
            torch.ones(batch, out, out),
        )
        scaler = torch.amp.GradScaler("cpu", enabled=False)
        for _ in range(2):
            loss, _ = batch_loss(model, batch_tensors, loss_fn, device, precision)
            optimizer_step(model, loss, optimizer, scaler, None, 0.0)
            del loss
        return _status_bytes("VmHWM") - base
