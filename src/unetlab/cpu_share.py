"""How much of the CPU a run got: this process's CPU time against what its threads could
have had over the wall time, and the cores other work kept busy meanwhile (/proc/stat).

A wall-clock time budget (``train.max_minutes``) buys fewer steps while other jobs share the
cores. The load average lags a minute behind: jobs that start with the run (a class
launching ``unetlab demo`` together) went unseen by the warning at a run's start, which read
it alone (audit s35 workshop 3: a demo got 31 % of its 2 threads, trained 19 of its 288
steps and scored 0.82 against 0.92, and nothing said why). :func:`busy_cpu_warning` reads
the cores other work keeps busy now (:func:`cores_in_use`, as ``unetlab bench`` does, over
the run's setup), and :func:`shared_cpu_warning` says it at the end, from what the run
measured over its training.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from unetlab.errors import Spelled, said_as
from unetlab.runtime import (
    PROC_STAT,
    affinity_cpus,
    children_cpu,
    cores_busy,
    cpu_times,
    excess_load,
    threads_chosen,
)
from unetlab.words import numbered

#: a share of its threads' time below this, with other work busy, is said
LOW_SHARE = 0.6
#: cores' worth of other work (the mean over the run) that counts as busy
OTHER_WORK = 0.5
#: runs of fewer seconds are not judged (too few readings to tell)
LEAST_SECONDS = 10.0
#: wall seconds a look at other work's cores takes at least to be judged
LEAST_LOOK = 0.2


class CpuReading(NamedTuple):
    """The clocks at one moment: wall (``time.perf_counter``), this process's CPU seconds
    (all its threads, ``time.process_time``), each CPU's /proc/stat jiffies (None where
    there is no /proc/stat) and, for a run with DataLoader workers, its live children's CPU
    seconds (:func:`~unetlab.runtime.children_cpu`; None: not read)."""

    wall: float
    own: float
    stat: dict | None
    children: dict | None = None


def cpu_reading(workers: bool = False) -> CpuReading:
    """The clocks now (:class:`CpuReading`); the children's only for a run with loader
    ``workers`` (their time is the run's own). Other children (a notebook's ``Popen`` job,
    a tensorboard) are other work, and a predict has none of its own."""
    try:
        stat = cpu_times(PROC_STAT.read_text())
    except OSError:
        stat = None
    children = children_cpu() if workers else None
    return CpuReading(time.perf_counter(), time.process_time(), stat or None, children)


def _children_seconds(before: dict | None, after: dict | None) -> float:
    """CPU seconds the children alive at ``after`` used since ``before`` (two
    :attr:`CpuReading.children`; 0 where either was not read): a child started since counts
    all its time, one ended since counts none (its time before is not the span's)."""
    if before is None or after is None:
        return 0.0
    return sum(seconds - before.get(child, 0.0) for child, seconds in after.items())


class CpuShare(NamedTuple):
    """What a process got of the CPU between two readings: its CPU seconds (``own``) over
    ``wall`` seconds with ``threads`` threads (no more than the CPUs it may use), and the
    cores' worth of them other work used on average (None: not measured)."""

    own: float
    wall: float
    threads: float  # a count that changed during the run: its mean over the time
    others: float | None

    @property
    def share(self) -> float:
        """The fraction of its threads' time the process got (0 to about 1)."""
        return self.own / (self.threads * self.wall) if self.wall > 0 else 1.0


def cpu_share(before: CpuReading, after: CpuReading, threads: float, cpus=None) -> CpuShare:
    """The :class:`CpuShare` between two readings of a process of ``threads`` threads that
    may run on ``cpus`` (CPU numbers; default its affinity)."""
    wall = after.wall - before.wall
    own = after.own - before.own + _children_seconds(before.children, after.children)
    if cpus is None:
        cpus = _affinity(before.stat)
    others = None
    if before.stat and after.stat and wall > 0:
        others = max(0.0, cores_busy(before.stat, after.stat, cpus) - own / wall)
    return CpuShare(own, wall, max(1, min(threads, len(cpus) or threads)), others)


def cores_in_use(seconds: float = 0.5, since: CpuReading | None = None) -> float | None:
    """Cores' worth of the CPUs this process may use that other work kept busy over at least
    ``seconds``: from ``since`` (an earlier :func:`cpu_reading`, as a run's setup began: no
    wait where it is that old) or from now, waiting out the rest; /proc/stat's reading less
    this process's own CPU time (torch's threads spin a while after their last work; its
    loader workers' where ``since`` read them). None where /proc/stat is not."""
    before = since if since is not None else cpu_reading()
    wait = seconds - (time.perf_counter() - before.wall)
    if wait > 0:
        time.sleep(wait)
    after = cpu_reading(workers=before.children is not None)
    return cpu_share(before, after, threads=1).others


def threads_beside(threads: int, in_use: float | None, cpus: int | None = None) -> int:
    """The threads a run on the clock trains with where other work kept ``in_use`` cores'
    worth of the ``cpus`` (default the CPUs this process may use) busy as it began: one
    fewer for each core other work holds (rounded), at least 1; ``threads`` where other work
    holds less than :data:`OTHER_WORK` or was not sampled. A thread whose core other work
    holds stalls the others at every op's join: on 2 cores beside one busy loop, a
    0.5-minute budget bought 19 steps on 2 threads and 100 on 1 (s53, ``unetlab train
    --data DIR --minutes 0.5``)."""
    if in_use is None or in_use < OTHER_WORK:
        return threads
    free = (cpus or affinity_cpus()) - int(in_use + 0.5)
    return max(1, min(threads, free))


def threads_fixed(launched: bool) -> bool:
    """Whether this process's thread count was chosen, and so is fixed: never lowered beside other
    work (:func:`threads_beside`): by a launch (``launched``: a group's processes, each on
    its share of the cores, which a look would read as other work) or by the user
    (OMP_NUM_THREADS, a caller's ``torch.set_num_threads``:
    :func:`~unetlab.runtime.threads_chosen`). A launch that set no OMP_NUM_THREADS is
    still capped at its share (training's ``setup_run``, predicting's
    :func:`~unetlab.inference.threads_look.looking_beside`): launched is no user's choice."""
    return launched or threads_chosen()


def threads_for_predicting(since: CpuReading) -> str | None:
    """Fewer threads for predicting on the CPU where other work held cores since ``since``
    (the command's start, :data:`LEAST_LOOK` seconds at least, else None): :func:`threads_beside`'s count set in
    torch, and the line that says it, else None. Callers skip it where the threads were
    chosen (:func:`threads_fixed`) and put torch's count back at the end. On 2 cores
    beside a busy loop, ``unetlab predict`` of 8 ISBI slices took 4.7 s on 2 threads and
    2.5 s on 1 (s53, bench/README.md)."""
    import torch

    threads = torch.get_num_threads()
    now = cpu_reading()
    if now.wall - since.wall < LEAST_LOOK:  # too short to tell; no wait added to a command
        return None
    in_use = cpu_share(since, now, threads=1).others
    fewer = threads_beside(threads, in_use)
    if fewer >= threads:
        return None
    torch.set_num_threads(fewer)
    return fewer_threads_line("predicting", "tile", fewer, threads, in_use)


def fewer_threads_line(
    doing: str, each: str, fewer: int, threads: int, in_use: float, now: str = ""
) -> str:
    """``training on 1 of 2 threads while other work holds 1.0 of the cores (...)``: the
    line said where :func:`threads_beside` lowered the count (``now``: " now" for a look
    during a run), with how its caller keeps the count (:func:`keep_threads`)."""
    return (
        f"{doing} on {fewer} of {threads} threads while other work holds {in_use:.1f} of "
        f"the cores{now} (a thread whose core is taken stalls the others at every {each}; "
        f"{said_as(keep_threads(threads))} keeps {threads})"
    )


def keep_threads(threads: int) -> Spelled:
    """How a caller keeps ``threads`` threads beside other work: the environment variable
    before the command line (``OMP_NUM_THREADS=2``), set in ``os.environ`` from Python
    (:func:`~unetlab.runtime.threads_chosen` reads it at each call). Not
    ``torch.set_num_threads(2)``: the count a line lowers is torch's default or the quota's
    cap (a chosen one is never lowered), and a count set equal to those cannot be told from
    them: it would be lowered again."""
    return Spelled(f'os.environ["OMP_NUM_THREADS"] = "{threads}"', f"OMP_NUM_THREADS={threads}")


#: wall seconds at least between two looks at the cores other work holds during a run
RECHECK_SECONDS = 20.0
#: changes of the count a run says at most (then it keeps the last)
MOST_CHANGES = 4


def threads_next(
    alone: int, now: int, in_use: float | None, pending: int | None, cpus: int | None = None
) -> tuple[int, int | None]:
    """(threads to train on, the count pending) after a look at the cores other work holds
    (``in_use``) during a run on the clock that trains on ``now`` threads and would train on
    ``alone`` with the cores to itself: the count :func:`threads_beside` gives, once it gave
    it at two looks in a row (``pending``, the first look's: a load that comes and goes
    does not make the count flap)."""
    want = threads_beside(alone, in_use, cpus)
    if want == now:
        return now, None
    if want == pending:
        return want, None
    return now, want


@dataclass
class ThreadsWatch:
    """Where a run on the clock stands in watching the cores other work holds: the threads
    it would train on alone, the reading of its last look (its wall clock is
    ``time.perf_counter``'s), the count its last look asked for (None: the one in use) and
    the changes said."""

    alone: int
    since: CpuReading
    pending: int | None = None
    moves: list[tuple[float, int, int]] = field(default_factory=list)  # (wall, from, to)

    @property
    def changes(self) -> int:
        """The changes made (and said)."""
        return len(self.moves)

    def due(self, now: int) -> bool:
        """Whether a look is due: :data:`RECHECK_SECONDS` since the last, and a change may
        follow (a few said at most; a run below its count alone looks on, to go back up:
        capped on fewer threads, a long run kept them after the other work had gone)."""
        waited = time.perf_counter() - self.since.wall >= RECHECK_SECONDS
        return waited and (self.changes < MOST_CHANGES or now < self.alone)

    def allowed(self, threads: int) -> bool:
        """Whether a change to ``threads`` may be made: any below the cap, then only back
        to the count alone."""
        return self.changes < MOST_CHANGES or threads == self.alone

    def moved(self, wall: float, before: int, after: int) -> None:
        self.moves.append((wall, before, after))

    def mean_threads(self, start: float, end: float, threads: int) -> float:
        """The threads in use from ``start`` to ``end`` (wall), weighted by time: the
        count before the first move, then each move's (``threads``, the count now, where
        there was none)."""
        if not self.moves or end <= start:
            return float(threads)
        spans, at, count = 0.0, start, self.moves[0][1]
        for wall, _before, after in self.moves:
            spans += (max(wall, at) - at) * count
            at, count = max(wall, at), after
        return (spans + (end - at) * count) / (end - start)


def busy_cpu_warning(
    minutes: float,
    *,
    load: float | None = None,
    cpus: int | None = None,
    in_use: float | None = None,
) -> str | None:
    """A line for a wall-clock time budget started on a busy CPU, or None: other work shares
    the cores and the budget buys fewer steps. ``in_use`` (:func:`cores_in_use`, None: not
    sampled) decides where given: :data:`OTHER_WORK` cores or more (a job started with the
    run, which the load average, lagging a minute, does not show yet; a load left by a job
    just ended is no longer there); else the load average (``load``, default
    ``os.getloadavg``) above the CPUs (``cpus``: :func:`~unetlab.runtime.excess_load`)."""
    if in_use is not None and in_use < OTHER_WORK:
        return None
    if (busy := excess_load(load=load, cpus=cpus, in_use=in_use)) is None:
        return None
    return (
        f"the CPU is busy ({busy.describe()}): the {minutes:g}-minute budget "
        "runs on the wall clock and buys fewer steps while other jobs run; stop them, or "
        "give more minutes"
    )


def _affinity(stat: dict | None):
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not on Linux
        return set(stat) if stat else set(range(affinity_cpus()))


def _threads_said(threads: float) -> str:
    """``2 threads``, ``1 thread``; ``1.4 threads (on average)`` for a count that changed."""
    if threads != int(threads):
        return f"{threads:.1f} threads (on average)"
    return numbered(int(threads), "thread")


def shared_cpu_warning(share: CpuShare, minutes: float, *, workers: int = 0) -> str | None:
    """One line when the run got less than :data:`LOW_SHARE` of its threads' time and other
    work kept :data:`OTHER_WORK` cores or more busy (where that is measured), else None.
    ``workers``: the run's loader workers, said beside its threads (their CPU time is
    counted as the run's)."""
    if share.wall < LEAST_SECONDS or share.share >= LOW_SHARE:
        return None
    if share.others is not None and share.others < OTHER_WORK:
        return None  # an idle machine: the run itself left its threads idle
    others = f"; other work kept {share.others:.1f} cores busy" if share.others else ""
    threads = _threads_said(share.threads)
    if workers:
        threads += f" and {numbered(workers, 'loader worker')}"
    return (
        f"the CPU was shared: this run got {share.share:.0%} of what its {threads} could "
        f"have had ({share.own:.0f} CPU-seconds in {share.wall:.0f} s of training{others}), "
        f"so the {minutes:g}-minute budget bought fewer steps than on an idle machine, and "
        "lower scores; stop the other jobs or give more minutes"
    )
