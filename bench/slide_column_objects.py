"""Could a streamed slide's band window find its objects in column blocks, not its whole width
at once (the wide slide's ``--instances`` peak: one full-width window of probabilities and
its watershed, s56), with the same objects? A measurement, not unetlab's path.

Predicts the first ``--rows`` rows (a band window: 394 at 16,384 px wide) of
bench/slide_memory.py's slide with bench/slide_tail.py's tiny instance net (once, cached in
--dir), finds the window's objects whole (``objects._objects``, as ``objects_in_bands``'
``_band`` does), then in blocks of ``--blocks`` columns, each widened by the least column
margin that holds whole every 8-connected foreground region (``grown_over``) reaching its
core, plus one column: prints each way's traced numpy peak (tracemalloc) and seconds, and
whether every block's core pixels are partitioned into the same objects as the whole
window's (ids one to one, background alike).

    python bench/slide_memory.py --sides 16384x2048 --flags=--instances   # makes the slide
    python bench/slide_column_objects.py --rows 394 --width 16384 --blocks 2048 4096

``--taken W ...``: instead, unetlab's own path (:func:`objects_in_bands`, the window one
band) on the first W columns of the window, whole and in column blocks
(:mod:`unetlab.inference.column_objects`): traced peak, seconds, and whether the ids are
the same, numbered in raster order (the widths at which to take the blocks).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_tail  # noqa: E402


def probabilities(folder: Path, rows: int, width: int) -> tuple[np.ndarray, object]:
    """The (3, rows, width) probabilities of the slide's first window, and the net."""
    import tifffile

    from unetlab import load_model, predict_image

    slide_tail.SIDE = 256
    model = load_model(slide_tail.make(folder)[0], device="cpu")
    cached = folder / f"window{rows}x{width}.npy"
    if not cached.exists():
        slide = folder / "in2048x16384" / "slide.ome.tif"
        np.save(cached, predict_image(model, tifffile.imread(slide)[:rows, :width]))
    return np.load(cached), model


def traced(find, *args) -> tuple[np.ndarray, float, float]:
    """(ids, traced peak MB above what was held, seconds) of ``find(*args)``."""
    tracemalloc.start()
    base, start = tracemalloc.get_traced_memory()[0], time.perf_counter()
    ids = find(*args)
    seconds, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return ids, peak / 1e6, seconds


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ids ``a`` and ``b`` of the same pixels name the same objects."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    one_to_one = len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))
    return one_to_one and np.array_equal(a == 0, b == 0)


def by_columns(probs, options, whole: np.ndarray, block: int) -> tuple[bool, list, float, float]:
    """(the cores alike, the margins, traced peak MB, seconds) of the blocks of ``block``."""
    from scipy import ndimage

    from unetlab.inference.objects import _objects, grown_over

    width = probs.shape[2]
    regions, _ = ndimage.label(grown_over(probs, options), np.ones((3, 3), bool))
    boxes = ndimage.find_objects(regions)
    alike, margins, peak, seconds = True, [], 0.0, 0.0
    for c0 in range(0, width, block):
        c1 = min(c0 + block, width)
        inside = [i for i in np.unique(regions[:, c0:c1]).tolist() if i > 0]
        lo = max(min([boxes[i - 1][1].start for i in inside] + [c0]) - 1, 0)
        hi = min(max([boxes[i - 1][1].stop for i in inside] + [c1]) + 1, width)
        margins.append(max(c0 - lo, hi - c1))
        window = np.ascontiguousarray(probs[:, :, lo:hi])
        ids, mb, s = traced(_objects, window, options, None, (True, False))
        peak, seconds = max(peak, mb), seconds + s
        alike = alike and same_partition(ids[:, c0 - lo : c1 - lo], whole[:, c0:c1])
    return alike, margins, peak, seconds


def taken(probs, options, width: int) -> str:
    """A line: unetlab's band of the first ``width`` columns, whole vs in column blocks."""
    from unetlab.inference import column_objects
    from unetlab.inference.objects import objects_in_bands, raster_numbered

    window = np.ascontiguousarray(probs[:, :, :width])

    def band(limit: int) -> np.ndarray:
        column_objects.WHOLE_WIDTH_UP_TO = limit
        rows = window.shape[1]
        bands = objects_in_bands(
            [(0, window)], height=rows, options=options, band_rows=rows, margin=0
        )
        return [ids for _, ids in bands]  # one band: numbered in raster order untraced

    whole, mb, s = traced(band, 10**9)
    parts, mb2, s2 = traced(band, 0)
    whole, parts = (raster_numbered(np.concatenate(ids)) for ids in (whole, parts))
    same = np.array_equal(whole, parts)
    return (
        f"{width} px wide, {whole.max()} objects: whole {mb:.0f} MB {s:.1f} s; blocks of "
        f"{column_objects.COLUMN_BLOCK}: {mb2:.0f} MB {s2:.1f} s; the same ids: {same}"
    )


def main() -> None:
    from unetlab.inference.objects import ObjectOptions, _objects

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_memory"))
    parser.add_argument("--rows", type=int, default=394)
    parser.add_argument("--width", type=int, default=16384)
    parser.add_argument("--blocks", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--taken", type=int, nargs="*", default=[])
    parser.add_argument("--column-block", type=int, default=None, help="for --taken")
    args = parser.parse_args()
    probs, model = probabilities(args.dir, args.rows, args.width)
    options = ObjectOptions.for_model(model)
    if args.column_block is not None:
        from unetlab.inference import column_objects

        column_objects.COLUMN_BLOCK = args.column_block
    for width in args.taken:
        print(taken(probs, options, width), flush=True)
    if args.taken:
        return
    whole, mb, s = traced(_objects, probs, options, None, (True, False))
    count = len(np.unique(whole)) - 1
    print(f"whole window {probs.shape}: {count} objects, traced peak {mb:.0f} MB, {s:.1f} s")
    for block in args.blocks:
        alike, margins, mb, s = by_columns(probs, options, whole, block)
        print(
            f"blocks of {block} columns: traced peak {mb:.0f} MB, {s:.1f} s, margins "
            f"{min(margins)}-{max(margins)}; every core's objects those of the whole: {alike}"
        )


if __name__ == "__main__":
    main()
