"""The objects stage of a crowded page, read whole against streamed in bands, without the net.

    OMP_NUM_THREADS=1 python bench/bench_object_bands.py [--size 2000] [--density 0.5]
        [--interior] [--out FILE]

Probabilities as a net gives them (one-hot, blurred, a little noise) of the synthetic nuclei
(``unetlab.data.synthetic.synthetic_nuclei``, seed 0; clusters of touching nuclei), with
each nucleus's touching pair merged into one (objects the distance split cuts). The objects
of an instance model with the distance split (``--interior``: weighed by the interior) are
found from the whole map (``objects_from_probabilities``) and in bands as a streamed slide
finds them (``objects_in_bands`` with ``SlideObjects``' band rows and margins, 64-row
blocks). Prints, for each, the CPU seconds, the objects split (``_split_one`` calls) and an
md5 of the ids numbered 1..n in their order (as a streamed slide publishes them); writes
bench/results/object_bands.json. Run it under another checkout's ``PYTHONPATH=src`` to
compare code: the md5s must agree.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from unetlab.cli.parser import Parser
from unetlab.data.instances import boundary_target
from unetlab.data.synthetic import synthetic_nuclei
from unetlab.inference import objects
from unetlab.inference.objects import ObjectOptions, compact, default_min_area
from unetlab.inference.slide_objects import band_rows, widest_margin

RESULTS = Path(__file__).resolve().parent / "results"


def crowded(size: int, density: float) -> tuple[np.ndarray, dict]:
    """(3, size, size) float32 probabilities and the object record a checkpoint keeps."""
    _, ids = synthetic_nuclei(size, np.random.default_rng(0), density=density)
    ids = merged_pairs(ids.astype(np.int64))
    areas = np.bincount(ids.ravel())[1:]
    areas = areas[areas > 0]
    record = dict(
        target="instances",
        count=int(areas.size),
        area_p05=float(np.percentile(areas, 5)),
        area_p95=float(np.percentile(areas, 95)),
    )
    target = boundary_target(ids, boundary_width=1)
    p = ndimage.gaussian_filter(
        (np.arange(3)[:, None, None] == target).astype(np.float32), (0, 1, 1)
    )
    p += np.random.default_rng(0).uniform(0, 0.05, p.shape)
    return (p / p.sum(0)).astype(np.float32), record


def merged_pairs(ids: np.ndarray) -> np.ndarray:
    """Touching pairs of objects given one id (each object in one pair at most)."""
    a = np.concatenate([ids[1:].ravel(), ids[:, 1:].ravel()])
    b = np.concatenate([ids[:-1].ravel(), ids[:, :-1].ravel()])
    touching = (a > 0) & (b > 0) & (a != b)
    pairs = np.unique(np.sort(np.stack([a[touching], b[touching]], 1), 1), axis=0)
    lut, used = np.arange(int(ids.max()) + 1), set()
    for i, j in pairs.tolist():
        if i not in used and j not in used:
            used |= {i, j}
            lut[j] = i
    return lut[ids]


def run(probabilities: np.ndarray, options: ObjectOptions, record: dict, streamed: bool):
    """(ids, CPU seconds, objects split): the objects of the whole map or of its bands."""
    split, calls = objects._split_one, []
    objects._split_one = lambda *a: calls.append(1) or split(*a)
    tick = time.process_time()
    try:
        if not streamed:
            return objects.objects_from_probabilities(probabilities, options), tick, calls
        h, w = probabilities.shape[1:]
        margin = options.margin(record)
        blocks = ((y, probabilities[:, y : y + 64]) for y in range(0, h, 64))
        how = dict(height=h, options=options, margin=margin, band_rows=band_rows(margin))
        parts = objects.objects_in_bands(blocks, **how, max_margin=widest_margin(margin, w))
        return np.concatenate([ids for _, ids in parts]), tick, calls
    finally:
        objects._split_one = split


def main() -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--density", type=float, default=0.5)
    parser.add_argument("--interior", action="store_true", help="split_interior")
    parser.add_argument("--out", type=Path, default=RESULTS / "object_bands.json")
    args = parser.parse_args()
    probabilities, record = crowded(args.size, args.density)
    area = default_min_area(record)
    options = ObjectOptions(
        mode="instances",
        min_area=area,
        min_seed_area=max(1, int(objects.SEED_AREA_FRACTION * area)),
        distance_split=True,
        split_interior=args.interior,
    )
    rows = []
    for streamed in (False, True):
        ids, tick, calls = run(probabilities, options, record, streamed)
        seconds = time.process_time() - tick
        numbered = compact(ids).astype(np.int64)  # 1..n in the order of the ids
        row = dict(
            input=f"synthetic nuclei {args.size}^2, density {args.density}, pairs merged",
            interior=args.interior,
            path="streamed" if streamed else "whole",
            objects=int(numbered.max()),
            cpu_s=round(seconds, 2),
            split=len(calls),
            md5=hashlib.md5(numbered.tobytes()).hexdigest(),
        )
        print(json.dumps(row), flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(command=" ".join(sys.argv), rows=rows), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
