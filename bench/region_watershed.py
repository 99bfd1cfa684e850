"""grow_seeds (the instance mode's watershed) on synthetic interior maps: seconds (best of
``--repeat``), traced numpy peak (tracemalloc, B a pixel) and a digest of the ids, for
comparing two versions of unetlab by their ``src`` (the digests equal where no tie moved).

    PYTHONPATH=OLD/src python bench/region_watershed.py [--kromp KROMP] [--cpu]
    PYTHONPATH=src python bench/region_watershed.py [--kromp KROMP] [--cpu]

``nuclei``: soft discs (radius 6, 6,000 on 2,048^2 px, many touching: thousands of small
regions); ``one region``: smoothed noise over 0.3 (1,024^2 px, one region across the
image, the worst case of its memory); ``pairs``: 8,192 clumps of two discs on a 32-px grid
of 2,048 x 4,096 px (every region holds two seeds: all of it flooded, and ranked, the
worst case of its time; the region-by-region flood of s59 made one ``watershed`` call a
region of it: 10x base on such clumps); ``clumps``: the same on a 12-px grid of 1,024 x 2,048
px (dense touching clumps); ``diagonal``: 512 diagonal stripes across 2,048^2 px, each several
seeds (every region spans the image's rows: one flood of the whole image); ``kromp``: the
Kromp 2020 test masks (``--kromp``, the kromp2020_nuclei folder) as soft interiors, their
seconds summed, the highest peak, one digest.
"""

from __future__ import annotations

import argparse
import hashlib
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy import ndimage

from unetlab.data.labels import grow_seeds


def nuclei(side: int, count: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(elevation, seeds, foreground) of ``count`` soft touching discs."""
    yy, xx = np.mgrid[:side, :side]
    near = np.full((side, side), np.inf)
    for cy, cx in rng.integers(0, side, (count, 2)):
        box = np.s_[max(cy - 8, 0) : cy + 9, max(cx - 8, 0) : cx + 9]
        near[box] = np.minimum(near[box], np.hypot(yy[box] - cy, xx[box] - cx))
    interior = ndimage.gaussian_filter((near <= 5).astype(np.float32), 1)
    interior += rng.uniform(0, 0.05, interior.shape).astype(np.float32)
    return -interior, interior >= 0.5, near <= 6.5


def one_region(side: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(elevation, seeds, foreground) of smoothed noise: one region across the image."""
    p = ndimage.gaussian_filter(rng.random((side, side)), 3)
    p = ((p - p.min()) / np.ptp(p)).astype(np.float32)
    return -p, p >= 0.6, p >= 0.3


def pairs(rows: int, width: int, step: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(elevation, seeds, foreground) of two touching discs in each ``step``-px cell."""
    yy, xx = np.mgrid[:rows, :width]
    cy, cx = (yy % step) - step // 2, (xx % step) - step // 2
    left = np.clip(1 - np.hypot(cy, cx + 5) / 6, 0, 1)
    interior = np.maximum(left, np.clip(1 - np.hypot(cy, cx - 5) / 6, 0, 1)).astype(np.float32)
    interior += rng.uniform(0, 0.01, interior.shape).astype(np.float32)
    return -interior, interior > 0.5, interior > 0.05


def diagonal(side: int, period: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(elevation, seeds, foreground) of stripes along x + y, ``period`` px apart, each a
    chain of seeds (interior brighter every 64 px along it)."""
    yy, xx = np.mgrid[:side, :side]
    across = 1 - np.abs((xx + yy) % period - (period - 1) / 2) / ((period - 1) / 2)
    along = 0.6 + 0.4 * np.cos(2 * np.pi * (xx - yy) / 64)
    interior = (across * along).astype(np.float32)
    interior += rng.uniform(0, 0.01, interior.shape).astype(np.float32)
    return -interior, interior > 0.6, across > 0.3


def kromp(folder: Path, rng) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(elevation, seeds, foreground) of each Kromp test mask: its objects' interiors
    (one-hot, smoothed, a little noise), seeds above 0.5, the objects' pixels."""
    from unetlab.data.instances import boundary_target
    from unetlab.data.io import read_mask

    maps = []
    for path in sorted((folder / "test" / "masks").iterdir()):
        ids = read_mask(path)
        inside = (boundary_target(ids, boundary_width=1) == 2).astype(np.float32)
        interior = ndimage.gaussian_filter(inside, 1)
        interior += rng.uniform(0, 0.05, interior.shape).astype(np.float32)
        maps.append((-interior, interior >= 0.5, ids > 0))
    return maps


def measure(images, repeat: int, clock=time.perf_counter) -> tuple[float, float, str]:
    """(least seconds of all ``images`` (elevation, seeds, foreground) by ``clock``, highest
    peak B/px, digest of all ids)."""
    seconds = []
    for _ in range(repeat):
        start = clock()
        ids = [grow_seeds(*maps, min_seed_area=4) for maps in images]
        seconds.append(clock() - start)
    peaks = []
    for maps in images:
        tracemalloc.start()
        grow_seeds(*maps, min_seed_area=4)
        peaks.append(tracemalloc.get_traced_memory()[1] / maps[0].size)
        tracemalloc.stop()
    digest = hashlib.sha256(b"".join(part.tobytes() for part in ids)).hexdigest()[:12]
    return min(seconds), max(peaks), digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kromp", type=Path, help="the kromp2020_nuclei folder (a case more)")
    parser.add_argument("--cpu", action="store_true", help="CPU seconds (steadier under load)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = {
        "nuclei": [nuclei(2048, 6000, rng)],
        "one region": [one_region(1024, rng)],
        "pairs": [pairs(2048, 4096, 32, rng)],
        "clumps": [pairs(1024, 2048, 12, rng)],
        "diagonal": [diagonal(2048, 8, rng)],
    }
    if args.kromp:
        cases["kromp"] = kromp(args.kromp, rng)
    print("| case | seconds | peak B/px | ids |\n|---|---|---|---|")
    for name, images in cases.items():
        clock = time.process_time if args.cpu else time.perf_counter
        seconds, peak, digest = measure(images, args.repeat, clock)
        print(f"| {name} | {seconds:.3f} | {peak:.1f} | {digest} |")


if __name__ == "__main__":
    main()
