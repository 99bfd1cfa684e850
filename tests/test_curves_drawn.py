"""curves.png is drawn at most every 30 s and at the end: a run shorter than that draws it
once, at its end (its first epoch drew it too: ~0.3 s a plot, two in every short run)."""

import pytest

import unetlab.plots
from unetlab.train import fit

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(("seconds_a_read", "expected"), [(0.0, [2]), (31.0, [1, 2, 2])])
def test_a_short_run_draws_its_curves_once_at_its_end(
    tmp_path, monkeypatch, seconds_a_read, expected
):
    """The run's curves clock is the test's: a loaded machine's first epoch may take over
    30 s (a short run then drew twice); one 31 s a read draws at each epoch's end too."""
    import itertools

    import unetlab.train.run

    drawn, real = [], unetlab.plots.plot_curves

    def plot_curves(rows, path):
        drawn.append(len(rows))
        return real(rows, path)

    monkeypatch.setattr(unetlab.plots, "plot_curves", plot_curves)
    ticks = itertools.count(step=seconds_a_read)
    monkeypatch.setattr(unetlab.train.run, "curves_clock", lambda: next(ticks))
    data = write_blobs(tmp_path / "data", 3, size=32)
    cfg = tiny_config(data, "data.tiles_per_epoch=4", "train.epochs=2")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert drawn == expected  # 0 s a read: both epochs' rows, once, at the end
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def _failing_after_a_row(run, **kw):
    """An epoch that ends in an error after its row was written (no training: the row is made)."""
    run.metrics.append({"epoch": 1, "step": 1, "train_loss": 0.5, "val_loss": 0.4, "val_miou": 0.6})
    raise RuntimeError("a file gone in epoch 2")


@pytest.mark.parametrize("plot_fails", [False, True])
def test_a_run_an_error_ends_keeps_the_curves_of_its_epochs(
    tmp_path, monkeypatch, caplog, plot_fails
):
    import unetlab.train.fitting as fitting

    drawn, real = [], unetlab.plots.plot_curves

    def plot_curves(rows, path):
        drawn.append(len(rows))
        if plot_fails:
            raise OSError("disk full")
        return real(rows, path)

    monkeypatch.setattr(unetlab.plots, "plot_curves", plot_curves)
    monkeypatch.setattr(fitting, "_train_epoch", _failing_after_a_row)
    data = write_blobs(tmp_path / "data", 3, size=32)
    with pytest.raises(RuntimeError, match="file gone"):  # the run's error, not the plot's
        fit(tiny_config(data, "train.epochs=3"), run_dir=tmp_path / "run", progress=False)
    assert drawn == [1]  # the epoch it trained (a run under 30 s drew none)
    if plot_fails:
        assert "curves.png not drawn: disk full" in caplog.text
    else:
        assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"
