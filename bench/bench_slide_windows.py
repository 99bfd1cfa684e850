"""Time and traced peak of :func:`~unetlab.inference.slide_objects.first_places` on one
window of a streamed slide's provisional ids (512 x 4096 px, 2**21: ``pieces``' size), as
a slide's publishing reads it window by window: ids below 2**20 (counted by bincount) and
past it (sorted, as on most of a large slide), read from a uint32 and a uint64 staging
(the copy stands for the read). Stop 53: the window's index int64 -> int32 (value_ids,
first_pixels) and the staging uint32 unless a page's real ids pass it.

Run against a tree (before / after a change) with its src first on the path:
``PYTHONPATH=src python3 bench/bench_slide_windows.py``. Least of ``--repeat`` times; the
peak is tracemalloc's over one call (numpy's buffers included).
"""

from __future__ import annotations

import numpy as np

from bench_large_ids import measure as timed_peak  # least time, traced peak
from unetlab.cli.parser import Parser
from unetlab.inference.slide_objects import first_places

ROWS, COLS = 512, 4096


def window(base: int, dtype) -> np.ndarray:
    """Blobs of 8 x 8 px, a third of them background, ids from ``base`` up."""
    rng = np.random.default_rng(0)
    blobs = rng.integers(0, 40_000, (ROWS // 8, COLS // 8)).repeat(8, 0).repeat(8, 1)
    return np.where(blobs % 3 == 0, 0, blobs + base).astype(dtype)


def measure(ids: np.ndarray, repeat: int) -> tuple[float, int]:
    def call():
        return first_places(ids.copy(), slice(0, ROWS), slice(0, COLS), 2 * COLS)

    call()  # warm
    return timed_peak(call, repeat)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, base in (("ids below 2**20", 1), ("ids past 2**20", 3_000_000_000)):
        for dtype in (np.uint32, np.uint64):
            seconds, peak = measure(window(base, dtype), args.repeat)
            label = f"{name}, {np.dtype(dtype).name} staging"
            print(f"{label:32s} {seconds * 1e3:8.1f} ms {peak / 2**20:8.1f} MiB")


if __name__ == "__main__":
    main()
