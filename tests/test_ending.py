"""train.log's last line for a run that ended on an error (audit s30 ops 3)."""

from __future__ import annotations

import pytest

import unetlab.train.resume as resume
from unetlab.errors import OutputError, UnetlabError, command_spelling
from unetlab.signals import Stopped

FULL = OutputError("runs/a/checkpoints/best.pt: cannot write it (No space left on device)")


def test_an_error_after_a_checkpoint_names_its_step_and_the_resume(tmp_path, monkeypatch):
    state = {"train_state": {"step": 8, "epoch": 1, "batch": 0}}
    monkeypatch.setattr(resume, "load_checkpoint", lambda path, **how: state)
    line = resume.ending_line(FULL, tmp_path, 2)
    assert line == (
        f"stopped by an error: {FULL}; last.pt holds step 8, the end of epoch 1 (rows of "
        "metrics.csv after it are trained again); continue with: unetlab train --run-dir "
        f"{tmp_path} --resume --nproc 2"
    )
    with resume.caller_says_resume():  # a fold's: fit_folds says how to go on with the folds
        assert resume.ending_line(FULL, tmp_path, 2) == line.split("; continue with")[0]


def test_an_error_before_a_checkpoint_says_start_again(tmp_path):
    line = resume.ending_line(FULL, tmp_path)
    assert line.endswith("no checkpoint was saved: start the run again")


def test_the_error_is_quoted_as_the_console_says_it(tmp_path):
    """s53: a command's train.log quoted the Python form of an error that carries both (the
    NaN loss's "cfg.train.amp = 'off'") where the console said the command line's."""
    both = UnetlabError(
        "loss is nan: try cfg.train.amp = 'off'", cli="loss is nan: try train.amp=off"
    )
    assert "stopped by an error: loss is nan: try cfg.train.amp = 'off'; no" in (
        resume.ending_line(both, tmp_path)
    )
    with command_spelling():  # as the command line runs
        line = resume.ending_line(both, tmp_path)
    assert "stopped by an error: loss is nan: try train.amp=off; no checkpoint" in line


def test_a_bug_is_named_a_bug_and_a_stop_is_no_error(tmp_path):
    line = resume.ending_line(TypeError("bad operand"), tmp_path)
    assert "TypeError: bad operand (a bug in unetlab: its traceback is on stderr)" in line
    assert resume.ending_line(Stopped(15), tmp_path) is None
    assert resume.ending_line(KeyboardInterrupt(), tmp_path) is None


@pytest.mark.parametrize("batch", [0, 3])
def test_saved_at_reads_the_state_of_last_pt(tmp_path, monkeypatch, batch):
    state = {"train_state": {"step": 11, "epoch": 1, "batch": batch}}
    monkeypatch.setattr(resume, "load_checkpoint", lambda path, **how: state)
    said = "the end of epoch 1" if not batch else "epoch 2, batch 3"
    assert resume.saved_at(tmp_path) == f"step 11, {said}"


def test_a_lost_process_and_a_timeout_of_the_group_are_told_apart(tmp_path):
    import torch

    lost = resume.ending_line(RuntimeError("[gloo/pair.cc] Connection closed by peer"), tmp_path)
    assert "a process of the group ended (killed? out of memory?)" in lost
    timeout = RuntimeError("[gloo/unbound_buffer.cc:81] Timed out waiting 1800000ms for recv")
    line = resume.ending_line(timeout, tmp_path)
    assert "may have ended, or a bug left it waiting (its traceback is on stderr)" in line
    bug = resume.ending_line(
        torch.distributed.DistBackendError("NCCL error: invalid usage"), tmp_path
    )
    assert "(a bug in unetlab: its traceback is on stderr)" in bug
