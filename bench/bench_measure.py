"""The per-object measurements of a streamed slide without the net: peak RSS and CPU seconds
of measuring H x W id maps of 14-px-cell discs (one object a cell, with an RGB image) in
``slide_objects.pieces``, the table and its CSV, as ``predict --instances`` does at the end
of a slide (``TableSums``, ``with_micrometres``, ``write_csv``).

    python bench/bench_measure.py [--sizes 2048x4096 4096x8192] [--out FILE]

Each size runs in its own process (its peak RSS is its own); prints one line a size and
writes bench/results/measure.json. Memory an extra object (between sizes: a size's peak
also holds the pieces' arrays) and CPU time an object are the figures to compare (the
machine's load does not change CPU seconds much).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CELL = 14  # px a side of each object's cell; the disc inside has radius 5 (~80 px)


def main() -> int:
    from unetlab.cli.parser import Parser

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["2048x4096", "4096x8192"])
    parser.add_argument("--out", type=Path, default=RESULTS / "measure.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*map(int, args.child.split("x")))))
        return 0
    from unetlab import bench

    rows = []
    for size in args.sizes:
        run = [sys.executable, __file__, "--child", size]
        row = json.loads(subprocess.run(run, check=True, capture_output=True, text=True).stdout)
        if rows:  # what an object adds, from the size before (the pieces' arrays cancel)
            more = (row["peak_mib_above_start"] - rows[-1]["peak_mib_above_start"]) * 2**20
            row["bytes_per_extra_object"] = round(more / (row["objects"] - rows[-1]["objects"]))
        print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
        rows.append(row)
    bench.save_rows(args.out, rows)
    return 0


def ids_piece(rows: slice, cols: slice, ny: int, nx: int) -> np.ndarray:
    """The ids of a window of the page: cell (cy, cx) holds object cy * nx + cx + 1."""
    y = np.arange(rows.start, rows.stop)[:, None]
    x = np.arange(cols.start, cols.stop)[None, :]
    cy, cx = y // CELL, x // CELL
    disc = (y % CELL - 6.5) ** 2 + (x % CELL - 6.5) ** 2 <= 25
    return np.where(disc & (cy < ny) & (cx < nx), cy * nx + cx + 1, 0).astype(np.int64)


def measure(height: int, width: int) -> dict:
    from unetlab.data.io import write_csv
    from unetlab.inference.measure import TableSums, with_micrometres
    from unetlab.inference.slide_objects import pieces

    ny, nx = height // CELL, width // CELL
    rng = np.random.default_rng(0)
    start_rss, start_cpu = _peak_mib(), time.process_time()
    sums = TableSums(ny * nx)
    for rows, cols in pieces(height, width):
        ids = ids_piece(rows, cols, ny, nx)
        image = rng.integers(0, 255, (*ids.shape, 3), dtype=np.uint8)
        sums.add(rows.start, ids, image, cols.start)
    table = sums.table(height=height, width=width)
    with tempfile.TemporaryDirectory() as folder:
        write_csv(Path(folder) / "objects.csv", with_micrometres(table, (0.5, 0.5)))
    cpu, peak = time.process_time() - start_cpu, _peak_mib() - start_rss
    objects = len(table["id"])
    return {
        "what": "measure + csv",
        "size": f"{width}x{height}",
        "objects": objects,
        "peak_mib_above_start": peak,
        "bytes_per_object": round(peak * 2**20 / objects),
        "cpu_seconds": round(cpu, 2),
        "us_per_object": round(cpu / objects * 1e6, 1),
    }


def _peak_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


if __name__ == "__main__":
    sys.exit(main())
