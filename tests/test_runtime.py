"""Runtime tuning: allocator, threads, precision checks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from unetlab import runtime

# A step allocates and frees 48 + 48 + 96 MB (over glibc's 32 MiB mmap ceiling). Untuned,
# every step maps and faults in fresh pages. Tuned, the heap settles after a few steps
# (aligned blocks fragment it at first) and then reuses its pages. Prints both fault counts.
FAULTS = textwrap.dedent(
    """
    import resource, torch
    from unetlab.runtime import tune_allocator
    def faults(steps):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(steps):
            a = torch.ones(12 << 20)
            torch.cat([a, a * 2])
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    faults(1)
    system = faults(4)
    tune_allocator(True)
    faults(10)
    print(system, min(faults(4) for _ in range(3)))  # the heap's layout varies run to run
    """
)


@pytest.mark.skipif(runtime._glibc() is None, reason="glibc only")
def test_tuned_allocator_reuses_pages_instead_of_faulting_them_in_again():
    out = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, check=True)
    system, tuned = map(int, out.stdout.split())
    # untuned: 4 steps x 192 MB = 4 x 49152 pages of 4 KiB faulted in again
    assert system > 4 * 49152 * 0.9
    assert tuned < system / 10


def test_tune_allocator_is_idempotent_and_can_be_switched_off(monkeypatch):
    monkeypatch.setenv(runtime.ALLOCATOR_ENV, "off")
    assert "UNETLAB_TUNE_ALLOCATOR=off" in runtime.tune_allocator()
    if runtime._glibc() is None:
        pytest.skip("glibc only")
    try:
        first = runtime.tune_allocator(True)
        assert first.startswith("glibc malloc: mmap off")
        assert runtime.tune_allocator(True) == first
    finally:
        assert "defaults restored" in runtime.tune_allocator(False)


def test_configure_threads_never_exceeds_allowed_cpus(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert 1 <= runtime.configure_threads() <= max(runtime.available_cpus(), before)
        assert runtime.configure_threads(1) == 1
        with pytest.raises(ValueError, match="at least 1"):
            runtime.configure_threads(0)
    finally:
        torch.set_num_threads(before)


def test_prediction_options_check_the_precision_by_runtimes_rule():
    from unetlab.inference.predict import PredictOptions, probability_fn

    with pytest.raises(ValueError, match=r"^precision must be one of fp32, bf16, not 'fp16'$"):
        PredictOptions(precision="fp16")
    with pytest.raises(ValueError, match=r"^precision must be one of fp32, bf16, not 'fp16'$"):
        probability_fn(torch.nn.Identity(), precision="fp16")
    assert runtime.check_precision("bf16", None) == "bf16"  # no device yet: the name only


def test_check_precision_names_the_fix():
    assert runtime.check_precision("fp32") == "fp32"
    with pytest.raises(ValueError, match="fp32, bf16"):
        runtime.check_precision("fp16")
    if runtime.supports_bf16("cpu"):
        assert runtime.check_precision("bf16") == "bf16"
    else:
        with pytest.raises(ValueError, match="use --precision fp32"):
            runtime.check_precision("bf16")


def test_supports_bf16_is_false_for_unknown_devices():
    assert runtime.supports_bf16("meta") is False
    assert isinstance(runtime.cpu_capability(), str)


STAT = """cpu  300 0 100 600 0 0 0 0 0 0
cpu0 100 0 50 300 10 0 0 0 0 0
cpu1 200 0 50 300 0 0 0 5 7 0
intr 12345
"""


def test_cpu_times_and_cores_busy_from_proc_stat():
    before = runtime.cpu_times(STAT)
    assert before == {0: (150, 460), 1: (255, 555)}  # idle and iowait are not busy
    after = {0: (200, 560), 1: (255, 655)}  # cpu0 half busy, cpu1 idle
    assert runtime.cores_busy(before, after, {0, 1}) == pytest.approx(0.5)
    assert runtime.cores_busy(before, after, {1, 7}) == 0.0  # only the CPUs given


def test_excess_load_sees_work_started_since_the_load_average():
    assert runtime.excess_load(load=1.0, cpus=2, margin=0.5, in_use=0.3) is None
    busy = runtime.excess_load(load=1.0, cpus=2, margin=0.5, in_use=1.5)
    assert busy.describe() == "load 1.0 on 2 cores, 1.5 of them in use by other work just now"
    assert runtime.excess_load(load=4.0, cpus=2).describe() == "load 4.0 on 2 cores"


def test_the_c_library_is_looked_up_once_a_process(monkeypatch):
    """find_library starts an ldconfig process each call; the allocator is tuned and restored
    around every file and frame, so the lookup cost ~24 s of a 2,880-frame predict (s36)."""
    import ctypes.util

    calls = []
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: calls.append(name) or real(name))
    runtime._glibc.cache_clear()
    try:
        for _ in range(3):
            runtime._glibc()
    finally:
        runtime._glibc.cache_clear()
    assert len(calls) <= 1


def test_the_parent_s_environment_is_read_as_it_started(tmp_path, monkeypatch):
    """torchrun's worker tells torchrun's OMP_NUM_THREADS=1 from the user's by its parent's
    start-up environment (/proc/<ppid>/environ); None where it cannot be read."""
    monkeypatch.delenv(runtime.TORCHRUN_PID_ENV, raising=False)
    parent = tmp_path / str(os.getppid())
    parent.mkdir()
    (parent / "environ").write_bytes(b"PATH=/bin\0EMPTY=\0A=b=c\0")
    assert runtime.parent_environ(tmp_path) == {"PATH": "/bin", "EMPTY": "", "A": "b=c"}
    assert runtime.parent_environ(tmp_path / "none") is None
    (parent / "environ").unlink()  # s57: read once per command (it was up to 4 times)
    read = runtime.parent_environ(tmp_path)
    assert read == {"PATH": "/bin", "EMPTY": "", "A": "b=c"}
    read["PATH"] = "/x"  # a copy: the next caller's is as read
    assert runtime.parent_environ(tmp_path)["PATH"] == "/bin"


def _fake_process(proc, pid: int, parent: int, command: list[str], env: bytes) -> None:
    """Process ``pid`` in a fake /proc ``proc``: its stat (``parent`` its parent), cmdline
    and environ as Linux writes them."""
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "stat").write_text(f"{pid} (a b) S {parent} {pid} 0 0\n")
    (proc / str(pid) / "cmdline").write_bytes(b"\0".join(map(str.encode, command)) + b"\0")
    (proc / str(pid) / "environ").write_bytes(env)


@pytest.mark.parametrize(
    "command",
    [
        ["python3", "/usr/local/bin/torchrun", "--nproc_per_node=2", "run.sh"],
        ["python3", "-u", "-m", "torch.distributed.run", "--nproc_per_node=2", "run.sh"],
        ["bash", "not-torchrun.sh"],
    ],
    ids=["torchrun", "python -m", "none"],
)
def test_a_worker_of_torchrun_by_hand_reads_torchrun_s_environment(tmp_path, monkeypatch, command):
    """s58: torchrun by hand notes no UNETLAB_TORCHRUN_PID; a worker whose parent is not
    torchrun (``torchrun --no-python run.sh``, a forkserver) read that parent's
    environment, which holds torchrun's OMP_NUM_THREADS=1. The nearest ancestor whose
    command is torchrun's is read, else the parent as before."""
    monkeypatch.delenv(runtime.TORCHRUN_PID_ENV, raising=False)
    parent, torchrun = os.getppid(), 4_000_000 if os.getppid() != 4_000_000 else 4_000_001
    _fake_process(tmp_path, parent, torchrun, ["bash", "run.sh"], b"OMP_NUM_THREADS=1\0")
    _fake_process(tmp_path, torchrun, 1, command, b"PATH=/usr/bin\0")
    read = runtime.parent_environ(tmp_path)
    assert read == ({"OMP_NUM_THREADS": "1"} if command[0] == "bash" else {"PATH": "/usr/bin"})
    from unetlab.runtime import torchrun_ancestor  # s58

    assert torchrun_ancestor(torchrun, tmp_path) == (None if command[0] == "bash" else torchrun)
    assert torchrun_ancestor(parent, tmp_path / "none") is None  # /proc unreadable
    _fake_process(tmp_path, 4_000_002, 4_000_003, ["sh"], b"")  # a loop (pids reused as read)
    _fake_process(tmp_path, 4_000_003, 4_000_002, ["sh"], b"")
    assert torchrun_ancestor(4_000_002, tmp_path) is None


