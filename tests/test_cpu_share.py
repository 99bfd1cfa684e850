"""The end of a time-budget run on the CPU says when the CPU was shared over its training
(audit s35 workshop 3: a demo got 31 % of its 2 threads, bought 19 of 288 steps, and nothing
said why; the load average read at its start had not caught up). Figures injected: no busy
machine needed."""

import json
import os
import time

import pytest

from unetlab import cpu_share as cpu_share_module
from unetlab.cli import main
from unetlab.cpu_share import (
    CpuReading,
    busy_cpu_warning,
    cores_in_use,
    cpu_share,
    shared_cpu_warning,
)
from unetlab.train import fit
from unetlab.train import fitting as train_fitting
from unetlab.train import log as train_log
from unetlab.train import run as train_run

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py

HZ = 100  # /proc/stat's jiffies a second


def _stat(seconds: float, busy: tuple[float, float]) -> dict:
    """/proc/stat of two CPUs after ``seconds``, each busy for its fraction of them."""
    return {cpu: (round(b * seconds * HZ), round(seconds * HZ)) for cpu, b in enumerate(busy)}


BEFORE = CpuReading(1000.0, 5.0, _stat(0, (0, 0)))


def _after(wall: float, own: float, busy=(1.0, 1.0), stat=True) -> CpuReading:
    return CpuReading(1000.0 + wall, 5.0 + own, _stat(wall, busy) if stat else None)


def test_a_shared_cpu_is_said_with_the_share_the_run_got():
    share = cpu_share(BEFORE, _after(180.0, 112.0), threads=2, cpus={0, 1})
    assert share.share == pytest.approx(112 / 360) and share.others == pytest.approx(2 - 112 / 180)
    line = shared_cpu_warning(share, 2.5)
    assert "this run got 31% of what its 2 threads could have had" in line
    assert "112 CPU-seconds in 180 s" in line and "other work kept 1.4 cores busy" in line
    assert "2.5-minute budget bought fewer steps" in line and "\n" not in line


def test_an_idle_machine_whose_run_left_threads_idle_is_not_called_busy():
    # the CPUs were busy only with the run's own 0.6 cores: nothing else ran
    share = cpu_share(BEFORE, _after(180.0, 112.0, busy=(0.35, 0.27)), threads=2, cpus={0, 1})
    assert share.share < 0.5 and share.others < 0.1
    assert shared_cpu_warning(share, 2.5) is None


def test_without_proc_stat_the_share_alone_decides():
    low = cpu_share(BEFORE, _after(180.0, 112.0, stat=False), threads=2, cpus={0, 1})
    assert low.others is None and "31%" in shared_cpu_warning(low, 2.5)
    full = cpu_share(BEFORE, _after(180.0, 350.0, stat=False), threads=2, cpus={0, 1})
    assert shared_cpu_warning(full, 2.5) is None


def test_a_run_of_seconds_is_not_judged():
    share = cpu_share(BEFORE, _after(5.0, 1.0), threads=2, cpus={0, 1})
    assert shared_cpu_warning(share, 0.1) is None


def test_threads_beyond_the_cpus_allowed_count_as_the_cpus():
    assert cpu_share(BEFORE, _after(100.0, 150.0), threads=8, cpus={0, 1}).threads == 2


def _shared_machine(monkeypatch, own_share: float, workers: int = 0, waits=1.0) -> None:
    """Training's readings: ``own_share`` of one thread's time over 180 s, both CPUs busy;
    and ``waits`` of that for each loader worker, its child process (read where asked)."""
    main, child = own_share * 180.0, own_share * 180.0 * workers * waits
    kids = {(7, 1): child}  # a worker started after the first reading: all its time

    def after(workers=False):
        return _after(180.0, main)._replace(children=kids if workers else None)

    monkeypatch.setattr(train_fitting, "run_reading", lambda run: BEFORE._replace(children={}))
    monkeypatch.setattr(train_log, "cpu_reading", after)


@pytest.mark.parametrize("workers", [0, 1])
def test_a_budget_run_on_a_shared_cpu_ends_saying_so(tmp_path, monkeypatch, workers):
    """With loader workers too: their CPU time is the run's (a run with workers was never
    judged, review s54, 2), the share that of its threads (review s55 A2)."""
    _shared_machine(monkeypatch, 0.31 if workers == 0 else 0.30, workers, waits=1 / 30)
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "train.max_minutes=30", "data.tiles_per_epoch=2")
    cfg.train.num_workers = workers
    result = fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert result["cpu_share"] == pytest.approx(0.31)  # one name, summary.json's (s36)
    assert result["cpu_warning"].startswith("the CPU was shared: this run got 31%")
    log = (tmp_path / "run" / "train.log").read_text()
    its = "1 thread and 1 loader worker" if workers else "1 thread"
    assert f"the CPU was shared: this run got 31% of what its {its} could have had" in log
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["cpu_share"] == 0.31


