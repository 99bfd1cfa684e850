"""unetlab's OME-TIFF write of a streamed slide's float32 probability map (what ``predict``
publishes: ``ome._write_ome_tiff``) at its deflate level (``ome.FLOAT_DEFLATE_LEVEL``) and
at zlib's default, alternated: the file's size, the write's seconds, the values read back.

    python bench/slide_probabilities.py --side 2048      # writes out<pid>/slide_prob.tif
    python bench/slide_prob_write.py /tmp/slide_probabilities/out<pid>/slide_prob.tif
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def timed(level0, levelled: bool, folder: Path) -> tuple[float, int]:
    """(seconds, bytes) of writing ``level0`` (K, H, W) staged, its pyramid built, as an
    OME-TIFF: at unetlab's float level (``levelled``) or zlib's default."""
    import tifffile

    from unetlab.data import ome

    spec = ome.OutputSpec(shape=level0.shape, axes="cyx", dtype=level0.dtype, downsample="mean")
    stage, final = folder / ".p.partial", folder / "p.tif"
    array = ome.create(stage, spec)
    array[...] = level0
    levels = ome.build_pyramid(stage, spec)
    default = ome._deflate_level
    ome._deflate_level = default if levelled else (lambda dtype: None)
    try:
        start = time.perf_counter()
        ome._write_ome_tiff(stage, final, spec, levels)
        seconds = time.perf_counter() - start
    finally:
        ome._deflate_level = default
    if tifffile.imread(final).tobytes() != level0.tobytes():
        raise SystemExit("the map read back differs")
    size = final.stat().st_size
    shutil.rmtree(stage)
    final.unlink()
    return seconds, size


def main() -> None:
    import tifffile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("map", type=Path, help="a _prob.tif written by predict")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tifffile.TiffFile(args.map) as tif:
        level0 = tif.series[0].levels[0].asarray()
    found = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            for levelled in (True, False):
                found[levelled].append(timed(level0, levelled, Path(folder)))
    print(f"{level0.shape} {level0.dtype}: MB, write s (least-most of {args.repeats})")
    for levelled, name in ((False, "zlib's default level"), (True, "unetlab's float level")):
        seconds = [s for s, _ in found[levelled]]
        size = found[levelled][0][1] / 1e6
        print(f"{name:24s} {size:6.1f} {min(seconds):5.2f}-{max(seconds):.2f}")


if __name__ == "__main__":
    main()
