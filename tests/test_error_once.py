"""``--nproc N``: a user error's one line is printed once, not by each of the N processes
(s37 leftovers: ``unetlab predict --nproc 2 --input nothere`` printed it twice); a line
only one process meets is still printed, and outside a launch each process says its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from unetlab.cli import main
from unetlab.distributed import STATUS_FILE, available_cpus


def _missing(tmp_path, name):
    given = ["--input", str(tmp_path / name), "--output", str(tmp_path / "out")]
    return ["predict", "--checkpoint", str(tmp_path / "m.pt"), *given]


def test_the_processes_of_a_launch_say_one_error_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(STATUS_FILE, str(tmp_path / "status"))  # as launch gives each process
    assert main(_missing(tmp_path, "nothere")) == 2  # the main process, or the first
    assert "error: " in capsys.readouterr().err
    assert main(_missing(tmp_path, "nothere")) == 2  # another process of the launch
    assert capsys.readouterr().err == ""
    assert main(_missing(tmp_path, "other")) == 2  # a line the first did not say
    assert "other: no such file or folder" in capsys.readouterr().err


def test_outside_a_launch_every_run_says_its_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(STATUS_FILE, raising=False)
    for _ in range(2):
        assert main(_missing(tmp_path, "nothere")) == 2
        assert "nothere: no such file or folder" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(available_cpus() < 2, reason="--nproc 2 on the CPU takes 2 CPUs")
def test_nproc_2_says_a_bad_input_once(tmp_path):
    """End to end through torchrun (about 20 s: it starts two processes)."""
    command = [sys.executable, "-m", "unetlab", *_missing(tmp_path, "nothere"), "--nproc", "2"]
    command += ["--device", "cpu"]  # gloo on the CPU: one GPU refuses --nproc 2 before the input
    out = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("nothere: no such file or folder") == 1, out.stderr


def _a_bug(message):
    def run(args):
        raise RuntimeError(message)

    return run


def test_a_bug_the_processes_share_is_shown_once_another_too(tmp_path, monkeypatch, capsys):
    """A bug's traceback and its 'this is a bug' line: once when each process of the launch
    meets the same (printed by every process before), each one met in one process only too."""
    import unetlab.cli.predict as predict

    monkeypatch.setenv(STATUS_FILE, str(tmp_path / "status"))  # as launch gives each process
    monkeypatch.setattr(predict, "run", _a_bug("the same in each"))
    for first in (True, False):  # the first process of the launch, then another
        assert main(_missing(tmp_path, "x")) == 1
        err = capsys.readouterr().err
        assert ("RuntimeError: the same in each" in err) is first, err
        assert ("this is a bug in unetlab" in err) is first, err
    monkeypatch.setattr(predict, "run", _a_bug("rank 1 only"))
    assert main(_missing(tmp_path, "x")) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: rank 1 only" in err and "this is a bug in unetlab" in err


def test_outside_a_launch_every_run_shows_its_bug(tmp_path, monkeypatch, capsys):
    import unetlab.cli.predict as predict

    monkeypatch.delenv(STATUS_FILE, raising=False)
    monkeypatch.setattr(predict, "run", _a_bug("a bug"))
    for _ in range(2):
        assert main(_missing(tmp_path, "x")) == 1
        assert "RuntimeError: a bug" in capsys.readouterr().err
