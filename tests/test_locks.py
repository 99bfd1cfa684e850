"""outputs.try_hold: the one flock-and-recheck that FolderLock and the export's build folders
use (two copies of it drifted apart before)."""

import os

import pytest

fcntl = pytest.importorskip("fcntl")

from unetlab.outputs import LOCK, FolderLock, LockLost, try_hold  # noqa: E402


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
        assert lock.read_text() == f"{os.getpid()}\n"
