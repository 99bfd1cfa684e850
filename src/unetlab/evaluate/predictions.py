"""Scoring saved predictions against ground-truth masks: :func:`evaluate_predictions`.

What is read: in ``pred_dir``, label images of class indices named ``<stem>.png``
(``<stem>.tif`` for stacks, one page per mask page), as ``unetlab predict`` writes them, and/or
object ids (0 = none, 1..n) in ``<stem>_objects.tif`` as ``unetlab predict --instances`` writes
them, which are then the predicted objects; ``<stem>_pred.png`` (another tool's name:
:data:`~unetlab.data.names.PREDICTION_NAMES`) where no ``<stem>.png`` is beside it. Object ids
give the pixel classes background (0) and object (1) where there is no class map, where it is
an instance model's (background / boundary / interior, by its record: scored as its objects'
foreground, as ``evaluate --checkpoint`` scores it; such a map without its ids is refused) or
with ``gt_instances``. ``gt_dir``: a folder of masks with the same stems, or a data folder
(images/ + masks/, ISBI, VOC; its ``val/`` when it has one). A class map whose record (the
``predict.json`` of its folder, by the key the file carries) says it holds mask values
(``unetlab predict --label-values``) is read as classes by ``label_values`` too; None: those
its record gives (``outputs.label_values``; masks are then read by them as well); without them
(a record from before they were recorded), or with a value none of them, it is refused.
Class maps of class indices whose records give the mask values of the model's training
(``label_values``, not the indices themselves) have the masks read by them where
``label_values`` is None.
``class_names`` default to the names in the data set's ``class_names.txt`` (line i names mask
value i; in ``gt_dir`` or its parent, as for VOC's ``SegmentationClass/``), else to the label
values (or the indices). ``ignore_value`` None: the one the predictions' records give (the
model's ``data.ignore_value``), else, with neither ``ignore_value`` nor ``label_values``,
palette masks' 255 (VOC's void outlines), as in training; each of the two is said in a log
line. ``boundary_class`` ``"auto"``: as for a model, the class named background, else
membrane, else, of two, one named a boundary (grain boundary), else that of mask value 0,
else 0 (:func:`unetlab.data.weightmap.background_class`); 0 with object ids. ``gt_instances``: the
pixel classes are background (0) and object (1), and the
true objects are the masks' ids, so touching objects stay apart in SEG, F1 and Rand.
``exclude_rows``: the truth is ignored there and objects mostly in them dropped
(:func:`~unetlab.evaluate.accumulate.without_excluded`).

Refused, each in one line naming the file or the fix: a missing prediction or one of another
size; masks read as class indices that look like label values (0/255 with predictions 0..1)
or hold an unmapped ignore value (VOC's 255): give ``label_values``, ``ignore_value`` or
``class_names``; a ``class_names`` whose length differs from ``label_values``; the arguments
:func:`~unetlab.evaluate.checks.check_evaluation` refuses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from unetlab.data.classes import read_palette
from unetlab.data.colour_table import ColourTable, palette_table
from unetlab.data.exclude import as_config, check_exclude_rows
from unetlab.data.fingerprint import MaskValues, jpeg_mask, object_ids_note, one_object_each
from unetlab.data.instances import ONE_OBJECT_LEAST, SPLIT_IDS
from unetlab.data.io import IMAGE_SUFFIXES
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.names import (
    PREDICTION_NAMES,
    image_stem,
    loose,
    named_for,
    nfc,
    objects_by_what,
    segmented_for,
    stem_endings,
    void_words,
)
from unetlab.data.read_notes import call_lines, note_once
from unetlab.data.regions import distinct_values
from unetlab.data.shapes import shapes_read_as
from unetlab.data.split_record import describe_names
from unetlab.data.tiff_files import TIFF_SUFFIXES
from unetlab.data.totalseg import CASE_PREDICTIONS, case_names
from unetlab.data.void_mark import VOID
from unetlab.data.weightmap import background_class
from unetlab.errors import DatasetError, Spelled, UnetlabError, flag_of, said_as, spelled
from unetlab.evaluate.accumulate import (
    Accumulator,
    check_boundary,
    object_scores_wanted,
    without_excluded,
)
from unetlab.evaluate.checks import (
    CLASS_INDEX_BELOW,
    CLASSES_AT_MOST,
    MADE_OBJECTS,
    MapPage,
    TooManyClasses,
    check_binary_predictions,
    check_binary_values,
    check_class_indices,
    check_evaluation,
    check_folders,
    check_ids_as_classes,
    check_named_nodata,
    check_one_file_values,
    check_void_predicted,
    ids_by_values,
    int_values,
    too_many_classes,
)
from unetlab.evaluate.earlier import scored_paths
from unetlab.evaluate.frames import PageColumns
from unetlab.evaluate.identity import files_identity
from unetlab.evaluate.masks import (
    CLASS_NAMES,
    GT_DIR,
    GT_INSTANCES,
    IGNORE_VALUE,
    PRED_INSTANCES,
    PREDICTED_IGNORE,
    MaskPage,
    Predictions,
    TruthLost,
    Written,
    binary_truth,
    checked_masks,
    data_set_names,
    encode,
    ground_truth,
    instance_mask,
    mask_nodata,
    named_in,
    ome_less,
    palette_void,
    planes_saved_with_axes,
    recorded_3d,
    recorded_class_names,
    recorded_ignore_value,
    recorded_label_values,
    refuse_image_folders,
    say_unscored,
    stored_in_8_bits,
    tag_value_shown,
    trained_label_values,
)
from unetlab.evaluate.matching import chosen_thresholds
from unetlab.evaluate.report import LABEL_VALUES, PREDICTED_VALUES, Report
from unetlab.evaluate.stops import Count, counted, says_its_stop
from unetlab.evaluate.training import ScoredPage, recorded_checkpoints, trained_pages, varied
from unetlab.evaluate.volumes import MADE_3D, evaluate_volumes
from unetlab.inference.objects_3d import classes_table
from unetlab.inference.pages import OBJECTS_3D
from unetlab.inference.records import prediction_records_read_once, read_records
from unetlab.manifest import manifests_read_once
from unetlab.model_identity import REPORT_SAME_MODEL, REPORT_SHA256, report_model_sha256
from unetlab.progress import progress_calls
from unetlab.words import first_listed, numbered, spaced, worded

log = logging.getLogger(__name__)

#: the mask files that hold one page (:func:`~unetlab.data.pairs.page_count`): the image
#: files but TIFFs (a .bmp mask was counted "at least" until opened, s67)
ONE_PAGE = tuple(s for s in IMAGE_SUFFIXES if s not in TIFF_SUFFIXES)
#: how the palette masks' void line says to count it otherwise (:func:`said_as`)
VOID_OTHERWISE = Spelled("ignore_value= or label_values=", "--ignore-value or --label-values")


#: said where masks that look like object ids are read so beside predicted object ids
_READ_AS_IDS = (
    "the masks look like object ids (more values than classes are, or each value one "
    "region) and the predictions are object ids: the masks are read as object ids (%s)"
)
#: the commands this module's lines name, as each caller runs them (s56: Python callers
#: were told "unetlab predict --label-values", "evaluate --checkpoint"; PREDICTED_VALUES)
SCORED_FROM_MODEL = Spelled("evaluate_model(model, data_dir)", "evaluate --checkpoint")
PREDICT_OUT = Spelled("the out_dir of predict_folder", "unetlab predict's --output")


@call_lines()  # its INFO lines shown; a call is one command for what reading notes
@says_its_stop("evaluate_predictions")  # a Ctrl-C in one line, as evaluate_model's
def evaluate_predictions(
    pred_dir: str | os.PathLike,
    gt_dir: str | os.PathLike,
    *,
    label_values: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    boundary_class: int | None | str = "auto",
    ignore_value: int | None = None,
    connectivity: int = 1,
    gt_instances: bool = False,
    pred_instances: bool = False,
    objects: bool | None = None,
    worst: int = 5,
    exclude_rows=None,
    objects_3d: bool = False,
    iou_thresholds: Sequence[float] | None = None,
    progress: bool | Callable[[str], None] | None = True,
) -> Report:
    """Compare the saved predictions of ``pred_dir`` with the masks of ``gt_dir``: a
    :class:`Report`. The files read, defaults and refusals: ``help(unetlab.evaluate.predictions)``.

    ``pred_dir``: as ``unetlab predict`` writes it (``<stem>.png`` class maps, ``.tif`` for stacks,
    and/or ``<stem>_objects.tif`` object ids); ``pred_instances``: the ``<stem>`` files hold object
    ids too. ``gt_dir``: masks with the same stems, or a data folder; ``gt_instances``: they hold
    object ids (the cell tracking challenge's ``man_seg``). ``label_values``: the mask value of each
    class index (``[0, 255]``; None: class indices, or the predictions' record's). ``class_names``:
    None: the data set's ``class_names.txt``. ``ignore_value``: the mask value scored nowhere (None:
    the record's, else palette masks' 255). Objects are the ``connectivity``-connected regions of
    every class but ``boundary_class`` (None: all; ``"auto"``: the background). ``objects``: compute
    the ISBI and object scores (None: with object ids or at most two classes). ``worst``: how many
    worst images the report lists. ``exclude_rows`` (``{"bottom": 26}``, ``"bottom=26"``:
    :mod:`unetlab.data.exclude`): scored nowhere. ``objects_3d``: z-stacks of object ids scored in
    3-D (:func:`~unetlab.evaluate.volumes.evaluate_volumes`). ``iou_thresholds``: of the matching
    table (``--iou``; None: 0.1 .. 0.9). ``progress``: True: a bar; a function: called with each
    image's (stack's) name once scored, as ``evaluate_model``'s."""
    check_folders(pred_dir=pred_dir, gt_dir=gt_dir)
    shown = dict(worst=worst, progress=progress)  # the report's worst images, the bar
    ious, label_values = chosen_thresholds(iou_thresholds), int_values(label_values, "label_values")
    check_evaluation(ignore_value=ignore_value, label_values=label_values, **shown)
    exclude_rows = check_exclude_rows(exclude_rows, "exclude_rows")
    kept = dict(connectivity=connectivity, boundary_class=boundary_class, objects=objects)
    if _in_3d(objects_3d, label_values, class_names, ignore_value, exclude_rows, **kept):
        report = evaluate_volumes(pred_dir, gt_dir, pred_instances=pred_instances, **shown)
    else:
        given = (label_values, class_names, boundary_class, ignore_value, connectivity)
        kept = dict(objects=objects, exclude_rows=exclude_rows, gt_instances=gt_instances, **shown)
        report = _evaluated(pred_dir, gt_dir, *given, pred_instances, **kept)
    return dataclasses.replace(report, iou_thresholds=ious)


