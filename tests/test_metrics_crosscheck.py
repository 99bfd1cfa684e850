"""Every reported measure against an independent computation (audit s43 metrics): brute-force
numpy from the definitions, scikit-image's adapted_rand_error / variation_of_information and
StarDist's / cellpose's assignment (scipy's linear_sum_assignment on their cost), on random
small images with the edge cases (empty prediction or truth, predicted membrane inside a true
cell, ids not consecutive, 16-bit ids, ignored pixels); and ``evaluate --json``'s JSON, CSVs
and printed lines against the same computation of the files it read."""

from __future__ import annotations

import csv
import itertools
import json
import math

import numpy as np
import pytest
import tifffile
from scipy.optimize import linear_sum_assignment
from skimage.metrics import adapted_rand_error, variation_of_information

from unetlab.cli import main
from unetlab.metrics import confusion_matrix, metrics_from_matrix
from unetlab.metrics.isbi import information_scores, rand_counts, rand_scores
from unetlab.metrics.matching import matching_table
from unetlab.metrics.objects import iou_matrix, object_scores

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SMALL = settings(max_examples=40, deadline=None)


def _boxes(draw_seed: int, shape: tuple[int, int], count: int, dtype=np.uint16) -> np.ndarray:
    """Up to ``count`` overlapping boxes (later ones on top) of ids spread over 16 bits."""
    rng = np.random.default_rng(draw_seed)
    ids = np.zeros(shape, dtype)
    for _ in range(count):
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        h, w = rng.integers(1, 6, 2)
        ids[y : y + h, x : x + w] = rng.integers(1, 65535)
    return ids


def _brute_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(true, predicted) IoU of every pair of objects, ids in increasing order, by masks."""
    true_ids, pred_ids = np.unique(gt[gt > 0]), np.unique(pred[pred > 0])
    out = np.zeros((len(true_ids), len(pred_ids)))
    for a, t in enumerate(true_ids):
        for b, p in enumerate(pred_ids):
            out[a, b] = np.sum((gt == t) & (pred == p)) / np.sum((gt == t) | (pred == p))
    return out


def _brute_match(iou: np.ndarray, t: float) -> tuple[int, float]:
    """(most one-to-one pairs at IoU >= t, the largest summed IoU of such a set): every set."""
    candidates = list(zip(*np.nonzero(iou >= t)))
    for size in range(min(iou.shape, default=0), 0, -1):
        sums = [
            sum(iou[a, b] for a, b in chosen)
            for chosen in itertools.combinations(candidates, size)
            if len({a for a, _ in chosen}) == size and len({b for _, b in chosen}) == size
        ]
        if sums:
            return size, max(sums)
    return 0, 0.0


def _stardist_tp(iou: np.ndarray, t: float) -> int:
    """StarDist's (and cellpose's) matched count: linear_sum_assignment on their cost."""
    if not iou.size:
        return 0
    cost = -(iou >= t).astype(float) - iou / (2 * min(iou.shape))
    rows, cols = linear_sum_assignment(cost)
    return int((iou[rows, cols] >= t).sum())


@SMALL
@given(st.integers(0, 2**32 - 1), st.integers(0, 4), st.integers(0, 4))
def test_matching_table_equals_every_one_to_one_matching(seed, n_true, n_pred):
    """tp, fp, fn, AP (accuracy), F1, mean matched IoU and PQ at low and high thresholds
    (where candidates compete) equal the best of every one-to-one set of pairs."""
    gt = _boxes(seed, (9, 11), n_true)
    pred = _boxes(seed + 1, (9, 11), n_pred)
    iou = _brute_iou(pred, gt)
    np.testing.assert_allclose(iou_matrix(pred, gt), iou)
    n_gt, n_pd = iou.shape
    for row in matching_table(truth=gt, prediction=pred, thresholds=[0.1, 0.3, 0.5, 0.75]):
        tp, summed = _brute_match(iou, row["threshold"])
        assert (row["tp"], row["fp"], row["fn"]) == (tp, n_pd - tp, n_gt - tp)
        assert tp == _stardist_tp(iou, row["threshold"])
        if n_gt + n_pd:
            assert row["accuracy"] == pytest.approx(tp / (n_gt + n_pd - tp))
            assert row["f1"] == pytest.approx(2 * tp / (n_gt + n_pd))
            assert row["panoptic_quality"] == pytest.approx(summed / ((n_gt + n_pd) / 2))
        else:
            assert math.isnan(row["accuracy"]) and math.isnan(row["f1"])
        assert (tp == 0 and math.isnan(row["mean_matched_iou"])) or row[
            "mean_matched_iou"
        ] == pytest.approx(summed / tp)


def _brute_seg(pred: np.ndarray, gt: np.ndarray) -> float:
    """SEG: per true object the Jaccard of the predicted object covering > half of it, else 0."""
    scores = []
    for t in np.unique(gt[gt > 0]):
        best = 0.0
        for p in np.unique(pred[(gt == t) & (pred > 0)]):
            inter = np.sum((gt == t) & (pred == p))
            if 2 * inter > np.sum(gt == t):
                best = inter / np.sum((gt == t) | (pred == p))
        scores.append(best)
    return float(np.mean(scores)) if scores else math.nan


@SMALL
@given(st.integers(0, 2**32 - 1), st.integers(0, 5), st.integers(0, 5))
def test_object_scores_equal_their_definitions(seed, n_true, n_pred):
    """DSB (mean over 0.50:0.05:0.95 of TP/(TP+FP+FN)), F1 / precision / recall, PQ = SQ x
    RQ at 0.5 and SEG, by the definitions on masks; NaN only with no object at all."""
    gt = _boxes(seed, (10, 10), n_true)
    pred = _boxes(seed + 7, (10, 10), n_pred)
    s = object_scores(prediction=pred, truth=gt)
    iou = _brute_iou(pred, gt)
    n_gt, n_pd = iou.shape
    assert math.isnan(s["seg"]) if not n_gt else s["seg"] == pytest.approx(_brute_seg(pred, gt))
    if not n_gt + n_pd:
        assert all(math.isnan(s[k]) for k in ("dsb", "f1", "pq"))
        return
    tp, summed = _brute_match(iou, 0.5)
    steps = [round(0.5 + 0.05 * i, 2) for i in range(10)]
    dsb = np.mean([(k := _brute_match(iou, t)[0]) / (n_gt + n_pd - k) for t in steps])
    assert s["dsb"] == pytest.approx(dsb)
    assert (s["tp"], s["fp"], s["fn"]) == (tp, n_pd - tp, n_gt - tp)
    assert s["f1"] == pytest.approx(2 * tp / (n_gt + n_pd))
    assert s["pq"] == pytest.approx(summed / ((n_gt + n_pd) / 2))


def _singletons(pred: np.ndarray) -> np.ndarray:
    """Each predicted-membrane (0) pixel a segment of its own: the challenge's reading."""
    out = pred.astype(np.int64)
    zero = out == 0
    out[zero] = out.max(initial=0) + 1 + np.arange(zero.sum())
    return out


