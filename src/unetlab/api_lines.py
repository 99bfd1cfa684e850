"""The decisions the public API says (INFO lines: "the masks are read as object ids", "records
no pixel size") shown to a notebook or script that set no logging up, where Python's last
resort would show warnings only; a program that set logging up (the CLI, a
``logging.basicConfig`` cell) keeps its own handlers and levels, untouched."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator


def stderr_handler(level: int) -> logging.Handler:
    """The console handler the API adds where nothing is set up, and the CLI's: the message
    alone, on stderr (:class:`_Stderr`), at ``level``."""
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.setLevel(level)
    return handler


class _Stderr(logging.StreamHandler):
    """A handler that writes each line to the ``sys.stderr`` in force as it is said, as
    ``logging.lastResort`` does: the CLI's stays on the root logger after its call, and kept
    that call's stream, so a second ``main()`` in the process (a notebook's next cell, a
    test's captured stream) said its lines on the first one's (s69). The same few lines as
    the standard library's private ``logging._StderrHandler`` (``lastResort``'s class),
    written here rather than subclassing a private name."""

    def __init__(self):
        logging.Handler.__init__(self)  # not StreamHandler's, which would fix the stream

    @property
    def stream(self):
        return sys.stderr


def unset() -> bool:
    """Whether nothing set logging up for ``unetlab``: no handler on the root logger nor on the
    package's, and its records go on to the root (``propagate``)."""
    package = logging.getLogger("unetlab")
    return package.propagate and not package.handlers and not logging.getLogger().handlers


@contextlib.contextmanager
def api_lines() -> Iterator[None]:
    """Within: the ``unetlab`` package's INFO lines (at its own level where the program set one)
    on stderr where nothing set logging up (:func:`unset`); else nothing changes. Each public
    entry point that decides for its user wraps itself in it (``@api_lines()``; one that reads
    files in :func:`~unetlab.data.read_notes.call_lines`, which adds its notes); nested calls
    and the CLI's add no second handler (the first one's is on the package): no line twice."""
    if not unset():
        yield
        return
    package = logging.getLogger("unetlab")
    before = package.level
    handler = stderr_handler(before or logging.INFO)
    package.addHandler(handler)
    package.setLevel(before or logging.INFO)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(before)
