"""The objects of a predicted folder as one COCO file, ``objects_coco.json`` (``--outlines
coco``), for CVAT's "Import annotations: COCO 1.0" and Label Studio's COCO import, which
take one file for a whole task of images, and for ``unetlab train --data`` again
(:mod:`unetlab.data.coco`).

- :func:`coco_annotations`: the annotations of one image's ids: each object's outline traced
  along its pixels' edges (:func:`~unetlab.inference.outlines.object_polygons`) as COCO's
  polygons (one a piece), its ``area`` (pixels), ``bbox`` ``[x, y, w, h]``, ``iscrowd`` 0;
  an object with a hole as an uncompressed RLE instead (COCO's polygons of an object are
  joined, so a hole would be filled).
- :func:`coco_categories`: the categories of a model's objects (its class names).
- :func:`write_run_coco`: the file of a run, built at its end from every input's
  ``<stem>_objects.tif`` in the folder (those predicted and those ``--skip-existing``
  kept: a resumed run's file holds them all, as ``objects_summary.csv`` does).

Coordinates are pixel corners, as CVAT and Label Studio draw on an image and
:mod:`unetlab.data.coco` reads them: the pixels whose centres lie inside a polygon are
exactly the object's. The project has no per-object score, so ``score`` is not written.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.inference.outlines import Polygons, object_polygons, polygon_area
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: the run's COCO file in the output folder
COCO_FILE = "objects_coco.json"


def coco_annotations(
    ids: np.ndarray, image_id: int, *, first_id: int = 1, classes: Mapping[int, int] | None = None
) -> list[dict]:
    """The COCO annotations of the objects of a 2-D id image ``ids`` (0 background), in id
    order, numbered from ``first_id``, of image ``image_id``; ``classes``: each object's
    category id (by object id; absent: 1)."""
    height, width = ids.shape
    found = []
    for n, (index, polygons) in enumerate(object_polygons(ids).items()):
        left, top, right, bottom = _bounds(polygons)
        holed = any(len(polygon) > 1 for polygon in polygons)
        if holed:
            window = ids[top:bottom, left:right] == index
            segmentation = {"counts": _runs(window, left, top, ids.shape), "size": [height, width]}
        else:
            segmentation = [polygon[0].ravel().tolist() for polygon in polygons]
        found.append(
            {
                "id": first_id + n,
                "image_id": image_id,
                "category_id": int((classes or {}).get(index, 1)),
                "segmentation": segmentation,
                "area": int(polygon_area(polygons)),
                "bbox": [left, top, right - left, bottom - top],
                "iscrowd": 0,
            }
        )
    return found


def _bounds(polygons: Polygons) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of an outline's corners: the object's box, right and
    bottom exclusive."""
    corners = np.concatenate([polygon[0] for polygon in polygons])
    (left, top), (right, bottom) = corners.min(axis=0), corners.max(axis=0)
    return int(left), int(top), int(right), int(bottom)


def _runs(window: np.ndarray, left: int, top: int, shape: tuple[int, int]) -> list[int]:
    """COCO's uncompressed RLE counts (column by column, 0s first) of an image of ``shape``
    whose ``window`` (a bool mask, its top-left pixel the image's (top, left)) holds the
    object: the work grows with the object, not the image."""
    height, width = shape
    cols, rows = np.nonzero(window.T)  # column by column, as RLE runs
    flat = (cols + left) * height + rows + top
    breaks = np.flatnonzero(np.diff(flat) != 1) + 1
    starts = flat[np.r_[0, breaks]]
    ends = flat[np.r_[breaks - 1, len(flat) - 1]] + 1
    gaps = starts - np.r_[0, ends[:-1]]
    runs = np.stack([gaps, ends - starts], axis=1).ravel().tolist()
    return [*runs, height * width - int(ends[-1])]


def coco_categories(class_names: Sequence[str], options) -> dict[int, str]:
    """The categories of a model's objects, ``{id: name}``: a semantic model's classes but
    its ``background`` and ``no_class`` (ids: the class indices, as the objects table's
    ``class``); an instance model's objects one category, 1, named by its foreground
    (:func:`~unetlab.inference.outlines.outline_class`) or ``object``."""
    from types import SimpleNamespace

    from unetlab.inference.outlines import outline_class

    if getattr(options, "mode", None) == "semantic":
        gone = {options.background, *options.no_class}
        return {k: str(n) for k, n in enumerate(class_names) if k not in gone}
    model = SimpleNamespace(classes=list(class_names))
    return {1: outline_class(model, options) or "object"}


