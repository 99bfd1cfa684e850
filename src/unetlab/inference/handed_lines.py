"""The lines a process of a group but the main one says of the files it predicts alone
(``unetlab predict --nproc N``: each its share of the files), handed to the main one.

Only the main process logs below WARNING (one start line, one summary); the others' INFO
lines of their own files went unsaid: a folder of two streamed slides predicted with
``--instances --nproc 2`` said the first slide's streaming, steps and "resuming ..." lines,
none of the second's (review s48). Within :func:`kept_lines` such a process keeps them
instead of dropping them (its other warnings are still said as they come); the main one says them
with the others' outcomes (:func:`say_kept`), each file's together, as one process says
them, in the order of the files (the main one says its own as they come, so that its progress
in a log stays live: four files say s1, s3 as predicted, then s2, s4). A line said once
a command (:func:`~unetlab.data.read_notes.note_once`, its key in the record), a warning too,
is kept by each process and said there once (review s48: "pixels are another size than the
training images'" said by each process).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from unetlab.data.read_notes import note_once, unsay_once

log = logging.getLogger(__name__)

#: the logger of the lines said only where no bar is drawn (the steps and time left of a
#: slide in a log): where the main process draws bars, it says none of the others' either
BAR_LINES = "unetlab.inference.slide_progress"

#: a line kept: its level, its text, and the key that makes it said once (None: each time)
Kept = tuple[int, str, "str | None"]


class _Keeper(logging.Handler):
    """Keeps the package's records below ``floor`` (the level the process logs at; a main
    one's, below WARNING) and those said once a command into ``kept`` (``infos`` False: only
    the latter), passes the other warnings on to the root logger's handlers, as they went
    before. A once-a-command line kept is counted unsaid until it is said. Only the records
    of the thread it was made in (unetlab starts no threads of its own that log): in a
    group of threads (tests) another keeper's are that one's, and the main rank's, which
    keeps none, go on as they came, once (by the first keeper; s58: rank 1's keeper kept
    them as its own)."""

    def __init__(self, kept: list[Kept], floor: int, bars: bool, infos: bool):
        super().__init__(min(floor, logging.INFO))
        self.kept, self.live, self.bars, self.infos = kept, max(floor, logging.WARNING), bars, infos
        self.floor = floor  # the package's level before the keepers
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        once = getattr(record, "once", None)
        if record.thread != self.thread:  # another rank's, in a group of threads
            first = next(iter(_KEEPERS.values()), None) is self
            if record.thread not in _KEEPERS and first and record.levelno >= self.floor:
                logging.getLogger().handle(record)  # the main rank's: as they came
            return
        if once is None and record.levelno >= self.live:
            logging.getLogger().handle(record)
        elif (once is not None or self.infos) and not (self.bars and record.name == BAR_LINES):
            self.kept.append((record.levelno, record.getMessage(), once))
            if once is not None:  # another process may say it first, or a file before it
                unsay_once(once)


#: the keepers within (by the thread each was made in), and the package logger's level,
#: propagation and effective level before the first: restored as the last one leaves, where
#: several threads keep lines at once (a group of threads standing in for processes)
_KEEPERS: dict[int, _Keeper] = {}
_BEFORE: list = []
_LOCK = threading.Lock()


@contextlib.contextmanager
def kept_lines(
    kept: list[Kept], *, main: bool = False, bars: bool = False, infos: bool = True
) -> Iterator[None]:
    """The INFO lines of unetlab said within kept into ``kept`` in a group's process but the
    ``main`` one, said as they come in the main one (nothing kept: ``kept`` stays empty). The
    lines said once a command (:func:`note_once`), warnings too, are kept likewise: the main
    one says each once. ``bars``: the main process draws bars, so lines said only without one
    are left out. ``infos`` False: only the once-a-command lines kept (a file all processes
    share, whose lines the main one says). Kept by the rank, not by the level the process
    logs at: a group of threads (tests) shares one level, and neither rank kept its lines
    where the test logged INFO (s58)."""
    if main:
        yield
        return
    keeper = _install(kept, bars, infos)
    try:
        yield
    finally:
        _remove(keeper)


def _install(kept: list[Kept], bars: bool, infos: bool) -> _Keeper:
    """A keeper into ``kept`` on the package logger (:func:`kept_lines`); the first one
    within sets the package's level to let INFO records reach it and stops them going on to
    the root logger's handlers."""
    package = logging.getLogger("unetlab")
    with _LOCK:
        floor = _BEFORE[2] if _BEFORE else package.getEffectiveLevel()
        keeper = _Keeper(kept, floor, bars, infos)
        if not _KEEPERS:
            _BEFORE[:] = [package.level, package.propagate, floor]
            package.setLevel(min(floor, logging.INFO))
            package.propagate = False  # the warnings go on through the keeper
        _KEEPERS[keeper.thread] = keeper
        package.addHandler(keeper)
        return keeper


def _remove(keeper: _Keeper) -> None:
    """Take off a keeper :func:`_install` put on; the last one puts the package's level and
    propagation back."""
    package = logging.getLogger("unetlab")
    with _LOCK:
        package.removeHandler(keeper)
        del _KEEPERS[keeper.thread]
        if not _KEEPERS:
            level, propagate, _ = _BEFORE
            package.setLevel(level)
            package.propagate = propagate
            _BEFORE.clear()


def say_kept(kept: list[Kept]) -> None:
    """Say the lines another process kept (:func:`kept_lines`), each once-a-command line
    only where this command has not said it."""
    for level, line, once in kept:
        if once is None:
            log.log(level, "%s", line)
        else:
            note_once(line, key=once, level=level)
