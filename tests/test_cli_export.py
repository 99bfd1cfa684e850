"""`unetlab export`: paths refused before any work, each with the one line it gives."""

from __future__ import annotations

import pytest

from unetlab.cli import main


@pytest.fixture
def checkpoint(tmp_path):
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    return str(save_model(tmp_path / "m.pt", UNet(1, 2, depth=3, base_channels=4)))


SAME = "{first} and {second} both name {here}/same.x: give each format its own file"


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (["--onnx", "same.x", "--torchscript", "same.x"], SAME),
        (["--onnx", "same.x", "--bioimageio", "./same.x"], SAME),
        (["--torchscript", "pkg/../same.x", "--bioimageio", "same.x"], SAME),
        (
            ["--onnx", "pkg/m.onnx", "--bioimageio", "pkg"],
            "--onnx {here}/pkg/m.onnx lies inside the --bioimageio folder {here}/pkg: write it "
            "elsewhere (the package replaces its folder whole)",
        ),
    ],
)
def test_export_refuses_two_formats_in_one_path(
    outputs, message, checkpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--checkpoint", checkpoint, *outputs]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    line = message.format(first=outputs[0], second=outputs[2], here=tmp_path.resolve())
    assert captured.err.strip() == f"unetlab export: error: {line}"
    assert not (tmp_path / "same.x").exists() and not (tmp_path / "pkg").exists()
