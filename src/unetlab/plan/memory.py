"""A training step's memory before the data is loaded: the estimate for the configured net
(:func:`unetlab.models.memory.step_bytes`) and for the loaded data set (:func:`data_memory`)
against what the machine has (:func:`unetlab.runtime.available_memory`), for the plan's
batch line, the plan's own batch, and the refusal of a tile x batch or a data set that
cannot fit (:func:`check_step_memory`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from unetlab.config import Config
from unetlab.errors import Spelled, UnetlabError, set_to, spelled
from unetlab.models.architecture import PRESETS, UNetConfig
from unetlab.models.memory import step_bytes
from unetlab.runtime import autocast_dtype, available_memory

#: the share of the memory the data set leaves that the plan's own batch may take a step:
#: the rest is for the validation and what the estimates miss
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
    """A run's training step and loaded data in bytes against the memory ``available`` on
    its ``device`` (``cpu`` or ``cuda``: the GPU's free memory; None: unknown here).

    ``data``: what the loaded data set holds (:func:`data_memory`, :func:`listed_data_memory`;
    0: not known), always in the machine's memory (``host``: what it has
    available where the step runs on a GPU). The step is estimated from factors fitted on
    CPU steps (:data:`unetlab.models.memory.STEP_FACTOR`), a GPU's too, and said so there."""

    net: dict  # the architecture (net_architecture)
    precision: dict  # step_precision
    available: float | None
    device: str = "cpu"
    processes: int = 1  # training processes sharing ``available`` (--nproc on a CPU)
    data: float = 0.0
    host: float | None = None  # the machine's available memory, where ``device`` is cuda

    @property
    def data_room(self) -> float | None:
        """The bytes one process's data set may take: its share of the machine's memory
        (every process loads the data set)."""
        host = self.available if self.device == "cpu" else self.host
        return None if host is None else host / self.processes

    @property
    def room(self) -> float | None:
        """The bytes one process's step may take: its share of ``available``, less its data
        set on a CPU."""
        if self.available is None:
            return None
        if self.device == "cuda":
            return self.available
        return self.available / self.processes - self.data

    @classmethod
    def of(cls, cfg: Config, device: str, channels=None, classes=None, available=None, **data):
        """The step facts of ``cfg`` on ``device`` (``available``: default, measured now;
        ``data``: ``data`` bytes, and on a GPU the ``host``'s memory, measured now by
        default)."""
        device = "cuda" if device.startswith("cuda") else "cpu"
        if available is None:
            available = available_memory(device)
        if device == "cuda" and data.get("host") is None:
            data["host"] = available_memory("cpu")
        net = net_architecture(cfg, channels, classes)
        return cls(net, step_precision(cfg, device), available, device, **data)

    def bytes(self, tile: int, batch: int) -> float:
        return step_bytes(self.net, tile, batch, **self.precision)

    def largest_batch(self, tile: int, share: float = 1.0) -> int:
        """The most tiles of ``tile`` px a step may hold within ``share`` of the memory
        available to it (:attr:`room`; 0: not one; a large number where it is unknown)."""
        if self.room is None:
            return 1 << 30
        one, none = self.bytes(tile, 1), self.bytes(tile, 0)
        return max(0, int((share * self.room - none) // (one - none)))

    def said(self, tile: int, batch: int) -> str:
        """``~N GB a step + ~D GB of data (this machine has M GB available)``; on a GPU
        ``~N GB a step, as on a CPU (the GPU has M GB free) + ~D GB of data (...)``."""
        line = f"~{gigabytes(self.bytes(tile, batch))} a step"
        if self.device == "cuda":
            line += f", as on a CPU{self._has(self.available, 'the GPU has', 'free', shared=False)}"
            return line + (f" + {self._data_said(self.host)}" if self.data else "")
        if self.data:
            line += f" + ~{gigabytes(self.data)} of data"
        return line + self._has(self.available, "this machine has", "available")

    def _data_said(self, host: float | None) -> str:
        return f"~{gigabytes(self.data)} of data{self._has(host, 'this machine has', 'available')}"

    def _has(self, total: float | None, where: str, free: str, shared: bool = True) -> str:
        """`` (where M GB free[, N GB each of P processes])`` (each: where ``shared`` by the
        processes), or "" where ``total`` is None."""
        if total is None:
            return ""
        each = f", {gigabytes(total / self.processes)} each of {self.processes} processes"
        return (
            f" ({where} {gigabytes(total)} {free}{each if shared and self.processes > 1 else ''})"
        )


def gigabytes(n: float) -> str:
    """``n`` bytes in GB: ``7.23 GB``, ``36 GB``; below 0.1 GB in MB (``12 MB``)."""
    if n < 1e8:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e9:.2f} GB" if n < 1e10 else f"{n / 1e9:.0f} GB"


def check_step_memory(
    cfg: Config,
    device: str,
    memory: StepMemory | None = None,
    *,
    processes: int = 1,
    plan=None,
) -> StepMemory:
    """UnetlabError in one line where a training step of ``cfg``'s ``train.batch_size``
    tiles of ``data.tile_size`` px and the loaded data set (``plan``'s measure of it and of
    the images' channels, :func:`planned_facts`; None: :func:`listed_data_memory`) would take
    more than the memory available on
    ``device`` (:class:`StepMemory`; ``memory``: those facts, measured now by default;
    ``processes``: processes that train at once, each its own step and data set, sharing the
    machine's memory, a CPU's for both), naming the largest batch that fits at that tile, or
    a tile that fits one, or, where the data alone does not fit, fewer or smaller images;
    else the facts."""
    if memory is None:
        facts = planned_facts(plan) if plan is not None else {"data": listed_data_memory(cfg)}
        memory = StepMemory.of(cfg, device, **facts)
    if processes > 1:
        memory = replace(memory, processes=processes)
    tile, batch = cfg.data.tile_size, cfg.train.batch_size
    if memory.data and memory.data_room is not None and memory.data > memory.data_room:
        raise UnetlabError(_data_refusal(memory, tile, batch))
    if memory.room is None or memory.bytes(tile, batch) <= memory.room:
        return memory
    fix, setting = _memory_fix(memory, cfg, tile)
    if memory.data and memory.device == "cpu":
        fix += " (or train on fewer or smaller images)"

    def say(value: str) -> str:
        return (
            f"train.batch_size {batch} x data.tile_size {tile}: {memory.said(tile, batch)}: "
            f"it would run out of memory at its first step; {fix.format(value)}"
        )

    raise UnetlabError(**spelled(say, setting))


def _memory_fix(memory: StepMemory, cfg: Config, tile: int) -> tuple[str, Spelled | str]:
    """The fix of a step that does not fit, with ``{}`` where the setting to give goes, and
    that setting as Python and the command line give it (:func:`set_to`): the largest batch
    that fits at ``tile``, else the largest tile of which one fits, else none."""
    fits = memory.largest_batch(tile)
    if fits >= 1:
        return f"{{}} (the most tiles of {tile} px that fit)", set_to("train.batch_size", fits)
    if (smaller := _largest_tile(memory, cfg, tile)) is not None:
        return f"not one tile of {tile} px fits: {{}} or smaller", set_to("data.tile_size", smaller)
    return "not one tile of the smallest size fits: train on a machine with more memory", ""


def _data_refusal(memory: StepMemory, tile: int, batch: int) -> str:
    """The line for a data set that alone takes more memory than the machine has."""
    return (
        f"the data set: {memory.said(tile, batch)}: training holds every image and mask in "
        "memory (each image in float32), so it would run out of memory while it loads the "
        "data; train on fewer or smaller images (a folder of some of them, or each cut into "
        "pieces), or on a machine with more memory"
    )


def planned_facts(plan) -> dict:
    """What a :class:`~unetlab.plan.record.Plan` measured of the data that a step's and the
    data's memory depend on (the keywords of :meth:`StepMemory.of`), as the plan's batch
    line counted them: the images' channels, the instance masks' three classes, the loaded
    data's bytes; {} for no plan."""
    if plan is None:
        return {}
    found = plan.fingerprint
    channels = max(found.get("channels") or [0]) or None
    classes = 3 if found.get("instance_masks") else None
    return {"channels": channels, "classes": classes, "data": plan.data_bytes}


def listed_data_memory(cfg: Config) -> float:
    """Bytes the loaded data set of ``cfg`` takes, where no plan measured it: the sizes of
    its images from their files' headers, the channels and dtype of the first image, read
    as training reads it (training refuses images of other channel counts); instance masks
    where ``data.target`` says so (``auto`` reads no mask here: counted as classes, 4 bytes a
    pixel fewer). 0 where the folder does not split or a file does not read (training says
    why)."""
    from unetlab.data.datasets import data_split
    from unetlab.data.footprint import pixel_bytes
    from unetlab.data.io import stack_shape
    from unetlab.data.normalize import channels_of
    from unetlab.data.pairs import PairReader

    d = cfg.data
    if d.root is None:
        return 0.0
    try:
        split = data_split(d, problems=[])
        pairs = [p for side in split for p in side]
        if not pairs:
            return 0.0
        image, _ = PairReader(d.channel)(pairs[0])
        shapes = {p.image: stack_shape(p.image, axes=d.axes)[1:] for p in pairs}
    except UnetlabError:
        return 0.0
    per_pixel = pixel_bytes(
        channels_of(image),
        image.dtype.name,
        weight_map=d.weight_map,
        instances=d.target == "instances",
    )
    return float(sum(math.prod(shapes[p.image]) for p in pairs) * per_pixel)


def data_memory(fp, cfg: Config, images: int) -> float:
    """Bytes the loaded data set of ``cfg`` takes, ``images`` of them (training and
    validation), sized from the fingerprint ``fp``'s (:func:`unetlab.data.footprint.
    data_bytes`; with ``cfg``'s weight map and the instance masks ``fp`` found)."""
    from unetlab.data.footprint import data_bytes

    sizes = [(p.height, p.width, p.channels, p.dtype) for p in fp.pairs]
    instances = fp.instances if cfg.data.target == "auto" else cfg.data.target == "instances"
    return data_bytes(sizes, images, weight_map=cfg.data.weight_map, instances=instances)


def _largest_tile(memory: StepMemory, cfg: Config, tile: int) -> int | None:
    """The largest valid tile below ``tile`` of which one fits a step, or None."""
    from unetlab.plan.geometry import Geometry

    geometry = Geometry.of(cfg) if memory.net.get("depth") else None
    sizes = geometry.inputs(tile) if geometry else range(32, tile, 32)
    fits = [s for s in sizes if s < tile and memory.bytes(s, 1) <= memory.room]
    return max(fits) if fits else None
