"""How much of the CPU a run got: this process's CPU time against what its threads could
have had over the wall time, and the cores other work kept busy meanwhile (/proc/stat).

A wall-clock time budget (``train.max_minutes``) buys fewer steps while other jobs share the
cores. The warning at a run's start reads the load average, which lags a minute behind: jobs
that start with the run (a class launching ``unetlab demo`` together) go unseen there (audit
s35 workshop 3: a demo got 31 % of its 2 threads, trained 19 of its 288 steps and scored
0.82 against 0.92, and nothing said why). :func:`shared_cpu_warning` says it at the end, from
what the run measured over its training.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

from unetlab.runtime import PROC_STAT, available_cpus, cores_busy, cpu_times

#: a share of its threads' time below this, with other work busy, is said
LOW_SHARE = 0.6
#: cores' worth of other work (the mean over the run) that counts as busy
OTHER_WORK = 0.5
#: runs of fewer seconds are not judged (too few readings to tell)
LEAST_SECONDS = 10.0


class CpuReading(NamedTuple):
    """The clocks at one moment: wall (``time.perf_counter``), this process's CPU seconds
    (all its threads, ``time.process_time``) and each CPU's /proc/stat jiffies (None where
    there is no /proc/stat)."""

    wall: float
    own: float
    stat: dict | None


def cpu_reading() -> CpuReading:
    """The clocks now (:class:`CpuReading`)."""
    try:
        stat = cpu_times(PROC_STAT.read_text())
    except OSError:
        stat = None
    return CpuReading(time.perf_counter(), time.process_time(), stat or None)


class CpuShare(NamedTuple):
    """What a process got of the CPU between two readings: its CPU seconds (``own``) over
    ``wall`` seconds with ``threads`` threads (no more than the CPUs it may use), and the
    cores' worth of them other work used on average (None: not measured)."""

    own: float
    wall: float
    threads: int
    others: float | None

    @property
    def share(self) -> float:
        """The fraction of its threads' time the process got (0 to about 1)."""
        return self.own / (self.threads * self.wall) if self.wall > 0 else 1.0


def cpu_share(before: CpuReading, after: CpuReading, threads: int, cpus=None) -> CpuShare:
    """The :class:`CpuShare` between two readings of a process of ``threads`` threads that
    may run on ``cpus`` (CPU numbers; default its affinity)."""
    wall, own = after.wall - before.wall, after.own - before.own
    if cpus is None:
        cpus = _affinity(before.stat)
    others = None
    if before.stat and after.stat and wall > 0:
        others = max(0.0, cores_busy(before.stat, after.stat, cpus) - own / wall)
    return CpuShare(own, wall, max(1, min(threads, len(cpus) or threads)), others)


def _affinity(stat: dict | None):
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not on Linux
        return set(stat) if stat else set(range(available_cpus()))


def shared_cpu_warning(share: CpuShare, minutes: float) -> str | None:
    """One line when the run got less than :data:`LOW_SHARE` of its threads' time and other
    work kept :data:`OTHER_WORK` cores or more busy (where that is measured), else None."""
    if share.wall < LEAST_SECONDS or share.share >= LOW_SHARE:
        return None
    if share.others is not None and share.others < OTHER_WORK:
        return None  # an idle machine: the run itself left its threads idle
    others = f"; other work kept {share.others:.1f} cores busy" if share.others else ""
    threads = f"{share.threads} thread{'s' * (share.threads != 1)}"
    return (
        f"the CPU was shared: this run got {share.share:.0%} of what its {threads} could "
        f"have had ({share.own:.0f} CPU-seconds in {share.wall:.0f} s of training{others}), "
        f"so the {minutes:g}-minute budget bought fewer steps than on an idle machine, and "
        "lower scores; stop the other jobs or give more minutes"
    )
