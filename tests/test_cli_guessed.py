"""A command users guess is refused naming the one that does it (audit s34 messy 12)."""

from __future__ import annotations

import pytest

from unetlab.cli import main


@pytest.mark.parametrize("argv", [["check", "--data", "d"], ["--debug", "check"]])
def test_check_points_to_train_check(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "'check' is not a command: use unetlab train --data DIR --check" in err


def test_a_folder_named_check_is_no_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "check", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert info.value.code == 2
