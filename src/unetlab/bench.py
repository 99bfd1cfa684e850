"""Measuring functions behind ``unetlab bench`` and ``bench/*.py``: each returns a flat dict
(one table row, JSON-ready) and prints nothing.

- :func:`conv_peak`: GFLOP/s of the fastest of the paper net's 3x3 convolution shapes, the
  yardstick a U-Net forward is compared with (U-Net time is almost all 3x3 convolutions).
- :func:`bench_forward`: one net's forward pass at a tile size, dtype and layout: seconds,
  GFLOP/s, share of the peak, CPU and kernel time, page faults per call.
- :func:`bench_predict`: whole-image prediction (``predict_image``) in MP/s against the
  model alone on the same tiles: the engine's overhead.
- :func:`bench_monai`: the same image through MONAI's ``sliding_window_inference`` (512
  windows, overlap 0.25, gaussian) with a same-padding net of equal widths (needs monai).
- :func:`bench_train_step`: seconds per training step, split into data preparation and
  compute (forward, loss, backward, optimiser step).
- :func:`peak_memory`: peak resident memory of a prediction, in a fresh process.
- :func:`run_suite`: what ``unetlab bench`` measures (peak, forward, prediction, a training
  step), on the model of :func:`suite_model`.

Timings are medians over ``repeat`` calls after ``warmup`` calls. CPU time (user + system)
per call is reported beside wall time: on a busy machine wall time grows but CPU time much
less, so both are worth reading.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from unetlab import provenance
from unetlab.errors import UnetlabError
from unetlab.model_identity import laid_out_again
from unetlab.models import UNet
from unetlab.models.summary import summarize
from unetlab.runtime import cpu_capability, inference_layout, supports_bf16

log = logging.getLogger(__name__)

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
LAYOUTS = ("channels_last", "nchw")


@dataclass(frozen=True)
class Timing:
    """Per-call figures of :func:`time_calls`: wall seconds (median, min, all), CPU seconds
    (user and system, mean) and minor page faults (mean)."""

    median_s: float
    min_s: float
    runs: tuple[float, ...]
    user_s: float
    system_s: float
    page_faults: float


def time_calls(
    fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1, device=None
) -> Timing:
    """Call ``fn`` ``warmup`` times, then time ``repeat`` calls. On a CUDA ``device`` each
    call is timed to the end of its GPU work (synchronised before and after)."""
    if repeat < 1 or warmup < 0:
        raise UnetlabError(
            f"repeat must be at least 1 and warmup at least 0, not {repeat}, {warmup}"
        )
    sync = _synchronizer(device)
    for _ in range(warmup):
        fn()
    sync()
    before = resource.getrusage(resource.RUSAGE_SELF)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        runs.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return Timing(
        median_s=statistics.median(runs),
        min_s=min(runs),
        runs=tuple(runs),
        user_s=(after.ru_utime - before.ru_utime) / repeat,
        system_s=(after.ru_stime - before.ru_stime) / repeat,
        page_faults=(after.ru_minflt - before.ru_minflt) / repeat,
    )


def _synchronizer(device) -> Callable[[], None]:
    if device is not None and torch.device(device).type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


class ModelClock:
    """Wall seconds spent inside ``model``'s forward calls, measured by forward hooks
    (synchronised on a CUDA ``device``), to set a model's time against the whole pipeline's
    around it. A context manager: the hooks live inside ``with``; ``seconds`` and ``calls``
    accumulate over it."""

    def __init__(self, model: torch.nn.Module, device=None):
        self.model, self.seconds, self.calls = model, 0.0, 0
        self._sync = _synchronizer(device)
        self._hooks: list = []

    def _enter(self, module, args) -> None:
        self._sync()
        self.seconds -= time.perf_counter()

    def _leave(self, module, args, output) -> None:
        self._sync()
        self.seconds += time.perf_counter()
        self.calls += 1

    def __enter__(self) -> ModelClock:
        self._hooks = [
            self.model.register_forward_pre_hook(self._enter),
            self.model.register_forward_hook(self._leave),
        ]
        return self

    def __exit__(self, *exc) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []


def throughput(images: int, pixels: int, seconds: float, model_seconds: float) -> dict:
    """Images/s, megapixels/s (``pixels`` of the inputs) end to end and in the model alone,
    and the model's share of the end-to-end ``seconds``."""
    mp = pixels / 1e6
    return {
        "images": images,
        "megapixels": round(mp, 3),
        "seconds": round(seconds, 4),
        "images_per_s": round(images / seconds, 3),
        "mpix_per_s": round(mp / seconds, 3),
        "model_seconds": round(model_seconds, 4),
        "model_mpix_per_s": round(mp / model_seconds, 3) if model_seconds else None,
        "model_share": round(model_seconds / seconds, 3),
    }


