"""The ISBI 2012 EM segmentation challenge's measures (Arganda-Carreras et al. 2015,
Front. Neuroanat. 9:142, doi:10.3389/fnana.2015.00142).

The challenge compares *segmentations*: the cells are the connected regions of the
non-membrane class (4-connected, :func:`unetlab.metrics.objects.instances`), the membrane is no cell.
Both measures are *foreground-restricted*: pixels that are membrane in the ground truth are
left out. A pixel the prediction calls membrane inside a true cell is a cell of its own (a
singleton), as in the challenge's Fiji scripts (``RandError.java``, which prune the
proposal's zero component from the pair counts).

- Rand: over pairs of distinct kept pixels (as ``RandError.foregroundRestrictedRandIndex``
  and scikit-image's ``adapted_rand_error`` count them; the scripts' later "N^2" variant
  also counts each pixel with itself: 2e-5 apart for a grey-threshold segmentation of ISBI
  slices 00 and 10), ordered, so counts are n (n - 1) per group; ``V_Rand_split`` = pairs
  together in both / pairs together in the truth, ``V_Rand_merge`` = ... / pairs together in the
  prediction, ``V_Rand`` their harmonic mean (F-score). The **Rand error** of the U-Net paper's
  table (0.0382) is ``1 - V_Rand`` (the challenge's original "1 - maximal F-score of the
  foreground-restricted Rand index"). scikit-image's ``adapted_rand_error(gt, pred)`` returns
  ``V_Rand_split`` and ``V_Rand_merge`` in that order under the names precision and recall
  (scikit-image issue #6485; ``tests/test_metrics_crosscheck.py``).
- Information: with mutual information I(S; T) and entropies H of the prediction S and truth
  T, ``V_Info_split`` = I / H(S), ``V_Info_merge`` = I / H(T), ``V_Info`` = 2 I / (H(S) + H(T)).
- Pixel error, two readings. :func:`pixel_error` is the fraction of pixels whose class differs
  (the challenge's "squared Euclidean distance between the original and the result labels",
  divided by the pixels). The challenge's leaderboard, and so the U-Net paper's 0.0611, report
  the other: **1 - the maximal F-score of pixel similarity** (its evaluation page and Fiji's
  ``PixelError.getPixelErrorMaximalFScore``, which the organisers' script logs as "pixel
  error"): the F-score of the cell pixels (label > 0 is positive, the map above the
  threshold is predicted positive), its counts summed over the stack, at the best threshold
  (:func:`pixel_fscore_error`; ``challenge_pixel_error`` of :func:`best_threshold`). With
  about 80% cell pixels it is close to the fraction of wrong pixels divided by 1.6.

Not implemented: the border thinning of the challenge's final leaderboard (V_Rand and V_Info
*after thinning*, computed on skeletonised membranes) and the warping error. Values here are
therefore the pre-thinning figures, the kind the U-Net paper reports. The challenge
thresholds a probability map at several levels and reports the best (:func:`best_threshold`).
All functions are computed from a contingency table (``numpy.bincount``): a 512x512 image
takes milliseconds.

Stacks: the challenge scored its 30-slice test stack in 2-D, slice by slice (Fiji's
``RandError.getForegroundRestrictedRandIndexStats`` and ``getRandIndexStats`` label and count
each slice on its own and sum the pair counts over the slices, the F-score coming from the
sums; ``VariationOfInformation.getForegroundRestrictedFscore`` averages the slices' scores;
``PixelError`` sums the slices' pixel counts). So do the measures here: an (N, H, W) array
(or any (..., H, W)) is N frames, each scored on its own, so ids that restart in every frame
are never joined across frames; the Rand counts are summed over the frames, V_Info and its
parts are the mean over the frames that have a cell pixel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from unetlab.data.labels import seeded_cells
from unetlab.errors import UnetlabError
from unetlab.metrics.confusion import nanmean
from unetlab.metrics.objects import check_label_pair, instances, overlaps

__all__ = [
    "CHALLENGE_THRESHOLDS",
    "pixel_error",
    "pixel_counts",
    "pixel_fscore_error",
    "rand_counts",
    "rand_from_counts",
    "rand_scores",
    "rand_error",
    "information_scores",
    "information_score",
    "best_threshold",
]

#: The thresholds of the challenge's Fiji evaluation scripts: 0.0 to 1.0 in steps of 0.1.
CHALLENGE_THRESHOLDS = tuple(round(0.1 * i, 1) for i in range(11))


def pixel_error(pred_labels: np.ndarray, gt_labels: np.ndarray, *, ignore_index: int = -1) -> float:
    """Fraction of labelled pixels whose class differs: (H, W) class maps, or (N, H, W)
    stacks of them (every pixel of the stack counts once) -> float in [0, 1].

    Pixels where ``gt_labels == ignore_index`` are left out; NaN if none is left.
    """
    pred, gt = check_label_pair(pred_labels, gt_labels)
    keep = gt != ignore_index
    n = int(keep.sum())
    return float(np.count_nonzero(pred[keep] != gt[keep]) / n) if n else math.nan


def pixel_counts(
    pred_cell: np.ndarray, gt_cell: np.ndarray, labelled: np.ndarray | None = None
) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of the cell pixels: (H, W) bool maps
    of predicted and true cell (non-membrane); pixels where ``labelled`` is False are left out.
    Sum them over a stack and pass them to :func:`pixel_fscore_error`."""
    pred_cell, gt_cell = np.asarray(pred_cell, bool), np.asarray(gt_cell, bool)
    if pred_cell.shape != gt_cell.shape:
        raise UnetlabError(
            f"prediction of shape {pred_cell.shape} and truth of shape {gt_cell.shape} differ "
            "in size: give the truth of the image predicted"
        )
    if labelled is not None:
        pred_cell, gt_cell = pred_cell & labelled, gt_cell & labelled
    tp = int(np.count_nonzero(pred_cell & gt_cell))
    return tp, int(np.count_nonzero(pred_cell)) - tp, int(np.count_nonzero(gt_cell)) - tp


