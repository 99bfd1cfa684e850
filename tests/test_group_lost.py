"""A data-parallel run one of whose processes was killed is not called a bug in unetlab: one
line says where its last checkpoint is and how to resume (audit s30 ops 2)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import unetlab.train
import unetlab.train.resume
from unetlab.cli import main
from unetlab.data.synthetic import write_synthetic_dataset
from unetlab.distributed import peer_lost, peer_silent

from .test_launch_signals import _noted_process
from .test_train_safety import a_checkpoint

# two gloo processes; the second ends (as kill -9 would end it), the first prints what its
# next collective raises
PEER = """
import os, sys, time, torch, torch.distributed as dist
from unetlab.distributed import peer_lost
rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method="file://" + sys.argv[2], rank=rank, world_size=2)
t = torch.ones(2)
dist.all_reduce(t)
if rank == 1:
    os._exit(9)
time.sleep(0.3)
try:
    dist.all_reduce(t)
except Exception as exc:
    print(type(exc).__name__, peer_lost(exc))
"""


def test_a_dead_gloo_peer_is_recognised(tmp_path):
    script = tmp_path / "peer.py"
    script.write_text(PEER)
    store = str(tmp_path / "store")
    # a bare environment, but the unetlab this test imports (an install through PYTHONPATH, a
    # checkout's src/) is the one the processes import
    here = str(Path(unetlab.train.__file__).parents[2])
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": here}
    other = subprocess.Popen([sys.executable, str(script), "1", store], env=env)
    first = subprocess.run(
        [sys.executable, str(script), "0", store],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    other.wait(timeout=60)
    assert first.stdout.split() == ["RuntimeError", "True"], first.stderr


TIMEOUT = "[/pytorch/third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting 1800000ms for recv operation to complete"  # noqa: E501


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("shapes cannot be multiplied (4x3 and 5x2)"),
        RuntimeError("Connection closed by peer"),  # not gloo's
        ValueError("[third_party/gloo/gloo/transport/tcp/pair.cc:553] closed by peer"),
        # a desync (one process skipped a collective) ends in a timeout; a wrong collective
        # in NCCL's invalid usage: bugs, whose traceback is kept (review s30 finding 4)
        RuntimeError(TIMEOUT),
        torch.distributed.DistBackendError("NCCL error: invalid usage (run with NCCL_DEBUG=WARN)"),
        torch.distributed.DistBackendError("NCCL communicator was aborted on rank 0"),
    ],
)
def test_other_errors_are_no_lost_peer(exc):
    assert not peer_lost(exc)


@pytest.mark.parametrize(
    "exc",
    [
        torch.distributed.DistNetworkError("failed to recv, got 0 bytes"),
        torch.distributed.DistBackendError(
            "NCCL error: remote process exited or there was a network error"
        ),
        RuntimeError("[gloo/transport/tcp/pair.cc:598] Connection reset by peer"),
        RuntimeError("[gloo/transport/tcp/pair.cc:543] Write error: Broken pipe"),
    ],
)
def test_a_lost_connection_is_a_lost_peer(exc):
    assert peer_lost(exc) and not peer_silent(exc)


@pytest.mark.parametrize(
    ("exc", "silent"),
    [
        (RuntimeError(TIMEOUT), True),
        (torch.distributed.DistBackendError("NCCL communicator was aborted on rank 0"), True),
        (torch.distributed.DistBackendError("NCCL error: invalid usage"), False),
        (RuntimeError("timed out reading the file"), False),  # not the group's
    ],
)
def test_a_timeout_of_the_group_may_be_either(exc, silent):
    assert peer_silent(exc) == silent


GLOO = (
    "[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed by peer "
    "[127.0.0.1]:13723. This is typically caused by a remote worker crashing."
)


@pytest.fixture
def in_a_group(tmp_path, monkeypatch):
    """The argv of a train command run as rank 0 of 2, its fit raising ``raised[0]``."""
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    raised = [RuntimeError(GLOO)]

    def fit(*args, **kwargs):
        raise raised[0]

    monkeypatch.setattr(unetlab.train, "fit", fit)
    run = tmp_path / "runs" / "dp"
    argv = ["train", "--data", str(root), "--run-dir", str(run), "--no-plan"]
    return argv, run, raised


def test_the_cli_says_where_the_run_is_and_how_to_resume(in_a_group, monkeypatch, capsys):
    argv, run, _ = in_a_group
    a_checkpoint(run / "checkpoints" / "last.pt")
    state = {"train_state": {"step": 16, "epoch": 2, "batch": 0}}
    monkeypatch.setattr(unetlab.train.resume, "load_checkpoint", lambda path, **how: state)
    assert main([*argv, "--overwrite"]) == 2  # (fit, faked, would start it again)
    err = capsys.readouterr().err
    assert "bug" not in err and "Traceback" not in err
    assert "a process of the 2-process group ended" in err
    assert "(step 16, the end of epoch 2)" in err
    assert f"unetlab train --run-dir {run} --resume --nproc 2" in err


def _rank_1_ended(tmp_path, monkeypatch, noted: str, ranks: int = 1) -> None:
    """This test process as rank 0 of a launch whose rank 1 (and those up to ``ranks``)
    ended, its status ``noted``."""
    import unetlab.distributed as distributed

    status = tmp_path / "status"
    monkeypatch.setenv(distributed.STATUS_FILE, str(status))
    pids = ""
    for rank in range(1, ranks + 1):
        gone = subprocess.Popen([sys.executable, "-c", ""])
        gone.wait()
        pids += f"{gone.pid} - {rank}\n"  # that rank, ended
    status.with_name("status.pids").write_text(pids)
    status.write_text(noted)
    for name in ("stop_with_launch", "once_a_launch"):  # not this test process's
        monkeypatch.setattr(distributed, name, lambda: None)


@pytest.mark.parametrize(
    ("noted", "said"),
    [
        ("", "process 1 of 2 ended (killed? out of memory?) before a checkpoint was saved: "),
        (
            "2 1\n",
            "process 1 of 2 ended on an error (its line above) before a checkpoint was saved: "
            "fix the error above, then ",
        ),
        (
            "1 1\n",
            "process 1 of 2 ended on a bug (its traceback above) before a checkpoint was "
            "saved: report or fix the bug above, then ",
        ),
    ],
    ids=["killed", "erred", "bug"],
)
def test_a_lost_process_of_a_launch_is_named_as_predict_names_it(
    in_a_group, tmp_path, monkeypatch, capsys, noted, said
):
    """s67: ``train --nproc 2`` whose rank 1 was killed said "a process of the 2-process
    group ended", where predict names it and how it ended: one rule (lost_peer) for both;
    one that ended on its error is fixed first (s67 review: "start the run again with the
    same command", as if nothing were wrong), a bug (status 1: its traceback) reported or
    fixed: no input of the user's to fix (s68)."""
    argv, _, _ = in_a_group
    _rank_1_ended(tmp_path, monkeypatch, noted)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"unetlab train: error: {said}start the run again with the same command" in err, err
    assert "Traceback (most recent" not in err and "bug in unetlab" not in err


@pytest.mark.parametrize(
    ("noted", "fix"), [("2 1\n", "fix the error"), ("1 1\n", "report or fix the bug")]
)
def test_a_lost_process_that_erred_is_fixed_before_the_run_is_resumed(
    in_a_group, tmp_path, monkeypatch, capsys, noted, fix
):
    """s67 review: after rank 1's error, the line said to continue as if nothing were
    wrong; the error is fixed first, as predict says no command then; a bug's (status 1,
    its traceback) reported or fixed, the user's problem's (status 2) fixed (s68)."""
    argv, run, _ = in_a_group
    a_checkpoint(run / "checkpoints" / "last.pt")
    state = {"train_state": {"step": 16, "epoch": 2, "batch": 0}}
    monkeypatch.setattr(unetlab.train.resume, "load_checkpoint", lambda path, **how: state)
    _rank_1_ended(tmp_path, monkeypatch, noted)
    assert main([*argv, "--overwrite"]) == 2
    err = capsys.readouterr().err
    said = f"(step 16, the end of epoch 2); {fix} above, then continue with: unetlab"
    assert said in err, err


@pytest.mark.parametrize(
    ("noted", "said"),
    [
        ("", "process 1 of 2 ended (killed? out of memory?): "),
        ("2 1\n", "process 1 of 2 ended on an error (its line on stderr): "),
        ("1 1\n", "process 1 of 2 ended on a bug (its traceback on stderr): "),
    ],
    ids=["killed", "erred", "bug"],
)
def test_train_log_names_the_lost_process_as_the_command_does_waiting_once(
    tmp_path, monkeypatch, noted, said
):
    """s67 review: train.log's last line said "a process of the group ended (killed? out of
    memory?)" where stderr named process 1 and how it ended (14 of 14 runs); named through
    the same lost_peer, kept on the exception: the command's line does not wait again."""
    import unetlab.distributed as distributed
    from unetlab.train.resume import ending_line

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    _rank_1_ended(tmp_path, monkeypatch, noted)
    exc = RuntimeError(GLOO)
    line = ending_line(exc, tmp_path)
    fix = {"": "", "2 1\n": "fix that error, then "}.get(noted, "report or fix that bug, then ")
    assert f"stopped by an error: {said}" in line, line
    assert line.endswith(f"no checkpoint was saved: {fix}start the run again"), line
    monkeypatch.setattr(distributed, "_lost_peer", lambda wait: pytest.fail("waited again"))
    assert distributed.lost_peer_kept(exc).said("on stderr") in line


@pytest.mark.parametrize("peer", ["killed", "erred", "running", "passed-on"])
def test_torchruns_sigterm_after_a_lost_process_is_no_stop_line(
    tmp_path, monkeypatch, caplog, peer
):
    """s70: rank 1 killed (or ended on its error), torchrun's SIGTERM to rank 0 was often
    logged "SIGTERM: stopping after this step" just before the lost process's line: it
    stops the run unsaid, that line says it. A SIGTERM whose peers run (a scheduler's, a
    kill of rank 0), or one a launcher passed on (its note), is said as before."""
    import logging

    import unetlab.distributed as distributed
    from unetlab.signals import stop_note
    from unetlab.train.stop import StopRequest

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    _rank_1_ended(tmp_path, monkeypatch, "2 1\n" if peer == "erred" else "")
    status = tmp_path / "status"
    if peer == "passed-on":
        Path(stop_note(str(status))).touch()  # as the launcher does before it passes one on
    with contextlib.ExitStack() as alive:
        if peer == "running":
            status.with_name("status.pids").write_text("")
            alive.enter_context(_noted_process(status, "1"))
        with caplog.at_level(logging.INFO, logger="unetlab"), StopRequest(at_once=False) as stop:
            signal.raise_signal(signal.SIGTERM)
        assert distributed.stop_follows_lost_peer() is (peer in ("killed", "erred"))
    assert stop() and stop.signum == signal.SIGTERM  # the run stops at the step's end
    said = "SIGTERM: stopping after this step" in caplog.text
    assert said is (peer in ("running", "passed-on")), caplog.text


def test_one_lost_on_an_error_and_another_on_a_bug_are_both_fixed(tmp_path, monkeypatch):
    """s70: of 3, rank 1 ended on the user's error (status 2) and rank 2 on a bug (1): the
    line named both ends but said only "report or fix the bug above", the error to fix
    unsaid. Both are said, in train.log's words too."""
    import unetlab.distributed as distributed
    from unetlab.train.resume import ending_line

    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    _rank_1_ended(tmp_path, monkeypatch, "2 1\n1 2\n", ranks=2)
    exc = RuntimeError(GLOO)
    lost = distributed.lost_peer_kept(exc)
    assert lost.said() == (
        "process 1 of 3 ended on an error (its line above) and process 2 of 3 ended on a bug "
        "(its traceback above)"
    )
    assert lost.fix() == "fix the error above and report or fix the bug above, then "
    line = ending_line(exc, tmp_path)
    assert line.endswith("fix that error and report or fix that bug, then start the run again")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_as_a_lost_process_is_waited_for_is_no_stop_line(
    in_a_group, tmp_path, monkeypatch, capsys, signum
):
    """s67 review: train's wait for the lost process (lost_peer, up to 2 s) came before the
    stop was under way: torchrun's SIGTERM to the processes left then escaped as a bare
    "stopped by SIGTERM", as predict's does not; a Ctrl-C passed on then is dropped too
    (s68: the launcher's side, test_a_stop_as_the_main_process_waits_for_a_lost_one_is_one_line)."""
    import unetlab.distributed as distributed

    argv, _, _ = in_a_group
    _rank_1_ended(tmp_path, monkeypatch, "")
    found = distributed._lost_peer

    def stopped_as_it_waits(wait):
        signal.raise_signal(signum)  # torchrun's SIGTERM to those left, a Ctrl-C passed on
        return found(wait)

    monkeypatch.setattr(distributed, "_lost_peer", stopped_as_it_waits)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unetlab train: error: process 1 of 2 ended (killed? out of memory?)" in err, err
    assert "SIGTERM" not in err and "interrupted" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_a_group_lost_before_a_checkpoint_says_start_again(in_a_group, capsys):
    argv, _, _ = in_a_group
    assert main(argv) == 2
    assert "before a checkpoint was saved" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bug",
    [
        RuntimeError("shapes cannot be multiplied (4x3 and 5x2)"),
        torch.distributed.DistBackendError("NCCL error: invalid usage"),
    ],
)
def test_a_bug_in_a_group_keeps_its_traceback(in_a_group, capsys, bug):
    argv, _, raised = in_a_group
    raised[0] = bug
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "this is a bug in unetlab" in err
    assert "group ended" not in err


