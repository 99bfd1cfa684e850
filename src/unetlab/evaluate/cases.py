"""Scores per case: a NIfTI volume (a CT or MRI of the Medical Segmentation Decathlon's or
nnU-Net's layout) is scored slice by slice, one row per slice, and as one 3-D volume, one
row per case, as nnU-Net's ``summary.json`` and the MSD leaderboard read a result: each
class's Dice and IoU over the case's whole volume (its slices' confusion matrices summed),
then their mean over the cases. A class in neither the truth nor the prediction of a case
has no Dice there (0 / 0): NaN (null in the JSON, empty in the CSV), left out of the mean,
as nnU-Net's (``np.nanmean``); each class's ``n`` says over how many cases it is taken.
Each case's row gives each class's predicted and true volume (its voxels times a voxel's
volume: mm3 for a CT's, µm3 for a microscope's z-stack, voxels where the file records no
spacing) and their difference in percent of the true volume, as a radiologist compares a
segmentation's organ volumes with the reference's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from unetlab.evaluate.spread import TABLE_CLASSES, VOLUME_KEYS, per_image_spread
from unetlab.metrics.confusion import metrics_from_matrix
from unetlab.metrics.spread import described
from unetlab.words import numbered, twelve_digits

#: how ``case_mean`` combines the cases (``averaging`` in the JSON)
CASE_MEAN = (
    "each case's IoU and Dice per class over its whole volume (its slices' confusion matrices "
    "summed), then over the cases: mean, sd, min and max; a class in neither the truth nor the "
    "prediction of a case is NaN there (null) and left out of its mean, as nnU-Net's "
    "summary.json (n: the cases where it is defined); a case's miou and mdice: the mean of its "
    "classes' but class 0's (the background), as nnU-Net's foreground_mean; foreground_dice: "
    "the mean of the classes' mean Dice but class 0's"
)


class CaseVoxel(NamedTuple):
    """A case's voxel: its ``volume`` in ``unit`` ("mm3", "um3"; 1 "voxels" where the
    volume's file records no voxel size or no z spacing)."""

    volume: float = 1.0
    unit: str = "voxels"


def case_rows(
    cases: Sequence[str | None],
    matrices: Sequence[tuple[np.ndarray, np.ndarray]],
    voxels: Mapping[str, CaseVoxel] | None = None,
) -> list[dict]:
    """One row per case named in ``cases`` (each image row's case, None for an image of no
    case), in the order first met: ``name``, ``slices``, ``miou`` and ``mdice`` (the mean
    IoU and Dice of its classes but class 0, the background, of those defined: nnU-Net's
    foreground mean; s73: the background's near-1 Dice lifted them), ``foreground_dice``
    (``mdice``, by its nnU-Net name), ``iou`` and ``dice`` per class, the background's too,
    of the sum of its rows' (C, C) confusion ``matrices`` and their
    pixels predicted as no class (:func:`~unetlab.metrics.confusion.metrics_from_matrix`'s
    ``missed``, one (C,) array a row); and each class's volumes (:func:`class_volumes`) by
    the case's voxel of ``voxels`` (:class:`CaseVoxel`; voxels where it has none)."""
    grouped: dict[str, list[int]] = {}
    for i, case in enumerate(cases):
        if case is not None:
            grouped.setdefault(case, []).append(i)
    rows = []
    for case, at in grouped.items():
        total = sum(matrices[i][0] for i in at)
        per = metrics_from_matrix(total, sum(matrices[i][1] for i in at))
        classes = range(len(per["dice"]))
        iou, dice = foreground_mean(per["iou"], classes), foreground_mean(per["dice"], classes)
        voxel = (voxels or {}).get(case, CaseVoxel())
        rows.append(
            dict(name=case, slices=len(at), miou=iou, mdice=dice)
            | dict(foreground_dice=dice, iou=per["iou"], dice=per["dice"])
            | class_volumes(per["pixels"], total.sum(0), voxel)
        )
    return rows


def class_volumes(true: Sequence[int], predicted: Sequence[int], voxel: CaseVoxel) -> dict:
    """A case's ``volume_unit`` and, per class, its ``pred_volume`` and ``true_volume`` (the
    class's ``predicted`` and ``true`` voxels, a confusion matrix's column and row sums,
    times the ``voxel``'s volume) and ``volume_diff_percent``, (predicted - true) / true x
    100 (NaN where the truth holds none of the class)."""
    true_volume = [_in_unit(n, voxel) for n in true]
    pred_volume = [_in_unit(n, voxel) for n in predicted]
    diff = [
        twelve_digits((p - t) / t * 100) if t else math.nan
        for p, t in zip(pred_volume, true_volume)
    ]
    return {"volume_unit": voxel.unit} | dict(zip(VOLUME_KEYS, (pred_volume, true_volume, diff)))


