"""A run resumed with fewer epochs (train.epochs) than its last.pt has trained trained
nothing, laid its cosine over a length it had passed ('it now ends at step 2 (lr 0 at step
4)'), logged 'training 1 epochs' and 'continuing at epoch 3', wrote train.epochs 1 into its
config.yaml over the 2 it trained, and returned epochs 2: from Python, silently. train.epochs
may change on resume to lengthen (or end) a run; below what is done it is refused in one
line, before the run's files change."""

import logging

import pytest

from tests.test_train import tiny_config, write_blobs
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def test_fewer_epochs_than_done_is_refused_and_as_many_end_the_run(tmp_path, capsys):
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, progress=False)
    files = {p.name: p.read_bytes() for p in (run / "config.yaml", run / "checkpoints" / "last.pt")}
    fewer = (
        f"train.epochs 1 is fewer than the 2 epochs {run / 'checkpoints' / 'last.pt'} has "
        r"trained: resume with train.epochs 2 \(--epochs 2\) to end the run there, or more"
    )
    with pytest.raises(UnetlabError, match=fewer):
        fit(tiny_config(data, "train.epochs=1"), run_dir=run, resume=True, progress=False)
    assert {
        p.name: p.read_bytes() for p in (run / "config.yaml", run / "checkpoints" / "last.pt")
    } == files
    argv = ["train", "--run-dir", str(run), "--resume", "--epochs", "1", "--no-progress"]
    assert main(argv) == 2
    assert "train.epochs 1 is fewer than the 2 epochs" in capsys.readouterr().err
    same = fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    assert same["epochs"] == 2


def test_a_finished_run_resumed_with_fewer_epochs_says_the_refusal_alone(tmp_path, caplog):
    """It said 'training had ended (epoch 2, step 2): finishing the run', then refused (s67
    review): the refusal comes before any line, and before the data loads."""
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, progress=False)
    caplog.clear()
    fewer = pytest.raises(UnetlabError, match="train.epochs 1 is fewer than the 2 epochs")
    with caplog.at_level(logging.INFO, logger="unetlab"), fewer:
        fit(tiny_config(data, "train.epochs=1"), run_dir=run, resume=True, progress=False)
    assert caplog.messages == []


def test_a_run_stopped_in_an_epoch_counts_that_epoch(tmp_path):
    """Stopped in its 7th epoch (6 done, batch 3): 6 would drop the steps of the 7th."""
    from unetlab.train.resume import refuse_fewer_epochs

    state = {"epoch": 6, "batch": 3, "step": 15}
    with pytest.raises(UnetlabError, match=r"fewer than the 7 epochs .* \(the last in part\)"):
        refuse_fewer_epochs(state, 6, tmp_path / "last.pt")
    refuse_fewer_epochs(state, 7, tmp_path / "last.pt")  # ends the 7th
    refuse_fewer_epochs(state | {"batch": 0}, 6, tmp_path / "last.pt")