@contextlib.contextmanager
def predictions_read_once() -> Iterator[None]:
    """Within: each folder's ``predict.json`` and manifest read once while unchanged
    (:func:`~unetlab.inference.records.prediction_records_read_once`,
    :func:`~unetlab.manifest.manifests_read_once`): ``evaluate --pred`` again read its
    predictions' 4 and 6 times, the command's check before scoring and the scoring's (s60)."""
    with prediction_records_read_once(), manifests_read_once():
        yield


def _shapes_as_asked(fn):
    """``fn(..., gt_instances=...)`` reading labelme's and YOLO's shapes as objects where
    ``gt_instances`` (each shape, or labelme group, one), else as classes."""

    @functools.wraps(fn)
    def scored(*args, gt_instances: bool, **kwargs):
        with shapes_read_as("instances" if gt_instances else None):
            return fn(*args, gt_instances=gt_instances, **kwargs)

    return scored


@planes_saved_with_axes()  # evaluate_volumes' too
@predictions_read_once()
@_shapes_as_asked
def _evaluated(
    pred_dir: str | os.PathLike,
    gt_dir: str | os.PathLike,
    label_values,
    class_names,
    boundary_class,
    ignore_value,
    connectivity: int,
    pred_instances: bool,
    *,
    gt_instances: bool,
    objects: bool | None,
    worst: int,
    exclude_rows,
    progress,
) -> Report:
    """:func:`evaluate_predictions` in 2-D, the masks read as ids (``gt_instances``), or
    as classes unless they look like ids beside predicted ids (:func:`_masks_as_ids`,
    decided before scoring: the pages were scored as classes, refused, then scored again)."""
    refuse_image_folders(pred_dir, gt_dir)  # the command's too: it prints --pred, --gt
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    given = (pred_dir, gt_dir, label_values, class_names, boundary_class)
    kinds = dict(pred_instances=pred_instances, ignore_value=ignore_value)
    read = _read(*given, gt_instances=gt_instances, **kinds)
    ignore_value, void = read.ignored
    if _masks_as_ids(read, gt_dir, ignore_value):
        log.info(_READ_AS_IDS, said_as(GT_INSTANCES))  # each file's record read once
        read = _read(*given, gt_instances=True, **kinds, written=read.written)
    values = read.classes.label_values
    masks = checked_masks(
        read.masks, ignore_value, label_values=values, instances=read.gt_instances
    )
    objects = _objects_wanted(objects, read)
    reading = _Reading(values, ignore_value, connectivity, read.gt_instances, exclude_rows)
    files = set(read.mask_files)  # a data folder's stack: a pair (file) for each page
    each = dict(what="each image's name", each=True, desc="images", unit="image")
    stacks = [f for f in files if f.suffix.lower() not in ONE_PAGE]  # pages known once open
    with (
        progress_calls(progress, **each, total=len(files)) as bar,
        counted(len(files), bar, unopened=stacks) as done,
    ):
        masks = _counted(masks, done)
        acc, scored, stems = _scored(masks, read, reading, void=void, objects=objects, done=done)
    report = _reported(acc, read, stems, gt_dir, worst)
    report.source = _source(pred_dir, gt_dir, ignore_value, exclude_rows, scored, report)
    report.source |= _identity(read.preds, stems, scored, gt_dir)
    return report


def _in_3d(objects_3d, label_values, class_names, ignore_value, exclude_rows, **kept) -> bool:
    """Whether :func:`evaluate_predictions` scores z-stacks in 3-D (``objects_3d``, True or
    False: 'no' would), the arguments it does not take then refused (:func:`check_volumes`)."""
    if not isinstance(objects_3d, bool | np.bool_):  # 'no' would score in 3-D
        raise UnetlabError(f"objects_3d is True or False, not {objects_3d!r}")
    if objects_3d:
        check_volumes(label_values, class_names, ignore_value, exclude_rows, **kept)
    return bool(objects_3d)


def _objects_wanted(objects: bool | None, read: _Read) -> bool:
    """Whether the ISBI and object scores are computed: ``objects`` as asked, None: with
    object ids (either side) or at most two classes (:func:`object_scores_wanted`)."""
    known = _known_classes(read.classes.names, read.classes.by_index)
    return object_scores_wanted(objects, known, instances=read.with_ids)


class _Read(NamedTuple):
    """What :func:`evaluate_predictions` reads before scoring: the mask files, an iterator
    of their pages (:class:`MaskPage`) for the predicted images, the predictions, the
    classes scored and whether the masks hold object ids."""

    mask_files: list[Path]
    masks: Iterable[MaskPage]
    preds: Predictions
    classes: _Classes
    gt_instances: bool
    gt_dir: Path  # as given: its files are named by their names (named_in)
    ignored: tuple[int | None, int | None]  # :func:`_ignored`'s
    finder: tuple[Callable[[str], str], dict]  # :func:`_stem_finder`'s, made once

    @property
    def written(self) -> Written:
        """The predictions' records, each file's header read once."""
        return self.preds.written

    @property
    def with_ids(self) -> bool:
        """Whether either side holds object ids (the report's counts table)."""
        return self.gt_instances or bool(self.preds.objects)


def _read(
    pred_dir: Path,
    gt_dir: Path,
    label_values: Sequence[int] | None,
    class_names: Sequence[str] | None,
    boundary_class: int | None | str,
    *,
    gt_instances: bool,
    pred_instances: bool,
    ignore_value: int | None,
    written: Written | None = None,
) -> _Read:
    """The masks of ``gt_dir`` (object ids also where every file is objects only), the
    classes scored (:func:`_classes`), the value ignored (:func:`_ignored`) and the
    predictions of ``pred_dir`` (``written``: their records, where read already); a folder
    of the masks given as the predictions refused, the masks kept for the predicted images."""
    # the pages are read once preds is made below: outlines take a prediction's size, RGB
    # masks without a table the predictions' colours
    colours = functools.cache(lambda: predicted_colours(preds, given))
    written = Written(pred_dir, case_names(gt_dir)) if written is None else written
    mask_files, masks, stems = ground_truth(
        gt_dir, lambda stem: preds.size_of(stem), colours, predicted=written.input_folders()
    )
    gt_instances = gt_instances or _objects_only(mask_files, gt_dir)
    ids = dict(gt_instances=gt_instances, pred_instances=pred_instances)
    given = _recorded_ignore(written) if ignore_value is None else ignore_value
    classes = _classes(written, gt_dir, label_values, class_names, boundary_class, given, **ids)
    values = classes.label_values
    ignored = _ignored(mask_files, values, given)
    finder = _stem_finder(set(written.maps) | set(written.objects), mask_files)
    preds = Predictions(
        pred_dir,
        instances=pred_instances,
        object_pixels=gt_instances,
        label_values=values,
        written=written,
        ignored=ignored[0],
        paired=set(map(finder[0], stems)),
    )
    _refuse_masks_as_predictions(preds, mask_files, gt_dir)
    masks = _for_images(masks, finder)
    return _Read(mask_files, masks, preds, classes, gt_instances, gt_dir, ignored, finder)


