"""The write of a whole-image ``<stem>_prob.tif`` (an image read whole, not streamed): its
float32 (K, H, W) ImageJ TIFF as ``files._write_probabilities`` writes it, uncompressed (before
s57), at zlib's default level and at the streamed map's deflate level
(``ome.FLOAT_DEFLATE_LEVEL``), alternated: the file's size, the write's seconds.

Makes bench/slide_tail.py's tiny trained 1 -> 3 class net (in --dir, once) and a --side²
image of its discs, predicts it whole, and rewrites its probabilities each way.

    python bench/whole_prob_write.py --side 2048
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_tail  # noqa: E402

#: (name, tifffile's compression keywords)
WAYS = (
    ("uncompressed (before s57)", {}),
    ("zlib, default level", dict(compression="zlib")),
    ("zlib, level 1 (as streamed)", dict(compression="zlib", compressionargs={"level": 1})),
)


def timed(path: Path, probs, how: dict) -> tuple[float, int]:
    """(seconds, bytes) of writing ``probs`` (K, H, W) as unetlab's ImageJ probability TIFF."""
    import tifffile

    from unetlab.data.io import write_tiff
    from unetlab.data.tiffmeta import imagej_kwargs

    kwargs = imagej_kwargs(probs.dtype, axes="CYX", classes=["a", "b", "c"], pixel=None)
    start = time.perf_counter()
    write_tiff(path, probs, photometric="minisblack", **kwargs, **how)
    seconds = time.perf_counter() - start
    if tifffile.imread(path).tobytes() != probs.tobytes():
        raise SystemExit("the map read back differs")
    return seconds, path.stat().st_size


def main() -> None:
    from unetlab import load_model, predict_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_probabilities"))
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    model_path, _ = slide_tail.make(args.dir / "whole")
    model = load_model(model_path, device="cpu")
    n = args.side // slide_tail.PIECE
    pieces = [
        [slide_tail.discs(slide_tail.PIECE, n * i + j)[0] for j in range(n)] for i in range(n)
    ]
    probs = predict_image(model, np.block(pieces))
    found = {name: [] for name, _ in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeats):
            for name, how in WAYS:
                found[name].append(timed(Path(folder) / "p_prob.tif", probs, how))
    print(f"{probs.shape} {probs.dtype}: MB, write s (least-most of {args.repeats})")
    for name, got in found.items():
        seconds = [s for s, _ in got]
        print(f"{name:28s} {got[0][1] / 1e6:6.1f} {min(seconds):5.2f}-{max(seconds):.2f}")


if __name__ == "__main__":
    main()