def test_a_timeout_in_a_group_says_both_and_keeps_its_traceback(in_a_group, capsys):
    argv, run, raised = in_a_group
    raised[0] = RuntimeError(TIMEOUT)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "Timed out waiting" in err
    assert "may have ended (killed? out of memory?), or a bug left it waiting" in err
    assert "before a checkpoint was saved" in err


@pytest.mark.parametrize(
    ("notes", "said"), [("", True), ("143\n", True), ("1\n", False), ("2\n", False)]
)
def test_a_failed_launch_says_how_to_go_on_unless_a_process_said_why(monkeypatch, notes, said):
    """A process killed (torchrun's report, or the others stopped by torchrun: 143): the
    launcher says how to resume; a bug (1, its traceback) or the user's problem (2, its
    line) said it already."""
    import unetlab.distributed as distributed

    def torchrun(command, *, env, grace):
        with open(env[distributed.STATUS_FILE], "w") as f:
            f.write(notes)
        return 1, ()

    monkeypatch.setattr(distributed, "run_passing_signals", torchrun)
    calls = []
    assert distributed.launch(2, ["train"], failed=calls.append) == 1
    assert calls == ([None] if said else [])  # None: no process outlived torchrun


def test_a_launch_whose_torchrun_ended_speaks_once_its_main_process_saved(
    tmp_path, monkeypatch, capsys
):
    """s51 walkcluster: torchrun killed, the launcher said at once "the run is saved in
    last.pt (step 4)" while its processes, given SIGTERM, went on to save step 5."""
    import threading

    from unetlab.cli.train import _launch_failed
    from unetlab.outputs import FolderLock

    saved = ["step 4, the end of epoch 1"]
    monkeypatch.setattr(unetlab.train.resume, "saved_at", lambda run_dir: saved[-1])
    lock = FolderLock(tmp_path).__enter__()  # the run's main process, saving as it stops

    def saves_and_ends():
        saved.append("step 5, epoch 2, batch 1")
        lock.__exit__(None, None, None)

    threading.Timer(0.2, saves_and_ends).start()
    _launch_failed(tmp_path, 2, wait=30)
    waiting, line = capsys.readouterr().err.splitlines()
    assert waiting.startswith("unetlab train: torchrun ended (killed? out of memory?) while the ")
    assert waiting.endswith(": waiting for them to save and end (at most 30 s)")
    assert "(step 5, epoch 2, batch 1); continue with: " in line
    _launch_failed(tmp_path, 2, wait=30)  # none running: at once, a process of it ended
    assert "unetlab train: a process of the 2-process group ended" in capsys.readouterr().err


