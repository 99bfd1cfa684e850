"""No command replaces an input or a file it did not write; folders are locked; the CLI tells
user errors (one line, exit 2) from bugs (traceback, exit 1)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.data.io import atomic_path, write_png
from unetlab.errors import OutOfMemoryError, OutputError, UnetlabError, command_spelling
from unetlab.outputs import (
    LOCK,
    MANIFEST,
    PENDING,
    FolderLock,
    claim_files,
    output_folder,
    refuse_inputs,
    remove_stale_temporaries,
    safe_extract,
    written_here,
)
from unetlab.runtime import memory_hint, memory_reason

from .test_train_safety import a_checkpoint

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def work(tmp_path):
    """in/a.png, in/b.png (grey 24x20), a tiny checkpoint model.pt."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 255, (24, 20), dtype=np.uint8)).save(inputs / f"{name}.png")
    save_model(tmp_path / "model.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work: Path, *extra: str, inputs: str = "in", output: str = "out") -> int:
    return main(
        [
            "predict",
            "--checkpoint",
            str(work / "model.pt"),
            "--input",
            str(work / inputs),
            "--output",
            str(work / output),
            "--device",
            "cpu",
            *extra,
        ]
    )


def _tiny_data(work: Path) -> Path:
    """images/ + masks/ of two 32 px images (a data set the plan accepts)."""
    data = work / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(2):
        write_png(data / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), dtype=np.uint8))
        write_png(data / "masks" / f"{i}.png", np.tile([0, 255], (32, 16)).astype(np.uint8))
    return data


def _error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == 1, lines
    return lines[0]


# --- predict ----------------------------------------------------------------------------------


def test_predict_into_its_input_folder_is_refused_and_the_input_kept(work, capsys):
    before = (work / "in" / "a.png").read_bytes()
    assert _predict(work, output="in") == 2
    line = _error_line(capsys)
    assert "in/a.png" in line and "would write over its input" in line
    assert _predict(work, "--overwrite", output="in") == 2  # inputs are never replaced
    assert (work / "in" / "a.png").read_bytes() == before
    assert not (work / "in" / MANIFEST).exists() and not (work / "in" / LOCK).exists()


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_predict_over_a_link_to_an_input_is_refused(work, capsys, link):
    (work / "out").mkdir()
    make = os.symlink if link == "symlink" else os.link
    make(work / "in" / "a.png", work / "out" / "a.png")
    before = (work / "in" / "a.png").read_bytes()
    assert _predict(work, "--overwrite") == 2
    assert "would write over its input" in _error_line(capsys)
    assert (work / "in" / "a.png").read_bytes() == before


@pytest.mark.parametrize("earlier", [False, True])
def test_predict_file_in_a_group_never_writes_over_its_input(tmp_path, earlier):
    """predict_file with a group (torchrun) holding no folder of this thread's refuses an
    output that is its input: the user's own stack x.tif, or an earlier unetlab output (s65:
    a group was taken as held by the caller, so the earlier output was replaced and the
    user's file refused as "unetlab did not write it")."""
    import tifffile
    import torch.distributed as dist

    from unetlab.group import Group
    from unetlab.inference.files import predict_file

    d = tmp_path / "d"
    d.mkdir()
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    stack = dict(axes="ZYX", device="cpu")
    tifffile.imwrite(tmp_path / "x.tif", np.full((3, 24, 24), 7, np.uint8))
    if earlier:  # d/x.tif an earlier output, listed in d's manifest
        predict_file(model, tmp_path / "x.tif", d, **stack)
    else:
        shutil.copy(tmp_path / "x.tif", d / "x.tif")
    before = (d / "x.tif").read_bytes(), (d / "x.tif").stat().st_ino
    dist.init_process_group("gloo", init_method=(tmp_path / "store").as_uri(), rank=0, world_size=1)
    try:
        with pytest.raises(OutputError, match="would write over its input"):
            predict_file(model, d / "x.tif", d, group=Group(active=True), **stack)
    finally:
        dist.destroy_process_group()
    assert ((d / "x.tif").read_bytes(), (d / "x.tif").stat().st_ino) == before


def test_predict_names_equal_up_to_case_are_refused(work, capsys):
    (work / "in" / "a.png").rename(work / "in" / "A.PNG")  # output A.png: same file on macOS
    assert _predict(work, "--overwrite", inputs="in/A.PNG", output="in") == 2
    assert "A.PNG" in _error_line(capsys)
    (work / "other").mkdir()
    (work / "in" / "b.png").rename(work / "other" / "a.png")
    assert _predict(work, inputs="*/*") == 3  # in/A.PNG and other/a.png would share outputs
    err = capsys.readouterr().err
    assert (
        "unetlab predict: failed: " in err and "would write the same outputs: not predicted" in err
    )
    assert not (work / "out").exists()  # they were the only inputs: both failed


