"""``unetlab evaluate``: pixel, ISBI 2012 and object measures of a model or of saved predictions.

unetlab evaluate --checkpoint runs/isbi/checkpoints/best.pt --data ../shared/data/isbi2012/train
unetlab evaluate --pred out/ --gt data/val/masks --label-values 0 255 --json eval.json
unetlab evaluate --pred out/ --gt data/val/masks --gt-instances   # nuclei: ids in both
unetlab evaluate --checkpoint nuclei.pt --data nuclei/ --no-distance-split  # as predict's
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

from unetlab.cli.common import (
    BLENDS,
    PRECISIONS,
    STDOUT,
    add_device_arg,
    add_object_args,
    add_prediction_args,
    background_hint,
    check_object_args,
    check_pixels,
    given_checkpoint_parts,
    model_classes,
    object_flags_given,
    object_options,
    objects_line,
    predict_options,
    say_nanometre_slips,
    user_path,
    warn_unfinished,
)
from unetlab.cli.predict import (
    add_axes_arg,
    add_exclude_rows_arg,
    add_h5_dataset_arg,
    add_nodata_arg,
    add_scale_arg,
    check_region_flags,
    h5_datasets_read,
    with_exclude_rows,
    with_nodata,
    with_scale,
)
from unetlab.errors import DatasetError, UnetlabError, flag_of

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate",
        help="IoU, Dice, ISBI Rand error / information score; DSB score, object F1, PQ, SEG, "
        "counts",
        description="Evaluate a checkpoint on a data folder (--checkpoint, --data; its val/ "
        "subfolder when it has one), or saved label images against masks (--pred, --gt). "
        "Prints per-class IoU and Dice, mIoU, pixel accuracy, the ISBI 2012 foreground-"
        "restricted Rand error and information score (V_Info), the object scores (DSB 2018 "
        "score, F1 / precision / recall at IoU >= 0.5, panoptic quality, SEG, predicted and "
        "true counts, AP = TP/(TP+FP+FN) at --iou thresholds; on object ids each image's "
        "counts, F1, DSB and object size), and the worst "
        "images, and the spread of the images' own figures (mean ± sd, min-max); --json "
        "writes all of it, with a confusion-matrix PNG and a per-image CSV beside it. "
        "Predicted objects are the ids of <stem>_objects.tif files (unetlab predict "
        "--instances) when present, else the connected regions (--connectivity, default 4) "
        "of every class but the boundary class (the class named background, else membrane, "
        "else, of two classes, one named a boundary: boundary, edge, contour, outline, wall, "
        "border, grain boundary; else that of mask value 0; "
        "--boundary-class sets it). With --checkpoint the objects scored are those unetlab "
        "predict --instances writes (the checkpoint's least object size, holes filled; "
        "--min-area, --no-fill-holes, --watershed-seeds as there), while the ISBI Rand error "
        "and information score keep the connected regions of the class map. The ISBI and object "
        "scores are for two classes or object ids: with more classes (e.g. road scenes) they "
        "are left out unless --object-scores.",
    )
    _add_inputs(p.add_argument_group("what to evaluate (one of)"))
    _add_outputs(p.add_argument_group("outputs"))
    c = p.add_argument_group("classes and objects")
    _add_classes(c)
    _add_reading(c)
    _add_scores(c)
    _add_voxel(c)
    add_exclude_rows_arg(c, EXCLUDE_ROWS_SCORED)
    prediction = p.add_argument_group("prediction (with --checkpoint)")
    add_prediction_args(prediction)
    add_nodata_arg(prediction)
    add_scale_arg(prediction)
    add_axes_arg(prediction, AXES_READ)
    n = p.add_argument_group("objects (with --checkpoint; as unetlab predict --instances)")
    add_object_args(n, "with --checkpoint")
    add_device_arg(prediction)
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (drawn on a terminal over the images or stacks scored)",
    )
    # None where not typed (the flags' defaults apply: :func:`_typed_defaults`), so that a
    # flag typed at its default value (--blend mean, --device auto) is refused with --pred too
    p.set_defaults(run=run, **dict.fromkeys(UNTYPED))


#: --exclude-rows in evaluate: scored nowhere with --pred too (it was listed and explained as
#: a flag of --checkpoint's predictions alone)
EXCLUDE_ROWS_SCORED = (
    "scored nowhere (the truth ignored there, objects mostly in them dropped); with "
    "--checkpoint also predicted as unetlab predict --exclude-rows predicts them; none: none "
    "(default: with --checkpoint the checkpoint's data.exclude_rows, with --pred none)"
)


#: how evaluate --checkpoint reads --axes (after predict's help)
AXES_READ = (
    "; with --checkpoint, as unetlab predict --axes reads them: the images', and those of "
    "their TIFF masks but C (a mask TIFF of as many axes, e.g. ZYX beside a ZCYX image; "
    "other masks as their files say)"
)


def _add_inputs(m) -> None:
    """--checkpoint/--data or --pred/--gt."""
    path = user_path  # --data=~/x: the shell leaves that ~ alone
    m.add_argument(
        "--checkpoint",
        type=path,
        help="a unetlab checkpoint (.pt) or a bioimage.io package unetlab exported; needs --data",
    )
    m.add_argument(
        "--data",
        metavar="DIR",
        type=path,
        help="data folder (images/ + masks/, X.tif beside X_mask.png, ISBI, VOC, the Data "
        "Science Bowl's or the Cell Tracking Challenge's: 01/ beside 01_GT/SEG/); DIR/val "
        "when present (not beside DIR/test: give either)",
    )
    m.add_argument(
        "--pred",
        metavar="DIR",
        type=path,
        help="predicted label images (class indices, <stem>.png, or <stem>_pred.png as other "
        "tools name them; object ids <stem>_objects.tif); needs --gt",
    )
    m.add_argument(
        "--gt",
        metavar="DIR",
        type=path,
        help="folder of masks, or a data folder with masks/ (or one sequence of the Cell "
        "Tracking Challenge's: 02/ or 02_GT/SEG/); DIR/val when present; or a COCO file "
        "(annotations/instances_default.json: its images' masks alone)",
    )


def _add_outputs(o) -> None:
    """--json, --confusion, --overwrite and --worst."""
    o.add_argument(
        "--json",
        metavar="FILE",
        type=user_path,
        help="write every figure and per-image row as JSON (- : to stdout, the rest to "
        "stderr), and beside FILE (not with -) each image's row as CSV (FILE's name + "
        "_images.csv; a stack's pages end with page, t, t_s, z) and, where objects are scored, StarDist's matching table of each "
        "image (FILE's name + _matching.csv)",
    )
    o.add_argument(
        "--confusion",
        metavar="PNG",
        type=user_path,
        help="confusion-matrix plot (default with --json FILE: FILE's name + _confusion.png)",
    )
    o.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --json/--confusion files that unetlab did not write",
    )
    o.add_argument(
        "--worst",
        type=int,
        default=5,
        metavar="N",
        help="list the N worst images: lowest object F1 when objects are scored, else "
        "lowest mIoU (default: 5)",
    )


def _add_classes(c) -> None:
    """How masks and predictions become classes and objects: label values, names, the
    ignored value, the boundary class, object ids."""
    c.add_argument(
        "--label-values",
        type=int,
        nargs="+",
        metavar="V",
        help="with --pred: mask value of each class index, e.g. 0 255 (default: those "
        "the predictions' predict.json records for unetlab predict --label-values, else "
        "masks hold class indices); predictions of mask values are read back by them",
    )
    c.add_argument(
        "--class-names",
        nargs="+",
        metavar="NAME",
        help="with --pred: class names (default: the data set's class_names.txt, in the --gt "
        "folder or its parent, else the mask values)",
    )
    c.add_argument(
        "--ignore-value",
        type=int,
        metavar="V",
        help="mask value that counts nowhere (default with --checkpoint: the value its "
        "training ignored, e.g. VOC's 255 outlines; with --pred: 255 in palette masks, "
        "VOC's void outlines, unless --label-values are given)",
    )
    c.add_argument(
        "--boundary-class",
        type=int,
        metavar="K",
        help="class index that is background/membrane, not objects (default: the class "
        "named background, else membrane, else, of two classes, one named a boundary "
        "(boundary, edge, contour, outline, wall, border, grain boundary), else that of mask "
        "value 0, else 0; a checkpoint's own classes, with --pred those of --class-names (or "
        "the data set's class_names.txt) and --label-values; 0 with object ids); -1: every "
        "class forms objects",
    )
    c.add_argument(
        "--gt-instances",
        action="store_true",
        help="with --pred: masks hold object ids (0 = background; e.g. the cell "
        "tracking challenge's man_seg files), used as the true objects",
    )
    c.add_argument(
        "--pred-instances",
        action="store_true",
        help="with --pred: the <stem> prediction files hold object ids (0 = none), "
        "not class indices",
    )


def _add_reading(c) -> None:
    """How grey RGB masks beside a colour table are read (``data.grey_masks``), and HDF5
    files of several datasets (``data.h5_dataset``, ``data.h5_mask_dataset``)."""
    add_h5_dataset_arg(c)
    c.add_argument(
        "--h5-mask-dataset",
        metavar="NAME",
        help="the dataset read as the mask in each HDF5 file of several, by its path in the "
        "file (CREMI's volumes/labels/neuron_ids: a --data folder of such files, each its "
        "own mask; default: the checkpoint's data.h5_mask_dataset)",
    )
    c.add_argument(
        "--grey-masks",
        choices=("colours", "indices"),
        help="how a grey RGB mask (R = G = B) beside a colour table (class_colors.txt) is "
        "read: colours, through the table, or indices, as its grey values (data.grey_masks; "
        "default: the checkpoint's, else colours)",
    )


def _add_scores(c) -> None:
    """Which ISBI and object scores: --object-scores, --iou, --connectivity, --objects-3d,
    and the levels of :func:`_add_levels`."""
    c.add_argument(
        "--object-scores",
        action="store_true",
        help="compute the ISBI and object scores for more than two classes too (default: "
        "only for two classes or object ids; with more, the boundary class is taken as "
        "the boundary and each region of another class as an object)",
    )
    c.add_argument(
        "--iou",
        type=float,
        nargs="+",
        metavar="T",
        help="IoU thresholds of StarDist's matching table (objects match one to one at IoU "
        ">= T; per T: tp, fp, fn, precision, recall, accuracy = TP/(TP+FP+FN), the papers' "
        "AP, f1, mean matched IoU, panoptic quality): AP pooled over images printed, the table "
        "pooled in --json and per image in its _matching.csv (default: 0.1 0.2 .. 0.9)",
    )
    c.add_argument(
        "--connectivity",
        type=int,
        choices=[4, 8],
        default=4,
        help="neighbours that join pixels into one region: the regions the ISBI scores "
        "compare, the true objects of class masks (and of binary --gt-instances masks) and, "
        "with --pred, the predicted objects of class maps (with --checkpoint those are "
        "unetlab predict --instances' objects) (default: 4, as the ISBI challenge)",
    )
    c.add_argument(
        "--objects-3d",
        action="store_true",
        help="score objects in 3-D against z-stacks of object ids (ZYX, or TZYX: frame by "
        "frame): with --pred/--gt unetlab predict --instances --objects-3d's files, with "
        "--checkpoint/--data each stack's objects joined in 3-D as predict --objects-3d joins "
        "them; objects match in 3-D (IoU over voxels), one row per stack (per frame) "
        "(default: plane by plane)",
    )
    _add_levels(c)


def _add_voxel(c) -> None:
    """--pixel-size and --z-spacing: the voxel of --checkpoint's --objects-3d, as predict's."""
    c.add_argument(
        "--pixel-size",
        type=float,
        metavar="UM",
        help="with --checkpoint --objects-3d or --scale auto: the pixel size in µm of the "
        "images, in place of what their files record (or for files that record none), as "
        "unetlab predict takes it",
    )
    c.add_argument(
        "--z-spacing",
        type=float,
        metavar="UM",
        help="with --checkpoint --objects-3d: the step between a stack's planes in µm, in "
        "place of what its file records (or for one that records none): the voxels objects "
        "are joined in, as unetlab predict --objects-3d joins them (without it, or one in the "
        "file, planes are taken a pixel apart)",
    )


def _add_levels(c) -> None:
    """The cell probability's levels of a membrane model: --best-threshold, --watershed-seeds."""
    c.add_argument(
        "--best-threshold",
        action="store_true",
        help="with --checkpoint: also threshold the cell probability at 0.0, 0.1, .., "
        "1.0 and report the best ISBI figures (the challenge's practice)",
    )
    c.add_argument(
        "--watershed-seeds",
        type=float,
        metavar="P",
        help="with --checkpoint, for a two-class membrane model (EM): split the cells a "
        "membrane gap merges by a seeded watershed, seeds where the cell probability > P "
        "(e.g. 0.9), in the objects scored (as unetlab predict --instances) and, with "
        "--best-threshold, at each level",
    )


