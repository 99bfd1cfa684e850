"""Training step time, split into data preparation and compute.

    python bench/bench_train.py [--steps 5] [--amp bf16] [--out FILE]

Prints a table and writes bench/results/train.json (train_bf16.json with ``--amp bf16``;
--out: another file, the committed figures are replaced otherwise): the paper net at 572, batch 1, fp32
(SGD momentum 0.99, weighted cross entropy), in the default and channels-last layouts; the
"small" preset at its config's tile (128, batch 8) and at 256, batch 1. Data preparation is
cutting a random tile from a synthetic image with its precomputed weight map, the elastic
warp with flips, turns and grey values (unetlab.data.transforms.Augment), as the training
data set does per tile; compute is forward, loss, backward and the optimiser step.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from unetlab import bench
from unetlab.cli.parser import Parser
from unetlab.models import UNet
from unetlab.runtime import configure_threads, tune_allocator

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = [
    "what",
    "model",
    "size",
    "batch",
    "layout",
    "amp",
    "seconds",
    "data_seconds",
    "compute_seconds",
    "data_share",
]
CASES = [
    ("paper", 572, 1, "nchw"),
    ("paper", 572, 1, "channels_last"),
    ("small", 128, 8, "nchw"),
    ("small", 128, 8, "channels_last"),
    ("small", 256, 1, "nchw"),
]


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--amp",
        choices=("off", "bf16"),
        default="off",
        help="autocast the forward pass (bf16 pays on CPUs with AMX or AVX512-BF16)",
    )
    parser.add_argument("--out", type=Path, help="the JSON (default: in bench/results/)")
    args = parser.parse_args()
    allocator = tune_allocator()
    configure_threads()
    print(f"threads {torch.get_num_threads()}, {allocator}, load {os.getloadavg()[0]:.2f}")
    rows = []
    for preset, size, batch, layout in CASES:
        torch.manual_seed(0)
        row = bench.bench_train_step(
            UNet.from_preset(preset),
            size,
            batch=batch,
            layout=layout,
            steps=args.steps,
            amp=args.amp,
        )
        rows.append(row)
        print(bench.table([row], COLUMNS), flush=True)
    print()
    print(bench.table(rows, COLUMNS))
    out = args.out or RESULTS / ("train.json" if args.amp == "off" else f"train_{args.amp}.json")
    bench.save_rows(out, rows)


if __name__ == "__main__":
    main()
