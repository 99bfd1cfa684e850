"""Find image/mask pairs in the usual folder layouts.

- ``images/`` and ``masks/`` with the same file stems (``a.png`` / ``a.png`` or ``a.tif``);
  multi-page TIFF stacks of the same stem are paired page by page. ``images/`` and
  ``instances/`` the same, with masks that hold one id per object. The folders' names are
  read in any letter case (``Images/``), ``masks/`` also as other tools name it (``labels/``,
  ``gt/``, ...): :data:`~unetlab.data.names.FOLDER_NAMES`; two folders of one part are refused.
- The ISBI layout: ``<name>-volume.tif`` with ``<name>-labels.tif`` (stacks, page by page).
- PASCAL VOC: ``JPEGImages/`` with ``SegmentationClass/`` palette PNGs.
- The Cell Tracking Challenge's: sequences ``01/t000.tif`` ... beside ``01_GT/SEG/
  man_seg000.tif`` of some frames, paired by frame number (:mod:`unetlab.data.ctc`).
- The Data Science Bowl 2018's nuclei: ``ID/images/ID.png`` beside ``ID/masks/*.png``, one
  binary mask per object, for each sample ID (:mod:`unetlab.data.dsb`); a pair's mask is the
  ``masks/`` folder, read as one instance map.
- A flat folder (cellpose's): ``X.tif`` (any image type) beside its mask ``X_masks.png`` or
  ``X_masks.tif`` (``X_cp_masks.png``, what cellpose saves, too; or the other common names
  ``X_mask``, ``X_label``, ``X_labels``, ``X_seg``, ``X_gt``, also as ``X-Mask``, ``X mask``:
  :func:`flat_masks`, by :data:`~unetlab.data.names.MASK_NAMES`, which predict passes over;
  ``X_image.tif`` beside ``X_mask.tif`` too: :data:`~unetlab.data.names.IMAGE_NAMES`);
  cellpose's other outputs (``X_flows.tif``, ``X_outlines.png``, ...) are passed over;
  ``X_seg.npy``, its GUI's save, is X's mask (its masks alone: :mod:`unetlab.data.npy`).

Every problem (an image without a mask, a mask without an image, two images of one stem, a
page-count mismatch) is collected and raised as one ``DatasetError`` naming the files.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import functools
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.coco import coco_files, coco_in, coco_pairs, given_coco
from unetlab.data.colour_table import ColourTable
from unetlab.data.ctc import (
    CTC_LAYOUT,
    SCORING,
    TRAINING,
    Truth,
    Use,
    ctc_near,
    ctc_pairs,
    ctc_part,
    ctc_sequences,
    sequences_beside,
    slice_of,
    unread_note,
)
from unetlab.data.decathlon import decathlon_folders, decathlon_pairs
from unetlab.data.dicom import (
    CASE_LABELS,
    case_label,
    case_label_problem,
    is_dicom_series,
    loose_slices_line,
    mask_on_series,
    name_less_suffix,
    series_beside_line,
    series_folders,
    series_header,
    slices_beside_image_line,
)
from unetlab.data.dsb import DSB_LAYOUT, dsb_folder_above, dsb_in_part, dsb_samples
from unetlab.data.folder_notes import (
    converted_to,
    image_subfolders,
    near_line,
    subfolders_line,
    unread_microscope_files,
)
from unetlab.data.grey_masks import grey_masks_read_as, grey_masks_reading
from unetlab.data.h5 import (
    h5_dataset_read_as,
    h5_datasets_reading,
    h5_mask_dataset_read_as,
    h5_mask_dataset_reading,
    holds_h5_mask,
    image_datasets,
    is_h5_name,
    no_image_held,
    padded_fix,
)
from unetlab.data.io import (
    GIVEN_AXES,
    INPUT_SUFFIXES,
    TIFF_SUFFIXES,
    AxesSetting,
    broken_links,
    describe_links,
    file_axes,
    held_at,
    listed_image,
    mask_stem,
    pages_alone,
    passed_over_unsaid,
    read_stack,
    refuse_untiffed_axes,
    stack_shape,
    trained_file_axes,
)
from unetlab.data.labelme import image_of, unread_beside
from unetlab.data.names import (
    ANNOTATION_SUFFIXES,
    MASK_SUFFIXES,
    NAME_THEM,
    OUTLINE_NAMES,
    SPLIT_NAMES,
    channel_named,
    coco_parts,
    ctc_mask,
    folder_candidates,
    image_stem,
    images_of,
    is_seg_name,
    listed_once,
    listing,
    loose,
    mask_shown,
    named_by_digits,
    nfc,
    role_folders,
    stem_endings,
)
from unetlab.data.nifti import is_nifti, nifti_case
from unetlab.data.normalize import channels_of
from unetlab.data.npy import data_set_arrays, data_set_held, holds_data_set
from unetlab.data.orientation import transposed_sizes
from unetlab.data.read_notes import note_once
from unetlab.data.shapes import (
    SHAPE_SUFFIXES,
    say_paired,
    shapes_as_objects,
    shapes_read_as,
)
from unetlab.data.tiffmeta import AXES_AS, channel_names
from unetlab.data.totalseg import (
    TOTALSEG_LAYOUT,
    case_of,
    reference_structures,
    structures_problem,
    totalseg_cases,
)
from unetlab.data.yolo import held_out, yolo_folders
from unetlab.errors import (
    NONE,
    DatasetError,
    ImageReadError,
    Spelled,
    UnetlabError,
    quoted,
    said_as,
    spelled,
)
from unetlab.provenance import command_with, shell_command
from unetlab.words import first_listed, numbered, worded

LAYOUTS = {
    "folders": ("images", "masks"),
    "instances": ("images", "instances"),
    "voc": ("JPEGImages", "SegmentationClass"),
    "cellpose": (".", "."),  # images and masks in the folder itself
    "npz": (".", "."),  # data.npz of images and masks arrays, paired with itself
    "h5": (".", "."),  # CREMI's sample_A.hdf: volumes/raw and its labels, paired with itself
}
#: the stacks of an ISBI data set (``train-volume.tif``), each beside its labels
#: (:func:`isbi_labels`)
ISBI_VOLUMES = "*volume*.tif*"
FOLDER_ROLES = ("images", "masks", "instances", "JPEGImages", "SegmentationClass")
#: the stem endings of cellpose's other outputs, which are no images (cellpose's own list)
CELLPOSE_OUTPUTS = ("_flows", "_flows_0", "_flows_1", "_flows_2", "_cellprob", "_cp_output")
CELLPOSE_OUTPUTS += ("_outlines", "_cp_outlines")
#: the file endings of archives a data set is shared as (given to --data unpacked)
#: the files a masks folder holds: label images, or outlines (ImageJ ROIs, GeoJSON:
#: :mod:`unetlab.data.annotations`)
MASK_FILE_SUFFIXES = (*INPUT_SUFFIXES, *ANNOTATION_SUFFIXES, *SHAPE_SUFFIXES)
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar")
MAX_SHOWN = 20  # problems listed in one error; the rest are counted
GROUPED = 4  # files with one problem that are listed once, with the problem said once


@dataclass(frozen=True)
class Pair:
    """One training/evaluation sample: page ``page`` of ``image`` and of ``mask`` (of
    ``mask_at`` where given: a 3-D frame's mask of its one slice ``page``,
    ``man_seg_TTT_ZZZ.tif``, is a page of its own: 0), the image's TIFF read with ``axes``
    where a user gives them (``data.axes``, ``--axes``; its pages are those axes'), the
    mask's with :func:`mask_axes`."""

    image: Path
    mask: Path
    page: int = 0
    pages: int = 1
    axes: str | None = None
    mask_at: int | None = None

    @property
    def mask_index(self) -> int:
        """The page of :attr:`mask` paired with page :attr:`page` of the image."""
        return self.page if self.mask_at is None else self.mask_at

    @property
    def name(self) -> str:
        """The image's stem (a DICOM series folder's whole name: ``AX 2.5mm``), a stack's
        page, a sequence's frame with its sequence (``01/t001``: :attr:`shown`)."""
        return self.stem if self.pages == 1 else f"{self.stem}[{self.page}]"

    @property
    def files(self) -> tuple[Path, Path]:
        """The mask and the image: where evaluate looks for a volume's voxel size (s74)."""
        return self.mask, self.image

    @property
    def sliced(self) -> bool:
        """Whether its mask is of its one plane (:attr:`mask_at`): no volume's (s74)."""
        return self.mask_at is not None

    @property
    def stem(self) -> str:
        """:attr:`name` less a stack's page: what a volume's case row is named (s74)."""
        return self._sequence + (self.case or name_less_suffix(self.image))

    @property
    def data_set_file(self) -> bool:
        """Whether the page is one of the images of a data set in one ``.npz`` (images and
        masks arrays, paired with itself: :func:`_npz_sets`): a notebook's samples, not a
        stack's neighbouring planes; by what the file holds, so ``images/data.npz`` beside a
        copy ``masks/data.npz`` is one too: s73 review 3)."""
        return data_set_held(self.image)

    @property
    def case(self) -> str | None:
        """The NIfTI case (``spleen_2``) whose volume the page is a slice of, scored whole
        by evaluate too (:mod:`unetlab.evaluate.cases`): a TotalSegmentator case's folder
        (``s0001`` of ``s0001/ct.nii.gz``: :func:`~unetlab.data.totalseg.case_of`); a
        volume's paired with its NIfTI label volume (a DICOM series: its whole name,
        ``CT_1``, as its ``--pred`` labels are named; s74: ``evaluate --checkpoint`` gave it
        no case row); None for others."""
        if is_nifti(self.image):
            return case_of(self.image, self.mask) or nifti_case(self.image)
        if self.pages > 1 and is_nifti(self.mask):
            return name_less_suffix(self.image)
        return None

    @property
    def shown(self) -> str:
        """The image as lines and tables name it: its file name, a stack's page, a frame of
        the Cell Tracking Challenge's layout with its sequence (``01/t001.tif``: the frames
        of the sequences share their names; folds.csv said t001.tif t003.tif t001.tif, s69
        review)."""
        return self.image_page if self.pages > 1 else self._sequence + self.file_name

    @property
    def file_name(self) -> str:
        """The image's file name; a TotalSegmentator case's CT with its case folder
        (``s0001/ct.nii.gz``: every case's is ``ct.nii.gz``)."""
        case = case_of(self.image, self.mask)
        return self.image.name if case is None else f"{case}/{self.image.name}"

    @property
    def _sequence(self) -> str:
        """``01/`` for a frame of the sequence ``01/`` paired with its gold truth, else ''."""
        return f"{self.sequence.name}/" if self.sequence is not None else ""

    @property
    def sequence(self) -> Path | None:
        """The sequence folder (``01/``) of a frame of the Cell Tracking Challenge's layout
        paired with its gold truth (``man_segNNN.tif``), else None."""
        return self.image.parent if ctc_mask(self.mask.name) else None

    @property
    def image_page(self) -> str:
        """The image file, and the page of a stack: where a message about the image points."""
        return self._page_of(self.image)

    @property
    def mask_page(self) -> str:
        """The mask file, and the page of a stack: where a message about the mask points."""
        return str(self.mask) if self.mask_at is not None else self._page_of(self.mask)

    def _page_of(self, path: Path) -> str:
        return str(path) if self.pages == 1 else f"{path} page {self.page}"


def page_count(
    path: Path, axes: str | None = None, axes_as: Spelled = AXES_AS, *, mask: bool = False
) -> int:
    """The pages of an image file as :func:`unetlab.data.io.read_stack` reads them (one rule
    for both: a TIFF's channel axes are not pages; ``axes``: as given, spelled ``axes_as``
    where they do not fit it); 1 for PNG and JPEG; ``mask``: of the file read as a mask (an
    ``.npz``'s masks array). Within :func:`page_counts_held`, a file's count is read once
    while it is unchanged."""
    path = Path(path)
    held = _HELD_COUNTS.get()
    shape = functools.partial(stack_shape, axes=axes, axes_as=axes_as, mask=mask)
    try:
        if held is None or path.suffix.lower() in ANNOTATION_SUFFIXES or not path.is_file():
            return shape(path)[0]  # outlines: their image's; a DSB folder
        stat = path.stat()
        key = (str(path.absolute()), axes, mask, stat.st_mtime_ns, stat.st_size)
        if key not in held:
            held[key] = shape(path)[0]
        return held[key]
    except ImageReadError as exc:
        raise DatasetError(str(exc), cli=exc.cli) from exc


_HELD_COUNTS: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "unetlab_page_counts", default=None
)


@contextlib.contextmanager
def page_counts_held():
    """Within: :func:`page_count` reads each file's count once (a file written since, by its
    time and size, again). ``unetlab train`` pairs its data set twice, for the plan's look
    and for training's split (each saying its own lines), and so opened every image and
    mask twice for it; one command's files are held, nothing beyond it."""
    token = _HELD_COUNTS.set({})
    try:
        yield
    finally:
        _HELD_COUNTS.reset(token)


def mask_axes(mask: Path, axes: str | None) -> str | None:
    """The axes to read the ``mask`` of an image whose ``axes`` a user gives (``evaluate
    --axes``): those but its channels (C, S: a mask holds one value a pixel), where ``mask``
    is a TIFF of as many axes (a stack saved as the image was, without axes); None (read
    as the file says) for any other mask, or no ``axes``."""
    if axes is None:
        return None
    from unetlab.data.tiffmeta import series_axes

    letters = "".join(a for a in axes.upper() if a not in "CS")
    found = series_axes(mask)
    return letters if found is not None and len(found[1]) == len(letters) else None


