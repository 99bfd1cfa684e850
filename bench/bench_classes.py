"""Class-weighted cross entropy against plain cross entropy on many imbalanced classes.

    OMP_NUM_THREADS=1 python bench/bench_classes.py [--steps 400] [--seeds 0 1] [--size 128]

Writes a synthetic street-scene set in VOC layout (unetlab.data.scenes: sky, road, building,
vegetation and the rare pole, sign, person at 0.1-1 % of the pixels), then trains the default
"small" net on it twice per seed for the same number of steps (the same compute; wall time on
a shared machine varies too much to be the yardstick): ``train.class_weights=none`` (every
pixel alike) and the default ``auto`` (median-frequency weights here). Both are scored on the
validation images with the last checkpoint: per-class IoU, mIoU and the mean IoU of the three
rare classes. Prints a table and writes bench/results/classes.json.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np
import torch

from unetlab import bench
from unetlab.checkpoint import load_model
from unetlab.config import load_config
from unetlab.data.scenes import SCENE_CLASSES, write_voc_scenes
from unetlab.losses import build_loss
from unetlab.train import fit, prepare_data, validate

RESULTS = Path(__file__).resolve().parent / "results"
RARE = ("pole", "sign", "person")


STEPS_PER_EPOCH = 8  # 32 tiles of batch 4


def run(root: Path, workdir: Path, weights: str, seed: int, steps: int, tile: int) -> dict:
    epochs = max(1, steps // STEPS_PER_EPOCH)
    overrides = [f"data.root={root}", f"train.class_weights={weights}", f"train.seed={seed}",
                 f"train.epochs={epochs}", "train.schedule=cosine",
                 f"data.tile_size={tile}", "data.tiles_per_epoch=32", "train.batch_size=4",
                 "train.val_every=1000000", "train.device=cpu"]  # fmt: skip
    cfg = load_config(None, overrides)
    result = fit(cfg, run_dir=workdir / f"{weights}_{seed}", overwrite=True, progress=False)
    model = load_model(result["last_checkpoint"])
    data = prepare_data(cfg)
    scores = validate(model, data.val, build_loss("ce"), device=torch.device("cpu"))
    iou = dict(zip(model.classes, scores["iou"]))
    return {
        "class_weights": weights,
        "seed": seed,
        "steps": result["steps"],
        "minutes": round(result["seconds"] / 60, 2),
        "miou": round(scores["miou"], 4),
        "rare_miou": round(float(np.mean([iou[c] for c in RARE])), 4),
        **{f"iou_{c}": round(iou[c], 4) for c in SCENE_CLASSES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps per run")
    parser.add_argument("--size", type=int, default=128, help="scene side (px)")
    parser.add_argument("--tile", type=int, default=96, help="training tile (px)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--workdir", default="/tmp/unetlab_classes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(args.workdir)
    root = write_voc_scenes(workdir / "scenes", n_train=24, n_val=8, size=args.size, seed=0)
    print(f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    columns = ["class_weights", "seed", "steps", "minutes", "miou", "rare_miou",
               *[f"iou_{c}" for c in SCENE_CLASSES]]  # fmt: skip
    for seed in args.seeds:
        for weights in ("none", "auto"):
            rows.append(run(root, workdir, weights, seed, args.steps, args.tile))
            print(bench.table(rows[-1:], columns), flush=True)
    print()
    print(bench.table(rows, columns))
    bench.save_rows(RESULTS / "classes.json", rows)


if __name__ == "__main__":
    main()
