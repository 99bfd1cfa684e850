"""A wide band window's objects with and without one region across its width: traced numpy
peak (tracemalloc, MB and B a pixel), seconds (untraced, best of two) and a digest of the
ids. A region as wide as the window widens every column block's window to the whole width,
so the window is found whole (:mod:`unetlab.inference.column_objects`).

    PYTHONPATH=src python bench/spanning_window.py [--rows 394 --width 16384]

Synthetic instance probabilities: soft discs (one per 400 px), and with ``span`` a 6-row
stripe across the width touching some of them.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import time
import tracemalloc

import numpy as np
from scipy import ndimage

from unetlab.data.instances import boundary_target
from unetlab.inference import objects
from unetlab.inference.objects import ObjectOptions, SplitMemo

OPTIONS = ObjectOptions(mode="instances", min_area=8)


def window(rows: int, width: int, span: bool) -> np.ndarray:
    """(3, rows, width) float32 probabilities of touching discs (and a stripe)."""
    rng = np.random.default_rng(0)
    ids = np.zeros((rows, width), np.int32)
    yy, xx = np.mgrid[-6:7, -6:7]
    disc = yy**2 + xx**2 <= 30
    for k, (y, x) in enumerate(rng.integers(0, (rows, width), (rows * width // 400, 2)), 1):
        box = np.s_[max(y - 6, 0) : y + 7, max(x - 6, 0) : x + 7]
        ids[box][disc[: ids[box].shape[0], : ids[box].shape[1]]] = k
    if span:
        ids[rows // 2 - 3 : rows // 2 + 3] = ids.max() + 1
    target = boundary_target(ids, boundary_width=1)
    p = ndimage.gaussian_filter(
        (np.arange(3)[:, None, None] == target).astype(np.float32), (0, 1, 1)
    )
    p += rng.uniform(0, 0.05, p.shape).astype(np.float32)
    return (p / p.sum(0)).astype(np.float32)


def found(p: np.ndarray) -> np.ndarray:
    """The window's ids as a band's (:func:`objects._window_objects`; before s59 it made
    the foreground itself)."""
    memo = SplitMemo()
    memo.top = 0
    how = [p, OPTIONS, None, (True, True), memo]
    if "foreground" in inspect.signature(objects._window_objects).parameters:
        how.append(objects.grown_over(p, OPTIONS))
    return objects._window_objects(*how)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--rows", type=int, default=394)
    parser.add_argument("--width", type=int, default=16384)
    args = parser.parse_args()
    print("| window | traced peak | seconds | ids |\n|---|---|---|---|")
    for span in (False, True):
        p = window(args.rows, args.width, span)
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            ids = found(p)
            seconds.append(time.perf_counter() - start)
        tracemalloc.start()
        found(p)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        name = "a region across it" if span else "discs only"
        digest = hashlib.sha256(ids.tobytes()).hexdigest()[:12]
        print(
            f"| {name} | {peak / 1e6:.0f} MB, {peak / ids.size:.1f} B/px | {min(seconds):.2f} | {digest} |"
        )


if __name__ == "__main__":
    main()
