"""The run folders that the paths given to ``compare`` name: run folders themselves, or
folders holding runs (a ``train --folds`` run's folder, a folder of runs)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from unetlab.compare.records import CONFIG_FILE, METRICS_FILE, is_run
from unetlab.errors import UnetlabError

log = logging.getLogger(__name__)

#: how deep below a given folder runs are looked for (runs/cv/fold_1: 2)
SEARCH_DEPTH = 2
HOW = (
    "give run folders (each holds config.yaml and metrics.csv: unetlab train --run-dir), "
    "or a folder of them"
)


def run_folders(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], set[Path]]:
    """The run folders of ``paths`` in order, each once: a run folder as given, a folder of
    runs as the runs under it (up to SEARCH_DEPTH down, in natural order: fold_2 before
    fold_10). Also the set of those given by name (resolved). A path that is neither is refused, one
    line naming it and the fix."""
    found: dict[Path, Path] = {}  # resolved -> as given
    named = set()
    for given in map(Path, paths):
        runs = _runs_of(given)
        if runs == [given]:
            named.add(given.resolve())
        for run in runs:
            found.setdefault(run.resolve(), run)
    return list(found.values()), named


def _runs_of(path: Path) -> list[Path]:
    if not path.exists():
        raise UnetlabError(f"{path}: no such folder: {HOW}")
    if not path.is_dir():
        # "give a folder (give run folders (...))" said its fix twice (s52 badinput)
        run = path.name in (CONFIG_FILE, METRICS_FILE)
        fix = f"give its folder, {path.parent}" if run else HOW
        raise UnetlabError(f"{path} is a file, not a run folder: {fix}")
    if is_run(path):
        return [path]
    runs = sorted(_search(path, SEARCH_DEPTH), key=natural_key)
    if not runs:
        raise UnetlabError(f"{path} is not a run folder (no config.yaml) and holds no runs: {HOW}")
    return runs


def _search(folder: Path, depth: int):
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise UnetlabError(f"{folder} cannot be read ({exc.strerror}): {HOW}") from exc
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        if is_run(entry):
            yield entry
        elif depth > 1:
            yield from _search(entry, depth - 1)


def natural_key(path: Path) -> list:
    """Sort key of ``path`` with its numbers as numbers (fold_2 before fold_10)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.as_posix())]


def run_names(folders: list[Path]) -> list[str]:
    """Short names of ``folders``: their paths below the folder they share (runs/a, runs/b:
    a, b; runs/cv/fold_1, runs/a: cv/fold_1, a)."""
    resolved = [f.resolve() for f in folders]
    common = Path(os.path.commonpath(resolved)) if len(resolved) > 1 else resolved[0].parent
    names = [r.relative_to(common).as_posix() for r in resolved]
    return [name if name != "." else folder.name for name, folder in zip(names, folders)]