def _page_mismatch(
    image: Path, mask: Path, n_img: int, n_mask: int, axes: str | None, axes_as: Spelled = AXES_AS
) -> str:
    """The problem line for an image and a mask of different page counts (the image read
    with the user's ``axes``, or None), or an HDF5 file its own mask of another size
    (:func:`_padded_h5`), with the likely cause where the shapes show one; ``axes_as``: how
    its fix gives axes (:func:`_one_mask_fix`)."""
    line = f"{image}: {n_img} pages but its mask {mask_shown(mask, whole=False)} has {n_mask}"
    if mask.suffix.lower() in ANNOTATION_SUFFIXES:
        return (
            f"{line}: its outlines have no stack position, so they are one plane: in Fiji, "
            "set each ROI's slice (ROI Manager > Properties: Position) and save the set "
            "again; or save the annotated plane alone (Image > Duplicate, this slice only) as "
            "the image"
        )
    if data_set_held(image):
        return _data_set_mismatch(image, mask, n_img, n_mask)
    if image == mask and is_h5_name(image):  # a CREMI file, its own mask
        return f"{line if n_img != n_mask else image}: {padded_fix(image)}"
    try:
        _, h, w = stack_shape(image)
        _, mask_h, mask_w = stack_shape(mask, mask=True)
    except ImageReadError:
        return line
    if n_mask == 1 and n_img == mask_h and w <= 8 and h == mask_w:
        return (
            f"{line}: it looks like an (H, W, C) image saved as pages: save it with "
            "photometric='minisblack', planarconfig='contig' (tifffile)"
        )
    if n_mask == 1 and n_img in (3, 4) and (h, w) == (mask_h, mask_w) and _planar_rgb(image):
        return (
            f"{line}: a ({n_img}, H, W) array saved by tifffile is read as {n_img} pages; if it "
            f"is one colour image, save it channels last, as (H, W, {n_img})"
        )
    if n_mask == 1 and (h, w) == (mask_h, mask_w):
        return f"{line}: {_one_mask_fix(image, n_img, axes, axes_as)}"
    if n_img > 1 and n_mask > 1 and (h, w) == (mask_h, mask_w):
        return f"{line}: {_planes_fix(n_img, n_mask)}"
    return line


def _data_set_mismatch(image: Path, mask: Path, n_img: int, n_mask: int) -> str:
    """The problem line for a data set in one ``.npz`` (:func:`_npz_sets`) whose images and
    masks arrays hold ``n_img`` and ``n_mask`` pages (a stack's advice, Fiji's Make
    Substack, said of it: s73 review 6), naming its arrays; channels first where the count
    is 3 or 4 times the masks' (``(N, 3, H, W)`` images read as 3 pages each)."""
    images, masks = data_set_arrays(image)[0], data_set_arrays(mask)[1]
    line = (
        f"{image}: its {images!r} array holds {n_img} images but the {masks!r} array of "
        f"{mask_shown(mask, whole=False)} {n_mask} masks"
    )
    if n_img in (3 * n_mask, 4 * n_mask):
        channels = n_img // n_mask
        return (
            f"{line}: its images look channels first, (N, {channels}, H, W), read as "
            f"{channels} pages each: save them channels last, np.savez(path, "
            f"{images}=np.moveaxis({images}, 1, -1), {masks}={masks})"
        )
    return f"{line}: mask i labels image i, so both need as many: save as many of each"


def _planes_fix(n_img: int, n_mask: int) -> str:
    """The fix for a stack of ``n_img`` planes whose mask is a stack of ``n_mask`` (another
    count) of its size: page i of the mask labels page i of the image."""
    return (
        f"mask page i labels image page i, so both need as many: save the mask with all "
        f"{n_img} planes, or the image with only the {n_mask} planes the mask labels (Fiji: "
        "Image > Stacks > Tools > Make Substack)"
    )


#: the most pages without axes metadata that may be one image's channels (13: Sentinel-2's bands)
MAX_BARE_CHANNELS = 16


#: the axes a fix shows as an example for a TIFF of 2 (3) page axes that records none
BARE_EXAMPLES = {2: "ZCYX", 3: "TZCYX"}


def _one_mask_fix(image: Path, n_img: int, axes: str | None, axes_as: Spelled = AXES_AS) -> str:
    """The fix for an image of ``n_img`` pages whose mask has one page of its size: a stack
    annotated on one plane, or (up to ``MAX_BARE_CHANNELS`` pages without axes metadata: a
    multispectral (C, H, W) array tifffile saved, 5 bands and more too) channels read as
    pages, which ``--axes CYX`` reads as they are; a bare 4-D or 5-D array's axes named
    (``--axes CYX`` fails there: s52 badinput); the stack's fix alone where the user's
    ``axes`` name them. ``axes_as``: how its caller gives axes, said in the caller's form
    (:func:`~unetlab.errors.said_as`: a problem line carries one; Python was told "--axes
    CYX (data.axes: CYX)", s57)."""
    given = said_as(axes_as)
    stack = (
        f"a {n_img}-plane stack needs one mask plane per plane; to train on the one annotated "
        "plane, save that plane alone (Fiji: Image > Duplicate, this slice only)"
    )
    letters, shape = _page_axes(image)
    if axes is not None and (len(letters) > 1 or "C" in axes.upper()):  # named: planes
        return stack
    if len(letters) > 1 and set(letters) <= set("QI"):  # a bare 4-D, 5-D: --axes CYX fails
        return (
            f"its shape {shape} records no axes: name each (e.g. "
            f"{given.format(BARE_EXAMPLES.get(len(letters), 'TZCYX'))}); {stack}"
        )
    if n_img > MAX_BARE_CHANNELS or letters not in ("", "Q", "I"):  # Z, T: said so
        return stack
    return (
        f"if these are {n_img} channels saved without axes, give them: {given.format('CYX')}"
        ", or save with ImageJ metadata axes CYX (tifffile.imwrite(path, a, "
        f"imagej=True, metadata={{'axes': 'CYX'}})) or channels last, as (H, W, {n_img}); if "
        f"it is a stack, {stack}"
    )


def _page_axes(path: Path) -> tuple[str, tuple[int, ...]]:
    """The letters tifffile gives a TIFF's page axes, in order (Z, T, or Q and I where no
    metadata names them: ``QQQ`` for a bare 5-D array, whose pages are no channels), and the
    series' shape; ("", ()) for other files."""
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return "", ()
    import tifffile

    with tifffile.TiffFile(path) as tif:
        axes, shape = tif.series[0].axes.upper(), tuple(tif.series[0].shape)
    return "".join(a for a in axes if a not in "YXCS"), shape


def _planar_rgb(path: Path) -> bool:
    """True for a TIFF stored as RGB planes (what tifffile writes for a (3|4, H, W) array)."""
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return False
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.series[0].keyframe
        return int(page.photometric) == 2 and int(page.planarconfig) == 2


def _by_stem(
    folder: Path, problems: list[str], *, masks: bool, nifti: bool = False
) -> dict[str, Path | None]:
    """File stem -> file of ``folder``; None for a stem that several files share (named in
    ``problems``: which one pairs would be a guess), except a mask saved both lossless and as
    JPEG, whose lossless file is taken. ``nifti``: NIfTI volumes too (DICOM series' labels)."""
    if broken := broken_links(folder):
        problems.append(f"{folder}/: {describe_links(broken)}: restore or remove them")
    groups: dict[str, list[Path]] = {}
    suffixes = MASK_FILE_SUFFIXES if masks else INPUT_SUFFIXES
    for f in _input_files(folder, suffixes, nifti=nifti):
        groups.setdefault(mask_stem(f) if masks else nfc(f.stem), []).append(f)
    if subs := image_subfolders(folder, INPUT_SUFFIXES):
        fix = "move their files up into it (the names kept) to use them"
        note_once(subfolders_line(folder, subs, fix))
    if not masks and (line := series_beside_line(folder, subs)):
        note_once(line)
    out: dict[str, Path | None] = {}
    shared = [f for files in groups.values() if len(files) > 1 for f in files]
    predicted = [] if masks else _predicted_among(folder, shared)
    for stem, files in groups.items():
        lossless = [f for f in files if f.suffix.lower() not in (".jpg", ".jpeg")]
        if len(files) == 1 or (masks and len(lossless) == 1):
            out[stem] = lossless[0] if len(files) > 1 else files[0]
            continue
        out[stem] = None
        kind = "masks" if masks else "images"
        if set(files) & set(predicted):
            continue  # said in one line below
        problems.append(
            f"{folder}/: {len(files)} {kind} share the stem {stem} "
            f"({', '.join(f.name for f in files)}): keep one, or rename the others "
            "(images and masks pair by file stem)"
        )
    if predicted:
        problems.append(_predicted_line(folder, predicted))
    return out


def _predicted_among(folder: Path, files: list[Path]) -> list[Path]:
    """Those of ``files`` that unetlab predict wrote into ``folder`` (its manifest lists
    them): labels of the images beside them, where ``predict --output`` was their folder."""
    from unetlab.errors import OutputError
    from unetlab.manifest import MANIFEST, writers_of

    if not files or not (folder / MANIFEST).exists():
        return []
    try:
        ours = writers_of(folder)
    except OutputError:  # an unreadable manifest: the stems line says the rest
        return []
    return [f for f in files if "predict" in ours.get(f.name, ())]


def _predicted_line(folder: Path, predicted: list[Path]) -> str:
    """The problem of images that share their stems with predict's labels written among them
    (audit s37 paths F: ``predict --input data/images --output data/images --overwrite`` of
    JPEGs wrote x.png beside x.jpg, and train said '2 images share the stem x' per image)."""
    names = ", ".join(f.name for f in predicted[:3]) + (" ..." if len(predicted) > 3 else "")
    words = _ONE_LABEL if len(predicted) == 1 else _LABELS
    return (
        f"{folder}/: {numbered(len(predicted), 'file')} there {words[0]} that unetlab predict "
        f"wrote among the images ({names}; its .unetlab-outputs lists {words[1]}), read as "
        f"{words[2]}: move {words[1]} out of this folder (predict into another --output)"
    )


#: :func:`_predicted_line`'s words of one label and of several (s56 review B: "1 file there
#: is a label ... lists them, read as images ... move them out")
_ONE_LABEL = ("is a label", "it", "an image sharing its stem")
_LABELS = ("are labels", "them", "images sharing their stems")


def _isbi_pairs(root: Path) -> list[tuple[Path, Path]]:
    volumes = [p for p in listing(root) if fnmatch.fnmatch(p.name, ISBI_VOLUMES)]  # as glob
    pairs = []
    for v in volumes:
        label = isbi_labels(v)
        if label.exists():
            pairs.append((v, label))
    return pairs


def isbi_labels(volume: Path) -> Path:
    """The label stack of the ISBI stack ``volume`` (``train-volume.tif``:
    ``train-labels.tif``), which may be missing."""
    return volume.with_name(volume.name.replace("volume", "labels"))


@listed_once()  # its root listed once (s60: 6 times for a DSB folder, s59: 3 more)
def detect_layout(root: Path, flag: str | Spelled = "--data") -> str:
    """'folders', 'instances', 'voc', 'isbi', 'ctc' (the Cell Tracking Challenge's), 'cellpose',
    'dsb', 'series' (DICOM series folders, each holding its seg.nii.gz) or a DatasetError
    saying what was expected (and which sub-folders hold a data set, if any: ``train/`` and
    ``test/``); ``flag``: the option that gave ``root``, named in the
    fix (``evaluate --gt``'s)."""
    if layout := _layout(root):
        return layout
    folders = [d for d in listing(root) if d.is_dir()]
    held = [d.name for d in folders if _layout(d)]
    if held and (part := dsb_in_part(root, held)) is not None:
        raise part
    if held:
        pick = next(
            (h for w in ("test", "val") for h in held if h.casefold() in SPLIT_NAMES[w]), held[0]
        )
        said = f"{root}: no data set in the folder itself, but {'/, '.join(held)}/ " + (
            "hold" if len(held) > 1 else "holds"
        )
        # evaluate's data_dir, gt_dir: not a training's data set
        trains = folders if _trains(flag) else None
        raise DatasetError(
            **spelled(
                lambda f: f"{said} one: give {f} {root / pick}{_trains_with(f, root, trains)}",
                flag,
            )
        )
    refuse_data_set_part(root, flag)  # find_pairs' own, as its caller names it
    refuse_ctc_part(root, flag)
    near = near_misses(root, TRAINING if _trains(flag) else SCORING) + _npz_alone(root)
    near += _h5_alone(root, _trains(flag))
    found = f": {'; '.join(near)}" if near else ""
    raise DatasetError(
        f"{root}: no data set found{found}; expected images/ and masks/ (or labels/, or "
        "instances/; any letter case) folders with the same file names, cellpose's X.tif beside "
        "X_masks.png (or .tif, or X_mask, X_label, X_seg, X_gt), an ISBI pair NAME-volume.tif + "
        "NAME-labels.tif, PASCAL VOC JPEGImages/ + SegmentationClass/, "
        f"{CTC_LAYOUT}, one folder per image as the Data Science Bowl's (ID/images/ID.png "
        f"+ ID/masks/, one PNG per object), {TOTALSEG_LAYOUT}, or a DICOM series folder per "
        "case holding its seg.nii.gz beside its slices"
    )


def refuse_ctc_part(folder: Path, flag: str | Spelled) -> None:
    """One DatasetError where ``folder`` (given as ``flag``) is a sequence's gold or silver
    truth of the Cell Tracking Challenge's layout (:func:`~unetlab.data.ctc.ctc_part`:
    ``01_GT/TRA/``, markers given as masks), naming the data set folder to give."""
    refuse_truth(ctc_part(folder), flag)


#: what a data set folder given in the place of its truth pairs each frame with: the gold
#: truth, or the silver where that was given (it was told of the gold alone, s70 review)
GOLD_READ = "NN_GT/SEG/man_segNNN.tif"
SILVER_READ = "NN_ST/SEG/man_segNNN.tif where data.ctc_truth is silver: --set data.ctc_truth=silver"


