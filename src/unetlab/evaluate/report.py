"""The report of an evaluation: :class:`Report` (its JSON and its printed table), the
per-image count table, how each data-set figure combines the images (:data:`AVERAGING`), and
the number formatting they share."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.datasets import data_set_folders
from unetlab.data.instances import ignore_keyword
from unetlab.data.io import INPUT_SUFFIXES
from unetlab.errors import Spelled, said_as
from unetlab.evaluate.cases import CASE_MEAN, case_lines, case_mean, with_trained
from unetlab.evaluate.earlier import (
    INPUT_KEYS,
    PNG_KEY,
    record_csv_scoring,
    refuse_earlier_report,
    scoring_record,
)
from unetlab.evaluate.matching import matching_line, matching_tables, write_matching_csv
from unetlab.evaluate.spread import (
    SPREAD,
    VOLUME_KEYS,
    per_image_spread,
    spread_lines,
    write_image_csv,
)
from unetlab.metrics.confusion import RARE_IOU, metrics_from_matrix
from unetlab.outputs import (
    RECORD_FILES,
    claim_files,
)
from unetlab.plots import plot_confusion
from unetlab.words import numbered

#: the summary's per-class figures, each a class's in the JSON's ``classes``
_CLASS_KEYS = ("iou", "dice", "precision", "recall", "pixels")


@dataclass(repr=False)
class Report:
    """Results of an evaluation: :meth:`to_dict` for JSON, :meth:`table` for people.

    ``matrix``: (C, C) int64 confusion matrix over all images (rows truth, columns
    prediction); ``images``: one dict per image (``name``, ``miou``, ``mdice``,
    ``pixel_accuracy``, ``iou`` and ``dice`` per class, ``pixel_error``, ``trained`` where a
    checkpoint was scored; with the object scores also ``rand_error``,
    ``information_score``, ``seg``, ``dsb``, ``object_f1``, ``pq``, ``objects``: ground-truth
    object count, ``pred_objects``, ``count_error``: (predicted - true) / true, ``area_ratio``:
    median predicted / true area of the objects matched at IoU >= 0.5); ``summary``: the
    data-set figures. ``counting``: the objects are object ids (instance masks or an instance
    model): :meth:`table` then shows each image's counts. ``pair_ious``: ``(name,
    PairIoU)`` of each image when objects were scored, whose StarDist matching table at
    ``iou_thresholds`` (default 0.1 .. 0.9) :meth:`matching` gives, the JSON holds pooled
    (``matching``) and :meth:`write_matching_csv` writes per image.
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
    pair_ious: list = field(default_factory=list)
    #: per class, its labelled pixels predicted as the masks' ignore value (no class), or None
    missed: np.ndarray | None = None
    iou_thresholds: tuple[float, ...] | None = None
    #: the classes no mask pixel counts in (the class of the mask value training ignored, or
    #: evaluate's ignore value: by its label value, without label values its index, as
    #: :func:`~unetlab.data.classes.ignored_class` and ``counted_classes`` read it), which the
    #: line on object scores left out does not count
    uncounted: tuple[int, ...] = ()
    #: the predictions are class maps read from files, one of them with no record of the
    #: labels unetlab wrote (another tool's): a rare class's line may name the maps' fix
    #: (:func:`_rare_fix`; review s69: unetlab's own class indices were told to save each 2
    #: as 1)
    foreign_maps: bool = False
    #: the paths the evaluate command claimed for its files before scoring, each taken once
    #: by its writer without claiming it again (:meth:`claim` adds none: every other write
    #: is claimed where it is made)
    claimed: set[Path] = field(default_factory=set, compare=False)
    #: one row per case (a NIfTI volume, scored whole: :mod:`unetlab.evaluate.cases`), and
    #: each image row's case (None for an image of none)
    cases: list[dict] = field(default_factory=list)
    image_cases: list[str | None] = field(default_factory=list)

    def __repr__(self) -> str:
        """One line (a notebook cell's value; the dataclass's was pages of per-image dicts
        and pair arrays, audit s42 api): the images, classes and headline figures."""
        s = self.summary
        keys = ("miou", "mdice", "object_f1")
        figures = [f"{k} {s[k]:.4f}" for k in keys if isinstance(s.get(k), (int, float))]
        return (
            f"Report({len(self.images)} images, classes {self.class_names}, "
            f"{', '.join(figures)}; print(report.table()) for the rest, to_dict() for all)"
        )

    def worst(self, count: int | None = None) -> list[dict]:
        """The ``count`` worst images: by object F1 (ties: the larger |count error| first)
        when objects were scored, else by mIoU; images without a figure last."""
        count = self.worst_count if count is None else count
        return sorted(self.images, key=_worst_key)[:count]

    @property
    def worst_by(self) -> str:
        """What :meth:`worst` ranks by: ``"object_f1"`` or ``"miou"``."""
        return "object_f1" if any("object_f1" in r for r in self.images) else "miou"

    def shown_classes(self) -> list[int]:
        """The class indices the JSON, the CSV and the confusion PNG hold: all but a run of
        unnamed classes in no mask and no prediction below a value beyond the classes
        (:func:`stray_classes`: 255 scored as a class beside 0..10 made a 256 x 256 matrix
        of zeros, its PNG unreadable, s51 scene255) and the ignore value's (:func:`void_class`);
        each is named by its value."""
        gap = set(stray_classes(self.summary["iou"], self.class_names)[0])
        gap |= set(void_class(self.summary["iou"], self.class_names, self.source))
        return [i for i in range(len(self.class_names)) if i not in gap]

    def to_dict(self) -> dict:
        """Plain snake_case keys; undefined values are NaN (:meth:`write_json` writes null).
        The classes, the confusion matrix (``confusion_classes`` names its rows and columns)
        and the per-image figures hold the :meth:`shown_classes`."""
        out = dict(self.summary)
        shown, names = self._shown()
        out["classes"] = {self.class_names[i]: self._class_figures(i) for i in shown}
        for key in _CLASS_KEYS:
            out.pop(key)
        if self.missed is not None:  # no column's: a row and this make the class's pixels
            for i in shown:
                out["classes"][self.class_names[i]]["predicted_ignore"] = int(self.missed[i])
        for k, pq in out.pop("class_pq", {}).items():  # objects matched within their class
            out["classes"][self.class_names[k]].update(pq)
        # only where the object scores used it: an 11-class road model's JSON said "road"
        scored = self.boundary_class is not None and "rand_error" in self.summary
        out["boundary_class"] = self.class_names[self.boundary_class] if scored else None
        out["confusion_matrix"] = self.matrix[np.ix_(shown, shown)].tolist()
        out["confusion_classes"] = names
        if self.threshold is not None:
            out["best_threshold"] = self.threshold
        if self.pair_ious:
            out["matching"] = self.matching()[1]
        pooled = _pooled_over(out.get("ignored_pixels", 0), out.get("nodata_pixels", 0))
        out["averaging"] = {
            k: pooled if v == POOLED else v for k, v in AVERAGING.items() if k in out
        }
        if out.get("object_classes", 1) > 1:
            out["averaging"]["pq"] = out["averaging"]["sq"] = out["averaging"]["rq"] = (
                f"{SUMMED}, per class; then the mean over the {out['object_classes']} classes"
            )
        images = self._shown_images(shown)
        out["per_image"] = per_image_spread(images, names)
        out["averaging"]["per_image"] = SPREAD
        out["worst_images"] = [r["name"] for r in self.worst()]
        out["worst_images_by"] = self.worst_by
        out["images"] = images
        if self.cases:
            out["cases"] = cases = self._shown_cases(shown)
            out["case_mean"] = case_mean(cases, names, shown)
            out["averaging"]["case_mean"] = CASE_MEAN
        out.update(self.source)
        return out

    def _class_figures(self, i: int) -> dict:
        """Class ``i``'s figures of the summary (:data:`_CLASS_KEYS`)."""
        return {key: self.summary[key][i] for key in _CLASS_KEYS}

    def _shown(self) -> tuple[list[int], list[str]]:
        """(:meth:`shown_classes`, their names)."""
        shown = self.shown_classes()
        return shown, [self.class_names[i] for i in shown]

    def _shown_images(self, shown: list[int], rows: list[dict] | None = None) -> list[dict]:
        """The per-image rows (or ``rows``) with their per-class ``iou`` and ``dice`` of the
        ``shown`` classes only (the rows themselves where every class is shown)."""
        rows = self.images if rows is None else rows
        if len(shown) == len(self.class_names):
            return rows
        keep = {"iou", "dice", *VOLUME_KEYS}
        return [
            {
                k: [v[i] for i in shown] if k in keep and isinstance(v, list) else v
                for k, v in row.items()
            }
            for row in rows
        ]

    def _shown_cases(self, shown: list[int]) -> list[dict]:
        """The case rows of the ``shown`` classes, ``trained`` where the images say it."""
        rows = with_trained(self.cases, self.images, self.image_cases)
        return self._shown_images(shown, rows)

    def matching(self, thresholds=None) -> tuple[list[tuple[str, list[dict]]], list[dict]]:
        """StarDist's matching table per image and pooled at ``thresholds`` (default
        ``iou_thresholds``, else 0.1 .. 0.9): :func:`unetlab.evaluate.matching.matching_tables`."""
        return matching_tables(self.pair_ious, thresholds or self.iou_thresholds)

    def write_matching_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write :meth:`matching` as CSV (one row per image and threshold, then the pooled
        rows), atomically, where :meth:`claim` allows it; a table of another checkpoint,
        data or predictions there only with ``overwrite``, as :meth:`write_json`."""
        return write_matching_csv(self._table_path(path, overwrite), *self.matching())

    def table(
        self, *, objects_option: str = "objects=True", every_row: str = "report.images"
    ) -> str:
        """The printed summary: per class IoU / Dice, the pixel figures, the ISBI and object
        figures (or one line on why they are left out, naming ``objects_option`` as the way
        to compute them), the spread of the images' own figures, the count table (past
        :data:`COUNT_ROWS` images, a line naming ``every_row`` as where every image's row
        is), the worst images. The CLI names its flags (``--object-scores``, ``--json``)."""
        s = self.summary
        lines = _class_lines(s, self.class_names, self.source, self.matrix, self.uncounted)
        void = None if self.missed is None else (self.missed, self.source.get("ignore_value"))
        lines += _unpredicted_line(self.matrix, self.class_names, void, maps=self.foreign_maps)
        lines += _pixel_lines(s, self.source.get("exclude_rows"))
        lines += _predicted_ignore_line(s, self.source.get("ignore_value"))
        lines += _challenge_line(s, self.class_names, self.boundary_class)
        if self.source.get("objects_3d"):  # evaluate_volumes': an image is a stack
            lines.append(VOLUMES_LINE)
        lines += (
            _object_lines(s) + _class_object_line(s, self.class_names)
            if "rand_error" in s
            else [_left_out(len(set(self.shown_classes()) - set(self.uncounted)), objects_option)]
        )
        if self.pair_ious and "rand_error" in s:
            lines.append(matching_line(self.matching()[1]))
        if self.threshold is not None:
            lines += _threshold_lines(self.threshold)
        trained = sum(bool(r.get("trained")) for r in self.images)
        shown, names = self._shown()  # the stray values' and the ignore value's left out
        spread = per_image_spread(self._shown_images(shown), names)
        ignored = [self.class_names[k] for k in self.uncounted]
        lines += spread_lines(spread, names, trained, ignored=ignored)
        if self.cases:
            cases = self._shown_cases(shown)
            lines += case_lines(case_mean(cases, names, shown), cases, names, shown)
        if self.counting and "rand_error" in s:
            lines += count_table(self.images, every_row=every_row)
        worst, by = self.worst(), self.worst_by
        if worst:
            label = "object F1" if by == "object_f1" else "mIoU"
            lines.append(
                f"worst images ({label}): " + ", ".join(f"{r['name']} ({_f(r[by])})" for r in worst)
            )
        return "\n".join(lines)

    def json_text(self) -> str:
        """:meth:`to_dict` as JSON text, NaN (undefined) as null, ending in a newline."""
        return json.dumps(nan_to_none(self.to_dict()), indent=2) + "\n"

    def write_json(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write :meth:`json_text`, atomically, where :meth:`claim` allows it (and never over
        a file whose suffix names another format: an image, a CSV); an earlier report of
        another checkpoint, data or predictions there only with ``overwrite``
        (:func:`~unetlab.evaluate.earlier.refuse_earlier_report`: it would be lost)."""
        path = self._claimed(path, overwrite, fmt="JSON")
        refuse_earlier_report(path, self.to_dict(), overwrite=overwrite)
        with atomic_path(path) as tmp:
            tmp.write_text(self.json_text())
        return path

    def write_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write each image's row (name, trained, pixel figures, IoU and Dice per class, object
        scores) as CSV, atomically (:func:`unetlab.evaluate.spread.write_image_csv`), where
        :meth:`claim` allows it; a table of another checkpoint, data or predictions there
        only with ``overwrite``, as :meth:`write_json`. The ``uncounted`` classes (the
        ignore value's) have no column, as in metrics.csv: they were always empty (s70)."""
        shown = [k for k in self.shown_classes() if k not in self.uncounted]
        rows, names = self._shown_images(shown), [self.class_names[k] for k in shown]
        return write_image_csv(self._table_path(path, overwrite), rows, names)

    def write_cases_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write each case's row (name, trained, mIoU, mean Dice, IoU and Dice per class over
        its whole volume, its slices) as CSV, as :meth:`write_csv` writes the images'."""
        shown = [k for k in self.shown_classes() if k not in self.uncounted]
        rows, names = self._shown_cases(shown), [self.class_names[k] for k in shown]
        return write_image_csv(self._table_path(path, overwrite), rows, names)

    def plot_confusion(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the row-normalised confusion matrix as a PNG (see :func:`plot_confusion`),
        where :meth:`claim` allows it, recording what it scored in a text chunk
        (:func:`~unetlab.evaluate.earlier.scoring_record`): a picture of another
        checkpoint, data or predictions there only with ``overwrite``, as :meth:`write_json`."""
        shown, names = self._shown()
        matrix = self.matrix[np.ix_(shown, shown)]
        path = self._claimed(path, overwrite)
        refuse_earlier_report(path, self.source, overwrite=overwrite)
        scored = {PNG_KEY: json.dumps(scoring_record(self.source))}
        missed = (
            None if self.missed is None else (self.missed[shown], self.source.get("ignore_value"))
        )
        return plot_confusion(matrix, names, path, metadata=scored, missed=missed)

    def claim(self, path: str | os.PathLike, *, overwrite: bool = False, fmt=None) -> Path:
        """``path`` as ``unetlab evaluate --json`` claims its files (:func:`claim_outputs`):
        OutputError (one line, nothing written) for one of the
        files scored (the folders of :data:`INPUT_KEYS` in :attr:`source`, the predictions'
        record), another command's record, a file of a training run, a file among the data
        scored (read as an image or mask next time), or an existing file evaluate did not
        write unless ``overwrite`` (``fmt``: the format its suffix must name, e.g.
        ``"JSON"``); evaluate's own earlier file is replaced (but by :meth:`write_json`, an
        earlier report of something else only with ``overwrite``) (audit s48 apiwalk: from Python
        each replaced any file, a mask of the data scored too)."""
        path = Path(path)
        claim_outputs(
            [path],
            self.source,
            overwrite=overwrite,
            formats={path: fmt} if fmt else None,
        )
        return path

    def _table_path(self, path: str | os.PathLike, overwrite: bool) -> Path:
        """``path`` claimed (:meth:`_claimed`) for a CSV, refused where it holds the table
        of another scoring unless ``overwrite`` (as :meth:`write_json` refuses a report),
        and listed with what this one scored (a CSV records nothing of it itself)."""
        path = self._claimed(path, overwrite)
        refuse_earlier_report(path, self.source, overwrite=overwrite)
        record_csv_scoring(path, self.source)
        return path

    def _claimed(self, path: str | os.PathLike, overwrite: bool, fmt=None) -> Path:
        """``path``, claimed once: a path in :attr:`claimed` (the command claimed its files
        before scoring) is taken without claiming it again, once (a later write there is
        claimed: evaluate's own file by then, or another's put there since, s49 review1)."""
        path = Path(path)
        if path in self.claimed:
            self.claimed.discard(path)
            return path
        return self.claim(path, overwrite=overwrite, fmt=fmt)


def scored_inputs(source: dict) -> list:
    """What a report of ``source`` (:attr:`Report.source`, or the command's inputs by the
    same keys) scored: the files and folders of :data:`INPUT_KEYS`, and the record of the
    predictions scored (``predict.json``, read for their label values, ignore value and
    classes), which its files never replace, overwrite or not (one that predict's manifest
    lists is refused first as predict's record: :func:`~unetlab.outputs.claim_files`)."""
    inputs = [source[k] for k in INPUT_KEYS if source.get(k)]
    if source.get("predictions"):
        record = Path(source["predictions"]) / RECORD_FILES["predict"]
        inputs += [record] if record.is_file() else []
    return inputs


def claim_outputs(
    paths: Sequence[Path],
    source: dict,
    *,
    overwrite: bool,
    formats: dict | None = None,
) -> list[Path]:
    """The one claim of evaluate's files, from Python (:meth:`Report.claim`) and from the
    command (before any scoring): :func:`~unetlab.outputs.claim_files`' OutputError (one
    line, nothing written) for another command's record, a path that is one of
    :func:`scored_inputs` of ``source``, lies in one of :func:`data_folders_of` ``source``
    (read as data next time), a run's file, a file evaluate did not write unless
    ``overwrite``, another format than ``formats`` names. Returns ``paths``."""
    paths = [Path(p) for p in paths]
    if not paths:
        return paths
    claim_files(
        paths,
        inputs=scored_inputs(source),
        suffixes=INPUT_SUFFIXES,
        data=data_folders_of(source),
        overwrite=overwrite,
        command="evaluate",
        formats=formats,
    )
    return paths


def data_folders_of(source: dict) -> list[Path]:
    """The folders of the data sets a report's ``source`` scored (``ground_truth``, and
    those below ``data``), where a file written would be read as an image or mask: an
    image written there would be read as data next time (``--json data/masks/e.json`` wrote
    ``e_confusion.png`` among the training masks of ``--gt data/val/masks``, or among the
    images of ``--gt data/masks``; audit s37 paths E), from the data sets' layout alone."""
    folders = data_set_folders(source["ground_truth"]) if source.get("ground_truth") else []
    if data := source.get("data"):
        folders += [f for f in data_set_folders(data) if f != Path(data).resolve()]
    return folders


#: what the table's words mean for 3-D objects (evaluate --objects-3d)
VOLUMES_LINE = (
    "3-D objects: each image below is a z-stack (of a TZYX movie: one time point), its "
    "objects matched by IoU over voxels; pixels are voxels, an object's area its volume"
)


def _worst_key(row: dict) -> tuple:
    """Sort key of the worst images: object F1 then |count error| (largest first) when the
    row has them, else mIoU; NaN last."""
    if "object_f1" in row:
        f1 = row["object_f1"]
        return (math.isnan(f1), f1, -_abs_count_error(row))
    return (math.isnan(row["miou"]), row["miou"])


#: images the count table shows in full; beyond, the worst by |count error|
COUNT_ROWS = 20


def count_table(
    images: Sequence[dict], limit: int = COUNT_ROWS, *, every_row: str = "report.images"
) -> list[str]:
    """Lines of a per-image table of object counts (true, predicted, relative error), object
    F1 at IoU >= 0.5, DSB score and size (median predicted / true area of the matched objects):
    every image when there are at most ``limit``, else the ``limit`` with the largest
    |relative count error| and a line saying so, and that ``every_row`` has all."""
    rows = list(images)
    note = []
    if len(rows) > limit:
        rows = sorted(rows, key=lambda r: -_abs_count_error(r))[:limit]
        note = [
            f"(the {limit} of {len(images)} images with the largest |count error|; {every_row} has all)"
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
        ">= 0.5; size: median predicted / true area of those matches)"
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
    "challenge_pixel_error": "1 - F-score of the cell pixels (every class but the boundary "
    "class), counts summed over images",
    "mean_image_miou": PER_IMAGE,
    "labelled_pixels": "summed over images",
    "ignored_pixels": "summed over images",
    "nodata_pixels": "summed over images",
    "nodata_pixels_pred": "summed over images",
    "nodata_pixels_truth": "summed over images",
    "predicted_ignore_pixels": "summed over images",
    "predicted_ignore_scored": "summed over images",
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
    "area_ratio": "median over the matched objects (IoU >= 0.5) of all images",
    "object_tp": SUMMED,
    "matching": "StarDist's matching table at each IoU threshold (objects matched one to one "
    "at IoU >= t): counts and matched IoU summed over images, then the figures "
    "(matching_dataset, by_image=False); per image: Report.write_matching_csv (evaluate "
    "--json's _matching.csv)",
    "best_threshold": "rand_error: pair counts summed over images; information_score, "
    "pixel_error: means over images; challenge_pixel_error: counts summed over images",
}


def _pooled_over(ignored: int, nodata: int = 0) -> str:
    """How the pixel figures combine the images: :data:`POOLED`, or, with ``ignored`` pixels
    (the masks' ignore value) or ``nodata`` ones (the predictions left them out), the
    labelled pixels pooled and how many count nowhere."""
    if not ignored and not nodata:
        return POOLED
    counted = [f"{n} {what} pixels" for n, what in ((ignored, "ignored"), (nodata, "no-data")) if n]
    return (
        f"labelled pixels pooled over images (one confusion matrix; {' and '.join(counted)} "
        "count nowhere)"
    )


def _class_lines(
    s: dict, class_names: Sequence[str], source: dict | None = None, matrix=None, uncounted=()
) -> list[str]:
    """The per-class table: IoU, Dice and pixel count of each class, its header naming the
    precision the predictions were made in (``source["precision"]``: a checkpoint's), less
    the rows of a long gap below stray values (:func:`stray_classes`, said in one line); the
    ``uncounted`` classes (the ignored value's) ``ignored``, in no mean."""
    width = max(8, *(len(n) for n in class_names))
    precision = (source or {}).get("precision")
    made = f"  (predicted in {precision})" if precision else ""
    lines = [f"{'class':<{width}}  {'IoU':>7}  {'Dice':>7}  {'pixels':>10}{made}"]
    gap, strays = stray_classes(s["iou"], class_names)
    void = void_class(s["iou"], class_names, source or {})
    for i, name in enumerate(class_names):
        if i in gap or i in void:
            continue
        iou, dice = (_f(s[k][i]) if i not in uncounted else "ignored" for k in ("iou", "dice"))
        lines.append(f"{name:<{width}}  {iou:>7}  {dice:>7}  {s['pixels'][i]:>10}")
    left = {*gap, *void, *uncounted}
    absent = [n for i, n in enumerate(class_names) if math.isnan(s["iou"][i]) and i not in left]
    absent += [f"{gap[0]}..{gap[-1]} ({len(gap)} values, no rows)"] if gap else []
    if absent:  # a label value too many was scored n/a without a word (audit s41)
        lines.append(
            f"{', '.join(absent)}: in no mask and no prediction: IoU and Dice n/a, left out of "
            "mIoU and mean Dice (a label value or class name too many?)"
        )
    lines += _stray_line(gap, strays, class_names, matrix, (source or {}).get("ignore_value"))
    return lines + precision_line(source or {}) + _unseen_line(s, class_names)


def void_class(iou: Sequence[float], class_names: Sequence[str], source: dict) -> list[int]:
    """[the class index of the masks' ignore value] where masks of class indices ignore one
    of them (``--ignore-value 0`` beside 1 and 2) and it is unnamed (a label value given
    cannot be the ignore value, a name given is the user's), in no mask and no prediction
    (its pixels count nowhere, predicted ones in no column); else []. No row of its own
    (review s66: a row '0 n/a' said 'a label value or class name too many?')."""
    ignored = source.get("ignore_value")
    if not isinstance(ignored, int) or not 0 <= ignored < len(class_names):
        return []
    return [ignored] if class_names[ignored] == str(ignored) and math.isnan(iou[ignored]) else []


#: this many unnamed classes in a row in no mask and no prediction, below a class that is in
#: one: values read as class indices that are no class (VOC's 255 void beside 0..10)
STRAY_GAP = 8


def stray_classes(iou: Sequence[float], class_names: Sequence[str]) -> tuple[list[int], list[int]]:
    """(the unnamed classes in no mask and no prediction (IoU n/a) in a run of
    :data:`STRAY_GAP` or more, below a class that is held or last, the classes held above
    such a run): mask or predicted values beyond the classes, read as class indices (audit s50
    roads: predictions holding 255 printed classes 11..254 as 244 rows of n/a)."""
    gap: list[int] = []
    strays: list[int] = []
    run: list[int] = []
    for i, (value, name) in enumerate(zip(iou, class_names)):
        if math.isnan(value) and name == str(i):
            run.append(i)
            continue
        gap += run if len(run) >= STRAY_GAP else []
        strays += [i] if gap and not math.isnan(value) else []
        run = []
    return gap + (run if len(run) >= STRAY_GAP else []), strays


#: the mask values of the classes, as each caller gives them
LABEL_VALUES = Spelled("label_values=", "--label-values")
#: class maps of mask values, as each caller writes them
PREDICTED_VALUES = Spelled(
    "predict_folder(..., label_values=True)", "unetlab predict --label-values"
)
#: predicting in bf16, as each caller asks for it
BF16 = Spelled("precision='bf16'", "--precision bf16")


def _stray_line(
    gap: list[int], strays: list[int], class_names: Sequence[str], matrix, ignored=None
) -> list[str]:
    """One line on :func:`stray_classes`: the values, their pixels in the masks and in the
    predictions, the gap left out of the table, the fix (an ignore value, or label values;
    label values only where the masks hold the value beside their ignore value ``ignored``:
    0/255 masks with --ignore-value 0 were told to ignore 255, their one class: review s64)."""
    if not strays:
        return []
    m = np.asarray(matrix) if matrix is not None else None
    parts = [class_names[i] for i in strays]
    if m is not None:
        truth, predicted = m.sum(1), m.sum(0)
        parts = [
            f"{class_names[i]} ({truth[i]:,} px in the masks, {predicted[i]:,} predicted)"
            for i in strays
        ]
    value = class_names[strays[0]]
    ignore = said_as(ignore_keyword(value))
    fix = f"{ignore} if it marks pixels that count nowhere, or"
    if m is not None and not m.sum(1)[strays].any():  # predicted only: no ignore value helps
        fix = "predictions written with values the masks lack? give"
    elif ignored is not None and m is not None:  # the masks hold it beside their ignore value
        fix = f"the masks hold it beside their ignore value {ignored}: give"
    return [
        f"{'; '.join(parts)}: beyond the classes 0..{gap[0] - 1}, scored as a class and "
        f"counted in mIoU: {fix} {said_as(LABEL_VALUES)} the mask values of the classes"
    ]


def precision_line(source: dict) -> list[str]:
    """One line where the checkpoint's training run validated in another precision
    (``source["val_precision"]``) than the evaluation predicted in: its train.log figures
    may differ from the report's by that (audit s50 roads: sign IoU 0.4509 validated in bf16,
    0.4571 evaluated in fp32, neither saying its precision); none otherwise. The fix
    ``--precision`` is said only where that precision runs on ``source["device"]``
    (:func:`~unetlab.runtime.check_precision` refuses bf16 where it is not native)."""
    validated, precision = source.get("val_precision"), source.get("precision")
    if validated is None:
        return _unrecorded_precision_line(source)
    if precision is None or validated == precision:
        return []
    said = (
        f"the checkpoint's run validated in {validated}: the val figures of its train.log "
        f"and metrics.csv may differ from these ({precision}) by that"
    )
    if not _runs_here(validated, source.get("device")):
        return [f"{said}; {validated} is not native on this device: they cannot be repeated here"]
    again = Spelled(f"precision={validated!r}", f"--precision {validated}")
    return [f"{said}; {said_as(again)} predicts as it did"]


def _unrecorded_precision_line(source: dict) -> list[str]:
    """One line where an older checkpoint records no ``val_precision`` but its run's
    ``train.amp`` (``source["train_amp"]``) validates in bf16 where the device runs it: its
    train.log figures may differ from these fp32 ones, said as a may, not a claim (s51
    scene255); none where the evaluation predicted in bf16 or the run's amp is fp32."""
    amp, precision = source.get("train_amp"), source.get("precision")
    if amp is None or precision != "fp32":
        return []
    said = (
        "the checkpoint does not record the precision its run validated in (written before "
        f"unetlab recorded it); its train.amp {amp} validates in bf16 where the device runs "
        "it natively: then the val figures of its train.log and metrics.csv may differ from "
        "these (fp32) by that"
    )
    if not _runs_here("bf16", source.get("device")):
        return [f"{said}; bf16 is not native on this device"]
    return [f"{said}; {said_as(BF16)} predicts as it would have"]


def _runs_here(precision: str, device: str | None) -> bool:
    """True where predicting in ``precision`` is not refused on ``device`` (None: unknown,
    taken as the CPU, where evaluate predicts by default)."""
    from unetlab.runtime import supports_bf16

    return precision != "bf16" or supports_bf16(device or "cpu")


def _unseen_line(s: dict, class_names: Sequence[str]) -> list[str]:
    """One line on the classes in no mask that the predictions hold: their IoU 0 is false
    positives only, counted in mIoU (mmsegmentation's and torchmetrics' rule), and the mIoU
    over the classes the masks hold (audit s43 scenes: a rare class missing from a test set
    read as a class the model fails, and pulled mIoU down without a word)."""
    iou, pixels = s["iou"], s["pixels"]
    unseen = [i for i, n in enumerate(pixels) if n == 0 and not math.isnan(iou[i])]
    if not unseen:
        return []
    held = [v for v, n in zip(iou, pixels) if n > 0 and not math.isnan(v)]
    within = f"{sum(held) / len(held):.4f}" if held else "n/a"
    names = ", ".join(class_names[i] for i in unseen)
    return [
        f"{names}: in no mask, only predicted (false positives): IoU and Dice 0, counted in "
        f"mIoU; mIoU over the {numbered(len(held), 'class', 'classes')} the masks hold: {within}"
    ]


def _unpredicted_line(
    matrix: np.ndarray, class_names: Sequence[str], void=None, *, maps: bool = False
) -> list[str]:
    """The lines on the classes the masks hold whose IoU is under :data:`RARE_IOU`: one on
    those never predicted, or predicted on a few pixels and mostly wrong, each with its
    pixels, what it was predicted on and where its pixels went (``matrix``: rows truth,
    columns prediction; audit s50 road scenes: person, 0.1% of the pixels, scored 0.0000
    beside its 661 pixels without a word; s63: a class predicted on 1 pixel, and wrong, went
    unsaid too); one each on those whose pixels are mostly found (recall over 0.5) but that
    are predicted on many more (:func:`_over_line`: review s63, 4 px all found, predicted on
    104, were said to need more training). IoU, recall and pixels are ``matrix``'s
    (:func:`~unetlab.metrics.confusion.metrics_from_matrix`), as are the counts beside them:
    one source, not the summary's figures trusted to be of the same matrix. ``void``:
    (per class, its pixels predicted as the masks' ignore value, that value), or None;
    ``maps``: the predictions are another tool's maps (:func:`_rare_fix`)."""
    m = np.asarray(matrix)
    s = metrics_from_matrix(m, None if void is None else void[0])
    iou, pixels = s["iou"], s["pixels"]
    rare = [i for i, n in enumerate(pixels) if n > 0 and iou[i] < RARE_IOU]
    over = [i for i in rare if s["recall"][i] > 0.5]  # most of its pixels found
    missed = [i for i in rare if i not in over]
    parts = [_rare_part(m, i, s, class_names, void) for i in missed]
    lines = [
        f"{'; '.join(parts)}: in the masks but (nearly) never predicted right: IoU under "
        f"{RARE_IOU:g}; {_rare_fix(m, missed, s['pixels'], class_names, maps=maps)}"
    ]
    return lines[: bool(parts)] + [_over_line(m, i, s, class_names) for i in over]


def _rare_fix(
    m: np.ndarray, rare: list[int], pixels, class_names: Sequence[str], *, maps: bool
) -> str:
    """The fix of the ``rare`` classes' line: more training, or, for ``maps`` of another
    tool, where each went mostly to a class of its own that no mask holds (``pixels`` 0;
    rows truth, columns prediction), that class being the maps' value of it (a map of 0 and
    2 beside 0/1 masks, s69) or a class of the model the masks lack (a 3-class model's 2).
    A model's predictions (no maps), or two classes gone to one, need training (review s69:
    a 3-class model always predicting 2 was told to save each 2 as 0 and each 2 as 1)."""
    went = {i: _most_other(m[i], i) for i in rare}
    unseen = [
        j for i, j in went.items() if j is not None and not pixels[j] and 2 * m[i, j] > pixels[i]
    ]
    if not maps or len(unseen) < len(rare) or len(set(unseen)) < len(unseen):
        return "a rare class needs more training (more steps, or more images that hold it)"
    names = [(class_names[i], class_names[j]) for i, j in went.items()]
    write = " and ".join(f"{i} as {j}" for i, j in names)
    save = " and ".join(f"each {j} as {i}" for i, j in names)
    return (
        f"mostly predicted as a class in no mask: if the maps write {write}, save {save}; "
        "if it is a class of the model the masks lack, the model takes one for the other"
    )


def _most_other(counts: np.ndarray, i: int) -> int | None:
    """The index of the largest of ``counts`` (a matrix row or column) but its ``i``-th:
    the class most of a class's pixels went to, or came from; None where none did."""
    others = np.asarray(counts).copy()
    others[i] = 0
    return int(np.argmax(others)) if others.any() else None


def _rare_part(m: np.ndarray, i: int, s: dict, class_names: Sequence[str], void=None) -> str:
    """``person (661 px, never predicted, 93% predicted as road)``, or with ``IoU 0.0052, 4
    px found, 70 px predicted as it`` for a class predicted (rows truth, columns
    prediction; its pixels and IoU from ``s``, the figures of ``m``), and with ``void``
    (:func:`_unpredicted_line`) ``, 7% predicted as 255, the ignore value``."""
    truth, predicted, hit = s["pixels"][i], int(m[:, i].sum()), int(m[i, i])
    said = [f"{truth:,} px"]
    if predicted:
        said.append(f"IoU {s['iou'][i]:.4f}, {hit:,} px found, {predicted:,} px predicted as it")
    else:
        said.append("never predicted")
    if (most := _most_other(m[i], i)) is not None:
        said.append(f"{m[i, most] / truth:.0%} predicted as {class_names[most]}")
    if void is not None and void[0][i]:
        said.append(f"{void[0][i] / truth:.0%} predicted as {void[1]}, the ignore value")
    return f"{class_names[i]} ({', '.join(said)})"


def _over_line(m: np.ndarray, i: int, s: dict, class_names: Sequence[str]) -> str:
    """The line on class ``i``, most of whose pixels are found, scoring IoU under
    :data:`RARE_IOU` as predicted on many pixels of other classes, and the class most of
    them are (rows truth, columns prediction; its pixels and IoU from ``s``, the figures of
    ``m``)."""
    taken = int(m[:, i].sum() - m[i, i])
    most = class_names[_most_other(m[:, i], i)]
    return (
        f"{class_names[i]} ({s['pixels'][i]:,} px, IoU {s['iou'][i]:.4f}, {int(m[i, i]):,} px "
        f"found): over-predicted: {taken:,} px of other classes predicted as it "
        f"(mostly {most}); IoU under {RARE_IOU:g} though most of its pixels are found"
    )


def _pixel_lines(s: dict, excluded: dict | None = None) -> list[str]:
    """The pooled pixel figures, saying whether they count all pixels or the labelled ones
    (and that ``excluded``, the rows ``exclude_rows`` left out, are among those ignored)."""
    ignored, nodata = s.get("ignored_pixels", 0), s.get("nodata_pixels", 0)
    which = "labelled pixels" if ignored or nodata else "all pixels"
    unscored = ignored or nodata
    return [
        "",
        f"images             {s['num_images']}",
        *([_pixels_line(s, excluded)] if unscored else []),
        f"mIoU               {_f(s['miou'])}   ({which}, pooled over images; mean of "
        f"per-image mIoU {_f(s['mean_image_miou'])})",
        f"mean Dice          {_f(s['mdice'])}   ({which}, pooled over images)",
        f"pixel accuracy     {_f(s['pixel_accuracy'])}   ({which}, pooled over images)",
        f"wrong pixels       {_f(s['pixel_error'])}   (fraction of {which} whose class "
        "is wrong, pooled over images; JSON pixel_error; not the paper's pixel error)",
    ]


def _predicted_ignore_line(s: dict, value: int | None) -> list[str]:
    """One line where the predictions hold the masks' ignore ``value`` (another tool's void
    255 beside classes 0..10; s51 scene255: scored as class 255 without a word): how many
    pixels, how many of them scored nowhere and how many scored wrong for their class; the
    value named as the masks' ignore value, not "no class": a 0/255 model's 0 is its
    background (review s64)."""
    held = s.get("predicted_ignore_pixels", 0)
    if not held or value is None:
        return []
    scored = s["predicted_ignore_scored"]
    wrong = (
        f", {scored:,} where the masks hold a class (scored as wrong for that class, no "
        "class of their own in mIoU)"
        if scored
        else ""
    )
    return [
        f"{f'predicted {value}':<19}{held:,} predicted pixels hold {value}, the value the masks "
        f"ignore: {held - scored:,} where the masks ignore them too (scored "
        f"nowhere){wrong}; they are no object"
    ]


def _threshold_lines(t: dict) -> list[str]:
    """The challenge's best-threshold figures (``--best-threshold``)."""
    lines = []
    if t.get("seed_threshold") is not None:
        lines.append(
            f"best threshold     (cells split by a seeded watershed, seeds where the "
            f"cell probability > {t['seed_threshold']})"
        )
    lines.append(
        f"best threshold     Rand error {_f(t['rand_error'])} at {t['rand_threshold']} "
        f"(pair counts summed over images), V_Info {_f(t['information_score'])} at "
        f"{t['information_threshold']} (mean over images), wrong pixels "
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
        f"                   pixel error {_f(t['challenge_pixel_error'])} at "
        f"{t['challenge_pixel_threshold']}   (1 - max F-score of the cell pixels, counts "
        "summed over images: the leaderboard's and the U-Net paper's pixel error)"
    )
    return lines + _edge_note(t)


def _pixels_line(s: dict, excluded: dict | None = None) -> str:
    """The table's line of the pixels scored (labelled), ignored and left out by the
    predictions as no sample or named no-data by the masks' files (:func:`_nodata_part`),
    from the summary ``s``, e.g. ``20,952 labelled pixels of 300,000; 93% ignored (...)``."""
    labelled, ignored, nodata = (
        s.get(k, 0) for k in ("labelled_pixels", "ignored_pixels", "nodata_pixels")
    )
    total = labelled + ignored + nodata
    why = "the masks' ignore value"
    if excluded:
        rows = ",".join(f"{k}={v}" for k, v in excluded.items())
        why = f"exclude_rows {rows} (a data bar) and any ignore value in the masks"
    parts = [f"{_percent(ignored / total)} ignored ({why}: they count nowhere)"] if ignored else []
    if nodata:
        parts.append(f"{_percent(nodata / total)} no-data ({_nodata_part(s)}; they count nowhere)")
    return f"pixels scored      {labelled:,} labelled pixels of {total:,}; {'; '.join(parts)}"


def _nodata_part(s: dict) -> str:
    """Whose the no-data pixels of the summary ``s`` are: the predictions' (no sample in
    their images), the masks' files' own, or both with their counts (a pixel in both is in
    each; s55: one count said both); an older report's one count says both."""
    pred, truth = s.get("nodata_pixels_pred"), s.get("nodata_pixels_truth")
    whose = {
        "left out of the predictions as no sample (nodata or transparent in their images)": pred,
        "named no-data by the masks' files": truth,
    }
    if pred is None or truth is None:
        return ", or ".join(whose)
    return ", or ".join(f"{w}: {n:,} px" if pred and truth else w for w, n in whose.items() if n)


def _percent(share: float) -> str:
    return f"{share:.0%}" if 0.01 <= share <= 0.99 else f"{share:.1%}"


def _class_object_line(s: dict, names: list[str]) -> list[str]:
    """One line of each class's true and predicted objects, F1 and PQ where objects matched
    within their class (audit s35 multiclass 6: only pooled counts were printed)."""
    each = s.get("class_pq") or {}
    if len(each) < 2:
        return []
    parts = [
        f"{names[k] if 0 <= k < len(names) else k}: {c['objects']} true, {c['pred_objects']} "
        f"predicted, F1 {_f(c['object_f1'])}, PQ {_f(c['pq'])}"
        for k, c in sorted(each.items())
    ]
    return [f"per class          {'; '.join(parts)}   (IoU >= 0.5, counts summed over images)"]


def count_off(true: int, pred: int) -> str:
    """The predicted count against the true one, signed and in words: ``-18.2%: 364 too
    few``, ``+50.0%: 1 too many``, ``+0.0%: as many``; ``n/a`` without true objects (walkkromp
    s51: a signed share alone left a reader to work out whether the model under-counts)."""
    if not true:
        return "n/a"
    words = (
        "as many" if pred == true else f"{abs(pred - true)} too {'many' if pred > true else 'few'}"
    )
    return f"{(pred - true) / true:+.1%}: {words}"


def _object_lines(s: dict) -> list[str]:
    true, pred = s["objects"], s["pred_objects"]
    off = count_off(true, pred)
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
        f"object F1          {_f(s['object_f1'])}   (IoU >= 0.5{within}; counts summed over "
        f"images; precision {_f(s['object_precision'])}, recall {_f(s['object_recall'])})",
        f"PQ                 {_f(s['pq'])}   ({pq})",
        f"SEG                {_f(s['seg'])}   (mean over all {true} ground-truth objects)",
        f"object size        {_ratio(s['area_ratio'])}   (median predicted / true area of the "
        f"{s['object_tp']} objects matched at IoU >= 0.5, all images; 1 = same size)",
    ]


def _challenge_line(s: dict, names: Sequence[str], boundary: int | None) -> list[str]:
    """The line of the challenge's pixel error at these labels (two classes only)."""
    if "challenge_pixel_error" not in s:
        return []
    cell = names[1 - boundary]
    return [
        f"pixel error        {_f(s['challenge_pixel_error'])}   (the ISBI challenge's and the "
        f"U-Net paper's: 1 - F-score of the {cell} pixels at these labels, counts summed over "
        "images; JSON challenge_pixel_error)"
    ]


def _left_out(classes: int, option: str) -> str:
    return (
        f"ISBI and object scores left out for {classes} classes: they take one class as the "
        "boundary (the background) and each region of another class as an object (made for "
        f"membrane/cell or object masks); {option} computes them"
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