def pixel_fscore_error(tp: float, fp: float, fn: float) -> float:
    """The challenge's pixel error, 1 - F-score of pixel similarity, from cell-pixel counts
    (:func:`pixel_counts`): 1 - 2 tp / (2 tp + fp + fn); 0 when neither map has a cell pixel."""
    total = 2 * tp + fp + fn
    return float(1.0 - 2 * tp / total) if total else 0.0


def _table(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, int]:
    """Contingency table of the pixels inside true cells (gt > 0): rows true cells, columns
    0 = predicted membrane (singletons), 1.. predicted cells; and the count of kept pixels."""
    pred, gt = check_label_pair(pred, gt)
    if (gt < 0).any():
        raise UnetlabError("ground-truth ids are 0 (membrane) or positive; map ignored pixels to 0")
    keep = gt > 0
    table = overlaps(pred[keep], gt[keep])[0][1:]  # row 0 ("no true cell") is empty
    return table.astype(np.float64), int(keep.sum())


def _frames(pred, gt) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (H, W) frames of a checked label pair: itself for one image, each frame of an
    (N, H, W) (or (..., H, W)) stack, as the challenge scored its stack slice by slice."""
    pred, gt = check_label_pair(pred, gt)
    if pred.ndim <= 2:
        return [(pred, gt)]
    shape = (-1, *pred.shape[-2:])
    return list(zip(pred.reshape(shape), gt.reshape(shape)))


def rand_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float, float]:
    """Ordered pixel-pair counts inside true cells: (together in both, together in the truth,
    together in the prediction). Summing them over images and calling
    :func:`rand_from_counts` scores a stack, as the challenge's scripts do.

    ``pred``, ``gt``: (H, W) instance ids, 0 = membrane (see :func:`unetlab.metrics.objects.instances`).
    An (N, H, W) stack is N frames: the sum of each frame's counts (pairs within a frame; an
    id in two frames is two objects, ids may restart in every frame).
    """
    counts = np.zeros(3)
    for frame_pred, frame_gt in _frames(pred, gt):
        counts += _frame_rand_counts(frame_pred, frame_gt)
    return tuple(float(c) for c in counts)


def _frame_rand_counts(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float, float]:
    table, _ = _table(pred, gt)
    cells = table[:, 1:]
    both = float((cells * (cells - 1)).sum())
    rows = table.sum(1)
    cols = cells.sum(0)
    return both, float((rows * (rows - 1)).sum()), float((cols * (cols - 1)).sum())


def rand_from_counts(both: float, truth: float, predicted: float, *, empty: bool = False) -> dict:
    """``v_rand``, ``v_rand_split``, ``v_rand_merge`` and ``rand_error`` (= 1 - v_rand) from
    pair counts; two partitions with no pair together anywhere agree (v_rand 1); ``empty``
    (no pixel inside a true cell) gives NaN."""
    if empty:
        return dict.fromkeys(("v_rand", "v_rand_split", "v_rand_merge", "rand_error"), math.nan)
    both, truth, predicted = float(both), float(truth), float(predicted)
    v_rand = 2 * both / (truth + predicted) if truth + predicted else 1.0
    return {
        "v_rand": v_rand,
        "v_rand_split": both / truth if truth else 1.0,
        "v_rand_merge": both / predicted if predicted else 1.0,
        "rand_error": 1.0 - v_rand,
    }


def rand_scores(pred: np.ndarray, gt: np.ndarray) -> dict:
    """The foreground-restricted Rand scores of one (H, W) segmentation (instance ids,
    0 = membrane): ``v_rand`` (F-score, higher is better), ``v_rand_split``,
    ``v_rand_merge``, ``rand_error`` = 1 - v_rand. NaN when the truth has no cell pixel. An
    (N, H, W) stack: from the frames' summed pair counts (:func:`rand_counts`)."""
    both, truth, predicted = rand_counts(pred, gt)
    return rand_from_counts(both, truth, predicted, empty=not (np.asarray(gt) > 0).any())


