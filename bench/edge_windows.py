"""Does drawing training windows past the image edge (``data.edge_windows``) help the pixels
near the edge? Short trainings with the option off and on, the same seed and steps, scored
on held-out images overall and on a border band (pixels within ``--band`` px of the edge).
``--preset small-valid`` trains a valid-padding net instead of the same-padding ``small``.

    OMP_NUM_THREADS=2 python bench/edge_windows.py --task em --seeds 0 1 [--epochs 24]
    OMP_NUM_THREADS=2 python bench/edge_windows.py --task em --preset small-valid --tile 140
    OMP_NUM_THREADS=2 python bench/edge_windows.py --task kromp --epochs 6 \\
        --data ../shared/data/kromp2020_nuclei

``em``: the EM demo's synthetic images (256 px, 24 train / 4 val / 8 test; the demo's
recipe, small preset, AdamW, CE + Dice, at 96 px tiles of batch 4, 144 steps), two classes,
mIoU. ``kromp``: Kromp 2020 nuclei (``DATA/train`` trained in the instance mode,
``DATA/test`` scored, 1024 x 1280 mostly) at the same recipe with 128 px tiles, 160 steps
(``--epochs 6``: 96); scored as foreground (boundary + interior) against background:
foreground IoU and the mIoU of the two. Validation runs once, at the last epoch; there is no
time cap, so both arms train the same steps; the model scored is the last (``last.pt``). Each run's figures go to ``--out`` (JSON lines, appended;
default ``bench/results/edge_windows.jsonl``); the work folder (runs, data) is ``--work``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from unetlab.checkpoint import load_model
from unetlab.cli.parser import Parser
from unetlab.config import load_config
from unetlab.data.io import read_image, read_mask
from unetlab.data.synthetic import write_synthetic_dataset, write_synthetic_split
from unetlab.inference.predict import labels_from_probabilities, predict_image
from unetlab.train import fit

HERE = Path(__file__).resolve().parent
RECIPE = {
    "em": dict(tile=96, tiles=48, batch=4, epochs=12),  # 144 steps
    "kromp": dict(tile=128, tiles=64, batch=4, epochs=10),  # 160 steps
}


def border_band(shape: tuple[int, int], band: int) -> np.ndarray:
    """(H, W) bool: the pixels within ``band`` px of the image's edge."""
    inner = np.zeros(shape, bool)
    inner[band : shape[0] - band, band : shape[1] - band] = True
    return ~inner


def pooled_iou(pairs: list[tuple[np.ndarray, np.ndarray]], classes: int) -> list[float]:
    """Per-class IoU pooled over (predicted, true) class-index arrays."""
    inter, union = np.zeros(classes), np.zeros(classes)
    for pred, true in pairs:
        for k in range(classes):
            p, t = pred == k, true == k
            inter[k] += np.sum(p & t)
            union[k] += np.sum(p | t)
    return [float(i / u) if u else float("nan") for i, u in zip(inter, union)]


def scores(pairs, band: int, classes: int) -> dict:
    """IoU per class and mIoU, overall and in the border band."""
    edge = [(p[border_band(p.shape, band)], t[border_band(t.shape, band)]) for p, t in pairs]
    out = {}
    for name, chosen in (("all", pairs), ("border", edge)):
        iou = pooled_iou(chosen, classes)
        out[name] = {"iou": [round(v, 4) for v in iou], "miou": round(float(np.mean(iou)), 4)}
    return out


def _overrides(task: str, root: Path, seed: int, edge: bool, args) -> list[str]:
    r, epochs = RECIPE[task], args.epochs
    common = [
        f"data.root={root}",
        f"model.preset={args.preset}",
        f"data.tile_size={args.tile or r['tile']}",
        f"data.tiles_per_epoch={r['tiles']}",
        f"data.edge_windows={str(edge).lower()}",
        "augment.contrast=0.2",
        "augment.brightness=0.2",
        f"train.epochs={epochs}",
        f"train.val_every={epochs}",
        f"train.batch_size={r['batch']}",
        "train.optimizer=adamw",
        "train.lr=0.003",
        "train.schedule=cosine",
        "train.loss=ce+dice",
        f"train.seed={seed}",
        "train.max_minutes=0",
        "train.device=cpu",
    ]
    if task == "em":
        return [*common, "data.label_values=[0, 255]", "data.class_names={0: membrane, 255: cell}"]
    return [*common, "data.target=instances", "data.val_fraction=0.1"]


