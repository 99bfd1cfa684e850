"""The command line: every subcommand has help; `python -m unetlab` works; errors are one line."""

import signal
import subprocess
import sys

import pytest

import unetlab.cli
import unetlab.signals
from unetlab.cli import COMMANDS, main


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: unetlab" in out
    assert max(map(len, out.splitlines())) <= 100  # epilogs written as shown fit too


@pytest.mark.parametrize("command", [c for c in ("predict", "evaluate") if c in COMMANDS])
def test_the_channel_help_says_channel_or_bands(command, capsys, monkeypatch):
    """It said "the channel(s) the model was trained on" (s58)."""
    monkeypatch.setenv("COLUMNS", "1000")  # one line a flag
    with pytest.raises(SystemExit):
        main([command, "--help"])
    (line,) = [
        ln for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("--channel C")
    ]
    assert "(s)" not in line and "the channel or the bands the model was trained on" in line


def test_python_m_unetlab():
    out = subprocess.run(
        [sys.executable, "-m", "unetlab", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("unetlab ")


def test_a_file_name_starting_with_a_dash_is_named_with_the_fix(tmp_path, monkeypatch, capsys):
    """Audit s37 paths: ``--input -ctrl.png`` was argparse's 'expected at least one
    argument'; the line names the file and the ./ spelling, which works."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-ctrl.png").write_bytes(b"")
    for argv in (["--input", "-ctrl.png"], ["--input", "a.png", "-ctrl.png"]):
        with pytest.raises(SystemExit) as info:
            main(["predict", "--checkpoint", "m.pt", *argv])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "-ctrl.png: a file name starting with '-' reads as a flag" in err
        assert "give it as ./-ctrl.png" in err
    # spelled ./-ctrl.png it is read (then the missing checkpoint is what is wrong)
    assert main(["predict", "--checkpoint", "m.pt", "--input", "./-ctrl.png", "--output", "o"]) == 2
    err = capsys.readouterr().err
    assert "reads as a flag" not in err and "m.pt" in err


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


# Ctrl-C as the console script starts: SIGINT sent when the command first imports torch
_CTRL_C_AS_TORCH_IMPORTS = """
import importlib.abc, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's (not a background job's)

class CtrlC(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["unetlab", "sizes", "--near", "100"]
from unetlab.cli import run
run()
"""


def test_ctrl_c_while_torch_imports_ends_in_one_line():
    command = [sys.executable, "-c", _CTRL_C_AS_TORCH_IMPORTS]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stderr, run.stdout) == (130, "unetlab: interrupted\n", "")


def test_ctrl_c_after_the_imports_is_a_keyboard_interrupt_again():
    """main's own handler names the command; an ignored Ctrl-C (a background job) stays so."""
    before = signal.getsignal(signal.SIGINT)
    try:
        for handler in (signal.default_int_handler, signal.SIG_IGN):
            signal.signal(signal.SIGINT, handler)
            with unetlab.signals.interrupt_exits():
                pass
            assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, before)


_HELP_WITHOUT_TORCH = """
import contextlib, io, sys
from unetlab.cli import COMMANDS, main
for argv in (["--help"], *([name, "--help"] for name in COMMANDS)):
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        main(argv)
print("torch" in sys.modules)
"""


def test_the_help_of_every_command_does_not_wait_for_torch():
    """``unetlab CMD --help`` in a fraction of a second: torch (2-4 s to load) is imported
    only once the command runs."""
    run = subprocess.run(
        [sys.executable, "-c", _HELP_WITHOUT_TORCH], capture_output=True, text=True, timeout=120
    )
    assert (run.returncode, run.stdout.strip()) == (0, "False"), run.stderr


# SIGTERM (or SIGHUP) while a command runs: sent when it first imports the U-Net module
_KILL_WHILE_RUNNING = """
import importlib.abc, os, signal, sys
signal.signal(signal.SIG{name}, signal.SIG_DFL)  # not ignored, as under nohup (kept so)

class Kill(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "unetlab.models.unet":
            os.kill(os.getpid(), signal.SIG{name})
        return None

sys.meta_path.insert(0, Kill())
sys.argv = ["unetlab", "sizes", "--near", "100"]
from unetlab.cli import run
run()
"""


@pytest.mark.parametrize("name, code", [("TERM", 143), ("HUP", 129)])
def test_a_command_stopped_by_kill_says_so_in_one_line(name, code):
    """``kill`` ended a command at once: no ``finally`` ran (its temporaries stayed), no
    word said, and torchrun printed pages for a launched one. Now as Ctrl-C: one line."""
    script = _KILL_WHILE_RUNNING.replace("{name}", name)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (run.returncode, run.stderr) == (code, f"unetlab sizes: stopped by SIG{name}\n")


def test_debug_is_accepted_after_the_command_too(capsys):
    """``unetlab evaluate ... --debug`` (where users put it) was an unrecognised argument."""
    from unetlab.errors import UnetlabError

    assert main(["sizes", "--count", "0"]) == 2
    with pytest.raises(UnetlabError):
        main(["sizes", "--count", "0", "--debug"])
    with pytest.raises(UnetlabError):
        main(["--debug", "sizes", "--count", "0"])


@pytest.mark.parametrize("count", ["100000000", "0", "-3"])
def test_sizes_count_out_of_range_is_one_line(capsys, count):
    """--count 100000000 ran for over 9 minutes and took 4.7 GB."""
    assert main(["sizes", "--count", count]) == 2
    err = capsys.readouterr().err
    assert err == f"unetlab sizes: error: --count must be in 1..10000, not {count}\n"


@pytest.mark.parametrize("rank, lines", [(None, 1), ("0", 1), ("1", 0)])
def test_an_interrupt_is_said_by_the_main_process_only(monkeypatch, capsys, rank, lines):
    """``predict --nproc 2`` stopped by Ctrl-C said ``interrupted`` once per process."""
    import unetlab.cli.sizes

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(unetlab.cli.sizes, "run", interrupted)
    if rank is None:
        monkeypatch.delenv("RANK", raising=False)
    else:
        monkeypatch.setenv("RANK", rank)
    assert main(["sizes"]) == 130
    assert capsys.readouterr().err.count("unetlab sizes: interrupted\n") == lines


@pytest.mark.parametrize("command", ["train", "demo"])
@pytest.mark.parametrize("value", ["-1", "inf", "nan"])
def test_a_bad_minutes_is_named_by_the_flag_typed(command, value, capsys, tmp_path):
    """'train --minutes -1' said 'train.max_minutes must be >= 0': a key the user never
    typed; the flag is named (the key still where --set or a config file gave it)."""
    with pytest.raises(SystemExit) as info:
        main(
            [
                command,
                "--minutes",
                value,
                "--output" if command == "demo" else "--data",
                str(tmp_path),
            ]
        )
    err = capsys.readouterr().err
    assert info.value.code == 2 and "argument --minutes:" in err and "max_minutes" not in err
    assert len(err.strip().splitlines()[-1]) < 200