def predicted_colours(preds: Predictions, ignored: int | None) -> ColourTable | None:
    """The colours the predictions are drawn in (the palette of their first class map, where
    it is a palette PNG) of the classes' mask values and the ``ignored`` value (the one
    given, else the records': resolved once, by :func:`_read`): colour (RGB) masks without
    a colour table beside them are read in them, as ``--checkpoint`` reads them in the
    checkpoint's (audit s43 scenes: ``--pred`` refused such masks, naming
    class_colors.txt). The classes' values: the recorded mask values, else class indices
    of the recorded classes; None without palette class maps or either."""
    values, names = preds.label_values, recorded_class_names(preds.written)
    values = values if values is not None or names is None else range(len(names))
    first = next(iter(preds.maps.values()), None)  # one header read: a run's share one
    palette = read_palette(first) if first is not None else None
    if palette is None or values is None:
        return None
    void = ignored if ignored is not None and 0 <= ignored < len(palette) else None
    return palette_table(palette, list(values), f"the colours of {preds.folder}", void=void)


def _ignored(
    mask_files: list[Path], label_values, ignore_value: int | None
) -> tuple[int | None, int | None]:
    """(the mask value scored nowhere, palette masks' void value or None): ``ignore_value``
    (the one given, else the predictions' records': :func:`_recorded_ignore`, resolved
    once), else palette masks' void (:func:`palette_void` of ``mask_files``)."""
    void = palette_void(mask_files, ignore_value, label_values)
    return (ignore_value if void is None else void), void


def _reported(acc: Accumulator, read: _Read, stems: list[str], gt_dir: Path, worst: int) -> Report:
    """The report of ``acc`` (the pages of ``stems`` scored), with the predictions no mask
    scored and, masks of classes, object ids scored without a class map said."""
    say_unscored(read.preds, stems, gt_dir)
    _say_planewise(read.preds, stems)
    names = _found_names(read.classes.names, read.classes.by_index, acc)
    report = acc.report(names, thresholds=None, worst=worst)
    if not read.gt_instances:
        _say_classless(read.preds, stems, report)
    _say_regions(read.preds, stems, report)
    report.counting = read.with_ids
    report.foreign_maps = _unrecorded_maps(read.preds, stems)
    return report


def _unrecorded_maps(preds: Predictions, stems: list[str]) -> bool:
    """Whether a class map of ``stems`` carries no record of the labels unetlab wrote
    (another tool's map, whose values may be another reading of a class)."""
    maps = (preds.maps.get(stem) for stem in dict.fromkeys(stems))
    return any(p is not None and preds.written.outputs(p).get("labels") is None for p in maps)


#: the flags of evaluate_predictions' arguments that 3-D scoring refuses, where not --name
_FLAGS_3D = {"objects": "--object-scores"}


def check_volumes(
    label_values, class_names, ignore_value, exclude_rows, *, connectivity, boundary_class, objects
) -> None:
    """UnetlabError naming the first argument that 3-D objects' scoring does not take (its
    ids are given: no regions to find, no boundary class, object scores always)."""
    given = dict(
        label_values=label_values,
        class_names=class_names,
        ignore_value=ignore_value,
        exclude_rows=exclude_rows,
        connectivity=None if connectivity == 1 else connectivity,
        boundary_class=None if boundary_class == "auto" else boundary_class,
        objects=None if objects in (None, True) else objects,
    )
    if said := [k for k, v in given.items() if v is not None]:
        flag = _FLAGS_3D.get(said[0], flag_of(said[0]))
        raise UnetlabError(**spelled(_not_read_in_3d, Spelled(said[0], flag), OBJECTS_3D))


def _not_read_in_3d(name: str, objects_3d: str) -> str:
    """Why ``name`` is refused with ``objects_3d``, in one caller's spelling of both."""
    return (
        f"{name} is not read with {objects_3d}: 3-D objects are scored from stacks of object "
        "ids against stacks of object ids; drop it"
    )


class _Classes(NamedTuple):
    """The classes :func:`evaluate_predictions` scores: the masks' label values (None: class
    indices), the class names given or found (None: not known before the masks are read),
    those the data set's file names by index, and the boundary class."""

    label_values: Sequence[int] | None
    names: list[str] | None
    by_index: dict[int, str] | None
    boundary: int | None


def _classes(
    written: Written,
    gt_dir: Path,
    label_values: Sequence[int] | None,
    class_names: Sequence[str] | None,
    boundary_class: int | None | str,
    ignore_value: int | None,
    *,
    gt_instances: bool,
    pred_instances: bool,
) -> _Classes:
    """The :class:`_Classes` of :func:`evaluate_predictions`' arguments, checked:
    ``label_values`` (None, for class maps: those the predictions' records give,
    ``written``), the class names (None: the data set's), the boundary class (``"auto"``
    resolved, the ``ignore_value`` no class)."""
    ids = gt_instances or pred_instances
    if label_values is None and not ids:
        label_values = _recorded_values(written)
    given = class_names is not None
    class_names, by_index = data_set_names(gt_dir, class_names, label_values, ids)
    if not (given or ids):
        class_names, by_index = _as_trained(class_names, by_index, written)
    if class_names is None and by_index is None and not ids:
        class_names = _recorded_names(written, label_values)
    how = dict(by_index=by_index, ids=ids, ignore_value=ignore_value)
    boundary = _boundary(boundary_class, label_values, class_names, **how)
    names = _prediction_classes(label_values, class_names, boundary, gt_instances, pred_instances)
    return _Classes(label_values, names, by_index, boundary)


def _scored(
    masks: Iterable[MaskPage],
    read: _Read,
    reading: _Reading,
    *,
    void: int | None,
    objects: bool | None,
    done=None,
) -> tuple[Accumulator, list[ScoredPage], list[str]]:
    """The statistics of every mask page and its prediction (:func:`_accumulate`; ``done``,
    where not None, called with each page's name once scored), the pages scored and the
    stems of the masks; a page without a prediction
    (:func:`_refuse_missing`) and values that are not the class indices they are read as
    (:meth:`_ValueStats.check`) refused at the end."""
    preds, classes = read.preds, read.classes
    acc = Accumulator(
        boundary_class=classes.boundary, connectivity=reading.connectivity, objects=objects
    )
    count = classes.label_values is None and classes.names is None
    indices = classes.label_values is None and not reading.gt_instances  # mask values are
    values = _ValueStats(
        count_values=count,
        void=void,
        indices=indices,
        ids=reading.gt_instances,
        ignored=reading.ignore_value,
        label_values=classes.label_values,
        wide_maps=preds.wide,
    )
    stems: list[str] = []
    named = classes.names if classes.names is not None else classes.by_index or ()
    try:
        missing, scored = _accumulate(acc, values, _noting(masks, stems), preds, reading, done)
    except TooManyClasses:
        _check_values(values, read.written, reading, len(named))  # what they are, first
        raise
    _refuse_missing(missing, preds, stems)
    _say_truth_lost(values.lost, reading, read.gt_dir)
    _check_values(values, read.written, reading, len(named))
    values.say_predicted_ids(len(named))  # scored as read: no refusal said before it
    return acc, scored, stems


def _check_values(values: _ValueStats, written: Written, reading: _Reading, named: int) -> None:
    """:meth:`_ValueStats.check` of the pages so far, beside ``named`` classes."""
    own = _predicted_as_class(written, reading.ignore_value, values.void_maps)
    values.check(named=named, own_void=own)


def _predicted_as_class(written: Written, value: int | None, maps: Sequence[Path]) -> bool:
    """Whether each of the class ``maps`` holding the masks' ignore ``value`` is unetlab's
    prediction of a model whose label values list it (its record's ``label_values``: 0, 1, 2
    with 2 ignored): that class predicted, no other tool's class in the void's value (review
    s68: such maps were refused as another tool's 0/2 map)."""
    records = [written.record(path).get("label_values") for path in maps]
    return bool(records) and all(isinstance(v, list) and value in v for v in records)


def _say_truth_lost(lost: TruthLost, reading: _Reading, gt_dir: Path) -> None:
    """The warnings of the mask files whose own no-data tag took labelled pixels
    (:meth:`TruthLost.say`, 3-D's too), with the fix that reads its value as a class: label
    values, where none are given and the masks are no object ids (which take none)."""

    def fix(value: float) -> str:
        if reading.label_values is not None or reading.gt_instances:
            return ""
        v = tag_value_shown(value)
        return said_as(Spelled(f"give label_values=[0, {v}] or ", f"give --label-values 0 {v} or "))

    lost.say(gt_dir, "pixel", fix)


def _objects_only(mask_files: Sequence[Path], gt_dir: Path) -> bool:
    """Whether the masks are all objects by what they are: drawn as outlines (Fiji's
    RoiSet.zip, QuPath's .geojson), or a DSB sample's ``masks/`` of one file per object (a
    folder: :mod:`unetlab.data.dsb`): scored as object ids (``gt_instances``), said in a log
    line; their ids read as classes gave an object of id 2 a class of its own, and a DSB
    folder was refused as masks in another encoding."""
    if not mask_files or not all(objects_by_what(f) for f in mask_files):
        return False
    log.info(
        "the masks are objects by what they are (outlines, a folder of one mask per object, "
        "or the Cell Tracking Challenge's man_seg files: %s, ...): scored as object ids (%s)",
        named_in(mask_files[0], gt_dir),
        said_as(GT_INSTANCES),
    )
    return True


