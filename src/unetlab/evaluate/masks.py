"""Reading what an evaluation compares: the data folder's pairs, ground-truth masks page by
page (encoded as class indices or object ids), the class names a data set gives, and saved
predictions (class maps and object ids) matched to the mask pages."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
from collections.abc import (
    Callable,
    Collection,
    Container,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from unetlab import words
from unetlab.data.checks import non_integer_mask
from unetlab.data.classes import (
    NAMES_FILE,
    VOC_VOID,
    class_names_from,
    dataset_palette,
    masks_root,
)
from unetlab.data.coco import given_coco
from unetlab.data.colour_table import ColourTable, find_colour_table
from unetlab.data.ctc import SCORING, ctc_part, sequence_words, slice_of
from unetlab.data.ctc_partial import warn_partial_truth
from unetlab.data.dicom import off_grid_line
from unetlab.data.dsb import dsb_samples
from unetlab.data.fingerprint import LOSSY_SUFFIXES, binary_foreground, jpeg_mask
from unetlab.data.folder_notes import near_line
from unetlab.data.instances import ignore_keyword, instance_ids, is_binary_mask
from unetlab.data.io import (
    IMAGE_SUFFIXES,
    ChannelsMaskError,
    ColourMaskError,
    file_axes,
    find_images,
    mask_stem,
    outlined_image,
    outlined_mask,
    read_stack,
    refuse_untiffed_axes,
    stack_shape,
)
from unetlab.data.labels import IGNORE_INDEX, UNKNOWN, ValueFix, encode_mask, value_indices
from unetlab.data.names import ANNOTATION_SUFFIXES, mask_shown, sub_folder
from unetlab.data.nifti import is_nifti
from unetlab.data.nodata import file_nodata, png_nodata
from unetlab.data.pairs import (
    MASK_FILE_SUFFIXES,
    Pair,
    PairReader,
    data_set_above,
    detect_layout,
    find_pairs,
    layout_folders,
    near_misses,
    nfc,
    no_data_folder,
    refuse_data_set_part,
    refuse_truth,
)
from unetlab.data.read_notes import note_once
from unetlab.data.split_record import describe_names
from unetlab.data.tiff_files import is_tiff_name, open_tiff
from unetlab.data.tiffmeta import planes_letters, read_page_axes, series_axes
from unetlab.data.totalseg import case_of, case_output_stem, case_outputs
from unetlab.errors import (
    DatasetError,
    ImageReadError,
    OutputError,
    Spelled,
    UnetlabError,
    said_as,
    spelled,
    worded,
)
from unetlab.evaluate.checks import MADE_OBJECTS, NO_CLASS_FROM, MaskValuesError, tag_name
from unetlab.evaluate.report import PREDICTED_VALUES
from unetlab.outputs import RECORD_FILES
from unetlab.provenance import shell_command

log = logging.getLogger(__name__)

#: the ground truth's folder and the data set scored with a model, as ``evaluate_predictions``
#: and ``evaluate_model`` name them, and as ``unetlab evaluate`` does
PRED_DIR, GT_DIR = Spelled("pred_dir", "--pred"), Spelled("gt_dir", "--gt")
DATA_DIR = Spelled("data_dir", "--data")
#: the folder :func:`evaluation_pairs` and :func:`data_root` are given, as a direct Python
#: call names it (their default ``flag``: told "give --data", a flag it has not, s58) and as
#: the command line does (``--data``)
PAIRS_PATH = Spelled("evaluation_pairs' path", "--data")
ROOT_PATH = Spelled("data_root's path", "--data")


def _has_data(folder: Path) -> bool:
    try:
        detect_layout(folder)
    except DatasetError:
        return False
    return True


def evaluation_pairs(
    path: str | os.PathLike,
    axes: str | None = None,
    *,
    trained: bool = False,
    channels: int = 1,
    flag: str | Spelled = PAIRS_PATH,
) -> list[Pair]:
    """The pairs ``evaluate --data`` scores: those of ``path/val`` when it holds a data set
    (a train/ + val/ folder), the VOC ``val.txt`` images of a VOC folder that has one, else
    all of ``path``; ``axes``: the TIFF images' axes as given (``--axes``), and their masks'
    (:func:`~unetlab.data.pairs.mask_axes`); ``trained``: the checkpoint's, not given (taken by
    the TIFFs they fit; a set without a TIFF read as it is, not refused; one of other axes
    and no channels a problem for a model of ``channels`` > 1 whose axes have C, as predict
    refuses it: :func:`~unetlab.data.io.refuse_channelless`); ``flag``: the setting that gave
    ``path``, named in the lines that say to give another folder (:data:`DATA_DIR`)."""
    root = data_root(path, flag)
    split = root / "ImageSets" / "Segmentation"
    names = None
    if detect_layout(root, flag) == "voc" and (split / "val.txt").is_file():
        names = _split_names(split / "val.txt")
    whole = names is None and root == Path(path)  # not a split of a set that trains on more
    found = dict(axes=axes, trained=trained, channels=channels, refuse_untiffed=whole, flag=flag)
    pairs = find_pairs(root, names=names, **found)
    if not whole and axes is not None and not any(file_axes(p.image, axes) for p in pairs):
        train = _train_images(Path(path), root, split / "train.txt", voc=names is not None)
        refuse_untiffed_axes(path, [*(p.image for p in pairs), *train], axes)
    warn_partial_truth(pairs, use=SCORING)  # as --gt does (s69 re-review: unsaid here)
    return pairs


def _split_names(path: Path) -> list[str]:
    """The image names a VOC split file lists, one a line."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _train_images(path: Path, root: Path, listed: Path, *, voc: bool) -> list[Path]:
    """The training images of the data set ``path`` whose validation part ``root`` is (its
    ``train/``, or the VOC folder's ``listed`` names): a val/ of PNGs takes ``--axes`` as
    train does, read as they are, where these hold a TIFF (:func:`evaluation_pairs`)."""
    try:
        if voc:
            names = _split_names(listed) if listed.is_file() else []
            found = find_pairs(root, names=names, problems=[], refuse_untiffed=False)
        else:
            train = sub_folder(path, "train")
            found = find_pairs(train, problems=[], refuse_untiffed=False) if train.is_dir() else []
    except DatasetError:  # none there: the val/ pairs alone say
        return []
    return [p.image for p in found]


def predict_instead(error: DatasetError, path: str | os.PathLike, checkpoint) -> DatasetError:
    """``error`` (no data set found in ``path``) with the ``unetlab predict`` command added
    where ``path`` (or its images/ folder) holds images: evaluate scores against masks, predict
    segments images that have none (audit s41 training); else ``error`` itself."""
    path = Path(path)
    if not (str(error).startswith(f"{path}: no data set found") and path.is_dir()):
        return error
    images = [d for d in sorted(path.iterdir()) if d.is_dir() and d.name.casefold() == "images"]
    held = next((folder for folder in (path, *images) if find_images(folder)), None)
    if held is None:
        return error
    flags = ("--checkpoint", checkpoint, "--input", held, "--output", "OUT_DIR")
    command = shell_command("unetlab", "predict", *flags)
    return DatasetError(f"{error}; images without masks are segmented, not scored: {command}")


def data_root(path: str | os.PathLike, flag: str | Spelled = ROOT_PATH) -> Path:
    """``path/val`` when it holds a data set (images/ + masks/, ISBI or VOC), else ``path``;
    ``flag``: the option that gave it, named in the error for a file (an archive: unpack it).
    A DatasetError where ``path/test`` holds one too, naming both (audit s39 roads: ROOT with
    train/, val/ and test/ scored the validation images, and left test/ out without a word;
    as :func:`~unetlab.data.pairs.detect_layout` refuses train/ beside test/)."""
    path = Path(path)
    if path.is_file():
        raise no_data_folder(path, flag)
    if not path.is_dir():
        raise DatasetError(f"{path}: no such folder{near_line(path)}")
    val, test = sub_folder(path, "val"), sub_folder(path, "test")  # Val/, testing/ too
    if not (val.is_dir() and _has_data(val)):
        return path
    if test.is_dir() and _has_data(test):
        said = f"{path} holds {val.name}/ and {test.name}/: give "
        raise DatasetError(
            **spelled(
                lambda f: (
                    f"{said}{f} {test} to score the held-out images, or {f} {val} for the "
                    "validation images"
                ),
                flag,
            )
        )
    return val


#: how :func:`encode` says to read masks that are no class indices, as
#: ``evaluate_predictions`` and ``unetlab evaluate --pred`` spell it
LABELS_FIX = Spelled(
    "pass the label values (e.g. label_values=[0, 255]), or gt_instances=True if they are "
    "object ids",
    "pass the label values (e.g. --label-values 0 255), or --gt-instances if they are object ids",
)


def _evaluate_values(values: list) -> Spelled:
    return Spelled(f"label_values={values!r}", f"--label-values {words.spaced(values)}")


def _evaluate_ignored(value) -> Spelled:
    return Spelled(f"ignore_value={value!r}", f"--ignore-value {value}")


def _evaluate_listed(values: list) -> Spelled:
    return Spelled(str(values), words.spaced(values))


#: :func:`encode_mask`'s fix as evaluate's callers set it (``evaluate_predictions``'
#: keywords, ``unetlab evaluate``'s flags): it named --set and cfg.data, which it has not
#: (s58); the values it lists as each types them (``0 255`` on the command line, s65)
EVALUATE_FIX = ValueFix(_evaluate_values, _evaluate_ignored, listed=_evaluate_listed)
#: a model's evaluation: its label values are the model's, its ignore value evaluate's
MODEL_FIX = ValueFix(None, _evaluate_ignored, listed=_evaluate_listed)


def encode(
    mask: np.ndarray,
    label_values,
    ignore_value,
    name: str,
    fix: str | Spelled = LABELS_FIX,
    values_fix: ValueFix = EVALUATE_FIX,
) -> np.ndarray:
    """``mask`` as class indices: by ``label_values``, else as it is (``ignore_value``'s
    pixels :data:`IGNORE_INDEX`); values that cannot be class indices refused in one line
    ending in ``fix`` (:data:`LABELS_FIX`; a model's evaluation has neither setting), values
    that are no class's in ``values_fix``'s settings."""
    if label_values is not None:
        values = list(label_values)
        return encode_mask(mask, values, ignore_value=ignore_value, name=name, fix=values_fix)
    mask = np.asarray(mask)
    out = mask.astype(np.int64)
    counted = np.ones(mask.shape, bool) if ignore_value is None else mask != ignore_value
    out[~counted] = IGNORE_INDEX
    # a -1 of the mask's own (not its ignore value) was IGNORE_INDEX: left out unsaid, and
    # evaluate's line called it "the masks' ignore value" (s51 walkbad)
    scored = out[counted]
    if scored.size and (scored.min() < 0 or scored.max() > 4096):
        raise DatasetError(**_not_indices(name, int(scored.min()), int(scored.max()), fix))
    return out