def refuse_truth(
    part: Truth | None, flag: str | Spelled, fix: str = "", *, sequence: bool = False
) -> None:
    """:func:`refuse_ctc_part` of the truth folder ``part`` (:func:`~unetlab.data.ctc.ctc_part`'s,
    found once by a caller that reads it too), none where None: the data set folder named
    (the ``sequence`` folder ``01/``: evaluate's, whose predictions are of one sequence);
    ``fix``: what giving it does, else that it pairs frames by number."""
    if part is None:
        return
    to = part.sequence if sequence else part.sequence.parent
    fix = fix or f"which pairs each frame tNNN.tif with {SILVER_READ if part.silver else GOLD_READ}"
    raise DatasetError(**spelled(lambda f: f"{part.said}: give {f} {to} ({fix})", flag))


def near_misses(root: Path, use: Use) -> list[str]:
    """What ``root`` holds that is nearly a data set, each with the change that makes it one
    (``use``: as a training or evaluate reads it): an image and its mask of one name
    (``a.png``, ``a.tif``) side by side, masks that name their image in another letter case,
    sequences of the Cell Tracking Challenge's layout without the truth read."""
    renames = []
    stems: dict[str, list[str]] = {}
    for f in _input_files(root):
        stems.setdefault(nfc(f.stem), []).append(f.name)
    if shared := [names for names in stems.values() if len(names) > 1]:
        renames.append(
            f"found {numbered(len(shared), 'name')} with two files ({', '.join(shared[0])}): if one of "
            "each is the mask, move the images into images/ and the masks into masks/ (or "
            "name each mask X_mask.png)"
        )
    return renames + _masks_of_other_case(stems) + _images_alone(root) + ctc_near(root, use)


def _images_alone(root: Path) -> list[str]:
    """The near miss of an ``images/`` with no masks' folder beside it: the masks' folder
    inside it (``images/masks/``, to move up), or none found."""
    images = folder_candidates(root, ("images",))["images"]
    if len(images) != 1 or any(folder_candidates(root, ("masks", "instances")).values()):
        return []
    folder = images[0]
    inside = [f for fs in folder_candidates(folder, ("masks", "instances")).values() for f in fs]
    if inside:
        sub = inside[0]
        return [
            f"{folder.name}/{sub.name}/ ({len(_input_files(sub))} files) lies inside "
            f"{folder.name}/: move it up beside {folder.name}/ ({root / sub.name})"
        ]
    return [
        f"{folder.name}/ ({len(_input_files(folder))} files) has no masks/ beside it: put "
        f"each image's mask, of its name, in {root / 'masks'}"
    ]


def _masks_of_other_case(names: dict[str, list[str]]) -> list[str]:
    """The near miss of a flat folder whose masks name their image in another letter case
    (``img_01_mask.png`` beside ``IMG_01.tif``), from its file names by stem."""
    folded = {loose(stem): files[0] for stem, files in names.items()}
    found = [
        (files[0], folded[loose(base)])
        for stem, files in names.items()
        if (base := image_stem(stem)) and base not in names and loose(base) in folded
    ]
    if not found:
        return []
    mask, image = found[0]
    return [
        f"found {numbered(len(found), 'mask')} whose image's name differs in letter case ({mask} beside "
        f"{image}): rename them to match (a mask pairs with the image of its exact name)"
    ]


def _trains_with(flag: str, root: Path, folders: list[Path] | None) -> str:
    """How the line of a folder ``root`` (its sub-``folders``) whose train/ holds a data set
    says to train on it, in the spelling of ``flag`` (the command's ``--data``; Python's
    config key; split_pairs' own call, which reads train/ itself: it was given no hint, s58
    forms9); nothing where the folder was not given as a training set's (``folders`` None:
    evaluate's data_dir was told of fit, s49 review1); where ``root`` has no train/, to put
    the training set there."""
    if folders is None:
        return ""
    if not any(d.name.casefold() in SPLIT_NAMES["train"] for d in folders):
        # no train/ to read: the call that just failed was recommended (s58 review G)
        return f" (or put the training set in {root / 'train'}/)"
    if flag == SPLIT_ROOT.python:
        return f" (split_pairs({str(root)!r}) reads train/ with val/, if any)"
    fit = "train --data " if flag.startswith("-") else "fit with cfg.data.root="
    return f" ({fit}{root} reads train/ with val/, if any)"


#: the data set's folder, as a config (``fit``, ``plan_training``) and ``unetlab train`` give
#: it: the lines that say to give another folder name it so (s49: fit said --data)
DATA_ROOT = Spelled("cfg.data.root", "--data")
#: find_pairs' own argument, as its callers name it (a missing folder was told to give
#: --data, a flag they have not; review s57) and as the command line, which reads --data
FIND_ROOT = Spelled("find_pairs' root", "--data")


def _trains(flag: str | Spelled) -> bool:
    """Whether the folder ``flag`` gave is a training's data set (evaluate's ``data_dir``,
    ``gt_dir``: scored)."""
    return flag in ("--data", DATA_ROOT, FIND_ROOT, SPLIT_ROOT)


#: split_pairs' own argument, as its callers name it (a mistyped root was told to give
#: cfg.data.root, a config they have not, s57) and as the command line, which reads --data
SPLIT_ROOT = Spelled("split_pairs' root", "--data")
#: the end of the line refusing a data set's images/ or masks/ folder given as the data set
#: (``"data"``), as its masks or as predictions: ``{flag}`` names the argument
PART_GIVEN = {
    "data": ": give {flag} {parent} (the folder that holds {holds}/)",
    "masks": ", not its masks: give {flag} {parent}",
    "predictions": ", its images, not predictions: give {flag} the folder unetlab predict wrote",
}


def refuse_data_set_part(
    folder: str | os.PathLike, names: str | Spelled, given_as: str = "data"
) -> None:
    """The one check of a data set's images/ or masks/ folder given where the data set
    (``given_as`` ``"data"``), its masks or predictions were expected (for these two its
    images/ folder alone: its masks/ is masks): one DatasetError naming the data set's
    folder and the argument ``names`` both ways (:class:`~unetlab.errors.Spelled`: in Python
    ``cfg.data.root``, ``data_dir``, ``gt_dir``, ``pred_dir``; the command's flag), so that
    each entry point checks it once and the command prints its flag (s48: Python was told
    --data and --gt, s49: three levels checked it, each naming its own spelling). A folder
    of a data set's layout of its own passes."""
    folder = Path(folder)
    parent = data_set_above(folder) if folder.is_dir() else None
    if parent is None or _has_layout(folder):  # the parent's listing first: the cheaper
        return
    folders = layout_folders(parent)
    if given_as != "data" and folder.resolve() != folders[0]:
        return
    head = f"{folder}: this is the {folder.resolve().name}/ folder of the data set {parent}"
    holds = "/ and ".join(d.name for d in folders)
    fix = functools.partial(PART_GIVEN[given_as].format, parent=parent, holds=holds)
    raise DatasetError(**spelled(lambda flag: head + fix(flag=flag), names))


def _has_layout(folder: Path) -> bool:
    """Whether ``folder`` is a data set of some layout (:func:`_layout`; one whose folders
    are ambiguous, e.g. images/ beside Images/, is: its own line says so)."""
    try:
        return _layout(folder) is not None
    except DatasetError:
        return True


def data_set_above(folder: Path) -> Path | None:
    """The data folder ``folder`` is the images/ or masks/ folder of (given to --data in its
    place), or None."""
    folder = folder.resolve()  # "." too
    try:
        with passed_over_unsaid():  # its files are not read: no line of them
            layout = _layout(folder.parent) if folder.parent != folder else None
    except (OSError, DatasetError, ImageReadError):  # a parent folder it may not list, of no
        return None  # data set, or a file there no command reads (a cut-short CREMI sample)
    if layout not in LAYOUTS or layout == "cellpose":
        return None
    return folder.parent if folder in layout_folders(folder.parent, layout) else None


def layout_folders(root: Path, layout: str | None = None) -> tuple[Path, ...]:
    """The folders of ``root`` that hold its images and masks, as named there (``Images/``,
    ``labels/``: :func:`unetlab.data.names.role_folders`): (images, masks); (``root``,
    ``root``) for a flat folder, (``root``,) for ISBI stacks. ``layout``: ``root``'s
    (:func:`detect_layout`), found when not given."""
    layout = layout or detect_layout(root)
    roles = LAYOUTS.get(layout, (".",))
    if roles[0] == ".":
        return tuple(root for _ in roles)
    folders = role_folders(root, roles)
    if folders is None:
        raise DatasetError(f"{root}: no {'/ and '.join(roles)}/ folders")
    return tuple(folders[role] for role in roles)


@listed_once()  # its root listed once: the Cell Tracking Challenge's check lists it too
def _layout(root: Path) -> str | None:
    """The layout of ``root`` (:func:`detect_layout`), or None; DatasetError where two of
    its folders could play one part (``images/`` and ``Images/``)."""
    if decathlon_folders(root) is not None:  # imagesTr/ + labelsTr/ (NIfTI volumes)
        return "decathlon"
    if yolo_folders(root) is not None:  # images/train/ + labels/train/ + data.yaml
        return "yolo"
    found = folder_candidates(root, FOLDER_ROLES)  # the folder listed once
    for layout in ("folders", "instances", "voc"):
        if (folders := role_folders(root, LAYOUTS[layout], found)) is not None:
            if coco_in(root, folders.values()):  # CVAT's images/ + annotations/*.json
                return "coco"
            shown = f"{'/ and '.join(f.name for f in folders.values())}/"
            sequences_beside(root, shown)
            return layout
    if coco_files(root):  # the JSON beside the images (Label Studio, Roboflow)
        return "coco"
    if _isbi_pairs(root):
        return "isbi"
    images = _input_files(root)
    if ctc_sequences(root):
        _cellpose_beside(root, images)
        return "ctc"
    outlines, alone = flat_outlines(root, images)
    ome = _ome_bases(nfc(f.stem) for f in images)  # a.geojson beside a.ome.tif: its hint
    if (
        flat_masks(nfc(f.stem) for f in images)
        or outlines
        or any(nfc(f.stem) in ome for f in alone)
        or _named(root)
    ):
        return "cellpose"
    if dsb_samples(root) is not None:
        return "dsb"
    if totalseg_cases(root) is not None:
        return "totalseg"
    if _npz_sets(root):
        return "npz"
    if _h5_sets(root):
        return "h5"
    if not images and _series_cases(root):
        return "series"  # case_1/ holding its slices and seg.nii.gz (a per-case export)
    return None


def _npz_sets(root: Path, names: list[str] | None = None) -> list[Path]:
    """The ``.npz`` files of ``root`` that hold a data set each (:func:`~unetlab.data.npy.
    holds_data_set`: a notebook's ``np.savez('data.npz', images=..., masks=...)``);
    ``names``: those stems only."""
    found = [p for p in listing(root) if holds_data_set(p)]
    return [p for p in found if names is None or nfc(p.stem) in names]


def _npz_given_line(root: Path, flag: str, use: Use) -> str:
    """The line for the data set in one ``.npz`` ``root`` given as the data folder (``flag``)
    of a command that reads it for ``use``: the user's command, the file's folder in its
    place, where that reads it as the command's data (a ``val.npz`` beside it validating);
    else the commands that put it in a folder of its own first (s74 review 2: the folder's
    command read other files, or none of it), moved where that changes nothing the folder
    reads, copied where the folder's split would change."""
    said = f"{root}: a data set in one file, where {flag} takes a folder"
    folder, own = root.parent, "into a folder of its own"
    if not _is_npz_layout(folder):
        why = f"{os.path.abspath(folder)}'s data set is of another layout, which does not read it"
        return f"{said}; {why}: move it {own}: {_own_folder(root, flag, 'mv')}"
    read = _npz_read(_npz_sets(folder), use)
    part = _npz_part(read, use)
    if part == [root]:
        command = command_with(root, folder) or f"give {flag} {folder}"
        validated = [p.name for p in read if p != root]
        return f"{said}: {command}" + (f" (validating on {validated[0]})" if validated else "")
    if root in part:
        others = first_listed([p.name for p in part if p != root], 3)
        moved = f"to read {root.name} alone, move it {own}: {_own_folder(root, flag, 'mv')}"
        return f"{said}: its folder's reads {others} with it; {moved}"
    reads = first_listed([p.name for p in part], 3)
    copied = f"copy it {own} (moved, {os.path.abspath(folder)}'s split would change)"
    return (
        f"{said}: its folder's would {use.verb} {reads}, not {root.name}; to {use.verb} it "
        f"alone, {copied}: {_own_folder(root, flag, 'cp')}"
    )


def _h5_sets(root: Path, names: list[str] | None = None) -> list[Path]:
    """The HDF5 files of ``root`` that are their own masks, each holding the dataset
    ``data.h5_mask_dataset`` names (:func:`~unetlab.data.h5.holds_h5_mask`: CREMI's
    ``volumes/labels/neuron_ids`` beside ``volumes/raw``); ``names``: those stems only."""
    found = [p for p in listing(root) if is_h5_name(p) and holds_h5_mask(p)]
    return [p for p in found if names is None or nfc(p.stem) in names]


def _h5_labelled(root: Path, names: list[str] | None) -> list[Path]:
    """:func:`_h5_sets` of ``root``; its other HDF5 files of an image (CREMI's unlabelled
    test volumes, ``sample_A+.hdf``) said left out in one line, with the command that
    predicts them (s75: left out unsaid)."""
    found = _h5_sets(root, names)
    alone = [
        p
        for p in listing(root)
        if is_h5_name(p)
        and p not in found
        and (names is None or nfc(p.stem) in names)
        and no_image_held(p) is None
    ]
    if alone:
        said, one = first_listed([p.name for p in alone], 3), len(alone) == 1
        note_once(
            f"{root}: {said} hold{'s' * one} no {h5_mask_dataset_reading()} (unlabelled, as "
            f"CREMI's test volumes): left out; predict {'it' if one else 'them'} (unetlab "
            f"predict --checkpoint MODEL --input {alone[0]})"
        )
    return found


