"""Printed paste-back commands (resume, repeat, compare's note, an older run's split line)
start with the program as the user ran it, as config.yaml's recorded command does: a user
whose ``unetlab`` script is not on PATH ran ``python -m unetlab`` and is told ``python3 -m
unetlab train ...``, not a ``unetlab`` their shell does not find."""

import shlex
import sys

import pytest

from unetlab import provenance
from unetlab.compare.table import _note
from unetlab.provenance import command_line
from unetlab.train.folds import folds_resume_command
from unetlab.train.repeat import clock_free_repeat
from unetlab.train.resume import resume_command


def _printed(run):
    class Record:
        status, resumable, path = "killed", True, run

    from unetlab.cli.train import _unrecorded_split

    run.mkdir(parents=True, exist_ok=True)
    (run / "config.yaml").write_text("data:\n  seed: 3\n  val_fraction: 0.25\n")
    split_line = _unrecorded_split(run).split("val_fraction 0.25): ")[1]
    return [
        resume_command(run, 2),
        folds_resume_command(run, 3),
        clock_free_repeat(run, epochs=2, steps=19, per_epoch=12)["command"],
        _note({"run": "a b", "epochs": 3}, Record()).split("go on with: ")[1],
        split_line,
    ]


@pytest.mark.parametrize(
    "argv0", [str(provenance.PACKAGE / "__main__.py"), "/home/me/.venv/bin/unetlab"]
)
def test_printed_commands_start_as_the_recorded_one(tmp_path, monkeypatch, argv0):
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
    monkeypatch.setattr(sys, "argv", [argv0, "train", "--data", "d"])
    recorded = shlex.split(command_line())
    program = recorded[:3] if recorded[0] == "python3" else ["unetlab"]
    assert program == (["python3", "-m", "unetlab"] if argv0.endswith(".py") else ["unetlab"])
    for command in _printed(tmp_path / "runs é" / "a b"):
        words = shlex.split(command.split(" --data DATA")[0])
        assert words[: len(program) + 1] == [*program, "train"], command


def test_nproc_processes_print_the_program_the_user_ran(tmp_path, monkeypatch):
    """torchrun starts --nproc's processes as ``python -m unetlab``: they printed ``python3 -m
    unetlab train ... --resume --nproc 2`` to a user who had typed ``unetlab train``."""
    from unetlab import distributed

    seen = {}

    def run(command, *, env, grace):
        seen.update(env)
        return 0, ()

    monkeypatch.setattr(sys, "argv", ["/home/me/.venv/bin/unetlab", "train", "--nproc", "2"])
    monkeypatch.setattr(distributed, "run_passing_signals", run)
    assert distributed.launch(2, ["train"]) == 0
    monkeypatch.setattr(sys, "argv", [str(provenance.PACKAGE / "__main__.py"), "train"])
    monkeypatch.setenv(provenance.PROGRAM_ENV, seen[provenance.PROGRAM_ENV])
    assert resume_command(tmp_path, 2).startswith("unetlab train ")
    assert shlex.split(command_line())[:2] == ["unetlab", "train"]