#: the settings evaluate's lines name, as the caller gives them (:func:`said_as`,
#: :func:`spelled`: a notebook was told "--label-values (label_values=)", flag and keyword
#: at once, s55 review)
GT_INSTANCES = Spelled("gt_instances=True", "--gt-instances")
IGNORE_VALUE = Spelled("ignore_value=", "--ignore-value")
CLASS_NAMES = Spelled("class_names=", "--class-names")
#: how saved object ids are given (a class map of fractions, 3-D refusals, class indices
#: beyond the classes: each caller its form, s55/s56)
PRED_INSTANCES = Spelled("pred_instances=True", "--pred-instances")


def _not_indices(name: str, low: int, high: int, fix: str | Spelled) -> dict:
    """The keywords of the refusal of mask values ``low..high`` as class indices, with the
    ignore value to give first where ``low`` is negative (it marks pixels left unlabelled)."""
    said = f"{name}: mask values {low}..{high} are not class indices; "
    fixes = fix if isinstance(fix, Spelled) else Spelled(fix, fix)
    if low >= 0:
        return spelled(lambda f: said + f, fixes)
    also = "{} if {} marks pixels that count nowhere; else {}"
    return {
        "message": said + also.format(ignore_keyword(low).python, low, fixes.python),
        "cli": said + also.format(ignore_keyword(low).cli, low, fixes.cli),
    }


def instance_mask(
    mask: np.ndarray, ignore_value, name: str, connectivity: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Object ids (H, W) -> (class indices: 0 background, 1 object, IGNORE_INDEX; the ids).

    A binary mask's objects are its ``connectivity``-connected components
    (:func:`unetlab.data.instances.instance_ids`, which also refuses fractional or negative ids).
    """
    mask = np.asarray(mask)
    ignored = mask == ignore_value if ignore_value is not None else np.zeros(mask.shape, bool)
    kept = np.where(ignored, 0, mask)
    how = dict(name=name, connectivity=connectivity, ignore_setting=ignore_keyword)
    ids = instance_ids(kept, **how).astype(np.int64)
    return np.where(ignored, IGNORE_INDEX, ids > 0).astype(np.int64), ids


def binary_truth(mask: np.ndarray, ignore_value) -> bool:
    """Whether ``mask``, its ``ignore_value`` left out, is binary (:func:`instance_mask` then
    reads its connected components as the true objects: touching ones as one)."""
    mask = np.asarray(mask)
    return is_binary_mask(mask if ignore_value is None else np.where(mask == ignore_value, 0, mask))


class MaskPage(NamedTuple):
    """One page of a ground-truth mask file: its name in the report, the stem its prediction
    has (in NFC: :func:`~unetlab.data.pairs.nfc`), the page index, the mask's label values,
    the file and how many pages it has, and its image file where known (a data folder's, or
    the one of the same stem in images/ beside a masks/ folder); ``sliced``: the file is the
    mask of the one slice ``page`` of a 3-D frame of ``pages`` (``man_seg_TTT_ZZZ.tif``)."""

    name: str
    stem: str
    page: int
    mask: np.ndarray
    path: Path
    pages: int
    image: Path | None = None
    sliced: bool = False

    @property
    def where(self) -> str:
        """The mask file, and the page of a stack: where a refusal of its values points (its
        report ``name`` is a stem, which named no file: s52 badinput)."""
        shown = mask_shown(self.path)  # a COCO file's: ``the file (file_name)``
        return shown if self.pages == 1 or self.sliced else f"{shown} page {self.page}"

    @property
    def case(self) -> str | None:
        """The NIfTI case (``spleen_2``) whose volume the page is a slice of, scored whole
        too (:mod:`unetlab.evaluate.cases`), a TotalSegmentator case's folder (``s0001``:
        :func:`~unetlab.data.totalseg.case_of`; s75: ``--pred`` gave it no case row); None
        for other masks."""
        if is_nifti(self.path):
            return self.stem
        return None if self.image is None else case_of(self.image, self.path)

    @property
    def files(self) -> tuple[Path, Path | None]:
        """The mask file and its image where known: where a volume's voxel size is read."""
        return self.path, self.image

    @property
    def opens(self) -> bool:
        """Whether this page is the first of its file: one of one, a stack's first."""
        return self.page == 0 or self.sliced


class GroundTruth(NamedTuple):
    """The mask files of a data folder or a folder of masks, an iterator of their pages
    (:class:`MaskPage`) and the stems of those pages (a data folder's: its images')."""

    files: list[Path]
    pages: Iterator[MaskPage]
    stems: list[str]


def ground_truth(
    gt_dir: Path,
    size_of: Callable[[str], Path | None] | None = None,
    colours: Callable[[], ColourTable | None] | None = None,
    *,
    predicted: Mapping[str, Collection[Path]] | None = None,
) -> GroundTruth:
    """The mask files of a data folder or a folder of masks, an iterator of their pages
    (:class:`MaskPage`) and their stems; each mask file is read once. Masks drawn as outlines
    (Fiji's RoiSet.zip, QuPath's .geojson) in a folder of masks take the size of their image where
    one is found (:func:`~unetlab.data.io.outlined_image`), else of the file ``size_of``
    gives for their stem (the prediction scored against them). Colour (RGB) masks without a
    colour table beside them are read in ``colours()`` (the predictions' colours), called
    at the first mask read. ``predicted``: each prediction's stem -> the folders of its
    inputs (:meth:`Written.input_folders`), where the ground truth is a sequence of the Cell
    Tracking Challenge's layout (:func:`_one_sequence`)."""
    coco = given_coco(Path(gt_dir))  # a COCO file given: its images' masks (s72)
    root = Path(gt_dir) if coco else _one_sequence(data_root(gt_dir, GT_DIR), predicted)
    colours = colours or (lambda: None)
    if coco or _has_data(root):
        pairs = find_pairs(root, flag=GT_DIR)
        warn_partial_truth(pairs, use=SCORING)  # a sequence's frames annotating some cells
        stems = [_pair_stem(p) for p in pairs]
        return GroundTruth([p.mask for p in pairs], _pair_masks(pairs, colours), stems)
    files = find_images(root, MASK_FILE_SUFFIXES, cases=False)
    if not files:
        dsb_samples(root)  # a DSB folder but for a sub-folder (notes/): that one named
        if any(d.is_dir() and _has_data(d) for d in root.iterdir()):
            detect_layout(root, GT_DIR)  # train/ + test/: refused naming the one to give
        near = "".join(f" ({line})" for line in near_misses(root, SCORING))
        raise DatasetError(
            f"{gt_dir}: no masks found{near}; give a folder of masks or a data folder with masks/"
        )
    return GroundTruth(files, _file_masks(files, size_of, colours), list(map(mask_stem, files)))


def _one_sequence(root: Path, predicted: Mapping[str, Collection[Path]] | None) -> Path:
    """``root`` as evaluate reads the ground truth of the Cell Tracking Challenge's layout
    (:mod:`unetlab.data.ctc`): a sequence's gold truth (``02_GT/SEG/``) as the sequence
    ``02/``, whose man_segNNN pair with the predictions of tNNN (as a folder of masks they
    were named man_segNNN, paired with no prediction); its other truth (TRA's markers, the
    silver truth), a folder of several sequences, whose frames share names, and a sequence
    the predictions were not made from (``predicted``: the folders of their inputs, by their
    predict.json; 01's predictions were scored against 02's truth, s69 review) refused
    naming the sequence to give."""
    part = ctc_part(root)
    if part is not None and part.gold:
        root = part.sequence
    else:
        said = "whose man_segNNN.tif are scored against the predictions of tNNN.tif"
        refuse_truth(part, GT_DIR, said, sequence=True)
    if (words := sequence_words(root, predicted or {})) is not None:
        raise DatasetError(**spelled(words, GT_DIR))
    return root


def named_in(path: Path, folder: str | os.PathLike | None) -> str:
    """How evaluate's lines name the file ``path``, as predict's do
    (:mod:`unetlab.data.shown`): a file of the one ``folder`` given by its name, any other
    (a data folder's masks/ and images/, its val/) by its path as given."""
    return path.name if folder is not None and path.parent == Path(folder) else str(path)


def refuse_image_folders(pred_dir, gt_dir) -> None:
    """A data set's images/ folder given as the predictions (its images were scored as class
    maps, exit 0: s36 flags 3; a folder predict wrote, its ``predict.json``, is predictions
    wherever it is) or as the ground truth (its images read as masks):
    :func:`~unetlab.data.pairs.refuse_data_set_part`'s one line, naming the argument as
    ``evaluate_predictions`` and as the command spell it (s48: Python was told --pred and
    --gt). Checked once, where evaluate_predictions (or evaluate_volumes, which its 3-D
    objects are scored by) begins."""
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    if not (pred_dir / RECORD_FILES["predict"]).is_file():
        refuse_data_set_part(pred_dir, PRED_DIR, "predictions")
    refuse_data_set_part(gt_dir, GT_DIR, "masks")


def _pair_stem(pair: Pair) -> str:
    """The stem the prediction of ``pair``'s mask is named by: its image's (``x.nii.gz``:
    ``x``), a TotalSegmentator case's folder (``s0001``: every case's CT is ``ct.nii.gz``,
    whose prediction was scored against every case, s74 review)."""
    return nfc(pair.case) if pair.case else mask_stem(pair.image)


def _pair_masks(
    pairs: Sequence[Pair], colours: Callable[[], ColourTable | None]
) -> Iterator[MaskPage]:
    read = None
    for pair in pairs:
        read = read or PairReader(colours=colours())  # a stack's masks read once
        masks = read.stack(pair.mask, mask=True, axes=pair.axes)
        stem = _pair_stem(pair)
        sliced = pair.mask_at is not None  # the frame's pages, its mask a page alone
        pages = pair.pages if sliced else len(masks)
        page = masks[pair.mask_index]
        yield MaskPage(pair.name, stem, pair.page, page, pair.mask, pages, pair.image, sliced)


def _file_masks(
    files: Sequence[Path],
    size_of: Callable[[str], Path | None] | None = None,
    colours: Callable[[], ColourTable | None] = lambda: None,
) -> Iterator[MaskPage]:
    images = _images_beside(files)
    labels = any(f.suffix.lower() not in ANNOTATION_SUFFIXES for f in files)
    for path in files:
        if (pages := _read_mask(path, size_of, archive=labels, colours=colours)) is None:
            continue
        stem = mask_stem(path)  # X.tif.geojson: X's
        for i, mask in enumerate(pages):
            name = stem if len(pages) == 1 else f"{stem}[{i}]"
            yield MaskPage(name, stem, i, mask, path, len(pages), images.get(stem))


