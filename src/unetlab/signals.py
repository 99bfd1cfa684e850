"""The signals that stop a command: Ctrl-C (SIGINT), ``kill`` (SIGTERM: a scheduler's time
limit, a shutdown, a launcher passing a stop on) and a closed terminal (SIGHUP).

Python turns only SIGINT into an exception; SIGTERM and SIGHUP end the process at once,
without its ``finally`` blocks (no temporary file removed, no line said) and, in a process
that torchrun started, with pages of torchrun's report. Within :func:`stop_raises` they
raise :class:`Stopped` instead, as SIGINT raises KeyboardInterrupt; training installs its
own handlers on top (it finishes the step and saves first: ``unetlab.train``). Before a
command runs, while its modules load, each ends the process at once in one line
(:func:`interrupt_exits`)."""

from __future__ import annotations

import _thread
import contextlib
import contextvars
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
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


class CallerSays:
    """A line that the outermost call says, none of the calls it makes (a context
    variable: per thread, per asyncio task): a stop's (:func:`stop_line_said`), how a
    stopped fit goes on (a fold's: ``unetlab.train.resume.caller_says_resume``), a stopped
    run's last.pt loaded (the napari widget's: ``unetlab.checkpoint.unfinished_said_by_caller``)."""

    def __init__(self, name: str):
        self._within = contextvars.ContextVar(name, default=False)

    def by_caller(self) -> bool:
        """Whether a caller of the call running says the line (it is :meth:`within`)."""
        return self._within.get()

    @contextlib.contextmanager
    def within(self, *, main: bool = True) -> Iterator[bool]:
        """Within: the calls made say no line, this call's caller or this call does. Yields
        whether this call says it: no caller does, and ``main`` (the main process of its
        group; the others say none)."""
        says = main and not self._within.get()
        token = self._within.set(True)
        try:
            yield says
        finally:
            self._within.reset(token)


#: the stop's line (:func:`stop_line_said`)
_STOP_LINE = CallerSays("unetlab_caller_says_stop")


@contextlib.contextmanager
def stop_line_said(*, main: bool = True) -> Iterator[bool]:
    """Within: a stop (Ctrl-C, SIGTERM) is said in one line by the outermost call, none of
    the calls it makes: the command line (``unetlab predict``), a tree over its folders, a
    folder over its files (a warm-up's too), else the ``predict_file`` stopped (a loop of
    the user's own). Yields whether this call says it (:meth:`CallerSays.within`). A Ctrl-C
    that a finalizer swallowed is raised again (:func:`finalizer_stops_raised`): a Python
    call, outside the command line's :func:`stop_raises`, ran on to its end (s64)."""
    with _STOP_LINE.within(main=main) as says, finalizer_stops_raised():
        yield says


@contextlib.contextmanager
def stop_said(say: Callable[[KeyboardInterrupt], None], *, main: bool = True) -> Iterator[None]:
    """Within: a stop (Ctrl-C, SIGTERM) raised as it was, its line said first by
    ``say(exc)`` where this call is the one that says it (:func:`stop_line_said`): a tree's,
    a folder's or a ``predict_file``'s in a notebook cell (a bare KeyboardInterrupt there,
    review of s62 user)."""
    with stop_line_said(main=main) as says:
        try:
            yield
        except KeyboardInterrupt as exc:
            if says:
                say(exc)
            raise


def stop_signal(code: int) -> int | None:
    """The stop signal whose shell exit status is ``code`` (128 + the signal: 130 for SIGINT,
    143 SIGTERM, 129 SIGHUP), or None where ``code`` says no stop."""
    signum = code - 128
    return signum if signum in STOP_SIGNALS else None


#: how long after a stop the same signal again is a launcher's copy of it, dropped
#: (:func:`_raise_stopped`), not the user's second stop
COPY_WITHIN_S = 2.0

#: when :func:`_raise_stopped` last raised each signal as a stop (time.monotonic)
_RAISED: dict[int, float] = {}