@pytest.mark.parametrize(
    "command, runs",
    [
        ("/usr/local/bin/torchrun --nproc_per_node=2 run.sh", True),
        ("python3 /usr/local/bin/torchrun --nproc_per_node=2 run.sh", True),
        ("python -X dev -W ignore -m torch.distributed.run --nproc_per_node=2 x.py", True),
        ("python3.11 -Xdev -u -Wignore -mtorch.distributed.launch x.py", True),
        ("/usr/bin/python3 -um torch.distributed.run x.py", True),
        ("python3 -- torchrun x.py", True),
        ("python my.py --note torchrun", False),
        ("python3 -m unetlab predict --input torchrun", False),
        ("python3 -W torchrun x.py", False),  # a warnings filter, not the script
        ("python3 -c 'import torchrun' torchrun", False),
        ("bash torchrun", False),
        ("python3", False),
        ("", False),
    ],
)
def test_torchrun_is_known_by_its_program_module_or_script(tmp_path, command, runs):
    """review s58 F: a word "torchrun" among a command's first four counted (``python my.py
    --note torchrun``). Only the program, the module after ``-m`` or the script of a Python
    interpreter, its options skipped (``-X dev -W ignore``), names it."""
    import shlex

    from unetlab.runtime import torchrun_ancestor

    _fake_process(tmp_path, 4_000_000, 0, shlex.split(command), b"")
    assert torchrun_ancestor(4_000_000, tmp_path) == (4_000_000 if runs else None)