def _own_folder(root: Path, flag: str, verb: str) -> str:
    """The commands that put the ``.npz`` data set ``root`` in a folder of its own (``verb``:
    ``mv``, ``cp``) and read it there (the user's command, that folder in its place): one
    beside its folder (``nb_test/``), never in it, whose layout may read it (``nb/val/``),
    nor one there (``nb_test_2/``: s75 review, ``mkdir -p`` moved it over a file of that
    name there, and a folder of other data sets reads them with it); ``mkdir`` plain, so
    that the line stops where one was made since."""
    folder = Path(os.path.abspath(root)).parent
    alone = _free_folder(folder.with_name(f"{folder.name}_{root.stem}"))
    command = command_with(root, alone) or f"give {flag} {alone}"
    into = shell_command(verb, root, f"{alone}/")
    return f"{shell_command('mkdir', alone)} && {into} && {command}"


def _free_folder(wanted: Path) -> Path:
    """``wanted``, else the first of ``wanted_2``, ``wanted_3``... that is not there."""
    numbered = (wanted.with_name(f"{wanted.name}_{n}") for n in itertools.count(2))
    return next(p for p in itertools.chain([wanted], numbered) if not os.path.lexists(p))


def _series_cases(root: Path) -> bool:
    """Whether a sub-folder of ``root`` is a DICOM series holding its label volume beside
    its slices (:func:`~unetlab.data.dicom.case_label`); ``root`` and its sub-folders
    listed as the other layouts list them (once: :func:`~unetlab.data.names.listing`), a
    sub-folder looked into for slices only where it holds a file named so."""
    folders = (d for d in listing(root) if d.is_dir())
    named = (d for d in folders if any(f.name.lower() in CASE_LABELS for f in listing(d)))
    return any(is_dicom_series(d) and case_label(d) for d in named)


def npz_val_split(root: Path) -> tuple[list[str], str, list[str]] | None:
    """(the stems of the training data sets, the validation one's, the names of those left
    out: a test split, :func:`_npz_used`) of the ``.npz`` data sets of ``root`` where one is
    named for validation (``val.npz``, ``validation.npz``: as a ``val/`` folder beside
    ``train/``; it was trained on: s74), where they are the data set (:func:`detect_layout`
    ``npz``: a folder of images/ and masks/ with a notebook's cache beside is not split by
    it, s74 review 1); else None."""
    sets = _npz_sets(root)
    if (split := _npz_val(sets)) is None or not _is_npz_layout(root):
        return None
    tests = [p.name for p in sets if _split_named(p, "test")]
    return [nfc(p.stem) for p in split[0]], nfc(split[1].stem), tests


def _is_npz_layout(root: Path) -> bool:
    """Whether ``root``'s layout is one data set per ``.npz`` (:func:`_layout`; False where
    two of its folders could play one part: its own line says so)."""
    try:
        return _layout(root) == "npz"
    except DatasetError:
        return False


def _npz_val(sets: list[Path]) -> tuple[list[Path], Path] | None:
    """The training data sets and the validation one of :func:`npz_val_split` of ``sets``."""
    vals = [p for p in sets if _split_named(p, "val")]
    train = [p for p in sets if p not in vals and not _split_named(p, "test")]
    return (train, vals[0]) if len(vals) == 1 and train else None


def _split_named(path: Path, split: str) -> bool:
    """Whether the data set ``path`` is named as the part ``split`` of a split data set."""
    return path.stem.casefold() in SPLIT_NAMES[split]


def _npz_used(root: Path, sets: list[Path], use: Use) -> list[Path]:
    """The data sets of ``sets`` (the ``.npz`` files of ``root``) a command reads
    (:func:`_npz_read`), said in one line where there are several (nb/{train,test}.npz
    trained and validated on test.npz too, unsaid: s73 review 8)."""
    if len(sets) < 2:
        return sets
    used = _npz_read(sets, use)
    _refuse_two_vals(used)
    note_once(f"{root}/: {len(sets)} data sets in one file each{_npz_how(root, sets, used, use)}")
    return used


def _refuse_two_vals(used: list[Path]) -> None:
    """DatasetError where two of the data sets a command reads (``used``) are named for
    validation (``val.npz`` and ``validation.npz``): neither was the split, all trained on
    as one (s75); scoring beside a ``test.npz`` reads neither (s75 review 8: refused)."""
    if len(vals := [p for p in used if _split_named(p, "val")]) > 1:
        shown = " and ".join(p.name for p in vals)
        raise DatasetError(
            f"{vals[0].parent}: {shown} both name the validation split: keep one (merge the "
            f"other into it: np.savez of each array np.concatenate-d, then remove it), or "
            "rename one to train on it"
        )


def _npz_read(sets: list[Path], use: Use) -> list[Path]:
    """The data sets of ``sets`` a command reads for ``use``: training leaves those named a
    test split out (``test.npz``: as a ``test/`` folder beside ``train/``), scoring reads
    those alone, where some are; else scoring reads a validation one alone (``val.npz``
    beside ``train.npz``: as ``val/`` beside ``train/``, :func:`npz_val_split`; s74 review 4:
    both were scored as one), a training validates on it."""
    tests = [p for p in sets if _split_named(p, "test")]
    if 0 < len(tests) < len(sets):
        return [p for p in sets if (p in tests) != (use == TRAINING)]
    split = _npz_val(sets)
    return [split[1]] if split and use == SCORING else sets


def _npz_part(read: list[Path], use: Use) -> list[Path]:
    """The data sets of ``read`` (:func:`_npz_read`) a command takes as its data: those it
    trains on, a validation one left out; all of those it scores."""
    split = _npz_val(read) if use == TRAINING else None
    return split[0] if split else read


def _npz_how(root: Path, sets: list[Path], used: list[Path], use: Use) -> str:
    """The end of :func:`_npz_used`'s line: which of ``sets`` are ``used``, and how."""
    names = ", ".join(p.name for p in used)
    left = ", ".join(p.name for p in sets if p not in used)
    if split := _npz_val(used) if use == TRAINING else None:
        names = f"{', '.join(p.name for p in split[0])}, validate on {split[1].name}"
    if not left:
        return f": train on {names}" if split else f" ({names}): {use.verb} them as one"
    if use == TRAINING:
        return (
            f": train on {names}; {left} left out, a test split (evaluate --data {root} scores it)"
        )
    part = "test" if any(_split_named(p, "test") for p in used) else "validation"
    return f": score {names}, the {part} split, alone ({left} left out)"


def _cellpose_beside(root: Path, images: list[Path]) -> None:
    """:func:`~unetlab.data.ctc.unread_note` where ``root``, read as the Cell Tracking
    Challenge's layout, holds pairs of cellpose's beside its sequences (``a.tif`` +
    ``a_masks.tif``; the CTC set was read and ``a`` dropped without a word, s69 review)."""
    if masks := flat_masks(nfc(f.stem) for f in images):
        first = sorted(masks)[0]
        unread = f"cellpose's pairs (an image beside its mask: {masks[first]}, {first}, ...)"
        fix = "move them into a folder of their own"
        unread_note(root, "the Cell Tracking Challenge's sequences", unread, fix)


def _input_files(
    folder: Path, suffixes: Sequence[str] = INPUT_SUFFIXES, *, nifti: bool = False
) -> list[Path]:
    """The image files of ``folder`` (the files of ``suffixes``: masks also as outlines,
    :data:`MASK_FILE_SUFFIXES`; NIfTI volumes where ``nifti``), macOS metadata twins
    (``._name.tif``) and other formats named as MRC files passed over
    (:func:`~unetlab.data.io.listed_image`)."""
    return [f for f in listing(folder) if listed_image(f, suffixes, nifti=nifti)]


def flat_masks(stems: Iterable[str]) -> dict[str, str]:
    """``{mask stem: image stem}`` of the masks among the file stems of one folder, the rule
    of a flat data set: cellpose's (``X_masks``, ``X_cp_masks``, as cellpose writes them)
    always; the other names of :data:`~unetlab.data.names.MASK_NAMES` (``X_mask``,
    ``X-Label``, ...: :func:`~unetlab.data.names.image_stem`) where the folder names one of
    its masks so, beside its image (the others of that exact ending are then masks whose
    image is missing)."""
    stems = list(stems)
    bases = {stem: base for stem in stems if (base := image_stem(stem))}
    paired = images_of(stems)  # X_mask beside X, or beside X_image
    used = {stem[len(bases[stem]) :] for stem in paired}  # "_mask"
    return {
        stem: paired.get(stem, base)
        for stem, base in bases.items()
        if stem[len(base) :] in used or stem.endswith(MASK_SUFFIXES)
    }


def flat_outlines(folder: Path, images: Sequence[Path]) -> tuple[dict[str, list[Path]], list[Path]]:
    """(``{image stem: [outline files]}``, the outline files of no image) of a flat
    ``folder`` whose ``images`` are given: ``X.zip``, ``X.roi``, ``X.geojson`` (outlines:
    :data:`~unetlab.data.names.ANNOTATION_SUFFIXES`) beside ``X.tif`` are its mask (also as
    ``X.tif.geojson``: :func:`~unetlab.data.io.mask_stem`), as are ``X_rois.zip``, ``X_RoiSet.zip``, ``X_masks.geojson``, ...
    (:data:`~unetlab.data.names.OUTLINE_NAMES`) where no image is named so."""
    stems = {nfc(f.stem) for f in images}
    found: dict[str, list[Path]] = {}
    alone = []
    for f in _input_files(folder, (*ANNOTATION_SUFFIXES, *SHAPE_SUFFIXES)):
        stem = nfc(f.stem) if nfc(f.stem) in stems else mask_stem(f)  # X.tif.zip: X.tif's
        base = stem if stem in stems else image_stem(stem, OUTLINE_NAMES)
        if base in stems:
            found.setdefault(base, []).append(f)
        else:
            alone.append(f)
    return found, alone


def masks_beside_images(files: Sequence[Path]) -> list[Path]:
    """The files of ``files`` that are masks of another of them in one folder (``X_masks.png``,
    ``X_mask.png``, ... beside ``X.tif`` or ``X_image.tif``:
    :func:`~unetlab.data.names.images_of`; an ISBI ``train-labels.tif`` beside
    ``train-volume.tif``: :func:`isbi_labels`), by the rules training pairs them by: what a
    folder given to predict holds beside its images when it is a data set, and is no image
    to predict. A mask's name without its image (``labels.tif`` alone) is an image."""
    stems: dict[Path, set[str]] = {}
    for f in files:
        stems.setdefault(f.parent, set()).add(nfc(f.stem))
    masks = {folder: images_of(names) for folder, names in stems.items()}
    given = set(files)
    stacks = {label for f in files if f.match(ISBI_VOLUMES) and (label := isbi_labels(f)) in given}
    return [f for f in files if nfc(f.stem) in masks[f.parent] or f in stacks]


def no_data_folder(root: Path, flag: str | Spelled = "--data") -> DatasetError:
    """The error for a data folder that is not one: a file (an archive: unpack it), or
    nothing; ``flag``: the option that gave it."""
    if root.is_file() and root.name.lower().endswith(ARCHIVES):
        said = f"{root} is an archive, not a data folder: unpack it (double-click it, or unzip "
        return DatasetError(
            **spelled(lambda f: f"{said}/ tar -xf) and give {f} the folder it holds", flag)
        )
    if holds_data_set(root):  # np.savez(f, images=..., masks=...): its folder's layout
        use = TRAINING if _trains(flag) else SCORING
        return DatasetError(**spelled(lambda f: _npz_given_line(root, f, use), flag))
    if root.exists():
        said = (
            "the folder that holds images/ "
            "and masks/ (or train/ and val/ of those, NAME-volume.tif with NAME-labels.tif, "
            "X.tif beside X_masks.png or X_mask.png, VOC's JPEGImages/ and SegmentationClass/, or "
            f"{DSB_LAYOUT})"
        )
        return DatasetError(
            **spelled(lambda f: f"{root} is a file, not a data folder: give {f} {said}", flag)
        )
    near = near_line(root)
    return DatasetError(
        **spelled(
            lambda f: f"{root}: no such data folder; give {f} the folder of the data set{near}",
            flag,
        )
    )


#: how to give a run a data folder, as a config in Python and ``unetlab train`` take it
#: (four lines said it four ways, two of them both inline: s56)
ROOT_FIX = Spelled(
    "set cfg.data.root = 'path/to/data'", "give --data DIR (or data.root in the --config file)"
)


def refuse_no_root(root: str | os.PathLike | None) -> None:
    """UnetlabError in one line where a run is given no data folder (``root``: a config's
    ``data.root``, None), naming :data:`ROOT_FIX` as its caller gives it."""
    if root is None:
        raise UnetlabError(**spelled(lambda fix: f"no data folder: {fix}", ROOT_FIX))


def refuse_missing_root(root: str | os.PathLike, names: str | Spelled = DATA_ROOT) -> None:
    """:func:`no_data_folder` where ``root`` (a config's ``data.root``) is no folder,
    :func:`refuse_data_set_part` where it is a data set's images/ or masks/: a
    DatasetError naming ``names`` both ways (``cfg.data.root`` in Python, ``--data`` on the
    command line)."""
    if not Path(root).is_dir():
        raise no_data_folder(Path(root), names)
    refuse_data_set_part(root, names)