def coco_document(
    images: Sequence[dict], annotations: Sequence[dict], categories: Mapping[int, str]
) -> dict:
    """A COCO file's content: ``images`` (``id``, ``file_name``, ``width``, ``height``),
    ``annotations`` and ``categories`` (``{id: name}``)."""
    return {
        "info": {"description": "objects predicted by unetlab"},
        "images": list(images),
        "annotations": list(annotations),
        "categories": [{"id": k, "name": n, "supercategory": ""} for k, n in categories.items()],
    }


def write_coco(path: str | os.PathLike, document: dict) -> Path:
    """``document`` written to ``path`` atomically (strict JSON, one line). The caller has
    claimed the path (:func:`claim_coco`)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        json.dump(document, out, allow_nan=False, separators=(",", ":"))
        out.write("\n")
    return path


def claim_coco(out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """The COCO file's path in ``out_dir``, checked and listed in the folder's manifest before
    any work, as the per-image table's
    (:func:`~unetlab.inference.objects_summary.claim_summary`): never a file unetlab did not
    write, one another command wrote only with ``overwrite``."""
    from unetlab.inference.output_rules import GIVE_ANOTHER
    from unetlab.outputs import claim_files, refuse_unlisted

    path = Path(out_dir) / COCO_FILE
    refuse_unlisted([path], "predict")
    claim_files([path], overwrite=overwrite, command="predict", elsewhere=GIVE_ANOTHER)
    return path


def write_run_coco(
    out_dir: Path, files: Sequence[Path], names: Mapping[Path, str], categories: dict[int, str]
) -> Path | None:
    """``out_dir``/:data:`COCO_FILE` of the inputs ``files`` whose ``<stem>_objects.tif`` is
    there (each ``file_name`` its ``names`` entry: the input relative to the folder given),
    image ids 1.. in input order; one line for those left out (a stack, a multi-position
    file: COCO has no planes). None where no image has objects there (nothing written)."""
    from unetlab.inference.slides import output_stem

    images, annotations, left_out = [], [], []
    for path in files:
        stem = out_dir / output_stem(path)
        ids = _plane_ids(stem.with_name(f"{stem.name}_objects.tif"))
        if ids is None:
            left_out.append(path.name)
            continue
        image_id = len(images) + 1
        images.append(
            {
                "id": image_id,
                "file_name": names[path],
                "width": ids.shape[1],
                "height": ids.shape[0],
            }
        )
        classes = _table_classes(stem.with_name(f"{stem.name}_objects.csv"))
        annotations += coco_annotations(
            ids, image_id, first_id=len(annotations) + 1, classes=classes
        )
    _say_left_out(out_dir, left_out)
    if not images:
        return None
    return write_coco(out_dir / COCO_FILE, coco_document(images, annotations, categories))


def _plane_ids(path: Path) -> np.ndarray | None:
    """The 2-D ids of an objects TIFF of one plane; None where it is not there or not one
    plane (a stack's, a failed input's)."""
    import tifffile

    from unetlab.data.tiff_files import open_tiff

    if not path.is_file():
        return None
    try:
        with open_tiff(path) as tif:
            series = tif.series[0]
            if len([n for n in series.shape if n > 1]) > 2 or len(series.shape) < 2:
                return None
            return np.asarray(series.asarray()).reshape(series.shape[-2:])
    except (tifffile.TiffFileError, OSError, IndexError, ValueError):
        return None


def _table_classes(table: Path) -> dict[int, int] | None:
    """Each object's ``class`` by id from its objects table (a semantic model's), else None."""
    if not table.is_file():
        return None
    with table.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "class" not in rows[0]:
        return None
    return {int(r["id"]): int(r["class"]) for r in rows if r.get("class") not in (None, "")}


def _say_left_out(out_dir: Path, left_out: list[str]) -> None:
    if left_out:
        log.warning(
            "%s: %s of no one-plane objects image left out (%s%s): COCO holds 2-D images; "
            "their outlines: --outlines geojson",
            Path(out_dir) / COCO_FILE,
            numbered(len(left_out), "input"),
            left_out[0],
            ", ..." if len(left_out) > 1 else "",
        )
