"""Rules that split touching nuclei, measured on Kromp 2020 with a trained nuclei model.

    OMP_NUM_THREADS=1 python bench/kromp_split.py --run RUN --data KROMP --part val|test \\
        [--cache DIR] [--rules NAME ...] [--out FILE]
    python bench/kromp_split.py --synthetic [--rules NAME ...]

``RUN``: a run folder of a background / boundary / interior model (``checkpoints/best.pt``
and ``split.json``); ``--part val``: the validation images of its ``split.json`` (inside
``KROMP/train``; choose rules here), ``test``: ``KROMP/test`` (report only). Each image's class
probabilities are predicted once and cached as .npy in ``--cache``; each rule then splits the
seeded-watershed objects (holes filled) before ``min_area``, as ``predict --instances`` does.
Prints one line a rule and appends it, with per-image rows, to ``--out`` (JSON lines): object
F1 at IoU 0.5 (pooled), DSB (mean over images), PQ, objects predicted / true, the mean over
images of |count error| / truth, and merges / splits as audit_counting.md counts them (a
predicted object holding half or more of 2+ true nuclei / a true nucleus holding half or more
of 2+ predicted objects).

Rules (``depth``: h = depth x the object's largest distance, at least 1 px, as
``split_by_distance``):

- ``none``: no split; ``distance``: ``split_by_distance`` (the default, depth 0.1);
- ``distance x interior``: h-maxima and watershed of the smoothed distance times the smoothed
  interior probability over the object's own pixels (it dips between touching nuclei);
- ``... dips filled``: the same with the interior's enclosed dips (nucleoli) filled first
  (grayscale reconstruction from the outline);
- ``... cut test``: the same, but two pieces are merged back where their cut has no distance
  neck and a median interior probability >= 0.9;
- ``distance of interior >= t``: the distance transform of the pixels above t;
- ``interior``: h-maxima of the smoothed interior probability itself (h absolute).

``--synthetic`` (no model): objects of a cluster of 3 discs of radius 14, 14 px apart (no
neck), whose interior probability dips to 0.5, 0.6 or 0.8 along the seams (3 wanted), and how
many of 48 single nuclei split (1 wanted): an ellipse of 64 x 16 px and a disc of radius 15
with a dark spot (a nucleolus) of radius 2, 3 or 5 where the interior is 0, 0.3, 0.6 or 0.9,
in the middle or off it.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from scipy import ndimage

SMOOTH = 1.0  # px, as objects.SPLIT_SMOOTH


def main() -> int:
    from unetlab.cli.parser import Parser

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="run folder of a nuclei model")
    parser.add_argument("--data", type=Path, help="kromp2020_nuclei folder")
    parser.add_argument("--part", choices=("val", "test"), default="val")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kromp_split_probs"))
    parser.add_argument("--rules", nargs="*", default=list(RULES), help="default: all")
    parser.add_argument("--out", type=Path, default=Path("bench/results/kromp_split.jsonl"))
    parser.add_argument("--synthetic", action="store_true", help="the synthetic checks only")
    args = parser.parse_args()
    unknown = [r for r in args.rules if r not in RULES]
    if unknown:
        parser.error(f"unknown rules {unknown}; known: {list(RULES)}")
    if args.synthetic:
        for name in args.rules:
            print(f"{name:36s} {synthetic(RULES[name])}")
        return 0
    if args.run is None or args.data is None:
        parser.error("--run and --data are needed (or --synthetic)")
    images = list(cached_images(args.run, args.data, args.part, args.cache))
    options = model_options(args.run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        for name in args.rules:
            start = time.process_time()
            row = score(RULES[name], images, options)
            row.update(rule=name, part=args.part, cpu_s=round(time.process_time() - start, 1))
            out.write(json.dumps(row) + "\n")
            print(_line(row), flush=True)
    return 0


def cached_images(run: Path, data: Path, part: str, cache: Path):
    """(name, (3, H, W) probabilities, (H, W) true ids) of each image of ``part``."""
    from unetlab import load_model, predict_image, read_image

    if part == "val":
        split = json.loads((run / "split.json").read_text())
        pairs = [(data / "train" / v["image"], data / "train" / v["mask"]) for v in split["val"]]
    else:
        pairs = [
            (p, data / "test" / "masks" / p.name) for p in (data / "test" / "images").glob("*")
        ]
    cache.mkdir(parents=True, exist_ok=True)
    model = None
    for image, mask in sorted(pairs):
        saved = cache / f"{part}_{image.stem}.npy"
        if not saved.is_file():
            model = model or load_model(run / "checkpoints" / "best.pt")
            np.save(saved, predict_image(model, read_image(image)).astype(np.float32))
        yield image.stem, np.load(saved), read_image(mask).astype(np.int64)


def model_options(run: Path):
    """The object options ``predict --instances`` uses for the run's model."""
    from unetlab import load_model
    from unetlab.inference.objects import ObjectOptions

    return ObjectOptions.for_model(load_model(run / "checkpoints" / "best.pt"))


