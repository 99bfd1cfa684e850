"""The CPUs a process may use: its affinity mask, fewer under a cgroup CPU quota (a
container's ``--cpus 2`` on a large host); and torch's default thread count, so that a
count a caller set (``torch.set_num_threads``) is told from it and kept."""

import os
import subprocess
import sys
import time

import pytest
import torch

from unetlab import runtime
from unetlab.cpu_share import CpuReading, cpu_reading, cpu_share
from unetlab.runtime import physical_cores, quota_cpus, torch_default_threads


def _write(root, files: dict[str, str]):
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _quota(tmp_path, files: dict[str, str], own: str | None = "0::/\n") -> float | None:
    root = _write(tmp_path / "cgroup", files)
    proc = tmp_path / "proc_cgroup"
    if own is not None:
        proc.write_text(own)
    return quota_cpus(root, proc)


def test_a_cgroup_v2_quota_is_its_quota_over_its_period(tmp_path):
    assert _quota(tmp_path, {"cpu.max": "150000 100000\n"}) == 1.5
    assert _quota(tmp_path / "a", {"cpu.max": "max 100000\n"}) is None  # no quota
    assert _quota(tmp_path / "b", {}) is None  # no cgroup files at all
    assert _quota(tmp_path / "c", {"cpu.max": "garbled\n"}) is None


def test_a_cgroup_v1_quota_is_read_under_the_cpu_controller(tmp_path):
    v1 = {"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}
    assert _quota(tmp_path, v1, own="4:cpu,cpuacct:/\n") == 0.5
    unset = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    assert _quota(tmp_path / "a", unset, own="4:cpu,cpuacct:/\n") is None


def test_the_smallest_quota_on_the_cgroups_path_binds(tmp_path):
    files = {"cpu.max": "max 100000", "a/cpu.max": "100000 100000", "a/b/cpu.max": "300000 100000"}
    assert _quota(tmp_path, files, own="0::/a/b\n") == 1.0  # the parent's
    assert _quota(tmp_path / "x", files, own=None) is None  # unreadable: the root's alone
    v1 = {"cpu/job/cpu.cfs_quota_us": "250000", "cpu/job/cpu.cfs_period_us": "100000"}
    assert _quota(tmp_path / "y", v1, own="3:cpu,cpuacct:/job\n2:memory:/other\n") == 2.5


@pytest.mark.parametrize(
    ("affinity", "quota", "cpus"), [(8, None, 8), (8, 1.5, 2), (8, 0.2, 1), (2, 16.0, 2)]
)
def test_the_cpus_available_are_the_fewest_of_affinity_and_quota(
    monkeypatch, affinity, quota, cpus
):
    monkeypatch.setattr(runtime, "affinity_cpus", lambda: affinity)
    monkeypatch.setattr(runtime, "quota_cpus", lambda: quota)
    assert runtime.available_cpus() == cpus


def test_physical_cores_count_hyperthreads_once(tmp_path):
    siblings = {f"cpu{n}/topology/thread_siblings_list": f"{n % 2},{n % 2 + 2}\n" for n in range(4)}
    cpu_dir = _write(tmp_path, siblings)
    assert physical_cores(cpu_dir) == 2
    assert torch_default_threads(cpus=8, cpu_dir=cpu_dir) == 2
    assert torch_default_threads(cpus=1, cpu_dir=cpu_dir) == 1  # taskset -c 0


def _fresh_torch_threads(*affinities: set[int] | None) -> list[int]:
    """torch's intra-op threads in new processes (each of ``affinities``, None: this one's),
    no OMP/MKL set; started together (a torch import takes seconds on a loaded machine)."""
    env = {k: v for k, v in os.environ.items() if k not in runtime.THREADS_ENV}
    code = "import torch; print(torch.get_num_threads())"
    started = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            preexec_fn=None if cpus is None else (lambda cpus=cpus: os.sched_setaffinity(0, cpus)),
            stdout=subprocess.PIPE,
            text=True,
        )
        for cpus in affinities
    ]
    return [int(process.communicate()[0]) for process in started]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux affinity")
