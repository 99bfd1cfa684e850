"""Scoring objects in 3-D: :func:`evaluate_volumes` (``evaluate --objects-3d``).

A z-stack's objects (``predict --instances --objects-3d``: one id per nucleus across its
planes) scored against 3-D ground truth (a ZYX stack of object ids; TZYX: frame by frame) as
volumes: one row per stack (per frame) whose objects match one to one by their IoU over
voxels, where the plane-by-plane path counts a nucleus of ten planes ten times. The matching
is the 2-D object scores' own (:func:`~unetlab.metrics.objects.object_scores`): the overlap
of two id arrays depends on which ids share a voxel, not on where it lies, so a (Z, Y, X)
volume is scored as its (Z * Y, X) view, and every object figure (F1 at IoU 0.5, the DSB
score, PQ, SEG, counts) is the 3-D one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from unetlab.data.instances import binary_values, is_binary_mask
from unetlab.data.io import AXES_GIVEN, mask_stem, read_stack, stack_shape
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.names import mask_shown
from unetlab.data.tiff_files import is_tiff_name
from unetlab.data.tiffmeta import PageAxes, planes_letters, read_page_axes, series_axes
from unetlab.errors import DatasetError, Spelled, UnetlabError, said_as, spelled
from unetlab.evaluate.accumulate import Accumulator
from unetlab.evaluate.earlier import scored_paths
from unetlab.evaluate.masks import (
    PRED_INSTANCES,
    Predictions,
    TruthLost,
    ground_truth,
    has_planes,
    named_in,
    named_nodata,
    nodata_pixels,
    ome_less,
    planes_axes,
    planes_saved_with_axes,
    recorded_3d,
    refuse_image_folders,
    say_unscored,
)
from unetlab.evaluate.report import Report
from unetlab.evaluate.stops import counted
from unetlab.inference.objects_3d import classes_table, frame_pages
from unetlab.inference.pages import OBJECTS_3D, given_page_axes
from unetlab.progress import progress_calls
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: the two pixel classes of object ids: what the 3-D report's pixel figures count
CLASSES = ["background", "object"]

#: the settings this module's lines name, as the Python API and the command line spell them
#: (each line gave both, "--pred-instances (pred_instances=True)", s55)
_WITHOUT_3D = Spelled("with objects_3d=False", "without --objects-3d")
#: the predictions of 3-D objects, of each plane's, as each caller makes them
MADE_3D = Spelled(
    "predict_folder(..., objects=True, objects_3d=True)", "unetlab predict --instances --objects-3d"
)
MADE_FLAT = Spelled(
    "predict_folder(..., objects=True) without objects_3d",
    "predict --instances without --objects-3d",
)
PREDICTED_3D = Spelled("predict_folder(..., objects_3d=True)", "predict --objects-3d")
#: why 3-D objects of several classes are not scored (the flag; whose objects), s73
SEVERAL_CLASSES = (
    "{} scores the 3-D objects of a nuclei (instance) model or of one object class against "
    "ground truth of object ids, and {} objects are of several classes{}: drop it to score "
    "each class's Dice and IoU (a volume's per case)"
)


@planes_saved_with_axes()
def evaluate_volumes(
    pred_dir: str | os.PathLike,
    gt_dir: str | os.PathLike,
    *,
    pred_instances: bool = False,
    worst: int = 5,
    progress: bool | Callable[[str], None] | None = True,
) -> Report:
    """The object figures of each stack (each frame of a TZYX movie) in 3-D: ``pred_dir``'s
    ``<stem>_objects.tif`` (``<stem>.tif`` with ``pred_instances``) against ``gt_dir``'s
    masks of the same stem, both stacks of object ids (0 = none) whose pages are Z planes
    (a file that records no axes takes the other's); the pixel figures are the voxels'
    background / object. Refused in one line: a file with no Z axis, a missing prediction,
    stacks of other shapes; predictions with no ground truth said in one line. An image with
    no Z axis (a 2-D image, a movie's frames) is scored by its 2-D objects, as predict
    --objects-3d gives them, said in one line (:func:`say_flat_scored`). ``progress``: True:
    a bar of the stacks (where a person watches); a function: called with each stack's
    name once scored."""
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    refuse_image_folders(pred_dir, gt_dir)  # a data set's images/ folder: one line
    mask_files = ground_truth(gt_dir).files
    preds = Predictions(pred_dir, instances=pred_instances, object_pixels=True)
    named = {mask_stem(m) for m in mask_files}
    stems = {m: ome_less(mask_stem(m), preds.objects, named) for m in mask_files}
    _refuse_recorded(preds, list(stems.values()))
    acc, flat, lost = accumulator(), [], TruthLost(ids=True)
    each = dict(what="each stack's name", each=True, total=len(stems), unit="stack")
    with (
        progress_calls(progress, desc="stacks", **each) as bar,
        counted(len(stems), bar, unit="stack") as done,
    ):
        for mask, stem in stems.items():
            _refuse_missing_volume(preds, mask, stem, pred_dir)
            value = named_nodata(mask)  # the masks' own no-data, as evaluate --pred's
            for name, where, pred, gt in volumes(preds.objects[stem], mask, stem, flat=flat):
                add_tagged_volume(acc, lost, mask, name, where, pred, gt, nodata=value)
            done(stem)
    lost.say(gt_dir, "voxel")  # one line per file, not per frame; 3-D takes no label values
    say_flat_scored(flat, len(stems), gt_dir)
    say_unscored(preds, [mask_stem(m) for m in mask_files], gt_dir)
    report = acc.report(CLASSES, thresholds=None, worst=worst)
    report.counting = True
    report.source = scored_paths(dict(predictions=pred_dir, ground_truth=gt_dir))
    report.source["objects_3d"] = True
    return report


def _refuse_missing_volume(preds: Predictions, mask: Path, stem: str, pred_dir: Path) -> None:
    """The stack ``mask`` whose ``<stem>_objects.tif`` is not among ``preds`` refused."""
    if stem not in preds.objects:
        said = f"{mask}: no {stem}_objects.tif in {pred_dir} (3-D objects of "

        def fix(made: str, instances: str) -> str:
            return f"{said}{made}; {instances} for <stem>.tif)"

        raise DatasetError(**spelled(fix, MADE_3D, PRED_INSTANCES))


def _refuse_recorded(preds: Predictions, stems: list[str]) -> None:
    """The object-id predictions of ``stems`` that 3-D matching cannot score refused in one
    line: those whose record says they hold each plane's objects (:func:`_refuse_planewise`)
    and 3-D objects of several classes (:func:`_refuse_classes`)."""
    found = [preds.objects[s] for s in dict.fromkeys(stems) if s in preds.objects]
    recorded = recorded_3d(found, preds.written).items()
    _refuse_planewise([p for p, joined in recorded if not joined and has_planes(p)])
    _refuse_classes([p for p in found if _semantic(preds.written.outputs(p))])


def _semantic(outputs: dict) -> bool:
    """Whether a prediction's record's ``outputs`` are a semantic model's objects, or say
    nothing of them (no record: the files themselves tell)."""
    objects = outputs.get("objects")
    return not outputs or not isinstance(objects, dict) or objects.get("mode") == "semantic"


def _refuse_classes(paths: list[Path]) -> None:
    """UnetlabError naming the first of the object-id ``paths`` whose table
    (``<stem>_objects.csv`` beside it) has the ``class`` and ``z_first`` columns of 3-D
    objects of several classes (a liver, a spleen, kidneys: predict --objects-3d of such a
    model), which 3-D ground truth of object ids of no class scored whatever their class
    (s73 review: kidneys of label 3 one true object, F1 0.40 unsaid)."""
    several = next((p for p in paths if classes_table(p)), None)
    if several is not None:
        said = SEVERAL_CLASSES.format("{}", "its", " (its table's class column)")
        raise UnetlabError(**spelled(lambda f: f"{several}: " + said.format(f), OBJECTS_3D))


def _refuse_planewise(flat: list[Path]) -> None:
    """UnetlabError naming the first of the object-id predictions ``flat`` whose record says
    it holds each plane's objects (predict --instances without --objects-3d: ids from 1 in
    every plane), which 3-D matching read as columns of unrelated objects (audit s38 3d: F1
    0.05 for nuclei the planes found at F1 0.98, without a word); a 2-D image's or a movie's
    are scored as they are (:func:`has_planes`)."""
    if flat:
        said = f"{flat[0]}: its objects are each plane's ("

        def fix(made: str, objects_3d: str, without: str) -> str:
            return (
                f"{said}{made}: ids from 1 in every plane), not 3-D ones: predict with "
                f"{objects_3d} to score them in 3-D, or score these {without}"
            )

        raise UnetlabError(**spelled(fix, MADE_FLAT, OBJECTS_3D, _WITHOUT_3D))


def accumulator() -> Accumulator:
    """The statistics of 3-D objects: object ids, each voxel background or object
    (:data:`CLASSES`), objects 6-connected."""
    return Accumulator(boundary_class=0, connectivity=1, objects=True)


def add_volume(
    acc: Accumulator,
    name: str,
    where: dict,
    pred: np.ndarray,
    gt: np.ndarray,
    nodata: float | None = None,
) -> np.ndarray | None:
    """One row of ``acc``: the predicted and true (Z, Y, X) ids of a stack (a frame);
    ``nodata``: the value the truth's file names no-data (:func:`named_nodata`), whose
    voxels (:func:`~unetlab.evaluate.masks.nodata_pixels`: any value but 0, object ids) are
    scored nowhere and no object's, as on the 2-D path; those voxels returned (or None),
    for the caller to say per file what they took (:class:`TruthLost`)."""
    void = taken = nodata_pixels(gt, nodata, None, ids=True)
    binary = _binary(gt if void is None else np.where(void, 0, gt))
    flat_pred, flat_gt = _flat(pred), _flat(volume_objects(gt, void) if binary else gt)
    pixels = dict(pred=(flat_pred > 0).astype(np.uint8), gt=(flat_gt > 0).astype(np.uint8))
    if void is not None:
        void = _flat(void)
        flat_gt = np.where(void, 0, flat_gt)
        pixels = dict(
            pred=np.where(void, 0, pixels["pred"]),
            gt=np.where(void, IGNORE_INDEX, flat_gt > 0).astype(np.int64),
        )
    # binary_truth not given: its merged-looking rule judges 2-D shapes, not flat stacks
    acc.add(name, **pixels, gt_ids=flat_gt, pred_ids=flat_pred, where=where, truth_void=void)
    return taken


def add_tagged_volume(
    acc: Accumulator,
    lost: TruthLost,
    mask: Path,
    name: str,
    where: dict,
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    nodata: float | None,
) -> None:
    """:func:`add_volume` of ``name``'s predicted and true ids from the truth file
    ``mask``, telling ``lost`` what its own tag ``nodata`` took: the labelled voxels
    (:meth:`~unetlab.evaluate.masks.TruthLost.add`) and the prediction's objects on them
    (:meth:`~unetlab.evaluate.masks.TruthLost.predicted`: a 0/255 stack tagged 255 among 0/1
    stacks whose tagged swath leaves objects beside it is said where the prediction finds
    objects under the tag, as in 2-D; it was silent, s58)."""
    taken = add_volume(acc, name, where, pred, gt, nodata)
    lost.predicted(mask, pred, taken)
    lost.add(mask, gt, nodata, taken)


def _binary(volume: np.ndarray) -> bool:
    """:func:`~unetlab.data.instances.is_binary_mask` of a volume, a stack of ids told apart
    by its least and largest values first: its sort of every voxel took 5% of a 32 x 512 x
    512 stack's scoring (0.15 s of 3 s)."""
    values = binary_values(volume.dtype)
    if volume.dtype != bool and volume.size and volume.max() not in values:
        return False
    return is_binary_mask(volume)


def volume_objects(gt: np.ndarray, void: np.ndarray | None = None) -> np.ndarray:
    """The objects of a binary (Z, Y, X) truth (0 and one of
    :func:`~unetlab.data.instances.binary_values`): its face-connected (6-way) components
    1..n, as a binary 2-D truth's are its edge-connected ones (:func:`~unetlab.data.
    instances.instance_ids` at evaluate's default connectivity 1, 4-way; 3-D scoring refuses
    8): voxels that touch at an edge or a corner only are two objects, as two pixels that
    touch at a corner are in 2-D (s57 review); its ``void`` voxels (no-data) in none. A 0/1
    stack was read as object 1, two separate blobs one object (s57)."""
    from scipy import ndimage

    foreground = gt > 0 if void is None else (gt > 0) & ~void
    return ndimage.label(foreground)[0]


def volumes(
    pred: Path,
    gt: Path,
    stem: str,
    predicted: tuple[np.ndarray, PageAxes] | None = None,
    *,
    flat: list[Path] | None = None,
    gt_axes: str | None = None,
) -> Iterator[tuple[str, dict, np.ndarray, np.ndarray]]:
    """(row name, its columns, predicted (Z, Y, X) ids, true (Z, Y, X) ids) of each frame of
    the stacks ``pred`` and ``gt`` (one for a ZYX stack, named ``stem``; ``stem[t]`` with
    ``t`` for each frame of a TZYX one); ``predicted``: ``pred``'s pages and axes, predicted
    in memory (``pred`` then names its image), not read from it. Files with no Z axis (a 2-D
    image, a TYX movie) give each page as a one-plane volume, its 2-D objects, their name
    added to ``flat``. ``gt_axes``: the truth's axes as a user gives them (None: its file's)."""
    gt_pages = read_stack(gt, mask=True, axes=gt_axes)
    if predicted is None:
        axes = planes_axes(pred, gt, len(gt_pages), ids=True)  # other planes: refused
        pred_pages = read_stack(pred, mask=True, axes=axes)
    else:
        pred_pages = predicted[0]
    if gt_pages.shape != pred_pages.shape:
        raise UnetlabError(
            f"{pred}: {_size(pred_pages)} but its ground truth {mask_shown(gt)} {_size(gt_pages)}; "
            "score a prediction of the same stack"
        )
    read = dict(pred_axes=None if predicted is None else predicted[1], gt_axes=gt_axes)
    axes = planes_of(gt, pred, len(gt_pages), **read)
    frames = frame_pages(axes) if "Z" in axes.letters else [[p] for p in range(len(gt_pages))]
    if "Z" not in axes.letters and flat is not None:
        flat.append(gt)
    for t, pages in enumerate(frames):
        name, where = (stem, {}) if len(frames) == 1 else (f"{stem}[{t}]", {"t": t})
        where |= {"planes": len(pages)}
        yield name, where, pred_pages[pages], gt_pages[pages]


def planes_of(
    gt: Path, pred: Path, pages: int, pred_axes: PageAxes | None = None, gt_axes: str | None = None
) -> PageAxes:
    """The page axes of the stacks ``gt`` and ``pred`` (``pages`` pages each; ``pred_axes``:
    the prediction's, read from it where None; ``gt_axes``: the truth's as a user gives
    them, read from it where None): the ground truth's, or the prediction's
    where the truth's pages record none (without Z: a 2-D image, a movie's frames); a
    UnetlabError in one line where neither records them, or they record two different ones."""
    read = read_page_axes(pred, pages) if pred_axes is None else pred_axes
    truth = read_page_axes(gt, pages) if gt_axes is None else given_page_axes(gt, gt_axes, pages)
    known = [(gt, truth), (pred, read)]
    recorded = [(f, a) for f, a in known if a.letters != "Q"]
    if not recorded:
        said = f"{gt}: its {pages} pages record no axes, nor do those of {pred}: "
        fix = (
            " needs to know they are Z planes; write the truth with its axes (tifffile.imwrite("
            "..., metadata={'axes': 'ZYX'}), or an ImageJ hyperstack)"
        )
        raise UnetlabError(**spelled(lambda f: said + f + fix, OBJECTS_3D))
    if len(recorded) == 2 and recorded[0][1].letters != recorded[1][1].letters:
        raise UnetlabError(
            f"{pred}: its pages are {recorded[1][1].letters} but those of {gt} "
            f"{recorded[0][1].letters}; score a prediction of the same stack"
        )
    return recorded[0][1]


def truth_axes(image: Path, mask: Path) -> str | None:
    """The axes to read ``image`` by (``--axes``), taken from its ground truth ``mask``, where
    its pages record none: as many pages as a 3-D truth's (recorded Z, or pages unnamed) are
    its Z planes, not the channels a multi-channel model would read them as
    (:func:`~unetlab.inference.pages.guess_pages`), nor an 8-bit picture's colours; None
    where the image records its axes, or has one page, or not the truth's count."""
    if not is_tiff_name(image) or not is_tiff_name(mask):
        return None
    pages, series = stack_shape(image)[0], series_axes(image)
    if pages < 2 or series is None or stack_shape(mask)[0] != pages:
        return None
    if (axes := planes_letters(*series, pages)) is None:
        return None
    if read_page_axes(image, pages, say=False).letters != "Q":
        return None
    truth = read_page_axes(mask, pages, say=False).letters
    if "Z" in truth and truth != "Z":  # a TZYX truth: the image's pages give no frames
        said = (
            f"{image}: its {pages} pages record no axes, those of its truth {mask} are "
            f"{truth}; save the image with its axes (tifffile.imwrite(..., metadata={{'axes': "
            f"'{truth}YX'}}), or an ImageJ hyperstack) and evaluate it again ("
        )
        why = (
            f" cannot say it: one letter per axis of the file, and its pages are one, not {truth})"
        )
        raise UnetlabError(**spelled(lambda f: said + f + why, AXES_GIVEN))
    return axes if truth in ("Z", "Q") else None


#: what evaluate --objects-3d does with a bare stack whose other axes are 1 beside its truth
#: (:func:`truth_planes`), as 2-D evaluate's line for its pages says it
TRUTH_PLANES_3D = Spelled(
    "its other axes of size 1, objects_3d=True reads its pages as its truth's Z planes",
    "its other axes of size 1, evaluate --objects-3d reads its pages as its truth's Z planes",
)


def truth_planes(image: Path, mask: Path) -> bool:
    """Whether evaluate --objects-3d reads the stack ``image`` by its truth ``mask``'s
    planes (:func:`truth_axes`: pages that record no axes, its other axes of size 1), where
    predict --objects-3d refuses a bare stack of over 3 axes; False where it refuses it
    (a TZYX truth)."""
    try:
        return truth_axes(image, mask) is not None
    except UnetlabError:  # refused there, in its one line
        return False


def say_flat_scored(flat: list[Path], scored: int, folder=None) -> None:
    """One line where some of the ``scored`` ground truths had no Z axis (``flat``: their
    files, named as in ``folder``: :func:`named_in`): scored by their 2-D objects, as
    predict --objects-3d gives them."""
    if flat := [named_in(path, folder) for path in flat]:
        log.info(
            "%s scored %d of %s without a Z axis by their 2-D objects, as %s gives them: %s",
            *(said_as(OBJECTS_3D), len(flat), numbered(scored, "image"), said_as(PREDICTED_3D)),
            ", ".join(flat[:3]) + (" ..." if len(flat) > 3 else ""),
        )


def _flat(volume: np.ndarray) -> np.ndarray:
    """A (Z, Y, X) array as its (Z * Y, X) view: the voxels the 2-D scores count."""
    return volume.reshape(-1, volume.shape[-1])


def _size(pages: np.ndarray) -> str:
    """How a message gives a stack's size: '12 pages of 64x48 (width x height)'."""
    return f"{len(pages)} pages of {pages.shape[2]}x{pages.shape[1]} (width x height)"
