"""The CPUs a process may use: its affinity mask, fewer under a cgroup CPU quota (a
container's ``--cpus 2`` on a large host)."""

import pytest

from unetlab import runtime
from unetlab.runtime import quota_cpus


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
