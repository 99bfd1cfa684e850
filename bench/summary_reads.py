"""The per-folder summary's cost on a plate of wells: time and header reads of
:func:`unetlab.inference.objects_summary.folder_summary` over N one-page 256 x 256 uint16
TIFFs with an objects table each (the focus and the image size read each well's header;
s55: once, was twice). Writes the wells under a temporary folder; prints one line.

    PYTHONPATH=src python3 bench/summary_reads.py            # 300 wells, best of 5
    PYTHONPATH=src python3 bench/summary_reads.py --wells 50
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage

import unetlab.data.io as io
from unetlab.inference.objects_summary import folder_summary

TABLE = "id,area,bbox_top,bbox_left,bbox_bottom,bbox_right\n1,10,0,0,256,256\n"


def _plate(folder: Path, wells: int) -> list[Path]:
    """``wells`` TIFFs of 40 blurred dots each in ``folder``, their tables in ``out``."""
    rng = np.random.default_rng(0)
    (folder / "out").mkdir()
    for k in range(wells):
        image = np.zeros((256, 256))
        ys, xs = rng.integers(8, 248, (2, 40))
        image[ys, xs] = 1
        pixels = rng.poisson(ndimage.gaussian_filter(image, 2) * 3e5 + 200).astype(np.uint16)
        tifffile.imwrite(folder / f"w{k:03}.tif", pixels)
        (folder / "out" / f"w{k:03}_objects.csv").write_text(TABLE)
    return sorted(folder.glob("*.tif"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--wells", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = _plate(Path(tmp), args.wells)
        read, calls = io.stack_shape, [0]

        def counted(*a, **k):
            calls[0] += 1
            return read(*a, **k)

        io.stack_shape = counted
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            folder_summary(Path(tmp) / "out", files, written=files)
            times.append(time.perf_counter() - start)
    print(
        f"folder_summary of {args.wells} wells: best of {args.repeats} "
        f"{min(times) * 1e3:.0f} ms; header reads a run {calls[0] // args.repeats}"
    )


if __name__ == "__main__":
    main()