def machine(device=None) -> dict:
    """What the figures were measured on (with the GPU's name for a CUDA ``device``)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        **provenance.machine(device),  # as run folders name it (history.yaml)
        "cpu_capability": cpu_capability(),
        "bf16_native": supports_bf16("cpu"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_1min": round(load[0], 2),
    }


def _timing_fields(t: Timing) -> dict:
    return {
        "seconds": round(t.median_s, 4),
        "min_seconds": round(t.min_s, 4),
        "cpu_seconds": round(t.user_s + t.system_s, 4),
        "system_seconds": round(t.system_s, 4),
        "page_faults": round(t.page_faults),
    }


def _layout(layout: str) -> torch.memory_format:
    if layout not in LAYOUTS:
        raise UnetlabError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    return torch.channels_last if layout == "channels_last" else torch.contiguous_format


def _dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise UnetlabError(f"dtype must be one of {tuple(DTYPES)}, not {dtype!r}")
    return DTYPES[dtype]


# --- the yardstick ------------------------------------------------------------------------


#: 3x3 convolutions of the paper net's levels at 572 input: (channels, output size).
PEAK_SHAPES = ((64, 568), (128, 280), (256, 136), (512, 64))


def conv_peak(
    *,
    dtype: str = "fp32",
    layout: str = "channels_last",
    shapes: tuple[tuple[int, int], ...] = PEAK_SHAPES,
    repeat: int = 5,
    device: str | torch.device = "cpu",
) -> dict:
    """GFLOP/s of the fastest of a few 3x3 convolutions, c -> c channels at s x s (padding 1,
    batch 1, inference mode): the device's convolution limit for the shapes a U-Net runs.
    One shape alone understates it (256 -> 256 at 128 px runs ~10% below the best here)."""
    fmt = _layout(layout)
    best = None
    for channels, size in shapes:
        conv = torch.nn.Conv2d(channels, channels, 3, padding=1).eval()
        conv = conv.to(device, _dtype(dtype)).to(memory_format=fmt)
        x = torch.randn(1, channels, size, size, device=device).to(_dtype(dtype))
        x = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            t = time_calls(lambda conv=conv, x=x: conv(x), repeat=repeat, warmup=2, device=device)
        gflop = 2 * channels * channels * 9 * size * size / 1e9
        if best is None or gflop / t.median_s > best[0]:
            best = (gflop / t.median_s, channels, size, gflop, t)
    rate, channels, size, gflop, t = best
    return {
        "what": "conv3x3 peak",
        "shape": f"{channels}->{channels}@{size}",
        "dtype": dtype,
        "layout": layout,
        "gflop": round(gflop, 3),
        **_timing_fields(t),
        "gflops": round(rate, 1) or float(f"{rate:.2g}"),  # a tiny shape under load: not 0.0
        **_cpu_fields(_cpu_rate(gflop, t, device)),
    }


# --- model forward ------------------------------------------------------------------------


def bench_forward(
    model: UNet,
    size: int,
    *,
    batch: int = 1,
    dtype: str = "fp32",
    layout: str = "channels_last",
    repeat: int = 5,
    warmup: int = 1,
    peak_gflops: float | None = None,
    peak_cpu_gflops: float | None = None,
    device: str | torch.device = "cpu",
) -> dict:
    """One forward pass of ``model`` on (batch, C, size, size) random input, inference mode.

    ``dtype="bf16"`` converts the weights and the input to bfloat16 (no autocast casts per
    call). ``peak_gflops`` (and, on the CPU, ``peak_cpu_gflops``): the :func:`conv_peak`'s
    figures of the same dtype and layout, to report the share of it reached by wall time
    (``share_of_peak``; where :func:`wall_share` finds it above 1, ``wall_over_peak``
    instead, the ratio measured, which :func:`share_notes` explains) and by CPU time
    (``share_of_peak_cpu``, which other jobs on the machine do not lower). The model is left
    on ``device`` in float32, NCHW.
    """
    fmt = _layout(layout)
    model = model.eval().to(device, _dtype(dtype)).to(memory_format=fmt)
    x = torch.randn(batch, model.in_channels, size, size, device=device).to(_dtype(dtype))
    x = x.contiguous(memory_format=fmt)
    with torch.inference_mode():
        t = time_calls(lambda: model(x), repeat=repeat, warmup=warmup, device=device)
    gflop = summarize(model, size).gflops * batch
    row = {
        "what": "forward",
        "model": _describe(model),
        "size": size,
        "batch": batch,
        "dtype": dtype,
        "layout": layout,
        "gflop": round(gflop, 2),
        **_timing_fields(t),
        "gflops": round(gflop / t.median_s, 1),
    }
    cpu = _cpu_rate(gflop, t, device)
    row.update(peak_fields(gflop / t.median_s, cpu, peak_gflops, peak_cpu_gflops))
    model.float().to(memory_format=torch.contiguous_format)
    return row


def peak_fields(
    gflops: float, cpu_gflops: float | None, peak: float | None, peak_cpu: float | None
) -> dict:
    """A forward row's shares of the convolution ``peak`` (GFLOP/s): ``share_of_peak`` by
    wall time (where :func:`wall_share` finds it above 1, ``wall_over_peak``, the ratio
    measured, instead), the CPU-time rate's fields and ``share_of_peak_cpu`` of
    ``peak_cpu`` (which other jobs on the machine do not lower)."""
    row = {}
    if peak and (share := wall_share(gflops, peak)) is not None:
        row["share_of_peak"] = share
    elif peak:  # no share: the ratio measured, for the note that says why
        row["wall_over_peak"] = round(gflops / peak, 3)
    row.update(_cpu_fields(cpu_gflops))
    if peak_cpu and cpu_gflops:  # by CPU time: the same on a busy machine
        row["share_of_peak_cpu"] = round(cpu_gflops / peak_cpu, 3)
    return row


def _cpu_rate(gflop: float, t: Timing, device) -> float | None:
    """GFLOP a CPU second (user + system) on the CPU; None on a GPU, whose work is not the
    process's CPU time."""
    cpu = t.user_s + t.system_s
    if torch.device(device).type != "cpu" or cpu <= 0:
        return None
    return gflop / cpu