def _read_mask(
    path: Path,
    size_of: Callable[[str], Path | None] | None,
    *,
    archive: bool = False,
    colours: Callable[[], ColourTable | None] = lambda: None,
) -> np.ndarray | None:
    """The pages of the mask file ``path``; one drawn as outlines of the size of its image,
    else of ``size_of``'s file for its stem (:func:`ground_truth`); else a DatasetError
    naming the fixes, or, for a .zip among label images (``archive``: an archive kept
    beside the masks, Fiji's default RoiSet.zip), None: passed over in one line, as
    training passes it over (:func:`unetlab.data.pairs.find_pairs`)."""
    if path.suffix.lower() not in ANNOTATION_SUFFIXES:
        return read_stack(path, mask=True, colours=colours())
    try:
        image = outlined_image(path)
    except ImageReadError as exc:
        image = size_of(mask_stem(path)) if size_of is not None else None
        if image is None and archive and path.suffix.lower() == ".zip":
            note_once(
                f"{path}: no image or prediction of that name: passed over (a RoiSet.zip "
                "is the mask of the image of its name)"
            )
            return None
        if image is None:
            said = (
                f"{path}: outlines (ImageJ ROIs, GeoJSON) carry no image size, and no "
                f"prediction of {mask_stem(path)} gives it (an image, or outlines predict wrote "
                "from an input still there): "
            )
            raise DatasetError(**spelled(lambda f: said + _size_fix(path, f), GT_DIR)) from exc
    return outlined_mask(path, image)


def _size_fix(outlines: Path, flag: str) -> str:
    """How to give the ground truth ``outlines`` their image's size: its image beside it,
    or the data folder (as ``flag``, the setting that gave the ground truth)."""
    return (
        f"put its image beside it ({outlines.parent / mask_stem(outlines)}.tif, or any image "
        f"format of that name), or give {flag} the data folder (its images/ beside masks/)"
    )


def predicted_from(path: Path) -> Path | None:
    """The input image that the prediction ``path`` was made from, as its folder's manifest
    names it (the size of predict's outlines, which carry none), where it is still there;
    None for another tool's file, or an input gone."""
    from unetlab.manifest import made_from

    try:
        source = made_from(path.parent, "predict").get(path.name)
    except OutputError:  # a manifest that cannot be read names no input
        return None
    return Path(source) if source and Path(source).is_file() else None


def checked_masks(
    masks: Iterable[MaskPage], ignore_value, *, label_values, instances: bool
) -> Iterator[MaskPage]:
    """``masks``, each page refused (DatasetError naming the file and the fix) as training
    refuses it: a JPEG file (lossy), values that are not whole numbers (a resampled or averaged mask, whose
    fractions a cast would read as class 0) and, for class masks read without
    ``label_values``, binary masks whose foreground value differs between files (a boolean
    or 0/1 mask beside 0/255 ones, whose 1 would be a class of its own; s36 flags 1)."""
    first: dict[int, Path] = {}  # foreground value of binary masks -> the first file of it
    for page in masks:
        problem = jpeg_mask(page.path) or non_integer_mask(str(page.path), page.mask)
        if problem is not None:  # a JPEG's edges: values between the classes (audit s41)
            raise DatasetError(problem)
        if not instances and label_values is None:
            _one_encoding(page, ignore_value, first)
        yield page


def _one_encoding(page: MaskPage, ignore_value, first: dict[int, Path]) -> None:
    """Note the foreground value of the binary mask ``page`` (training's rule,
    :func:`~unetlab.data.fingerprint.binary_foreground`; ``ignore_value`` as 0) in
    ``first``; DatasetError when another file's is another."""
    mask = np.asarray(page.mask)
    if ignore_value is not None:
        mask = np.where(mask == ignore_value, 0, mask)
    top = mask.max(initial=0)  # its values are 0 and top, or more (a tenth of np.unique's time)
    if np.count_nonzero((mask != 0) & (mask != top)) or binary_foreground([top]) is None:
        return
    top = int(top)
    first.setdefault(top, page.path)
    if len(first) > 1:
        other = next(v for v in first if v != top)
        raise DatasetError(
            f"masks mix encodings: {first[other]} holds 0/{other} but {page.path} 0/{top} (a "
            f"boolean or 0/1 mask among 0/{max(other, top)} ones?): re-save them with one "
            "foreground value"
        )


def _images_beside(files: Sequence[Path]) -> dict[str, Path]:
    """The image of each stem in the ``images/`` folder beside a ``masks/`` folder of
    ``files`` (a data folder's masks given alone; as named there: ``Images/``, ``labels/``);
    {} where there is none."""
    folders = {f.parent for f in files}
    if len(folders) != 1 or (parent := data_set_above(masks := folders.pop())) is None:
        return {}
    beside, masks_of = layout_folders(parent)
    return {mask_stem(f): f for f in find_images(beside)} if masks_of == masks.resolve() else {}


def stored_in_8_bits(path: Path) -> bool:
    """Whether the mask file ``path`` reads as 8-bit values by its header alone: a grey PNG,
    a TIFF of one 8-bit sample; False where not known so (another format, a palette or
    colour mask read through a table, a header that cannot be read)."""
    try:
        if path.suffix.lower() == ".png":
            from PIL import Image

            with Image.open(path) as im:
                return im.mode in ("1", "L")
        if is_tiff_name(path) and path.is_file():
            import tifffile

            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                return series.dtype.itemsize == 1 and "S" not in series.axes
    except (OSError, ValueError, IndexError):
        return False
    return False


def palette_void(mask_files: Sequence[Path], ignore_value, label_values) -> int | None:
    """VOC's void value (255) when the masks are palette PNGs and neither ``ignore_value``
    nor ``label_values`` is given (the rule of training: :func:`unetlab.data.classes.void_value`),
    else None."""
    if ignore_value is not None or label_values is not None:
        return None
    return VOC_VOID if dataset_palette(mask_files) is not None else None


def _names_file(gt_dir: Path) -> dict[int, str] | None:
    """``{mask value: name}`` of the ``class_names.txt`` in ``gt_dir`` or, for a masks folder
    such as VOC's ``SegmentationClass/``, its parent (the data set's root); said in a log line.
    A ``class_names.txt`` in the parent is checked against a colour table below it (in
    ``gt_dir`` too) as training checks it, refused where the two name the classes otherwise:
    the table in ``gt_dir`` named them and the file went unread. A masks folder's names
    are its data set's where its root has a ``class_names.txt`` (:func:`masks_root`: for
    ``val/masks/`` too), as training reads them (s47: the root's ``Road`` was the table's
    ``road`` in ``gt_dir`` here). Each folder's file is read once."""
    read = {}  # folder -> its names and their file, read already
    if (gt_dir.parent / NAMES_FILE).is_file():  # DatasetError where they disagree
        read[gt_dir.parent] = class_names_from(gt_dir.parent)
    root = masks_root(gt_dir)
    as_trained = root is not None and (root / NAMES_FILE).is_file()
    for folder in (root,) if as_trained else (gt_dir, gt_dir.parent):
        names, path = read[folder] if folder in read else class_names_from(folder)
        if names:
            log.info("class names from %s (%s gives others)", path, said_as(CLASS_NAMES))
            return names
    return None


def data_set_names(gt_dir: Path, class_names, label_values, instances: bool):
    """(class names, ``{class index: name}`` to name the classes found by) from the data set's
    ``class_names.txt`` when none are given: by label value, or by index (masks holding
    class indices, whose count is known only once read)."""
    if class_names is not None or instances or not (names := _names_file(gt_dir)):
        return class_names, None
    if label_values is not None:
        return [names.get(v, str(v)) for v in label_values], None
    return None, names


OBJECTS_SUFFIX = "_objects"  # <stem>_objects.tif: the object ids of ``predict --instances``
#: the stem endings of object-id predictions: unetlab's, and cellpose's masks (``--save_png``,
#: ``--save_tif``, the GUI's File > Save masks: ``<stem>_cp_masks.png``)
OBJECT_SUFFIXES = (OBJECTS_SUFFIX, "_cp_masks")


#: the stem endings of object predictions drawn as outlines: predict's ``--outlines``
#: (``<stem>_objects_rois.zip``, ``<stem>_objects.geojson``), cellpose's ``<stem>_rois.zip``
OUTLINE_SUFFIXES = (f"{OBJECTS_SUFFIX}_rois", OBJECTS_SUFFIX, "_rois")
#: the suffixes of predictions: unetlab's and others' images, and MRC files (membrain-seg's
#: and IMOD's segmentations of a tomogram, ``<stem>.mrc``)
PREDICTION_SUFFIXES = (*IMAGE_SUFFIXES, ".mrc")


def _mrc_last(path: Path) -> tuple[bool, str]:
    """Name order, MRC files last: predict's ``tomo.tif`` is the prediction of an input
    ``tomo.mrc`` beside it."""
    return path.suffix.lower() == ".mrc", path.name


def _prediction_files(
    pred_dir: Path, cases: Sequence[str] = ()
) -> tuple[dict[str, Path], dict[str, Path]]:
    """(class maps ``<stem>.png``/``.tif``/``.mrc``, object ids ``<stem>_objects.*`` or
    cellpose's ``<stem>_cp_masks.*``, else drawn as outlines: ``<stem>.zip`` (a RoiSet from
    Fiji), ``<stem>.geojson`` (QuPath), or so named with :data:`OUTLINE_SUFFIXES`) by stem,
    the TotalSegmentator ``cases``' (the ground truth's) in their sub-folders by case
    (``s0001/ct.nii.gz``: :func:`~unetlab.data.totalseg.case_outputs`; predict
    --recursive's, s75), DatasetError where a case has one there and one in ``pred_dir``
    (:func:`_refuse_twice`); the files evaluate itself wrote there (its manifest: a
    report's confusion PNG) and predict's legend.png are none."""
    if not pred_dir.is_dir():
        raise DatasetError(f"{pred_dir}: no such prediction folder{near_line(pred_dir)}")
    from unetlab.inference.legend import own_legend
    from unetlab.manifest import written_here

    maps: dict[str, Path] = {}
    objects: dict[str, Path] = {}
    own = written_here(pred_dir, "evaluate") - written_here(pred_dir, "predict")  # a report's
    own |= own_legend(pred_dir)  # predict's key to its colours, no prediction
    for path in [*sorted(pred_dir.iterdir(), key=_mrc_last), *case_outputs(pred_dir, cases)]:
        image = path.suffix.lower() in PREDICTION_SUFFIXES or is_nifti(path)  # a label volume too
        if not image or path.stem.endswith(("_overlay", "_prob")):
            continue
        if path.name in own:  # --json out/e.json: its e_confusion.png (audit s41)
            continue
        stem = mask_stem(path)  # pairs with its mask's name in either form (macOS writes NFD)
        if path.parent != pred_dir:  # predict --recursive's pred/s0001/ct.nii.gz: s0001's
            stem = case_output_stem(path, stem)
        suffix = next((s for s in OBJECT_SUFFIXES if stem.endswith(s)), None)
        held, stem = (maps, stem) if suffix is None else (objects, stem[: -len(suffix)])
        if path.parent != pred_dir and stem in held:
            _refuse_twice(held[stem], path)
        held.setdefault(stem, path)
    for path in sorted(pred_dir.iterdir()):  # outlines: where no object-id image is
        if path.suffix.lower() in ANNOTATION_SUFFIXES and path.is_file():
            stem = mask_stem(path)  # X.tif.geojson: X's
            suffix = next((s for s in OUTLINE_SUFFIXES if stem.endswith(s)), "")
            objects.setdefault(stem[: len(stem) - len(suffix)], path)
    return maps, objects