def test_predict_refuses_foreign_files_unless_overwrite_and_reruns(work, capsys):
    (work / "out").mkdir()
    (work / "out" / "notes.txt").write_text("mine")
    assert _predict(work) == 2
    assert "notes.txt" in _error_line(capsys) and not (work / "out" / "a.png").exists()
    assert _predict(work, "--overwrite") == 0
    assert (work / "out" / "notes.txt").read_text() == "mine"
    assert _predict(work) == 2  # notes.txt is still not ours
    (work / "out" / "notes.txt").unlink()
    assert _predict(work) == 0  # its own outputs are no reason to refuse
    mtime = (work / "out" / "a.png").stat().st_mtime_ns
    assert _predict(work, "--skip-existing") == 0
    assert (work / "out" / "a.png").stat().st_mtime_ns == mtime
    lines = (work / "out" / MANIFEST).read_text().splitlines()
    assert sum(line.startswith("a.png\tpredict\t") for line in lines) == 1


def test_predict_skip_existing_counts_only_outputs_the_manifest_lists(work, capsys):
    (work / "out").mkdir()
    write_png(work / "out" / "a.png", np.zeros((24, 20), np.uint8))  # the user's, not ours
    before = (work / "out" / "a.png").stat().st_ino
    assert _predict(work, "--skip-existing") == 2  # no finished prediction: refused as without
    assert "a.png" in _error_line(capsys) and not (work / "out" / "b.png").exists()
    assert (work / "out" / "a.png").stat().st_ino == before
    # --overwrite writes beside the user's files, never over them (hostile audit 5): that
    # input fails (exit 3), the other is predicted
    assert _predict(work, "--skip-existing", "--overwrite") == 3
    err = capsys.readouterr().err
    assert "out/a.png exists and unetlab did not write it: unetlab predict never replaces" in err
    assert "even when told to overwrite" in err and "move the file" in err
    assert (work / "out" / "a.png").stat().st_ino == before
    assert (work / "out" / "b.png").is_file()
    (work / "out" / "a.png").rename(work / "out" / "mine.png")  # moved: written beside it
    assert _predict(work, "--skip-existing", "--overwrite") == 0
    assert (work / "out" / "mine.png").stat().st_ino == before
    assert (work / "out" / "a.png").is_file() and (work / "out" / "b.png").is_file()


def test_predict_overwrite_fails_only_the_input_whose_output_is_the_users(work, capsys):
    """Audit s37 paths B: out/02.png, the user's, stopped the run at 02 (03 never predicted,
    no predict.json); it is never replaced, 02 fails (exit 3) and the others are written."""
    rng = np.random.default_rng(2)
    for name in ("a", "b"):
        (work / "in" / f"{name}.png").unlink()
    for i in range(4):
        write_png(work / "in" / f"0{i}.png", rng.integers(0, 255, (24, 20), dtype=np.uint8))
    (work / "out").mkdir()
    (work / "out" / "02.png").write_text("mine")
    assert _predict(work, "--overwrite") == 3
    err = capsys.readouterr().err
    assert "out/02.png exists and unetlab did not write it" in err
    assert (work / "out" / "02.png").read_text() == "mine"
    for i in (0, 1, 3):
        assert Image.open(work / "out" / f"0{i}.png").size == (20, 24)
    assert (work / "out" / "predict.json").is_file()
    assert "02.png" not in (work / "out" / MANIFEST).read_text()


def test_predict_refuses_a_folder_in_use(work, capsys):
    """Exit 75 (sysexits' EX_TEMPFAIL: try again later), not 2, so that a cron job tells a
    folder another run holds from a broken command (s37 audit); said in predict --help."""
    (work / "out").mkdir()
    with FolderLock(work / "out"):
        assert _predict(work) == 75
        line = _error_line(capsys)
        assert (
            f"in use by another unetlab process (pid {os.getpid()} on {socket.gethostname()})"
            in line
        )
    assert _predict(work) == 0
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # as argparse wraps it
    assert "75 the output folder is in use by another unetlab process (try again later)" in shown
    # the tree's statuses (README's Errors line), which --help did not say
    assert "With --recursive: 3 also where a folder failed, 2 where no folder could" in shown