def score(rule, images, options) -> dict:
    """Object figures of ``rule`` over ``images`` (see the module's docstring)."""
    from dataclasses import replace

    from unetlab.inference.objects import objects_from_probabilities, remove_small
    from unetlab.metrics.objects import object_scores, summarize_objects

    whole = replace(options, distance_split=False, min_area=1)
    per, rows, merges, splits = [], {}, 0, 0
    for name, probabilities, truth in images:
        ids = objects_from_probabilities(probabilities, whole)
        ids = remove_small(rule(ids, probabilities[2]), options.min_area)
        s = object_scores(ids, truth)
        m, k = merges_and_splits(ids, truth)
        merges, splits = merges + m, splits + k
        per.append(s)
        rows[name] = dict(pred=s["pred_objects"], true=s["true_objects"], f1=s["f1"], dsb=s["dsb"])
    total = summarize_objects(per)
    error = np.mean([abs(r["pred"] - r["true"]) / r["true"] for r in rows.values()])
    return dict(
        f1=total["object_f1"],
        dsb=total["dsb"],
        pq=total["pq"],
        pred=total["pred_objects"],
        true=total["objects"],
        mean_abs_count_error=float(error),
        merges=merges,
        splits=splits,
        images=rows,
    )


def merges_and_splits(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """Predicted objects holding >= half of each of 2+ true nuclei; true nuclei holding
    >= half of each of 2+ predicted objects."""
    both = (pred > 0) & (truth > 0)
    pairs, n = np.unique(np.stack([pred[both], truth[both]]), axis=1, return_counts=True)
    pred_area, true_area = np.bincount(pred.ravel()), np.bincount(truth.ravel())
    merged = np.bincount(pairs[0][2 * n >= true_area[pairs[1]]], minlength=pred_area.size)
    split = np.bincount(pairs[1][2 * n >= pred_area[pairs[0]]], minlength=true_area.size)
    return int((merged >= 2).sum()), int((split >= 2).sum())


# --- synthetic checks -------------------------------------------------------------------

YY, XX = np.mgrid[:80, :120]


def _disc(cy: float, cx: float, r: float) -> np.ndarray:
    return (YY - cy) ** 2 + (XX - cx) ** 2 <= r * r


def _probabilities(shape: np.ndarray, interior) -> np.ndarray:
    """(3, H, W): background off ``shape``, a 2-px boundary rim, ``interior`` inside it."""
    rim = shape & ~ndimage.binary_erosion(shape, iterations=2)
    return np.stack([~shape, rim, np.where(shape & ~rim, interior, 0.0)]).astype(float)


def _cluster(dip: float) -> np.ndarray:
    centres = [(30.0, 45.0), (30.0, 59.0), (42.1, 52.0)]
    union = np.logical_or.reduce([_disc(cy, cx, 14) for cy, cx in centres])
    nearest = np.argmin([np.hypot(YY - cy, XX - cx) for cy, cx in centres], axis=0) + 1
    seam = np.zeros_like(union)
    truth = np.where(union, nearest, 0)
    seam[:, 1:] |= truth[:, 1:] != truth[:, :-1]
    seam[1:] |= truth[1:] != truth[:-1]
    rise = np.clip(ndimage.distance_transform_edt(~(seam & union)) / 4, 0, 1)
    return _probabilities(union, dip + (1 - dip) * rise)


def synthetic(rule) -> str:
    """The cluster's objects at each dip, and the single nuclei that split (see the
    module's docstring)."""
    from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, remove_small

    whole = ObjectOptions(mode="instances", min_area=1)

    def count(probabilities) -> int:
        ids = objects_from_probabilities(probabilities, whole)
        return int(remove_small(rule(ids, probabilities[2]), 36).max())

    cluster = [count(_cluster(dip)) for dip in (0.5, 0.6, 0.8)]
    ellipse = ((YY - 40) / 8.0) ** 2 + ((XX - 60) / 32.0) ** 2 <= 1
    nuclei = [(ellipse, (40, 60)), (ellipse, (40, 45)), (_disc(40, 60, 15), (40, 60))]
    nuclei.append((_disc(40, 60, 15), (40, 54)))
    split = sum(
        count(_probabilities(shape, np.where(_disc(*spot, r), v, 1.0))) != 1
        for shape, spot in nuclei
        for v in (0.0, 0.3, 0.6, 0.9)
        for r in (2, 3, 5)
    )
    return f"cluster of 3 at dips 0.5/0.6/0.8: {cluster}; nuclei with a spot split: {split}/48"


# --- the rules: (ids, interior probability) -> ids ------------------------------------


def by_distance(ids, interior, depth=0.1):
    from unetlab.inference.objects import split_by_distance

    return split_by_distance(ids, depth)


def by_landscape(ids, interior, land, depth=0.1, absolute=False, cut=None):
    """Each object split at the h-maxima of ``land(mask, own interior)`` (padded by 1 px);
    h from the largest distance (``absolute``: h = depth); ``cut``: see :func:`_merge_cuts`."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    from unetlab.inference.objects import compact

    out = np.asarray(ids, np.int64).copy()
    next_id = int(out.max(initial=0)) + 1
    for i, box in enumerate(ndimage.find_objects(ids), 1):
        if box is None:
            continue
        mask = np.pad(ids[box] == i, 1)
        own = np.where(mask, np.pad(interior[box].astype(np.float64), 1), 0.0)
        distance = ndimage.distance_transform_edt(mask)
        h = depth if absolute else max(1.0, depth * float(distance.max()))
        if not absolute and distance.max() <= h + 1:
            continue
        height = np.where(mask, land(mask, own, distance), 0.0)
        markers, n = ndimage.label(h_maxima(height, h).astype(bool) & mask, np.ones((3, 3)))
        if n < 2:
            continue
        pieces = watershed(-height, markers, mask=mask)
        if cut is not None:
            pieces = _merge_cuts(pieces, own, distance, cut, h)
        pieces = pieces[1:-1, 1:-1]
        extra = pieces > 1
        out[box][extra] = next_id + pieces[extra] - 2
        next_id += int(pieces.max()) - 1
    return compact(out)


def _smooth(a):
    return ndimage.gaussian_filter(a, SMOOTH)


def distance_times_interior(mask, own, distance, power=1.0, fill=False):
    if fill:  # dips enclosed by higher interior (nucleoli) filled from the outline
        from skimage.morphology import reconstruction

        own = reconstruction(np.where(mask, own.max(), own), own, method="erosion")
    return _smooth(distance) * np.clip(_smooth(own), 0, 1) ** power


def distance_of_interior(mask, own, distance, threshold=0.5):
    return _smooth(ndimage.distance_transform_edt(own >= threshold))


def interior_only(mask, own, distance):
    return _smooth(own)


def _merge_cuts(pieces, own, distance, tau, h, deep=2.5):
    """Pieces merged back where the cut between two has no distance neck (the lower
    piece's smoothed distance peak less than h above the cut's highest) and the median
    interior probability over the cut's pixels deeper than ``deep`` px is >= ``tau``."""
    smooth = _smooth(distance)
    a, b = _pairs(pieces)
    p, d, s = (np.maximum(*_pairs(x)) for x in (own, distance, smooth))
    parent = np.arange(int(pieces.max()) + 1)
    for i, j in {(min(x, y), max(x, y)) for x, y in zip(a, b) if x and y and x != y}:
        on = ((a == i) & (b == j)) | ((a == j) & (b == i))
        peak = min(smooth[pieces == i].max(), smooth[pieces == j].max())
        deep_cut = on & (np.minimum(*_pairs(distance)) > deep)
        if peak - s[on].max() < h and deep_cut.any() and np.median(p[deep_cut]) >= tau:
            parent[parent == parent[j]] = parent[i]
    _, pieces = np.unique(parent[pieces], return_inverse=True)
    return pieces.reshape(own.shape)


def _pairs(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values of all 4-neighbour pairs (right and down) of ``a``."""
    return (
        np.concatenate([a[1:].ravel(), a[:, 1:].ravel()]),
        np.concatenate([a[:-1].ravel(), a[:, :-1].ravel()]),
    )


RULES = {
    "none": lambda ids, interior: ids,
    "distance": by_distance,
    "distance 0.05": partial(by_distance, depth=0.05),
    "distance 0.2": partial(by_distance, depth=0.2),
    "distance x interior": partial(by_landscape, land=distance_times_interior),
    "distance x interior 0.125": partial(by_landscape, land=distance_times_interior, depth=0.125),
    "distance x interior^2 0.15": partial(
        by_landscape, land=partial(distance_times_interior, power=2.0), depth=0.15
    ),
    "distance x interior, dips filled": partial(
        by_landscape, land=partial(distance_times_interior, fill=True)
    ),
    "distance x interior, cut test": partial(by_landscape, land=distance_times_interior, cut=0.9),
    "distance of interior >= 0.5, 0.2": partial(by_landscape, land=distance_of_interior, depth=0.2),
    "interior, h 0.1": partial(by_landscape, land=interior_only, depth=0.1, absolute=True),
}


def _line(row: dict) -> str:
    return (
        f"{row['rule']:36s} F1 {row['f1']:.4f}  DSB {row['dsb']:.4f}  PQ {row['pq']:.4f}  "
        f"objects {row['pred']}/{row['true']}  mean |count error| "
        f"{row['mean_abs_count_error']:.3f}  merges {row['merges']}  splits {row['splits']}"
    )


if __name__ == "__main__":
    sys.exit(main())
