"""Class-weighted cross entropy against plain cross entropy on many imbalanced classes.

    OMP_NUM_THREADS=1 python bench/bench_classes.py [--steps 400] [--seeds 0 1] [--size 128]
        [--weights none auto] [--losses ce focal]

Writes a synthetic street-scene set in VOC layout (unetlab.data.scenes: sky, road, building,
vegetation and the rare pole, sign, person at 0.1-1 % of the pixels), then trains the default
"small" net on it twice per seed for the same number of steps (the same compute; wall time on
a shared machine varies too much to be the yardstick): ``train.class_weights=none`` (every
pixel alike) and the default ``auto`` (median-frequency weights here). The last checkpoint of
each is scored on 48 held-out test scenes (a separate seeded set; the 8 validation images hold
too few signs and people to rank the runs): per-class IoU, mIoU and the mean IoU of the three
rare classes (``rare_miou``; ``val_rare_miou`` on the 8 validation images). ``--reuse`` scores
runs already in ``--workdir`` instead of training them again. Prints a table and writes
bench/results/classes.json.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from unetlab import bench
from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli.parser import Parser
from unetlab.config import load_config
from unetlab.data.scenes import SCENE_CLASSES, write_voc_scenes
from unetlab.losses import build_loss
from unetlab.train import fit, prepare_data, validate

RESULTS = Path(__file__).resolve().parent / "results"
RARE = ("pole", "sign", "person")


STEPS_PER_EPOCH = 8  # 32 tiles of batch 4


def run(root: Path, test: list, workdir: Path, weights: str, seed: int, args, loss="ce") -> dict:
    epochs = max(1, args.steps // STEPS_PER_EPOCH)
    overrides = [
        f"data.root={root}",
        f"train.loss={loss}",
        f"train.class_weights={weights}",
        f"train.seed={seed}",
        f"train.epochs={epochs}",
        "train.schedule=cosine",
        f"data.tile_size={args.tile}",
        "data.tiles_per_epoch=32",
        "train.batch_size=4",
        "train.val_every=1000000",
        "train.device=cpu",
    ]
    cfg = load_config(None, overrides)
    run_dir = workdir / (f"{weights}_{seed}" if loss == "ce" else f"{loss}_{weights}_{seed}")
    last = run_dir / "checkpoints" / "last.pt"
    if args.reuse and last.is_file():
        state = load_checkpoint(last)["train_state"]
        minutes = None
    else:
        result = fit(cfg, run_dir=run_dir, overwrite=True, progress=False)
        state, minutes = {"step": result["steps"]}, round(result["seconds"] / 60, 2)
    model = load_model(last)
    val = _scores(model, prepare_data(cfg).val)
    scores = _scores(model, test)
    return {
        "loss": loss,
        "class_weights": weights,
        "seed": seed,
        "steps": state["step"],
        "minutes": minutes,
        "miou": round(scores["miou"], 4),
        "rare_miou": scores["rare_miou"],
        "val_rare_miou": val["rare_miou"],
        **{f"iou_{c}": round(scores["iou"][i], 4) for i, c in enumerate(SCENE_CLASSES)},
    }


def _scores(model, samples) -> dict:
    scores = validate(model, samples, build_loss("ce"), device=torch.device("cpu"))
    iou = dict(zip(model.classes, scores["iou"]))
    return {**scores, "rare_miou": round(float(np.mean([iou[c] for c in RARE])), 4)}


def _test_samples(workdir: Path, size: int) -> list:
    """48 held-out scenes (their own seed), loaded as training loads its data."""
    root = write_voc_scenes(workdir / "test", n_train=48, n_val=0, size=size, seed=1)
    labels = list(range(len(SCENE_CLASSES)))
    cfg = load_config(
        None,
        [
            f"data.root={root}",
            f"data.label_values={labels}",
            "data.ignore_value=255",
            "data.val_fraction=0",
        ],
    )
    return prepare_data(cfg).train


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps per run")
    parser.add_argument("--size", type=int, default=128, help="scene side (px)")
    parser.add_argument("--tile", type=int, default=96, help="training tile (px)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--workdir", default="/tmp/unetlab_classes")
    parser.add_argument("--reuse", action="store_true", help="score runs already trained")
    parser.add_argument(
        "--weights",
        nargs="+",
        default=["none", "auto"],
        help="train.class_weights choices to compare (default: none auto)",
    )
    parser.add_argument(
        "--losses", nargs="+", default=["ce"], help="train.loss choices to compare (default: ce)"
    )
    parser.add_argument("--json", default="classes.json", help="file under bench/results/")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    workdir = Path(args.workdir)
    root = write_voc_scenes(workdir / "scenes", n_train=24, n_val=8, size=args.size, seed=0)
    test = _test_samples(workdir, args.size)
    print(f"threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    columns = [
        "loss",
        "class_weights",
        "seed",
        "steps",
        "minutes",
        "miou",
        "rare_miou",
        "val_rare_miou",
        *[f"iou_{c}" for c in SCENE_CLASSES],
    ]
    for seed in args.seeds:
        for loss in args.losses:
            for weights in args.weights:
                rows.append(run(root, test, workdir, weights, seed, args, loss))
            print(bench.table(rows[-1:], columns), flush=True)
    print()
    print(bench.table(rows, columns))
    bench.save_rows(RESULTS / args.json, rows)


if __name__ == "__main__":
    main()
