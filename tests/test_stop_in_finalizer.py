"""A stop signal that lands while Python runs a finalizer (a ``__del__``, a weakref's
callback such as logging's ``_removeHandlerRef``) is swallowed there and printed as
"Exception ignored in ..." with a traceback; within ``stop_raises`` it is raised again where
the command's code runs, and not printed (s53 CI: a SIGTERM in logging's callback)."""

import signal
import sys
import time

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
