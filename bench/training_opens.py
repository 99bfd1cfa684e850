"""How often training start opens each TIFF, and how long it takes to prepare the data.

Makes data sets of image TIFFs (2-channel uint16 CYX, or 2-D uint8) beside 2-D uint8 TIFF
masks in a temporary folder, then per set: the ``tifffile.TiffFile`` opens of
``prepare_data`` (images and masks apart, and by the unetlab functions that opened them),
and its wall and process CPU time (the median of ``--runs``; each run in this process, the
set's files in the page cache after the first); and the opens of the whole command
``unetlab train --data SET --check`` (the plan's look at the data, then training's load).
Prints a table; writes nothing else.

    PYTHONPATH=src python3 bench/training_opens.py                  # 20 pairs of 32 px
    PYTHONPATH=src python3 bench/training_opens.py --pairs 200 --side 256 --runs 3
"""

from __future__ import annotations

import collections
import contextlib
import io
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import tifffile

from unetlab.cli import main as unetlab_main
from unetlab.cli.parser import Parser
from unetlab.config import load_config
from unetlab.train.setup import prepare_data


def make_set(root: Path, kind: str, pairs: int, side: int) -> Path:
    """``pairs`` image/mask TIFF pairs of ``kind`` ("cyx" or "grey") under ``root``."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    mask = np.zeros((side, side), np.uint8)
    mask[side // 8 : side // 2, side // 8 : side // 2] = 1
    mask[side // 2 + 2 :, side // 2 + 2 :] = 1
    for i in range(pairs):
        image = root / "images" / f"i{i:03d}.tif"
        if kind == "cyx":
            cyx = rng.integers(0, 9000, (2, side, side), np.uint16)
            tifffile.imwrite(image, cyx, photometric="minisblack", metadata={"axes": "CYX"})
        else:
            tifffile.imwrite(image, rng.integers(0, 255, (side, side), np.uint8))
        tifffile.imwrite(root / "masks" / image.name, mask)
    return root


def counted_opens(root: Path, check: bool = False) -> tuple[collections.Counter, ...]:
    """(opens by folder, opens by the chain of unetlab functions) of one ``prepare_data``,
    or with ``check`` of one ``unetlab train --data ROOT --check``."""
    by_folder, by_caller = collections.Counter(), collections.Counter()
    original = tifffile.TiffFile

    class Counting(original):
        def __init__(self, path, *args, **kwargs):
            by_folder[Path(path).parent.name] += 1
            ours = [f.name for f in traceback.extract_stack()[:-1] if "/unetlab/" in f.filename]
            by_caller[" < ".join(reversed(ours[-4:]))] += 1
            super().__init__(path, *args, **kwargs)

    tifffile.TiffFile = Counting
    try:
        if check:
            run = ["--run-dir", str(root / "run"), "--no-progress", "--device", "cpu"]
            with contextlib.redirect_stderr(io.StringIO()):  # its lines: not this table's
                assert unetlab_main(["train", "--data", str(root), "--check", *run]) == 0
        else:
            prepare_data(load_config(None, [f"data.root={root}"]))
    finally:
        tifffile.TiffFile = original
    return by_folder, by_caller


def timed(root: Path, runs: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``runs`` ``prepare_data`` of ``root``."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        prepare_data(load_config(None, [f"data.root={root}"]))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--side", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.pairs} pairs of {args.side} px, median of {args.runs} run(s)")
    head = f"{'image opens':>11} {'mask opens':>10} {'wall s':>7} {'CPU s':>6}"
    print(f"{'images':<6} {head} {'--check image opens':>19} {'mask opens':>10}")
    callers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("cyx", "grey"):
            root = make_set(Path(tmp) / kind, kind, args.pairs, args.side)
            folders, callers[kind] = counted_opens(root)
            checked, _ = counted_opens(root, check=True)
            wall, cpu = timed(root, args.runs)
            row = f"{folders['images']:>11} {folders['masks']:>10} {wall:>7.2f} {cpu:>6.2f}"
            print(f"{kind:<6} {row} {checked['images']:>19} {checked['masks']:>10}")
    for kind, by in callers.items():
        print(f"\n{kind}: opens by caller")
        for chain, n in by.most_common():
            print(f"  {n:5d}  {chain}")


if __name__ == "__main__":
    main()