def _raise_stopped(signum, _frame):
    """A stop signal within :func:`stop_raises`, raised where the command runs (Ctrl-C as a
    KeyboardInterrupt, SIGTERM and SIGHUP as :class:`Stopped`), but not the same signal
    again within :data:`COPY_WITHIN_S` of the last it raised: a launcher passes the signal
    it got on to its processes (torchrun: SIGINT, SIGTERM), so a process signalled with it
    (a scheduler signals every process) got it twice, the second as it unwound from the
    first or counted its outputs, and its line said "interrupted" alone (s56, s57 CI). In a
    launched process only (:func:`_launched`)."""
    if _UNDER_WAY.is_set():
        return  # a launch's stop under way, said in its one line (stop_under_way)
    now = time.monotonic()
    if _a_copy(signum, now):
        return  # the launcher's copy of the stop under way
    _RAISED[signum] = now
    _note_for_launch(signum)
    raise stop_of(signum)


def _a_copy(signum: int, at: float) -> bool:
    """Whether ``signum``, come ``at`` (time.monotonic), is a launcher's copy of the stop
    :func:`_raise_stopped` raised last (:data:`COPY_WITHIN_S`), in a launched process; in
    one of unetlab's launches only where a launcher passed a stop on (:func:`stop_noted`):
    a process stopped alone (``kill PID``) got no copy, and its second stop, within the
    window, was dropped (s65: the wait to count, up to 20 s, not cut short)."""
    if at - _RAISED.get(signum, -COPY_WITHIN_S) >= COPY_WITHIN_S or not _launched():
        return False
    status = os.environ.get(LAUNCHED_ENV)
    return status is None or stop_noted(status)  # torchrun by hand: nothing noted


def stop_note(status: str | None) -> str | None:
    """The file beside a launch's ``status`` file (``unetlab.distributed.STATUS_FILE``) that
    says a stop signal was passed on to its processes (:func:`stop_noted`: torchrun's
    warnings on them dropped, a copy of a stop no stop again); an empty file: only that it
    exists is read; None outside a launch."""
    return f"{status}.stopped" if status else None


def stop_noted(status: str | None) -> bool:
    """Whether a launcher of the launch whose status file is ``status`` (unetlab's, or its
    torchrun signalled itself) passed a stop signal on to its processes (:func:`stop_note`)."""
    note = stop_note(status)
    return note is not None and os.path.exists(note)


def note_stop_passed_on(status: str | None) -> None:
    """Note beside a launch's ``status`` file that a launcher passes a stop on to its
    processes (:func:`stop_noted`), before it does; nothing outside a launch."""
    if (note := stop_note(status)) is not None:
        with contextlib.suppress(OSError), open(note, "a"):  # the launch's folder gone: said
            pass


def say_stop_line(line: str) -> None:
    """Print ``line``, a command's stop line, to stderr; in a process of a ``--nproc N``
    launch, noted at once beside the launch's status file (:func:`launch_stop_said`): the
    launcher, killing the processes at a second stop signal, says its own "killed by" line
    only where none was said. s72: noted only as the process exited, a second SIGTERM in
    between gave both lines (the main process's "stopped by SIGTERM", the launcher's)."""
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        print(line, file=sys.stderr, flush=True)
    if status := os.environ.get(LAUNCHED_ENV):
        with contextlib.suppress(OSError), open(f"{status}.said", "a"):  # the folder gone
            pass


def launch_stop_said(status: str) -> bool:
    """Whether a process of the launch whose status file is ``status`` said its stop line
    (:func:`say_stop_line`)."""
    return os.path.exists(f"{status}.said")


