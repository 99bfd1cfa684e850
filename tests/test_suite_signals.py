"""The suite takes a Ctrl-C as in a terminal wherever a shell started it (tests/conftest.py):
a background job of a non-interactive shell starts with SIGINT ignored, and the tests of a
Ctrl-C failed there (s73)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.conftest import REPO

_CTRL_C = """
import os, signal, subprocess, sys

import pytest


def test_a_ctrl_c_raises_here_and_in_a_child():
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
    child = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    ran = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
    assert ran.stdout == "True\\n"
"""


@pytest.mark.slow  # a pytest of its own: 6 s on 2 loaded cores
def test_the_suite_started_with_sigint_ignored_takes_a_ctrl_c(tmp_path):
    (tmp_path / "test_ctrl_c.py").write_text(_CTRL_C)
    suite = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest"]
    ran = subprocess.run(
        [*suite, str(tmp_path / "test_ctrl_c.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `pytest ... &`
    )
    assert ran.returncode == 0, ran.stdout[-2000:]
