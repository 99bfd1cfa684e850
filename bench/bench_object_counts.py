"""Object counts and IoU-0.5 matches of checkpoints on a held-out instance-mask data set.

    python bench/bench_object_counts.py --data ../shared/data/kromp2020_nuclei/test \
        --checkpoint runs/inst/checkpoints/best.pt runs/semantic/checkpoints/best.pt

For each checkpoint, each test image is predicted whole (overlap-tile) and turned into
objects with :func:`unetlab.predict_objects` at the checkpoint's defaults: an instance model
(background / boundary / interior) through the seeded watershed, any other model through the
connected regions of its foreground (holes filled, small objects dropped alike). Objects are
matched one-to-one at IoU > 0.5 (:func:`unetlab.metrics.objects.object_counts`) against the
mask ids. Prints one table per checkpoint and a summary, and writes bench/results/object_counts.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from unetlab import load_model, predict_objects
from unetlab.cli.parser import Parser
from unetlab.data.pairs import PairReader, find_pairs
from unetlab.inference.objects import ObjectOptions
from unetlab.metrics.objects import f1_from_counts, object_counts, seg_score


def score(checkpoint: Path, data: Path, *, min_area: int | None) -> dict:
    model = load_model(checkpoint)
    options = ObjectOptions.for_model(model, min_area=min_area)
    read, rows = PairReader(), []
    for pair in find_pairs(data):
        image, mask = read(pair)
        tick = time.perf_counter()
        ids, _ = predict_objects(model, image, min_area=options.min_area)
        seconds = time.perf_counter() - tick
        gt = mask.astype(np.int64)
        tp, fp, fn = object_counts(ids, gt)
        rows.append(
            {
                "image": pair.name,
                "true": len(np.unique(gt)) - 1,
                "predicted": int(ids.max()),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "seg": seg_score(ids, gt),
                "seconds": seconds,
            }
        )
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    return {
        "checkpoint": str(checkpoint),
        "mode": options.mode,
        "min_area": options.min_area,
        "images": rows,
        "true": sum(r["true"] for r in rows),
        "predicted": sum(r["predicted"] for r in rows),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        **f1_from_counts(tp, fp, fn),
        "seg": float(np.mean([r["seg"] for r in rows])),
    }


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="images/ + masks/ with ids")
    parser.add_argument("--checkpoint", type=Path, nargs="+", required=True)
    parser.add_argument("--min-area", type=int, help="override the checkpoints' defaults")
    parser.add_argument("--out", type=Path, default=Path("bench/results/object_counts.json"))
    args = parser.parse_args()
    results = []
    for checkpoint in args.checkpoint:
        result = score(checkpoint, args.data, min_area=args.min_area)
        results.append(result)
        print(f"\n{checkpoint} ({result['mode']} mode, min area {result['min_area']} px)")
        print(
            f"{'image':28s} {'true':>5s} {'pred':>5s} {'TP':>5s} {'FP':>5s} {'FN':>5s} {'SEG':>6s}"
        )
        for r in result["images"]:
            print(
                f"{r['image']:28s} {r['true']:5d} {r['predicted']:5d} {r['tp']:5d} "
                f"{r['fp']:5d} {r['fn']:5d} {r['seg']:6.3f}"
            )
    print(
        f"\n{'checkpoint':40s} {'mode':10s} {'true':>6s} {'pred':>6s} {'prec':>6s} "
        f"{'recall':>6s} {'F1@0.5':>6s} {'SEG':>6s}"
    )
    for r in results:
        name = str(Path(r["checkpoint"]).parent.parent.name)
        print(
            f"{name:40s} {r['mode']:10s} {r['true']:6d} {r['predicted']:6d} {r['precision']:6.3f} "
            f"{r['recall']:6.3f} {r['f1']:6.3f} {r['seg']:6.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
