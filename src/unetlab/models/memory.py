"""What one training step of a net holds in memory: the tensors autograd keeps for the
backward pass (:func:`saved_bytes`, counted map by map from the architecture), times a
factor measured on real steps, plus the weights, their gradients and the optimiser's state
(:func:`step_bytes`).

A training step keeps every level's maps until the backward pass has used them, so it needs
several times what a forward pass does (:func:`unetlab.inference.sizing.
activation_bytes_per_pixel`): the small preset's fp32 step, 2.4 KB a pixel against 0.44 KB
for inference (bench/README.md "Training step memory")."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict

import torch

#: measured peak bytes of a step over the bytes autograd saves for it (the fp32 count of
#: :func:`saved_bytes`), by autocast dtype: the saved maps (half of them in bf16), the
#: gradients of the maps alive at once in the backward pass and the convolutions'
#: workspace. Least squares over bench/bench_train_memory.py's rows (CPU, torch 2.13: 18
#: fp32 rows of four nets, rows within -16%..+42% of the fit; 5 bf16 rows, -10%..+58%; the
#: layout, channels-last or not, changed a net's slope by 1%).
STEP_FACTOR = {"fp32": 1.9, "bf16": 0.6}
#: bytes a step holds apart from its tiles and weights (the intercept of the same fit): the
#: library's workspace of a process's first steps, and under bf16 autocast its weight copies
STEP_OVERHEAD = {"fp32": 86e6, "bf16": 240e6}
#: optimiser state tensors per weight (AdamW: the two moments; SGD: the momentum buffer)
OPTIMIZER_STATES = {"adamw": 2, "sgd": 1}


def saved_bytes(config: dict, tile: int) -> float:
    """Bytes the tensors autograd saves for the backward pass of one ``tile`` x ``tile`` tile
    take in fp32 (each storage once: an in-place ReLU's output is its convolution's), for
    the net ``config`` describes (``asdict(model.config)``). A :class:`UNet` is counted map
    by map from its architecture (:func:`unet_saved_bytes`: no net built); an encoder net
    from its counts on three small tiles (:func:`encoder_counts`), extended to ``tile``
    (every map's side is a linear function of the tile's, so the bytes are a quadratic in
    it)."""
    if "encoder" not in config:
        return unet_saved_bytes(config, tile)
    sides, counts = encoder_counts(config)
    total = 0.0  # the quadratic through the three points (Lagrange), at ``tile``
    for i, (side, count) in enumerate(zip(sides, counts)):
        others = [s for j, s in enumerate(sides) if j != i]
        total += count * math.prod((tile - o) / (side - o) for o in others)
    return total


#: what :func:`_encoder_counts` counts for each encoder net, by (encoder, upsample): three
#: tile sides and the bytes saved at each by a net of no input channels (each channel adds 4
#: bytes a pixel of the tile, the input its first convolution saves; the classes add none),
#: torch 2.13. Counted at each train start, they took 5-8 s on a loaded 2-core CPU, most of
#: it importing torch._dynamo for the meta device's batch norm and concatenation (Python
#: decompositions); tests/test_train_memory.py counts them again.
ENCODER_COUNTS = {
    ("vgg16", "transpose"): ((32, 48, 64), (3202560, 7196160, 12787200)),
    ("vgg16", "bilinear"): ((32, 48, 64), (3694080, 8302080, 14753280)),
    ("resnet50", "transpose"): ((64, 96, 128), (10444032, 23223552, 41114880)),
    ("resnet50", "bilinear"): ((64, 96, 128), (11558144, 25730304, 45571328)),
}
#: the keys of an encoder net's architecture that :data:`ENCODER_COUNTS` answers for
ENCODER_KEYS = {"encoder", "in_channels", "num_classes", "upsample"}


def encoder_counts(config: dict) -> tuple[list[int], list[int]]:
    """Three tile sides of the encoder net ``config`` describes and the bytes autograd saves
    for a tile of each: from :data:`ENCODER_COUNTS` (no net built), else counted
    (:func:`_encoder_counts`, a net this table does not know)."""
    known = ENCODER_COUNTS.get((config.get("encoder"), config.get("upsample")))
    if known is None or set(config) != ENCODER_KEYS:
        return _encoder_counts(tuple(sorted(config.items())))
    sides, counts = known
    channels = config["in_channels"]
    return list(sides), [n + 4 * channels * side * side for n, side in zip(counts, sides)]


@functools.lru_cache(maxsize=4)
def _encoder_counts(items: tuple) -> tuple[list[int], list[int]]:
    """Three small tile sides of an encoder net and the bytes autograd saves for each,
    counted on the ``meta`` device (shapes only, no arithmetic: the same bytes as real
    tiles; vgg16 0.6 s against 5-11 s on real tiles, loaded 2-core CPU)."""
    from unetlab.models import model_from_config

    config = dict(items)
    with torch.device("meta"):
        model = model_from_config(config).train()
    first, step = model.min_input_size, model.size_multiple
    sides = [max(first, 2 * step) + k * step for k in range(3)]
    return sides, [counted_bytes(model, config["in_channels"], side) for side in sides]


def unet_saved_bytes(config: dict, tile: int) -> int:
    """:func:`saved_bytes` of a :class:`UNet`, from its architecture: each convolution's
    input (the tile, every pool's output, every fusion's, a bilinear up-sampling's), every
    norm's input and output, every ReLU's output (in place: the map before it), every
    pool's int64 indices and the dropout's output (paper: the bottleneck's)."""
    c = config
    loss = 2 if c["padding"] == "valid" else 0
    per_conv = 2 if c["norm"] else 1  # the conv's output, and the norm's
    widths = [c["base_channels"] * 2**i for i in range(c["depth"])]
    elements, side = c["in_channels"] * tile * tile, tile

    def double_conv(width: int, side: int) -> tuple[int, int]:
        first, second = side - loss, side - 2 * loss
        return per_conv * width * (first * first + second * second), second

    for level, width in enumerate(widths):
        if level > 0:  # the pool's output and its int64 indices (two floats' room)
            side //= 2
            elements += 3 * widths[level - 1] * side * side
        maps, side = double_conv(width, side)
        elements += maps
    if c["dropout"] > 0:
        elements += widths[-1] * side * side
    for width in reversed(widths[:-1]):
        side *= 2
        if c["upsample"] == "bilinear":  # the 1x1 convolution's input
            elements += 2 * width * side * side
        elements += (2 if c["fusion"] == "concat" else 1) * width * side * side
        maps, side = double_conv(width, side)
        elements += maps
    return 4 * elements


def counted_bytes(model, channels: int, side: int) -> int:
    """Bytes of the storages autograd saves in a forward pass of ``model`` on a batch of one
    tile of ``side`` px, weights left out (two tiles run, for batch norm's statistics; their
    half). A model on the ``meta`` device is counted too: storages are told apart by their
    C++ object (``_cdata``), as a meta storage has no data pointer."""
    storages: dict[int, int] = {}
    kept = []  # the saved tensors alive until counted, so that no storage id is reused

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        storages.setdefault(storage._cdata, storage.nbytes())
        kept.append(t)
        return t

    device = next(model.parameters()).device
    x = torch.zeros(2, channels, side, side, device=device)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    weights = {p.untyped_storage()._cdata for p in model.parameters()}
    return sum(n for ptr, n in storages.items() if ptr not in weights) // 2


def parameter_count(config: dict) -> int:
    """The weights of the net ``config`` describes (built once on the ``meta`` device)."""
    return _parameters(tuple(sorted(config.items())))


@functools.lru_cache(maxsize=16)
def _parameters(items: tuple) -> int:
    from unetlab.models import model_from_config

    with torch.device("meta"):
        return sum(p.numel() for p in model_from_config(dict(items)).parameters())


def step_bytes(
    model, tile: int, batch: int, *, amp: str = "fp32", optimizer: str = "adamw"
) -> float:
    """Estimated peak bytes of one training step (forward, backward, optimiser step) of
    ``model`` (a net, or its architecture dict) on ``batch`` tiles of ``tile`` px:
    ``STEP_FACTOR[amp] x batch x saved_bytes(tile) + parameters x 4 x (2 + states) +
    STEP_OVERHEAD[amp]`` (weights, gradients and the optimiser's state in fp32). ``amp``:
    ``"fp32"`` or ``"bf16"`` (autocast; fp16 takes as much)."""
    config = model if isinstance(model, dict) else asdict(model.config)
    weights = parameter_count(config) * 4 * (2 + OPTIMIZER_STATES.get(optimizer, 2))
    return STEP_FACTOR[amp] * batch * saved_bytes(config, tile) + weights + STEP_OVERHEAD[amp]
