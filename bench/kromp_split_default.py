"""Should instance prediction split merged nuclei by default? (session 45)

Kromp nuclei, models trained on train/ only, the splits chosen on a held-out validation
subset of train/ (8 of its 39 images, drawn with ``random.Random(S)`` from the sorted
names; seeds S = 0 and 1 draw two splits, each model trained on its own), scored with
``unetlab evaluate`` for each object option: none (the distance split alone, today's
default), ``--split-necks``, ``--split-interior`` and both. Figures: bench/README.md,
session 45; rows: bench/results/kromp_split_default.jsonl.

    # 1. the fixed split, as symlinks (no data is copied)
    python bench/kromp_split_default.py split --data ../shared/data/kromp2020_nuclei \\
        --seed S --out /tmp/splitdef/kromp_sS
    # 2. one 6-minute model a seed, on train/ only (val/ is the validation)
    unetlab train --data /tmp/splitdef/kromp_sS --config configs/nuclei.yaml --minutes 6 \\
        --set train.seed=S --run-dir /tmp/splitdef/runs/sS
    # 3. every option on the validation images (--data DIR/val), one JSON line each
    python bench/kromp_split_default.py score --run /tmp/splitdef/runs/sS \\
        --data /tmp/splitdef/kromp_sS --part val --tag seedS >> bench/results/kromp_split_default.jsonl

    # 4. single objects a shape split cuts (no net): the true objects of each set
    python bench/kromp_split_default.py truth --kromp ../shared/data/kromp2020_nuclei/train \\
        --isbi ../shared/data/isbi2012/train >> bench/results/kromp_split_default.jsonl

    # 5. the nuclei demo's model on its own held-out images (data/val, data/test)
    unetlab demo --task nuclei --minutes 4 --output /tmp/splitdef/demo
    python bench/kromp_split_default.py score --run /tmp/splitdef/demo/run \\
        --data /tmp/splitdef/demo/data --part val --tag demo

``--part test`` scores ../shared/data/kromp2020_nuclei's test/ (give that folder as --data)
once the choice is made; ``--options`` narrows the options (none necks interior both).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from unetlab.data.synthetic import synthetic_nuclei
from unetlab.inference.necks import split_necks
from unetlab.inference.objects import split_by_distance

OPTIONS = {
    "none": [],
    "necks": ["--split-necks"],
    "interior": ["--split-interior"],
    "both": ["--split-necks", "--split-interior"],
}
VAL_IMAGES = 8
SYNTHETIC = {"images": 8, "size": 512, "seed": 0}  # the nuclei demo's generator


def make_split(data: Path, out: Path, seed: int = 0) -> list[str]:
    """``out/train`` and ``out/val`` (images/ + masks/) as symlinks into ``data/train``:
    :data:`VAL_IMAGES` images drawn by ``random.Random(seed)`` from the sorted names."""
    src = data / "train"
    names = sorted(p.name for p in (src / "images").iterdir())
    val = set(random.Random(seed).sample(names, VAL_IMAGES))
    for name in names:
        part = "val" if name in val else "train"
        for sub in ("images", "masks"):
            (out / part / sub).mkdir(parents=True, exist_ok=True)
            (out / part / sub / name).symlink_to((src / sub / name).resolve())
    return sorted(val)


def figures(report: dict) -> dict:
    """The object figures of an ``unetlab evaluate --json`` report."""
    s = report  # evaluate --json: the summary figures at the top level
    ap50 = next(row for row in s["matching"] if abs(row["threshold"] - 0.5) < 1e-9)
    keys = ("object_f1", "dsb", "pq", "objects", "pred_objects")
    out = {k: s[k] for k in keys}
    out["count_error"] = (s["pred_objects"] - s["objects"]) / s["objects"]
    out["ap50"] = ap50["accuracy"]
    errors = [abs(r["count_error"]) for r in report["images"] if r.get("objects")]
    out["mean_abs_count_error"] = sum(errors) / len(errors)
    return out


def score(run: Path, data: Path, option: str, keep: Path | None = None) -> dict:
    """``unetlab evaluate`` of ``run``'s best checkpoint on ``data`` with ``option`` (its
    JSON report kept in ``keep`` as ``OPTION.json`` when given; one kept there is read
    back, not made again)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = (keep or Path(tmp)) / f"{option}.json"
        if path.exists():
            return {
                "option": option,
                "flags": " ".join(OPTIONS[option]),
                **figures(json.loads(path.read_text())),
            }
        command = [
            sys.executable,
            "-m",
            "unetlab",
            "evaluate",
            "--checkpoint",
            str(run / "checkpoints" / "best.pt"),
            "--data",
            str(data),
            "--json",
            str(path),
            "--no-progress",
            *OPTIONS[option],
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ))
        report = json.loads(path.read_text())
    return {"option": option, "flags": " ".join(OPTIONS[option]), **figures(report)}


