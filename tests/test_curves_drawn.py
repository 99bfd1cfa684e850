"""curves.png is drawn at most every 30 s and at the end: a run shorter than that draws it
once, at its end (its first epoch drew it too: ~0.3 s a plot, two in every short run)."""

import pytest

import unetlab.plots
from unetlab.train import fit

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_short_run_draws_its_curves_once_at_its_end(tmp_path, monkeypatch):
    drawn, real = [], unetlab.plots.plot_curves

    def plot_curves(rows, path):
        drawn.append(len(rows))
        return real(rows, path)

    monkeypatch.setattr(unetlab.plots, "plot_curves", plot_curves)
    data = write_blobs(tmp_path / "data", 3, size=32)
    cfg = tiny_config(data, "data.tiles_per_epoch=4", "train.epochs=2")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert drawn == [2]  # both epochs' rows, once
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"
