"""The signals that stop a command: Ctrl-C (SIGINT), ``kill`` (SIGTERM: a scheduler's time
limit, a shutdown, a launcher passing a stop on) and a closed terminal (SIGHUP).

Python turns only SIGINT into an exception; SIGTERM and SIGHUP end the process at once,
without its ``finally`` blocks (no temporary file removed, no line said) and, in a process
that torchrun started, with pages of torchrun's report. Within :func:`stop_raises` they
raise :class:`Stopped` instead, as SIGINT raises KeyboardInterrupt; training installs its
own handlers on top (it finishes the step and saves first: ``unetlab.train``). Before a
command runs, while its modules load, Ctrl-C ends the process at once
(:func:`interrupt_exits`)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import NoReturn

#: the signals that stop a command, in the order their names are tried on this platform
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stopped(KeyboardInterrupt):
    """A command stopped by SIGTERM or SIGHUP (SIGINT, Ctrl-C, stays a plain
    KeyboardInterrupt): ``signum`` gives the command's exit status, 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop_status(exc: KeyboardInterrupt) -> tuple[str, int]:
    """How a command stopped by ``exc`` ends: (``interrupted`` or ``stopped by SIGTERM``,
    the shell's exit status 128 + the signal)."""
    signum = getattr(exc, "signum", signal.SIGINT)
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    return how, 128 + signum


def _raise_stopped(signum, _frame):
    raise Stopped(signum)


@contextlib.contextmanager
def stop_raises() -> Iterator[None]:
    """Within: SIGTERM and SIGHUP raise :class:`Stopped` (outside the main thread, where no
    handler can be set, nothing changes). A signal ignored (``nohup``'s SIGHUP) or handled by
    the caller stays so; the previous handlers are back when the block ends."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            if signum != signal.SIGINT and signal.getsignal(signum) is signal.SIG_DFL:
                previous[signum] = signal.signal(signum, _raise_stopped)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def interrupt_exits() -> Iterator[None]:
    """Within: Ctrl-C ends the process at once, one line (``unetlab: interrupted``) and
    status 130, as a command interrupted later ends. For the imports before a command runs:
    a KeyboardInterrupt raised inside torch's or numpy's import leaves them half-initialised
    (a traceback, then "cannot load module more than once", or an abort from pybind11: seen
    in 1 of 30 interrupted starts each), and one inside any import shows a traceback.
    Nothing is written yet, so there is nothing to clean up. A Ctrl-C ignored (a background
    job) or handled by the caller stays so; Python's own handler is back when it ends."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, _exit_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


#: set in each process of a ``--nproc N`` launch (``unetlab.distributed.STATUS_FILE``)
LAUNCHED_ENV = "UNETLAB_STATUS_FILE"


def exit_interrupted() -> NoReturn:
    """End the process as an interrupted start does: ``unetlab: interrupted``, status 130.
    A process of a ``--nproc N`` launch ends without the line: the launcher passed the
    Ctrl-C on to each of them and says it once (``unetlab predict: interrupted``)."""
    if LAUNCHED_ENV not in os.environ:
        os.write(sys.stderr.fileno(), b"unetlab: interrupted\n")
    os._exit(130)


def _exit_interrupted(_signum, _frame) -> NoReturn:
    exit_interrupted()