def _counted(masks: Iterable[MaskPage], done: Count) -> Iterable[MaskPage]:
    """``masks``, ``done`` (its bar too: :meth:`Count.opened`) told of each file's pages as
    its first comes: its total, one a mask file at first, counts the pages scored (s52
    notebook: it had no total, so no share or time left; s66: nor the stop's line)."""
    for page in masks:
        if page.opens:
            done.opened(page.path, 1 if page.sliced else page.pages)
        yield page


def _noting(masks: Iterable[MaskPage], stems: list[str]) -> Iterable[MaskPage]:
    """``masks``, each one's stem appended to ``stems`` as it is given."""
    for page in masks:
        stems.append(page.stem)
        yield page


def _for_images(
    masks: Iterable[MaskPage], finder: tuple[Callable[[str], str], dict], say: bool = True
) -> Iterable[MaskPage]:
    """``masks``, each with the stem of its prediction (``finder``: :func:`_stem_finder`'s);
    those named as other tools name them said in a log line (``say``)."""
    stem_of, others = finder
    said = not say
    for page in masks:
        stem = stem_of(page.stem)
        if stem != page.stem and not said and stem in others.values():
            said = True
            log.info(
                "predictions named as other tools name them (%s for the mask %s, endings %s) "
                "are scored against the masks of their images",
                stem,
                page.stem,
                ", ".join(OTHER_ENDINGS),
            )
        yield page._replace(stem=stem)


#: the endings of predictions named as other tools name them, as a line says them
OTHER_ENDINGS = (*PREDICTION_NAMES, "membrain-seg's _<checkpoint>_segmented")


def _stem_finder(held: set[str], mask_files: Sequence[Path]) -> tuple[Callable, dict]:
    """(the stem of the prediction of a mask page's stem (:func:`_prediction_stem`), the
    predictions named as other tools name them (``X_pred``; membrain-seg's
    ``X_<checkpoint>_segmented``: :func:`~unetlab.data.names.segmented_for`), by their image's
    stem), of the predictions of the stems ``held`` (their class maps' and object ids')."""
    named = {nfc(f.stem) for f in mask_files}
    others = segmented_for(held, named) | named_for(held, PREDICTION_NAMES)
    return functools.partial(_prediction_stem, preds=held, named=named, others=others), others


def _prediction_stem(stem: str, preds: set[str], named: set[str], others: dict) -> str:
    """The stem of the prediction of the mask ``stem``: its own where there is one; else,
    for a mask named for its image (``X_mask``: :func:`~unetlab.data.names.image_stem`) where
    no mask is named ``X`` itself (a folder of such masks given as the ground truth; audit s35
    messy 3), the prediction ``X``; else the one prediction named for the image (``X_pred``,
    ``X_prediction``, ...: ``others``, :func:`~unetlab.data.names.named_for`) that no mask is
    named as; an OME-TIFF's mask ``X.ome`` the prediction ``X`` (:func:`ome_less`).
    Unchanged where none is (said missing)."""
    if (found := ome_less(stem, preds, named)) in preds:
        return found
    base = image_stem(stem)
    for want in (stem, base if base is not None and base not in named else None):
        if want is not None and want in preds:
            return want
        if want in others and others[want] not in named:
            return others[want]
    return stem


def _say_planewise(preds: Predictions, stems: list[str]) -> None:
    """One line where object ids that predict --objects-3d joined across a stack's planes
    are scored plane by plane: each nucleus counts once in every plane it spans (audit s38
    3d: 58 nuclei of 2 stacks scored as 361 objects without a word); not of organs, 3-D
    objects of several classes (:func:`~unetlab.inference.objects_3d.classes_table`), which
    --objects-3d refuses (s73 review: the line named it as the fix)."""
    found = [preds.objects[s] for s in dict.fromkeys(stems) if s in preds.objects]
    recorded = recorded_3d(found, preds.written).items()
    if joined := [p for p, joined in recorded if joined and not classes_table(p)]:
        log.warning(
            "%s in %s %s 3-D objects (%s: %s), scored here plane by plane: a "
            "nucleus counts once in each of its planes; %s matches them in 3-D against "
            "stacks of object ids",
            numbered(len(joined), "prediction"),
            preds.folder,
            worded(len(joined), "holds", "hold"),
            said_as(MADE_3D),
            describe_names([p.name for p in joined]),
            said_as(OBJECTS_3D),
        )


def _say_classless(preds: Predictions, stems: list[str], report: Report) -> None:
    """One line where object ids without a class map beside them (no class per object)
    were scored against masks of several object classes: their objects matched whatever
    their class (audit s35 multiclass 1)."""
    blind = [s for s in dict.fromkeys(stems) if s in preds.objects and not preds.classed(s)]
    objects = len(report.class_names) - (report.boundary_class is not None)
    if blind and objects > 1 and "object_f1" in report.summary:
        has, them, their = ("has", "it", "its") if len(blind) == 1 else ("have", "them", "their")
        log.warning(
            "%s in %s %s no class map beside %s (%s): %s "
            "objects are matched whatever their class, not within the %d object classes of "
            "the masks; keep the <stem>.png of %s beside <stem>_objects.tif",
            numbered(len(blind), "object-id prediction"),
            preds.folder,
            has,
            them,
            describe_names(blind),
            their,
            objects,
            said_as(MADE_OBJECTS),
        )


def _say_regions(preds: Predictions, stems: list[str], report: Report) -> None:
    """One line where the object scores are of class maps that ``unetlab predict`` wrote
    without objects (no ``--instances``): every region counts, however small, not the
    model's objects that ``evaluate --checkpoint`` and ``predict --instances`` find (least
    area, holes filled), so the two score one model differently (audit s40 readme: object
    F1 0.79 here against 0.90 with --checkpoint, 262 against 204 objects). Decided by the
    records of the maps scored: ``predict.json`` keeps every earlier run's."""
    if "object_f1" not in report.summary or any(s in preds.objects for s in stems):
        return
    records = [preds.written.record(preds.maps[s]) for s in dict.fromkeys(stems) if s in preds.maps]
    outputs = [r.get("outputs") for r in records if r.get("checkpoint")]
    if outputs and all(isinstance(o, dict) and not o.get("objects") for o in outputs):
        from unetlab.inference.folders import INSTANCES  # predict's own, loaded only here

        log.warning(
            "objects here are every region of the class maps in %s, however small: not the "
            "model's objects (least area, holes filled) that %s scores; predict with %s to "
            "score those",
            preds.folder,
            said_as(SCORED_FROM_MODEL),
            said_as(INSTANCES),
        )


def _refuse_masks_as_predictions(preds: Predictions, mask_files: list[Path], gt_dir) -> None:
    """DatasetError if a prediction file read is one of the masks (the same folder given as
    both, or a data folder and its masks/): the masks were scored against themselves, every
    figure 1.0 without a word (audit s37 paths)."""
    masks = {os.path.realpath(f) for f in mask_files}
    found = (f for files in (preds.maps, preds.objects) for f in files.values())
    if (same := next((f for f in found if os.path.realpath(f) in masks), None)) is not None:
        said = (
            f"{preds.folder}: the predictions read are the masks of {gt_dir} ({same.name} is "
            "both): they would score 1.0 against themselves; give the folder of the predictions"
        )
        raise DatasetError(**spelled(lambda out: f"{said} ({out})", PREDICT_OUT))


def _identity(preds: Predictions, stems: list[str], scored: list[ScoredPage], gt_dir) -> dict:
    """What tells this report from another beside its figures (audit s34 repro 3): the
    checkpoints and settings that made the predictions read (:func:`predicted_by`), the code
    (:func:`code_identity`) and the files scored by content
    (:func:`~unetlab.evaluate.identity.files_identity`): the predictions read, the masks."""
    from unetlab.provenance import code_identity

    read = [f for stem in dict.fromkeys(stems) for f in preds.files_of(stem)]
    made = predicted_by(preds.folder, [f.name for f in read])
    return {
        **({"predicted_by": made} if made else {}),
        "code": code_identity(),
        "prediction_files": files_identity(read, preds.folder),
        "ground_truth_files": files_identity([page.mask_file for page in scored], gt_dir),
    }


def _source(
    pred_dir: Path, gt_dir: Path, ignore_value, exclude_rows, scored: list[ScoredPage], report
) -> dict:
    """``report.source`` of :func:`evaluate_predictions`: the folders, whether a class map
    scored is another tool's (``foreign_maps``: no record of the labels unetlab wrote; s70:
    the table said so, the JSON did not), the ignored value, how many of the pages trained
    a checkpoint that made them (:func:`_training_overlap_note`, which marks the report's
    rows), the rows scored nowhere."""
    source = scored_paths(dict(predictions=pred_dir, ground_truth=gt_dir))
    source["foreign_maps"] = report.foreign_maps
    source["ignore_value"] = ignore_value
    if (seen := _training_overlap_note(pred_dir, scored, report)) is not None:
        source["trained_images"] = seen
    source["exclude_rows"] = as_config(exclude_rows)
    return source


