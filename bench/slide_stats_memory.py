"""The statistics pass of a streamed slide (its normalisation statistics, read once over the
page before the tiles: ``slides._page_image``): traced numpy peak (tracemalloc: numpy's
buffers) and seconds, per normalisation mode, on a wide synthetic slide read as predict reads
it (a :class:`~unetlab.data.slides.SlidePage` keeping a band of the tile's rows).

Makes (once, in --dir) bench/slide_memory.py's uint16 OME-TIFF of discs (512-px zlib tiles);
``--rgb`` an 8-bit RGB one of the same size instead.

    python bench/slide_stats_memory.py --sides 16384x2048
    python bench/slide_stats_memory.py --sides 16384x2048 --rgb
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_memory  # noqa: E402

MODES = (
    {"mode": "per_image"},
    {"mode": "per_image", "tissue": True},
    {"mode": "percentile", "low": 1.0, "high": 99.8},
)


def rgb_slide(folder: Path, height: int, width: int) -> Path:
    """An 8-bit RGB tiled TIFF of ``height`` x ``width`` (the uint16 slide's discs)."""
    import tifffile

    path = folder / f"rgb{height}x{width}.tif"
    if not path.exists():
        grey = tifffile.imread(slide_memory.make_slide(folder, height, width) / "slide.ome.tif")
        image = np.repeat((grey // 200).astype(np.uint8)[..., None], 3, axis=2)
        image[..., 1] //= 2
        tifffile.imwrite(path, image, tile=(512, 512), compression="zlib", photometric="rgb")
    return path


def measured(path: Path, spec: dict, band_rows: int, rows: int) -> tuple[float, float, tuple]:
    """(traced peak MB, seconds, statistics) of ``raw_stats`` over page 0 of ``path``,
    ``rows`` rows at a time."""
    from unetlab.data.normalize import raw_stats
    from unetlab.data.slides import open_slide

    with open_slide(path) as slide:
        page = slide.page(0, band_rows=band_rows)
        tracemalloc.start()
        start = time.perf_counter()
        stats = raw_stats(page, spec, chunk_rows=rows)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return peak, seconds, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_memory"))
    parser.add_argument("--sides", type=slide_memory.shape, default=(16384, 2048))
    parser.add_argument("--rgb", action="store_true")
    parser.add_argument("--band-rows", type=int, default=508, help="the tile's rows")
    said = "rows read at once (default: 1,024, before s57, and stats_rows's)"
    parser.add_argument("--rows", type=int, nargs="+", help=said)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    width, height = args.sides
    if args.rgb:
        path = rgb_slide(args.dir, height, width)
    else:
        path = slide_memory.make_slide(args.dir, height, width) / "slide.ome.tif"
    from unetlab.inference.slide_nodata import stats_rows

    channels = 3 if args.rgb else 1
    chosen = args.rows or [1024, stats_rows((height, width, channels))]  # before s57, now
    print(f"{path}: {width} x {height}; rows at once, traced peak MB, seconds, statistics")
    for spec in MODES:
        for rows in chosen * args.repeats:
            peak, seconds, (mean, spread) = measured(path, spec, args.band_rows, rows)
            said = f"mean {mean.tolist()} spread {spread.tolist()}"
            print(f"{str(spec):50s} {rows:5d} {peak:7.1f} {seconds:6.2f}  {said}")


if __name__ == "__main__":
    main()