def rand_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Foreground-restricted Rand error, 1 - V_Rand, of (H, W) instance ids (0 = membrane):
    0 for a perfect segmentation; the U-Net paper reports 0.0382 on ISBI 2012."""
    return rand_scores(pred, gt)["rand_error"]


def _entropy(p: np.ndarray) -> float:
    """-sum p log2 p of probabilities that need not sum to 1 (parts of a joint table):
    ``scipy.special.entr``, since ``scipy.stats.entropy`` would renormalise them."""
    return float(special.entr(p).sum() / math.log(2))


def information_scores(pred: np.ndarray, gt: np.ndarray) -> dict:
    """Foreground-restricted information-theoretic scores of (H, W) instance ids (0 =
    membrane), in bits: ``v_info`` = 2 I / (H(S) + H(T)) (higher is better, 1 = identical),
    ``v_info_split`` = I / H(S), ``v_info_merge`` = I / H(T), and the variation of
    information's parts ``vi_split`` = H(S | T) (false splits), ``vi_merge`` = H(T | S)
    (false merges). NaN when the truth has no cell pixel. An (N, H, W) stack: each score's
    mean over the frames that have a cell pixel (each frame scored on its own)."""
    frames = [_frame_information(p, t) for p, t in _frames(pred, gt)]
    if len(frames) == 1:
        return frames[0]
    return {k: nanmean(np.array([f[k] for f in frames])) for k in _INFO_KEYS}


_INFO_KEYS = ("v_info", "v_info_split", "v_info_merge", "vi_split", "vi_merge")


def _frame_information(pred: np.ndarray, gt: np.ndarray) -> dict:
    table, n = _table(pred, gt)
    if n == 0:
        return dict.fromkeys(_INFO_KEYS, math.nan)
    p = table / n
    singletons = p[:, 0].sum() * math.log2(n)  # each predicted-membrane pixel: p = 1/n
    h_truth = _entropy(p.sum(1))
    h_pred = _entropy(p[:, 1:].sum(0)) + singletons
    h_joint = _entropy(p[:, 1:].ravel()) + singletons
    mutual = max(h_truth + h_pred - h_joint, 0.0)
    scores = {
        "v_info": 2 * mutual / (h_pred + h_truth) if h_pred + h_truth else 1.0,
        "v_info_split": mutual / h_pred if h_pred else 1.0,
        "v_info_merge": mutual / h_truth if h_truth else 1.0,
        "vi_split": max(h_pred - mutual, 0.0),
        "vi_merge": max(h_truth - mutual, 0.0),
    }
    return {k: float(v) for k, v in scores.items()}  # not np.float64(...) in a report (s42)


def information_score(pred: np.ndarray, gt: np.ndarray) -> float:
    """V_Info, the challenge's foreground-restricted information-theoretic score (1 =
    identical segmentations), of (H, W) instance ids (0 = membrane); of an (N, H, W) stack,
    the mean over its frames."""
    return information_scores(pred, gt)["v_info"]


def best_threshold(
    prob_map: np.ndarray | Sequence[np.ndarray],
    gt: np.ndarray | Sequence[np.ndarray],
    thresholds: Sequence[float] = CHALLENGE_THRESHOLDS,
    *,
    boundary_class: int = 0,
    connectivity: int = 1,
    seed_threshold: float | None = None,
) -> dict:
    """The challenge's practice: threshold a probability map at several levels, keep the best.

    ``prob_map``: (H, W) float probability of the *cell* (non-boundary) class, or a list of
    them (a stack: one threshold for all images). ``gt``: (H, W) class maps (or a list) in
    which ``boundary_class`` is membrane and any other class is cell; ignored pixels (< 0)
    are left out like true membrane (and of the pixel error). A pixel is cell where
    ``prob > threshold``; cells are its
    ``connectivity``-connected regions. For a stack the Rand error comes from pair counts
    summed over images, V_Info and pixel error are means over images. ``seed_threshold``: at
    each level, split the cells where they touch by a seeded watershed
    (:func:`unetlab.data.labels.seeded_cells`, seeds above this probability) before scoring;
    every figure of that level then comes from the same split map; the levels are then
    scored without the watershed too, against the same labelled truth, to show its gain.

    Returns a flat dict: ``rand_error`` (the best, i.e. lowest), ``rand_threshold``,
    ``information_score`` (highest V_Info), ``information_threshold``, ``pixel_error``
    (lowest fraction of wrong pixels), ``pixel_threshold``, ``challenge_pixel_error`` (the
    leaderboard's pixel error: 1 - the maximal F-score of pixel similarity, counts summed over
    the stack), ``challenge_pixel_threshold``, ``all_cell_pixel_error`` (the same measure of
    the trivial map that calls every pixel cell, to compare a best level at the end of the
    range with), and ``per_threshold``: one dict per threshold
    with ``threshold``, ``rand_error``, ``information_score``, ``pixel_error``,
    ``challenge_pixel_error``; with ``seed_threshold`` also ``without_seeds``: the
    ``rand_error``, ``rand_threshold`` and ``information_score`` of the plain levels.
    """
    probs = [np.asarray(prob_map)] if np.ndim(prob_map) == 2 else [np.asarray(p) for p in prob_map]
    gts = [np.asarray(gt)] if np.ndim(gt) == 2 else [np.asarray(g) for g in gt]
    if len(probs) != len(gts):
        raise UnetlabError(
            f"{len(probs)} probability maps but {len(gts)} ground truths: give one truth per map"
        )
    if not len(thresholds):
        raise UnetlabError("give at least one threshold, e.g. 0.5")
    truths = [_truth(p, g, boundary_class, connectivity) for p, g in zip(probs, gts)]
    best = _best_levels(thresholds, probs, truths, connectivity, seed_threshold)
    if seed_threshold is not None:  # the plain levels beside, the truth labelled once for both
        plain = _best_levels(thresholds, probs, truths, connectivity, None)
        keys = ("rand_error", "rand_threshold", "information_score")
        best["without_seeds"] = {k: plain[k] for k in keys}
    return best


def _best_levels(thresholds, probs, truths, connectivity: int, seed_threshold) -> dict:
    """:func:`best_threshold`'s figures of one sweep over ``thresholds`` (``truths``: the
    images' :class:`_Truth`)."""
    empty = not any(truth.cell.any() for truth in truths)
    rows = [_scores_at(t, probs, truths, connectivity, empty, seed_threshold) for t in thresholds]
    rand = min(rows, key=lambda r: _key(r["rand_error"]))
    info = min(rows, key=lambda r: _key(-r["information_score"]))
    pix = min(rows, key=lambda r: _key(r["pixel_error"]))
    fscore = min(rows, key=lambda r: _key(r["challenge_pixel_error"]))
    cells = sum(int(np.count_nonzero(truth.cell)) for truth in truths)
    labelled = sum(truth.n_labelled for truth in truths)
    return {
        "rand_error": rand["rand_error"],
        "rand_threshold": rand["threshold"],
        "information_score": info["information_score"],
        "information_threshold": info["threshold"],
        "pixel_error": pix["pixel_error"],
        "pixel_threshold": pix["threshold"],
        "challenge_pixel_error": fscore["challenge_pixel_error"],
        "challenge_pixel_threshold": fscore["threshold"],
        "all_cell_pixel_error": pixel_fscore_error(cells, labelled - cells, 0)
        if labelled
        else math.nan,
        "seed_threshold": seed_threshold,
        "per_threshold": rows,
    }


