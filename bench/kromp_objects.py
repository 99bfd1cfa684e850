"""Where a nuclei model's object errors come from, and the object settings that fix them,
on Kromp 2020 (post-processing only: the net's probabilities are predicted once and cached).

    OMP_NUM_THREADS=1 python bench/kromp_objects.py --run RUN --data KROMP --part val \\
        --diagnose [--set seed_threshold=0.6 ...]
    OMP_NUM_THREADS=1 python bench/kromp_objects.py --run RUN --data KROMP --part val \\
        --sweep seed_threshold=0.4,0.5,0.6 [--sweep depth=0.05,0.1] [--out FILE]

``RUN``: a run folder of a background / boundary / interior model (``checkpoints/best.pt``,
``split.json``); ``--part val``: its held-out validation images (choose settings here),
``test``: ``KROMP/test`` (report only). Probabilities are cached as in ``kromp_split.py``
(``--cache``). Objects are made as ``predict --instances`` makes them
(:func:`unetlab.inference.objects.objects_from_probabilities` with the model's
``ObjectOptions``), with ``--set`` / ``--sweep`` changing an ``ObjectOptions`` field (``min_peak``,
``seed_threshold``, ...), ``depth`` (the distance split's h, ``objects.SPLIT_DEPTH``) or
``share`` (a trial, no option: objects under that share of the median area of the image's
objects dropped, which streamed bands could not give).

``--diagnose`` sorts every true nucleus and every predicted object:

- a true nucleus is *matched* (IoU >= 0.5 with one object), *merged* (the object holding
  half or more of it holds half or more of another), *split* (it holds half or more of 2+
  objects), *missed* (objects cover under half of it) or *misdrawn* (covered, no match);
- a predicted object that matches nothing is a *merge*, a *split piece* (half or more of it
  in one true nucleus that is split), *false* (half or more of it on background) or
  *misdrawn*;

by the nucleus' area against its image's median (<0.25, 0.25-0.5, 0.5-1, 1-2, >2 x) and by
its brightness (its mean intensity against its image's median nucleus: <0.5, 0.5-0.8, >0.8).
``--sweep`` prints one line a setting (F1 at IoU 0.5 and PQ pooled over images, DSB
mean over images, objects predicted / true, the pooled and mean per-image |count error|,
merges and splits as ``kromp_split.py`` counts them) and appends it to ``--out`` (JSON lines).
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from kromp_split import cached_images, merges_and_splits, model_options
from unetlab.cli.parser import Parser
from unetlab.inference.objects import (
    SPLIT_DEPTH,
    ObjectOptions,
    enclosed_specks_joined,
    objects_from_probabilities,
    remove_small,
    remove_small_objects,
    split_by_distance,
)
from unetlab.metrics.objects import object_scores, overlaps, summarize_objects

SIZE_BINS = (0.25, 0.5, 1.0, 2.0)  # x the image's median nucleus area
BRIGHT_BINS = (0.5, 0.8)  # x the image's median nucleus mean intensity
TRUE_KINDS = ("matched", "merged", "split", "missed", "misdrawn")
PRED_KINDS = ("merge", "split piece", "false", "misdrawn")


def objects(
    probabilities: np.ndarray, options: ObjectOptions, depth: float, share: float = 0.0
) -> np.ndarray:
    """The objects ``predict --instances`` makes of ``probabilities`` with ``options``,
    the distance split at ``depth`` (``objects._objects`` step by step); ``share`` > 0: then
    without those under ``share`` x the median area of the image's objects (a trial)."""
    whole = replace(options, distance_split=False, min_area=1, class_min_areas=None)
    ids = objects_from_probabilities(probabilities, whole)
    if options.distance_split:
        interior = probabilities[2] if options.split_interior else None
        ids = split_by_distance(ids, depth, interior=interior)
    kept = remove_small_objects(ids, options, None, interior=probabilities[2])
    kept = enclosed_specks_joined(ids, kept) if options.fill_holes else kept
    if share > 0 and kept.any():
        areas = np.bincount(kept.ravel())[1:]
        kept = remove_small(kept, int(share * np.median(areas[areas > 0])))
    return kept


def sorted_errors(pred: np.ndarray, truth: np.ndarray) -> tuple[list[str], list[str]]:
    """The kind of each true nucleus (TRUE_KINDS) and of each unmatched predicted object
    (PRED_KINDS), in id order (see the module's docstring)."""
    table, true_area, pred_area = overlaps(pred, truth)
    inner = table[1:, 1:].astype(np.float64)  # (true, pred)
    iou = inner / (true_area[:, None] + pred_area[None, :] - inner)
    half_true = inner * 2 >= true_area[:, None]  # the object holds half of the nucleus
    half_pred = inner * 2 >= pred_area[None, :]  # the nucleus holds half of the object
    merges = half_true.sum(axis=0) >= 2
    split = half_pred.sum(axis=1) >= 2
    matched_t, matched_p = (iou >= 0.5).any(axis=1), (iou >= 0.5).any(axis=0)
    covered = inner.sum(axis=1) * 2 >= true_area
    kinds = []
    for t in range(true_area.size):
        if matched_t[t]:
            kinds.append("matched")
        elif (half_true[t] & merges).any():
            kinds.append("merged")
        else:
            kinds.append("split" if split[t] else "missed" if not covered[t] else "misdrawn")
    on_truth = inner.sum(axis=0) * 2 >= pred_area
    pkinds = []
    for p in np.flatnonzero(~matched_p):
        if merges[p]:
            pkinds.append("merge")
        elif (half_pred[:, p] & split).any():
            pkinds.append("split piece")
        else:
            pkinds.append("misdrawn" if on_truth[p] else "false")
    return kinds, pkinds


