"""A training step's memory before the data is loaded: the estimate for the configured net
(:func:`unetlab.models.memory.step_bytes`) against what the machine has
(:func:`unetlab.runtime.available_memory`), for the plan's batch line, the plan's own batch,
and the refusal of a tile x batch that cannot fit (:func:`check_step_memory`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from unetlab.config import Config
from unetlab.errors import UnetlabError
from unetlab.models.architecture import PRESETS, UNetConfig
from unetlab.models.memory import step_bytes
from unetlab.runtime import autocast_dtype, available_memory

#: the share of the available memory the plan's own batch may take a step: the rest is
#: for the data set, which is loaded after the plan, and the validation
PLAN_SHARE = 0.5


def net_architecture(cfg: Config, channels: int | None = None, classes: int | None = None) -> dict:
    """The architecture dict of the net ``cfg`` builds (``asdict(model.config)``) before the
    data says its input channels and classes: ``model.in_channels`` / ``num_classes``, else
    ``channels`` / ``classes`` (the plan's measure of the data), else 1 and 2 (each adds a
    few bytes a pixel to hundreds)."""
    m = cfg.model
    in_channels = m.in_channels or channels or 1
    num_classes = m.num_classes or classes or 2
    if m.encoder != "none":
        from unetlab.models.encoders import EncoderUNetConfig

        upsample = m.upsample or "transpose"
        return asdict(EncoderUNetConfig(m.encoder, in_channels, num_classes, upsample))
    over = {**m.overrides(), "in_channels": in_channels, "num_classes": num_classes}
    return asdict(UNetConfig(**{**PRESETS[m.preset], **over}))


def step_precision(cfg: Config, device: str) -> dict:
    """The ``amp`` a run of ``cfg`` takes on ``device`` (``fp32``, or ``bf16`` for a 2-byte
    autocast, fp16 too; training's own rule, :func:`~unetlab.runtime.autocast_dtype`) and
    its optimiser, for :func:`unetlab.models.memory.step_bytes`."""
    half = autocast_dtype(cfg.train.amp, device) is not None
    return {"amp": "bf16" if half else "fp32", "optimizer": cfg.train.optimizer}


@dataclass(frozen=True)
class StepMemory:
    """A run's training step in bytes against the memory ``available`` on its ``device``
    (``cpu`` or ``cuda``; None: unknown here)."""

    net: dict  # the architecture (net_architecture)
    precision: dict  # step_precision
    available: float | None
    device: str = "cpu"
    processes: int = 1  # training processes sharing ``available`` (--nproc on a CPU)

    @property
    def room(self) -> float | None:
        """The bytes one process's step may take: its share of ``available``."""
        return None if self.available is None else self.available / self.processes

    @classmethod
    def of(cls, cfg: Config, device: str, channels=None, classes=None, available=None):
        """The step facts of ``cfg`` on ``device`` (``available``: default, measured now)."""
        device = "cuda" if device.startswith("cuda") else "cpu"
        if available is None:
            available = available_memory(device)
        net = net_architecture(cfg, channels, classes)
        return cls(net, step_precision(cfg, device), available, device)

    def bytes(self, tile: int, batch: int) -> float:
        return step_bytes(self.net, tile, batch, **self.precision)

    def largest_batch(self, tile: int, share: float = 1.0) -> int:
        """The most tiles of ``tile`` px a step may hold within ``share`` of the available
        memory (0: not one; a large number where the memory is unknown)."""
        if self.room is None:
            return 1 << 30
        one, none = self.bytes(tile, 1), self.bytes(tile, 0)
        return max(0, int((share * self.room - none) // (one - none)))

    def said(self, tile: int, batch: int) -> str:
        """``~N GB a step (this machine has M GB available)`` (``the GPU has M GB free``)."""
        line = f"~{gigabytes(self.bytes(tile, batch))} a step"
        if self.available is not None:
            where = "the GPU has" if self.device == "cuda" else "this machine has"
            free = "free" if self.device == "cuda" else "available"
            each = f", {gigabytes(self.room)} each of {self.processes} processes"
            line += f" ({where} {gigabytes(self.available)} {free}"
            line += f"{each if self.processes > 1 else ''})"
        return line


def gigabytes(n: float) -> str:
    """``n`` bytes in GB: ``7.23 GB``, ``36 GB``."""
    return f"{n / 1e9:.2f} GB" if n < 1e10 else f"{n / 1e9:.0f} GB"


def check_step_memory(
    cfg: Config, device: str, memory: StepMemory | None = None, *, processes: int = 1
) -> StepMemory:
    """UnetlabError in one line where a training step of ``cfg``'s ``train.batch_size``
    tiles of ``data.tile_size`` px would take more than the memory available on ``device``
    (:class:`StepMemory`; ``memory``: those facts, measured now by default; ``processes``:
    CPU processes that train at once, each its own step, sharing it), naming the largest
    batch that fits at that tile, or a tile that fits one; else the facts."""
    memory = memory or StepMemory.of(cfg, device)
    if processes > 1 and memory.device == "cpu":
        memory = replace(memory, processes=processes)
    tile, batch = cfg.data.tile_size, cfg.train.batch_size
    if memory.room is None or memory.bytes(tile, batch) <= memory.room:
        return memory
    fits = memory.largest_batch(tile)
    if fits >= 1:
        fix = f"set train.batch_size={fits} (the most tiles of {tile} px that fit)"
    elif (smaller := _largest_tile(memory, cfg, tile)) is not None:
        fix = f"not one tile of {tile} px fits: set data.tile_size={smaller} or smaller"
    else:
        fix = "not one tile of the smallest size fits: train on a machine with more memory"
    raise UnetlabError(
        f"train.batch_size {batch} x data.tile_size {tile}: {memory.said(tile, batch)}: it "
        f"would run out of memory at its first step; {fix}"
    )


def _largest_tile(memory: StepMemory, cfg: Config, tile: int) -> int | None:
    """The largest valid tile below ``tile`` of which one fits a step, or None."""
    from unetlab.plan.geometry import Geometry

    geometry = Geometry.of(cfg) if memory.net.get("depth") else None
    sizes = geometry.inputs(tile) if geometry else range(32, tile, 32)
    fits = [s for s in sizes if s < tile and memory.bytes(s, 1) <= memory.room]
    return max(fits) if fits else None
