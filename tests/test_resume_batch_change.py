"""A run stopped mid-epoch and resumed with another train.batch_size (a key a resume may
change) trains the rest of that epoch's tiles, none skipped or redone, and ends with its
cosine schedule annealed to 0: the schedule is laid over the steps the run will have taken,
not over its epochs at the new batch (which a run that had taken steps of the old batch
passed before its end: the lr rose again)."""

import csv
import signal

import pytest

from tests.test_train import tiny_config, write_blobs
from tests.test_train_signals import _signal_at
from unetlab.checkpoint import load_checkpoint
from unetlab.signals import Stopped
from unetlab.train import fit
from unetlab.train.loop import TrainState
from unetlab.train.resume import planned_steps, tiles_done

pytestmark = [
    pytest.mark.usefixtures("one_thread"),  # conftest.py
    pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals"),
]


def _rows(run) -> list[dict]:
    with (run / "metrics.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("batch", [4, 1])
def test_a_resume_with_another_batch_trains_the_epochs_rest_and_ends_annealed(
    tmp_path, monkeypatch, batch
):
    data = write_blobs(tmp_path / "data", 4)
    settings = ("train.epochs=3", "data.tiles_per_epoch=16")
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _signal_at(m, 10, signal.SIGTERM)  # epoch 2, batch 1 of 8 (2 of its 16 tiles done)
        with pytest.raises(Stopped):
            fit(tiny_config(data, *settings, "train.batch_size=2"), run_dir=run, progress=False)
    saved = load_checkpoint(run / "checkpoints" / "last.pt")["train_state"]
    assert (saved["epoch"], saved["batch"], saved["step"]) == (1, 1, 9)
    cfg = tiny_config(data, *settings, f"train.batch_size={batch}")
    rest = -(-14 // batch)  # epoch 2's other 14 tiles
    with monkeypatch.context() as m:  # stopped again, at the resume's first step
        _signal_at(m, 1, signal.SIGTERM)
        with pytest.raises(Stopped):
            fit(cfg, run_dir=run, resume=True, progress=False)
    progress = load_checkpoint(run / "checkpoints" / "last.pt")["run_progress"]
    assert progress["planned_steps"] == 9 + rest + 16 // batch  # "stopped at step 10 of ..."
    result = fit(cfg, run_dir=run, resume=True, progress=False)
    assert result["steps"] == 9 + rest + 16 // batch
    rows = _rows(run)
    assert [int(r["step"]) for r in rows] == [8, 9 + rest, 9 + rest + 16 // batch]
    assert float(rows[-1]["lr"]) == 0.0
    assert 0.0 < float(rows[1]["lr"]) < float(rows[0]["lr"])  # annealing, never back up


def test_an_older_last_pt_counts_its_tiles_from_its_batches():
    old = {
        "train_state": {"epoch": 1, "step": 9, "batch": 3},
        "train_config": {"train": {"batch_size": 2}},
        "processes": 2,
    }
    assert tiles_done(old) == 12
    assert tiles_done({**old, "train_state": {**old["train_state"], "tiles": 5}}) == 5


def test_planned_steps_go_on_from_the_steps_taken():
    unchanged = TrainState(epoch=1, step=9, batch=1, tiles=2)
    assert planned_steps(unchanged, epochs=3, tiles=16, batch_size=2, world=1) == 24
    assert planned_steps(unchanged, epochs=3, tiles=16, batch_size=4, world=1) == 17
    assert planned_steps(unchanged, epochs=3, tiles=16, batch_size=2, world=2) == 9 + 4 + 4
    ended = TrainState(epoch=3, step=24)
    assert planned_steps(ended, epochs=3, tiles=16, batch_size=4, world=1) == 24


def test_a_last_pt_that_records_no_processes_counts_those_it_resumes_in(tmp_path, monkeypatch):
    """A last.pt from before checkpoints recorded their processes (and the tiles done) that
    an --nproc 2 run resumes: its batches were each 2 x batch_size tiles, as unetlab took them
    then; counting 1 process trained half the epoch's tiles done again, a longer schedule."""
    import torch

    from unetlab.group import Group
    from unetlab.train.run import setup_run

    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=3", "data.tiles_per_epoch=16", "train.batch_size=2")
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _signal_at(m, 10, signal.SIGTERM)  # epoch 2, batch 1
        with pytest.raises(Stopped):
            fit(cfg, run_dir=run, progress=False)
    last = run / "checkpoints" / "last.pt"
    old = torch.load(last, weights_only=True)
    del old["processes"], old["train_state"]["tiles"]  # as saved before they were recorded
    torch.save(old, last)
    two = Group(0, 2, 0)  # as resumed by torchrun --nproc 2 (inactive: no collectives here)
    resumed = setup_run(cfg, run, device=torch.device("cpu"), group=two, resume=True)
    assert resumed.state.tiles == 1 * 2 * 2
    assert resumed.planned_steps(resumed.state) == 9 + 12 // 2 // 2 + 16 // 2 // 2