def stop_of(signum: int) -> KeyboardInterrupt:
    """What a stop signal raises: Ctrl-C a KeyboardInterrupt, SIGTERM and SIGHUP
    :class:`Stopped`."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Stopped(signum)


def _note_for_launch(signum: int) -> None:
    """In a process of a ``--nproc N`` launch, the stop it raises noted for the others
    (:func:`stops_noted`) before its connections to them close: the others' collectives
    then fail, which is no bug but this stop (``unetlab.distributed.peer_stop``)."""
    if status := os.environ.get(LAUNCHED_ENV):
        with contextlib.suppress(OSError), open(f"{status}.stops", "a", encoding="utf-8") as f:
            f.write(f"{int(signum)} {os.environ.get('RANK', '0')}\n")  # the launch's folder gone


def stops_noted(status: str) -> list[tuple[int, str]]:
    """(signal, rank) of each stop raised in a process of the launch whose status file is
    ``status`` (:func:`_note_for_launch`), in order."""
    with contextlib.suppress(OSError), open(f"{status}.stops", encoding="utf-8") as f:
        noted = [line.split() for line in f]
        return [(int(words[0]), words[1]) for words in noted if len(words) == 2]
    return []


def another_s_stop(status: str) -> int | None:
    """The signal of the first stop that another process of the launch whose status file is
    ``status`` noted (:func:`stops_noted`), not this one (its ``RANK``); None where none did."""
    rank = os.environ.get("RANK", "0")
    return next((signum for signum, by in stops_noted(status) if by != rank), None)


def peer_stop_raised() -> None:
    """In a process of a ``--nproc N`` launch, a stop that another process of it noted
    (stopped alone: :func:`_note_for_launch`) raised here as this process's own: called
    between inputs, it stops each process at its next input (s66: rank 1 of ``predict
    --nproc 2`` whose main process was stopped alone went on through its share, 28 inputs
    and 8.9 s, to its next exchange, past what the main process waits to count). Taken as
    raised (:data:`_RAISED`): the launcher's copy of that signal, where it passed one on, is
    no second stop. Nothing elsewhere, nor where no other process noted one."""
    if not (status := os.environ.get(LAUNCHED_ENV)):
        return
    if (signum := another_s_stop(status)) is not None:
        _RAISED[signum] = time.monotonic()
        raise stop_of(signum)


def _launched() -> bool:
    """Whether this process was started by a launcher that passes stops on (unetlab's
    ``--nproc N``, torchrun by hand): elsewhere no copy comes, and a second Ctrl-C within
    :data:`COPY_WITHIN_S` is the user's (review s57: it was dropped, the count waited out)."""
    return LAUNCHED_ENV in os.environ or "TORCHELASTIC_RUN_ID" in os.environ


#: set by :func:`stop_under_way` until the outermost :func:`stop_raises` block ends (the
#: process's end where that block owns the process)
_UNDER_WAY = threading.Event()


def stop_under_way() -> None:
    """From now to the end of the outermost :func:`stop_raises` block (the command's), a
    stop signal is dropped: a launch's stop is under way, its processes told or killed, and
    said in the launch's one line (:func:`unetlab.distributed.launch`). Raised after the
    launch had returned, it said "stopped by SIGTERM" in a second line, its status in place
    of the first signal's; after the command's block, its default action killed the
    process (status -15, s61): for the process's own command the block keeps dropping them
    to :func:`exit_now`. Outside the main thread, where no handler is set, nothing changes."""
    if threading.current_thread() is threading.main_thread():
        _UNDER_WAY.set()