#: The flags of evaluate_model's and evaluate_predictions' arguments, for check_evaluation.
ARGUMENT_FLAGS = {
    "worst": "--worst",
    "ignore_value": "--ignore-value",
    "label_values": "--label-values",
    "seed_threshold": "--watershed-seeds",
    "thresholds": "--best-threshold",
}


def _check_mode(args) -> str:
    """``"model"`` (--checkpoint/--data) or ``"pred"`` (--pred/--gt), the values and the
    flags checked for it before any work (UnetlabError: one line naming the flag)."""
    _check_values(args)
    model_mode = args.checkpoint is not None or args.data is not None
    pred_mode = args.pred is not None or args.gt is not None
    if model_mode and pred_mode:
        raise UnetlabError("use either --checkpoint/--data or --pred/--gt, not both")
    if model_mode:
        _check_model_flags(args)
        return "model"
    if pred_mode:
        _check_pred_flags(args)
        return "pred"
    raise UnetlabError(
        "nothing to evaluate: give --checkpoint CKPT --data DIR or --pred DIR --gt DIR"
    )


def _check_values(args) -> None:
    """The flags' values, whatever the mode: out of range, one line naming the flag."""
    from unetlab.data.io import check_axes
    from unetlab.evaluate import check_evaluation
    from unetlab.metrics.isbi import CHALLENGE_THRESHOLDS
    from unetlab.metrics.matching import iou_thresholds

    check_pixels(tile_size=args.tile_size)
    check_axes(args.axes)  # one line before any file is read
    if args.confusion and (confusion := Path(args.confusion)).suffix.lower() != ".png":
        raise UnetlabError(  # PNG data was written under any name (s36 flags 9)
            f"--confusion {confusion}: the confusion matrix is written as a PNG image: name "
            f"the file .png (e.g. {confusion.with_suffix('.png')})"
        )
    report = Path(args.json) if args.json and args.json != STDOUT else None
    if report and report.suffix.lower() != ".json" and not report.exists():
        raise UnetlabError(  # JSON was written under a new e.csv (an existing one: the claim's)
            f"--json {report}: the report is written as JSON: name the file .json (e.g. "
            f"{report.with_suffix('.json')}), or - for stdout"
        )
    check_object_args(args, watershed_seeds=args.watershed_seeds)
    iou_thresholds(args.iou)  # refused before any work
    if args.scale is not None:  # a factor or auto: one line naming them otherwise
        from unetlab.inference.rescale import check_scale

        check_scale(args.scale)
    check_region_flags(args)
    check_evaluation(
        worst=args.worst,
        ignore_value=args.ignore_value,
        label_values=args.label_values,
        thresholds=CHALLENGE_THRESHOLDS if args.best_threshold else None,
        seed_threshold=_level_seeds(args),
        names=ARGUMENT_FLAGS,
    )