def predicted_by(pred_dir: str | os.PathLike, names: Iterable[str] | None = None) -> list[dict]:
    """The checkpoints that made the predictions of ``pred_dir`` as its ``predict.json``
    records them (``checkpoint``: the path, ``checkpoint_sha256``), each once, with the
    settings each of its records predicted with (``settings``: TTA, blend, precision, tile
    size, ...; where the records hold them): what a report of ``evaluate --pred`` scored
    (``unetlab compare`` names it). ``names``: only the records whose keys the folder's
    manifest gives those files (the files scored; a record no file carries any more is
    left out), where it gives any."""
    records = read_records(pred_dir)
    if names is not None and (keys := _keys_of(Path(pred_dir), names) & set(records)):
        records = {k: v for k, v in records.items() if k in keys}
    found: dict[tuple, dict] = {}
    for record in records.values():
        if isinstance(record, dict) and record.get("checkpoint"):
            made = _made_by(record)
            made = found.setdefault((made["checkpoint"], report_model_sha256(made)), made)
            settings = made.setdefault("settings", [])
            if isinstance(record.get("model"), dict) and record["model"] not in settings:
                settings.append(record["model"])
            if not settings:
                del made["settings"]
    return list(found.values())


def _made_by(record: dict) -> dict:
    """A ``predicted_by`` entry of a prediction record: the checkpoint's path, its bytes'
    sha256 and, where the file was rewritten keeping its model, the model's
    (``checkpoint_model_sha256``): a checkpoint trained further under the same name
    (``train --resume``) is another entry, not merged into the first by its path."""
    made = {"checkpoint": str(record["checkpoint"]), REPORT_SHA256: record.get("sha256")}
    if same := record.get("model_sha256"):
        made[REPORT_SAME_MODEL] = same
    return made


def _keys_of(pred_dir: Path, names: Iterable[str]) -> set[str]:
    """The record keys the manifest of ``pred_dir`` gives the files ``names`` (a stopped
    run's too: written, not confirmed)."""
    from unetlab.manifest import PENDING, recorded_keys

    keys = recorded_keys(pred_dir, "predict")
    return {keys[n].removeprefix(PENDING) for n in names if keys.get(n)}


def _recorded_values(written: Written) -> list[int] | None:
    """The label values the predictions' records give (:func:`recorded_label_values`; else
    for class maps of class indices, those of the model's training:
    :func:`trained_label_values`), said in a log line, or None."""
    if (values := recorded_label_values(written)) is not None:
        log.info(
            "label values %s from %s/predict.json (the predictions hold mask values: %s); %s "
            "gives others",
            spaced(values),
            written.folder,
            said_as(PREDICTED_VALUES),
            said_as(LABEL_VALUES),
        )
    elif (values := trained_label_values(written)) is not None:
        log.info(
            "masks read with the training's mask values %s (%s/predict.json); %s overrides",
            spaced(values),
            written.folder,
            said_as(LABEL_VALUES),
        )
    return values


def _recorded_ignore(written: Written) -> int | None:
    """The ignore value the predictions' records give (:func:`recorded_ignore_value`: the
    models' ``data.ignore_value``), said in a log line, or None."""
    if (value := recorded_ignore_value(written)) is not None:
        log.info(
            "ignore value %d from %s/predict.json (the model's data.ignore_value): mask pixels "
            "holding it count nowhere; %s gives another",
            value,
            written.folder,
            said_as(IGNORE_VALUE),
        )
    return value


def _as_trained(
    names: list[str] | None, by_index: dict[int, str] | None, written: Written
) -> tuple[list[str] | None, dict[int, str] | None]:
    """The data set's class ``names`` (or ``by_index``) spelled as the model's, the
    predictions' records give them (:func:`recorded_class_names`), where the two differ in
    letter case only (:func:`~unetlab.data.names.loose`): the names the run trained with
    win, as ``evaluate --model`` has them (s47: class_names.txt's ``Road`` beside the mask
    table's ``road``). Names that differ otherwise are the data set's, as before."""
    trained = recorded_class_names(written)
    if not trained:
        return names, by_index
    if names is not None and [loose(n) for n in names] == [loose(n) for n in trained]:
        return list(trained), by_index
    if by_index is not None:
        same = {
            i for i, n in by_index.items() if i < len(trained) and loose(trained[i]) == loose(n)
        }
        by_index = {i: trained[i] if i in same else n for i, n in by_index.items()}
    return names, by_index


def _recorded_names(written: Written, label_values: Sequence[int] | None) -> list[str] | None:
    """The class names the predictions' records give (:func:`recorded_class_names`: the
    model's, ``membrane cell`` where the table said ``0 255``), one for each of the
    ``label_values`` where given, said in a log line; else None."""
    names = recorded_class_names(written)
    if names is None or (label_values is not None and len(names) != len(label_values)):
        return None
    log.info(
        "class names %s from %s/predict.json (the model's); %s gives others",
        " ".join(names),
        written.folder,
        said_as(CLASS_NAMES),
    )
    return names


def _known_classes(class_names: list[str] | None, by_index: dict[int, str] | None) -> int | None:
    """How many classes are known before the masks are read: those given or named by label
    value, or more than two the data set's file names by index (at least as many are found);
    None: not known yet."""
    known = len(class_names) if class_names is not None else None
    if by_index and len(by_index) > 2:
        known = len(by_index)
    return known


def _boundary(
    boundary_class: int | None | str,
    label_values: Sequence[int] | None,
    class_names: Sequence[str] | None,
    *,
    by_index: dict[int, str] | None,
    ids: bool,
    ignore_value: int | None,
) -> int | None:
    """``boundary_class``; ``"auto"``: 0 with object ids (background), else the background
    of the classes, as for a model (:func:`unetlab.data.weightmap.background_class` of the
    label values and the class names given, or named by the data set's file, and the
    ``ignore_value``, no class)."""
    if boundary_class != "auto":
        return boundary_class
    if ids:
        return 0
    if class_names is None and by_index:
        class_names = [by_index.get(i, str(i)) for i in range(max(by_index) + 1)]
    return background_class(label_values, class_names, ignore_value=ignore_value)


def _found_names(
    class_names: list[str] | None, by_index: dict[int, str] | None, acc: Accumulator
) -> list[str] | None:
    """The report's class names: ``class_names``, or those the data set's file names by
    index, of the classes found and of those it lists beyond."""
    if not by_index:
        return class_names
    count = max(len(by_index), acc.classes_seen())
    return [by_index.get(i, str(i)) for i in range(count)]


class _Reading(NamedTuple):
    """How :func:`evaluate_predictions` reads each mask page: its label values (None: class
    indices), the value that counts nowhere, the connectivity of a binary mask's objects,
    whether masks hold object ids, and the rows scored nowhere (a data bar)."""

    label_values: Sequence[int] | None
    ignore_value: int | None
    connectivity: int
    gt_instances: bool
    exclude_rows: tuple | None = None


def _accumulate(
    acc: Accumulator,
    values: _ValueStats,
    masks: Iterable[MaskPage],
    preds: Predictions,
    reading: _Reading,
    done=None,
) -> tuple[list[str], list[ScoredPage]]:
    """Add each mask page and its prediction to ``acc`` and ``values``; the stems of the
    pages that have no prediction, and the pages scored (in the report's order)."""
    missing, scored_pages = [], []  # stems, ScoredPage
    where = PageColumns(say=False)  # a stack's page, frame and time, from its image where known
    for gt_page in masks:
        if gt_page.stem not in preds:
            missing.append(gt_page.stem)
            continue
        pred, pred_ids = preds.page(gt_page)
        mask, unlabelled = _truth_nodata(gt_page, reading, values)
        name, file = gt_page.name, gt_page.where
        if reading.gt_instances:
            # no-data as background (0): true objects touching it merged through it (s54 C2)
            bare = mask if unlabelled is None else np.where(unlabelled, 0, mask)
            gt, gt_ids = instance_mask(bare, reading.ignore_value, file, reading.connectivity)
            gt_ids = gt_ids if unlabelled is None else np.where(unlabelled, 0, gt_ids)  # no object
        else:
            gt, gt_ids = encode(mask, reading.label_values, reading.ignore_value, file), None
        blank = pred == IGNORE_INDEX  # the prediction's no-data
        values.lost.predicted(gt_page.path, pred, unlabelled)  # its objects under the tag
        void = blank if unlabelled is None else blank | unlabelled
        if void.any():  # the prediction's or the masks' nodata: scored nowhere
            gt, pred = np.where(void, IGNORE_INDEX, gt), np.where(void, 0, pred)
        classed = pred_ids is not None and preds.classed(gt_page.stem)
        mapped = pred_ids is None or classed  # pred is a class map's
        pred, held = _predicted_ignore(pred, gt, reading, classes=mapped)
        top = values.add(mask, gt, pred, gt_page.path, mapped=mapped, void=void)
        values.add_map(pred, top, held, gt, (preds.maps.get(gt_page.stem), gt_page))
        scored = dict(pred=pred, gt=gt, gt_ids=gt_ids, pred_ids=pred_ids)
        if gt_ids is None and classed:
            # a semantic model's objects beside its class map: scored as evaluate
            # --checkpoint scores them, each of its class (audit s35 multiclass 1)
            scored.update(pred_ids=None, scored_ids=pred_ids)
        at = where(gt_page.image or gt_page.path, gt_page.page, gt_page.pages)
        voids = dict(void=blank if blank.any() else None, truth_void=unlabelled)  # no-data
        how = dict(binary_truth=reading.gt_instances and binary_truth(mask, reading.ignore_value))
        kept = without_excluded(scored, reading.exclude_rows)
        acc.add(name, **kept, where=at, **voids, **how, predicted_ignore=held, case=gt_page)
        scored_pages.append(ScoredPage(gt_page.path, gt_page.page, varied(mask), gt_page.image))
        if done is not None:
            done(name)
    return missing, scored_pages