def _in_unit(voxels, voxel: CaseVoxel) -> float:
    """``voxels`` times the ``voxel``'s volume, to 12 digits (1280 x 1.6 mm3 is 2048)."""
    return twelve_digits(int(voxels) * voxel.volume)


def foreground_mean(values: Sequence[float], classes: Iterable[int]) -> float:
    """nnU-Net's foreground mean: the mean of ``values`` (a Dice or IoU a class, of the
    class indices ``classes``) but class 0's (the background), of those defined; NaN where
    none is. By index, not place: with class 0 hidden (``--ignore-value 0``) the first Dice
    is class 1's, a real organ (s72: the case mean left it out)."""
    defined = [d for d, k in zip(values, classes) if k != 0 and not math.isnan(d)]
    return float(np.mean(defined)) if defined else math.nan


def case_mean(rows: Sequence[dict], class_names: Sequence[str], classes: Sequence[int]) -> dict:
    """The spread over the case ``rows`` of their figures (:func:`per_image_spread`: each
    class's mean over the cases where it is defined) of the classes ``class_names`` (their
    indices ``classes``) and ``foreground_dice`` (:func:`foreground_mean` of the classes'
    means); ``cases``: how many."""
    spread = per_image_spread(rows, class_names)
    means = [spread["classes"][name]["dice"]["mean"] for name in class_names]
    foreground = foreground_mean(means, classes)
    return spread | {"cases": len(rows), "foreground_dice": foreground}


def with_trained(rows: Sequence[dict], images: Sequence[dict], cases: Sequence) -> list[dict]:
    """The case ``rows`` with ``trained`` (any of its slices trained the checkpoint) where the
    image rows (``images``, each of the case of ``cases``) say it; the rows themselves
    where none does."""
    if not any("trained" in r for r in images):
        return list(rows)
    trained = {c for r, c in zip(images, cases) if r.get("trained")}
    return [{"name": row["name"], "trained": row["name"] in trained} | row for row in rows]


#: cases the table names one by one with their mean Dice (the CSV has them all)
TABLE_CASES = 10


def case_lines(
    mean: dict, rows: Sequence[dict], class_names: Sequence[str], classes: Sequence[int]
) -> list[str]:
    """The table's lines of the cases: each class's Dice and IoU over the cases
    (:func:`case_mean`; ``class_names``, their indices ``classes``), saying where a class is
    left out of some (in neither truth nor prediction) and which cases trained the
    checkpoint, the foreground mean, and the first :data:`TABLE_CASES` cases' own."""
    count = mean["cases"]
    lines = [
        f"per case (3-D)     {numbered(count, 'volume')} each scored whole (nnU-Net's per-case "
        f"figures{_trained_words(rows)}), then mean ± sd (min-max) over the cases:"
    ]
    for name in class_names if len(class_names) <= TABLE_CLASSES else []:
        lines.append(_class_line(name, mean["classes"][name], count))
    but = f" but {class_names[classes.index(0)]}'s" if 0 in classes else ""
    lines.append(f"  foreground Dice  {_f(mean['foreground_dice'])} (the classes' mean{but})")
    shown = ", ".join(f"{r['name']} {_f(r['foreground_dice'])}" for r in rows[:TABLE_CASES])
    more = f", ... ({count - TABLE_CASES} more in the JSON)" if count > TABLE_CASES else ""
    return lines + [f"  each case        foreground Dice {shown}{more}"]


def _class_line(name: str, figures: dict, count: int) -> str:
    """A class's line of :func:`case_lines`: its ``figures`` over the ``count`` cases."""
    n = figures["dice"]["n"]
    left = (
        ""
        if n == count
        else " (in neither truth nor prediction of any case)"
        if n == 0
        else f" (n = {n}: in neither truth nor prediction of the others)"
    )
    return f"  {name:<15}  Dice {described(figures['dice'])}; IoU {described(figures['iou'])}{left}"


def _trained_words(rows: Sequence[dict]) -> str:
    """Which case ``rows`` trained the checkpoint (:func:`with_trained`), to leave out."""
    trained = [r["name"] for r in rows if r.get("trained")]
    if not trained:
        return ""
    named = ", ".join(trained[:TABLE_CASES]) + (", ..." if len(trained) > TABLE_CASES else "")
    return f"; {named} trained the checkpoint: leave {'it' if len(trained) == 1 else 'them'} out"


def _f(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4f}"
