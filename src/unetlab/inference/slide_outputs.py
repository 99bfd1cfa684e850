"""A streamed slide's outputs appear together: made under temporary names, then put in place in
one short step, the labels last, and a step that was stopped is finished by the next run.

Each output is minutes of work on a large slide; published one by one, a run killed between
them left a new GeoJSON and overlay beside an earlier run's objects and CSV, whose ids do
not match (audit s30 slides 2). :class:`Together` reserves a place for each output, lets the
slow writers fill them, and renames them all once every one is written: the overlay and
outlines first, the objects, and the labels last (the file that says an input is done).

With a publishing folder (``folder``: :func:`publishing_path`, kept by the cleaning of a
killed run's leftovers as a staging is: it holds :data:`~unetlab.atomic.RESUMABLE`) the
step is a transaction. The files are written into that folder while the slide's stagings
stay resumable; a stop then (Ctrl-C, SIGTERM, ``kill -9``) leaves the earlier outputs as
they were, and the rerun publishes again from the stagings without predicting a tile.
Once every output is written, the folder's record lists the renames (:data:`COMMITTED`),
and from then on they are done, by this run or by the next one (:func:`finish`), whichever
gets there: never a set of outputs half of this run's and half of an earlier one's, and
never the slide predicted again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from unetlab.atomic import (
    COMMITTED,
    RESUMABLE,
    atomic_path,
    committed_record,
    fsync,
    link_or_copy,
    publishing_steps,
    put_in_place,
    remove_tree,
)
from unetlab.data import ome
from unetlab.data.mrc import is_mrc_name
from unetlab.errors import OutputError, Spelled, TheirFileError, spelled
from unetlab.manifest import publishing_name

#: the fix of an output someone else put under a name the slide's run writes, in each
#: caller's words (:func:`~unetlab.errors.spelled`)
CLAIMED_FIX = Spelled(
    "this call never replaces such a file; move it elsewhere and make the same call again",
    "unetlab predict never replaces such a file; move it elsewhere and run the same command again",
)

#: the files a staging keeps to be resumed (unetlab.inference.slide_resume), dropped from an
#: OME-Zarr staging that becomes an output folder
_RESUME_FILES = (RESUMABLE, "unetlab-rows.")


def publishing_path(labels: Path) -> Path:
    """The publishing folder of the image whose labels go to ``labels``: named after
    them, or where that name would pass :data:`~unetlab.atomic.NAME_MAX` bytes after a
    digest of it (:func:`unetlab.manifest.publishing_name`, which the cleaning knows)."""
    return labels.parent / publishing_name(labels.name)


class Together:
    """Places for one slide's outputs, renamed to their final names when the block ends
    without an error (in the reverse order of :meth:`reserve`), removed when it fails.
    ``folder``: a publishing folder (:func:`publishing_path`), whose ``record`` (JSON
    values: what made the outputs) makes the step one that the next run finishes
    (:func:`finish`); without one each file is an :func:`~unetlab.atomic.atomic_path`
    temporary beside its final name."""

    def __init__(self, output_format: str, folder: Path | None = None, record=None, before=None):
        self.output_format = output_format
        self.folder, self.record = folder, record
        self.before = before or {}  # file_stamps of the outputs as the run began
        self._stack = contextlib.ExitStack()
        self._at: dict[Path, Path] = {}
        self._order: list[tuple[Path, Path, bool]] = []  # (place, final, folder), reserved

    def __enter__(self) -> Together:
        if self.folder is not None:
            remove_tree(self.folder, ignore_errors=True)  # a stopped run's, not committed
            self.folder.mkdir(parents=True)
            _write(self.folder, {"state": "writing", **(self.record or {})})
        self._stack.__enter__()
        return self

    def __exit__(self, kind, value, trace) -> bool:
        if self.folder is None:
            return self._stack.__exit__(kind, value, trace)
        if kind is None:
            try:
                self._refuse_changed()
            except TheirFileError as exc:  # as any failure before the commit
                self.__exit__(type(exc), exc, exc.__traceback__)
                raise
        try:
            if kind is None:
                self._commit()
        finally:
            if kind is not None:  # the resumable stagings stay, for the rerun to publish
                remove_tree(self.folder, ignore_errors=True)
                _remove_unresumable(self.folder.parent, (self.record or {}).get("stagings", ()))
            self._stack.__exit__(kind, value, trace)
        if kind is None:
            finish(self.folder)
        elif isinstance(value, OutputError) and (said := self._as_final(str(value))):
            raise type(value)(said) from value
        return False

    def _as_final(self, line: str) -> str | None:
        """An OutputError's ``line`` for a file in the publishing folder naming the output
        it was to be, else None (a full disk: ``out/a_overlay.png: cannot write it``)."""
        inside = f"{self.folder}{os.sep}"
        return (
            f"{self.folder.parent}{os.sep}{line.removeprefix(inside)}"
            if line.startswith(inside)
            else None
        )

    def reserve(self, final: Path, *, folder: bool = False) -> Path:
        """Where ``final`` is written until the step that publishes it: a file in the
        publishing folder (or a temporary beside it), or for an OME-Zarr folder
        (``folder``) its staging folder (:func:`~unetlab.data.ome.staging_path`), renamed
        to ``final`` then."""
        if folder:
            place = ome.staging_path(final)
            if self.folder is None:
                self._stack.push(_folder_publisher(place, final))
        elif self.folder is not None:
            place = self.folder / final.name
        else:
            place = self._stack.enter_context(atomic_path(final))
        self._at[final] = place
        self._order.append((place, final, folder))
        return place

    def at(self, final: Path) -> Path:
        """The place :meth:`reserve` gave for ``final``."""
        return self._at[final]

    def _refuse_changed(self) -> None:
        """TheirFileError (that input's failure) naming an output another program wrote
        since the run began (``before``): a slide streams for hours, and a file put in the
        folder under an output's name then was replaced (audit s41 auditslide)."""
        now = file_stamps(final for final in self.before if final in self._at)
        for final, stamp in now.items():
            if stamp is not None and stamp != self.before[final]:
                said = f"{final} was written by another program while this slide was predicted: "
                raise TheirFileError(**spelled(said.__add__, CLAIMED_FIX))

    def _commit(self) -> None:
        """Every output is written: record the renames (the last reserved first); from
        here on the step is done, by this run or the next."""
        steps = []
        for place, final, is_folder in reversed(self._order):
            if not is_folder:
                fsync(place)
            steps.append([place.name, final.name, is_folder])
        fsync(self.folder)
        # the finals as they are now: a file put under one before its rename is not replaced
        found = file_stamps(self.folder.parent / name for _, name, _ in steps)
        stamps = {path.name: stamp for path, stamp in found.items()}
        record = {"state": COMMITTED, "steps": steps, "stamps": stamps, **(self.record or {})}
        _write(self.folder, record)


def _refuse_put_since(folder: Path, found: dict) -> None:
    """TheirFileError naming a final of a committed publishing ``folder`` (``found``: its
    record) not yet renamed whose file changed since the commit (its ``stamps``; a record of before
    them has none): a user's file put there after a stop among the renames was replaced by
    the rerun (s41 claims2). Its folder is kept: moved away, the next run finishes it."""
    out, stamps = folder.parent, found.get("stamps") or {}
    for source, final, _ in publishing_steps(folder, found):
        if not source.exists() or final not in stamps:
            continue
        (now,) = file_stamps([out / final]).values()
        if now is not None and list(now) != stamps[final]:
            said = f"{out / final} was put there while a stopped run was publishing its outputs: "
            raise TheirFileError(**spelled(said.__add__, CLAIMED_FIX))


def file_stamps(paths) -> dict[Path, tuple[int, int] | None]:
    """Each path's (size, mtime in ns), None where there is none: a file written or
    replaced since gets another. No inode: network mounts (SMB ``noserverino``, FUSE) may
    give a file another one during a run of hours, which would refuse the run's own file."""
    stamps = {}
    for path in map(Path, paths):
        try:
            st = os.lstat(path)
        except OSError:
            stamps[path] = None
        else:
            stamps[path] = (st.st_size, st.st_mtime_ns)
    return stamps


def _folder_publisher(stage: Path, final: Path):
    def publish(kind, value, trace) -> bool:
        if kind is None:
            ome.replace_folder(stage, final)
        else:  # a whole staged array, which no later run of Python would remove
            remove_tree(stage, ignore_errors=True)
        return False

    return publish


def _write(folder: Path, record: dict) -> None:
    with atomic_path(folder / RESUMABLE) as tmp:
        tmp.write_text(json.dumps(record))


def finish(folder: Path) -> dict | None:
    """Finish the publishing ``folder`` a run began: its renames where it was committed
    (each done once: a step whose source is gone was done; an OME-Zarr staging loses its
    resume records first), then the folder and the slide's stagings its record names
    (``"stagings"``) go; one not committed goes alone (its stagings are resumed). Returns
    the record of a committed one, else None. Safe to repeat after a stop anywhere in it."""
    found = committed_record(folder)
    if found is None:
        remove_tree(folder, ignore_errors=True)
        return None
    out = folder.parent
    _refuse_put_since(folder, found)
    for source, final, is_folder in publishing_steps(folder, found):
        if not source.exists():
            continue  # done before a stop
        if is_folder:
            _drop_resume_files(source)
            ome.replace_folder(source, out / final)
        else:
            put_in_place(source, out / final)
    for name in found.get("stagings", ()):
        remove_tree(out / name, ignore_errors=True)
    remove_tree(folder, ignore_errors=True)
    fsync(out)
    return found


def _remove_unresumable(out: Path, names) -> None:
    """Remove the staging folders ``names`` in ``out`` that cannot be resumed (made by the
    publishing, as the objects' renumbered ids): no later run of Python would."""
    for name in names:
        if not (out / name / RESUMABLE).is_file():
            remove_tree(out / name, ignore_errors=True)


def _drop_resume_files(stage: Path) -> None:
    for p in stage.iterdir():
        if p.name.startswith(_RESUME_FILES):
            p.unlink(missing_ok=True)


def seal(
    together: Together, stage: Path, final: Path, spec: ome.OutputSpec, told=None, like=None
) -> Path:
    """Complete a staged OME output (:func:`~unetlab.data.ome.seal`) into the place
    ``together`` holds for ``final``; returns ``final``. With a publishing folder the
    staging stays whole until the outputs are in place (a stop before resumes it): an
    OME-TIFF is sealed from a copy of its levels' files (hard links where the disk has
    them), and a stopped run's levels above 0 of an OME-Zarr staging are made again.
    ``told``: how far its pyramid is (:data:`~unetlab.data.ome.Told`). An MRC ``final``
    (the labels of the MRC file ``like``) is its label file, the staging read as it is
    (:func:`~unetlab.data.ome.seal_mrc`)."""
    fmt = together.output_format
    if is_mrc_name(final):  # an MRC input's labels: its label file, read from the staging
        ome.seal_mrc(stage, together.at(final), like, spec, told)
        return final
    if fmt == "ome-zarr":
        for level in stage.iterdir():
            if level.is_dir() and level.name.isdigit() and level.name != "0":
                remove_tree(level)
    elif together.folder is not None:
        stage = _linked_copy(stage, together.folder / f"{final.name}.stage")
    tiff = together.at(final) if fmt == "ome-tiff" else None
    ome.seal(stage, final, spec, fmt, tiff=tiff, told=told)
    return final


def _linked_copy(stage: Path, copy: Path) -> Path:
    """``copy``: the zarr metadata and level 0 of the staging ``stage``, its chunk files hard
    linked (copied where the disk has no links); the metadata copied, as a writer of the
    pyramid may rewrite them."""
    level = copy / "0"
    level.mkdir(parents=True)
    for p in stage.iterdir():
        if p.is_file() and p.name.startswith(".z"):
            shutil.copy2(p, copy / p.name)
    for p in (stage / "0").iterdir():
        if p.name.startswith(".z"):
            shutil.copy2(p, level / p.name)
        elif p.is_dir():
            shutil.copytree(p, level / p.name, copy_function=link_or_copy)
        else:
            link_or_copy(p, level / p.name)
    return copy