def _refuse_twice(top: Path, in_case: Path) -> None:
    """DatasetError: the case of ``in_case`` (``pred/s0001/ct.nii.gz``) has a prediction
    ``top`` in the folder too (``pred/s0001.nii.gz``; s75 review: a zero-filled one left by
    the rename before evaluate read the sub-folders was scored, Dice 0.0000, unsaid)."""
    case = in_case.parent.name
    raise DatasetError(
        f"{top} and {in_case}: two predictions of the case {case}: remove the one that is "
        f"not of this run (predict --recursive writes {case}/{in_case.name})"
    )


class Written:
    """The ``predict.json`` records of a prediction folder (:func:`read_records`) and the
    record that each of its files carries the key of, each file's header read once
    (:func:`~unetlab.inference.records.embedded_key`, a PNG's text decoding it whole): an
    evaluation asks a class map's record for its label values, ignore value, class names,
    model and labels (five reads of each map's header, s40). ``maps``, ``objects``: the
    folder's class maps and object ids by stem (:func:`_prediction_files`)."""

    def __init__(self, folder: Path, cases: Sequence[str] = ()):
        from unetlab.inference.records import read_records

        self.folder = folder
        self.cases = cases  # the ground truth's TotalSegmentator cases (their sub-folders read)
        self.maps, self.objects = _prediction_files(folder, cases)
        self.records: dict[str, dict] = {}  # a case sub-folder's too (s0001/predict.json)
        for held in sorted(self._folders(), key=lambda f: f != folder):  # its own first
            self.records = read_records(held) | self.records
        self.keys: dict[Path, str | None] = {}  # per file: the key its header carries

    def input_folders(self) -> dict[str, set[Path]]:
        """Each prediction's stem -> the folders, resolved, of the inputs it was made from: as
        the folder's manifest names its file's (its latest line), else as the records'
        ``files`` of that stem do (a folder copied without its ``.unetlab-outputs``). A
        record's files are those of every run of its settings: ``predict --input 01`` then
        ``--input 02 --overwrite`` listed both, and 02's outputs scored against 01's truth
        (s69 re-review)."""
        from unetlab.manifest import made_from

        made = {held: made_from(held, "predict") for held in self._folders()}
        outputs = [*self.maps.items(), *self.objects.items()]
        inputs = [
            (stem, made[p.parent][p.name]) for stem, p in outputs if made[p.parent].get(p.name)
        ]
        if not inputs:
            records = [r for r in self.records.values() if isinstance(r, dict)]
            files = [f for r in records if isinstance(r.get("files"), dict) for f in r["files"]]
            inputs = [(nfc(Path(f).stem), f) for f in files]
        folders = {f: f.resolve() for f in {Path(source).parent for _, source in inputs}}
        found: dict[str, set[Path]] = {}
        for stem, source in inputs:
            found.setdefault(stem, set()).add(folders[Path(source).parent])
        return found

    def _folders(self) -> set[Path]:
        """The folders the predictions are in: :attr:`folder`, and its sub-folders of cases."""
        return {p.parent for p in (*self.maps.values(), *self.objects.values())}

    def record(self, path: Path) -> dict:
        """The record of the file ``path`` ({} where it carries no key, or none is there)."""
        from unetlab.inference.records import embedded_key

        if not self.records:
            return {}
        if path not in self.keys:
            self.keys[path] = embedded_key(path)
        record = self.records.get(self.keys[path]) if self.keys[path] is not None else None
        return record if isinstance(record, dict) else {}

    def outputs(self, path: Path) -> dict:
        """The ``outputs`` part of the record of the file ``path`` ({} where there is none)."""
        outputs = self.record(path).get("outputs")
        return outputs if isinstance(outputs, dict) else {}


