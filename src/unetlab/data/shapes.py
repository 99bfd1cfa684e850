"""Masks drawn as labelled shapes, one file per image: labelme's JSON
(:mod:`unetlab.data.labelme`) and YOLO segmentation labels (:mod:`unetlab.data.yolo`), read
as class masks: each shape filled with its class's value (0 background), a later shape over
an earlier one where they overlap, what reaches outside the image clipped (said once,
:func:`unetlab.data.annotations.rasterise`).

Files are told by what they hold, not by their suffix alone (:func:`is_shapes_mask`): a
``.json`` holding ``"shapes"`` is labelme's (COCO's one file of ``"images"`` and
``"annotations"`` is not), a ``.txt`` of numbers in a ``labels/`` folder YOLO's (a
``labels.txt`` or ``class_names.txt`` of names is neither). The classes of a data set are the
same in each of its files (:func:`shape_class_names`): labelme's labels over all its JSON
files (or its ``labels.txt``), YOLO's by data.yaml."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np

from unetlab.context_values import set_within
from unetlab.data.annotations import rasterise
from unetlab.data.labelme import (
    BACKGROUND,
    IGNORE,
    LABELS_FILE,
    Shape,
    label_values,
    labelme_shapes,
    labelme_told,
    named_images,
    read_labelme,
    read_labels_file,
    unlisted,
)
from unetlab.data.large_ids import label_dtype
from unetlab.data.names import FOLDER_NAMES, SPLIT_NAMES
from unetlab.data.read_notes import note_once
from unetlab.data.yolo import class_names, data_yaml, is_label_text, yolo_outlines
from unetlab.errors import DatasetError
from unetlab.words import numbered

#: whether masks drawn as labelled shapes are read now as objects (``data.target:
#: instances``: each shape, or labelme group, one id) rather than classes, per context
_AS_OBJECTS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "unetlab_shapes_as_objects", default=False
)
#: the suffixes of masks drawn as labelled shapes: labelme's JSON, YOLO's label text
SHAPE_SUFFIXES = (".json", ".txt")
#: the folders a data set's files lie in below its top (``masks/``, ``train/``); not its
#: images' (``images/``): a JSON beside its image there is a flat set of that folder
_BELOW = {
    n
    for role, names in (*FOLDER_NAMES.items(), *SPLIT_NAMES.items())
    for n in names
    if role not in ("images", "JPEGImages")
}


def is_shapes_mask(path: str | os.PathLike) -> bool:
    """Whether the file ``path`` is a mask drawn as labelled shapes: labelme's JSON (a
    ``shapes`` list) or a YOLO label file (:func:`~unetlab.data.yolo.is_label_text`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SHAPE_SUFFIXES or not path.is_file():
        return False
    if suffix == ".txt":
        return is_label_text(path)
    return _labels_in(path) is not None


def _labels_in(path: Path) -> tuple[str, ...] | None:
    """The labels of the shapes of the labelme file ``path``, or None where it is none."""
    told = labelme_told(path)
    return None if told is None else told.labels


def shapes_mask(path: str | os.PathLike, image: Path | None, size: tuple[int, int]) -> np.ndarray:
    """The (H, W) mask of the shapes file ``path`` drawn over ``image`` of ``size`` (H, W;
    None: of the size a labelme JSON records, :func:`recorded_size`):
    its classes (uint8; uint16 past 255), or its objects' ids within
    :func:`shapes_read_as` ``"instances"`` (:func:`shape_objects`)."""
    path = Path(path)
    if path.suffix.lower() == ".txt":
        names = class_names(_yaml_of(path))
        found = yolo_outlines(path, size, names)
        outlines = [o for o, _ in found]  # each line an object, or its class id + 1
        table = [i + 1 if _AS_OBJECTS.get() else k + 1 for i, (_, k) in enumerate(found)]
    else:
        shapes = labelme_shapes(read_labelme(path), path, size, image)
        outlines = [s.outline for s in shapes]
        if _AS_OBJECTS.get():
            table = shape_objects(shapes, path)
        else:  # as classes: an __ignore__ shape is the void (no line of objects)
            by_label = _label_values(path)
            table = [by_label[s.label] for s in shapes]
    ids = rasterise(outlines, size, str(path))
    return np.array([0, *table], dtype=label_dtype(max(table, default=0)))[ids]


def recorded_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """(H, W) a labelme JSON records of its image (``imageHeight``, ``imageWidth``), else
    None (a YOLO label file, normalised, records none)."""
    if Path(path).suffix.lower() != ".json":
        return None
    data = read_labelme(path)
    size = data.get("imageHeight"), data.get("imageWidth")
    return size if all(isinstance(v, int) and v > 0 for v in size) else None


def shape_objects(shapes: list[Shape], path: Path) -> list[int]:
    """The object id (1, 2, ... in the order each first comes) of each labelme shape:
    shapes of one label and ``group_id`` are one object (labelme's rule), another shape one
    alone; those labelled :data:`BACKGROUND` or :data:`IGNORE` 0, the background (said)."""
    ids: dict[tuple, int] = {}
    found = []
    for shape in shapes:
        if shape.label in (BACKGROUND, IGNORE):
            found.append(0)
            continue
        found.append(ids.setdefault(shape.group, len(ids) + 1))
    if ignored := sum(s.label == IGNORE for s in shapes):
        note_once(
            f"{path}: {numbered(ignored, IGNORE + ' shape')} read as background: objects are "
            "trained one by one (said for the first such file only)",
            key="labelme ignore as objects",
        )
    return found


def shapes_read_as(target: str | None) -> contextlib.AbstractContextManager[None]:
    """Read masks drawn as labelled shapes as objects within where ``target`` (a config's
    ``data.target``) is ``"instances"``, else as classes (None: as now)."""
    return set_within(_AS_OBJECTS, _AS_OBJECTS.get() if target is None else target == "instances")


def set_shapes_reading(as_objects: bool) -> None:
    """Read masks drawn as labelled shapes as objects from now where ``as_objects`` (a
    checkpoint's instance model: evaluate reads its truth as its training did), within a
    function of :func:`~unetlab.data.mask_reading.keeps_masks_reading`, which restores the
    reading before; False keeps the reading."""
    if as_objects:
        _AS_OBJECTS.set(True)


def shapes_as_objects() -> bool:
    """Whether masks drawn as labelled shapes are read now as objects (:func:`shapes_read_as`)."""
    return _AS_OBJECTS.get()


def _yaml_of(path: Path) -> Path:
    """The data.yaml of a YOLO label file; DatasetError where there is none."""
    found = data_yaml(path.parent)
    if found is None:
        raise DatasetError(
            f"{path}: a YOLO label file without a data.yaml above it naming its classes: put "
            "the export's data.yaml at the data set's top (names: [class 0, class 1, ...])"
        )
    return found


def _label_values(path: Path) -> dict[str, int]:
    """``{label: value}`` of the labelme data set ``path`` is part of: by the labels.txt of
    its folder or its top, else every label of its JSON files, sorted."""
    top = set_top(path.parent)
    listed = _labels_file(path.parent, top)
    if listed is not None:
        values = label_values((), read_labels_file(listed))
        unlisted(_labels_in(path) or (), values, path, listed)
        return values
    values = label_values(_set_labels(top), None)
    _refuse_unknown(_labels_in(path) or (), values, path, top)
    return values


def _refuse_unknown(labels, values: dict[str, int], path: Path, top: Path) -> None:
    """DatasetError where a label of the file ``path`` is no class of the set at ``top``
    (its labelme files' labels, unetlab predict's passed over): never read as background."""
    if missing := sorted(set(labels) - set(values)):
        raise DatasetError(
            f"{path}: labels {', '.join(map(repr, missing))} are no class of the labelme files "
            f"of {top} (those unetlab predict wrote count where they name their images, or no "
            "other is): put the file among the data set's masks, or list the classes in "
            f"{top / LABELS_FILE} (one label a line)"
        )


def set_top(folder: Path) -> Path:
    """The top of the data set whose files lie in ``folder``: it, or the folder above its
    ``masks/``, ``train/`` (or both: ``train/masks/``, ``masks/train/``)."""
    for _ in range(2):
        if folder.name.casefold() not in _BELOW or folder.parent == folder:
            break
        folder = folder.parent
    return folder


def _labels_file(folder: Path, top: Path) -> Path | None:
    """The labels.txt of ``folder``, of a folder between it and ``top``, or of ``top``."""
    for above in [folder, *folder.parents]:
        if (above / LABELS_FILE).is_file():
            return above / LABELS_FILE
        if above == top or not above.is_relative_to(top):
            return None
    return None


def _set_labels(top: Path) -> tuple[str, ...]:
    """Every label of the labelme files under ``top`` (two folders down at most), sorted:
    looked for once while no file is added, removed or renamed there (each mask read asks;
    s71 review: 20 ms a read at 2,000 files, looked for each time)."""
    return _labels_under(str(top), _folder_stamps(top))


def _folder_stamps(top: Path) -> tuple[tuple[str, int], ...]:
    """(path, time) of ``top`` and of its folders two down: a folder's time changes as a
    file is added to it, removed or renamed."""
    found, level = [], [str(top)]
    for depth in range(3):
        below = []
        for folder in level:
            try:
                found.append((folder, os.stat(folder).st_mtime_ns))
                with os.scandir(folder) as entries:
                    below += [e.path for e in entries if depth < 2 and e.is_dir()]
            except OSError:
                continue
        level = below
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _labels_under(top: str, stamps: tuple) -> tuple[str, ...]:
    """:func:`_set_labels` of ``top`` while its folders are as ``stamps`` says; the labelme
    files unetlab predict wrote (its folder's manifest lists them: :func:`_predicted`) count
    only in a set of no other, whatever their names (an image ``well_objects.png``'s own
    ``well_objects.json`` is one), but those that pair with the images their imagePath
    names, masks of the set (its output folder, corrected in labelme: a hand-made b.json
    beside them made their labels no class, s73 review)."""
    from unetlab.data.io import INPUT_SUFFIXES  # io reads shapes: imported when called

    own: set[str] = set()
    theirs: set[str] = set()
    for pattern in ("*.json", "*/*.json", "*/*/*.json"):
        files = list(Path(top).glob(pattern))
        predicted = _predicted({f.parent for f in files})
        predicted -= set(named_images(predicted, INPUT_SUFFIXES))  # masks of the set
        for f in files:
            (theirs if f in predicted else own).update(_labels_in(f) or ())
    return tuple(sorted(own or theirs))


def _predicted(folders: set[Path]) -> set[Path]:
    """The files of ``folders`` that unetlab predict wrote, as their manifests say (an
    unreadable manifest: none)."""
    from unetlab.errors import OutputError
    from unetlab.manifest import MANIFEST, writers_of

    found = set()
    for folder in folders:
        if (folder / MANIFEST).is_file():
            with contextlib.suppress(OutputError, OSError):
                ours = writers_of(folder)
                found |= {folder / n for n, by in ours.items() if "predict" in by}
    return found


def shape_class_names(root: str | os.PathLike) -> tuple[dict[int, str], Path] | None:
    """(``{value: name}``, the file they are read from) of the data set ``root`` where its
    masks are drawn as labelled shapes: YOLO's data.yaml (class id + 1), labelme's labels
    (its labels.txt, or its JSON files'); else None."""
    root = Path(root)
    if (yaml := data_yaml(root, above=0)) is not None:
        return {0: "background"} | {k + 1: n for k, n in class_names(yaml).items()}, yaml
    top = set_top(root)  # as each mask's (:func:`_label_values`): ``train/``'s is above it
    labels = _set_labels(top)
    if not labels:
        return None
    listed = _labels_file(root, top)
    values = label_values(labels, read_labels_file(listed) if listed else None)
    names = {v: n for n, v in values.items() if n in labels or v == 0}
    names[0] = "background" if names.get(0, BACKGROUND) == BACKGROUND else names[0]
    return names, listed or root


#: the pairs gathered within :func:`paired_said_once` (None: each pairing says its own)
_GATHERED: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "shapes paired together", default=None
)


@contextlib.contextmanager
def paired_said_once(root: Path):
    """Within: the pairs of several pairings of ``root`` (a split's two sides) gathered and
    said in one line at the end (:func:`say_paired`; two lines of two counts before)."""
    gathered: list[tuple[Path, Path]] = []
    with set_within(_GATHERED, gathered):
        yield
    say_paired(root, gathered)


def say_paired(root: Path, files: list[tuple[Path, Path]]) -> None:
    """The line (once a command) saying how many images of ``root`` pair with masks drawn
    as labelled shapes (``files``: (image, mask) pairs), by kind: labelme's, YOLO's; within
    :func:`paired_said_once` they are gathered for its line."""
    if (gathered := _GATHERED.get()) is not None:
        gathered += files
        return
    kinds = {".json": "labelme JSON", ".txt": "YOLO label"}
    counts = Counter(kinds[m.suffix.lower()] for _, m in files if m.suffix.lower() in kinds)
    if counts:
        said = " and ".join(f"{n} with their {kind} files" for kind, n in sorted(counts.items()))
        filled = "objects" if _AS_OBJECTS.get() else "classes"
        note_once(f"{root}: images paired: {said} (shapes filled as {filled})", level=logging.INFO)
