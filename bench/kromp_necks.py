"""Do merged Kromp nuclei have a neck? A shape split of the objects ``predict --instances``
makes (two round nuclei joined by a neck), measured against the merges it should part and the
single nuclei it must not cut (post-processing only: the net's probabilities cached).

    OMP_NUM_THREADS=1 python bench/kromp_necks.py --run RUN --data KROMP --part val \\
        [--rules NAME ...] [--oracle] [--out FILE]

``RUN``, ``--part`` and ``--cache``: as ``kromp_split.py`` (choose on ``val``, report ``test``
once). Each rule splits the objects of the model's options (``predict --instances``'s distance
split included) once more, before the least areas:

- ``current``: no further split (the objects ``predict --instances`` writes);
- ``neck h H r R``: each object's distance transform smoothed (sigma 1 px), its h-maxima of
  h = H px seed a watershed on the negated landscape inside the object; then, the widest
  neck first, two pieces are joined back while the neck between them (the largest distance
  to the object's outline on their shared edge) is over R x the smaller piece's largest
  distance, or while a piece is under the least area.

``--oracle``: for each merge (an object holding half or more of 2+ true nuclei), each pair
of its nuclei that touch (within 2 px): the same neck ratio at their true seam (the largest
distance to the object's outline there / the smaller nucleus' largest distance inside the
object): the ratio a shape split has to accept to part them. The same ratio for the matched
single nuclei: their deepest inner neck is not measured here (the rules' ``splits`` say it).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage

from kromp_objects import found_scores
from kromp_split import cached_images, model_options
from unetlab.cli.parser import Parser
from unetlab.inference.necks import neck_pieces
from unetlab.inference.necks import split_necks as library_split_necks
from unetlab.inference.objects import (
    compact,
    enclosed_specks_joined,
    objects_from_probabilities,
    remove_small_objects,
)

RULES = {"current": None}
for _h in (0.5, 1.0):
    for _r in (0.6, 0.7, 0.8, 0.9):
        RULES[f"neck h {_h} r {_r}"] = (_h, _r)
TRAIN_MEDIAN = {"px": 0.0}  # the model's training median object area (main sets it)
for _a in (1.5, 2.0):
    RULES[f"neck h 0.5 r 0.8, over {_a}x training median, solidity < 0.93: r 1.2"] = (
        0.5,
        0.8,
        (_a, 0.93, 1.2, "train"),
    )

    for _s in (0.9, 0.93):
        RULES[f"neck h 0.5 r 0.8, over {_a}x median, solidity < {_s}: r 1.2"] = (
            0.5,
            0.8,
            (_a, _s, 1.2),
        )


def split_necks(
    ids: np.ndarray, h: float, ratio: float, least: int, big: tuple | None = None
) -> np.ndarray:
    """Each object of ``ids`` split at its necks (see the module's docstring); ``big``:
    (area factor, solidity, ratio[, median]): an object of over that factor x the median area of
    the objects of ``ids`` (or ``median`` px) and under that solidity takes that ratio limit
    instead (a trial)."""
    from skimage.morphology import convex_hull_image

    areas = np.bincount(np.asarray(ids, np.int64).ravel())
    median = float(np.median(areas[1:][areas[1:] > 0])) if areas[1:].any() else 0.0
    median = big[3] if big and len(big) > 3 else median

    def pieces_of(mask: np.ndarray, i: int) -> np.ndarray | None:
        limit = ratio
        if big and areas[i] > big[0] * median:
            limit = big[2] if areas[i] < big[1] * convex_hull_image(mask).sum() else ratio
        return object_pieces(mask, h, limit, least)

    return compact(library_split_necks(ids, least, pieces_of))


def object_pieces(mask: np.ndarray, h: float, ratio: float, least: int) -> np.ndarray | None:
    """Pieces 1..n of one padded object ``mask`` that pass the neck test at ``h`` and
    ``ratio`` (the library's rule with other limits), or None (one)."""
    return neck_pieces(mask, least, h, ratio)


def objects(probabilities: np.ndarray, options, rule) -> np.ndarray:
    """The objects of ``options`` (``objects._objects`` step by step), split at necks once
    more by ``rule`` ((h, ratio) or None) before the least areas."""
    grown = objects_from_probabilities(probabilities, replace(options, min_area=1, min_peak=0.0))
    if rule is not None:
        big = rule[2] if len(rule) > 2 else None
        if big and len(big) > 3:
            big = (*big[:3], TRAIN_MEDIAN["px"])
        grown = split_necks(grown, *rule[:2], options.min_area, big)
    kept = remove_small_objects(grown, options, None, interior=probabilities[2])
    return enclosed_specks_joined(grown, kept) if options.fill_holes else kept


def scores(images, options, rule) -> dict:
    """F1, DSB, PQ, counts, merges and splits of ``rule`` over ``images``, and its CPU s."""
    start = time.process_time()
    found = found_scores(images, lambda probabilities: objects(probabilities, options, rule))
    return {**found, "cpu_s": round(time.process_time() - start, 1)}


def seam_ratios(pred: np.ndarray, truth: np.ndarray) -> list[float]:
    """The neck ratio at the true seam of each touching pair of nuclei in a merge."""
    ratios, whole = [], np.bincount(truth.ravel())
    for i, box in enumerate(ndimage.find_objects(pred), 1):
        if box is None:
            continue
        mask = np.pad(pred[box] == i, 1)
        true = np.pad(truth[box], 1) * mask
        areas = np.bincount(truth[box][pred[box] == i])
        held = (areas > 0) & (2 * areas >= whole[: areas.size])
        inside = [t for t in np.flatnonzero(held) if t > 0]
        if len(inside) >= 2:
            ratios += pair_ratios(mask, true, inside)
    return ratios


def pair_ratios(mask: np.ndarray, true: np.ndarray, inside: list[int]) -> list[float]:
    """Neck ratios of the touching pairs among the nuclei ``inside`` one object's ``mask``."""
    distance = ndimage.distance_transform_edt(mask)
    peaks = {t: distance[true == t].max() for t in inside}
    near = {t: ndimage.distance_transform_edt(true != t) <= 2 for t in inside}
    out = []
    for k, s in enumerate(inside):
        for t in inside[k + 1 :]:
            seam = (true == s) & near[t]
            if seam.any():
                out.append(float(distance[seam].max() / min(peaks[s], peaks[t])))
    return out


def shapes(pred: np.ndarray, truth: np.ndarray) -> dict[str, list[tuple[float, float]]]:
    """(solidity, area / the image's median object area) of the merges (objects holding half
    or more of 2+ true nuclei) and of the objects holding half or more of exactly one."""
    from skimage.measure import regionprops

    both = (pred > 0) & (truth > 0)
    pairs, n = np.unique(np.stack([pred[both], truth[both]]), axis=1, return_counts=True)
    held = pairs[0][2 * n >= np.bincount(truth.ravel())[pairs[1]]]
    count = np.bincount(held, minlength=int(pred.max()) + 1)
    regions = regionprops(pred)
    median = float(np.median([r.area for r in regions]))
    out = {"merges": [], "singles": []}
    for r in regions:
        kind = "merges" if count[r.label] >= 2 else "singles" if count[r.label] == 1 else None
        if kind:
            out[kind].append((float(r.solidity), r.area / median))
    return out


def oracle(images, options) -> dict:
    """Quantiles of the merges' seam ratios, the share a ratio limit would accept, and the
    quantiles of solidity and relative area of merges and single objects."""
    ratios, kinds, q = [], {"merges": [], "singles": []}, [0.1, 0.25, 0.5, 0.75, 0.9]
    for _, probabilities, truth in images:
        pred = objects(probabilities, options, None)
        ratios += seam_ratios(pred, truth)
        for kind, values in shapes(pred, truth).items():
            kinds[kind] += values
    r = np.array(ratios)
    row = {
        "pairs": int(r.size),
        "quantiles_10_25_50_75_90": np.round(np.quantile(r, q), 2).tolist(),
        "share_at_or_under": {t: round(float((r <= t).mean()), 3) for t in (0.6, 0.7, 0.8, 0.9)},
    }
    for kind, values in kinds.items():
        v = np.array(values)
        row[f"{kind} solidity, area/median"] = np.round(np.quantile(v, q, axis=0).T, 2).tolist()
    return row


def training_median(run: Path) -> float:
    """The median area of the training objects the run's checkpoint records."""
    from unetlab import load_model

    return float(load_model(run / "checkpoints" / "best.pt").objects["area_median"])


def main() -> int:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--part", choices=("val", "test"), default="val")
    p.add_argument("--cache", type=Path, default=Path("/tmp/kromp_split_probs"))
    p.add_argument("--rules", nargs="*", default=list(RULES), help="default: all")
    p.add_argument("--oracle", action="store_true")
    p.add_argument("--out", type=Path, default=Path("bench/results/kromp_necks.jsonl"))
    args = p.parse_args()
    images = list(cached_images(args.run, args.data, args.part, args.cache))
    options = model_options(args.run)
    TRAIN_MEDIAN["px"] = training_median(args.run)
    with args.out.open("a") as out:
        for name in (["oracle"] if args.oracle else []) + args.rules:
            row = {"oracle": oracle(images, options)} if name == "oracle" else {}
            row = row or {"rule": name, **scores(images, options, RULES[name])}
            row.update(run=str(args.run), part=args.part)
            out.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
