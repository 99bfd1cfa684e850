"""train.log says why a run ended on an error, as stderr did (audit s30 ops 3)."""

from __future__ import annotations

import signal

import pytest

from unetlab.errors import OutputError
from unetlab.train import fit, fitting

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


def _disk_full_in_epoch_2(monkeypatch) -> None:
    """The run's disk full as epoch 2 ends, its first row logged."""
    real = fitting._end_epoch

    def disk_full_in_epoch_2(run, row, **kwargs):
        if run.state.epoch == 1:
            raise OutputError("best.pt: cannot write it (No space left on device)")
        return real(run, row, **kwargs)

    monkeypatch.setattr(fitting, "_end_epoch", disk_full_in_epoch_2)


def test_train_log_ends_with_the_error_and_how_to_go_on(tmp_path, monkeypatch, caplog):
    data = write_blobs(tmp_path / "data", 6)
    _disk_full_in_epoch_2(monkeypatch)
    run = tmp_path / "run"
    with pytest.raises(OutputError):
        fit(tiny_config(data, "train.epochs=3"), run_dir=run, progress=False)
    last = (run / "train.log").read_text().splitlines()[-1]
    assert "stopped by an error: best.pt: cannot write it (No space left on device)" in last
    assert "last.pt holds step" in last and f"--run-dir {run} --resume" in last
    errors = [r for r in caplog.records if r.getMessage().startswith("stopped by an error")]
    assert errors == []  # in train.log only: the command says it on stderr itself


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_stop_as_an_error_ends_the_run_is_not_told_of_a_next_step(tmp_path, monkeypatch):
    """s69: a Ctrl-C as a run that an error ends draws its curves.png (``_plot_failed``,
    before the wait for a lost process of a launch) was logged "SIGINT: stopping after this
    step", no step to come; a second one stopped the drawing at once, the KeyboardInterrupt
    raised in place of the run's error. Both come as the curves are drawn (raise_signal:
    handled at once, in this thread)."""
    data = write_blobs(tmp_path / "data", 6)

    def ctrl_c_twice(run_dir, rows):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    _disk_full_in_epoch_2(monkeypatch)
    monkeypatch.setattr(fitting, "_plot", ctrl_c_twice)
    run = tmp_path / "run"
    try:
        with pytest.raises(OutputError):  # the run's error, said as it is
            fit(tiny_config(data, "train.epochs=3"), run_dir=run, progress=False)
    except KeyboardInterrupt:  # not left to abort the whole pytest run
        pytest.fail("the Ctrl-C replaced the run's error")
    log = (run / "train.log").read_text()
    assert "after this step" not in log
    assert log.count("SIGINT: the run is already ending, on the error said below") == 1
