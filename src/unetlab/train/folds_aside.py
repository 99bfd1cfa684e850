"""An overwritten cross-validation kept aside until the new one has replaced it.

``train --folds K --overwrite`` replaces a folder's folds, but a run stopped in fold 2
must neither have lost the old folds (nothing is ever lost before it is replaced) nor leave
the old folds 3..K beside the new ones, where ``compare``, ``--resume`` and the folds'
summary would read them as the new run's. So the old folds and folds.csv are moved, as a
whole, into ``run_dir/.unetlab-overwritten/`` before the first new fold starts (hidden:
``compare`` and the folds never look there), and that folder goes when the new run has
trained all its folds (straight, or after ``--resume``).

The move is made into ``.unetlab-overwritten.part`` and then renamed, so a move cut short
(killed) is finished by the next overwrite: while ``.part`` exists no new fold has started,
every fold beside it is old. An overwrite that finds a complete aside folder from an
overwrite that stopped keeps that (the last run that finished) and drops the stopped
overwrite's folds, which replaced nothing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from unetlab.atomic import remove_tree
from unetlab.train.rundir import FOLDS_ASIDE as ASIDE
from unetlab.train.rundir import FOLDS_FILE, fold_dirs

log = logging.getLogger(__name__)

_PART, _GONE = f"{ASIDE}.part", f"{ASIDE}.gone"


def set_aside(run_dir: str | os.PathLike, *, complete: bool) -> None:
    """Move ``run_dir``'s folds (``fold_<i>`` folders) and folds.csv into its aside folder
    before an overwrite starts. ``complete``: the folds there finished (every fold folds.csv
    lists); where an aside folder is there already, complete folds replace it, a stopped
    overwrite's folds are removed (the aside folder holds the run they were to replace)."""
    run_dir = Path(run_dir)
    _remove(run_dir / _GONE)
    part, aside = run_dir / _PART, run_dir / ASIDE
    if not _entries(run_dir) and not part.exists():
        return
    if aside.is_dir() and not part.exists():
        if not complete:
            log.info(
                "%s: the folds of an overwrite that stopped are removed; the cross-validation "
                "before it stays in %s until this one has trained all its folds",
                run_dir,
                aside.name,
            )
            for entry in _entries(run_dir):
                _remove(entry)
            return
        drop_aside(run_dir)
    part.mkdir(exist_ok=True)
    for entry in _entries(run_dir):
        entry.rename(part / entry.name)
    part.rename(aside)
    log.info(
        "%s: the cross-validation it held is kept in %s until this one has trained all its "
        "folds (then removed)",
        run_dir,
        aside,
    )


def aside_note(run_dir: str | os.PathLike) -> str:
    """What a stopped cross-validation adds to its line where it overwrote one: where that
    one waits; "" where none does."""
    aside = Path(run_dir) / ASIDE
    if not aside.is_dir():
        return ""
    return (
        f"; the cross-validation it overwrote waits in {aside} until this one has trained all "
        "its folds"
    )


def drop_aside(run_dir: str | os.PathLike) -> None:
    """Remove the overwritten cross-validation kept aside (the new one has replaced it):
    renamed first, so a removal cut short leaves no half of it where it was."""
    run_dir = Path(run_dir)
    if (run_dir / ASIDE).is_dir():
        (run_dir / ASIDE).rename(run_dir / _GONE)
    _remove(run_dir / _GONE)


def _entries(run_dir: Path) -> list[Path]:
    """The folds and folds.csv of ``run_dir``."""
    folds = [path for _, path in fold_dirs(run_dir)]
    table = run_dir / FOLDS_FILE
    return [*folds, *([table] if table.exists() else [])]


def _remove(path: Path) -> None:
    if path.is_dir():
        remove_tree(path)
    elif path.exists():
        path.unlink()