def test_torchrun_as_a_container_s_init_is_found(tmp_path):
    """review s58 F: the walk up the ancestors ended before pid 1, so torchrun as a
    container's entry point (``docker run img torchrun --no-python ./run.sh``) was never
    found; init is looked at, and ends the walk."""
    from unetlab.runtime import torchrun_ancestor

    _fake_process(tmp_path, 1, 0, ["/usr/local/bin/torchrun", "--no-python", "run.sh"], b"")
    _fake_process(tmp_path, 50, 1, ["bash", "./run.sh"], b"OMP_NUM_THREADS=1\0")
    assert torchrun_ancestor(50, tmp_path) == 1
    (tmp_path / "init").mkdir()
    _fake_process(tmp_path / "init", 1, 1, ["/sbin/init"], b"")  # its own parent: read once
    _fake_process(tmp_path / "init", 50, 1, ["bash", "./run.sh"], b"")
    assert torchrun_ancestor(50, tmp_path / "init") is None


@pytest.mark.parametrize("noted", ["torchrun", "unreadable", "no pid"])
def test_a_forkserver_s_worker_reads_torchrun_s_environment(tmp_path, monkeypatch, noted):
    """A worker whose parent is a forkserver (its environment: torchrun's OMP_NUM_THREADS=1
    after torchrun set it) took that 1 for the user's (s57): the torchrun a launch noted
    (UNETLAB_TORCHRUN_PID) is read where set, else the parent (a pid not a number, or one
    whose environment is gone: None)."""
    from unetlab import distributed

    assert distributed.TORCHRUN_PID_ENV == runtime.TORCHRUN_PID_ENV == "UNETLAB_TORCHRUN_PID"
    torchrun = 4_000_000 if os.getppid() != 4_000_000 else 4_000_001  # not a real one here
    (tmp_path / str(os.getppid())).mkdir()
    (tmp_path / str(os.getppid()) / "environ").write_bytes(b"OMP_NUM_THREADS=1\0PATH=/bin\0")
    if noted != "unreadable":
        (tmp_path / str(torchrun)).mkdir()
        (tmp_path / str(torchrun) / "environ").write_bytes(b"PATH=/usr/bin\0")
    monkeypatch.setenv(runtime.TORCHRUN_PID_ENV, "x" if noted == "no pid" else str(torchrun))
    read = runtime.parent_environ(tmp_path)
    if noted == "torchrun":
        assert read == {"PATH": "/usr/bin"}
    elif noted == "unreadable":
        assert read is None
    else:
        assert read == {"OMP_NUM_THREADS": "1", "PATH": "/bin"}
