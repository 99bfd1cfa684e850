"""The lines a process of a group but the main one says of the files it predicts alone
(``unetlab predict --nproc N``: each its share of the files), handed to the main one.

Only the main process logs below WARNING (one start line, one summary); the others' INFO
lines of their own files went unsaid: a folder of two streamed slides predicted with
``--instances --nproc 2`` said the first slide's streaming, steps and "resuming ..." lines,
none of the second's (review s48). Within :func:`kept_lines` such a process keeps them
instead of dropping them (its warnings are still said as they come); the main one says them
with the others' outcomes (:func:`say_kept`), each file's together, as one process says
them. A line said once a command (:func:`~unetlab.data.read_notes.note_once`, its key in the
record) is said there once too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from unetlab.data.read_notes import note_once

log = logging.getLogger(__name__)

#: the logger of the lines said only where no bar is drawn (the steps and time left of a
#: slide in a log): where the main process draws bars, it says none of the others' either
BAR_LINES = "unetlab.inference.slide_progress"

#: a line kept: its level, its text, and the key that makes it said once (None: each time)
Kept = tuple[int, str, "str | None"]


class _Keeper(logging.Handler):
    """Keeps the package's records below ``floor`` (the level the process logs at) into
    ``kept``; passes the others on to the root logger's handlers, as they went before."""

    def __init__(self, kept: list[Kept], floor: int, bars: bool):
        super().__init__(logging.INFO)
        self.kept, self.floor, self.bars = kept, floor, bars

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= self.floor:
            logging.getLogger().handle(record)
        elif not (self.bars and record.name == BAR_LINES):
            self.kept.append((record.levelno, record.getMessage(), getattr(record, "once", None)))


@contextlib.contextmanager
def kept_lines(kept: list[Kept], *, bars: bool = False) -> Iterator[None]:
    """The INFO lines of unetlab said within kept into ``kept`` where this process logs
    only warnings (a group's process but the main one), said as they come elsewhere.
    ``bars``: the main process draws bars, so lines said only without one are left out."""
    package = logging.getLogger("unetlab")
    floor = package.getEffectiveLevel()
    if floor <= logging.INFO:
        yield
        return
    level, propagate = package.level, package.propagate
    keeper = _Keeper(kept, floor, bars)
    package.setLevel(logging.INFO)
    package.propagate = False  # the warnings go on through the keeper, the rest is kept
    package.addHandler(keeper)
    try:
        yield
    finally:
        package.removeHandler(keeper)
        package.setLevel(level)
        package.propagate = propagate


def say_kept(kept: list[Kept]) -> None:
    """Say the lines another process kept (:func:`kept_lines`), each once-a-command line
    only where this command has not said it."""
    for level, line, once in kept:
        if once is None:
            log.log(level, "%s", line)
        else:
            note_once(line, key=once, level=level)
