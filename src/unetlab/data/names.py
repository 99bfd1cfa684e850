"""The one naming rule of data sets and predictions: which file or folder name means what.

- A mask beside its image is named ``X_mask.png`` (:data:`MASK_NAMES`), a prediction saved by
  another tool ``X_pred.png`` (:data:`PREDICTION_NAMES`): :func:`image_stem` gives ``X``,
  whatever the separator (``_``, ``-``, space, ``.``) and the ending's letter case.
- Two names that differ only in letter case or in spaces at their ends (``IMG_01`` and
  ``img_01 ``) look alike to Windows and macOS: :func:`loose` is the form they share.
- A data set's folders (``images/``, ``masks/``, ...) are found by name in any letter case,
  ``masks/`` also as other tools name it (``labels/``, ``gt/``, ...: :data:`FOLDER_NAMES`),
  by comparing names, not by asking the file system (Linux tells ``Images`` from ``images``):
  :func:`role_folders`; so are ``train/``, ``val/`` and ``test/``, also as ``training/``,
  ``validation/`` (or ``valid/``) and ``testing/`` (:data:`SPLIT_NAMES`, :func:`sub_folder`).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from unetlab.errors import DatasetError, Spelled, UnetlabError, spelled
from unetlab.read_once import ReadOnce

#: the suffixes of masks drawn as outlines, in a data set's masks folder in place of a label
#: image: a RoiSet.zip of ImageJ ROIs (Fiji's ROI Manager), one ImageJ ROI, GeoJSON (QuPath's
#: exported annotations): :mod:`unetlab.data.annotations`; their objects are the ids
ANNOTATION_SUFFIXES = (".zip", ".roi", ".geojson")
#: the Cell Tracking Challenge's gold-truth mask of frame NNN (``man_seg013.tif`` of
#: ``t013.tif``): object ids by the challenge's rules (:mod:`unetlab.data.ctc`)
CTC_SEG = re.compile(r"man_seg(\d+)\.tiff?", re.IGNORECASE)
#: a 3-D set's gold-truth mask of the one slice ZZZ of frame TTT (``man_seg_013_042.tif``:
#: plane 42 of ``t013.tif``)
CTC_SLICE = re.compile(r"man_seg_(\d+)_(\d+)\.tiff?", re.IGNORECASE)
#: the stem endings of cellpose's masks (the longer first: X_cp_masks is X's, not X_cp's)
MASK_SUFFIXES = ("_cp_masks", "_masks")
#: the stem endings of masks beside their images in a flat folder, which predict passes over
#: and training pairs: cellpose's and the other common spellings (``X_mask.png``,
#: ``X_label.tif``, ``X_labels.png``, ``X_seg.tif``, ``X_gt.png``)
MASK_NAMES = (*MASK_SUFFIXES, "_mask", "_labels", "_label", "_seg", "_gt")
#: the ending of cellpose's masks file (its GUI's save: ``X_seg.npy`` beside ``X.tif``)
SEG_END = "_seg.npy"
#: the stem endings of an image whose mask names it without them (``X_image.tif`` beside
#: ``X_mask.tif``; ISBI's ``train-volume.tif`` beside ``train-labels.tif``): :func:`images_of`
IMAGE_NAMES = ("_image", "_img", "_volume")
#: the stem endings of outlines (:data:`ANNOTATION_SUFFIXES`) beside their image ``X.tif``
#: in a flat folder, besides ``X.zip`` (its own stem): cellpose's ImageJ ROIs
#: (``X_rois.zip``, its ``save_rois``), Fiji's ROI Manager default name after the image's
#: (``X_RoiSet.zip``), and the endings of masks (``X_masks.zip``, ``X_mask.geojson``, ...)
OUTLINE_NAMES = ("_rois", "_roiset", *MASK_NAMES)
#: the stem endings other tools and scripts give a prediction of image X (``X_pred.png``,
#: ``X_prediction.tif``, ``X_seg.png``), which ``evaluate --pred`` pairs with X's mask where
#: it is unambiguous (no prediction named X itself, one so named)
PREDICTION_NAMES = ("_predictions", "_prediction", "_predicted", "_pred", "_segmentation", "_seg")
#: what separates such an ending from the image's stem (``X_mask``, ``X-mask``, ``X mask``)
MASK_SEPARATORS = "_- ."
#: the folders of a data set by the name unetlab gives them, each with the names (any letter
#: case) it is read under: its own first, then those other tools and users give it
FOLDER_NAMES = {
    "images": ("images", "image", "imgs", "img"),
    "masks": ("masks", "mask", "labels", "label", "gt", "ground_truth", "annotations"),
    "instances": ("instances",),
    "JPEGImages": ("jpegimages",),
    "SegmentationClass": ("segmentationclass",),
}
#: the folders of a split data set (``train/`` + ``val/``, and ``test/``), as
#: :data:`FOLDER_NAMES` has the parts: the name unetlab gives each, then the others'
SPLIT_NAMES = {
    "train": ("train", "training"),
    "val": ("val", "validation", "valid"),
    "test": ("test", "testing"),
}
#: every name (casefolded) a split's folder may have (``test/``, ``valid/``, ``training/``)
SPLIT_FOLDERS = frozenset(name for names in SPLIT_NAMES.values() for name in names)


def nfc(stem: str) -> str:
    """``stem`` in Unicode's composed form (NFC): a name macOS wrote decomposed (NFD, ``e`` +
    accent) pairs with the same name typed elsewhere (``é``); both look alike."""
    return unicodedata.normalize("NFC", stem)


def loose(stem: str) -> str:
    """The form two names share that differ only in letter case or in spaces at their ends
    (``IMG_01`` and ``img_01 ``), in NFC: the one rule of every "differ only in case" check."""
    return nfc(stem).strip().casefold()


def less_ome(stem: str) -> str:
    """``stem`` less an ``.ome`` it ends with (``a0.ome`` of ``a0.ome.tif``: ``a0``), as
    predict names an input's outputs (:func:`~unetlab.inference.slides.output_stem`)."""
    return stem[:-4] if stem.lower().endswith(".ome") and len(stem) > 4 else stem


