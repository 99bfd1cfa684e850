"""How often training start opens each TIFF, and how long it takes to prepare the data.

Makes data sets of image TIFFs (2-channel uint16 CYX, or 2-D uint8) beside 2-D uint8 TIFF
masks in a temporary folder, then per set: the ``tifffile.TiffFile`` opens of
``prepare_data`` (images and masks apart, and by the unetlab functions that opened them),
and its wall and process CPU time (the median of ``--runs``; each run in this process, the
set's files in the page cache after the first); and the opens of the whole command
``unetlab train --data SET --check`` (the plan's look at the data, then training's load)
and its whole reads of a file's pixels, its wall and CPU time (one run, the files in the page cache), and a digest of what it
prepares and plans (the loaded arrays, the normalisation, the fingerprint, the plan's
choices and notes): the same before and after a change that only reads less.
Prints a table; writes nothing else.

    PYTHONPATH=src python3 bench/training_opens.py                  # 20 pairs of 32 px
    PYTHONPATH=src python3 bench/training_opens.py --pairs 200 --side 256 --runs 3
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import statistics
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import tifffile

import unetlab.plan
import unetlab.train.run
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
    """(opens by folder, opens by the chain of unetlab functions, whole reads of the pixels
    by folder) of one ``prepare_data``, or with ``check`` of one ``unetlab train --data ROOT
    --check``."""
    by_folder, by_caller, reads = (collections.Counter() for _ in range(3))
    original = tifffile.TiffFile

    class Counting(original):
        def __init__(self, path, *args, **kwargs):
            by_folder[Path(path).parent.name] += 1
            ours = [f.name for f in traceback.extract_stack()[:-1] if "/unetlab/" in f.filename]
            by_caller[" < ".join(reversed(ours[-4:]))] += 1
            super().__init__(path, *args, **kwargs)

        def asarray(self, *args, **kwargs):  # a series' too
            reads[Path(self.filehandle.path).parent.name] += 1
            return super().asarray(*args, **kwargs)

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
    return by_folder, by_caller, reads


def checked(root: Path) -> tuple[float, float, str]:
    """(wall, CPU) seconds of one ``unetlab train --data ROOT --check`` and a digest of the
    data it prepares and the plan it makes."""
    digest, prepare, plan_training = hashlib.sha256(), unetlab.train.run.prepare_data, None

    def prepared(*args, **kwargs):
        data = prepare(*args, **kwargs)
        for s in data.train + data.val:
            for a in (s.image, s.mask, s.weight):
                digest.update(b"-" if a is None else np.ascontiguousarray(a).tobytes())
        digest.update(repr(sorted(data.normalization.items())).encode())
        return data

    def planned(*args, **kwargs):
        cfg, plan = plan_training(*args, **kwargs)
        choices = [(c.key, c.value) for c in plan.choices]  # lines: the memory free now
        digest.update(repr((plan.fingerprint, choices, plan.notes)).encode())
        return cfg, plan

    plan_training, unetlab.plan.plan_training = unetlab.plan.plan_training, planned
    unetlab.train.run.prepare_data = prepared
    run = ["--run-dir", str(root / "run"), "--no-progress", "--device", "cpu"]
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            assert unetlab_main(["train", "--data", str(root), "--check", *run]) == 0
    finally:
        unetlab.plan.plan_training, unetlab.train.run.prepare_data = plan_training, prepare
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, digest.hexdigest()[:12]


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
    check = f"{'--check image opens':>19} {'mask opens':>10} {'image reads':>11} {'mask reads':>10}"
    check += f" {'wall s':>7} {'CPU s':>6} digest"
    print(f"{'images':<6} {head} {check}")
    callers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("cyx", "grey"):
            root = make_set(Path(tmp) / kind, kind, args.pairs, args.side)
            folders, callers[kind], _ = counted_opens(root)
            checks, _, reads = counted_opens(root, check=True)
            wall, cpu = timed(root, args.runs)
            row = f"{folders['images']:>11} {folders['masks']:>10} {wall:>7.2f} {cpu:>6.2f}"
            c_wall, c_cpu, digest = checked(root)
            c_row = f"{checks['images']:>19} {checks['masks']:>10} {reads['images']:>11}"
            c_row += f" {reads['masks']:>10} {c_wall:>7.2f} {c_cpu:>6.2f}"
            print(f"{kind:<6} {row} {c_row} {digest}")
    for kind, by in callers.items():
        print(f"\n{kind}: opens by caller")
        for chain, n in by.most_common():
            print(f"  {n:5d}  {chain}")


if __name__ == "__main__":
    main()
