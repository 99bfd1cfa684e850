"""How long ``unetlab.load_model`` takes on the paper net (``UNet(1, 2)``: 31 M parameters,
a 124 MB checkpoint), and the wall time of a one-file ``unetlab predict`` with it, which pays
that load (and Python's start, the imports and one forward) in every call.

    PYTHONPATH=$PWD/src python3 bench/bench_load.py [--repeats 5] [--predicts 3]

Prints JSON (least of ``--repeats`` loads after a warm-up, least of ``--predicts`` commands);
writes nothing outside a temporary folder. Run it with each tree's ``src`` on ``PYTHONPATH``
to compare two trees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench_small_speeds import best_seconds  # least of repeats after a warm-up
from unetlab import UNet, load_model, save_model
from unetlab.cli.parser import Parser


def predict_seconds(folder: Path, checkpoint: Path, repeats: int) -> float:
    """The least wall time of ``repeats`` one-file ``unetlab predict`` commands (a 64 x 64
    grey PNG, on the CPU), each into a new output folder."""
    image = folder / "cells.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)).save(image)
    times = []
    for i in range(repeats):
        command = [sys.executable, "-m", "unetlab", "predict", "--checkpoint", str(checkpoint)]
        command += ["--input", str(image), "--output", str(folder / f"out{i}")]
        started = time.perf_counter()
        subprocess.run(
            [*command, "--no-progress", "--device", "cpu"], check=True, capture_output=True
        )
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--predicts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = save_model(Path(tmp) / "paper.pt", UNet(1, 2))
        figures = {
            "load_model_s": best_seconds(lambda: load_model(checkpoint), args.repeats),
            "predict_one_file_s": predict_seconds(Path(tmp), checkpoint, args.predicts),
        }
    print(json.dumps({"load": os.getloadavg()[0]} | {k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
