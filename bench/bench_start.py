"""How long the ``unetlab`` command takes before and around a small piece of work: ``unetlab
--help``, ``unetlab predict --help`` and a one-file ``unetlab predict`` (a 64 x 64 grey PNG,
a depth-2 net of 4 base channels: the command's start, not the net's work), each the least
wall time of ``--repeats`` after a warm-up, with Python's bytecode cache written and read as an installed
package's is (``PYTHONDONTWRITEBYTECODE`` unset: set, every command compiles unetlab's
modules from source).

    PYTHONPATH=$PWD/src python3 bench/bench_start.py [--repeats 5]

Prints JSON; writes nothing outside a temporary folder (and ``__pycache__`` beside the
sources). Run it with each tree's ``src`` on ``PYTHONPATH`` to compare two trees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench_small_speeds import best_seconds  # least of repeats after a warm-up
from unetlab import UNet, save_model
from unetlab.cli.parser import Parser
from unetlab.data.io import write_png


def least_seconds(command: list[str], repeats: int, folder: Path) -> float:
    """The least wall time of ``repeats`` runs of ``python -m unetlab COMMAND`` in
    ``folder`` after a warm-up run (which writes the bytecode cache), an output folder
    ``out`` removed before each."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run = [sys.executable, "-m", "unetlab", *command]

    def once() -> None:
        shutil.rmtree(folder / "out", ignore_errors=True)
        subprocess.run(run, cwd=folder, env=env, check=True, capture_output=True)

    return best_seconds(once, repeats)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        save_model(folder / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
        write_png(folder / "a.png", np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8))
        one = ["predict", "--checkpoint", "m.pt", "--input", "a.png", "--output", "out"]
        commands = {"help_s": ["--help"], "predict_help_s": ["predict", "--help"]}
        commands["predict_one_file_s"] = [*one, "--no-progress", "--device", "cpu"]
        figures = {k: least_seconds(c, args.repeats, folder) for k, c in commands.items()}
    print(json.dumps({"load": os.getloadavg()[0]} | {k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
