"""A training step's memory: measured peak against the estimate, and the fit of its factor.

    python bench/bench_train_memory.py [--out FILE] [--quick]

Each row is one fresh process (``--one``) that builds a net, its AdamW optimiser and runs two
training steps (forward, weighted cross entropy, backward, optimiser step; the first makes
the optimiser's state) on random tiles, as ``fit`` does on a CPU (the tuned allocator), and
reports the growth of its peak resident memory (``unetlab.train.memory.measure_step``).
Beside it: the bytes autograd saves for one tile (``unetlab.models.memory.saved_bytes``,
counted on the meta device) and the weights' bytes. The script then fits, per amp, the factor and the constant of ``peak = factor x batch x saved + weights x
4 x 4 + constant`` by least squares and prints each row's error against the fit and against
the committed constants (``STEP_FACTOR``, ``STEP_OVERHEAD``); ``--refit`` does that for the rows of a
results file without measuring. Writes
bench/results/train_memory.json (--out: another file).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
# (net, tile, batch, amp, channels_last); nets: a preset, or preset:key=value,...
CASES = [
    ("small", 128, 4, "fp32", False),
    ("small", 256, 1, "fp32", False),
    ("small", 256, 4, "fp32", False),
    ("small", 512, 1, "fp32", False),
    ("small", 512, 2, "fp32", False),
    ("small-valid", 252, 1, "fp32", False),
    ("small-valid", 252, 4, "fp32", False),
    ("small-valid", 508, 1, "fp32", False),
    ("paper", 252, 1, "fp32", False),
    ("paper", 252, 2, "fp32", False),
    ("paper", 380, 1, "fp32", False),
    ("small:base_channels=32,depth=5,norm=group", 256, 1, "fp32", False),
    ("small:base_channels=32,depth=5,norm=group", 256, 2, "fp32", False),
    ("small", 256, 1, "fp32", True),
    ("small", 256, 4, "fp32", True),
    ("small", 512, 1, "fp32", True),
    ("paper", 252, 1, "fp32", True),
    ("paper", 252, 2, "fp32", True),
    ("small", 256, 1, "bf16", True),
    ("small", 256, 4, "bf16", True),
    ("small", 512, 1, "bf16", True),
    ("paper", 252, 1, "bf16", True),
    ("paper", 252, 2, "bf16", True),
]
QUICK = [c for c in CASES if c[0] == "small" and c[3] == "fp32" and not c[4]]


def net_config(net: str, in_channels: int = 1, num_classes: int = 2) -> dict:
    """The architecture dict of ``preset`` or ``preset:key=value,...``."""
    from dataclasses import asdict

    from unetlab.models import UNet

    preset, _, extra = net.partition(":")
    over = {
        k: int(v) if v.isdigit() else v for k, v in (p.split("=") for p in extra.split(",") if p)
    }
    with __import__("torch").device("meta"):
        model = UNet.from_preset(preset, in_channels=in_channels, num_classes=num_classes, **over)
    return asdict(model.config)


def one(case: list) -> dict:
    """One row, measured in this process (a fresh one: ``--one``)."""
    from unetlab.models import model_from_config
    from unetlab.models.memory import parameter_count, saved_bytes, step_bytes
    from unetlab.train.memory import measure_step

    net, tile, batch, amp, cl = case
    config = net_config(net)
    tick = time.perf_counter()
    peak = measure_step(lambda: model_from_config(config), tile, batch, amp=amp, channels_last=cl)
    estimate = step_bytes(config, tile, batch, amp=amp)
    return {
        "net": net,
        "tile": tile,
        "batch": batch,
        "amp": amp,
        "channels_last": cl,
        "peak_bytes": peak,
        "saved_bytes_per_tile": saved_bytes(config, tile),
        "parameters": parameter_count(config),
        "estimate_bytes": estimate,
        "seconds": round(time.perf_counter() - tick, 2),
    }


def fit(rows: list[dict]) -> dict:
    """Least squares of ``peak - weights x 16 = factor x batch x saved + constant`` per amp
    (both layouts together: the slopes of one net differ by 1% between them, 256 px tiles
    of the small preset), and the rows' errors against the fit."""
    fits = {}
    for amp in sorted({r["amp"] for r in rows}):
        mine = [r for r in rows if r["amp"] == amp]
        a = np.array([[r["batch"] * r["saved_bytes_per_tile"], 1.0] for r in mine])
        b = np.array([r["peak_bytes"] - 16 * r["parameters"] for r in mine], dtype=float)
        (factor, constant), *_ = np.linalg.lstsq(a, b, rcond=None)
        errors = (a @ [factor, constant] + 16 * np.array([r["parameters"] for r in mine])) / [
            r["peak_bytes"] for r in mine
        ] - 1
        fits[amp] = {
            "factor": round(float(factor), 3),
            "constant_mb": round(float(constant) / 1e6, 1),
            "rows": len(mine),
            "errors": [round(float(e), 3) for e in errors],
        }
    return fits


def main() -> None:
    from unetlab.cli.parser import Parser

    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=RESULTS / "train_memory.json")
    p.add_argument("--quick", action="store_true", help="the small preset's fp32 rows only")
    p.add_argument(
        "--refit",
        type=Path,
        metavar="JSON",
        help="no measuring: the rows of this results file with today's estimate, fitted again",
    )
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    load = os.getloadavg()[0]
    if args.refit:
        rows = [estimated(row) for row in json.loads(args.refit.read_text())["rows"]]
        load = json.loads(args.refit.read_text()).get("load_at_start")
        for row in rows:
            show(row)
    else:
        rows = [measured(case) for case in (QUICK if args.quick else CASES)]
    fits = fit(rows)
    for key, f in fits.items():
        print(
            f"fit {key}: factor {f['factor']}, constant {f['constant_mb']} MB ({f['rows']} rows, "
            f"errors {min(f['errors']):+.0%} to {max(f['errors']):+.0%})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"load_at_start": load, "rows": rows, "fits": fits}, indent=1))
    print(f"wrote {args.out}")


def measured(case) -> dict:
    """One row measured in a fresh process."""
    cmd = [sys.executable, __file__, "--one", json.dumps(case)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ)
    row = json.loads(done.stdout.splitlines()[-1])
    show(row)
    return row


def estimated(row: dict) -> dict:
    """``row`` with the saved bytes and the estimate of the code as it is now."""
    from unetlab.models.memory import saved_bytes, step_bytes

    config = net_config(row["net"])
    return row | {
        "saved_bytes_per_tile": saved_bytes(config, row["tile"]),
        "estimate_bytes": step_bytes(config, row["tile"], row["batch"], amp=row["amp"]),
    }


def show(row: dict) -> None:
    err = row["estimate_bytes"] / row["peak_bytes"] - 1
    print(
        f"{row['net'][:28]:28s} {row['tile']:4d} x{row['batch']:2d} {row['amp']} "
        f"cl={int(row['channels_last'])}: peak {row['peak_bytes'] / 1e9:6.3f} GB, "
        f"saved/tile {row['saved_bytes_per_tile'] / 1e6:7.1f} MB, estimate "
        f"{row['estimate_bytes'] / 1e9:6.3f} GB ({err:+.0%}), {row['seconds']} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
