"""The suite's own process checks the descriptor of each ``os.fsync`` without flushing it
(tests/conftest.py): a flush is unseen by any test and cost a quarter to a half of the I/O
tests' time; UNETLAB_FSYNC=1 keeps the real one."""

from __future__ import annotations

import os

import pytest

from tests import conftest


def test_fsync_in_the_suite_checks_the_descriptor_and_flushes_nothing(tmp_path):
    if conftest._flushes(os.environ.get("UNETLAB_FSYNC")):
        pytest.skip("UNETLAB_FSYNC=1: the real os.fsync")
    assert os.fsync is conftest._unflushed_fsync
    with open(tmp_path / "a", "wb") as f:
        os.fsync(f.fileno())
        closed = f.fileno()
    with pytest.raises(OSError):  # a closed descriptor raises, as a real fsync's does
        os.fsync(closed)


def test_only_unetlab_fsync_1_asks_for_the_real_one():
    assert conftest._flushes("1")
    assert not any(conftest._flushes(v) for v in (None, "", "0", "yes"))
