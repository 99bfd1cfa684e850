"""CPU seconds of ``split_by_distance`` (the distance split ``predict --instances`` runs on
every object) against the object-by-object original kept in tests/test_split_fast.py, on
2048 x 2048 id maps of Kromp 2020 nuclei: the test mask otherspecimen_6 (1024 x 1024, 969
nuclei) tiled 2 x 2 (mirrored, ids made unique) as it is, and with its touching pairs merged
into one id each (objects to split), the latter also with an interior probability that weighs
the distance (``interior=``: 0 on each true nucleus's outline to 1 at 3 px inside, so it dips
along the merged seams).

    OMP_NUM_THREADS=1 python bench/bench_split.py [--repeats 3] [--out FILE]

Prints one line an input and writes bench/results/split.json; also checks that both give
the same ids, pixel for pixel. Needs ../shared/data/kromp2020_nuclei beside the repository.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MASK = (
    ROOT.parent / "shared" / "data" / "kromp2020_nuclei" / "test" / "masks" / "otherspecimen_6.png"
)


def main() -> int:
    from unetlab.cli.parser import Parser

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (the least counts)")
    parser.add_argument("--out", type=Path, default=RESULTS / "split.json")
    args = parser.parse_args()
    if not MASK.is_file():
        print(f"{MASK} not found: the Kromp 2020 data lives in ../shared beside the repository")
        return 1
    from unetlab.data.io import read_image
    from unetlab.inference.objects import split_by_distance

    tests = _module(ROOT / "tests" / "test_split_fast.py")
    tiled = _tiled(read_image(MASK).astype(np.int64))
    rows = []
    interior = tests.truth_interior(tiled)
    merged = tests.merged_pairs(tiled)
    for name, ids, weight in [
        ("kromp", tiled, None),
        ("kromp, touching pairs merged", merged, None),
        ("kromp, touching pairs merged, interior weight", merged, interior),
    ]:
        reference = functools.partial(tests.reference_split, interior=weight)
        before, old = _least(reference, ids, args.repeats)
        after, new = _least(
            functools.partial(split_by_distance, interior=weight), ids, args.repeats
        )
        row = dict(
            input=name,
            shape=list(ids.shape),
            objects=int(len(np.unique(ids)) - 1),
            pieces=int(new.max()),
            before_cpu_s=round(before, 3),
            after_cpu_s=round(after, 3),
            speedup=round(before / after, 2),
            identical=bool(np.array_equal(old, new)),
        )
        print(json.dumps(row))
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(command=" ".join(sys.argv), rows=rows), indent=1) + "\n")
    return 0 if all(row["identical"] for row in rows) else 1


def _tiled(mask: np.ndarray) -> np.ndarray:
    """The mask 2 x 2, mirrored, each copy's ids after the previous copy's."""
    n = int(mask.max())

    def copy(k: int) -> np.ndarray:
        return np.where(mask > 0, mask + k * n, 0)

    return np.block([[copy(0), copy(1)[:, ::-1]], [copy(2)[::-1], copy(3)[::-1, ::-1]]])


def _least(split, ids: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    """The least CPU seconds of ``repeats`` runs of ``split(ids)``, and its result."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        out = split(ids)
        times.append(time.process_time() - start)
    return min(times), out


def _module(path: Path):
    """The module at ``path`` (the reference lives beside its test)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    sys.exit(main())
