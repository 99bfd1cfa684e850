"""unetlab.atomic: atomic writes, a leaf module that data.io, outputs and every writer import."""

import os
import subprocess
import sys

import pytest

from unetlab.atomic import atomic_path, remove_if_unheld, remove_tree, try_hold, when_written
from unetlab.errors import OutputError


def test_atomic_imports_nothing_of_unetlab_but_its_errors():
    """data.io and outputs imported each other (outputs lazily); both now import atomic."""
    code = (
        "import sys, unetlab.atomic; "
        "print(sorted(m for m in sys.modules if m.startswith('unetlab.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['unetlab.atomic',", "'unetlab.errors']"]


def test_the_action_for_a_path_runs_once_it_is_written(tmp_path):
    done = []
    when_written(tmp_path / "a.txt", lambda: done.append("a"))
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt"):
        raise RuntimeError("stopped before the rename")
    assert done == [] and not (tmp_path / "a.txt").exists()
    for _ in range(2):
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    assert done == ["a"]


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_a_temporary_is_held_until_its_file_is_in_place(tmp_path):
    """The cleaning of killed writes' temporaries (remove_if_unheld) tells a live one by its
    lock: atomic_path holds its temporary from its making to its rename."""
    with atomic_path(tmp_path / "a.json") as tmp:
        assert tmp.exists()
        with pytest.raises(BlockingIOError):
            try_hold(tmp)
        assert not remove_if_unheld(tmp) and tmp.exists()
        tmp.write_text("x")
    assert (tmp_path / "a.json").read_text() == "x" and os.listdir(tmp_path) == ["a.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_a_temporary_removed_before_its_lock_is_made_again_under_a_new_name(tmp_path, monkeypatch):
    """A cleaning may take and remove a temporary between its making and its writer's lock:
    the writer makes another (it wrote into a removed file, and failed at the rename)."""
    import fcntl

    flock, taken = fcntl.flock, []

    def cleaned_first(fd, operation):
        if not taken:
            taken.extend(p.name for p in tmp_path.iterdir())
            assert all(remove_if_unheld(tmp_path / name) for name in taken)
        return flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", cleaned_first)
    with atomic_path(tmp_path / "a.json") as tmp:
        tmp.write_text("x")
    assert len(taken) == 1 and tmp.name != taken[0]
    assert os.listdir(tmp_path) == ["a.json"] and (tmp_path / "a.json").read_text() == "x"


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_where_files_cannot_be_locked_writes_work_and_temporaries_stay(tmp_path, monkeypatch):
    """A file system without locks (ENOLCK: Lustre without flock, some NFS set-ups): a
    write never fails for want of a lock, and whether a temporary's writer lives cannot be
    told, so the cleaning keeps it."""
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    left = tmp_path / ".a.0123456789ab.tmp.json"
    left.write_text("half")
    with atomic_path(tmp_path / "a.json") as tmp:
        tmp.write_text("x")
    assert (tmp_path / "a.json").read_text() == "x"
    assert not remove_if_unheld(left) and left.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_where_a_lock_needs_a_file_open_for_writing_killed_temporaries_still_go(
    tmp_path, monkeypatch
):
    """NFS and SMB clients emulate flock with fcntl locks, whose exclusive lock needs the
    file open for writing (EBADF otherwise; flock(2)): the cleaning opened temporaries read
    only, so on a cluster's NFS home it kept every killed write's temporary for good."""
    import errno
    import fcntl

    flock = fcntl.flock

    def nfs(fd, operation):
        if (
            operation & fcntl.LOCK_EX
            and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
        ):
            raise OSError(errno.EBADF, "Bad file descriptor")
        return flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", nfs)
    left = tmp_path / ".a.0123456789ab.tmp.json"
    left.write_text("half")
    with atomic_path(tmp_path / "a.json") as tmp:
        assert not remove_if_unheld(tmp) and tmp.exists()  # a live one still stays
        tmp.write_text("x")
    assert remove_if_unheld(left) and not left.exists()
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="no flock")
def test_a_process_never_takes_its_own_live_temporary_for_a_killed_one(tmp_path, monkeypatch):
    """Where flock is fcntl's lock (NFS, SMB clients), locks are a process's, not a file
    descriptor's: the cleaning in the process that writes a temporary took its lock, removed
    it, and its close dropped the writer's lock too. The process knows its own temporaries."""
    import fcntl

    monkeypatch.setattr(fcntl, "flock", lambda fd, operation: None)  # one process: no conflict
    with atomic_path(tmp_path / "a.json") as tmp:
        assert not remove_if_unheld(tmp) and tmp.exists()
        tmp.write_text("x")
    left = tmp_path / ".a.0123456789ab.tmp.json"
    left.write_text("half")
    assert remove_if_unheld(left) and os.listdir(tmp_path) == ["a.json"]