def _check_model_flags(args) -> None:
    """--checkpoint with --data, and none of --pred's flags."""
    from unetlab.checkpoint import refuse_empty_path

    if args.checkpoint is None or args.data is None:
        raise UnetlabError("--checkpoint and --data go together: give both")
    refuse_empty_path(args.checkpoint, "--checkpoint")  # before the data is read (s70)
    if args.label_values or args.class_names:
        raise UnetlabError(
            "--label-values/--class-names are for --pred; a checkpoint records its own"
        )
    _check_voxel_flags(args)
    if args.gt_instances or args.pred_instances:
        raise UnetlabError(
            "--gt-instances/--pred-instances are for --pred/--gt; with --checkpoint the "
            "model's mode decides (an instance-mode model reads object ids)"
        )


def _check_voxel_flags(args) -> None:
    """With --checkpoint: --objects-3d without --best-threshold nor the flags 3-D scoring
    does not read (--ignore-value, --connectivity 8, --boundary-class: refused before the
    checkpoint loads), --pixel-size and --z-spacing with --objects-3d alone."""
    if args.objects_3d:
        from unetlab.evaluate.predictions import check_volumes

        kept = dict(connectivity=_connectivity(args), boundary_class=_boundary(args))
        check_volumes(None, None, args.ignore_value, None, objects=None, **kept)
    if args.objects_3d and args.best_threshold:
        raise UnetlabError(
            "--best-threshold thresholds the cell probability plane by plane, and --objects-3d "
            "scores objects joined in 3-D: drop one of them"
        )
    auto = str(args.scale).strip().lower() == "auto"  # --pixel-size: its factor's
    sizes = ["--pixel-size"] * (args.pixel_size is not None and not auto)
    sizes += ["--z-spacing"] * (args.z_spacing is not None)
    if sizes and not args.objects_3d:
        raise UnetlabError(
            f"{sizes[0]} sizes the voxels --objects-3d joins objects in (or the images of "
            "--scale auto); scored plane by plane it changes nothing: add --objects-3d or "
            "drop it"
        )


