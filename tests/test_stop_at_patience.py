"""A stop (SIGTERM, Ctrl-C) that comes on the epoch where train.patience runs out: last.pt
said the run's training had ended (run_progress finished), yet a resume trained one epoch
more and early-stopped again (its summary said "time budget"). The record and the resume
now agree: the resume finishes the run, trains nothing, and says it ended by early stop."""

import signal

import pytest

from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint
from unetlab.train import Stopped, fit, fitting

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="POSIX signals"),
    pytest.mark.usefixtures("one_thread"),
]


def _falling_scores(monkeypatch, stop_at: int | None):
    """Validation whose mIoU falls each epoch (patience 1 runs out at epoch 2); SIGTERM
    sent during validation ``stop_at`` (1-based), after the epoch's last step."""
    real, calls = fitting.validate, {"n": 0}

    def validate(*args, **kw):
        calls["n"] += 1
        found = real(*args, **kw)
        if calls["n"] == stop_at:
            signal.raise_signal(signal.SIGTERM)
        return found | {"miou": 0.9 - 0.1 * calls["n"]}

    monkeypatch.setattr(fitting, "validate", validate)


def test_a_stop_on_the_epoch_patience_runs_out_resumes_to_the_end_at_once(tmp_path, monkeypatch):
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=5", "train.patience=1")
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _falling_scores(m, stop_at=2)
        with pytest.raises(Stopped):
            fit(cfg, run_dir=run, progress=False)
    last = run / "checkpoints" / "last.pt"
    saved = load_checkpoint(last)
    assert saved["train_state"]["epoch"] == 2 and saved["train_state"]["batch"] == 0
    assert saved["run_progress"]["finished"] is True  # patience spent: training ended
    with monkeypatch.context() as m:
        _falling_scores(m, stop_at=None)
        result = fit(cfg, run_dir=run, resume=True, progress=False)
    assert result["epochs"] == 2  # as recorded: no epoch more
    assert load_checkpoint(last)["train_state"]["epoch"] == 2
    assert (
        "training had ended by early stop (1 validation without a better val mIoU; raise "
        "train.patience to train on) (epoch 2, step 4): finishing the run"
    ) in (run / "train.log").read_text()
    summary = (run / "summary.json").read_text()
    assert '"ended": "early stop"' in summary and '"finished": true' in summary


def test_a_run_early_stopped_without_a_stop_records_the_same(tmp_path, monkeypatch):
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=5", "train.patience=1")
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _falling_scores(m, stop_at=None)
        result = fit(cfg, run_dir=run, progress=False)
    assert result["epochs"] == 2
    assert load_checkpoint(run / "checkpoints" / "last.pt")["run_progress"]["finished"] is True
    assert '"ended": "early stop"' in (run / "summary.json").read_text()


def test_a_run_early_stopped_on_its_last_epoch_names_both_limits_to_raise(tmp_path, monkeypatch):
    """Patience running out on the last of train.epochs: raising train.patience alone
    trains nothing more (the epochs are done too), so the resume's line names both."""
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=2", "train.patience=1")
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _falling_scores(m, stop_at=None)
        assert fit(cfg, run_dir=run, progress=False)["epochs"] == 2
        fit(cfg, run_dir=run, resume=True, progress=False)
    log = (run / "train.log").read_text()
    assert (
        "training had ended by early stop (1 validation without a better val mIoU; raise "
        "train.patience and train.epochs to train on) (epoch 2, step 4): finishing the run"
    ) in log
    assert "continuing at epoch" not in log  # it said 'continuing at epoch 3' of 2 first
