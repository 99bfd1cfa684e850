"""How large a streamed slide's probability map (`--save-probabilities`) is, and what other
encodings of the same values would weigh: is there a lossless saving, and what would a
smaller dtype cost in precision? (s55: 232 MB for a 4,096² slide's 3 classes in float32.)

Makes (once, in --dir) bench/slide_tail.py's tiny trained 1 -> 3 class net and a --side²
slide of its discs, predicts it streamed with `--save-probabilities` (timed), then rewrites
the `_prob.tif` pyramid (every level, 512-px tiles, as unetlab writes it) in each encoding
and prints its size, its write time, the time to read level 0 back, and the largest error.

    python bench/slide_probabilities.py --side 2048
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_tail  # noqa: E402

#: (name, dtype, tifffile's write keywords): unetlab's own first
ENCODINGS = (
    (
        "float32 zlib level 1 (unetlab's)",
        np.float32,
        dict(compression="zlib", compressionargs={"level": 1}),
    ),
    ("float32 zlib (default level)", np.float32, dict(compression="zlib")),
    ("float32 zlib + float predictor", np.float32, dict(compression="zlib", predictor=3)),
    ("float32 zstd", np.float32, dict(compression="zstd")),
    ("float16 zlib", np.float16, dict(compression="zlib")),
    ("uint8 (x 255) zlib", np.uint8, dict(compression="zlib")),
)


def encoded(levels: list[np.ndarray], dtype) -> list[np.ndarray]:
    """The probability ``levels`` as ``dtype`` (uint8: times 255, rounded)."""
    if dtype is np.uint8:
        return [np.round(level * 255).astype(np.uint8) for level in levels]
    return [level.astype(dtype) for level in levels]


def rewritten(
    path: Path, levels: list[np.ndarray], how: dict
) -> tuple[int, float, float, np.ndarray]:
    """Write ``levels`` as a SubIFD pyramid to ``path``: (its bytes, the write's seconds,
    level 0 read back: seconds, values)."""
    import tifffile

    start = time.perf_counter()
    with tifffile.TiffWriter(path, bigtiff=True) as tif:
        for i, level in enumerate(levels):
            where = {"subifds": len(levels) - 1} if i == 0 else {"subfiletype": 1}
            common = dict(tile=(512, 512), photometric="minisblack", planarconfig="separate")
            tif.write(level, **common, **how, **where)
    wrote = time.perf_counter() - start
    start = time.perf_counter()
    back = tifffile.imread(path)
    return path.stat().st_size, wrote, time.perf_counter() - start, back


def main() -> None:
    import tifffile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_probabilities"))
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = parser.parse_args()
    if args.side < slide_tail.PIECE or args.side % slide_tail.PIECE:  # made of whole pieces
        near = slide_tail.PIECE * max(1, round(args.side / slide_tail.PIECE))
        raise SystemExit(
            f"slide_probabilities.py: --side {args.side} is not a multiple of the slide's "
            f"{slide_tail.PIECE}-px pieces (it would make a smaller slide): try --side {near}"
        )
    slide_tail.SIDE = args.side
    model, slide = slide_tail.make(args.dir / str(args.side))
    out = args.dir / f"out{os.getpid()}"
    command = [sys.executable, "-m", "unetlab", "predict", "--checkpoint", str(model)]
    command += ["--input", str(slide), "--output", str(out), "--device", "cpu", "--no-progress"]
    command += ["--save-probabilities", "--large-pixels", "1"]  # streamed, as a slide is
    env = {**os.environ, "PYTHONPATH": str(args.src), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    print(
        f"{args.side}² streamed predict --save-probabilities: {time.perf_counter() - start:.1f} s"
    )
    with tifffile.TiffFile(out / "slide_prob.tif") as tif:
        levels = [level.asarray() for level in tif.series[0].levels]
        print(f"its _prob.tif: {(out / 'slide_prob.tif').stat().st_size / 1e6:.1f} MB")
    truth = levels[0].astype(np.float64)
    saturated = np.mean((truth < 1e-3) | (truth > 1 - 1e-3))
    print(f"{saturated:.0%} of its values within 0.001 of 0 or 1")
    print(f"{'encoding':32s} {'MB':>7s} {'write s':>8s} {'read s':>7s} {'max error':>10s}")
    for name, dtype, how in ENCODINGS:
        size, wrote, read, back = rewritten(out / "v.tif", encoded(levels, dtype), how)
        scale = 255.0 if dtype is np.uint8 else 1.0
        error = np.abs(back.astype(np.float64) / scale - truth).max()
        print(f"{name:32s} {size / 1e6:7.1f} {wrote:8.2f} {read:7.2f} {error:10.1e}")
    shutil.rmtree(out)


if __name__ == "__main__":
    main()