def test_a_run_whose_worker_waits_is_not_read_as_starved(tmp_path, monkeypatch):
    """A thread that got 95% of its time beside a loader worker that mostly waited for the
    next batch (5% of it) had all it could use: the worker counted as one more thread made
    it 50% and a warning (review s55 A2)."""
    _shared_machine(monkeypatch, 0.95, workers=1, waits=0.05)
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "train.max_minutes=30", "data.tiles_per_epoch=2")
    cfg.train.num_workers = 1
    result = fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert result["cpu_warning"] is None and result["cpu_share"] >= 0.95


def test_a_run_that_got_its_threads_says_nothing(tmp_path, monkeypatch):
    _shared_machine(monkeypatch, 0.95)
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "train.max_minutes=30", "data.tiles_per_epoch=2")
    result = fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert result["cpu_share"] == pytest.approx(0.95) and result["cpu_warning"] is None
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["cpu_share"] == 0.95
    assert "the CPU was shared" not in (tmp_path / "run" / "train.log").read_text()


def test_the_demo_ends_saying_the_cpu_was_shared(tmp_path, monkeypatch, capsys):
    _shared_machine(monkeypatch, 0.31)
    argv = ["demo", "--output", str(tmp_path / "d"), "--quick", "--no-progress"]
    assert main([*argv, "--device", "cpu"]) == 0  # a GPU run reads no share of the CPU
    printed = capsys.readouterr().out
    assert "; the CPU was shared: the training got 31% of its threads' time" in printed
    metrics = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert metrics["cpu_share"] == pytest.approx(0.31) and "cpu_shared" not in metrics


def test_a_few_seconds_of_training_record_no_share(tmp_path, monkeypatch):
    monkeypatch.setattr(train_fitting, "run_reading", lambda run: BEFORE)
    monkeypatch.setattr(train_log, "cpu_reading", lambda **kw: _after(3.0, 0.3))
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "train.max_minutes=30", "data.tiles_per_epoch=2")
    assert fit(cfg, run_dir=tmp_path / "run", progress=False)["cpu_share"] is None
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["cpu_share"] is None


def test_a_time_budget_on_a_busy_cpu_is_warned_about():
    assert busy_cpu_warning(10, load=1.9, cpus=2) is None
    line = busy_cpu_warning(10, load=6.2, cpus=2)  # no /proc/stat: the load average
    assert "load 6.2 on 2 cores" in line and "10-minute budget" in line


def test_the_cores_in_use_now_decide_the_start_warning_over_the_lagging_load():
    """s36: a job started with the run is in use now, the load average not yet; a job just
    ended is in the load average, no longer in use."""
    line = busy_cpu_warning(10, load=0.3, cpus=2, in_use=1.8)
    assert "1.8 of them in use by other work just now" in line and "10-minute budget" in line
    assert busy_cpu_warning(10, load=6.2, cpus=2, in_use=0.1) is None


def test_cores_in_use_waits_only_what_an_earlier_reading_leaves():
    use = cores_in_use(0.05)
    assert use is None or use >= 0.0
    old = cpu_share_module.cpu_reading()._replace(wall=time.perf_counter() - 30)
    start = time.perf_counter()
    use = cores_in_use(5.0, since=old)  # 30 s ago: no wait
    assert time.perf_counter() - start < 5.0 and (use is None or use >= 0.0)


def test_a_budget_run_started_beside_a_job_just_begun_says_so_at_its_start(tmp_path, monkeypatch):
    """The start's line samples the cores other work keeps busy over the run's setup (as
    bench does), where it read only the load average, which lags a minute behind a job
    started with the run (audit s35 workshop 3)."""
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))  # not caught up yet
    begun = time.perf_counter() - 2.0  # the setup's start: 2 s, both CPUs busy, 0.4 s ours
    monkeypatch.setattr(train_run, "cpu_reading", lambda: CpuReading(begun, 5.0, _stat(0, (0, 0))))
    now = CpuReading(begun + 2.0, 5.4, _stat(2.0, (1.0, 1.0)))
    monkeypatch.setattr(cpu_share_module, "cpu_reading", lambda **kw: now)
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1", "train.max_minutes=30", "data.tiles_per_epoch=2")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "the CPU is busy (load 0.2 on" in log
    assert "1.8 of them in use by other work just now): the 30-minute budget" in log