def _one_label_value(value: int, ignore: int | None) -> str:
    """The refusal of ``--label-values value``, one class: the example names the background
    too, and a background that is the ``--ignore-value`` given a class instead (0/255 masks
    with --ignore-value 0 were told "e.g. --label-values 0 255", then that 0 "is also one of
    --label-values": review s64)."""
    pair = (0, value) if value != 0 else (0, 255 if ignore != 255 else 1)
    example = f"--label-values {pair[0]} {pair[1]}"
    if ignore in pair:
        example += f" without --ignore-value {ignore} (a value is a class or ignored)"
    return (
        f"--label-values {value} gives one value: give the mask value of each class in class "
        f"order, one per class, the background's too: e.g. {example}"
    )


def _check_pred_flags(args) -> None:
    """--pred with --gt, and none of the flags of a checkpoint's predictions."""
    if args.pred is None or args.gt is None:
        raise UnetlabError("--pred and --gt go together: give both")
    if args.best_threshold:
        raise UnetlabError("--best-threshold needs probabilities: use --checkpoint and --data")
    if args.label_values is not None and len(args.label_values) < 2:
        raise UnetlabError(_one_label_value(args.label_values[0], args.ignore_value))
    if args.axes is not None:
        raise UnetlabError(
            "--axes says how a checkpoint reads the images it predicts; with --pred give it "
            "to unetlab predict (its outputs record the axes it read): drop it"
        )
    if args.nodata is not None:
        raise UnetlabError(
            "--nodata says which pixels of the images a checkpoint predicts are no sample; "
            "with --pred give it to unetlab predict (its TIFF labels name their nodata, which "
            "--pred scores nowhere): "
            "drop it"
        )
    if given := _prediction_flags_given(args):
        raise UnetlabError(
            f"{given[0]} sets how a checkpoint predicts; with --pred the predictions are "
            "read from the files, so it would change nothing: drop it (or give it to "
            "unetlab predict)"
        )
    watershed = ["--watershed-seeds"] * (args.watershed_seeds is not None)
    if given := object_flags_given(args) + watershed:
        raise UnetlabError(
            f"{given[0]} sets how a checkpoint's probabilities become objects; with --pred "
            "the objects come from the files: drop it (or give it to unetlab predict "
            "--instances)"
        )