class HeldStops:
    """The stop signals :func:`stops_held` held (``signals``, in order): the handler there."""

    def __init__(self, replaced: dict):
        self.signals: list[int] = []
        self.replaced = replaced  # the handlers it replaced, by signal
        self.again = False  # one held that is no launcher's copy of the stop raised

    def __call__(self, signum, _frame=None) -> None:
        self.signals.append(signum)
        self.again = self.again or not _a_copy(signum, time.monotonic())

    def stopped_again(self) -> bool:
        """Whether a stop held is a stop again (the user's second, torchrun's once another
        process failed), not a launcher's copy of the stop raised (:func:`_raise_stopped`):
        a stopped launch's main process waits for the others to end until one comes
        (``unetlab.cli.predict._stopped``; a copy cut it short, their outputs uncounted)."""
        return self.again

    def take(self) -> list[int]:
        """The signals held so far, no longer held: for the handler installed over this one
        (a launch's, passing them on: ``unetlab.distributed._stops_handled``)."""
        taken, self.signals = self.signals, []
        return taken

    def raising(self) -> None:
        """From now to the block's end a stop signal raises as :func:`stop_raises`' does,
        the stop marked under way first (:func:`stop_under_way`: one more, as the code that
        handles the first begins, is dropped, not raised from there); the first one held is
        raised here."""
        for signum in self.replaced:
            signal.signal(signum, _raise_under_way)
        if taken := self.take():
            _raise_under_way(taken[0])

    def holding(self) -> None:
        """From now to the block's end a stop signal is held again, and signalled again as
        its handlers are back (:func:`stops_held`): raised after the place that took the
        stops held (a launch's look at its processes, ``unetlab.distributed._after_torchrun``,
        returned; review s62: one there was raised under way, from that look's handler)."""
        for signum in self.replaced:
            signal.signal(signum, self)

    def not_under_way(self) -> None:
        """The stop raised here (:meth:`raising`) is the command's, not a launch's: a stop
        as anywhere, not under way (a launch that ended by itself, none of its processes
        left running: ``unetlab.distributed._after_torchrun``); from now to the block's end
        a stop signal raises as :func:`stop_raises`' does (one before the mark is cleared is
        dropped: the stop raised is on its way)."""
        _restore(self.replaced)
        _UNDER_WAY.clear()


@contextlib.contextmanager
def stops_held() -> Iterator[HeldStops]:
    """Within: a stop signal that :func:`stop_raises` would raise is held (recorded, not
    raised), up to the place ready for it (:meth:`HeldStops.raising`), or taken by the
    handler installed over the holder (:meth:`HeldStops.take`): a hand-over with no window
    between two handlers (a launch's, from the handler that passes signals on to torchrun
    to the look at the processes that outlived it: ``unetlab.distributed.launch``); the
    previous handlers are back when it ends, and a stop still held is signalled again then
    (:meth:`HeldStops.holding`). Not a mask (``pthread_sigmask``): that holds a
    signal from this thread alone, and another thread (torch's, a timer's) takes it."""
    replaced = {
        signum: signal.getsignal(signum)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is _raise_stopped  # the main thread's stop_raises
    }
    held = HeldStops(replaced)
    for signum in replaced:
        signal.signal(signum, held)
    try:
        yield held
    finally:
        _restore(replaced)
        for signum in held.take():
            signal.raise_signal(signum)  # raised here by its handler (dropped if under way)


def _raise_under_way(signum, _frame=None):
    """:meth:`HeldStops.raising`'s handler: the stop marked under way, then raised (the
    mark noted on it: where a finalizer swallows it, :func:`_stop_passed_on` clears the mark
    and signals it again); dropped once one is under way."""
    if _UNDER_WAY.is_set():
        return
    stop_under_way()
    stop = stop_of(signum)
    stop.marked_under_way = True
    raise stop


def exit_now(code: int) -> bool:
    """Whether the process, whose own command ended with a launch's stop under way
    (:func:`stop_raises` ``owns_process``: stop signals dropped to here), should end now
    through ``os._exit`` with ``code``, without the interpreter's teardown: there a stop
    signal ended it by its default action (status -15), and one dropped could not stop a
    hang (an atexit hook; review s61). From now on a stop signal ends the process at once
    with ``code``: a write that blocks as its output is flushed can still be stopped."""
    if not _UNDER_WAY.is_set() or not _installed_here(_raise_stopped):
        return False
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is _raise_stopped:
            signal.signal(signum, lambda _signum, _frame: os._exit(code))
    return True


