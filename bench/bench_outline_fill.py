"""Time to fill a large traced outline (an object of thousands of vertices over a ~1000 px box,
as ``predict --outlines`` writes and Fiji reads back) as a mask: the scanline fill of
``unetlab.data.annotations.rasterise``. The s42 README walk met a RoiSet of 15 such outlines that
took 102 s to read with the former vertex-by-pixel test (3.0-6.5 s for this one outline, load 5);
the scanline fill takes a fraction of a second.

    PYTHONPATH=src python3 bench/bench_outline_fill.py [--repeats 5]
"""

from __future__ import annotations

import json
import time

import numpy as np
from scipy import ndimage

from unetlab.cli.parser import Parser
from unetlab.data.annotations import Outline, rasterise
from unetlab.inference.outlines import object_polygons


def wavy_object() -> tuple[np.ndarray, Outline]:
    """One large object with a wavy border (900 x 1000 px) and its traced outline."""
    yy, xx = np.mgrid[:900, :1000]
    wavy = ((yy - 450) / 420) ** 2 + ((xx - 500) / 480) ** 2 + 0.3 * np.sin(xx / 2) * np.cos(yy / 2)
    pieces, _ = ndimage.label(wavy < 1)
    ids = (pieces == np.argmax(np.bincount(pieces.ravel())[1:]) + 1).astype(np.uint16)
    (rings,) = object_polygons(ids)[1]
    return ids, Outline("wavy", tuple(np.asarray(r, float) for r in rings))


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ids, outline = wavy_object()
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        back = rasterise([outline], ids.shape, "wavy")
        times.append(time.perf_counter() - started)
    same = bool(np.array_equal(back > 0, ids > 0))
    vertices = sum(len(r) for r in outline.rings)
    print(json.dumps({"vertices": vertices, "seconds_best": min(times), "same_pixels": same}))


if __name__ == "__main__":
    main()