#: the prediction flags whose parser default is None, not their default value, so that a
#: typed one is told from an untyped one (``args`` name: the value an untyped one takes)
UNTYPED = {"blend": BLENDS[0], "precision": PRECISIONS[0], "tta": False, "device": "auto"}


def _prediction_flags_given(args) -> list[str]:
    """The flags of :func:`add_prediction_args` and --device typed on the command line,
    whatever their value (--blend mean, --device cpu): with --pred they were ignored without
    a word (s36 flags 9: --tta believed to change the score; s37: --tta, --blend or
    --precision at their default value, and --device, still were)."""
    names = ("tile_size", "batch_size", "blend", "tta", "precision", "channel", "device")
    names += ("pixel_size", "z_spacing")  # --objects-3d's voxel: predict's
    return [flag_of(name) for name in names if getattr(args, name) is not None]


def _typed_defaults(args):
    """``args`` with each untyped flag of :data:`UNTYPED` (None) at its default value."""
    untyped = {name: value for name, value in UNTYPED.items() if getattr(args, name) is None}
    return argparse.Namespace(**(vars(args) | untyped))


def _claim_outputs(args) -> list[Path]:
    """Claim the outputs once, before any work (:func:`unetlab.evaluate.report.claim_outputs`,
    as :meth:`Report.claim` from Python): refused where one would replace an input (the
    predictions' record too) or a foreign file, or be an image written among the data
    (:func:`unetlab.evaluate.report.data_folders_of`). The paths claimed, which the
    report's writers then take as they are."""
    from unetlab.evaluate.earlier import refuse_other_inputs
    from unetlab.evaluate.report import claim_outputs

    json_path = Path(args.json) if args.json and args.json != STDOUT else None
    confusion = args.confusion or (
        json_path.with_name(f"{json_path.stem}_confusion.png") if json_path else None
    )
    outputs = [json_path, confusion, _image_csv(json_path), _matching_csv(json_path)]
    if _scores_volumes(args):  # else claimed where written, if ever (not a PNG set's own)
        outputs.append(_cases_csv(json_path))
    earlier = [Path(p) for p in outputs if p and Path(p).is_file()]
    scored = _as_recorded(args) if earlier and not args.overwrite else {}
    for path in earlier:  # another report or picture there: refused before any claim
        refuse_other_inputs(path, scored, overwrite=args.overwrite)
    source = dict(checkpoint=args.checkpoint, data=args.data)
    source |= dict(predictions=args.pred, ground_truth=args.gt)
    return claim_outputs(
        [Path(p) for p in outputs if p],
        source,
        overwrite=args.overwrite,
        formats={json_path: "JSON"} if json_path else None,
    )


