"""A training setting on Kromp 2020 nuclei (made for the seam weights, ``data.seam_weight``, of
commit 898d7c5 only, below): train on a CPU-time budget, score the objects of the images the
run held out.

    OMP_NUM_THREADS=1 python bench/bench_kromp_seams.py --data KROMP --name base --seed 0 \\
        --cpu-minutes 6 --keep RUNS/base_s0
    OMP_NUM_THREADS=1 python bench/bench_kromp_seams.py --data KROMP --name seam5 --seed 0 \\
        --cpu-minutes 6 --keep RUNS/seam5_s0 --set data.seam_weight=5    # at 898d7c5
    OMP_NUM_THREADS=1 python bench/bench_kromp_seams.py --data KROMP --score RUNS/base_s0 \\
        --part test

``KROMP``: the kromp2020_nuclei folder (``train/`` and ``test/``, images/ + masks/). Training
is what ``unetlab train --data KROMP/train --minutes M`` plans (no config file: the instance
target, percentile normalisation, the label offset fit, ...), with ``train.seed`` = ``--seed``
(the train/validation split, ``data.seed``, stays 0, so every run holds out the same 8
images), on one thread, the budget read from the process's CPU time (as
``bench_isbi_recipe.py``: a loaded machine gives every run the same compute). The run's
``best.pt`` is then scored on its validation images (``--part val``, the default) or on
``KROMP/test`` (``--part test``; ``--score RUN`` scores a kept run without training) with the
objects ``predict --instances`` makes (the checkpoint's object options: seeded watershed,
distance split): object F1 at IoU 0.5 and PQ (pooled over images), DSB score (mean over
images), predicted / true objects and the count error, the mean over images of |count error|,
the median predicted / true area of matched objects, and merges and splits as
``kromp_split.py`` counts them. Appends one row to ``bench/results/kromp_seams.json``.

``data.seam_weight`` (the loss weight of the boundary pixels within ``boundary_width + 1`` px
of another object) was measured at commit 898d7c5 (the rows of that file: w 5 and 20 against
the baseline, seeds 0-2) and removed after, as it did not win; ``--set`` takes any other key
(session 39: ``data.boundary_width``, which ``--score`` records of a kept run).
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from kromp_split import merges_and_splits
from unetlab import load_model, predict_objects, read_image
from unetlab.bench import save_rows
from unetlab.cli.parser import Parser
from unetlab.config import explicit_keys, load_config
from unetlab.metrics.objects import object_scores, summarize_objects
from unetlab.plan import plan_training
from unetlab.train import fit

RESULTS = Path(__file__).resolve().parent / "results" / "kromp_seams.json"


def train(data: Path, run: Path, *, seed: int, cpu_minutes: float, overrides: list[str]) -> dict:
    """Train as ``unetlab train --data data/train --minutes cpu_minutes`` plans it, on CPU
    time; the plan's choices and the run's steps."""
    given = [
        f"data.root={data / 'train'}",
        f"train.max_minutes={cpu_minutes}",
        f"train.seed={seed}",
        "train.device=cpu",
        *overrides,
    ]
    cfg, plan = plan_training(load_config(None, given), explicit_keys(None, given))
    started, cpu = time.perf_counter(), time.process_time()
    result = fit(cfg, run_dir=run, progress=False, plan=plan, clock=time.process_time)
    return {
        "planned": {c.key: c.value for c in plan.choices if not c.user},
        "steps": result["steps"],
        "epochs": result["epochs"],
        "train_wall_s": round(time.perf_counter() - started, 1),
        "train_cpu_s": round(time.process_time() - cpu, 1),
        "best_val_miou": result.get("best_val_miou"),
    }


def pairs_of(run: Path, data: Path, part: str) -> list[tuple[Path, Path]]:
    """(image, mask) files: the run's validation images (its split.json) or KROMP/test."""
    if part == "val":
        split = json.loads((run / "split.json").read_text())
        return sorted(
            (data / "train" / v["image"], data / "train" / v["mask"]) for v in split["val"]
        )
    test = data / "test"
    return sorted((p, test / "masks" / p.name) for p in (test / "images").iterdir())


def score(run: Path, data: Path, part: str) -> dict:
    """The object figures of ``run``'s best.pt on ``part`` (see the module's docstring)."""
    model = load_model(run / "checkpoints" / "best.pt")
    per, images, merges, splits = [], {}, 0, 0
    for image_file, mask_file in pairs_of(run, data, part):
        ids, _ = predict_objects(model, read_image(image_file))
        truth = read_image(mask_file).astype(np.int64)
        s = object_scores(ids.astype(np.int64), truth)
        m, k = merges_and_splits(ids.astype(np.int64), truth)
        merges, splits = merges + m, splits + k
        per.append(s)
        images[image_file.stem] = {
            "pred": s["pred_objects"],
            "true": s["true_objects"],
            "f1": s["f1"],
            "dsb": s["dsb"],
            "area_ratio": s["area_ratio"],
        }
    total = summarize_objects(per)
    errors = [(r["pred"] - r["true"]) / r["true"] for r in images.values() if r["true"]]
    return {
        "part": part,
        "images_scored": len(images),
        "f1": total["object_f1"],
        "dsb": total["dsb"],
        "pq": total["pq"],
        "pred_objects": total["pred_objects"],
        "true_objects": total["objects"],
        "count_error": (total["pred_objects"] - total["objects"]) / total["objects"],
        "mean_abs_count_error": float(np.mean(np.abs(errors))),
        "area_ratio": total["area_ratio"],
        "merges": merges,
        "splits": splits,
        "images": images,
    }


def append_row(row: dict) -> None:
    """Add ``row`` to RESULTS under a lock (two runs may finish at once)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = json.loads(RESULTS.read_text())["rows"] if RESULTS.is_file() else []
        save_rows(RESULTS, [*rows, row])


def main() -> None:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="the kromp2020_nuclei folder")
    p.add_argument("--name", help="the row's name (training)")
    p.add_argument("--seed", type=int, default=0, help="train.seed")
    p.add_argument("--cpu-minutes", type=float, default=6.0)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--keep", type=Path, help="the run folder (training); must not exist")
    p.add_argument("--score", type=Path, help="score this kept run, no training")
    p.add_argument("--part", choices=("val", "test"), default="val")
    args = p.parse_args()
    torch.set_num_threads(1)
    row = {"command": shlex.join(["python", "bench/bench_kromp_seams.py", *sys.argv[1:]])}
    if args.score is None:
        if args.name is None or args.keep is None:
            p.error("training needs --name and --keep (or --score RUN to score a kept run)")
        row.update(name=args.name, seed=args.seed, overrides=args.overrides)
        row.update(cpu_minutes=args.cpu_minutes, threads=torch.get_num_threads())
        row.update(
            train(
                args.data,
                args.keep,
                seed=args.seed,
                cpu_minutes=args.cpu_minutes,
                overrides=args.overrides,
            )
        )
        run = args.keep
    else:
        run = args.score
        row.update(name=run.name, config=_run_keys(run))
    started = time.process_time()
    row.update(score(run, args.data, args.part), run=str(run), load=os.getloadavg()[0])
    row["score_cpu_s"] = round(time.process_time() - started, 1)
    print(json.dumps({k: v for k, v in row.items() if k != "images"}, indent=1))
    append_row(row)


def _run_keys(run: Path) -> dict:
    """The keys this bench varies, from a kept run's config.yaml."""
    cfg = load_config(run / "config.yaml")
    return {"train.seed": cfg.train.seed, "data.boundary_width": cfg.data.boundary_width}


if __name__ == "__main__":
    main()
