"""CPU time to read a QuPath export (File > Export objects, GeoJSON) of N detections and the
one annotation they were found in (a region, passed over): ``read_outlines`` as a data set's
masks folder reads it, the JSON parse included. Each detection is a 16-corner nucleus of
about 9 px radius on a grid; the region is a rectangle around them all. CPU seconds
(process time, so the other processes sharing the CPU count less), best of ``--repeats``.

    PYTHONPATH=src python3 bench/bench_qupath_read.py [--detections 98000] [--repeats 3]
    PYTHONPATH=src python3 bench/bench_qupath_read.py --profile   # cProfile's top 15 too
"""

from __future__ import annotations

import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np

from unetlab.cli.parser import Parser
from unetlab.data.annotations import read_outlines
from unetlab.data.read_notes import read_notes


def export(n: int) -> dict:
    """A FeatureCollection of ``n`` detections (16 corners each, closed) on a 24 px grid and
    one annotation around them all, as QuPath 0.4 writes them."""
    side = int(np.ceil(np.sqrt(n)))
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    nucleus = np.stack([9 * np.cos(angles), 9 * np.sin(angles)], axis=1).round(2)
    features = []
    for i in range(n):
        ring = nucleus + (24 * (i % side) + 12, 24 * (i // side) + 12)
        corners = [*ring.tolist(), ring[0].tolist()]
        features.append(_feature("detection", corners))
    edge = 24 * side
    region = [[0, 0], [edge, 0], [edge, edge], [0, edge], [0, 0]]
    return {"type": "FeatureCollection", "features": [_feature("annotation", region), *features]}


def _feature(kind: str, ring: list) -> dict:
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return {"type": "Feature", "geometry": geometry, "properties": {"objectType": kind}}


def timed(path: Path) -> tuple[float, int]:
    """CPU seconds to read ``path`` and the outlines read."""
    started = time.process_time()
    with read_notes():
        outlines = read_outlines(path)
    return time.process_time() - started, len(outlines)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--detections", type=int, default=98_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.geojson"
        path.write_text(json.dumps(export(args.detections)))
        runs = [timed(path) for _ in range(args.repeats)]
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(timed, path)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(15)
    seconds, read = min(runs)
    print(json.dumps({"detections": args.detections, "read": read, "cpu_s_best": seconds}))


if __name__ == "__main__":
    main()