@contextlib.contextmanager
def _read_only(folder: Path):
    """``folder`` read-only even for root: a read-only tmpfs there, or chmod for others."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield
        folder.chmod(0o755)
        return
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mount.returncode:
        pytest.skip("running as root without mount permission: cannot make a read-only folder")
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_predict_into_a_read_only_folder_fails_before_any_work(work, capsys, monkeypatch):
    import unetlab.checkpoint

    def no_work(*args, **kwargs):
        raise AssertionError("the model was loaded before the folder was checked")

    monkeypatch.setattr(unetlab.checkpoint, "load_model", no_work)
    (work / "out").mkdir()
    with _read_only(work / "out"):
        assert _predict(work) == 2
        line = _error_line(capsys)
    assert "out: cannot write it" in line and ("Read-only" in line or "Permission" in line)


def test_predict_file_never_writes_over_its_own_input(work):
    from unetlab.inference.files import predict_file

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with pytest.raises(OutputError, match="would write over its input"):
        predict_file(model, work / "in" / "a.png", work / "in")


# --- evaluate, export, demo, train ----------------------------------------------------------


def test_evaluate_json_never_replaces_an_input_or_a_foreign_file(work, capsys):
    masks, preds = work / "masks", work / "preds"
    for folder in (masks, preds):  # predictions apart from the masks: the same folder is refused
        folder.mkdir()
        for name in ("a", "b"):
            write_png(folder / f"{name}.png", np.zeros((24, 20), np.uint8))
    args = ["evaluate", "--pred", str(preds), "--gt", str(masks)]
    before = (masks / "a.png").read_bytes()
    assert main([*args, "--json", str(masks / "a.png"), "--overwrite"]) == 2
    assert "would write over its input" in _error_line(capsys)
    assert main([*args, "--confusion", str(masks / "A.png"), "--overwrite"]) == 2
    _error_line(capsys)
    assert (masks / "a.png").read_bytes() == before
    (work / "eval.json").write_text("mine")
    assert main([*args, "--json", str(work / "eval.json")]) == 2
    assert "not written by unetlab" in _error_line(capsys)
    assert (work / "eval.json").read_text() == "mine"
    assert main([*args, "--json", str(work / "eval.json"), "--overwrite"]) == 0
    assert main([*args, "--json", str(work / "eval.json")]) == 0  # its own file: replaced
    # a report beside the predictions it scores: its own confusion PNG is no input next time
    args = ["evaluate", "--pred", str(preds), "--gt", str(masks), "--json", str(preds / "e.json")]
    assert main(args) == 0 and main(args) == 0
    assert (preds / "e_confusion.png").is_file()
    assert main([*args, "--confusion", str(preds / "b.png"), "--overwrite"]) == 2  # an input


def test_export_never_replaces_its_checkpoint_or_a_foreign_file(work, capsys):
    ckpt = work / "model.pt"
    before = ckpt.read_bytes()
    os.symlink(ckpt, work / "link.onnx")
    for target in (ckpt, work / "link.onnx"):
        assert (
            main(["export", "--checkpoint", str(ckpt), "--onnx", str(target), "--overwrite"]) == 2
        )
        assert "would write over its input" in _error_line(capsys)
    (work / "m.onnx").write_text("mine")
    assert main(["export", "--checkpoint", str(ckpt), "--onnx", str(work / "m.onnx")]) == 2
    assert "not written by unetlab" in _error_line(capsys)
    assert ckpt.read_bytes() == before and (work / "m.onnx").read_text() == "mine"


def test_demo_and_train_refuse_a_folder_in_use(work, capsys):
    (work / "demo").mkdir()
    with FolderLock(work / "demo"):
        assert main(["demo", "--output", str(work / "demo"), "--quick"]) == 75
        assert "in use" in _error_line(capsys)
    (work / "run").mkdir()
    with FolderLock(work / "run"):
        assert (
            main(["train", "--data", str(_tiny_data(work)), "--run-dir", str(work / "run")]) == 75
        )
        assert "in use" in _error_line(capsys)


# --- the error boundary --------------------------------------------------------------------


def test_a_bug_is_a_traceback_with_exit_1(work, capsys, monkeypatch):
    import unetlab.inference.folders

    def broken(*args, **kwargs):
        raise ValueError("an off-by-one in unetlab")

    monkeypatch.setattr(unetlab.inference.folders, "predict_file", broken)  # predict's loop
    assert _predict(work) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "an off-by-one in unetlab" in err
    assert "this is a bug in unetlab" in err and "please report it" in err


def test_a_corrupt_image_is_one_line_with_exit_2(work, capsys):
    shutil.copytree(work / "in", work / "gt")  # the same folder as both is refused
    (work / "in" / "b.png").write_bytes((work / "in" / "b.png").read_bytes()[:60])
    args = ["evaluate", "--pred", str(work / "in"), "--gt", str(work / "gt")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "b.png: cannot read this image" in err
    assert "Traceback" not in err


def test_settings_errors_are_unetlab_errors_and_still_value_errors():
    from unetlab.config import load_config

    with pytest.raises(UnetlabError, match="train.lr must be positive"):
        load_config(None, ["train.lr=-1"])
    with pytest.raises(ValueError):  # the earlier API's type still catches them
        UNet(1, 2).output_size(573)
    for bad in ("train.seed=-1", "data.seed=-2", "train.max_minutes=-1", "train.max_minutes=.nan"):
        with pytest.raises(UnetlabError, match=bad.split("=")[0]):  # numpy's own error was a bug
            load_config(None, [bad])
    with pytest.raises(UnetlabError, match="bottom level"):
        UNet(1, 2, depth=32, base_channels=1)  # 2^31 channels: torch's overflow was a bug


def test_out_of_memory_names_the_setting_to_lower():
    hint = memory_hint("a.png", "lower --tile-size")
    with pytest.raises(OutOfMemoryError, match="lower --tile-size"), hint:
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: "
            "can't allocate memory: you tried to allocate 10 bytes"
        )
    hint = memory_hint("a.png", "lower --tile-size")
    with pytest.raises(OutOfMemoryError, match="a.png: out of memory"), hint:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")
    with pytest.raises(RuntimeError, match="shape mismatch"), memory_hint("a.png", "x"):
        raise RuntimeError("shape mismatch")  # not memory: left alone


def test_out_of_memory_gives_the_request_whole_in_gb():
    """Audit s35 laptop 3: the reason was cut at 120 characters, inside the number
    (13421772 for a 134,217,728-byte request)."""
    hint = memory_hint("training", "lower train.batch_size")
    with pytest.raises(OutOfMemoryError) as caught, hint:
        raise RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 134217728 bytes. Error code 12 (Cannot allocate memory)"
        )
    line = str(caught.value)
    assert "tried to allocate 0.13 GB" in line and "enforce fail" not in line
    assert line.endswith("; lower train.batch_size")
    long = RuntimeError("CUDA out of memory. " + "Tried to allocate 2.00 GiB; " * 8)
    reason = memory_reason(long)  # cut at a space, never inside a number
    assert reason.endswith(" ...") and len(reason) <= 124
    assert set(re.findall(r"allocate (\S+)", reason)) == {"2.00"}


# --- atomic writes, manifests, locks, archives ----------------------------------------------


def test_a_full_disk_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "a.png"
    write_png(path, np.ones((4, 4), np.uint8))
    before = path.read_bytes()

    def full(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(OutputError, match=r"a.png: cannot write it \(No space left on device\)"):
        write_png(path, np.zeros((4, 4), np.uint8))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["a.png"]


def test_an_oserror_without_errno_is_not_the_disks_fault(tmp_path):
    with pytest.raises(OSError, match="cannot write mode") as info, atomic_path(tmp_path / "a"):
        raise OSError("cannot write mode F as PNG")
    assert not isinstance(info.value, UnetlabError)


def test_refuse_inputs_compares_files_not_strings(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.tif").write_bytes(b"1")
    refuse_inputs([tmp_path / "d" / "y.tif"], [tmp_path / "d"])
    with pytest.raises(OutputError):
        refuse_inputs([tmp_path / "d" / ".." / "d" / "X.TIF"], [tmp_path / "d"])
    refuse_inputs([tmp_path / "d" / "x.tif"], [tmp_path / "d"], suffixes={".png"})


def test_refuse_inputs_stats_an_input_file_once(tmp_path, monkeypatch):
    """Its identity and whether it is a folder from one stat (s61: 3, a flat predict's
    inputs stat-ed 91 times each); a link to it, or its name in other case, still refused."""
    (tmp_path / "x.tif").write_bytes(b"1")
    (tmp_path / "link.tif").symlink_to(tmp_path / "x.tif")
    stats, real = [], os.stat

    def counted(path, *args, **kwargs):
        stats.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    refuse_inputs([tmp_path / "y.tif"], [tmp_path / "x.tif"])
    assert stats.count("x.tif") == 1  # 3 before
    for out in ("link.tif", "X.TIF"):
        with pytest.raises(OutputError, match="would write over its input"):
            refuse_inputs([tmp_path / out], [tmp_path / "x.tif"])


def test_refuse_inputs_stats_a_folder_once_not_once_per_name_in_it(tmp_path, monkeypatch):
    """s66: a flat predict's inputs' folder was stat-ed once per input (and the output
    folder once per output) for its identity; a name in other case there still refused."""
    for sub in ("in", "out"):
        (tmp_path / sub).mkdir()
    inputs = [tmp_path / "in" / f"s{i}.tif" for i in range(5)]
    for path in inputs:
        path.write_bytes(b"1")
    stats, real = [], os.stat

    def counted(path, *args, **kwargs):
        stats.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    refuse_inputs([tmp_path / "out" / p.name for p in inputs], inputs)
    assert (stats.count("in"), stats.count("out")) == (1, 1)  # (5, 5) before
    with pytest.raises(OutputError, match="would write over its input"):
        refuse_inputs([tmp_path / "out" / "x.tif", tmp_path / "in" / "S3.TIF"], inputs)


def _written(path, data: bytes = b"{}") -> None:
    """Write ``path`` as the commands do (atomic_path, which confirms a claimed file)."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


