"""A folder's per-file lines (warnings, notes) that name a file by its name alone
(``rgb.png: channel 2 is constant``) said with its path as given (``imgs/rgb.png: ...``)
while the folder is predicted, as its failed lines are
(:func:`~unetlab.inference.folders.named_by_path`): one form for a file in every line of a
run (s54 badinput4: the warnings said ``rgb.png``, the failures ``imgs/rgb.png``).

The lines are written far below the folder, where a file's name is what is at hand (reading,
fitting channels, objects), some in the threads that read files ahead: the package's log
records are renamed as they are made (a record factory, installed while a folder is
predicted). A name two inputs share (``a/x.png``, ``b/x.png``) is left as it is."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

#: the paths as given of the inputs of the folders predicted now, by name, each as many
#: times as folders hold it (a group of threads predicts one folder several times at once)
_GIVEN: dict[str, Counter] = {}
_BEFORE: list = []  # the record factory before the first folder, restored after the last
_LOCK = threading.RLock()  # a line logged by the factory before: no deadlock


@contextlib.contextmanager
def lines_by_path(files: Sequence[Path]) -> Iterator[None]:
    """Within: the lines of the ``unetlab`` package that begin with the name of one of
    ``files`` and a colon begin with its path as given instead."""
    given = {f.name: str(f) for f in files if str(f) != f.name}
    with _LOCK:
        if not _BEFORE:
            _BEFORE.append(logging.getLogRecordFactory())
            logging.setLogRecordFactory(_record)
        for name, path in given.items():
            _GIVEN.setdefault(name, Counter())[path] += 1
    try:
        yield
    finally:
        with _LOCK:
            for name, path in given.items():
                _GIVEN[name][path] -= 1
                if not +_GIVEN[name]:
                    del _GIVEN[name]
            if not _GIVEN and _BEFORE:
                logging.setLogRecordFactory(_BEFORE.pop())


def _record(*args, **kwargs) -> logging.LogRecord:
    """The record the factory before made, renamed where it begins with an input's name."""
    with _LOCK:
        make = _BEFORE[0] if _BEFORE else logging.LogRecord
        record = make(*args, **kwargs)
        if record.name.startswith("unetlab") and isinstance(record.msg, str):
            _rename(record)
    return record


def _rename(record: logging.LogRecord) -> None:
    """``record`` naming the path as given of the one input whose name its message begins
    with, else as it is (a message its arguments do not fit too: logging says so as it
    writes it, as without this)."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        return
    name = message.split(":", 1)[0]
    paths = +_GIVEN.get(name, Counter()) if name != message else Counter()
    if len(paths) == 1:  # one input of that name
        record.msg, record.args = next(iter(paths)) + message[len(name) :], ()
