"""YOLO segmentation labels (Ultralytics' YOLOv8-seg, Roboflow's export) read as outlines.

The layout: ``images/train/a.jpg`` beside ``labels/train/a.txt`` (and ``val/``, ``test/``),
with ``data.yaml`` at the top naming the classes (``names: [cell, debris]`` or ``{0: cell}``).
Each line of a label file is one object: its class id, then its polygon's corners
``x1 y1 x2 y2 ...`` (at least three), normalised to 0-1 by the image's width and height; a
line of four numbers is a box (YOLO detection's ``cx cy w h``). An empty file is an image
of background alone.

Coordinates: a normalised ``x`` times the image's width is read in pixel corners (pixel
``col`` spans ``col`` to ``col + 1``), as :mod:`unetlab.data.annotations` reads outlines, since
0 to 1 spans the image's whole extent (a box of 0 to 1 is every pixel; Ultralytics' own masks,
``cv2.fillPoly`` at ``x * W``, lie half a pixel up and left of it, with its pixels on the
edges). Class id ``k`` is mask value ``k + 1`` (0: background), named by ``data.yaml``."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from unetlab.data.annotations import Outline, box_ring
from unetlab.data.names import SPLIT_NAMES, nfc, sub_folder
from unetlab.errors import DatasetError
from unetlab.read_once import file_stamp
from unetlab.words import numbered

#: Ultralytics' and Roboflow's name of the file naming the classes, at the data set's top
DATA_YAML = ("data.yaml", "data.yml", "dataset.yaml")
#: how far a coordinate may pass 0 or 1 (rounding of the tool that wrote it) and be clipped
SLACK = 1e-3


def data_yaml(folder: Path, above: int = 3) -> Path | None:
    """The data.yaml of the YOLO data set ``folder`` lies in (it, or a folder up to
    ``above`` over it: ``labels/train/``'s is at the top), or None."""
    folders = [folder, *list(folder.parents)[:above]]
    return _data_yaml(tuple(map(str, folders)), tuple(map(_folder_time, folders)))


def _folder_time(folder: Path) -> int | None:
    """The time of ``folder``, which changes as a file is added, removed or renamed in it."""
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=4096)
def _data_yaml(folders: tuple[str, ...], times: tuple) -> Path | None:
    """:func:`data_yaml` of the first of ``folders`` while they are as ``times`` says:
    looked for once (asked of each label file listed), not again while none is added."""
    for up in map(Path, folders):
        for name in DATA_YAML:
            if (up / name).is_file():
                return up / name
    return None


def class_names(path: Path) -> dict[int, str]:
    """``{class id: name}`` of a data.yaml (``names`` a list or a mapping); DatasetError
    where it has none."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot be read as YAML ({exc})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        return {i: str(n) for i, n in enumerate(names)}
    if isinstance(names, dict) and all(str(k).isdigit() for k in names):
        return {int(k): str(n) for k, n in names.items()}
    raise DatasetError(
        f"{path}: names no classes (a 'names:' list, or a mapping of class id to name): add "
        "them, as Ultralytics' data.yaml has them"
    )


def is_label_text(path: Path) -> bool:
    """Whether ``path`` is a YOLO label file: a ``.txt`` in a ``labels/`` folder (or one of
    its split folders) of a data set with a data.yaml, empty or whose first line is an
    object's (a class id and coordinates: numbers, not one alone as a list of counts has)."""
    folders = [path.parent.name, path.parent.parent.name]
    if path.suffix.lower() != ".txt" or "labels" not in (f.casefold() for f in folders):
        return False
    return data_yaml(path.parent) is not None and _begins_as_labels(str(path), file_stamp(path))


