"""K-fold cross-validation: ``k`` runs of one config into ``run_dir/fold_1..k``, each
validating on another ``1/k`` of the images (:func:`unetlab.data.folds.fold_pairs`, drawn
from ``data.seed``) through ``fit``'s ``split=``; ``folds.csv`` and a line with each fold's
figures and their mean ± sd."""

from __future__ import annotations

import csv
import logging
import math
import os
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.config import Config
from unetlab.data.folds import all_pairs, fold_pairs
from unetlab.data.split_record import describe_pairs, split_record
from unetlab.metrics.spread import described, spread
from unetlab.train.fitting import fit

log = logging.getLogger(__name__)

FOLDS_FILE = "folds.csv"
#: folds.csv's columns
COLUMNS = (
    "fold",
    "run_dir",
    "train_images",
    "val_images",
    "validated_on",
    "epochs",
    "steps",
    "best_epoch",
    "best_val_miou",
    "last_val_miou",
    "last_val_mdice",
)


def fit_folds(cfg: Config, k: int, *, run_dir: str | os.PathLike, **fitting) -> dict:
    """Train ``cfg`` ``k`` times into ``run_dir/fold_1`` .. ``fold_k``, fold ``i`` validating
    on the ``i``-th ``1/k`` of the images of ``cfg.data.root`` (every image exactly once; a
    ``train/`` + ``val/`` split pooled) and training on the rest; ``fitting``: ``fit``'s other
    keywords (``progress``, ``overwrite``, ``plan``). A time budget (``train.max_minutes``)
    is each fold's. Writes ``run_dir/folds.csv``; returns ``{"folds": rows, "mean": ...}``
    (:func:`fold_summary`)."""
    run_dir = Path(run_dir)
    pairs = all_pairs(cfg.data.root)
    splits = fold_pairs(pairs, k, seed=cfg.data.seed)
    budget = cfg.train.max_minutes
    each = f", each for {budget:g} min (the budget is per fold: {k * budget:g} min in all)"
    log.info(
        "cross-validation: %d folds of the %d images of %s (shuffled by data.seed %d), each "
        "image validated once%s",
        *(k, len(pairs), cfg.data.root, cfg.data.seed),
        each if budget > 0 else "",
    )
    if budget > 0:
        log.warning(
            "on the clock the folds buy different numbers of steps (the machine's load, the "
            "first fold's start-up): their figures then compare runs of different lengths; "
            "--epochs N trains every fold alike (folds.csv lists each fold's steps)"
        )
    rows = []
    for i, (train, val) in enumerate(splits, 1):
        log.info("fold %d/%d: validating on %s", i, k, describe_pairs(val))
        record = split_record(cfg.data.root, train, val)
        result = fit(cfg, run_dir=run_dir / f"fold_{i}", split=record, **fitting)
        rows.append(_row(i, run_dir / f"fold_{i}", train, val, result))
        write_folds(run_dir / FOLDS_FILE, rows)  # after each fold: a stopped run keeps them
    summary = fold_summary(rows)
    if not logging.getLogger().handlers:  # a notebook's or script's log; the CLI prints it
        log.info("%s; %s", describe_folds(summary), run_dir / FOLDS_FILE)
    return summary


def _row(i: int, folder: Path, train: list, val: list, result: dict) -> dict:
    last = result.get("val") or {}
    return {
        "fold": i,
        "run_dir": str(folder),
        "train_images": len(train),
        "val_images": len(val),
        "validated_on": " ".join(p.image_page if p.pages > 1 else p.image.name for p in val),
        "epochs": result["epochs"],
        "steps": result["steps"],
        "best_epoch": result.get("best_epoch"),
        "best_val_miou": result.get("best_val_miou"),
        "last_val_miou": last.get("miou"),
        "last_val_mdice": last.get("mdice"),
    }


def fold_summary(rows: list[dict]) -> dict:
    """The folds' ``rows`` and the spread over them (:func:`unetlab.metrics.spread.spread`:
    mean, sd, min, max) of the best and the last val mIoU and the last val Dice."""
    keys = ("best_val_miou", "last_val_miou", "last_val_mdice")
    nan = math.nan
    return {
        "folds": rows,
        **{k: spread([nan if r[k] is None else r[k] for r in rows]) for k in keys},
    }


def describe_folds(summary: dict) -> str:
    """``5 folds: val mIoU of best.pt 0.6120 ± 0.0410 (0.5500-0.6600), last ...``"""
    return (
        f"{len(summary['folds'])} folds, mean ± sd (min-max) over the folds: val mIoU of "
        f"best.pt {described(summary['best_val_miou'])}, of the last epoch "
        f"{described(summary['last_val_miou'])}, val Dice of the last epoch "
        f"{described(summary['last_val_mdice'])} (best.pt was chosen on the same images: "
        "report the last epoch's, or a test set)"
    )


def write_folds(path: Path, rows: list[dict]) -> Path:
    """Write the folds' ``rows`` as CSV, atomically (undefined figures empty)."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows({k: "" if r[k] is None else r[k] for k in COLUMNS} for r in rows)
    return path
