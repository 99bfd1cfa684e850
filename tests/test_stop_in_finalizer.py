"""A stop signal that lands while Python runs a finalizer (a ``__del__``, a weakref's
callback such as logging's ``_removeHandlerRef``) is swallowed there and printed as
"Exception ignored in ..." with a traceback; within ``stop_raises`` it is raised again where
the command's code runs, and not printed (s53 CI: a SIGTERM in logging's callback)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from unetlab.signals import Stopped, stop_raises


class _StoppedAsItEnds:
    """An object whose finalizer the signal lands in."""

    def __init__(self, signum: int):
        self.signum = signum

    def __del__(self):
        signal.raise_signal(self.signum)  # the handler raises here, inside __del__


def _spin() -> None:
    """Bytecodes, where a pending signal is raised: up to 5 s (it comes within milliseconds)."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_that_lands_in_a_finalizer_is_raised_where_the_code_runs(signum, capfd):
    with pytest.raises(KeyboardInterrupt) as raised, stop_raises():
        _StoppedAsItEnds(signum)  # CPython runs __del__ at once
        _spin()
    assert getattr(raised.value, "signum", signal.SIGINT) == signum
    assert isinstance(raised.value, Stopped) == (signum != signal.SIGINT)
    assert "Exception ignored" not in capfd.readouterr().err


def test_other_exceptions_of_finalizers_still_go_to_the_hook_and_it_is_put_back(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)

    class Broken:
        def __del__(self):
            raise ValueError("a finalizer's bug")

    with stop_raises():
        Broken()
    assert [type(u.exc_value) for u in seen] == [ValueError]
    assert sys.unraisablehook == seen.append


def test_a_hook_the_caller_sets_within_a_call_is_kept_as_it_ends(monkeypatch):
    """s64 review: a ``sys.unraisablehook`` set during a Python call (``stop_line_said``,
    ``stop_raises``) was replaced by the one before as the call ended."""
    from unetlab.signals import stop_line_said

    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # put back after the test
    seen = []
    with stop_line_said():
        sys.unraisablehook = seen.append
    assert sys.unraisablehook == seen.append
    with stop_raises():
        sys.unraisablehook = print
    assert sys.unraisablehook is print


SIGNALS = Path(__file__).resolve().parents[1] / "src" / "unetlab" / "signals.py"
#: a child that loads signals.py alone (no torch: a fraction of a second), a stop landing
#: in a finalizer, then BODY
CHILD = f"""
import importlib.util, signal, sys, time
spec = importlib.util.spec_from_file_location("signals", {str(SIGNALS)!r})
signals = importlib.util.module_from_spec(spec)
spec.loader.exec_module(signals)

class Late:
    def __del__(self):
        signal.raise_signal(signal.SIGTERM)

try:
BODY
except signals.Stopped:
    print("stopped")
    sys.exit(143)
print("ran on")
"""


@pytest.mark.parametrize(
    "body",
    [
        "    with signals.stop_raises():\n        Late()\n        time.sleep(60)\n",  # blocked
        "    with signals.stop_raises():\n        Late()\n    time.sleep(5)\n",  # block ended
    ],
    ids=["blocked-in-the-block", "as-the-block-ends"],
)
def test_a_stop_from_a_finalizer_wakes_a_blocked_call_and_is_not_lost_as_the_block_ends(body):
    """The stop was passed on as the signal's flag alone: a sleep or a lock in the main
    thread went on to its end, and once the block had ended (SIGTERM back to SIG_DFL) the
    flag did nothing: the command ran on and exited 0 (review s53)."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD.replace("BODY\n", body)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "ran on" not in child.stdout
    assert child.returncode in (143, -signal.SIGTERM), (child.returncode, child.stderr)
    assert "Exception ignored" not in child.stderr


def test_a_block_outside_the_main_thread_leaves_the_hook_alone():
    """As the handlers: two blocks of cli.main run in threads, overlapping, put the hooks
    back in the wrong order and left the stop's hook installed (review s53)."""
    hooks = []

    def block():
        with stop_raises():
            hooks.append(sys.unraisablehook)

    before = sys.unraisablehook
    thread = threading.Thread(target=block)
    thread.start()
    thread.join()
    assert hooks == [before]


def _signalled(signum: int) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.05)  # the handler runs


def test_a_launchers_copy_of_a_stop_is_dropped_and_the_handlers_are_back_after(monkeypatch):
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "launched")  # a process torchrun started
    ignored = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with stop_raises():
            with pytest.raises(Stopped):
                _signalled(signal.SIGTERM)
            _signalled(signal.SIGTERM)  # the copy: dropped, nothing raised
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            with pytest.raises(KeyboardInterrupt):
                _signalled(signal.SIGINT)  # another signal: a stop
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGHUP, ignored)


@pytest.mark.parametrize("launched", [True, False])
def test_the_same_stop_again_stops_after_the_window_or_outside_a_launch(monkeypatch, launched):
    """Review s57: a second Ctrl-C must not wait out a count of minutes on a network share;
    outside a launch no copy comes, and a second within the window is the user's."""
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    monkeypatch.delenv("UNETLAB_STATUS_FILE", raising=False)
    if launched:
        monkeypatch.setenv("TORCHELASTIC_RUN_ID", "launched")
        monkeypatch.setattr("unetlab.signals.COPY_WITHIN_S", 0.0)
    with stop_raises():
        for _ in range(2):
            with pytest.raises(Stopped):
                _signalled(signal.SIGTERM)


def test_a_callers_own_handler_stays_within_stop_raises():
    seen = []
    theirs = signal.signal(signal.SIGTERM, lambda *_: seen.append(1))
    try:
        with stop_raises():
            _signalled(signal.SIGTERM)
        assert seen == [1]
    finally:
        signal.signal(signal.SIGTERM, theirs)


def test_a_new_command_s_stop_is_no_copy_of_an_earlier_one():
    for _ in range(2):
        with stop_raises(), pytest.raises(Stopped):
            _signalled(signal.SIGTERM)


@pytest.mark.parametrize("within", ["stop_raises", "stop_line_said"])
def test_a_callers_own_handler_that_raises_in_a_finalizer_runs_once(within, capfd):
    """s65: a caller's own SIGINT handler that raises (a KeyboardInterrupt of its own),
    swallowed by a finalizer, ran twice: the signal sent again to raise it where the code
    runs called that handler again (a press counted twice, a save made twice). It runs
    once; what it raised is raised where the code runs."""
    from unetlab import signals

    calls = []

    class Theirs(KeyboardInterrupt):
        pass

    def theirs(_signum, _frame):
        calls.append(1)
        raise Theirs()

    before = signal.signal(signal.SIGINT, theirs)
    try:
        with pytest.raises(Theirs), getattr(signals, within)():
            _StoppedAsItEnds(signal.SIGINT)
            _spin()
        time.sleep(0.1)  # a second call, had the signal come again, runs by now
        assert calls == [1]
        assert signal.getsignal(signal.SIGINT) is theirs  # theirs still, after
    finally:
        signal.signal(signal.SIGINT, before)
    assert "Exception ignored" not in capfd.readouterr().err
