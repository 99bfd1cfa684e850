"""Pictures beside the numbers: written without touching matplotlib's global backend."""

import subprocess
import sys

import numpy as np
import pytest

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


def _curves_drawn(rows, path, monkeypatch):
    """The figure plot_curves saves, drawn, and its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from unetlab.plots import plot_curves

    saved, real = [], Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda fig, *a, **k: saved.append(fig) or real(fig, *a, **k)
    )
    plot_curves(rows, path)
    renderer = FigureCanvasAgg(saved[0]).get_renderer()
    saved[0].draw(renderer)
    return saved[0], renderer


def test_the_loss_axis_ticks_and_label_stay_in_the_figure(tmp_path, monkeypatch):
    # a fine-tuned run's losses (0.0006-0.002) and thousands: their 6-character ticks were
    # cut with the "loss" label by the fixed margins
    for scale in (0.001, 6000):
        rows = [
            {
                "epoch": e,
                "train_loss": scale * (0.6 + 1.5 * 0.9**e),
                "val_loss": scale * (0.8 + 0.9**e),
            }
            for e in range(1, 40)
        ]
        fig, renderer = _curves_drawn(rows, tmp_path / "curves.png", monkeypatch)
        box = fig.axes[0].get_tightbbox(renderer)
        assert box.x0 >= 0 and box.x1 < fig.axes[1].get_tightbbox(renderer).x0, (scale, box)


def _confusion_drawn(names, path, monkeypatch, **kw):
    """The figure plot_confusion saves, drawn, and its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from unetlab.plots import plot_confusion

    saved, real = [], Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda fig, *a, **k: saved.append(fig) or real(fig, *a, **k)
    )
    n = len(names)
    plot_confusion(np.eye(n, dtype=int) * 900 + 37, names, path, **kw)
    renderer = FigureCanvasAgg(saved[0]).get_renderer()
    saved[0].draw(renderer)
    return saved[0], renderer


@pytest.mark.parametrize(
    "names",
    [
        ["membrane", "cell"],
        ["background", "boundary", "interior"],  # upright, centred
        ["a rather long class name", "car", "sky", "pedestrian crossing", "b", "bicycle lane"],
        [f"c{i}" for i in range(21)],
    ],
)
def test_the_confusion_matrix_texts_stay_in_the_figure_and_off_the_matrix(
    tmp_path, monkeypatch, names
):
    # its layout is computed from the texts' sizes (constrained layout drew it twice)
    fig, renderer = _confusion_drawn(names, tmp_path / "c.png", monkeypatch, missed=(None, 255))
    ax, bar = fig.axes
    square, strip = ax.get_window_extent(renderer), bar.get_window_extent(renderer)
    page = fig.bbox
    texts = [*ax.get_xticklabels(), *ax.get_yticklabels(), *bar.get_yticklabels()]
    texts += [ax.title, ax.xaxis.label, ax.yaxis.label, bar.yaxis.label]
    for text in texts:
        box = text.get_window_extent(renderer)
        inside = page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0
        assert inside and box.y1 <= page.y1, (text.get_text(), box, page)
        assert not box.overlaps(square), text.get_text()
    assert square.x1 < strip.x0 and square.y0 <= strip.y0 and strip.y1 <= square.y1
    assert min(square.width, square.height) > 0.5 * min(page.width, page.height)
