"""Atomic writes: a file is either as it was or completely written, also after a crash.

:func:`atomic_path` yields a temporary beside the target and renames it over the target once
written and flushed, holding it (``flock``) meanwhile so that :func:`remove_if_unheld`, the
cleaning of temporaries a killed write left, never takes a live one;
:func:`folder_sync_deferred` flushes a folder of many outputs once instead of after each
rename. An OSError of the file system becomes one
:class:`~unetlab.errors.OutputError` line naming the path and the fix (:func:`write_error`,
:func:`disk_full`). A leaf module: it imports nothing of unetlab but its errors, so image
I/O (``data.io``), the output rules (``outputs``) and every writer can import it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from unetlab.errors import DiskFullError, OutputError

#: the names atomic_path gives its temporaries: .<stem>.<12 hex digits>.tmp<suffix>
TEMPORARY = re.compile(r"^\..*\.[0-9a-f]{12}\.tmp(\.[^.]+)?$")
#: a staging folder holding a file of this name is a killed run's that the same command
#: resumes (unetlab.inference.slide_resume): the cleaning of a killed run's leftovers keeps it
RESUMABLE = "unetlab-resume.json"
#: the state its record gives a publishing folder whose renames are to be done
#: (unetlab.inference.slide_outputs): the next run does them
COMMITTED = "committed"
#: a disk with less free space (bytes) counts as full when a write failed without a reason:
#: a full disk's writes fail with a few blocks left at most
NEARLY_FULL = 16 * 2**20


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    A crash or an exception leaves ``path`` as it was (never half written). The temporary
    name keeps the suffix so that writers choosing a format by suffix still work. The file is
    flushed to disk before the rename and the folder after it, so ``path`` survives a machine
    crash too, not only a killed process. An OSError of the file system (disk full, read-only,
    no permission) becomes an OutputError naming ``path``; so does any failed write (an
    OSError without errno, a RuntimeError of torch.save) while the disk is full. Once
    ``path`` is in place, the action :func:`when_written` registered for it runs. The
    temporary is held (``flock``) until then: :func:`remove_if_unheld` leaves it alone.
    Not ``replace``: FileExistsError where something is at ``path`` when the file is put
    there (:func:`_put_new`), which stays as it is.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp, held = _new_temporary(path)
    except OSError as exc:
        raise write_error(path, exc) from exc
    writing = file_id(tmp)
    _WRITING.add(writing)
    try:
        yield tmp
        fsync(tmp)
        if replace:
            os.replace(tmp, path)
            _written(path)
            _flush_folder(path)
        else:
            _put_new(tmp, path, writing)  # its folder flushed too
            _written(path)
    except (OSError, RuntimeError) as exc:
        if _full(path, exc):  # asked while the failed temporary still fills the disk
            raise _no_space(path, failed=tmp) from exc
        if not isinstance(exc, OSError) or exc.errno is None:
            raise  # e.g. Pillow's "cannot write mode F as PNG": a bug of ours
        if not replace and isinstance(exc, FileExistsError):
            raise  # something at path, kept: the caller says it (_put_new)
        raise write_error(path, exc) from exc
    finally:
        if held is not None:
            os.close(held)  # after the rename: until then no cleaning takes it for a killed one
        _WRITING.discard(writing)
        tmp.unlink(missing_ok=True)


def _put_new(tmp: Path, path: Path, ours: tuple[int, int] | None) -> None:
    """Put the written file ``tmp`` (its :func:`file_id` ``ours``) at ``path`` where nothing
    is, and flush its folder: FileExistsError where something is, which stays (os.replace
    replaced a file put there after the caller looked, s62 review). A flush that fails
    removes the file put there, if it is still ours: it was left in place, said unwritten
    (s62 review). ``tmp``, where it stays, is for the caller to remove."""
    placed = _placed_new(tmp, path, ours)
    try:
        _flush_folder(path)
    except BaseException:
        if placed is not None and file_id(path) == placed:
            os.unlink(path)  # put there above; not one put there since
        raise


def _placed_new(tmp: Path, path: Path, ours: tuple[int, int] | None) -> tuple[int, int] | None:
    """``tmp`` put at ``path`` where nothing is (:func:`_put_new`): a hard link where the
    file system has them, else a rename that replaces nothing (:func:`_renamed_new`), else
    a copy; the :func:`file_id` of the file put there."""
    try:
        os.link(tmp, path)
        return ours
    except OSError as exc:
        if exc.errno not in _NO_LINKS:  # EEXIST among them: something there stays
            raise
    if _renamed_new(tmp, path):
        return ours
    # Neither a hard link nor a rename that replaces nothing: ``path`` is made (O_EXCL) and
    # ``tmp`` copied in, so a partial file shows at ``path`` while it copies (removed if
    # the copy fails). A placeholder made with O_EXCL and then replaced by a rename of
    # ``tmp`` would show an empty file instead, and replace a file put there between the
    # two: a race that loses someone's file, where the copy only shows ours unfinished.
    made = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(made, "wb", closefd=False) as dst, open(tmp, "rb") as src:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        found = os.fstat(made)
    except BaseException:
        os.unlink(path)  # made above: ours
        raise
    finally:
        os.close(made)
    return found.st_dev, found.st_ino


def _renamed_new(tmp: Path, path: Path) -> bool:
    """Whether ``tmp`` was renamed to ``path`` by a rename that replaces nothing (Linux's
    renameat2 RENAME_NOREPLACE, macOS's renamex_np RENAME_EXCL, Windows' rename): the name
    never shows a partial file, where a copy into it did (s62 review). FileExistsError
    where something is at ``path``; False where neither the system nor the file system
    has such a rename."""
    if os.name == "nt":
        os.rename(tmp, path)  # never replaces there: FileExistsError
        return True
    rename = _no_replace_rename()
    if rename is None:
        return False
    # its return value says whether it failed, not errno: a failure that left errno at 0
    # was taken as done, its file never put in place
    result, code = rename(os.fsencode(tmp), os.fsencode(path))
    if result == 0:
        return True
    if code in (0, errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # a kernel or file system without it; failed, saying no why: copied
    raise OSError(code, os.strerror(code), str(path))  # EEXIST: a FileExistsError


@functools.cache
def _no_replace_rename() -> Callable[[bytes, bytes], tuple[int, int]] | None:
    """The C library's rename that replaces nothing, called with two paths: (what it
    returned, 0 where done; the errno it left, :func:`_call`); None where it has none, or
    where Python has no ctypes (built without _ctypes: an ImportError traceback before,
    review s63). ctypes is imported here, when first needed."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return None
    path = ctypes.c_char_p
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        where = -100  # Linux's AT_FDCWD: paths relative to the working folder
        call = libc.renameat2  # glibc 2.28+; flag RENAME_NOREPLACE: 1
        call.argtypes = [ctypes.c_int, path, ctypes.c_int, path, ctypes.c_uint]
        return lambda old, new: _call(call, where, old, where, new, 1)
    if sys.platform == "darwin" and hasattr(libc, "renamex_np"):  # flag RENAME_EXCL: 4
        call = libc.renamex_np
        call.argtypes = [path, path, ctypes.c_uint]
        return lambda old, new: _call(call, old, new, 4)
    return None


