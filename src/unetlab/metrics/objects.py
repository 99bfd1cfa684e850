"""Object-level measures: instances, the cell-tracking challenge's SEG, detection F1.

Objects are the connected regions of every class but the boundary class (class 0 by default:
background for nuclei, membrane for ISBI 2012 EM), one class at a time, so touching regions of
different classes are different objects. Connectivity is 4 (edge neighbours) by default, as
the ISBI 2012 scripts label cells; pass ``connectivity=2`` for 8.

All functions take (H, W) integer arrays (any dims work for :func:`instances`) and never
modify them. Instance maps hold 0 for "no object" and ids 1..n.
"""

from __future__ import annotations

import math

import numpy as np

from unetlab.data.labels import compact_ids, instances

__all__ = [
    "instances",
    "compact_ids",
    "overlaps",
    "seg_score",
    "object_counts",
    "f1_from_counts",
    "object_f1",
]


def overlaps(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel overlap of every (gt object, pred object) pair.

    Returns ``(table, gt_sizes, pred_sizes)``: ``table`` (n_gt + 1, n_pred + 1) int64 with row
    / column 0 for "no object", and the object sizes (n_gt,), (n_pred,) of ids renumbered
    1..n in increasing order of the original ids.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(
            f"prediction has shape {pred.shape} but the ground truth {gt.shape}; "
            "compare instance maps of the same size"
        )
    g, n_gt = compact_ids(gt.ravel())
    p, n_pred = compact_ids(pred.ravel())
    cols = n_pred + 1
    table = np.bincount(g * cols + p, minlength=(n_gt + 1) * cols).reshape(n_gt + 1, cols)
    return table, table[1:].sum(1), table[:, 1:].sum(0)


def seg_score(pred_instances: np.ndarray, gt_instances: np.ndarray) -> float:
    """The cell-tracking challenge's SEG: mean Jaccard index over ground-truth objects.

    A ground-truth object R is matched by the predicted object S covering more than half of
    R's pixels (at most one can); its score is |R and S| / |R or S|, 0 without a match.
    NaN when the ground truth has no object.
    """
    jaccard, _ = seg_terms(pred_instances, gt_instances)
    return float(jaccard.mean()) if jaccard.size else math.nan


def seg_terms(pred_instances, gt_instances) -> tuple[np.ndarray, np.ndarray]:
    """Per gt object Jaccard (0 unmatched) and the overlap table."""
    table, gt_sizes, pred_sizes = overlaps(pred_instances, gt_instances)
    inner = table[1:, 1:]
    jaccard = np.zeros(len(gt_sizes))
    if inner.size:
        best = inner.argmax(1)
        hit = inner[np.arange(len(gt_sizes)), best]
        matched = 2 * hit > gt_sizes
        union = gt_sizes + pred_sizes[best] - hit
        jaccard[matched] = hit[matched] / union[matched]
    return jaccard, table


def object_counts(pred_instances, gt_instances, *, iou: float = 0.5) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of object detection: a predicted
    and a ground-truth object match when their IoU is above ``iou`` (>= 0.5 so that matches
    are one-to-one)."""
    if not 0.5 <= iou < 1:
        raise ValueError(
            f"iou must be in [0.5, 1), not {iou}: below 0.5 an object could match several"
        )
    table, gt_sizes, pred_sizes = overlaps(pred_instances, gt_instances)
    inner = table[1:, 1:]
    union = gt_sizes[:, None] + pred_sizes[None, :] - inner
    tp = int(np.count_nonzero(inner > iou * union)) if inner.size else 0
    return tp, len(pred_sizes) - tp, len(gt_sizes) - tp


def f1_from_counts(tp: int, fp: int, fn: int) -> dict:
    """``precision``, ``recall``, ``f1`` of detection counts (NaN where undefined; f1 is NaN
    only when there is no object at all)."""
    return {
        "precision": tp / (tp + fp) if tp + fp else math.nan,
        "recall": tp / (tp + fn) if tp + fn else math.nan,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else math.nan,
    }


def object_f1(pred_instances: np.ndarray, gt_instances: np.ndarray, iou: float = 0.5) -> float:
    """Object detection F1 = 2 TP / (2 TP + FP + FN), objects matched at IoU > ``iou``.

    NaN when neither map has an object. For class maps, call :func:`instances` first.
    """
    return f1_from_counts(*object_counts(pred_instances, gt_instances, iou=iou))["f1"]
