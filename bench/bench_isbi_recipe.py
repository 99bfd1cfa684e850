"""ISBI 2012 recipe search on a CPU budget: train on slices 00-19, score on 20-24.

Slices 25-29 are never read here (they are the issue's test slices). Each run trains with a
budget of CPU time (``--cpu-minutes``: the clock-driven schedule reads the process's CPU
time, so a machine shared with other jobs gives every setting the same compute; run it with
OMP_NUM_THREADS=1) and is scored on the validation slices 20-24 with the challenge's
measures, at the argmax and at the best threshold (0.0 .. 1.0), with and without TTA.
``--plan`` first applies the plan that ``unetlab train`` derives from the data. Rows are
appended to ``bench/results/isbi_recipe.json``; ``--keep DIR`` keeps the run (``DIR/run``)
and its split (``DIR/data``, links to the slices).

    OMP_NUM_THREADS=1 python bench/bench_isbi_recipe.py --name base --cpu-minutes 3 \\
        --config configs/small_cpu.yaml --set augment.elastic=true
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from unetlab.bench import save_rows
from unetlab.checkpoint import load_model
from unetlab.cli.parser import Parser
from unetlab.config import explicit_keys, load_config
from unetlab.evaluate import evaluate_model
from unetlab.metrics.isbi import CHALLENGE_THRESHOLDS
from unetlab.plan import plan_training
from unetlab.train import fit

ISBI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "isbi2012" / "train"
TRAIN, VAL = range(0, 20), range(20, 25)  # 25-29: the held-out test slices, not used here
RESULTS = Path(__file__).resolve().parent / "results" / "isbi_recipe.json"


def split_folder(root: Path) -> Path:
    """``root`` with train/ (slices 00-19) and val/ (20-24) of links to the ISBI files."""
    for part, slices in (("train", TRAIN), ("val", VAL)):
        for kind in ("images", "masks"):
            folder = root / part / kind
            folder.mkdir(parents=True, exist_ok=True)
            for i in slices:
                link = folder / f"{i:02d}.png"
                if not link.exists():
                    os.symlink((ISBI / kind / f"{i:02d}.png").resolve(), link)
    return root


def score(checkpoint: Path, data: Path, *, tta: bool) -> dict:
    model = load_model(checkpoint, device=torch.device("cpu"))
    report = evaluate_model(model, data, tta=tta, thresholds=CHALLENGE_THRESHOLDS, worst=0)
    s, t = report.summary, report.threshold
    return {
        "rand_error": s["rand_error"],
        "pixel_error": s["pixel_error"],
        "membrane_iou": s["iou"][0],
        "best_threshold_rand_error": t["rand_error"],
        "best_threshold_pixel_error": t["pixel_error"],
        "best_threshold_challenge_pixel_error": t["challenge_pixel_error"],
    }


def main() -> None:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True)
    p.add_argument("--cpu-minutes", type=float, default=3.0)
    p.add_argument("--plan", action="store_true", help="apply the data-derived plan first")
    p.add_argument("--config")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--keep", help="copy the run folder here (e.g. for isbi_membrane_iou.py)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="isbi_recipe_") as tmp:
        data = split_folder(Path(tmp) / "data")
        overrides = [
            *args.overrides,
            f"data.root={data}",
            f"train.max_minutes={args.cpu_minutes}",
            "train.epochs=100000",
            "train.patience=0",
            "train.device=cpu",
        ]
        cfg = load_config(args.config, overrides)
        planned = {}
        if args.plan:
            cfg, plan = plan_training(cfg, explicit_keys(args.config, overrides))
            planned = {c.key: c.value for c in plan.choices if not c.user}
        started, cpu = time.perf_counter(), time.process_time()
        result = fit(cfg, run_dir=Path(tmp) / "run", progress=False, clock=time.process_time)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        row = {
            "name": args.name,
            "config": args.config,
            "overrides": args.overrides,
            "planned": planned,
            "cpu_minutes": args.cpu_minutes,
            "steps": result["steps"],
            "epochs": result["epochs"],
            "train_wall_s": round(seconds, 1),
            "train_cpu_s": round(cpu, 1),
            "threads": torch.get_num_threads(),
            "load": os.getloadavg()[0],
            "command": shlex.join(["python", "bench/bench_isbi_recipe.py", *sys.argv[1:]]),
        }
        try:
            for tta in (False, True):
                figures = score(Path(result["best_checkpoint"]), data, tta=tta)
                row.update({f"{k}{'_tta' if tta else ''}": v for k, v in figures.items()})
        except BaseException:  # keep the trained run: the temporary folder goes with the error
            kept = Path(tempfile.mkdtemp(prefix=f"isbi_recipe_{args.name}_"))
            shutil.copytree(Path(tmp) / "run", kept / "run")
            print(f"scoring failed; the run is kept in {kept / 'run'}", file=sys.stderr)
            raise
        if args.keep:  # with its data folder of links, which isbi_membrane_iou.py reads
            shutil.copytree(Path(tmp), args.keep, symlinks=True)
    rows = json.loads(RESULTS.read_text())["rows"] if RESULTS.is_file() else []
    print(json.dumps(row, indent=1))
    save_rows(RESULTS, [*rows, row])


if __name__ == "__main__":
    main()
