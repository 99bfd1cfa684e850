"""What durable writes cost: ``unetlab predict`` of a folder of small images with atomic_path's
fsync of each file and its folder, against the same run with fsync made a no-op.

    python bench/bench_durability.py [--images 200] [--size 64] [--repeat 3] [--preset tiny]

Prints the median seconds of each and writes bench/results/durability.json. The disk under
the temporary folder decides the figure (a tmpfs makes fsync free; a laptop SSD does not):
the folder is beside this file unless --where says otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import unetlab.atomic as atomic
from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.cli.parser import Parser

RESULTS = Path(__file__).resolve().parent / "results"


def _run(work: Path, out: str) -> float:
    shutil.rmtree(work / out, ignore_errors=True)
    tick = time.perf_counter()
    code = main(
        [
            "predict",
            "--checkpoint",
            str(work / "model.pt"),
            "--input",
            str(work / "in"),
            "--output",
            str(work / out),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    return time.perf_counter() - tick


def main_bench() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--preset",
        default="tiny",
        help="tiny (depth 2, 4 channels: I/O-bound) or a UNet preset, e.g. small",
    )
    parser.add_argument("--where", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(dir=args.where) as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        rng = np.random.default_rng(0)
        for i in range(args.images):
            image = rng.integers(0, 255, (args.size, args.size), dtype=np.uint8)
            Image.fromarray(image).save(work / "in" / f"{i:04d}.png")
        model = (
            UNet(1, 2, depth=2, base_channels=4, padding="same")
            if args.preset == "tiny"
            else UNet.from_preset(args.preset, padding="same")
        )
        save_model(work / "model.pt", model)
        fsync, times = atomic._fsync, {"fsync": [], "no fsync": []}
        for _ in range(args.repeat):
            atomic._fsync = fsync
            times["fsync"].append(_run(work, "a"))
            atomic._fsync = lambda path: None
            times["no fsync"].append(_run(work, "b"))
        atomic._fsync = fsync
    result = {k: round(statistics.median(v), 3) for k, v in times.items()}
    result.update(images=args.images, size=args.size, preset=args.preset, where=args.where)
    result["overhead"] = round(result["fsync"] / result["no fsync"] - 1, 3)
    print(
        f"{args.images} images of {args.size} px, {args.preset} net: fsync {result['fsync']} s, "
        f"no fsync {result['no fsync']} s, overhead {result['overhead']:+.1%}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"durability_{args.preset}.json").write_text(json.dumps(result, indent=2) + "\n")
    os.sync()


if __name__ == "__main__":
    main_bench()
