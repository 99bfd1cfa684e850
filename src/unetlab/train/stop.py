"""Stopping a run at a step boundary on Ctrl-C, SIGTERM or SIGHUP (:class:`StopRequest`)."""

from __future__ import annotations

import logging
import signal
import threading

from unetlab.distributed import stop_follows_lost_peer
from unetlab.signals import STOP_SIGNALS, Stopped

log = logging.getLogger(__name__)


class StopRequest:
    """Handler of the :data:`STOP_SIGNALS`: the first one lets the current step finish, so
    that the saved weights, BatchNorm statistics and RNG state belong to a step boundary; a
    second stops at once, except in a process of a group (torchrun sends each process the
    signal it got, a terminal or a scheduler may too: the processes stop together at the
    next step). One that comes as another process of the launch ended (torchrun's SIGTERM
    to those left: :func:`~unetlab.distributed.stop_follows_lost_peer`) stops it unsaid: the
    lost process's line says it. A signal the program ignores (``nohup``'s SIGHUP) stays
    ignored; the previous handlers are back when the block ends."""

    def __init__(self, *, at_once: bool = True):
        self.signum: int | None = None
        self.at_once, self._previous = at_once, {}
        # the run is ending on an error, no step to come (:meth:`ending`); a stop said so
        self.erred = self.said_ending = False

    def __call__(self) -> bool:
        return self.signum is not None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def ending(self) -> None:
        """The run is ending on an error (its curves.png drawn before it is raised on, to
        the command's line and a launch's wait for a lost process): a stop signal from now
        to the block's end is said once, as no stop after a step, and raises nothing, the
        error to be said (s69: "SIGINT: stopping after this step", and a second Ctrl-C
        raised in place of the error)."""
        self.erred = True

    def _handle(self, signum, frame) -> None:
        if self.erred:
            if not self.said_ending:
                name = signal.Signals(signum).name
                log.info("%s: the run is already ending, on the error said below", name)
            self.said_ending = True
            return
        if self.signum is not None:
            if self.at_once:
                raise self.interrupt(signum)
            return
        self.signum = signum
        if stop_follows_lost_peer():  # torchrun's SIGTERM: the lost process's line says it
            return
        name = signal.Signals(signum).name
        again = "press Ctrl-C" if signum == signal.SIGINT else f"send {name}"
        again = f" ({again} again to stop at once)" if self.at_once else ""
        log.info("%s: stopping after this step%s", name, again)

    def interrupt(self, signum: int | None = None) -> KeyboardInterrupt:
        """What a stopped run raises: Stopped(signal), or KeyboardInterrupt for Ctrl-C."""
        signum = signum or self.signum
        return KeyboardInterrupt() if signum in (None, signal.SIGINT) else Stopped(signum)

    def describe(self) -> str:
        """``interrupted`` (Ctrl-C), or ``stopped by SIGTERM``."""
        if self.signum in (None, signal.SIGINT):
            return "interrupted"
        return f"stopped by {signal.Signals(self.signum).name}"

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}