#: a temporary's writer is told alive by its flock: none without fcntl, and temporaries stay
needs_flock = pytest.mark.skipif(sys.platform == "win32", reason="no flock: temporaries stay")


@needs_flock
def test_a_single_file_output_removes_what_a_killed_write_of_it_left(tmp_path):
    """s47 crash review: evaluate --json killed while writing left .r.<hex>.tmp.json beside
    r.json for good (single-file outputs took no folder lock, and nothing cleaned it)."""
    left = tmp_path / ".r.0123456789ab.tmp.json"
    others = [tmp_path / ".rr.0123456789ab.tmp.json", tmp_path / ".r.0123456789ab.tmp.png"]
    for path in (left, *others):
        path.write_text("half")
    with FolderLock(tmp_path):  # a folder command there: a killed write's is no one's
        claim_files([tmp_path / "r.json"], command="evaluate")
    assert not left.exists() and all(path.exists() for path in others)


@needs_flock
def test_two_commands_writing_one_name_at_once_keep_each_others_temporary(tmp_path):
    """s47: the cleaning of a killed write's temporaries removed the live temporary of
    another command writing the same name (or a single-file output in a folder command's
    folder), and that command failed: "r.json: cannot write it (No such file or
    directory)"."""
    with atomic_path(tmp_path / "r.json") as live:
        live.write_text('{"a": 1}')
        claim_files([tmp_path / "r.json"], command="evaluate")  # a second evaluate --json
        assert remove_stale_temporaries(tmp_path) == []  # a folder command there
        assert live.exists()
    assert (tmp_path / "r.json").read_text() == '{"a": 1}'


