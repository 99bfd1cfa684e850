"""outputs.try_hold: the one flock-and-recheck that FolderLock and the export's build folders
use (two copies of it drifted apart before)."""

import os
import socket

import pytest

fcntl = pytest.importorskip("fcntl")

from unetlab.outputs import (  # noqa: E402
    LOCK,
    FolderLock,
    LockLost,
    held_by_another,
    try_hold,
    wait_let_go,
)


def test_a_held_file_or_folder_is_refused_and_a_closed_one_taken(tmp_path):
    for path, flags in ((tmp_path / "f", os.O_RDWR | os.O_CREAT), (tmp_path, os.O_RDONLY)):
        fd = try_hold(path, flags)
        with pytest.raises(BlockingIOError):
            try_hold(path, flags)
        os.close(fd)
        os.close(try_hold(path, flags))


def _replacing_before_the_lock(monkeypatch, path, times=1):
    """flock that first replaces ``path`` by a new file (``times`` times): another process's
    release and removal between our open and our flock."""
    flock, left = fcntl.flock, [times]

    def replaced_first(fd, operation):
        if left[0]:
            left[0] -= 1
            path.unlink()
            path.write_text("")
        return flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", replaced_first)


def test_a_file_replaced_before_its_lock_is_lost_and_folder_lock_takes_the_new_one(
    tmp_path, monkeypatch
):
    lock = tmp_path / LOCK
    lock.write_text("")
    _replacing_before_the_lock(monkeypatch, lock)
    with pytest.raises(LockLost):
        try_hold(lock, os.O_RDWR)
    _replacing_before_the_lock(monkeypatch, lock)
    with FolderLock(tmp_path) as held:
        assert os.fstat(held.fd).st_ino == lock.stat().st_ino
        assert lock.read_text() == f"{os.getpid()} on {socket.gethostname()}\n"


def test_a_refused_folder_names_the_owners_pid_and_host(tmp_path):
    """A folder shared between a cluster's nodes: a pid alone names no process."""
    from unetlab.errors import OutputError

    with FolderLock(tmp_path), pytest.raises(OutputError) as refused:
        # another process's attempt: the lock is per open file description
        FolderLock(tmp_path).__enter__()
    assert f"(pid {os.getpid()} on {socket.gethostname()})" in str(refused.value)


def test_a_file_system_without_locks_warns_and_goes_on(tmp_path, monkeypatch, caplog):
    """Lustre without flock, some NFS set-ups: flock fails with ENOLCK; every train and
    predict there was refused as 'cannot write it'."""
    import errno

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with FolderLock(tmp_path):
        pass
    assert "does not lock files (No locks available)" in caplog.text


def test_a_folder_held_is_seen_without_being_taken_and_waited_for(tmp_path):
    """For the launcher of a run whose torchrun ended, to wait for its main process."""
    assert not held_by_another(tmp_path / "none") and not held_by_another(tmp_path)
    lock = FolderLock(tmp_path).__enter__()
    assert held_by_another(tmp_path) and not wait_let_go(tmp_path, 0.05, poll=0.01)
    assert (tmp_path / LOCK).read_text().startswith(f"{os.getpid()} on ")  # left as it was
    lock.__exit__(None, None, None)
    assert not held_by_another(tmp_path) and wait_let_go(tmp_path, 0)
