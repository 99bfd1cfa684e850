"""Scoring a model: :func:`evaluate_model` predicts each image of a data folder and compares
it with its mask.

The objects scored are those ``predict --instances`` and
:func:`~unetlab.inference.objects.predict_objects` make
(:func:`unetlab.inference.objects.objects_from_probabilities` with the object options: the
checkpoint's defaults, ``ObjectOptions.for_model``: its least size, holes filled, unless
given), the options used in ``report.source["object_options"]``. An instance-mode model
(background / boundary / interior) is scored on them against the masks' object ids (binary
masks: their connected components), its pixel classes then background and object. Another
model's objects are scored against the regions of the masks' classes, while its ISBI Rand
error and information score keep their definition: the connected regions of its class map.
The rows left out (``exclude_rows``; None: those the model's training left out,
``data.exclude_rows``) and the pixels that are no sample (``nodata``) are predicted as
background and scored nowhere: the truth is ignored there and objects mostly in them are
dropped (:func:`~unetlab.evaluate.accumulate.without_excluded`).

The keywords of :func:`evaluate_model` in full: images are predicted whole with overlap-tile as
``options`` (a ``PredictOptions``) and ``settings`` (its fields by name: ``tile_size=``,
``tta=``, ``device=``, ...; ``channel``, ``exclude_rows``, ``nodata`` None: the training's)
say. Labels are the argmax (p >= 0.5 for a one-channel net), masks mapped to classes by
``model.label_values``. ``ignore_value``: the mask value scored nowhere (None: the one the
training ignored, said in a log line). ``boundary_class``: the class that is no object (None:
none; ``"auto"``: the model's background). ``thresholds``: also threshold the cell probability
(1 - P(boundary class)) at each level and report the best ISBI figures (one float32 map kept
per image); ``seed_threshold``: split touching cells by a seeded watershed first. ``objects``:
compute the ISBI and object scores (None: for an instance-mode or two-class model,
:func:`object_scores_wanted`), the objects found as said above with ``object_options`` (None:
the checkpoint's defaults; refused where none are scored). ``progress``: True: a bar; a
function: called with each image's name once scored. Bad arguments raise UnetlabError before
any image is read (:func:`check_evaluation`). ``objects_3d``: each z-stack's objects joined in
3-D as ``predict --instances --objects-3d`` joins them (its voxel: the stack's pixel size and z
spacing, or ``pixel_size`` and ``z_spacing`` µm given in their place) scored against its 3-D
ground truth, one row per stack (per frame), as ``evaluate_predictions(objects_3d=True)`` scores
that prediction's files (:func:`_evaluate_volumes`). ``scale`` (a setting; ``--scale``): each
image resampled by it as ``predict --scale`` does, the checkpoint's default least object areas
divided by its square; ``"auto"``: each file's own factor, its pixel size (``pixel_size`` given
in its place) over the training pixel size, said once a file (:class:`_Scales`). At a scale
other than 1 each row (an image, a stack) has the factor it was predicted at (``scale``:
:func:`scale_column`); ``report.source["object_options"]`` are those used at ``scale`` F (2-D
and 3-D alike), at auto the training scale's (each row's factor says how they were divided).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unetlab.data.classes import ignored_class
from unetlab.data.coco import set_coco_reading
from unetlab.data.colour_table import ColourTable, palette_table
from unetlab.data.exclude import as_config, region
from unetlab.data.fingerprint import TARGET_INSTANCES, MaskValues, object_ids_note
from unetlab.data.grey_masks import set_grey_masks_reading, trained_grey_masks
from unetlab.data.h5 import set_h5_datasets_reading
from unetlab.data.instances import ONE_OBJECT_LEAST
from unetlab.data.io import check_axes, file_axes, mask_stem
from unetlab.data.mask_reading import keeps_masks_reading
from unetlab.data.nodata import InvalidPages, either
from unetlab.data.pairs import Pair, PairReader, mask_axes, refuse_data_set_part
from unetlab.data.read_notes import call_lines, read_notes
from unetlab.data.regions import distinct_values
from unetlab.data.shapes import set_shapes_reading
from unetlab.data.split_record import describe_pairs
from unetlab.data.tiffmeta import read_page_axes
from unetlab.data.totalseg import case_of, structure_names
from unetlab.errors import DatasetError, Spelled, UnetlabError, flag_of, said_as, spelled
from unetlab.evaluate.accumulate import (
    Accumulator,
    check_boundary,
    object_scores_wanted,
    without_excluded,
    without_region,
)
from unetlab.evaluate.case_files import CaseFiles
from unetlab.evaluate.checks import (
    MADE_OBJECTS,
    SCORED_AS_IDS,
    check_evaluation,
    check_folders,
    check_model_classes,
    check_objects_scored,
)
from unetlab.evaluate.frames import PageColumns
from unetlab.evaluate.identity import files_identity
from unetlab.evaluate.masks import (
    DATA_DIR,
    IGNORE_VALUE,
    MODEL_FIX,
    TruthLost,
    binary_truth,
    encode,
    evaluation_pairs,
    instance_mask,
    named_nodata,
)
from unetlab.evaluate.matching import chosen_thresholds
from unetlab.evaluate.predictions import check_volumes
from unetlab.evaluate.report import Report
from unetlab.evaluate.stops import counted, says_its_stop
from unetlab.evaluate.training import trained_images
from unetlab.evaluate.truth_tags import TruthTags
from unetlab.evaluate.volumes import CLASSES as VOXEL_CLASSES
from unetlab.evaluate.volumes import (
    SEVERAL_CLASSES,
    TRUTH_PLANES_3D,
    add_tagged_volume,
    say_flat_scored,
    truth_axes,
    truth_planes,
    volumes,
)
from unetlab.evaluate.volumes import accumulator as volume_accumulator
from unetlab.inference.pages import (
    OBJECTS_3D,
    axes_fix,
    say_bare_pages,
    say_trained_axes,
    trained_axes,
)
from unetlab.inference.predict import class_names_of, training_ignore_value
from unetlab.inference.sizing import AUTO
from unetlab.inference.threads_look import capped, look_beside
from unetlab.progress import progress_calls
from unetlab.runtime import tuned_allocator
from unetlab.words import first_listed

if TYPE_CHECKING:
    from unetlab.inference.objects import ObjectOptions
    from unetlab.inference.predict import PredictOptions

log = logging.getLogger(__name__)


@keeps_masks_reading  # as its checkpoint's training read them (_prepared)
@call_lines()  # its INFO lines shown; a call is one command for what reading notes
@capped  # torch's threads no more than a CPU quota allows, put back after
@says_its_stop("evaluate_model")  # a Ctrl-C in one line, said while call_lines shows it
def evaluate_model(
    model,
    data_dir: str | os.PathLike,
    options: PredictOptions | None = None,
    *,
    boundary_class: int | None | str = "auto",
    thresholds: Sequence[float] | None = None,
    seed_threshold: float | None = None,
    ignore_value: int | None = None,
    connectivity: int = 1,
    objects: bool | None = None,
    worst: int = 5,
    pairs: Iterable[Pair] | None = None,
    progress: bool | Callable[[str], None] | None = True,
    object_options=None,
    objects_3d: bool = False,
    pixel_size: float | None = None,
    z_spacing: float | None = None,
    axes: str | None = None,
    iou_thresholds: Sequence[float] | None = None,
    **settings,
) -> Report:
    """Predict each image of ``data_dir`` (or ``pairs``) with ``model`` (a net, a checkpoint's or
    package's path) and score it against its mask as training read it: a :class:`Report`.
    ``options``, ``settings`` (its fields): how to predict; ``ignore_value`` (None: the training's),
    ``connectivity``, ``boundary_class``, ``objects``, ``worst``, ``iou_thresholds``: as
    ``evaluate_predictions``'s; ``thresholds``: ISBI best cut (``seed_threshold``: cells split
    first); ``object_options`` None: the checkpoint's; ``axes``: of TIFFs recording none."""
    ious = _checked_inputs(data_dir, pairs, axes, iou_thresholds)  # before a checkpoint loads
    check = dict(worst=worst, ignore_value=ignore_value, seed_threshold=seed_threshold)
    sizes = dict(pixel_size=pixel_size, z_spacing=z_spacing)
    kept = dict(connectivity=connectivity, boundary_class=boundary_class, objects=objects)
    in_3d = _checked_arguments(options, settings, objects_3d, sizes, thresholds, check, kept)
    model, checkpoint, predicting = _prepared(model, options, settings, thresholds, check)
    pairs, axes = _pairs_read(model, data_dir, pairs, axes)  # none given: the checkpoint's
    if in_3d:
        how = dict(object_options=object_options, progress=progress, checkpoint=checkpoint)
        how |= dict(axes=axes, worst=worst, iou_thresholds=ious, **sizes)
        return _evaluate_volumes(model, predicting, data_dir, pairs, **how)
    how = dict(boundary_class=boundary_class, ignore_value=ignore_value, connectivity=connectivity)
    scoring, names = _scoring(model, predicting, object_options, cell=thresholds is not None, **how)
    scoring, objects = _objects_scored(scoring, names, objects, given=object_options is not None)
    scoring = replace(scoring, pixel_size=pixel_size, axes=axes, asked=_asked(options, settings))
    acc = _accumulated(pairs, scoring, objects, progress)
    report = acc.report(names, thresholds=thresholds, worst=worst, seed_threshold=seed_threshold)
    return replace(_sourced(report, pairs, scoring, data_dir, checkpoint), iou_thresholds=ious)


def _checked_inputs(data_dir, pairs, axes: str | None, iou_thresholds) -> tuple | None:
    """:func:`evaluate_model`'s ``axes``, ``data_dir`` (where no ``pairs`` are given) and
    ``iou_thresholds`` checked before a checkpoint loads; the thresholds, sorted (None: the
    report's default)."""
    check_axes(axes)
    check_folders(**({"data_dir": data_dir} if pairs is None else {}))
    if pairs is None:  # the command gives its pairs, found naming --data
        refuse_data_set_part(data_dir, DATA_DIR)
    return chosen_thresholds(iou_thresholds)


def _pairs_read(model, data_dir, pairs: Iterable[Pair] | None, given: str | None):
    """(the pairs :func:`evaluate_model` scores: ``pairs``, else those of ``data_dir``, each
    TIFF's read with ``given`` (``--axes``), else with those the checkpoint trained with
    where they fit it (:func:`~unetlab.inference.pages.trained_axes`, said where one takes
    them: its ``Pair.axes``); the axes given, for all); TotalSegmentator cases of other
    structures than ``model``'s classes refused (:func:`_refuse_other_structures`)."""
    trained = trained_axes(model) if given is None else None
    axes = given if trained is None else trained
    channels = getattr(model, "in_channels", 1)  # a grey TIFF refused for a C model's, as predict
    found = (
        evaluation_pairs(
            data_dir, axes, trained=trained is not None, channels=channels, flag=DATA_DIR
        )
        if pairs is None
        else pairs
    )
    pairs = list(found)
    if trained is not None:  # each reading once: the checkpoint's, TZYX of 4-D bare stacks
        for read in dict.fromkeys(p.axes for p in pairs if p.axes):
            say_trained_axes(read, trained)
    _refuse_other_structures(model, pairs)
    return pairs, given


def _refuse_other_structures(model, pairs: list[Pair]) -> None:
    """DatasetError where ``pairs`` are TotalSegmentator cases (:mod:`unetlab.data.totalseg`)
    whose structures are not ``model``'s classes: class k of the cases would be reported
    under the checkpoint's k-th name (a copy's vertebrae reported as aorta, exit 0, s74
    review)."""
    masks = next((p.mask for p in pairs if case_of(p.image, p.mask) is not None), None)
    classes = class_names_of(model)
    if masks is None or not classes:
        return
    held = ["background", *structure_names(masks)]
    if held != classes:
        raise DatasetError(
            f"{Path(masks).parent.parent}: its cases' structures are {first_listed(held[1:])}, "
            f"but the checkpoint's classes are {first_listed(classes[1:])}: evaluate it on "
            "cases of its structures (a copy whose segmentations/ hold those alone)"
        )


def _asked(options, settings: dict) -> int | tuple | None:
    """The channel :func:`evaluate_model` is asked for (a setting, else ``options``'), not
    the model's: a 1-channel model's given a grey image reads it as it is, as predict does
    (:func:`~unetlab.inference.pages.page_channel`)."""
    return settings.get("channel", getattr(options, "channel", None))


def _auto_scale(options, settings: dict) -> bool:
    """Whether :func:`evaluate_model`'s ``scale`` (a setting, else ``options``') is auto."""
    scale = settings.get("scale", getattr(options, "scale", 1))
    return isinstance(scale, str) and scale.strip().lower() == "auto"


def _checked_arguments(
    options, settings, objects_3d, sizes, thresholds, check: dict, kept: dict
) -> bool:
    """Whether :func:`evaluate_model` scores in 3-D, its arguments checked before a checkpoint
    loads: ``check`` (:func:`check_evaluation`), ObjectOptions fields among the ``settings``,
    the 3-D ones (:func:`_checked_3d`; ``pixel_size`` at scale auto, a setting or the
    ``options``', sizes its images too) and, in 3-D, those ``kept`` it does not take."""
    from unetlab.inference.objects import refuse_object_fields

    check_evaluation(thresholds=thresholds, **check)
    refuse_object_fields(settings, "evaluate_model", evaluate_model)
    auto = _auto_scale(options, settings)
    plane = {k: v for k, v in sizes.items() if not (auto and k == "pixel_size")}
    in_3d = _checked_3d(objects_3d, plane, thresholds)
    if in_3d:
        check_volumes(None, None, check["ignore_value"], None, **kept)
    return in_3d


def _checked_3d(objects_3d, sizes: dict, thresholds) -> bool:
    """``objects_3d`` (True or False); the voxel ``sizes`` (``pixel_size``, ``z_spacing``)
    without it, or ``thresholds`` with it, refused in one line."""
    if not isinstance(objects_3d, bool | np.bool_):  # 'no' would score in 3-D
        raise UnetlabError(f"objects_3d is True or False, not {objects_3d!r}")
    if objects_3d and thresholds is not None:
        said = "{} is not read with {}: 3-D objects are scored from their ids, not from "
        said += "thresholded probabilities; drop it"
        raise UnetlabError(**spelled(said.format, _BEST_THRESHOLD, OBJECTS_3D))
    if not objects_3d and (given := [k for k, v in sizes.items() if v is not None]):
        size = Spelled(given[0], flag_of(given[0]))
        said = "{} sizes the voxels whose objects {} joins in 3-D (or the images of {}); "
        said += "scored plane by plane it changes nothing: drop it, or add {}"
        raise UnetlabError(**spelled(said.format, size, OBJECTS_3D, AUTO, OBJECTS_3D))
    return bool(objects_3d)


def _refuse_classes_3d(model, objects) -> None:
    """UnetlabError in one line where ``model``'s objects (``objects``: its ObjectOptions)
    are of several classes (a liver, a spleen, kidneys): 3-D ground truth holds object ids
    of no class, against which such objects were scored whatever their class (s73)."""
    from unetlab.inference.objects import several_object_classes

    if several_object_classes(model, objects):
        said = SEVERAL_CLASSES.format("{}", "this model's", "")
        raise UnetlabError(**spelled(said.format, OBJECTS_3D))


def _evaluate_volumes(
    model, predicting: PredictOptions, data_dir, pairs, *, object_options, checkpoint, **how
) -> Report:
    """:func:`evaluate_model` with ``objects_3d``: each stack of ``pairs`` (None: those of
    ``data_dir``) predicted in memory as ``predict --instances --objects-3d`` writes its
    ``<stem>_objects.tif`` (:func:`~unetlab.inference.files.stack_objects_3d`) and scored
    against its mask as :func:`~unetlab.evaluate.volumes.evaluate_volumes` scores that file
    (``how``: ``pixel_size``, ``z_spacing``, ``worst``, ``progress``, ``iou_thresholds``)."""
    from unetlab.inference.objects import option_fields
    from unetlab.inference.records import OutputOptions

    objects = _object_options(model, object_options, predicting.scale)  # as used, as in 2-D
    _refuse_classes_3d(model, objects)
    sizes = dict(pixel_size=how["pixel_size"], z_spacing=how["z_spacing"])
    outputs = OutputOptions(objects=objects, objects_3d=True, **sizes)
    pairs = evaluation_pairs(data_dir, how["axes"], flag=DATA_DIR) if pairs is None else pairs
    stacks = list(dict.fromkeys((p.image, p.mask, p.axes) for p in pairs))  # a file's pages
    each = dict(what="each stack's name", each=True, total=len(stacks), unit="stack")
    with (
        progress_calls(how["progress"], desc="stacks", **each) as bar,
        counted(len(stacks), bar, unit="stack") as done,  # its stop's line counts them
    ):
        acc = _volumes_scored(model, predicting, outputs, stacks, done, how["axes"])
    report = acc.report(VOXEL_CLASSES, thresholds=None, worst=how["worst"])
    report.counting, report.iou_thresholds = True, how["iou_thresholds"]
    report.source = {"data": str(Path(data_dir).resolve()), "objects_3d": True}
    report.source |= _model_source(model, predicting.tta, checkpoint)
    report.source |= dict(exclude_rows=as_config(predicting.exclude_rows), **sizes)
    report.source |= dict(nodata=predicting.nodata, object_options=option_fields(objects))
    report.source |= {"scale": predicting.scale} if predicting.scale != 1 else {}
    return report


def _volumes_scored(model, predicting, outputs, stacks: list[tuple[Path, Path]], done, given):
    """The statistics of :func:`_evaluate_volumes`: each (image, mask) of ``stacks``
    predicted and scored, ``done`` called with its name; ``given``: the images'
    axes as given, else each pair's (None: as they record, or their truth's: :func:`truth_axes`)."""
    from unetlab.inference.files import image_scale, stack_objects_3d

    acc, flat, lost = volume_accumulator(), [], TruthLost(ids=True)
    for image, mask, own in stacks:
        look_beside(model)  # fewer threads beside other work, once, as a folder's prediction
        factor = image_scale(model, image, predicting.scale, outputs.pixel_size)  # auto: said
        at = replace(predicting, scale=factor)
        given_here = file_axes(image, given) or own  # a PNG among TIFF stacks: read as it is
        read = dict(options=at, axes=given_here or truth_axes(image, mask))
        ids, axes = stack_objects_3d(model, image, outputs, **read)
        stem = mask_stem(mask)
        column = scale_column(predicting.scale, factor)
        truth = dict(flat=flat, gt_axes=mask_axes(mask, given_here))
        nodata = named_nodata(mask)  # the truth's own, scored nowhere as evaluate --pred's
        for name, where, pred, gt in volumes(image, mask, stem, (np.stack(ids), axes), **truth):
            add_tagged_volume(acc, lost, mask, name, where | column, pred, gt, nodata=nodata)
        done(stem)
    lost.say(None, "voxel")  # one line per truth file, not per frame
    say_flat_scored(flat, len(stacks))
    return acc


def _objects_scored(
    scoring: _Scoring, names: list[str], asked: bool | None, *, given: bool
) -> tuple[_Scoring, bool | None]:
    """(``scoring`` without objects to find where none are scored, whether the object scores
    are computed: ``asked``, else :func:`object_scores_wanted` of the classes ``names``);
    object options ``given`` for objects not scored are refused
    (:func:`check_objects_scored`). The classes are counted less ``scoring.uncounted`` (label
    values 0, 1, 2 with 2 ignored are two classes, s67 noticed them left out as three)."""
    instance_model = scoring.objects.mode == "instances"
    classes = len(names) - len(scoring.uncounted)
    objects = object_scores_wanted(asked, classes, instances=instance_model)
    if given:  # and found nothing scores them: one line
        check_objects_scored(scoring.model, objects, "object_options", "pass objects=True")
    if not objects and not instance_model:  # no object scores: no objects to find
        scoring = replace(scoring, objects=None)
    return scoring, objects


def _sourced(report: Report, pairs, scoring: _Scoring, data_dir, checkpoint) -> Report:
    """``report`` with its images that trained the model marked (warned of: an instance
    model's counts table shown) and its ``source`` (:func:`_source`): the data folder, the
    model's ``label_offset``, the ``tta`` transforms averaged, the ignored value, the rows
    left out, the nodata, the object options, for a ``model`` given as a path the checkpoint
    (:func:`unetlab.checkpoint.checkpoint_source`), the tile size, batch size, blend,
    precision and device, the ``code`` and the ``scored_files`` by content
    (:func:`~unetlab.evaluate.identity.files_identity`), and its classes not counted
    (``scoring.uncounted``)."""
    report.counting = scoring.objects is not None and scoring.objects.mode == "instances"
    report.uncounted = scoring.uncounted
    trained = _training_overlap_warning(pairs, scoring.model)
    for row, flag in zip(report.images, trained):  # the rows are the pairs, in order
        row["trained"] = flag
    report.source = _source(data_dir, sum(trained), scoring, checkpoint)
    report.source |= _identity(pairs, data_dir, scoring)
    return report


def _identity(pairs: Sequence[Pair], data_dir, scoring: _Scoring) -> dict:
    """What tells this report from another beside its figures (audit s34 repro 3): how the
    images were predicted (the tile size, None: the largest that fits, batch size, blend,
    precision, the device the net ran on, a scale other than 1), the code (:func:`code_identity`) and the files
    scored, by content (:func:`files_identity`: each image and mask)."""
    from unetlab.provenance import code_identity

    o = scoring.predicting
    tile = list(o.tile_size) if isinstance(o.tile_size, tuple) else o.tile_size
    settings = dict(tile_size=tile, batch_size=o.batch_size, blend=o.blend, precision=o.precision)
    settings["device"] = _device(scoring.model)
    settings |= {"scale": o.scale} if o.scale != 1 else {}  # 2 or auto; 1: as reports before
    files = [f for pair in pairs for f in (pair.image, pair.mask)]
    return settings | {"code": code_identity(), "scored_files": files_identity(files, data_dir)}


def _device(model) -> str | None:
    """The device ``model``'s weights are on (``cpu``, ``cuda:0``), None for a net with none."""
    weight = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    return None if weight is None else str(weight.device)


def _prepared(
    model, options, settings: dict, thresholds, check: dict
) -> tuple[object, dict | None, PredictOptions]:
    """The net of ``model`` (:func:`_loaded`), its checkpoint's source, and its prediction
    options, checked for it before any image is read, as :func:`check_evaluation` checks
    ``thresholds`` and ``check`` with its label values."""
    from unetlab.inference.files import check_options
    from unetlab.inference.object_recipe import is_instance_model
    from unetlab.inference.predict import PredictOptions, check_weights

    model, checkpoint = _loaded(model, options, settings)
    check_weights(model)  # .half(): one line, not torch's dtype error (s49 review1)
    set_grey_masks_reading(trained_grey_masks(model))  # its masks as training read them
    set_h5_datasets_reading(getattr(model, "training_data", None))  # as the CLI's
    set_shapes_reading(is_instance_model(model))  # labelme's, YOLO's shapes: objects
    set_coco_reading(is_instance_model(model))  # a COCO file's annotations: objects
    predicting = PredictOptions.for_model(model, options, **settings)
    check_options(model, predicting)
    if not is_instance_model(model):  # its mask values are object ids, not its classes
        _say_ignored_class(model, check["ignore_value"])
    check_evaluation(thresholds=thresholds, **check)
    return model, checkpoint, predicting


def _say_ignored_class(model, ignore_value: int | None) -> None:
    """One line where ``ignore_value`` (given) is the mask value of one of ``model``'s
    classes and not the one its training ignored: that class's pixels count nowhere, as
    asked (background 0 left out of mIoU), but said (s63: --ignore-value 1 beside a model
    of road = 1 scored road n/a unsaid; refused before, review s63: a legitimate use)."""
    if ignore_value is None or ignore_value == training_ignore_value(model):
        return
    values = getattr(model, "label_values", None)
    values = list(range(len(model.classes)) if values is None else values)
    if ignore_value in values:
        log.warning(
            "%s%d is class %r: its pixels are left out of every score",
            said_as(Spelled("ignore_value=", "--ignore-value ")),
            ignore_value,
            model.classes[values.index(ignore_value)],
        )


def _scoring(
    model,
    predicting: PredictOptions,
    object_options: ObjectOptions | None,
    *,
    boundary_class: int | None | str,
    ignore_value: int | None,
    connectivity: int,
    cell: bool,
) -> tuple[_Scoring, list[str]]:
    """How :func:`evaluate_model` scores each pair (:class:`_Scoring`) and the names of the
    classes scored: an instance model's objects with ``object_options`` (None: its
    defaults), its pixels background and object; another's classes, and its objects with
    ``object_options`` too."""
    object_options = _object_options(model, object_options, predicting.scale)
    instance_model = object_options.mode == "instances"
    names = ["background", "object"] if instance_model else list(model.classes)
    label_values = getattr(model, "label_values", None)
    boundary_class = _boundary(boundary_class, names, model)
    ignored = _ignore_value(ignore_value, model)
    target = "instances" if instance_model else None
    uncounted = _uncounted(names, label_values, ignored[0], target=target)
    object_options = replace(object_options, no_class=uncounted)  # their objects none
    scoring = _Scoring(
        model,
        predicting,
        object_options,
        label_values,
        *ignored,
        connectivity,
        boundary_class,
        cell=cell,
        uncounted=uncounted,
    )
    return scoring, names


def _uncounted(
    names: list[str], label_values, ignore_value: int | None, *, target=None
) -> tuple[int, ...]:
    """The class of ``names`` that counts as none: the one of the mask value ``ignore_value``
    (training's, or the one evaluate is given: a class the user tells evaluate to ignore is
    no class either), by the rule validation reads (:func:`~unetlab.data.classes.ignored_class`);
    a class named void that training learned is a class (review s68)."""
    ignored = ignored_class(len(names), label_values, ignore_value, target=target)
    return () if ignored is None else (ignored,)


def _boundary(boundary_class: int | None | str, names: list[str], model) -> int | None:
    """``boundary_class``, ``"auto"`` resolved to the background of ``model``'s objects
    (membrane, background, the class of mask value 0; the mask value its training ignored
    no class: :func:`~unetlab.inference.objects.objects_background`, as predict --instances
    takes it), checked against the class ``names``."""
    from unetlab.inference.objects import objects_background

    if boundary_class == "auto":
        boundary_class = objects_background(model)
    check_boundary(boundary_class, names)
    return boundary_class


def _ignore_value(given: int | None, model) -> tuple[int | None, bool]:
    """(``given``, False), else (the mask value the model's training ignored, True: said in
    a log line once a mask holds it, :func:`_say_ignored`)."""
    if given is None and (found := training_ignore_value(model)) is not None:
        return found, True
    return given, False


def _say_ignored(mask: np.ndarray, value: int) -> bool:
    """True, said in a log line, when ``mask`` holds ``value``, the mask value the training of
    the checkpoint ignored (said where it matters only: VOC's 255 is in no mask of most data)."""
    if not (mask == value).any():
        return False
    log.info(
        "mask value %d counts nowhere, as in the training of this checkpoint; %s sets another",
        value,
        said_as(IGNORE_VALUE),
    )
    return True


def _source(data_dir, seen: int, scoring: _Scoring, checkpoint: dict | None) -> dict:
    """``report.source`` of :func:`evaluate_model`: the data folder, how many of its images
    trained the model (``seen``), what of the model made the predictions, the ignored value,
    an instance model's object options."""
    source = {"data": str(Path(data_dir).resolve()), "trained_images": seen}
    source |= _model_source(scoring.model, scoring.predicting.tta, checkpoint)
    source["ignore_value"] = scoring.ignore_value
    source["exclude_rows"] = as_config(scoring.predicting.exclude_rows)
    source["nodata"] = scoring.predicting.nodata
    if scoring.objects is not None:
        from unetlab.inference.objects import option_fields

        source["object_options"] = option_fields(scoring.objects)
    return source


def _loaded(model, options, settings: dict) -> tuple[object, dict | None]:
    """(``model``, :func:`_file_of` it) for a net; for the path of a checkpoint or package
    (as the CLI takes) its net, loaded onto the options' device, and its
    :func:`unetlab.checkpoint.checkpoint_source`."""
    if not isinstance(model, str | os.PathLike) and not hasattr(model, "classes"):
        # None, a dict: "'NoneType' object has no attribute 'classes'" (audit s42 api, s49)
        raise UnetlabError(
            "model must be a model loaded by unetlab.load_model(path), or a checkpoint's "
            f"path, not {type(model).__name__}"
        )
    if not isinstance(model, str | os.PathLike):
        return model, _file_of(model)
    from unetlab.checkpoint import checkpoint_source, load_model
    from unetlab.inference.predict import PredictOptions

    device = PredictOptions.of(options, **settings).device
    net = load_model(model, device=device)
    return net, checkpoint_source(model, net)


def _file_of(net) -> dict | None:
    """:func:`unetlab.checkpoint.scored_source` of ``net`` (its file's
    :func:`~unetlab.checkpoint.checkpoint_source` while its weights are the file's, else
    the sha256 of its weights; audit s48 apiwalk: ``evaluate_model(load_model(path), ...)``'s
    JSON named no checkpoint, the command's did; s58: a net trained further after loading
    passed as its file); None for a net without weights."""
    if not hasattr(net, "state_dict"):
        return None
    from unetlab.checkpoint import scored_source

    return scored_source(net)


@dataclass(frozen=True)
class _Scoring:
    """How :func:`evaluate_model` scores each pair: the net and its prediction options; the
    object options its objects are found with (None: the class maps' regions); the
    masks' label values and ignored value; and whether to keep the cell probability (for
    ``thresholds``, with the boundary class)."""

    model: object
    predicting: PredictOptions
    objects: ObjectOptions | None
    label_values: Sequence[int] | None
    ignore_value: int | None
    #: the ignored value is the one the checkpoint's training ignored (said once a mask has it)
    ignore_from_training: bool
    connectivity: int
    boundary_class: int | None
    cell: bool
    #: the images' pixel size in µm for scale auto, in place of their files' (None: theirs)
    pixel_size: float | None = None
    #: the TIFF images' axes as given (``--axes``; None: as their files record)
    axes: str | None = None
    #: the channel the caller asked for, not the model's (``page_channel``'s ``asked``)
    asked: int | tuple | None = None
    #: the classes that count as none (:func:`_uncounted`): in no mean, no object's class;
    #: a prediction of the ignored value's class is an error of the true class there
    uncounted: tuple[int, ...] = ()
    #: each image file's channel fit (:func:`_fitted_as_predicted`), found for its first
    #: page read: its lines said once a file, as predict says them
    fits: dict = field(default_factory=dict, compare=False)
    #: each image file's channels read alone (:func:`_alone`), found once a file
    alone: dict = field(default_factory=dict, compare=False)


def _accumulated(
    pairs: Sequence[Pair], scoring: _Scoring, objects: bool | None, progress
) -> Accumulator:
    """The statistics of ``pairs`` each predicted and scored as ``scoring`` says
    (:func:`_score_pair`); ``progress`` (:func:`evaluate_model`'s) a bar (True, as
    ``fit(progress=True)`` draws: audit s32 notebook 4), or called with each pair's name once
    scored."""
    with progress_calls(
        progress, what="each image's name", each=True, total=len(pairs), desc="images", unit="image"
    ) as done:
        if scoring.axes is None:  # given: the user says what the pages are (or the checkpoint)
            bare = [p for p in pairs if p.axes is None and not p.data_set_file]
            say_pages_as_planes(bare, getattr(scoring.model, "in_channels", None))
            say_planes(bare, getattr(scoring.model, "in_channels", None))
        return _accumulated_each(pairs, scoring, objects, done)


def say_pages_as_planes(pairs: Sequence[Pair], in_channels: int | None) -> None:
    """One warning where an image's pages record no axes and are as many as the model's
    channels: predict reads them as one image's channels
    (:func:`~unetlab.inference.pages.guess_pages`), but each has its mask page here, so
    they are scored as planes, each grey page repeated into the model's channels; naming
    the ``--axes`` that read them either way in both commands."""
    stacks = {p.image: p.pages for p in pairs if p.pages > 1 and p.pages == in_channels}
    bare = [f for f, n in stacks.items() if read_page_axes(f, n, say=False).letters == "Q"]
    if bare:
        more = f" and {len(bare) - 1} more" if len(bare) > 1 else ""
        log.warning(
            "%s%s: %d pages and no axis metadata, each with its mask page: scored as %d planes, "
            "each grey page repeated into the model's %d channels, where predict reads them as "
            "the %d channels of one image; if they are channels give %s and one mask page, "
            "if planes %s (here and to predict)",
            *(bare[0], more, in_channels, in_channels, in_channels, in_channels),
            *(axes_fix("CYX"), axes_fix("ZYX")),
        )


def say_planes(pairs: Sequence[Pair], in_channels: int | None) -> None:
    """Predict's warning (:func:`~unetlab.inference.pages.say_bare_pages`) for each image
    whose pages record no axes and are scored as planes, but as many as the model's channels
    (:func:`say_pages_as_planes`); it scored them without a word. Of a bare 4-D/5-D stack
    whose other axes are 1 it says what evaluate --objects-3d does (:func:`truth_planes`:
    reads it as its truth's Z stack; it said "--objects-3d refuses it", predict's words)."""
    stacks = {p.image: (p.pages, p.mask) for p in pairs if p.pages > 1 and p.pages != in_channels}
    for image, (pages, mask) in stacks.items():
        if read_page_axes(image, pages, say=False).letters == "Q":
            said = dict(objects_3d=TRUTH_PLANES_3D) if truth_planes(image, mask) else {}
            say_bare_pages(image, pages, **said)


def _accumulated_each(
    pairs: Sequence[Pair], scoring: _Scoring, objects: bool | None, done
) -> Accumulator:
    """:func:`_accumulated`'s statistics, ``done`` called with each pair's name (or None)."""
    acc = Accumulator(
        boundary_class=scoring.boundary_class,
        connectivity=scoring.connectivity,
        objects=objects,
        cases=CaseFiles(image_said=True),  # a timed image's line is PageColumns', naming --axes
    )
    how = dict(axes=scoring.axes, nodata=scoring.predicting.nodata)
    # a stack's files once; the model's channels alone (s72: 24 decoded for its one)
    held = functools.partial(_held, how=scoring)
    read = PairReader(colours=_mask_colours(scoring), alone=held, **how)
    invalid = InvalidPages(read)
    unsaid = scoring.ignore_from_training
    where = PageColumns()  # a stack's page, frame and time: its row's last columns
    ids = _IdPages(scoring)  # masks that look like object ids: said once scored
    scaled = _Scales(scoring)  # --scale auto: each file's factor, said once
    instance = scoring.objects is not None and scoring.objects.mode == "instances"
    tags = TruthTags(scoring.label_values, scoring.ignore_value, ids=instance)
    from unetlab.inference.predict import floor_run

    # one tuned heap for all the images, given back at the end; the floor's lines said once
    with (
        tuned_allocator(),
        floor_run(),
        read_notes(evaluating=True),
        counted(len(pairs), done) as done,
    ):
        for pair in pairs:  # read_notes: its words, not training's
            look_beside(scoring.model)  # fewer threads beside other work, as predict_folder
            image, mask = read(pair)
            mask, tagged = tags(pair.mask, mask)  # its own no-data: scored nowhere, as --pred
            ids.add(mask)
            unsaid = unsaid and not _say_ignored(mask, scoring.ignore_value)
            bad = invalid(pair)  # nodata, transparent: scored nowhere
            at = where(pair.image, pair.page, pair.pages)
            how = scaled(pair.image)
            at |= scale_column(scoring.predicting.scale, how.predicting.scale)
            scored = without_region(_score_pair(pair, image, mask, how, bad), tagged)
            tags.lost.predicted(pair.mask, scored["pred"], tagged)  # its objects under the tag
            # an instance model's truth ids only (a class mask's regions are judged anyway)
            binary = scored["gt_ids"] is not None and binary_truth(mask, scoring.ignore_value)
            voids = dict(void=bad, truth_void=tagged, binary_truth=binary)
            acc.add(pair.name, **scored, where=at, **voids, case=pair)
            done(pair.name)
    ids.say()
    tags.say()
    return acc


def scale_column(asked: float | str, used: float) -> dict:
    """An image's ``scale`` column (the row's): the factor it was predicted at (``used``: its
    own under ``--scale auto``), where the scale ``asked`` is not 1; none at 1, as the rows
    were before ``--scale``."""
    return {} if asked == 1 else {"scale": float(used)}


class _Scales:
    """:class:`_Scoring` as each image file is scored: at scale auto (``--scale auto``) its
    own factor (:func:`~unetlab.inference.files.image_scale`: its pixel size, or the one
    given, over the training pixel size, said once a file as predict says it) and the
    checkpoint's least object areas at it (:func:`defaults_at_scale`); else as given."""

    def __init__(self, scoring: _Scoring):
        self.scoring, self.files = scoring, {}

    def __call__(self, image) -> _Scoring:
        """The scoring of the image file ``image`` (a stack's pages: the same)."""
        s = self.scoring
        if s.predicting.scale != "auto":
            return s
        if image not in self.files:
            from unetlab.inference.files import image_scale
            from unetlab.inference.objects import defaults_at_scale

            factor = image_scale(s.model, image, "auto", s.pixel_size)
            at = None if s.objects is None else defaults_at_scale(s.model, s.objects, factor)
            self.files[image] = replace(
                s, predicting=replace(s.predicting, scale=factor), objects=at
            )
        return self.files[image]


#: the settings the 3-D refusals name, as each caller spells them
_BEST_THRESHOLD = Spelled("thresholds", "--best-threshold")

#: what a class model's masks that look like object ids need (:class:`_IdPages`): an
#: instance model, or this model's objects scored against them as ids (named no
#: --gt-instances, s59)
_TRAIN_INSTANCES = Spelled(
    *map(
        "this model reads them as classes: train an instance model on them ({}) and evaluate "
        "that, or score this model's objects on them with {} after {}".format,
        TARGET_INSTANCES,
        SCORED_AS_IDS,
        MADE_OBJECTS,
    )
)


class _IdPages:
    """The values and regions of each mask page a class model is scored against, kept while
    every page holds more than :data:`ONE_OBJECT_LEAST` values (the background too), and the
    warning where they look like object ids (the same few in every file:
    :func:`~unetlab.data.fingerprint.object_ids_note`), as training and ``evaluate --gt``
    say it. None kept for an instance model (its masks are read as ids) nor for a class
    model whose classes are named (the data set's own: organs, not ids)."""

    def __init__(self, scoring: _Scoring):
        model = scoring.model
        values = scoring.label_values or range(len(model.classes))
        named = list(model.classes) != [str(v) for v in values]
        instance = scoring.objects is not None and scoring.objects.mode == "instances"
        self.pages: list[MaskValues] | None = None if named or instance else []

    def add(self, mask: np.ndarray) -> None:
        """One mask page, as read."""
        if self.pages is None:
            return
        # counted where the values are small whole numbers (s72: np.unique's sort took 4.8 ms
        # CPU on a 1,024² uint16 page of 2 ids, 1.3 ms so), not where their range holds too
        # few (s74: a 0/1 page's 1.1 ms, 0.03 ms so)
        if _few_values(mask) or len(distinct_values(mask)[0]) <= ONE_OBJECT_LEAST:
            self.pages = None  # not every page: no note
        else:
            self.pages.append(MaskValues.of(mask))

    def say(self) -> None:
        """The warning, where every page looks like object ids."""
        if self.pages and (ids := object_ids_note(self.pages, _TRAIN_INSTANCES)):
            log.warning("the masks' values are scored as the model's classes; %s", ids)


def _few_values(mask: np.ndarray) -> bool:
    """Whether the whole numbers of ``mask`` span too few to be more than
    :data:`ONE_OBJECT_LEAST` values (a class mask's 0/1), told by its least and largest."""
    mask = np.asarray(mask)
    if mask.size == 0 or mask.dtype.kind not in "biu":
        return False
    return int(mask.max()) - int(mask.min()) < ONE_OBJECT_LEAST


def _mask_colours(scoring: _Scoring) -> ColourTable | None:
    """The checkpoint's class colours (its palette's entries of its mask values and of the
    value it ignores), to read colour (RGB) masks in them; None for a model without."""
    model = scoring.model
    if (palette := getattr(model, "palette", None)) is None:
        return None
    values = list(
        range(model.num_classes) if scoring.label_values is None else scoring.label_values
    )
    void = scoring.ignore_value
    void = void if void is not None and 0 <= void < len(palette) else None
    return palette_table(np.asarray(palette), values, "the checkpoint's class colours", void=void)


def _fitted_as_predicted(image: np.ndarray, pair: Pair, how: _Scoring) -> np.ndarray:
    """``image`` (a page of ``pair``'s image file) with its channels fitted to the model as
    predict fits that file's (:func:`~unetlab.inference.file_fit.file_fit`: the channel taken,
    its colours, a grey page refused for a stains model), or refused in predict's line. The
    fit is found once a file (s49 review1: its channel line was said once a page)."""
    from unetlab.inference.predict import fit_channels

    alone = _alone(pair, how)  # those read alone: the file's own fit
    fit, held = (_fit(image, pair, how), None) if alone is None else alone[:2]
    return fit_channels(image, how.model.in_channels, name=str(pair.image), held=held, **fit)


def _fit(image: np.ndarray, pair: Pair, how: _Scoring) -> dict:
    """:func:`~unetlab.inference.file_fit.file_fit` of ``image``, a page of ``pair``'s image
    file read whole, found once a file and channel count."""
    from unetlab.inference.file_fit import file_fit

    have = 1 if image.ndim == 2 else image.shape[2]
    if (fit := how.fits.get((pair.image, have))) is None:
        read = dict(axes=pair.axes, axes_trained=how.axes is None)  # none: the checkpoint's
        read["nodata"] = how.predicting.nodata
        fit = file_fit(
            how.model, pair.image, have, channel=how.predicting.channel, asked=how.asked, **read
        )
        how.fits[pair.image, have] = fit
    return fit


def _alone(pair: Pair, how: _Scoring):
    """The channels of ``pair``'s image file that the model takes, read alone as predict
    reads them (:func:`~unetlab.inference.file_fit.channels_alone`: a multiplexed
    OME-TIFF's pages; s72: 24 channels of 1,024² decoded for the model's one), with their
    fit; found once a file. None: every channel read (as predict: axes given, stored
    together, nodata in every band)."""
    from unetlab.inference.file_fit import channels_alone

    if pair.image not in how.alone:
        given = dict(asked=how.asked, axes=pair.axes or how.axes, nodata=how.predicting.nodata)
        how.alone[pair.image] = channels_alone(
            how.model, pair.image, channel=how.predicting.channel, **given
        )
    return how.alone[pair.image]


def _held(pair: Pair, how: _Scoring) -> tuple[int, ...] | None:
    """The channels of ``pair``'s image file read alone (:func:`_alone`), or None: all."""
    alone = _alone(pair, how)
    return None if alone is None else alone.held


def _score_pair(pair: Pair, image: np.ndarray, mask: np.ndarray, how: _Scoring, bad=None) -> dict:
    """One pair predicted and encoded: the keywords of :meth:`Accumulator.add` (``pred``,
    ``gt``, ``cell_prob``, ``gt_ids``, ``pred_ids``, ``scored_ids``). An instance model's
    objects come from its post-processing and its pixels are object or not; another's pixels
    are its labels, the regions of its labels its ISBI objects, and the objects of its
    post-processing (as predict --instances) those the object scores count."""
    from unetlab.inference.files import LOWER_TILE_OR_BATCH
    from unetlab.inference.objects import objects_int32
    from unetlab.inference.predict import (
        check_finite,
        invalid_mask,
        labels_from_probabilities,
        predict_fitted,
    )
    from unetlab.runtime import memory_hint

    gt, gt_ids = _truth(pair, mask, how)  # a mask of no class refused before predicting
    image, name = _fitted_as_predicted(image, pair, how), str(pair.image)
    bad = invalid_mask(bad, image.shape[:2], name)
    check_finite(image, name, channel_axis=True, invalid=bad)
    with memory_hint(name, LOWER_TILE_OR_BATCH):  # each caller its form (s56)
        probs = predict_fitted(how.model, image, options=how.predicting, name=name, invalid=bad)
    scored_ids = None  # nodata and the bar cut objects as predict's do (review s33 2)
    cut = dict(outside=either(bad, region(probs.shape[1:], how.predicting.exclude_rows)))
    if gt_ids is not None:  # an instance model's
        pred_ids = objects_int32(probs, how.objects, **cut).astype(np.int64)
        pred = (pred_ids > 0).astype(np.int64)
    else:
        pred, pred_ids = labels_from_probabilities(probs).astype(np.int64), None
        if how.objects is not None:  # the ignored class as background (review s68: a ring)
            scored_ids = objects_int32(probs, how.objects, **cut).astype(np.int64)
    cell = _cell_probability(probs, how.boundary_class) if how.cell else None
    scored = dict(pred=pred, gt=gt, cell_prob=cell, gt_ids=gt_ids, pred_ids=pred_ids)
    scored["scored_ids"] = scored_ids
    if gt_ids is None and how.uncounted:  # no class: as another tool's void (s51's --pred)
        scored["predicted_ignore"] = np.isin(pred, how.uncounted)
    scored = without_excluded(scored, how.predicting.exclude_rows)  # a data bar scores nowhere
    return without_region(scored, bad)  # nor nodata / transparent pixels


def _truth(pair: Pair, mask: np.ndarray, how: _Scoring) -> tuple[np.ndarray, np.ndarray | None]:
    """(class indices, object ids or None) of ``pair``'s ``mask``: an instance model's object
    ids (background and object), another's classes, a value that is no class of the model
    refused naming the file (:func:`check_model_classes`)."""
    name = str(pair.mask)
    if how.objects is not None and how.objects.mode == "instances":
        return instance_mask(mask, how.ignore_value, name, how.connectivity)
    if how.label_values is None:  # class indices (16-bit object ids too: checked first)
        values = np.asarray(mask)
        kept = values if how.ignore_value is None else values[values != how.ignore_value]
        check_model_classes(kept, list(how.model.classes), name)
    fixes = dict(fix=_classes_fix(how.model), values_fix=MODEL_FIX)
    return encode(mask, how.label_values, how.ignore_value, name, **fixes), None


def _classes_fix(model) -> str:
    """What a model's evaluation says of masks that cannot be class indices (it has no label
    values to give, nor object ids to read them as): the classes they must hold."""
    classes = list(model.classes)
    return (
        "the data set's masks must hold the classes the model was trained on (class indices "
        f"0..{len(classes) - 1}: {', '.join(classes)})"
    )


def _training_overlap_warning(pairs: Sequence[Pair], model) -> list[bool]:
    """Whether each of ``pairs`` trained ``model`` (:func:`trained_images`), with a warning
    naming those that did, when any did."""
    trained = trained_images(
        pairs, getattr(model, "training_data", None), getattr(model, "training_split", None)
    )
    if seen := [p for p, flag in zip(pairs, trained) if flag]:
        log.warning(
            "note: %d of these %d images trained this checkpoint (%s; marked trained in the "
            "JSON): their figures overstate how it does on new images; score a test set the "
            "run never saw (not its validation images either: they chose best.pt)",
            len(seen),
            len(pairs),
            describe_pairs(seen),
        )
    return trained


def _object_options(model, given, scale: float | str = 1):
    """The object options :func:`evaluate_model` finds objects with: ``given`` (for the
    model's mode), or the checkpoint's defaults; at a ``scale`` (--scale F) its default least
    areas in the image's px, as ``predict --scale`` (:func:`defaults_at_scale`)."""
    from unetlab.inference.objects import ObjectOptions, defaults_at_scale

    options = ObjectOptions.for_model(model)
    if given is not None and given.mode != options.mode:
        raise UnetlabError(
            f"object_options are for a {given.mode} model; this one is {options.mode}: use "
            "ObjectOptions.for_model(model, ...)"
        )
    options = options if given is None else given
    return options if scale in (1, "auto") else defaults_at_scale(model, options, float(scale))


#: the ``train.amp`` values whose run validates in bf16 where the device runs it (``auto``: a
#: bf16 GPU; ``native``: AMX or a bf16 GPU; ``bf16``: always)
BF16_AMP = ("auto", "native", "bf16")


def _model_source(model, tta, checkpoint: dict | None) -> dict:
    """What of ``model`` made an evaluation's predictions, for ``report.source``: the
    checkpoint (given as a path), the label offset, the TTA transforms averaged, the
    precision its training run validated in (``val_precision``, where recorded; in an older
    file that records none, ``train_amp``: the run's ``train.amp`` where it can validate in
    bf16, :data:`BF16_AMP`)."""
    from unetlab.inference.offset import label_offset
    from unetlab.inference.tta import resolve_tta

    made = dict(checkpoint or {}) | {"label_offset": list(label_offset(model))}
    if (validated := getattr(model, "val_precision", None)) is not None:
        made["val_precision"] = validated  # its run's validations' (train.log's figures)
    elif (amp := getattr(model, "train_amp", None)) in BF16_AMP:
        made["train_amp"] = amp  # an older file: its run may have validated in bf16
    if tta:
        made["tta"] = list(resolve_tta(model, tta))
    return made


def _cell_probability(probs: np.ndarray, boundary_class: int | None) -> np.ndarray:
    """(H, W) 1 - P(boundary class) of (K, H, W) probabilities (K = 1: a sigmoid net)."""
    b = 0 if boundary_class is None else boundary_class
    boundary = (1 - probs[0] if b == 0 else probs[0]) if probs.shape[0] == 1 else probs[b]
    return 1.0 - boundary
