"""The command line: every subcommand has help; `python -m unetlab` works; errors are one line."""

import subprocess
import sys

import pytest

from unetlab.cli import COMMANDS, main


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: unetlab" in capsys.readouterr().out


def test_python_m_unetlab():
    out = subprocess.run(
        [sys.executable, "-m", "unetlab", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("unetlab ")


def test_bad_flag_value_exits_non_zero(capsys):
    with pytest.raises(SystemExit) as info:
        main(["summary", "--padding", "reflect"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """``unetlab sizes | head``: no traceback and no "bug in unetlab" when the pipe closes."""
    command = [sys.executable, "-m", "unetlab", "sizes", "--near", "100", "--count", "5000"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.readline()
    child.stdout.close()  # as head does after its lines
    _, err = child.communicate(timeout=60)
    assert child.returncode == 141 and b"bug" not in err and b"Traceback" not in err
