"""Cells as objects on ISBI 2012's held-out slices: an instance-mode model against a two-class one.

    python bench/bench_isbi_objects.py --data ../shared/data/isbi2012/train \
        --checkpoint two_class=runs/isbi_2class/checkpoints/best.pt \
        --checkpoint instances=runs/isbi_inst/checkpoints/best.pt

The held-out slices are those training held out (``split_pairs`` with the default config's
``data.val_fraction`` 0.1 and ``data.seed`` 0). The true cells are the 4-connected non-membrane
regions of each mask (255). Each model's objects are scored two ways: ``plain_cc``, the
4-connected regions of its cell / foreground class (an instance model's boundary and interior
together); ``postprocessed``, :func:`unetlab.inference.objects.objects_from_probabilities` at
the checkpoint's defaults (instance mode: seeded watershed; two-class: the same regions with
holes filled and small objects dropped). Scores from
:func:`unetlab.metrics.objects.summarize_objects` (DSB score, F1 at IoU 0.5, PQ, SEG, counts).
Prints a table; writes bench/results/isbi_objects.json.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from unetlab.checkpoint import load_model
from unetlab.cli.parser import Parser
from unetlab.data.datasets import split_pairs
from unetlab.data.pairs import PairReader
from unetlab.evaluate import nan_to_none
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
from unetlab.inference.predict import labels_from_probabilities, predict_image
from unetlab.metrics.objects import instances, object_scores, summarize_objects


def score(checkpoint: str, pairs) -> dict:
    model = load_model(checkpoint)
    options = ObjectOptions.for_model(model)
    read = PairReader()
    ways: dict[str, list] = {"plain_cc": [], "postprocessed": []}
    for pair in pairs:
        image, mask = read(pair)
        truth = instances((mask == 255).astype(np.int64))
        probs = predict_image(model, image)
        if options.mode == "instances":  # background (membrane) / boundary / interior
            cell = 1.0 - probs[0]
            foreground = labels_from_probabilities(probs) != 0
            ids = objects_from_probabilities(probs, options)
        else:
            cell = probs[model.label_values.index(255)]
            foreground = labels_from_probabilities(probs) == model.label_values.index(255)
            two = replace(options, mode="semantic")
            ids = objects_from_probabilities(np.stack([1.0 - cell, cell]), two)
        ways["plain_cc"].append(object_scores(instances(foreground.astype(np.int64)), truth))
        ways["postprocessed"].append(object_scores(ids, truth))
    return {way: summarize_objects(rows) for way, rows in ways.items()}


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/isbi2012/train")
    parser.add_argument("--checkpoint", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--output", default="bench/results/isbi_objects.json")
    args = parser.parse_args()
    _, val = split_pairs(args.data, val_fraction=0.1, seed=0)
    results = {"val_slices": [p.name for p in val]}
    print(
        f"{'model':<12} {'objects':<14} {'F1@0.5':>7} {'DSB':>6} {'PQ':>6} {'SEG':>6} "
        f"{'found':>6} {'true':>5}"
    )
    for item in args.checkpoint:
        name, path = item.split("=", 1)
        results[name] = score(path, val)
        for way, s in results[name].items():
            print(
                f"{name:<12} {way:<14} {s['object_f1']:7.3f} {s['dsb']:6.3f} {s['pq']:6.3f} "
                f"{s['seg']:6.3f} {s['pred_objects']:6d} {s['objects']:5d}"
            )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(nan_to_none(results), indent=1) + "\n")


if __name__ == "__main__":
    main()
