"""A folder's manifest (``.unetlab-outputs``): which files of the folder unetlab wrote.

One line a file: its name, the command and, for predict's outputs, the input it was made from
and the key of what made it (the checkpoint and settings, ``unetlab.inference.records``). A
name is added *before* its file is written (write-ahead, :func:`record`), so a file that
exists is either listed or not ours; a single-file output's line is PENDING until its file is
written (:func:`confirm`; a stopped run leaves a file that was there someone else's), and a
folder's existing files that unetlab did not write are never listed (``overwrite`` writes
beside them). :func:`forget` drops lines, and :func:`forget_missing` those of files that are
gone (a user removed them): the manifest records, it never removes a file.
:mod:`unetlab.outputs` decides with these what a command may replace, and re-exports them.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from unetlab.atomic import atomic_path, write_error
from unetlab.errors import OutputError

MANIFEST = ".unetlab-outputs"
#: what a manifest line holds, tab-separated (the input and what made it: predict's
#: outputs, since session 27; the last is PENDING-prefixed until the run wrote the file)
FIELDS = "name, command, input, made by"
#: the mark of a "made by" key whose file the run that listed it has not written yet
PENDING = "?"


def _lines(folder: Path) -> list[tuple[str, str, str | None, str | None]]:
    """The folder's manifest, line by line: (file name, command, the input it was made from,
    the key of what made it; None where the line names none: other commands', and manifests
    before session 27)."""
    try:
        text = (folder / MANIFEST).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OutputError(f"{folder / MANIFEST}: cannot read it ({exc.strerror})") from exc
    return [_fields(line) for line in text.splitlines() if line and not line.startswith("#")]


def _fields(line: str) -> tuple[str, str, str | None, str | None]:
    name, _, rest = line.rstrip("\n").partition("\t")
    command, _, rest = rest.partition("\t")
    source, _, made_by = rest.partition("\t")
    return name, command, source or None, made_by or None


def _line(name: str, command: str, source: str | None, made_by: str | None = None) -> str:
    """One manifest line; a source that would break the line (a newline in it) is left out."""
    if source is not None and ("\n" in source or "\r" in source):
        source = None
    if made_by:
        return f"{name}\t{command}\t{source or ''}\t{made_by}\n"
    if source is None:
        return f"{name}\t{command}\n"
    return f"{name}\t{command}\t{source}\n"


def writers_of(folder: Path) -> dict[str, set[str]]:
    """The folder's manifest: file name -> the commands that wrote it (a single-file output
    claimed and not written yet, :func:`unetlab.outputs.claim_files`, is no command's)."""
    entries: dict[str, set[str]] = {}
    for name, command, _, key in _lines(folder):
        if key != PENDING:
            entries.setdefault(name, set()).add(command)
    return entries


def made_from(folder: str | os.PathLike, command: str) -> dict[str, str | None]:
    """Each name ``command`` wrote in ``folder`` -> the input it was made from, as its latest
    manifest line says (None: the line names no input)."""
    return {name: source for name, cmd, source, _ in _lines(Path(folder)) if cmd == command}


def recorded_keys(folder: str | os.PathLike, command: str) -> dict[str, str | None]:
    """Each name ``command`` wrote in ``folder`` -> the key of what made it, as its latest
    manifest line says (None: the line names none; PENDING-prefixed: the run that listed it
    stopped before it wrote the file, which may still be an earlier run's)."""
    return {name: key for name, cmd, _, key in _lines(Path(folder)) if cmd == command}


def forget(
    folder: str | os.PathLike,
    names: Iterable[str],
    command: str,
    *,
    sources: Mapping[str, str] | None = None,
    made_by: Mapping[str, str] | None = None,
    latest: bool = False,
) -> None:
    """Drop the lines of ``names`` written by ``command`` from the folder's manifest
    (rewritten atomically; call it with the folder's lock held); of a name in ``sources``,
    only the lines that say it was made from that input (an earlier input's stay), and of a
    name in ``made_by``, only those with that key. ``latest``: only the last such line of
    each name (the one a run added: an earlier run's identical line stays)."""
    drop, sources, keys = set(names), sources or {}, made_by or {}

    def dropped(line: str) -> bool:
        name, cmd, source, key = _fields(line)
        same = sources.get(name, source) == source and keys.get(name, key) == key
        return name in drop and cmd == command and same

    if not drop:
        return
    lines = _raw_lines(Path(folder))
    hits = [i for i, line in enumerate(lines) if not line.startswith("#") and dropped(line)]
    if latest:  # the last hit of each name
        hits = list({_fields(lines[i])[0]: i for i in hits}.values())
    if hits:
        _write_lines(Path(folder), [line for i, line in enumerate(lines) if i not in set(hits)])