@dataclass(frozen=True)
class _Truth:
    """What no threshold changes about one image's ground truth."""

    cell: np.ndarray  # (H, W) bool: cell pixels
    labelled: np.ndarray  # (H, W) bool: not ignored
    n_labelled: int
    ids: np.ndarray  # (H, W) cell instance ids


def _truth(prob: np.ndarray, gt: np.ndarray, boundary_class: int, connectivity: int) -> _Truth:
    if prob.shape != gt.shape:
        raise UnetlabError(
            f"probability map of shape {prob.shape} and ground truth of shape {gt.shape} "
            "differ in size: give the truth of the image predicted"
        )
    cell = (gt != boundary_class) & (gt >= 0)
    labelled = gt >= 0
    ids = instances(cell.astype(np.uint8), connectivity=connectivity)
    return _Truth(cell, labelled, int(labelled.sum()), ids)


def _cells_at(p: np.ndarray, t: float, connectivity: int, seed_threshold: float | None):
    """(cell map, cell ids) of one probability map at level ``t``."""
    if seed_threshold is None:
        cell = p > t
        return cell, instances(cell.astype(np.uint8), connectivity=connectivity)
    ids = seeded_cells(p, t, seed_threshold, connectivity=connectivity)
    return ids > 0, ids


def _scores_at(
    t: float, probs, truths, connectivity: int, empty: bool, seed_threshold: float | None
) -> dict:
    """Rand error and the challenge's pixel error (counts summed over images), V_Info and
    the fraction of wrong pixels (means over images) of the stack thresholded at ``t``."""
    counts, cell_counts = np.zeros(3), np.zeros(3)
    info, pix = [], []
    for p, truth in zip(probs, truths):
        pred_cell, pred_ids = _cells_at(p, t, connectivity, seed_threshold)
        counts += rand_counts(pred_ids, truth.ids)
        info.append(information_score(pred_ids, truth.ids))  # NaN for an image without cells
        tp, fp, fn = pixel_counts(pred_cell, truth.cell, truth.labelled)
        cell_counts += (tp, fp, fn)
        pix.append((fp + fn) / truth.n_labelled if truth.n_labelled else math.nan)  # wrong
    labelled = any(truth.n_labelled for truth in truths)
    return {
        "threshold": float(t),
        "rand_error": rand_from_counts(*counts, empty=empty)["rand_error"],
        "information_score": nanmean(np.array(info)),
        "pixel_error": nanmean(np.array(pix)),
        "challenge_pixel_error": pixel_fscore_error(*cell_counts) if labelled else math.nan,
    }


def _key(value: float) -> float:
    """Sort key that puts NaN last when minimising."""
    return math.inf if math.isnan(value) else value
