"""--nproc above the GPUs, or without a GPU above the CPUs this process may use, is refused
in one line naming the most, before any process starts (s36 flags 7: --nproc 8 on 2 CPUs
started 8 workers of ~250 MB for one small image, 64 did not end)."""

from __future__ import annotations

import pytest

import unetlab.distributed
from unetlab.cli import main
from unetlab.data.synthetic import write_synthetic_dataset
from unetlab.errors import UnetlabError


@pytest.fixture
def two_cpus(monkeypatch):
    """2 CPUs, and no process started (a launch fails the test instead)."""
    monkeypatch.setattr(unetlab.distributed, "available_cpus", lambda: 2)

    def launch(*args, **kwargs):
        raise AssertionError("processes launched")

    monkeypatch.setattr(unetlab.distributed, "launch", launch)


def _said(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_predict_nproc_above_the_cpus_is_refused(two_cpus, tmp_path, capsys):
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path)]
    argv += ["--output", str(tmp_path / "out"), "--device", "cpu", "--nproc", "3"]
    assert main(argv) == 2
    assert _said(capsys).endswith(
        "--nproc 3 but this process may use 2 CPUs and no GPU: "
        "each process holds a copy of the model and its data on CPUs "
        "of its own; --nproc 2 at most"
    )
    assert not (tmp_path / "out").exists()


def test_train_nproc_above_the_cpus_is_refused_before_the_run_folder(two_cpus, tmp_path, capsys):
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    argv = ["train", "--data", str(root), "--run-dir", str(tmp_path / "r"), "--nproc", "8"]
    assert main([*argv, "--set", "train.device=cpu"]) == 2
    assert "--nproc 2 at most" in _said(capsys)
    assert not (tmp_path / "r").exists()


def test_nproc_above_the_gpus_is_refused(monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(UnetlabError, match="--nproc 4 but 2 GPU.*--nproc 2 at most"):
        unetlab.distributed.check_nproc(4, "cuda")
    unetlab.distributed.check_nproc(2, "cuda")