def test_a_full_disk_says_the_space_free_without_the_failed_file_and_what_it_needed(
    tmp_path, monkeypatch
):
    """Audit s30 ops 10: "0.0 MB free" was measured while the failed temporary filled the
    disk; 3 MB were free once it was gone, and the file needed more."""
    import errno
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    disk = 4_000_000  # a disk of 4 MB holding the files in tmp_path

    def disk_usage(path):
        used = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
        return usage(disk, used, disk - used)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    with pytest.raises(OutputError) as info, atomic_path(tmp_path / "last.pt") as tmp:
        tmp.write_bytes(b"x" * 1_500_000)
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(info.value) == (
        f"{tmp_path / 'last.pt'}: cannot write it (No space left on device); 4.0 MB free on its "
        "disk (1.5 MB of the file were written when it filled: it needs more): free some space "
        "on that disk or write elsewhere"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("stem", ["顕" * 83, "a" * 251, "x" * 230])
def test_a_name_the_file_system_holds_is_written_whatever_its_temporarys(tmp_path, stem):
    """A name of up to 255 bytes: the temporary's name (18 bytes more) is cut to fit."""
    path = tmp_path / f"{stem}.tif"
    assert len(path.name.encode()) <= 255
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"1")
    assert path.read_bytes() == b"1" and sorted(tmp_path.iterdir()) == [path]


def _folder_flush_failing(monkeypatch, before=None):
    """os.fsync failing (EIO) for a folder, after ``before()`` runs; a file's works."""
    import errno
    import stat

    real = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            if before is not None:
                before()
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def _no_links(monkeypatch):
    import errno

    def link(*_args):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", link)


@pytest.mark.parametrize("way", ["link", "rename", "copy"])
def test_a_new_file_whose_folder_flush_fails_is_removed(tmp_path, monkeypatch, way):
    """A file put in place where nothing is (not ``replace``) stayed there when the flush of
    its folder failed after, though the write was said to fail (s62 review): it is removed,
    and nothing else is; whichever way it was put there (a hard link; without hard links a
    rename that replaces nothing, else a copy: review s63)."""
    from unetlab import atomic

    if way == "rename" and os.name != "nt" and atomic._no_replace_rename() is None:
        pytest.skip("no rename that replaces nothing here (glibc < 2.28?): the copy case")
    (tmp_path / "other.txt").write_text("kept")
    if way != "link":
        _no_links(monkeypatch)
    if way == "copy":
        monkeypatch.setattr(atomic, "_renamed_new", lambda *_args: False)
    _folder_flush_failing(monkeypatch)
    with (
        pytest.raises(OutputError) as refused,
        atomic_path(tmp_path / "a.txt", replace=False) as tmp,
    ):
        tmp.write_text("new")
    assert "cannot write it (Input/output error)" in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt"]


def test_a_file_put_in_place_by_another_before_the_flush_failed_stays(tmp_path, monkeypatch):
    """Only the file it put there is removed: one put at its name since stays."""
    path = tmp_path / "a.txt"

    def theirs():
        path.unlink()
        path.write_text("theirs")

    _folder_flush_failing(monkeypatch, theirs)
    with pytest.raises(OutputError), atomic_path(path, replace=False) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "theirs"


