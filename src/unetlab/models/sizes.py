"""Size arithmetic of a U-Net: which inputs work, what comes out, how much border is lost.

A valid-padding U-Net (the paper's) loses 2 px per side in every 3x3 convolution and needs
every 2x2 max pool to see an even size. Depth ``d`` means ``d`` levels and ``d - 1`` pools.
For the paper net (d=5) output = input - 184, the border lost per side is 92 px and the
valid inputs step by 16 from 188 (188, 204, ..., 572, 588, ...).

A same-padding U-Net keeps the size; its input must be divisible by 2**(d - 1).

These are pure functions on integers; ``UNet`` exposes them as methods.
"""

from __future__ import annotations

from unetlab.errors import UnetlabError

CONVS_PER_LEVEL = 2
KERNEL = 3


def _loss_per_level(padding: str) -> int:
    if padding == "valid":
        return CONVS_PER_LEVEL * (KERNEL - 1)
    if padding == "same":
        return 0
    raise UnetlabError(f"padding must be 'valid' or 'same', not {padding!r}")


def size_multiple(depth: int) -> int:
    """Shift/size granularity of the pooling grid: 2**(depth - 1) (16 for the paper net)."""
    return 2 ** (depth - 1)


def _trace(size: int, depth: int, padding: str) -> int | None:
    """Output size for one axis, or None when some pool sees an odd size or a map vanishes."""
    loss = _loss_per_level(padding)
    for _ in range(depth - 1):
        size -= loss
        if size <= 0 or size % 2:
            return None
        size //= 2
    size -= loss
    if size <= 0:
        return None
    for _ in range(depth - 1):
        size = size * 2 - loss
        if size <= 0:
            return None
    return size


def is_valid_size(size: int, depth: int, padding: str) -> bool:
    """True when a ``size`` px axis passes through the net without a fractional pool."""
    return size >= 1 and _trace(size, depth, padding) is not None


def min_input_size(depth: int, padding: str) -> int:
    """Smallest input that works (188 for the paper net, 16 for a depth-5 same net)."""
    if padding == "same":
        _loss_per_level(padding)
        return size_multiple(depth)
    # Work back from the smallest bottom map (1 px after its two convs).
    loss = _loss_per_level(padding)
    size = 1 + loss
    for _ in range(depth - 1):
        size = size * 2 + loss
    # The decoder must also keep a positive size; step up the grid until it does.
    while _trace(size, depth, padding) is None:
        size += size_multiple(depth)
    return size


def output_size(size: int, depth: int, padding: str) -> int:
    """Output size for an input of ``size`` px on one axis; ValueError names good sizes."""
    out = _trace(size, depth, padding) if size >= 1 else None
    if out is None:
        lower, upper = nearest_valid_sizes(size, depth, padding)
        hint = f"try {lower} or {upper}" if lower is not None else f"try {upper}"
        raise UnetlabError(f"{size} is not a valid input size for this net: {hint}")
    return out


def nearest_valid_sizes(size: int, depth: int, padding: str) -> tuple[int | None, int]:
    """The closest valid input sizes at or below and above ``size`` (below may be None)."""
    first = min_input_size(depth, padding)
    step = size_multiple(depth)
    if size < first:
        return None, first
    lower = first + (size - first) // step * step
    return lower, lower + step


def valid_input_sizes(near: int, depth: int, padding: str, count: int = 5) -> list[int]:
    """``count`` valid input sizes centred on ``near`` (ascending)."""
    first = min_input_size(depth, padding)
    step = size_multiple(depth)
    k = max(0, round((near - first) / step))
    start = max(0, k - count // 2)
    return [first + (start + i) * step for i in range(count)]


def border(depth: int, padding: str) -> int:
    """Pixels lost per side (92 for the paper net, 0 for same padding)."""
    first = min_input_size(depth, padding)
    return (first - output_size(first, depth, padding)) // 2


def receptive_field(depth: int, padding: str) -> int:
    """Width of the input window one output pixel depends on (185 for the paper net).

    For a valid net this is input - output + 1. For a same net the window is the same
    but clipped by zero padding near the borders.
    """
    _loss_per_level(padding)
    # The same net sees the same window as the valid one, only zero-padded at the edges.
    first = min_input_size(depth, "valid")
    return first - output_size(first, depth, "valid") + 1