@pytest.mark.parametrize("saved", ["step 4, the end of epoch 1", None], ids=["saved", "unsaved"])
def test_a_launch_whose_main_process_holds_on_past_the_wait_names_it(
    tmp_path, monkeypatch, capsys, saved
):
    """s52 fix1: the wait's end was not heeded: with the main process still holding the run
    folder (saving, or stuck), the launcher said "start the run again" or a step it may
    change yet, as if it had ended; it names the process and the command once it has."""
    import os

    from unetlab.cli.train import _launch_failed
    from unetlab.outputs import FolderLock

    monkeypatch.setattr(unetlab.train.resume, "saved_at", lambda run_dir: saved)
    with FolderLock(tmp_path):  # the run's main process, holding on
        _launch_failed(tmp_path, 2, wait=0.2)
    line = capsys.readouterr().err.splitlines()[-1]
    assert f"; its main process (pid {os.getpid()} on " in line
    assert f"still holds {tmp_path} after 0.2 s" in line
    assert "once it has ended (end it if it hangs), continue with: unetlab train " in line
    assert f"--run-dir {tmp_path} --resume --nproc 2" in line
    assert "step 4" not in line
    assert ("start the run again" in line) == (saved is None), line


#: a launch's two processes, which outlive their torchrun (killed): they stop (as SIGTERM
#: asks), note it for the launcher and end half a second later
_OUTLIVING = "import sys, time; time.sleep(0.5); open(sys.argv[1], 'a').write('143\\n143\\n')"


