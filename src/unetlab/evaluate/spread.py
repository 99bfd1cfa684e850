"""How the images of an evaluation spread: each image's pixel figures (mIoU, mean Dice, IoU
and Dice per class) summed up as mean ± sd and min-max over the images, for the report's
table and JSON (``per_image``), and the per-image rows as a CSV (audit s31 fewshot 8: a paper
with a few test images reports "Dice 0.84 ± 0.05, n = 4 images", not one pooled figure)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.evaluate.frames import PAGE_COLUMNS
from unetlab.metrics.spread import described, spread

#: how ``per_image`` combines the images (``averaging`` in the JSON)
SPREAD = (
    "each image's own figure, then over the images: mean, sd (sample, n - 1), min and max "
    "(n: the images where it is defined)"
)
#: classes beyond which the table gives mIoU and mean Dice only (the JSON has them all)
TABLE_CLASSES = 8


def per_image_spread(images: Sequence[dict], class_names: Sequence[str]) -> dict:
    """The spread (:func:`spread`) over ``images`` (the report's rows) of their ``miou``,
    ``mdice`` and of each class's ``iou`` and ``dice``: ``{"miou", "mdice", "classes":
    {name: {"iou", "dice"}}}``."""
    return {
        "miou": spread([r.get("miou", math.nan) for r in images]),
        "mdice": spread([r.get("mdice", math.nan) for r in images]),
        "classes": {
            name: {key: spread([_of_class(r, key, i) for r in images]) for key in ("iou", "dice")}
            for i, name in enumerate(class_names)
        },
    }


def _of_class(row: dict, key: str, i: int) -> float:
    """Class ``i``'s ``key`` (iou, dice) of an image's row; NaN where the row has none."""
    values = row.get(key) or []
    return values[i] if i < len(values) else math.nan


def spread_lines(
    per_image: dict, class_names: Sequence[str], trained: int = 0, *, ignored: Sequence[str] = ()
) -> list[str]:
    """The table's lines of :func:`per_image_spread`: mIoU and mean Dice, then each class's
    IoU and Dice (up to :data:`TABLE_CLASSES` classes), those ``ignored`` (the ignore value's:
    no class) ``ignored`` as the class table says them (review s69: ``IoU n/a; Dice n/a``);
    ``trained``: how many of the images trained the checkpoint (said: they are in the
    spread)."""
    n = per_image["miou"]["n"]
    if n < 2:
        return [f"per image          one image scored: no spread over images (n = {n})"]
    among = f" ({trained} of them trained the checkpoint: leave them out)" if trained else ""
    lines = [
        f"per image          mean ± sd (min-max) over the {n} images, each image's own "
        f"figure{among}:",
        f"  mIoU             {described(per_image['miou'])}",
        f"  mean Dice        {described(per_image['mdice'])}",
    ]
    if len(class_names) <= TABLE_CLASSES:
        for name in class_names:
            c = per_image["classes"][name]
            iou, dice = ("ignored" if name in ignored else described(c[k]) for k in ("iou", "dice"))
            lines.append(f"  {name:<15}  IoU {iou}; Dice {dice}")
    return lines


#: the per-image columns of the CSV, before each class's IoU and Dice and after them
_FIRST = ("name", "trained", "miou", "mdice", "pixel_accuracy", "pixel_error")
#: CSV headers of row keys whose bare name reads otherwise: ``objects`` is the true count
#: here, and predict's objects_summary.csv counts the predicted ones under that name
#: (walkkromp s51: joined on the image, the two ``objects`` columns disagreed)
_CSV_NAMES = {"objects": "true_objects", "count_error": "count_error_percent"}
#: row keys whose CSV column is in another unit than the row's (a factor): the count error
#: in percent, as the printed count table shows it (kromplines s51: the CSV had -0.074
#: where the table said -7.4%); the JSON and ``report.images`` keep the fraction
_CSV_FACTORS = {"count_error": 100.0}


#: the per-class figures of a case's row beside ``iou`` and ``dice``, in this order
#: (:func:`~unetlab.evaluate.cases.class_volumes`): each a column per class in the CSV
VOLUME_KEYS = ("pred_volume", "true_volume", "volume_diff_percent")


def image_rows(images: Sequence[dict], class_names: Sequence[str]) -> tuple[list[str], list]:
    """(columns, rows) of the per-image CSV: name, trained (where known), mIoU, mean Dice,
    pixel accuracy and error, ``iou_<class>`` and ``dice_<class>``, then the object scores
    each row has (object F1, DSB, counts: ``true_objects``, ``pred_objects``,
    ``count_error_percent``, ...), where a stack's pages are among them, where each sits
    (:data:`~unetlab.evaluate.frames.PAGE_COLUMNS`: page, t, t_s, z), and last a case's
    volumes per class (:data:`VOLUME_KEYS`, after all the others: s74 put them after each
    class's Dice, and a script reading e_cases.csv by position read the wrong columns)."""
    first = [k for k in _FIRST if any(k in r for r in images)]
    volumes = [k for k in VOLUME_KEYS if any(k in r for r in images)]
    plain = {*_FIRST, "iou", "dice", *volumes, *PAGE_COLUMNS}
    rest = [k for k in images[0] if k not in plain] if images else []
    rest += [k for k in PAGE_COLUMNS if any(k in r for r in images)]
    rows = []
    for r in images:
        row = {_CSV_NAMES.get(k, k): _in_csv(k, r.get(k)) for k in first + rest}
        for i, name in enumerate(class_names):
            row |= {f"{key}_{name}": _of_class(r, key, i) for key in ("iou", "dice", *volumes)}
        rows.append(row)
    per_class = _per_class(("iou", "dice"), class_names)
    columns = first + per_class + [_CSV_NAMES.get(k, k) for k in rest]
    return columns + _per_class(volumes, class_names), rows


def _per_class(keys: Sequence[str], class_names: Sequence[str]) -> list[str]:
    """The columns ``<key>_<class>`` of ``keys``, class by class."""
    return [f"{key}_{name}" for name in class_names for key in keys]


def _in_csv(key: str, value):
    """``value`` of the row's ``key`` in its CSV column's unit (:data:`_CSV_FACTORS`)."""
    factor = _CSV_FACTORS.get(key)
    return value if factor is None or value is None else value * factor


def write_image_csv(path: str | os.PathLike, images: Sequence[dict], class_names) -> Path:
    """Write :func:`image_rows` as CSV to ``path``, atomically (undefined figures empty)."""
    path = Path(path)
    columns, rows = image_rows(images, class_names)
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(
            {k: _cell(v, k.startswith(VOLUME_KEYS)) for k, v in row.items()} for row in rows
        )
    return path


def _cell(value, volume: bool = False) -> str:
    """A CSV cell: a figure to 6 digits, a ``volume`` to 10 (a liver's 1,512,345.6 mm3 is no
    1.51235e+06)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{10 if volume else 6}g}" if isinstance(value, float) else str(value)
