"""A time-budget run's closing line gives the Python form in Python (audit s32 notebook 10:
a notebook got CLI advice only) and the command on the command line, each alone (s51 lead's
re-read: both were said on either)."""

from unetlab.errors import command_spelling
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