def _cpu_fields(rate: float | None) -> dict:
    return {} if rate is None else {"cpu_gflops": float(f"{rate:.4g}")}


#: A wall-time share of the peak above 1 + this is not timing noise (:func:`wall_share`)
SHARE_NOISE = 0.05


def wall_share(gflops: float, peak_gflops: float) -> float | None:
    """``gflops`` as a share of ``peak_gflops`` (both by wall time), or None above 1 (plus
    :data:`SHARE_NOISE`): a net of 3x3 convolutions does not outrun its fastest one, so such
    a share says that other work slowed the peak's timing more than the net's, not how fast
    the net runs (the two are timed seconds apart, each disturbed its own way). Three
    significant digits, not decimals: a tiny net timed under load ran at 0.0004 of a peak
    timed quietly, which rounded to 0.0 (s74: test_conv_peak_and_forward_rows failed)."""
    share = gflops / peak_gflops
    return float(f"{share:.3g}") if share <= 1 + SHARE_NOISE else None


def share_notes(rows: list[dict]) -> list[str]:
    """A line for each forward row of ``rows`` whose wall-time share :func:`wall_share` left
    out, with the ratio measured and the share by CPU time that holds."""
    notes = []
    for row in rows:
        if "wall_over_peak" not in row:
            continue
        cpu = row.get("share_of_peak_cpu")
        holds = f"; by CPU time it is {cpu:g} (share_of_peak_cpu)" if cpu is not None else ""
        notes.append(
            f"share_of_peak is left out: by wall time the forward ran at "
            f"{row['wall_over_peak']:.2f}x the convolution peak, which no net of 3x3 "
            f"convolutions does, so other work slowed the peak's timing more than the "
            f"forward's{holds}"
        )
    return notes