def test_a_launch_whose_torchrun_was_killed_waits_for_its_processes_and_ends_as_they_did(
    monkeypatch, capfd
):
    """s52: torchrun killed (137), its processes went on to stop as SIGTERM asks and said
    their stop line, "continue with" in it; the launcher did not wait for them: it said
    "continue with" again, or counted a prediction's outputs too early, and exited 137."""
    import unetlab.distributed as distributed

    def killed(command, *, env, grace):
        status = env[distributed.STATUS_FILE]
        process = subprocess.Popen([sys.executable, "-c", _OUTLIVING, status])
        with open(f"{status}.pids", "w") as f:
            f.write(f"{process.pid}\n")  # as each process notes itself (stop_with_launch)
        return 137, ()  # torchrun killed

    monkeypatch.setattr(distributed, "run_passing_signals", killed)
    calls = []
    failed = lambda *outlived: calls.append(outlived)  # noqa: E731
    assert distributed.launch(2, ["train"], failed=failed, grace=60) == 143
    assert calls == []  # they said it
    assert capfd.readouterr().err == (
        "unetlab train: torchrun ended (killed? out of memory?) while the 2 processes ran: "
        "waiting for them to stop and end (at most 60 s)\n"
    )


def test_a_run_folder_let_go_as_the_launcher_names_its_holder_is_said_let_go(
    tmp_path, monkeypatch, capsys
):
    """s52: the lock let go between the wait's end and the read of its holder: the line
    would have named "pid unknown" as the process holding the run folder."""
    import unetlab.outputs
    from unetlab.cli.train import _launch_failed

    monkeypatch.setattr(unetlab.train.resume, "saved_at", lambda run_dir: "step 5")
    monkeypatch.setattr(unetlab.outputs, "held_by_another", lambda folder: True)
    monkeypatch.setattr(unetlab.outputs, "wait_let_go", lambda folder, wait: False)
    _launch_failed(tmp_path, 2, wait=0.2)  # the lock file gone as the wait ended
    line = capsys.readouterr().err.splitlines()[-1]
    assert "unknown" not in line and "still holds" not in line, line
    assert line.startswith("unetlab train: torchrun ended (killed? out of memory?) while the 2 ")
    assert "; the run is saved in " in line and "(step 5); continue with: " in line