def problems_error(
    problems: Sequence[str], *, where: str | os.PathLike = "the data set", fix: str = ""
) -> DatasetError:
    """One DatasetError: "N problem(s) in ``where``:" then the first :data:`MAX_SHOWN`
    ``problems`` (the rest counted), those of many files with one text said once
    (:func:`group_problems`), and the ``fix``, if any. One problem is one line; more are
    one a line below the count, paths in the data folder ``where`` relative to it."""
    lines = group_problems(problems)
    fix = f". Fix: {fix}" if fix else ""
    if len(lines) == 1:
        return DatasetError(f"{numbered(len(problems), 'problem')} in {where}: {lines[0]}{fix}")
    shown = [_inside(line, where) for line in lines[:MAX_SHOWN]]
    if len(lines) > MAX_SHOWN:
        shown.append(f"... and {len(lines) - MAX_SHOWN} more")
    listed = "".join(f"\n  {line}" for line in shown)
    said = " (paths relative to it)" if any(a != b for a, b in zip(shown, lines)) else ""
    text = f"{numbered(len(problems), 'problem')} in {where}{said}:{listed}\n{fix[2:]}"
    return DatasetError(text.rstrip(), listed=True)


def _inside(line: str, where) -> str:
    """``line`` with the paths in the folder ``where`` (a path) relative to it; ``where``
    itself kept (a flat folder's 'WHERE/: 2 images share the stem x' said ': 2 images')."""
    if not isinstance(where, os.PathLike) and not os.path.isabs(str(where)):
        return line
    folder = re.escape(str(Path(where)).rstrip("/") + "/")
    return re.sub(rf"(?<![\w./-]){folder}(?![\s:,;)]|$)", "", line)


def group_problems(problems: Sequence[str]) -> list[str]:
    """``problems`` ("FILE: text" each) with those of :data:`GROUPED` or more files that share
    one text said once, "N files in FOLDER: text (a.png, b.png, c.png and 17 more)", the files
    sorted; the others as they are. In the order of each text's first problem."""
    files: dict[str, list[str | None]] = {}
    for problem in problems:
        head, sep, text = problem.partition(": ")
        if sep and head:
            files.setdefault(text, []).append(head)
        else:
            files.setdefault(problem, []).append(None)
    lines = []
    for text, heads in files.items():
        if len(heads) >= GROUPED and None not in heads:
            lines.append(_grouped(text, sorted(_unviewed(h) for h in heads)))
        else:
            lines += [text if h is None else f"{_unviewed(h, alone=True)}: {text}" for h in heads]
    return lines


def _unviewed(head: str, *, alone: bool = False) -> str:
    """A problem's file as the user knows it: a COCO file's image mask (its path
    ``.../instances_default.json/a0.png#classes`` was said: "5 files in .../instances_default
    .json: ... (a0.png#classes, ...)") as the file and the image it lists, ``.../instances_
    default.json/a0.png`` to be grouped, ``alone`` as :func:`mask_shown`; any other as it is."""
    if (parts := coco_parts(Path(head))) is None:
        return head
    return mask_shown(Path(head)) if alone else f"{parts[0]}/{parts[2]}"


def _grouped(text: str, files: list[str]) -> str:
    """One line for one ``text`` of many ``files`` (paths; or names such as a stack's pages)."""
    folders = {Path(f).parent for f in files}
    folder = folders.pop() if len(folders) == 1 else None
    names = [Path(f).name for f in files] if folder is not None else files
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if folder == Path("."):  # names, not paths
        return f"{shown}: {text}"
    where = f" in {folder}" if folder is not None else ""
    return f"{len(files)} files{where}: {text} ({shown})"


def find_pairs(
    root: str | os.PathLike,
    *,
    names: list[str] | None = None,
    problems: list[str] | None = None,
    flag: str | Spelled = FIND_ROOT,
    axes: str | None = None,
    refuse_untiffed: bool = True,
    trained: bool = False,
    channels: int = 1,
    axes_setting: AxesSetting = GIVEN_AXES,
) -> list[Pair]:
    """All (image, mask[, page]) pairs under ``root`` (a data folder, or a COCO file: its
    images' alone); ``names`` restricts to those stems.

    Every problem (an image without a mask, a mask without an image, several images of one
    stem, a page-count mismatch) is raised in one DatasetError; with a ``problems`` list they
    are added to it instead and the pairs that are sound are returned, so that a caller can
    check those too and report everything at once. ``flag``: the option that gave ``root``,
    which the lines that say to give another folder name (``evaluate --gt``: not --data);
    ``axes``: the images' TIFF axes as a user gives them (``evaluate --axes``), and their
    masks' (:func:`mask_axes`); a set without a TIFF is refused for them unless not
    ``refuse_untiffed`` (a split whose other part the caller checks with it: its images read
    as they are) or ``trained`` (axes a checkpoint trained with: taken by the TIFFs they fit,
    :func:`~unetlab.data.io.trained_file_axes`, with the model's ``channels``).
    ``axes_setting``: how lines name the setting that gave ``axes``
    (:data:`~unetlab.data.io.GIVEN_AXES`: ``axes=``; a training's
    :data:`~unetlab.data.io.DATA_AXES`: ``cfg.data.axes``)."""
    root = Path(root)
    layout = _root_layout(root, flag)
    if names is not None:
        names = [nfc(n) for n in names]
    _refuse_one_sample(root, layout, flag)
    found: list[str] = []
    files = _layout_pairs(root, layout, names, found, TRAINING if _trains(flag) else SCORING)
    say_paired(root, files)
    if refuse_untiffed and not trained:
        refuse_untiffed_axes(root, (image for image, _ in files), axes, axes_setting)
    read = functools.partial(trained_file_axes, channels=channels) if trained else file_axes
    read_as = (read, axes_setting.given)
    pairs = [p for image, mask in files for p in _paged(image, mask, axes, found, read_as)]
    pairs = _one_mask_a_plane(pairs)
    if problems is not None:
        problems += found
    elif found:
        raise problems_error(found, where=root)
    if not pairs and not found:
        raise DatasetError(f"{root}: no image/mask pairs found{_empty_folders(root, layout)}")
    return pairs


def _root_layout(root: Path, flag: str | Spelled) -> str:
    """The layout of the data folder ``root`` (:func:`detect_layout`); ``"coco"`` for a COCO
    file (:func:`~unetlab.data.coco.given_coco`: its pairs alone; ``evaluate --gt
    FILE.json``); DatasetError for another file or nothing (:func:`no_data_folder`)."""
    if given_coco(root):
        return "coco"
    if not root.is_dir():
        raise no_data_folder(root, flag)
    return detect_layout(root, flag)


def _layout_pairs(
    root: Path, layout: str, names: list[str] | None, found: list[str], use: Use
) -> list:
    """The (image, mask) files of ``root`` as its ``layout`` pairs them (``names``: those
    stems only), the problems of pairing them added to ``found``; ``use``: whether they
    train or are scored, as the lines say it."""
    if layout == "isbi":
        return _isbi_pairs(root)
    if layout == "cellpose":
        return _flat_pairs(root, names, found)
    if layout == "dsb":
        return _dsb_pairs(root, names, found)
    if layout == "totalseg":
        return _totalseg_pairs(root, names, found)
    if layout == "ctc":
        return ctc_pairs(root, found, use)
    if layout == "decathlon":  # its DICOM series' label volumes checked on them too
        return _on_series(root, decathlon_pairs(root, names, found), found)
    if layout == "coco":
        return coco_pairs(root, names, found)
    if layout == "yolo":
        return _yolo_pairs(root, names)
    if layout == "npz":  # each file its own mask: its masks array
        return [(path, path) for path in _npz_used(root, _npz_sets(root, names), use)]
    if layout == "h5":  # each file its own mask: its data.h5_mask_dataset
        return [(path, path) for path in _h5_labelled(root, names)]
    if layout == "series":
        return _on_series(root, _case_pairs(root, names, found), found, SERIES_CASES)
    return _on_series(root, _folder_pairs(root, layout, names, found), found)


#: how the series of a data set are paired with their label volumes, as its line says it
BY_NAME = "paired with their NIfTI label volumes by name"
SERIES_CASES = (
    "each paired with the NIfTI label volume in its folder, beside its slices (a case "
    "folder of a per-case export)"
)


def _case_pairs(root: Path, names: list[str] | None, found: list[str]) -> list:
    """(series, its label volume) of each DICOM series folder of ``root`` (those of
    ``names``) holding its ``seg.nii.gz`` (:func:`~unetlab.data.dicom.case_label`); one that
    holds none, or two, said in ``found``, and so are folders holding slices beside an image
    file (:func:`~unetlab.data.dicom.slices_beside_image_line`)."""
    series = [s for s in series_folders(root) if names is None or nfc(s.name) in names]
    found += [line for s in series if (line := case_label_problem(s))]
    found += [line] if (line := slices_beside_image_line(root)) else []
    return [(s, label) for s in series if (label := case_label(s)) is not None]


def _on_series(root: Path, files: list, found: list[str], how: str = BY_NAME) -> list:
    """``files`` less the DICOM series whose NIfTI label volume does not lie on it or that
    cannot be read, each said in ``found`` (:func:`_series_problem`); the series paired
    said in one line, ``how``."""
    series = [(i, m) for i, m in files if is_nifti(m) and is_dicom_series(i)]
    wrong = {i: line for i, m in series if (line := _series_problem(i, m))}
    found += wrong.values()
    if paired := [(i, m) for i, m in series if i not in wrong]:
        (image, mask), more = paired[0], ", ..." if len(paired) > 1 else ""
        said = numbered(len(paired), "DICOM series", "DICOM series")
        note_once(
            f"{root}: {said} {how} ({image.parent.name}/{image.name}/ + {mask.parent.name}/"
            f"{mask.name}{more}), each lying on its series",
            level=logging.INFO,
        )
    return [(i, m) for i, m in files if i not in wrong]


def _series_problem(series: Path, mask: Path) -> str | None:
    """Why the DICOM series folder ``series`` and its NIfTI label volume ``mask`` make no
    pair (:func:`~unetlab.data.dicom.mask_on_series`; the series or the volume unread: a
    tilted gantry, a damaged file, gathered with the data set's other problems), or None."""
    try:
        return mask_on_series(series_header(series), mask)
    except ImageReadError as exc:
        return str(exc)


def _yolo_pairs(root: Path, names: list[str] | None) -> list[tuple[Path, Path]]:
    """(image, label file) of each image of a YOLO data set's split folders
    (:func:`~unetlab.data.yolo.yolo_folders`) that has one (``names``: those stems only);
    those of none, which Ultralytics reads as background, passed over (said in one line)."""
    pairs, alone, folders = [], [], yolo_folders(root) or []
    _say_held_out(root, [images for images, _ in folders if held_out(images)])
    for images, labels in folders:
        if held_out(images):
            continue
        texts = {nfc(f.stem): f for f in _input_files(labels, SHAPE_SUFFIXES)}
        for image in _input_files(images):
            if names is not None and nfc(image.stem) not in names:
                continue
            text = texts.get(nfc(image.stem))
            pairs += [(image, text)] if text is not None else []
            alone += [image] if text is None else []
    if alone:
        note_once(
            f"{root}: {numbered(len(alone), 'image')} without a label file passed over "
            f"({first_listed([str(a.relative_to(root)) for a in alone])}): write an empty "
            "labels/<split>/<stem>.txt for each to train it as background"
        )
    return pairs


def _say_held_out(root: Path, tests: list[Path]) -> None:
    """The line saying a YOLO set's test folders (``images/test/``) are left out."""
    if tests:
        note_once(
            f"{root}: {', '.join(f'{t.relative_to(root)}/' for t in tests)} left out: a YOLO "
            "set's test split, kept for a score of a run that never saw it (predict it, then "
            "evaluate --gt its labels/ folder)"
        )


def _paged(image: Path, mask: Path, axes: str | None, found: list[str], read_as) -> list[Pair]:
    """A pair per page of ``image`` and its ``mask`` (``read_as``: (read, axes_as); read by
    ``read(image, axes)``: :func:`~unetlab.data.io.file_axes`, a PNG beside TIFFs read as it
    is, or ``trained_file_axes``; axes that do not fit spelled ``axes_as``); none, its
    problem added to ``found``, where they cannot be read or differ in pages."""
    read, axes_as = read_as
    try:
        axes = read(image, axes)
        n_img = page_count(image, axes, axes_as)
        n_mask = page_count(mask, mask_axes(mask, axes), axes_as, mask=True)
    except (DatasetError, ImageReadError) as exc:  # a broken TIFF's, as page_count's
        found.append(quoted(exc))
        return []
    if (z := slice_of(mask)) is not None:
        return _one_slice(image, mask, z, (n_img, n_mask), found, axes)
    if n_img != n_mask or _padded_h5(image, mask):
        found.append(_page_mismatch(image, mask, n_img, n_mask, axes, axes_as))
        return []
    return [Pair(image, mask, page, n_img, axes) for page in range(n_img)]


def _padded_h5(image: Path, mask: Path) -> bool:
    """Whether ``image``, an HDF5 file its own mask, holds labels of another height or width
    than its image (CREMI's volumes padded in y and x alone: s75 review, said page by page
    as masks of another size, the fix unnamed); False where it cannot be read (its read
    says why)."""
    if image != mask or not is_h5_name(image):
        return False
    try:
        return stack_shape(image)[1:] != stack_shape(mask, mask=True)[1:]
    except ImageReadError:
        return False


def _one_mask_a_plane(pairs: list[Pair]) -> list[Pair]:
    """``pairs`` less those of a plane that a mask of that one slice pairs with too (a 3-D
    frame's gold ``man_seg_TTT_ZZZ.tif`` beside its whole silver mask, under
    ``data.ctc_truth: both``), the pages of each image in order."""
    sliced = {(p.image, p.page) for p in pairs if p.mask_at is not None}
    if not sliced:
        return pairs
    kept = [p for p in pairs if p.mask_at is not None or (p.image, p.page) not in sliced]
    order = {image: i for i, image in enumerate(dict.fromkeys(p.image for p in kept))}
    return sorted(kept, key=lambda p: (order[p.image], p.page))