def busy_cpu(
    *, load: float | None = None, cpus: int | None = None, in_use: float | None = None
) -> str | None:
    """A line for figures measured while other jobs share the CPU, or None: when the
    1-minute load average (``load``, default ``os.getloadavg``; this process's own threads
    count in it) exceeds the CPUs this process may use (``cpus``) by more than half a core,
    or other work used more than half of one just now (``in_use``, default: sampled over
    half a second, :func:`unetlab.cpu_share.cores_in_use`), wall-clock figures are off and
    vary from run to run."""
    from unetlab.cpu_share import cores_in_use
    from unetlab.runtime import excess_load

    in_use = cores_in_use() if in_use is None else in_use
    if (busy := excess_load(load=load, cpus=cpus, margin=0.5, in_use=in_use)) is None:
        return None
    return (
        f"the CPU is busy ({busy.describe()}): other jobs share the cores, so seconds, gflops "
        "and mpix_per_s (wall time) are low, and share_of_peak (two wall timings, each "
        "slowed its own way) is off either way; cpu_seconds and share_of_peak_cpu (CPU time) "
        "hold; stop the other jobs for wall-clock figures"
    )


def _describe(model: UNet) -> str:
    c = model.config
    if hasattr(c, "encoder"):
        return f"{c.encoder} U-Net {c.upsample}"
    return f"depth {c.depth} base {c.base_channels} {c.padding}" + (f" {c.norm}" if c.norm else "")


# --- whole-image prediction ---------------------------------------------------------------


def bench_predict(
    model: UNet,
    shape: tuple[int, int] = (1024, 1024),
    *,
    tile_size: int | None = None,
    batch_size: int | None = None,
    precision: str = "fp32",
    repeat: int = 3,
    warmup: int = 1,
    device: str | torch.device = "cpu",
) -> dict:
    """``predict_image`` on a random (H, W) uint8 image against the model alone on the same
    tiles (same tile size, batch, layout and precision), on ``device``.

    ``overhead``: the engine's time (mirror padding, normalisation, softmax, stitching; no
    file I/O) over the model's, both taken in the same calls (forward hooks time the model
    inside ``predict_image``), so the model's run-to-run drift (10-15% on a shared CPU)
    does not enter it; median over the calls. ``model_seconds``: the model alone on the same
    tiles in separate calls, for reference. ``mpix_per_s`` counts output pixels.
    """
    model, image, grid, batch = _predict_setup(model, shape, tile_size, batch_size, device)
    how = dict(tile_size=grid.tile, batch_size=batch, precision=precision, device=device)
    t_predict, engine, overhead = _engine_timed(model, image, how, repeat, warmup)
    t_model = _model_alone(model, grid, batch, precision, repeat, warmup, device)
    mpix = shape[0] * shape[1] / 1e6
    return {
        "what": "predict",
        "model": _describe(model),
        "image": f"{shape[0]}x{shape[1]}",
        "precision": precision,
        "tile": f"{grid.tile[0]}x{grid.tile[1]}",
        "tiles": len(grid),
        "batch": batch,
        "seconds": round(t_predict.median_s, 4),
        "cpu_seconds": round(t_predict.user_s + t_predict.system_s, 4),
        "page_faults": round(t_predict.page_faults),
        "model_seconds": round(t_model.median_s, 4),
        "mpix_per_s": round(mpix / t_predict.median_s, 4),
        "model_mpix_per_s": round(mpix / t_model.median_s, 4),
        "engine_seconds": round(engine, 4),
        "overhead": round(overhead, 4),
    }


