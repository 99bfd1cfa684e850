"""Data-parallel training over several processes (one per GPU, or CPU processes with gloo).

``unetlab train --nproc N ...`` starts N copies of itself through ``torch.distributed.run``
(torchrun); so does ``torchrun --nproc_per_node N -m unetlab train ...`` on a cluster. Each
copy finds its place in the environment torchrun sets (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``) with :meth:`unetlab.group.Group.from_env`; a plain process is a group of
one, and every method of its Group is then a no-op, so ``fit`` reads the same either way.

The model is wrapped in ``DistributedDataParallel`` (BatchNorm becomes SyncBatchNorm on
GPUs), each process trains on its share of every epoch's tiles (global batch = batch size x
processes), and the main process (rank 0) alone validates, writes the run folder and decides
when to stop; it sends its decisions to the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from functools import partial
from typing import NamedTuple

from unetlab.errors import IN_USE, UnetlabError

# Group, SOLO: imported from here by training before unetlab.group held them
from unetlab.group import SOLO as SOLO
from unetlab.group import Group as Group
from unetlab.provenance import (
    CODE_ENV,
    COMMAND_ENV,
    PROGRAM_ENV,
    code_identity,
    command_line,
    program,
    shell_command,
)
from unetlab.runtime import PROC, TORCHRUN_PID_ENV, available_cpus, child_pids, process_stat
from unetlab.signals import (
    LAUNCHED_ENV,
    PARENT_AT_START,
    STOP_SIGNALS,
    HeldStops,
    another_s_stop,
    launch_stop_said,
    note_stop_passed_on,
    stop_noted,
    stop_of,
    stop_raises,
    stop_signal,
    stop_under_way,
    stops_held,
)
from unetlab.words import numbered


def without_nproc(argv: list[str]) -> list[str]:
    """``argv`` without ``--nproc N`` / ``--nproc=N`` (the launched processes run one each)."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == "--nproc":
            skip = True
        elif not word.startswith("--nproc="):
            out.append(word)
    return out


def check_nproc(nproc: int, device: str) -> None:
    """Refuse ``--nproc`` below 1, or above what ``device`` (``--device``, ``train.device``:
    auto, cpu, cuda) runs here in one line naming the most: the GPUs (one process each), or
    without one the CPUs this process may use (each process a copy of the model and its
    data: 8 of them took 2.3 GB for one small image on 2 CPUs, 64 did not end; s36 flags 7)."""
    if nproc < 1:
        raise UnetlabError(f"--nproc must be at least 1, not {nproc}")
    if nproc == 1:
        return
    import torch

    from unetlab.runtime import CLI_DEVICE_FIX, resolve_device

    if resolve_device(device, CLI_DEVICE_FIX).type == "cuda":
        if nproc > (gpus := torch.cuda.device_count()):
            raise UnetlabError(
                f"--nproc {nproc} but {numbered(gpus, 'GPU')} here: one process per GPU, --nproc {gpus} "
                "at most"
            )
    elif nproc > (cpus := available_cpus()):
        raise UnetlabError(
            f"--nproc {nproc} but this process may use {numbered(cpus, 'CPU')} and no GPU: each process "
            f"holds a copy of the model and its data on CPUs of its own; --nproc {cpus} at most"
        )


#: seconds the processes of a stopped launch get to finish their step and save before they
#: are killed: a step of the paper net on big tiles takes several seconds on a CPU, and
#: last.pt with its optimizer state about one more; a second signal kills at once
STOP_WAIT = 300.0