@SMALL
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_isbi_scores_of_stacks_equal_scikit_image_frame_by_frame(seed, frames):
    """Rand error / split / merge of an (N, H, W) stack from pair counts summed over frames,
    V_Info's parts the mean of the frames', each frame as scikit-image scores it with the
    predicted membrane as singletons (its precision is V_Rand_split: issue #6485)."""
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 4, (frames, 6, 7)) * (rng.random((frames, 6, 7)) < 0.8)
    pred = rng.integers(0, 5, (frames, 6, 7))
    both = truth = predicted = 0.0
    vi = []
    for p, g in zip(pred, gt):
        b, t, q = rand_counts(p, g)
        both, truth, predicted = both + b, truth + t, predicted + q
        if not (g > 0).any():
            continue
        error, split, merge = adapted_rand_error(g, _singletons(p), ignore_labels=(0,))
        if t and q:
            assert (1 - 2 * b / (t + q), b / t, b / q) == pytest.approx((error, split, merge))
        vi.append(variation_of_information(g, _singletons(p), ignore_labels=(0,)))
    s = rand_scores(pred, gt)
    if not (gt > 0).any():
        assert math.isnan(s["rand_error"])
        return
    if truth + predicted:
        assert s["rand_error"] == pytest.approx(1 - 2 * both / (truth + predicted))
    info = information_scores(pred, gt)
    split, merge = np.mean(vi, axis=0)
    assert (info["vi_split"], info["vi_merge"]) == pytest.approx((split, merge), abs=1e-9)


@SMALL
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_pixel_measures_equal_counts_by_class(seed, classes):
    """IoU, Dice, precision, recall, accuracy and mIoU from a brute count of each class,
    ignored pixels (-1) counted nowhere; a class in neither map NaN and out of the mean."""
    rng = np.random.default_rng(seed)
    gt = rng.integers(-1, classes, (7, 9))
    pred = rng.integers(0, classes, (7, 9))
    m = metrics_from_matrix(confusion_matrix(pred, gt, classes + 1))
    kept = gt >= 0
    ious = []
    for c in range(classes + 1):  # the last class in neither map
        tp = np.sum((pred == c) & (gt == c) & kept)
        fp, fn = np.sum((pred == c) & (gt != c) & kept), np.sum((pred != c) & (gt == c) & kept)
        if tp + fp + fn == 0:
            assert math.isnan(m["iou"][c]) and math.isnan(m["dice"][c])
            continue
        ious.append(tp / (tp + fp + fn))
        assert m["iou"][c] == pytest.approx(ious[-1])
        assert m["dice"][c] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert m["miou"] == pytest.approx(np.mean(ious))
    if kept.any():
        assert m["pixel_accuracy"] == pytest.approx(np.mean(pred[kept] == gt[kept]))


