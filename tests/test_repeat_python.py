"""A time-budget run's closing line gives the Python form in Python (audit s32 notebook 10:
a notebook got CLI advice only) and the command on the command line, each alone (s51 lead's
re-read: both were said on either)."""

import shlex
from types import SimpleNamespace

import pytest
import torch

from unetlab import runtime
from unetlab.errors import command_spelling
from unetlab.group import Group
from unetlab.train.log import repeat_nproc, repeat_threads
from unetlab.train.repeat import clock_free_repeat, describe_repeat


def test_the_repeat_line_names_fit_in_python_and_the_command_on_the_command_line(tmp_path):
    repeat = clock_free_repeat(tmp_path / "run", epochs=6, steps=40, per_epoch=8)
    line = describe_repeat(repeat)
    assert "repeatably: fit(load_config(" in line and "'train.epochs=6'" in line
    assert f"read_split({str(tmp_path / 'run' / 'split.json')!r})" in line
    assert "unetlab train" not in line
    with command_spelling():
        line = describe_repeat(repeat)
        old = describe_repeat({k: v for k, v in repeat.items() if k != "python"})
    assert f"repeatably: {repeat['command']} (the learning rate" in line and "fit(" not in line
    assert old == line  # a record from before the Python form
    assert repeat["command"] in describe_repeat({k: v for k, v in repeat.items() if k != "python"})


def test_the_cut_epoch_and_the_clock_are_named_in_the_callers_form(tmp_path):
    repeat = {"steps": 40, "epochs": 8, "steps_of_epochs": 48, "command": "unetlab train ..."}
    line = describe_repeat(repeat | {"python": "fit(...)"})
    assert "cfg.train.epochs = 8 trains 48 steps" in line and "a train.max_minutes run" in line
    assert "--" not in line  # no flag said to Python (s56 new user)
    with command_spelling():
        line = describe_repeat(repeat)
    assert "--epochs 8 trains 48 steps" in line and "a --minutes run is not" in line


@pytest.mark.parametrize(("began", "omp"), [(2, None), (1, "OMP_NUM_THREADS=1")])
def test_a_groups_repeat_is_a_group_of_as_many_on_their_threads(tmp_path, monkeypatch, began, omp):
    """A timed ``--nproc 2`` run (4 CPUs: 2 threads each by default) was to be repeated by
    one process, on 4 threads by default where the group's had 2 (s57 review): other
    batches and another count, so other figures. The repeat is a group of 2 (``--nproc``),
    whose threads are named where each of its processes would get another count; fit under
    torchrun has no Python form, so the command is said in Python too."""
    monkeypatch.setattr(runtime, "available_cpus", lambda: 4)
    monkeypatch.setattr(runtime, "torch_default_threads", lambda *a, **k: 4)
    moves = [(0.0, began, began)]  # the count its steps began on: threads_record's
    watch = SimpleNamespace(moves=moves)
    run = SimpleNamespace(device=torch.device("cpu"), threads_watch=watch, trained_threads=None)
    run.run_dir, run.group = tmp_path / "run", Group(0, 2, active=True, local_size=2)
    assert (repeat_nproc(run), repeat_threads(run)) == (2, None if omp is None else 1)
    repeat = clock_free_repeat(
        run.run_dir, epochs=3, steps=30, per_epoch=10, threads=repeat_threads(run), nproc=2
    )
    words = shlex.split(repeat["command"])
    assert words[-2:] == ["--nproc", "2"] and (words[0] == omp or omp is None), words
    assert "python" not in repeat and f"repeatably: {repeat['command']} (" in describe_repeat(
        repeat
    )
    run.group = Group()  # a plain process on the same count: its own 4 by default
    assert (repeat_nproc(run), repeat_threads(run)) == (1, began)
