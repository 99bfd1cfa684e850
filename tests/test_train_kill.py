"""A run killed at any moment of an epoch's end (while its metrics row, best.pt or last.pt
is written) resumes into the same metrics.csv and checkpoints as a run never killed: last.pt
is the commit point, written after the row and best.pt."""

import csv

import pytest
import torch

from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint
from unetlab.train import fit, rundir
from unetlab.train import run as train_run

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py

#: the columns that depend on the clock
TIMES = ("seconds", "data_s", "compute_s")


class _Killed(BaseException):
    """As SIGKILL: nothing of the run's own (no KeyboardInterrupt handler) runs after it."""


def _writes(monkeypatch, *, kill_at: int | None = None) -> list[str]:
    """The end-of-epoch writes, in order, as they happen ("row 2", "best.pt 2", "last.pt 2");
    the ``kill_at``-th (from 0) kills the run instead of happening."""
    done: list[str] = []
    real_save, real_append = train_run.save_model, rundir.MetricsFile.append

    def write(what: str) -> None:
        if len(done) == kill_at:
            raise _Killed(what)
        done.append(what)

    def save_model(path, model, **kw):
        write(f"{path.name} {kw['train_state']['epoch']}")
        return real_save(path, model, **kw)

    def append(self, row):
        write(f"row {row['epoch']}")
        return real_append(self, row)

    monkeypatch.setattr(train_run, "save_model", save_model)
    monkeypatch.setattr(rundir.MetricsFile, "append", append)
    return done


def _rows(run) -> list[dict]:
    with (run / "metrics.csv").open(newline="") as f:
        return [{k: v for k, v in r.items() if k not in TIMES} for r in csv.DictReader(f)]


def _weights(run, name: str) -> dict:
    return load_checkpoint(run / "checkpoints" / name)["model"]


def test_a_kill_at_any_write_of_an_epochs_end_resumes_to_the_uninterrupted_run(
    tmp_path, monkeypatch
):
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=3", "model.dropout=0.2", "train.best_smoothing=0")
    straight = tmp_path / "straight"
    with monkeypatch.context() as m:
        writes = _writes(m)
        fit(cfg, run_dir=straight, progress=False)
    assert any(w.startswith("best.pt") and not w.endswith(" 1") for w in writes), writes
    for kill_at, what in enumerate(writes):
        run = tmp_path / f"killed_{kill_at}"
        with monkeypatch.context() as m:
            _writes(m, kill_at=kill_at)
            with pytest.raises(_Killed):
                fit(cfg, run_dir=run, progress=False)
        saved = (run / "checkpoints" / "last.pt").is_file()
        fit(cfg, run_dir=run, resume=saved, overwrite=not saved, progress=False)
        assert _rows(run) == _rows(straight), f"killed in {what}"
        for name in ("best.pt", "last.pt"):
            a, b = _weights(straight, name), _weights(run, name)
            assert all(torch.equal(a[k], b[k]) for k in a), f"{name}, killed in {what}"
