"""A time-budget run's closing line gives the Python form beside the command (audit s32
notebook 10: a notebook got CLI advice only)."""

from unetlab.train.repeat import clock_free_repeat, describe_repeat


def test_the_repeat_line_names_fit_too(tmp_path):
    repeat = clock_free_repeat(tmp_path / "run", epochs=6, steps=40, per_epoch=8)
    line = describe_repeat(repeat)
    assert "unetlab train --config" in line and "--epochs 6" in line
    assert "(in Python: fit(load_config(" in line and "'train.epochs=6'" in line
    assert f"read_split({str(tmp_path / 'run' / 'split.json')!r})" in line
    assert describe_repeat({k: v for k, v in repeat.items() if k != "python"})  # old records