def indices_named(names: Sequence[str], name: str) -> list[int]:
    """The indices of the channels among ``names`` (those a file records) named ``name``,
    :func:`loose` aside: one rule for a channel named to predict (``--channel DAPI``) and
    to train (``data.channel: DAPI``)."""
    return [i for i, n in enumerate(names) if loose(n) == loose(name)]


def listed(names: Sequence[str]) -> str:
    """A file's channels as the messages list them: "0: membrane, 1: DAPI"."""
    return ", ".join(f"{i}: {n}" for i, n in enumerate(names))


def named_by_digits(names: Sequence[str], wanted: Iterable[int], where: str = "this file") -> str:
    """Which channel indices ``wanted`` (an index, a band list's), beyond the channels of a
    file that records ``names``, it names by those digits (a laser line: ``488``), as the
    lines refusing them say it: "the channel this file names '488' is index 1 (...)"; ""
    where none. One rule for data.channel and --channel (s72: "no channel 488" alone; the
    number, in YAML or on the command line, is read as an index)."""
    said = said_by_digits(digits_named(names, wanted), where)
    return f"{said} {AN_INDEX}" if said else ""


#: what :func:`named_by_digits` adds: the digits a file names a channel by are no index
AN_INDEX = "(a number given is an index, not a name)"


def digits_named(names: Sequence[str], wanted: Iterable[int]) -> tuple[tuple[int, int], ...]:
    """The channels of ``wanted`` beyond those of a file recording ``names`` that it names
    by their digits, each with its index: ``((488, 1),)``; empty where none."""
    found = {c: names.index(str(c)) for c in wanted if c >= len(names) and str(c) in names}
    return tuple(found.items())