@needs_flock
def test_a_temporary_stays_while_its_writer_lives_and_goes_once_it_is_killed(tmp_path):
    """Another process holding a temporary (atomic_path's flock) is alive: its temporary
    stays; killed (the kernel drops its lock), the next cleaning removes it."""
    temporary = tmp_path / ".r.0123456789ab.tmp.json"
    temporary.write_text("half")
    hold = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()"
    )
    cmd = [sys.executable, "-c", hold, str(temporary)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as writer:
        assert writer.stdout.readline() == "held\n"
        claim_files([tmp_path / "r.json"], command="evaluate")
        assert remove_stale_temporaries(tmp_path) == [] and temporary.exists()
        writer.kill()
    claim_files([tmp_path / "r.json"], command="evaluate")
    assert not temporary.exists()


def test_claim_files_records_write_ahead(tmp_path):
    claim_files([tmp_path / "r.json"])
    assert (tmp_path / MANIFEST).read_text().splitlines()[1:] == [f"r.json\tunetlab\t\t{PENDING}"]
    _written(tmp_path / "r.json")
    assert (tmp_path / MANIFEST).read_text().splitlines()[1:] == ["r.json\tunetlab"]
    claim_files([tmp_path / "r.json"])  # listed: may be replaced
    assert (tmp_path / MANIFEST).read_text().splitlines()[1:] == ["r.json\tunetlab"]


def test_claim_files_reads_and_appends_each_manifest_once(tmp_path, monkeypatch):
    """s59 re-read: four new files in one folder were recorded one by one, each record
    re-reading the manifest and flushing its own append (5 reads, 4 fsyncs): one of each a
    folder now (and the claim's own read)."""
    import unetlab.manifest as manifest

    reads, flushes = [], []
    parse, fsync = manifest._stamped_lines, os.fsync
    monkeypatch.setattr(manifest, "_stamped_lines", lambda f: reads.append(f) or parse(f))
    monkeypatch.setattr(os, "fsync", lambda fd: flushes.append(fd) or fsync(fd))
    claim_files([tmp_path / "b" / "old.json"])
    _written(tmp_path / "b" / "old.json")  # b's: no line needed again
    reads.clear(), flushes.clear()
    claim_files([tmp_path / f"{n}.json" for n in "abcd"] + [tmp_path / "b" / "old.json"])
    # the claim reads both folders; one record (read, append) for the four new files
    assert (len(reads), len(flushes)) == (3, 1)  # was (6, 4)
    assert [line.split("\t")[0] for line in (tmp_path / MANIFEST).read_text().splitlines()[1:]] == [
        "a.json",
        "b.json",
        "c.json",
        "d.json",
    ]


def test_a_folder_of_foreign_files_names_three_and_counts_the_rest(tmp_path):
    """_refuse_foreign's list (words.first_listed since s59): the first three, then a count."""
    for name in "edcba":
        (tmp_path / f"{name}.txt").write_text("the user's")
    with pytest.raises(OutputError) as err, output_folder(tmp_path, ["r.png"], command="predict"):
        pass
    assert "did not write (a.txt, b.txt, c.txt and 2 more): give an empty" in str(err.value)


def test_a_claim_stopped_before_its_write_leaves_the_file_the_users(tmp_path):
    """Hostile audit 4: an interrupted `evaluate --json own.json --overwrite` listed the
    user's own.json as evaluate's; a later run without --overwrite replaced it, and bench
    said evaluate had written it."""
    own = tmp_path / "own.json"
    own.write_text('{"mine": 1}')
    claim_files([own], command="evaluate", overwrite=True)  # then Ctrl-C: never written
    for command in ("evaluate", "bench"):
        with pytest.raises(OutputError, match="own.json exists and was not written by unetlab"):
            claim_files([own], command=command)
    assert own.name not in written_here(tmp_path)
    claim_files([tmp_path / "new.json"], command="evaluate")  # absent, then never written
    (tmp_path / "new.json").write_text("the user's, made later")
    with pytest.raises(OutputError, match="new.json exists and was not written by unetlab"):
        claim_files([tmp_path / "new.json"], command="evaluate")
    assert own.read_text() == '{"mine": 1}'


def test_claim_files_replaces_only_what_the_same_command_wrote(tmp_path):
    report = tmp_path / "r.json"
    claim_files([report], command="evaluate")
    _written(report)
    claim_files([report], command="evaluate")  # its own: replaced
    with pytest.raises(OutputError) as err:
        claim_files([report], command="bench")  # a Python caller ran no command (s58)
    said = "r.json was written by unetlab's evaluate (a Report's write_json, write_csv or the "
    assert said + "command line), not by this call: give" in str(err.value), err.value
    ran = "r.json was written by unetlab evaluate, not by unetlab bench: give"
    with command_spelling(), pytest.raises(OutputError, match=ran):
        claim_files([report], command="bench")  # the command line's: its command
    claim_files([report], command="bench", overwrite=True)
    assert report.read_text() == "{}"


def test_compares_files_are_named_by_the_call_that_writes_them(tmp_path):
    """compare.csv was "written by unetlab's compare (compare_runs or the command line)":
    compare_runs only reads runs, write_comparison writes (s58 review G)."""
    from unetlab.outputs import record

    record(tmp_path, ["compare.csv"], command="compare")
    _written(tmp_path / "compare.csv")
    with pytest.raises(OutputError) as err:
        claim_files([tmp_path / "compare.csv"], command="config")
    said = "compare.csv was written by unetlab's compare (write_comparison or the command line)"
    assert said in str(err.value) and "compare_runs" not in str(err.value), err.value


def test_no_command_but_train_replaces_a_runs_files_even_with_overwrite(tmp_path):
    from unetlab.outputs import output_folder, record

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    record(run, ["metrics.csv", "curves.png", "plan.yaml"], command="train")
    record(run / "checkpoints", ["last.pt"], command="train")
    (run / "checkpoints" / "last.pt").write_bytes(b"weights")
    (run / "metrics.csv").write_text("epoch\n")
    for path in (run / "checkpoints" / "last.pt", run / "metrics.csv", run / "plan.yaml"):
        for overwrite in (False, True):
            with pytest.raises(OutputError, match="file of the training run .* choose another"):
                claim_files([path], command="export", overwrite=overwrite)
    claim_files([run / "checkpoints" / "model.onnx"], command="export")  # a new name is fine
    # predict's outputs of an input called curves.png
    refused = pytest.raises(OutputError, match="curves.png is a file of the training run")
    with refused, output_folder(run, ["curves.png"], overwrite=True, command="predict"):
        pass
    assert (run / "checkpoints" / "last.pt").read_bytes() == b"weights"
    assert (run / "metrics.csv").read_text() == "epoch\n"


def test_a_single_file_output_never_replaces_a_file_of_another_format(tmp_path):
    (tmp_path / "00.png").write_bytes(b"\x89PNG")
    (tmp_path / "a.tif").write_bytes(b"II*")
    for path, fmt in [("00.png", "ONNX"), ("00.png", "JSON"), ("a.tif", "JSON")]:
        with pytest.raises(OutputError, match=f"with {fmt} \\(a typo\\?\\)"):
            claim_files([tmp_path / path], overwrite=True, formats={tmp_path / path: fmt})
    assert (tmp_path / "00.png").read_bytes() == b"\x89PNG"
    claim_files([tmp_path / "r.png"], command="evaluate")  # evaluate's confusion plot ...
    _written(tmp_path / "r.png", b"\x89PNG")
    with pytest.raises(OutputError, match="typo"):  # ... is no place for its JSON report
        claim_files([tmp_path / "r.png"], command="evaluate", formats={tmp_path / "r.png": "JSON"})
    (tmp_path / "m.pt").write_bytes(b"x")
    (tmp_path / "notes").write_text("")
    claim_files([tmp_path / "m.pt"], overwrite=True, formats={tmp_path / "m.pt": "TorchScript"})
    claim_files([tmp_path / "notes"], overwrite=True, formats={tmp_path / "notes": "JSON"})
    claim_files([tmp_path / "new.png"], formats={tmp_path / "new.png": "JSON"})  # nothing replaced


def test_evaluate_and_export_never_replace_a_runs_checkpoint(work, capsys):
    from unetlab.train import prepare_run_dir

    run = prepare_run_dir(work / "run", resume=False, overwrite=False)
    last = run / "checkpoints" / "last.pt"
    save_model(last, UNet(1, 2, depth=2, base_channels=2, padding="same"))
    before = last.read_bytes()
    masks = work / "masks"
    masks.mkdir()
    write_png(masks / "a.png", np.zeros((24, 20), np.uint8))
    evaluate = ["evaluate", "--pred", str(masks), "--gt", str(masks), "--json"]
    for args in (
        [*evaluate, str(last)],
        [*evaluate, str(run / "train.log"), "--overwrite"],
        ["export", "--checkpoint", str(work / "model.pt"), "--onnx", str(last), "--overwrite"],
    ):
        assert main(args) == 2
        line = _error_line(capsys)  # a new train.log is first refused as no .json name
        assert "file of the training run" in line or "name the file .json" in line
    assert last.read_bytes() == before and not (run / "train.log").exists()


@needs_flock
def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    names = [".a.0123456789ab.tmp.png", ".last.fedcba987654.tmp.pt", ".x.0123456789ab.tmp"]
    keep = [".a.png", "a.0123456789ab.tmp.png", ".a.0123456789.tmp.png", "a.png"]
    for name in names + keep:
        (tmp_path / name).write_text("")
    assert sorted(p.name for p in remove_stale_temporaries(tmp_path)) == sorted(names)
    assert sorted(os.listdir(tmp_path)) == sorted(keep)


def test_staging_folders_of_our_outputs_are_stale_temporaries(tmp_path):
    """A large prediction killed with -9 left .slide.tif.partial (GBs for a real slide), and
    every re-run was refused: 'holds files that unetlab did not write'."""
    from unetlab.outputs import output_folder, record

    record(tmp_path, ["slide.tif"], command="predict")
    record(tmp_path, ["slide_objects.tif"], command="predict")
    staged_ids = ".slide_objects.tif.ids.partial"  # a slide's provisional object ids
    for staged in (".slide.tif.partial", ".other.tif.partial", staged_ids):
        (tmp_path / staged / "0").mkdir(parents=True)
        (tmp_path / staged / "0" / "0.0").write_bytes(b"x" * 10)
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".slide.tif.partial", staged_ids]  # ours: listed
    assert (tmp_path / ".other.tif.partial").is_dir()  # not ours: kept, and foreign
    foreign = pytest.raises(
        OutputError, match=r"folders that unetlab did not write \(\.other\.tif\.partial/\)"
    )
    with foreign, output_folder(tmp_path, ["slide.tif"], command="predict"):
        pass
    shutil.rmtree(tmp_path / ".other.tif.partial")
    (tmp_path / ".slide.tif.partial").mkdir()
    with output_folder(tmp_path, ["slide.tif"], command="predict"):
        assert not (tmp_path / ".slide.tif.partial").exists()


