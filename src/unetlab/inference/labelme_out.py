"""The objects of each predicted image as a labelme JSON file, ``<stem>_objects.json``
(``--outlines labelme``), to correct in labelme and train on again
(:mod:`unetlab.data.labelme`).

- :func:`center_rings`: an object's outline as labelme draws it: through the centres of its
  edge pixels (labelme fills the pixels whose centres lie inside a polygon or on its edges,
  as :mod:`unetlab.data.labelme` reads it), so a file read back gives the object's pixels.
- :func:`labelme_document`: one image's file: each object a ``polygon`` shape labelled with
  its class, an object of several pieces one ``group_id`` (labelme's way to join shapes);
  ``imagePath`` the input relative to the file, ``imageData`` null (labelme reads the image).
- :func:`write_run_labelme`: the files of a run, written at its end from each input's
  ``<stem>_objects.tif``; claimed before any work as its other outputs are
  (:func:`~unetlab.inference.output_rules.output_paths`' ``labelme``): one changed since
  predict wrote it (corrected in labelme) is the user's, never replaced.

The file is named after the objects' other outputs, never ``<stem>.json``: a folder predicted
into itself keeps the user's own ``a.json`` beside ``a.jpg``. An object's holes are filled
(labelme's polygons have none). A file kept by ``--skip-existing`` (one corrected in labelme)
is never written again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.inference.object_planes import (
    placed_inputs,
    plane_ids,
    table_classes,
    unopened_by,
)
from unetlab.inference.outlines import object_polygons, outline_class
from unetlab.inference.output_rules import output_of
from unetlab.inference.predict import class_names_of

#: the labelme version the files are written as (its 5.x files)
LABELME_VERSION = "5.2.1"


def center_rings(ids: np.ndarray) -> dict[int, list[np.ndarray]]:
    """The objects of the 2-D id image ``ids`` (0 background), ``{id: rings}``, ids
    ascending: one ``(n, 2)`` ring of ``(x, y)`` pixel centres (column, row: labelme's point
    of a pixel) a piece, along its edge pixels, where the outline runs straight on left out."""
    return {
        index: [_centres(ids, index, piece[0]) for piece in pieces]
        for index, pieces in object_polygons(ids).items()
    }


def _centres(ids: np.ndarray, index: int, ring: np.ndarray) -> np.ndarray:
    """The pixels of object ``index`` along ``ring`` (its corners:
    :mod:`~unetlab.inference.outlines`): beside each unit edge, the object's pixel, in ring
    order, repeats dropped."""
    ends = np.roll(ring, -1, axis=0)
    steps = np.abs(ends - ring).sum(axis=1)
    starts = np.repeat(ring, steps, axis=0)
    way = np.repeat(np.sign(ends - ring), steps, axis=0)
    starts += way * (np.arange(len(starts)) - np.repeat(np.cumsum(steps) - steps, steps))[:, None]
    middle = starts + way / 2  # each unit edge's middle; the pixels beside it, half a px off
    side = np.stack([-way[:, 1], way[:, 0]], axis=1) / 2
    right, left = (np.floor(middle + side).astype(int), np.floor(middle - side).astype(int))
    h, w = ids.shape
    inside = (right >= 0).all(axis=1) & (right[:, 0] < w) & (right[:, 1] < h)
    inside[inside] = ids[right[inside, 1], right[inside, 0]] == index
    pixels = np.where(inside[:, None], right, left)
    keep = (pixels != np.roll(pixels, 1, axis=0)).any(axis=1) | (len(pixels) == 1)
    pixels = pixels[keep] if keep.any() else pixels[:1]
    turn = np.roll(pixels, -1, axis=0) - pixels != pixels - np.roll(pixels, 1, axis=0)
    return pixels[turn.any(axis=1) | (len(pixels) < 3)]


def labelme_document(
    ids: np.ndarray, image_path: str, label: str, labels: Mapping[int, str] | None = None
) -> dict:
    """The labelme file of the objects of a 2-D id image ``ids`` (0 background), in id order,
    each labelled ``label`` or its entry in ``labels`` (by id), drawn on ``image_path``."""
    shapes = []
    for index, pieces in center_rings(ids).items():
        group = index if len(pieces) > 1 else None
        for ring in pieces:
            kind = "polygon" if len(ring) > 2 else "rectangle"  # a line of pixels: its box
            points = ring if len(ring) > 2 else np.stack([ring.min(axis=0), ring.max(axis=0)])
            shapes.append(
                {
                    "label": (labels or {}).get(index, label),
                    "points": points.tolist(),
                    "group_id": group,
                    "description": "",
                    "shape_type": kind,
                    "flags": {},
                }
            )
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": int(ids.shape[0]),
        "imageWidth": int(ids.shape[1]),
    }


def labelme_path(out_dir: str | os.PathLike, path: Path) -> Path:
    """Where the labelme file of input ``path`` goes in ``out_dir``."""
    return output_of(out_dir, path, "labelme")


def write_model_labelme(out_dir: Path, files: Sequence[Path], kept: Sequence[Path], model, objects):
    """:func:`write_run_labelme` of ``model``'s objects (``objects``, its ObjectOptions):
    labelled as QuPath's (:func:`~unetlab.inference.outlines.outline_class`), a semantic
    model's by their classes."""
    label = outline_class(model, objects) or "object"
    names = class_names_of(model)
    semantic = getattr(objects, "mode", None) == "semantic"
    return write_run_labelme(out_dir, files, kept, label, names if semantic else ())


def write_run_labelme(
    out_dir: Path,
    files: Sequence[Path],
    kept: Sequence[Path],
    label: str,
    class_names: Sequence[str] = (),
) -> list[Path]:
    """The labelme file of each input of ``files`` whose ``<stem>_objects.tif`` in ``out_dir``
    is one plane (a stack's, a multi-position file's left out, said) and that labelme opens
    (an ``.npy``'s, an ``.npz``'s left out, said: s74), but those of the inputs
    ``kept`` that are there; each object labelled ``label``, a semantic model's by its class
    in its table (``class_names``); those the user changed since predict wrote them kept
    (:func:`~unetlab.inference.object_planes.placed_inputs`, s73)."""
    written = []
    unfit = unopened_by("labelme")
    for path, target, tif in placed_inputs(out_dir, files, kept, labelme_path, "labelme", unfit):
        labels = _class_labels(tif.with_suffix(".csv"), class_names)
        document = labelme_document(plane_ids(tif), _relative(path, out_dir), label, labels)
        written.append(write_labelme(target, document))
    return written


def _class_labels(table: Path, class_names: Sequence[str]) -> dict[int, str] | None:
    """Each object's class name by id from its objects table (a semantic model's ``class``
    column), else None."""
    named = table_classes(table) if class_names else None
    if named is None:
        return None
    return {k: str(class_names[c]) for k, c in named.items() if 0 <= c < len(class_names)}


def _relative(path: Path, out_dir: Path) -> str:
    """``path`` relative to ``out_dir``, with ``/`` (labelme's ``imagePath``); its absolute
    path where none is (another drive). A link is named, not its target: git-annex's and
    DataLad's ``a.png`` -> ``.git/annex/.../SHA256E-...png`` is ``a.png``, its JSON's name."""
    try:
        return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))).as_posix()
    except ValueError:
        return Path(os.path.abspath(path)).as_posix()


def write_labelme(path: Path, document: dict) -> Path:
    """``document`` written to ``path`` atomically (claimed with the run's other outputs)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        json.dump(document, out, allow_nan=False, separators=(",", ":"))
        out.write("\n")
    return path
