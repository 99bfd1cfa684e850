"""The line a time-budget run ends with says 1 step, 1 epoch (audit s33 readme3 8)."""

from unetlab.train.repeat import describe_repeat


def test_one_step_and_one_epoch_are_singular():
    repeat = {"steps": 1, "epochs": 1, "steps_of_epochs": 4, "command": "unetlab train ..."}
    line = describe_repeat(repeat)
    assert line.startswith("this run on the clock trained 1 step, 1 epoch (its last epoch cut")
    repeat |= {"steps": 8, "epochs": 2, "steps_of_epochs": 8}
    assert describe_repeat(repeat).startswith("this run on the clock trained 8 steps, 2 epochs;")