def _call(function: Callable[..., int], *args) -> tuple[int, int]:
    """(what the C function ``function`` returned called with ``args``, the errno it left:
    0 where it left none). Only called where ctypes is (:func:`_no_replace_rename`)."""
    import ctypes

    ctypes.set_errno(0)  # not an earlier call's
    return function(*args), ctypes.get_errno()


def _flush_folder(path: Path) -> None:
    """Flush the folder of ``path`` (its new entry), unless :func:`folder_sync_deferred`
    flushes it later."""
    if path.parent.resolve() not in _DEFERRED:
        fsync(path.parent)


#: what os.link raises where a file system has no hard links (FAT's EPERM, SMB's)
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def link_or_copy(source: str | os.PathLike, target: str | os.PathLike) -> bool:
    """``target`` made a hard link to the file ``source`` (one file of two names: no second
    copy on disk), or a copy of it where the file system has no hard links
    (:data:`_NO_LINKS`) or ``target`` is on another; True where copied. Any other OSError
    raised (EEXIST: what is there stays)."""
    try:
        os.link(source, target)
        return False
    except OSError as exc:
        if exc.errno not in _NO_LINKS | {errno.EXDEV}:
            raise
    shutil.copy2(source, target)
    return True


#: the temporaries this process's :func:`atomic_path` writes now ((device, inode) each):
#: where flock is fcntl's lock (NFS, SMB clients), a process's locks do not stop its own
#: other opens, so :func:`remove_if_unheld` asks here first
_WRITING: set[tuple[int, int] | None] = set()