def _one_slice(
    image: Path, mask: Path, z: int, sizes: tuple[int, int], found: list[str], axes: str | None
) -> list[Pair]:
    """The pair of plane ``z`` of the 3-D frame ``image`` with ``mask``, the mask of that one
    slice (``man_seg_TTT_ZZZ.tif``; ``sizes``: the pages of both); none, its problem added
    to ``found``, where the mask is no one plane or the frame has no plane ``z``."""
    n_img, n_mask = sizes
    if n_mask != 1:
        found.append(
            f"{mask}: the mask of slice {z} alone (man_seg_TTT_ZZZ.tif) has {n_mask} pages: "
            f"save that one plane (or the frame's whole mask as {mask.parent}/man_segTTT.tif)"
        )
    elif z >= n_img:
        fix = "name it by its slice (from 0)" if n_img > 1 else "a 2-D frame's is man_segTTT.tif"
        found.append(
            f"{mask}: the mask of slice {z}, but its frame {image.name} has "
            f"{numbered(n_img, 'slice')}: {fix}"
        )
    else:
        return [Pair(image, mask, z, n_img, axes, mask_at=0)]
    return []


def _empty_folders(root: Path, layout: str) -> str:
    """What to say of a data set of no pairs: its images/ and masks/ hold no image files."""
    if layout not in ("folders", "instances"):
        return ""
    images, masks = (d.name for d in layout_folders(root, layout))
    return (
        f": {images}/ and {masks}/ hold no image files; put each image in {images}/ and its "
        f"mask, of the same file name, in {masks}/"
    )


def _refuse_one_sample(root: Path, layout: str, flag: str | Spelled) -> None:
    """DatasetError where ``root`` (of ``layout``, given as ``flag``) is one sample of a Data
    Science Bowl folder: its images/ and masks/ would read as a data set of one image."""
    if layout == "folders" and (above := dsb_folder_above(root)) is not None:
        said = f"{root}: this is one sample of the Data Science Bowl folder {above} (one folder "
        said += "per image, its masks/ one file per object): give "
        raise DatasetError(**spelled(lambda f: f"{said}{f} {above}", flag))


def _folder_pairs(
    root: Path, layout: str, names: list[str] | None, problems: list[str]
) -> list[tuple[Path, Path]]:
    """(image, mask) files of an images/ + masks/ layout paired by stem; problems added."""
    img_dir, mask_dir = layout_folders(root, layout)
    series = {nfc(d.name): d for d in series_folders(img_dir)}  # images/<series>/: a volume
    loose = loose_slices_line(img_dir)  # images/IM0001.dcm, ...: no series folder
    if line := loose or _class_folders(mask_dir, img_dir) or _other_files(mask_dir, bool(series)):
        problems.append(line)
        return []
    images = _by_stem(img_dir, problems, masks=False) | series
    masks = _by_stem(mask_dir, problems, masks=True, nifti=bool(series))  # <series>.nii.gz
    images, masks = _listed(images, masks, names)
    if layout == "voc" and names is None:  # VOC ships masks for only part of its images
        images = {s: p for s, p in images.items() if s in masks}
    lone_images = [s for s, path in images.items() if s not in masks and path is not None]
    lone_masks = [s for s, path in masks.items() if s not in images and path is not None]
    suffix = _mask_suffix(lone_images, lone_masks) if layout != "voc" else None
    if suffix is not None:
        example = masks[lone_masks[0]].name
        problems.append(
            f"{mask_dir}/: masks are named <stem>{suffix} ({example}): images and masks pair "
            f"by the same stem: rename the masks (drop '{suffix}')"
        )
        lone_images = [s for s in lone_images if s + suffix not in lone_masks]
        lone_masks = []
    lone_images, lone_masks = _named_masks(lone_images, lone_masks, masks, problems)
    lone_images, lone_masks = _near_names(lone_images, lone_masks, masks, problems)
    lone_images, lone_masks = _ome_names(lone_images, lone_masks, (images, masks), problems)
    lone_images, lone_masks = _endings_line(lone_images, lone_masks, (images, masks), problems)
    problems += _lone_image_problems([images[s] for s in lone_images], mask_dir)
    if layout != "voc":  # VOC's images without masks are not training images
        lone_masks = _archives_passed_over(lone_masks, masks, img_dir)
        problems += _lone_mask_problems([masks[s] for s in lone_masks], img_dir)
    problems += [
        f"{s}: listed in the split file but not in {img_dir}/"
        for s in sorted(set(names or ()) - set(images))
    ]
    return [
        (images[s], masks[s])
        for s in sorted(images)
        if s in masks and None not in (images[s], masks[s])
    ]


def _lone_image_problems(lone: list[Path], mask_dir: Path) -> list[str]:
    """A problem for each image of ``lone`` without a mask: one whose mask's name is a
    folder's (``masks/01.tif/``) says so."""
    folders = _folders_named_as_files(mask_dir) if lone else {}
    return [
        _a_folder(folder)
        if (folder := folders.get(nfc(image.stem)))
        else f"{image}: no mask in {mask_dir}/ with this name"
        for image in lone
    ]


def _folders_named_as_files(folder: Path) -> dict[str, Path]:
    """The sub-folders of ``folder`` named as image files (``01.tif/``), by stem: they were
    passed over as no files, and their image or mask was said to be missing (s51 walkbad)."""
    return {
        nfc(d.stem): d
        for d in folder.iterdir()
        if d.suffix.lower() in INPUT_SUFFIXES and d.is_dir()
    }


def _a_folder(folder: Path) -> str:
    return (
        f"{folder}/ is a folder, not an image file: put the file {folder.name} in its place "
        "(a stack's planes as one multi-page TIFF)"
    )


def _lone_mask_problems(lone: list[Path], img_dir: Path) -> list[str]:
    """A problem for each mask of ``lone`` without an image: one whose image is in a
    microscope format unetlab does not read (``s1.czi``) names it and the conversion; one
    whose image's name is a folder's (``images/01.tif/``) says so."""
    unread = {nfc(f.stem): f for f in unread_microscope_files(img_dir)} if lone else {}
    folders = _folders_named_as_files(img_dir) if lone else {}
    return [
        _a_folder(folders[nfc(mask.stem)])
        if nfc(mask.stem) in folders
        else _no_image(mask, img_dir, unread.get(nfc(mask.stem)))
        for mask in lone
    ]


def _no_image(mask: Path, img_dir: Path, unread: Path | None) -> str:
    if unread is None:
        return f"{mask}: mask without an image in {img_dir}/"
    return (
        f"{mask.parent.name}/{mask.name}: its image {img_dir.name}/{unread.name} is in a format "
        f"unetlab does not read: convert it to {converted_to(unread)}"
    )


def _archives_passed_over(lone_masks: list[str], masks: dict, img_dir: Path) -> list[str]:
    """The unpaired masks but the .zip files (an archive kept beside the masks, or a RoiSet
    of no image's name), which are passed over and said once; the images they leave without
    a mask are problems still."""
    zips = [masks[s] for s in lone_masks if masks[s].suffix.lower() == ".zip"]
    if zips:
        shown = ", ".join(z.name for z in zips[:3]) + (" ..." if len(zips) > 3 else "")
        note_once(
            f"{zips[0].parent}/: {shown}: no image of that name in {img_dir}/: passed over "
            "(a RoiSet.zip is the mask of the image of its name)"
        )
    return [s for s in lone_masks if masks[s].suffix.lower() != ".zip"]


def _class_folders(mask_dir: Path, img_dir: Path) -> str | None:
    """The problem of a masks/ folder that holds no masks but a sub-folder of masks per class
    (``masks/nuclei/a.png``, ``masks/cells/a.png``, as some annotation tools export them;
    audit s35 messy 3), or None."""
    if _input_files(mask_dir, MASK_FILE_SUFFIXES):
        return None
    stems = {nfc(f.stem) for f in _input_files(img_dir)}
    subs = [
        d.name
        for d in sorted(mask_dir.iterdir())
        if d.is_dir()
        and not d.name.startswith(".")
        and stems & {nfc(f.stem) for f in _input_files(d)}
    ]
    if len(subs) < 2:
        return None
    return (
        f"{mask_dir}/: no masks, but a folder of them per class ({'/, '.join(subs)}/): a mask "
        "holds every class of its image (0 background, 1, 2, ...): merge each image's masks "
        f"into one label image in {mask_dir.name}/ (e.g. {subs[0]} = 1, {subs[1]} = 2), named "
        "as the image"
    )


def _other_files(mask_dir: Path, nifti: bool = False) -> str | None:
    """The problem of a masks/ folder (such as COCO's ``annotations/``) that holds no image
    (nor a NIfTI volume, where ``nifti``: DICOM series' labels) but other files
    (``instances.json``, YOLO's ``a.txt``), or None."""
    if _input_files(mask_dir, MASK_FILE_SUFFIXES, nifti=nifti):
        return None
    files = sorted(f.name for f in mask_dir.iterdir() if f.is_file() and f.name[0] != ".")
    if not files:
        return None
    shown = ", ".join(files[:3]) + (" ..." if len(files) > 3 else "")
    if slicer := [f for f in files if f.lower().endswith(".nrrd")]:
        return (
            f"{mask_dir}/: 3D Slicer's segmentations ({', '.join(slicer[:3])}), which unetlab "
            "does not read: in 3D Slicer's Segmentations module, 'Export to files' as NIfTI "
            f"(.nii.gz), saved as {mask_dir.name}/<image>.nii.gz (a DICOM series': "
            "<series>.nii.gz, named as its folder)"
        )
    return (
        f"{mask_dir}/: no masks, but {numbered(len(files), 'other file')} ({shown}): masks are label "
        "images (PNG or TIFF, 0 background, 1, 2, ... or 0/255) or outlines (Fiji's "
        "RoiSet.zip, QuPath's .geojson), one per image, named as the image"
    )


def _named_masks(
    lone_images: list[str], lone_masks: list[str], masks: dict, problems: list[str]
) -> tuple[list[str], list[str]]:
    """The unpaired masks named ``<image stem>_mask`` (or another of
    :data:`~unetlab.data.names.MASK_NAMES`) each said with its rename (audit s34 messy 6);
    the image and mask stems still unpaired."""
    named = {m: base for m in lone_masks if (base := image_stem(m)) in lone_images}
    for m, base in named.items():
        path = masks[m]
        problems.append(
            f"{path}: looks like the mask of image {base}: rename it {base}{path.suffix} "
            "(images and masks pair by the same stem)"
        )
    return _still_lone(lone_images, lone_masks, named)


def _near_names(
    lone_images: list[str], lone_masks: list[str], masks: dict, problems: list[str]
) -> tuple[list[str], list[str]]:
    """The unpaired masks whose stem is one unpaired image's but for letter case or spaces at
    its ends (``img_01`` for ``IMG_01``: alike to Windows and macOS), each said with the fix
    (audit s35 messy 3); the image and mask stems still unpaired."""
    by_loose: dict[str, list[str]] = {}
    for stem in lone_images:
        by_loose.setdefault(loose(stem), []).append(stem)
    named = {}
    for m in lone_masks:
        if len(found := by_loose.get(loose(m), [])) == 1:
            named[m] = found[0]
    problems += [
        f"{masks[m]}: its name and its image's differ only in letter case or spaces: rename "
        "one of them to match (images and masks pair by the exact name)"
        for m in named
    ]
    return _still_lone(lone_images, lone_masks, named)


def _ome_names(
    lone_images: list[str], lone_masks: list[str], files: tuple[dict, dict], problems: list[str]
) -> tuple[list[str], list[str]]:
    """The unpaired masks named as an unpaired OME-TIFF less its ``.ome`` (``a.geojson`` for
    ``a.ome.tif``, whose stem is ``a.ome``; ``.OME`` too), said with the name to give
    (:func:`_ome_lines`; two lines before, no mask and no image, naming neither, s63);
    ``files``: the images and masks by stem. The stems still unpaired."""
    images, masks = files
    lone = {s: images[s] for s in lone_images}, {m: masks[m] for m in lone_masks}
    return _still_lone(lone_images, lone_masks, _ome_named(*lone, problems))


def _ome_named(
    images: dict[str, Path | None], masks: dict[str, Path | None], problems: list[str]
) -> dict[str, str]:
    """Of the unpaired ``images`` and ``masks`` (by stem; None: a stem several files share,
    said elsewhere), mask stem -> image stem of the masks named as an OME-TIFF image less
    its ``.ome``, said in ``problems`` (:func:`_ome_lines`). The one rule of folder and flat
    layouts (a flat folder's own rule took a stem two images share for an OME-TIFF and
    raised AttributeError)."""
    bases = _ome_bases(s for s, path in images.items() if path is not None)
    named = {m: bases[m] for m, path in masks.items() if m in bases and path is not None}
    problems += _ome_lines({masks[m]: images[image] for m, image in named.items()})
    return named


def _listed(images: dict, masks: dict, names: list[str] | None) -> tuple[dict, dict]:
    """The ``images`` and ``masks`` (by stem) of the stems ``names`` lists (a split file;
    None: all), with the masks named as a listed OME-TIFF less its ``.ome`` where no image
    has that stem nor the OME-TIFF a mask of its own, and the OME-TIFF is one file
    (:func:`_ome_named` says the name to give them; a split file of an images/ + masks/
    folder said only 'no mask'; a stray kept beside the OME-TIFF's own mask was a mask
    without an image, beside a stem two images share a letter-case near miss)."""
    if names is None:
        return images, masks
    listed = {k: v for k, v in images.items() if k in set(names)}
    bases = _ome_bases(listed).items()
    kept = set(names) | {
        b for b, s in bases if b not in images and s not in masks and listed[s] is not None
    }
    strays = {
        _one_file(masks[b]): (listed[s], _one_file(masks[s]))
        for b, s in bases
        if b in masks and s in masks and b not in kept | set(images) and listed[s] is not None
    }
    _say_strays({m: found for m, found in strays.items() if None not in (m, *found)})
    return listed, {k: v for k, v in masks.items() if k in kept}