def bins_of(values: np.ndarray, edges: tuple) -> np.ndarray:
    """The bin of each value (0 .. len(edges)) by ``edges``."""
    return np.searchsorted(np.asarray(edges), values, side="right")


def diagnose(images, options: ObjectOptions, trial: tuple, data_images: dict) -> dict:
    """Counts of each kind of true nucleus by size and by brightness bin, of each kind of
    unmatched predicted object, over ``images``."""
    by_size = np.zeros((len(SIZE_BINS) + 1, len(TRUE_KINDS)), int)
    by_bright = np.zeros((len(BRIGHT_BINS) + 1, len(TRUE_KINDS)), int)
    pred_kinds = dict.fromkeys(PRED_KINDS, 0)
    for name, probabilities, truth in images:
        kinds, pkinds = sorted_errors(objects(probabilities, options, *trial), truth)
        ids = np.unique(truth)[1:]
        area = np.bincount(truth.ravel())[ids]
        image = data_images[name].astype(np.float64)
        mean = np.bincount(truth.ravel(), image.ravel())[ids] / area
        column = np.array([TRUE_KINDS.index(k) for k in kinds])
        np.add.at(by_size, (bins_of(area / np.median(area), SIZE_BINS), column), 1)
        np.add.at(by_bright, (bins_of(mean / np.median(mean), BRIGHT_BINS), column), 1)
        for k in pkinds:
            pred_kinds[k] += 1
    return {"by_size": by_size.tolist(), "by_brightness": by_bright.tolist(), "pred": pred_kinds}


def scores(images, options: ObjectOptions, trial: tuple) -> dict:
    """F1, DSB, PQ, counts, count errors, merges and splits of ``options`` over ``images``."""
    return found_scores(images, lambda probabilities: objects(probabilities, options, *trial))


def found_scores(images, find) -> dict:
    """F1, DSB, PQ, counts, count errors, merges and splits of the objects ``find`` gives
    from each image's probabilities, over ``images``."""
    per, errors, merges, splits = [], [], 0, 0
    for _, probabilities, truth in images:
        ids = find(probabilities)
        s = object_scores(ids, truth)
        m, k = merges_and_splits(ids, truth)
        merges, splits = merges + m, splits + k
        errors.append(abs(s["pred_objects"] - s["true_objects"]) / s["true_objects"])
        per.append(s)
    total = summarize_objects(per)
    return {
        "f1": round(total["object_f1"], 4),
        "dsb": round(total["dsb"], 4),
        "pq": round(total["pq"], 4),
        "pred": total["pred_objects"],
        "true": total["objects"],
        "count_error": round((total["pred_objects"] - total["objects"]) / total["objects"], 4),
        "mean_abs_count_error": round(float(np.mean(errors)), 4),
        "merges": merges,
        "splits": splits,
    }


def parsed(text: str) -> tuple[str, list]:
    """``key=v1,v2`` -> (key, [values]) with each value read as JSON (a number, true, null)."""
    key, _, values = text.partition("=")
    names = {f.name for f in fields(ObjectOptions)} | {"depth", "share"}
    if key not in names:
        raise SystemExit(f"unknown setting {key!r}; known: {sorted(names)}")
    return key, [json.loads(v) for v in values.split(",")]


def settings(base: ObjectOptions, given: list[str], sweeps: list[str]):
    """(label, options, depth) of each combination of ``sweeps`` over ``base`` + ``given``."""
    fixed = dict(parsed(g) for g in given)
    keys = [parsed(s) for s in sweeps] or [("depth", [fixed.get("depth", [SPLIT_DEPTH])[0]])]
    for values in itertools.product(*(v for _, v in keys)):
        chosen = {k: v[0] for k, v in fixed.items()} | dict(zip([k for k, _ in keys], values))
        depth, share = chosen.pop("depth", SPLIT_DEPTH), chosen.pop("share", 0.0)
        yield {**chosen, "depth": depth, "share": share}, replace(base, **chosen), depth, share


def main() -> int:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--part", choices=("val", "test"), default="val")
    p.add_argument("--cache", type=Path, default=Path("/tmp/kromp_split_probs"))
    p.add_argument("--set", dest="given", action="append", default=[], help="key=value")
    p.add_argument("--sweep", action="append", default=[], help="key=v1,v2,...")
    p.add_argument("--diagnose", action="store_true")
    p.add_argument("--out", type=Path, default=Path("bench/results/kromp_objects.jsonl"))
    args = p.parse_args()
    images = list(cached_images(args.run, args.data, args.part, args.cache))
    base = model_options(args.run)
    with args.out.open("a") as out:
        for label, options, depth, share in settings(base, args.given, args.sweep):
            row = {"run": str(args.run), "part": args.part, "setting": label}
            if args.diagnose:
                row["diagnosis"] = diagnose(
                    images, options, (depth, share), _pictures(args, images)
                )
            row.update(scores(images, options, (depth, share)))
            out.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    return 0


def _pictures(args, images) -> dict:
    """The raw image of each of ``images``, by name."""
    from unetlab import read_image

    folder = args.data / ("train" if args.part == "val" else "test") / "images"
    return {name: read_image(folder / f"{name}.png") for name, _, _ in images}


if __name__ == "__main__":
    sys.exit(main())
