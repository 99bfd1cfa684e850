"""The running statistics of an evaluation: :class:`Accumulator` adds one image at a time
(its confusion matrix, Rand pair counts, object scores) and derives the data-set figures into a
:class:`~unetlab.evaluate.report.Report` at the end."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

from unetlab.data.exclude import drop_mostly_excluded, region
from unetlab.data.instances import ignore_keyword
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.merged import MERGED_SHARE, region_counts
from unetlab.errors import DatasetError, Spelled, UnetlabError, spelled
from unetlab.evaluate.case_files import CaseFiles, Paged
from unetlab.evaluate.cases import case_rows
from unetlab.evaluate.masks import CLASS_NAMES, GT_INSTANCES, PRED_INSTANCES
from unetlab.evaluate.report import PREDICTED_VALUES, Report, count_error
from unetlab.metrics import confusion_matrix, metrics_from_matrix, no_class_column
from unetlab.metrics.isbi import (
    best_threshold,
    information_scores,
    pixel_error,
    pixel_fscore_error,
    rand_counts,
    rand_from_counts,
)
from unetlab.metrics.objects import instances, object_scores, summarize_objects
from unetlab.words import numbered, worded

log = logging.getLogger(__name__)


def check_boundary(boundary_class: int | None, names: Sequence[str]) -> None:
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


class Accumulator:
    """Per-image measures, summed or kept for the data-set figures.

    ``objects``: compute the ISBI and object scores (True), not (False), or compute them
    and keep them only where the report has at most two classes (None). ``cases``: what
    finds the cases of its pages (:class:`~unetlab.evaluate.case_files.CaseFiles`).
    """

    def __init__(
        self,
        *,
        boundary_class: int | None,
        connectivity: int,
        objects: bool | None,
        cases: CaseFiles | None = None,
    ):
        self.boundary_class = boundary_class
        self.connectivity = connectivity
        self.want_objects = objects
        self.rows: list[dict] = []
        self.matrices: list[np.ndarray] = []
        self.cases: list[str | None] = []  # each row's case: a NIfTI volume's (cases.py)
        self.volumes = cases or CaseFiles()  # which pages are of a case, and each one's voxel
        self.rand = np.zeros(3)
        self.top = np.zeros(2, np.int64)  # the largest predicted and true class index
        self.rand_empty = True
        self.ignored = 0  # pixels whose truth is IGNORE_INDEX but no-data: scored nowhere
        self.nodata = 0  # no-data pixels (the prediction's or the truth's): scored nowhere
        self.nodata_apart = np.zeros(2, np.int64)  # of them: the prediction's, the truth's
        self.objects: list[dict] = []  # object_scores of each image
        self.probs: list[np.ndarray] = []
        self.truths: list[np.ndarray] = []
        self.merged_truth = np.zeros(2, np.int64)  # true regions that look merged, of all
        # predicted pixels holding the masks' ignore value: all, and where the truth is labelled
        self.predicted_ignore = np.zeros(2, np.int64)
        # of each image, per true class, its labelled pixels predicted as the ignore value
        self.missed: list[np.ndarray | None] = []

    def add(
        self,
        name: str,
        pred: np.ndarray,
        gt: np.ndarray,
        cell_prob=None,
        gt_ids=None,
        pred_ids=None,
        scored_ids=None,
        where: dict | None = None,
        void: np.ndarray | None = None,
        binary_truth: bool = False,
        predicted_ignore: np.ndarray | None = None,
        truth_void: np.ndarray | None = None,
        case: Paged | None = None,
    ):
        """``pred`` (H, W) class indices, ``gt`` (H, W) class indices (IGNORE_INDEX allowed);
        ``gt_ids`` / ``pred_ids``: the true / predicted objects' ids (0 = none) when there
        are any, else the connected regions of ``gt`` / ``pred``; ``scored_ids``: the
        predicted objects the object scores (F1, DSB, PQ, counts) count, where the ISBI Rand
        error and information score keep their own definition on ``pred_ids`` (a semantic
        model's objects as ``predict --instances`` makes them: least size, holes filled);
        None: ``pred_ids``; ``cell_prob``: (H, W) cell probability, kept for
        ``best_threshold`` when given; ``where``: a stack page's columns (page, t, t_s, z:
        :class:`~unetlab.evaluate.frames.PageColumns`), added to its row; ``void`` /
        ``truth_void``: (H, W) bool, the pixels the prediction left out as no sample (its
        image's nodata or transparent pixels) / the mask's own file names no-data, ``gt``
        ignored there: counted as no-data (and each apart), not as ignored; ``binary_truth``:
        ``gt_ids`` are a binary mask's connected components (merged-looking regions counted);
        ``predicted_ignore``: (H, W) bool, where ``pred`` holds the masks' ignore value (another
        tool's void): counted, scored as it where the truth is labelled, no object's (s51);
        ``case``: the scored page (a mask's, a pair's) whose volume, where it is a slice of
        one (a NIfTI case, a z-stack: :meth:`CaseFiles.case`), is scored whole too
        (:mod:`unetlab.evaluate.cases`)."""
        if pred.shape != gt.shape:
            raise UnetlabError(
                f"{name}: prediction is {pred.shape[1]}x{pred.shape[0]} but the ground truth "
                f"{gt.shape[1]}x{gt.shape[0]} (width x height); predict at the mask's size"
            )
        self._add_matrix(pred, gt, predicted_ignore)
        self._count_unscored(gt, void, truth_void)
        row = {"name": name, "pixel_error": pixel_error(pred, gt, ignore_index=IGNORE_INDEX)}
        if self.want_objects is not False:
            ids = (pred_ids, scored_ids, binary_truth, predicted_ignore)
            row.update(self._object_row(pred, gt, gt_ids, *ids))
        self.rows.append(row | (where or {}))
        self.cases.append(None if case is None else self.volumes.case(case))
        if cell_prob is not None:
            self.probs.append(np.asarray(cell_prob, np.float32))
            self.truths.append(gt)

    def _add_matrix(self, pred: np.ndarray, gt: np.ndarray, predicted_ignore) -> None:
        """One image's confusion matrix and, where ``pred`` holds the masks' ignore value
        (``predicted_ignore``), its labelled pixels there per true class: no class's column,
        wrong for their own (:func:`~unetlab.metrics.no_class_column` of a column past the
        classes; review s66: a class 255 of IoU 0 in mIoU, and 252 rows of n/a where the masks
        ignore them too)."""
        held = predicted_ignore
        where = True if held is None else ~held  # the pixels of a class: no copy of pred
        self.top = np.maximum(self.top, (pred.max(where=where, initial=0), gt.max(initial=0)))
        n = int(self.top.max()) + 1
        if held is None:
            self.matrices.append(confusion_matrix(pred, gt, n))
            self.missed.append(None)
            return
        counted = confusion_matrix(np.where(held, n, pred), gt, n + 1)  # no class: column n
        matrix, missed = no_class_column(counted, n)
        self.predicted_ignore += (held.sum(), missed.sum())
        self.matrices.append(matrix[:n, :n])
        self.missed.append(missed[:n])

    def _count_unscored(self, gt: np.ndarray, void, truth_void) -> None:
        """Count the pixels scored nowhere: the no-data of the prediction (``void``) and of
        the truth's file (``truth_void``; a pixel in both once, and once in each of their
        own counts: s55, they were one count) apart from the others the truth ignores (the
        masks' ignore value, excluded rows; review s47 apinodata 3: a prediction's no-data
        was counted as the masks' ignore value)."""
        ignored = gt == IGNORE_INDEX
        self.nodata_apart += [
            0 if v is None else int(np.count_nonzero(v)) for v in (void, truth_void)
        ]
        given = [v for v in (void, truth_void) if v is not None]
        if given:
            either = given[0] if len(given) == 1 else given[0] | given[1]
            self.nodata += int(np.count_nonzero(either))
            ignored &= ~either
        self.ignored += int(np.count_nonzero(ignored))

    def _object_row(
        self, pred, gt, gt_ids, pred_ids, scored_ids=None, binary=False, unclassed=None
    ) -> dict:
        """One image's ISBI and object scores; the Rand pair counts and objects kept. Objects
        that are the regions of the class maps (no ids given) match only within their class
        (``scored_ids``, made from the class maps, too); no predicted object has a pixel of
        ``unclassed`` (where the prediction holds the masks' ignore value)."""
        by_class = {}
        if gt_ids is pred_ids is None:
            by_class = dict(pred_classes=pred, gt_classes=gt, background=self.boundary_class)
        if pred_ids is None:  # the ignore value predicted: a value no class has, its own regions
            pred_ids = instances(
                pred, boundary_class=self.boundary_class, connectivity=self.connectivity
            )
        if gt_ids is None:
            gt_ids = instances(
                gt, boundary_class=self.boundary_class, connectivity=self.connectivity
            )
            binary = True
        if binary:  # regions of a class or binary mask: (look merged, regions), by class
            self.merged_truth += region_counts(gt_ids, gt)
        if unclassed is not None:
            pred_ids = np.where(unclassed, 0, pred_ids)
            if scored_ids is not None:
                scored_ids = self._unclassed_objects(scored_ids, unclassed, pred)
        pred_ids = without_ignored(pred_ids, gt)
        counts = rand_counts(pred_ids, gt_ids)
        self.rand += counts
        has_cells = bool((gt_ids > 0).any())
        self.rand_empty &= not has_cells
        scored = pred_ids if scored_ids is None else without_ignored(scored_ids, gt)
        objects = object_scores(scored, gt_ids, **by_class)
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

    def _unclassed_objects(self, ids, unclassed, pred) -> np.ndarray:
        """``ids`` (a semantic model's objects beside its class map ``pred``) without the
        ``unclassed`` pixels; an object of them and of background alone (the background
        their ring enclosed, filled) is none, as evaluate --checkpoint, which makes its
        objects with the ignored class as background, finds it none (review s68)."""
        touched = np.unique(ids[unclassed & (ids > 0)])
        ids = np.where(unclassed, 0, ids)
        if self.boundary_class is None or not touched.size:
            return ids
        classed = np.unique(ids[(pred != self.boundary_class) & ~unclassed & (ids > 0)])
        return np.where(np.isin(ids, np.setdiff1d(touched, classed)), 0, ids)

    def classes_seen(self) -> int:
        """1 + the largest class index of the predictions and masks added so far."""
        return max((m.shape[0] for m in self.matrices), default=0)

    def report(
        self, class_names: Sequence[str] | None, *, thresholds, worst: int, seed_threshold=None
    ) -> Report:
        """The :class:`~unetlab.evaluate.report.Report` of the images added: each image's
        pixel figures over ``class_names`` (default "0", "1", ...: a DatasetError where the
        images hold more classes), the data-set figures, the object scores where wanted and
        the best threshold of the kept probabilities over ``thresholds`` (None: none)."""
        if not self.rows:
            raise DatasetError("no images to evaluate")
        names = self._class_names(class_names)
        total, missed, each = self._pixel_figures(len(names))
        summary = self._summary(total, missed)
        pair_ious = []  # each image's object IoUs: its matching table at any threshold
        if self.want_objects or (self.want_objects is None and len(names) <= 2):
            summary.update(self._object_summary())
            self._say_merged_truth()
            pair_ious = [(r["name"], o["pair_iou"]) for r, o in zip(self.rows, self.objects)]
        else:
            for row in self.rows:
                for key in OBJECT_KEYS:
                    row.pop(key, None)
        threshold = self._best_threshold(thresholds, seed_threshold)
        report = Report(names, total, self.rows, summary, self.boundary_class, threshold, worst)
        report.pair_ious = pair_ious
        report.missed = missed if missed.any() else None
        report.cases, report.image_cases = (
            case_rows(self.cases, each, self.volumes.voxels),
            self.cases,
        )
        return report

    def _class_names(self, class_names: Sequence[str] | None) -> list[str]:
        """The report's class names: ``class_names``, or the indices seen; a DatasetError
        where the images hold more classes, a UnetlabError for a boundary class outside."""
        c = max(m.shape[0] for m in self.matrices)
        names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
        if len(names) < c:
            pred_top, gt_top = self.top.tolist()
            held = _holders(self.rows, self.matrices, len(names))
            raise DatasetError(**_too_many_classes(names, pred_top, gt_top, held))
        check_boundary(self.boundary_class, names)
        return names

    def _pixel_figures(self, c: int) -> tuple[np.ndarray, np.ndarray, list]:
        """Each image's pixel figures into its row, from its confusion matrix padded to
        ``c`` classes and its pixels predicted as the ignore value (:meth:`_add_matrix`);
        the (c, c) sum of the matrices, the (c,) sum of those pixels, and (matrix, pixels)
        of each image of a case (:func:`~unetlab.evaluate.cases.case_rows`; None for others)."""
        total, missed_total = np.zeros((c, c), np.int64), np.zeros(c, np.int64)
        each = []
        for row, m, missed, case in zip(self.rows, self.matrices, self.missed, self.cases):
            padded = np.zeros((c, c), np.int64)
            padded[: m.shape[0], : m.shape[1]] = m
            total += padded
            wrong = np.zeros(c, np.int64)
            if missed is not None:
                wrong[: len(missed)] = missed
            missed_total += wrong
            each.append((padded, wrong) if case is not None else None)
            per = metrics_from_matrix(padded, wrong)
            row.update(miou=per["miou"], pixel_accuracy=per["pixel_accuracy"], iou=per["iou"])
            row.update(mdice=per["mdice"], dice=per["dice"])
        return total, missed_total, each

    def _summary(self, total: np.ndarray, missed: np.ndarray) -> dict:
        """The data-set pixel figures of the summed confusion matrix ``total`` (and
        ``missed``: per class, its pixels predicted as the ignore value), with the
        pixels ignored, the mean of the images' mIoU and (two classes with a boundary class)
        the challenge's pixel error."""
        summary = metrics_from_matrix(total, missed)
        summary["labelled_pixels"] = summary.pop("total")
        summary["ignored_pixels"] = self.ignored
        summary["nodata_pixels"] = self.nodata
        summary["nodata_pixels_pred"], summary["nodata_pixels_truth"] = self.nodata_apart.tolist()
        if self.predicted_ignore[0]:
            held, labelled = self.predicted_ignore.tolist()
            summary["predicted_ignore_pixels"] = held
            summary["predicted_ignore_scored"] = labelled
        image_miou = [r["miou"] for r in self.rows if not math.isnan(r["miou"])]
        summary.update(
            num_images=len(self.rows),
            mean_image_miou=float(np.mean(image_miou)) if image_miou else math.nan,
            pixel_error=1.0 - summary["pixel_accuracy"],
        )
        if len(total) == 2 and self.boundary_class is not None:
            error = challenge_pixel_error(total, self.boundary_class, missed)
            summary["challenge_pixel_error"] = error
        return summary

    def _best_threshold(self, thresholds, seed_threshold) -> dict | None:
        """:func:`~unetlab.metrics.isbi.best_threshold` of the kept probabilities, None
        without ``thresholds`` or probabilities; with seeds, the plain levels beside."""
        if thresholds is None or not self.probs:
            return None
        return best_threshold(
            self.probs,
            self.truths,
            thresholds,
            boundary_class=0 if self.boundary_class is None else self.boundary_class,
            connectivity=self.connectivity,
            seed_threshold=seed_threshold,
        )

    def _say_merged_truth(self) -> None:
        """One line where at least ``MERGED_SHARE`` of the true objects, regions of masks
        of classes, look like several touching objects drawn as one (0/255 masks of
        touching nuclei: 1,272 true objects where the ids hold 1,999)."""
        merged, regions = self.merged_truth.tolist()
        if regions and merged / regions >= MERGED_SHARE:
            log.warning(
                "%d of the %d true objects (%.0f%%) look like several touching objects drawn "
                "as one (larger than most and not convex): the masks hold classes (or one "
                "foreground value), not object ids, so touching true objects count as one region in the true count and the "
                "object scores; masks of object ids (one value per object) count them apart",
                merged,
                regions,
                100 * merged / regions,
            )

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


def challenge_pixel_error(
    matrix: np.ndarray, boundary_class: int, missed: np.ndarray | None = None
) -> float:
    """The ISBI challenge's (and the U-Net paper's) pixel error of a two-class (2, 2)
    confusion matrix (rows truth, columns prediction): 1 - F-score of the cell pixels (the
    class that is not ``boundary_class``), at the labels given (no threshold swept).
    ``missed``: per true class, its pixels predicted as the masks' ignore value (in no
    column of ``matrix``): a cell's are missed cell pixels (s68: they were in no count)."""
    cell = 1 - boundary_class
    tp, fp, fn = matrix[cell, cell], matrix[boundary_class, cell], matrix[cell, boundary_class]
    fn += 0 if missed is None else missed[cell]
    return pixel_fscore_error(int(tp), int(fp), int(fn))


def without_excluded(scored: dict, rows) -> dict:
    """The keywords of :meth:`Accumulator.add` (``pred``, ``gt``, ``gt_ids``, ``pred_ids``,
    ...) with the rows of ``rows`` (``exclude_rows``: a data bar) scored nowhere: the truth
    ignored there, and the objects (true or predicted) of which more than half lies there
    dropped (:func:`~unetlab.data.exclude.drop_mostly_excluded`; a true one's other pixels
    ignored too); the others lose their pixels there. A new dict; the arrays are kept."""
    return without_region(scored, region(scored["gt"].shape, rows))


def without_region(scored: dict, bar: np.ndarray | None) -> dict:
    """:func:`without_excluded` of the (H, W) bool pixels ``bar`` (excluded rows, or an
    image's nodata / transparent pixels: :mod:`unetlab.data.nodata`); None: ``scored``."""
    if bar is None:
        return scored
    out = dict(scored)
    gt = np.where(bar, IGNORE_INDEX, scored["gt"])
    if (gt_ids := scored.get("gt_ids")) is not None:
        kept = drop_mostly_excluded(gt_ids, bar)
        gt[(gt_ids > 0) & (kept == 0)] = IGNORE_INDEX
        out["gt_ids"] = kept
    for key in ("pred_ids", "scored_ids"):
        if (pred_ids := scored.get(key)) is not None:
            out[key] = drop_mostly_excluded(pred_ids, bar)
    out["gt"] = gt
    return out


def without_ignored(pred_ids: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred_ids`` with 0 (no object) where the truth ``gt`` is ignored (IGNORE_INDEX): the
    predicted objects are the prediction's own (its regions or ids, made from every pixel),
    scored on the labelled pixels only, so an object wholly in ignored pixels is no false
    positive and ignored pixels add to no object's size. A new array; the input is kept."""
    ignored = gt == IGNORE_INDEX
    return np.where(ignored, 0, pred_ids) if ignored.any() else pred_ids


def _holders(rows: Sequence[dict], matrices: Sequence[np.ndarray], n: int) -> tuple[str, str]:
    """Where class indices from ``n`` on are, for the predictions and the masks: `` (in
    NAME)`` or `` (in NAME and 3 more images)`` of the images (``rows``' names) whose
    confusion matrix (``matrices``: rows truth) holds them, '' where none does."""
    pred = [r["name"] for r, m in zip(rows, matrices) if m[:, n:].sum()]
    gt = [r["name"] for r, m in zip(rows, matrices) if m[n:].sum()]
    return tuple(_in_images(names) for names in (pred, gt))


def _in_images(names: Sequence[str]) -> str:
    """`` (in NAME)``, `` (in NAME and 1 more image)``, `` (in NAME and 3 more images)``,
    or '' for no name."""
    if not names:
        return ""
    rest = len(names) - 1
    return f" (in {names[0]}{' and ' + numbered(rest, 'more image') if rest else ''})"


def _too_many_classes(
    names: Sequence[str], pred_top: int, gt_top: int, held: tuple[str, str] = ("", "")
) -> dict:
    """Why class indices beyond ``names`` cannot be scored, and the fix, by the side that
    holds them (``held``: in which images, of the predictions and of the masks): the keywords
    of its error, each caller's form (:func:`~unetlab.errors.spelled`; both were given
    inline, s56)."""
    said = f"there {worded(len(names), 'is', 'are')} {numbered(len(names), 'class', 'classes')} ({', '.join(names)})"
    if pred_top >= len(names):
        return _predictions_beyond(names, pred_top, gt_top, said, held[0])
    return _masks_beyond(names, gt_top, said, held[1])


#: how the refusals of class indices beyond the classes name the fixes, in each caller's form
_WITHOUT_VALUES = Spelled("without label_values=True", "without --label-values")
_PREDICTED_INDICES = Spelled(
    "predict_folder without label_values=True", "unetlab predict without --label-values"
)
_EACH_VALUE = Spelled("label_values=[...]", "--label-values V ...")


def _predictions_beyond(names, pred_top: int, gt_top: int, said: str, where: str) -> dict:
    """:func:`_too_many_classes` where the predictions hold ``pred_top`` (``where``)."""
    if str(pred_top) in names:  # unetlab predict --label-values

        def say(made: str, again: str) -> str:
            return (
                f"the predictions hold {pred_top}, the mask value of class "
                f"{names.index(str(pred_top))}, but class indices 0..{len(names) - 1} are "
                f"scored; files of {made} hold mask values, read as classes only beside their "
                "record (the predict.json of the folder they were written to): evaluate that "
                f"folder, or predict again {again}"
            )

        return spelled(say, PREDICTED_VALUES, _WITHOUT_VALUES)
    if pred_top == gt_top:  # both hold it: too few names (--class-names a)
        return spelled(
            lambda named: (
                f"the predictions and the masks hold class index {pred_top}{where} "
                f"but {said}: give a name to each of the {pred_top + 1} classes, in class order "
                f"({named}), or leave the names out"
            ),
            CLASS_NAMES,
        )
    return spelled(
        lambda indices, ids: (
            f"the predictions hold class index {pred_top}{where} but {said}; "
            f"predictions must hold class indices (not label values such as 255: {indices}), or "
            f"object ids: {ids}, or <stem>_objects.tif files"
        ),
        _PREDICTED_INDICES,
        PRED_INSTANCES,
    )


def _masks_beyond(names, gt_top: int, said: str, where: str) -> dict:
    """:func:`_too_many_classes` where the masks hold ``gt_top`` (``where``)."""
    if str(gt_top) in names and all(n.isdigit() for n in names):  # named by mask values
        values = Spelled(f"label_values=[{', '.join(names)}]", f"--label-values {' '.join(names)}")
        return spelled(
            lambda given: (
                f"the masks hold {gt_top}{where}, the mask value of class "
                f"{names.index(str(gt_top))} ({said}), read as a class index: give {given} to "
                "read each mask value as its class"
            ),
            values,
        )
    ignored = ignore_keyword(gt_top)
    return spelled(
        lambda each, ids, ignore: (
            f"the masks hold class index {gt_top}{where} but {said}: fix "
            "the mask where it is a stray value; else every class needs a label value / name "
            f"({each}: the mask value of each class), masks of object ids need {ids}, and a value "
            f"that marks pixels that count nowhere (VOC's 255) {ignore}"
        ),
        _EACH_VALUE,
        GT_INSTANCES,
        ignored,
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
