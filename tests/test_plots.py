"""Pictures beside the numbers: written without touching matplotlib's global backend."""

import subprocess
import sys

SCRIPT = """
import matplotlib
matplotlib.use("svg")  # a notebook's own backend, say
import numpy as np
from unetlab.plots import plot_confusion, plot_curves
row = {"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "val_miou": 0.6, "val_mdice": 0.7}
plot_curves([row], r"{folder}/curves.png")
plot_confusion(np.array([[5, 1], [2, 9]]), ["a", "b"], r"{folder}/confusion.png")
print(matplotlib.get_backend())
"""


def test_pictures_leave_the_callers_matplotlib_backend_alone(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("{folder}", str(tmp_path))],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "svg"
    for name in ("curves.png", "confusion.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