class Predictions:
    """The saved predictions of one folder, page by page: class indices and object ids.

    With ``instances`` the class-map files hold object ids too (a ``<stem>_objects`` file
    still wins). The pixel classes are the class map's, or background (0) / object (1) from
    the object ids where there is no class map, where the map is an instance model's (by its
    record: background / boundary / interior, never the masks' classes; without its ids
    refused) or ``object_pixels`` (instance ground truth, whose classes are those two). A class map
    whose record says it holds mask values (``unetlab predict --label-values``:
    its ``outputs.labels``) is read as classes by ``label_values``, the mask value of each
    class (None: refused, naming the fix; :func:`recorded_label_values` reads those the
    records give); so is every map no record describes where one of them holds a value beyond
    the class indices and ``label_values`` are given (:attr:`beyond`: another tool's 0/255);
    such a map's pixels holding the masks' ``ignored`` value are :data:`PREDICTED_IGNORE`, as
    are a map of class indices' beside ``label_values`` (:meth:`_void_copied`).
    """

    def __init__(
        self,
        folder: Path,
        *,
        instances: bool,
        object_pixels: bool,
        label_values: Sequence[int] | None = None,
        written: Written | None = None,
        ignored: int | None = None,
        paired: set[str] | None = None,
    ):
        self.folder = folder
        self.written = Written(folder) if written is None else written
        self.maps, self.objects = dict(self.written.maps), dict(self.written.objects)
        if instances:  # no class maps then
            self.maps, self.objects = {}, {**self.maps, **self.objects}
        self.object_pixels = object_pixels
        self.label_values = label_values
        self.read_maps, self.read_objects = PairReader(), PairReader()
        self.drawn: dict[Path, np.ndarray] = {}  # a prediction drawn as outlines: its pages
        self.mask_values: dict[Path, bool] = {}  # per class map: does it hold mask values?
        self.foreign = False  # a map without a record read as mask values (said once)
        self.said_held = False  # a map read as mask values by its record (said once)
        self.nodata: dict[Path, float | None] = {}  # per class map: its GDAL_NODATA value
        self.axes: dict[Path, str | None] = {}  # per file: the axes to read it by
        self.ignored = ignored  # the masks' ignore value: a class map's read as such
        self.said_other = False  # a map that agrees with its masks read the other way (said once)
        self.paired = paired  # the stems a mask scores (the folder look's); None: all
        self.wide: set[Path] = set()  # the class maps stored with more than 8 bits (ids?)

    def __contains__(self, stem: str) -> bool:
        return stem in self.maps or stem in self.objects

    def size_of(self, stem: str) -> Path | None:
        """An image file of the predictions of ``stem`` (for the size of a mask drawn as
        outlines, which carry none), or None."""
        files = self.files_of(stem)
        images = (f for f in files if f.suffix.lower() not in ANNOTATION_SUFFIXES)
        inputs = (source for f in files if (source := predicted_from(f)) is not None)
        return next(images, None) or next(inputs, None)

    def files_of(self, stem: str) -> list[Path]:
        """The files the predictions of ``stem`` are read from (its class map, object ids)."""
        return [found[stem] for found in (self.maps, self.objects) if stem in found]

    def page(self, gt: MaskPage) -> tuple[np.ndarray, np.ndarray | None]:
        """(class indices (H, W) int64, object ids (H, W) int64 or None) of one mask page."""
        ids, stem = None, gt.stem
        if stem in self.objects:
            path = self.objects[stem]
            _refuse_lossy(path)
            drawn = path.suffix.lower() in ANNOTATION_SUFFIXES
            pages = self._outlined(path, gt) if drawn else None
            by = PRED_INSTANCES if self.written.maps.get(stem) == path else "evaluate"
            axes = self._axes(path, gt, ids=True)
            ids = _ids_page(self.read_objects, path, gt, pages, axes, by)
            if not np.issubdtype(ids.dtype, np.integer) or ids.min(initial=0) < 0:
                raise DatasetError(
                    f"{self.objects[stem]}: object ids are integers 0 (none), 1..n, not "
                    f"{ids.dtype} values from {ids.min()}; write the label image of the objects"
                )
            ids = ids.astype(np.int64)
        path = self.maps.get(stem)
        if ids is not None and (self.object_pixels or path is None or self._instance_map(path)):
            return (ids > 0).astype(np.int64), ids
        if self._instance_map(path):
            raise DatasetError(**self._no_objects(path, stem))
        _refuse_lossy(path)
        raw = _map_page(self.read_maps, path, gt, self._axes(path, gt))
        if raw.dtype.itemsize > 1:
            self.wide.add(path)
        void = self._nodata(path, raw)  # no sample in the input: scored nowhere
        pred = self._classes(
            path, _class_indices(raw if void is None else _filled(raw, void), path), gt
        )
        return (pred if void is None else np.where(void, IGNORE_INDEX, pred)), ids

    def _classes(self, path: Path, pred: np.ndarray, gt: MaskPage) -> np.ndarray:
        """The class indices of the page ``pred`` of the class map ``path``: its mask values
        read by ``label_values`` where its record says it holds them, or where it has none
        and the folder's maps without one are read so (:attr:`beyond`); else its own."""
        held, read = self._holds_mask_values(path), pred
        foreign = self.label_values is not None and self.written.outputs(path).get("labels") is None
        if held or (foreign and self.beyond is not None):
            if not held:
                self._refuse_indices_among_values(path, pred)
            read = from_mask_values(pred, self.label_values, path, self.ignored)
            self._say_mask_values(path, held)  # once read: a refusal stands alone (s64)
        elif self._void_copied(pred):
            read = np.where(pred == self.ignored, PREDICTED_IGNORE, pred)
        if foreign:
            self._say_other_reading(path, pred, gt)
        return read

    def _nodata(self, path: Path, raw: np.ndarray) -> np.ndarray | None:
        """The pixels of the class map ``path`` (``raw``: one page as read) that hold the
        value its GDAL_NODATA tag names (``unetlab predict`` writes one where the input's
        pixels were no sample; a PNG's: its text key ``nodata``), or None."""
        value = self._nodata_value(path)
        if value is None:
            return None
        void = raw == value
        return void if void.any() else None

    def _nodata_value(self, path: Path) -> float | None:
        """The GDAL_NODATA value of the class map ``path`` (:func:`named_nodata`), read once."""
        if path not in self.nodata:
            self.nodata[path] = named_nodata(path)
        return self.nodata[path]

    def _axes(self, path: Path, gt: MaskPage, ids: bool = False) -> str | None:
        """:func:`planes_axes` of ``path`` (object ids where ``ids``) for ``gt``'s planes,
        found once a file (a TIFF header, 0.5 ms: a stack's pages each asked it); a refusal
        is not kept (it was, as None, before it was raised: review s68)."""
        if path not in self.axes:
            self.axes[path] = planes_axes(path, gt.path, gt.pages, ids=ids)
        return self.axes[path]

    def _outlined(self, path: Path, gt: MaskPage) -> np.ndarray:
        """The pages of the prediction ``path`` drawn as outlines (:func:`_outlined`), drawn
        once for all the pages of a stack (the last file's kept)."""
        if path not in self.drawn:
            self.drawn = {path: _outlined(path, gt)}
        return self.drawn[path]

    def _instance_map(self, path: Path) -> bool:
        """Whether the class map ``path`` is an instance model's (background / boundary /
        interior, by its record: its objects' mode, or ``target`` where it was predicted
        without objects; a record from before ``target`` says neither): its pixels are scored
        as its objects' foreground, as evaluate --checkpoint scores such a model, not as the
        masks' classes."""
        outputs = self.written.outputs(path)
        objects = outputs.get("objects")
        instances = isinstance(objects, dict) and objects.get("mode") == "instances"
        return instances or outputs.get("target") == "instances"

    def _no_objects(self, path: Path, stem: str) -> dict:
        """The refusal of an instance model's map ``path`` with no object ids beside it: the
        keywords of its DatasetError, the fix in the Python API's words and the command
        line's (a notebook was told ``instances=True``, which predict_folder refuses)."""
        what = f"{path} holds an instance model's background, boundary, interior (its record)"
        if self.written.outputs(path).get("objects") is None:  # predicted without --instances
            return worded(
                lambda fix: (
                    f"{what}, not classes of the masks: it was predicted without "
                    f"objects; predict again with {fix['objects']}, whose objects are scored, or "
                    f"evaluate the checkpoint itself ({fix['evaluate']})"
                ),
                {"objects": "objects=True", "evaluate": "evaluate_model(model, data)"},
                {"objects": "--instances", "evaluate": "evaluate --checkpoint CKPT --data DATA"},
            )
        return spelled(
            lambda gt_instances: (
                f"{what}, not classes of the masks, and {stem}_objects.tif (its objects) is "
                "not beside it: keep it there to score the objects' foreground, give instance "
                f"masks ({gt_instances}), or predict with a semantic model"
            ),
            GT_INSTANCES,
        )

    def classed(self, stem: str) -> bool:
        """Whether the object ids of ``stem`` have classes: the class map beside them, where
        its record (or, without one, nothing) says it is no instance model's (whose map
        holds background / boundary / interior): the objects of a semantic model, each of
        the class most of its pixels have there, as predict's objects table gives it."""
        if stem not in self.maps or stem not in self.objects or self.object_pixels:
            return False
        return not self._instance_map(self.maps[stem])

    @functools.cached_property
    def beyond(self) -> tuple[Path, int] | None:
        """(the first class map without a record holding a value beyond the class indices,
        the least such value), the masks' ignore value and the map's no-data value aside:
        the folder's maps without records (another tool's, e.g. 0/255 masks from Fiji) are
        all read as mask values then; None: all as class indices, as a folder is where no
        map tells (review s66: read map by map in file order, a folder of 1..3 maps was
        scored or refused by the order its files sort in). One look at the pixels of every
        such map a mask scores (:attr:`paired`; a stray figure beside them flipped the
        reading, review s66 round 2) before any is scored (:func:`_pixel_values`)."""
        if self.label_values is None:
            return None
        n, reader = len(self.label_values), self.read_maps  # the last one read is kept
        for stem, path in self.maps.items():
            lossy = path.suffix.lower() in LOSSY_SUFFIXES  # refused when scored
            unpaired = self.paired is not None and stem not in self.paired  # never scored
            if lossy or unpaired or self.written.outputs(path).get("labels") is not None:
                continue
            if (high := _pixel_values(reader, path)) is None:
                continue  # refused when scored, in its own words
            high = np.unique(high[high >= n])
            aside = [v for v in (self.ignored, self._nodata_value(path)) if v is not None]
            if (high := high[~np.isin(high, aside)]).size:
                return path, int(high[0])
        return None

    def _refuse_indices_among_values(self, path: Path, pred: np.ndarray) -> None:
        """MaskValuesError for the page ``pred`` of the map ``path``, read as mask values as
        the folder's maps without records are (:attr:`beyond`), which holds only class
        indices, some of them no label value (0 1 beside 0/255 maps): a folder's maps are
        read one way, the fix to save them so."""
        n, values = len(self.label_values), self.label_values
        held = np.unique(pred[pred != self.ignored] if self.ignored is not None else pred)
        unknown = held[~np.isin(held, values)]
        if not unknown.size or int(held.max(initial=0)) >= n:
            return  # mask values, or none of either: from_mask_values names them
        other, top = self.beyond
        said = (
            f"{path} holds {words.spaced(held, 12)}, class indices ({words.spaced(unknown, 12)} "
            f"no label value), but {other} holds {top}, a mask value beyond the {n} class "
            f"indices: a folder's maps are read one way; save them all as class indices "
            f"0..{n - 1} or all as the mask values {words.spaced(values)}"
        )
        raise MaskValuesError(said, cli=said)  # no flag named: the same in either

    def _say_other_reading(self, path: Path, pred: np.ndarray, gt: MaskPage) -> None:
        """One warning (the first such map) where the page ``pred`` of the map ``path``
        without a record agrees with its masks (``gt``) on at least half their labelled
        pixels and twice as many read the other way, as class indices or as mask values,
        than read the way the folder is (:attr:`beyond`), and more than its masks' largest
        class holds (a collapsed model's map of one value everywhere agrees so, review s66
        round 2): a map of class indices among maps of mask values was scored as them unsaid
        (review s66, mIoU 0.2815 for perfect maps). Looked at on a grid of every step-th
        row and column, at least 512^2 pixels (the full page cost 13-18% of scoring 2048^2
        maps, review s66 round 2), which the line says where it is not every pixel."""
        if self.said_other or self.object_pixels:
            return
        by_values = self.beyond is not None
        step = max(1, math.isqrt(gt.mask.size >> 18))  # every 4th row and column of 2048^2
        mask, pred = gt.mask[::step, ::step], pred[::step, ::step]
        values = np.asarray(self.label_values)
        labelled = np.isin(mask, values)
        if not labelled.any():
            return
        as_indices = np.where(pred < len(values), values[np.minimum(pred, len(values) - 1)], -1)
        agree = [float((read == mask)[labelled].mean()) for read in (pred, as_indices)]
        read, other = agree if by_values else agree[::-1]
        if other < 0.5 or other < 2 * read or other <= _largest_share(mask[labelled]):
            return
        self.said_other = True
        ways = ("mask values", "class indices")[:: 1 if by_values else -1]
        why = f"{self.beyond[0]} holds {self.beyond[1]}" if by_values else "no map holds a value"
        grid = f" (one row and column in {step} looked at)" if step > 1 else ""
        log.warning(
            "%s was read as %s (%s beyond the class indices; a folder's maps without predict.json "
            "records are read one way), "
            "but read as %s it agrees with its masks on %.0f%% of their labelled pixels%s, as %s "
            "on %.0f%%: a folder of maps saved two ways? save them all as class indices 0..%d",
            *(path, ways[0], why, ways[1], 100 * other, grid, ways[0], 100 * read),
            len(values) - 1,
        )

    def _void_copied(self, pred: np.ndarray) -> bool:
        """Whether the class map ``pred``, read as class indices beside ``label_values``,
        holds the masks' ``ignored`` value, which is no class index (0/1/2 and the void 255
        beside 10/20/30 masks: review s65), its pixels then scored as a map of mask values'
        (:data:`PREDICTED_IGNORE`)."""
        if self.label_values is None or self.ignored is None:
            return False
        return self.ignored >= len(self.label_values) and bool((pred == self.ignored).any())

    def _say_mask_values(self, path: Path, held: bool) -> None:
        """The log line on the first class map read as mask values: by its record (``held``)
        or, without one, by the folder's (naming the map that tells: :attr:`beyond`); said
        once it is read, so that a map holding a value
        none of the label values are is refused in one line, not after this one (s64)."""
        values = words.spaced(self.label_values)
        if held and not self.said_held:
            log.info(
                "%s holds mask values (%s): read as classes by the label values %s",
                path,
                said_as(PREDICTED_VALUES),
                values,
            )
        if not held and not self.foreign:
            log.info(
                "%s holds %d, beyond the class indices, and has no predict.json record: the "
                "maps without one are read as mask values, classes by the label values %s",
                *self.beyond,
                values,
            )
        self.said_held = self.said_held or held
        self.foreign = self.foreign or not held

    def _holds_mask_values(self, path: Path) -> bool:
        """Whether the class map ``path`` holds mask values, by its record."""
        if path not in self.mask_values:
            held = self.written.outputs(path).get("labels") == "mask values"
            self.mask_values[path] = held
        return self.mask_values[path]


def _largest_share(values: np.ndarray) -> float:
    """The share of ``values`` (a mask's labelled pixels) its commonest value holds."""
    return np.unique(values, return_counts=True)[1].max() / values.size


def _pixel_values(reader: PairReader, path: Path) -> np.ndarray | None:
    """The pixels of the class map ``path``, all its pages, for their values only: a stack
    of planes that records no axes (read as channels, 3 or 4 of them as a colour image,
    without its masks' page count) as scoring reads it (:func:`planes_axes`); None where it
    is not read so (a colour image, a file that cannot be read), refused when scored."""
    try:
        return reader.stack(path, mask=True)
    except (ChannelsMaskError, ColourMaskError):
        read_as = _channel_planes_axes(path)
    except UnetlabError:
        return None
    if read_as is None:
        return None
    axes = read_as[1]
    with contextlib.suppress(UnetlabError):
        return reader.stack(path, mask=True, axes=axes)
    return None


def _refuse_lossy(path: Path) -> None:
    """DatasetError for a prediction saved as JPEG (another tool's; unetlab writes none):
    its class edges hold values between the classes, which were scored as classes of their
    own (audit s41: 0/255 maps as 256 classes, exit 0), as training refuses JPEG masks."""
    if path.suffix.lower() in LOSSY_SUFFIXES:
        raise DatasetError(
            f"{path}: JPEG predictions are lossy (class edges get values between the "
            "classes); save the predictions as PNG or TIFF"
        )


def ome_less(stem: str, preds: Container[str], named: Container[str]) -> str:
    """``stem``, or for the mask of an OME-TIFF (``X.ome.tif``: ``X.ome``) without a
    prediction of that name, ``X``, which predict names the outputs of ``X.ome.tif``
    (:func:`~unetlab.inference.slides.output_stem`), where ``preds`` hold it and no mask of
    ``named`` is ``X``."""
    if stem in preds or not stem.lower().endswith(".ome") or len(stem) < 5:
        return stem
    return stem[:-4] if stem[:-4] in preds and stem[:-4] not in named else stem


def recorded_3d(paths: Sequence[Path], records: Written) -> dict[Path, bool]:
    """Whether each of the object-id ``paths`` (of the folder of ``records``) whose record
    describes its objects holds 3-D objects, one id across a stack's planes (``unetlab
    predict --objects-3d`` of a file with planes: True), or each plane's own (False: a 2-D
    image's too, which an older predict --objects-3d recorded as the stacks beside it);
    files without such a record left out."""
    written = {p: records.outputs(p) for p in paths}
    return {
        p: w.get("objects_3d") is True and has_planes(p)
        for p, w in written.items()
        if w.get("objects")
    }