def said_by_digits(found: Sequence[tuple[int, int]], where: str) -> str:
    """:func:`digits_named`'s ``found`` as a line says it of ``where`` (the file, "it",
    "each"): "the channel it names '488' is index 1", "the channels it names '488' and
    '561' are indices 0 and 5" (s73 review: "'488' is index 0, '561' is index 5"); ""."""
    if len(found) == 1:
        return f"the channel {where} names '{found[0][0]}' is index {found[0][1]}"
    if not found:
        return ""
    digits = spoken([f"'{c}'" for c, _ in found])
    return f"the channels {where} names {digits} are indices {spoken([str(i) for _, i in found])}"


def spoken(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


#: how a file comes to name its channels, for a channel asked by name (``--channel DAPI``,
#: ``data.channel: DAPI``) of a file that names none (s71: the lines said only to give an
#: index); a copy, so that the original keeps its pixel size and the rest of its metadata
NAME_THEM = (
    ", or save a copy with its channels named in its OME-XML (Fiji: File > Export > "
    "Bio-Formats, as .ome.tif; Python: tifffile.imwrite('named.ome.tif', pixels, ome=True, "
    "metadata={'axes': 'CYX', 'Channel': {'Name': ['DAPI', ...]}}), its own axes for 'CYX', "
    "such as 'ZCYX')"
)


def channel_named(
    names: Sequence[str],
    name: str,
    where: str,
    fix: str,
    *settings: str | Spelled,
    whose: str = "",
    error: type[UnetlabError] = UnetlabError,
) -> int:
    """The index of the one channel among ``names`` (those the file ``where`` records, at
    least one) named ``name`` (:func:`indices_named`); ``error``, one line, where none or two
    are: "``where``: no such channel 'DAPI'``whose``: its channels are 0: .., 1: ..; ``fix``"
    (``fix`` a template of ``settings``, as :func:`~unetlab.errors.spelled` says them). One
    rule and wording for a channel named to predict (``--channel``), to train
    (``data.channel``) and by a checkpoint (s70 review: three versions said a duplicate name
    was missing)."""
    found = indices_named(names, name)
    if len(found) == 1:
        return found[0]
    why = "two channels are named" if found else "no such channel"
    said = f"{where}: {why} {name!r}{whose}: its channels are {listed(names)}; "
    raise error(**spelled(lambda *told: said + fix.format(*told), *settings))


def image_stem(stem: str, endings: Sequence[str] = MASK_NAMES) -> str | None:
    """The image stem a stem ending with one of ``endings`` names (``X_masks``, ``X_mask``,
    ...: ``X`` with :data:`MASK_NAMES`; ``X_pred`` with :data:`PREDICTION_NAMES`), or None.
    As users also write them: ``X-mask``, ``X mask``, ``X.mask``, ``X_Mask``, ``X_MASK`` (any
    of :data:`MASK_SEPARATORS`, the ending in any letter case)."""
    for ending in endings:
        n = len(ending)
        if len(stem) > n and stem[-n] in MASK_SEPARATORS and stem[1 - n :].casefold() == ending[1:]:
            return stem[:-n]
    return None


def images_of(stems: Iterable[str]) -> dict[str, str]:
    """``{mask stem: image stem}`` of the ``stems`` of one folder that are masks of an image
    among them, named for it by one of :data:`MASK_NAMES` (:func:`image_stem`): ``X_mask``
    is ``X``'s, or where there is no ``X``, that of the one ``X_image`` (``X_img``,
    ``X-volume``: :data:`IMAGE_NAMES`); ``train-labels`` is ``train-volume``'s. A mask name
    without its image (``labels``, ``Y_mask`` alone) is none."""
    stems = set(stems)
    named: dict[str, list[str]] = {}
    for stem in sorted(stems):
        if (base := image_stem(stem, IMAGE_NAMES)) is not None:
            named.setdefault(base, []).append(stem)
    found = {}
    for stem in stems:
        if (base := image_stem(stem)) is None:
            continue
        if base in stems:
            found[stem] = base
        elif len(named.get(base, ())) == 1:
            found[stem] = named[base][0]
    return found


def named_for(stems: Iterable[str], endings: Sequence[str] = PREDICTION_NAMES) -> dict[str, str]:
    """``{image stem: stem}`` of the ``stems`` that name an image by one of ``endings``
    (``X_pred``: ``{"X": "X_pred"}``; :func:`image_stem`) where that is unambiguous: no stem
    is ``X`` itself and no other names ``X`` too (``X_pred`` beside ``X_seg``: neither)."""
    stems = set(stems)
    found: dict[str, list[str]] = {}
    for stem in sorted(stems):
        if (base := image_stem(stem, endings)) is not None and base not in stems:
            found.setdefault(base, []).append(stem)
    return {base: named[0] for base, named in found.items() if len(named) == 1}


#: membrain-seg's ending of a tomogram's segmentation: ``<stem>_<checkpoint>_segmented.mrc``
SEGMENTED = "_segmented"


def segmented_for(stems: Iterable[str], images: Iterable[str]) -> dict[str, str]:
    """``{image stem: stem}`` of the ``stems`` named as membrain-seg names a segmentation,
    ``X_<checkpoint>_segmented`` or ``X_segmented``, X the longest of the ``images``' stems
    that names it (``TS_01_MemBrain_v10.ckpt_segmented``: ``TS_01``, not ``TS``), where that
    is unambiguous: no stem is ``X`` itself and no other is named for ``X`` too."""
    stems, images = set(stems), sorted(set(images), key=len, reverse=True)
    found: dict[str, list[str]] = {}
    for stem in sorted(s for s in stems if s.endswith(SEGMENTED)):
        head = stem[: -len(SEGMENTED)]
        base = next((x for x in images if head == x or head.startswith(f"{x}_")), None)
        if base is not None and base not in stems:
            found.setdefault(base, []).append(stem)
    return {base: named[0] for base, named in found.items() if len(named) == 1}


def role_folders(
    root: Path, roles: Sequence[str], found: dict[str, list[Path]] | None = None
) -> dict[str, Path] | None:
    """``{role: folder}`` of the sub-folders of ``root`` that play ``roles`` (keys of
    :data:`FOLDER_NAMES`: ``images/`` as ``Images/``, ``masks/`` as ``labels/``, ...), or None
    where one is missing. Two folders for one role (``images/`` and ``Images/``, ``masks/``
    and ``labels/``) are a DatasetError naming both, unless all but unetlab's own name hold no
    image file (a ``labels/`` of text files beside ``masks/``). ``found``: the
    :func:`folder_candidates` of ``root`` for these roles or more (the folder listed once)."""
    found = found if found is not None else folder_candidates(root, roles)
    if not all(found.get(role) for role in roles):
        return None
    return {role: _one_folder(root, role, found[role]) for role in roles}


#: the folders listed within :func:`listed_once`
_LISTINGS = ReadOnce("folders_listed")


def listed_once() -> contextlib.AbstractContextManager:
    """Within: each folder listed once (:func:`listing`) while it is unchanged (its
    entries: the folder's time, s60: a data set's root listed 6 times to find its layout)."""
    return _LISTINGS.kept()


def listing(folder: Path) -> tuple[Path, ...]:
    """The entries of ``folder`` in name order; listed once within :func:`listed_once`."""
    return _LISTINGS.read(("listing",), folder, lambda: tuple(sorted(folder.iterdir())))


def folder_candidates(root: Path, roles: Sequence[str]) -> dict[str, list[Path]]:
    """``{role: [folders]}``: the sub-folders of ``root`` named as each of ``roles`` is
    (:data:`FOLDER_NAMES`, any letter case; a role of no entry by its own name), sorted."""
    names = {role: _names_of(role) for role in roles}
    found: dict[str, list[Path]] = {role: [] for role in roles}
    for sub in listing(root):
        name = sub.name.casefold()
        for role in roles:
            if name in names[role] and sub.is_dir():
                found[role].append(sub)
    return {role: sorted(folders) for role, folders in found.items()}


#: the folder of a TotalSegmentator case's structure masks (:mod:`unetlab.data.totalseg`)
SEGMENTATIONS = "segmentations"


def in_instances_folder(path: Path) -> bool:
    """Whether the mask ``path`` lies in a data set's ``instances/`` folder (any letter
    case), or is a folder of one mask per object (a DSB sample's ``masks/``:
    :mod:`unetlab.data.dsb`; not a TotalSegmentator case's ``segmentations/``, one mask per
    structure: classes): its masks hold object ids."""
    return path.parent.name.casefold() in FOLDER_NAMES["instances"] or _object_folder(path)


def _object_folder(path: Path) -> bool:
    """Whether the mask ``path`` is a folder of one mask per object (a DSB sample's), not of
    one a structure (a TotalSegmentator case's ``segmentations/``: classes)."""
    return path.is_dir() and path.name != SEGMENTATIONS


def holds_object_ids(path: Path) -> bool:
    """Whether the mask ``path`` holds object ids by where it lies or what it is: in an
    ``instances/`` folder (:func:`in_instances_folder`), or objects by what it is
    (:func:`objects_by_what`)."""
    return in_instances_folder(path) or objects_by_what(path)


def is_seg_name(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named as cellpose's masks file ``X_seg.npy`` (:data:`SEG_END`)."""
    return Path(path).name.lower().endswith(SEG_END)


def objects_by_what(path: Path) -> bool:
    """Whether the mask ``path`` is objects by what it is, wherever it lies: drawn as
    outlines (:data:`ANNOTATION_SUFFIXES`: each outline one object), a folder of one mask
    per object, the Cell Tracking Challenge's ``man_segNNN.tif`` (:func:`ctc_mask`: a
    frame of 7 cells read as 7 classes by training, s69), a COCO file's of one category
    (:func:`coco_view`), or cellpose's ``X_seg.npy`` (its masks are ids, 8-bit ones too)."""
    return (
        path.suffix.lower() in ANNOTATION_SUFFIXES
        or is_seg_name(path)
        or _object_folder(path)
        or ctc_mask(path.name) is not None
        or coco_view(path) == COCO_VIEWS[1]
    )


def ctc_mask(name: str) -> re.Match | None:
    """The match of the file name of a Cell Tracking Challenge mask, a frame's
    (:data:`CTC_SEG`) or one slice's (:data:`CTC_SLICE`), its group 1 the frame's digits;
    None for any other name."""
    return CTC_SEG.fullmatch(name) or CTC_SLICE.fullmatch(name)


#: how a COCO file's image is read (:mod:`unetlab.data.coco`): class values by category, or
#: object ids (a file of one category)
COCO_VIEWS = ("classes", "objects")


def coco_view(path: Path) -> str | None:
    """The view of a COCO file's mask ``path`` (:func:`coco_parts`), None for another."""
    parts = coco_parts(path)
    return None if parts is None else parts[1]


def coco_parts(path: Path) -> tuple[Path, str, str] | None:
    """(the COCO file, the view, the image's ``file_name``) of a COCO file's mask ``path``
    (``<file.json>/<file_name>#<view>``: :func:`unetlab.data.coco.coco_mask_path`; ``#``, so
    that no check takes it for an image file of its suffix), by its name alone; None for
    any other path."""
    parts = Path(path).parts
    name, mark, view = parts[-1].rpartition("#") if parts else ("", "", "")
    if not mark or view not in COCO_VIEWS:
        return None
    for i in range(len(parts) - 2, -1, -1):
        if parts[i].lower().endswith(".json"):
            return Path(*parts[: i + 1]), view, "/".join([*parts[i + 1 : -1], name])
    return None


def mask_shown(path: Path, *, whole: bool = True) -> str:
    """A mask's path as a line says it: a COCO file's image mask as ``the file (file_name)``
    (``instances_default.json (img01.png)``, not its ``.../img01.png#classes``), any other
    as it is; ``whole``: the path, else its name alone."""
    if (parts := coco_parts(path)) is None:
        return str(path) if whole else Path(path).name
    return f"{parts[0] if whole else parts[0].name} ({parts[2]})"


def void_words(mask: Path) -> tuple[str, str]:
    """(the masks, what their void is) as a line names them: COCO's crowd regions for a COCO
    file's mask, else palette masks' void outlines (VOC's)."""
    if coco_parts(mask) is not None:
        return "COCO masks", "crowd regions, iscrowd 1"
    return "palette masks", "VOC's void outlines"


def sub_folder(root: Path, name: str) -> Path:
    """The sub-folder of ``root`` named ``name`` in any letter case (``Train/`` for
    ``train``; :func:`role_folders`), else ``root / name`` (which may not exist)."""
    found = role_folders(root, [name]) if root.is_dir() else None
    return found[name] if found else root / name


def _names_of(role: str) -> tuple[str, ...]:
    """The names (casefolded) a folder playing ``role`` is read under."""
    return FOLDER_NAMES.get(role) or SPLIT_NAMES.get(role) or (role.casefold(),)


def _one_folder(root: Path, role: str, folders: list[Path]) -> Path:
    """The one folder of ``folders`` that plays ``role`` (:func:`role_folders`)."""
    kept = [f for f in folders if f.name == role or _holds_data(f, role)] or folders
    if len(folders) == 1 or len(kept) == 1:
        return kept[0]
    named = " and ".join(f"{f.name}/" for f in kept)
    others = "masks/ also as labels/, gt/, ..."
    if role in SPLIT_NAMES:
        others = f"{role}/ also as {', '.join(n + '/' for n in _names_of(role)[1:])}"
    raise DatasetError(
        f"{root}: {named} could each be the data set's {role}/ folder (names are read in any "
        f"letter case, {others}): keep one, moving the files of the other into it"
    )


def _holds_data(folder: Path, role: str) -> bool:
    """Whether ``folder`` holds what a folder of ``role`` holds: image files, or for a split
    part (``train/``: its images/ and masks/ folders) anything but hidden files."""
    if role in SPLIT_NAMES:
        return any(not f.name.startswith(".") for f in folder.iterdir())
    from unetlab.data.io import INPUT_SUFFIXES

    return any(f.suffix.lower() in INPUT_SUFFIXES for f in folder.iterdir())


def stem_endings(
    image_stems: Sequence[str], mask_stems: Sequence[str]
) -> tuple[str, dict[str, list[str]]] | None:
    """The ending each of two or more image stems adds to the stem it shares with a mask,
    where none pairs by its own stem, and the masks of each kind that pairs one to one with
    them by the ending it adds (Cityscapes' ``X_leftImg8bit`` beside ``X_gtFine_color``,
    ``X_gtFine_labelIds`` and ``X_gtFine_instanceIds``: ``('_leftImg8bit', {'_gtFine_color':
    [...], ...})``; each ending begins with a separator or is empty), or None. Predictions
    stand for images too."""
    if len(image_stems) < 2:  # one lone image beside one lone mask: no rule (review s66)
        return None
    images, kinds = sorted(image_stems), {}
    for mask in mask_stems:
        at = bisect.bisect(images, mask)  # the image sharing most of its start is beside it
        image = max(images[max(at - 1, 0) : at + 1], key=lambda s: len(_shared(s, mask)))
        base = _shared(image, mask).rstrip(MASK_SEPARATORS)
        ends = (image[len(base) :], mask[len(base) :])
        if base and all(not e or e[0] in MASK_SEPARATORS for e in ends):
            kinds.setdefault(ends, {}).setdefault(base, []).append(mask)
    paired = {
        ends: [m for masks in by_base.values() for m in masks]
        for ends, by_base in sorted(kinds.items())
        if len(by_base) == len(images) and all(len(m) == 1 for m in by_base.values())
    }
    if not paired:
        return None
    image_end = next(iter(paired))[0]
    return image_end, {m: masks for (i, m), masks in paired.items() if i == image_end}


def _shared(a: str, b: str) -> str:
    return os.path.commonprefix([a, b])