def _as_recorded(args) -> dict:
    """What this command scores as its report records it: a checkpoint (its sha256s, read
    without its weights: another model at the same path refused before scoring) and its
    data, or predictions and truths, by their absolute paths, and the checkpoints that
    made the predictions as their ``predict.json`` records them (those of all its files,
    a scoring reading some: predictions made again by another model refused before scoring,
    not after the table was printed: review D)."""
    from unetlab.checkpoint import file_source
    from unetlab.evaluate.earlier import scored_paths
    from unetlab.evaluate.predictions import predicted_by

    if args.checkpoint:
        found = file_source(args.checkpoint) if Path(args.checkpoint).exists() else {}
        return scored_paths(dict(checkpoint=args.checkpoint, data=args.data)) | found
    files = [f.name for f in Path(args.pred).iterdir()] if Path(args.pred).is_dir() else []
    made = predicted_by(args.pred, files)  # the records its files carry, no former one
    return scored_paths(dict(predictions=args.pred, ground_truth=args.gt)) | (
        {"predicted_by": made} if made else {}
    )


def _image_csv(json_path: Path | None) -> Path | None:
    """The per-image CSV beside ``--json FILE``: FILE's name + ``_images.csv``."""
    return json_path.with_name(f"{json_path.stem}_images.csv") if json_path else None


def _cases_csv(json_path: Path | None) -> Path | None:
    """The per-case CSV (NIfTI volumes) beside ``--json FILE``: FILE's name + ``_cases.csv``."""
    return json_path.with_name(f"{json_path.stem}_cases.csv") if json_path else None


def _scores_volumes(args) -> bool:
    """Whether evaluate's inputs (``--pred``, ``--gt``, ``--data``) are or hold NIfTI
    volumes, a data set's a folder down (``labelsTr/``), scored per case into
    ``FILE_cases.csv``: claimed before scoring only then (a PNG set's own ``e_cases.csv``
    beside ``--json e.json`` was refused, s72 review)."""
    return any(_holds_nifti(Path(p), depth=2) for p in (args.pred, args.gt, args.data) if p)


def _holds_nifti(path: Path, *, depth: int) -> bool:
    """Whether ``path`` is a NIfTI volume or a folder holding one ``depth`` levels down."""
    from unetlab.data.nifti import is_nifti

    if is_nifti(path):
        return True
    if depth == 0 or not path.is_dir():
        return False
    with os.scandir(path) as entries:
        found = [Path(e.path) for e in entries if is_nifti(e.name) or e.is_dir()]
    return any(_holds_nifti(p, depth=depth - 1) for p in found)


def _matching_csv(json_path: Path | None) -> Path | None:
    """The matching table CSV beside ``--json FILE``: FILE's name + ``_matching.csv``."""
    return json_path.with_name(f"{json_path.stem}_matching.csv") if json_path else None


def _object_options(args, model):
    """The object options of ``model`` with the object flags, as unetlab predict --instances
    finds its objects (--watershed-seeds: a semantic model's; an instance model's
    --best-threshold levels only, and refused without them, as predict refuses it)."""
    from unetlab.inference.objects import ObjectOptions

    if ObjectOptions.for_model(model).mode == "instances" and args.best_threshold:
        return object_options(args, model)
    return object_options(args, model, watershed_seeds=args.watershed_seeds)


def _level_seeds(args) -> float | None:
    """The watershed seeds of the --best-threshold levels (None without the levels: then
    --watershed-seeds is the objects' alone)."""
    return args.watershed_seeds if args.best_threshold else None