def _one_file(found: Path | list | None) -> Path | None:
    """The one mask file of a stem: an images/ + masks/ folder's (None: several), or a flat
    folder's ``[(name, path)]`` where it holds one."""
    if found is None or isinstance(found, Path):
        return found
    return found[0][1] if len(found) == 1 else None


def _say_strays(strays: dict[Path, tuple[Path, Path | None]]) -> None:
    """One line on the masks named as a listed OME-TIFF less its ``.ome`` (mask -> (that
    image, its own mask)) that a split file leaves out as it leaves out the stems it does
    not list: the OME-TIFF has a mask of its own (review s64 left them out without a word)."""
    if not strays:
        return
    (mask, (image, own)), *more = strays.items()
    line = (
        f"{mask}: named as {image.name} less '.ome', which has its mask {own.name}: left out, "
        "as a file the split file does not list"
    )
    if more:
        line = (
            f"{mask.parent}/: {len(strays)} masks named as a listed OME-TIFF less '.ome' beside "
            f"its own mask ({first_listed([m.name for m in strays], 3)}): left out, as files "
            "the split file does not list"
        )
    note_once(line, level=logging.INFO)


#: the suffixes of an OME-TIFF (``a.ome.tif``; ``.ome.btf``: OME's BigTIFF)
OME_TIFF_SUFFIXES = (".tif", ".tiff", ".btf")


def _ome_bases(image_stems: Iterable[str]) -> dict[str, str]:
    """``{stem less .ome: stem}`` of the OME-TIFF stems among ``image_stems`` (``a.ome``,
    ``a.OME``), the name a mask given the stem less its ``.ome`` has."""
    return {s[: -len(".ome")]: s for s in image_stems if s.lower().endswith(".ome")}


def _ome_lines(named: dict[Path, Path]) -> list[str]:
    """The problem of the masks of ``named`` (mask -> its image, an OME-TIFF: ``.ome.tif``)
    named as their image less its ``.ome``: one line each for one, one line with their count
    for more (a folder of 30 such masks said 30 lines, s63). An image of another format
    (``a.ome.png``) is no OME-TIFF: said as a stem that keeps '.ome'."""
    if not named:
        return []
    (mask, image), *more = named.items()
    stem = nfc(image.name)[: -len(image.suffix)]
    to = stem + nfc(mask.name)[len(stem) - len(".ome") :]  # a_masks.png -> a.ome_masks.png
    tiff = all(p.suffix.lower() in OME_TIFF_SUFFIXES for p in named.values())
    why = "images and masks pair by the same stem"
    if not more:
        kind = "is an OME-TIFF, whose stem keeps" if tiff else "has a stem that keeps"
        return [f"{mask}: its image {image.name} {kind} '.ome': rename the mask {to} ({why})"]
    kind, why = (
        ("OME-TIFF image", f"an OME-TIFF's stem keeps '.ome'; {why}") if tiff else ("image", why)
    )
    return [
        f"{mask.parent}/: {len(named)} masks are named as their {kind} less '.ome' "
        f"({first_listed([m.name for m in named], 3)}): rename each as its image's stem, "
        f"{mask.name} as {to} ({why})"
    ]


def _still_lone(
    lone_images: list[str], lone_masks: list[str], named: dict[str, str]
) -> tuple[list[str], list[str]]:
    """The image and mask stems not in ``named`` (mask stem -> the image stem said with it)."""
    paired = set(named.values())
    return [s for s in lone_images if s not in paired], [m for m in lone_masks if m not in named]


def _flat_pairs(
    root: Path, names: list[str] | None, problems: list[str]
) -> list[tuple[Path, Path]]:
    """(image, mask) files of a flat folder (``X.tif`` beside ``X_masks.png``, ``X_mask.png``,
    ...: :func:`flat_masks`); problems added: an image without a mask, a mask without an
    image (named as an OME-TIFF less its ``.ome``: :func:`_ome_lines`), two of a stem."""
    files, named = _by_stem(root, problems, masks=False), _named(root)
    if named:  # predict's output folder: its other files are no images
        predicted = set(_predicted_among(root, [f for f in files.values() if f is not None]))
        files = {s: f for s, f in files.items() if f not in predicted}
        problems += [f"{f}: {why}" for f, why in named.items() if not isinstance(why, Path)]
    images, masks, mask_of = _flat_files(root, files, named)
    images, masks = _listed(images, masks, names)
    lone = {s: p for s, p in images.items() if s not in masks}
    ome = _ome_named(lone, {k: f[0][1] for k, f in masks.items() if k not in images}, problems)
    pairs = []
    _older_exports(root, [masks.get(stem, []) for stem in images])
    for stem, path in images.items():
        found = _exported(root, masks.get(stem, []))
        if len(found) > 1:
            problems.append(
                f"{root}/: {stem} has {len(found)} masks ({', '.join(s for s, _ in found)}): "
                "keep one (images and masks pair by the mask's name, X beside X_masks)"
            )
        elif not found and path is not None and stem not in ome.values():  # None: said
            missing = f"{path}: no mask {_mask_name(stem, mask_of)} beside it"
            problems.append(unread_beside(path) or missing)  # its a.json, unread: why
        elif found and path is not None and found[0][1] is not None:
            pairs.append((path, found[0][1]))
    problems += [
        f"{found[0][1]}: mask without an image {stem}.* beside it"
        for stem, found in masks.items()
        if stem not in images and stem not in ome and found[0][1] is not None
    ]
    problems += [
        f"{s}: listed in the split file but not in {root}/"
        for s in sorted(set(names or ()) - set(images))
    ]
    return pairs


def _npz_alone(root: Path) -> list[str]:
    """The line for ``.npz`` files in a folder of no data set, none of images and masks
    arrays (:func:`_npz_sets`): how one holds a data set (s72 review 7)."""
    npz = [p.name for p in listing(root) if p.suffix.lower() == ".npz"]
    if not npz:
        return []
    return [
        f"{npz[0]} holds no 'images' and 'masks' arrays, as a data set in one file does: "
        "save it as np.savez(path, images=..., masks=...)"
    ]


def _h5_alone(root: Path, trains: bool) -> list[str]:
    """The line for HDF5 files of several image datasets in a folder of no data set: how
    one is its own mask (s74 review: a CREMI user who forgot ``data.h5_mask_dataset`` read
    the long no-data-set line alone, naming no HDF5)."""
    h5 = (p for p in listing(root) if is_h5_name(p) and not no_image_held(p))
    name, held = next(((p.name, n) for p in h5 if len(n := image_datasets(p)) > 1), (None, []))
    if name is None:
        return []
    named = h5_mask_dataset_reading()
    fix = "--set data.h5_mask_dataset=" if trains else "--h5-mask-dataset "
    return [
        f"HDF5 files of several datasets ({name}: {', '.join(held[:4])}"
        f"{', ...' * (len(held) > 4)}){f', none holding {named!r}' * bool(named)}: "
        "HDF5 files holding image and labels (CREMI's) are each their own mask, the "
        f"labels' dataset named: {fix}volumes/labels/neuron_ids"
    ]


def _exported(root: Path, found: list[tuple[str, Path | None]]) -> list[tuple[str, Path | None]]:
    """``found``, an image's masks, less cellpose's ``X_seg.npy`` where another is beside it:
    the mask its GUI exported (File > Save masks: ``X_cp_masks.png``), which README told
    cellpose users to make before _seg.npy files were read, is taken (its GUI saves a
    ``_seg.npy`` always); said in one line for the folder, no removal asked for."""
    kept = [(s, p) for s, p in found if p is None or not is_seg_name(p)]
    if not kept or len(kept) == len(found):
        return found
    note_once(
        f"{root}/: masks exported beside cellpose's X_seg.npy files ({kept[0][0]}, ...) are "
        "read as their images' masks; those _seg.npy files are passed over",
        key=f"{root}/: exported beside _seg.npy",
        level=logging.INFO,
    )
    return kept


def _older_exports(root: Path, masks: Iterable[list[tuple[str, Path | None]]]) -> None:
    """One warning for the folder ``root`` naming how many of its images' ``masks`` exported
    from cellpose's GUI are older than the ``_seg.npy`` beside them, and the first few: the
    GUI saves that file at each correction and exports only when asked (s72 notes: an older
    export was read with an INFO line alone; s74: a line named the folder's first alone).
    The exports are still read (a copy's times are the copy's order, no sure sign)."""
    older = [line for found in masks if (line := _older_export(found))]
    if not older:
        return
    them = worded(len(older), "it", "them")
    note_once(
        f"{root}/: {numbered(len(older), 'mask')} exported older than the _seg.npy beside "
        f"{them} ({first_listed(older, 3)}), which cellpose's GUI saves at each correction: "
        f"{worded(len(older), 'the export is', 'the exports are')} read; export {them} again "
        f"(File > Save masks as PNG/tif) or move {them} aside to train on the _seg.npy",
        key=f"{root}/: export older than _seg.npy",
    )


def _older_export(found: list[tuple[str, Path | None]]) -> str | None:
    """ "X_cp_masks.png (time) < X_seg.npy (time)" where an image's masks ``found`` hold an
    export older than its ``_seg.npy``, else None."""
    segs = [p for _, p in found if p is not None and is_seg_name(p)]
    exported = [p for _, p in found if p is not None and not is_seg_name(p)]
    if not exported or not segs:
        return None
    seg_time, export_time = segs[0].stat().st_mtime, exported[0].stat().st_mtime
    if seg_time <= export_time + 1:  # a second: file systems that keep times coarsely
        return None
    return f"{exported[0].name} ({_clock(export_time)}) < {segs[0].name} ({_clock(seg_time)})"