#: the em task's synthetic data set: images a split, and their size (px)
EM_DATA = dict(n_train=24, n_val=4, n_test=8, size=256)


def _em_data(work: Path, seed: int) -> tuple[Path, Path]:
    """``WORK/em_data_SEED`` and its test folder, written once: into a fresh
    ``em_data_SEED.partial`` renamed into place when whole, so that a run killed part-way
    leaves no half data set that the rerun would take, or that write_synthetic_dataset
    (which replaces no file) would refuse; a killed run's leftovers (the partial folder, or
    the earlier bench's folder without its test/) are this bench's own and are written anew."""
    root = work / f"em_data_{seed}"
    if (root / "test").exists():
        return root, root / "test"
    partial = root.with_name(f"{root.name}.partial")
    for leftover in (partial, root):
        shutil.rmtree(leftover, ignore_errors=True)
    n, size = EM_DATA["n_test"], EM_DATA["size"]
    write_synthetic_dataset(
        partial, n_train=EM_DATA["n_train"], n_val=EM_DATA["n_val"], size=size, seed=seed
    )
    write_synthetic_split(partial / "test", n, size, np.random.default_rng(seed + 1000))
    partial.rename(root)
    return root, root / "test"


def _truth(task: str, path: Path) -> np.ndarray:
    mask = read_mask(path)
    return (mask != 0).astype(np.uint8) if task == "kromp" else (mask == 255).astype(np.uint8)


def _predicted(task: str, model, image: np.ndarray) -> np.ndarray:
    labels = labels_from_probabilities(predict_image(model, image, device="cpu"))
    if task == "kromp":
        return (labels != 0).astype(np.uint8)  # boundary or interior: a nucleus
    return (np.asarray(model.label_values)[labels] == 255).astype(np.uint8)


def run_one(task: str, root: Path, test: Path, seed: int, edge: bool, args) -> dict:
    cfg = load_config(None, _overrides(task, root, seed, edge, args))
    run_dir = args.work / f"{task}_{args.preset}_s{seed}_{'on' if edge else 'off'}"
    began = time.perf_counter()
    trained = fit(cfg, run_dir=run_dir, overwrite=True, progress=False)
    seconds = time.perf_counter() - began
    model = load_model(run_dir / "checkpoints" / "last.pt")
    pairs = []
    for path in sorted((test / "images").glob("*.png")):
        pairs.append(
            (_predicted(task, model, read_image(path)), _truth(task, test / "masks" / path.name))
        )
    row = {
        "task": task,
        "seed": seed,
        "preset": args.preset,
        "tile": args.tile or RECIPE[task]["tile"],
        "edge_windows": edge,
        "steps": trained["steps"],
        "train_seconds": round(seconds, 1),
        "test_images": len(pairs),
        "band_px": args.band,
        **scores(pairs, args.band, 2),
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=sorted(RECIPE), default="em")
    parser.add_argument(
        "--data", type=Path, default=HERE.parent.parent / "shared/data/kromp2020_nuclei"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--band", type=int, default=16)
    parser.add_argument("--preset", default="small", help="small (same padding) or small-valid")
    parser.add_argument("--tile", type=int, default=None, help="the net's input tile, px")
    parser.add_argument("--arms", choices=["off", "on"], nargs="+", default=["off", "on"])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "edge_windows.jsonl")
    args = parser.parse_args(argv)
    args.epochs = args.epochs or RECIPE[args.task]["epochs"]
    args.work = args.work or Path(tempfile.mkdtemp(prefix="edge_windows_"))
    for seed in args.seeds:
        if args.task == "em":
            root, test = _em_data(args.work, seed)
        else:
            root, test = args.data / "train", args.data / "test"
        for arm in args.arms:
            row = run_one(args.task, root, test, seed, arm == "on", args)
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
