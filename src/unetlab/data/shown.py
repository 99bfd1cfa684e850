"""How a line names an input file: so that it can be found. A file of the one folder the user
gave is named by its name (``predict_folder(m, "in")``, with ``root="in"`` too, or the root
in another form: review s55 H8, s56; files listed with a ``root``: from it, as the tables'
``path`` column names them, s58), any other by its path as given: one of a tree
(``predict --recursive``: one rule for all its files, its root's own too, which were named
by their names alone, s55 H8; the same name a glob over the tree and a failure's line give;
the tree's line of inputs without a pixel size names its first so too), of several folders
or a glob without ``root=`` (with it, from it, as the tables' ``path`` column names them:
review s58 A4), a file given alone (s55: the lines of a file's prediction named it by its name
alone). A failure's line is its path as given everywhere
(:func:`~unetlab.inference.folders.named_by_path`). A folder's run says which while it
predicts each file (:func:`shown_as`, a context variable: no global logging state, s54's
record factory was reverted); the lines call :func:`shown_path`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

#: (the file's path as given, how the lines name it) while a run predicts it
_SHOWN: ContextVar[tuple[str, str] | None] = ContextVar("unetlab_shown", default=None)


@contextlib.contextmanager
def shown_as(path: str | os.PathLike, name: str) -> Iterator[None]:
    """Within: :func:`shown_path` of ``path`` is ``name`` (its name in the folder given)."""
    token = _SHOWN.set((str(path), name))
    try:
        yield
    finally:
        _SHOWN.reset(token)


def shown_path(path: str | os.PathLike) -> str:
    """How a line names the input ``path``: as :func:`shown_as` says while a folder's run
    predicts it, else its path as given (``Path`` form)."""
    if (held := _SHOWN.get()) is not None and held[0] == str(path):
        return held[1]
    return str(Path(path))


def relative_path(path: Path, root: Path | None) -> str:
    """``path`` as the tables' ``path`` column writes it: relative to the input ``root``
    (``predict_tree``'s: ``alice/img_00.png``; a folder given: its file's name), else as
    given (a glob's ``drop/alice/img_00.png``), with ``/`` on every system. An input and
    a ``root`` spelled otherwise are compared resolved (its folder, not a link the file is):
    an earlier run's input named by its resolved path (as the folder's manifest names it)
    read ``/home/me/in/A01.png`` beside this run's ``C01.png`` (audit s38 apiaudit), and
    ``in/A01.png`` listed with ``root="/home/me/in"`` its path as given (s57 docs7)."""
    if root is None:
        return path.as_posix()
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    where, base = path.parent.resolve() / path.name, root.resolve()
    return where.relative_to(base).as_posix() if where.is_relative_to(base) else path.as_posix()