def file_id(path: str | os.PathLike) -> tuple[int, int] | None:
    """(device, inode) of the file (or folder) at ``path``: its identity, whatever its
    name; None if it cannot be read."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def temporaries_of(path: str | os.PathLike) -> list[Path]:
    """The temporaries :func:`atomic_path` made for ``path`` that are still beside it (a
    killed process's, or one being written now)."""
    path = Path(path)
    name = re.compile(
        rf"^\.{re.escape(_fitting(path))}\.[0-9a-f]{{12}}\.tmp{re.escape(path.suffix)}$"
    )
    with contextlib.suppress(OSError):
        return sorted(p for p in path.parent.iterdir() if name.match(p.name) and p.is_file())
    return []


def remove_if_unheld(temporary: Path) -> bool:
    """Delete the temporary ``temporary`` of :func:`atomic_path` if no live process writes
    it: a killed write's. Its writer holds it with ``flock`` until it is renamed into place
    (the kernel drops the lock when the writer dies), so one whose lock is taken here is
    a killed process's. Another command writing the same name at once keeps its temporary
    (it failed with "cannot write it (No such file or directory)" when its temporary was
    removed under it). Where files cannot be locked (no ``fcntl``: Windows; a file system
    without locks) whether one is live cannot be told: it stays. This process's own live
    ones stay too (:data:`_WRITING`: fcntl-emulated locks, NFS's, are a process's). Returns
    whether it was removed."""
    if (found := file_id(temporary)) is None or found in _WRITING:  # gone, or ours: live
        return False
    try:
        fd = _hold_to_remove(temporary)
    except OSError:  # held by its writer (BlockingIOError), gone, or not lockable here
        return False
    if fd is None:
        return False
    try:
        temporary.unlink()  # while locked: a writer that opened it before sees it is lost
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _hold_to_remove(temporary: Path) -> int | None:
    """:func:`try_hold` of ``temporary``, opened for reading (a temporary another user left
    may not be writable), else for writing where a lock needs that: NFS and SMB clients
    emulate ``flock`` with ``fcntl`` locks, whose exclusive lock fails (EBADF) on a file
    open only for reading (flock(2)), which kept every killed write's temporary there."""
    try:
        return try_hold(temporary)
    except OSError as exc:
        if exc.errno != errno.EBADF:
            raise
    return try_hold(temporary, os.O_WRONLY)


class LockLost(FileNotFoundError):
    """The file was removed or replaced between its open and its lock (:func:`try_hold`)."""


def try_hold(path: str | os.PathLike, flags: int = os.O_RDONLY) -> int | None:
    """A file descriptor of ``path`` (a file, made if ``flags`` has O_CREAT; or a folder,
    O_RDONLY) held by an exclusive non-blocking ``flock``, and still ``path``'s file once
    locked; None without ``fcntl`` (Windows). Raises BlockingIOError when another process
    holds it, :class:`LockLost` when ``path`` was removed or replaced before the lock was
    taken (try again), and the OSError of ``open`` or ``flock`` otherwise. The kernel drops
    the lock when the descriptor is closed or its process ends."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(path, flags, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not _is_file_of(fd, Path(path)):
            raise LockLost(errno.ENOENT, "removed or replaced before it was locked", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_file_of(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the one at ``path``."""
    held = os.fstat(fd)
    return file_id(path) == (held.st_dev, held.st_ino)


def publishing_record(folder: Path) -> dict | None:
    """The record (:data:`RESUMABLE`) of the publishing ``folder`` (or a page staging's:
    :mod:`unetlab.inference.page_resume`), or None (none there, unreadable, no dict)."""
    with contextlib.suppress(OSError, ValueError):
        found = json.loads((folder / RESUMABLE).read_text())
        return found if isinstance(found, dict) else None
    return None


def committed_record(folder: Path) -> dict | None:
    """The record of the publishing ``folder`` (:func:`publishing_record`) where it is
    :data:`COMMITTED` (its renames to be done), else None."""
    found = publishing_record(folder)
    return found if found is not None and found.get("state") == COMMITTED else None


def publishing_steps(folder: Path, record: dict) -> list[tuple[Path, str, bool]]:
    """(source, its final's name, whether a folder) of each rename the ``record`` of the
    publishing ``folder`` lists (``steps``, in their order): a file's source inside it, a
    folder's (an OME-Zarr staging) beside it. KeyError, TypeError or ValueError where the
    record holds none such."""
    steps = record["steps"]
    return [
        ((folder.parent if is_folder else folder) / place, final, is_folder)
        for place, final, is_folder in steps
    ]


def remove_tree(path: str | os.PathLike, ignore_errors: bool = False) -> None:
    """``shutil.rmtree(path, ignore_errors)``, a stop raised inside it raised as that stop.
    CPython's rmtree (3.11) closes a folder's descriptor again in its ``finally`` where an
    exception leaves between its ``os.close`` and the mark that it closed, so a stop raised
    by a signal handler there came out as ``OSError: [Errno 9] Bad file descriptor`` and
    was said as a bug (s65 CI: SIGINT to a ``--nproc`` launch as a staging was removed)."""
    try:
        shutil.rmtree(path, ignore_errors=ignore_errors)
    except OSError as exc:
        stop = exc.__context__
        if isinstance(stop, BaseException) and not isinstance(stop, Exception):
            raise stop from None  # Ctrl-C, SIGTERM: the stop, not the descriptor closed twice
        raise


def put_in_place(source: Path, path: Path) -> None:
    """Rename the written and flushed file ``source`` over ``path`` (a step of a publishing
    that flushes the folder once at its end: :mod:`unetlab.inference.slide_outputs`); the
    action :func:`when_written` registered for ``path`` runs, as after :func:`atomic_path`,
    and the digest noted of ``source`` (:func:`note_digest`) is noted of ``path``."""
    try:
        os.replace(source, path)
    except OSError as exc:
        raise write_error(path, exc) from exc
    if (noted := _DIGESTS.pop(_key(source), None)) is not None:
        _DIGESTS[_key(Path(path))] = noted  # the file renamed: its device, inode, size, time
    _written(Path(path))


#: actions to run once a path is written by :func:`atomic_path`: resolved path -> action
_WHEN_WRITTEN: dict[str, Callable[[], None]] = {}


def _key(path: Path) -> str:
    return str(path.parent.resolve() / path.name)


def when_written(path: str | os.PathLike, action: Callable[[], None] | None) -> None:
    """Run ``action`` (once) when :func:`atomic_path` has put ``path`` in place; None
    forgets the action registered for ``path``. The output rules use it to mark a claimed
    file written in its folder's manifest (:func:`unetlab.outputs.claim_files`)."""
    if action is None:
        _WHEN_WRITTEN.pop(_key(Path(path)), None)
    else:
        _WHEN_WRITTEN[_key(Path(path))] = action


def _written(path: Path) -> None:
    if _WHEN_WRITTEN and (action := _WHEN_WRITTEN.pop(_key(path), None)) is not None:
        action()


#: the largest output that carries no key whose content digest its manifest line records (a
#: table, a world file; a larger one's none), or whose key an editor keeps (a larger one's
#: sample): an edit that keeps its size is told by it, a copy (new times) is not. Its
#: writer may note it (:func:`note_digest`)
DIGESTED = 16 * 2**20
#: the digests writers noted (:func:`note_digest`) while a run holds an output folder
#: (:func:`noting_digests`): resolved path -> (device, inode, size, time in ns) of the file
#: written, its digest (:func:`written_digest`)
_DIGESTS: dict[str, tuple[tuple[int, int, int, int], str]] = {}
#: one token for each :func:`noting_digests` block open, in any thread
_NOTING: list[object] = []


@contextlib.contextmanager
def noting_digests() -> Iterator[None]:
    """Within the block (a run that holds an output folder and stamps what it writes:
    :func:`unetlab.outputs.output_folder`), :func:`note_digest` notes; once the last such
    block ends its notes are forgotten: a long process (a notebook, napari) kept every
    output's (~400 B each), and those of files nobody stamps (a weight map, a demo's)."""
    token = object()
    _NOTING.append(token)
    try:
        yield
    finally:
        _NOTING.remove(token)
        if not _NOTING:
            _DIGESTS.clear()


def digest_of(chunks: Iterable[bytes | memoryview]) -> str:
    """A digest of the bytes ``chunks`` hold, in their order: 32 hex digits."""
    digest = hashlib.blake2b(digest_size=16)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def note_digest(tmp: Path, path: str | os.PathLike, digest: str) -> None:
    """Note ``digest`` (:func:`digest_of`) as that of the written file ``tmp`` that
    :func:`atomic_path` puts at ``path``, so that the output rules stamp it without reading
    it back (:func:`written_digest`; s74: a first run read each 12.6 MB probability TIFF
    again to digest it); only within :func:`noting_digests`."""
    if not _NOTING:
        return
    st = os.stat(tmp)
    _DIGESTS[_key(Path(path))] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), digest