def test_without_hard_links_a_new_file_never_shows_partly_written(tmp_path, monkeypatch):
    """Without hard links (FAT, SMB) the file was made at its name (O_EXCL) and the written
    temporary copied in, so the name showed a partial file meanwhile (s62 review): the
    temporary is renamed there by a rename that replaces nothing (Linux, macOS, Windows),
    the very file written; a file there stays (FileExistsError)."""
    from unetlab import atomic
    from unetlab.atomic import file_id

    if os.name != "nt" and atomic._no_replace_rename() is None:
        pytest.skip("this C library has no rename that replaces nothing (glibc < 2.28)")
    _no_links(monkeypatch)
    path = tmp_path / "a.txt"
    with atomic_path(path, replace=False) as tmp:
        tmp.write_text("new")
        written = file_id(tmp)
    assert path.read_text() == "new" and file_id(path) == written
    with pytest.raises(FileExistsError), atomic_path(path, replace=False) as tmp:
        tmp.write_text("newer")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_without_a_rename_that_replaces_nothing_a_new_file_is_copied(tmp_path, monkeypatch):
    """Where the system has neither hard links nor such a rename, the file is made at its
    name (O_EXCL) and copied in; a file there stays."""
    from unetlab import atomic

    _no_links(monkeypatch)
    monkeypatch.setattr(atomic, "_renamed_new", lambda *_args: False)
    path = tmp_path / "a.txt"
    with atomic_path(path, replace=False) as tmp:
        tmp.write_text("new")
    with pytest.raises(FileExistsError), atomic_path(path, replace=False) as tmp:
        tmp.write_text("newer")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.fixture
def fresh_rename():
    """:func:`unetlab.atomic._no_replace_rename` looked up again in the test, and after."""
    from unetlab import atomic

    atomic._no_replace_rename.cache_clear()
    yield
    atomic._no_replace_rename.cache_clear()


def _copies_a_new_file(tmp_path, monkeypatch):
    """Without hard links, a new file written with replace=False is at its name, alone."""
    _no_links(monkeypatch)
    path = tmp_path / "a.txt"
    with atomic_path(path, replace=False) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_python_without_ctypes_copies_a_new_file(tmp_path, monkeypatch, fresh_rename):
    """A Python built without _ctypes raised an ImportError traceback writing a new file
    without hard links (review s63): it has no rename that replaces nothing, so copies."""
    import sys

    monkeypatch.setitem(sys.modules, "ctypes", None)  # import ctypes: ImportError
    _copies_a_new_file(tmp_path, monkeypatch)


def test_renameat2_is_looked_up_on_linux_alone(monkeypatch, fresh_rename):
    """renameat2 is called with Linux's AT_FDCWD (-100): another system's C library that
    had a renameat2 would take -100 for something else (review s63)."""
    import sys

    from unetlab import atomic

    monkeypatch.setattr(sys, "platform", "freebsd14")
    assert atomic._no_replace_rename() is None


def test_a_rename_that_fails_leaving_errno_0_is_no_success(tmp_path, monkeypatch, fresh_rename):
    """The C library's rename that replaces nothing was taken as done where it returned -1
    and left errno at 0 (its return value read through errno alone): the file was never
    put at its name. Its return value says: the new file is copied there instead."""
    import ctypes

    class Failing:
        argtypes = None

        def __call__(self, *_args):
            ctypes.set_errno(0)
            return -1

    class Libc:
        def __init__(self, *_args, **_kwargs):
            self.renameat2 = self.renamex_np = Failing()

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", Libc)
    _copies_a_new_file(tmp_path, monkeypatch)


def test_a_stop_raised_as_rmtree_closes_a_folder_is_raised_as_the_stop(tmp_path, monkeypatch):
    """A signal's stop raised just after rmtree's os.close of a folder (before rmtree marks
    it closed): rmtree's finally closes it again and OSError EBADF took the stop's place,
    said as a bug (s65 CI). remove_tree raises the stop."""
    (tmp_path / "stage" / "deeper").mkdir(parents=True)
    (tmp_path / "stage" / "deeper" / "rows.npy").write_bytes(b"x")
    close, stopped = os.close, []

    def interrupted(fd):
        close(fd)
        if not stopped:  # the first close: a Ctrl-C lands as it returns
            stopped.append(fd)
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        remove_tree(tmp_path / "stage", ignore_errors=True)