def _truth_nodata(
    page: MaskPage, reading: _Reading, values: _ValueStats
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`mask_nodata` of ``page`` read as ``reading`` says (object ids: any tag but 0
    is no-data), its file's tag read once into ``values``, which gathers the files left
    without a labelled pixel or, of ids, an object (:class:`TruthLost`); not those whose tag
    is the ``ignore_value`` given, whose pixels the caller said count nowhere (they were
    told ``label_values=[0, 255]`` beside ``ignore_value=255``, which is refused: s56 E, 4)."""
    ids = reading.gt_instances
    mask, void = mask_nodata(page.mask, page.path, reading.label_values, values.nodata, ids=ids)
    if (value := values.nodata[page.path]) != reading.ignore_value:  # else theirs to say
        values.lost.add(page.path, page.mask, value, void)
    return mask, void


def _predicted_ignore(
    pred: np.ndarray, gt: np.ndarray, reading: _Reading, *, classes: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """(``pred``, the pixels where the class map holds the masks' ignore value (another
    tool's void 255 beside classes 0..10) or None: none, no ignore value, no class map
    (``classes`` False)), for :meth:`Accumulator.add`'s ``predicted_ignore``: scored
    nowhere where ``gt`` ignores them too, elsewhere wrong for the true class, in no class's
    column (review s66). Read through label values (:data:`PREDICTED_IGNORE`), they hold the
    index after the label values', which no class has (review s65: the map was refused,
    told to write a class where the masks ignore every such pixel)."""
    value = reading.ignore_value
    if value is None or not classes:
        return pred, None
    if reading.label_values is None:
        held = pred == value
        return pred, (held if held.any() else None)
    held = pred == PREDICTED_IGNORE
    if not held.any():
        return pred, None
    return np.where(held, len(reading.label_values), pred), held


def _training_overlap_note(pred_dir: Path, pages: list[ScoredPage], report: Report) -> int | None:
    """Where the predictions' ``predict.json`` names the checkpoints that made them
    (:func:`recorded_checkpoints`): mark the report's rows of the pages that trained one of
    them, warn naming those when any did (as ``evaluate --checkpoint`` does, audit s31
    fewshot 3), and give their count; None where no checkpoint is known."""
    checkpoints = recorded_checkpoints(pred_dir)
    if not checkpoints:
        return None
    trained = [False] * len(pages)
    for split in checkpoints.values():
        trained = [a or b for a, b in zip(trained, trained_pages(pages, split))]
    for row, flag in zip(report.images, trained):  # the rows are the pages, in order
        row["trained"] = flag
    if seen := [r["name"] for r, flag in zip(report.images, trained) if flag]:
        log.warning(
            "note: %d of these %d images trained the checkpoint that made these predictions "
            "(%s, as %s/predict.json records it; %s; marked trained in the JSON): their "
            "figures overstate how it does on new images; score a test set the run never saw "
            "(not its validation images either: they chose best.pt)",
            len(seen),
            len(pages),
            ", ".join(checkpoints),
            pred_dir,
            describe_names(seen),
        )
    return len(seen)


class _ValueStats:
    """What the masks and predictions of :func:`evaluate_predictions` hold, gathered page by
    page to refuse at the end values that are not the class indices they are read as
    (:func:`check_ids_as_classes`, :func:`check_one_file_values`, :func:`check_class_indices`):
    the pixels per mask value and the values of each mask file (``count_values``: masks read
    as class indices, no classes given), the largest predicted
    value and the most values of one prediction (counted once the largest is over 64),
    whether a mask is stored with more than 8 bits (16-bit ids?), the pixels of the
    palette masks' ``void`` value, and each page's values and regions while every page
    holds at least 4 values (object ids the same in every file, said: :meth:`check`; beside
    predicted object ids they were read as ids before: :func:`_masks_as_ids`)."""

    def __init__(
        self,
        *,
        count_values: bool,
        void: int | None,
        indices: bool = False,
        ids: bool = False,
        ignored: int | None = None,
        label_values: Sequence[int] | None = None,
        wide_maps: set[Path] | None = None,
    ):
        self.count_values = count_values
        self.label_values = label_values  # given or recorded: a map's values read by them
        self.ignored = ignored  # the masks' ignore value: their 0 of 0/255 (review s64)
        self.indices = indices  # mask values are class indices (no label values, no ids)
        self.void = void
        self.gt_values = np.zeros(0, np.int64)  # pixels per mask value, to catch 0/255 masks
        self.pred_max = self.pred_values = self.voided = 0
        self.void_of: tuple[str, str] | None = None  # whose void: :func:`void_words`
        self.wide = self.mapped = False
        self.files: dict[str, set[int]] = {}  # the values of each mask file, by its path
        # binary predictions' foreground values, each with its maps (None: one is not binary)
        self.pred_tops: dict[int, list[MapPage]] | None = {}
        self.zeros = np.zeros(2, np.int64)  # pixels of 0 in the masks, in the predictions
        self.pages: list[MaskValues] | None = [] if count_values else None
        self.nodata: dict[Path, float | None] = {}  # each mask file's own no-data value
        self.nodata_classed: dict[Path, float] = {}  # ... where a page read it as a class
        self.lost = TruthLost(ids=ids)  # ... where it took labelled pixels (``ids``: ids)
        # the masks' pixels of the ignore value, the predicted ones, those where both are
        self.void_held = np.zeros(3, np.int64)
        self.void_maps: list[Path] = []  # the class maps predicting it
        self.wide_maps = set() if wide_maps is None else wide_maps  # class maps of > 8 bits
        # their values, each map's, while no page's value forms several regions (None: one
        # does; :meth:`_add_look`), and whether a page held enough values to look like ids
        self.id_maps: dict[Path, set[int]] | None = {}
        self.ids_seen = False

    def add(
        self,
        mask: np.ndarray,
        gt: np.ndarray,
        pred: np.ndarray,
        path: Path,
        *,
        mapped: bool,
        void: np.ndarray,
    ) -> int:
        """One page: ``mask`` as read, ``gt`` its class indices, ``pred`` the prediction's,
        ``path`` the mask's file; ``mapped``: ``pred`` is a class map's, not the foreground
        of object ids (an instance model's map beside them, or none); ``void``: (H, W) bool,
        the no-data pixels, 0 in ``pred`` but no 0 predicted (review s65: a map of 7 and its
        no-data 9 was told 'the predictions hold 0 too'). Returns ``pred``'s largest value."""
        self.mapped |= mapped
        if self.count_values:
            counts = np.bincount(gt[gt >= 0].ravel())
            self.files.setdefault(str(path), set()).update(np.flatnonzero(counts).tolist())
            self.gt_values = np.pad(self.gt_values, (0, max(len(counts) - len(self.gt_values), 0)))
            self.gt_values[: len(counts)] += counts
            self._add_page(mask, np.count_nonzero(counts))
        self.pred_max = max(self.pred_max, top := int(pred.max(initial=0)))
        if self.count_values:
            self.zeros += (np.count_nonzero(mask == 0), np.count_nonzero((pred == 0) & ~void))
        if self.pred_max >= CLASS_INDEX_BELOW:  # object ids, or label values: count them
            self.pred_values = max(self.pred_values, len(distinct_values(pred)[0]))
        self.wide |= np.asarray(mask).dtype.itemsize > 1
        if self.ignored is not None:
            self.void_held[0] += np.count_nonzero(mask == self.ignored)
        if self.void is not None and (voided := int(np.count_nonzero(mask == self.void))):
            self.voided += voided
            self.void_of = self.void_of or void_words(path)
        self._add_nodata_classed(mask, gt, path)
        return top

    def add_map(
        self,
        pred: np.ndarray,
        top: int,
        held: np.ndarray | None,
        gt: np.ndarray,
        page: tuple[Path | None, MaskPage],
    ) -> None:
        """What the class map (``page``: its file, None: none, and its mask's page) holds
        there: ``pred``'s one foreground value ``top`` (its largest) where it holds 0 and one
        other (:meth:`_add_top`), whether it looks like object ids (:meth:`_add_look`, maps of
        more than 8 bits), and its pixels holding the masks' ignore value
        (``held``; None: none) and those of them where ``gt`` is ignored too
        (:func:`~unetlab.evaluate.checks.check_void_predicted`). Refuses a largest value but
        the ignore value's of a table too large to score (:class:`TooManyClasses`; review s69:
        maps copying the masks' void 65535 were refused, 65535 read as a class index)."""
        path, mask = page
        place = (str(path), mask.page, mask.pages)
        self._add_top(pred, top, place)
        if top and path in self.wide_maps:
            self._add_look(pred, path)
        if held is not None:  # counted first: the void's refusal, where one fits
            self.void_held[1:] += (
                np.count_nonzero(held),
                np.count_nonzero(held & (gt == IGNORE_INDEX)),
            )
            if path is not None and path not in self.void_maps:
                self.void_maps.append(path)
            top = int(pred.max(where=~held, initial=0))
        if top >= CLASSES_AT_MOST:  # kept first: the values' refusal, where one fits
            raise too_many_classes(top, place)

    def _add_top(self, pred: np.ndarray, top: int, page: MapPage) -> None:
        """Keep ``pred``'s one foreground value ``top`` with its map's ``page``, or None for
        every map where it holds more than 0 and one value (masks read as class indices
        only)."""
        if not self.count_values or self.pred_tops is None or not top:
            return
        if np.count_nonzero((pred != 0) & (pred != top)):
            self.pred_tops = None
            return
        self.pred_tops.setdefault(top, []).append(page)

    def _add_look(self, pred: np.ndarray, path: Path) -> None:
        """Keep the values of the class map ``path`` (of more than 8 bits, not empty) from
        ``pred`` while each value of every such page is one region, as object ids are (said:
        :meth:`say_predicted_ids`): the first page where one forms several (a class's)
        ends the look; a page of at least :data:`ONE_OBJECT_LEAST` values beside 0 makes
        them look like ids, one of fewer (a crop of 0-3 cells) neither does nor ends it
        (review s70: a 3-id or empty map silenced the line for all)."""
        if self.id_maps is None:
            return
        page = MaskValues.of(pred, ramp=False)
        ids = np.count_nonzero(page.regions)  # the values beside the background's
        if page.objects > ids * (1 + SPLIT_IDS):
            self.id_maps = None
            return
        self.ids_seen |= ids >= ONE_OBJECT_LEAST
        self.id_maps.setdefault(path, set()).update(page.values)

    def _add_nodata_classed(self, mask: np.ndarray, gt: np.ndarray, path: Path) -> None:
        """Keep the no-data value the mask file ``path`` names where this page (``mask`` as
        read, ``gt`` its class indices) holds it read as a class index: a value below 255
        (:func:`~unetlab.evaluate.checks.check_named_nodata` refuses one no class has)."""
        value = self.nodata.get(path)
        if not self.indices or value is None or path in self.nodata_classed:
            return
        held = mask == value
        if held.any() and (gt[held] >= 0).any():
            self.nodata_classed[path] = value

    def _add_page(self, mask: np.ndarray, held: int) -> None:
        """The values and regions of one mask page of ``held`` values, kept while every
        page holds more than :data:`ONE_OBJECT_LEAST` (the background too)."""
        if self.pages is None:
            return
        if held <= ONE_OBJECT_LEAST:
            self.pages = None  # not every page: no note
        else:
            self.pages.append(MaskValues.of(mask))

    def check(self, named: int, *, own_void: bool = False) -> None:
        """Say the void pixels ignored, then refuse masks or predictions whose values are not
        class indices (:class:`~unetlab.evaluate.checks.MaskValuesError`); ``named``: how many
        classes are given or named by the data set (0: none); ``own_void``: the maps holding
        the ignore value are a model's that has a class of it (:func:`_predicted_as_class`),
        not refused for it."""
        if self.voided:
            log.info(
                "%s: value %d (%s, %d px) counts nowhere, as in training; %s say otherwise",
                self.void_of[0],
                self.void,
                self.void_of[1],
                self.voided,
                said_as(VOID_OTHERWISE),
            )
        if not own_void:
            check_void_predicted(self.void_held, self.ignored, self.void_maps)
        values = np.flatnonzero(self.gt_values)
        known = max(self.pred_max + 1, named)  # the classes predicted or named
        check_named_nodata(self.nodata_classed, known)
        check_ids_as_classes(values, (self.pred_max, self.pred_values), named, self.wide)
        check_one_file_values(self.files, known)
        check_class_indices(values, self.pred_max, objects=not self.mapped)
        check_binary_values(values, self.pred_tops, self.ignored, self.zeros)
        check_binary_predictions(values, self.pred_tops, self.ignored)
        self._say_object_ids(named, known, values.size)

    def _say_object_ids(self, named: int, known: int, held: int) -> None:
        """A warning where the masks, no classes named, look like object ids (the same few
        in every file: :func:`~unetlab.data.fingerprint.object_ids_note`), naming
        --gt-instances; said, not decided (classes can look so too), as training says it.
        Else one where beside class maps they hold more values than the classes predicted
        or named (``known``: :func:`_beyond_classes`)."""
        fix = f"score them as objects with {said_as(GT_INSTANCES)}"
        if not named and self.pages and (ids := object_ids_note(self.pages, fix)):
            log.warning("the masks' %d values are read as one class each; %s", held, ids)
        elif self.mapped and (line := _beyond_classes(self.files, known, self.pages)):
            log.warning("%s", line)

    def say_predicted_ids(self, named: int) -> None:
        """A warning, once the pages are scored as read, where the class maps of more than 8
        bits look like object ids (:meth:`_add_look`) and hold more values beyond the
        masks' classes (their largest value and those below) than those classes: ids saved
        without ``_objects`` in their names, scored as one class each unsaid (s69 README).
        Said, not decided: classes can look so too (organs, one region each). Not where
        classes are ``named`` (any value beyond them is refused: review s70)."""
        if named or not self.id_maps or not self.ids_seen:
            return
        values = np.flatnonzero(self.gt_values)
        classes = int(values[-1]) + 1 if values.size else 0
        maps = {p: sorted(v for v in held if v >= classes) for p, held in self.id_maps.items()}
        beyond = sorted(set().union(*maps.values()))
        if len(beyond) > classes:
            log.warning("%s", _ids_in_maps([p for p, v in maps.items() if v], beyond, classes))


#: how the masks' classes are named, as its caller spells it
NAMED_CLASSES = Spelled("class_names=[...]", "--class-names")


def _beyond_classes(
    files: dict[str, set[int]], known: int, pages: list[MaskValues] | None
) -> str | None:
    """The line for masks read as class indices (``files``: each mask file's values) whose
    values beyond the ``known`` classes (0..known - 1: predicted, or named) outnumber them,
    each scored as a class of its own: a 16-bit mask of 12 object ids beside 2-class
    predictions was scored as 13 classes unsaid (s62: too few values to be ids by their
    count, one file to be ids by file). It names the files, the values and the readings'
    fixes: object ids only where those values look like ids in ``pages`` (:func:`_ids_like`;
    a weak model's 0/1 beside 5-class masks was told to score them as objects, review s62),
    else classes the model never predicted. None where they do not outnumber them (a test
    set's class the model never predicted; a 13-class model's masks of 0..12)."""
    beyond = {name: [v for v in held if v >= known] for name, held in files.items()}
    beyond = {name: values for name, values in beyond.items() if values}
    extra = sorted(set().union(*beyond.values()))
    if len(extra) <= known:
        return None
    shown = _shown(extra)
    if _ids_like(pages, extra):
        reading = f"object ids (instance masks)? score them as objects with {said_as(GT_INSTANCES)}"
    else:
        reading = "classes the model never predicted (a weak or early one)? then they score 0"
    return (
        f"{first_listed(list(beyond), 3)}: {worded(len(beyond), 'its', 'their')} mask values "
        f"{shown} are no class of the predictions (class indices 0..{known - 1}) and are "
        f"scored each as a class of its own: {reading}; class labels of another model? score "
        f"that model's predictions, or name the classes with {said_as(NAMED_CLASSES)}"
    )


def _shown(values: list[int]) -> str:
    """The sorted ``values`` as a line shows them: ``2..12`` where they run on, else the
    first few."""
    run_on = values[-1] - values[0] < len(values)
    return f"{values[0]}..{values[-1]}" if run_on else first_listed(values)


def _ids_in_maps(maps: list[Path], beyond: list[int], classes: int) -> str:
    """The line for class ``maps`` of more than 8 bits that look like object ids, whose
    values ``beyond`` the masks' ``classes`` are scored as one class each
    (:meth:`_ValueStats.say_predicted_ids`): both readings and their fixes, the name each
    map's own suffix (review s70: a.png was told to be named <stem>_objects.tif)."""
    its = worded(len(maps), "its", "their")
    suffixes = "/".join(sorted({m.suffix for m in maps}))
    return (
        f"{first_listed([str(m) for m in maps], 3)}: {its} values {_shown(beyond)} (stored "
        f"with more than 8 bits, beyond the masks' {numbered(classes, 'class', 'classes')}) "
        f"are each one region, as object ids are, and are scored as one class each: object "
        f"ids saved without _objects in {worded(len(maps), 'its name', 'their names')}? name "
        f"the files <stem>_objects{suffixes} (as {said_as(MADE_OBJECTS)} does), or score them "
        f"as objects with {said_as(PRED_INSTANCES)}; class labels of another model? score "
        "them against masks of that model's classes"
    )


def _ids_like(pages: list[MaskValues] | None, extra: list[int]) -> bool:
    """Whether the mask values ``extra`` look like object ids in the mask ``pages`` (kept
    where each holds more than 4 values; None: not kept): each one region in every page
    that holds it, as ids are and a class's blocks are not."""
    wanted = set(extra)
    held = [r for p in pages or () for v, r in zip(p.values, p.regions) if v in wanted]
    return bool(held) and all(r == 1 for r in held)


def _masks_as_ids(read: _Read, gt_dir: Path, ignore_value: int | None) -> bool:
    """Whether masks read as class indices beside predicted object ids, no classes given or
    named by a record (each value would be a class), are read as object ids: by the rule that
    refuses them beside class maps (:func:`~unetlab.evaluate.checks.ids_by_values`: 16-bit
    cellpose masks), or each page holding at least 4 values, each one region (one page is
    enough here: 8-bit masks of 40 nuclei, which that rule lets through; they were scored as
    40 classes, or refused as values of one file only). Decided before scoring, over one
    read of the masks (:class:`_IdsLook`; the class maps read as classes beside them too
    where the largest predicted class decides, the masks not read again for them); they were
    scored as classes, refused at the end, then scored again as ids.
    Masks that hold 4 values or fewer on a page and are all stored in 8 bits
    (:func:`stored_in_8_bits`) are classes by the first such page."""
    classes = read.classes
    if read.gt_instances or not read.preds.objects or classes.label_values is not None:
        return False
    if classes.names is not None or any(jpeg_mask(f) for f in read.mask_files):
        return False  # a JPEG's many values are its compression's: refused, not read as ids
    look = _IdsLook(ignore_value)
    narrow = all(stored_in_8_bits(f) for f in read.mask_files)  # never ids by their count
    for page in _predicted(read, gt_dir):
        look.add(page.mask)
        if _read_as_classes(read.preds, page.stem):  # its class map read below, not the mask
            look.classed.append(page._replace(mask=_shape_only(page.mask)))
        if narrow and look.pages is None:
            return False
    named = len(classes.by_index or ())
    if not named and look.pages and one_object_each(look.pages, files_least=1):
        if not one_object_each([p.labelled(VOID) for p in look.pages], files_least=1):
            _say_ids_by_void(look, ignore_value)
        return True
    if not look.ids(pred_max=1, named=named):  # not with 2 classes: not with a map's more
        return False
    maps = (int(read.preds.page(p)[0].max(initial=0)) for p in look.classed)
    pred_max = max(max(maps, default=1), 1)
    if not look.ids(pred_max=pred_max, named=named):
        return False
    if not look.ids(pred_max=pred_max, named=named, less=VOID):  # 16-bit 0..15 and a 255
        _say_ids_by_void(look, ignore_value)
    return True


#: how evaluate's callers count a mask's 255 nowhere (:func:`_say_ids_by_void`)
IGNORE_VOID = Spelled(f"ignore_value={VOID}", f"--ignore-value {VOID}")


def _say_ids_by_void(look: _IdsLook, ignore_value: int | None = None) -> None:
    """Say, once a call, that the masks ``look`` read, read as object ids, are so by their
    ``VOID`` alone: without it they would be classes (3 classes, each one region, and a 255
    mark were read as 4 objects with no word; training's rule says its own:
    :func:`~unetlab.data.fingerprint.say_ids_by_void`, s60; 16-bit masks of 0..15 and a 255,
    ids by their count of values, which training reads as 16 classes with void, s61). With
    another ``ignore_value`` set, the fix named keeps it: mark those pixels with it."""
    fix = (
        said_as(IGNORE_VOID) + " reads them so"
        if ignore_value is None
        else f"mark them {ignore_value} in the masks (the ignore value given)"
    )
    note_once(
        f"the masks read as object ids only by mask value {VOID}, in {look.voided} of "
        f"{look.read} masks: without it, they would be classes; if {VOID} marks pixels to "
        f"count nowhere, {fix}",
        key="masks read as ids by 255 (evaluate)",
    )


def _shape_only(mask: np.ndarray) -> np.ndarray:
    """An array of ``mask``'s shape and type that holds no memory of its own (a zero
    broadcast): what :meth:`Predictions.page` reads of a mask page is its shape."""
    return np.broadcast_to(np.zeros((), mask.dtype), mask.shape)


def _predicted(read: _Read, gt_dir: Path) -> Iterable[MaskPage]:
    """The mask pages of ``gt_dir`` that have a prediction in ``read.preds``, read anew."""
    masks = ground_truth(gt_dir, read.preds.size_of).pages
    pages = _for_images(masks, read.finder, say=False)
    return (page for page in pages if page.stem in read.preds)


def _read_as_classes(preds: Predictions, stem: str) -> bool:
    """Whether the prediction of ``stem`` is scored by its class map (:meth:`Predictions.page`):
    a map alone, or one beside object ids that is no instance model's."""
    return stem in preds.maps and (stem not in preds.objects or preds.classed(stem))


class _IdsLook:
    """What :func:`_masks_as_ids` decides by, the mask pages read once: the values of all
    (``ignore_value`` left out), whether one is stored with over 8 bits, and each page's
    values and regions while every page holds more than :data:`ONE_OBJECT_LEAST`."""

    def __init__(self, ignore_value: int | None):
        self.ignore_value = ignore_value
        self.values: set[int] = set()
        self.wide = False
        #: the pages read, and those holding ``VOID`` (:func:`_say_ids_by_void`)
        self.read = self.voided = 0
        self.pages: list[MaskValues] | None = []
        #: the pages scored by a class map, their masks of no memory (:func:`_shape_only`)
        self.classed: list[MaskPage] = []

    def add(self, mask: np.ndarray) -> None:
        """One mask page, as read."""
        # counted where the values are small whole numbers (s74: np.unique's sort and hash
        # took 3.4 ms CPU on a 1,024² uint8 page, 4.4 ms uint16; 1.1 to 1.3 ms so)
        held = set(distinct_values(mask)[0].tolist()) - {self.ignore_value}
        self.values |= held
        self.read, self.voided = self.read + 1, self.voided + (VOID in held)
        self.wide |= np.asarray(mask).dtype.itemsize > 1
        if self.pages is not None and len(held) <= ONE_OBJECT_LEAST:
            self.pages = None  # not every page
        elif self.pages is not None:
            self.pages.append(MaskValues.of(mask))

    def ids(self, *, pred_max: int, named: int, less: int | None = None) -> bool:
        """Whether the values look like ids beside predicted classes up to ``pred_max``;
        ``less``: those values without that value."""
        values = np.array(sorted(self.values - {less}), np.int64)
        return ids_by_values(values, pred_max, named, self.wide)


def _refuse_missing(missing: list[str], preds: Predictions, stems: list[str]) -> None:
    """DatasetError for the mask pages without a prediction (``missing``), naming the
    predictions no mask (``stems``) scored, whose names may be the cause (``a_pred.png``)."""
    if missing:
        shown = ", ".join(sorted(set(missing))[:10])
        unscored = sorted((set(preds.maps) | set(preds.objects)) - set(stems))
        held = (
            f" (it holds {', '.join(unscored[:3])}{' ...' * (len(unscored) > 3)}, which no "
            "mask is named as)"
            if unscored
            else ""
        )
        said = (
            f"no prediction in {preds.folder}{held} for "
            f"{numbered(len(set(missing)), 'ground-truth file')}: {shown}; "
        )
        if rename := _renamed_masks(unscored, sorted(set(missing))):
            raise DatasetError(said + rename)
        if preds.written.cases:  # s75 review: a copy of case folders was told of <stem>.png
            said += f"{CASE_PREDICTIONS}; "
        said += (
            "predictions are named <stem>.png (.tif, .mrc; or <stem>_objects.tif, cellpose's "
            "<stem>_cp_masks.png, <stem>_pred.png, membrain-seg's "
            "<stem>_<checkpoint>_segmented.mrc) like their masks; "
            "predict every image of the ground truth, or give "
        )
        raise DatasetError(
            **spelled(lambda f: f"{said}{f} a folder of only the predicted images' masks", GT_DIR)
        )


def _renamed_masks(unscored: list[str], missing: list[str]) -> str | None:
    """The rename of ``missing`` masks beside ``unscored`` predictions where each adds its
    own ending to the stem they share (:func:`~unetlab.data.names.stem_endings`:
    Cityscapes' ``X_leftImg8bit`` beside ``X_gtFine_color``), or None."""
    endings = stem_endings(unscored, missing)
    if (
        endings is None
        or len(endings[1]) > 1
        or len(next(iter(endings[1].values()))) < len(missing)
    ):
        return None
    pred_end, mask_end = endings[0], next(iter(endings[1]))
    return (
        f"the predictions are named <stem>{pred_end} ({unscored[0]}), their masks "
        f"<stem>{mask_end} ({missing[0]}): rename the masks <stem>{pred_end}, as their images"
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
            f"{len(label_values)} label values ({spaced(label_values)}); "
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
        check_boundary(boundary_class, class_names)  # before reading anything
    return None if class_names is None else list(class_names)
