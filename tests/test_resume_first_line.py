"""A run stopped (Ctrl-C) and run again says where it goes on from: the rerun without
--resume named neither the step nor the epoch it stopped at ("already holds a run
(checkpoints/best.pt, last.pt): add --resume ..."), and with --resume its first line was the
data check, the step said six lines later (s49 walk leftovers)."""

from __future__ import annotations

import logging
import os
import re

import numpy as np
import pytest

import unetlab
from unetlab.cli import main
from unetlab.errors import OutputError
from unetlab.train.rundir import prepare_run_dir

TINY = ["--no-plan", "--set", "model.depth=2", "--set", "data.tile_size=32", "--no-progress"]


@pytest.fixture
def run(tmp_path, capsys):
    """(the train arguments, the run folder) of a 1-epoch run of 2 images of 32 px."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 32, 32)).astype(np.uint8)
    unetlab.write_dataset(images, (images > 128).astype(np.uint8), tmp_path / "data")
    args = ["train", "--data", str(tmp_path / "data"), "--run-dir", str(tmp_path / "run")]
    assert main([*args, *TINY, "--epochs", "1"]) == 0
    capsys.readouterr()
    return args, tmp_path / "run"


def test_a_rerun_without_resume_names_the_step_it_would_go_on_from(run, capsys):
    args, folder = run
    assert main([*args, *TINY, "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert f"{folder} already holds a run saved at step 16, the end of epoch 1 (" in err
    assert "add --resume to continue it from there" in err
    with pytest.raises(OutputError, match=r"saved at step 16, the end of epoch 1 \(.*resume=True"):
        prepare_run_dir(folder, resume=False, overwrite=False)  # fit's words, from Python


def test_the_first_line_of_a_resumed_run_names_its_folder_and_step(run, capsys, caplog):
    args, folder = run
    caplog.set_level(logging.INFO)
    assert main([*args, *TINY, "--epochs", "2", "--resume"]) == 0
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("unetlab.train")]
    assert lines[0] == (
        f"resuming the run in {folder} from step 16, the end of epoch 1 (checkpoints/last.pt)"
    )
    logged = (folder / "train.log").read_text().splitlines()  # the first run's, then these
    said = [i for i, line in enumerate(logged) if "resuming the run in" in line]
    assert len(said) == 1 and "data checked against the run's split.json" in logged[said[0] + 1]
    # said once: "resuming .../last.pt at epoch 2, batch 0 (step 16)" and "continuing at
    # epoch 2, step 16" repeated it (s51 resumelines 1)
    again = [line for line in lines[1:] if "at epoch" in line or "continuing at" in line]
    assert not again


def test_a_resume_from_an_unreadable_last_pt_says_no_step_before_its_error(run, capsys, caplog):
    """Review s50: saved_at() is None where last.pt cannot be read, and the first line said
    "resuming the run in R from None (checkpoints/last.pt)" before the error."""
    args, folder = run
    (folder / "checkpoints" / "last.pt").write_bytes(b"not a checkpoint")
    caplog.set_level(logging.INFO)
    assert main([*args, *TINY, "--epochs", "2", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "last.pt" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    said = [r.getMessage() for r in caplog.records]
    assert not [line for line in said if "None" in line or "resuming the run in" in line]


def test_the_step_of_last_pt_is_read_with_its_tensors_mapped(run, monkeypatch):
    """The resume's first line (and the in-use refusal, the stop's lines) read last.pt
    whole for its step, once more than the resume's load: 0.46 s for a 372 MB one; its
    tensors are now mapped from the file (torch.load(mmap=True)), 0.001 s."""
    import torch

    from unetlab.train.resume import saved_at

    _, folder = run
    loads, load = [], torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(k.get("mmap")) or load(*a, **k))
    assert saved_at(folder) == "step 16, the end of epoch 1" and loads == [True]


@pytest.mark.parametrize("best_whole", [True, False])
def test_a_resume_from_a_truncated_last_pt_names_the_fixes_of_a_resume(run, capsys, best_whole):
    """s51 walkbad: a truncated last.pt said "use a file written by unetlab train", which
    a resume cannot do: start again, from best.pt where that one is whole."""
    args, folder = run
    for name in ("last.pt",) if best_whole else ("last.pt", "best.pt"):
        path = folder / "checkpoints" / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert main([*args, *TINY, "--epochs", "2", "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "use a file written by" not in err
    last, best = folder / "checkpoints" / "last.pt", folder / "checkpoints" / "best.pt"
    said = f"{last}: truncated or corrupt (RuntimeError), so the run cannot resume from it; "
    if best_whole:
        assert err.endswith(said + f"start a new run from its best.pt: --init {best} --run-dir NEW")
    else:
        assert err.endswith(said + "start the run again with --overwrite, or in a new --run-dir")


def test_a_torn_last_pt_is_refused_before_the_setup_says_a_line(run, capsys, caplog):
    """s68 stops 1: ``train --run-dir RUN --resume`` with a truncated last.pt said the
    setup's data lines (data checked against split.json, mask values, object sizes, the
    normalisation floor) before the one line that names the problem and the fix."""
    _, folder = run
    path = folder / "checkpoints" / "last.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    caplog.set_level(logging.INFO)
    assert main(["train", "--run-dir", str(folder), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{path}: truncated or corrupt (RuntimeError)" in err and len(err.splitlines()) == 1
    assert [r.getMessage() for r in caplog.records if r.name.startswith("unetlab")] == []


def _no_mmap(monkeypatch):
    """A filesystem where mmap fails as torch meets it (an LD_PRELOAD shim making the mmap
    call fail ENODEV, s68 review 2): UntypedStorage.from_file raises RuntimeError "unable to
    mmap N bytes from file <...>: No such device (19)"; the sizes it was asked listed."""
    import torch

    asked = []

    def from_file(name, shared=False, size=0):
        asked.append(size)
        raise RuntimeError(f"unable to mmap {size} bytes from file <{name}>: No such device (19)")

    monkeypatch.setattr(torch.UntypedStorage, "from_file", staticmethod(from_file))
    return asked


