"""Time widening a streamed slide's staged provisional object ids from uint32 to uint64
(``unetlab.inference.slide_objects.widened``: done once, where a page's ids pass 2**32 - 1),
on a staged page of which only the first rows are written, as when it happens mid-page.

    python bench/slide_widen.py                          # 8,192^2 page, 1,024 rows written
    python bench/slide_widen.py --side 16384 --rows 512
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from unetlab.data import ome
from unetlab.inference import slide_objects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--side", type=int, default=8192, help="the page's side, px")
    parser.add_argument("--rows", type=int, default=1024, help="its rows written (from 0)")
    args = parser.parse_args()
    side, rows = args.side, args.rows
    with tempfile.TemporaryDirectory() as folder:
        stage = Path(folder) / "ids"
        spec = ome.OutputSpec((1, side, side), "zyx", np.dtype(np.uint32))
        narrow = ome.create(stage, spec)
        ids = np.arange(rows * side, dtype=np.uint32).reshape(rows, side)
        narrow[0, :rows] = ids
        start = time.perf_counter()
        wide = slide_objects.widened(stage, narrow, replace(spec, dtype=np.uint64), (0, rows))
        seconds = time.perf_counter() - start
        if not np.array_equal(np.asarray(wide[0, :rows]), ids):
            raise SystemExit("the widened ids differ from those staged")
    print(f"{side} x {side} page, {rows} rows written: widened in {seconds:.2f} s")


if __name__ == "__main__":
    main()