def forget_missing(folder: str | os.PathLike, *, spare: Collection[str] = ()) -> list[str]:
    """Drop the lines of files no longer in ``folder`` (a user removed them; rewritten
    atomically), so that the manifest does not grow with them, and a file someone puts
    there later under such a name is not taken for unetlab's. Kept: the lines of the
    commands in ``spare`` (a training run's names are its own, written yet or not) and the
    lines PENDING without a key (a single-file output claimed and not written yet, perhaps
    by a process that holds no lock), and those of a large output whose staging folder is
    there (``.<name>.partial``: the line makes it a stale temporary, not someone's file).
    Call it with the folder's lock held, before this run lists its names. Returns the
    names dropped."""
    folder = Path(folder)

    def gone(line: str) -> bool:
        name, command, _, key = _fields(line)
        if line.startswith("#") or not name or command in spare or key == PENDING:
            return False
        staged = (f".{name}.partial", f".{name}.ids.partial")
        return not any(os.path.lexists(folder / n) for n in (name, *staged))

    lines = _raw_lines(folder)
    dropped = [line for line in lines if gone(line)]
    if dropped:
        _write_lines(folder, [line for line in lines if not gone(line)])
    return sorted({_fields(line)[0] for line in dropped})


def confirm(folder: str | os.PathLike, made_by: Mapping[str, str], command: str) -> None:
    """Mark the lines ``command`` listed with the PENDING key ``made_by`` gives a name as
    written (the key without the mark): the run wrote those files (call it with the
    folder's lock held)."""

    def confirmed(line: str) -> str:
        name, cmd, source, key = _fields(line)
        if cmd == command and name in made_by and key == PENDING + made_by[name]:
            return _line(name, cmd, source, made_by[name])
        return line

    if made_by:
        _rewrite(Path(folder), confirmed)


def _rewrite(folder: Path, change) -> None:
    """The manifest with each line (not the comments) passed through ``change`` (None drops
    it), rewritten atomically if anything changed."""
    lines = _raw_lines(folder)
    changed = [line if line.startswith("#") else change(line) for line in lines]
    kept = [line for line in changed if line is not None]
    if kept != lines:
        _write_lines(folder, kept)


def _raw_lines(folder: Path) -> list[str]:
    """The manifest's lines as they are, line ends kept (none if there is no manifest)."""
    path = folder / MANIFEST
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(folder: Path, lines: list[str]) -> None:
    """Replace the manifest with ``lines``, atomically."""
    with atomic_path(folder / MANIFEST) as tmp:
        Path(tmp).write_text("".join(lines), encoding="utf-8")


def written_here(folder: str | os.PathLike, command: str | None = None) -> set[str]:
    """Names the folder's manifest lists (files unetlab wrote, or was about to write); with
    ``command``, only those that command wrote."""
    entries = writers_of(Path(folder))
    return {n for n, cmds in entries.items() if command is None or command in cmds}


def record(
    folder: str | os.PathLike,
    names: Iterable[str],
    *,
    command: str = "unetlab",
    sources: Mapping[str, str] | None = None,
    made_by: Mapping[str, str] | None = None,
) -> list[str]:
    """Add ``names`` (written by ``command``; ``sources``: the input each is made from;
    ``made_by``: the key of what makes it) to the folder's manifest, flushed to disk before
    the files are written. One line each: the name, a tab, the command (and a tab and the
    input, and a tab and the key, PENDING-marked until :func:`confirm`). A name listed
    already gets a line again only if it is now made from another input or by another key
    (the latest line holds). Returns the names that got a line."""
    folder, sources, keys = Path(folder), sources or {}, made_by or {}
    new = _relisted(folder, names, command, sources, keys)
    if not new:
        return new
    path = folder / MANIFEST
    head = "" if path.exists() else f"# files written by unetlab into this folder ({FIELDS})\n"
    lines = [
        _line(n, command, sources.get(n), None if n not in keys else PENDING + keys[n]) for n in new
    ]
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(head + "".join(lines))
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise write_error(path, exc) from exc
    return new


def _relisted(
    folder: Path,
    names: Iterable[str],
    command: str,
    sources: Mapping[str, str],
    keys: Mapping[str, str],
) -> list[str]:
    """Those of ``names`` that need a manifest line: not listed for ``command``, or listed
    from another input than ``sources`` gives, or by another key than ``keys`` gives (a
    PENDING one too)."""
    inputs, made = made_from(folder, command), recorded_keys(folder, command)
    return sorted(
        n
        for n in set(names)
        if n not in inputs
        or sources.get(n, inputs[n]) != inputs[n]
        or keys.get(n, made[n]) != made[n]
    )