def written_digest(path: str | os.PathLike) -> str | None:
    """The digest noted of the file at ``path`` (:func:`note_digest`) where it is the one
    written, unchanged since (its device, inode, size and time); None where not, or where
    that cannot be told."""
    noted = _DIGESTS.get(_key(Path(path)))
    if noted is None:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    made, digest = noted
    return digest if made == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) else None


#: Folders whose entries are flushed once, when :func:`folder_sync_deferred` ends.
_DEFERRED: set[Path] = set()


@contextlib.contextmanager
def folder_sync_deferred(folder: str | os.PathLike) -> Iterator[Path]:
    """Within the block, :func:`atomic_path` into ``folder`` flushes each file but not the
    folder after each rename; the folder is flushed once at the end. For folders of many
    small outputs: a folder flush costs ~12 ms on a VM's ext4 (a file flush ~8 ms;
    bench/bench_durability.py). A crash inside the block may lose the latest renames, never
    leave a renamed file with missing contents, so ``--skip-existing`` stays honest."""
    folder = Path(folder).resolve()
    nested = folder in _DEFERRED
    _DEFERRED.add(folder)
    try:
        yield folder
    finally:
        if not nested:
            _DEFERRED.discard(folder)
            if folder.is_dir():
                fsync(folder)


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to the disk."""
    if path.is_dir() and os.name == "nt":
        return  # Windows cannot open folders for fsync; its renames are journalled
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: the longest file name (bytes) most file systems hold (ext4, XFS, btrfs, APFS, NTFS's 255
#: characters): a temporary's name is kept within it
NAME_MAX = 255
#: what a temporary's name adds to its target's stem: ".", ".", 12 hex digits, ".tmp"
_TEMPORARY_EXTRA = 18


def _fitting(path: Path) -> str:
    """``path``'s stem, cut (at a character) so that its temporary's name fits in
    :data:`NAME_MAX` bytes: a target named up to 255 bytes could not be written, its
    temporary's name too long (audit s37 paths: an image named with 82 kanji, 250 bytes)."""
    room, stem = NAME_MAX - _TEMPORARY_EXTRA - len(os.fsencode(path.suffix)), path.stem
    while stem and len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return stem