def has_planes(path: Path) -> bool:
    """Whether the stack at ``path`` has Z planes (or pages of no known meaning): a 2-D
    image's or a movie's objects are the same 2-D ones with --objects-3d or without."""
    pages = stack_shape(path)[0]
    return pages > 1 and read_page_axes(path, pages, say=False).letters not in ("T", "")


def recorded_label_values(records: Written) -> list[int] | None:
    """The mask value of each class that the class maps of a folder hold, by the ``records``
    of the ``unetlab predict --label-values`` that wrote them (``outputs.label_values``);
    None where no map records them (class indices, or a record from before the values were
    recorded). :class:`MaskValuesError` when two maps' records give different values."""
    found: dict[tuple[int, ...], Path] = {}
    for path in records.maps.values():
        written = records.outputs(path)
        values = written.get("label_values")
        if written.get("labels") == "mask values" and _ints(values):
            found.setdefault(tuple(values), path)
    values = _agreed(
        found,
        lambda a, first, b, second: (
            f"{first} holds the mask values {words.spaced(a)} but "
            f"{second} {words.spaced(b)} (their predict.json records)"
        ),
        VALUES_FIX,
    )
    return None if values is None else list(values)


def trained_label_values(records: Written) -> list[int] | None:
    """The mask value of each class in the training of the models that wrote a folder's
    class maps of class indices (their ``predict.json`` records' ``label_values``), by which
    their masks are read; None where no map's record gives them (older records, models
    trained on class indices), a map is an instance model's, or they are the class indices
    themselves. A map whose record gives none says nothing against another's (a folder
    predicted before records kept them and after: the masks are read by the newer ones', a
    mask value they do not know refused in the end); a map no record describes (another
    tool's, evaluate's confusion PNG beside them) says nothing of the training and is passed
    over. :class:`MaskValuesError` when two maps' records give different values."""
    found: dict[tuple[int, ...], Path] = {}
    for path in records.maps.values():
        record, outputs = records.record(path), records.outputs(path)
        if not record:
            continue
        values, objects = record.get("label_values"), outputs.get("objects")
        instances = isinstance(objects, dict) and objects.get("mode") == "instances"
        if instances or outputs.get("target") == "instances":
            return None
        if _ints(values) and outputs.get("labels") != "mask values":  # recorded_label_values
            found.setdefault(tuple(values), path)
    values = _agreed(
        found,
        lambda a, first, b, second: (
            f"{first}'s model was trained on the mask values "
            f"{words.spaced(a)} but {second}'s on {words.spaced(b)} (their predict.json records)"
        ),
        VALUES_FIX,
    )
    return None if values is None or values == tuple(range(len(values))) else list(values)


#: the fix a refusal of two maps' different label values names (Python, CLI)
VALUES_FIX = (
    "pass label_values=[...], the mask value of each class of the ground truth",
    "give --label-values, the mask value of each class of the ground truth",
)


def _agreed(found: dict, said, fix: tuple[str, str]):
    """The one value the maps' records give in ``found`` (value -> first map giving it), or
    None for none; :class:`MaskValuesError` naming two maps (``said(a, first, b, second)``)
    and ``fix`` (Python's, the CLI's) where they give different ones."""
    if len(found) > 1:
        (a, first), (b, second) = list(found.items())[:2]
        said = said(a, first, b, second)
        raise MaskValuesError(f"{said}: {fix[0]}", cli=f"{said}: {fix[1]}")
    return next(iter(found)) if found else None


def _ints(values) -> bool:
    """Whether a record's ``values`` are a list of ints (not a hand-edited file's strings)."""
    return isinstance(values, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    )


def recorded_ignore_value(records: Written) -> int | None:
    """The mask value that the models which wrote a folder's class maps counted nowhere in
    training (``data.ignore_value``, in their ``predict.json`` ``records``); None where no
    record gives one. :class:`MaskValuesError` when two maps' records give different values."""
    found: dict[int, Path] = {}
    for path in records.maps.values():
        record = records.record(path)
        value = record.get("ignore_value")
        if isinstance(value, int) and not isinstance(value, bool):  # a hand-edited true: none
            found.setdefault(value, path)
    return _agreed(
        found,
        lambda a, first, b, second: (
            f"{first}'s model ignored mask value {a} in training but "
            f"{second}'s {b} (their predict.json records)"
        ),
        ("pass ignore_value=, that of the masks", "give --ignore-value, that of the masks"),
    )


def recorded_class_names(records: Written) -> list[str] | None:
    """The class names that the ``records`` of a folder's class maps give (the models'
    classes in their order: ``predict.json``'s ``class_names``), where every map's record
    gives the same; None where one gives none (an older record, a model never named),
    they differ, or a map is an instance model's (scored as background / object); a map no
    record describes is passed over (:func:`trained_label_values`)."""
    found: set[tuple[str, ...]] = set()
    for path in records.maps.values():
        if not records.record(path):
            continue
        names, outputs = records.record(path).get("class_names"), records.outputs(path)
        objects = outputs.get("objects")
        instances = isinstance(objects, dict) and objects.get("mode") == "instances"
        if instances or outputs.get("target") == "instances" or not isinstance(names, list):
            return None
        found.add(tuple(map(str, names)))
    return list(next(iter(found))) if len(found) == 1 else None


#: the class index :func:`from_mask_values` gives the pixels of a class map holding the
#: masks' ignore value (another tool's void): scored as the path without label values scores
#: that value (:func:`~unetlab.evaluate.predictions._predicted_ignore`)
PREDICTED_IGNORE = -3  # UNKNOWN is -2


def from_mask_values(
    pred: np.ndarray, label_values: Sequence[int] | None, path: Path, ignored: int | None = None
) -> np.ndarray:
    """(H, W) mask values -> int64 class indices: the index of each value in
    ``label_values``, the masks' ``ignored`` value :data:`PREDICTED_IGNORE` (review s65: a
    map holding it was refused, where without label values it was scored). A
    :class:`MaskValuesError` naming ``path`` without ``label_values``, or for a value that
    is none of them."""
    fix = "the mask value of each class of the model that predicted it, in its order"
    if label_values is None:
        held = words.spaced(np.unique(pred), 12)
        python, cli = (
            f"{path} holds mask values ({held}), as {made} writes them, not class indices"
            for made in PREDICTED_VALUES
        )
        raise MaskValuesError(
            f"{python}: pass label_values=[...], {fix}",
            cli=f"{cli}: give --label-values, {fix} (e.g. --label-values 0 255)",
        )
    indices = value_indices(pred, label_values)
    if ignored is not None:
        indices[(indices == UNKNOWN) & (pred == ignored)] = PREDICTED_IGNORE
    known = indices != UNKNOWN
    if not known.all():
        unknown = np.unique(pred[~known])
        said = (
            f"{path} holds {words.numbered(unknown.size, 'mask value')} "
            f"{words.spaced(unknown, 12)}, none of the label values {words.spaced(label_values)}"
        )
        raise MaskValuesError(
            f"{said}; pass as label_values {fix}", cli=f"{said}; give as --label-values {fix}"
        )
    return indices


def named_nodata(path: Path) -> float | None:
    """The no-data value a label image names: a TIFF's GDAL_NODATA tag, a PNG's text key
    ``nodata`` (``unetlab predict`` writes either where the input's pixels were no sample),
    or None. Read from the header, no pixels decoded. A PNG whose chunk list cannot be
    walked to its end (no IEND, a bad CRC) names none: training reads its pixels (Pillow)
    and no tag, so evaluate reads it the same and never refuses it for its tag (s57
    review: --checkpoint refused a mask training reads)."""
    if is_tiff_name(path):
        return file_nodata(path).value
    try:
        return png_nodata(path)
    except ImageReadError:  # a damaged chunk list: no tag; its pixels are read as they are
        return None