def test_a_lock_refuses_a_second_holder_and_dies_with_its_process(tmp_path):
    with FolderLock(tmp_path), pytest.raises(OutputError, match="in use"), FolderLock(tmp_path):
        pass
    assert not (tmp_path / LOCK).exists()
    script = (
        f"import sys, time; sys.path.insert(0, {str(REPO / 'src')!r})\n"
        "from unetlab.outputs import FolderLock\n"
        f"lock = FolderLock({str(tmp_path)!r}).__enter__(); print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match=f"pid {child.pid}"), FolderLock(tmp_path):
            pass
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert (tmp_path / LOCK).exists()  # left behind by the killed process, yet not stuck:
    with FolderLock(tmp_path):
        assert (tmp_path / LOCK).read_text() == f"{os.getpid()} on {socket.gethostname()}\n"


@pytest.mark.parametrize(
    "member", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "C:/evil.txt", "link"]
)
def test_safe_extract_refuses_members_outside_the_target(tmp_path, member):
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok/weights.pt", b"1")
        if member == "link":
            info = zipfile.ZipInfo("link")
            info.external_attr = 0o120777 << 16  # a symbolic link to /etc
            zf.writestr(info, "/etc")
        else:
            zf.writestr(member, b"x")
    with pytest.raises(UnetlabError, match="outside the target folder"):
        safe_extract(archive, tmp_path / "t")
    assert not (tmp_path / "t").exists() and not (tmp_path / "evil.txt").exists()


