"""``evaluate --checkpoint --data`` on a folder of images without masks (audit s41 training):
the "no data set found" line points to ``unetlab predict``, which segments images without
masks, with a command that pastes back (the folder shell-quoted)."""

from __future__ import annotations

import shlex

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png


def _error(argv, capsys) -> str:
    assert main(argv) != 0
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("inside", ["", "images"])
def test_images_without_masks_are_pointed_to_predict(tmp_path, capsys, inside):
    data = tmp_path / "my images"
    (data / inside).mkdir(parents=True)
    for stem in ("a", "b"):
        write_png(data / inside / f"{stem}.png", np.zeros((8, 8), np.uint8))
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"")
    line = _error(["evaluate", "--checkpoint", str(checkpoint), "--data", str(data)], capsys)
    assert "no data set found" in line and "unetlab predict" in line
    words = shlex.split(line.split("unetlab predict")[1])
    assert words[:4] == ["--checkpoint", str(checkpoint), "--input", str(data / inside)]


def test_a_folder_of_no_images_is_not_pointed_to_predict(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("x")
    checkpoint = tmp_path / "best.pt"
    checkpoint.write_bytes(b"")
    line = _error(
        ["evaluate", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "data")], capsys
    )
    assert "no data set found" in line and "predict" not in line