def _clock(seconds: float) -> str:
    """A file time as a person reads it: ``2026-12-07 15:09``."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _flat_files(
    root: Path, files: dict[str, Path | None], named: dict[Path, Path]
) -> tuple[dict, dict, dict[str, str]]:
    """(images by stem, their masks by image stem (``[(name, path)]``), :func:`flat_masks`)
    of a flat folder's ``files`` (by stem) and ``named`` (:func:`_named`: predict's labelme
    files and the images they name); outline files named as no image passed over (said), but
    those named as an OME-TIFF less its ``.ome`` (:func:`_ome_lines`)."""
    mask_of = flat_masks(files)
    images, masks = {}, {}
    for stem, path in files.items():
        if stem in mask_of:
            masks.setdefault(mask_of[stem], []).append((stem, path))
        elif not stem.endswith(CELLPOSE_OUTPUTS):
            images[stem] = path
    for labelme, image in named.items():
        if isinstance(image, Path):  # else a problem (:func:`_flat_pairs`)
            images.setdefault(nfc(image.stem), image)
            masks.setdefault(nfc(image.stem), []).append((labelme.name, labelme))
    outlines, alone = flat_outlines(root, [f for f in files.values() if f is not None])
    outlines = {s: [f for f in found if f not in named] for s, found in outlines.items()}
    alone = [f for f in alone if f not in named]
    for stem, found in outlines.items():
        if stem in images:
            masks.setdefault(stem, []).extend((f.name, f) for f in found)
    bases = _ome_bases(images)
    for f in (f for f in alone if nfc(f.stem) in bases):
        masks.setdefault(nfc(f.stem), []).append((f.name, f))
    _outlines_passed_over([f for f in alone if nfc(f.stem) not in bases])
    return images, masks, mask_of


def _dsb_pairs(root: Path, names: list[str] | None, problems: list[str]) -> list[tuple[Path, Path]]:
    """(image, masks folder) of each sample of a DSB folder (:func:`unetlab.data.dsb.
    dsb_samples`: the mask is the folder of one mask per object), by image stem (those of
    ``names``); two samples whose images share a stem are a problem (a pair is named by it)."""
    samples = dsb_samples(root) or []
    by_stem: dict[str, list[tuple[Path, Path]]] = {}
    for image, masks in samples:
        by_stem.setdefault(nfc(image.stem), []).append((image, masks))
    if names is not None:
        by_stem = {s: v for s, v in by_stem.items() if s in set(names)}
        problems += [
            f"{s}: listed in the split file but not in {root}/" for s in names if s not in by_stem
        ]
    for stem, found in by_stem.items():
        if len(found) > 1:
            folders = ", ".join(f"{image.parent.parent.name}/" for image, _ in found)
            problems.append(
                f"{root}/: {len(found)} samples' images are named {stem} ({folders}): rename "
                "them apart (each sample is named by its image)"
            )
    return [found[0] for found in by_stem.values() if len(found) == 1]


def _totalseg_pairs(root: Path, names: list[str] | None, problems: list[str]) -> list:
    """(CT volume, segmentations folder) of each case of a TotalSegmentator folder
    (:func:`unetlab.data.totalseg.totalseg_cases`), by case folder name (those of ``names``);
    a case whose structures are not those most cases hold (of all: each split's classes are
    the same) is a problem (its classes would be others'), and so is a name of ``names`` that is
    no case."""
    cases = totalseg_cases(root) or []
    reference = reference_structures(cases) if cases else ("", [])
    if names is not None:  # each split's classes the first case's of all
        held = {nfc(case_of(*c)) for c in cases}
        problems += [
            f"{s}: listed in the split file but not in {root}/" for s in names if s not in held
        ]
        cases = [c for c in cases if nfc(case_of(*c)) in set(names)]
    wrong = {masks: line for _, masks in cases if (line := structures_problem(masks, reference))}
    problems += wrong.values()
    return [c for c in cases if c[1] not in wrong]


def _named(root: Path) -> dict[Path, Path | str]:
    """``{labelme file: image}`` of the labelme files predict wrote in ``root``
    (:func:`~unetlab.data.labelme.image_of`), those its manifest lists whose image is not
    found ``{file: why}`` (s73 review: a broken imagePath dropped the file's corrections
    from training, said as "passed over"; all broken, predict's outputs were read as images)."""
    found = {f: image_of(f, INPUT_SUFFIXES) for f in _input_files(root, SHAPE_SUFFIXES)}
    listed = set(_predicted_among(root, [f for f, why in found.items() if isinstance(why, str)]))
    return {f: i for f, i in found.items() if isinstance(i, Path) or f in listed}


def _outlines_passed_over(alone: list[Path]) -> None:
    """One line for the outline files of a flat folder that name no image beside them
    (Fiji's default ``RoiSet.zip``, an archive): passed over, not read."""
    if alone:
        shown = ", ".join(f.name for f in alone[:3]) + (" ..." if len(alone) > 3 else "")
        note_once(
            f"{alone[0].parent}/: {shown}: no image of that name beside it: passed over (a "
            "RoiSet.zip is the mask of the image X beside it as X.zip or X_rois.zip)"
        )


def _mask_name(stem: str, mask_of: dict[str, str]) -> str:
    """The mask an image ``stem`` of a flat folder lacks, named as the folder names its masks
    (``X_mask.*``), else as cellpose does."""
    endings = sorted({mask[len(base) :] for mask, base in mask_of.items()})
    if not endings or set(endings) <= set(MASK_SUFFIXES):
        return f"{stem}_masks.png (or .tif)"
    return " or ".join(f"{stem}{ending}.*" for ending in endings)


def _endings_line(
    lone_images: list[str], lone_masks: list[str], files: tuple[dict, dict], problems: list[str]
) -> tuple[list[str], list[str]]:
    """One line for two or more unpaired images and masks of one or more kinds that each end
    in their own way after the stem they share, one to an image (:func:`stem_endings`:
    Cityscapes' ``X_leftImg8bit.png`` beside ``X_gtFine_color.png``), naming the endings and
    the rename, where each file was said to have no partner (s66 new user); ``files``: the
    images and masks by stem. The stems still unpaired: the masks of no such kind."""
    if (endings := stem_endings(lone_images, lone_masks)) is None:
        return lone_images, lone_masks
    (image_end, kinds), (images, masks) = endings, files
    image, mask = images[min(lone_images)], masks[min(next(iter(kinds.values())))]
    named = " or ".join(f"<stem>{e}" for e in kinds)
    drops = f"'{image_end}' from the images and " if image_end else ""
    if len(kinds) == 1:
        drops += f"'{next(iter(kinds))}' from the masks"
        keep = "rename them"
    else:
        drops += "its ending from each mask kept"
        keep = f"{len(kinds)} masks per image: keep one kind ({_kind_to_keep(kinds)}), move the others out of {mask.parent.name}/, and rename them"
    problems.append(
        f"{image.parent.name}/ and {mask.parent.name}/: images are named <stem>{image_end} "
        f"({image.name}), masks {named} ({mask.name}): images and masks pair by the same "
        f"stem: {keep} (drop {drops})"
    )
    kept = {m for masks in kinds.values() for m in masks}
    return [], [m for m in lone_masks if m not in kept]


def _kind_to_keep(kinds: dict[str, list[str]]) -> str:
    """Which of several kinds of mask (by their endings) to train on: Cityscapes' class
    masks, ``_labelIds``, or ``_color`` with a colour table, not ``_instanceIds``."""
    ids = [e for e in kinds if "labelid" in e.casefold()]
    colour = [e for e in kinds if "color" in e.casefold() or "colour" in e.casefold()]
    said = [f"the {e} ones" for e in ids] + [
        f"the {e} ones with a class_colors.txt" for e in colour
    ]
    return f"for training {' or '.join(said)}" if said else "the class masks, for training"


def _mask_suffix(image_stems: list[str], mask_stems: list[str]) -> str | None:
    """The suffix every unpaired mask stem adds to an unpaired image stem (``img_01`` with
    ``img_01_mask``: ``'_mask'``), or None where there are none or they differ."""
    suffixes = set()
    for m in mask_stems:
        prefixes = [s for s in image_stems if m.startswith(s) and m != s]
        if not prefixes:
            return None
        suffixes.add(m[len(max(prefixes, key=len)) :])
    return suffixes.pop() if len(suffixes) == 1 else None


def read_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """(image (H, W[, C]) as stored, mask (H, W) label values) for one pair; sizes checked.
    For many pairs use one :class:`PairReader` (a stack's files are then read once)."""
    return PairReader()(pair)


class PairReader:
    """:func:`read_pair` for one pair after another: the pages of a stack come from one read
    of its files, and only the image and the mask file read last are held in memory.
    ``channel`` (``data.channel``): the images give that one channel, (H, W), or those of a
    list, (H, W, n); ``colours``:
    colour masks without a colour table beside them are read with it (a checkpoint's);
    ``axes``: the images' TIFF axes as a user gives them, and the masks' (:func:`mask_axes`);
    grey RGB masks beside a colour table are read as ``data.grey_masks`` said where it was
    made (:mod:`unetlab.data.grey_masks`), also in a data loader's worker, and labelme's
    and YOLO's shapes as ``data.target`` said there
    (:func:`~unetlab.data.shapes.shapes_read_as`); ``masks``: mask files' pages already
    read as this reader would read them (by path: a mask scan's,
    :func:`unetlab.data.datasets.scan_masks`), each taken out of it on its first use;
    ``nodata`` (``data.nodata``): where it finds pixels by every band's value, each image's
    channels are all read, else those of ``channel`` alone where the file stores them apart
    (:meth:`held_channels`); ``alone``: where given, those of each pair's image to read
    alone instead (None: all), a caller's that fits them itself (an evaluation: the
    model's, as predict reads them)."""

    def __init__(
        self,
        channel: int | list[int] | None = None,
        colours: ColourTable | None = None,
        axes: str | None = None,
        *,
        masks: dict[Path, np.ndarray] | None = None,
        nodata="auto",
        alone: Callable[[Pair], tuple[int, ...] | None] | None = None,
    ):
        self._held: dict[tuple, np.ndarray] = {}
        self._indices: dict[Path, int] = {}  # a named channel's index in each image
        self._alone: dict[Path, tuple[int, ...] | None] = {}  # held_channels, once a file
        self.nodata = nodata
        self.channel, self.colours, self.axes, self.alone = channel, colours, axes, alone
        self.masks = masks if masks is not None else {}
        self.grey_masks = grey_masks_reading()
        self.shapes_as = "instances" if shapes_as_objects() else "semantic"
        self.h5_datasets = h5_datasets_reading()

    def stack(
        self, path: Path, *, mask: bool, axes: str | None = None, channels: tuple | None = None
    ) -> np.ndarray:
        """All pages of ``path`` (as :func:`unetlab.data.io.read_stack` gives them), an
        image's TIFF read with ``axes`` (a pair's) or the reader's, a mask's with
        :func:`mask_axes` of them; held by the axes asked too (an evaluation's first look
        at a prediction's values reads it as its file says, its pages by its masks');
        ``channels``: those alone (:meth:`held_channels`)."""
        key = (Path(path), mask, axes, channels)
        if key not in self._held:
            # let the previous file of this role go before reading the next
            self._held = {k: v for k, v in self._held.items() if k[1] != mask}
            if mask and Path(path) in self.masks:
                self._held[key] = self.masks.pop(Path(path))
                return self._held[key]
            axes = axes or self.axes
            axes = mask_axes(Path(path), axes) if mask else file_axes(path, axes)
            colours = self.colours if mask else None
            with (
                grey_masks_read_as(self.grey_masks),
                shapes_read_as(self.shapes_as),
                h5_dataset_read_as(self.h5_datasets[0]),
                h5_mask_dataset_read_as(self.h5_datasets[1]),
            ):
                how = dict(mask=mask, colours=colours, axes=axes, channels=channels)
                self._held[key] = read_stack(path, **how)
        return self._held[key]

    def image_stack(self, pair: Pair) -> np.ndarray:
        """The pages of ``pair``'s image as this reader reads them: of its channels
        :meth:`held_channels` alone, where they are."""
        return self.stack(pair.image, mask=False, axes=pair.axes, channels=self.held_channels(pair))

    def held_channels(self, pair: Pair) -> tuple[int, ...] | None:
        """The channels of ``pair``'s image read alone: the reader's ``channel`` where the
        file stores its channels as pages (:func:`~unetlab.data.io.channel_pages`: a
        multiplexed OME-TIFF, s71: 3 of 1,024² and 24 channels trained on DAPI decoded
        all 24, 1.29 GB peak) and ``nodata`` finds no pixels by every band's value; None:
        all (one it lacks: refused as read). The reader's ``alone`` where given."""
        if self.alone is not None:
            return self.alone(pair)
        if self.channel is None or file_axes(pair.image, pair.axes or self.axes) is not None:
            return None
        if pair.image not in self._alone:
            self._alone[pair.image] = pages_alone(pair.image, self.index(pair), self.nodata)
        return self._alone[pair.image]

    def __call__(self, pair: Pair) -> tuple[np.ndarray, np.ndarray]:
        image = self.image_stack(pair)[pair.page]
        if self.channel is not None:
            image = _one_channel(image, held_at(self.index(pair), self.held_channels(pair)), pair)
        mask = self.mask_of(pair)
        if mask.ndim != 2:
            raise DatasetError(
                f"{pair.mask_page}: mask has shape {mask.shape}; expected one (H, W) label image"
            )
        if image.shape[:2] != mask.shape:
            what = f"{pair.image} is" if pair.pages == 1 else f"{pair.name}: image page is"
            raise DatasetError(
                f"{what} {image.shape[1]}x{image.shape[0]} but its mask "
                f"{mask_shown(pair.mask, whole=False)} is "
                f"{mask.shape[1]}x{mask.shape[0]} (width x height): masks must have the "
                f"image's size{transposed_sizes(image.shape[:2], mask.shape)}"
            )
        return image, mask

    def mask_of(self, pair: Pair) -> np.ndarray:
        """``pair``'s mask page, as :meth:`stack` reads its file."""
        return self.stack(pair.mask, mask=True, axes=pair.axes)[pair.mask_index]

    def index(self, pair: Pair) -> int | list[int]:
        """The reader's channel in ``pair``'s image: a name (``data.channel: DAPI``) as its
        index among the channels the file names (:func:`named_channel`), found once a file
        (s70 review: a 1,000-page stack parsed its OME-XML again for each page, 0.41 s CPU
        against 0.07 s by index)."""
        if not isinstance(self.channel, str):
            return self.channel
        if pair.image not in self._indices:
            self._indices[pair.image] = named_channel(pair, self.channel)
        return self._indices[pair.image]


def named_channel(pair: Pair, name: str) -> int:
    """The index of the channel ``pair``'s image file names ``name``
    (:func:`~unetlab.data.names.channel_named`); DatasetError naming the file and its
    channels where it names none so, or two, or none at all (s70: training by name was
    refused, and by index read another stain in a file of another channel order)."""
    names = channel_names(pair.image)
    if not names:  # s70 review: "set data.channel to its index (the same in every image)"
        why = f"records no channel names, so no channel {name!r} (data.channel) in it"
        fix = (
            f"set data.channel to the channel's number instead, counting from 0 (0 for the "
            f"first channel; every training image is then read at that number, so {name} "
            f"must be there in each){NAME_THEM}, or leave the file out"
        )
        raise DatasetError(f"{pair.image_page}: {why}: {fix}")
    fix = "set data.channel to one of these names or its index, or leave the file out"
    where, whose = str(pair.image_page), " (data.channel)"
    return channel_named(names, name, where, fix, whose=whose, error=DatasetError)


def trained_channel(channel: int | str | list[int] | None, pair: Pair | None) -> tuple:
    """(index, names) a checkpoint records of ``channel`` (``data.channel``) trained from
    the images of which ``pair`` is the first: a name as its index there and its name as
    that file writes it, so that predict finds it by name in files of another channel order
    (s70); an index (or a band list) as it is, with no names (s70 review: the names a first
    image gave an index refused files that name that channel otherwise, trained on)."""
    if not isinstance(channel, str) or pair is None:
        return channel, None
    index = named_channel(pair, channel)
    return index, [channel_names(pair.image)[index]]


def _one_channel(image: np.ndarray, channel: int | list[int], pair: Pair) -> np.ndarray:
    """Channel ``channel`` of an (H, W[, C]) image as (H, W); channel 0 of a grey one is it.
    A list of channels (a band subset) gives (H, W, len(channel)) in its order."""
    have = channels_of(image)
    wanted = channel if isinstance(channel, (list, tuple)) else [channel]
    if max(wanted) >= have:
        raise DatasetError(**spelled(lambda none: _no_channel(pair, have, wanted, none), NONE))
    return image if image.ndim == 2 else image[:, :, channel]


def _no_channel(pair: Pair, have: int, wanted: list[int], none: str) -> str:
    """The line of an image without the channel(s) ``wanted``; ``none``: the word for none.
    A number the file names a channel (a wavelength: ``data.channel: 488``, an index) is
    said to be that channel's name, with its index (:func:`named_by_digits`)."""
    some = "ones" if len(wanted) > 1 else "one"
    line = f"{pair.image_page}: has {numbered(have, 'channel')} (0 to {have - 1}), no channel "
    named = named_by_digits(channel_names(pair.image), wanted)
    named = f": {named}" if named else ""
    return f"{line}{max(wanted)}{named}: set data.channel to {some} it has (or {none} for all)"