def _new_temporary(path: Path) -> tuple[Path, int | None]:
    """A new empty temporary beside ``path`` (:data:`TEMPORARY`'s form), created with mode
    0666 less the umask (what a plain open() gives; mkstemp's 0600 would need a chmod and
    the umask, which can only be read by setting it), and a descriptor holding it
    (:func:`try_hold`) for the writer to close once it is renamed into place; None where
    files cannot be locked (no ``fcntl``; a file system without locks): written unlocked."""
    prefix, suffix = f".{_fitting(path)}.", f".tmp{path.suffix}"
    while True:
        tmp = path.parent / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        try:
            return tmp, try_hold(tmp, os.O_WRONLY)
        except (BlockingIOError, FileNotFoundError):
            continue  # a cleaning took it between its making and our lock: a new name
        except OSError:
            return tmp, None  # a write never fails for want of a lock


def write_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """One line for an OSError met while writing ``path``, with the fix."""
    if exc.errno == errno.ENOSPC:
        return _no_space(Path(path))
    reason = exc.strerror or str(exc)
    fix = {
        errno.EDQUOT: "free some of your disk quota or write elsewhere",
        errno.EROFS: "the disk is read-only: write elsewhere",
        errno.EACCES: "you may not write there: write elsewhere or change its permissions",
        errno.EPERM: "you may not write there: write elsewhere or change its permissions",
        errno.ENAMETOOLONG: f"a file name holds at most {NAME_MAX} bytes there (a path "
        "4096): give it (or the input it is named after) a shorter name",
    }.get(exc.errno, "check the path and the disk")
    return OutputError(f"{path}: cannot write it ({reason}); {fix}")