@contextlib.contextmanager
def stop_raises(*, owns_process: bool = False) -> Iterator[None]:
    """Within: SIGTERM and SIGHUP raise :class:`Stopped`, Ctrl-C a KeyboardInterrupt as
    Python's own does, a copy of a stop under way dropped (:func:`_raise_stopped`), and any
    once a launch's stop is under way (:func:`stop_under_way`; outside the main thread,
    where no handler can be set, nothing changes). A signal ignored (``nohup``'s SIGHUP) or
    handled by the caller stays so; the previous handlers are back when the block ends, but
    where it ``owns_process`` (the process's own command, :func:`unetlab.cli.run`) and a
    stop is under way: they drop stop signals on, to the process's end (:func:`exit_now`)."""
    python_own = {
        signum: signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        for signum in STOP_SIGNALS
    }
    if not _installed_here(_raise_stopped):  # an earlier command's stop is none of this one's
        _RAISED.clear()
    previous = _installed(_raise_stopped, python_own)
    if previous:  # the outermost block, in the main thread: it owns the stop under way
        _UNDER_WAY.clear()
    try:
        with finalizer_stops_raised():
            yield
    finally:
        if not (owns_process and previous and _UNDER_WAY.is_set()):
            _restore(previous)
            if previous:
                _UNDER_WAY.clear()


def _installed_here(handler) -> bool:
    """Whether ``handler`` is the handler of a stop signal now (a block within a block)."""
    return any(signal.getsignal(signum) is handler for signum in STOP_SIGNALS)


@contextlib.contextmanager
def finalizer_stops_raised() -> Iterator[None]:
    """Within, in the main thread: a stop that a finalizer swallowed is signalled to the
    main thread again, to be raised where the call's code runs (:func:`_stop_passed_on`),
    and ``sys.unraisablehook`` is back as it was when it ends, unless the caller set its own
    within (kept: s64 review); outside the main thread, or within such a block already,
    nothing changes."""
    hook = sys.unraisablehook
    # the main thread only, as the handlers: a block in another thread sets none, and two
    # such blocks overlapping (cli.main in threads) left the hook installed
    ours = threading.current_thread() is threading.main_thread()
    ours = ours and not getattr(hook, "passes_stops_on", False)
    passed_on = _stop_passed_on(hook) if ours else None
    if ours:
        sys.unraisablehook = passed_on
    try:
        yield
    finally:
        if ours and sys.unraisablehook is passed_on:
            sys.unraisablehook = hook


def _stop_passed_on(hook):
    """``sys.unraisablehook`` within :func:`finalizer_stops_raised` (:func:`stop_raises`,
    :func:`stop_line_said`): a stop raised while Python ran a
    finalizer (a ``__del__``, a weakref's callback such as logging's, at any allocation) is
    swallowed there and printed as "Exception ignored in ..." with a traceback, and the
    command ran on (s53 CI: a SIGTERM landed in logging's ``_removeHandlerRef``). It is
    signalled to the main thread again instead (within a few milliseconds), to be raised where
    the command's code runs, and not printed; any other unraisable exception goes to
    ``hook``."""

    def passed_on(unraisable) -> None:
        exc = unraisable.exc_value
        if not isinstance(exc, KeyboardInterrupt):
            hook(unraisable)
            return
        signum = getattr(exc, "signum", signal.SIGINT)
        handler = signal.getsignal(signum)
        if handler in (signal.SIG_DFL, signal.SIG_IGN, None):
            hook(unraisable)  # no Python handler to raise it again: say it as Python does
            return
        if not _ours(handler):  # the caller's own: run once (s65), what it raised raised again
            _raise_once(exc, signum, handler)
        # sent from a new thread once this hook has returned (sent here, or where a
        # threading.Thread's start waits for its thread, the handler raised in the hook), and
        # a real signal, not the flag alone: it wakes a call blocked in the main thread (a
        # sleep, a lock), and once the block has ended the handler then in place takes it
        # (SIG_DFL: the process ends as stopped), where the flag alone was lost (review s53)
        _RAISED.pop(signum, None)  # raised again: not a copy of the one swallowed
        try:
            _send_again(exc, signum)
        except KeyboardInterrupt as again:  # a second stop, raised here once the mark was
            _send_again(again, signum)  # cleared: its mark cleared too, the first sent again
            # (review s62: it escaped the hook, printed; nothing sent again, the mark set)

    passed_on.passes_stops_on = True
    return passed_on


def _ours(handler) -> bool:
    """Whether ``handler`` is one of unetlab's stop handlers or Python's own Ctrl-C one: a
    stop signalled to it again raises the stop again, with nothing else done twice."""
    ours = (_raise_stopped, _raise_under_way, signal.default_int_handler)
    return handler in ours or isinstance(handler, HeldStops)