def test_safe_extract_unpacks_a_good_archive(tmp_path):
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/b.txt", b"hello")
        zf.writestr("c.txt", b"")
    written = safe_extract(archive, tmp_path / "t")
    assert sorted(p.relative_to(tmp_path / "t").as_posix() for p in written) == ["a/b.txt", "c.txt"]
    assert (tmp_path / "t" / "a" / "b.txt").read_bytes() == b"hello"
    (tmp_path / "bad.zip").write_bytes(b"PK not a zip")
    with pytest.raises(
        UnetlabError, match="a damaged or truncated zip .*; download or zip it again$"
    ):
        safe_extract(tmp_path / "bad.zip", tmp_path / "t2")


def test_train_refuses_a_read_only_run_folder_and_removes_stale_temporaries(work, capsys):
    from unetlab.train import prepare_run_dir

    (work / "ro").mkdir()
    with _read_only(work / "ro"):
        assert main(["train", "--data", str(_tiny_data(work)), "--run-dir", str(work / "ro")]) == 2
        assert "ro: cannot write it" in _error_line(capsys)
    a_checkpoint(work / "run" / "checkpoints" / "last.pt")
    stale = work / "run" / "checkpoints" / ".last.0123456789ab.tmp.pt"
    stale.write_bytes(b"half")
    prepare_run_dir(work / "run", resume=True, overwrite=False)
    assert not stale.exists() and (work / "run" / "checkpoints" / "last.pt").exists()


