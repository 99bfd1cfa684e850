"""Where and how computation runs: device choice, threads, allocator, precision support.

U-Net inference on a CPU is all convolution, but two things outside the convolutions can
cost a third of the time (measured in bench/README.md):

- glibc's malloc returns every block over its mmap threshold (at most 32 MiB) to the kernel
  when it is freed, so each large activation (83 MB for the paper net's first layer at 572)
  is page-faulted in again on every forward pass. :func:`tune_allocator` turns mmap off for
  malloc and keeps freed memory in the heap, so the pages are reused: no page faults and no
  kernel time after the first call. It needs nothing but glibc (a plain ``pip install``).
- a large array that outlives a forward pass (the probabilities a prediction stitches) taken
  from that heap sits between the activations, which then grow the heap past it instead of
  reusing their freed blocks: :func:`page_zeros` gives such arrays pages of their own.
- the thread count: torch uses the physical cores it sees, which can exceed the cores a
  container's CPU quota or ``taskset`` allows; :func:`configure_threads` uses the allowed
  ones (:func:`available_cpus`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import logging
import math
import mmap
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from unetlab.errors import OutOfMemoryError, Spelled, UnetlabError, first_line, spelled
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: Set to 0 (or "off", "false", "no") to leave malloc as the system configures it.
ALLOCATOR_ENV = "UNETLAB_TUNE_ALLOCATOR"

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_DEFAULT_MMAP_MAX = 65536  # glibc's default number of mmap'd chunks
_DEFAULT_TOP_PAD = 128 * 1024
# Any mallopt of these turns glibc's dynamic mmap threshold off for the life of the process
# (malloc.c do_set_*: mp_.no_dyn_threshold = 1, never set back). Untouched, glibc raises the
# threshold to each freed mmapped block's size, up to DEFAULT_MMAP_THRESHOLD_MAX (4 MiB per
# byte of a long: 32 MiB on 64-bit), and the trim threshold to twice that. Restoring sets
# those ceilings, so a process after a tuned block reuses its heap as a fresh one soon does;
# the 128 KiB start values would mmap and fault in every freed array over 128 KiB again.
_RESTORED_MMAP_THRESHOLD = 4 * 1024 * 1024 * ctypes.sizeof(ctypes.c_long)
_RESTORED_TRIM_THRESHOLD = 2 * _RESTORED_MMAP_THRESHOLD

# keep up to 2 GiB (the largest value mallopt takes, a C int) of free heap top instead of
# 128 KiB: a paper-net forward on a 1212 tile frees more than 1 GiB at once, and a 1 GiB
# threshold still page-faulted 233,000 pages per call there (0.8 s of kernel time).
_TRIM_THRESHOLD = 2**31 - 1
_TOP_PAD = 64 << 20  # grow the heap 64 MiB at a time: fewer brk calls

_tuned: str | None = None
#: the process keeps the tuning for its life (an explicit :func:`tune_allocator`, the CLI:
#: :func:`keep_allocator_tuned`); else a :func:`tuned_allocator` block gives it back
_kept = False
_sessions = 0  # tuned_allocator blocks open (nested, or in several threads)
_scoped = False  # the outermost block tuned it, so the last one out restores the defaults
_session_lock = threading.Lock()  # held by every change of the four above


#: how a refusal of CUDA where there is none names the fix: to a Python caller (the
#: default) and on the command line (its commands pass CLI_DEVICE_FIX)
PYTHON_DEVICE_FIX = 'device="cpu"'
CLI_DEVICE_FIX = "--device cpu"


def resolve_device(
    device: str | torch.device | None = "auto", fix: str = PYTHON_DEVICE_FIX
) -> torch.device:
    """``"auto"``/None -> CUDA if available else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"``
    as given; CUDA where there is none, and any other kind of device torch names (``mps``,
    ``xpu``, ``meta``: never tested here, they failed with tracebacks deep in a run), refused
    naming ``fix`` (a Python keyword by default, the CLI's flag from a command)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise UnetlabError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N") from exc
    if device.type not in ("cpu", "cuda"):
        raise UnetlabError(
            f"device {device.type!r} is not one unetlab runs on (CPU and CUDA GPUs only): use {fix}"
        )
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UnetlabError(f"device {device} asked for, but no CUDA GPU is available: use {fix}")
    return device


def inference_layout(device: str | torch.device = "cpu") -> torch.memory_format:
    """The memory layout a U-Net runs fastest in on ``device``: channels-last (NHWC) on CPU,
    where oneDNN's convolutions run ~25% faster on it (paper net, 2-core AVX2 CPU), and on
    CUDA, where cuDNN's tensor-core kernels take NHWC without transposes (bench/README.md)."""
    return torch.channels_last


# --- allocator ----------------------------------------------------------------------------


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The process's C library if it is glibc (has ``mallopt`` and ``malloc_trim``); found
    once a process: ``find_library`` starts an ``ldconfig`` process each call, and the
    allocator is tuned and restored around each file, each frame of a stack (2,880 calls,
    ~24 s of a 24-position x 120-frame predict on a loaded 2-core CPU: s36 posopen)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - raises AttributeError on musl
        libc.mallopt, libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def _env_disabled() -> bool:
    return os.environ.get(ALLOCATOR_ENV, "1").strip().lower() in ("0", "off", "false", "no")


def tune_allocator(enable: bool | None = None) -> str:
    """Make malloc keep large freed blocks for reuse instead of unmapping them, for the life
    of the process (a benchmark, a command line run; a prediction tunes it for its own time
    only: :func:`tuned_allocator`).

    Sets glibc's ``M_MMAP_MAX`` to 0 (large blocks come from the heap, not from fresh
    mmaps), ``M_TRIM_THRESHOLD`` to 2 GiB and ``M_TOP_PAD`` to 64 MiB. Process-wide and
    idempotent; ``enable=None`` follows the ``UNETLAB_TUNE_ALLOCATOR`` environment variable
    (on unless it is 0/off). The price: the process keeps its peak heap until
    exit. ``enable=False`` gives the free heap back and restores glibc's defaults as a
    process that has freed a large array has them (blocks over 32 MiB mmapped, free heap
    over 64 MiB trimmed): mallopt cannot turn glibc's dynamic thresholds back on.

    Returns what was done, one line for logs: ``"glibc malloc: mmap off, trim 2 GiB"``,
    ``"system malloc (not glibc)"``, ``"system malloc (UNETLAB_TUNE_ALLOCATOR=0)"``, ...
    """
    global _kept
    with _session_lock:
        said = _tune(enable)
        _kept = _tuned is not None
        return said


def keep_allocator_tuned() -> None:
    """Keep the tuning a prediction makes (:func:`tuned_allocator`) for the life of the
    process: for a command line run, which ends with its work, so that its images and
    validations after the first reuse the heap (bench/README.md "Allocator")."""
    global _kept
    with _session_lock:
        _kept = True


@contextlib.contextmanager
def tuned_allocator() -> Iterator[None]:
    """:func:`tune_allocator` while the block runs (a prediction: no page faults per tile);
    when the last block open ends, the free heap is given back (``malloc_trim``) and glibc's
    defaults restored (as :func:`tune_allocator` ``(False)`` says), unless the process keeps
    the tuning (:func:`tune_allocator` called, :func:`keep_allocator_tuned`): tuned for
    good, a notebook's process would keep its peak heap, and its own large arrays, freed,
    would no longer go back to the system (audit s30: 1.7 GB kept after one 1536 x 1536
    ``predict_image``)."""
    global _sessions, _scoped
    with _session_lock:
        if _sessions == 0 and _tuned is None:
            _tune(None)
            _scoped = _tuned is not None and not _kept
        _sessions += 1
    try:
        yield
    finally:
        with _session_lock:
            _sessions -= 1
            if _sessions == 0 and _scoped and not _kept:
                _tune(False)
            _scoped = _scoped and _sessions > 0


def _tune(enable: bool | None) -> str:
    global _tuned
    if enable is None:
        if _env_disabled():
            return f"system malloc ({ALLOCATOR_ENV}={os.environ.get(ALLOCATOR_ENV)})"
        enable = True
    libc = _glibc()
    if libc is None:
        return "system malloc (not glibc: nothing to tune)"
    if not enable:
        libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
        libc.mallopt(_M_MMAP_THRESHOLD, _RESTORED_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _RESTORED_TRIM_THRESHOLD)
        libc.mallopt(_M_TOP_PAD, _DEFAULT_TOP_PAD)
        libc.malloc_trim(0)
        _tuned = None
        mib = _RESTORED_MMAP_THRESHOLD >> 20
        return f"system malloc (glibc defaults restored, mmap threshold {mib} MiB)"
    if _tuned is None:
        ok = all(
            libc.mallopt(param, value) == 1
            for param, value in (
                (_M_MMAP_MAX, 0),
                (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD),
                (_M_TOP_PAD, _TOP_PAD),
            )
        )
        if not ok:
            log.warning("glibc mallopt refused a setting; malloc left as configured")
            return "system malloc (mallopt refused)"
        _tuned = "glibc malloc: mmap off, trim 2 GiB, top pad 64 MiB"
        log.debug("allocator: %s", _tuned)
    return _tuned


#: arrays of at least this many bytes get pages of their own (:func:`page_zeros`)
PAGE_ARRAY_BYTES = 32 << 20


def page_zeros(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A zeroed array that, from :data:`PAGE_ARRAY_BYTES` on, lives in an anonymous memory
    map of its own, outside malloc's heap, and goes back to the system when the last view of
    it is dropped; smaller ones are ``np.zeros``. Under :func:`tuned_allocator` (no mmap for
    malloc) a prediction's stitched probabilities taken from the heap between two forward
    passes pinned it, and the activations grew it past them: 12 MP, 11 classes, 2.08 GB
    peak, 1.65 GB with malloc untuned (bench/README.md "Memory of a photo")."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    if count * dtype.itemsize < max(PAGE_ARRAY_BYTES, 1):  # mmap refuses 0 bytes
        return np.zeros(shape, dtype)
    # anonymous, zero-filled by the kernel; private as malloc's pages are (a forked child
    # copies on write instead of sharing them)
    private = {"flags": mmap.MAP_PRIVATE} if hasattr(mmap, "MAP_PRIVATE") else {}
    pages = mmap.mmap(-1, count * dtype.itemsize, **private)
    return np.frombuffer(pages, dtype, count).reshape(shape)


def affinity_cpus() -> int:
    """CPUs this process may run on (affinity mask), not the machine's total: the ones
    /proc/stat's busy cores and the load average are judged over (:func:`excess_load`)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_cpus() -> int:
    """CPUs' worth this process may use: its affinity mask's CPUs (:func:`affinity_cpus`),
    fewer under a cgroup CPU quota (:func:`quota_cpus`, rounded up: a container given 1.5
    CPUs runs 2 threads, as Go's and Java's runtimes count it). Threads beyond it wait for
    the quota's next period: a container of 2 CPUs' quota on a 64-core host saw 64."""
    cpus = affinity_cpus()
    quota = quota_cpus()
    return cpus if quota is None else max(1, min(cpus, math.ceil(quota)))


#: where Linux mounts the cgroup file systems, and this process's cgroups in them
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def quota_cpus(root: Path = CGROUP_ROOT, own: Path = PROC_CGROUP) -> float | None:
    """CPUs' worth a cgroup CPU quota allows this process (quota over period), the smallest
    set on its cgroup's path up to ``root`` (a parent's quota binds its children too): v2's
    ``cpu.max`` (``150000 100000``; ``max``: none), v1's ``cpu.cfs_quota_us`` over
    ``cpu.cfs_period_us`` (-1: none) under ``root/cpu``. None where none is set or
    readable."""
    quotas = [q for folder in _cgroup_folders(root, own) if (q := _quota(folder)) is not None]
    return min(quotas, default=None)


def _cgroup_folders(root: Path, own: Path) -> list[Path]:
    """The folders of this process's cgroup (``own``: /proc/self/cgroup's lines
    ``id:controllers:path``) and their parents up to the mount: v2's (``0::/path``) under
    ``root``, v1's cpu controller's under ``root/cpu``."""
    try:
        lines = own.read_text().splitlines()
    except OSError:
        lines = []
    mounts = {"": root, "cpu": root / "cpu"}
    paths = {"": "/", "cpu": "/"}  # unreadable: the mounts' own quotas
    for line in lines:
        _id, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        for kind in {"", "cpu"} & ({controllers} | set(controllers.split(","))):
            paths[kind] = path
    folders = []
    for kind, path in paths.items():
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        folders += [mounts[kind].joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]
    return folders


def _quota(folder: Path) -> float | None:
    """The CPUs' worth ``folder``'s quota allows (cgroup v2 or v1), None where unset."""
    try:
        if (v2 := folder / "cpu.max").is_file():
            quota, period = (v2.read_text().split() + ["100000"])[:2]
        elif (v1 := folder / "cpu.cfs_quota_us").is_file():
            quota = v1.read_text().strip()
            period = (folder / "cpu.cfs_period_us").read_text().strip()
        else:
            return None
        if quota == "max" or int(quota) <= 0 or int(period) <= 0:
            return None
        return int(quota) / int(period)
    except (OSError, ValueError):
        return None


#: Linux's description of the CPUs
SYS_CPU = Path("/sys/devices/system/cpu")


def torch_default_threads(cpus: int | None = None, cpu_dir: Path | None = None) -> int | None:
    """The intra-op threads torch starts a process with where OMP_NUM_THREADS and
    MKL_NUM_THREADS are unset: the physical cores (``cpu_dir``'s distinct
    ``thread_siblings_list``s, as torch's cpuinfo counts them; default :data:`SYS_CPU`), no
    more than the CPUs of its affinity mask (``cpus``, default :func:`affinity_cpus`; torch
    2.13 here: 2 on this 2-core machine, 1 under ``taskset -c 0``). None where the cores
    are not described (macOS, Windows, some containers): the logical CPUs there are not
    torch's count."""
    cores = physical_cores(SYS_CPU if cpu_dir is None else cpu_dir)
    if cores is None:
        return None
    cpus = affinity_cpus() if cpus is None else cpus
    return max(1, min(cpus, cores))


@functools.cache
def physical_cores(cpu_dir: Path = SYS_CPU) -> int | None:
    """The machine's physical cores: its CPUs grouped by the hyperthreads that share a core
    (``cpuN/topology/thread_siblings_list``); None where they are not described."""
    siblings = set()
    for topology in cpu_dir.glob("cpu[0-9]*/topology/thread_siblings_list"):
        try:
            siblings.add(topology.read_text().strip())
        except OSError:
            continue
    return len(siblings) or None


#: environment variables torch takes its thread count from (the user's choice)
THREADS_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: torch's intra-op threads as this module was first imported: torch's default where
#: :func:`torch_default_threads` cannot derive it, unless a caller set it before
THREADS_AT_IMPORT = torch.get_num_threads()


def threads_env() -> dict[str, str]:
    """The variables of :data:`THREADS_ENV` the user set: ``os.environ``'s, less an
    ``OMP_NUM_THREADS`` that torchrun set (:func:`torchrun_set_omp`)."""
    env = {name: os.environ[name] for name in THREADS_ENV if name in os.environ}
    if "OMP_NUM_THREADS" in env and torchrun_set_omp():
        del env["OMP_NUM_THREADS"]
    return env


def torchrun_set_omp() -> bool:
    """Whether this process's ``OMP_NUM_THREADS=1`` is torchrun's, not the user's: torchrun
    ``--nproc_per_node`` N > 1 gives its workers that 1 where the user set none (with a
    banner; torch/distributed/run.py), which a worker's environment cannot tell from a
    user's 1. torchrun's start-up environment (:func:`parent_environ`: the parent's, or the
    torchrun a launch noted where a forkserver is the parent) can: it lacks the variable
    torchrun set after it started. Where that cannot be read (not
    Linux), such a launch's 1 is taken for torchrun's. Review fixT s56: trained (and
    predicted) on 1 thread a process, not its share."""
    env = os.environ
    if env.get("OMP_NUM_THREADS") != "1" or "TORCHELASTIC_RUN_ID" not in env:
        return False
    local = env.get("LOCAL_WORLD_SIZE", "")
    if not (local.isdigit() and int(local) > 1):
        return False
    parent = parent_environ()
    return parent is None or "OMP_NUM_THREADS" not in parent


def threads_chosen() -> bool:
    """Whether the user chose torch's intra-op threads, so that unetlab keeps the count
    (no fewer beside other work): an environment variable of :data:`THREADS_ENV`, or a
    ``torch.set_num_threads`` whose count is neither torch's default
    (:func:`torch_default_threads`; where that cannot be derived, the count as unetlab was
    imported, :data:`THREADS_AT_IMPORT`) nor the one :func:`configure_threads` makes of it
    (no more than :func:`available_cpus`). A count set equal to one of those cannot be
    told from it, nor, without the cores described, one set before unetlab's import:
    ``OMP_NUM_THREADS`` keeps any. torchrun's own ``OMP_NUM_THREADS=1``
    (:func:`torchrun_set_omp`) is no choice, nor the 1 thread torch started on by it."""
    if threads_env():
        return True
    default = torch_default_threads()
    if default is None:
        default = THREADS_AT_IMPORT
    started = (default, fresh_threads())
    if torchrun_set_omp():  # torch started on torchrun's 1
        started += (1,)
    return torch.get_num_threads() not in started


def fresh_threads(share: int = 1) -> int:
    """The threads a fresh process given no OMP_NUM_THREADS runs on, as
    :func:`configure_threads` makes them: torch's default (:func:`torch_default_threads`;
    where that cannot be derived, this process's count as unetlab was imported) no more
    than its ``share`` of the CPUs it may use (:func:`available_cpus`)."""
    default = torch_default_threads()
    default = THREADS_AT_IMPORT if default is None else default
    return max(1, min(default, available_cpus() // max(1, share)))


def env_threads() -> int | None:
    """The count ``OMP_NUM_THREADS`` asks for (its first level: ``4,2`` asks 4), None where it
    is unset (or torchrun's: :func:`threads_env`) or no count."""
    first = threads_env().get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(first) if first.isascii() and first.isdigit() and int(first) > 0 else None


def configure_threads(threads: int | None = None, *, share: int = 1) -> int:
    """Set torch's intra-op threads to ``threads`` or, by default, the CPUs this process may
    use (its ``share`` of them: one of that many processes on this machine), unless
    ``OMP_NUM_THREADS`` or an earlier ``torch.set_num_threads`` chose fewer; an
    OMP_NUM_THREADS set after torch started (``os.environ`` in a notebook, which torch read
    only as it started) is applied (review s55 A1: it left torch on the host's cores).
    torchrun's own ``OMP_NUM_THREADS=1`` (:func:`torchrun_set_omp`) counts as unset: the
    1 thread torch started on by it becomes the share. Returns the number in effect."""
    if threads is not None:
        if threads < 1:
            raise UnetlabError(f"threads must be at least 1, not {threads}")
        torch.set_num_threads(threads)
    elif (asked := env_threads()) is not None:  # set after torch started: a notebook's
        if torch.get_num_threads() != asked:  # os.environ, as the fewer-threads line says
            torch.set_num_threads(asked)
    elif "OMP_NUM_THREADS" not in threads_env():
        cpus = max(1, available_cpus() // max(1, share))
        now = torch.get_num_threads()
        if now == 1 and torchrun_set_omp():  # torch started on torchrun's 1: as without it
            torch.set_num_threads(min(cpus, torch_default_threads() or cpus))
        elif now > cpus:  # more threads than cores thrash
            torch.set_num_threads(cpus)
    return torch.get_num_threads()


def cap_threads(share: int | None = None) -> None:
    """Training's, predicting's and evaluating's one rule: torch's threads no more than the
    CPUs this process may use (:func:`configure_threads`), unless ``OMP_NUM_THREADS`` chose
    them (applied, set after torch started too). A process alone (``share`` None) caps a
    caller's ``torch.set_num_threads`` above them as well, said in one line once a process
    (:func:`capped_line`): a notebook's ``os.cpu_count()`` in a container of a CPU quota ran
    oversubscribed, silently (review fixT s56: training capped it, predict and evaluate kept
    it, s57). One of ``share`` processes of a group on this machine: its share of them,
    a caller's count kept; training under torchrun set its exact share over the user's
    OMP_NUM_THREADS, which predict kept (tidy6 s56). torchrun's own OMP_NUM_THREADS=1 is no
    choice (:func:`torchrun_set_omp`): its 1 thread becomes the share."""
    if share is not None:
        if not threads_chosen() or env_threads() is not None:
            configure_threads(share=share)
        return
    asked = None if env_threads() is not None or not threads_chosen() else torch.get_num_threads()
    threads = configure_threads()
    if asked is not None and threads < asked and (asked, threads) not in _CAPPED_SAID:
        _CAPPED_SAID.add((asked, threads))  # once a process: a notebook's loop of calls
        log.info("%s", capped_line(asked, threads))


#: the (asked, capped) counts :func:`cap_threads` said in this process
_CAPPED_SAID: set[tuple[int, int]] = set()


def capped_line(asked: int, threads: int) -> str:
    """The line said where a caller's ``torch.set_num_threads(asked)`` was capped at the
    ``threads`` CPUs this process may use, with how a caller keeps its count."""
    return (
        f"torch.set_num_threads({asked}) asks more threads than the {numbered(threads, 'CPU')} this "
        f"process may use (more would wait for a core): running on {threads} "
        f'(os.environ["OMP_NUM_THREADS"] = "{asked}" keeps {asked})'
    )


@contextlib.contextmanager
def threads_kept() -> Iterator[None]:
    """Within: torch's intra-op threads may change (:func:`configure_threads`, fewer beside
    other work); they are put back as they were when the block ends (a notebook's torch
    keeps its count after ``fit``).

    The count is the calling Python thread's: torch's OpenMP (its Linux and macOS wheels)
    gives each thread its own once it has run an op, taken from the last count set in any
    thread. So two threads predicting at once (a folder each) change and put back each its
    own, whichever ends first; a lock and count of blocks putting it back at the last
    one's end would leave the first thread's lowered (tests/test_threads_beside.py). A
    thread that runs its first op while another's block has lowered the count starts on
    that count and keeps it (torch's rule): a ``torch.set_num_threads`` of its own sets it."""
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


class Busy(NamedTuple):
    """What says that other work shares the cores (:func:`excess_load`)."""

    load: float | None  # the 1-minute load average, None where there is none
    cpus: int  # the CPUs this process may use
    in_use: float | None = None  # cores' worth of them other work used just now

    def describe(self) -> str:
        """``load 9.0 on 2 core(s)``, then ``, 1.3 of them in use by other work just now``
        where sampled."""
        line = f"load {self.load:.1f} on " if self.load is not None else ""
        line += numbered(self.cpus, "core")
        if self.in_use is not None:
            line += f", {self.in_use:.1f} of them in use by other work just now"
        return line


def excess_load(
    *,
    load: float | None = None,
    cpus: int | None = None,
    margin: float = 0.0,
    in_use: float | None = None,
) -> Busy | None:
    """What shows that other work shares the cores, or None: the 1-minute load average
    (``load``, default ``os.getloadavg``) exceeds the CPUs this process may use (``cpus``) by
    more than ``margin``, or other work used more than ``margin`` cores of them just now
    (``in_use``, as :func:`unetlab.cpu_share.cores_in_use` samples it; None: not sampled). The load average
    lags a minute behind, so a job started or ended since is seen by ``in_use`` only."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # not on this platform
            load = None
    cpus = cpus or affinity_cpus()
    loaded = load is not None and load > cpus + margin
    if loaded or (in_use is not None and in_use > margin):
        return Busy(load, cpus, in_use)
    return None


#: Linux's count of each CPU's time since boot, in jiffies
PROC_STAT = Path("/proc/stat")


def cpu_times(text: str) -> dict[int, tuple[int, int]]:
    """``{cpu: (busy, total)}`` jiffies of each ``cpuN`` line of /proc/stat's ``text``: the
    first eight fields (user, nice, system, idle, iowait, irq, softirq, steal; guest time is
    in user already), idle and iowait not busy."""
    times = {}
    for line in text.splitlines():
        name, *fields = line.split() or [""]
        if name.startswith("cpu") and name[3:].isdigit():
            values = [int(v) for v in fields[:8]]
            idle = sum(values[3:5])
            times[int(name[3:])] = (sum(values) - idle, sum(values))
    return times


def cores_busy(before: dict, after: dict, cpus) -> float:
    """Cores' worth of ``cpus`` busy between two :func:`cpu_times` readings (0 to len(cpus))."""
    busy = 0.0
    for cpu in cpus:
        if cpu in before and cpu in after:
            span = after[cpu][1] - before[cpu][1]
            busy += (after[cpu][0] - before[cpu][0]) / span if span > 0 else 0.0
    return busy


#: Linux's process table
PROC = Path("/proc")


#: the pid of the torchrun of a launch, for its processes (set by
#: :func:`unetlab.distributed.torchrun`; their parent while it lives, unless a forkserver's)
TORCHRUN_PID_ENV = "UNETLAB_TORCHRUN_PID"


def parent_environ(proc: Path = PROC) -> dict[str, str] | None:
    """The environment this process's launcher started with (Linux's
    ``/proc/<pid>/environ``: not what it set in ``os.environ`` since), None where it cannot
    be read; read once per process (a command read it up to 4 times, s57), a copy returned.
    The launcher: the torchrun a launch noted (:data:`TORCHRUN_PID_ENV`), else the nearest
    torchrun among this process's ancestors (:func:`torchrun_ancestor`), else the parent;
    a worker started by a forkserver, or by torchrun through a wrapper (``--no-python``
    and a shell script), has another parent, whose environment holds the
    OMP_NUM_THREADS=1 torchrun set (s57, s58)."""
    noted = os.environ.get(TORCHRUN_PID_ENV, "")
    parent = os.getppid()
    pid = int(noted) if noted.isdigit() else torchrun_ancestor(parent, proc) or parent
    found = _start_environ(proc, pid)
    return None if found is None else dict(found)


#: the modules that run torchrun as ``python -m``: ``torch.distributed.launch``, the old
#: name, runs it too
TORCHRUN_MODULES = ("torch.distributed.run", "torch.distributed.launch")


@functools.cache
def torchrun_ancestor(pid: int, proc: Path = PROC, most: int = 16) -> int | None:
    """The nearest of process ``pid`` and its ancestors (up to ``most``; /proc's stat, its
    parent field) whose command is torchrun's (:func:`_is_torchrun_command`), or None:
    torchrun by hand sets no :data:`TORCHRUN_PID_ENV` for its processes, and puts none of
    its own pid in their environment (torch 2.13's local_elastic_agent).
    Init (pid 1) is looked at last: a container's entry point may be torchrun."""
    for _ in range(most):
        if pid < 1:  # none
            return None
        if _runs_torchrun(pid, proc):
            return pid
        if pid == 1:  # init: no parent
            return None
        fields = process_stat(pid, proc)
        if len(fields) < 2 or not fields[1].isdigit():
            return None
        pid = int(fields[1])
    return None


def _runs_torchrun(pid: int, proc: Path) -> bool:
    """Whether process ``pid``'s command line (/proc's cmdline) is torchrun's
    (:func:`_is_torchrun_command`); False where it cannot be read."""
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False
    return _is_torchrun_command([os.fsdecode(word) for word in raw.split(b"\0")])


def _is_torchrun_command(words: list[str]) -> bool:
    """Whether the command ``words`` runs torchrun: its program is ``torchrun`` (a path by
    its name), or a Python interpreter's whose first word past its options (``-u``, ``-X
    dev``, ``-W ignore``) is ``-m`` and one of :data:`TORCHRUN_MODULES`, or a script named
    ``torchrun``; a word further on does not count (``python my.py --note torchrun``)."""
    if not words or os.path.basename(words[0]) == "torchrun":
        return bool(words)
    if not re.fullmatch(r"python[\d.]*", os.path.basename(words[0])):
        return False
    rest = iter(words[1:])
    for word in rest:
        if word == "--check-hash-based-pycs":  # the one long option with a value
            next(rest, None)
        elif word in ("-", "--") or not word.startswith("-"):  # the script ("-": stdin)
            script = next(rest, "") if word == "--" else word
            return os.path.basename(script) == "torchrun"
        elif not word.startswith("--"):  # -u, -X dev, -Xdev, -um module
            option, value = _python_option(word, rest)
            if option in ("c", "m"):
                return option == "m" and value in TORCHRUN_MODULES
    return False


def _python_option(word: str, rest: Iterator[str]) -> tuple[str, str]:
    """(the letter of Python's short options ``word`` that takes a value, the value): the
    flags before it skipped (``-um``), its value the rest of ``word`` or the next word of
    ``rest`` (taken); ("", "") for flags alone (``-uB``)."""
    for at, letter in enumerate(word[1:], start=2):
        if letter in "cmWX":
            return letter, word[at:] or next(rest, "")
    return "", ""


@functools.cache
def _start_environ(proc: Path, pid: int) -> dict[str, str] | None:
    """:func:`parent_environ` of process ``pid``: it cannot change once the process runs."""
    try:
        raw = (proc / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    pairs = (os.fsdecode(entry).partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs}


def process_stat(pid: int, proc: Path = PROC) -> list[str]:
    """Process ``pid``'s /proc/PID/stat fields after its command's name (which may hold
    spaces and ')'): its state first (field 3); [] where it cannot be read (ended, or not
    Linux)."""
    with contextlib.suppress(OSError):
        return (proc / str(pid) / "stat").read_text(errors="replace").rpartition(")")[2].split()
    return []


def child_pids(pid: int, proc: Path = PROC) -> list[int]:
    """The processes ``pid`` started that still run: its threads' /proc ``children``
    lists ([] where /proc does not list them)."""
    found = []
    for children in (proc / str(pid) / "task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in children.read_text().split()]
    return found


def children_cpu(pid: int | None = None, proc: Path = PROC) -> dict[tuple[int, int], float]:
    """``{(pid, start): CPU seconds}`` (user and system) of the live child processes of
    process ``pid`` (default this one, :func:`child_pids`): each child's /proc/PID/stat
    (:func:`process_stat`: fields 14 and 15, in clock ticks; its start, field 22, tells a
    pid used again from the child that had it). Empty where /proc does not list them."""
    pid = os.getpid() if pid is None else pid
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    seconds = {}
    for kid in child_pids(pid, proc):
        fields = process_stat(kid, proc)
        with contextlib.suppress(IndexError, ValueError):  # ended since listed
            seconds[kid, int(fields[19])] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


# --- precision ----------------------------------------------------------------------------

PRECISIONS = ("fp32", "bf16")


def supports_bf16(device: str | torch.device = "cpu") -> bool:
    """True where bf16 convolutions run natively: CUDA GPUs with bf16 (Ampere and newer), or
    CPUs with AVX512-BF16 or AMX. Elsewhere torch emulates bf16 and it is many times *slower*
    than fp32 (200x for a 3x3 convolution on an AVX2 CPU, bench/README.md)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def autocast_dtype(amp: str, device: str | torch.device) -> torch.dtype | None:
    """The dtype a training run's ``train.amp`` autocasts to on ``device`` (None: fp32):
    ``auto`` half precision on CUDA (bf16 where the GPU has it, else fp16), fp32 on a CPU;
    ``native`` bf16 where it runs natively (:func:`supports_bf16`); ``bf16``, ``fp16`` and
    ``off`` as named. One rule for training's precision and the plan's memory estimate."""
    device = torch.device(device)
    if amp == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp == "native":
        return torch.bfloat16 if supports_bf16(device) else None
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "off": None}[amp]


def check_precision(precision: str, device: str | torch.device | None = "cpu") -> str:
    """``precision`` if it is one of :data:`PRECISIONS` and ``device`` runs it well
    (``device`` None: the name only, before a device is known); UnetlabError with the fix
    otherwise."""
    if precision not in PRECISIONS:
        raise UnetlabError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if device is not None and precision == "bf16" and not supports_bf16(device):
        what = "GPU" if torch.device(device).type == "cuda" else "CPU"
        raise UnetlabError(
            f"bf16 is not native on this {what} (it needs AVX512-BF16/AMX or a bf16 GPU) and "
            "would be slower than fp32: use --precision fp32"
        )
    return precision


def cpu_capability() -> str:
    """The vector instruction set torch's CPU kernels use here (``"AVX2"``, ``"AVX512"``, ...)."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:
        return "unknown"


#: Linux's memory figures (MemAvailable: what new work can get without swapping)
MEMINFO = Path("/proc/meminfo")
#: cgroup v2 limit and usage of this process's group (a container's, a batch job's)
CGROUP = Path("/sys/fs/cgroup")


def available_memory(device: str | torch.device = "cpu") -> float | None:
    """Bytes new work may still take on ``device``: a GPU's free memory; on a CPU the least
    of the system's MemAvailable, the room left under this process's cgroup limit (a
    container, a batch job) and under its address-space limit (``ulimit -v``). None where
    none of these is known (not Linux; a GPU asked of a machine without one)."""
    device = torch.device(device)
    if device.type == "cuda":
        return float(torch.cuda.mem_get_info(device)[0]) if torch.cuda.is_available() else None
    figures = [_meminfo_available(), _cgroup_room(), _address_space_room()]
    known = [f for f in figures if f is not None]
    return float(min(known)) if known else None


def _meminfo_available() -> int | None:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    """memory.max less memory.current of this process's cgroup (v2), None without a limit."""
    try:
        group = Path("/proc/self/cgroup").read_text().strip().split("::")[-1]
        folder = CGROUP / group.lstrip("/")
        limit = (folder / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return int(limit) - int((folder / "memory.current").read_text())
    except (OSError, ValueError):
        return None


def _address_space_room() -> int | None:
    """RLIMIT_AS less the process's virtual size (``ulimit -v``), None without a limit."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return limit - int(line.split()[1]) * 1024
    except (OSError, ValueError, ImportError):
        return None
    return limit


def is_out_of_memory(exc: BaseException) -> bool:
    """True for an exception that means memory ran out: MemoryError, CUDA's
    OutOfMemoryError, or the RuntimeError of torch's CPU allocator."""
    if isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError)):
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)


def memory_reason(exc: BaseException, most: int = 120) -> str:
    """The first line of an out-of-memory ``exc``, short: without the CPU allocator's
    ``[enforce fail at ...] err == 0.`` prefix, a request in bytes given in GB, and cut to
    at most ``most`` characters at a space, never inside a number (audit s35 laptop 3: the
    cut left ``13421772`` of a 134,217,728-byte request)."""
    text = re.sub(r"^\[enforce fail at [^\]]*\]\s*(err == 0\.\s*)?", "", first_line(exc))
    text = re.sub(
        r"allocate (\d+)(?![\d.])( bytes)?",
        lambda m: f"allocate {_size(int(m.group(1)))}",
        text,
    )
    if len(text) <= most:
        return text
    return text[: text.rfind(" ", 0, most)].rstrip(" ,;:") + " ..."


def _size(n: int) -> str:
    """``n`` bytes in GB (two decimals), or in bytes below 0.01 GB."""
    return f"{n / 1e9:.2f} GB" if n >= 1e7 else f"{n:,} bytes"


@contextlib.contextmanager
def memory_hint(what: str, fix: str | Spelled, *, gpu_fix: str = "") -> Iterator[None]:
    """Turn running out of memory inside the block into an OutOfMemoryError: one line naming
    ``what`` ran out and ``fix`` (the setting to lower: one line for every caller, or as the
    Python API and the command line spell it, each told its own; a notebook was told
    "lower --tile-size or --batch-size", s56), then ``gpu_fix`` where GPU memory ran out
    (e.g. "or predict on the CPU", no fix where the CPU's did)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - only out-of-memory errors are converted
        if not is_out_of_memory(exc):
            raise
        said = f"{what}: out of memory ({memory_reason(exc)}); "
        gpu = isinstance(exc, torch.cuda.OutOfMemoryError) and gpu_fix
        line = lambda f: said + (f"{f}, {gpu_fix}" if gpu else f)  # noqa: E731
        raise OutOfMemoryError(**spelled(line, fix)) from exc
