"""What a prediction chose by itself, per input file, for its folder's ``predict.json``.

The record's key (:mod:`unetlab.inference.records`) holds only the settings a user gives;
what prediction picked for each file where none was given goes beside it, so that a reviewer
sees what ran: the tile size (:func:`~unetlab.inference.sizing.choose_tiling`, when
``tile_size`` is None), the device the model ran on (``auto`` -> ``cpu`` or ``cuda:0``) and
the axes the file was read as (``TYX``: its page axes, then Y, X and C where the pages have
channels or colours; with the shape read), and the outlines asked for (``--outlines``: which
files an input's outputs hold; no part of the key, as ``--skip-existing`` asks of each
output file whether it is there, and a streamed slide's staging resumes for any).

:func:`noting` collects within a prediction folder's run
(:func:`~unetlab.inference.output_rules.prediction_folder`), :func:`for_file` says which
input the notes are of, and the code that chooses calls :func:`note`, which does nothing
outside such a run (a prediction of an array, napari, the benchmarks). Under torchrun only
the main process holds the folder: the others note within :func:`noting` of their own, and
their notes are gathered and :func:`merge`-d into the main one's.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

__all__ = [
    "as_record",
    "for_file",
    "merge",
    "note",
    "note_position",
    "noting",
    "read_axes",
    "tile_value",
]

#: input (resolved path) -> setting -> the distinct values chosen, in order
_RUN: contextvars.ContextVar[dict | None] = contextvars.ContextVar("unetlab_chosen", default=None)
#: the input being predicted (resolved path), within :func:`for_file`
_FILE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "unetlab_chosen_file", default=None
)


@contextlib.contextmanager
def noting() -> Iterator[dict[str, dict]]:
    """Collect :func:`note` within; yields them (input -> setting -> the distinct values
    noted; :func:`as_record` as a record keeps them), filled in as the run goes. A run
    within a run notes into the outer one."""
    outer = _RUN.get()
    if outer is not None:
        yield outer
        return
    notes: dict[str, dict] = {}
    token = _RUN.set(notes)
    try:
        yield notes
    finally:
        _RUN.reset(token)


@contextlib.contextmanager
def for_file(path: str | os.PathLike) -> Iterator[None]:
    """:func:`note` calls within are of the input ``path``."""
    token = _FILE.set(os.path.realpath(path))  # as input_source names it: now
    try:
        yield
    finally:
        _FILE.reset(token)


def note(**found) -> None:
    """Note what was chosen for the current input (``tile_size=572``, ``device="cpu"``,
    ``axes="TYX"``); a value that differs from one noted before for that input (pages of
    other sizes) is kept beside it."""
    notes, path = _RUN.get(), _FILE.get()
    if notes is None or path is None:
        return
    mine = notes.setdefault(path, {})
    for name, value in found.items():
        seen = mine.setdefault(name, [])
        if value not in seen:
            seen.append(value)


def note_position(index: int, **found) -> None:
    """Note what was chosen for position ``index`` of the current input, a multi-position
    file's (``scale=2.0``: ``--scale auto``'s factor of that position's pixels, which
    :func:`note` keeps only as the file's distinct values): its ``positions`` -> the
    index (a string, as JSON keeps it) -> setting -> value."""
    notes, path = _RUN.get(), _FILE.get()
    if notes is None or path is None:
        return
    at = notes.setdefault(path, {}).setdefault("positions", {})
    at.setdefault(str(index), {}).update(found)


def noted() -> dict[str, dict]:
    """The notes of the run within (:func:`noting`; every process's once gathered): input
    (resolved) -> setting -> the distinct values noted; {} outside a run."""
    return dict(_RUN.get() or {})


def merge(notes: dict[str, dict], other: dict[str, dict]) -> None:
    """Add ``other``'s notes (another process's, of the inputs it predicted: under torchrun
    each process notes its own) to ``notes``, each value not noted there yet after those."""
    for path, found in other.items():
        mine = notes.setdefault(path, {})
        for name, values in found.items():
            if isinstance(values, dict):  # positions: index -> setting -> value
                for index, at in values.items():
                    mine.setdefault(name, {}).setdefault(index, {}).update(at)
                continue
            seen = mine.setdefault(name, [])
            seen.extend(v for v in values if v not in seen)


def as_record(notes: dict[str, dict]) -> dict[str, dict]:
    """The notes as ``predict.json`` holds them: input -> setting -> its value (a list of
    the values where they differ, e.g. pages of other sizes; ``positions`` as noted:
    :func:`note_position`; a multi-position file's ``scale``: :func:`_file_scale`)."""
    return {
        path: {k: _value(seen) for k, seen in found.items()} | _file_scale(found)
        for path, found in notes.items()
        if found
    }


def _file_scale(found: dict) -> dict:
    """A multi-position file's ``scale`` as its record holds it: the distinct factors of
    its positions (``positions`` -> index -> ``scale``, in their order; one where they
    agree), 1 among them; {} where no position has one. The file's own notes keep only
    factors other than 1 (each image predicted at 1 notes none), so the file said 2 where
    position 0 ran at 1."""
    positions = found.get("positions")
    if not isinstance(positions, dict):
        return {}
    at = sorted(positions.items(), key=lambda item: int(item[0]))
    factors = list(dict.fromkeys(p["scale"] for _, p in at if "scale" in p))
    return {"scale": _value(factors)} if factors else {}


def _value(seen: list | dict):
    """A setting's notes as a record holds them: the one value, a list where several, a
    dict (each position's: :func:`note_position`) as it is."""
    return seen if isinstance(seen, dict) or len(seen) != 1 else seen[0]


def read_axes(page_letters: str, shape: tuple[int, ...]) -> str:
    """The axes of pages read as (P, H, W[, C]) ``shape`` whose page axes are
    ``page_letters`` (``"TZ"``, ``"Q"``: pages of no known meaning, ``""``: one page):
    ``"TZYXC"``, ``"QYX"``, ``"YX"``."""
    return f"{page_letters}YX{'C' if len(shape) == 4 else ''}"


def tile_value(tile: tuple[int, int]) -> int | list[int]:
    """A (h, w) tile as a record holds a tile size: an int, or [h, w] where they differ."""
    h, w = (int(t) for t in tile)
    return h if h == w else [h, w]
