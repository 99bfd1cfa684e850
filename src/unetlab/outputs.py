"""Where commands may write: never over an input, never over a file unetlab did not write,
never into a folder another unetlab process is writing.

Every command that writes files asks here first:

- :func:`refuse_inputs` refuses an output path that is one of the inputs: the same file
  (also through a symbolic or hard link: same device and inode) or the same name in the same
  folder up to case (one file on case-insensitive file systems such as macOS's and Windows').
  :func:`refuse_inside` refuses an output inside a folder that is read as data.
- A folder's *manifest* (:mod:`unetlab.manifest`, whose names this module re-exports) lists
  the files unetlab wrote there. :func:`claim_files` (single-file outputs: a JSON report, an
  ONNX file) and :func:`output_folder` (a folder of outputs, held under a lock) replace a file
  only if the same command wrote it (from the same input), or with ``overwrite``; never a
  training run's own files (those ``unetlab train`` listed); and a single-file output never
  replaces a file whose suffix names another format (a typo).
- :class:`FolderLock` (``.unetlab.lock``, an ``flock`` held while the command runs): a second
  process given the same folder refuses. The kernel drops the lock when its process dies,
  so a killed run never leaves it stuck.
- :func:`remove_stale_temporaries` deletes the temporaries of :func:`unetlab.atomic.atomic_path`
  that a killed process left behind (only with the folder's lock held); a temporary that a
  live process writes is held (``flock``) and stays.
- :func:`safe_extract` unpacks a zip archive, refusing members that would land outside the
  target folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import logging
import os
import re
import socket
import stat
import time
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path

# TEMPORARY, write_error, try_hold, LockLost: imported from here before unetlab.atomic
# held them
from unetlab.atomic import (
    DIGESTED,
    RESUMABLE,
    TEMPORARY,
    LockLost,
    atomic_path,
    committed_record,
    digest_of,
    file_id,
    folder_sync_deferred,
    noting_digests,
    publishing_steps,
    remove_if_unheld,
    remove_tree,
    temporaries_of,
    try_hold,
    when_written,
    write_error,
    written_digest,
)
from unetlab.errors import (
    FolderInUseError,
    OutputError,
    Spelled,
    UnetlabError,
    in_command,
    said_as,
)
from unetlab.manifest import (  # noqa: F401 (the manifest's names: re-exported)
    FIELDS,
    MANIFEST,
    PENDING,
    claimed_only,
    confirm,
    forget,
    forget_missing,
    made_from,
    manifests_read_once,
    output_stamp,
    output_stamps,
    record,
    recorded_keys,
    rekey,
    restamp,
    sample_digest,
    staged_names,
    take_relisted,
    walking_once,
    writers_of,
    written_here,
)
from unetlab.words import first_listed, worded
from unetlab.zip_damage import PASSWORD_FIX, ZipFixes, member_chunks, open_zip, unreadable

log = logging.getLogger(__name__)

LOCK = ".unetlab.lock"
#: files that file managers drop into folders; they never make a folder "someone else's"
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: the folders a large output is staged in: .<final name>.partial (unetlab.data.ome),
#: .<final name>.ids.partial for a slide's provisional object ids (inference.slide_objects)
#: and .<final name>.pages.partial for a stack's pages read whole (inference.page_resume)
STAGED = re.compile(r"^\.(.+?)(?:\.ids|\.pages)?\.partial$")
#: an output folder set aside while its new version is renamed into place
#: (:func:`unetlab.data.ome.replace_folder`): .<final name>.old
SET_ASIDE = re.compile(r"^\.(.+)\.old$")
#: the command whose files make a run folder (checkpoints, metrics.csv, train.log, ...): no
#: other command ever replaces them
RUN_COMMAND = "train"
#: the record a command writes of a folder of its outputs, which other commands read
#: (predict.json: evaluate --pred reads the predictions' label values and classes in it):
#: no other command ever replaces it
RECORD_FILES = {"predict": "predict.json"}
#: how a command is told to replace files unetlab did not write (the CLI's; Python callers
#: pass PYTHON_OVERWRITE_FIX)
OVERWRITE_FIX = "add --overwrite"
#: the fix of a refused output, as a Python caller spells it
PYTHON_OVERWRITE_FIX = "pass overwrite=True"
#: the setting that replaces outputs, as the caller gives it (:func:`said_as`: a run's files
#: were refused to Python "not even with --overwrite", s57)
OVERWRITE = Spelled("overwrite=True", "--overwrite")
#: the fix of a refused output as the caller spells it (:func:`said_as`): claim_files told a
#: Python caller to "add --overwrite" (s59)
OVERWRITE_FIXES = Spelled(PYTHON_OVERWRITE_FIX, OVERWRITE_FIX)
#: the fix of a refused single-file output, where another path is the way (:func:`claim_files`'
#: ``elsewhere``)
ANOTHER_NAME = "give another name"
#: the suffixes of the formats single-file outputs are written in (``claim_files(formats=)``)
FORMAT_SUFFIXES = {
    "JSON": (".json",),
    "ONNX": (".onnx",),
    "TorchScript": (".pt", ".pth", ".ts", ".torchscript"),
    "YAML": (".yaml", ".yml"),
    "GeoJSON": (".geojson", ".json"),
    "ImageJ ROIs": (".zip",),
}
#: suffixes that say what a file holds: writing another format over one of them is a typo
#: (an ONNX file over data/images/00.png, a JSON report over a .tif)
KNOWN_SUFFIXES = frozenset(
    {s for suffixes in FORMAT_SUFFIXES.values() for s in suffixes}
    | {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".npy", ".npz", ".zip"}
    | {".csv", ".log", ".yaml", ".yml", ".pdf", ".svg"}
)


# --- outputs never replace inputs --------------------------------------------------------


def _name_key(path: Path, folders: dict[Path, tuple[int, int]]) -> tuple[tuple[int, int], str]:
    """(the folder's identity, the name folded to lower case): equal for two names of one
    folder that differ in case only. ``folders``: the identities found by the call, so that
    a folder is stat-ed once, not once per name in it (s66: a flat predict's inputs' folder
    once per input)."""
    parent = path.parent if str(path.parent) else Path(".")
    if parent not in folders:
        folders[parent] = file_id(parent) or (0, hash(str(parent.resolve())))
    return folders[parent], path.name.casefold()


def refuse_inputs(
    outputs: Iterable[str | os.PathLike],
    inputs: Iterable[str | os.PathLike],
    *,
    command: str = "unetlab",
    suffixes: Collection[str] | None = None,
) -> None:
    """Raise OutputError if an output path is one of ``inputs``: the same file (also through
    links) or the same name up to case in the same folder. A folder among ``inputs`` stands
    for the files inside it, recursively (those with ``suffixes``, lower case, if given),
    except those its manifest says ``command`` wrote (e.g. evaluate's own earlier report
    beside the predictions it scores)."""
    outputs = [Path(p) for p in outputs]
    if not outputs:  # nothing to refuse: the input folders need not be listed
        return
    by_id, by_name, folders = {}, {}, {}
    for given in map(Path, inputs):
        found = _stat(given)  # one stat: its identity, and whether it is a folder (s61: 3)
        if found is not None:  # the input itself, a folder too
            by_id[found.st_dev, found.st_ino] = given
        if found is None or not stat.S_ISDIR(found.st_mode):
            by_name[_name_key(given, folders)] = given
            continue
        for path in _files(given, suffixes, command):
            if (fid := file_id(path)) is not None:
                by_id[fid] = path
            by_name[_name_key(path, folders)] = path
    for out in outputs:
        fid = file_id(out)
        clash = by_id.get(fid) if fid is not None else None
        clash = clash or by_name.get(_name_key(out, folders))
        if clash is not None:
            raise OutputError(
                f"{out}: {_writer(command)} would write over its input {clash}; give the output another "
                "name or folder (inputs are never replaced)"
            )


def _writer(command: str, python: str = "this call") -> str:
    """Who would write, or wrote, as a refusal's caller knows it: ``command`` (``unetlab
    evaluate``) on the command line, ``python`` (neutral words: "this call", "unetlab") from
    Python, whose caller ran no command (``Report.write_json`` and ``export_torchscript``
    were told "evaluate would write into ...", "unetlab export would replace ...": s56 new
    user; predict_folder "unetlab predict never replaces such a file", s57, and "to tell
    whether unetlab predict wrote it", s58)."""
    return command if in_command() else python


#: the Python calls that run each command whose files a refusal names (a manifest records the
#: command alone): a notebook that never ran ``unetlab predict`` was told its record was
#: "unetlab predict's" (s58)
_PYTHON_CALLS = {
    "predict": "predict_folder, predict_file",
    "evaluate": "a Report's write_json, write_csv",
    "compare": "write_comparison",  # compare_runs only reads (s58 review G)
    "config": "save_config",
    "export": "export_onnx, export_torchscript",
}


#: the writers a manifest records that no command is, by the Python calls that are them:
#: the command line named a file write_geojson wrote "written by unetlab outlines" (s59)
_CALLS_ALONE = {"outlines": "write_geojson, write_imagej_rois"}


def _other(*commands: str) -> str:
    """Other commands that wrote a file, as a refusal's caller knows them: ``unetlab
    evaluate`` on the command line; from Python, unetlab's evaluate with the calls that run
    it (:data:`_PYTHON_CALLS`), which the caller may have made instead of the command. A
    writer that is Python calls alone (:data:`_CALLS_ALONE`) is named by them either way."""
    if not in_command():
        return " and ".join(map(_python_form, commands))
    ran = [c for c in commands if c not in _CALLS_ALONE]
    named = [f"unetlab {' and '.join(ran)}"] if ran else []
    return " and ".join(named + [_python_form(c) for c in commands if c in _CALLS_ALONE])


def _python_form(command: str) -> str:
    """``command`` named to a Python caller: unetlab's predict (predict_folder, ...); a
    writer of Python calls alone: unetlab's write_geojson, write_imagej_rois (a Python
    call)."""
    if calls := _CALLS_ALONE.get(command):
        return f"unetlab's {calls} (a Python call)"
    calls = _PYTHON_CALLS.get(command)
    return f"unetlab's {command}" + (f" ({calls} or the command line)" if calls else "")


def refuse_inside(
    outputs: Iterable[str | os.PathLike],
    folders: Iterable[str | os.PathLike],
    *,
    command: str = "unetlab",
    outputs_apart: bool = False,
) -> None:
    """Raise OutputError if an output lies in (or below) one of ``folders``: folders a command
    reads as data, where its output would be read as data the next time. The message names
    a place outside them: the output's name in the first folder above that is none of them.
    ``outputs_apart``: the data sets of ``folders`` pass over a sub-folder unetlab wrote
    outputs into (its manifest: a DSB folder's ``predict --output stage1_train/out``), so an
    output in (or below) such a sub-folder, itself none of ``folders``, is not refused."""
    roots = [Path(f).resolve() for f in folders]

    def among(where: Path) -> bool:
        return any(where == root or root in where.parents for root in roots)

    for out in map(Path, outputs):
        where = out.resolve()
        if not among(where) or (outputs_apart and _in_outputs(where.parent, roots)):
            continue
        root = next(r for r in roots if where == r or r in where.parents)
        place = root.parent
        while among(place) and place.parent != place:
            place = place.parent
        raise OutputError(
            f"{out}: {_writer(command)} would write into {root}, which it reads as data (the "
            "next run would read the output as an input); give the output another folder, "
            f"e.g. {_shown(place / out.name)}"
        )


def _in_outputs(folder: Path, roots: Collection[Path]) -> bool:
    """Whether ``folder`` (resolved) or a folder above it, below one of ``roots`` and none
    of them, holds a manifest: a folder of unetlab's outputs that the data passes over."""
    for place in (folder, *folder.parents):
        if place in roots:
            return False
        if (place / MANIFEST).is_file():
            return True
    return False


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder where it lies below it."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _stat(path: Path) -> os.stat_result | None:
    """``os.stat`` of ``path`` (through links), None where it cannot be read."""
    try:
        return os.stat(path)
    except OSError:
        return None


def _files(path: Path, suffixes: Collection[str] | None, command: str) -> Iterator[Path]:
    """The files of the folder ``path`` (with ``suffixes``), less those that ``command``
    itself wrote there earlier (its own outputs, which it may replace)."""
    own: dict[Path, set[str]] = {}
    for p in path.rglob("*"):
        if not p.is_file() or (suffixes is not None and p.suffix.lower() not in suffixes):
            continue
        if p.parent not in own:
            own[p.parent] = written_here(p.parent, command)
        if p.name not in own[p.parent]:
            yield p


def foreign_files(folder: str | os.PathLike, *, keep: Collection[str] = ()) -> list[str]:
    """Entries of ``folder`` that unetlab did not write there (sorted), less ``keep``; a
    sub-folder of unetlab's outputs (its manifest: ``predict --recursive``'s) is not one."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    ours = written_here(folder) | {MANIFEST, LOCK} | SYSTEM_FILES | set(keep)
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in ours
        and not TEMPORARY.match(p.name)
        and not resumable(p)
        and not (p / MANIFEST).is_file()
    )


def resumable(path: Path) -> bool:
    """``path`` is a killed run's staging folder that the same command resumes
    (:mod:`unetlab.inference.slide_resume`): kept by the cleaning of a killed run's
    leftovers, and not another program's file."""
    return bool(STAGED.match(path.name)) and (path / RESUMABLE).is_file()


def claim_files(
    paths: Iterable[str | os.PathLike],
    *,
    inputs: Iterable = (),
    overwrite: bool = False,
    command: str = "unetlab",
    suffixes: Collection[str] | None = None,
    formats: Mapping[str | os.PathLike, str] | None = None,
    overwrite_fix: str | None = None,
    data: Iterable[str | os.PathLike] = (),
    elsewhere: str | Spelled = ANOTHER_NAME,
    keep_existing: bool = False,
) -> list[Path]:
    """Check single-file outputs and record them in their folders' manifests. Returns the
    paths. ``overwrite_fix``: how a refusal tells the caller to pass ``overwrite`` (None: as
    the caller spells it, :data:`OVERWRITE_FIXES`; "": the caller has no such option);
    ``elsewhere``: how it tells them to write elsewhere, as the caller spells it where it is
    :class:`Spelled` (:func:`said_as`: compare's names are fixed, its fix is another
    ``--out`` folder, not "another name", s59).

    Refuses (OutputError, one line), in this order: a folder's manifest or lock
    (:func:`_refuse_bookkeeping`) and another command's record (:func:`_refuse_record`, also
    among ``inputs``); an output that is one of ``inputs`` (:func:`refuse_inputs`); one in
    (or below) a folder of ``data`` (:func:`refuse_inside`, sub-folders of outputs apart); a
    file a training run wrote (:func:`_refuse_replacing`); an existing file whose suffix
    names another format than ``formats`` gives for its path (``{"r.png": "JSON"}``),
    ``overwrite`` or not; last an existing file that ``command`` did not write
    (``keep_existing``: any, a link too), unless ``overwrite``: no refusal sends to an
    ``overwrite`` refused next. A path ``command`` has not written before is listed PENDING,
    which makes it no one's until the file is written (by :func:`unetlab.atomic.atomic_path`):
    a run stopped before it leaves the file as it was, someone else's."""
    paths = [Path(p) for p in paths]
    formats = {Path(p): f for p, f in (formats or {}).items()}
    manifests = {folder: writers_of(folder) for folder in {p.parent for p in paths}}
    writers = {p: manifests[p.parent].get(p.name, ()) for p in paths}  # each read once
    for path in paths:  # first: predict's record among the inputs is refused as the record
        _refuse_bookkeeping(path, command)
        _refuse_record(path, writers[path], command)
    refuse_inputs(paths, inputs, command=command, suffixes=suffixes)
    refuse_inside(paths, data, command=command, outputs_apart=True)
    for path in paths:
        fix = dict(overwrite_fix=overwrite_fix, elsewhere=elsewhere)
        kept = keep_existing and not overwrite
        _check_file(path, writers[path], formats.get(path), command, overwrite, kept, **fix)
    for folder in dict.fromkeys(p.parent for p in paths):  # one manifest append a folder
        _record_pending(folder, [p for p in paths if p.parent == folder], command, writers)
    for path in paths:
        _remove_killed_temporaries(path)
    return paths


def _remove_killed_temporaries(path: Path) -> None:
    """Delete the temporaries of ``path`` (:func:`unetlab.atomic.temporaries_of`) that a
    killed command left (evaluate --json killed while writing: s47 crash review); those
    that a live process is writing stay (:func:`unetlab.atomic.remove_if_unheld`)."""
    for temporary in temporaries_of(path):
        remove_if_unheld(temporary)


def _check_file(
    path: Path,
    writers,
    fmt: str | None,
    command: str,
    overwrite: bool,
    keep_existing: bool,
    **fix,
) -> None:
    """OutputError unless ``command`` may write the file ``path``, which its folder's
    manifest says ``writers`` wrote (:func:`claim_files`' rules but the records, refused
    before; ``fmt``: the format its suffix must name where it exists, or None;
    ``keep_existing``: any existing file refused last; ``fix``: its ``overwrite_fix`` and
    ``elsewhere``)."""
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name")
    typo = path.exists() and fmt is not None and _other_format(path, fmt)
    _refuse_replacing(
        path.parent,
        path.name,
        writers,
        exists=path.exists(),
        command=command,
        # a typo is refused below, overwrite or not: not told to pass overwrite (export
        # over photo.png said "pass overwrite=True", which then refused it as a typo)
        overwrite=overwrite or typo,
        **fix,
    )
    if typo:
        _refuse_other_format(path, fmt, command)
    if keep_existing and os.path.lexists(path):  # a dangling link too
        raise OutputError(f"{path} exists: {_replace_fix(**fix)}")


def _record_pending(
    folder: Path, paths: list[Path], command: str, writers: Mapping[Path, Collection[str]]
) -> None:
    """Make ``folder`` and list those of ``paths`` (all in it) that ``command`` has not
    written before in its manifest as ``command``'s PENDING outputs, confirmed once written
    (the manifest says ``writers[path]`` wrote each: read once for the claim, s59). One
    :func:`record` for them all: one manifest read and one flushed append a folder, not one
    a file (s59 re-read)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(folder, exc) from exc
    new = [p for p in paths if command not in writers[p]]
    if not new:
        return
    record(folder, [p.name for p in new], command=command, made_by={p.name: "" for p in new})
    for path in new:
        # marked written once atomic_path has put it in place: until then its line does
        # not make the file unetlab's (a run stopped before writing leaves the file that
        # was there someone else's)
        when_written(path, functools.partial(confirm, folder, {path.name: ""}, command))


def _refuse_replacing(
    folder: Path,
    name: str,
    writers: Collection[str],
    *,
    exists: bool,
    command: str,
    overwrite: bool,
    overwrite_fix: str | None = None,
    elsewhere: str | Spelled = ANOTHER_NAME,
) -> None:
    """OutputError unless ``command`` may write ``name`` in ``folder`` (which ``exists`` or not;
    the manifest says ``writers`` wrote it): never a file a training run wrote (its
    checkpoints, metrics.csv, train.log, ...; written yet or not) unless ``command`` is
    ``train``; an existing file only if ``command`` wrote it, or with ``overwrite`` (which the
    message names as ``overwrite_fix``, beside ``elsewhere``: :func:`claim_files`' spellings);
    records are refused apart (:func:`_refuse_record`). Cheap when nothing is refused (called
    for each of a folder's outputs)."""
    if RUN_COMMAND in writers and command != RUN_COMMAND:
        raise OutputError(
            f"{folder / name} is a file of the training run in {folder} and "
            f"{_writer(f'unetlab {command}')} never replaces a run's files (not even with "
            f"{said_as(OVERWRITE)}): choose another path"
        )
    if command in writers or overwrite or not exists:
        return
    fix = _replace_fix(overwrite_fix, elsewhere)
    if not writers:
        raise OutputError(f"{folder / name} exists and was not written by unetlab: {fix}")
    others = sorted(set(writers) - {"", "unetlab"})
    raise OutputError(
        f"{folder / name} was written by "
        f"{_other(*others) if others else 'another unetlab command'}, not by "
        f"{_writer(f'unetlab {command}')}: {fix}"
    )


def _replace_fix(overwrite_fix: str | None, elsewhere: str | Spelled) -> str:
    """How a refusal of an existing file says the ways out: ``give another name, or add
    --overwrite to replace it`` (:func:`claim_files`' ``overwrite_fix`` and ``elsewhere``)."""
    fix = _fix_named(overwrite_fix)
    other = said_as(elsewhere) if isinstance(elsewhere, Spelled) else elsewhere
    return f"{other}, or {fix} to replace it" if fix else other


#: what a folder's manifest and lock are, as :func:`_refuse_bookkeeping` says it
BOOKKEEPING = {
    MANIFEST: "where unetlab keeps track of the files it writes",
    LOCK: "the lock unetlab holds while it writes",
}


def _refuse_bookkeeping(path: Path, command: str) -> None:
    """OutputError where ``path`` is a folder's list of unetlab's outputs (:data:`MANIFEST`)
    or its lock (:data:`LOCK`), overwrite or not: ``config --write .unetlab-outputs
    --overwrite`` (and ``evaluate --json``) replaced the record with YAML, and the next
    outputs' lines were appended under it (s69 review)."""
    if path.name in BOOKKEEPING:
        raise OutputError(
            f"{path} is {BOOKKEEPING[path.name]} in {path.parent} and "
            f"{_writer(f'unetlab {command}')} never replaces it, overwrite or not: choose "
            "another name"
        )


def _refuse_record(path: Path, writers: Collection[str], command: str) -> None:
    """OutputError where ``path`` is another command's record of its outputs
    (:data:`RECORD_FILES`), overwrite or not: evaluate --json out/predict.json --overwrite,
    or ``Report.write_json(..., overwrite=True)``, replaced predict's record, and evaluate
    of those predictions then read no label values, classes or model."""
    owner = next((c for c, name in RECORD_FILES.items() if name == path.name), None)
    if owner is not None and owner in writers and command != owner:
        whose = f"unetlab {owner}'s record" if in_command() else f"the record {_other(owner)} keeps"
        raise OutputError(
            f"{path} is {whose} of the outputs in {path.parent} (other commands read it) and "
            f"{_writer(f'unetlab {command}')} never replaces it, overwrite or not: choose "
            "another path"
        )


def _other_format(path: Path, fmt: str) -> bool:
    """Whether ``path``'s suffix names another format than ``fmt`` (a typo)."""
    suffix = path.suffix.lower()
    return suffix in KNOWN_SUFFIXES and suffix not in FORMAT_SUFFIXES.get(fmt, (suffix,))


def _refuse_other_format(path: Path, fmt: str, command: str) -> None:
    """OutputError if ``path``'s suffix names another format than ``fmt`` (a typo)."""
    suffix = path.suffix.lower()
    wanted = FORMAT_SUFFIXES.get(fmt, (suffix,))
    if _other_format(path, fmt):
        raise OutputError(
            f"{path}: {_writer(f'unetlab {command}')} would replace this {suffix} file with {fmt} (a typo?): "
            f"give the {fmt} file a name ending in {' or '.join(wanted)}"
        )


@contextlib.contextmanager
def output_folder(
    folder: str | os.PathLike,
    names: Iterable[str],
    *,
    inputs: Iterable = (),
    overwrite: bool = False,
    keep: Collection[str] = (),
    command: str = "unetlab",
    overwrite_fix: str | None = None,
    elsewhere: str | Spelled = ANOTHER_NAME,
    sources: Mapping[str, str] | None = None,
    made_by: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
    carried: Callable[[Path], str | None] | None = None,
    digested: Callable[[Path], bool] | None = None,
    keep_edited: bool = False,
    keep_fix: Spelled | None = None,
) -> Iterator[Path]:
    """Make ``folder`` ready for outputs ``names``, held under its lock; yields it. Refuses
    (OutputError, before any work) an output among ``inputs``, a folder not writable or held,
    and what :func:`_claim` refuses (files unetlab did not write, unless ``overwrite``; fix:
    ``overwrite_fix``, ``elsewhere``). ``sources``: each output's input; ``made_by``: its key
    (a callable). One changed since written (:func:`_differs`: size, key ``carried``, content
    where ``digested``) is kept, a run refused (``keep_fix``) but ``overwrite``/``keep_edited``."""
    folder, names, sources = Path(folder), list(names), dict(sources or {})
    refuse_inputs([folder / n for n in names], inputs, command=command)
    made, listed = _made_folder(folder), (folder / MANIFEST).exists()
    fix = dict(overwrite=overwrite, overwrite_fix=_fix_named(overwrite_fix), carried=carried)
    fix |= dict(elsewhere=elsewhere, keep_edited=keep_edited, keep_fix=keep_fix, digested=digested)
    _forget_run(folder.resolve())  # a stopped run's
    try:
        with _held(folder):
            with walking_once():  # a Zarr input once, not once per output of it
                claim = _claim(folder, names, sources, keep, made_by, command, **fix)
            try:
                yield folder
            except UnetlabError:
                _unclaim(folder, claim, command, listed)
                raise
            except BaseException:  # stopped (Ctrl-C, SIGTERM, a full disk)
                with contextlib.suppress(OSError, UnetlabError):
                    _stamp_kept(folder, claim, command)
                raise
            _settle(folder, claim, command)
    except UnetlabError:
        if made:
            _remove_if_unused(folder)
        raise
    finally:
        _forget_run(folder.resolve())


@contextlib.contextmanager
def _held(folder: Path) -> Iterator[None]:
    """``folder`` held under its lock for a run (:func:`output_folder`): its entries flushed
    once, its manifests read once, the digests of the TIFFs written in it noted
    (:func:`~unetlab.atomic.noting_digests`) till it ends."""
    with FolderLock(folder), folder_sync_deferred(folder), manifests_read_once(), noting_digests():
        yield


def _fix_named(overwrite_fix: str | None) -> str:
    """``overwrite_fix``, or where None the fix as the caller spells it (:func:`said_as`)."""
    return said_as(OVERWRITE_FIXES) if overwrite_fix is None else overwrite_fix


def _forget_run(folder: Path) -> None:
    """What a run told of the (resolved) ``folder`` it held, forgotten as it begins and
    ends (a run stopped, or a call that held no folder, left it)."""
    for told in (_FAILED, _EDITED, _UNREAD, _KEPT):
        told.pop(folder, None)


#: each folder an :func:`output_folder` holds (resolved) -> the inputs that failed in the run
#: (:func:`inputs_failed`), for :func:`_settle`
_FAILED: dict[Path, set[str]] = {}
#: each folder an :func:`output_folder` holds (resolved) -> the outputs its run kept as they
#: were beside those it wrote of their input (:func:`outputs_kept`), for :func:`_settle`
_KEPT: dict[Path, set[str]] = {}
#: each folder an :func:`output_folder` holds with ``keep_edited`` (resolved) -> its outputs
#: the user changed, still listed: :func:`refuse_unlisted` refuses them all the same
_EDITED: dict[Path, set[str]] = {}
#: each folder an :func:`output_folder` holds (resolved) -> its outputs, still listed, that
#: could not be read to tell whether unetlab wrote them (:func:`_keep_unread`) -> why:
#: :func:`refuse_unlisted` refuses them too
_UNREAD: dict[Path, dict[str, str]] = {}


def inputs_failed(folder: str | os.PathLike, sources: Iterable[str]) -> None:
    """Tell the run that holds ``folder`` (:func:`output_folder`) that the inputs
    ``sources`` failed: none of their outputs' names counts as written at its end, even
    where another program wrote one meanwhile, so nothing of an earlier run is removed
    because an input failed."""
    _FAILED.setdefault(Path(folder).resolve(), set()).update(sources)


def outputs_kept(folder: str | os.PathLike, names: Iterable[str]) -> None:
    """Tell the run that holds ``folder`` (:func:`output_folder`) that the outputs ``names``
    are kept as they are while it writes others of their input (an overlay drawn from the
    labels there): at its end they count as written by it (confirmed with its key), not
    removed as an earlier run's outputs it did not write."""
    _KEPT.setdefault(Path(folder).resolve(), set()).update(names)


def handed_kept(folder: str | os.PathLike) -> set[str]:
    """The outputs of ``folder`` this process was told kept (:func:`outputs_kept`),
    forgotten here: a process of a group but the main one hands them to the main one, whose
    run holds the folder and settles it (:func:`_settle` reads only its own process's)."""
    return _KEPT.pop(Path(folder).resolve(), set())


def _made_folder(folder: Path) -> bool:
    """Make ``folder`` (OutputError where it is a file or cannot be made); whether it was
    made here."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; give a folder for the outputs")
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(folder, exc) from exc
    return made


@dataclasses.dataclass(frozen=True)
class _Claim:
    """What :func:`_claim` recorded, for :func:`_settle`: the ``stamps`` of the names to
    watch, the ``fresh`` names this run listed, the ``sources`` and ``keys`` it listed
    them with, the manifest's inputs ``before`` it, and each input -> the other inputs
    whose outputs it replaces (``replaced``); the output stamps of the names it may write
    (``recorded``), taken off their lines while it runs (:func:`_unstamp`)."""

    stamps: Mapping[str, tuple[int, int] | None]
    fresh: Collection[str]
    sources: Mapping[str, str]
    keys: Mapping[str, str]
    before: Mapping[str, str | None]
    replaced: Mapping[str, Collection[str]]
    recorded: Mapping[str, str] = dataclasses.field(default_factory=dict)
    carried: Callable[[Path], str | None] | None = None
    edited: Collection[str] = ()
    digested: Callable[[Path], bool] | None = None


def _claim(folder: Path, names, sources, keep, made_by, command, *, keep_edited, **fix) -> _Claim:
    """Check the held ``folder`` for ``names`` and record them in its manifest (first
    dropping its lines of files that are gone: :func:`forget_missing`). Removes stale
    temporaries; refuses a folder that holds files unetlab did not write (but ``keep``),
    one of ``names`` that :func:`_refuse_replacing` refuses, and one that ``command`` made
    from another input than ``sources`` gives (:func:`_other_inputs`), unless
    ``overwrite``; outputs changed since ``command`` wrote them (:func:`_disown_changed`)."""
    carried, elsewhere, keep_fix = fix.pop("carried"), fix.pop("elsewhere"), fix.pop("keep_fix")
    digested = fix.pop("digested")
    remove_stale_temporaries(folder)
    take_relisted(folder)  # what a stopped group's processes handed over (s65)
    edited = keep_changed(
        folder,
        {*names, *sources},
        command,
        carried=carried,
        keep_edited=keep_edited,
        overwrite=fix["overwrite"],
        keep_fix=keep_fix,
        overwrite_fix=fix["overwrite_fix"],
    )
    _refuse_foreign(folder, keep, **fix)
    manifest, present = writers_of(folder), {p.name for p in folder.iterdir()}
    theirs = {n for n in present if n not in manifest}  # never listed, never replaced
    for name in names:
        writers, exists = manifest.get(name, ()), name in present
        _refuse_record(folder / name, writers, command)
        how = dict(exists=exists, command=command, elsewhere=elsewhere)
        _refuse_replacing(folder, name, writers, **how, **fix)
    before = made_from(folder, command)  # read above
    replaced = _other_inputs(folder, names, sources, before, present, command, **fix)
    # a file under a name a stopped run only claimed is not its own: never removed (a
    # user's put there after a kill -9 was, as "an earlier output" of its input)
    unproven = claimed_only(folder, present.intersection(before), command)
    before = {n: s for n, s in before.items() if n not in unproven}
    keys = made_by() if callable(made_by) else made_by  # kept: read again at _settle
    keys = {} if keys is None else keys
    ours = [n for n in names if n not in theirs]
    forget_missing(folder, spare=[RUN_COMMAND])  # lines of files a user removed
    fresh = record(folder, ours, command=command, sources=sources, made_by=keys)
    # this input's earlier outputs (another model's or settings', a kind not asked for
    # now): removed once the run wrote that input's new ones (_settle)
    own = {n for n, s in sources.items() if before.get(n) == s and n in present}
    watched = set(fresh) | own | {n for n, s in sources.items() if s in replaced}
    stamps = {n: _stamp(folder / n) for n in watched}
    recorded = _unstamp(folder, [n for n in ours if n not in edited], command)
    return _Claim(
        stamps, fresh, sources, keys, before, replaced, recorded, carried, edited, digested
    )


def keep_changed(
    folder: Path,
    names: Collection[str],
    command: str,
    *,
    carried: Callable[[Path], str | None] | None = None,
    keep_edited: bool = False,
    overwrite: bool = False,
    keep_fix: Spelled | None = None,
    overwrite_fix: str | None = None,
) -> set[str]:
    """Those of ``names`` in the held ``folder`` that the user changed since ``command``
    wrote them (:func:`_disown_changed`): a run refused by one line naming its fixes
    (``keep_fix``, the overwrite one), but with ``keep_edited`` or ``overwrite``, which keep
    them, lines and all, as they are (:func:`edited_outputs`; ``overwrite`` dropped their
    lines, so that its file was refused as "unetlab did not write it", its input failed,
    and the next run refused the folder for it: s73 review)."""
    keep = said_as(keep_fix) if keep_fix is not None else ""
    stops = None if keep_edited or overwrite else (keep, _fix_named(overwrite_fix))
    kept = keep_edited or overwrite
    return _disown_changed(folder, names, command, carried, kept, stops, quiet=keep_edited)


def edited_outputs(folder: str | os.PathLike) -> set[str]:
    """The outputs of the held ``folder`` its run keeps as the user changed them
    (:func:`keep_changed`): never written over, their inputs' other outputs written."""
    return set(_EDITED.get(Path(folder).resolve(), ()))


def unread_outputs(folder: str | os.PathLike) -> set[str]:
    """The outputs of the held ``folder`` that could not be read to tell whether the run's
    command wrote them (:func:`_keep_unread`): neither replaced nor removed."""
    return set(_UNREAD.get(Path(folder).resolve(), ()))


def stamp_outputs(folder: str | os.PathLike, names: Iterable[str], command: str) -> None:
    """The lines of ``names`` (outputs ``command`` just wrote in the held ``folder``, claimed
    by :func:`claim_files`: a run's one file of all its inputs) given their files' stamps,
    so that a file the user changes since is told as theirs (:func:`keep_changed`)."""
    folder = Path(folder)
    restamp(folder, {n: _stamp_now(folder / n, None) for n in names}, command)


def _disown_changed(
    folder: Path, names, command: str, carried, keep: bool, stops, *, quiet: bool = False
) -> set[str]:
    """Those of ``names`` whose file is not the one ``command`` wrote (:func:`_differs`: an
    edited mask saved over it, another program's file) are someone else's: never replaced
    nor removed (a rerun replaced them, or removed them as an input's outputs of other
    settings); their lines dropped, or with ``keep`` (``--skip-existing``, which skips
    their inputs as before: s42 edges3) kept and the names held in :data:`_EDITED`; with
    ``stops`` (the fixes: the option that keeps them, the overwrite one) an OutputError
    saying them, lines kept. Those that cannot be read to tell (an I/O error) are kept too,
    lines and all (:func:`_keep_unread`)."""
    recorded = output_stamps(folder, command)
    told = _tell(folder, names, recorded, carried)
    unread = {n: why for n, why in told.items() if isinstance(why, str)}
    if unread:
        _keep_unread(folder, unread, command)
    _retime(folder, {n: recorded[n] for n, why in told.items() if why is False}, command)
    changed = sorted(n for n, why in told.items() if why is True)
    if changed and stops is not None:
        raise OutputError(_edited_line(folder, changed, command, *stops))
    if changed:
        (log.info if quiet else log.warning)(
            "%s: %s changed since %s wrote %s: yours now, never replaced or removed",
            folder,
            first_listed(changed, 3),
            _writer(f"unetlab {command}", "unetlab"),
            worded(len(changed), "it", "them"),
        )
        if keep:
            _EDITED.setdefault(folder.resolve(), set()).update(changed)
        else:
            forget(folder, changed, command)
    return {*changed, *unread}


def changed_outputs(folder: str | os.PathLike, names: Collection[str], command: str) -> set[str]:
    """Those of ``names`` in ``folder`` that :func:`keep_changed` would keep as not the
    files ``command`` wrote (changed since, or unread to tell), nothing said nor recorded:
    a refusal's look ahead at what the run would keep (s75 review: it named a corrected
    file as where ``--overwrite`` writes)."""
    recorded = output_stamps(Path(folder), command)
    return {n for n, why in _tell(Path(folder), names, recorded, None).items() if why}


def _tell(folder: Path, names, recorded: Mapping[str, str], carried) -> dict[str, bool | str]:
    """Each of ``names`` that ``recorded`` (its command's stamps) lists and is there ->
    :func:`_told`."""
    return {
        n: _told(folder / n, recorded[n], carried)
        for n in names
        if n in recorded and os.path.lexists(folder / n)
    }


def _edited_line(folder: Path, changed: list[str], command: str, keep: str, beside: str) -> str:
    """The refusal of a run over ``folder`` whose outputs ``changed`` (a file corrected in
    labelme saved over its own) were changed since ``command`` wrote them: the fixes that
    keep them (``keep``: predict's --skip-existing; ``beside``: the overwrite option), else
    another folder (a plain rerun was refused as of files "unetlab did not write", its
    lines dropped, so that ``keep`` refused the folder too: s72 notes)."""
    them = worded(len(changed), "it", "them")
    fixes = [f"{keep} to run only on inputs with no outputs there (yours kept)"] if keep else []
    fixes += [f"{beside} to write the others beside {them}"] if beside else []
    fixes.append("give an empty or new folder")
    shown = ", or ".join([", ".join(fixes[:-1]), fixes[-1]] if len(fixes) > 1 else fixes)
    whose = _writer(f"unetlab {command}", "unetlab")
    return (
        f"{folder}: {first_listed(changed, 3)} changed since {whose} wrote {them} (yours now, "
        f"never replaced or removed): {shown}"
    )


def _told(path: Path, stamp: str, carried) -> bool | str:
    """:func:`_differs`, or why ``path`` could not be read to tell (an I/O error, no
    permission): not taken for a user's edit."""
    try:
        return _differs(path, stamp, carried)
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _keep_unread(folder: Path, unread: Mapping[str, str], command: str) -> None:
    """Outputs of ``folder`` that could not be read to tell whether ``command`` wrote them
    (``unread``: name -> why): their lines kept, the files neither replaced nor removed
    (:data:`_UNREAD`), and one line says so (an I/O error read as "changed by the user"
    dropped their lines for good)."""
    names = sorted(unread)
    log.warning(
        "%s: %s could not be read (%s): left as %s, listed as %s's; %s and run again to replace %s",
        folder,
        first_listed(names, 3),
        unread[names[0]],
        worded(len(names), "it is", "they are"),
        _writer(f"unetlab {command}", "unetlab"),
        _unread_fix(unread[names[0]], len(names)),
        worded(len(names), "it", "them"),
    )
    _UNREAD.setdefault(folder.resolve(), {}).update(unread)


#: the ``strerror`` of a file that cannot be read for its permissions
_NO_PERMISSION = {os.strerror(errno.EACCES), os.strerror(errno.EPERM)}


def _unread_fix(why: str, count: int = 1) -> str:
    """What to check of ``count`` outputs that could not be read for ``why`` (their
    ``strerror``): their permissions (a ``chmod 000`` said "check the disk"), else the disk."""
    if why in _NO_PERMISSION:
        return "check the file's permissions" if count == 1 else "check the files' permissions"
    return "check the disk"


def _stamp_now(path: Path, carried, digested: Callable[[Path], bool] | None = None) -> str | None:
    """What a line records of its output ``path`` once written: its size
    (:func:`~unetlab.manifest.output_stamp`) and the key it carries (``carried``: the key
    embedded in it, None where it carries none); an OME-Zarr folder's key alone. Of a file
    that carries none (a table), or one whose key an editor keeps (``digested`` says so: a
    NIfTI volume's ``descrip``, an MRC file's header label), its content too
    (:func:`_content_stamp`), with its time where settled (:func:`_time_word`)."""
    carried = _quiet(carried)
    if carried is not None and path.is_dir() and not path.is_symlink():
        key = carried(path)
        return f"key {key}" if key else None
    size = output_stamp(path)
    key = carried(path) if size and carried is not None else None
    if not size:
        return size
    length = int(size.split()[1])
    if not key:  # a keyless file (a table): its content, up to DIGESTED (s42 review2)
        return size + (_read_stamp(path, length) if length <= DIGESTED else "")
    kept = digested is not None and digested(path)  # s73 review: an edit kept the key
    return f"{size} key {key}" + (_read_stamp(path, length) if kept else "")


def _read_stamp(path: Path, size: int) -> str:
    """:func:`_content_stamp` and :func:`_time_word`, "" where ``path`` cannot be read."""
    try:
        return _content_stamp(path, size) + _time_word(path)
    except OSError:
        return ""


#: how much older than its stamp (ns) a file's time must be for the stamp to record it, so
#: that an edit after gets another: more than a tick of the disk's clock, of whole seconds
#: (a time of whole seconds: FAT's 2 s, HFS+'s 1 s) or finer (the kernel's few ms)
SETTLED_NS = (3 * 10**9, 10**8)


def _time_word(path: Path) -> str:
    """`` mtime <ns>`` of the file ``path`` where that is settled (:data:`SETTLED_NS`: an
    edit since gives it another), else "": a stamp's content is read again to tell an edit
    only where its time changed (s74 review: a --skip-existing rerun over 20 outputs of
    12.6 MB read 244 MiB, main 3.9). OSError where it cannot be read."""
    mtime = os.lstat(path).st_mtime_ns
    settled = SETTLED_NS[bool(mtime % 10**9)]
    return f" mtime {mtime}" if time.time_ns() - mtime > settled else ""


def _content_stamp(path: Path, size: int) -> str:
    """`` digest <32 hex digits>`` of the bytes of the file ``path`` of ``size`` bytes, up
    to :data:`DIGESTED`, `` sample <16 hex digits>`` of a larger one's start, middle and end
    (:func:`~unetlab.manifest.sample_digest`, as of an input). OSError where it cannot be
    read."""
    if size > DIGESTED:
        return f" sample {sample_digest(path, size)}"
    return f" digest {written_digest(path) or _content_digest(path)}"


def _quiet(carried: Callable[[Path], str | None] | None) -> Callable[[Path], str | None] | None:
    """``carried`` with None for a file it cannot read (its OSError)."""
    if carried is None:
        return None

    def read(path: Path) -> str | None:
        try:
            return carried(path)
        except OSError:
            return None

    return read


def _content_digest(path: Path) -> str:
    """A digest of the file ``path``'s bytes (:func:`~unetlab.atomic.digest_of`); OSError
    where it cannot be read."""
    with open(path, "rb") as f:  # 64 KiB reads: as fast as 1 MiB, and a run's peak less
        return digest_of(iter(lambda: f.read(2**16), b""))


def _differs(path: Path, stamp: str, carried: Callable[[Path], str | None] | None) -> bool:
    """Whether the output ``path`` is not the file its line's ``stamp`` (:func:`_stamp_now`)
    records: another size, or it no longer carries the key (a user's edit saved by Pillow
    or tifffile drops it), or another content where it records that (:func:`_content_stamp`:
    a table's, a TIFF, NIfTI or MRC volume's whose key an editor kept), read only where its
    time is not the one the stamp records (:func:`_same_time`). Never its time alone: a
    ``cp -r``, a ``touch`` or a sync tool changes that alone (s42 edges3); a stamp of
    session 42's first lines also held it. OSError where the file cannot be read to tell
    (``carried``'s, the digest's)."""
    said = _stamp_words(stamp)
    if "size" in said:
        now = output_stamp(path)
        if now is None or now.split()[1] != said["size"]:
            return True
        recorded = _said_content(said)
        if (
            recorded
            and not _same_time(path, said)
            and _content_stamp(path, int(said["size"])) != recorded
        ):
            return True  # a table, or a volume keeping its key, edited to the same size
    elif not path.is_dir():
        return True
    key = said.get("key")
    return bool(key) and (carried is None or carried(path) != key)


def _stamp_words(stamp: str) -> dict[str, str]:
    """A stamp's words: ``size``, ``key``, a digest or sample, ``mtime``: each a word."""
    words = stamp.split()
    return dict(zip(words[::2], words[1::2]))


def _retime(folder: Path, unchanged: Mapping[str, str], command: str) -> None:
    """The lines of ``unchanged`` (name -> its stamp, its file found unetlab's) given the
    time their file has now where their content was read to tell (:func:`_retimed`)."""
    retimed = {n: s for n, stamp in unchanged.items() if (s := _retimed(folder / n, stamp))}
    if retimed:
        restamp(folder, retimed, command)


def _retimed(path: Path, stamp: str) -> str | None:
    """``stamp`` with the time ``path`` has now where it records its content and another
    time (a copy, a ``touch``; or none, written less than :data:`SETTLED_NS` before it):
    read once to tell, not at every run; None where that is not so."""
    said = _stamp_words(stamp)
    try:
        now = _time_word(path) if _said_content(said) else ""
    except OSError:
        return None
    if not now or now.split()[1] == said.get("mtime"):
        return None
    return " ".join(f"{w} {v}" for w, v in said.items() if w != "mtime") + now


def _same_time(path: Path, said: Mapping[str, str]) -> bool:
    """Whether the stamp's words ``said`` record the time ``path`` has (:func:`_time_word`):
    unchanged since, its content not read again."""
    return "mtime" in said and str(os.lstat(path).st_mtime_ns) == said["mtime"]


def _said_content(said: Mapping[str, str]) -> str:
    """The :func:`_content_stamp` a stamp's words ``said`` record ("" none)."""
    return next((f" {w} {said[w]}" for w in ("digest", "sample") if w in said), "")


def _unstamp(folder: Path, names: Collection[str], command: str) -> dict[str, str]:
    """The output stamps of ``names`` (which the run may write) taken off their lines while
    it runs, and returned: a run stopped after it wrote one leaves it unstamped (its own
    file, not taken for someone else's), :func:`_settle` stamps it again."""
    recorded = output_stamps(folder, command)
    recorded = {n: recorded[n] for n in names if n in recorded}
    if recorded:
        restamp(folder, dict.fromkeys(recorded), command)
    return recorded


def _stamp_kept(folder: Path, claim: _Claim, command: str) -> None:
    """The stamps the claim took off (:func:`_unstamp`) given back to the outputs the run
    left as they were; those it wrote (it stopped before :func:`_settle`) stay without:
    its own, not taken for someone else's."""
    told = {n: _told(folder / n, s, claim.carried) for n, s in claim.recorded.items()}
    restamp(folder, {n: s for n, s in claim.recorded.items() if told[n] is not True}, command)


def _stamp_written(folder: Path, claim: _Claim, written: Collection[str], command: str) -> None:
    """The lines of ``written`` (the run's outputs it wrote) given their files' stamps now,
    and those the claim took off of the others given back (:func:`_unstamp`)."""
    stamps = {n: s for n, s in claim.recorded.items() if n not in written}
    stamps |= {n: _stamp_now(folder / n, claim.carried, claim.digested) for n in written}
    restamp(folder, {n: s for n, s in stamps.items() if s or n in claim.recorded}, command)


def _settle(folder: Path, claim: _Claim, command: str) -> None:
    """The manifest after a run, from the ``claim`` taken before it: of each input the run
    wrote outputs of, the outputs it did not write this time are removed
    (:func:`_remove_replaced`): those ``command`` made earlier from that input (another
    model's or settings', a kind not asked for now: the folder never holds one input's
    outputs of two runs) and another input's it replaced in part; the ``fresh`` names
    (listed by this run) it did not write are unlisted again (only this run's lines: an
    earlier line of the name holds again), and the keys of those it wrote confirmed."""
    sources, before, keys = claim.sources, claim.before, claim.keys
    failed = _FAILED.pop(folder.resolve(), set())
    of_failed = {n for n in claim.stamps if n in sources and sources[n] in failed}
    kept = _KEPT.pop(folder.resolve(), set()) & set(claim.stamps)  # as if written again
    listed = staging_listing(folder)  # its stagings now: one listing, not 4 stats each
    untouched = {n for n, stamp in claim.stamps.items() if _untouched(folder, n, stamp, listed)}
    untouched |= {n for n in of_failed if _untouched(folder, n, _stamp(folder / n), listed)}
    untouched -= kept
    # an input is written where its files changed, and it did not fail: a staging folder
    # (the input failed after it staged pages or rows), or a file another program wrote
    # meanwhile, removes nothing of an earlier run (s42 edges)
    changed = {n for n, stamp in claim.stamps.items() if _stamp(folder / n) != stamp} | kept
    changed -= of_failed
    wrote = {sources[n] for n in changed if n in sources}
    gone = {
        n
        for n in untouched
        if sources.get(n) in wrote
        and (before.get(n) == sources[n] or before.get(n) in claim.replaced.get(sources[n], ()))
    }
    gone -= set(claim.edited)  # the user's, as --skip-existing kept them listed
    _remove_replaced(folder, gone, before, command)
    # names this run may have written and did not (a .tif where a .png was written, no
    # overlay for a large image), absent or someone else's file left as it was (--overwrite):
    # unlisted again, so such a file is not taken for unetlab's; of another input's file
    # left as it was, only this run's line goes (it stays that input's)
    left = untouched - gone
    pending = {n: PENDING + key for n, key in keys.items()}
    unlisted = [n for n in claim.fresh if n in left]
    forget(folder, unlisted, command, sources=sources, made_by=pending, latest=True)
    # a name with only its staging folder (its input failed) stays claimed: not unetlab's file
    made = {n for n in claim.fresh if n in keys and n in changed and (folder / n).exists()}
    confirm(folder, {n: keys[n] for n in made}, command)
    _stamp_written(folder, claim, {n for n in changed if n in keys}, command)


def _unclaim(folder: Path, claim: _Claim, command: str, listed: bool) -> None:
    """After a one-line error: the lines ``claim`` added of names the run did not write
    dropped, as :func:`_settle` drops them, and the manifest removed where the run made it
    (``listed``: it was there before) and it lists nothing now: a run refused by a user's
    objects_summary.csv left a hidden .unetlab-outputs in their folder (audit s41 claims)."""
    names = staging_listing(folder)  # its OSError replaced the user's refusal (s67 review)
    untouched = [n for n in claim.fresh if _untouched(folder, n, claim.stamps.get(n), names)]
    pending = {n: PENDING + key for n, key in claim.keys.items()}
    forget(folder, untouched, command, sources=claim.sources, made_by=pending, latest=True)
    _stamp_kept(folder, claim, command)
    if not listed and not writers_of(folder) and not recorded_keys(folder, command):
        (folder / MANIFEST).unlink(missing_ok=True)


def refuse_unlisted(
    paths: Iterable[str | os.PathLike],
    command: str = "unetlab",
    error: type[OutputError] = OutputError,
) -> None:
    """``error`` (an OutputError) if one of ``paths`` (about to be written) exists and its
    folder's manifest does not list it: a file unetlab did not write, which
    :func:`output_folder` left unlisted (``overwrite`` writes beside such files, never over
    them). Cheap where none of ``paths`` exists."""
    for path in map(Path, paths):
        unread = _UNREAD.get(path.parent.resolve(), {}) if _UNREAD else {}
        if path.name in unread and os.path.lexists(path):
            why = unread[path.name]
            whose = _writer(f"unetlab {command}", "unetlab")
            raise error(
                f"{path} could not be read ({why}) to tell whether {whose} wrote it: never "
                f"replaced unchecked; {_unread_fix(why)} and run again"
            )
        if os.path.lexists(path) and (
            path.name not in writers_of(path.parent)
            or (_EDITED and path.name in _EDITED.get(path.parent.resolve(), ()))
        ):
            raise error(
                f"{path} exists and unetlab did not write it: {_writer(f'unetlab {command}')} "
                "never replaces such a file, even when told to overwrite; write to another "
                "folder, or move the file elsewhere"
            )


def _refuse_foreign(folder: Path, keep: Collection[str], *, overwrite: bool, overwrite_fix: str):
    """OutputError if ``folder`` holds files unetlab did not write (but ``keep``), unless
    ``overwrite``; an empty ``overwrite_fix``: the command has no such option (a preview)."""
    if (others := foreign_files(folder, keep=keep)) and not overwrite:
        # a data set's folder (images/, masks/) was said "holds files ... (images, masks)"
        dirs = {name for name in others if (folder / name).is_dir()}
        shown = first_listed([name + "/" * (name in dirs) for name in others], 3)
        kinds = ("files", "folders", "files and folders")
        kind = kinds[bool(dirs) + (bool(dirs) and len(dirs) < len(others))]
        beside = f", or {overwrite_fix} to write beside them (never over them)"
        raise OutputError(
            f"{folder} holds {kind} that unetlab did not write ({shown}): give an "
            f"empty or new folder{beside if overwrite_fix else ''}"
        )


def _other_inputs(
    folder: Path,
    names: Iterable[str],
    sources: Mapping[str, str],
    before: Mapping[str, str | None],
    present: Collection[str],
    command: str,
    *,
    overwrite: bool,
    overwrite_fix: str,
) -> dict[str, set[str]]:
    """Each input of ``sources`` -> the other inputs whose outputs it would replace: those of
    ``names`` that exist (``present``) and that ``command`` made from another input
    (``before``: the manifest's; a line that names no input is no other input). OutputError
    naming both inputs unless ``overwrite``: two inputs of one output name (``a.png`` and
    ``a.ome.tif``) predicted one after the other into one folder left one's table beside
    the other's labels. An input gone from its folder (which still exists: a drive not
    mounted is not taken for gone) has no outputs to keep: replaced without ``overwrite``
    (``x.png`` converted to ``x.tif`` and deleted blocked the folder every night)."""
    replaced: dict[str, set[str]] = {}
    for name in names:
        new, old = sources.get(name), before.get(name)
        if new is None or old is None or old == new or name not in present:
            continue
        if not overwrite and _input_gone(old):
            if old not in replaced.get(new, ()):
                log.info("%s is gone from its folder: its outputs are replaced by %s's", old, new)
        elif not overwrite:
            whose = _writer(f"unetlab {command}'s", "the")
            raise OutputError(
                f"{folder / name} is {whose} output for {old}, and {new} would "
                f"replace it (their outputs have the same names): give another output folder, "
                f"or {overwrite_fix} to replace {Path(old).name}'s outputs"
            )
        replaced.setdefault(new, set()).add(old)
    return replaced


def _input_gone(source: str) -> bool:
    """The input ``source`` (a resolved path) no longer exists, and its folder does."""
    path = Path(source)
    return not os.path.lexists(path) and path.parent.is_dir()


def _remove_replaced(
    folder: Path, gone: Collection[str], before: Mapping[str, str | None], command: str
) -> None:
    """Remove the files ``gone`` (earlier outputs of inputs a run wrote new outputs of, left
    beside the new ones: another format, a kind not asked for now; the same input's or
    another's that ``overwrite`` let it replace) and their lines."""
    for name in sorted(gone):
        path = folder / name
        if path.exists():
            log.info(
                "removed %s: an earlier output of %s that this run did not write",
                path,
                before[name],
            )
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        else:
            path.unlink(missing_ok=True)
    forget(folder, gone, command)


def _stamp(path: Path) -> tuple[int, int] | None:
    """(inode, mtime in ns) of ``path``, or None where there is none: a file written
    atomically gets a new one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def _untouched(
    folder: Path, name: str, stamp: tuple[int, int] | None, listed: Collection[str] | None
) -> bool:
    """``name`` is as it was before the run (absent, or the same file) and has no staging
    folder of a large output in ``folder``, whose names are ``listed`` (:func:`folder_names`:
    only a staging listed is looked at, s67: 4 stats an output before; None: a folder not
    listed, each looked at)."""
    staged = [n for n in staged_names(name) if listed is None or n in listed]  # too long: none
    return _stamp(folder / name) == stamp and not any(os.path.exists(folder / n) for n in staged)


def folder_names(folder: str | os.PathLike) -> set[str] | None:
    """The names in ``folder`` (one listing); None where there is no such folder (a folder
    that cannot be listed raises: its stagings are not taken as absent)."""
    try:
        return set(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return None


def staging_listing(folder: str | os.PathLike) -> set[str] | None:
    """The names in ``folder`` for a look at its stagings (:func:`folder_names`; none where
    there is no folder), or None where it cannot be listed (no read permission: each staging
    is looked at by name; its OSError ended a finished run with a traceback, s67 re-read)."""
    try:
        return folder_names(folder) or set()
    except OSError:
        return None


def _remove_if_unused(folder: Path) -> None:
    """Remove ``folder`` if it holds nothing but unetlab's own bookkeeping."""
    with contextlib.suppress(OSError):
        if {p.name for p in folder.iterdir()} <= {MANIFEST, LOCK}:
            for name in (MANIFEST, LOCK):
                (folder / name).unlink(missing_ok=True)
            folder.rmdir()


# --- locks and stale temporaries ------------------------------------------------------------


def lock_owner(folder: str | os.PathLike) -> str:
    """The pid and host (``"4242 on node7"``) that hold ``folder``'s lock
    (:class:`FolderLock`), for the line of a process it refuses or waited for; ``"unknown"``
    where its lock file is not there to read."""
    try:
        with (Path(folder) / LOCK).open("rb") as f:
            return f.read(300).decode(errors="replace").strip() or "unknown"
    except OSError:
        return "unknown"


#: flock's errors on a file system that does not lock files
NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS}


def _warn_no_locks(folder: Path, exc: OSError) -> None:
    log.warning(
        "%s: its file system does not lock files (%s): unetlab cannot stop two commands "
        "writing this folder at once there; make sure only one does",
        folder,
        exc.strerror or exc,
    )


class FolderLock:
    """An exclusive lock on a folder for one process: ``with FolderLock(folder): ...``.

    ``.unetlab.lock`` in the folder, held with ``flock`` (released by the kernel when the
    process ends, however it ends) and holding the owner's pid and host for the message of
    a process that is refused (a folder shared between the nodes of a cluster). The file is
    removed on release. Without ``fcntl`` (Windows) it does nothing; on a file system that
    does not lock files (Lustre mounted without ``flock``, some NFS set-ups: ENOLCK,
    EOPNOTSUPP) it warns that two commands writing the folder at once are not stopped there,
    and goes on.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.fd: int | None = None

    def __enter__(self) -> FolderLock:
        while self.fd is None:
            try:
                fd = try_hold(self.path, os.O_RDWR | os.O_CREAT)
            except BlockingIOError:
                raise FolderInUseError(
                    f"{self.folder} is in use by another unetlab process (pid "
                    f"{lock_owner(self.folder)}): wait for it to finish, or use another folder"
                ) from None
            except LockLost:
                continue  # the previous owner removed the file between our open and flock
            except OSError as exc:
                if exc.errno in NO_LOCKS:
                    _warn_no_locks(self.folder, exc)
                    return self
                raise write_error(self.folder, exc) from exc
            if fd is None:  # Windows: no advisory locks here
                return self
            self.fd = fd
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()} on {socket.gethostname()}\n".encode())
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # while still locked: a waiting process re-opens a new one
            os.close(self.fd)
            self.fd = None


def held_by_another(folder: str | os.PathLike) -> bool:
    """Whether another process holds ``folder``'s lock (:class:`FolderLock`), tried without
    taking it for longer than the look: False where no lock file is there (let go, or never
    taken), where the file system locks nothing, and without ``fcntl``."""
    try:
        fd = try_hold(Path(folder) / LOCK, os.O_RDWR)
    except BlockingIOError:
        return True
    except OSError:  # none there (FolderLock removes it as it lets go), no locks there
        return False
    if fd is not None:
        os.close(fd)
    return False


def wait_let_go(folder: str | os.PathLike, seconds: float, *, poll: float = 0.1) -> bool:
    """Wait up to ``seconds`` while another process holds ``folder``'s lock
    (:func:`held_by_another`); whether it was let go by then."""
    deadline = time.monotonic() + seconds
    while held_by_another(folder):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporaries of ``atomic_path`` in ``folder`` and the staging folders of
    outputs the manifest lists (``.<name>.partial``), left by a killed process, but those a
    rerun resumes (:func:`resumable`) and the temporaries a live process writes (a
    single-file output there: :func:`unetlab.atomic.remove_if_unheld`); call it with the
    folder's lock held. Returns what it removed."""
    removed, ours = [], written_here(folder)
    _put_back_set_aside(Path(folder), ours)
    for path in Path(folder).iterdir():
        staged = STAGED.match(path.name)
        if TEMPORARY.match(path.name) and path.is_file():
            if not remove_if_unheld(path):
                continue  # being written (a single-file command takes no folder lock)
        elif (
            staged
            and staged.group(1) in ours
            and path.is_dir()
            and not path.is_symlink()
            and not resumable(path)
        ):
            remove_tree(path, ignore_errors=True)
        else:
            continue
        removed.append(path)
    return removed


def remove_finished_stagings(
    folder: str | os.PathLike, names: Iterable[str], listed: Collection[str] | None = None
) -> list[Path]:
    """Delete the staging folders (:func:`staged_names`) of the outputs ``names`` that a
    rerun found finished (``--skip-existing`` skips their input): a run killed after an
    output was written and before its staging was removed left one, which
    :func:`remove_stale_temporaries` keeps as resumable and nothing would resume. Only a
    staging among ``listed`` (the folder's names, as the caller listed them; listed here
    where None) is looked at (s67: 4 stats an output before). Call it with the folder's
    lock held. Returns what it removed."""
    removed, listed = [], staging_listing(folder) if listed is None else listed
    for name in names:
        for staged in map(Path(folder).joinpath, staged_names(name)):
            # a committed one's renames are under way: the next run of it does them
            if (listed is not None and staged.name not in listed) or _renames_left(staged):
                continue
            # os.path's: False for a name past NAME_MAX, where Path.is_dir raises
            if os.path.isdir(staged) and not os.path.islink(staged):
                remove_tree(staged, ignore_errors=True)
                removed.append(staged)
    return removed


def _renames_left(staged: Path) -> bool:
    """Whether ``staged`` is a publishing folder whose renames are to be done
    (:data:`~unetlab.atomic.COMMITTED`, a step's source there): removed, it left an input's
    outputs half put in place. One whose every source is gone was killed after its last
    rename (s74: a ``--skip-existing`` rerun left it for the next plain run)."""
    found = committed_record(staged)
    if found is None:
        return False
    with contextlib.suppress(KeyError, TypeError, ValueError):  # no steps: none left
        return any(os.path.lexists(source) for source, _, _ in publishing_steps(staged, found))
    return False


def _put_back_set_aside(folder: Path, ours: Collection[str]) -> None:
    """An output folder a killed process set aside (``.<name>.old``, of a name the manifest
    lists) put back where its new version never came (it was the folder's output, whole),
    or removed where the new one is in place (session 35 repro 2: the folder was refused
    as holding a file unetlab did not write, and the earlier output was hidden)."""
    for path in folder.iterdir():
        aside = SET_ASIDE.match(path.name)
        if not aside or aside.group(1) not in ours or not path.is_dir() or path.is_symlink():
            continue
        final = folder / aside.group(1)
        if os.path.lexists(final):
            remove_tree(path, ignore_errors=True)
        else:
            os.replace(path, final)


# --- archives -----------------------------------------------------------------------------


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Unpack a zip file into ``target`` without ever writing outside it.

    Refuses (UnetlabError naming the member) absolute member paths, ``..`` parts, drive
    letters, and symbolic links; nothing is run or unpickled. Returns the files written.
    A damaged zip is one line (:func:`~unetlab.zip_damage.damaged_zip`), an encrypted one
    or one compressed by a method zipfile lacks too (:func:`~unetlab.zip_damage.unreadable`,
    before any member is written); a file already in ``target`` where a member goes is
    refused before any is written, and each member is written atomically: a damaged
    member left a partial file, and a file there was replaced (s61). Stopped by a damaged
    member (or anything else), it removes the files and folders it wrote, never one that
    was there: its fix, run again, was refused as replacing them (s62). A member is put in
    place only where nothing is (a file put there after the check was replaced, then
    removed: s62 review); an error of the disk reading the zip names the zip.
    """
    archive, target = Path(archive), Path(target)
    with open_zip(archive, _UNPACK_FIXES) as zf:
        places = _member_places(archive, zf.infolist(), target)
        folders = [target, *(out if info.is_dir() else out.parent for info, out in places)]
        made = _missing(folders)
        written: list[Path] = []
        try:
            _unpack(archive, zf, places, target, written)
        except BaseException:
            _remove_written(written, made)
            raise
    return written


#: what :func:`safe_extract` says of a zip it cannot read
_UNPACK_FIXES = ZipFixes(
    "download or zip it again",
    PASSWORD_FIX,
    "unzip it with a tool that reads it (7-Zip), or zip it again with deflate",
    disk="check the disk it is on, or copy the zip to another disk and unpack the copy",
)


def _unpack(archive: Path, zf: zipfile.ZipFile, places: list, target: Path, written: list):
    """The members of ``zf`` (the zip ``archive``) written to their ``places``
    (:func:`_member_places`) in ``target``, each added to ``written`` once in place; a
    damaged one is one line (only the zip's reads are caught, not the writes:
    :func:`~unetlab.zip_damage.member_chunks`)."""
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as deferred:
        # each folder flushed once at the end, not after each member's rename (review s61)
        for folder in dict.fromkeys(out.parent for info, out in places if not info.is_dir()):
            folder.mkdir(parents=True, exist_ok=True)
            deferred.enter_context(folder_sync_deferred(folder))
        for info, out in places:
            if info.is_dir():
                out.mkdir(parents=True, exist_ok=True)
                continue
            try:
                with atomic_path(out, replace=False) as tmp, open(tmp, "wb") as dst:
                    for chunk in member_chunks(zf, info, archive, _UNPACK_FIXES):
                        dst.write(chunk)
            except FileExistsError:  # put there since _member_places looked: kept (s62)
                raise _would_replace(archive, info, out) from None
            written.append(out)


def _missing(folders: Iterable[Path]) -> list[Path]:
    """The folders of ``folders`` and their parents that are not there, deepest first."""
    missing = set()
    for folder in folders:
        while not os.path.lexists(folder) and folder not in missing:
            missing.add(folder)
            folder = folder.parent
    return sorted(missing, key=lambda folder: len(folder.parts), reverse=True)


def _remove_written(written: list[Path], made: list[Path]) -> None:
    """Remove the files ``written`` and the folders ``made`` (deepest first) by a
    :func:`safe_extract` that stopped; a folder that holds anything else stays."""
    for path in written:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    for folder in made:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _member_places(archive: Path, members: list, target: Path) -> list[tuple]:
    """``(info, out)``: each member of the zip ``archive`` and where :func:`safe_extract`
    puts it in ``target``; UnetlabError naming the first member that leaves ``target``,
    zipfile cannot read (encrypted, Deflate64) or would replace a file there."""
    places = []
    for info in members:
        _check_member(archive, info)
        if (why := unreadable(info, _UNPACK_FIXES)) is not None:
            raise UnetlabError(f"{archive}: {why}")
        out = target.joinpath(*Path(info.filename.replace("\\", "/")).parts)
        if not info.is_dir() and (out.exists() or out.is_symlink()):
            raise _would_replace(archive, info, out)
        places.append((info, out))
    return places


def _would_replace(archive: Path, info: zipfile.ZipInfo, out: Path) -> UnetlabError:
    """The line refusing the member ``info`` of ``archive``: a file is at its place ``out``."""
    return UnetlabError(
        f"{archive}: its {info.filename} would replace {out}, which is there;"
        " unpack it into an empty folder"
    )


def _check_member(archive: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = name.split("/")
    is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
    if name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name) or is_link:
        raise UnetlabError(
            f"{archive}: member {info.filename!r} would be written outside the target folder "
            "(absolute path, '..' or a link); the archive is refused"
        )
