"""How far the ISBI membrane IoU can go: a model's membrane IoU at every threshold, on the
slices it trained on and on those it never saw, beside the labels against themselves moved.

Three measurements for issue 16's membrane-IoU line:

- ``by_threshold``: membrane IoU over the test slices (pixels summed) when the membrane is
  cut at each level of its probability, not only at the argmax (0.5).
- ``fit``: membrane IoU at the argmax on the run's own training slices and on its
  validation slices (the split recomputed from the run folder's ``config.yaml``): how
  closely the net reproduces the labels it was trained on.
- ``label_shift``: each label against itself moved by one pixel (down, right, diagonal): the
  IoU that a one-pixel disagreement on every border leaves.
- ``label_width``: the training labels' membrane half-width at their skeleton (percentiles),
  and their IoU against the skeleton widened again by a disk: are they brush strokes of one
  width, which a post-processing could redraw?
- ``label_offset``: the move from the net's predictions to the labels that
  :func:`unetlab.inference.offset.estimate_offset` finds on the validation slices (what
  ``train.label_offset: fit`` stores), and the membrane IoU of each part moved by it.

All figures are of the net's own predictions: a checkpoint's stored label offset is set
aside first.

    python bench/isbi_membrane_iou.py --run RUN --train-data ISBI_00-24 --test-data ISBI_25-29 --tta
    python bench/isbi_membrane_iou.py --run KEPT/run --train-data KEPT/data \
        --test-data KEPT/data/val --checkpoint last      (a bench_isbi_recipe.py --keep run)

Prints the figures and writes ``bench/results/isbi_membrane_iou.json`` (``--out``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import disk, skeletonize

from unetlab.checkpoint import load_model
from unetlab.cli.parser import Parser
from unetlab.config import load_config
from unetlab.data.datasets import split_pairs
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.inference.offset import estimate_offset, shift_probabilities
from unetlab.inference.predict import predict_image

RESULTS = Path(__file__).resolve().parent / "results" / "isbi_membrane_iou.json"
LEVELS = tuple(round(0.05 * i, 2) for i in range(1, 20))


def iou_counts(pred: np.ndarray, label: np.ndarray) -> tuple[int, int]:
    """(intersection, union) pixel counts of two boolean maps."""
    return int((pred & label).sum()), int((pred | label).sum())


def ratio(counts: tuple[int, int]) -> float:
    return counts[0] / counts[1] if counts[1] else float("nan")


def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def shifted_label_iou(membranes, shift: tuple[int, int]) -> float:
    """Membrane IoU of each label against itself moved by ``shift`` (dy, dx) px, summed."""
    total = (0, 0)
    for m in membranes:
        total = add(total, iou_counts(np.roll(m, shift, axis=(0, 1)), m))
    return ratio(total)


def label_width(membranes, radii=(1, 2, 3)) -> dict:
    """Half-width of the membranes at their skeleton (10/25/50/75/90th percentiles, px) and,
    per disk radius, the IoU of the labels against their skeleton widened by that disk."""
    halves, redrawn = [], {r: (0, 0) for r in radii}
    for m in membranes:
        skeleton = skeletonize(m)
        halves.append(ndi.distance_transform_edt(m)[skeleton])
        for r in radii:
            redrawn[r] = add(redrawn[r], iou_counts(ndi.binary_dilation(skeleton, disk(r)), m))
    percentiles = np.percentile(np.concatenate(halves), [10, 25, 50, 75, 90])
    return {
        "half_width_percentiles": [float(v) for v in percentiles],
        "skeleton_redrawn_iou": {r: ratio(c) for r, c in redrawn.items()},
    }


def membrane_probability(model, pair, membrane_class: int, tta: bool):
    image, mask = read_pair(pair)
    return predict_image(model, image, tta=tta)[membrane_class], np.asarray(mask) == 0


def offset_figures(parts: dict) -> dict:
    """The offset fitted on ``parts["validation"]`` ((probability, membrane) pairs) and the
    membrane IoU of every part at the argmax, unmoved and moved by it."""
    two = {
        k: ([np.stack([p, 1 - p]) for p, _ in v], [(~m).astype(np.int64) for _, m in v])
        for k, v in parts.items()
    }
    found = estimate_offset(*two["validation"])
    figures = {"offset": list(found.offset), "validation_miou": [found.unshifted_miou, found.miou]}
    for part, (probs, masks) in two.items():
        for name, offset in (("unmoved", (0.0, 0.0)), ("moved", found.offset)):
            total = (0, 0)
            for p, m in zip(probs, masks):
                total = add(total, iou_counts(shift_probabilities(p, offset)[0] >= 0.5, m == 0))
            figures[f"{part}_{name}"] = ratio(total)
    return figures


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", required=True, help="a run folder (checkpoints/best.pt, config.yaml)"
    )
    parser.add_argument("--train-data", required=True, help="the folder the run trained on")
    parser.add_argument("--test-data", required=True, help="the slices to score (ISBI 25-29)")
    parser.add_argument("--checkpoint", choices=("best", "last"), default="best")
    parser.add_argument("--tta", action="store_true")
    parser.add_argument("--membrane-class", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    run = Path(args.run)
    model = load_model(run / "checkpoints" / f"{args.checkpoint}.pt")
    model.label_offset = (0.0, 0.0)  # the net's own predictions (see label_offset below)
    cfg = load_config(run / "config.yaml")
    train, val = split_pairs(
        args.train_data, val_fraction=cfg.data.val_fraction, seed=cfg.data.seed
    )

    fit, train_labels, kept = {}, [], {}
    for part, pairs in (("trained", train), ("validation", val)):
        total = (0, 0)
        for pair in pairs:
            prob, membrane = membrane_probability(model, pair, args.membrane_class, args.tta)
            total = add(total, iou_counts(prob >= 0.5, membrane))
            train_labels.append(membrane)
            kept.setdefault(part, []).append((prob, membrane))
        fit[part] = {"slices": [p.name for p in pairs], "membrane_iou": ratio(total)}
        print(f"{part:<10} slices ({len(pairs)}): membrane IoU {fit[part]['membrane_iou']:.4f}")

    levels = {t: (0, 0) for t in LEVELS}
    membranes = []
    for pair in find_pairs(args.test_data):
        prob, membrane = membrane_probability(model, pair, args.membrane_class, args.tta)
        membranes.append(membrane)
        kept.setdefault("test", []).append((prob, membrane))
        for t in LEVELS:
            levels[t] = add(levels[t], iou_counts(prob >= t, membrane))
    by_threshold = {t: ratio(c) for t, c in levels.items()}
    best = max(by_threshold, key=by_threshold.get)
    print("test slices, membrane IoU by level of the membrane probability:")
    print("  " + "  ".join(f"{t:.2f}: {v:.3f}" for t, v in by_threshold.items()))
    print(f"  at 0.5: {by_threshold[0.5]:.4f}; best {by_threshold[best]:.4f} at {best:.2f}")

    shifts = {"down": (1, 0), "right": (0, 1), "diagonal": (1, 1)}
    label_shift = {k: shifted_label_iou(membranes, s) for k, s in shifts.items()}
    print(
        "test labels against themselves moved 1 px: "
        + ", ".join(f"{k} {v:.4f}" for k, v in label_shift.items())
    )
    width = label_width(train_labels)
    print(
        "training labels: membrane half-width at the skeleton (10-90th percentile) "
        + " / ".join(f"{v:.1f}" for v in width["half_width_percentiles"])
        + " px; skeleton widened by a disk of radius "
        + ", ".join(f"{r}: IoU {v:.3f}" for r, v in width["skeleton_redrawn_iou"].items())
    )
    offset = offset_figures(kept)
    print(
        f"label offset fitted on the validation slices: {offset['offset']} px (down, right); "
        "membrane IoU unmoved -> moved: "
        + ", ".join(
            f"{part} {offset[f'{part}_unmoved']:.4f} -> {offset[f'{part}_moved']:.4f}"
            for part in kept
        )
    )
    record = {
        "command": vars(args),
        "label_offset": offset,
        "fit": fit,
        "by_threshold": by_threshold,
        "best_level": best,
        "label_shift": label_shift,
        "label_width": width,
        "membrane_share": float(np.mean([m.mean() for m in membranes])),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