def test_out_of_memory_in_predict_and_train_is_one_line(work, capsys, monkeypatch):
    import unetlab.inference.files
    from unetlab.train import fitting

    def no_memory(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")

    monkeypatch.setattr(unetlab.inference.files, "predict_fitted", no_memory)
    monkeypatch.setattr(unetlab.inference.files, "labels_fitted", no_memory)  # labels alone
    assert _predict(work) == 2
    line = _error_line(capsys)
    assert "a.png: out of memory" in line and "lower --tile-size or --batch-size" in line
    data = _tiny_data(work)

    def cuda_full(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(fitting, "train_one_epoch", cuda_full)
    argv = [
        "train",
        "--data",
        str(data),
        "--run-dir",
        str(work / "run"),
        "--no-progress",
        "--set",
        "model.depth=2",
        "--set",
        "data.tile_size=32",
        "--set",
        "train.device=cpu",
    ]
    assert main(argv) == 2
    line = _error_line(capsys)
    assert "training: out of memory (CUDA out of memory" in line and "train.batch_size" in line
    assert line.endswith("; lower train.batch_size or data.tile_size (or train on the GPU)")


def test_out_of_memory_tells_python_callers_their_keywords(work, monkeypatch):
    """evaluate_model was told "lower --tile-size or --batch-size (tile_size, batch_size)",
    a notebook's fit the command line's keys "lower train.batch_size" (s56): memory_hint
    carries both forms, each caller told its own."""
    import unetlab.inference.predict
    from unetlab.config import load_config
    from unetlab.evaluate import evaluate_model
    from unetlab.train import fitting

    def no_memory(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 GB")

    monkeypatch.setattr(unetlab.inference.predict, "predict_fitted", no_memory)
    data = _tiny_data(work)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    net.label_values = [0, 255]  # the masks' values
    with pytest.raises(OutOfMemoryError) as caught:
        evaluate_model(net, data, progress=False)
    assert str(caught.value).endswith("; lower tile_size or batch_size")
    assert caught.value.cli.endswith("; lower --tile-size or --batch-size")
    monkeypatch.setattr(fitting, "train_one_epoch", no_memory)
    keys = ["model.depth=2", "data.tile_size=32", "train.device=cpu", f"data.root={data}"]
    with pytest.raises(OutOfMemoryError) as caught:
        fitting.fit(load_config(None, keys), run_dir=work / "py", progress=False)
    said = "; lower cfg.train.batch_size or cfg.data.tile_size (or train on the GPU)"
    assert str(caught.value).endswith(said)


def test_a_runs_file_is_refused_naming_each_callers_writer_and_overwrite(tmp_path):
    """A run's file refused to Python said "unetlab evaluate never replaces a run's files (not
    even with --overwrite)", a command and a flag it has not (s57)."""
    from unetlab.errors import command_spelling
    from unetlab.manifest import record
    from unetlab.outputs import claim_files

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "m.json").write_text("{}")
    record(tmp_path / "run", ["m.json"], command="train")
    with pytest.raises(OutputError) as python:
        claim_files([tmp_path / "run" / "m.json"], command="evaluate", overwrite=True)
    said = "this call never replaces a run's files (not even with overwrite=True): choose"
    assert said in str(python.value)
    with pytest.raises(OutputError) as cli, command_spelling():
        claim_files([tmp_path / "run" / "m.json"], command="evaluate", overwrite=True)
    said = "unetlab evaluate never replaces a run's files (not even with --overwrite): choose"
    assert said in str(cli.value)


def test_a_refused_file_tells_each_caller_its_own_overwrite(tmp_path):
    """claim_files told a Python caller to "add --overwrite" (s59): overwrite=True to Python,
    the flag to the command line, and neither where the caller has no overwrite (compare)."""
    from unetlab.compare import Comparison, write_comparison
    from unetlab.outputs import claim_files, record

    foreign, other = tmp_path / "theirs.json", tmp_path / "r.json"
    _written(foreign)
    record(tmp_path, ["r.json"], command="evaluate")
    _written(other)
    for path in (foreign, other):
        with pytest.raises(OutputError) as python:
            claim_files([path], command="bench")
        assert str(python.value).endswith(
            ": give another name, or pass overwrite=True to replace it"
        )
        with pytest.raises(OutputError) as cli, command_spelling():
            claim_files([path], command="bench")
        assert str(cli.value).endswith(": give another name, or add --overwrite to replace it")
    (tmp_path / "cmp").mkdir()
    _written(tmp_path / "cmp" / "compare.csv")
    with pytest.raises(OutputError) as compared:
        write_comparison(Comparison([], [], [], [], "run"), tmp_path / "cmp")
    # its names are fixed: another folder (s60), not "another name"
    said = "exists and was not written by unetlab: give write_comparison another folder"
    assert str(compared.value).endswith(said)
