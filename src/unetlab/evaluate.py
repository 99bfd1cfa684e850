"""Evaluate a segmentation: pixel metrics, the ISBI 2012 measures and object measures.

Two entry points, both returning a :class:`Report`:

- :func:`evaluate_model`: predict every image of a data folder with a model (overlap-tile,
  :func:`unetlab.inference.predict.predict_image`) and compare with its masks.
- :func:`evaluate_predictions`: compare saved label images (class indices, ``<stem>.png`` as
  ``unetlab predict`` writes them, or ``<stem>.tif`` for stacks; object ids in
  ``<stem>_objects.tif`` as ``unetlab predict --instances`` writes them) with ground-truth masks.

What the report holds (``Report.to_dict()``, the JSON of ``unetlab evaluate``):

- Pixel metrics of one confusion matrix over all images (micro): ``miou``, ``mdice``,
  ``pixel_accuracy``, ``pixel_error`` (1 - pixel accuracy), per class under ``classes``;
  and ``mean_image_miou``, the mean of the images' own mIoU (macro over images).
- ISBI 2012 (:mod:`unetlab.metrics.isbi`): ``rand_error`` (1 - V_Rand, pair counts summed over the
  images, as the challenge scores a stack), ``v_rand``, ``information_score`` (V_Info, mean
  over images). Objects, the cells, are the 4-connected regions of every class but
  ``boundary_class`` (class 0 by default: background, or membrane for ISBI).
- Objects (:mod:`unetlab.metrics.objects`; predicted objects are the prediction's object ids
  when there are any, else its connected regions as above; true objects the masks' ids with
  ``gt_instances``, else their regions): ``dsb`` (the DSB 2018 score: mean over images of the
  mean over IoU 0.50:0.05:0.95 of TP / (TP + FP + FN), one-to-one matching), ``object_f1``,
  ``object_precision``, ``object_recall`` at IoU > 0.5 (counts summed), ``pq`` = ``sq`` x
  ``rq`` (panoptic quality, counts summed), ``seg`` (the cell-tracking challenge's SEG, mean
  Jaccard over all ground-truth objects), ``objects`` (true) and ``pred_objects`` counts.
  The ISBI and object scores are computed for two classes (membrane/cell, background/object)
  or object ids, or when asked (``objects=True``): for more classes (road scenes: sky as the
  "boundary", each region of road or building an "object") they mean nothing, and the report
  leaves them out, the JSON and the images' rows included, saying so in one line.
- ``images``: one row per image, and ``worst_images``: the names with the lowest mIoU.
- ``best_threshold`` when asked (``thresholds=``): the challenge's practice of thresholding
  the cell probability (1 - P(boundary class)) at several levels and keeping the best,
  with the leaderboard's pixel error (``challenge_pixel_error``: 1 - the maximal F-score of
  the cell pixels) beside the fraction of wrong pixels (``pixel_error``).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.classes import NAMES_FILE, VOC_VOID, dataset_palette, read_class_names
from unetlab.data.datasets import training_split
from unetlab.data.instances import instance_ids, looks_like_instances
from unetlab.data.io import IMAGE_SUFFIXES, find_images, read_stack
from unetlab.data.labels import IGNORE_INDEX, encode_mask
from unetlab.data.pairs import Pair, PairReader, detect_layout, find_pairs
from unetlab.data.split_record import trained_count
from unetlab.errors import DatasetError, UnetlabError
from unetlab.metrics import confusion_matrix, metrics_from_matrix
from unetlab.metrics.isbi import (
    best_threshold,
    information_scores,
    pixel_error,
    rand_counts,
    rand_from_counts,
)
from unetlab.metrics.objects import instances, object_scores, summarize_objects
from unetlab.plots import plot_confusion

if TYPE_CHECKING:
    from unetlab.inference.predict import PredictOptions

log = logging.getLogger(__name__)

__all__ = [
    "Report",
    "check_evaluation",
    "evaluate_model",
    "evaluate_predictions",
    "data_root",
    "object_scores_wanted",
    "nan_to_none",
    "training_ignore_value",
]


@dataclass
class Report:
    """Results of an evaluation: :meth:`to_dict` for JSON, :meth:`table` for people.

    ``matrix``: (C, C) int64 confusion matrix over all images (rows truth, columns
    prediction); ``images``: one dict per image (``name``, ``miou``, ``pixel_accuracy``,
    ``iou`` per class, ``pixel_error``; with the object scores also ``rand_error``,
    ``information_score``, ``seg``, ``dsb``, ``object_f1``, ``pq``, ``objects``: ground-truth
    object count, ``pred_objects``, ``count_error``: (predicted - true) / true, ``area_ratio``:
    median predicted / true area of the objects matched at IoU > 0.5); ``summary``: the
    data-set figures. ``counting``: the objects are object ids (instance masks or an instance
    model): :meth:`table` then shows each image's counts.
    """

    class_names: list[str]
    matrix: np.ndarray
    images: list[dict]
    summary: dict
    boundary_class: int | None = 0
    threshold: dict | None = None
    worst_count: int = 5
    source: dict = field(default_factory=dict)
    counting: bool = False

    def worst(self, count: int | None = None) -> list[dict]:
        """The ``count`` worst images: by object F1 (ties: the larger |count error| first)
        when objects were scored, else by mIoU; images without a figure last."""
        count = self.worst_count if count is None else count
        return sorted(self.images, key=_worst_key)[:count]

    @property
    def worst_by(self) -> str:
        """What :meth:`worst` ranks by: ``"object_f1"`` or ``"miou"``."""
        return "object_f1" if any("object_f1" in r for r in self.images) else "miou"

    def to_dict(self) -> dict:
        """Plain snake_case keys; undefined values are NaN (:meth:`write_json` writes null)."""
        out = dict(self.summary)
        out["classes"] = {
            name: {
                "iou": self.summary["iou"][i],
                "dice": self.summary["dice"][i],
                "precision": self.summary["precision"][i],
                "recall": self.summary["recall"][i],
                "pixels": self.summary["pixels"][i],
            }
            for i, name in enumerate(self.class_names)
        }
        for key in ("iou", "dice", "precision", "recall", "pixels"):
            out.pop(key)
        for k, pq in out.pop("class_pq", {}).items():  # objects matched within their class
            out["classes"][self.class_names[k]].update(pq)
        out["boundary_class"] = (
            None if self.boundary_class is None else self.class_names[self.boundary_class]
        )
        out["confusion_matrix"] = self.matrix.tolist()
        if self.threshold is not None:
            out["best_threshold"] = self.threshold
        out["averaging"] = {k: v for k, v in AVERAGING.items() if k in out}
        if out.get("object_classes", 1) > 1:
            out["averaging"]["pq"] = out["averaging"]["sq"] = out["averaging"]["rq"] = (
                f"{SUMMED}, per class; then the mean over the {out['object_classes']} classes"
            )
        out["worst_images"] = [r["name"] for r in self.worst()]
        out["worst_images_by"] = self.worst_by
        out["images"] = self.images
        out.update(self.source)
        return out

    def table(self, *, objects_option: str = "objects=True") -> str:
        """The printed summary: per class IoU / Dice, the pixel figures, the ISBI and object
        figures (or one line on why they are left out, naming ``objects_option`` as the way
        to compute them: the CLI names its flag), the worst images."""
        s = self.summary
        width = max(8, *(len(n) for n in self.class_names))
        lines = [f"{'class':<{width}}  {'IoU':>7}  {'Dice':>7}  {'pixels':>10}"]
        for i, name in enumerate(self.class_names):
            lines.append(
                f"{name:<{width}}  {_f(s['iou'][i]):>7}  {_f(s['dice'][i]):>7}  "
                f"{s['pixels'][i]:>10}"
            )
        lines += [
            "",
            f"images             {s['num_images']}",
            f"mIoU               {_f(s['miou'])}   (all pixels, pooled over images; mean of "
            f"per-image mIoU {_f(s['mean_image_miou'])})",
            f"mean Dice          {_f(s['mdice'])}   (all pixels, pooled over images)",
            f"pixel accuracy     {_f(s['pixel_accuracy'])}   (all pixels, pooled over images)",
            f"pixel error        {_f(s['pixel_error'])}   (all pixels, pooled over images)",
            *(
                _object_lines(s)
                if "rand_error" in s
                else [_left_out(len(self.class_names), objects_option)]
            ),
        ]
        if self.threshold is not None:
            t = self.threshold
            if t.get("seed_threshold") is not None:
                lines.append(
                    f"best threshold     (cells split by a seeded watershed, seeds where the "
                    f"cell probability > {t['seed_threshold']})"
                )
            lines.append(
                f"best threshold     Rand error {_f(t['rand_error'])} at {t['rand_threshold']} "
                f"(pair counts summed over images), V_Info {_f(t['information_score'])} at "
                f"{t['information_threshold']} (mean over images), pixel error "
                f"{_f(t['pixel_error'])} at {t['pixel_threshold']} (mean over images)"
            )
            if plain := t.get("without_seeds"):
                better = "better" if t["rand_error"] <= plain["rand_error"] else "worse"
                lines.append(
                    f"                   without the watershed: Rand error "
                    f"{_f(plain['rand_error'])} at {plain['rand_threshold']} (the watershed "
                    f"does {better})"
                )
            lines.append(
                f"                   challenge pixel error {_f(t['challenge_pixel_error'])} at "
                f"{t['challenge_pixel_threshold']}   (1 - max F-score of the cell pixels, counts "
                "summed over images: the leaderboard's and the U-Net paper's pixel error)"
            )
            lines += _edge_note(t)
        if self.counting and "rand_error" in s:
            lines += count_table(self.images)
        worst, by = self.worst(), self.worst_by
        if worst:
            label = "object F1" if by == "object_f1" else "mIoU"
            lines.append(
                f"worst images ({label}): " + ", ".join(f"{r['name']} ({_f(r[by])})" for r in worst)
            )
        return "\n".join(lines)

    def write_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as JSON, atomically; NaN (undefined) is written as null."""
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(nan_to_none(self.to_dict()), indent=2) + "\n")
        return path

    def plot_confusion(self, path: str | os.PathLike) -> Path:
        """Write the row-normalised confusion matrix as a PNG (see :func:`plot_confusion`)."""
        return plot_confusion(self.matrix, self.class_names, path)