def truth_cuts(masks: list[np.ndarray]) -> dict:
    """How many of the true objects in ``masks`` (ids; each a single object) the default
    distance split and then ``split_necks`` cut, with ``predict``'s least area (1/4 of the
    5th percentile of the objects' areas)."""
    areas = np.concatenate([np.bincount(m.ravel())[1:] for m in masks])
    least = max(1, int(round(0.25 * np.percentile(areas[areas > 0], 5))))
    total, by_distance, by_necks = 0, 0, 0
    for ids in masks:
        n = len(np.unique(ids)) - 1
        parted = split_by_distance(ids)
        total += n
        by_distance += len(np.unique(parted)) - 1 - n
        by_necks += len(np.unique(split_necks(parted, least))) - 1 - (len(np.unique(parted)) - 1)
    return {
        "objects": total,
        "least_area": least,
        "cut_by_distance": by_distance,
        "extra_pieces_by_necks": by_necks,
    }


def truth_sets(kromp: Path, isbi: Path) -> dict[str, list[np.ndarray]]:
    """The true objects of Kromp's ``kromp/masks``, ISBI's cells (the 4-connected regions
    of ``isbi/masks`` value 255) and :data:`SYNTHETIC` demo nuclei."""
    read = lambda p: np.asarray(Image.open(p))  # noqa: E731
    rng = np.random.default_rng(SYNTHETIC["seed"])
    return {
        "kromp": [read(p).astype(np.int64) for p in sorted((kromp / "masks").iterdir())],
        "isbi_cells": [
            ndimage.label(read(p) == 255)[0] for p in sorted((isbi / "masks").iterdir())
        ],
        "synthetic_nuclei": [
            synthetic_nuclei(SYNTHETIC["size"], rng)[1].astype(np.int64)
            for _ in range(SYNTHETIC["images"])
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="what", required=True)
    split = sub.add_parser(
        "split", help="make the fixed train/val split as symlinks", allow_abbrev=False
    )
    split.add_argument("--data", type=Path, required=True)
    split.add_argument("--out", type=Path, required=True)
    split.add_argument("--seed", type=int, default=0)
    scored = sub.add_parser("score", help="score each object option of a run", allow_abbrev=False)
    scored.add_argument("--run", type=Path, required=True)
    scored.add_argument("--data", type=Path, required=True)
    scored.add_argument("--part", choices=("val", "test"), default="val")
    scored.add_argument("--tag", default="")
    scored.add_argument("--keep", type=Path, help="folder for each evaluate JSON report")
    scored.add_argument("--options", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    truth = sub.add_parser(
        "truth", help="single true objects the shape splits cut", allow_abbrev=False
    )
    truth.add_argument("--kromp", type=Path, required=True)
    truth.add_argument("--isbi", type=Path, required=True)
    args = parser.parse_args()
    if args.what == "truth":
        for name, masks in truth_sets(args.kromp, args.isbi).items():
            print(json.dumps({"tag": "truth", "set": name, **truth_cuts(masks)}))
        return
    if args.what == "split":
        print("validation images:", " ".join(make_split(args.data, args.out, args.seed)))
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    for option in args.options:
        row = score(args.run, args.data / args.part, option, args.keep)
        print(json.dumps({"tag": args.tag, "part": args.part, "run": str(args.run), **row}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