def _predict_setup(model: UNet, shape: tuple[int, int], tile_size, batch_size, device):
    """(the model in the device's layout, a random uint8 image of ``shape``, the grid and
    the batch the engine chooses for them)."""
    from unetlab.inference.sizing import choose_tiling, memory_budget

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(*shape, model.in_channels), dtype=np.uint8)
    fmt = inference_layout(device)
    with laid_out_again(model):  # as the CLI does: no conversion (nor hash) per call
        model = model.eval().to(memory_format=fmt)
    budget = memory_budget(torch.device(device))
    grid, batch = choose_tiling(
        model, shape, tile_size=tile_size, batch_size=batch_size, budget=budget, device=device
    )
    return model, image, grid, batch


def _engine_timed(model, image: np.ndarray, how: dict, repeat: int, warmup: int):
    """(:func:`time_calls` of ``predict_image(model, image, **how)``, the engine's seconds
    and its time over the model's: medians over the calls, the model's time in each call
    taken by forward hooks (:class:`ModelClock`))."""
    from unetlab.inference.predict import predict_image

    clock = ModelClock(model, how["device"])
    inside: list[float] = []  # seconds in the model's forward calls, per predict call

    def predict():
        before = clock.seconds
        predict_image(model, image, **how)
        inside.append(clock.seconds - before)

    with clock:
        timed = time_calls(predict, repeat=repeat, warmup=warmup, device=how["device"])
    in_model = inside[-repeat:]
    engine = statistics.median(total - m for total, m in zip(timed.runs, in_model))
    overhead = statistics.median((total - m) / m for total, m in zip(timed.runs, in_model))
    return timed, engine, overhead


def _model_alone(model, grid, batch: int, precision: str, repeat: int, warmup: int, device):
    """The model alone on the same number of tiles, in the batches and layout the engine
    uses: :func:`time_calls` of it."""
    fmt = inference_layout(device)
    sizes = [min(batch, len(grid) - i) for i in range(0, len(grid), batch)]
    inputs = {
        n: torch.randn(n, model.in_channels, *grid.tile, device=device).contiguous(
            memory_format=fmt
        )
        for n in set(sizes)
    }
    autocast = torch.autocast(
        torch.device(device).type, dtype=torch.bfloat16, enabled=precision == "bf16"
    )

    def model_only():
        with torch.inference_mode(), autocast:
            for n in sizes:
                model(inputs[n])

    return time_calls(model_only, repeat=repeat, warmup=warmup, device=device)


def class_changes(
    model: UNet, image: np.ndarray, *, precision: str = "bf16", device: str | torch.device = "cpu"
) -> dict:
    """Share of pixels whose predicted class differs between fp32 and ``precision``."""
    from unetlab.inference.predict import labels_from_probabilities, predict_image

    ref = labels_from_probabilities(predict_image(model, image, device=device))
    other = labels_from_probabilities(
        predict_image(model, image, precision=precision, device=device)
    )
    changed = int((ref != other).sum())
    return {
        "what": "class changes",
        "precision": precision,
        "pixels": int(ref.size),
        "changed": changed,
        "share": changed / ref.size,
    }


def bench_monai(
    shape: tuple[int, int] = (1024, 1024),
    *,
    base_channels: int = 64,
    depth: int = 5,
    roi: int = 512,
    overlap: float = 0.25,
    net: str = "same",
    repeat: int = 3,
    warmup: int = 1,
    device: str | torch.device = "cpu",
) -> dict | None:
    """MONAI's ``sliding_window_inference`` (``roi`` windows, ``overlap``, gaussian blend,
    batch 1) on a random (1, 1, H, W) image, or None when monai is not installed.

    ``net="same"``: unetlab's same-padding UNet of the given widths in channels-last (the
    same convolutions as ours, so the ratio measures the inference strategy); ``"basic"``:
    MONAI's ``BasicUNet`` with paper widths (its default layout).
    """
    try:
        from monai.inferers import sliding_window_inference
    except ImportError:
        return None
    model, fmt = _monai_net(net, depth, base_channels)
    model = model.to(device)
    x = torch.randn(1, 1, *shape, device=device).contiguous(memory_format=fmt)

    def run():
        with torch.inference_mode():
            sliding_window_inference(
                x, (roi, roi), 1, model, overlap=overlap, mode="gaussian", progress=False
            )

    t = time_calls(run, repeat=repeat, warmup=warmup, device=device)
    mpix = shape[0] * shape[1] / 1e6
    return {
        "what": "monai sliding_window_inference",
        "model": "BasicUNet"
        if net == "basic"
        else f"unetlab same depth {depth} base {base_channels}",
        "image": f"{shape[0]}x{shape[1]}",
        "roi": roi,
        "overlap": overlap,
        **_timing_fields(t),
        "mpix_per_s": round(mpix / t.median_s, 4),
    }