def _worst_key(row: dict) -> tuple:
    """Sort key of the worst images: object F1 then |count error| (largest first) when the
    row has them, else mIoU; NaN last."""
    if "object_f1" in row:
        f1 = row["object_f1"]
        return (math.isnan(f1), f1, -_abs_count_error(row))
    return (math.isnan(row["miou"]), row["miou"])


#: images the count table shows in full; beyond, the worst by |count error|
COUNT_ROWS = 20


def count_table(images: Sequence[dict], limit: int = COUNT_ROWS) -> list[str]:
    """Lines of a per-image table of object counts (true, predicted, relative error), object
    F1 at IoU > 0.5, DSB score and size (median predicted / true area of the matched objects):
    every image when there are at most ``limit``, else the ``limit`` with the largest
    |relative count error| and a line saying so."""
    rows = list(images)
    note = []
    if len(rows) > limit:
        rows = sorted(rows, key=lambda r: -_abs_count_error(r))[:limit]
        note = [
            f"(the {limit} of {len(images)} images with the largest |count error|; --json has all)"
        ]
    width = max(5, *(len(r["name"]) for r in rows))
    lines = [
        "",
        f"{'image':<{width}}  {'true':>6}  {'pred':>6}  {'error':>7}  {'F1@0.5':>6}  {'DSB':>6}"
        f"  {'size':>5}",
    ]
    for r in rows:
        err = r["count_error"]
        lines.append(
            f"{r['name']:<{width}}  {r['objects']:>6}  {r['pred_objects']:>6}  "
            f"{'n/a' if math.isnan(err) else f'{err:+.1%}':>7}  {_f(r['object_f1']):>6}  "
            f"{_f(r['dsb']):>6}  {_ratio(r['area_ratio']):>5}"
        )
    lines += note
    lines.append(
        "(error: (predicted - true) / true count; F1@0.5: objects matched one to one at IoU "
        "> 0.5; size: median predicted / true area of those matches)"
    )
    lines.append("")
    return lines


def _abs_count_error(row: dict) -> float:
    """|relative count error|; without true objects: infinite with predicted ones, else 0."""
    err = row["count_error"]
    if math.isnan(err):
        return math.inf if row["pred_objects"] else 0.0
    return abs(err)