def launch(
    nproc: int,
    argv: list[str],
    *,
    given: list[str] | None = None,
    grace: float = STOP_WAIT,
    failed: Callable[[bool | None], None] = None,
    stopped: Callable[[str, str], str] | None = None,
) -> int:
    """Run ``unetlab <argv>`` in ``nproc`` processes on this machine (torchrun, standalone);
    returns the exit status. ``given``: the command's words as the user gave them (``--nproc``
    in them: ``main``'s argv, which from Python is not ``sys.argv``), which the processes
    record; ``sys.argv``'s when None. A stop signal gives the processes ``grace`` seconds to
    finish their step and save (:func:`run_passing_signals`); as long for them to end where
    torchrun ended first (:func:`_outlived`). ``failed(outlived)`` is called when the launch
    fails and no process said why in its own line (one killed, torchrun's report above).
    ``stopped(how, status)``: the line of a launch stopped (``how``: "interrupted") before
    its main process said its own (:func:`_say_stopped`; ``status``: the launch's
    :data:`STATUS_FILE`, beside which its processes note what the line needs)."""
    if nproc < 1:
        raise UnetlabError(f"--nproc must be at least 1, not {nproc}")
    command = [sys.executable, "-c", TORCHRUN, "--standalone", f"--nproc_per_node={nproc}"]
    command += ["-m", "unetlab", *argv]
    env = dict(os.environ)
    env[PROGRAM_ENV] = shlex.join(program())  # the commands they print: the user's program
    # the command they record: the user's, --nproc in it
    typed = given is None or given == sys.argv[1:]  # the console script's path as it is
    env[COMMAND_ENV] = command_line() if typed else shell_command(*program(), *given)
    # the code they record: found once, here, and afresh: they import the code as it is on
    # disk now (s75 review: a session's identity, cached before a file was edited or a git
    # pull, was recorded)
    env[CODE_ENV] = json.dumps(code_identity.__wrapped__())
    # each process's share of the CPUs (torchrun would give each one thread, with a banner)
    env.setdefault("OMP_NUM_THREADS", str(max(1, available_cpus() // nproc)))
    # a signal that reaches torchrun itself (a scheduler signalling every process, or this
    # process killed): torchrun's own wait before its SIGKILL, 30 s unless set (torch >= 2.9
    # reads it; older ones ignore it)
    env.setdefault("TORCH_ELASTIC_SHUTDOWN_TIMEOUT", str(math.ceil(grace)))
    # the stop under way (_after_torchrun) held until the launch's folder is removed too, and
    # in the CLI to the command's end (its own stop_raises)
    with stop_raises(), tempfile.TemporaryDirectory(prefix="unetlab-") as folder:
        env[STATUS_FILE] = status = os.path.join(folder, "status")
        # a stop signal held from here to _after_torchrun's look at the processes, but where
        # the signals are passed on (run_passing_signals takes those held before): one as
        # torchrun's handlers were undone escaped that look (review s61)
        with stops_held() as held:
            code, passed = run_passing_signals(command, env=env, grace=grace)
            code, outlived = _after_torchrun(code, passed, held, status, argv, nproc, grace)
        return _launch_ended(code, outlived, status, argv, nproc, failed, stopped)


def _launch_ended(code, outlived, status, argv, nproc, failed, stopped) -> int:
    """:func:`launch`'s status once torchrun and its processes ended (``code``, ``outlived``:
    :func:`_after_torchrun`'s; ``status``: the launch's :data:`STATUS_FILE`; the others:
    :func:`launch`'s), saying the line of a launch stopped before its main process said its
    own, or calling ``failed``."""
    noted = _notes(status)  # read once: (status, rank) as each process ended
    notes = [n for n, _ in noted]
    if code == 0 or _all_done(notes, nproc):  # torchrun killed, they stopped: theirs
        return launch_status(notes)
    signum = stop_signal(code)
    if signum is None and not {1, *SAID} & set(notes) and failed:
        failed(outlived)  # not stopped here, and no process said why: one was killed
    if signum is not None and not _main_said_stop(noted):
        if _main_lost(noted, status):
            # the stop passed on was dropped by the main process, which ended on the loss in
            # its line: torchrun's status without the stop (s69: 130 with that line alone)
            return TORCHRUN_FAILED
        line = partial(stopped, status=status) if stopped else None
        # none where the main process said its line, then was killed before it noted its
        # end (a second signal as it ended: s72, both lines); killed by a second signal
        # before it said it: said in this line
        if not launch_stop_said(status):
            _say_stopped(argv, signum, line, killed=_killed_by(status))
    return code


@contextlib.contextmanager
def _stops_handled(handler):
    """Within: ``handler`` handles each stop signal (:data:`~unetlab.signals.STOP_SIGNALS`,
    passed on to a launch's processes) but those this process
    ignores (nohup's SIGHUP stays ignored); the previous handlers are back after. The
    signals a launch held as it began (:func:`~unetlab.signals.stops_held`) go to
    ``handler`` too, as it begins."""
    wanted = [s for s in STOP_SIGNALS if signal.getsignal(s) is not signal.SIG_IGN]
    previous = {s: signal.signal(s, handler) for s in wanted}
    held = next((h for h in previous.values() if isinstance(h, HeldStops)), None)
    try:
        for signum in held.take() if held else ():
            handler(signum)
        yield
    finally:
        for s, before in previous.items():
            signal.signal(s, before)


def _main_said_stop(noted: list[tuple[int, str]]) -> bool:
    """Whether the main process (rank 0) of a launch noted a stop (:func:`_notes`): it said
    the stop in its own line."""
    return any(stop_signal(code) for code, rank in noted if rank == "0")


def _main_lost(noted: list[tuple[int, str]], status: str) -> bool:
    """Whether the main process (rank 0) of the launch whose status file is ``status`` noted
    a status said in its one line (:data:`SAID`) as it ended on losing another process
    (listed by :func:`_note_lost`): a stop passed on to it then was dropped
    (:func:`lost_peer`), and the launch ends as without it (:func:`_launch_ended`). s68: a
    Ctrl-C passed on as it waited for a lost process was said again, "interrupted", a second
    line. Its own error (2) leaves the others running: their stop is the launch's to say
    (s68 review: predict's kill line and "7 of 18 inputs done" went unsaid)."""
    lost = "0" in _words(f"{status}.lost")
    return lost and any(code in SAID for code, rank in noted if rank == "0")


def _after_torchrun(
    code: int,
    passed: tuple[int, ...],
    held: HeldStops,
    status: str,
    argv: list[str],
    nproc: int,
    grace: float,
) -> tuple[int, bool | None]:
    """(the launch's status, whether its processes ended: :func:`_outlived`) after torchrun
    ended with ``code``, the stop signals ``passed`` on to it (:func:`run_passing_signals`):
    its processes waited for where it ended first (not after a clean end: each of them ended
    before it). A stop signal from there (``held`` since torchrun's handlers were undone:
    :func:`launch`) to this function's end kills any of them that run
    (:func:`_kill_launch`), the launch then stopped by the first one passed on, else by this
    one (130 for a Ctrl-C); review s61: one before the wait (its look at /proc, its line)
    ended the launch with those processes left running. SIGTERM and SIGHUP raise here as
    they do in the CLI (:func:`launch`'s :func:`~unetlab.signals.stop_raises`). A stop is
    then under way (:func:`~unetlab.signals.stop_under_way`: a stop signal dropped to the
    command's end, as the launch says its one line) where one happened: a signal passed on,
    a kill here, or torchrun's stop status (a signal that reached it); not where torchrun
    ended by itself (a clean end, a failure), where a first stop signal stops the command as
    anywhere (review s61: a script's next command, and the processes it started, ignored
    every stop signal). The stop that raises here is under way as it is raised: one more as
    the kill begins is dropped (review s61: it escaped, a traceback or its status); but
    where torchrun failed by itself, none passed on, and none of its processes runs, there is
    nothing to kill: it is raised on as a stop anywhere is (review s62: it was said "killed
    by SIGTERM", in place of the failure, and every stop after it dropped). After a clean
    end it is the launch's, whose status is its processes' (:func:`_launch_ended`)."""
    from unetlab.signals import stop_status

    try:
        held.raising()  # a stop held raised here, one from now on as it comes
        ended = _outlived(status, passed, argv, nproc, grace) if code else None
        if passed or stop_signal(code):
            stop_under_way()
        held.holding()  # a stop from now on held to the launch's end, then raised as anywhere
        return code, ended
    except KeyboardInterrupt as exc:  # killed at once
        stop_under_way()  # first: another one now is dropped, not raised from the kill
        # a stop's status (torchrun stopped, by a signal passed on or one of its own: a
        # non-zero status after one passed on is 128 + it) keeps the stop under way
        if code and not (stop_signal(code) or _killable(status)):
            held.not_under_way()  # torchrun failed by itself and nothing of it runs: none
            raise  # to kill, the command's stop as anywhere (review s62: "killed by", 143)
        _kill_launch(status, (*passed[:1], getattr(exc, "signum", signal.SIGINT)))
        # passed on first: the status torchrun's end gave (run_passing_signals); review s60:
        # none passed on (torchrun ended by itself), this one's stop is under way all the same
        return code if passed else stop_status(exc)[1], False


def _outlived(
    status: str, passed: tuple[int, ...], argv: list[str], nproc: int, wait: float
) -> bool | None:
    """Where torchrun ended before its processes (killed, out of memory: they get SIGTERM,
    :func:`stop_with_launch`), wait up to ``wait`` seconds for them to end, saying so: they
    save and say their own stop line, or write their outputs, which the launch's line would
    count too early (s52: train said "continue with" twice and exited 137; predict counted
    before they had written). Whether they ended by then; None where none outlived it. A
    stop signal kills them (:func:`_after_torchrun`), said in the launch's one line: after
    one ``passed`` on as a second one while torchrun lived, a first (none passed on:
    torchrun ended by itself) as the one that killed them (s59: "stopped by SIGTERM:
    killing its processes" above "stopped by SIGTERM")."""
    if not _still_running(status, nproc):  # each with its start time: a pid reused since
        return None  # by another process is not waited for
    if not PROC.is_dir():  # (macOS) nor told from it: waited for as the main process waits
        wait = min(wait, OTHERS_WAIT)  # (s65 review: up to 300 s for another's process)
    command = next((word for word in argv if not word.startswith("-")), "")
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        print(
            f"unetlab {command}: {torchrun_ended(nproc)}: waiting for them to stop and end "
            f"(at most {wait:g} s)",
            file=sys.stderr,
            flush=True,
        )
    return _waited(lambda: bool(_still_running(status, nproc)), time.monotonic() + wait, 0.1)


def torchrun_ended(nproc: int) -> str:
    """What a launch of ``nproc`` processes whose torchrun ended before them says of it
    (:func:`_outlived`; train's line on its run folder)."""
    return f"torchrun ended (killed? out of memory?) while the {nproc} processes ran"


def _ended(noted: list[tuple[int, str | None]], until: float, step: float) -> bool:
    """Whether the processes ``noted`` ((pid, start time): :func:`_running`) all ended by
    ``until`` (:func:`time.monotonic`), looked at every ``step`` seconds."""
    return _waited(lambda: any(_running(*n) for n in noted), until, step)


def _waited(
    running: Callable[[], bool],
    until: float,
    step: float,
    stopped: Callable[[], bool] = lambda: False,
) -> bool:
    """Whether ``running()`` turned false by ``until`` (:func:`time.monotonic`), asked every
    ``step`` seconds; False at once where ``stopped()``."""
    while running():
        if time.monotonic() >= until or stopped():
            return False
        time.sleep(step)
    return True


def _kill_launch(
    status: str, signals: tuple[int, ...], process: subprocess.Popen | None = None
) -> list[tuple[int, str | None]]:
    """The stop ``signals`` (the one that kills, after the first passed on if any) to the
    launch whose status file is ``status``: its processes noted (:func:`stop_with_launch`)
    and ``process`` (torchrun, where it lives) killed without a word; the launch's line
    says it (:func:`_killed_by`), none where its main process said its stop (s58: "SIGTERM
    again: killing its processes" under that line), which the rest end without; a note
    there already (a third signal, review s59 B: "a second SIGTERM" said of a Ctrl-C after
    one) is kept: the first two name the kill. Returns the processes killed, noted
    (:func:`_killable`)."""
    if not _main_said_stop(_notes(status)):
        # suppressed: the launch's folder gone (said, then), or the note there (kept)
        with contextlib.suppress(OSError), open(f"{status}.killed", "x") as f:
            f.write(" ".join(str(int(signum)) for signum in signals))
    noted = _killable(status)
    _kill([pid for pid, _ in noted], None, process=process)
    return noted


def _killable(status: str) -> list[tuple[int, str | None]]:
    """The processes noted of the launch whose status file is ``status`` that run
    (:func:`_running_noted`) and may be killed: each told by its start time from a process
    given its pid since (Linux's /proc). None without /proc (macOS): a pid that exists may
    be another's process (s65 review: an unrelated process SIGKILLed); torchrun alone is
    killed there, as before its processes were noted."""
    return _running_noted(status) if PROC.is_dir() else []


def _running_noted(status: str, left_out: Collection[str] = ()) -> list[tuple[int, str | None]]:
    """The processes noted of the launch whose status file is ``status``
    (:func:`stop_with_launch`) that run, but those whose rank is ``left_out``: (pid, start
    time), a pid reused since by another process left out (:func:`_running`)."""
    noted = _pid_notes(f"{status}.pids")
    return [(pid, at) for pid, at, rank in noted if rank not in left_out and _running(pid, at)]


def _still_running(
    status: str, nproc: int, left_out: Collection[str] = ()
) -> list[tuple[int, str | None]]:
    """The processes of the launch of ``nproc`` whose status file is ``status`` that may
    still write an output: noted as they started (:func:`_running_noted`), their end not
    noted (:func:`noted_for_launch`: one noted tears down, review s64), running; but those
    whose rank is ``left_out`` (this process; one :func:`lost_peer` waited for in vain).
    None once every other one noted its
    end. A stopped launch's main process waits for them (:func:`others_ended`), and the
    launcher where torchrun ended before them (:func:`_outlived`; s65: it waited for
    those that had noted their end too)."""
    ended = {r for _, r in _notes(status)} | set(left_out)
    if len(ended) >= nproc:
        return []
    return _running_noted(status, ended)


def _pid_notes(path: str) -> list[tuple[int, str | None, str | None]]:
    """(pid, start time, rank; each but the pid None where not noted) of each process of a
    launch noted in ``path`` (:func:`stop_with_launch`: :func:`_pid_note`)."""
    with contextlib.suppress(FileNotFoundError), open(path, encoding="utf-8") as f:
        noted = [words + [None] * (3 - len(words)) for words in map(str.split, f) if words]
        return [(int(pid), None if at == "-" else at, rank) for pid, at, rank, *_ in noted]
    return []


def _pid_note(pid: int) -> str:
    """The line that notes process ``pid`` of a launch (:func:`_pid_notes`): its pid, its
    start time (:func:`_start_time`; "-" where unknown) and its rank."""
    return f"{pid} {_start_time(pid) or '-'} {os.environ.get('RANK', '0')}\n"


def _start_time(pid: int) -> str | None:
    """Process ``pid``'s start time (/proc stat field 22, in clock ticks since boot): with
    its pid, it names the process (a pid is reused once its process ended); None: unknown."""
    fields = process_stat(pid)
    return fields[19] if len(fields) > 19 else None


def _running(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` runs (Linux's /proc: not ended, nor a zombie: an orphan's
    reaper may not have reaped it yet), the one that ``started`` then where given (not
    another given its pid since: :func:`_start_time`). Without /proc (macOS) whether a
    process of that pid exists (:func:`_exists`), where no wait was made at all (s65)."""
    fields = process_stat(pid)
    if len(fields) > 19:
        return fields[0] != "Z" and started in (None, fields[19])
    return not PROC.is_dir() and _exists(pid)


def _exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (signal 0: nothing sent); False on Windows, where
    ``os.kill`` with signal 0 would end it."""
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:  # another user's
        return True
    except OSError:  # ProcessLookupError: none
        return False
    return True


def launch_status(notes: list[int]) -> int:
    """The exit status of a launch whose processes noted ``notes`` (:func:`noted_for_launch`,
    in the order they ended): a bug's (1, or any status not said in a line: its traceback)
    over a stop's or the user's problem, whichever process noted first; else the first
    that is not 0; 0 where each ended its command."""
    unsaid = (n for n in notes if n and n not in SAID and stop_signal(n) is None)
    return next(unsaid, 0) or next(filter(None, notes), 0)


def _all_done(notes: list[int], nproc: int) -> bool:
    """Whether every one of the ``nproc`` processes noted that its command ended (status 0
    included): a stop signal that reaches torchrun after that, as it waits out its last
    look at them, stops nothing (it said "stopped" after a finished run's summary, 143)."""
    return len(notes) >= nproc


def _say_stopped(
    argv: list[str],
    signum: int,
    stopped: Callable[[str], str] | None,
    *,
    killed: tuple[int, ...] | None = None,
) -> None:
    """The line a command stopped by ``signum`` says (``unetlab predict: stopped by
    SIGTERM``), for a launch stopped before its main process said it (while they started, or
    it stopped again as it said it; the others say none: where one of them had noted its
    stop, the launch ended without a line, s54): ``stopped(how)``'s where given (predict's
    count of the inputs done: s52, "interrupted" alone). ``killed``: the stop signals that
    killed its processes (:func:`_killed_by`), said in this line in its place."""
    from unetlab.signals import Stopped, stop_status

    how = f"killed by {_kill_said(killed)}" if killed else stop_status(Stopped(signum))[0]
    command = next((word for word in argv if not word.startswith("-")), "")
    line = stopped(how) if stopped else f"unetlab {command}: {how}"
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        print(line, file=sys.stderr)


#: the exit status of :func:`torchrun` where one of its processes failed: killed, or a bug's
#: (the others end 0 on the user's problem or a stop: :func:`noted_for_launch`)
TORCHRUN_FAILED = 1

#: torchrun (``python -m torch.distributed.run``) through :func:`torchrun`
TORCHRUN = "import sys; from unetlab.distributed import torchrun; sys.exit(torchrun(sys.argv[1:]))"


def torchrun(argv: list[str]) -> int:
    """torchrun with ``argv``; a process of it that failed is said in one line, without
    torchrun's traceback and report (30 lines after the process's own line or traceback,
    which said why). A stop signal that reaches torchrun itself (a scheduler's time limit
    signals every process of the job) ends it with the shell's status for the signal, 128 +
    the signal, without its traceback (``SignalException``) or its lines about the workers
    it stops: they say the stop in their own line. Its other errors keep their tracebacks."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args
    from torch.distributed.run import run as run_torchrun

    os.environ[TORCHRUN_PID_ENV] = str(os.getpid())  # its processes' parent (stop_with_launch)
    quiet = _QuietStop(notes=not _stops_noted_by_torchrun())
    for name in _TORCHRUN_LOGGERS:
        logging.getLogger(name).addFilter(quiet)
    try:
        run_torchrun(parse_args(argv))
    except ChildFailedError as exc:
        if stopped := _failures_stop_signal(exc):  # killed as they started, before their handlers
            return 128 + stopped
        print(f"unetlab: {_failure_line(exc)}", file=sys.stderr, flush=True)
        return TORCHRUN_FAILED
    except SignalException as exc:
        return 128 + int(exc.sigval)
    return 0


#: the loggers of torchrun's warnings on a stop signal (torch 2.13)
_TORCHRUN_LOGGERS = (
    "torch.distributed.elastic.agent.server.api",
    "torch.distributed.elastic.multiprocessing.api",
)


def _stops_noted_by_torchrun() -> bool:
    """torchrun's handler of stop signals (torch 2.13's ``_terminate_process_handler``,
    which ``PContext.start`` looks up as it sets it) wrapped to note the stop that torchrun
    then passes on to its processes (:func:`note_stop_passed_on`: its copy there no second
    stop), whatever its loggers' level (s65 review: noted from its warning, which
    ``LOGLEVEL=ERROR`` never emits). False where this torch has no such handler."""
    from torch.distributed.elastic.multiprocessing import api

    handler = getattr(api, "_terminate_process_handler", None)
    if handler is None:
        return False

    def noted(signum, frame):
        note_stop_passed_on(os.environ.get(STATUS_FILE))
        return handler(signum, frame)  # raises torch's SignalException

    api._terminate_process_handler = noted
    return True


class _QuietStop(logging.Filter):
    """Drops torchrun's warning that it got a stop signal ("Received 15 death signal,
    shutting down workers") and, after it, those on each worker it passes the signal on to
    ("Sending process 123 closing signal SIGTERM"): a stop is no failure, and the workers
    say it; those too on a worker left when another ended by a stop the launcher passed on
    (:func:`stop_noted`: one that ended as it started, status 130, came first). The same
    "closing signal" warning for a worker left when another failed stays. ``notes``: the
    warning notes the stop torchrun passes on, where its handler does not
    (:func:`_stops_noted_by_torchrun`)."""

    def __init__(self, notes: bool = False):
        super().__init__()
        self.stopping, self.notes = False, notes

    def filter(self, record: logging.LogRecord) -> bool:
        if "death signal" in str(record.msg):  # said before torchrun passes it on
            self.stopping = True
            if self.notes:  # its copy: no stop again
                note_stop_passed_on(os.environ.get(STATUS_FILE))
            return False
        if str(record.msg).startswith("failed (exitcode") and _stopped_by(record.args[0]):
            return False  # a worker stopped as it started (:func:`_failures_stop_signal`)
        if "closing signal" not in str(record.msg):
            return True
        return not (self.stopping or stop_noted(os.environ.get(STATUS_FILE)))


def _stopped_by(code) -> int | None:
    """The stop signal that ended a process with exit code ``code`` as it started, or None:
    without a handler (Popen's -signal), or a Ctrl-C while its modules load (status 130, not
    noted for the launch: :func:`unetlab.signals.exit_interrupted`)."""
    if not isinstance(code, int):
        return None
    return -code if -code in STOP_SIGNALS else stop_signal(code)


def _failures_stop_signal(exc) -> int:
    """The stop signal (SIGTERM, SIGHUP, SIGINT) that ended every failed process of
    torchrun's ``ChildFailedError``, or 0: a process stopped while it starts (its imports,
    before it handles the signal) ends by it, with nothing to save; it is no failure."""
    if not all(_stopped_by(failure.exitcode) for failure in exc.failures.values()):
        return 0
    return _stopped_by(exc.get_first_failure()[1].exitcode)


def _failure_line(exc) -> str:
    """One line for torchrun's ``ChildFailedError``: its first failed process, how it ended."""
    rank, failure = exc.get_first_failure()
    if failure.exitcode < 0:
        how = f"was killed ({failure.signal_name()})"
    else:
        how = f"ended with exit status {failure.exitcode}"
    others = len(exc.failures) - 1
    more = f"; {others} other process(es) failed too" if others > 0 else ""
    return f"process {rank} of the launch (pid {failure.pid}) {how}{more}"


def run_passing_signals(
    command: list[str], *, env: dict | None = None, grace: float = STOP_WAIT
) -> tuple[int, tuple[int, ...]]:
    """Run ``command`` in its own session and wait for it, passing SIGTERM, SIGHUP and SIGINT
    on (``kill``, a scheduler's time limit, a closed terminal, Ctrl-C: its processes stop
    too, instead of going on as orphans that hold the output folder's lock); on Linux it also
    gets SIGTERM should this process die without a word (SIGKILL). Returns its exit status,
    or 128 + the signal when one passed on stopped it (130 after a Ctrl-C) or one killed
    it (137 for SIGKILL), and the stop signals passed on, in order. A signal this process
    ignores (nohup's SIGHUP) stays ignored: it is not passed on.

    The first signal goes to the processes ``command`` started (torchrun's workers: they
    finish their step, save and end), not to ``command`` itself; to ``command`` only while
    it has started none (or off Linux, where they cannot be listed). torchrun, given the
    signal, would pass it on and SIGKILL the workers after its own grace (30 s in torch
    2.13, ``TORCH_ELASTIC_SHUTDOWN_TIMEOUT``; a second signal restarts that wait), and
    report them as failed in pages of traceback; left alone, it ends as they do. The
    processes get ``grace`` seconds; then, or at a second signal, they and ``command`` are
    killed (SIGKILL)."""
    passer = _SignalPasser(grace, status=(env or {}).get(STATUS_FILE))
    # handlers first: a signal in between is passed on
    try:
        with _stops_handled(passer.pass_on):
            # its own session: a terminal's Ctrl-C or hang-up reaches it once, from here
            process = subprocess.Popen(
                command, env=env, start_new_session=True, preexec_fn=_stopped_with_parent()
            )
            passer.started(process)
            code = _wait(process, passer.pass_on)
            passer.settle()  # the processes a second signal killed: out of its handler
    finally:
        passer.cancel()
    passed = tuple(passer.passed)
    if code == -signal.SIGINT:
        return 130, passed
    # stopped by a signal passed on: the shell's status for it (torchrun itself ends with 1)
    if passed and code != 0:
        return 128 + passed[0], passed
    return (128 - code if code < 0 else code), passed  # SIGKILL: 137, as a shell says it


def _said_as(signum: int) -> str:
    """A stop signal as a line names it: "Ctrl-C" for SIGINT, else its name."""
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def _killed_by(status: str) -> tuple[int, ...] | None:
    """The stop signals that killed the processes of the launch whose status file is
    ``status`` before its main process said its stop (:func:`_kill_launch`): the one that
    killed, after the first passed on if any; None where none did."""
    with contextlib.suppress(OSError, ValueError), open(f"{status}.killed") as f:
        return tuple(map(int, f.read().split())) or None
    return None


def _kill_said(signals: tuple[int, ...]) -> str:
    """The stop ``signals`` that killed a launch's processes (:func:`_killed_by`) as its line
    names them: "SIGTERM" where the first killed them (torchrun ended by itself), else
    :func:`_second_signal`'s."""
    return _second_signal(*signals) if len(signals) > 1 else _said_as(signals[0])


def _second_signal(first: int, again: int) -> str:
    """The stop signal ``again`` after ``first`` as every line names it: "a second SIGTERM",
    or both where they differ ("Ctrl-C after SIGTERM", review s58 F: "a second Ctrl-C"
    after a SIGTERM; s58 forms9: "SIGINT again" for either)."""
    if first == again:
        return f"a second {_said_as(again)}"
    return f"{_said_as(again)} after {_said_as(first)}"


class _SignalPasser:
    """The signals :func:`run_passing_signals` passes on: the first to the command's
    workers, which are killed ``grace`` seconds later unless done; the next kills them
    (:meth:`kill_again`). Each is noted beside the launch's ``status`` file first
    (:func:`~unetlab.signals.stop_note`), where given."""

    def __init__(self, grace: float, status: str | None = None):
        self.grace, self.status = grace, status
        self.passed: list[int] = []  # every signal passed on (the first one sets the status)
        self.process: subprocess.Popen | None = None
        self.deadlines: list[threading.Timer] = []
        self.killed: list[tuple[int, str | None]] = []  # a launch's processes, killed
        self.killed_by = 0.0  # time.monotonic() up to which they are waited for

    def pass_on(self, signum, _frame=None) -> None:
        """The signal handler."""
        self.passed.append(signum)
        # for the launch's processes and torchrun (stop_noted); the launcher keeps its own
        note_stop_passed_on(self.status)
        if self.process is not None:
            self._deliver()

    def started(self, process: subprocess.Popen) -> None:
        self.process = process
        if self.passed:  # came before it had started
            self._deliver()

    def cancel(self) -> None:
        for timer in self.deadlines:
            timer.cancel()

    def kill_again(self) -> None:
        """A stop signal again (a second Ctrl-C; a scheduler's SIGTERM sent twice): the
        processes killed at once. In a launch, its processes noted too, not only those /proc
        lists as ``process``'s, and the line is the launch's (:func:`_kill_launch`); outside
        one, a line here (:func:`_second_signal`). The signal handler's: it returns at once
        (a third signal, the launcher's own end, are not held); :meth:`settle` waits."""
        if self.status is None:  # each signal said as it comes
            _kill([], _second_signal(self.passed[0], self.passed[-1]), process=self.process)
            return
        # the first and the one that killed (a third kills those noted since); settle()'s
        # list, which a third signal as it waits extends (review s59 B)
        killed = _kill_launch(self.status, tuple(self.passed[:2]), self.process)
        self.killed += [noted for noted in killed if noted not in self.killed]
        self.killed_by = self.killed_by or time.monotonic() + KILLED_WAIT

    def settle(self) -> None:
        """Once torchrun ended: the wait, up to :data:`KILLED_WAIT`, for the processes of the
        launch :meth:`kill_again` killed to end, before the launch looks for processes that
        outlived torchrun (:func:`_outlived`, which said "torchrun ended (killed? ...)" of
        these as they died). The handlers still live: a signal here kills those noted since,
        waited for until the same deadline, and lists no processes of torchrun's pid, now
        free (:func:`_started_by`)."""
        _ended(self.killed, self.killed_by, 0.01)

    def _deliver(self) -> None:  # the last of ``passed``, ``process`` running
        if len(self.passed) > 1:
            self.kill_again()
            return
        _signal_workers(self.process, self.passed[0])
        late = f"still running {self.grace:g} s after {_said_as(self.passed[0])}"
        timer = threading.Timer(self.grace, _kill, ([], late), {"process": self.process})
        timer.daemon = True
        self.deadlines.append(timer)
        timer.start()


#: seconds the launcher waits for the processes a second stop signal killed to end
#: (:meth:`_SignalPasser.settle`): SIGKILL ends one at once unless the kernel holds it (a
#: write to a network disk, a GPU driver's call)
KILLED_WAIT = 5.0


def _wait(process: subprocess.Popen, pass_on) -> int:
    """``process``'s exit status; a SIGINT raised as KeyboardInterrupt (a handler not ours)
    is passed on as the others are."""
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            pass_on(signal.SIGINT)


def _signal_workers(process: subprocess.Popen, signum: int) -> None:
    """``signum`` to the processes ``process`` started (:func:`as_started`), or to
    ``process`` if it has none."""
    workers = _started_by(process)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, as_started(signum, _caught(pid)))
    if not workers:
        process.send_signal(signum)


def _started_by(process: subprocess.Popen | None) -> list[int]:
    """The processes ``process`` started (:func:`~unetlab.runtime.child_pids`); none once it
    was reaped, its pid free for another process (review s59 B: a signal as the launcher
    waits after torchrun's end, :meth:`_SignalPasser.settle`, listed that one's)."""
    if process is None or process.returncode is not None:
        return []
    return child_pids(process.pid)


def as_started(signum: int, caught: int | None) -> int:
    """The signal that stops a worker as ``signum`` asks, given the signals it ``caught`` (a
    mask, bit ``s - 1`` for signal ``s``; None where it cannot be read): ``signum``, but
    SIGTERM for a Ctrl-C (SIGINT) to one still starting. There Python raises the Ctrl-C as
    a KeyboardInterrupt wherever it is (its ``site``'s .pth files, a module being imported):
    a traceback and a failed process under the launcher's one line (s49 nprocedge 1), where
    SIGTERM ends it at once without a word, before it has anything to save. A worker is past
    its start once it catches SIGTERM: unetlab's handlers, as its modules load
    (:func:`~unetlab.signals.interrupt_exits`), then the command's."""
    if signum != signal.SIGINT or caught is None or caught >> (signal.SIGTERM - 1) & 1:
        return signum
    return signal.SIGTERM


def _caught(pid: int) -> int | None:
    """The mask of the signals process ``pid`` catches (Linux's /proc ``SigCgt``), or None."""
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    return None


def _kill(pids: list[int], why: str | None, *, process: subprocess.Popen | None = None) -> None:
    """SIGKILL to the processes ``pids`` and to ``process`` with those it started (they
    first: once it has gone, they are no longer listed as its own), saying ``why`` in one
    line unless None ("unetlab: a second SIGTERM: killing its processes")."""
    if why is not None:
        with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
            print(f"unetlab: {why}: killing its processes", file=sys.stderr, flush=True)
    for pid in dict.fromkeys([*_started_by(process), *pids]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if process is not None:
        process.kill()


def _stopped_with_parent():
    """A function for the child to run before it starts (None off Linux): ask Linux to send
    it SIGTERM when its parent dies. libc is loaded here, in the parent: only the call is
    made after the fork."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


#: what torch's process groups say when the connection to another process of the group is
#: lost: gloo's ``Connection closed by peer ... typically caused by a remote worker crashing``
#: (seen here, torch 2.13, a peer killed with SIGKILL), a reset or broken connection, NCCL's
#: ``remote process exited or there was a network error``
_PEER_GONE = re.compile(
    r"closed by peer|reset by peer|broken pipe|remote worker crash|remote process exited",
    re.IGNORECASE,
)
#: what they say when a collective waited in vain: the other process may be gone, or a bug
#: (one process skipped a collective, or called another) left it waiting
_PEER_SILENT = re.compile(r"timed out|timeout|communicator was aborted", re.IGNORECASE)


def peer_lost(exc: BaseException) -> bool:
    """Whether ``exc``, raised in a process of a data-parallel group, says that the connection
    to another process of the group was lost (killed, out of memory, its node down), which is
    no bug: torch.distributed's ``DistNetworkError``, or one of its errors (or gloo's
    RuntimeError) naming a connection closed or reset by the peer, or a broken pipe. Other
    errors of the group (a wrong collective, NCCL's "invalid usage") are bugs, and a timeout
    may be either (:func:`peer_silent`)."""
    import torch.distributed as dist

    if isinstance(exc, dist.DistNetworkError):
        return True
    return _from_the_group(exc) and bool(_PEER_GONE.search(str(exc)))


def peer_silent(exc: BaseException) -> bool:
    """Whether ``exc`` says that a collective waited for another process of the group in vain
    (a timeout, NCCL's communicator aborted after one): that process may have ended, or a
    bug (a desync) left it waiting; say both, and keep the traceback."""
    if peer_lost(exc) or not _from_the_group(exc):
        return False
    return bool(_PEER_SILENT.search(str(exc)))


def peer_stop(exc: BaseException) -> KeyboardInterrupt | None:
    """The stop that ``exc`` is, in a process of a launch (:func:`launch`): another process
    of it was stopped (a SIGTERM to it alone; noted as it was raised,
    :func:`~unetlab.signals.stops_noted`) and left the group, and this process's collective
    with it lost the connection (:func:`peer_lost`); no bug (s65: rank 1 said "this is a
    bug in unetlab" under gloo's traceback). None for any other exception, and where a
    process of the launch was lost (:func:`_ends`): torchrun's SIGTERM to the processes
    left, once one was killed, is noted by those it stops, and is no stop of theirs."""
    status = os.environ.get(STATUS_FILE)
    if not status or not peer_lost(exc) or (signum := another_s_stop(status)) is None:
        return None
    return None if any(_ends(status).values()) else stop_of(signum)


@contextlib.contextmanager
def peer_stops_raised() -> Iterator[None]:
    """Within: an exception that is another process's stop (:func:`peer_stop`) is raised
    as that stop (KeyboardInterrupt, :class:`~unetlab.signals.Stopped`), from it."""
    try:
        yield
    except Exception as exc:
        if (stop := peer_stop(exc)) is None:
            raise
        raise stop from exc


#: seconds at most a process whose group lost the connection to another waits for that one
#: to end or note how it ended (:func:`lost_peer`): gloo says the connection closed before
#: the other process exited or noted its status (s66 review: one that ended on its own error
#: was said "killed? out of memory?", one killed went unnamed in 3 of 8 runs)
LOST_WAIT = 2.0


class LostPeer(NamedTuple):
    """How a launch's run stopped as other processes of it ended (:func:`lost_peer`)."""

    #: what happened, "process 1 of 2 ended (killed? out of memory?)", with ``{where}``
    #: a process that ended on its error said it, its line or a bug's traceback (:meth:`said`)
    ended: str
    says: bool  #: this process says it: the main one, or the lowest rank left without it
    on_error: bool  #: one ended on an error, said in its own line: no run to go on with
    #: each that ended on an error noted a full disk (:func:`note_full_disk`): the run goes
    #: on once there is space (s66 review: no command to go on with)
    full_disk: bool = False
    #: of 2, the other one still running with nothing noted once :func:`lost_peer` waited
    #: for it in vain ("the connection to process 1 of 2 was lost"): not waited for again
    #: as the run's stop is counted (:func:`others_ended`). Of 3 or more, none: a healthy
    #: one, busy on an input, is not told from the lost one (s67 review: "10 of 18 inputs"
    #: counted with 14 on disk)
    waited: tuple[str, ...] = ()
    #: one that ended on an error ended on a bug (status 1: its traceback and "this is a
    #: bug in unetlab"), which no fix of the user's input mends (s68: "fix the error above")
    bug: bool = False
    #: beside a bug, another ended on the user's problem (its one line): both are named
    #: (s70: "report or fix the bug above" alone, the user's error to fix unsaid)
    user_error: bool = False

    def fix(self, error: str = "the {} above") -> str:
        """What comes before going on (``error``: the one said by the process that ended on
        it, "{}" its kind): "fix the error above, then " after the user's problem (its one
        line), "report or fix the bug above, then " after a bug's traceback (s69 review:
        "the error above" under "on a bug"), both where one ended on each; "" where none
        ended on one."""
        if not self.on_error:
            return ""
        fixes = [f"fix {error.format('error')}"] if self.user_error or not self.bug else []
        fixes += [f"report or fix {error.format('bug')}"] if self.bug else []
        return f"{' and '.join(fixes)}, then "

    def said(self, where: str = "above") -> str:
        """What happened, ``where`` a process that ended on its error said it ("above" on
        the console, "on stderr" in train.log): "on an error (its line above)", "on a bug
        (its traceback above)" (s69: a bug's traceback was called its line)."""
        return self.ended.format(where=where)

    @property
    def how(self) -> str:
        """The stop's words: "stopped as process 1 of 2 ended (killed? out of memory?)"."""
        return f"stopped as {self.said()}"


def peer_gone(exc: BaseException) -> bool:
    """Whether ``exc``, raised in a process of a launch of several (:func:`one_of_several`),
    is the group's lost connection to another process that was not stopped alone
    (:func:`peer_lost`, no :func:`peer_stop`): killed, out of memory, ended on an error."""
    return one_of_several() and peer_lost(exc) and peer_stop(exc) is None


def lost_peer(exc: BaseException, wait: float = LOST_WAIT) -> LostPeer | None:
    """Where ``exc`` is another process's end (:func:`peer_gone`): how the run stopped,
    naming the processes lost once each other one ended or noted its end, ``wait`` seconds
    at most (:func:`_lost`): one gone with nothing noted "(killed? out of memory?)", one
    that noted an error's status "on an error (its line above)", a bug's "on a bug (its
    traceback above)" (:meth:`LostPeer.said`); and
    whether this process says it: the main one, or the lowest rank left where the main one was
    killed (one that
    ended on its error said its own line: its stop's count, a bug's traceback, the last
    word). None otherwise. s66: predict said gloo's traceback and "this is a bug in
    unetlab". The stop is under way as it waits (:func:`~unetlab.signals.stop_under_way`):
    torchrun's SIGTERM to the processes left, which may come then, is no second line."""
    if not peer_gone(exc):
        return None
    stop_under_way()
    return _lost_peer(wait)


def lost_peer_kept(exc: BaseException) -> LostPeer | None:
    """:func:`lost_peer`'s, kept on ``exc``: asked again (train.log's line, then the
    command's) it is not waited for again."""
    if hasattr(exc, _LOST_KEPT):
        return getattr(exc, _LOST_KEPT)
    lost = lost_peer(exc)
    with contextlib.suppress(AttributeError):  # an exception that takes no attribute
        setattr(exc, _LOST_KEPT, lost)
    return lost


#: the attribute of an exception on which :func:`lost_peer_kept` keeps what it found
_LOST_KEPT = "unetlab_lost_peer"


def lost_peer_told(exc: BaseException) -> LostPeer | None:
    """:func:`lost_peer_kept`'s, told again as the run's line is first said
    (:func:`lost_once_ended`) and kept on ``exc`` in its place: train.log's line, then the
    command's, say what one look found (s68 review: rank 1 ending between two looks, train.log
    said "the connection to process 1 of 2 was lost ... start the run again", stderr "process
    1 of 2 ended (killed? ...)" or "report or fix")."""
    lost = lost_peer_kept(exc)
    if lost is None or getattr(exc, _LOST_TOLD, False):
        return lost
    lost = lost_once_ended(lost)
    with contextlib.suppress(AttributeError):  # an exception that takes no attribute
        setattr(exc, _LOST_KEPT, lost)
        setattr(exc, _LOST_TOLD, True)
    return lost


#: the attribute of an exception that marks its :data:`_LOST_KEPT` told again
_LOST_TOLD = "unetlab_lost_peer_told"


def stopped_as_peer_ended(exc: BaseException) -> LostPeer | None:
    """Where ``exc``, a stop signal raised in a process of a launch of several
    (:func:`one_of_several`) that no launcher passed on (:func:`~unetlab.signals.stop_noted`),
    came as another process of it had ended, not stopped (:func:`_ends`: torchrun's SIGTERM
    to the processes left, one busy on an input before its lost connection): how the run
    stopped, as :func:`lost_peer` says (s66 review: "stopped by SIGTERM ... continue" after
    a peer's bug, the killed process unnamed, no line at all where the main one was killed).
    None otherwise."""
    if not isinstance(exc, KeyboardInterrupt) or not stop_follows_lost_peer():
        return None
    return _lost_peer(LOST_WAIT)


def stop_follows_lost_peer() -> bool:
    """Whether a stop signal now, in a process of a launch of several
    (:func:`one_of_several`) that no launcher passed on (:func:`~unetlab.signals.stop_noted`),
    comes as another process of it had ended, not stopped (:func:`_ends`): torchrun's
    SIGTERM to the processes left, whose line is the lost process's
    (:func:`stopped_as_peer_ended`, :func:`lost_peer`), not a stop's of its own (s70:
    "SIGTERM: stopping after this step" just before "process 1 of 2 ended")."""
    status = os.environ.get(STATUS_FILE)
    return one_of_several() and not stop_noted(status) and any(_ends(status).values())


def _lost_peer(wait: float) -> LostPeer:
    """:func:`lost_peer`'s, once the other process is known lost."""
    status = os.environ[STATUS_FILE]
    _note_lost(status)
    return _told(status, _lost(status, wait))


def lost_once_ended(lost: LostPeer) -> LostPeer:
    """``lost`` (:func:`lost_peer`) told again as the run's line is said: once the other
    processes of the launch ended (:func:`others_ended`, predict), or as the group is left
    (train). One that noted its error since named as such, none still running or ended
    cleanly named lost (s67 review: "the connection to process 1, 2 of 3 was lost", rank 2
    healthy, rank 1 noted its bug during the wait); of 2, the other one, still running at
    the first look ("the connection to process 1 of 2 was lost"), named as it ended since:
    "process 1 of 2 ended (killed? out of memory?)", which the user can act on (s68: of 2
    the first look's words stood, and train said only those, of any number)."""
    status = os.environ[STATUS_FILE]
    return _told(status, _lost(status, 0))  # says as lost: this one, lowest left, still is


def _told(status: str, lost: dict[str, str]) -> LostPeer:
    """How the run stopped as the processes ``lost`` (:func:`_lost`) of the launch whose
    status file is ``status`` ended. None known lost: of 2, the other one, still running,
    named; of 3 or more none (a healthy one busy on an input is not told from the lost)."""
    rank, world = os.environ.get("RANK", "0"), int(os.environ["WORLD_SIZE"])
    left = [str(r) for r in range(world) if str(r) not in lost]
    bugs = {by for code, by in _notes(status) if code == BUG_STATUS}
    said = {r: BUGGED if how == ERRED and r in bugs else how for r, how in lost.items()}
    ended = {
        how: ", ".join(r for r, its in said.items() if its == how)
        for how in dict.fromkeys(said.values())
    }
    parts = [f"process {ranks} of {world} ended {_LOST_HOW[how]}" for how, ranks in ended.items()]
    alone = not lost and world == 2
    running = tuple(r for r, how in _ends(status).items() if how is None) if alone else ()
    line = " and ".join(parts) or _connection_lost(running, world)
    says = rank == "0" or (lost.get("0") == KILLED and left[:1] == [rank])
    erred = {r for r, how in lost.items() if how == ERRED}
    full_disk = bool(erred) and erred <= set(_words(f"{status}.full"))
    bugged = erred & bugs
    return LostPeer(line, says, bool(erred), full_disk, running, bool(bugged), erred > bugged)


#: how :func:`_ends` says a process of a launch ended: gone with nothing noted, or on an
#: error it noted (said in its own line); and :func:`_told`, one whose error was a bug's
#: (its traceback shown)
KILLED, ERRED, BUGGED = "killed", "erred", "bug"
_LOST_HOW = {
    KILLED: "(killed? out of memory?)",
    ERRED: "on an error (its line {where})",
    BUGGED: "on a bug (its traceback {where})",
}


def _connection_lost(running: Collection[str], world: int) -> str:
    """``the connection to process 1 of 2 was lost``: none of the other processes of the
    launch known to have ended once :func:`lost_peer` waited, those that still run
    (``running``, by rank) named (not "killed? out of memory?": s66 review), or none known."""
    whose = f"process {', '.join(running)} of" if running else "a process of the"
    return f"the connection to {whose} {world} was lost"


def _lost(status: str, wait: float, poll: float = 0.05) -> dict[str, str]:
    """The other processes of the launch whose status file is ``status`` that ended, not
    stopped (:func:`_ends`), once one did or each other one ended or noted its end, or after
    ``wait`` seconds."""
    until = time.monotonic() + wait
    while True:
        ends = _ends(status)
        lost = {r: how for r, how in ends.items() if how}
        if lost or None not in ends.values() or time.monotonic() >= until:
            return lost
        time.sleep(poll)


def _ends(status: str) -> dict[str, str | None]:
    """How each other process of the launch whose status file is ``status`` ended, by rank:
    :data:`KILLED` (gone, no end noted: SIGKILL, out of memory), :data:`ERRED` (an error's
    status noted: a bug's 1, a full disk's 2; not one that ended as it lost another,
    :func:`_note_lost`), "" (it ended its command, or stopped: 128 + the signal), None
    (running, nothing noted)."""
    rank, noted = os.environ.get("RANK", "0"), {by: code for code, by in _notes(status)}
    pids = {by: (pid, at) for pid, at, by in _pid_notes(f"{status}.pids") if by is not None}
    followed = set(_words(f"{status}.lost"))
    ends: dict[str, str | None] = {}
    for by in sorted({*pids, *noted} - {rank}, key=lambda r: int(r) if r.isdigit() else -1):
        if by in noted:
            code = noted[by]
            ends[by] = ERRED if code and not stop_signal(code) and by not in followed else ""
        else:
            ends[by] = None if _running(*pids[by]) else KILLED
    return ends


def _note_lost(status: str) -> None:
    """This process's rank noted beside ``status`` as one that ends as it lost another
    process (:func:`lost_peer`): the status it notes then is none of its own error's."""
    _note_rank(f"{status}.lost")


def note_full_disk() -> None:
    """In a process of a launch (:func:`launch`), its rank noted as one that ends on a full
    disk, said in its own line: a process that lost it says how to go on once there is
    space (:func:`lost_peer`). Nothing elsewhere."""
    if status := os.environ.get(STATUS_FILE):
        _note_rank(f"{status}.full")


def _note_rank(path: str) -> None:
    """This process's rank added to the file ``path``, beside the launch's status file."""
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        f.write(f"{os.environ.get('RANK', '0')}\n")  # the launch's folder gone: unnoted


def _words(path: str) -> list[str]:
    """The words of the file ``path``; none where it cannot be read."""
    with contextlib.suppress(OSError), open(path, encoding="utf-8") as f:
        return f.read().split()
    return []


def _from_the_group(exc: BaseException) -> bool:
    """One of torch.distributed's errors, or a RuntimeError of gloo's."""
    import torch.distributed as dist

    gloo = isinstance(exc, RuntimeError) and "gloo" in str(exc)
    return isinstance(exc, dist.DistError) or gloo


#: the file in which the processes of :func:`launch` note how they ended, ending 0
#: themselves: on the user's problem (exit status 2) or stopped by a signal the launcher
#: passed on (128 + the signal, last.pt saved): torchrun reports a process that exits
#: non-zero as a crash, with pages of its own traceback
STATUS_FILE = LAUNCHED_ENV


#: the exit status of a launched process that ended on a bug in unetlab (its traceback shown)
BUG_STATUS = 1

#: the exit statuses of a launched process that said why in its one line: the user's problem
#: (2), some inputs failed (3), its folder in use (75); each becomes 0 for torchrun
SAID = (2, 3, IN_USE)


def noted_for_launch(code: int) -> int:
    """A launched process's exit status: 2 (the user's problem, said in its one line), 3
    (predict: the run went through, some inputs failed, each named), 75 (its folder in use
    by another unetlab process, said in its one line: :data:`~unetlab.errors.IN_USE`) and
    128 + a stop signal (the run stopped as asked, said in its one line) are noted for
    :func:`launch` and become 0; a bug's 1 (its traceback shown) is noted and stays;
    anything else stays. 0 is noted too: :func:`launch` then knows that every process
    ended its command."""
    path = os.environ.get(STATUS_FILE)
    if not path:
        return code
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        # its rank: the main process (0) alone says a stop (:func:`launch`); suppressed: the
        # launcher gone (killed), its folder with it
        f.write(f"{code} {os.environ.get('RANK', '0')}\n")
    return 0 if code in SAID or stop_signal(code) else code


#: seconds a stopped launch's main process waits at most for its other processes to end before
#: it counts the inputs done (:func:`others_ended`): each finishes the output it was writing.
#: Well under torchrun's own 30 s between its SIGTERM to the processes left and its SIGKILL
#: (one process failed: killed, out of memory), which cut the count line off (s64 review)
OTHERS_WAIT = 20.0


def others_ended(
    wait: float = OTHERS_WAIT,
    *,
    say: Callable[[float], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
    poll: float = 0.05,
    left_out: Collection[str] = (),
) -> bool:
    """Whether the other processes of this process's launch (:func:`launch`) ended within
    ``wait`` seconds: a stopped ``predict --nproc N``'s main process counts the inputs done
    once they did (s64: it said "1 of 4 done" with 2 on disk, another process's output
    written as it stopped, after the count). Ended: each noted its end
    (:func:`noted_for_launch`), or none noted as it started (:func:`stop_with_launch`) runs
    any longer: one killed (SIGKILL, out of memory) notes nothing, and held the count back
    the whole wait (s64 review). ``say(wait)`` once as the wait begins, where it does;
    a second stop (a KeyboardInterrupt, or ``stopped()`` true) cuts it short (False), as
    its end does; True at once outside a launch (torchrun by hand: nothing noted to wait
    for) and in a launch of one process. Without /proc (macOS) a noted process that
    exists is taken as running (:func:`_running`): one given its pid since is waited for
    too, up to ``wait``. Those whose rank is ``left_out`` are not waited for (one
    :func:`lost_peer` waited for in vain: s67, 2 s then 20 s more for the same process)."""
    running = partial(_others_running, left_out)
    if not one_of_several() or not running():
        return True
    if say is not None:
        say(wait)
    try:
        return _waited(running, time.monotonic() + wait, poll, stopped)
    except KeyboardInterrupt:  # a second stop: counted as it stands
        return False


def one_of_several() -> bool:
    """Whether this process is one of a launch (:func:`launch`) of two or more processes."""
    return bool(os.environ.get(STATUS_FILE)) and int(os.environ.get("WORLD_SIZE", "1")) >= 2


def _others_running(left_out: Collection[str] = ()) -> bool:
    """Whether another process of this process's launch (:func:`one_of_several`), none
    whose rank is ``left_out``, may still write an output (:func:`_still_running`)."""
    status, world = os.environ[STATUS_FILE], int(os.environ.get("WORLD_SIZE", "1"))
    return bool(_still_running(status, world, {os.environ.get("RANK", "0"), *left_out}))


def first_to_say(line: str) -> bool:
    """Whether this process is the first of its launch (:func:`launch`) to print ``line``, an
    error's one line: each process of ``--nproc N`` meets the same bad input and said it N
    times; a line that only some processes meet (one with no GPU of its own) is still said,
    once. True outside such a launch (torchrun started by hand: each process says it)."""
    path = os.environ.get(STATUS_FILE)
    if not path:
        return True
    said = f"{path}.{hashlib.sha256(line.encode()).hexdigest()[:16]}"  # the launch's folder
    try:
        os.close(os.open(said, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    except OSError:  # the folder gone: better twice than never
        return True
    return True


def once_a_launch() -> None:
    """In a process of a launch (:func:`launch`), a line said once a command
    (:func:`~unetlab.data.read_notes.note_once`) is said by the first process to say it,
    not by each: a setup's ("in/: 1 mask(s) beside their images ... are not predicted", a
    sub-folder not read) were said once per process (s49 nprocedge 3). Those of the files
    a process predicts are handed to the main one (:mod:`unetlab.inference.handed_lines`),
    which says them through the same filter. Outside a launch nothing changes; called again
    (a second command in the process), the filter is not added twice."""
    if os.environ.get(STATUS_FILE):
        for handler in logging.getLogger().handlers:
            handler.addFilter(_ONCE_A_LAUNCH)  # logging adds one filter object once


def stop_with_launch() -> None:
    """In a process of a launch (:func:`launch`), on Linux: SIGTERM to it should torchrun,
    which started it, die without a word (SIGKILL, out of memory). It then stops as a
    stopped launch does (training: at the next step, last.pt saved), where it went on as an
    orphan to the run's end while the launcher said the group had ended and named the
    resume (s51 walkcluster); its pid noted for the launcher to wait for (:func:`_outlived`).
    torchrun starts its processes from its main thread, which
    lives as long as it does (Linux signals when the thread that started it ends). Asked only
    once torch is loaded (seconds): torchrun dead before then (this process's parent no
    longer the one torchrun recorded, :func:`parent_gone`) stops it the same way, at once."""
    if not (status := os.environ.get(STATUS_FILE)):
        return
    with contextlib.suppress(OSError), open(f"{status}.pids", "a", encoding="utf-8") as f:
        # for the launcher to wait for, torchrun gone (_outlived); its start time: its own
        f.write(_pid_note(os.getpid()))
    if ask := _stopped_with_parent():
        ask()
    if parent_gone(os.environ.get(TORCHRUN_PID_ENV), os.getppid(), PARENT_AT_START):
        signal.raise_signal(signal.SIGTERM)  # the signal Linux would have sent


def parent_gone(recorded: str | None, parent: int, first: int) -> bool:
    """Whether a process of a launch whose parent is now ``parent`` lost torchrun, its parent
    when it started: the pid torchrun noted (``recorded``, :data:`TORCHRUN_PID_ENV`), else
    ``first``, its parent as unetlab began to load
    (:data:`~unetlab.signals.PARENT_AT_START`). An orphan is given to init (1) or to the
    nearest subreaper (``PR_SET_CHILD_SUBREAPER``: a container's init such as tini, systemd's
    user manager), any other process: its parent changed, whichever it is."""
    started = int(recorded) if recorded and recorded.isdigit() else first
    return parent != started


class _OnceALaunch(logging.Filter):
    """Passes a record said once a command (its ``once`` key) only in the first process of
    the launch to say it (:func:`first_to_say`), any other record as it is. The verdict is
    the record's, kept on it: every handler says it or none (each handler asked anew, and
    only the first was the first to say it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        once = getattr(record, "once", None)
        if once is None:
            return True
        if not hasattr(record, "first_to_say"):
            record.first_to_say = first_to_say(f"said once: {once}")
        return record.first_to_say


_ONCE_A_LAUNCH = _OnceALaunch()


def _notes(path: str) -> list[tuple[int, str]]:
    """The statuses noted in ``path`` by :func:`noted_for_launch`, in order, each with the
    rank of the process that noted it ("" where none is written)."""
    with contextlib.suppress(FileNotFoundError), open(path, encoding="utf-8") as f:
        noted = [line.split() for line in f if line.strip()]
        return [(int(words[0]), " ".join(words[1:])) for words in noted]
    return []