def _monai_net(net: str, depth: int, base_channels: int) -> tuple[torch.nn.Module, object]:
    """(the net :func:`bench_monai` runs, in eval mode, and its memory format)."""
    if net == "same":
        model = UNet(1, 2, depth=depth, base_channels=base_channels, padding="same").eval()
        return model.to(memory_format=torch.channels_last), torch.channels_last
    if net == "basic":
        from monai.networks.nets import BasicUNet

        widths = tuple(base_channels * 2**i for i in range(5)) + (base_channels,)
        logging.getLogger("monai").setLevel(logging.WARNING)
        model = BasicUNet(spatial_dims=2, in_channels=1, out_channels=2, features=widths).eval()
        return model, torch.contiguous_format
    raise UnetlabError(f"net must be 'same' or 'basic', not {net!r}")


# --- training -----------------------------------------------------------------------------


def bench_train_step(
    model: UNet,
    size: int,
    *,
    batch: int = 1,
    steps: int = 5,
    warmup: int = 1,
    layout: str = "nchw",
    augment: bool = True,
    weight_map: bool = True,
    device: str | torch.device = "cpu",
    amp: str = "off",
) -> dict:
    """Seconds per training step of ``model`` on (batch, C, size, size) tiles (SGD momentum
    0.99, the paper's weighted cross entropy), split into data preparation (cutting,
    augmenting and weighting a random tile from a synthetic 2-class image, as the training
    data set does) and compute (forward, loss, backward, optimiser step). ``amp``: "off",
    "bf16" or "fp16" (autocast; fp16 with a gradient scaler), as training does with
    ``train.amp``."""
    if amp not in ("off", "bf16", "fp16"):
        raise UnetlabError(f"amp must be 'off', 'bf16' or 'fp16', not {amp!r}")
    fmt, device = _layout(layout), torch.device(device)
    model = model.train().to(device, memory_format=fmt)
    step = _TrainStep(model, device, fmt, amp)
    make = _sample_maker(
        model.in_channels, size, model.output_size(size), augment=augment, weight_map=weight_map
    )
    data, compute = _timed_steps(step, make, batch, steps=steps, warmup=warmup)
    model.to(memory_format=torch.contiguous_format)
    return {
        "what": "train step",
        "model": _describe(model),
        "size": size,
        "batch": batch,
        "layout": layout,
        "amp": amp,
        "seconds": round(data + compute, 4),
        "data_seconds": round(data, 4),
        "compute_seconds": round(compute, 4),
        "data_share": round(data / (data + compute), 4),
    }


def _timed_steps(step, make, batch: int, *, steps: int, warmup: int) -> tuple[float, float]:
    """(data, compute): median seconds per step, after ``warmup`` steps, of making and
    uploading ``batch`` samples and of the step itself."""
    data_s, compute_s = [], []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        batch_tensors = step.upload([make() for _ in range(batch)])
        t1 = time.perf_counter()
        step(*batch_tensors)
        t2 = time.perf_counter()
        if i >= warmup:
            data_s.append(t1 - t0)
            compute_s.append(t2 - t1)
    return statistics.median(data_s), statistics.median(compute_s)


