"""The matching table of an evaluation: StarDist's figures (:mod:`unetlab.metrics.matching`)
per image and pooled at the IoU thresholds asked (``evaluate --iou``), made from the
:class:`~unetlab.metrics.objects.PairIoU` an evaluation keeps of each image, its CSV
(``eval_matching.csv`` beside ``--json eval.json``) and its printed line."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.metrics.matching import (
    MATCHING_COLUMNS,
    iou_thresholds,
    matching_rows,
    pool_matching,
)
from unetlab.metrics.objects import PairIoU

#: the ``image`` of the CSV's pooled rows (the counts of all images summed)
POOLED = "(pooled)"


def matching_tables(
    pair_ious: Sequence[tuple[str, PairIoU]], thresholds: Sequence[float] | None = None
) -> tuple[list[tuple[str, list[dict]]], list[dict]]:
    """(``[(image name, rows)]``, pooled rows) at ``thresholds`` (default 0.1 .. 0.9): each
    image's :func:`~unetlab.metrics.matching.matching_rows` and those of the counts of all
    images summed (StarDist's ``matching_dataset(by_image=False)``)."""
    chosen = iou_thresholds(thresholds)
    counts = [(name, pair.counts(chosen)) for name, pair in pair_ious]
    per_image = [(name, matching_rows(m)) for name, m in counts]
    pooled = matching_rows(pool_matching([m for _, m in counts])) if counts else []
    return per_image, pooled


def chosen_thresholds(values: Sequence[float] | None) -> tuple[float, ...] | None:
    """``values`` (``iou_thresholds=`` of the evaluate functions, ``evaluate --iou``) checked
    before any work (UnetlabError for one outside (0, 1]), sorted, each once; None (the
    report's default, 0.1 .. 0.9) for None."""
    return None if values is None else iou_thresholds(values)


def write_matching_csv(
    path: str | os.PathLike, per_image: Sequence[tuple[str, list[dict]]], pooled: list[dict]
) -> Path:
    """Write one row per image and threshold, then the pooled rows (``image`` "(pooled)"),
    columns ``image`` and :data:`~unetlab.metrics.matching.MATCHING_COLUMNS`, atomically;
    undefined figures empty."""
    path = Path(path)
    rows = [{"image": name, **row} for name, table in per_image for row in table]
    rows += [{"image": POOLED, **row} for row in pooled]
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["image", *MATCHING_COLUMNS])
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return path


def _cell(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def matching_line(pooled: Sequence[dict]) -> str:
    """The printed line of the pooled accuracy (AP) at each threshold."""
    shown = "  ".join(f"{r['threshold']:g}: {_four(r['accuracy'])}" for r in pooled)
    return (
        f"AP at IoU >= t     {shown}   (TP/(TP+FP+FN), StarDist's accuracy, the AP of the "
        "StarDist and cellpose papers; counts summed over images)"
    )


def _four(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4f}"