def disk_full(path: str | os.PathLike, exc: BaseException) -> OutputError | None:
    """The one line for a failed write of ``path`` when its disk is full, else None
    (:func:`_full`). Ask while the failed temporary still fills the disk."""
    return _no_space(Path(path)) if _full(path, exc) else None


def _full(path: str | os.PathLike, exc: BaseException) -> bool:
    """Whether a failed write of ``path`` failed for a full disk: the error says so
    (ENOSPC), or says nothing of the cause (an OSError without errno: numpy's short
    ``tofile``; a RuntimeError: torch.save's "unexpected pos") and the disk has less than
    NEARLY_FULL free."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    silent = isinstance(exc, RuntimeError) or (isinstance(exc, OSError) and exc.errno is None)
    free = _free_bytes(Path(path)) if silent else None
    return free is not None and free < NEARLY_FULL


#: a failed temporary this large (bytes) is named in the line: the file needs more
_SAID_WRITTEN = 50_000


def _no_space(path: Path, *, failed: Path | None = None) -> DiskFullError:
    """The line for a full disk: the space free on it once the ``failed`` temporary is
    removed (audit s30 ops 10 read "0.0 MB free" where 3 MB were: the temporary filled the
    disk, and its writer may still hold it open, so its blocks are added, not measured
    again), and how much of the file had been written when it filled (it needs more)."""
    free = _free_bytes(path)
    size, blocks = _size(failed) if failed is not None else (0, 0)
    left = "" if free is None else f"; {(free + blocks) / 1e6:.1f} MB free on its disk"
    if size >= _SAID_WRITTEN:
        left += f" ({size / 1e6:.1f} MB of the file were written when it filled: it needs more)"
    return DiskFullError(
        f"{path}: cannot write it (No space left on device){left}: free some space on that "
        "disk or write elsewhere"
    )


def _size(path: Path) -> tuple[int, int]:
    """(bytes, bytes of the disk's blocks it holds) of the file at ``path``; 0s if none."""
    try:
        found = path.stat()
    except OSError:
        return 0, 0
    return found.st_size, getattr(found, "st_blocks", found.st_size // 512) * 512


def _free_bytes(path: Path) -> int | None:
    """Bytes free (to this user) on the file system of ``path`` or its nearest existing
    folder; None if none can be asked."""
    for where in (path, *path.parents):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(where).free
    return None
