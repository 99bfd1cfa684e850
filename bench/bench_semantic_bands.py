"""The streamed objects step of a semantic model on a slide of many small regions.

    OMP_NUM_THREADS=1 python bench/bench_semantic_bands.py [SIZE ...]

A synthetic low-level H&E map (stroma, gland, nuclei in thousands of small regions within a
disc, glass around it as one gland object touching them all: the H&E audit's case) is fed to
:class:`~unetlab.inference.semantic_bands.SemanticBands` in 64-row blocks; times the final
search (holes, least sizes, numbering) and checks it against the image read whole.
The per-(hole, object) search this replaced took 25 s at 384 px; one search takes well under
a second. Writes bench/results/semantic_bands.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from unetlab.cli.parser import Parser
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
from unetlab.inference.semantic_bands import SemanticBands

RESULTS = Path(__file__).resolve().parent / "results"


def tissue(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = ndimage.gaussian_filter(rng.random((3, size, size)), (0, 1, 1)).argmax(0)
    y, x = np.mgrid[:size, :size] - size / 2
    labels[np.hypot(y, x) > 0.4 * size] = 1
    return labels


def run(size: int) -> dict:
    probabilities = np.eye(3, dtype=np.float32)[tissue(size)].transpose(2, 0, 1)
    options = ObjectOptions(class_min_areas=(15, 1, 17))
    bands = SemanticBands(options, size, size)
    ids = np.concatenate([bands.add(y, probabilities[:, y : y + 64]) for y in range(0, size, 64)])
    start = time.perf_counter()
    keys, values = bands.lookup()
    seconds = time.perf_counter() - start
    whole = objects_from_probabilities(probabilities, options)
    same = bool(np.array_equal(values[np.searchsorted(keys, ids)], whole))
    return {"size": size, "regions": int(bands.count), "lookup_s": round(seconds, 3), "same": same}


def main(sizes: list[int]) -> None:
    rows = [run(size) for size in sizes]
    for row in rows:
        print(row)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "semantic_bands.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[384, 1024], help="slide side, px")
    main(parser.parse_args().sizes)
