"""Predict one huge uint8 image (default 20,000 x 20,000) and report peak memory and speed.

The input is created as a memory-mapped uint8 TIFF in a temporary folder; a random-weight
model (``UNet.from_preset(--preset)``) is saved with ``save_model``; then a separate worker
process loads it and runs ``unetlab.inference.files.predict_file`` (which streams large TIFFs:
memory-mapped rows in, a tiled pyramidal OME-TIFF out) and reports its own peak resident memory (VmHWM), so the
memory taken to create the input does not count. Prints a table and writes JSON to
bench/results/.

    python bench/bench_large_image.py                      # 20k x 20k, preset "small"
    python bench/bench_large_image.py --size 4000 --base-channels 8
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def make_input(path: Path, size: int, seed: int = 0) -> None:
    """A (size, size) uint8 TIFF written through a memory map, 1024 rows at a time: blobs
    on noise, so the net sees structure."""
    import tifffile

    image = tifffile.memmap(path, shape=(size, size), dtype=np.uint8, photometric="minisblack")
    rng = np.random.default_rng(seed)
    x = np.arange(size)
    for top in range(0, size, 1024):
        y = np.arange(top, min(top + 1024, size))[:, None]
        blobs = 96 + 64 * np.sin(x / 37.0)[None, :] * np.cos(y / 53.0)
        image[top : top + len(y)] = np.clip(blobs + rng.normal(0, 20, blobs.shape), 0, 255)
    image.flush()
    del image


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM from /proc (fresh after exec, unlike
    ru_maxrss, which Linux carries over from the parent), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args) -> dict:
    """Runs in its own process: load, predict, report."""
    import torch

    from unetlab.checkpoint import load_model
    from unetlab.inference.files import predict_file

    torch.set_num_threads(args.threads) if args.threads else None
    model = load_model(args.checkpoint)
    baseline = peak_rss_mb()
    tiles = []
    start = time.perf_counter()
    written = predict_file(
        model,
        args.input,
        args.out_dir,
        tile_size=args.tile_size,
        batch_size=args.batch_size,
        blend=args.blend,
        precision=args.precision,
        progress=tiles.append,
        large_threshold=0,
    )
    elapsed = time.perf_counter() - start
    peak = peak_rss_mb()
    return {
        "seconds": elapsed,
        "tiles": sum(tiles),
        "peak_rss_mb": peak,
        "baseline_rss_mb": baseline,
        "outputs": [str(p) for p in written],
        "threads": torch.get_num_threads(),
    }


def main() -> int:
    from unetlab.cli.parser import Parser

    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=20000, help="image side in px (default 20000)")
    p.add_argument("--preset", default="small")
    p.add_argument("--base-channels", type=int, help="override the preset's width")
    p.add_argument("--tile-size", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--blend", default="mean")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--threads", type=int)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--checkpoint", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args)))
        return 0

    from unetlab import UNet, save_model

    overrides = {"base_channels": args.base_channels} if args.base_channels else {}
    model = UNet.from_preset(args.preset, **overrides)
    with tempfile.TemporaryDirectory(prefix="unetlab-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        make_input(tmp / "large.tif", args.size)
        create_s = time.perf_counter() - t0
        save_model(tmp / "model.pt", model)
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--checkpoint",
            str(tmp / "model.pt"),
            "--input",
            str(tmp / "large.tif"),
            "--out-dir",
            str(tmp / "out"),
            "--blend",
            args.blend,
            "--precision",
            args.precision,
        ]
        for flag in ("tile_size", "batch_size", "threads"):
            if getattr(args, flag):
                cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode:
            print(run.stderr, file=sys.stderr)
            return run.returncode
        result = json.loads(run.stdout.strip().splitlines()[-1])
        import tifffile

        with tifffile.TiffFile(tmp / "out" / "large.tif") as tif:  # the header only
            label_shape = list(tif.series[0].shape)
    from unetlab.inference.files import LARGE_PIXELS, STREAM_BUDGET
    from unetlab.inference.sizing import DEFAULT_BUDGET, choose_tiling

    # the tiling predict_file used: large images stream under their own budget
    budget = STREAM_BUDGET if args.size * args.size > LARGE_PIXELS else DEFAULT_BUDGET
    grid, batch = choose_tiling(
        model,
        (args.size, args.size),
        tile_size=args.tile_size,
        batch_size=args.batch_size,
        budget=budget,
    )
    mp = args.size * args.size / 1e6
    record = {
        "benchmark": "large_image",
        "size": args.size,
        "megapixels": mp,
        "preset": args.preset,
        "config": {k: v for k, v in vars(model.config).items()},
        "tile": list(grid.tile),
        "tiles": result["tiles"],
        "batch_size": batch,
        "blend": args.blend,
        "precision": args.precision,
        "threads": result["threads"],
        "input_create_s": round(create_s, 1),
        "predict_s": round(result["seconds"], 1),
        "mp_per_s": round(mp / result["seconds"], 3),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "baseline_rss_mb": round(result["baseline_rss_mb"], 1),
        "label_shape": label_shape,
        "machine": f"{platform.machine()}, {platform.processor() or '?'}, python "
        f"{platform.python_version()}",
    }
    rows = [
        ("image", f"{args.size} x {args.size} uint8 ({mp:.0f} MP)"),
        (
            "model",
            f"{args.preset} (base {model.config.base_channels}, depth {model.depth}, "
            f"{model.padding})",
        ),
        ("tiles", f"{result['tiles']} of {grid.tile[0]} x {grid.tile[1]}, batch {batch}"),
        ("predict time", f"{result['seconds']:.1f} s"),
        ("throughput", f"{record['mp_per_s']:.3f} MP/s"),
        (
            "peak RSS",
            f"{record['peak_rss_mb']:.0f} MB (after loading: {record['baseline_rss_mb']:.0f} MB)",
        ),
        ("labels", f"{label_shape}"),
    ]
    for name, value in rows:
        print(f"{name:>14}  {value}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"large_image_{args.size}_{args.preset}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"{'written':>14}  {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
