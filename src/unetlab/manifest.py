"""A folder's manifest (``.unetlab-outputs``): which files of the folder unetlab wrote.

One line a file: its name, the command and, for predict's outputs, the input it was made from,
the key of what made it (the checkpoint and settings, ``unetlab.inference.records``) and the
input's size and modification time then (:func:`input_stamp`: :func:`changed_inputs` names
the outputs whose input changed since, which ``--skip-existing`` predicts again); an
output's own stamp once written is on a comment line after its line (:data:`STAMP`). A
name is added *before* its file is written (write-ahead, :func:`record`), so a file that
exists is either listed or not ours; a single-file output's line is PENDING until its file is
written (:func:`confirm`; a stopped run leaves a file that was there someone else's), and a
folder's existing files that unetlab did not write are never listed (``overwrite`` writes
beside them). :func:`forget` drops lines, and :func:`forget_missing` those of files that are
gone (a user removed them): the manifest records, it never removes a file.
:mod:`unetlab.outputs` decides with these what a command may replace, and re-exports them.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import stat
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path

from unetlab.atomic import NAME_MAX, atomic_path, write_error
from unetlab.data.nifti_channels import channel_files
from unetlab.errors import OutputError, UnetlabError
from unetlab.read_once import ReadOnce

MANIFEST = ".unetlab-outputs"
#: the file beside the manifest in which a process of a group but the main one hands what
#: it relisted (:func:`hand_relisted`), the process's rank after it
HANDED = MANIFEST + ".relisted."
#: what a manifest line holds, tab-separated (the input and what made it: predict's
#: outputs, since session 27; "made by" is PENDING-prefixed until the run wrote the file;
#: the input's size and mtime: since session 34)
FIELDS = "name, command, input, made by, input size and mtime"
#: the start of a line that records the output stamp (:func:`output_stamp`, once written:
#: since session 42) of the line before it: ``#stamp``, that line's 5 fields and the stamp,
#: tab-separated; a comment, which an older unetlab skips and keeps as it is (session 42's
#: first form, a 6th field, made it take every input for changed)
STAMP = "#stamp\t"
#: the mark of a "made by" key whose file the run that listed it has not written yet
PENDING = "?"


def _lines(folder: Path) -> list[tuple[str, str, str | None, str | None]]:
    """The folder's manifest, line by line: (file name, command, the input it was made from,
    the key of what made it; None where the line names none: other commands', and manifests
    before session 27)."""
    return [fields[:4] for fields in _stamped_lines(folder)]


#: the manifests read within :func:`manifests_read_once`
_READ = ReadOnce("manifests_read")


def manifests_read_once() -> contextlib.AbstractContextManager:
    """Within: each folder's manifest read once while it is unchanged (a rewrite, ours
    too, gives it another stamp: read anew); evaluate read its predictions' 6 times (s60)."""
    return _READ.kept()


def _stamped_lines(folder: Path) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """:func:`_lines` with each line's :func:`input_stamp` of its input (None: none recorded,
    as before session 34); read once within :func:`manifests_read_once`."""
    path = folder / MANIFEST
    return list(_READ.read(("lines",), path, lambda: tuple(_read_lines(folder))))