def _ratio(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def count_error(true: int, pred: int) -> float:
    """(pred - true) / true; NaN without true objects."""
    return (pred - true) / true if true else math.nan


def _edge_note(t: dict) -> list[str]:
    """A line when the best challenge pixel error lies at the end of the levels swept (0.0:
    nearly every pixel called cell), comparing it with the all-cell map's."""
    levels = [row["threshold"] for row in t["per_threshold"]]
    best, trivial = t["challenge_pixel_threshold"], t.get("all_cell_pixel_error")
    if len(levels) < 2 or best not in (min(levels), max(levels)) or trivial is None:
        return []
    return [
        f"                   note: best at the end of the levels ({best}); calling every "
        f"pixel cell scores {_f(trivial)}: compare before reading it as the model's"
    ]


POOLED = "all pixels pooled over images (one confusion matrix)"
SUMMED = "counts summed over images"
PER_IMAGE = "mean over images"
#: how each data-set figure combines the images (``averaging`` in the JSON)
AVERAGING = {
    "classes": POOLED,
    "miou": POOLED,
    "mdice": POOLED,
    "mean_accuracy": POOLED,
    "pixel_accuracy": POOLED,
    "pixel_error": POOLED,
    "mean_image_miou": PER_IMAGE,
    "rand_error": "pair counts summed over images",
    "v_rand": "pair counts summed over images",
    "v_rand_split": "pair counts summed over images",
    "v_rand_merge": "pair counts summed over images",
    "information_score": PER_IMAGE,
    "dsb": PER_IMAGE,
    "object_f1": SUMMED,
    "object_precision": SUMMED,
    "object_recall": SUMMED,
    "pq": SUMMED,
    "sq": SUMMED,
    "rq": SUMMED,
    "seg": "mean over all ground-truth objects of all images",
    "objects": "summed over images",
    "pred_objects": "summed over images",
    "area_ratio": "median over the matched objects (IoU > 0.5) of all images",
    "object_tp": SUMMED,
    "best_threshold": "rand_error: pair counts summed over images; information_score, "
    "pixel_error: means over images; challenge_pixel_error: counts summed over images",
}


def _object_lines(s: dict) -> list[str]:
    true, pred = s["objects"], s["pred_objects"]
    off = f"{(pred - true) / true:+.1%}" if true else "n/a"
    classes = s.get("object_classes", 1)
    within = "; objects matched within their class" if classes > 1 else ""
    pq = (
        f"panoptic quality: mean over {classes} classes of each one's SQ x RQ, counts summed "
        f"over images; mean SQ {_f(s['sq'])}, RQ {_f(s['rq'])}"
        if classes > 1
        else f"panoptic quality = SQ {_f(s['sq'])} x RQ {_f(s['rq'])}, counts summed over images"
    )
    return [
        f"Rand error         {_f(s['rand_error'])}   (1 - V_Rand, foreground-restricted; pair "
        "counts summed over images)",
        f"information score  {_f(s['information_score'])}   (V_Info; mean over images)",
        f"objects            {pred} predicted, {true} true ({off})",
        f"DSB score          {_f(s['dsb'])}   (mean over images of TP/(TP+FP+FN) at IoU "
        "0.50:0.05:0.95)",
        f"object F1          {_f(s['object_f1'])}   (IoU > 0.5{within}; counts summed over "
        f"images; precision {_f(s['object_precision'])}, recall {_f(s['object_recall'])})",
        f"PQ                 {_f(s['pq'])}   ({pq})",
        f"SEG                {_f(s['seg'])}   (mean over all {true} ground-truth objects)",
        f"object size        {_ratio(s['area_ratio'])}   (median predicted / true area of the "
        f"{s['object_tp']} objects matched at IoU > 0.5, all images; 1 = same size)",
    ]


def _left_out(classes: int, option: str) -> str:
    return (
        f"ISBI and object scores left out for {classes} classes: they take class 0 as the "
        "boundary and each region of another class as an object (made for membrane/cell or "
        f"object masks); {option} computes them"
    )


def nan_to_none(value):
    """``value`` with every NaN float (also inside dicts, lists, tuples) as None, for JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nan_to_none(v) for v in value]
    return value


def _f(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"


# --- accumulating ------------------------------------------------------------------------


def _check_boundary(boundary_class: int | None, names: Sequence[str]) -> None:
    if boundary_class is not None and not 0 <= boundary_class < len(names):
        raise UnetlabError(
            f"boundary class {boundary_class} is not one of the classes 0..{len(names) - 1} "
            f"({', '.join(names)}); give one of them, or -1 (None) for none"
        )


#: the per-image keys of the ISBI and object scores (left out with the scores)
OBJECT_KEYS = (
    "rand_error",
    "information_score",
    "seg",
    "dsb",
    "object_f1",
    "pq",
    "objects",
    "pred_objects",
    "count_error",
    "area_ratio",
)


class _Accumulator:
    """Per-image measures, summed or kept for the data-set figures.

    ``objects``: compute the ISBI and object scores (True), not (False), or compute them
    and keep them only where the report has at most two classes (None).
    """

    def __init__(self, *, boundary_class: int | None, connectivity: int, objects: bool | None):
        self.boundary_class = boundary_class
        self.connectivity = connectivity
        self.want_objects = objects
        self.rows: list[dict] = []
        self.matrices: list[np.ndarray] = []
        self.rand = np.zeros(3)
        self.top = np.zeros(2, np.int64)  # the largest predicted and true class index
        self.rand_empty = True
        self.objects: list[dict] = []  # object_scores of each image
        self.probs: list[np.ndarray] = []
        self.truths: list[np.ndarray] = []

    def add(
        self,
        name: str,
        pred: np.ndarray,
        gt: np.ndarray,
        cell_prob=None,
        gt_ids=None,
        pred_ids=None,
    ):
        """``pred`` (H, W) class indices, ``gt`` (H, W) class indices (IGNORE_INDEX allowed);
        ``gt_ids`` / ``pred_ids``: the true / predicted objects' ids (0 = none) when there
        are any, else the connected regions of ``gt`` / ``pred``; ``cell_prob``: (H, W) cell
        probability, kept for ``best_threshold`` when given."""
        if pred.shape != gt.shape:
            raise UnetlabError(
                f"{name}: prediction is {pred.shape[1]}x{pred.shape[0]} but the ground truth "
                f"{gt.shape[1]}x{gt.shape[0]} (width x height); predict at the mask's size"
            )
        self.top = np.maximum(self.top, (pred.max(initial=0), gt.max(initial=0)))
        n = int(self.top.max()) + 1
        self.matrices.append(confusion_matrix(pred, gt, n))
        row = {"name": name, "pixel_error": pixel_error(pred, gt, ignore_index=IGNORE_INDEX)}
        if self.want_objects is not False:
            row.update(self._object_row(pred, gt, gt_ids, pred_ids))
        self.rows.append(row)
        if cell_prob is not None:
            self.probs.append(np.asarray(cell_prob, np.float32))
            self.truths.append(gt)

    def _object_row(self, pred, gt, gt_ids, pred_ids) -> dict:
        """One image's ISBI and object scores; the Rand pair counts and objects kept. Objects
        that are the regions of the class maps (no ids given) match only within their class."""
        by_class = {"pred_classes": pred, "gt_classes": gt} if gt_ids is pred_ids is None else {}
        if pred_ids is None:
            pred_ids = instances(
                pred, boundary_class=self.boundary_class, connectivity=self.connectivity
            )
        if gt_ids is None:
            gt_ids = instances(
                gt, boundary_class=self.boundary_class, connectivity=self.connectivity
            )
        pred_ids = without_ignored(pred_ids, gt)
        counts = rand_counts(pred_ids, gt_ids)
        self.rand += counts
        has_cells = bool((gt_ids > 0).any())
        self.rand_empty &= not has_cells
        objects = object_scores(pred_ids, gt_ids, **by_class)
        self.objects.append(objects)
        return {
            "rand_error": rand_from_counts(*counts, empty=not has_cells)["rand_error"],
            "information_score": information_scores(pred_ids, gt_ids)["v_info"],
            "seg": objects["seg"],
            "dsb": objects["dsb"],
            "object_f1": objects["f1"],
            "pq": objects["pq"],
            "objects": objects["true_objects"],
            "pred_objects": objects["pred_objects"],
            "count_error": count_error(objects["true_objects"], objects["pred_objects"]),
            "area_ratio": objects["area_ratio"],
        }

    def classes_seen(self) -> int:
        """1 + the largest class index of the predictions and masks added so far."""
        return max((m.shape[0] for m in self.matrices), default=0)

    def report(
        self, class_names: Sequence[str] | None, *, thresholds, worst: int, seed_threshold=None
    ) -> Report:
        if not self.rows:
            raise DatasetError("no images to evaluate")
        c = max(m.shape[0] for m in self.matrices)
        names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
        if len(names) < c:
            raise DatasetError(_too_many_classes(names, *self.top.tolist()))
        c = len(names)
        _check_boundary(self.boundary_class, names)
        total = np.zeros((c, c), np.int64)
        for row, m in zip(self.rows, self.matrices):
            padded = np.zeros((c, c), np.int64)
            padded[: m.shape[0], : m.shape[1]] = m
            total += padded
            per = metrics_from_matrix(padded)
            row.update(miou=per["miou"], pixel_accuracy=per["pixel_accuracy"], iou=per["iou"])
        summary = metrics_from_matrix(total)
        summary.pop("total")
        image_miou = [r["miou"] for r in self.rows if not math.isnan(r["miou"])]
        summary.update(
            num_images=len(self.rows),
            mean_image_miou=float(np.mean(image_miou)) if image_miou else math.nan,
            pixel_error=1.0 - summary["pixel_accuracy"],
        )
        if self.want_objects or (self.want_objects is None and c <= 2):
            summary.update(self._object_summary())
        else:
            for row in self.rows:
                for key in OBJECT_KEYS:
                    row.pop(key, None)
        threshold = None
        if thresholds is not None and self.probs:  # with seeds, the plain levels beside
            threshold = best_threshold(
                self.probs,
                self.truths,
                thresholds,
                boundary_class=0 if self.boundary_class is None else self.boundary_class,
                connectivity=self.connectivity,
                seed_threshold=seed_threshold,
            )
        return Report(names, total, self.rows, summary, self.boundary_class, threshold, worst)

    def _object_summary(self) -> dict:
        """The data-set ISBI figures (Rand of the summed pair counts, mean V_Info) and
        :func:`~unetlab.metrics.objects.summarize_objects`."""
        rand = rand_from_counts(*self.rand, empty=self.rand_empty)
        info = [r["information_score"] for r in self.rows if not math.isnan(r["information_score"])]
        return {
            "rand_error": rand["rand_error"],
            "v_rand": rand["v_rand"],
            "v_rand_split": rand["v_rand_split"],
            "v_rand_merge": rand["v_rand_merge"],
            "information_score": float(np.mean(info)) if info else math.nan,
            **summarize_objects(self.objects),
        }


def without_ignored(pred_ids: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred_ids`` with 0 (no object) where the truth ``gt`` is ignored (IGNORE_INDEX): the
    predicted objects are the prediction's own (its regions or ids, made from every pixel),
    scored on the labelled pixels only, so an object wholly in ignored pixels is no false
    positive and ignored pixels add to no object's size. A new array; the input is kept."""
    ignored = gt == IGNORE_INDEX
    return np.where(ignored, 0, pred_ids) if ignored.any() else pred_ids


def _too_many_classes(names: Sequence[str], pred_top: int, gt_top: int) -> str:
    """Why class indices beyond ``names`` cannot be scored, and the fix, by the side that
    holds them."""
    said = f"there are {len(names)} classes ({', '.join(names)})"
    if pred_top >= len(names):
        return (
            f"the predictions hold class index {pred_top} but {said}; predictions must hold "
            "class indices (not label values such as 255), or object ids: --pred-instances "
            "(pred_instances=True), or <stem>_objects.tif files"
        )
    return (
        f"the masks hold class index {gt_top} but {said}; every class needs a label value / "
        "name, and masks of object ids need --gt-instances (gt_instances=True)"
    )


def object_scores_wanted(
    asked: bool | None, classes: int | None, *, instances: bool
) -> bool | None:
    """Whether to compute the ISBI and object scores: as ``asked``; else with object ids
    (``instances``) or at most two ``classes`` (membrane/cell, background/object), not for
    more (semantic classes: class 0 as the "boundary" and every region of another class as
    an object mean nothing there); None when the classes are not known yet (computed, kept
    by the report only for at most two)."""
    if asked is not None:
        return asked
    if instances:
        return True
    return None if classes is None else classes <= 2


# --- data --------------------------------------------------------------------------------


def _has_data(folder: Path) -> bool:
    try:
        detect_layout(folder)
    except DatasetError:
        return False
    return True


def evaluation_pairs(path: str | os.PathLike) -> list[Pair]:
    """The pairs ``evaluate --data`` scores: those of ``path/val`` when it holds a data set
    (a train/ + val/ folder), the VOC ``val.txt`` images of a VOC folder that has one, else
    all of ``path``."""
    root = data_root(path)
    split = root / "ImageSets" / "Segmentation" / "val.txt"
    if detect_layout(root) == "voc" and split.is_file():
        names = [line.strip() for line in split.read_text().splitlines() if line.strip()]
        return find_pairs(root, names=names)
    return find_pairs(root)


def data_root(path: str | os.PathLike) -> Path:
    """``path/val`` when it holds a data set (images/ + masks/, ISBI or VOC), else ``path``."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"{path}: no such folder")
    return path / "val" if (path / "val").is_dir() and _has_data(path / "val") else path


def _encode(mask: np.ndarray, label_values, ignore_value, name: str) -> np.ndarray:
    if label_values is not None:
        return encode_mask(mask, list(label_values), ignore_value=ignore_value, name=name)
    out = np.asarray(mask).astype(np.int64)
    if ignore_value is not None:
        out[np.asarray(mask) == ignore_value] = IGNORE_INDEX
    if (out < IGNORE_INDEX).any() or (out > 4096).any():
        raise DatasetError(
            f"{name}: mask values {int(out.min())}..{int(out.max())} are not class indices; "
            "pass the label values (e.g. --label-values 0 255)"
        )
    return out


def _instance_mask(
    mask: np.ndarray, ignore_value, name: str, connectivity: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Object ids (H, W) -> (class indices: 0 background, 1 object, IGNORE_INDEX; the ids).

    A binary mask's objects are its ``connectivity``-connected components
    (:func:`unetlab.data.instances.instance_ids`, which also refuses fractional or negative ids).
    """
    mask = np.asarray(mask)
    ignored = mask == ignore_value if ignore_value is not None else np.zeros(mask.shape, bool)
    kept = np.where(ignored, 0, mask)
    ids = instance_ids(kept, name=name, connectivity=connectivity).astype(np.int64)
    return np.where(ignored, IGNORE_INDEX, ids > 0).astype(np.int64), ids


class _MaskPage(NamedTuple):
    """One page of a ground-truth mask file: its name in the report, the stem its prediction
    has, the page index, the mask's label values, the file and how many pages it has."""

    name: str
    stem: str
    page: int
    mask: np.ndarray
    path: Path
    pages: int


def _ground_truth(gt_dir: Path) -> tuple[list[Path], Iterator[_MaskPage]]:
    """The mask files of a data folder or a folder of masks, and an iterator of their pages
    (:class:`_MaskPage`); each mask file is read once."""
    root = data_root(gt_dir)
    if _has_data(root):
        pairs = find_pairs(root)
        return [p.mask for p in pairs], _pair_masks(pairs)
    files = find_images(root)
    if not files:
        raise DatasetError(
            f"{gt_dir}: no masks found; give a folder of masks or a data folder with masks/"
        )
    return files, _file_masks(files)


def _pair_masks(pairs: Sequence[Pair]) -> Iterator[_MaskPage]:
    read = PairReader()  # a stack's masks read once for all their pages
    for pair in pairs:
        masks = read.stack(pair.mask, mask=True)
        stem = pair.image.stem
        yield _MaskPage(pair.name, stem, pair.page, masks[pair.page], pair.mask, len(masks))


def _file_masks(files: Sequence[Path]) -> Iterator[_MaskPage]:
    for path in files:
        pages = read_stack(path, mask=True)
        for i, mask in enumerate(pages):
            name = path.stem if len(pages) == 1 else f"{path.stem}[{i}]"
            yield _MaskPage(name, path.stem, i, mask, path, len(pages))


def _palette_void(mask_files: Sequence[Path], ignore_value, label_values) -> int | None:
    """VOC's void value (255) when the masks are palette PNGs and neither ``ignore_value``
    nor ``label_values`` is given (the rule of training: :func:`unetlab.data.classes.void_value`),
    else None."""
    if ignore_value is not None or label_values is not None:
        return None
    return VOC_VOID if dataset_palette(mask_files) is not None else None


def _names_file(gt_dir: Path) -> dict[int, str] | None:
    """``{mask value: name}`` of the ``class_names.txt`` in ``gt_dir`` or, for a masks folder
    such as VOC's ``SegmentationClass/``, its parent (the data set's root); said in a log line."""
    for folder in (gt_dir, gt_dir.parent):
        if names := read_class_names(folder):
            log.info("class names from %s (--class-names gives others)", folder / NAMES_FILE)
            return names
    return None


def _data_set_names(gt_dir: Path, class_names, label_values, instances: bool):
    """(class names, ``{class index: name}`` to name the classes found by) from the data set's
    ``class_names.txt`` when none are given: by label value, or by index (masks holding
    class indices, whose count is known only once read)."""
    if class_names is not None or instances or not (names := _names_file(gt_dir)):
        return class_names, None
    if label_values is not None:
        return [names.get(v, str(v)) for v in label_values], None
    return None, names


OBJECTS_SUFFIX = "_objects"  # <stem>_objects.tif: the object ids of ``predict --instances``


def _prediction_files(pred_dir: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """(class maps ``<stem>.png``/``.tif``, object ids ``<stem>_objects.*``) by stem."""
    if not pred_dir.is_dir():
        raise DatasetError(f"{pred_dir}: no such prediction folder")
    maps: dict[str, Path] = {}
    objects: dict[str, Path] = {}
    for path in sorted(pred_dir.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.stem.endswith(("_overlay", "_prob")):
            continue
        if path.stem.endswith(OBJECTS_SUFFIX):
            objects.setdefault(path.stem[: -len(OBJECTS_SUFFIX)], path)
        else:
            maps.setdefault(path.stem, path)
    return maps, objects


class _Predictions:
    """The saved predictions of one folder, page by page: class indices and object ids.

    With ``instances`` the class-map files hold object ids too (a ``<stem>_objects`` file
    still wins). The pixel classes are the class map's, or background (0) / object (1) from
    the object ids where there is no class map or ``object_pixels`` (instance ground truth,
    whose classes are those two: an instance model's class map holds three).
    """

    def __init__(self, folder: Path, *, instances: bool, object_pixels: bool):
        self.folder = folder
        self.maps, self.objects = _prediction_files(folder)
        if instances:  # no class maps then
            self.maps, self.objects = {}, {**self.maps, **self.objects}
        self.object_pixels = object_pixels
        self.read_maps, self.read_objects = PairReader(), PairReader()

    def __contains__(self, stem: str) -> bool:
        return stem in self.maps or stem in self.objects

    def page(self, gt: _MaskPage) -> tuple[np.ndarray, np.ndarray | None]:
        """(class indices (H, W) int64, object ids (H, W) int64 or None) of one mask page."""
        ids, stem = None, gt.stem
        if stem in self.objects:
            ids = _page(self.read_objects, self.objects[stem], gt)
            if not np.issubdtype(ids.dtype, np.integer) or ids.min(initial=0) < 0:
                raise DatasetError(
                    f"{self.objects[stem]}: object ids are integers 0 (none), 1..n, not "
                    f"{ids.dtype} values from {ids.min()}; write the label image of the objects"
                )
            ids = ids.astype(np.int64)
        if ids is not None and (self.object_pixels or stem not in self.maps):
            return (ids > 0).astype(np.int64), ids
        path = self.maps[stem]
        return _class_indices(_page(self.read_maps, path, gt), path), ids


def _class_indices(pred: np.ndarray, path: Path) -> np.ndarray:
    """A saved class map as int64 class indices; UnetlabError naming ``path`` for values that
    are none: fractions (probabilities, read as class 0 by a cast), NaN, negative values."""
    if not np.issubdtype(pred.dtype, np.integer) and pred.dtype != bool:
        finite = np.isfinite(pred)
        if not finite.all() or not np.array_equal(pred, np.round(pred)):
            bad = pred[~finite] if not finite.all() else pred[pred != np.round(pred)]
            raise DatasetError(
                f"{path}: a class map holds class indices 0, 1, .., not {pred.dtype} values such "
                f"as {float(bad.flat[0]):g}; save the predicted class of each pixel (object ids: "
                "--pred-instances; probabilities: threshold them first, or evaluate the "
                "checkpoint with --checkpoint --data)"
            )
    if pred.min(initial=0) < 0:
        raise DatasetError(
            f"{path}: a class map holds class indices 0, 1, .., not {pred.min()}; save the "
            "predicted class of each pixel"
        )
    return pred.astype(np.int64)


def _page(read: PairReader, path: Path, gt: _MaskPage) -> np.ndarray:
    """Page ``gt.page`` of the prediction ``path``: one (H, W) label image of the ground
    truth's size, from a file of as many pages as the ground truth's."""
    pages = read.stack(path, mask=True)
    if len(pages) != gt.pages:
        raise DatasetError(_page_mismatch(path, len(pages), gt))
    pred, name, shape = pages[gt.page], gt.name, gt.mask.shape
    if pred.ndim != 2:
        raise DatasetError(f"{path}: a prediction is one (H, W) label image, not {pred.shape}")
    if pred.shape != tuple(shape):
        raise DatasetError(
            f"{path}: prediction is {pred.shape[1]}x{pred.shape[0]} but its ground truth "
            f"{name} is {shape[1]}x{shape[0]} (width x height); predict the full-size image"
        )
    return pred


def _page_mismatch(path: Path, pages: int, gt: _MaskPage) -> str:
    """Why a prediction of ``pages`` pages cannot be scored against ``gt``'s file, and the
    fix: page i is scored against page i, so a stack against one annotated plane would score
    its first plane, whichever plane was annotated."""
    said = f"{path} has {pages} page(s) but its ground truth {gt.path} has {gt.pages}"
    if gt.pages == 1:
        fix = (
            "to score the one annotated plane, save that plane of the prediction alone under "
            "this name (or predict that plane of the image)"
        )
    elif pages == 1:
        fix = "predict the whole stack (every annotated plane), or keep only the mask of this plane"
    else:
        fix = "predict the image whose planes the masks annotate"
    return f"{said}: page i is scored against page i; {fix}"


class MaskValuesError(DatasetError):
    """Masks read as class indices that hold label values or an unmapped ignore value. The
    message names the fix as Python keywords (``label_values=[0, 255]``); ``cli`` is the
    same message with the command line's flags (``--label-values 0 255``)."""

    def __init__(self, message: str, cli: str):
        super().__init__(message)
        self.cli = cli


def _check_ids_as_classes(
    values: np.ndarray, predicted: tuple[int, int], named: int, wide: bool
) -> None:
    """Refuse masks or predictions of object ids read as class indices (a forgotten
    ``gt_instances`` / ``pred_instances``): masks whose values look like ids
    (:func:`unetlab.data.instances.looks_like_instances`: over 16 values in 16-bit masks, or
    over 256) and number over 4 times the predicted classes; predictions with more values
    in one image than 64 and 4 times the masks' classes.

    ``values``: the sorted mask values present (empty when the classes are given);
    ``predicted``: the largest predicted value, and the most values of one prediction (0
    when the largest is at most 64); ``named``: how many classes are given or
    named by the data set (0: none); ``wide``: some mask is stored with over 8 bits.
    Raises :class:`MaskValuesError`.
    """
    (pred_max, pred_values), top = predicted, int(values[-1]) if values.size else -1
    ids = looks_like_instances(values.tolist(), wide=wide, folder_named=False)
    if ids and values.size > 4 * (pred_max + 1) and top >= named:
        said = (
            f"the masks hold {values.size} values ({values[0]}..{top}) but the predictions "
            f"class indices 0..{pred_max}: the masks look like object ids (instance masks)"
        )
        raise MaskValuesError(
            f"{said}; pass gt_instances=True to score them as objects",
            cli=f"{said}; pass --gt-instances to score them as objects",
        )
    classes = named or top + 1
    if pred_values > max(64, 4 * classes):
        said = (
            f"the predictions hold values up to {pred_max} but the masks {classes} classes: "
            "the predictions look like object ids"
        )
        fix = "or name the files <stem>_objects.tif, as predict --instances does"
        raise MaskValuesError(
            f"{said}; pass pred_instances=True to score them as objects ({fix})",
            cli=f"{said}; pass --pred-instances to score them as objects ({fix})",
        )


def _check_class_indices(values: np.ndarray, pred_max: int) -> None:
    """Refuse masks that hold label values (0/255) or an unmapped ignore value (VOC's 255)
    read as class indices: values beyond every predicted class, with a gap below them.

    ``values``: the sorted mask values present; ``pred_max``: the largest predicted index.
    Raises :class:`MaskValuesError`, its fix in Python terms and in the CLI's.
    """
    if not (values.size and values[-1] > pred_max and values.size < values[-1] + 1):
        return
    shown = [str(v) for v in values[:12]] + (["..."] if values.size > 12 else [])
    said = " ".join(shown)
    said = f"the masks hold values {said} but the predictions class indices 0..{pred_max}"
    extra = values[values > pred_max]
    indices = values.size - extra.size  # values that could be class indices 0..k
    if values.size > pred_max + 1 and values[0] == 0 and values[indices - 1] == indices - 1:
        # 0..k, plus a stray value or a few: VOC's 255 border is the usual one
        above = " ".join(map(str, extra[:6]))
        fix = "{} if it marks pixels that count nowhere"
        if extra.size > 1:
            fix = f"values {above} are above every class: map them to class indices"
        py, cli = f"ignore_value={extra[0]}", f"--ignore-value {extra[0]}"
    else:
        fix = "pass the mask value of each class: {}"
        py, cli = f"label_values=[{', '.join(shown)}]", f"--label-values {' '.join(shown)}"
    names = "(or {} if the masks do hold class indices)"
    raise MaskValuesError(
        f"{said}; {fix.format(py)} {names.format('class_names=[...]')}",
        cli=f"{said}; {fix.format(cli)} {names.format('--class-names')}",
    )


def check_evaluation(
    *,
    worst: int = 5,
    ignore_value: int | None = None,
    label_values: Sequence[int] | None = None,
    thresholds: Sequence[float] | None = None,
    seed_threshold: float | None = None,
    names: Mapping[str, str] | None = None,
) -> None:
    """Refuse arguments of :func:`evaluate_model` and :func:`evaluate_predictions` that are
    out of range or contradict each other, before anything is read (UnetlabError naming the
    fix): ``worst`` below 0, an ``ignore_value`` that is also one of the ``label_values``,
    a ``seed_threshold`` without ``thresholds`` or outside [0, 1]. ``names``: what the
    messages call each argument (the command line: its flags); by default its keyword."""

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    if worst < 0:
        raise UnetlabError(f"{name('worst')} must be 0 or more images, not {worst}")
    if ignore_value is not None and ignore_value in (label_values or ()):
        raise UnetlabError(
            f"{name('ignore_value')} {ignore_value} is also one of {name('label_values')}: a "
            "value is either a class or ignored"
        )
    if seed_threshold is None:
        return
    if thresholds is None:
        raise UnetlabError(
            f"{name('seed_threshold')} splits cells at each level of {name('thresholds')}: "
            f"add {name('thresholds')} or drop {name('seed_threshold')}"
        )
    if not 0.0 <= seed_threshold <= 1.0:
        raise UnetlabError(
            f"{name('seed_threshold')} is a probability in [0, 1], not {seed_threshold}"
        )


def evaluate_predictions(
    pred_dir: str | os.PathLike,
    gt_dir: str | os.PathLike,
    *,
    label_values: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    boundary_class: int | None = 0,
    ignore_value: int | None = None,
    connectivity: int = 1,
    gt_instances: bool = False,
    pred_instances: bool = False,
    objects: bool | None = None,
    worst: int = 5,
) -> Report:
    """Compare saved predictions with ground-truth masks.

    ``pred_dir``: label images of class indices named ``<stem>.png`` (``<stem>.tif`` for
    stacks, one page per mask page), as ``unetlab predict`` writes them, and/or object ids
    (0 = none, 1..n) in ``<stem>_objects.tif`` as ``unetlab predict --instances`` writes
    them, which are then the predicted objects. ``pred_instances``: the ``<stem>`` files
    hold object ids too. Object ids give the pixel classes background (0) and object (1)
    where there is no class map or with ``gt_instances``. ``gt_dir``: a folder of masks with the same stems, or a data folder (images/ + masks/, ISBI, VOC; its
    ``val/`` when it has one). ``label_values``: mask value of each class index (e.g.
    ``[0, 255]``); None means masks hold class indices. ``class_names`` default to the names
    in the data set's ``class_names.txt`` (line i names mask value i; in ``gt_dir`` or its
    parent, as for VOC's ``SegmentationClass/``), else to the label values (or the indices).
    Masks whose value is ``ignore_value`` count nowhere; None: with neither ``ignore_value``
    nor ``label_values``, palette masks' 255 (VOC's void outlines), as in training. Each of
    the two is said in a log line. Objects are
    the ``connectivity``-connected regions of every class but ``boundary_class`` (None: all).
    ``gt_instances``: the masks hold object ids (0 = background, 1..n, e.g. the cell tracking
    challenge's ``man_seg`` files); the pixel classes are background (0) and object (1), and
    the true objects are those ids, so touching objects stay apart in SEG, F1 and Rand.
    ``objects``: compute the ISBI and object scores; None: with object ids (either side) or
    at most two classes, not for more (:func:`object_scores_wanted`).
    A missing prediction or one of another size is an error naming the file; so are masks
    read as class indices that look like label values (0/255 with predictions 0..1) or hold
    an unmapped ignore value (VOC's 255): give ``label_values``, ``ignore_value`` or
    ``class_names``; so is a ``class_names`` whose length differs from ``label_values``,
    and so are the arguments :func:`check_evaluation` refuses.
    """
    check_evaluation(worst=worst, ignore_value=ignore_value, label_values=label_values)
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    class_names, by_index = _data_set_names(
        gt_dir, class_names, label_values, gt_instances or pred_instances
    )
    class_names = _prediction_classes(
        label_values, class_names, boundary_class, gt_instances, pred_instances
    )
    preds = _Predictions(pred_dir, instances=pred_instances, object_pixels=gt_instances)
    mask_files, masks = _ground_truth(gt_dir)
    void = _palette_void(mask_files, ignore_value, label_values)
    ignore_value = ignore_value if void is None else void
    known = len(class_names) if class_names is not None else None
    if by_index and len(by_index) > 2:  # the file names more than two: at least as many found
        known = len(by_index)
    with_ids = gt_instances or bool(preds.objects)
    objects = object_scores_wanted(objects, known, instances=with_ids)
    acc = _Accumulator(boundary_class=boundary_class, connectivity=connectivity, objects=objects)
    missing: list[str] = []
    gt_values = np.zeros(0, np.int64)  # pixels per mask value, to catch 0/255 masks
    pred_max = pred_values = voided = 0  # pred_values: most values in one page, when many
    wide = False  # a mask stored with more than 8 bits (16-bit ids?)
    for gt_page in masks:
        name, stem, mask = gt_page.name, gt_page.stem, gt_page.mask
        if stem not in preds:
            missing.append(stem)
            continue
        pred, pred_ids = preds.page(gt_page)
        if gt_instances:
            gt, gt_ids = _instance_mask(mask, ignore_value, name, connectivity)
        else:
            gt, gt_ids = _encode(mask, label_values, ignore_value, name), None
        if label_values is None and class_names is None:
            counts = np.bincount(gt[gt >= 0].ravel())
            gt_values = np.pad(gt_values, (0, max(len(counts) - len(gt_values), 0)))
            gt_values[: len(counts)] += counts
        pred_max = max(pred_max, int(pred.max(initial=0)))
        if pred_max > 64:  # object ids, or label values such as 255: count them
            pred_values = max(pred_values, len(np.unique(pred)))
        wide |= np.asarray(mask).dtype.itemsize > 1
        voided += 0 if void is None else int(np.count_nonzero(mask == void))
        acc.add(name, pred, gt, gt_ids=gt_ids, pred_ids=pred_ids)
    _refuse_missing(missing, pred_dir)
    if voided:
        log.info(
            "palette masks: value %d (VOC's void outlines, %d px) counts nowhere, as in "
            "training; --ignore-value or --label-values say otherwise",
            void,
            voided,
        )
    named = len(class_names) if class_names is not None else len(by_index or ())
    _check_ids_as_classes(np.flatnonzero(gt_values), (pred_max, pred_values), named, wide)
    _check_class_indices(np.flatnonzero(gt_values), pred_max)
    if by_index:  # the names of the classes found, and of those the file lists beyond
        count = max(len(by_index), acc.classes_seen())
        class_names = [by_index.get(i, str(i)) for i in range(count)]
    report = acc.report(class_names, thresholds=None, worst=worst)
    report.counting = with_ids
    report.source = {
        "predictions": str(pred_dir),
        "ground_truth": str(gt_dir),
        "ignore_value": ignore_value,
    }
    return report


def _refuse_missing(missing: list[str], pred_dir: Path) -> None:
    if missing:
        shown = ", ".join(sorted(set(missing))[:10])
        raise DatasetError(
            f"no prediction in {pred_dir} for {len(set(missing))} ground-truth file(s): {shown}; "
            "predictions are named <stem>.png (or <stem>_objects.tif) like their masks; "
            "predict every image of the ground truth, or give --gt a folder of only the "
            "predicted images' masks"
        )


def _prediction_classes(
    label_values, class_names, boundary_class, gt_instances: bool, pred_instances: bool
) -> list[str] | None:
    """The class names of an evaluation of saved predictions, the arguments checked."""
    if (
        class_names is not None
        and label_values is not None
        and len(class_names) != len(label_values)
    ):
        raise UnetlabError(
            f"{len(class_names)} class names ({', '.join(map(str, class_names))}) but "
            f"{len(label_values)} label values ({' '.join(map(str, label_values))}); "
            "give one class name per label value"
        )
    if (gt_instances or pred_instances) and boundary_class not in (0, None):
        raise UnetlabError("with object ids class 0 is the background: boundary class 0")
    if gt_instances:
        if label_values is not None:
            raise UnetlabError("instance masks hold object ids, not label values: drop them")
        class_names = ["background", "object"] if class_names is None else class_names
    if class_names is None and label_values is not None:
        class_names = [str(v) for v in label_values]
    if class_names is not None:
        _check_boundary(boundary_class, class_names)  # before reading anything
    return None if class_names is None else list(class_names)


def evaluate_model(
    model,
    data_dir: str | os.PathLike,
    options: PredictOptions | None = None,
    *,
    boundary_class: int | None = 0,
    thresholds: Sequence[float] | None = None,
    seed_threshold: float | None = None,
    ignore_value: int | None = None,
    connectivity: int = 1,
    objects: bool | None = None,
    worst: int = 5,
    pairs: Iterable[Pair] | None = None,
    progress: Callable[[str], None] | None = None,
    object_options=None,
    **settings,
) -> Report:
    """Predict each image of ``data_dir`` (its ``val/`` when it has one, a VOC folder's
    ``val.txt`` images: :func:`evaluation_pairs`) with ``model`` (a net, or the path of a
    checkpoint or package, loaded onto ``device``) and evaluate.

    Images are predicted whole with overlap-tile (:func:`unetlab.inference.predict.predict_image`)
    as ``options`` (a :class:`~unetlab.inference.predict.PredictOptions`) and ``settings``
    (its fields by name: ``tile_size=``, ``batch_size=``, ``blend=``, ``tta=``,
    ``precision=``, ``device=``, ``channel=``) say, checked before any image is read
    (:func:`unetlab.inference.files.check_options`); ``tta`` True: the flips and turns the
    net trained with, ``"all"``: the 8; ``channel`` None: the one the model was trained on,
    if it records one. Labels are the argmax (p >=
    0.5 for a one-channel net, which counts as two classes). Masks are mapped to class
    indices with ``model.label_values`` (None: masks hold indices); ``ignore_value`` None:
    the mask value the model's training ignored (:func:`training_ignore_value`, e.g. VOC's
    255 outlines), said in a log line. ``thresholds``: also
    threshold the cell probability (1 - P(boundary class)) at each level and report the best
    ISBI figures (e.g. :data:`unetlab.metrics.isbi.CHALLENGE_THRESHOLDS`; keeps one float32 map per
    image in memory); ``seed_threshold``: split touching cells at each level by a seeded
    watershed first (:func:`unetlab.metrics.isbi.best_threshold`). ``pairs`` overrides the
    data folder's pairs. ``objects``: compute the ISBI and object scores; None: for an
    instance-mode or two-class model, not for more classes (:func:`object_scores_wanted`).
    An instance-mode model
    (background / boundary / interior) is scored on its objects
    (:func:`unetlab.inference.objects.objects_from_probabilities` with ``object_options``,
    an :class:`~unetlab.inference.objects.ObjectOptions`; None: the checkpoint's defaults,
    ``ObjectOptions.for_model``) against the masks' object ids (binary masks: their connected
    components), the options used in ``report.source["object_options"]``; its pixel classes
    are then background and object. ``report.source`` also records the data folder, the
    model's ``label_offset``, the ``tta`` transforms averaged, and for a ``model`` given as a
    path the checkpoint (:func:`unetlab.checkpoint.checkpoint_source`). Arguments that
    :func:`check_evaluation` refuses raise UnetlabError before any image is read.
    """
    from unetlab.inference.files import check_options
    from unetlab.inference.objects import objects_from_probabilities
    from unetlab.inference.predict import PredictOptions, labels_from_probabilities, predict_image
    from unetlab.runtime import memory_hint

    check = dict(worst=worst, ignore_value=ignore_value, seed_threshold=seed_threshold)
    check_evaluation(thresholds=thresholds, **check)  # before a checkpoint loads
    checkpoint = None
    if isinstance(model, str | os.PathLike):  # a checkpoint or package, as the CLI takes
        from unetlab.checkpoint import checkpoint_source, load_model

        device = PredictOptions.of(options, **settings).device
        path, model = model, load_model(model, device=device)
        checkpoint = checkpoint_source(path, model)
    predicting = PredictOptions.for_model(model, options, **settings)
    check_options(model, predicting)
    check_evaluation(
        thresholds=thresholds, label_values=getattr(model, "label_values", None), **check
    )

    pairs = list(evaluation_pairs(data_dir) if pairs is None else pairs)
    object_options = _object_options(model, object_options)
    instance_model = object_options.mode == "instances"
    names = ["background", "object"] if instance_model else list(model.classes)
    label_values = getattr(model, "label_values", None)
    _check_boundary(boundary_class, names)
    if ignore_value is None and (ignore_value := training_ignore_value(model)) is not None:
        log.info(
            "mask value %d counts nowhere, as in the training of this checkpoint; "
            "--ignore-value sets another",
            ignore_value,
        )
    objects = object_scores_wanted(objects, len(names), instances=instance_model)
    acc = _Accumulator(boundary_class=boundary_class, connectivity=connectivity, objects=objects)
    read = PairReader()  # a stack's files read once for all their pages
    for pair in pairs:
        image, mask = read(pair)
        with memory_hint(str(pair.image), "lower --tile-size or --batch-size"):
            probs = predict_image(model, image, options=predicting, name=str(pair.image))
        if instance_model:  # objects from the post-processing, pixels: object or not
            gt, gt_ids = _instance_mask(mask, ignore_value, str(pair.mask), connectivity)
            pred_ids = objects_from_probabilities(probs, object_options).astype(np.int64)
            pred = (pred_ids > 0).astype(np.int64)
        else:
            gt, gt_ids = _encode(mask, label_values, ignore_value, str(pair.mask)), None
            pred, pred_ids = labels_from_probabilities(probs).astype(np.int64), None
        cell = None if thresholds is None else _cell_probability(probs, boundary_class)
        acc.add(pair.name, pred, gt, cell, gt_ids=gt_ids, pred_ids=pred_ids)
        if progress is not None:
            progress(pair.name)
    report = acc.report(names, thresholds=thresholds, worst=worst, seed_threshold=seed_threshold)
    report.counting = instance_model
    seen = training_overlap(
        pairs, getattr(model, "training_data", None), getattr(model, "training_split", None)
    )
    if seen:
        log.warning(
            "note: %d of these %d images trained this checkpoint: their figures overstate how "
            "it does on new images; score images it did not train on (its validation images, "
            "or a test set)",
            seen,
            len(pairs),
        )
    report.source = {"data": str(Path(data_dir).resolve()), "trained_images": seen}
    made = _model_source(model, predicting.tta, checkpoint)
    report.source |= made | {"ignore_value": ignore_value}
    if instance_model:
        report.source["object_options"] = asdict(object_options)
    return report


def _object_options(model, given):
    """The object options :func:`evaluate_model` finds objects with: ``given`` (for the
    model's mode), or the checkpoint's defaults."""
    from unetlab.inference.objects import ObjectOptions

    options = ObjectOptions.for_model(model)
    if given is not None and given.mode != options.mode:
        raise UnetlabError(
            f"object_options are for a {given.mode} model; this one is {options.mode}: use "
            "ObjectOptions.for_model(model, ...)"
        )
    return options if given is None else given


def _model_source(model, tta, checkpoint: dict | None) -> dict:
    """What of ``model`` made an evaluation's predictions, for ``report.source``: the
    checkpoint (given as a path), the label offset, the TTA transforms averaged."""
    from unetlab.inference.offset import label_offset
    from unetlab.inference.tta import resolve_tta

    made = dict(checkpoint or {}) | {"label_offset": list(label_offset(model))}
    if tta:
        made["tta"] = list(resolve_tta(model, tta))
    return made


def training_ignore_value(model) -> int | None:
    """The mask value that counted nowhere in the training of ``model`` (a net loaded from a
    checkpoint), or None: the value the checkpoint records (``model.ignore_value``), else, for
    checkpoints from before it was recorded, its config's ``data.ignore_value``, or VOC's void
    value (255) for palette masks whose values training found itself, when 255 is none of the
    classes (the rule of :func:`unetlab.train.fit`: palette masks' 255 outlines are ignored)."""
    if getattr(model, "ignore_value", None) is not None:
        return int(model.ignore_value)
    data = getattr(model, "training_data", None) or {}
    if data.get("ignore_value") is not None:
        return int(data["ignore_value"])
    found = data.get("label_values") is None  # the classes were the masks' values
    voc = getattr(model, "palette", None) is not None
    if found and voc and VOC_VOID not in (getattr(model, "label_values", None) or []):
        return VOC_VOID
    return None


def _cell_probability(probs: np.ndarray, boundary_class: int | None) -> np.ndarray:
    """(H, W) 1 - P(boundary class) of (K, H, W) probabilities (K = 1: a sigmoid net)."""
    b = 0 if boundary_class is None else boundary_class
    boundary = (1 - probs[0] if b == 0 else probs[0]) if probs.shape[0] == 1 else probs[b]
    return 1.0 - boundary


def trained_on(data: dict | None) -> set[tuple[Path, int]]:
    """The (image file, page) pairs a checkpoint's run trained on, split from its data folder
    as its config's ``data`` section says (``model.training_data``); empty when that folder
    is gone."""
    try:
        train, _ = training_split(data)
    except DatasetError:  # no folder, or it has changed since: nothing to say
        return set()
    return {(p.image.resolve(), p.page) for p in train}


def training_overlap(pairs: Sequence[Pair], data: dict | None, split: dict | None = None) -> int:
    """How many of ``pairs`` trained a checkpoint: by their bytes, where it records its files
    (``split``, :func:`unetlab.data.split_record.trained_count`: renamed or copied files
    count, files added to its data folder since do not); else (a checkpoint from before
    runs recorded them) by the files its config's ``data`` section splits off now."""
    if split is not None:
        return trained_count(pairs, split)
    trained = trained_on(data)
    return sum((p.image.resolve(), p.page) in trained for p in pairs)