def mask_nodata(
    mask: np.ndarray,
    path: Path,
    label_values,
    named: dict[Path, float | None],
    *,
    ids: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(``mask``, a page of the file ``path``, with its no-data pixels holding a value of its
    others, those pixels or None): the value its file names no-data (:func:`named_nodata`: a prediction
    kept as the masks, its 255 outside a swath) where it is no class
    (:func:`nodata_pixels`); scored nowhere, as a prediction's no-data
    is (it was refused as class 255). ``named``: each file's value, read once (a TIFF
    header: 0.5 ms, a stack's per page); ``ids``: the masks hold object ids."""
    if path not in named:
        named[path] = named_nodata(path)
    void = nodata_pixels(mask, named[path], label_values, ids=ids)
    return (mask, None) if void is None else (_filled(mask, void), void)


def nodata_pixels(mask: np.ndarray, value, label_values, *, ids: bool = False) -> np.ndarray | None:
    """The pixels of ``mask`` that hold its file's no-data ``value`` where that value is no
    class, or None: not one of the label values given, or without them not an index below
    :data:`~unetlab.evaluate.checks.NO_CLASS_FROM`. Decided by the value alone, so alike on
    every page, file and volume: GDAL_NODATA=0 on a 0/1 label GeoTIFF (gdal_rasterize,
    QGIS) marks its background, which read as no-data hid every false positive (review s54
    C1: mIoU 1.0); a rule from the page's and its prediction's indices scored one page's
    no-data and ignored another's, and a prediction of many object ids turned a volume's
    no-data into a true object (review s54, 5). With object ids (``ids``: 3-D,
    ``gt_instances``) every value but 0 (their background, as GDAL_NODATA=0 names a 0/1
    raster's) is no-data: ids name no class a tag could mean, and GDAL_NODATA=7 was read as
    object 7 without a word, where 3-D takes no ignore value to say otherwise (s56)."""
    if value is None:
        return None
    if ids:
        return None if value == 0 else _held(mask, value)
    named_class = label_values is not None and value in label_values
    if named_class or (label_values is None and 0 <= value < NO_CLASS_FROM):
        return None
    return _held(mask, value)


def _held(mask: np.ndarray, value) -> np.ndarray | None:
    """The pixels of ``mask`` holding ``value``, or None where none does."""
    void = mask == value
    return void if void.any() else None


def labelled_left(truth: np.ndarray, void: np.ndarray | None) -> bool:
    """Whether ``truth`` holds a labelled (non-zero) pixel outside its own no-data ``void``
    (:func:`nodata_pixels`; None: none)."""
    return bool(np.any(truth > 0 if void is None else (truth > 0) & ~void))


def tag_value_shown(value: float) -> str:
    """A tag's no-data ``value`` as lines say it: a whole one as an integer (``:g`` wrote
    GDAL_NODATA=4294967295 as ``4.29497e+09``, review s56 F3)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def say_no_object_left(names: Sequence[str], value: float, unit: str, fix: str = "") -> None:
    """One warning: the truth files ``names`` (a 3-D row, 2-D mask files) have no labelled
    ``unit`` (pixel, voxel) left outside the no-data ``value`` their own tag names, so no true
    object is left to score: a 0/255 truth tagged 255 scored 0 objects without a word (review
    s55 H3). Said, not decided: the tag is read by its value alone (:func:`nodata_pixels`,
    review s54, 5). ``fix``: a setting that reads ``value`` as a class instead, in its
    caller's form and ending ``or`` (2-D; 3-D takes none), before saving without the tag."""
    v = tag_value_shown(value)
    log.warning(
        "%s: %s own tag names %s no-data, and that is every labelled %s it holds: no true "
        "object is left to score; if %s marks objects, %ssave the truth without that tag",
        *(describe_names(names), "the truth's" if len(names) == 1 else "each truth's"),
        *(v, unit, v, fix),
    )


class TruthLost:
    """The mask files whose own no-data tag (:func:`nodata_pixels`) took labelled pixels,
    gathered page by page (:meth:`add`) and said once per tag value (:meth:`say`): those left
    without any (:func:`say_no_object_left`), where no file of that tag kept labelled pixels
    beside it, and with object ids (``ids``) those a tag below
    :data:`~unetlab.evaluate.checks.NO_CLASS_FROM` took an object from
    (:func:`say_object_taken`: ids 1..7 tagged GDAL_NODATA=1 scored recall 1.0 of a
    prediction that missed object 1, s56 E, 1)."""

    def __init__(self, *, ids: bool = False):
        self.ids = ids  # the masks hold object ids: any tag but 0 is no-data
        self.voided: dict[Path, float] = {}  # files whose own no-data was found: its value
        self.taken: dict[Path, int] = {}  # ... the labelled pixels it took, ids below 255
        self.parts: dict[Path, int] = {}  # ... the pages (volumes) it took them from
        self.left: set[Path] = set()  # files with a labelled pixel outside it
        self.under: dict[Path, list[int]] = {}  # ... its prediction's objects under it: px

    def predicted(self, path: Path, pred: np.ndarray, void: np.ndarray | None) -> None:
        """One page of ``path``'s prediction ``pred`` (class indices or object pixels, 0
        none, IGNORE_INDEX its no-data) beside ``void``, its truth's tagged pixels (None:
        none): how many of them it predicts as an object, of how many (:meth:`lost`)."""
        if void is None:
            return
        found = np.count_nonzero(void & (pred > 0) & (pred != IGNORE_INDEX))
        under = self.under.setdefault(path, [0, 0])
        under[0], under[1] = under[0] + int(found), under[1] + int(np.count_nonzero(void))

    def _found_under(self, path: Path) -> bool:
        """Whether the prediction put objects on most of ``path``'s tagged pixels."""
        found, tagged = self.under.get(path, (0, 0))
        return tagged > 0 and 2 * found >= tagged

    def add(self, path: Path, mask: np.ndarray, value: float | None, void) -> None:
        """One page of ``path``: ``mask`` as read, ``value`` its file's no-data tag (None:
        none, nothing to look at), ``void`` the pixels read as no-data (None: none)."""
        if value is None or value <= 0:
            return  # no tag, or one of no labelled value
        if void is not None:
            self.voided[path] = value
            if self.ids and value < NO_CLASS_FROM:  # said of those only (8 us a 512x512 page)
                self.taken[path] = self.taken.get(path, 0) + int(np.count_nonzero(void))
                self.parts[path] = self.parts.get(path, 0) + 1
        if path not in self.left and labelled_left(mask, void):
            self.left.add(path)

    def lost(self) -> list[Path]:
        """The files with no labelled pixel outside their own no-data, of the tag values no
        other file kept a labelled pixel beside: tiles of a prediction kept as truth (0/1, a
        tagged 255 outside the swath) whose swath holds no foreground lost nothing, and
        were told ``label_values=[0, 255]``, which makes class 1 of their no-data (review s56
        F3, 2). Judged by the run, as no file alone tells such a tile from a 0/255 truth;
        and by the prediction (:meth:`predicted`): a file whose tagged pixels it mostly
        predicts as objects lost them, whatever other files kept (0/255 truths tagged 255
        among such tiles were silent, review s56 F3; a tile's swath, no sample, is
        predicted as no-data or background, and a model that misses the objects says
        nothing: as before)."""
        kept = {self.voided[path] for path in self.voided if path in self.left}
        return [
            path
            for path, value in self.voided.items()
            if path not in self.left and (value not in kept or self._found_under(path))
        ]

    def say(self, folder, unit: str, fix: Callable[[float], str] = lambda value: "") -> None:
        """Say the files that lost every labelled ``unit`` (pixel, voxel) to their tag
        (:meth:`lost`), one line per tag value, ``fix`` of it the setting that reads it as a
        class (ending ``or``; none: ""); with object ids the other files whose tag, below
        255, took an object, one line per tag value and kind; named as in ``folder``
        (:func:`named_in`)."""
        lost = self.lost()
        for value, paths in _by(lost, self.voided.get).items():
            say_no_object_left([named_in(p, folder) for p in paths], value, unit, fix(value))
        taken = [path for path in self.taken if path not in lost]
        for (value, tag), paths in _by(taken, lambda p: (self.voided[p], tag_name(p))).items():
            count = (sum(self.taken[p] for p in paths), sum(self.parts[p] for p in paths))
            say_object_taken([named_in(p, folder) for p in paths], value, count, unit, tag)


def _by(paths: Iterable[Path], key: Callable) -> dict:
    """``paths`` grouped by ``key`` of each, in their order."""
    groups: dict = {}
    for path in paths:
        groups.setdefault(key(path), []).append(path)
    return groups


#: what one scored image of a file is, by the unit of its objects
PART = {"pixel": "page", "voxel": "time point"}


def say_object_taken(
    names: Sequence[str], value: float, count: tuple[int, int], unit: str, tag: str
) -> None:
    """One warning: the truth files ``names`` of object ids, whose ``tag`` names ``value``
    no-data, lost ``count``: (``unit`` s of that id, the pages or time points they lay in,
    each scored on its own, so an object of its own: a multi-page file's object 1 was said
    as one object of all its pages' pixels, s57); any tagged id but 0 is no-data
    (:func:`nodata_pixels`), which a GIS tool's GDAL_NODATA=1 makes of object 1. Said of
    values below :data:`~unetlab.evaluate.checks.NO_CLASS_FROM` only, those read as objects
    before (255 and up were no-data, and a 16-bit map's 65535 is: 200 files told to re-save
    without the tag, one line each, review s56 F3); the fix is the user's."""
    v, one = tag_value_shown(value), len(names) == 1
    units, parts = count
    of = f" of each of {words.numbered(parts, PART[unit])}" if parts > len(names) else ""
    log.warning(
        "%s: %s %s no-data: object %s%s (%d %ss%s) counts nowhere; if it is an object, "
        "re-save the %s without the tag to score it",
        *(describe_names(names), f"its {tag} names" if one else f"their {tag}s name", v, v, of),
        *(units, unit),
        *("" if one and parts == 1 else " in all", "file" if one else "files"),
    )


def _filled(raw: np.ndarray, void: np.ndarray) -> np.ndarray:
    """``raw`` with its ``void`` pixels (nodata) holding a value of its other pixels (0
    where it has none), so that they read as some class until they are marked ignored."""
    kept = raw[~void]
    return np.where(void, kept[0] if kept.size else 0, raw)


def _class_indices(pred: np.ndarray, path: Path) -> np.ndarray:
    """A saved class map as int64 class indices; UnetlabError naming ``path`` for values that
    are none: fractions (probabilities, read as class 0 by a cast), NaN, negative values."""
    if not np.issubdtype(pred.dtype, np.integer) and pred.dtype != bool:
        finite = np.isfinite(pred)
        if not finite.all() or not np.array_equal(pred, np.round(pred)):
            bad = pred[~finite] if not finite.all() else pred[pred != np.round(pred)]
            said = (
                f"{path}: a class map holds class indices 0, 1, .., not {pred.dtype} values such "
                f"as {float(bad.flat[0]):g}; save the predicted class of each pixel"
            )
            raise DatasetError(
                **spelled(partial(_saved_as, said), PRED_INSTANCES, _CHECKPOINT_SCORED)
            )
    if pred.min(initial=0) < 0:
        raise DatasetError(
            f"{path}: a class map holds class indices 0, 1, .., not {pred.min()}; save the "
            "predicted class of each pixel"
        )
    return pred.astype(np.int64)


def _page(
    read: PairReader, path: Path, gt: MaskPage, pages=None, axes: str | None = None
) -> np.ndarray:
    """Page ``gt.page`` of the prediction ``path`` (``pages``: its pages, where read
    already; else read by ``axes``, its :func:`planes_axes` found once a file): one (H, W) label image of the
    ground truth's size, from a file of as many pages as the ground truth's."""
    pages = read.stack(path, mask=True, axes=axes) if pages is None else pages
    if len(pages) != gt.pages:
        raise DatasetError(_page_mismatch(path, len(pages), gt.path, gt.pages))
    pred, name, shape = pages[gt.page], gt.where, gt.mask.shape  # a failure: its path
    if pred.ndim != 2:
        raise DatasetError(f"{path}: a prediction is one (H, W) label image, not {pred.shape}")
    if pred.shape != tuple(shape):
        raise DatasetError(
            f"{path}: prediction is {pred.shape[1]}x{pred.shape[0]} but its ground truth "
            f"{name} is {shape[1]}x{shape[0]} (width x height); {_resize_fix(gt.path)}"
        )
    if gt.opens:
        _say_grey_rgb(path, pred)
    return pred


def _resize_fix(truth: Path) -> str:
    """How a prediction of another size than its ground truth ``truth`` is fixed: predict
    the full-size image; a labelme file's size is the one it records (its image elsewhere),
    which may be what is wrong."""
    fix = "predict the full-size image"
    if Path(truth).suffix.lower() != ".json":
        return fix
    return (
        f"{fix}, or, where the labelme file is what is wrong (its imageWidth and imageHeight "
        "give the size without its image), put its image beside it or open it in labelme and "
        "save it again"
    )


def _say_grey_rgb(path: Path, pred: np.ndarray) -> None:
    """Say, once a call, that the prediction ``path`` (``pred``: its first page as read),
    stored as RGB(A) and read as no colour table's, was a grey one read as its grey values,
    as a grey RGB mask is: the rule took it with no word (a 0/255 class map another tool
    saved as RGB, review s68); a colour one is refused (:func:`_map_page`)."""
    if not _stored_in_colour(path) or find_colour_table(path) is not None:
        return
    note_once(
        f"{path}: a grey RGB prediction (R = G = B): read as its grey values "
        f"({words.spaced(np.unique(pred), 12)}), as every such file is (said at the first)",
        key="grey RGB prediction",
    )


def _stored_in_colour(path: Path) -> bool:
    """Whether the image file ``path`` stores colour samples by its header: an RGB(A) PNG
    (or another Pillow format), a TIFF whose first series has samples (S); False where its
    header cannot be read."""
    try:
        if is_tiff_name(path):
            with open_tiff(path) as tif:
                return "S" in tif.series[0].axes
        from PIL import Image

        with Image.open(path) as im:
            return im.mode in ("RGB", "RGBA")
    except (OSError, ValueError, IndexError):
        return False


def _map_page(read: PairReader, path: Path, gt: MaskPage, axes: str | None) -> np.ndarray:
    """:func:`_page` of the class map ``path``; a colour one (RGB, RGBA: PNG or TIFF alike)
    refused in a prediction's words: it was told a mask's fix, class_colors.txt beside the
    data, which predictions are not read by (s67). A TIFF of 3 or 4 planes that records no
    axes is refused by the page counts before it is read (:func:`_refuse_other_planes`)."""
    try:
        return _page(read, path, gt, axes=axes)
    except ColourMaskError as exc:
        raise DatasetError(
            f"{_colour_prediction(path, exc)}, and saved class maps "
            "are read as class indices, by no colour table; save it as class indices "
            f"({exc.INDICES_SAVED}), as unetlab predict writes them"
        ) from exc


def _ids_page(
    read: PairReader, path: Path, gt: MaskPage, pages, axes: str | None, by: str | Spelled
) -> np.ndarray:
    """:func:`_page` of the object ids ``path``; a colour label image of objects (another
    tool's: a colour an object) refused with how the reader ``by`` (``--pred-instances``
    where a class map's name is read as ids) takes them and what writes them: it was told a
    class mask's fix, class_colors.txt beside the data (review s67), and called a mask (s67
    final re-read), and its how-to a mask's (s68)."""
    try:
        return _page(read, path, gt, pages, axes)
    except ColourMaskError as exc:
        said = _colour_prediction(path, exc)
        fix = ColourMaskError.ids_fix
        raise DatasetError(
            **spelled(lambda reader, made: f"{said}; {fix(reader, made)}", by, MADE_OBJECTS)
        ) from None


def _colour_prediction(path: Path, exc: ColourMaskError) -> str:
    """The colour prediction ``path`` (``exc``: its refusal as a mask) in a prediction's
    words: a mask's are the ground truth's (s67)."""
    return f"{path}: this prediction is a colour ({exc.how[1]}) image"


def _saved_as(said: str, ids: str, model: str) -> str:
    """``said``, then what a class map of fractions may be instead, in one caller's words."""
    return (
        f"{said} (object ids: {ids}; probabilities: threshold them first, or evaluate the "
        f"checkpoint with {model})"
    )


#: how a class map of fractions is told the saved ids and the checkpoint, as each caller
#: gives them (s56: a notebook was told --pred-instances, --checkpoint --data)
_CHECKPOINT_SCORED = Spelled("evaluate_model(model, data_dir)", "--checkpoint --data")
#: how a --pred user scores planes read as channels with the checkpoint that predicted them
_AXES_OF_CHECKPOINT = Spelled(
    "evaluate_model(checkpoint, data_dir, axes='ZYX')",
    "unetlab evaluate --checkpoint CKPT --data DIR --axes ZYX",
)


@contextlib.contextmanager
def planes_saved_with_axes() -> Iterator[None]:
    """Within: a mask or prediction read as one image of channels (:class:`ChannelsMaskError`)
    is refused with a fix that scoring saved predictions takes: it takes no axes (the
    files are read as saved; evaluate --pred refuses --axes), so save the file with its
    axes, or score the checkpoint on the images with theirs (it was told 'evaluate --axes
    ZYX', which --pred refuses: s54)."""
    try:
        yield
    except ChannelsMaskError as exc:
        said = (
            f"{exc.problem}: if they are planes, save the file with its axes "
            "(tifffile.imwrite(..., metadata={'axes': 'ZYX'}), TYX for time points), as saved "
            "predictions and their ground truth are read as their files say; or score the "
            "checkpoint on the images, given their axes: "
        )
        raise ImageReadError(**spelled(lambda how: said + how, _AXES_OF_CHECKPOINT)) from exc


def planes_axes(path: Path, truth: Path, pages: int, *, ids: bool = False) -> str | None:
    """The axes to read the prediction ``path`` (object ids where ``ids``) by where its file
    puts planes on its one channel axis, its other axes but Y and X of size 1, and records
    no axes (an ImageJ stack tifffile saved without them reads as CYX): those with Z for C
    where they are the ``pages`` of its ground truth ``truth``, as a prediction holds one
    value a pixel (it was refused as 'one image of 5 channels ... give evaluate --axes
    ZYX', which --pred refuses), said in one line; refused where they are not
    (:func:`_refuse_other_planes`); None: read as the file says. A file that records CYX
    (tifffile's axes, an OME-TIFF of another writer, an ImageJ composite:
    :func:`~unetlab.data.stated_axes.states_axes`) is one image of channels, refused as
    before (review s54 C3: scored as planes unsaid). The line names the file and the axes
    that save it unambiguously (s55: an ImageJ stack saved with ``metadata={'axes': 'CYX'}``
    is byte for byte one saved without axes). Its TIFF header is read once. A NIfTI
    prediction off its NIfTI ground truth's grid is refused (:func:`off_grid_line`)."""
    if is_nifti(path) and is_nifti(truth) and (line := off_grid_line(path, truth)):
        raise DatasetError(line)
    if (read_as := _channel_planes_axes(path)) is None:
        return None
    letters, axes, held = read_as
    if held != pages:
        _refuse_other_planes(path, held, truth, pages, ids)
    log.info(
        "%s: its %d pages record no axes (%s, as tifffile reads it; tifffile.imwrite(..., "
        "imagej=True) writes the same bytes given no axes or axes 'CYX'): read as the %d "
        "planes of its ground truth, a prediction holding one value a pixel; to say so in "
        "the file, save it with its axes (tifffile.imwrite(..., imagej=True, "
        "metadata={'axes': '%s'}))",
        *(path, pages, letters, pages, axes),
    )
    return axes


def _channel_planes_axes(path: Path) -> tuple[str, str, int] | None:
    """(the axes of the TIFF ``path`` as tifffile reads them, those that read the pages on
    its one channel axis as planes: Z for C, :func:`~unetlab.data.tiffmeta.planes_letters`'
    rule, how many planes that axis holds) where it states no axes, has no Z and one C of
    2 or more (an ImageJ stack saved without axes: :func:`series_axes`), else None: one
    rule for the folder look (:func:`_pixel_values`) and scoring (:func:`planes_axes`)."""
    found = series_axes(path, unstated=True)
    if found is None or "Z" in found[0] or found[0].count("C") != 1:
        return None
    letters, shape = found
    held = shape[letters.index("C")]
    if held < 2 or (axes := planes_letters(*found, held)) is None:
        return None
    return letters, axes, held


def _refuse_other_planes(path: Path, held: int, truth: Path, pages: int, ids: bool) -> None:
    """DatasetError for the prediction ``path`` of ``held`` planes on its one channel axis,
    saved without axes (:func:`_channel_planes_axes`), whose ground truth ``truth`` has
    other ``pages``: read as one image of channels, 3 equal planes were one grey image,
    scored as one page unsaid, where 3 unlike ones were refused by the page counts (s68).
    Integer planes are told the page counts (:func:`_page_mismatch`); floating-point ones
    (class probabilities, K planes) what a prediction holds, class indices or object ids,
    as before s68: the page counts' fix, one plane of them, was refused again (review s68)."""
    with open_tiff(path) as tif:
        dtype = tif.series[0].dtype
    if dtype.kind in "biu":  # bool, signed, unsigned integers
        raise DatasetError(_page_mismatch(path, held, truth, pages))
    read = f"{held} planes of {dtype} values (saved without axes: read as one image)"
    if ids:
        raise DatasetError(
            f"{path}: object ids are integers 0 (none), 1..n, one a pixel, not {read}; "
            "write the label image of the objects"
        )
    said = (
        f"{path}: a class map holds class indices 0, 1, .., one a pixel, not {read}; save the "
        "predicted class of each pixel"
    )
    raise DatasetError(**spelled(partial(_saved_as, said), PRED_INSTANCES, _CHECKPOINT_SCORED))


def _outlined(path: Path, gt: MaskPage) -> np.ndarray:
    """The object ids of a prediction drawn as outlines (Fiji's RoiSet.zip, QuPath's
    .geojson), of the size (and stack positions) of the image of its ground truth ``gt``, or
    of the mask itself where it is a label image."""
    drawn = gt.path.suffix.lower() in ANNOTATION_SUFFIXES
    try:
        image = gt.image or (outlined_image(gt.path) if drawn else gt.path)
    except ImageReadError:
        image = predicted_from(path)  # predict's outlines: the input they were drawn on
        if image is None:
            said = (
                f"{path}: outlines carry no image size, nor do the outlines of its ground "
                f"truth {gt.path}, and no input predict made them from is there: "
            )
            raise DatasetError(**spelled(lambda f: said + _size_fix(gt.path, f), GT_DIR)) from None
    return outlined_mask(path, image)


def _page_mismatch(path: Path, pages: int, truth: Path, truth_pages: int) -> str:
    """Why a prediction of ``pages`` pages cannot be scored against its ground truth
    ``truth`` of ``truth_pages``, and the fix: page i is scored against page i, so a stack
    against one annotated plane would score its first plane, whichever plane was annotated."""
    said = f"{path} has {words.numbered(pages, 'page')} but its ground truth {mask_shown(truth)}"
    if (z := slice_of(truth)) is not None:  # one page, of a frame's (its fix was to keep it, s71)
        return (
            f"{said} annotates slice {z} of a 3-D frame of {truth_pages} planes (tTTT.tif of "
            f"man_seg_TTT_ZZZ.tif), scored against page {z} of the frame's prediction: predict "
            f"the whole frame ({words.numbered(truth_pages, 'plane')})"
        )
    said += f" has {truth_pages}"
    if truth_pages == 1:
        fix = (
            "to score the one annotated plane, save that plane of the prediction alone under "
            "this name (or predict that plane of the image)"
        )
    elif pages == 1:
        fix = "predict the whole stack (every annotated plane), or keep only the mask of this plane"
    else:
        fix = "predict the image whose planes the masks annotate"
    return f"{said}: page i is scored against page i; {fix}"


def say_unscored(preds: Predictions, stems: list[str], gt_dir: Path) -> None:
    """One line naming the predictions that no mask of ``gt_dir`` (``stems``) scored (audit
    s34 messy 10: they were left out without a word), in 2-D and in 3-D."""
    unscored = sorted((set(preds.maps) | set(preds.objects)) - set(stems))
    if unscored:
        shown = words.first_listed(unscored, 5)
        log.warning(
            "%s in %s %s no mask in %s and %s not scored: %s",
            words.numbered(len(unscored), "prediction"),
            preds.folder,
            words.worded(len(unscored), "has", "have"),  # not errors.worded (keywords)
            gt_dir,
            words.worded(len(unscored), "is", "are"),
            shown,
        )