def _read_lines(folder: Path) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """:func:`_stamped_lines`, parsed now."""
    try:
        text = _text(folder) or ""
    except OSError as exc:
        raise OutputError(f"{folder / MANIFEST}: cannot read it ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:  # not one unetlab wrote: a traceback before
        raise OutputError(
            f"{folder / MANIFEST}: not a unetlab manifest (not UTF-8 text); move it away"
        ) from exc
    return [_fields(line) for line in text.splitlines() if line and not line.startswith("#")]


def _fields(line: str) -> tuple[str, str, str | None, str | None, str | None]:
    return _all_fields(line)[:5]


def _all_fields(line: str) -> tuple[str, str, str | None, str | None, str | None, str | None]:
    """A line's fields: :func:`_fields` and the :func:`output_stamp` of a 6th field (None:
    none; session 42's first form, read still: :func:`_parsed`)."""
    name, _, rest = line.rstrip("\n").partition("\t")
    command, _, rest = rest.partition("\t")
    source, _, rest = rest.partition("\t")
    made_by, _, rest = rest.partition("\t")
    stamp, _, out = rest.partition("\t")
    return name, command, source or None, made_by or None, stamp or None, out or None


def _line(
    name: str,
    command: str,
    source: str | None,
    made_by: str | None = None,
    stamp: str | None = None,
) -> str:
    """One manifest line; a source that would break the line (a newline or a tab in it: a
    folder named so) is left out, and with it its ``stamp``."""
    if source is not None and any(c in source for c in "\n\r\t"):
        source = stamp = None
    if stamp:
        return f"{name}\t{command}\t{source or ''}\t{made_by or ''}\t{stamp}\n"
    if made_by:
        return f"{name}\t{command}\t{source or ''}\t{made_by}\n"
    if source is None:
        return f"{name}\t{command}\n"
    return f"{name}\t{command}\t{source}\n"


#: bytes of a file input read at its start, middle and end for its stamp's sample
SAMPLED = 4096


def input_stamp(source: str | os.PathLike) -> str | None:
    """What a manifest line records of the input ``source`` to tell whether it changed
    since: ``size <bytes> mtime_ns <ns> sample <16 hex digits>`` of a file (one ``stat``, and
    a digest of :data:`SAMPLED` bytes at its start, middle and end: another image of the
    same size and time, on a share whose files all carry one time or copied with ``cp -p``,
    was taken for the one predicted, its outputs kept (audit s37 paths); hashing the input
    would read it all again); ``folder <16 hex digits>`` of a folder (a Zarr image): of its
    top-level files' sizes and times and its folders' times (:func:`folder_times`; a chunk
    written anew is renamed into its folder, which changes that folder's time); None for
    an input that cannot be read."""
    try:
        st = os.stat(source)
        if stat.S_ISDIR(st.st_mode):
            return f"folder {_folder_digest(Path(source), st.st_mtime_ns)}"
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    stamp = f"size {st.st_size} mtime_ns {st.st_mtime_ns}"
    with contextlib.suppress(OSError):  # unreadable now: its time and size say what they can
        stamp += f" sample {sample_digest(source, st.st_size)}"
    return stamp + _later_channels(source)


def _later_channels(source: str | os.PathLike) -> str:
    """`` channels <16 hex digits>`` of the stamps of the later channel files of an nnU-Net
    case whose first (``x_0000.nii.gz``) is ``source`` (s71 review: a changed ``x_0001``
    kept the case's prediction under ``--skip-existing``); "" for other inputs."""
    try:
        later = channel_files(source)[1:]
    except UnetlabError:  # a stray channel file, a broken dataset.json: refused when read
        return ""
    if not later:
        return ""
    stamps = json.dumps([input_stamp(f) for f in later]).encode()
    return f" channels {hashlib.blake2b(stamps, digest_size=8).hexdigest()}"


def sample_digest(path: str | os.PathLike, size: int) -> str:
    """A digest of :data:`SAMPLED` bytes at the start, the middle and the end of a file of
    ``size`` bytes: 16 hex digits that tell apart two files of one size and time (the
    manifest's stamp; a streamed slide's resume record, :mod:`unetlab.inference.slide_resume`)."""
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as f:
        for at in sorted({0, max(size // 2 - SAMPLED // 2, 0), max(size - SAMPLED, 0)}):
            f.seek(at)
            digest.update(f.read(SAMPLED))
    return digest.hexdigest()


def same_stamp(now: str, recorded: str) -> bool:
    """Whether the input stamped ``now`` is the one stamped ``recorded``: a stamp from before
    the sample (session 37) is compared by size and time only."""
    if " sample " in recorded:
        return now == recorded
    return now.split(" sample ")[0] == recorded


#: how deep into a Zarr folder its stamp looks (the group, its arrays, their chunk folders)
ZARR_DEPTH = 3


def folder_times(root: Path, depth: int = ZARR_DEPTH) -> dict[str, int]:
    """``{relative folder: mtime_ns}`` of the folders under ``root``, ``depth`` levels down
    (a folder's entries listed once, their kinds read from the listing: an OME-Zarr group
    of 10,000 chunk files in 0.02 s on the 2-core development machine, 0.8 s with a stat
    each)."""
    times, level = {}, [Path(root)]
    for _ in range(depth):
        level = sorted(Path(e.path) for folder in level for e in _entries(folder) if e.is_dir())
        times |= {str(p.relative_to(root)): p.stat().st_mtime_ns for p in level}
    return times


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as found:
        return list(found)


def _top_files(root: Path) -> dict[str, list[int]]:
    """``{name: [size, mtime_ns]}`` of the files at the top of ``root`` (a Zarr's metadata;
    a bare array's chunks too)."""
    files = sorted((e for e in _entries(root) if e.is_file()), key=lambda e: e.name)
    return {e.name: [(st := e.stat()).st_size, st.st_mtime_ns] for e in files}


#: within :func:`walking_once`: (folder, its mtime_ns) -> its :func:`_walk`
_WALKED: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "unetlab_walked", default=None
)


@contextlib.contextmanager
def walking_once() -> Iterator[None]:
    """Within, a folder input (a Zarr) is walked once for its stamp and its last change
    (:func:`input_stamp`, :func:`modified_after`), not once per output of it that a claim
    asks about (a rerun's claim over a stopped run's 6 outputs of a 10,000-chunk Zarr
    walked it 7 times). For a block in which the inputs do not change (a folder's claim)."""
    if _WALKED.get() is not None:
        yield
        return
    token = _WALKED.set({})
    try:
        yield
    finally:
        _WALKED.reset(token)


def _walk(root: Path, mtime_ns: int) -> tuple[dict[str, list[int]], dict[str, int]]:
    """(:func:`_top_files`, :func:`folder_times`) of the folder ``root``, whose own time is
    ``mtime_ns``; once within :func:`walking_once`."""
    walked = _WALKED.get()
    if walked is None:
        return _top_files(root), folder_times(root)
    key = (str(root), mtime_ns)
    if key not in walked:
        walked[key] = (_top_files(root), folder_times(root))
    return walked[key]


def _folder_digest(root: Path, mtime_ns: int) -> str:
    found = [mtime_ns, *_walk(root, mtime_ns)]
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()[:16]


def _changed_ns(path: str | os.PathLike) -> int:
    """When ``path`` last changed: a file's time, or the latest of a folder's own, its
    top-level files' and its folders' (:func:`folder_times`)."""
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        return st.st_mtime_ns
    top, folders = _walk(Path(path), st.st_mtime_ns)
    return max([st.st_mtime_ns, *(t for _, t in top.values()), *folders.values()])


def changed_inputs(folder: str | os.PathLike, command: str) -> set[str]:
    """The names ``command`` wrote in ``folder`` (as their latest manifest lines say) whose
    input changed since: its :func:`input_stamp` is another than the line records, or (a
    line that records none, before session 34) the input was modified after the output
    file. An input that is gone, or a line that names no input: not changed."""
    return set(_changed(Path(folder), command))


def changed_sources(folder: str | os.PathLike, command: str) -> set[str]:
    """The inputs (as the manifest names them) of :func:`changed_inputs`' outputs."""
    return set(_changed(Path(folder), command).values())


def changed_outputs(folder: str | os.PathLike, command: str) -> dict[str, str]:
    """Each name of :func:`changed_inputs` -> its input (as the manifest names it)."""
    return _changed(Path(folder), command) if Path(folder).is_dir() else {}


def _changed(folder: Path, command: str) -> dict[str, str]:
    """Each name of :func:`changed_inputs` -> its input."""
    latest = {f[0]: f for f in _stamped_lines(folder) if f[1] == command}
    now: dict[str, str | None] = {}
    changed = {}
    for name, _, source, _, stamp in latest.values():
        if source is None:
            continue
        if source not in now:
            now[source] = input_stamp(source)
        if now[source] is None or (stamp is not None and same_stamp(now[source], stamp)):
            continue
        if stamp is not None or modified_after(source, folder / name):
            changed[name] = source
    return changed


def modified_after(source: str | os.PathLike, output: str | os.PathLike) -> bool:
    """Whether ``source`` was modified after ``output`` (False where one is gone); a
    folder's time is that of its own entries (an OME-Zarr output's: its attributes, written
    last)."""
    try:
        return _changed_ns(source) > os.stat(output).st_mtime_ns
    except OSError:
        return False


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


def confirmed_keys(folder: str | os.PathLike, command: str) -> dict[str, str]:
    """Each name ``command`` wrote in ``folder`` -> the key of its latest written line that
    names one (lines PENDING or without a key skipped: a run stopped before it wrote the
    file left the one there as it was)."""
    return {
        name: key
        for name, cmd, _, key in _lines(Path(folder))
        if cmd == command and key and not key.startswith(PENDING)
    }


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
        name, cmd, source, key, _ = _fields(line)
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


def staged_names(name: str) -> tuple[str, ...]:
    """The staging folders an output ``name`` may have while it is made: a large output's
    (``.<name>.partial``, unetlab.data.ome), a slide's provisional object ids
    (``.<name>.ids.partial``), a stack's pages read whole (``.<name>.pages.partial``,
    unetlab.inference.page_resume) and an input's outputs being put in place together
    (``.<labels name>.publish.partial``, unetlab.inference.slide_outputs)."""
    kinds = tuple(f".{name}{kind}.partial" for kind in ("", ".ids", ".pages"))
    return (*kinds, publishing_name(name))


def publishing_name(labels: str) -> str:
    """The publishing folder's name of the labels ``labels`` (unetlab.inference.slide_outputs):
    ``.<labels>.publish.partial``, or where that would pass
    :data:`~unetlab.atomic.NAME_MAX` bytes (an input named with 82 kanji, 250 bytes) one
    after a digest of it."""
    name = f".{labels}.publish.partial"
    if len(os.fsencode(name)) > NAME_MAX:
        name = f".{hashlib.sha256(os.fsencode(labels)).hexdigest()[:16]}.publish.partial"
    return name


def forget_missing(folder: str | os.PathLike, *, spare: Collection[str] = ()) -> list[str]:
    """Drop the lines of files no longer in ``folder`` (a user removed them; rewritten
    atomically), so that the manifest does not grow with them, and a file someone puts
    there later under such a name is not taken for unetlab's. Kept: the lines of the
    commands in ``spare`` (a training run's names are its own, written yet or not) and the
    lines PENDING without a key (a single-file output claimed and not written yet, perhaps
    by a process that holds no lock), and those of a large output whose staging folder is
    there (:func:`staged_names`: the line makes it a stale temporary, not someone's file).
    Call it with the folder's lock held, before this run lists its names. Returns the
    names dropped."""
    folder = Path(folder)

    def gone(line: str) -> bool:
        name, command, _, key, _ = _fields(line)
        if line.startswith("#") or not name or command in spare or key == PENDING:
            return False
        return not any(os.path.lexists(folder / n) for n in (name, *staged_names(name)))

    lines = _raw_lines(folder)
    dropped = [line for line in lines if gone(line)]
    if dropped:
        _write_lines(folder, [line for line in lines if not gone(line)])
    return sorted({_fields(line)[0] for line in dropped})


def output_stamp(path: str | os.PathLike) -> str | None:
    """``size <bytes>`` of the file ``path`` (None: none there, or a folder or a link): what
    a confirmed line records of its output (with the key it carries, where it carries one:
    :func:`unetlab.outputs.output_folder`'s ``carried``), so that a file changed since (a
    user's edited mask saved over it) is told from unetlab's (:func:`output_stamps`). Not
    its time: a copy (``cp -r``), a ``touch`` or a sync tool changes that alone."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    return f"size {st.st_size}" if stat.S_ISREG(st.st_mode) else None


def output_stamps(folder: str | os.PathLike, command: str) -> dict[str, str]:
    """Each name whose latest line of ``command`` has its output's stamp (:data:`STAMP`)
    -> that stamp (lines of before session 42, and PENDING ones, have none)."""
    try:
        parsed = _parsed(_raw_lines(Path(folder)))
    except (OSError, UnicodeDecodeError):
        return {}  # said by the manifest's other readers
    fields = [(*_fields(line)[:2], out) for line, out in parsed if not line.startswith("#")]
    latest = {name: out for name, cmd, out in fields if cmd == command}
    return {name: out for name, out in latest.items() if out}


def restamp(folder: str | os.PathLike, stamps: Mapping[str, str | None], command: str) -> None:
    """The latest line of ``command`` of each name in ``stamps`` given that output stamp
    (None: none; call it with the folder's lock held)."""
    parsed = _parsed(_raw_lines(Path(folder)))
    latest = _latest([line for line, _ in parsed], stamps, command)
    for name, i in latest.items():
        parsed[i] = (parsed[i][0], stamps[name])
    if latest:
        _write_lines(Path(folder), _unparsed(parsed))


def relist(
    folder: str | os.PathLike,
    sources: Mapping[str, str],
    command: str,
    stamps: Mapping[str, str | None] | None = None,
    claimed: Mapping[str, str] | None = None,
) -> None:
    """The latest line of ``command`` of each name in ``sources`` names the input ``sources``
    gives, with its :func:`input_stamp` (``stamps``' of the name where it gives one: taken
    when the output was written), its key as written (the PENDING mark dropped): the run
    wrote the file from that input, not from the one its claim listed (a link retargeted
    meanwhile). With ``claimed``, only where that line still names the input ``claimed``
    gives (the claim the relisting amends: a later run's line is its own). An input stamped
    only where a line names it. One atomic rewrite in place (s64: the claim's line dropped,
    then one added: stopped between, the file was no line's); call it with the folder's
    lock held."""
    lines = _raw_lines(Path(folder))
    if _relist_lines(lines, sources, command, stamps, claimed):
        _write_lines(Path(folder), lines)


def _relist_lines(
    lines: list[str],
    sources: Mapping[str, str],
    command: str,
    stamps: Mapping[str, str | None] | None = None,
    claimed: Mapping[str, str] | None = None,
) -> bool:
    """:func:`relist` in the manifest's ``lines``, changed in place; whether any was."""
    latest = _latest(lines, sources, command)
    if claimed is not None:
        latest = {n: i for n, i in latest.items() if _fields(lines[i])[2] == claimed.get(n)}
    stamps, now = dict(stamps or {}), {}
    for name, i in latest.items():
        key, source = _fields(lines[i])[3], sources[name]
        key = None if key is None else key.removeprefix(PENDING)
        if stamps.get(name) is None and source not in now:
            now[source] = input_stamp(source)
        lines[i] = _line(name, command, source, key, stamps.get(name) or now[source])
    return bool(latest)


def hand_relisted(
    folder: str | os.PathLike, moved: Mapping[str, tuple[str, str]], command: str, rank: int
) -> None:
    """``moved`` (output name -> the input its claim listed, the input it was written from)
    to be relisted (:func:`relist`), handed by the process ``rank`` of a group, which does
    not hold ``folder``: a line each appended to its own file beside the manifest
    (:data:`HANDED`), with the input's stamp taken now (its output just written), synced:
    one write a file predicted, kept by a stopped run, killed too (s64: held until the
    gather, lost with a stopped run; s65 review: all re-stamped and rewritten each time).
    Listed by the process that holds the folder at the run's end, or by the next run to hold
    it (:func:`take_relisted`)."""
    stamps = {source: input_stamp(source) for _, source in moved.values()}
    entries = [
        dict(command=command, name=name, claimed=claimed, source=source, stamp=stamps[source])
        for name, (claimed, source) in moved.items()
    ]
    with open(Path(folder) / f"{HANDED}{rank}", "a", encoding="utf-8") as handed:
        handed.write("".join(json.dumps(e) + "\n" for e in entries))
        handed.flush()
        os.fsync(handed.fileno())


def take_relisted(folder: str | os.PathLike) -> None:
    """What each process of a group handed to be relisted (:func:`hand_relisted`) listed in
    the manifest where the line its claim wrote is still the latest, in one rewrite of it
    (s67: one a hand-over file and command), the files then removed; call it with the
    folder's lock held."""
    handed = sorted(Path(folder).glob(HANDED + "*"))
    lines, changed = _raw_lines(Path(folder)), False
    for path in handed:
        by_command: dict[str, list[dict]] = {}
        for entry in _handed(path):  # in the order written: a later one of a name wins
            by_command.setdefault(entry["command"], []).append(entry)
        for command, entries in by_command.items():
            sources = {e["name"]: e["source"] for e in entries}
            stamps = {e["name"]: e["stamp"] for e in entries}
            claimed = {e["name"]: e["claimed"] for e in entries}
            changed = _relist_lines(lines, sources, command, stamps, claimed) or changed
    if changed:
        _write_lines(Path(folder), lines)
    for path in handed:
        path.unlink()


#: the keys of each line :func:`hand_relisted` writes
HANDED_KEYS = ("command", "name", "claimed", "source", "stamp")


def _handed(path: Path) -> list[dict]:
    """The entries of a :func:`hand_relisted` file; a last line cut short (its process
    killed while appending it: each run's claim takes the file, so only its last line can
    be cut), which is no JSON, left out, its output listed as the claim listed it. An
    OutputError for any other line that is no hand-over (a JSON object of
    :data:`HANDED_KEYS`): a file unetlab did not write (s66: a bare KeyError; review: a
    whole JSON line of another kind without its newline taken for one cut short)."""
    try:
        *whole, last = path.read_bytes().split(b"\n")
    except OSError as exc:
        raise OutputError(f"{path} cannot be read ({exc}): remove it and run again") from exc
    entries = [_hand_over(path, n, line) for n, line in enumerate(whole, 1)]
    if _json(last) is not _NOT_JSON:  # whole, its newline alone not written
        entries.append(_hand_over(path, len(whole) + 1, last))
    return entries


#: what :func:`_json` gives for a line that is no JSON
_NOT_JSON = object()


def _json(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:  # UnicodeDecodeError among them
        return _NOT_JSON


def _hand_over(path: Path, n: int, line: bytes) -> dict:
    """The hand-over on line ``n`` of ``path``: OutputError where it is none."""
    entry = _json(line)
    if not isinstance(entry, dict) or any(key not in entry for key in HANDED_KEYS):
        raise OutputError(
            f"{path}: line {n} is not one unetlab hands over (a JSON line of "
            f"{', '.join(HANDED_KEYS)}); unetlab writes this file itself: move it out "
            "of the folder and run again"
        )
    return entry


def _latest(lines: list[str], names: Collection[str], command: str) -> dict[str, int]:
    """Each of ``names`` -> where the latest line ``command`` listed it is in ``lines``."""
    latest = {}
    for i, line in enumerate(lines):
        name, cmd = _fields(line)[:2]
        if not line.startswith("#") and cmd == command and name in names:
            latest[name] = i
    return latest


def _parsed(lines: list[str]) -> list[tuple[str, str | None]]:
    """The manifest's ``lines`` as (line, the :func:`output_stamp` it has): a line in its 5
    fields, with the stamp of the :data:`STAMP` line after it that holds those fields (or
    of its 6th field: session 42's first form); a comment as it is, with None. A stamp line
    after no line of its fields (an older unetlab dropped, confirmed or rekeyed the line,
    or added one after it) is not trusted: left out."""
    parsed: list[tuple[str, str | None]] = []
    for line in lines:
        if line.startswith(STAMP):
            fields = _all_fields(line[len(STAMP) :])
            last = parsed[-1][0] if parsed else "#"
            if not last.startswith("#") and _fields(last) == fields[:5] and fields[5]:
                parsed[-1] = (last, fields[5])
        elif line.startswith("#"):
            parsed.append((line, None))
        elif (out := _all_fields(line)[5]) is not None:
            parsed.append((line[: _nth_tab(line, 5)] + "\n", out))
        else:
            parsed.append((line, None))
    return parsed


def _nth_tab(line: str, n: int) -> int:
    """Where the ``n``-th tab of ``line`` is."""
    at = -1
    for _ in range(n):
        at = line.index("\t", at + 1)
    return at


def _unparsed(parsed: list[tuple[str, str | None]]) -> list[str]:
    """The lines of :func:`_parsed`'s entries: each line, and its :data:`STAMP` line after
    it where it has a stamp."""
    lines = []
    for line, out in parsed:
        lines.append(line if line.endswith("\n") else line + "\n")
        if out:
            fields = "\t".join(f or "" for f in _fields(line))
            lines.append(f"{STAMP}{fields}\t{out}\n")
    return lines


def confirm(
    folder: str | os.PathLike, made_by: Mapping[str, str | tuple[str, ...]], command: str
) -> None:
    """Mark the lines ``command`` listed with the PENDING key ``made_by`` gives a name (or
    one of the keys it gives: a line each, a claim's and its writer's) as written (the key
    without the mark), in one rewrite: the run wrote those files (call it with the folder's
    lock held)."""

    def confirmed(line: str) -> str:
        name, cmd, source, key, stamp = _fields(line)
        keys = made_by.get(name, ()) if cmd == command else ()
        keys = (keys,) if isinstance(keys, str) else keys
        if key is not None and key.startswith(PENDING) and key[len(PENDING) :] in keys:
            return _line(name, cmd, source, key[len(PENDING) :], stamp)
        return line

    if made_by:
        _rewrite(Path(folder), confirmed)


def rekey(
    folder: str | os.PathLike, names: Collection[str], old: str, new: str, command: str
) -> None:
    """The lines ``command`` listed of ``names`` with the PENDING key ``old`` given the
    PENDING key ``new``: what a run learns made them once it has read their input (predict's
    2-D images among the stacks of an --objects-3d run; call it with the folder's lock held)."""
    names = set(names)  # a line each: 12,000 outputs looked up in a list took 0.8 s

    def rekeyed(line: str) -> str:
        name, cmd, source, key, stamp = _fields(line)
        if cmd == command and name in names and key == PENDING + old:
            return _line(name, cmd, source, PENDING + new, stamp)
        return line

    if names and old != new:
        _rewrite(Path(folder), rekeyed)


def claimed_only(
    folder: str | os.PathLike, names: Iterable[str], command: str
) -> dict[str, set[str]]:
    """Those of ``names`` whose manifest lines of ``command`` are all PENDING -> their keys
    (the mark dropped): runs listed them and stopped before they confirmed them; a file there
    now is such a run's only if it carries one of the keys (unetlab.inference.slides), else
    someone else's."""
    names, found = set(names), {}
    for name, cmd, _, key in _lines(Path(folder)):
        if cmd != command or name not in names or found.get(name, set()) is None:
            continue
        if key is not None and key.startswith(PENDING):
            found[name] = found.get(name, set()) | {key[len(PENDING) :]}
        else:
            found[name] = None  # a line confirmed (or of before the keys): unetlab's
    return {name: keys for name, keys in found.items() if keys is not None}


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
    return (_text(folder) or "").splitlines(keepends=True)


def _text(folder: Path) -> str | None:
    """The folder's manifest (None: none there), read once within
    :func:`manifests_read_once` while unchanged, by its lines' readers and rewriters alike
    (s64: a folder predicted again read it 25 times, 21 by the claim's looks and the checks
    of each input's outputs)."""
    path = folder / MANIFEST

    def read() -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    return _READ.read(("text",), path, read)


def _write_lines(folder: Path, lines: list[str]) -> None:
    """Replace the manifest with ``lines``, atomically: output stamps in :data:`STAMP`
    lines (a 6th field made one), those of no line left out (:func:`_parsed`)."""
    text = "".join(_unparsed(_parsed(lines)))
    try:
        with atomic_path(folder / MANIFEST) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
    finally:
        _READ.drop(folder / MANIFEST)  # read anew, whatever its stamp says


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
    input, a tab and the key, PENDING-marked until :func:`confirm`, and a tab and the
    input's :func:`input_stamp`). A name listed already gets a line again only if it is now
    made from another input, by another key or from an input that changed since (the
    latest line holds). Returns the names that got a line."""
    folder, sources, keys = Path(folder), sources or {}, made_by or {}
    stamps = {s: input_stamp(s) for s in set(sources.values())}
    now = {n: stamps[s] for n, s in sources.items()}
    new = _relisted(folder, names, command, sources, keys, now)
    if not new:
        return new
    path = folder / MANIFEST
    head = "" if path.exists() else f"# files written by unetlab into this folder ({FIELDS})\n"
    lines = [
        _line(n, command, sources.get(n), None if n not in keys else PENDING + keys[n], now.get(n))
        for n in new
    ]
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(head + "".join(lines))
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise write_error(path, exc) from exc
    finally:
        _READ.drop(path)
    return new


def _relisted(
    folder: Path,
    names: Iterable[str],
    command: str,
    sources: Mapping[str, str],
    keys: Mapping[str, str],
    stamps: Mapping[str, str | None],
) -> list[str]:
    """Those of ``names`` that need a manifest line: not listed for ``command``, or listed
    from another input than ``sources`` gives, by another key than ``keys`` gives (a
    PENDING one too), or with another input stamp than ``stamps`` gives (the input changed)."""
    latest = {f[0]: f for f in _stamped_lines(folder) if f[1] == command}
    return sorted(
        n
        for n in set(names)
        if n not in latest
        or sources.get(n, latest[n][2]) != latest[n][2]
        or keys.get(n, latest[n][3]) != latest[n][3]
        or stamps.get(n, latest[n][4]) not in (None, latest[n][4])
    )