class _TrainStep:
    """One training step of the bench: forward under ``amp`` autocast, the paper's weighted
    cross entropy, backward and an SGD step (momentum 0.99), synchronised on CUDA."""

    def __init__(self, model: UNet, device: torch.device, fmt: torch.memory_format, amp: str):
        from unetlab.losses import build_loss

        self.model, self.device, self.fmt = model, device, fmt
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
        self.scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")
        self.loss_fn = build_loss("ce")
        self.optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.99)
        self.sync = _synchronizer(device)

    def upload(self, samples: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(image, target, weight) batches of ``samples`` on the device, synchronised."""
        image = torch.from_numpy(np.stack([s[0] for s in samples]))
        image = image.to(self.device).contiguous(memory_format=self.fmt)
        target = torch.from_numpy(np.stack([s[1] for s in samples])).to(self.device)
        weight = torch.from_numpy(np.stack([s[2] for s in samples])).to(self.device)
        self.sync()
        return image, target, weight

    def __call__(self, image, target, weight) -> None:
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            logits = self.model(image)
        loss = self.loss_fn(logits.float(), target, weight)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.sync()


def _sample_maker(channels: int, size: int, out: int, *, augment: bool, weight_map: bool):
    """A function returning (image (C, size, size) float32, target (out, out) int64,
    weight (out, out) float32): a random tile of a synthetic cell image, augmented (elastic
    warp, flips, turns, grey values). As in training, the weight map is computed once per
    source image, then cut and warped with the tile."""
    from unetlab.data.transforms import Augment
    from unetlab.data.weightmap import weight_map as paper_weights

    rng = np.random.default_rng(0)
    side = size + 64
    yy, xx = np.mgrid[:side, :side]
    cells = (np.sin(yy / 9.0) * np.cos(xx / 7.0) > 0.1).astype(np.int64)
    source = (cells * 0.6 + rng.normal(0, 0.2, (side, side))).astype(np.float32)
    weights = paper_weights(cells) if weight_map else np.ones((side, side), np.float32)
    aug = Augment(elastic=True) if augment else None
    crop = (size - out) // 2

    def make():
        y, x = rng.integers(0, side - size, 2)
        image = np.repeat(source[None, y : y + size, x : x + size], channels, axis=0)
        mask = cells[y : y + size, x : x + size]
        weight = weights[y : y + size, x : x + size]
        if aug is not None:
            image, mask, weight = aug(image, mask, weight, rng=rng)
        inner = (slice(crop, crop + out), slice(crop, crop + out))
        return (
            np.ascontiguousarray(image, np.float32),
            np.ascontiguousarray(mask[inner], np.int64),
            np.ascontiguousarray(weight[inner], np.float32),
        )

    return make


# --- the suite: what ``unetlab bench`` measures -------------------------------------------


def suite_model(preset: str = "paper", encoder: str = "none", tile: int | None = None):
    """``(model, name)`` that :func:`run_suite` measures: the ``preset`` net, or a U-Net on the
    ``encoder`` backbone for a VOC-like task (RGB in, 21 classes); a ``tile`` the net cannot
    take is refused naming the valid sizes."""
    from unetlab.models import EncoderUNet

    if encoder == "none":
        model, name = UNet.from_preset(preset), f"{preset} net"
    else:
        model, name = EncoderUNet(encoder, 3, 21), f"{encoder} U-Net"
    model.output_size(tile or suite_tile(model))
    return model, name


def suite_tile(model) -> int:
    """The forward tile :func:`run_suite` times by default: the first valid size from 572."""
    return model.valid_input_sizes(572, 1)[0]


def run_suite(
    model,
    *,
    tile: int | None = None,
    image: int | None = None,
    quick: bool = False,
    precision: str = "fp32",
    repeat: int | None = None,
    device: str | torch.device = "cpu",
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """What ``unetlab bench`` measures, in order, as rows: the 3x3 convolution peak, the
    forward pass at ``tile`` (default :func:`suite_tile`) with its share of that peak,
    prediction of an ``image`` x ``image`` picture (default 1024, 512 when ``quick``) and,
    unless ``quick``, a training step (bf16 autocast for ``precision`` bf16). ``repeat``:
    timed calls per figure (default 5, 3 when ``quick``; prediction 2 when ``quick``).
    ``on_row`` is called with each row as it is measured (the CLI prints it)."""
    repeat = repeat if repeat is not None else (3 if quick else 5)
    tile = tile or suite_tile(model)
    image = image or (512 if quick else 1024)
    rows = []

    def done(row: dict) -> dict:
        rows.append(row)
        if on_row is not None:
            on_row(row)
        return row

    peak = done(conv_peak(dtype=precision, repeat=repeat, device=device))
    forward = dict(peak_gflops=peak["gflops"], peak_cpu_gflops=peak.get("cpu_gflops"))
    done(bench_forward(model, tile, dtype=precision, repeat=repeat, device=device, **forward))
    repeats = 2 if quick else repeat
    done(bench_predict(model, (image, image), precision=precision, repeat=repeats, device=device))
    if not quick:
        size = model.valid_input_sizes(572 if model.padding == "valid" else 256, 1)[0]
        amp = "bf16" if precision == "bf16" else "off"
        done(bench_train_step(model, size, steps=repeat, device=device, amp=amp))
    return rows


# --- memory -------------------------------------------------------------------------------

_MEMORY_SCRIPT = """
import json, resource, sys, time
import numpy as np, torch
from unetlab.models import UNet
from unetlab.inference.predict import predict_image
from unetlab.runtime import tune_allocator
args = json.loads(sys.argv[1])
tune_allocator()
model = UNet.from_preset(args["preset"]).eval()
image = np.lib.format.open_memmap(args["path"], mode="r")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
probs = predict_image(model, image, tile_size=args["tile"])
seconds = time.perf_counter() - start
print(json.dumps({"baseline_mb": base / 1024, "peak_mb":
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "seconds": seconds,
      "output_mb": probs.nbytes / 1e6}))
"""


def peak_memory(
    shape: tuple[int, int], *, preset: str = "small", tile: int | None = None, workdir: str
) -> dict:
    """Peak resident memory (MB) of ``predict_image`` on a memory-mapped (H, W) uint8 image in
    a fresh process; ``baseline_mb`` is that process before the prediction (torch, model)."""
    path = os.path.join(workdir, f"bench_{shape[0]}x{shape[1]}.npy")
    image = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
    for y in range(0, shape[0], 4096):  # written in strips: never in memory as a whole
        rows = image[y : y + 4096]
        rows[...] = (np.arange(rows.shape[1]) % 251).astype(np.uint8)
    image.flush()
    del image
    try:
        args = json.dumps({"path": path, "preset": preset, "tile": tile})
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY_SCRIPT, args], capture_output=True, text=True
        )
        if out.returncode:
            raise RuntimeError(f"memory benchmark failed: {out.stderr.strip().splitlines()[-1:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        os.remove(path)
    mpix = shape[0] * shape[1] / 1e6
    return {
        "what": "peak memory",
        "preset": preset,
        "image": f"{shape[0]}x{shape[1]}",
        **{k: round(v, 1) for k, v in result.items()},
        "mpix_per_s": round(mpix / result["seconds"], 4),
    }


# --- output -------------------------------------------------------------------------------


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as an aligned text table; ``columns`` default to every key, in first-seen order."""
    if columns is None:
        columns = []
        for row in rows:
            columns += [k for k in row if k not in columns]
    cells = [[cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_json(path: str | os.PathLike, rows: list[dict], *, command: str, device=None) -> None:
    """``{"command", "machine", "rows"}`` as JSON at ``path`` (its folder made if needed)."""
    from unetlab.atomic import atomic_path

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(json_text(rows, command=command, device=device))


def json_text(rows: list[dict], *, command: str, device=None) -> str:
    """The JSON :func:`write_json` writes, as text."""
    code = provenance.code_identity()  # the unetlab version and commit measured
    record = {"command": command, "code": code, "machine": machine(device), "rows": rows}
    return json.dumps(record, indent=1) + "\n"


def save_rows(path: str | os.PathLike, rows: list[dict], *, device=None) -> None:
    """For the scripts in ``bench/``: :func:`write_json` with the command that ran the
    script (``python bench/NAME.py ARGS``), then say where the rows went."""
    script = os.path.basename(sys.argv[0])
    write_json(
        path, rows, command=shlex.join(["python", f"bench/{script}", *sys.argv[1:]]), device=device
    )
    print(f"wrote {path}")


__all__ = [
    "Timing",
    "bench_forward",
    "bench_monai",
    "bench_predict",
    "bench_train_step",
    "class_changes",
    "conv_peak",
    "machine",
    "peak_memory",
    "run_suite",
    "save_rows",
    "share_notes",
    "suite_model",
    "table",
    "time_calls",
    "write_json",
]