def _noting(command: list[str], *, started: str | None = "own", code: int = 137):
    """A torchrun (for ``run_passing_signals``) that ends with ``code`` and leaves
    ``command`` running, noted as a process of the launch with its start time (``started``:
    "own" its own; a pid reused since by another process has another)."""
    import unetlab.distributed as distributed

    processes = []

    def torchrun(_command, *, env, grace):
        processes.append(process := subprocess.Popen(command))
        stat = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
        when = stat[19] if started == "own" else started  # field 22: its start time
        with open(f"{env[distributed.STATUS_FILE]}.pids", "w") as f:
            f.write(f"{process.pid} {when or ''}\n")
        return code, ()

    return torchrun, processes


@pytest.mark.parametrize("passed", [False, True], ids=["first", "again"])
def test_a_signal_as_the_launcher_waits_for_its_processes_kills_them(monkeypatch, capfd, passed):
    """s53 reviewA: a Ctrl-C while the launcher waited for the processes of a killed
    torchrun raised out of its wait: a bare "interrupted", the processes not signalled (they
    said a second stop line after the launcher's exit), the launch's folder deleted. s54:
    "interrupted again" was said for the first Ctrl-C where torchrun had died by itself.
    s59 sig9: a second one is said as while torchrun lived, in the launch's one line."""
    import types

    import unetlab.distributed as distributed

    torchrun, processes = _noting(["sleep", "30"], started=None, code=130 if passed else 137)

    def stopped_first(command, *, env, grace):  # a Ctrl-C passed on before it ended
        code, _ = torchrun(command, env=env, grace=grace)
        return code, (signal.SIGINT,) if passed else ()

    monkeypatch.setattr(distributed, "run_passing_signals", stopped_first)

    def ctrl_c(_seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(
        distributed, "time", types.SimpleNamespace(monotonic=time.monotonic, sleep=ctrl_c)
    )
    stopped = lambda how, status: f"unetlab predict: {how} with the outputs of 1 of 2 inputs"  # noqa: E731
    assert distributed.launch(2, ["predict"], stopped=stopped, grace=60) == 130
    assert processes[0].wait(timeout=10) == -signal.SIGKILL
    killed_by = "a second Ctrl-C" if passed else "Ctrl-C"  # s59: the first said in two lines
    assert capfd.readouterr().err.splitlines()[1:] == [
        f"unetlab predict: killed by {killed_by} with the outputs of 1 of 2 inputs"
    ]


#: a launch from Python whose torchrun was killed (137), one process left running, noted
_KILLED_TORCHRUN = """import subprocess, sys
import unetlab.distributed as distributed

def killed(command, *, env, grace):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(env[distributed.STATUS_FILE] + ".pids", "w") as f:
        f.write(f"{process.pid}\\n")
    print(process.pid, flush=True)
    return 137, ()

distributed.run_passing_signals = killed
sys.exit(distributed.launch(2, ["train"], grace=60))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc lists the processes")
def test_a_sigterm_as_a_launch_from_python_waits_for_its_processes_stops_it(tmp_path):
    """s54: called from Python (no CLI's handlers), a SIGTERM while the launcher waited for
    the processes of a killed torchrun took Python's default action: the launcher ended at
    once without a word (status -15), its processes left running."""
    env = dict(os.environ, PYTHONPATH=str(Path(unetlab.__file__).parents[1]))
    err = tmp_path / "err"
    with open(err, "w") as stderr:
        run = subprocess.Popen(
            [sys.executable, "-c", _KILLED_TORCHRUN],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        left = int(run.stdout.readline())
        deadline = time.monotonic() + 60
        while "waiting for them" not in err.read_text():
            assert run.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 143, err.read_text()
    finally:
        run.kill()
    assert err.read_text().splitlines()[1:] == ["unetlab train: killed by SIGTERM"]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{left}").exists() and "Z" not in _state(left):  # killed: gone or a zombie
        assert time.monotonic() < deadline, f"process {left} left running"
        time.sleep(0.05)


def _state(pid: int) -> str:
    """Process ``pid``'s state letter (/proc stat field 3), "" once gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return ""


@pytest.mark.parametrize("started,code", [("1", 137), (None, 0)], ids=["reused", "clean"])
def test_a_launch_does_not_wait_for_a_pid_another_process_took(monkeypatch, capfd, started, code):
    """s53 reviewA: a pid noted by a process of the launch, reused since by another process,
    was waited for (up to 300 s), after a clean launch too."""
    import unetlab.distributed as distributed

    torchrun, processes = _noting(["sleep", "30"], started=started, code=code)
    monkeypatch.setattr(distributed, "run_passing_signals", torchrun)
    try:
        distributed.launch(2, ["predict"], grace=2)
        assert processes[0].poll() is None  # still running, not waited for
    finally:
        processes[0].kill()
    assert "waiting for them" not in capfd.readouterr().err


def test_a_bugs_status_wins_over_a_stop_noted_first(monkeypatch):
    """s53 reviewA: one process stopped (143), another ended by a bug (1, its traceback): the
    launch's status was whichever noted first."""
    import unetlab.distributed as distributed

    for notes in ("143\n1\n", "1\n143\n"):

        def killed(command, *, env, grace, notes=notes):
            Path(env[distributed.STATUS_FILE]).write_text(notes)
            return 137, ()  # torchrun killed

        monkeypatch.setattr(distributed, "run_passing_signals", killed)
        assert distributed.launch(2, ["train"], grace=1) == 1, notes
    from unetlab.distributed import launch_status

    assert launch_status([143, 1]) == launch_status([1, 143]) == 1
    assert launch_status([143, 0]) == launch_status([0, 143]) == 143
    assert launch_status([2, 143]) == 2  # each said in its line: the first
    assert launch_status([0, 0]) == launch_status([]) == 0


@pytest.mark.parametrize("saved", [None, "step 16, the end of epoch 2"], ids=["unsaved", "saved"])
def test_a_stopped_train_launch_names_the_run_and_how_to_go_on(
    tmp_path, monkeypatch, capsys, saved
):
    """s54: train --nproc stopped before its main process said its line (a signal as the
    launcher waited for a dead torchrun's processes) said "unetlab train: stopped by
    SIGTERM" alone, without the run folder and the command that resumes it (predict's
    launch says its own)."""
    import unetlab.distributed as distributed

    monkeypatch.setattr(
        distributed, "run_passing_signals", lambda command, *, env, grace: (143, (signal.SIGTERM,))
    )
    monkeypatch.setattr(unetlab.train.resume, "saved_at", lambda run_dir: saved)
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    run = tmp_path / "runs" / "dp"
    argv = ["train", "--data", str(root), "--run-dir", str(run), "--no-plan", "--nproc", "2"]
    assert main(argv) == 143
    last = run / "checkpoints" / "last.pt"
    if saved is None:
        assert capsys.readouterr().err.splitlines()[-1] == (
            f"unetlab train: stopped by SIGTERM before {last} was saved: start the run again "
            "with the same command"
        )
    else:
        said = capsys.readouterr().err.splitlines()[-2:]
        assert said[0] == f"unetlab train: stopped by SIGTERM; saved {last}"
        assert said[1].startswith("continue with: unetlab train ")
        assert said[1].endswith(f"--run-dir {run} --resume --nproc 2")


@pytest.mark.parametrize("bug", [False, True], ids=["killed", "bug"])
@pytest.mark.parametrize("signum", [None, signal.SIGINT, signal.SIGTERM])
def test_a_stop_as_the_main_process_waits_for_a_lost_one_is_one_line(
    monkeypatch, capfd, signum, bug
):
    """s67 review: a Ctrl-C during train's 2 s wait for a lost process printed two lines in
    1 of 6 runs. The launcher passes it on to the processes; the main one, waiting, drops it
    (its stop under way: :func:`~unetlab.distributed.lost_peer`), says its own line and
    notes status 2; torchrun then ends on the failed process (1), which the stop passed on
    makes 130, and the launcher said "interrupted" after that line, as though the main
    process had said none. s69: the launch then exited 130 where its one line is the main
    process's error; s69 review: 2 once that was fixed, and 1 where no stop came. It exits
    1, torchrun's status without the stop (None), whether the lost process was killed or
    ended on a bug: of 3 (rank 1's bug noted, rank 2 killed), not every process noted its
    end. The stop passed on as the main process waits (a faked torchrun; the main
    process's side: test_a_stop_as_a_lost_process_is_waited_for_is_no_stop_line)."""
    import unetlab.distributed as distributed

    said = "unetlab train: error: process 1 of 3 ended (killed? out of memory?)"

    def waits_for_the_lost_one(command, *, env, grace):
        status = env[distributed.STATUS_FILE]
        monkeypatch.setenv(distributed.STATUS_FILE, status)
        if bug:
            monkeypatch.setenv("RANK", "1")
            distributed.noted_for_launch(1)  # rank 1's bug, its traceback said
        monkeypatch.setenv("RANK", "0")
        distributed._note_lost(status)  # as lost_peer notes it, waiting
        print(said)
        distributed.noted_for_launch(2)  # rank 0's status, its line said
        if signum is None:
            return 1, ()  # torchrun's, a process killed or a bug's
        return 128 + signum, (signum,)  # torchrun's 1, once the stop was passed on to rank 0

    monkeypatch.setattr(distributed, "run_passing_signals", waits_for_the_lost_one)
    assert distributed.launch(3, ["train"]) == 1
    out, err = capfd.readouterr()
    assert out.splitlines() == [said]
    assert err == "", err


def test_a_stop_after_the_main_process_ended_on_its_own_error_is_said(monkeypatch, capfd):
    """s68 review: the launcher took any status the main process said in its line (2, 3, 75)
    for the launch's end, not only one it ended with on losing another process: predict's
    main process ended on its own error (2) while process 1 went on with its share, a
    Ctrl-C, then a second that killed process 1, and the kill and the inputs done went
    unsaid."""
    import unetlab.distributed as distributed

    def main_erred_then_stopped(command, *, env, grace):
        status = env[distributed.STATUS_FILE]
        monkeypatch.setenv(distributed.STATUS_FILE, status)
        monkeypatch.setenv("RANK", "0")
        print("unetlab predict: error: out/: no space left on device")
        distributed.noted_for_launch(2)  # rank 0's own error: no process lost
        distributed._kill_launch(status, (signal.SIGINT, signal.SIGINT))  # process 1, busy
        return 130, (signal.SIGINT, signal.SIGINT)

    monkeypatch.setattr(distributed, "run_passing_signals", main_erred_then_stopped)
    counted = lambda how, status: f"unetlab predict: {how}; 7 of 18 inputs done"  # noqa: E731
    assert distributed.launch(2, ["predict"], stopped=counted) == 130
    err = capfd.readouterr().err
    assert "unetlab predict: killed by a second Ctrl-C; 7 of 18 inputs done" in err, err


def test_a_lost_process_that_ended_since_the_first_look_is_named_ended(
    in_a_group, tmp_path, monkeypatch, capsys
):
    """s67 noticed: of 2, rank 1 still running as the wait for it ended ("the connection to
    process 1 of 2 was lost"), killed before the line was said: predict's second look
    (lost_once_ended) kept the first look's words, for 3 or more it named the process
    ended. The line says what a look as it is said finds, in train as in predict
    (test_peer_stops: test_a_peer_that_ended_after_the_first_look_is_named_ended)."""
    import unetlab.distributed as distributed

    argv, _, _ = in_a_group
    monkeypatch.setenv(distributed.STATUS_FILE, str(tmp_path / "status"))
    rank_1 = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (tmp_path / "status.pids").write_text(f"{rank_1.pid} - 1\n")  # rank 1, running
    for name in ("stop_with_launch", "once_a_launch"):  # not this test process's
        monkeypatch.setattr(distributed, name, lambda: None)
    found = distributed._lost_peer

    def killed_after_the_first_look(wait):
        lost = found(0)  # the wait for it ended, it still running
        rank_1.kill()
        rank_1.wait()
        return lost

    monkeypatch.setattr(distributed, "_lost_peer", killed_after_the_first_look)
    assert main(argv) == 2
    err = capsys.readouterr().err
    said = "unetlab train: error: process 1 of 2 ended (killed? out of memory?) before a "
    assert said in err and "connection" not in err, err


@pytest.mark.parametrize("noted", ["", "1 1\n"], ids=["killed", "bug"])
def test_train_log_and_the_command_say_one_look_at_a_lost_process(
    in_a_group, tmp_path, monkeypatch, capsys, noted
):
    """s68 review: train.log's line (ending_line, as the run's logs close) said the first
    look's words, the command's line a look of its own: rank 1 ending between them, train.log
    said "the connection to process 1 of 2 was lost ... start the run again", stderr
    "process 1 of 2 ended (killed? ...)" or, its bug noted, "report or fix"."""
    import unetlab.distributed as distributed
    from unetlab.train.resume import ending_line

    argv, run, _ = in_a_group
    status = tmp_path / "status"
    monkeypatch.setenv(distributed.STATUS_FILE, str(status))
    rank_1 = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (tmp_path / "status.pids").write_text(f"{rank_1.pid} - 1\n")  # rank 1, running
    for name in ("stop_with_launch", "once_a_launch"):  # not this test process's
        monkeypatch.setattr(distributed, name, lambda: None)
    found, logged = distributed._lost_peer, []
    monkeypatch.setattr(distributed, "_lost_peer", lambda wait: found(0))

    def fit(*args, **kwargs):  # as fit's logs say its error in train.log (_run_logs)
        exc = RuntimeError(GLOO)
        logged.append(ending_line(exc, run, 2))
        with open(status, "a") as file:
            file.write(noted)  # "1 1": rank 1's bug noted (its traceback), else killed
        rank_1.kill()  # ends after train.log's line, before the command's
        rank_1.wait()
        raise exc

    monkeypatch.setattr(unetlab.train, "fit", fit)
    assert main(argv) == 2
    err = capsys.readouterr().err
    lost = "the connection to process 1 of 2 was lost"
    assert lost in logged[0] and "report or fix" not in logged[0], logged[0]
    assert f"unetlab train: error: {lost}" in err, err
    assert "ended" not in err and "report or fix" not in err, err