def _expected(tmp_path) -> dict:
    """The data-set figures of the files written, computed here from the definitions."""
    totals = dict(tp=0, fp=0, fn=0, summed=0.0, both=0, truth=0, pred=0)
    dsb, seg, n_true, cells, pairs = [], 0.0, 0, np.zeros((2, 2), np.int64), {}
    for name in ("a", "b", "c"):
        gt = tifffile.imread(tmp_path / "gt" / f"{name}.tif").astype(np.int64)
        pred = tifffile.imread(tmp_path / "pred" / f"{name}_objects.tif").astype(np.int64)
        iou = _brute_iou(pred, gt)
        n_gt, n_pd = iou.shape
        tp, summed = _brute_match(iou, 0.5)
        for key, value in zip(("tp", "fp", "fn", "summed"), (tp, n_pd - tp, n_gt - tp, summed)):
            totals[key] += value
        steps = [round(0.5 + 0.05 * i, 2) for i in range(10)]
        dsb += [np.mean([(k := _brute_match(iou, t)[0]) / (n_gt + n_pd - k) for t in steps])]
        for t in (0.3, 0.7):
            pairs[t] = pairs.get(t, 0) + _brute_match(iou, t)[0]
        seg, n_true = seg + (_brute_seg(pred, gt) * n_gt if n_gt else 0.0), n_true + n_gt
        b, t, q = rand_counts(pred, gt)  # checked against scikit-image above
        totals["both"], totals["truth"], totals["pred"] = (
            totals["both"] + b, totals["truth"] + t, totals["pred"] + q,
        )  # fmt: skip
        np.add.at(cells, ((gt > 0).astype(int), (pred > 0).astype(int)), 1)
    tp, fp, fn = totals["tp"], totals["fp"], totals["fn"]
    iou = [cells[c, c] / (cells[c].sum() + cells[:, c].sum() - cells[c, c]) for c in (0, 1)]
    return {
        "object_f1": 2 * tp / (2 * tp + fp + fn),
        "object_precision": tp / (tp + fp),
        "dsb": float(np.mean(dsb)),
        "seg": seg / n_true,
        "pq": totals["summed"] / (tp + fp / 2 + fn / 2),
        "rand_error": 1 - 2 * totals["both"] / (totals["truth"] + totals["pred"]),
        "miou": float(np.mean(iou)),
        "challenge_pixel_error": 1
        - 2 * cells[1, 1] / (2 * cells[1, 1] + cells[0, 1] + cells[1, 0]),
        "pairs": pairs,
        "objects": n_true,
    }


def test_evaluate_json_csv_and_printed_figures_agree_with_the_definitions(tmp_path, capsys):
    """``evaluate --pred --gt --json``: the JSON's data-set figures equal the definitions'
    (pooled as its ``averaging`` says), its per-image rows equal the CSV's, the pooled rows of
    the matching CSV equal the JSON's ``matching``, and each printed figure is the JSON's."""
    rng = np.random.default_rng(4)
    for i, name in enumerate(("a", "b", "c")):
        gt = _boxes(10 + i, (24, 30), 7) if name != "c" else np.zeros((24, 30), np.uint16)
        pred = np.roll(gt, 1, axis=1)
        pred[rng.random(pred.shape) < 0.05] = 0
        pred = np.where(_boxes(20 + i, (24, 30), 2) > 0, 60000 + i, pred).astype(np.uint16)
        (tmp_path / "gt").mkdir(exist_ok=True)
        (tmp_path / "pred").mkdir(exist_ok=True)
        tifffile.imwrite(tmp_path / "gt" / f"{name}.tif", gt)
        tifffile.imwrite(tmp_path / "pred" / f"{name}_objects.tif", pred)
    out = tmp_path / "eval.json"
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--gt-instances", "--iou", "0.3", "0.7", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    want = _expected(tmp_path)
    for key in ("object_f1", "object_precision", "dsb", "pq", "seg", "rand_error", "miou"):
        assert report[key] == pytest.approx(want[key]), key
    assert report["challenge_pixel_error"] == pytest.approx(want["challenge_pixel_error"])
    assert report["objects"] == want["objects"]
    assert [r["tp"] for r in report["matching"]] == [want["pairs"][0.3], want["pairs"][0.7]]
    lines = {line[:19].strip(): line[19:] for line in printed.splitlines() if len(line) > 19}
    for label, key in (("object F1", "object_f1"), ("DSB score", "dsb"), ("PQ", "pq")):
        assert lines[label].startswith(f"{report[key]:.4f}"), label
    assert lines["Rand error"].startswith(f"{report['rand_error']:.4f}")
    assert lines["SEG"].startswith(f"{report['seg']:.4f}")
    with open(tmp_path / "eval_images.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == [r["name"] for r in report["images"]]
    for row, image in zip(rows, report["images"]):
        for key in ("miou", "object_f1", "dsb", "pq", "seg", "rand_error"):
            value = image[key]
            assert (
                (row[key] == "")
                if value is None
                else float(row[key]) == pytest.approx(value, rel=1e-5)
            ), key
    with open(tmp_path / "eval_matching.csv", newline="") as f:
        pooled = [r for r in csv.DictReader(f) if r["image"] == "(pooled)"]
    assert [int(r["tp"]) for r in pooled] == [r["tp"] for r in report["matching"]]
