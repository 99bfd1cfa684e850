"""Bad command-line values end in one line and exit 2 before any work or any file is written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from unetlab.cli import main

BENCH = ["bench", "--preset", "small", "--quick", "--tile-size", "64", "--repeat", "1"]


@pytest.fixture(autouse=True)
def _keep_malloc(monkeypatch):
    monkeypatch.setenv("UNETLAB_TUNE_ALLOCATOR", "0")  # keep this test process's malloc as is


def _error(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err.strip()


def test_bench_refuses_a_foreign_json_file_before_measuring(tmp_path, capsys):
    foreign = tmp_path / "bj.json"
    foreign.write_text("mine\n")
    assert main([*BENCH, "--json", str(foreign)]) == 2
    err = _error(capsys)
    assert "was not written by unetlab" in err and "--overwrite" in err
    assert foreign.read_text() == "mine\n"
    assert main([*BENCH, "--json", str(tmp_path)]) == 2
    assert "is a folder" in _error(capsys)


def test_bench_json_overwrite_replaces_a_foreign_file(tmp_path, monkeypatch):
    monkeypatch.setattr("unetlab.cli.bench._measure", lambda *a: [{"what": "w"}])
    foreign = tmp_path / "bj.json"
    foreign.write_text("mine\n")
    assert main([*BENCH, "--image-size", "16", "--json", str(foreign), "--overwrite"]) == 0
    assert '"rows"' in foreign.read_text()
    assert main([*BENCH, "--image-size", "16", "--json", str(foreign)]) == 0  # ours now


def test_an_empty_checkpoint_path_is_said_empty(tmp_path, capsys):
    """evaluate --checkpoint '' said ". is a folder, not a checkpoint file" (s70 review)."""
    from unetlab.checkpoint import load_checkpoint
    from unetlab.errors import CheckpointError

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / sub / "a.png")
    said = "--checkpoint is empty (''): give a .pt checkpoint file (a run's checkpoints/"
    assert main(["evaluate", "--checkpoint", "", "--data", str(tmp_path)]) == 2
    assert said in _error(capsys)
    # refused before the data is read (a folder not there was said first, s70 re-review)
    assert main(["evaluate", "--checkpoint", "", "--data", str(tmp_path / "gone")]) == 2
    assert said in _error(capsys)
    with pytest.raises(CheckpointError, match=r"the checkpoint's path is empty \(''\)"):
        load_checkpoint("")


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--image-size", "-5"], "--image-size must be a positive number of pixels, not -5"),
        (["--image-size", "0"], "--image-size must be a positive number of pixels, not 0"),
        (["--tile-size", "0"], "--tile-size must be a positive number of pixels, not 0"),
        (["--tile-size", "-1"], "--tile-size must be a positive number of pixels, not -1"),
        (["--repeat", "0"], "--repeat must be at least 1, not 0"),
    ],
)
def test_bench_refuses_sizes_and_counts_below_one(flags, message, capsys):
    assert main([*BENCH, *flags]) == 2
    assert _error(capsys).endswith(message)


@pytest.fixture
def checkpoint(tmp_path):
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    return str(save_model(tmp_path / "m.pt", UNet(1, 2, depth=3, base_channels=4)))


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_export_refuses_a_pixel_size_that_is_not_positive(value, checkpoint, tmp_path, capsys):
    package = tmp_path / "pkg"
    argv = ["export", "--checkpoint", checkpoint, "--bioimageio", str(package)]
    assert main([*argv, "--pixel-size", value]) == 2
    assert "--pixel-size must be a positive number of micrometres" in _error(capsys)
    assert not package.exists()


@pytest.mark.parametrize("value", ["-1", "0"])
def test_export_refuses_an_input_size_below_one(value, checkpoint, tmp_path, capsys):
    argv = ["export", "--checkpoint", checkpoint, "--onnx", str(tmp_path / "m.onnx")]
    assert main([*argv, "--input-size", value]) == 2
    assert f"--input-size must be a positive number of pixels, not {value}" in _error(capsys)


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["summary", "--input-size", "0"],
            "--input-size must be a positive number of pixels, not 0",
        ),
        (
            ["summary", "--input-size", "-1"],
            "--input-size must be a positive number of pixels, not -1",
        ),
        (["sizes", "--near", "-5"], "--near must be a positive number of pixels, not -5"),
        (["sizes", "--near", "0"], "--near must be a positive number of pixels, not 0"),
        (["sizes", "0"], "N must be a positive number of pixels, not 0"),  # it said --near
        (["sizes", "-5"], "N must be a positive number of pixels, not -5"),
        (
            [
                "predict",
                "--checkpoint",
                "m.pt",
                "--input",
                "x",
                "--output",
                "o",
                "--tile-size",
                "0",
            ],
            "--tile-size must be a positive number of pixels, not 0",
        ),
        (
            ["evaluate", "--checkpoint", "m.pt", "--data", "x", "--tile-size", "-1"],
            "--tile-size must be a positive number of pixels, not -1",
        ),
    ],
)
def test_size_flags_refuse_sizes_below_one(argv, message, capsys):
    assert main(argv) == 2
    assert _error(capsys).endswith(message)


def test_demo_refuses_a_missing_gpu_before_writing_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--device", "cuda", "--output", str(out)]) == 2
    assert "no CUDA GPU is available" in _error(capsys)
    assert not out.exists()


def _export_from(checkpoint, tmp_path) -> list[str]:
    return ["export", "--checkpoint", str(checkpoint), "--onnx", str(tmp_path / "out.onnx")]


def test_an_onnx_file_as_checkpoint_asks_for_the_pt_file(tmp_path, capsys):
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch" + bytes(64))  # the start of a ModelProto
    assert main(_export_from(onnx, tmp_path)) == 2
    err = _error(capsys)
    assert "an ONNX export cannot be loaded back" in err and ".pt checkpoint" in err


def test_a_run_folder_as_checkpoint_names_its_best_checkpoint(checkpoint, tmp_path, capsys):
    run = tmp_path / "runs" / "base"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(checkpoint, run / "checkpoints" / "best.pt")
    assert main(_export_from(run, tmp_path)) == 2
    assert _error(capsys).endswith(
        f"{run} is a folder, not a checkpoint file: give {run}/checkpoints/best.pt"
    )
    assert main(_export_from(tmp_path / "runs", tmp_path)) == 2
    assert "is a folder, not a checkpoint file: give a .pt checkpoint file" in _error(capsys)


@pytest.mark.parametrize(
    "flags, message",
    [
        ([], "exists and is not a package unetlab wrote"),
        (["--name", "x"], "choose another --name"),
        (["--weights", "keras"], "unknown weight format ['keras']: choose from"),
    ],
)
def test_export_refuses_a_bad_package_before_writing_onnx(
    flags, message, checkpoint, tmp_path, capsys
):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "notes.txt").write_text("mine\n")
    package = tmp_path / ("pkg" if not flags else "new")
    onnx = tmp_path / "m.onnx"
    argv = ["export", "--checkpoint", checkpoint, "--onnx", str(onnx), "--bioimageio", str(package)]
    assert main([*argv, *flags]) == 2
    assert message in _error(capsys)
    assert not onnx.exists() and not (tmp_path / "new").exists()


@pytest.mark.parametrize("kind", ["mps", "meta"])
def test_a_device_kind_unetlab_does_not_run_on_is_refused_before_writing(
    kind, checkpoint, tmp_path, capsys
):
    """torch parses 'mps', 'xpu' and 'meta': a Mac user's --device mps ended in a traceback
    calling itself a bug, and 'meta' left a record in a new output folder (s36 flags 5)."""
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(image)
    out = tmp_path / "out"
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(image), "--output", str(out)]
    assert main([*argv, "--device", kind]) == 2
    assert _error(capsys).endswith(
        f"device '{kind}' is not one unetlab runs on (CPU and CUDA GPUs only): use --device cpu"
    )
    assert not out.exists()
