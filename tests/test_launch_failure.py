"""A launched process that fails is said in one line by the launcher: torchrun's own traceback
and report (30 lines) no longer follow the process's line; a bug's traceback stays, once."""

import os
import subprocess
import sys

import pytest

from unetlab.distributed import TORCHRUN

# rank 1 ends as kill -9 would end it, or raises (a bug); rank 0 finishes
WORKER = """
import os, signal, sys, time
if os.environ["RANK"] == "1":
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise ValueError("a bug in rank code")
time.sleep(0.5)
"""


def _launch(tmp_path, how):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    command = [sys.executable, "-c", TORCHRUN, "--standalone", "--nproc_per_node=2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*command, str(script), how], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_process_is_one_line_without_torchrun_s_traceback(tmp_path):
    out = _launch(tmp_path, "kill")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and "ChildFailedError" not in out.stderr, out.stderr
    assert "unetlab: process 1 of the launch (pid " in out.stderr
    assert "was killed (SIGKILL)" in out.stderr


def test_a_bug_in_a_process_keeps_its_traceback_once(tmp_path):
    out = _launch(tmp_path, "bug")
    assert out.returncode == 1
    assert out.stderr.count("Traceback") == 1, out.stderr
    assert "ValueError: a bug in rank code" in out.stderr
    assert "ChildFailedError" not in out.stderr
    assert "process 1 of the launch (pid " in out.stderr and "exit status 1" in out.stderr