def run(args) -> int:
    from unetlab.data.grey_masks import grey_masks_read_as
    from unetlab.data.totalseg import structures_listed_once
    from unetlab.evaluate.earlier import records_read_once
    from unetlab.evaluate.predictions import predictions_read_once
    from unetlab.inference.every_file import headers_read_once
    from unetlab.signals import stop_line_said

    # every mask read; over the checkpoint's. An earlier report read once (s59: 3 times),
    # the predictions' records and manifest once for the check and the scoring (s60); its
    # stop line the command's alone (evaluate_model says none); each case's structures
    # listed once (s75: 3 times a case); each file's header read once for the pairs' look
    # and the scoring (s75 review: 200 CREMI files opened 10 times)
    with (
        structures_listed_once(),
        grey_masks_read_as(args.grey_masks),
        h5_datasets_read(args),
        headers_read_once(),
        records_read_once(),
        predictions_read_once(),
        stop_line_said(),
    ):
        return _run(args)


def _run(args) -> int:
    if args.json != STDOUT:
        _evaluate(args)
        return 0
    # --json -: the JSON alone on stdout (for jq), all else on stderr
    with contextlib.redirect_stdout(sys.stderr):
        report = _evaluate(args)
    sys.stdout.write(report.json_text())
    return 0


def _model_pairs(args) -> list:
    """The pairs ``--data`` holds, their TIFFs read with ``--axes``, else those the
    checkpoint trained with (a grey TIFF refused for a model of channels on a C axis, as
    predict refuses it); a folder of images without masks is pointed to predict."""
    from unetlab.checkpoint import parts_inputs
    from unetlab.evaluate import evaluation_pairs
    from unetlab.evaluate.masks import DATA_DIR, predict_instead

    trained, channels = (
        parts_inputs(given_checkpoint_parts(args)) if args.axes is None else (None, 1)
    )
    try:
        found = dict(trained=trained is not None, channels=channels, flag=DATA_DIR)
        return evaluation_pairs(args.data, args.axes or trained, **found)
    except DatasetError as exc:
        raise predict_instead(exc, args.data, args.checkpoint) from None


def _evaluate(args):
    """Score, print the table and write the --json and --confusion files; the report."""
    from unetlab.evaluate.earlier import refuse_earlier_report

    mode = _check_mode(args)
    say_nanometre_slips(args)
    pairs = _model_pairs(args) if mode == "model" else []
    claimed = _claim_outputs(args)
    report = _run_model(args, pairs) if mode == "model" else _run_pred(args)
    report.claimed.update(claimed)  # its writers claim them no more
    _claim_cases_found(args, report)
    print(report.table(objects_option="--object-scores", every_row="--json"))
    confusion = args.confusion
    if args.json and args.json != STDOUT:
        note = refuse_earlier_report(Path(args.json), report.to_dict(), overwrite=args.overwrite)
        path = report.write_json(args.json, overwrite=args.overwrite)
        print(f"JSON: {path}{note}")
        print(f"per-image CSV: {report.write_csv(_image_csv(path), overwrite=args.overwrite)}")
        if report.cases:
            cases = report.write_cases_csv(_cases_csv(path), overwrite=args.overwrite)
            print(f"per-case CSV (each volume whole): {cases}")
        else:
            _drop_stale(_cases_csv(path), "per-case CSV", "scores no volumes")
        if report.pair_ious:
            matching = report.write_matching_csv(_matching_csv(path), overwrite=args.overwrite)
            print(f"matching table CSV: {matching}")
        else:
            _drop_stale(_matching_csv(path), "matching table CSV", "matches no objects")
        if confusion is None:
            confusion = path.with_name(f"{path.stem}_confusion.png")
    if confusion:
        note = refuse_earlier_report(Path(confusion), report.source, overwrite=args.overwrite)
        picture = report.plot_confusion(Path(confusion), overwrite=args.overwrite)
        print(f"confusion matrix: {picture}{note}")
    return report


def _claim_cases_found(args, report) -> None:
    """The per-case CSV of cases found in scoring that :func:`_scores_volumes` did not
    foresee (a TIFF z-stack's, known by its pages' metadata) claimed before any file is
    written: the user's own ``e_cases.csv`` was refused only after ``e.json`` and
    ``e_images.csv`` were written (s75; NIfTI's is refused before scoring)."""
    path = _cases_csv(Path(args.json)) if args.json and args.json != STDOUT else None
    if report.cases and path is not None and path not in report.claimed:
        report.claimed.add(report.claim(path, overwrite=args.overwrite))


def _drop_stale(path: Path, what: str, why: str) -> None:
    """Remove evaluate's own CSV ``path`` (``_matching.csv``, ``_cases.csv``) of an earlier
    report beside ``--json`` where this report has none (it ``why``, said): it stayed beside
    the new JSON and per-image CSV, which the line said replaced the earlier report 'with its
    CSVs' (another file there is kept)."""
    from unetlab.manifest import forget, writers_of

    if not path.is_file() or "evaluate" not in writers_of(path.parent).get(path.name, ()):
        return
    path.unlink()
    forget(path.parent, [path.name], "evaluate")
    print(f"{what}: removed {path}, an earlier report's (this one {why})")