def test_a_fresh_run_saves_its_checkpoints_where_mmap_fails(tmp_path, monkeypatch, capsys):
    """s68 review 2: without mmap a fresh 2-epoch run failed at its second save, its best.pt
    read as "exists and is not a unetlab checkpoint"."""
    from unetlab.checkpoint import is_checkpoint

    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 32, 32)).astype(np.uint8)
    unetlab.write_dataset(images, (images > 128).astype(np.uint8), tmp_path / "data")
    asked = _no_mmap(monkeypatch)
    args = ["train", "--data", str(tmp_path / "data"), "--run-dir", str(tmp_path / "run")]
    assert main([*args, *TINY, "--epochs", "2"]) == 0, capsys.readouterr().err
    assert asked  # mapping was tried, and failed
    assert is_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")


@pytest.mark.parametrize("where", ["legacy save", "no mmap"])
def test_a_whole_last_pt_that_cannot_be_mapped_resumes(run, capsys, caplog, monkeypatch, where):
    """s68 review: a whole last.pt whose mapped read failed (torch maps no file in its legacy
    non-zip format; a filesystem without mmap) was called "truncated or corrupt", and
    without mmap the fix said was "start the run again with --overwrite": a good run lost."""
    import torch

    from unetlab.checkpoint import is_checkpoint

    args, folder = run
    if where == "no mmap":
        _no_mmap(monkeypatch)
    else:
        for name in ("last.pt", "best.pt"):
            path = folder / "checkpoints" / name
            torch.save(
                torch.load(path, weights_only=True), path, _use_new_zipfile_serialization=False
            )
    caplog.set_level(logging.INFO)
    assert main([*args, *TINY, "--epochs", "2", "--resume"]) == 0, capsys.readouterr().err
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("unetlab.train")]
    assert lines[0] == (
        f"resuming the run in {folder} from step 16, the end of epoch 1 (checkpoints/last.pt)"
    )
    assert is_checkpoint(folder / "checkpoints" / "best.pt")  # its parts read, not mapped


