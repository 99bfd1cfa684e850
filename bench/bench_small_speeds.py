"""Times of three small pieces that once had timed unit tests (moved here: the suite asserts
what is right, bench/ how fast): the Rand error of a 512 x 512 pair of 300 ids each (through the
contingency table; pairwise loops would take hours), and the synthetic EM and nuclei generators
at 256 px (which the demo and many tests call).

    PYTHONPATH=src python3 bench/bench_small_speeds.py [--repeats 5]
"""

from __future__ import annotations

import json
import time

import numpy as np

from unetlab.cli.parser import Parser
from unetlab.data.synthetic import synthetic_em, synthetic_nuclei
from unetlab.metrics.isbi import rand_error


def best_seconds(work, repeats: int) -> float:
    """The least time of ``repeats`` calls of ``work`` after one warm-up call."""
    work()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    gt, pred = rng.integers(0, 300, (2, 512, 512))
    figures = {
        "rand_error_512_s": best_seconds(lambda: rand_error(pred, gt), args.repeats),
        "synthetic_em_256_s": best_seconds(lambda: synthetic_em(256, rng), args.repeats),
        "synthetic_nuclei_256_s": best_seconds(lambda: synthetic_nuclei(256, rng), args.repeats),
    }
    print(json.dumps({name: round(value, 4) for name, value in figures.items()}))


if __name__ == "__main__":
    main()