def test_torch_default_threads_is_what_a_fresh_torch_starts_with():
    one = {min(os.sched_getaffinity(0))}
    assert _fresh_torch_threads(None, one) == [torch_default_threads(), 1]
    assert torch_default_threads(cpus=1) == 1


def _stat_line(pid: int, user: int, system: int, start: int = 5) -> str:
    """/proc/PID/stat of a process with a command name that holds ') '."""
    return f"{pid} (a) b) S 1 1 1 0 -1 0 0 0 0 0 {user} {system} 7 7 20 0 1 0 {start} 0"


def test_children_cpu_reads_each_childs_user_and_system_ticks(tmp_path):
    tick = os.sysconf("SC_CLK_TCK")
    proc = _write(
        tmp_path,
        {
            "10/task/10/children": "11 12 ",
            "10/task/13/children": "14",
            "11/stat": _stat_line(11, 3 * tick, tick),
            "12/stat": _stat_line(12, tick, 0),
            "14/stat": _stat_line(14, 0, 2 * tick, start=9),
        },
    )
    assert runtime.children_cpu(10, proc) == {(11, 5): 4.0, (12, 5): 1.0, (14, 9): 2.0}
    assert runtime.children_cpu(99, proc) == {}  # none listed


def test_a_runs_children_count_as_its_own_only_alive_and_only_with_workers():
    """A child alive at both readings counts what it used between them; one started since,
    all its time; one ended since (a notebook job that finished), none: before, its past
    CPU seconds were taken off the run's own (review s54)."""
    before = CpuReading(0.0, 1.0, None, {(11, 5): 4.0, (12, 5): 9.0, (13, 5): 1.0})
    after = CpuReading(2.0, 2.0, None, {(11, 5): 5.5, (13, 6): 0.5, (14, 7): 0.25})
    assert cpu_share(before, after, threads=1, cpus={0}).own == 1.0 + 1.5 + 0.5 + 0.25
    unread = CpuReading(2.0, 2.0, None)  # a run without workers, a predict
    assert cpu_share(before, unread, threads=1, cpus={0}).own == 1.0
    assert cpu_share(before._replace(children=None), after, threads=1, cpus={0}).own == 1.0


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="Linux /proc")
def test_a_live_childs_cpu_counts_only_where_the_run_has_workers():
    """A notebook's Popen job, a tensorboard: other work, not the run's (review s54)."""
    code = (
        "import time\nwhile time.process_time() < 0.2: pass\nprint(1, flush=True)\ntime.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child.stdout.readline()  # it has used 0.2 CPU seconds
        assert sum(runtime.children_cpu().values()) >= 0.19
        assert cpu_reading(workers=True).children[child.pid, _start(child.pid)] >= 0.19
        plain = cpu_reading()
        assert plain.children is None and plain.own <= time.process_time()
    finally:
        child.kill()
        child.wait()


def _start(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])


def test_without_the_cores_described_torchs_count_at_import_is_not_chosen(tmp_path, monkeypatch):
    """macOS, Windows, some containers: no cpu topology, so torch's default (its physical
    cores, 4) is not the logical CPUs (8); the default looked chosen and the threads never
    went fewer beside other work (review s54). The count unetlab was imported with is
    torch's default there; a count set since is the user's."""
    for name in runtime.THREADS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "SYS_CPU", tmp_path / "no_topology")
    monkeypatch.setattr(runtime, "affinity_cpus", lambda: 8)
    monkeypatch.setattr(runtime, "available_cpus", lambda: 8)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(runtime, "THREADS_AT_IMPORT", 4, raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(4)
        assert runtime.torch_default_threads() is None
        assert not runtime.threads_chosen()
        torch.set_num_threads(3)  # a notebook's set_num_threads
        assert runtime.threads_chosen()
        monkeypatch.setenv("OMP_NUM_THREADS", "4")
        torch.set_num_threads(4)
        assert runtime.threads_chosen()
    finally:
        torch.set_num_threads(before)
