"""SIGTERM (kill, a scheduler's time limit) and SIGHUP (a closed terminal) stop a run as Ctrl-C
does: at the next step boundary, last.pt saved, one log line naming the signal and the
resume; the command exits 128 + the signal; the caller's handlers are back afterwards."""

import signal

import pytest
import torch

from tests.test_train import tiny_config, write_blobs
from unetlab import train as train_mod
from unetlab.checkpoint import load_checkpoint
from unetlab.cli import main
from unetlab.train import Stopped, fit
from unetlab.train import run as train_run

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals"),
    pytest.mark.usefixtures("one_thread"),
]


def _signal_at(monkeypatch, call: int, signum: int, seen: list | None = None):
    """Send ``signum`` to this process during the ``call``-th use of the loss (and note the
    SIGHUP handler in force at each use in ``seen``)."""
    real = train_run.build_loss
    calls = {"n": 0}

    def build_loss(name, **kw):
        loss = real(name, **kw)

        def signalling(*args):
            calls["n"] += 1
            if seen is not None:
                seen.append(signal.getsignal(signal.SIGHUP))
            if calls["n"] == call:
                signal.raise_signal(signum)
            return loss(*args)

        return signalling

    monkeypatch.setattr(train_run, "build_loss", build_loss)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_last_at_a_step_and_resume_to_the_straight_run(
    tmp_path, monkeypatch, signum
):
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=3", "model.dropout=0.2")
    fit(cfg, run_dir=tmp_path / "straight", progress=False)

    def notebooks(signum, frame):  # a caller's own handler
        pass

    before = signal.signal(signum, notebooks)
    try:
        with monkeypatch.context() as m:
            _signal_at(m, 4, signum)  # epoch 2, batch 1
            with pytest.raises(Stopped) as stopped:
                fit(cfg, run_dir=tmp_path / "cut", progress=False)
        assert signal.getsignal(signum) is notebooks  # back when fit ends
    finally:
        signal.signal(signum, before)
    assert stopped.value.signum == signum
    run = tmp_path / "cut"
    last = load_checkpoint(run / "checkpoints" / "last.pt")
    saved = last["train_state"]
    assert (saved["epoch"], saved["batch"], saved["step"]) == (1, 1, 3)
    assert last["processes"] == 1  # the global batch's other factor, checked on resume
    name = signal.Signals(signum).name
    log = (run / "train.log").read_text()
    assert f"{name}: stopping after this step" in log
    assert (
        f"stopped by {name} at step 3, epoch 2, batch 1: saved {run / 'checkpoints' / 'last.pt'}"
        "; continue with: the same fit(...) with resume=True\n" in log  # Python's, not the CLI's
    )
    fit(cfg, run_dir=run, resume=True, progress=False)
    a, b = (load_checkpoint(tmp_path / r / "checkpoints" / "last.pt") for r in ("straight", "cut"))
    assert all(torch.equal(v, b["model"][k]) for k, v in a["model"].items())


def test_a_sighup_that_nohup_ignores_stays_ignored(tmp_path, monkeypatch):
    data = write_blobs(tmp_path / "data", 4)
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    seen = []
    try:
        with monkeypatch.context() as m:
            _signal_at(m, 2, signal.SIGHUP, seen)
            result = fit(tiny_config(data), run_dir=tmp_path / "run", progress=False)
        after = signal.getsignal(signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, before)
    assert result["steps"] == 4 and after is signal.SIG_IGN
    assert seen and all(handler is signal.SIG_IGN for handler in seen)


@pytest.mark.parametrize(
    "signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_the_command_exits_128_plus_the_signal(tmp_path, monkeypatch, capsys, signum, code):
    def stopped(*args, **kwargs):
        raise Stopped(signum) if signum != signal.SIGINT else KeyboardInterrupt

    import unetlab.train.resume

    data = write_blobs(tmp_path / "data", 4)
    monkeypatch.setattr(train_mod, "fit", stopped)
    # a last.pt saved at the stop (without one the line says so: test_train_safety)
    monkeypatch.setattr(unetlab.train.resume, "saved_at", lambda run_dir: "step 3")
    argv = ["train", "--data", str(data), "--run-dir", str(tmp_path / "r"), "--no-plan"]
    assert main(argv) == code
    err = capsys.readouterr().err
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    assert f"unetlab train: {how}; saved " in err and "--resume" in err


def test_a_stop_at_an_epochs_end_names_the_point_as_the_resume_and_refusal_do(
    tmp_path, monkeypatch
):
    """A stop at an epoch's end said "at step 2 (epoch 2, batch 0)" where the
    resume's line and the in-use refusal said "step 2, the end of epoch 1" of the same
    last.pt (s51): all three say it one way now."""
    from unetlab.train.resume import saved_at

    cfg = tiny_config(write_blobs(tmp_path / "data", 4), "train.epochs=3")
    _signal_at(monkeypatch, 3, signal.SIGTERM)  # epoch 1's validation: saved at its end
    with pytest.raises(Stopped):
        fit(cfg, run_dir=tmp_path / "cut", progress=False)
    at = saved_at(tmp_path / "cut")
    assert at == "step 2, the end of epoch 1"
    assert f"stopped by SIGTERM at {at}: saved" in (tmp_path / "cut" / "train.log").read_text()


def test_a_stopped_command_says_continue_with_once(tmp_path, monkeypatch, capsys, caplog):
    """SIGTERM to `unetlab train` (one process, or the launcher of --nproc 2: its main
    process says it) printed "continue with: ..." twice, in fit's stop line and again in the
    command's last line (s51 resumelines 2): once on the terminal now, train.log keeping it."""
    import logging

    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "run"
    tiny = ["--no-plan", "--set", "model.depth=2", "--set", "data.tile_size=32", "--epochs", "3"]
    _signal_at(monkeypatch, 4, signal.SIGTERM)
    caplog.set_level(logging.INFO)
    argv = ["train", "--data", str(data), "--run-dir", str(run), *tiny, "--no-progress"]
    assert main(argv) == 143
    said = "\n".join([*(r.getMessage() for r in caplog.records), capsys.readouterr().err])
    assert said.count("continue with") == 1 and "unetlab train: stopped by SIGTERM; saved" in said
    assert "Python" not in said  # on the command line the command alone (s51 lead's re-read)
    assert (run / "train.log").read_text().count("continue with: unetlab train --run-dir") == 1


def test_a_ctrl_c_raises_one_keyboard_interrupt_not_a_chain(tmp_path, monkeypatch):
    """A notebook's Ctrl-C in fit showed two tracebacks, "The above exception was the direct
    cause of the following exception" (s65 notebook walk): a KeyboardInterrupt raised from the
    KeyboardInterrupt of the step boundary. SIGTERM's Stopped is the one made anew."""
    data = write_blobs(tmp_path / "data", 4)
    _signal_at(monkeypatch, 2, signal.SIGINT)
    with pytest.raises(KeyboardInterrupt) as stopped:
        fit(tiny_config(data), run_dir=tmp_path / "run", progress=False)
    assert type(stopped.value) is KeyboardInterrupt
    assert stopped.value.__cause__ is None and stopped.value.__context__ is None
    assert getattr(stopped.value, "resume_said", False)  # the command says no second line
