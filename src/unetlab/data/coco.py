"""COCO annotations ("COCO 1.0", "COCO instances"): one JSON for a whole set of images, as
CVAT, Label Studio, Roboflow and Detectron write it, read as the masks of its images.

The JSON holds ``images`` (``id``, ``file_name``, ``width``, ``height``), ``annotations``
(``image_id``, ``category_id``, ``segmentation``, ``iscrowd``) and ``categories`` (``id``,
``name``); a file is told by its content (``images`` and ``annotations``), not its name
(:func:`is_coco`). Found beside its images as the tools lay them out (:func:`coco_files`):
CVAT's ``images/`` + ``annotations/instances_default.json``, Roboflow's
``train/_annotations.coco.json`` among the images, Label Studio's ``images/`` +
``result.json``, COCO's ``train2017/`` + ``annotations/instances_train2017.json``; a
``file_name`` may name a sub-folder (``images/a.jpg``).

Categories are the classes: value 1..K in category id order, 0 background, named by the
categories' names (:func:`coco_class_names`). A file of one category is read as objects
(ids 1..n in file order, as outlines are: :mod:`unetlab.data.annotations`; instance
training), one of several as classes (each object's category value). A later annotation
is drawn over an earlier one; an RLE over the polygons. Crowd regions (``iscrowd`` 1) are
:data:`~unetlab.data.void_mark.VOID` (255) under the objects in classes (read as void, in
no loss or metric, as VOC's outlines are: :func:`coco_palette`); as objects, where no
object lies, the ids' void (:func:`coco_void`: in no loss, as ``data.ignore_value``). That is COCO's own crowd; CVAT marks every mask of its brush ``iscrowd``
1, so in a file of no polygon object, or of CVAT's ``attributes``, they are objects like the
others (:func:`_crowds`).

Polygons (``[[x1, y1, x2, y2, ...], ...]``, the parts of one object) are rasterised as
unetlab reads outlines (:func:`unetlab.data.annotations.rasterise`): coordinates are pixel
corners, as CVAT, Label Studio and Roboflow draw on the image (pixel ``(row, col)`` is the
square from ``(col, row)`` to ``(col + 1, row + 1)``), and a pixel is the object's where its
centre lies inside. pycocotools' ``frPyObjects`` draws them so too, to within a pixel on
edges (300 ellipses: 2 pixels of 165 differ on average, 8 at most, all on the outline; their
centroids 0.03 pixel apart, no half-pixel shift). RLE (``{"counts": [...] or "string", "size": [h, w]}``) is decoded
exactly: runs over the pixels in column order, 0s first; the string is COCO's compressed
form (6-bit characters from ``'0'``, 5 bits each, runs after the second as differences).

A pair's mask is named ``<file.json>/<file_name>#<view>`` (:func:`coco_mask_path`: no file,
read by :func:`coco_mask`; the view, ``classes`` or ``objects``:
:func:`unetlab.data.names.coco_parts`)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from unetlab.context_values import set_within
from unetlab.data.annotations import Outline, rasterise
from unetlab.data.names import (
    COCO_VIEWS,
    SPLIT_FOLDERS,
    SPLIT_NAMES,
    coco_parts,
    folder_candidates,
    listing,
    nfc,
)
from unetlab.data.read_notes import note_once
from unetlab.data.void_mark import VOID
from unetlab.errors import DatasetError
from unetlab.read_once import file_stamp
from unetlab.words import numbered, worded

#: the folder (any letter case) a COCO file lies in beside the images, besides the set's own
ANNOTATIONS_FOLDER = "annotations"
#: categories a mask of classes holds at most: 255 is the crowd's void
MAX_CATEGORIES = VOID - 1
#: how many bytes of a JSON are looked at before it is parsed: labelme's per-image JSON
#: says ``"shapes"`` there (and may hold its image, megabytes), COCO's no such key
HEAD = 4096
#: how COCO's files of objects are named (``instances_train2017.json``)
INSTANCES = "instances_"
#: the names of predict's COCO files (:mod:`unetlab.inference.coco_out`): ``objects_coco.json``
#: and, beside it corrected, ``objects_coco.new.json``, ``objects_coco.new2.json``...
PREDICTED = re.compile(r"objects_coco(\.new([2-9]|[1-9][0-9]+)?)?\.json")
#: a COCO file of the validation images (``instances_val2017.json``, ``valid``)
VAL_WORD = re.compile(r"(?<![a-z])val(id|idation)?(?![a-z])")
#: whether a COCO file's images are paired now with their objects whatever the file's
#: categories (``data.target: instances``: :func:`coco_read_as`), per thread and context
_AS_OBJECTS: ContextVar[bool] = ContextVar("unetlab_coco_as_objects", default=False)


@dataclass(frozen=True)
class CocoObject:
    """One annotation: its class ``value`` (1..K), its ``polygons`` (``(n, 2)`` corners
    ``(x, y)`` each) or its RLE (``rle``: the run lengths), ``crowd`` (``iscrowd`` 1)."""

    value: int
    polygons: tuple[np.ndarray, ...] = ()
    rle: tuple[int, ...] | None = None
    crowd: bool = False


@dataclass(frozen=True)
class CocoImage:
    """An image entry: its ``file_name`` as written (``\\`` read as ``/``), its size, and
    its annotations in file order."""

    file_name: str
    width: int
    height: int
    objects: tuple[CocoObject, ...] = ()


@dataclass(frozen=True)
class CocoSet:
    """A COCO file read: ``names`` of the categories (value i + 1 is ``names[i]``), the
    images by ``file_name``, the lines of what was passed over (``passed``) and of what
    cannot be trained (``problems``), the count of its ``objects`` and, of them, ``crowds``
    (void: :func:`image_mask`)."""

    path: Path
    names: tuple[str, ...]
    images: dict[str, CocoImage]
    passed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    objects: int = field(default=0)
    crowds: int = field(default=0)

    @property
    def view(self) -> str:
        """``objects`` for a file of one category or within :func:`coco_read_as`
        ``"instances"``, else ``classes`` (:data:`COCO_VIEWS`)."""
        return COCO_VIEWS[1] if len(self.names) == 1 or _AS_OBJECTS.get() else COCO_VIEWS[0]

    def said(self) -> str:
        """The line of what was read: ``COCO annotations/instances_default.json: 12 images,
        2 categories (cell, debris), 340 objects, 2 crowd regions void``."""
        kinds = f"{numbered(len(self.names), 'category', 'categories')} ({', '.join(self.names)})"
        read = "classes 1..K by category id"
        if self.view == COCO_VIEWS[1]:
            several = ", each its own id, as data.target: instances asks"
            read = "objects" + ("" if len(self.names) == 1 else several)
        void = f", {numbered(self.crowds, 'crowd region')} void" if self.crowds else ""
        return (
            f"COCO {self.path}: {numbered(len(self.images), 'image')}, {kinds}, "
            f"{numbered(self.objects - self.crowds, 'object')}{void} (read as {read})"
        )


def coco_read_as(target: str | None):
    """Pair a COCO file's images with their objects, each annotation its own id whatever its
    category, within where ``target`` (a config's ``data.target``) is ``instances``; else
    with its classes where it has several categories (None: as now). The view is the
    pair's mask's (:func:`coco_mask_path`): read so wherever the pair goes."""
    return set_within(_AS_OBJECTS, _AS_OBJECTS.get() if target is None else target == "instances")


def set_coco_reading(as_objects: bool) -> None:
    """Pair COCO files with their objects from now where ``as_objects`` (a checkpoint's
    instance model: evaluate reads its truth as its training did), within a function of
    :func:`~unetlab.data.mask_reading.keeps_masks_reading`, which restores the reading
    before; False keeps the reading."""
    if as_objects:
        _AS_OBJECTS.set(True)


def is_coco(path: Path) -> bool:
    """Whether ``path`` is a COCO file: a ``.json`` whose object holds ``images`` and
    ``annotations``; told once while the file stays the same (a data folder is searched
    several times a command), by its bytes where they say no (a labelme file, ``"shapes"``
    near its start; a JSON without both keys' names is not parsed)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    key = (path, file_stamp(path))
    if key not in _TOLD:
        _TOLD[key] = _told(path, key[1])
    return _TOLD[key]


#: :func:`is_coco`'s answer by (path, stamp)
_TOLD: dict[tuple, bool] = {}


def _told(path: Path, stamp) -> bool:
    try:
        raw = path.read_bytes()
        head = raw[:HEAD]
        if not head.lstrip().startswith(b"{") or b'"shapes"' in head:
            return False
        if b'"images"' not in raw or b'"annotations"' not in raw:
            return False
        data = _parsed(path, stamp)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "images" in data and "annotations" in data


@lru_cache(maxsize=1)
def _parsed(path: Path, stamp) -> object:
    """The JSON of ``path`` while its ``stamp`` stays: kept from :func:`is_coco` for
    :func:`read_coco`, which lets it go once read (a COCO file of 450 MB)."""
    return json.loads(path.read_bytes())


def coco_files(root: Path) -> list[Path]:
    """The COCO files of a data set folder: its own ``.json`` files and those of its
    ``annotations/`` folder (any letter case) that are COCO's (:func:`is_coco`); where some
    are ``instances_*.json`` (COCO's own download: ``captions_*``, ``person_keypoints_*``
    beside them), those alone and predict's (:data:`PREDICTED`: the new images beside a
    corrected file saved as CVAT names it, ``instances_default.json``), the others passed
    over in one line."""
    if not root.is_dir():
        return []
    folders = [root, *folder_candidates(root, [ANNOTATIONS_FOLDER])[ANNOTATIONS_FOLDER]]
    found = [f for d in folders for f in listing(d) if f.suffix.lower() == ".json"]
    found = [f for f in found if is_coco(f)]
    instances = [f for f in found if f.name.casefold().startswith(INSTANCES)]
    if instances:  # predict's new images beside a corrected CVAT export (s74 review)
        instances += [f for f in found if PREDICTED.fullmatch(f.name) and f not in instances]
    if instances and (others := [f.name for f in found if f not in instances]):
        note_once(
            f"{root}: {numbered(len(others), 'COCO file')} of no instances passed over "
            f"({_first(others)}): the masks are in {_first([f.name for f in instances])}"
        )
    return instances or found


def coco_val_split(root: Path) -> tuple[list[Path], Path] | None:
    """(the training COCO files, the validation one) of ``root`` where one of several is
    named for validation (``instances_val2017.json``: its images are COCO's ``val``), else
    None."""
    files = coco_files(root)
    val = [f for f in files if VAL_WORD.search(f.stem.casefold())]
    if len(val) != 1 or len(files) < 2:
        return None
    return [f for f in files if f != val[0]], val[0]


def coco_stems(files: list[Path]) -> list[str]:
    """The stems of the images the COCO ``files`` list (each NFC)."""
    return [nfc(Path(n).stem) for f in files for n in read_coco(f).images]


def coco_in(root: Path, folders) -> bool:
    """Whether the COCO files of ``root`` are its pairs' masks where ``folders`` (a layout's
    images and masks) were found: where one lies in them (CVAT's ``annotations/``); where
    none does, the masks drawn are the set's truth (a COCO export beside them may be older),
    and the COCO files passed over are said."""
    if not (found := coco_files(root)):
        return False
    folders = list(folders)
    if any(f.parent in folders for f in found):
        return True
    note_once(
        f"{root}: {'/ and '.join(d.name for d in folders)}/ read as the pairs; "
        f"{_first([_shown(f, root) for f in found])} beside them, COCO, is not read (move "
        "it away to train from it alone)"
    )
    return False


def read_coco(path: str | os.PathLike) -> CocoSet:
    """The :class:`CocoSet` of a COCO file, read once while it stays the same; DatasetError
    for a file that is no COCO JSON, of no category or of no segmentation at all (boxes)."""
    path = Path(path)
    return _read(path, file_stamp(path))


@lru_cache(maxsize=4)
def _read(path: Path, stamp) -> CocoSet:
    try:
        data = _parsed(path, stamp)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read as COCO JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DatasetError(f"{path}: no COCO file (no list of images): export it as COCO again")
    categories, dropped = _no_project(data.get("categories"), data.get("annotations"), path)
    values, names = _categories(categories, path)
    images = _images(data["images"], path)
    objects, passed, problems = _annotations(data.get("annotations"), images, values, path)
    objects, crowds = _crowds(objects, data.get("annotations"), path)
    passed += crowds + dropped
    if not objects and not problems and data.get("annotations"):
        raise DatasetError(
            f"{path}: its {numbered(len(data['annotations']), 'annotation')} have no "
            "segmentation (boxes only): export the masks or polygons (CVAT: COCO 1.0 with "
            "masks; Roboflow: COCO Segmentation)"
        )
    by_name = {
        e.file_name: CocoImage(e.file_name, e.width, e.height, tuple(objects.get(i, ())))
        for i, e in images.items()
    }
    count = sum(len(v) for v in objects.values())
    void = sum(o.crowd for found in objects.values() for o in found)
    _parsed.cache_clear()  # what was read is held by the CocoSet
    return CocoSet(path, names, by_name, tuple(passed), tuple(problems), count, void)


def _no_project(categories, annotations, path: Path) -> tuple[list, list[str]]:
    """(the categories less Roboflow's project category, the line saying so): Roboflow puts
    its project first (id 0), the supercategory of the others, used by no annotation
    (roboflow-100-benchmark#45): kept, a set of one class would train as two."""
    if not isinstance(categories, list) or not all(isinstance(c, dict) for c in categories):
        return categories, []
    used = {_int(a.get("category_id")) for a in annotations or [] if isinstance(a, dict)}
    supers = {str(c.get("supercategory")) for c in categories if c.get("supercategory")}
    project = [
        c for c in categories if str(c.get("name")) in supers and _int(c.get("id")) not in used
    ]
    if not project or len(project) == len(categories):
        return categories, []
    line = (
        f"{path}: category {project[0].get('name')} (id {project[0].get('id')}), the others' "
        "supercategory, of no annotation: passed over (Roboflow's project, no class)"
    )
    return [c for c in categories if c not in project], [line]


def _categories(categories, path: Path) -> tuple[dict[int, int], tuple[str, ...]]:
    """({category id: value 1..K in id order}, names in that order)."""
    try:
        pairs = sorted((int(c["id"]), str(c.get("name", c["id"]))) for c in categories)
    except (TypeError, KeyError, ValueError):
        pairs = []
    if not pairs:
        raise DatasetError(
            f"{path}: no categories (a list of {{'id', 'name'}}): export it with its labels"
        )
    ids = [i for i, _ in pairs]
    if len(set(ids)) < len(ids):
        raise DatasetError(f"{path}: two categories share an id: give each its own")
    if len(ids) > MAX_CATEGORIES:
        raise DatasetError(
            f"{path}: {len(ids)} categories: unetlab trains at most {MAX_CATEGORIES}"
        )
    return {i: k for k, i in enumerate(ids, start=1)}, tuple(n for _, n in pairs)


def _images(entries: list, path: Path) -> dict[int | str, CocoImage]:
    """The image entries by id as written (:func:`_id`: ``"img-0"``, ``7``, ``"7"``), their
    ``file_name`` NFC and relative (a leading ``/`` dropped); DatasetError naming one
    without its id, name or size, or two of one id (the annotations of both went to one)."""
    images = {}
    for n, e in enumerate(entries, start=1):
        try:
            name = nfc(str(e["file_name"]).replace("\\", "/").lstrip("/"))
            image = CocoImage(name, int(e["width"]), int(e["height"]))
            key = _id(e["id"])
        except (TypeError, KeyError, ValueError):
            key = None
        if key is None:
            raise DatasetError(
                f"{path}: image {n} lacks its id, file_name, width or height: export it again"
            )
        if key in images:
            raise DatasetError(
                f"{path}: images {images[key].file_name} and {image.file_name} share the id "
                f"{key!r}: export the set again (each image needs its own id)"
            )
        images[key] = image
    return images


def _id(value) -> int | str | None:
    """An image id as written: a whole number (``7``, ``"7"``), else the string itself
    (``"img-0"``), None for none."""
    if (number := _int(value)) is not None:
        return number
    return value if isinstance(value, str) and value else None


def _annotations(annotations, images: dict, values: dict, path: Path) -> tuple[dict, list, list]:
    """({image id: [CocoObject]}, lines of what was passed over, problems) of the
    annotations: those of no image or category of the file, with no segmentation or only
    polygons of under 3 points are passed over (counted); an RLE of another size than its
    image's is a problem."""
    objects: dict[int | str, list[CocoObject]] = {}
    skipped = {"an image not in the file": [], "a category not in the file": []}
    skipped |= {"no segmentation": [], "polygons of under 3 points": []}
    problems = []
    for n, a in enumerate(annotations if isinstance(annotations, list) else [], start=1):
        a = a if isinstance(a, dict) else {}
        said = f"annotation {a.get('id', n)}"
        image = images.get(_id(a.get("image_id")))
        if image is None:
            skipped["an image not in the file"].append(said)
            continue
        if (value := values.get(_int(a.get("category_id")))) is None:
            skipped["a category not in the file"].append(said)
            continue
        found = _segmentation(a.get("segmentation"), image, f"{path}: {said} ({image.file_name})")
        if isinstance(found, DatasetError):
            problems.append(str(found))
            continue
        if isinstance(found, str):
            skipped[found].append(said)
            continue
        crowd = bool(a.get("iscrowd"))
        objects.setdefault(_id(a["image_id"]), []).append(CocoObject(value, *found, crowd))
    return objects, _passed_lines(path, skipped), problems


def _crowds(objects: dict, annotations: list, path: Path) -> tuple[dict, list[str]]:
    """(objects, the line of how the crowds were read): COCO's crowds (``iscrowd`` 1 beside
    polygon objects) are void; CVAT marks every mask of its brush ``iscrowd`` 1 (datumaro's
    exporter, which also writes each annotation's ``attributes``): where the file holds no
    polygon object, or says ``attributes``, its crowds are objects like the others."""
    crowds = [o for found in objects.values() for o in found if o.crowd]
    if not crowds:
        return objects, []
    polygons = any(o.polygons and not o.crowd for found in objects.values() for o in found)
    cvat = any(isinstance(a, dict) and "attributes" in a for a in annotations)
    if polygons and not cvat:
        pixels = sum(sum(o.rle[1::2]) for o in crowds if o.rle is not None)
        return objects, [
            f"{path}: {numbered(len(crowds), 'crowd region')} (iscrowd 1, {pixels:,} pixels "
            "of RLE) read as void (in no loss or metric; 255 among classes) under the "
            "objects: COCO's crowds"
        ]
    why = "says CVAT's attributes" if cvat else "holds no polygon object"
    line = (
        f"{path}: {numbered(len(crowds), 'mask')} marked iscrowd 1 read as objects like the "
        f"others (the file {why}: a tool's masks, as CVAT's brush writes them, not crowds)"
    )
    kept = {i: [replace(o, crowd=False) for o in found] for i, found in objects.items()}
    return kept, [line]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _segmentation(segmentation, image: CocoImage, where: str):
    """(polygons, rle) of an annotation's segmentation, else why not: the kind of what is
    passed over, or a DatasetError of what cannot be trained (named by ``where``)."""
    if isinstance(segmentation, dict):
        return _rle(segmentation, image, where)
    if not isinstance(segmentation, list) or not segmentation:
        return "no segmentation"
    if all(isinstance(v, (int, float)) for v in segmentation):
        segmentation = [segmentation]  # one polygon, not in its list (some exporters)
    rings = []
    for flat in segmentation:
        try:
            ring = np.asarray(flat, np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            return DatasetError(f"{where}: a polygon not as [x1, y1, x2, y2, ...]: export it again")
        if len(ring) >= 3 and np.isfinite(ring).all():
            rings.append(ring)
    return (tuple(rings), None) if rings else "polygons of under 3 points"


def _rle(segmentation: dict, image: CocoImage, where: str):
    """((), run lengths) of an RLE segmentation, or the DatasetError of one of a size that
    is not its image's, or of counts that do not cover it."""
    try:
        h, w = (int(v) for v in segmentation["size"])
        counts = segmentation["counts"]
        runs = rle_string_counts(counts) if isinstance(counts, str) else [int(c) for c in counts]
    except (TypeError, KeyError, ValueError):
        return DatasetError(f"{where}: an RLE without its counts and size [h, w]: export it again")
    if (h, w) != (image.height, image.width):
        return DatasetError(
            f"{where}: an RLE of {w}x{h} on an image of {image.width}x{image.height} (width x "
            "height): export the set again from its images (a mask of another image size)"
        )
    if sum(runs) != h * w or min(runs, default=0) < 0:
        return DatasetError(
            f"{where}: its RLE counts cover {sum(runs)} pixels, not {h}x{w}: export it again"
        )
    return (), tuple(runs)


def _passed_lines(path: Path, skipped: dict[str, list[str]]) -> list[str]:
    """One line for each kind of annotation passed over, with the first named."""
    return [
        f"{path}: {numbered(len(said), 'annotation')} of {kind} ({said[0]}"
        f"{', ...' if len(said) > 1 else ''}): passed over"
        for kind, said in skipped.items()
        if said
    ]


def rle_string_counts(text: str) -> list[int]:
    """The run lengths of COCO's compressed RLE string (pycocotools' ``rleFrString``, read
    anew): 6-bit characters from ``'0'``, 5 bits of a number each, a sixth saying more
    follow, the last one's fifth bit its sign; runs from the third on as differences from
    the one two before."""
    counts: list[int] = []
    value, shift = 0, 0
    for char in text:
        c = ord(char) - 48
        value |= (c & 0x1F) << shift
        shift += 5
        if c & 0x20:
            continue
        if c & 0x10:
            value -= 1 << shift
        counts.append(value + (counts[-2] if len(counts) > 2 else 0))
        value, shift = 0, 0
    return counts


def decode_rle(runs, shape: tuple[int, int]) -> np.ndarray:
    """The (H, W) bool mask of RLE run lengths ``runs`` (0s first, column by column)."""
    h, w = shape
    runs = np.asarray(runs, np.int64)
    flat = np.repeat(np.arange(len(runs)) % 2 == 1, runs)
    return flat.reshape(w, h).T


def coco_mask_path(path: Path, view: str, file_name: str) -> Path:
    """The mask of image ``file_name`` of the COCO file ``path`` as ``view`` reads it."""
    return path / f"{file_name}#{view}"


def viewed_now(mask: Path) -> Path:
    """The COCO mask ``mask`` (:func:`coco_mask_path`) in the view its file is read in now
    (:attr:`CocoSet.view`), any other path as it is: a split recorded under classes, taken
    again under ``data.target: instances`` (or back), pairs its images as their masks are
    read now, not as the recorded ``#classes`` says (s72 notes: touching objects merged)."""
    if (parts := coco_parts(mask)) is None:
        return mask
    path, _, file_name = parts
    return coco_mask_path(path, read_coco(path).view, file_name)


def coco_mask(mask: Path) -> np.ndarray | None:
    """(1, H, W) of a COCO mask (:func:`coco_mask_path`; None for another path): the image's
    object ids (uint16; int32 beyond 65,535) or class values (uint8, crowds 255)."""
    if (parts := coco_parts(mask)) is None:
        return None
    path, view, file_name = parts
    cset = read_coco(path)
    image = cset.images[file_name]
    return image_mask(image, view, f"{path}: {file_name}")[None]


def coco_shape(mask: Path) -> tuple[int, int, int] | None:
    """(1, H, W) of :func:`coco_mask` from the file's entry, None for another path."""
    if (parts := coco_parts(mask)) is None:
        return None
    path, _, file_name = parts
    image = read_coco(path).images[file_name]
    return 1, image.height, image.width


def image_mask(image: CocoImage, view: str, where: str) -> np.ndarray:
    """The (H, W) mask of ``image`` as ``view`` reads it (the module's rules): the objects'
    ids (crowds 0: :func:`coco_void`), or their class values (crowds :data:`VOID`)."""
    kept = [o for o in image.objects if not o.crowd]
    ids = drawn(kept, (image.height, image.width), where)
    if view == COCO_VIEWS[1]:
        return ids
    values = np.array([0, *(o.value for o in kept)], np.uint8)[ids]
    if (void := _crowd_void(image, ids, where)) is not None:
        values[void] = VOID
    return values


def coco_void(mask: Path, ids: np.ndarray) -> np.ndarray | None:
    """The (H, W) void of a COCO file's objects mask (:func:`coco_mask_path`, view
    ``objects``) whose object ``ids`` were read: its crowd regions where no object lies, as
    they are void among classes; None for another mask, or an image of no crowd region."""
    parts = coco_parts(mask)
    if parts is None or parts[1] != COCO_VIEWS[1]:
        return None
    path, _, file_name = parts
    image = read_coco(path).images[file_name]
    return _crowd_void(image, ids, f"{path}: {file_name}")


def _crowd_void(image: CocoImage, ids: np.ndarray, where: str) -> np.ndarray | None:
    """The pixels of ``image``'s crowd regions where its objects' ``ids`` hold none."""
    crowds = [o for o in image.objects if o.crowd]
    if not crowds:
        return None
    return (drawn(crowds, ids.shape, where) > 0) & (ids == 0)


def drawn(objects: list[CocoObject], shape: tuple[int, int], where: str) -> np.ndarray:
    """The (H, W) ids of ``objects`` (object k is k + 1): the polygons' rasterised as
    outlines are, then each RLE painted over them in file order."""
    outlines = [
        Outline(f"object {k}", rings=o.polygons, parts=(1,) * len(o.polygons))
        for k, o in enumerate(objects, start=1)
        if o.polygons
    ]
    found = rasterise(outlines, shape, where)
    order = [k for k, o in enumerate(objects, start=1) if o.polygons]
    dtype = np.uint16 if len(objects) <= np.iinfo(np.uint16).max else np.int32
    ids = np.array([0, *order], dtype)[found]
    if not any(o.rle is not None for o in objects):
        return ids
    columns = np.ascontiguousarray(ids.T)  # RLE's pixel order: column by column
    for k, o in enumerate(objects, start=1):
        if o.rle is not None:
            _paint_runs(columns.reshape(-1), o.rle, k)
    return np.ascontiguousarray(columns.T)


def _paint_runs(flat: np.ndarray, runs, value: int) -> None:
    """Set the pixels of RLE ``runs`` (0s first) in ``flat`` (the pixels in RLE's order)
    to ``value``, run by run: a mask decoded whole was 25 times slower (200 RLE objects on
    1024², 0.255 s)."""
    ends = np.cumsum(runs)
    for start, end in zip((ends - runs)[1::2].tolist(), ends[1::2].tolist(), strict=True):
        flat[start:end] = value


def coco_pairs(root: Path, names: list[str] | None, problems: list[str]) -> list[tuple[Path, Path]]:
    """(image, mask) of each image of ``root``'s COCO files (:func:`coco_files`) found on
    disk (those of the stems ``names`` only), each file said in one line; what cannot be
    trained added to ``problems`` (an image two files list: :func:`_listed_twice`), what is
    passed over said once (the images beside them no file lists: :func:`_say_unlisted`).
    ``root`` a COCO file (:func:`given_coco`): its pairs alone, its images found as from its
    folder's (s72 review: the folder's every file was read, another's problem sinking the
    run)."""
    pairs, listed, by_file = [], set(), {}
    files, root = ([root], _coco_folder(root)) if root.is_file() else (coco_files(root), root)
    for path in files:
        try:
            cset = read_coco(path)
        except DatasetError as exc:
            problems.append(str(exc))
            continue
        problems += cset.problems
        by_file[cset.path] = _file_pairs(root, cset, problems)
        listed |= {nfc(Path(n).stem) for n in cset.images}  # those not on disk: said
    pairs = [pair for found in by_file.values() for pair in found]
    problems += _listed_twice(by_file)
    _say_unlisted(list(by_file), [image for image, _ in pairs])
    if names is not None:
        stems = {nfc(image.stem) for image, _ in pairs} | listed
        problems += [
            f"{s}: listed in the split file but not in {root}/" for s in names if s not in stems
        ]
        wanted = set(names)  # a split's stems: COCO-2017's train file lists 118k
        pairs = [(image, mask) for image, mask in pairs if nfc(image.stem) in wanted]
    return pairs


def _listed_twice(by_file: dict[Path, list[tuple[Path, Path]]]) -> list[str]:
    """The problem of an image that two COCO files list (``by_file``: each file's pairs),
    told by stem as pairs are: trained twice with two truths (s74 review: a corrected
    ``objects_coco.json`` and an earlier ``objects_coco.new.json`` both listed ``a2``)."""
    first: dict[str, Path] = {}
    for path, found in by_file.items():
        for image, _ in found:
            other = first.setdefault(nfc(image.stem), path)
            if other != path:
                return [
                    f"{image.name} is listed by both {other} and {path}: keep it in one "
                    "(delete it from the other, or move the other away) so that it has one truth"
                ]
    return []


def _file_pairs(root: Path, cset: CocoSet, problems: list[str]) -> list[tuple[Path, Path]]:
    """The pairs of one COCO file: its images found on disk (:func:`_on_disk`)."""
    found = _on_disk(root, cset)
    said = cset.said().replace(str(cset.path), _shown(cset.path, root), 1)
    note_once(said, level=logging.INFO)
    for line in cset.passed:
        note_once(line)
    missing = [n for n in cset.images if n not in found]
    if shared := _shared_stems(cset, found):
        problems.append(shared)
        return []
    if missing and not found:
        problems.append(
            f"{cset.path}: none of its {numbered(len(missing), 'image')} ({missing[0]}, ...) is "
            f"in {root}/ or a folder in it: put the images beside it as the export had them"
        )
        return []
    if missing:
        note_once(
            f"{cset.path}: {numbered(len(missing), 'image')} it lists not on disk "
            f"({_first(missing)}): passed over"
        )
    _say_unannotated(cset, found)
    return [(found[n], coco_mask_path(cset.path, cset.view, n)) for n in sorted(found)]


def _shared_stems(cset: CocoSet, found: dict[str, Path]) -> str | None:
    """The problem of images found that share a stem (``scan1/000.png``, ``scan2/000.png``):
    masks and predictions pair by stem, so evaluate scored each prediction twice."""
    stems: dict[str, list[str]] = {}
    for name in found:
        stems.setdefault(nfc(Path(name).stem), []).append(name)
    shared = next((names for names in stems.values() if len(names) > 1), None)
    if shared is None:
        return None
    return (
        f"{cset.path}: {len(shared)} images share the stem {Path(shared[0]).stem} "
        f"({', '.join(shared)}): rename them apart (images, masks and predictions pair by "
        "file stem), or export each folder as its own set"
    )


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _first(names: list[str]) -> str:
    return names[0] + (", ..." if len(names) > 1 else "")


def _on_disk(root: Path, cset: CocoSet) -> dict[str, Path]:
    """The image file of each ``file_name`` of ``cset``: it under ``root``, a folder in it
    (``images/`` + ``scan1/000.png``) or the file's own folder, else the file of its name
    in one of them (``images/a.jpg`` found as ``train2017/a.jpg``)."""
    from unetlab.data.io import listed_image  # io reads COCO masks

    folders = [root, *(d for d in listing(root) if d.is_dir() and d.name[0] != ".")]
    folders.append(cset.path.parent)
    by_name: dict[str, Path] = {}
    for folder in folders:
        for f in listing(folder):
            if listed_image(f):
                by_name.setdefault(nfc(f.name), f)
    found = {}
    for name in cset.images:
        path = next((d / name for d in folders if (d / name).is_file()), None)
        if path := path or by_name.get(Path(name).name):
            found[name] = path
    return found


def _say_unlisted(files: list[Path], images: list[Path]) -> None:
    """One line for the images beside those found (``images``) that none of the COCO
    ``files`` lists: passed over (no annotation of them says what is background there).
    Said of all the files at once (s74 review: of corrected ``objects_coco.json`` and
    ``objects_coco.new.json``, each said the other's images were passed over, all trained)."""
    from unetlab.data.io import listed_image  # io reads COCO masks

    listed = set(images)
    folders = sorted({p.parent for p in listed})
    alone = [f for d in folders for f in listing(d) if listed_image(f) and f not in listed]
    if alone:
        which = "it does not list" if len(files) == 1 else "no COCO file there lists"
        note_once(
            f"{' and '.join(map(str, files))}: {numbered(len(alone), 'image')} in "
            f"{folders[0]}/ {which} ({_first([f.name for f in alone])}): passed over (not "
            "annotated)"
        )


def _say_unannotated(cset: CocoSet, found: dict[str, Path]) -> None:
    """One line for the images found that the file lists with no annotation: trained as all
    background (a task only partly annotated in CVAT lists every image)."""
    bare = [n for n in found if not cset.images[n].objects]
    if bare:
        note_once(
            f"{cset.path}: {len(bare)} of its {numbered(len(found), 'image')} on disk "
            f"{worded(len(bare), 'has', 'have')} no annotation ({_first(bare)}): trained as all background; annotate them, or "
            "delete them from the export if they are not done"
        )


def coco_class_names(root: Path) -> tuple[dict[int, str], Path] | None:
    """(``{0: "background", 1..K: the category names}``, the file) of the COCO files of
    ``root``, else of its split folders (``train/``, ``valid/``: Roboflow's), where they are
    read as classes (several categories); None where there are none, or one category (the
    objects of instance training). DatasetError where two files name their categories
    apart (a class value would mean two things). ``root`` a COCO file: its own (``evaluate
    --gt FILE.json``; s72 review: the names of the file beside it were taken)."""
    files = [root] if is_coco(root) else coco_files(root)
    files = files or [f for d in _split_folders(root) for f in coco_files(d)]
    sets = [read_coco(f) for f in files]
    if not sets or sets[0].view != COCO_VIEWS[0]:
        return None
    if other := next((s for s in sets if s.names != sets[0].names), None):
        raise DatasetError(
            f"{other.path}: its categories ({', '.join(other.names)}) are not those of "
            f"{sets[0].path} ({', '.join(sets[0].names)}): export both with one label list"
        )
    return {0: "background", **dict(enumerate(sets[0].names, start=1))}, sets[0].path


def _split_folders(root: Path) -> list[Path]:
    """The split folders of ``root`` (Roboflow's ``train/``, ``valid/``, ``test/``): train's
    first, test's last (its file names no class training reads, as for colour tables, s66)."""
    rank = {n: k for k, names in enumerate(SPLIT_NAMES.values()) for n in names}
    found = [d for d in listing(root) if d.is_dir()] if root.is_dir() else []
    found = [d for d in found if d.name.casefold() in SPLIT_FOLDERS]
    return sorted(found, key=lambda d: rank[d.name.casefold()])


def given_coco(path: Path) -> bool:
    """Whether ``path``, given where a data folder is asked (``evaluate --gt FILE.json``), is
    a COCO file, read alone (:func:`coco_pairs`); DatasetError for a ``.json`` that is not
    whole JSON (a download or export cut short), which would read as no data folder."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    if is_coco(path):
        return True
    try:
        json.loads(path.read_bytes())
    except OSError:
        return False
    except ValueError as exc:
        raise DatasetError(
            f"{path}: cannot be read as JSON ({exc}): export the COCO file again"
        ) from None
    return False


def _coco_folder(path: Path) -> Path:
    """The data folder of the COCO file ``path`` given alone: the folder its images are
    found from, as when that folder is given (the folder above its ``annotations/`` folder,
    else its own)."""
    folder = path.parent
    return folder.parent if folder.name.casefold() == ANNOTATIONS_FOLDER else folder


def coco_listed(mask: Path) -> bool:
    """Whether ``mask`` is a COCO file's mask (:func:`coco_mask_path`) whose file is there
    and lists its image."""
    parts = coco_parts(mask)
    return parts is not None and is_coco(parts[0]) and parts[2] in read_coco(parts[0]).images


def coco_sha256(mask: Path) -> str | None:
    """The sha256 of a COCO file's mask as drawn (its pixels, of its shape: what the file
    says of that image alone), None for another path."""
    drawn = coco_mask(mask)
    if drawn is None:
        return None
    return hashlib.sha256(repr(drawn.shape).encode() + drawn.tobytes()).hexdigest()
