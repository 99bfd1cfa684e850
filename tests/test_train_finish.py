"""A run stopped after its training (in the label offset's measurement) resumes straight to
what follows training: no step more (one at lr 0 still moved the BatchNorm statistics), no
metrics row more, the label offset measured. A stop request during that measurement skips
it (Ctrl-C was announced, then ignored), the checkpoints left as they were."""

import signal

import pytest
import torch

from unetlab.checkpoint import load_checkpoint
from unetlab.train import Stopped, TrainState, fit, fitting, offset, train_one_epoch

from .test_budget import _fake_machine
from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


class _Killed(BaseException):
    """As SIGKILL: nothing of the run's own runs after it."""


#: ends on its time budget (on the fake machine), or at train.epochs
ENDS = {
    # the offset within a fifth; 16 steps an epoch (fewer epoch ends to write than 2)
    "budget": ("train.epochs=1000", "train.max_minutes=0.3", "data.tiles_per_epoch=64"),
    "epochs": ("train.epochs=2",),
}


@pytest.mark.parametrize("end", sorted(ENDS))
def test_a_run_killed_in_the_label_offset_resumes_to_it_without_training(
    tmp_path, monkeypatch, end
):
    data = write_blobs(tmp_path / "data", 6)
    clock = _fake_machine(monkeypatch, 0.1)
    cfg = tiny_config(data, *ENDS[end], "data.val_fraction=0.5", "train.label_offset=fit")
    run = tmp_path / "run"
    with monkeypatch.context() as m:

        def killed(*args, **kwargs):
            raise _Killed

        m.setattr(fitting, "fit_label_offset", killed)
        with pytest.raises(_Killed):
            fit(cfg, run_dir=run, progress=False, clock=clock)
    rows = (run / "metrics.csv").read_text()
    before = load_checkpoint(run / "checkpoints" / "last.pt")
    result = fit(cfg, run_dir=run, resume=True, progress=False, clock=clock)
    after = load_checkpoint(run / "checkpoints" / "last.pt")
    assert (run / "metrics.csv").read_text() == rows
    assert result["steps"] == after["train_state"]["step"] == before["train_state"]["step"]
    for key, value in before["model"].items():  # BatchNorm's running statistics too
        assert torch.equal(value, after["model"][key]), key
    log = (run / "train.log").read_text()
    assert "training had ended (epoch " in log
    assert (run / "label_offset.json").is_file() and after["label_offset"] is not None


def test_an_epoch_whose_budget_is_spent_takes_no_step():
    """A run stopped in the very step that spent its budget resumes mid-epoch: the epoch
    ends (validation, its row) without another step."""
    model = torch.nn.Conv2d(1, 2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batch = (torch.zeros(1, 1, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long), torch.ones(1, 4, 4))
    state = TrainState(epoch=3, step=7, batch=2, loss_sum=1.5)

    def loss(logits, target, weight):
        raise AssertionError("a step was taken")

    train_one_epoch(
        model, [batch], optimizer, loss, state, device=torch.device("cpu"), until=lambda: True
    )
    assert (state.step, state.batch, state.loss_sum) == (7, 2, 1.5)


def _signal_in(monkeypatch, name: str, signum: int) -> dict:
    """Send ``signum`` to this process in the label offset's first call of ``name``
    (``predict_tensor``: predicting the validation images, ``estimate_offset``: the search);
    returns the bytes of the checkpoints as the measurement began."""
    real_fit, real = fitting.fit_label_offset, getattr(offset, name)
    seen = {}

    def fit_label_offset(cfg, run_dir, **kw):
        for checkpoint in ("best.pt", "last.pt"):
            seen[checkpoint] = (run_dir / "checkpoints" / checkpoint).read_bytes()
        return real_fit(cfg, run_dir, **kw)

    def signalling(*args, **kw):
        if seen and not seen.get("sent"):
            seen["sent"] = True
            signal.raise_signal(signum)
        return real(*args, **kw)

    monkeypatch.setattr(fitting, "fit_label_offset", fit_label_offset)
    monkeypatch.setattr(offset, name, signalling)
    return seen


@pytest.mark.parametrize(
    "name, signum", [("predict_tensor", signal.SIGINT), ("estimate_offset", signal.SIGTERM)]
)
def test_a_stop_in_the_label_offset_skips_it_and_a_resume_measures_it(
    tmp_path, monkeypatch, name, signum
):
    data = write_blobs(tmp_path / "data", 6)
    cfg = tiny_config(data, "data.val_fraction=0.5", "train.label_offset=fit")
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        before = _signal_in(m, name, signum)
        with pytest.raises(Stopped if signum != signal.SIGINT else KeyboardInterrupt):
            fit(cfg, run_dir=run, progress=False)
    log = (run / "train.log").read_text()
    said = "label offset: not measured (stopped); the same fit(...) with resume=True measures it"
    assert said in log  # fit in a notebook (s53: it was told train --resume)
    assert "done: best checkpoint" not in log and not (run / "label_offset.json").exists()
    for checkpoint in ("best.pt", "last.pt"):
        assert (run / "checkpoints" / checkpoint).read_bytes() == before[checkpoint]
    rows = (run / "metrics.csv").read_text()
    result = fit(cfg, run_dir=run, resume=True, progress=False)
    assert result["label_offset"] is not None and (run / "label_offset.json").is_file()
    assert (run / "metrics.csv").read_text() == rows
