"""Soft edges: whether a mask's values between its least and greatest lie on ramps.

A blurred, resized or JPEG-saved 2-class mask (0/255) holds values between the two
classes only in thin bands where one class meets the other, and they rise across the band:
such a pixel has a 4-neighbour of a lower value and one of a higher value. Object ids form
flat regions instead: a pixel of an id has neighbours of its own id, a lower one only on the
object's rim (the background) and a higher one as well only where it meets an object of a
higher id. :func:`ramp_pixels` counts both kinds of pixel; pixel shares alone cannot tell
the two apart (ids with a large last object; thin membranes blurred to half their pixels).
"""

from __future__ import annotations

import numpy as np

#: ramps are counted on at most this many rows (evenly spaced), to bound the time
RAMP_ROWS = 256


def ramp_pixels(mask: np.ndarray) -> tuple[int, int]:
    """(between, ramp) of an (H, W) ``mask``: its pixels off the edge of a value strictly
    between its least and greatest value, and those of them with a 4-neighbour lower and one
    higher (on :data:`RAMP_ROWS` evenly spaced rows where the mask has more)."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or min(mask.shape) < 3:
        return 0, 0
    low, high = mask.min(), mask.max()
    rows = np.arange(1, mask.shape[0] - 1)
    if len(rows) > RAMP_ROWS:
        rows = rows[:: len(rows) // RAMP_ROWS + 1]
    up, v, down = (mask[rows + d] for d in (-1, 0, 1))
    mid = v[:, 1:-1]
    between = (mid > low) & (mid < high)
    if not between.any():
        return 0, 0
    near = (up[:, 1:-1], down[:, 1:-1], v[:, :-2], v[:, 2:])
    lower = np.minimum(np.minimum(near[0], near[1]), np.minimum(near[2], near[3])) < mid
    higher = np.maximum(np.maximum(near[0], near[1]), np.maximum(near[2], near[3])) > mid
    ramp = between & lower & higher
    return int(between.sum()), int(ramp.sum())