def _boundary(args) -> int | None | str:
    """--boundary-class (-1: None); by default ``"auto"``, the background of the classes
    (:func:`unetlab.data.weightmap.background_class`)."""
    if args.boundary_class is None:
        return "auto"
    return None if args.boundary_class < 0 else args.boundary_class


def _connectivity(args) -> int:
    return 1 if args.connectivity == 4 else 2


def _run_model(args, pairs):
    """The report of --checkpoint on ``pairs`` (those of --data), and what the checkpoint
    changes in its predictions (label offset, TTA, object options) said
    (:func:`_say_changes`)."""
    from unetlab.checkpoint import load_model, net_as_loaded
    from unetlab.evaluate import check_objects_scored, evaluate_model
    from unetlab.metrics.isbi import CHALLENGE_THRESHOLDS
    from unetlab.runtime import CLI_DEVICE_FIX, resolve_device

    args = _typed_defaults(args)
    device = resolve_device(args.device, CLI_DEVICE_FIX)
    model = load_model(args.checkpoint, device=device)
    warn_unfinished(model)
    objects = _object_options(args, model)
    if given := object_flags_given(args):  # as predict refuses them without --instances
        check_objects_scored(model, args.object_scores or None, given[0], "add --object-scores")
    with net_as_loaded(args.checkpoint):  # loaded just now, unchanged: its file names it
        report = evaluate_model(
            model,
            args.data,
            with_scale(
                with_nodata(with_exclude_rows(predict_options(args, device), args), args), args
            ),
            boundary_class=_boundary(args),
            thresholds=CHALLENGE_THRESHOLDS if args.best_threshold else None,
            seed_threshold=_level_seeds(args),
            ignore_value=args.ignore_value,
            connectivity=_connectivity(args),
            objects=args.object_scores or None,
            worst=args.worst,
            iou_thresholds=args.iou,
            pairs=pairs,
            progress=_progress(args),
            # None where no flag changes them: the same, the checkpoint's (refused where unused)
            object_options=objects if given or args.watershed_seeds is not None else None,
            objects_3d=args.objects_3d,
            pixel_size=args.pixel_size,
            z_spacing=args.z_spacing,
            axes=args.axes,
        )
    _say_changes(args, model, objects, scored="object_f1" in report.summary)
    return report


def _say_changes(args, model, objects, *, scored: bool) -> None:
    """Say what the checkpoint ``model`` changed in its predictions: its label offset, the
    TTA asked for, and where its objects were ``scored``, how they were found (``objects``:
    the object options)."""
    from unetlab.inference.offset import describe_offset, label_offset

    if any(offset := label_offset(model)):
        print(f"predictions moved by the checkpoint's label offset: {describe_offset(offset)}")
    if args.tta:
        from unetlab.inference.tta import describe_tta

        print(describe_tta(model, args.tta))
    if scored:
        print(objects_line(objects, bool(model.objects), args.scale, **model_classes(model)))
        for line in background_hint(objects, model.objects):  # s67: a grain's boundaries
            print(line)


def _progress(args):
    """The images' bar where a person watches and --no-progress is not given (True, as
    predict draws its files' bar), else each image named in the debug log as it is scored
    (audit s41: evaluate had no --no-progress, and no bar over a long --data)."""
    from unetlab import progress

    if not args.no_progress and progress.shown(True):
        return True
    return lambda name: log.debug("evaluated %s", name)


def _run_pred(args):
    """The report of --pred against --gt (a mask-value refusal names this command's flags:
    :func:`unetlab.cli.main` prints an error's ``cli`` spelling)."""
    from unetlab.evaluate import evaluate_predictions

    return evaluate_predictions(
        args.pred,
        args.gt,
        label_values=args.label_values,
        class_names=args.class_names,
        boundary_class=_boundary(args),
        ignore_value=args.ignore_value,
        connectivity=_connectivity(args),
        gt_instances=args.gt_instances,
        pred_instances=args.pred_instances,
        objects=args.object_scores or None,
        worst=args.worst,
        exclude_rows=args.exclude_rows,
        objects_3d=args.objects_3d,
        iou_thresholds=args.iou,
        progress=_progress(args),
    )