@functools.lru_cache(maxsize=65536)
def _begins_as_labels(path: str, stamp: tuple | None) -> bool:
    """Whether the file ``path`` (as it was at ``stamp``) is empty or its first line is
    numbers, two or more: its first 4 KB read, once while unchanged."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", errors="replace")
    except OSError:
        return False
    first = next((line for line in head.splitlines() if line.strip()), "")
    values = first.split()
    return not first or len(values) >= 2 and _numbers(values)


def _numbers(values: list[str]) -> bool:
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    return True


def yolo_outlines(path: Path, size: tuple[int, int], names: dict[int, str]):
    """``[(Outline, class id)]`` of the YOLO label file ``path`` over an image of ``size``
    (H, W), in pixel corners; a DatasetError names a line of a class ``names`` lacks, a
    coordinate outside 0-1, or too few numbers."""
    found = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        if not _numbers(line.split()):
            raise DatasetError(
                f"{where}: {line.strip()[:40]!r} is not numbers; a YOLO line is a class id "
                "and x y pairs: fix the line or delete it"
            )
        values = np.array(line.split(), dtype=np.float64)
        found.append((_outline(values[1:], size, where), _class_id(values[0], names, where)))
    return found


def _class_id(value: float, names: dict[int, str], where: str) -> int:
    """The class id a line starts with; DatasetError where data.yaml names no such class."""
    if value != int(value) or int(value) not in names:
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(names.items()))
        raise DatasetError(
            f"{where}: class {value:g}, which data.yaml does not name (its names: {shown}): "
            "add it to data.yaml's names, or fix the line"
        )
    return int(value)


def _outline(coords: np.ndarray, size: tuple[int, int], where: str) -> Outline:
    """The outline of a line's normalised coordinates: a polygon, or a box of four."""
    if len(coords) < 6 and len(coords) != 4 or len(coords) % 2:
        raise DatasetError(
            f"{where}: {len(coords)} coordinates; a YOLO segment needs x y pairs of at least "
            "three corners (or a box's cx cy w h): fix the line or delete it"
        )
    if not np.isfinite(coords).all() or coords.min() < -SLACK or coords.max() > 1 + SLACK:
        raise DatasetError(
            f"{where}: a coordinate outside 0-1 ({coords.min():g} to {coords.max():g}): YOLO's "
            "are normalised by the image's width and height; divide them by them"
        )
    h, w = size
    if len(coords) == 4:
        cx, cy, bw, bh = coords
        coords = box_ring(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
    corners = np.clip(coords.reshape(-1, 2), 0, 1) * (w, h)
    return Outline(where, rings=(corners,))


def yolo_images(path: Path) -> Path | None:
    """The images folder of the YOLO label file ``path``: ``images/train/`` for
    ``labels/train/a.txt``, ``images/`` for ``labels/a.txt`` (any letter case), or None."""
    if path.suffix.lower() != ".txt":
        return None
    if path.parent.name.casefold() == "labels":
        return sub_folder(path.parent.parent, "images")
    if path.parent.parent.name.casefold() == "labels":
        return sub_folder(sub_folder(path.parent.parent.parent, "images"), path.parent.name)
    return None


def held_out(images: Path) -> bool:
    """Whether the split folder ``images`` (``images/test/``) is a YOLO set's test split:
    left out of training and validation, a score for a run that never saw it."""
    return images.name.casefold() in SPLIT_NAMES["test"]


def yolo_folders(root: Path) -> list[tuple[Path, Path]] | None:
    """(images/S/, labels/S/) of each split folder S (``train``, ``val``, ...) of a YOLO
    data set ``root`` (a data.yaml at its top, ``images/`` and ``labels/`` holding split
    folders), or None where ``root`` is none."""
    images, labels = sub_folder(root, "images"), sub_folder(root, "labels")
    if data_yaml(root, above=0) is None or not (images.is_dir() and labels.is_dir()):
        return None
    splits = sorted(d for d in images.iterdir() if d.is_dir() and not d.name.startswith("."))
    found = [(d, sub_folder(labels, d.name)) for d in splits]
    return [(i, m) for i, m in found if m.is_dir()] or None


def yolo_sides(root: Path) -> dict[str, list[tuple[Path, Path]]]:
    """Each side of the YOLO data set ``root``'s own split, ``"train"`` and ``"val"`` ->
    its (images/S/, labels/S/) folders (:func:`yolo_folders`), S any of
    :data:`~unetlab.data.names.SPLIT_NAMES`' for that side (``training``, ``valid`` ...)."""
    sides: dict[str, list[tuple[Path, Path]]] = {"train": [], "val": []}
    for images, labels in yolo_folders(root) or []:
        for side in sides:
            if images.name.casefold() in SPLIT_NAMES[side]:
                sides[side].append((images, labels))
    return sides


def side_folders(root: Path, side: str) -> tuple[str, str]:
    """("images/S/", "labels/S/"): the folders of ``side`` (``"train"``, ``"val"``) of the
    YOLO data set ``root``'s own split, as its folders are named (``images/valid/``)."""
    images, labels = yolo_sides(root)[side][0]
    return f"{images.parent.name}/{images.name}/", f"{labels.parent.name}/{labels.name}/"


def yolo_split(root: Path) -> tuple[list[str], list[str]] | None:
    """(the stems of the label files of ``labels/train/``, of ``labels/val/``) of the YOLO
    data set ``root`` where it has both split folders (``training``, ``valid`` ...: any of
    :data:`~unetlab.data.names.SPLIT_NAMES`'), its own split, else None. A DatasetError
    names a stem on both sides (its image would train and validate)."""
    sides = {k: [labels for _, labels in found] for k, found in yolo_sides(root).items()}
    if not (sides["train"] and sides["val"]):
        return None
    train, val = ([_stem(f) for d in sides[k] for f in _texts(d)] for k in ("train", "val"))
    if both := sorted(set(train) & set(val)):
        where = [f"{d.parent.name}/{d.name}/" for k in ("train", "val") for d in sides[k][:1]]
        raise DatasetError(
            f"{root}: {numbered(len(both), 'image')} in both {where[0]} and {where[1]} "
            f"({both[0]}{', ...' if len(both) > 1 else ''}): each would train and validate; "
            "keep each in one of them"
        )
    return train, val


def _texts(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.suffix.lower() == ".txt" and f.is_file())


def _stem(path: Path) -> str:
    return nfc(path.stem)
