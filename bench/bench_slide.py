"""A whole-slide image through the streamed path: peak memory and speed, against the
in-memory path, in one process and in two.

Generates (band by band, never whole in memory) a --size x --size RGB, JPEG-compressed,
512-px-tiled, pyramidal OME-TIFF (BigTIFF, 0.25 um pixels), then, each in its own process
so that peak resident memory (VmHWM) is its own:

- ``stream``: ``unetlab.inference.slides.predict_slide`` (the code ``unetlab predict``
  runs for large images), reading the whole slide once for its normalisation statistics,
  predicting the first --rows rows (whole 512-row chunks; ``--rows 0``: all) and writing the
  full-size pyramidal OME-TIFF of labels (rows not predicted stay 0). A band is predicted the
  way one of several processes predicts its share (``Group(rank 0, world N)``), so the path
  is the one a full run takes; the full run's time is extrapolated from the band's rate.
- ``memory``: a --crop x --crop window of the same slide read into memory and predicted
  with ``predict_image`` (the in-memory path), for the per-pixel rate.
- ``stream x2``: the same band shared by two processes (torchrun, gloo), one thread each.

    python bench/bench_slide.py                     # 40k x 40k, small preset, 1024 rows
    python bench/bench_slide.py --size 8192 --rows 0   # a whole small slide
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
TILE = 512
PIXEL_UM = 0.25


def pattern(top: int, rows: int, width: int, step: int, seed: int) -> np.ndarray:
    """(rows, width, 3) uint8 of a synthetic stained-tissue-like texture at full-resolution
    rows ``top * step ..`` sampled every ``step`` px: blobs of three hues on noise."""
    y = (top + np.arange(rows, dtype=np.float32))[:, None] * step
    x = np.arange(width, dtype=np.float32)[None, :] * step
    rng = np.random.default_rng(seed + top)
    out = np.empty((rows, width, 3), dtype=np.uint8)
    blobs = np.sin(x / 37.0) * np.cos(y / 53.0)
    for c, (base, gain) in enumerate(((200, 60), (150, 90), (190, 40))):
        noise = rng.integers(-12, 13, (rows, width), dtype=np.int16)
        out[..., c] = np.clip(base - gain * blobs + noise, 0, 255)
    return out


def _tiles(size: int, step: int, seed: int):
    for top in range(0, size, TILE):
        band = pattern(top, min(TILE, size - top), size, step, seed)
        for left in range(0, size, TILE):
            yield band[:, left : left + TILE]


def make_slide(path: Path, size: int, seed: int = 0) -> int:
    """Write the slide band by band; returns its number of pyramid levels."""
    import tifffile

    sizes = [size]
    while sizes[-1] > 2 * TILE:
        sizes.append(-(-sizes[-1] // 2))
    options = dict(
        tile=(TILE, TILE),
        compression="jpeg",
        compressionargs={"level": 90},
        photometric="rgb",
        dtype=np.uint8,
    )
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tif:
        for level, side in enumerate(sizes):
            extra = (
                {"subfiletype": 1}
                if level
                else {
                    "subifds": len(sizes) - 1,
                    "metadata": {
                        "axes": "YXS",
                        "PhysicalSizeX": PIXEL_UM,
                        "PhysicalSizeY": PIXEL_UM,
                    },
                }
            )
            resolution = 1e4 / (PIXEL_UM * 2**level)
            tif.write(
                _tiles(side, 2**level, seed),
                shape=(side, side, 3),
                resolution=(resolution, resolution),
                resolutionunit="CENTIMETER",
                **options,
                **extra,
            )
    return len(sizes)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bands(size: int, rows: int) -> int:
    """How many bands of at least ``rows`` rows (whole chunks) the slide is cut into."""
    from unetlab.data.ome import CHUNK

    chunks = -(-size // CHUNK)
    return 1 if rows <= 0 else max(1, chunks // max(1, rows // CHUNK))


def worker_stream(args) -> dict:
    import torch

    import unetlab.inference.slides as slides
    from unetlab.checkpoint import load_model
    from unetlab.data.ome import chunk_rows
    from unetlab.distributed import Group

    env = Group.from_env()
    torch.set_num_threads(args.threads or torch.get_num_threads())
    model = load_model(args.checkpoint)
    world = bands(args.size, args.rows)
    # this process's share: band 0 of `world` (one process) or half of it (two processes)
    group = Group(env.rank, world * env.world, env.local_rank, active=env.active)
    start, stop = chunk_rows(args.size, group.world, group.rank)
    ticks: list[float] = []
    tiles: list[int] = []
    stats_done: list[float] = []
    image_stats = slides.image_stats

    def timed_stats(*a, **k):  # the same statistics; the bench notes when they are ready
        result = image_stats(*a, **k)
        stats_done.append(time.perf_counter())
        return result

    slides.image_stats = timed_stats
    with env.joined(torch.device("cpu")):
        t0 = time.perf_counter()
        slides.predict_slide(
            model,
            args.input,
            args.out_dir,
            group=group,
            tile_size=args.tile_size,
            progress=lambda n: (ticks.append(time.perf_counter()), tiles.append(n)),
        )
        total = time.perf_counter() - t0
    with slides.open_slide(args.input) as slide:  # the whole slide's grid, for extrapolation
        grid, _ = slides.stream_tiling(model, slide, probabilities=False, tile_size=args.tile_size)
    return {
        "rank": env.rank,
        "tile": list(grid.tile),
        "slide_tiles": len(grid),
        "rows": [start, stop],
        "seconds": total,
        "first_tile_s": stats_done[0] - t0,
        "last_tile_s": ticks[-1] - t0,
        "tiles": sum(tiles),
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
    }


def worker_memory(args) -> dict:
    import torch

    from unetlab.checkpoint import load_model
    from unetlab.data.slides import open_slide
    from unetlab.inference.predict import labels_from_probabilities, predict_image

    torch.set_num_threads(args.threads or torch.get_num_threads())
    model = load_model(args.checkpoint)
    with open_slide(args.input) as slide:
        crop = slide.page(0)[: args.crop, : args.crop]
    t0 = time.perf_counter()
    labels_from_probabilities(predict_image(model, crop, tile_size=args.tile_size))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "threads": torch.get_num_threads()}


def _run(cmd: list[str]) -> list[dict]:
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{run.stderr[-4000:]}")
    # torchrun relays both processes' lines into one stream: they may share a line
    decoder, found, text = json.JSONDecoder(), [], run.stdout
    start = text.find("{")
    while start >= 0:
        record, end = decoder.raw_decode(text, start)
        found.append(record)
        start = text.find("{", end)
    return found


def main() -> int:
    from unetlab.cli.parser import Parser

    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=40000, help="slide side in px (default 40000)")
    p.add_argument(
        "--rows",
        type=int,
        default=1024,
        help="predict only the first ROWS rows (whole 512-row chunks; 0: all)",
    )
    p.add_argument("--crop", type=int, default=4096, help="in-memory comparison crop side")
    p.add_argument("--preset", default="small")
    p.add_argument("--tile-size", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--no-two", action="store_true", help="skip the two-process run")
    p.add_argument("--slide", help="reuse this slide instead of generating one")
    p.add_argument("--worker", choices=["stream", "memory"], help=argparse.SUPPRESS)
    p.add_argument("--checkpoint", help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        result = (worker_stream if args.worker == "stream" else worker_memory)(args)
        print(json.dumps(result), flush=True)
        return 0
    from unetlab import UNet, save_model
    from unetlab.bench import save_rows

    model = UNet.from_preset(args.preset, in_channels=3)
    with tempfile.TemporaryDirectory(prefix="unetlab-slide-") as tmp:
        tmp = Path(tmp)
        slide = Path(args.slide) if args.slide else tmp / "slide.tif"
        t0 = time.perf_counter()
        levels = None if args.slide else make_slide(slide, args.size)
        create_s = time.perf_counter() - t0
        print(f"slide: {slide.stat().st_size / 1e6:.0f} MB, {levels} levels, {create_s:.0f} s")
        save_model(tmp / "model.pt", model)
        base = [
            sys.executable,
            __file__,
            "--checkpoint",
            str(tmp / "model.pt"),
            "--input",
            str(slide),
            "--size",
            str(args.size),
            "--rows",
            str(args.rows),
            "--crop",
            str(args.crop),
        ]
        for flag in ("tile_size", "threads"):
            if getattr(args, flag):
                base += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        memory = _run([*base, "--worker", "memory"])[0]
        print(f"memory: {memory}")
        one = _run([*base, "--worker", "stream", "--out-dir", str(tmp / "one")])[0]
        print(f"stream: {one}")
        two = []
        if not args.no_two:
            torchrun = [
                sys.executable,
                "-m",
                "torch.distributed.run",
                "--standalone",
                "--nproc_per_node=2",
            ]
            env_threads = ["--threads", "1"] if not args.threads else []
            two = _run(
                [
                    *torchrun,
                    *base[1:],
                    *env_threads,
                    "--worker",
                    "stream",
                    "--out-dir",
                    str(tmp / "two"),
                ]
            )
            print(f"stream x2: {two}")
    record = summarise(args, model, memory, one, two, create_s, levels)
    RESULTS.mkdir(exist_ok=True)
    save_rows(RESULTS / f"slide_{args.size}_{args.preset}.json", [record])
    return 0


def summarise(args, model, memory, one, two, create_s, levels) -> dict:
    """Rates and the extrapolated full-slide time; prints a table."""
    crop_mp = args.crop**2 / 1e6
    band_mp = (one["rows"][1] - one["rows"][0]) * args.size / 1e6
    stream_s = one["last_tile_s"] - one["first_tile_s"]
    finish_s = one["seconds"] - one["last_tile_s"]
    full_mp = args.size**2 / 1e6
    # a band also computes the tiles just below it (its last rows need them); the whole
    # slide's rate is its tiles at the band's time per tile
    per_tile = stream_s / one["tiles"]
    rate_stream = full_mp / (one["slide_tiles"] * per_tile)
    rate_memory = crop_mp / memory["seconds"]
    record = {
        "benchmark": "slide",
        "size": args.size,
        "preset": args.preset,
        "levels": levels,
        "create_s": round(create_s, 1),
        "band_rows": one["rows"],
        "band_mp": round(band_mp, 1),
        "stream": one,
        "memory": memory,
        "stream_x2": two,
        "stats_pass_s": round(one["first_tile_s"], 1),
        "stream_mp_per_s": round(rate_stream, 3),
        "memory_mp_per_s": round(rate_memory, 3),
        "stream_vs_memory": round(rate_stream / rate_memory, 3),
        "finish_s": round(finish_s, 1),
        "band_mp_per_s": round(band_mp / stream_s, 3),
        "seconds_per_tile": round(per_tile, 2),
        "extrapolated_full_s": round(one["first_tile_s"] + full_mp / rate_stream + finish_s),
        "note": "stream_mp_per_s = slide MP / (slide tiles x the band's seconds per tile); "
        "extrapolated_full_s = stats pass + that + the pyramid/OME-TIFF write measured on the "
        "full-size output; not a measured full run",
    }
    rows = [
        ("slide", f"{args.size} x {args.size} RGB JPEG, tiled {TILE}, {levels} levels"),
        ("model", f"{args.preset} (base {model.config.base_channels}, depth {model.depth})"),
        ("stats pass", f"{one['first_tile_s']:.1f} s (open + whole slide decoded once)"),
        (
            "band",
            f"rows {one['rows'][0]}..{one['rows'][1]}: {band_mp:.1f} MP, {one['tiles']} "
            f"tiles of {one['tile']} in {stream_s:.1f} s",
        ),
        (
            "stream rate",
            f"{rate_stream:.3f} MP/s ({one['slide_tiles']} tiles for the slide, "
            f"{one['threads']} threads)",
        ),
        ("memory rate", f"{rate_memory:.3f} MP/s ({args.crop}^2 crop in memory)"),
        ("stream/memory", f"{rate_stream / rate_memory:.2f}"),
        ("pyramid+TIFF", f"{finish_s:.1f} s for the full-size output"),
        ("peak RSS", f"stream {one['peak_rss_mb']:.0f} MB, memory {memory['peak_rss_mb']:.0f} MB"),
        ("full slide", f"~{record['extrapolated_full_s'] / 3600:.1f} h (extrapolated)"),
    ]
    if two:
        wall = max(r["last_tile_s"] - r["first_tile_s"] for r in two)
        record["stream_x2_band_mp_per_s"] = round(band_mp / wall, 3)
        peaks = " + ".join(f"{r['peak_rss_mb']:.0f}" for r in two)
        rows.append(
            (
                "2 processes",
                f"band {band_mp / wall:.3f} MP/s (1 process: "
                f"{band_mp / stream_s:.3f}), peak RSS {peaks} MB",
            )
        )
    for name, value in rows:
        print(f"{name:>14}  {value}")
    return record


if __name__ == "__main__":
    sys.exit(main())
