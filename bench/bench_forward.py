"""Forward pass of each preset against a measured 3x3-convolution peak.

    python bench/bench_forward.py [--repeat 5] [--presets paper small] [--bf16] [--out FILE]

Prints a table and writes bench/results/forward.json (--out: another file; the committed
figures are replaced otherwise). For each preset, tile size, dtype and
layout: seconds (median of --repeat after a warm-up), GFLOP/s and share of the conv peak
measured in the same run (3x3, 256 -> 256 channels at 128x128). With "paper" among the presets,
the paper net at 572 is also run with the system allocator in a child process (glibc defaults: activations over 32 MiB
are unmapped after use and page-faulted in again on every call) to show what
unetlab.runtime.tune_allocator saves: kernel (system) CPU seconds and page faults per call.
bf16 runs only where it is native (AVX512-BF16/AMX or CUDA), or with --bf16.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from unetlab import bench
from unetlab.cli.parser import Parser
from unetlab.models import UNet
from unetlab.runtime import configure_threads, supports_bf16, tune_allocator

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {"paper": (572, 1212), "small": (256, 1024), "small-valid": (572, 1212)}
COLUMNS = [
    "what",
    "model",
    "size",
    "dtype",
    "layout",
    "seconds",
    "cpu_seconds",
    "system_seconds",
    "page_faults",
    "gflops",
    "share_of_peak",
    "allocator",
]


def child(repeat: int) -> None:
    """The paper net at 572, channels-last, with whatever allocator the environment says."""
    allocator = tune_allocator()
    torch.manual_seed(0)
    row = bench.bench_forward(UNet.from_preset("paper"), 572, repeat=repeat)
    print(json.dumps({**row, "allocator": allocator}))


def system_allocator_row(repeat: int, peak_gflops: float) -> dict:
    """The paper net at 572 in a child process with glibc's allocator defaults."""
    env = {**os.environ, "UNETLAB_TUNE_ALLOCATOR": "0"}
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["share_of_peak"] = round(row["gflops"] / peak_gflops, 3)
    row["allocator"] = "system"
    return row


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--presets", nargs="+", default=["paper", "small"], choices=list(SIZES))
    parser.add_argument("--bf16", action="store_true", help="also run bf16 where not native")
    parser.add_argument("--out", type=Path, default=RESULTS / "forward.json", help="the JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_threads()
    if args.child:
        return child(args.repeat)
    allocator = tune_allocator()
    print(f"threads {torch.get_num_threads()}, {allocator}, load {os.getloadavg()[0]:.2f}")
    dtypes = ["fp32"] + (["bf16"] if args.bf16 or supports_bf16("cpu") else [])
    rows, peaks = [], {}
    for dtype in dtypes:
        for layout in bench.LAYOUTS:
            row = bench.conv_peak(dtype=dtype, layout=layout, repeat=args.repeat)
            peaks[dtype, layout] = row["gflops"]
            rows.append(row)
            print(bench.table([row], COLUMNS), flush=True)
    for preset in args.presets:
        torch.manual_seed(0)
        model = UNet.from_preset(preset)
        for size in SIZES[preset]:
            for dtype in dtypes:
                for layout in bench.LAYOUTS:
                    if size > 600 and layout == "nchw":
                        continue  # the layout comparison is made at the smaller tile
                    row = bench.bench_forward(
                        model,
                        size,
                        dtype=dtype,
                        layout=layout,
                        repeat=args.repeat,
                        peak_gflops=peaks[dtype, layout],
                    )
                    row["allocator"] = "tuned"
                    rows.append(row)
                    print(bench.table([row], COLUMNS), flush=True)
    if "paper" in args.presets:  # what the tuned allocator saves, on the paper net
        rows.append(system_allocator_row(args.repeat, peaks["fp32", "channels_last"]))
    print()
    print(bench.table(rows, COLUMNS))
    bench.save_rows(args.out, rows)


if __name__ == "__main__":
    main()
