"""StarDist's matching table: object detection figures at several IoU thresholds.

At each threshold t objects match one to one at IoU >= t
(:func:`unetlab.metrics.objects.match_pairs`, the Hungarian assignment where ties or low
thresholds make candidates compete), and a row holds

- ``tp``, ``fp``, ``fn``, ``true_objects``, ``pred_objects``;
- ``precision`` TP / (TP + FP), ``recall`` TP / (TP + FN), ``f1`` 2 TP / (2 TP + FP + FN);
- ``accuracy`` TP / (TP + FP + FN): StarDist's name; the "average precision" (AP) of the
  StarDist and cellpose papers and one threshold's term of the DSB 2018 score;
- ``mean_matched_iou`` (StarDist's ``mean_matched_score``): the mean IoU of the matched pairs;
  ``mean_true_iou`` (``mean_true_score``): their summed IoU over all true objects;
- ``panoptic_quality``: summed matched IoU / (TP + FP/2 + FN/2).

These are StarDist's ``matching(y_true, y_pred, thresh)`` figures (pooled:
``matching_dataset(..., by_image=False)``: the counts and IoU sums of all images summed,
then the figures), except that a figure with nothing to divide by is NaN where StarDist's
safe division gives 0 (an image with no true and no predicted object; no match for the
mean matched IoU). Keywords only, ``truth=`` and ``prediction=``: StarDist takes the truth
first, :func:`unetlab.metrics.objects.object_scores` the prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from unetlab.errors import UnetlabError
from unetlab.metrics.objects import (
    MatchCounts,
    check_label_image,
    check_threshold,
    image_pairs,
    match_counts,
    prediction_truth,
)

#: how a stack's matching table is made: each frame matched, the counts pooled
STACK_FIX = (
    "unetlab.pooled_matching_table(truth=true, prediction=pred) matches each frame and "
    "pools the counts ([matching_table(truth=t, prediction=p) for t, p in zip(true, pred)] "
    "gives each frame's rows)"
)

__all__ = [
    "MATCHING_THRESHOLDS",
    "MATCHING_COLUMNS",
    "matching_table",
    "pooled_matching_table",
    "matching_rows",
    "pool_matching",
    "iou_thresholds",
]

#: StarDist's usual thresholds (its notebooks' ``taus``): 0.1, 0.2, ..., 0.9, exact decimals
MATCHING_THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(1, 10))

#: the columns of a row of :func:`matching_rows`, in order
MATCHING_COLUMNS = (
    "threshold",
    "tp",
    "fp",
    "fn",
    "true_objects",
    "pred_objects",
    "precision",
    "recall",
    "accuracy",
    "f1",
    "mean_matched_iou",
    "mean_true_iou",
    "panoptic_quality",
)


def iou_thresholds(values: Sequence[float] | None = None) -> tuple[float, ...]:
    """``values`` (default :data:`MATCHING_THRESHOLDS`) checked (each in (0, 1]), sorted,
    each once; a UnetlabError for none or one out of range."""
    if values is None:
        return MATCHING_THRESHOLDS
    out = tuple(sorted({check_threshold(float(t)) for t in values}))
    if not out:
        raise UnetlabError("no IoU threshold given: give at least one, in (0, 1]")
    return out


def matching_table(
    *,
    truth: np.ndarray,
    prediction: np.ndarray,
    thresholds: Sequence[float] | None = None,
) -> list[dict]:
    """StarDist's ``matching`` of one (H, W) image at each threshold: one row per threshold
    (:data:`MATCHING_COLUMNS`). ``truth``, ``prediction``: object ids, 0 = none (ids need
    not run 1..n); ``thresholds``: IoU thresholds in (0, 1], default 0.1 .. 0.9. A stack
    is refused naming :func:`pooled_matching_table`."""
    check_label_image(prediction, truth, stack_fix=STACK_FIX)
    m = match_counts(prediction, truth, iou_thresholds(thresholds))
    return matching_rows(m)


def pooled_matching_table(
    *,
    truth,
    prediction,
    thresholds: Sequence[float] | None = None,
) -> list[dict]:
    """StarDist's ``matching_dataset(y_true, y_pred, by_image=False)``: the counts of several
    images summed at each threshold, then the figures. ``truth``, ``prediction``: (N, H, W)
    arrays or equally long sequences of (H, W) images (ids may restart in each)."""
    chosen = iou_thresholds(thresholds)
    pairs = image_pairs(*prediction_truth(None, None, prediction, truth))
    counts = [match_counts(p, t, chosen) for p, t in pairs]
    return matching_rows(pool_matching(counts))


def pool_matching(counts: Sequence[MatchCounts]) -> MatchCounts:
    """The :class:`MatchCounts` of several images (at the same thresholds) summed."""
    if not counts:
        raise UnetlabError("no images to pool")
    first = counts[0]
    if any(m.thresholds != first.thresholds for m in counts):
        raise UnetlabError("the images were matched at different IoU thresholds")
    return MatchCounts(
        first.thresholds,
        sum(m.tp for m in counts),
        sum(m.fp for m in counts),
        sum(m.fn for m in counts),
        sum(m.iou_sum for m in counts),
        sum(m.pred_objects for m in counts),
        sum(m.true_objects for m in counts),
    )


def matching_rows(m: MatchCounts) -> list[dict]:
    """One row (:data:`MATCHING_COLUMNS`) per threshold of ``m``."""
    return [
        _row(t, int(tp), int(fp), int(fn), float(s), m.true_objects, m.pred_objects)
        for t, tp, fp, fn, s in zip(m.thresholds, m.tp, m.fp, m.fn, m.iou_sum, strict=True)
    ]


def _row(t: float, tp: int, fp: int, fn: int, iou_sum: float, true: int, pred: int) -> dict:
    return {
        "threshold": t,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "true_objects": true,
        "pred_objects": pred,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "accuracy": _ratio(tp, tp + fp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "mean_matched_iou": _ratio(iou_sum, tp),
        "mean_true_iou": _ratio(iou_sum, true),
        "panoptic_quality": _ratio(iou_sum, tp + fp / 2 + fn / 2),
    }


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan
