"""Fault injection: processes killed with SIGKILL at chosen and random points, a full disk.

``unetlab train`` killed inside a step, while writing a checkpoint, between writing and
renaming it, and at a random one of those, several times in a row, then ``--resume``: it
finishes with the same weights as an uninterrupted run (CPU). ``unetlab predict`` killed
mid-folder, then ``--skip-existing``: every output complete, no temporaries. A full disk
during predict and during a checkpoint write: one line naming the path, earlier outputs and
the previous checkpoint intact.

The kills come from a hook in the child process (this file's ``ARM``, set up before
``unetlab.cli.main`` runs: by ``python -c HOOK``, or in a child forked by one ``ZYGOTE`` that
holds torch imported), never from code in the package.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.checkpoint import load_checkpoint
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.outputs import LOCK, TEMPORARY

REPO = Path(__file__).resolve().parents[1]

#: Runs in the child before the CLI: arm(what, n) (HOOK: FAULT="what:n") SIGKILLs the process
#: at the n-th call of ``what``: "backward" (inside a training step, after the forward pass;
#: "SIGTERM" or "SIGHUP" sends that signal there instead of the SIGKILL), "save-partial"
#: (torch.save has written half the checkpoint's bytes), "save-rename" (the checkpoint is
#: written, not yet renamed), "png-partial" (half an output image written), "png-rename" (an
#: output image written, not yet renamed).
ARM = r"""
import os, signal, sys
sys.path.insert(0, os.environ["UNETLAB_SRC"])

def arm(what, n):
    calls = {"n": 0}

    def due():
        calls["n"] += 1
        return calls["n"] == int(n)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    import torch
    if what == "backward" or what.startswith("SIG"):
        backward = torch.Tensor.backward
        def killing_backward(self, *a, **k):
            if due():  # SIGKILL, or the signal named
                os.kill(os.getpid(), getattr(signal, what, signal.SIGKILL))
            return backward(self, *a, **k)
        torch.Tensor.backward = killing_backward
    elif what.startswith("save"):
        import io
        save = torch.save
        def killing_save(obj, f, *a, **k):
            if not due():
                return save(obj, f, *a, **k)
            if what == "save-partial":
                buf = io.BytesIO()
                save(obj, buf, *a, **k)
                with open(f, "wb") as out:
                    out.write(buf.getvalue()[: len(buf.getvalue()) // 2])
                    out.flush()
                    os.fsync(out.fileno())
            else:
                save(obj, f, *a, **k)
            die()
        torch.save = killing_save
    elif what == "png-partial":
        from PIL import Image
        save = Image.Image.save
        def killing_png_save(self, fp, *a, **k):
            if not due():
                return save(self, fp, *a, **k)
            save(self, fp, *a, **k)
            with open(fp, "r+b") as f:
                f.truncate(max(1, os.path.getsize(fp) // 2))
            die()
        Image.Image.save = killing_png_save
    elif what == "png-rename":
        import unetlab.atomic as atomic
        replace = os.replace
        class _Os:
            def __getattr__(self, name):
                return getattr(os, name)
            @staticmethod
            def replace(src, dst):
                if str(dst).endswith(".png") and due():
                    die()
                return replace(src, dst)
        atomic.os = _Os()
"""
HOOK = (
    ARM
    + r"""
arm(*os.environ.get("FAULT", "none:0").split(":"))
from unetlab.cli import main
sys.exit(main(sys.argv[1:]))
"""
)

#: ``ARM``, then a server of children: it imports torch and the modules train and predict use
#: once (~5 s of each child's ~15 s on a loaded 2-core machine), runs no torch op (no thread
#: pool to carry over a fork), and for each line {"argv", "fault", "err"} of its stdin forks
#: a child that arms the fault and runs ``unetlab ARGV`` as ``HOOK`` does, its stderr in the
#: file "err". It answers the child's pid, then its exit status as ``Popen.returncode`` says it.
#: A child inherits the server's import-time state, not its own: ``unetlab.signals.
#: PARENT_AT_START`` is the pid of pytest (the server's parent), not the server's. Only
#: ``--nproc`` launches read it (to see their parent gone); the tests that use children run none.
ZYGOTE = (
    ARM
    + r"""
import json
import torch._dynamo, unetlab.cli.predict, unetlab.cli.train, unetlab.plots, unetlab.train

def serve():
    for line in sys.stdin:
        job = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            return job
        print(pid, flush=True)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
    sys.exit(0)

job = serve()
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
os.dup2(os.open(job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
arm(*job["fault"].split(":"))
from unetlab.cli import main
sys.exit(main(job["argv"]))
"""
)


def _as_in_a_terminal() -> None:
    """Stop signals at their defaults in the child: a suite run in the background or under
    nohup hands it SIGINT and SIGHUP ignored (which unetlab rightly leaves ignored)."""
    for name in ("SIGINT", "SIGHUP", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def _run(argv: list[str], fault: str = "none:0"):
    """``unetlab ARGV`` in a child process with the fault hook; (exit status, stderr)."""
    env = {**os.environ, "FAULT": fault, "UNETLAB_SRC": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", HOOK, *argv],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_as_in_a_terminal,
    )
    _, err = child.communicate(timeout=300)
    return child.returncode, err


class _Children:
    """``unetlab ARGV`` in children forked by one ``ZYGOTE`` process: ``run`` answers as
    ``_run``, without a start of Python and torch each."""

    def __init__(self, scratch: Path):
        env = {**os.environ, "UNETLAB_SRC": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
        self.err = scratch / "stderr.txt"
        # not pytest's stderr: a server left running would hold a pipe that reads pytest open
        self.log = open(scratch / "server.txt", "wb")  # noqa: SIM115 (closed by close)
        self.server = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            preexec_fn=_as_in_a_terminal,
            start_new_session=True,  # its children in its group: close kills them all
        )

    def run(self, argv: list[str], fault: str = "none:0"):
        job = {"argv": argv, "fault": fault, "err": str(self.err)}
        self.server.stdin.write(json.dumps(job).encode() + b"\n")
        self.server.stdin.flush()
        pid = int(self._line())
        try:
            return int(self._line()), self.err.read_text()
        except AssertionError:  # a hung child: killed, and its status read (the server
            with contextlib.suppress(ProcessLookupError):  # says it: left unread, the next
                os.kill(pid, signal.SIGKILL)  # run read it as its pid; s61 review)
            self._line(timeout=30)
            raise

    def _line(self, timeout: float = 300) -> bytes:
        out = b""
        while not out.endswith(b"\n"):
            ready, _, _ = select.select([self.server.stdout], [], [], timeout)
            assert ready, f"no answer from the children's server in {timeout} s"
            byte = os.read(self.server.stdout.fileno(), 1)
            assert byte, f"the children's server ended: {self.server.wait()}"
            out += byte
        return out

    def close(self) -> None:
        """End the server (its stdin closed), or kill it and every child it left (a hang)."""
        self.server.stdin.close()
        try:
            self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()
        finally:
            self.log.close()


@pytest.fixture(scope="module")
def children(tmp_path_factory):
    server = _Children(tmp_path_factory.mktemp("children"))
    yield server
    server.close()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if TEMPORARY.match(p.name) or p.name == LOCK]


# --- training --------------------------------------------------------------------------------


def _blobs(root: Path, n: int = 3, size: int = 40) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        image = rng.integers(0, 255, (size, size), dtype=np.uint8)
        write_png(root / "images" / f"{i}.png", image)
        write_png(root / "masks" / f"{i}.png", np.where(image > 128, 255, 0).astype(np.uint8))
    return root


TRAIN_SET = [
    "model.depth=2",
    "model.base_channels=4",
    "model.dropout=0.2",
    "data.tile_size=32",
    "data.tiles_per_epoch=4",
    "train.batch_size=2",
    "train.epochs=4",
    "train.seed=3",
    "data.val_fraction=0.34",
    "train.device=cpu",
    "data.label_values=[0, 255]",
]


def _train_argv(data: Path, run_dir: Path, *mode: str) -> list[str]:
    sets = [a for s in TRAIN_SET for a in ("--set", s)]
    return ["train", "--data", str(data), "--run-dir", str(run_dir), "--no-progress", *sets, *mode]


def _straight(argv: list[str], capfd) -> None:
    """The uninterrupted run a cut one is compared with, in this process on one thread (as
    the children's OMP_NUM_THREADS=1): the same weights bit for bit, one start of Python and
    torch fewer. A failure says why (the command's stderr: ``capfd``, pytest's)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code = main(argv)
        assert code == 0, f"{argv[0]} exited {code}: {capfd.readouterr().err[-4000:]}"
    finally:
        torch.set_num_threads(threads)


def _random_kill(steps_left: int) -> str:
    """A fault that lands for sure in a resumed run of ``steps_left`` steps (2 an epoch, each
    epoch ends with a write of last.pt): inside a random step, or in a random checkpoint write
    (half written, or written and not renamed). Counted, not timed: a delay mostly fell
    before training began or after it ended."""
    pick = random.Random(os.getpid())
    if pick.random() < 0.5:
        return f"backward:{pick.randint(1, steps_left)}"
    return f"{pick.choice(['save-partial', 'save-rename'])}:{pick.randint(1, steps_left // 2)}"


@pytest.mark.slow
def test_train_killed_again_and_again_then_resumed_equals_an_uninterrupted_run(
    tmp_path, capfd, children
):
    data = _blobs(tmp_path / "data")
    _straight(_train_argv(data, tmp_path / "straight"), capfd)
    run = tmp_path / "cut"
    # 2 steps an epoch, 4 epochs; each resumed run restarts the epoch after the last last.pt
    kills = [
        "backward:3",  # inside step 3 (epoch 2): last.pt of epoch 1 exists
        "save-partial:1",  # half of epoch 2's last.pt written
        "save-rename:1",  # epoch 2's last.pt written, not renamed
        "backward:2",  # inside a step again
    ]
    exercised = []
    for fault in [*kills, "random"]:
        last = run / "checkpoints" / "last.pt"
        mode = "--resume" if last.is_file() else "--overwrite"
        if fault == "random":
            fault = _random_kill(8 - load_checkpoint(last)["train_state"]["step"])
        code, err = children.run(_train_argv(data, run, mode), fault)
        assert code == -signal.SIGKILL, (fault, code, err)
        exercised.append(fault)
    print("kill points:", ", ".join(exercised), "(the last one random)")
    code, err = children.run(_train_argv(data, run, "--resume"))
    assert code == 0, err
    assert not _leftovers(run), _leftovers(run)
    a, b = (load_checkpoint(tmp_path / r / "checkpoints" / "last.pt") for r in ("straight", "cut"))
    assert b["train_state"]["step"] == a["train_state"]["step"] == 8
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


@pytest.mark.slow
def test_train_stopped_by_sigterm_and_sighup_exits_143_129_and_resumes_to_the_straight_run(
    tmp_path, capfd, children
):
    """kill PID (a scheduler's time limit) and a closed ssh session saved nothing: the epoch
    in progress was lost, and train.log did not say that the run had stopped."""
    data = _blobs(tmp_path / "data")
    steps = ("--set", "data.tiles_per_epoch=8")  # 4 steps an epoch

    def argv(run, *mode):
        return _train_argv(data, run, *steps, *mode)

    _straight(argv(tmp_path / "straight"), capfd)
    run = tmp_path / "cut"
    # a signal in step n's backward pass is read as step n + 1 starts: it stops after that one
    code, err = children.run(argv(run), "SIGTERM:2")
    assert code == 128 + signal.SIGTERM, err
    assert f"unetlab train: stopped by SIGTERM; saved {run / 'checkpoints' / 'last.pt'}" in err
    assert load_checkpoint(run / "checkpoints" / "last.pt")["train_state"]["step"] == 3
    # the resumed run's 2nd step: step 5
    code, err = children.run(argv(run, "--resume"), "SIGHUP:2")
    assert code == 128 + signal.SIGHUP, err
    assert load_checkpoint(run / "checkpoints" / "last.pt")["train_state"]["step"] == 6
    log = (run / "train.log").read_text()
    for name, step, epoch, batch in (("SIGTERM", 3, 1, 3), ("SIGHUP", 6, 2, 2)):
        assert f"stopped by {name} at step {step}, epoch {epoch}, batch {batch}:" in log
    code, err = children.run(argv(run, "--resume"))
    assert code == 0, err
    a, b = (load_checkpoint(tmp_path / r / "checkpoints" / "last.pt") for r in ("straight", "cut"))
    assert a["train_state"]["step"] == b["train_state"]["step"] == 16
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


@pytest.mark.slow
def test_kill_of_a_two_process_train_stops_both_at_one_step_and_resumes(tmp_path):
    """``kill PID`` of ``train --nproc 2``: the launcher passes SIGTERM to torchrun, which
    sends it to each process; they stop together at one step (a step boundary of both:
    nothing hangs in a collective), the main one saves last.pt and says so, and the run
    resumes."""
    data = _blobs(tmp_path / "data")
    run = tmp_path / "run"
    argv = _train_argv(data, run, "--set", "train.epochs=500", "--nproc", "2")
    env = {**os.environ, "UNETLAB_SRC": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", HOOK, *argv], env=env, text=True, stderr=subprocess.PIPE
    )
    log = run / "train.log"
    deadline = time.monotonic() + 600  # two processes start slowly on a loaded machine
    while not (log.is_file() and " epoch 3/500 " in log.read_text()):  # a few epochs done
        assert child.poll() is None and time.monotonic() < deadline, "training never began"
        time.sleep(0.1)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=600)
    text = log.read_text()
    assert "stopped by SIGTERM at step " in text, err[-3000:]
    assert err.count("unetlab train: stopped by SIGTERM; saved ") == 1  # the main process's
    step = int(text.split("stopped by SIGTERM at step ")[1].split(",")[0])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["train_state"]["step"] == step
    assert not (run / LOCK).exists()  # no process of the run is left holding the folder
    resumed = _train_argv(data, run, "--epochs", str(step + 2), "--resume", "--nproc", "2")
    code, err = _run(resumed)
    assert code == 0, err[-3000:]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["train_state"]["step"] > step


@pytest.mark.slow
def test_a_full_disk_during_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    data = _blobs(tmp_path / "data")
    run = tmp_path / "run"
    save, calls = torch.save, []

    def full_disk(obj, f, *args, **kwargs):
        calls.append(Path(f).name.startswith(".last."))
        if sum(calls) == 2:  # epoch 2's last.pt (whether best.pt is written before it or not)
            Path(f).write_bytes(b"PK\x03\x04 half a checkpoint")
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    torch.set_num_threads(1)
    assert main(_train_argv(data, run)) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("unetlab train")]
    assert len(lines) == 1 and "Traceback" not in err
    assert (
        f"{run / 'checkpoints' / 'last.pt'}: cannot write it (No space left on device)" in lines[0]
    )
    kept = load_checkpoint(run / "checkpoints" / "last.pt")
    assert kept["train_state"]["epoch"] == 1
    assert not _leftovers(run)


# --- prediction ------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for i in range(6):
        image = rng.integers(0, 255, (30 + i, 26), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "in" / f"im{i}.png")
    save_model(tmp_path / "model.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict_argv(folder: Path, out: str, *extra: str) -> list[str]:
    return [
        "predict",
        "--checkpoint",
        str(folder / "model.pt"),
        "--input",
        str(folder / "in"),
        "--output",
        str(folder / out),
        "--device",
        "cpu",
        "--overlay",
        *extra,
    ]


@pytest.mark.slow
def test_predict_killed_mid_folder_then_skip_existing_completes_every_output(
    folder, capfd, children
):
    _straight(_predict_argv(folder, "straight"), capfd)
    out = folder / "out"
    # the 9th PNG rename: im0's overlay and labels written into its publishing folder, then
    # put in place, im1's alike, im2's overlay written there
    code, _ = children.run(_predict_argv(folder, "out"), "png-rename:9")
    assert code == -signal.SIGKILL
    publishing = out / ".im2.png.publish.partial"
    assert [n for n in os.listdir(publishing) if TEMPORARY.match(n) and ".im2_overlay." in n]
    assert not (out / "im2_overlay.png").exists()  # nothing of im2 in place
    # skips im0, im1, removes the stale temporary; dies half-way through writing im3's labels
    code, _ = children.run(_predict_argv(folder, "out", "--skip-existing"), "png-partial:4")
    assert code == -signal.SIGKILL
    publishing = out / ".im3.png.publish.partial"
    assert [n for n in os.listdir(publishing) if TEMPORARY.match(n) and n.startswith(".im3.")]
    code, err = children.run(_predict_argv(folder, "out", "--skip-existing"))
    assert code == 0, err
    assert "3 written, 3 skipped, 0 failed" in err  # im0-im2 were complete; im3 had no labels
    assert not _leftovers(out), _leftovers(out)
    for i in range(6):
        for name in (f"im{i}.png", f"im{i}_overlay.png"):
            a = np.asarray(Image.open(folder / "straight" / name))
            assert np.array_equal(a, np.asarray(Image.open(out / name))), name


def test_a_full_disk_during_predict_names_the_path_and_keeps_earlier_outputs(
    folder, monkeypatch, capsys
):
    save, calls = Image.Image.save, []

    def full_disk(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 5:  # im2's overlay
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", full_disk)
    assert main(_predict_argv(folder, "out")) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("unetlab predict")]
    assert len(lines) == 2 and "Traceback" not in err  # the error, then how to go on
    assert f"{folder / 'out' / 'im2_overlay.png'}: cannot write it (No space left" in lines[0]
    assert lines[1].startswith("unetlab predict: stopped with the outputs of 2 of ")
    monkeypatch.undo()
    written = sorted(p.name for p in (folder / "out").iterdir() if not p.name.startswith("."))
    # predict.json: what made them, as after a stop (audit s36 chaos 1)
    assert written == ["im0.png", "im0_overlay.png", "im1.png", "im1_overlay.png", "predict.json"]
    for name in written[:-1]:
        Image.open(folder / "out" / name).load()  # complete
    assert not _leftovers(folder / "out")


def test_a_short_write_on_a_full_disk_is_one_line_not_a_bug(folder, monkeypatch, capsys):
    """numpy's tofile (inside tifffile) reports a full disk as an OSError without errno."""
    import shutil
    from collections import namedtuple

    import tifffile

    imwrite, calls = tifffile.imwrite, []

    def short_write(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:  # im1's probabilities
            Path(path).write_bytes(b"II*\x00 half")
            raise OSError("524288 requested and 248668 written")
        return imwrite(path, *args, **kwargs)

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(tifffile, "imwrite", short_write)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(5 * 2**20, 5 * 2**20, 0))
    assert main(_predict_argv(folder, "out", "--save-probabilities")) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("unetlab predict")]
    assert len(lines) == 2 and "Traceback" not in err and "bug" not in err, err
    assert "cannot write it (No space left on device); 0.0 MB free on its disk" in lines[0]
    assert "--skip-existing once there is space" in lines[1]
    assert "_prob.tif" in lines[0]
    assert not _leftovers(folder / "out")


def test_a_real_full_disk_on_a_small_tmpfs(folder, capsys):
    out = folder / "small"
    out.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(out)], capture_output=True
        ).returncode
    ):
        pytest.skip("needs root and mount to make a small tmpfs")
    try:
        code = main(_predict_argv(folder, "small", "--save-probabilities"))
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("unetlab predict")]
        assert code == 2 and len(lines) == 2 and "No space left on device" in lines[0], err
        assert "--skip-existing once there is space" in lines[1]  # as after a stop
        assert "Traceback" not in err and not _leftovers(out)
        for path in out.glob("*.png"):
            Image.open(path).load()  # what was written is complete
    finally:
        subprocess.run(["umount", str(out)], check=True)
