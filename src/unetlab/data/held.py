"""Files read whole once for two readers in one command (:func:`stacks_held`).

``unetlab train`` (``--check`` too) reads every image and mask whole for the plan's measure
of the data set, then again to load it (images) or to scan its values (masks). Within
:func:`stacks_held`, what :func:`unetlab.data.io.read_stack` reads while :func:`kept_reads`
(the plan's measure, :func:`unetlab.data.fingerprint.fingerprint`) is kept while the files
kept total at most the ``budget`` of bytes given; the next read of the same file, read the
same way and unchanged since (its time and size), takes it rather than decoding it again,
and then lets it go (a third read decodes it). Within :func:`kept_reads` each reader gets a
copy, so that nothing it does to its pixels reaches the next. Outside both: every read
decodes its file, as ever.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unetlab.data.colour_table import tables_found_once
from unetlab.data.regions import regions_counted_once


@dataclass
class _KeptStacks:
    budget: float
    stacks: dict[Hashable, np.ndarray] = field(default_factory=dict)
    used: int = 0  # the bytes of ``stacks``
    keep: bool = False  # within kept_reads


_KEPT_STACKS: contextvars.ContextVar[_KeptStacks | None] = contextvars.ContextVar(
    "unetlab_stacks_held", default=None
)


@contextlib.contextmanager
def stacks_held(budget: float | None) -> Iterator[None]:
    """Within: files :func:`held_read` reads are kept for their next read while they total
    at most ``budget`` bytes (None or 0: none kept), the regions of each mask the plan
    numbers kept for training's count of them
    (:func:`~unetlab.data.regions.regions_counted_once`), the colour table of each mask
    folder (:func:`~unetlab.data.colour_table.tables_found_once`) and the structure masks of
    each TotalSegmentator case (:func:`~unetlab.data.totalseg.structures_listed_once`).
    Nothing is kept beyond it."""
    from unetlab.data.totalseg import structures_listed_once  # it reads by held_read

    token = _KEPT_STACKS.set(_KeptStacks(budget or 0.0))
    try:
        with regions_counted_once(), tables_found_once(), structures_listed_once():
            yield
    finally:
        _KEPT_STACKS.reset(token)


@contextlib.contextmanager
def kept_reads() -> Iterator[None]:
    """Within (and within :func:`stacks_held`), files read whole are kept for their next read."""
    kept = _KEPT_STACKS.get()
    if kept is None:
        yield
        return
    kept.keep = True
    try:
        yield
    finally:
        kept.keep = False


def reads_kept() -> bool:
    """Whether a file read whole now is kept for its next read (within :func:`kept_reads`
    in :func:`stacks_held` with room left in its budget): a reader that reads ahead costs no
    second decode."""
    kept = _KEPT_STACKS.get()
    return kept is not None and kept.keep and kept.used < kept.budget


def let_go() -> None:
    """Forget every file kept (a data set loaded: what it did not take again is not needed)."""
    kept = _KEPT_STACKS.get()
    if kept is not None:
        kept.stacks.clear()
        kept.used = 0


def held_read(path: Path, how: Hashable, read: Callable[[], np.ndarray]) -> np.ndarray:
    """``read()`` of ``path`` read as ``how`` says, or what the last such read kept, taken
    (:func:`stacks_held`; outside it: ``read()``)."""
    kept = _KEPT_STACKS.get()
    if kept is None:
        return read()
    try:
        stat = os.stat(path)
    except OSError:
        return read()
    key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size, how)
    if key in kept.stacks and kept.keep:
        return kept.stacks[key].copy()
    if key in kept.stacks:
        kept.used -= kept.stacks[key].nbytes
        return kept.stacks.pop(key)
    arr = read()
    if kept.keep and kept.used + arr.nbytes <= kept.budget:
        kept.stacks[key], kept.used = arr, kept.used + arr.nbytes
        return arr.copy()
    return arr
