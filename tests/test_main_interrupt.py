"""Ctrl-C while the ``unetlab`` command's modules load (before the command runs) ends in one
line and status 130, as it does later, not in a traceback (carried since stop 26)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from unetlab.signals import interrupt_exits

# Ctrl-C sent as the command line's own modules start to load: the first of unetlab.cli's
# imports that is unetlab's (the stdlib ones before it may be loaded already)
_CTRL_C_AS_THE_CLI_LOADS = """
import importlib.abc, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's

class CtrlC(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "unetlab.data.read_notes":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["unetlab", "sizes", "--near", "100"]
{entry}
"""

ENTRIES = {
    "console script": "from unetlab.__main__ import main; main()",
    "python -m unetlab": "import runpy; runpy.run_module('unetlab', run_name='__main__')",
}


@pytest.mark.parametrize("entry", ENTRIES.values(), ids=ENTRIES.keys())
def test_ctrl_c_while_the_command_line_loads_ends_in_one_line(entry):
    script = _CTRL_C_AS_THE_CLI_LOADS.replace("{entry}", entry)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stderr, run.stdout) == (130, "unetlab: interrupted\n", "")


def test_the_entry_runs_the_command():
    run = subprocess.run(
        [sys.executable, "-c", ENTRIES["console script"], "sizes", "--near", "188"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and run.stdout.startswith("  input  output"), run.stderr


def test_the_guard_gives_ctrl_c_back_and_leaves_an_ignored_one_ignored():
    """After the imports the command's own handler names it (``unetlab sizes:
    interrupted``); a background job's ignored Ctrl-C stays ignored."""
    before = signal.getsignal(signal.SIGINT)
    try:
        for handler in (signal.default_int_handler, signal.SIG_IGN):
            signal.signal(signal.SIGINT, handler)
            with interrupt_exits():
                inside = signal.getsignal(signal.SIGINT)
            assert (inside is handler) == (handler is signal.SIG_IGN)
            assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, before)


# a stop signal sent as torch starts to load (``main``'s import of it, before the command
# runs): ``kill PID`` of a ``unetlab predict`` that has just started
_SIGNAL_AS_TORCH_LOADS = """
import importlib.abc, os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)

class Stop(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "{module}":
            os.kill(os.getpid(), signal.{signal})
        return None

sys.meta_path.insert(0, Stop())
sys.argv = ["unetlab", "predict", "--checkpoint", "m.pt", "--input", "in", "--output", "o"]
from unetlab.__main__ import main; main()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("module", ["torch", "unetlab.distributed"])
@pytest.mark.parametrize(
    "name, said",
    [("SIGTERM", "stopped by SIGTERM"), ("SIGHUP", "stopped by SIGHUP"), ("SIGINT", "interrupted")],
)
def test_a_stop_signal_while_torch_loads_ends_in_one_line(name, said, module):
    """SIGTERM to ``unetlab predict`` as it imported torch ended it without a word (status
    143, s49 nprocedge 2); now as Ctrl-C there does, and until the command's own handlers
    take over (``unetlab.distributed``: loaded after torch, before them)."""
    script = _SIGNAL_AS_TORCH_LOADS.replace("{signal}", name).replace("{module}", module)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    code = 128 + getattr(signal, name)
    assert (run.returncode, run.stderr, run.stdout) == (code, f"unetlab: {said}\n", "")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_the_guard_gives_sigterm_back_and_leaves_an_ignored_sighup_ignored():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup
        with interrupt_exits():
            inside = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
        assert inside[0] is not signal.SIG_DFL and inside[1] is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGHUP, before[1])


def test_the_command_runs_in_a_thread(tmp_path, capsys):
    """``unetlab.cli.main`` called outside the main thread, where no signal handler can be
    set, runs its command: it died with signal's ValueError (s49 review)."""
    import threading

    from unetlab.cli import main

    out = {}
    missing = str(tmp_path / "missing")

    def command():
        try:
            out["status"] = main(["evaluate", "--pred", missing, "--gt", missing])
        except BaseException as exc:  # noqa: BLE001 - the test reports what escaped
            out["status"] = repr(exc)

    thread = threading.Thread(target=command)
    thread.start()
    thread.join()
    assert out["status"] == 2
    assert "no such" in capsys.readouterr().err  # the --pred or --gt folder, one line