def test_a_torn_last_pt_without_mmap_offers_its_whole_best_pt(run, capsys, monkeypatch):
    """The fix of a torn last.pt where mmap fails: its best.pt, read, not mapped, is whole
    (it said "start the run again with --overwrite")."""
    args, folder = run
    path = folder / "checkpoints" / "last.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _no_mmap(monkeypatch)
    assert main([*args, *TINY, "--epochs", "2", "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    best = folder / "checkpoints" / "best.pt"
    assert err.endswith(f"start a new run from its best.pt: --init {best} --run-dir NEW"), err


def test_a_torn_last_pt_is_not_read_again_without_mmap(run, monkeypatch):
    """A torn zip file fails mapped as it does read (its directory is at its end): one
    torch.load, not a second whole read after the mapped one."""
    import torch

    from unetlab.checkpoint import load_checkpoint
    from unetlab.errors import CheckpointError

    _, folder = run
    path = folder / "checkpoints" / "last.pt"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    loads, load = [], torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(k.get("mmap")) or load(*a, **k))
    with pytest.raises(CheckpointError, match="truncated/corrupt"):
        load_checkpoint(path, mmap=True)
    assert loads == [True]


@pytest.mark.parametrize("where", ["legacy save", "no mmap"])
def test_a_checkpoint_as_encoder_weights_is_refused_where_it_cannot_be_mapped(
    tmp_path, monkeypatch, where
):
    """s68 review 2: refuse_checkpoint_as_encoder_weights mapped the file itself
    (torch.load(mmap=True)) and let a checkpoint it could not map pass as ImageNet weights."""
    import torch

    from unetlab.checkpoint import save_model
    from unetlab.errors import UnetlabError
    from unetlab.models import UNet
    from unetlab.train.init import refuse_checkpoint_as_encoder_weights

    path = tmp_path / "w.pt"
    save_model(path, UNet(depth=2, base_channels=2))
    if where == "no mmap":
        _no_mmap(monkeypatch)
    else:
        parts = torch.load(path, weights_only=True)
        torch.save(parts, path, _use_new_zipfile_serialization=False)
    said = re.escape(f"model.encoder_weights {path} is a unetlab checkpoint, not torchvision")
    with pytest.raises(UnetlabError, match=said):
        refuse_checkpoint_as_encoder_weights(path)


def _bytes_read() -> int:
    """The bytes this process has read so far (Linux's /proc/self/io rchar)."""
    with open("/proc/self/io") as io:
        return int(next(line.split()[1] for line in io if line.startswith("rchar")))


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux's /proc/self/io")
def test_the_encoder_weights_check_reads_no_tensor_of_imagenet_weights(tmp_path, monkeypatch):
    """s69: refuse_checkpoint_as_encoder_weights read a whole ImageNet file (100-500 MB)
    where mmap fails, to look at its top-level dict: 100 MB of a 100 MB file, 0.05 CPU s.
    It reads the pickle alone, the tensors on the meta device. Where mmap works there is
    nothing to see: mapped pages are no read() (rchar), whether the tensors are touched or
    not (s69 review: that case passed on the old code too; dropped)."""
    import torch

    from unetlab.train.init import refuse_checkpoint_as_encoder_weights

    path = tmp_path / "resnet.pt"  # 20 MB of weights, a state dict as torchvision's
    torch.save({f"layer{i}.weight": torch.zeros(1_000_000) for i in range(5)}, path)
    _no_mmap(monkeypatch)
    before = _bytes_read()
    refuse_checkpoint_as_encoder_weights(path)  # ImageNet weights: passed
    assert _bytes_read() - before < 1_000_000


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux's /proc/self/io")
def test_a_checkpoints_parts_are_read_without_its_tensors_where_mmap_fails(tmp_path, monkeypatch):
    """s70: checkpoint._parts (is_checkpoint, checkpoint_parts, file_source, the look before
    a checkpoint is replaced) read a whole checkpoint where mmap fails, to look at its config
    and format: 20 MB of a 20 MB file. It reads the pickle alone, as the encoder-weights
    check does, the tensors on the meta device."""
    import torch

    from unetlab.checkpoint import FORMAT, checkpoint_parts, is_checkpoint, parts_inputs

    path = tmp_path / "big.pt"  # 20 MB of weights
    model = {f"layer{i}.weight": torch.zeros(1_000_000) for i in range(5)}
    torch.save({"format": FORMAT, "config": {"in_channels": 3}, "model": model}, path)
    asked = _no_mmap(monkeypatch)
    before = _bytes_read()
    assert is_checkpoint(path) and parts_inputs(checkpoint_parts(path)) == (None, 3)
    assert asked and _bytes_read() - before < 1_000_000, _bytes_read() - before