def _raise_once(stop: KeyboardInterrupt, signum: int, handler) -> None:
    """The stop ``signum`` sent again next (:func:`_send_again`) raises ``stop``, which the
    caller's own ``handler`` raised and a finalizer swallowed, and puts that handler back:
    it is not called a second time (s65: a caller's counter of Ctrl-C presses counted
    two). In the main thread only, where a handler can be set (the one that ran there)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def once(_signum, _frame):
        signal.signal(signum, handler)
        raise stop

    signal.signal(signum, once)


def _send_again(stop: KeyboardInterrupt, signum: int) -> None:
    """``signum`` signalled to the main thread again, from a new thread (:func:`_stop_passed_on`),
    the mark that ``stop`` set as it was raised cleared first (:func:`_raise_under_way`), else
    the signal sent again is dropped (review s62: every later stop was, the wait not cut
    short)."""
    if getattr(stop, "marked_under_way", False):
        _UNDER_WAY.clear()
    _thread.start_new_thread(_signal_thread, (threading.main_thread().ident, signum))


def _signal_thread(ident: int, signum: int) -> None:
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(ident, signum)
    else:  # Windows: the flag only
        _thread.interrupt_main(signum)


@contextlib.contextmanager
def interrupt_exits() -> Iterator[None]:
    """Within: a stop signal ends the process at once in one line and the shell's status for
    it, as a command stopped later ends: Ctrl-C ``unetlab: interrupted`` (130), SIGTERM
    ``unetlab: stopped by SIGTERM`` (143), SIGHUP (129). For the imports before a command
    runs: a KeyboardInterrupt raised inside torch's or numpy's import leaves them
    half-initialised (a traceback, then "cannot load module more than once", or an abort from
    pybind11: seen in 1 of 30 interrupted starts each), one inside any import shows a
    traceback, and a SIGTERM ended the process without a word (status 143, s49 nprocedge).
    Nothing is written yet, so there is nothing to clean up. A signal ignored (a background
    job's Ctrl-C, nohup's SIGHUP) or handled by the caller stays so; the handlers before are
    back when it ends. Outside the main thread, where no handler can be set (``cli.main``
    called in a thread), nothing changes."""
    python_own = {
        signum: signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        for signum in STOP_SIGNALS
    }
    previous = _installed(_exit_stopped, python_own)
    try:
        yield
    finally:
        _restore(previous)


def _installed(handler, untouched: dict) -> dict:
    """Set ``handler`` for each signal of ``untouched`` whose handler is still the one it
    maps to (Python's own: not ignored, not the caller's), in the main thread only (only it
    can set one); the handlers replaced, by signal."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {
        signum: signal.signal(signum, handler)
        for signum, own in untouched.items()
        if signal.getsignal(signum) is own
    }


def _restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


#: set in each process of a ``--nproc N`` launch (``unetlab.distributed.STATUS_FILE``)
LAUNCHED_ENV = "UNETLAB_STATUS_FILE"

#: this process's parent as unetlab began to load (``python -m unetlab`` imports this module
#: first): a process of a launch whose parent has changed since lost it
#: (``unetlab.distributed.parent_gone``)
PARENT_AT_START = os.getppid()


def exit_interrupted(signum: int = signal.SIGINT) -> NoReturn:
    """End the process as a start stopped by ``signum`` does: ``unetlab: interrupted``
    (status 130), ``unetlab: stopped by SIGTERM`` (143). A process of a ``--nproc N`` launch
    ends without the line: the launcher passed the signal on to each of them and says it
    once (``unetlab predict: interrupted``)."""
    how, code = stop_status(Stopped(signum))
    if LAUNCHED_ENV not in os.environ:
        with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
            os.write(sys.stderr.fileno(), f"unetlab: {how}\n".encode())
    os._exit(code)


def _exit_stopped(signum, _frame) -> NoReturn:
    exit_interrupted(signum)
