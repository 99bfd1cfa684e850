"""What the device runs fastest: bf16 on CPUs that have it, tile-making processes beside a GPU."""

from __future__ import annotations

from unetlab.plan.record import Choice
from unetlab.runtime import available_cpus, supports_bf16

#: the train.amp settings that train in bf16 on a CPU that runs it natively
BF16_AMP = ("native", "bf16")


def plan_precision(
    device: str, *, native_bf16: bool | None = None, amp: str | None = None
) -> list[Choice]:
    """bf16 autocast in channels-last where the CPU runs bf16 natively (AMX, AVX512-BF16):
    training steps take a half to a third of fp32 time there (bench/README.md). CUDA already
    autocasts (``train.amp: auto``); other CPUs would emulate bf16, many times slower.
    ``amp``: the user's train.amp (None: not set): one that trains in fp32 there (``off``,
    ``auto``) keeps the default layout, with that reason (audit s34 repro 11)."""
    if device != "cpu":
        return []
    native = supports_bf16("cpu") if native_bf16 is None else native_bf16
    if not native:
        return [Choice("train.amp", "off", "this CPU has no native bf16: fp32")]
    why = "this CPU runs bf16 natively (AMX or AVX512-BF16): 2-3x the steps of fp32"
    layout = Choice("train.channels_last", True, why)
    if amp is not None and amp not in BF16_AMP:
        layout = Choice(
            "train.channels_last",
            False,
            f"train.amp is {amp!r} (your setting), not bf16: channels-last speeds bf16 here; "
            "fp32 training on a CPU keeps the default layout (a paper-net step took 2x as "
            "long in channels-last, bench/README.md)",
        )
    return [Choice("train.amp", "native", why), layout]


MAX_WORKERS = 8  # tile-making processes beside one GPU


def plan_workers(device: str, *, cpus: int | None = None) -> list[Choice]:
    """Processes that make the training tiles while a GPU computes. Made in the main process,
    the batch is waited for: the paper net's batch-4 step on an H200 spent 61-74% of its time
    making the batch on the host, and persistent workers cut an H100 epoch's data wait to
    0.1-0.2 s of 1.5-1.8 s (bench/README.md). On a CPU the workers would take cores from
    the compute, so ``train.num_workers`` stays 0 there."""
    if device == "cpu":
        return []
    workers = min((available_cpus() if cpus is None else cpus) - 1, MAX_WORKERS)
    if workers < 1:
        return []
    why = f"{workers} processes make the tiles while the GPU computes (one CPU left for the run)"
    return [Choice("train.num_workers", workers, why)]
