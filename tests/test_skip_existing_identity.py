"""``--skip-existing``'s refusal of outputs another model made tells "this checkpoint" by
the record's sha256 (as the outputs' key does), not by the text before the first ", " of its phrase
(s44 small 1: two checkpoints in folders named ``a, b`` and ``a, c`` read as the same one,
and the same checkpoint was named ``checkpoint .../a``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main


@pytest.fixture
def work(tmp_path):
    (tmp_path / "in").mkdir()
    image = np.random.default_rng(0).integers(0, 255, (24, 20), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "in" / "00.png")
    for seed, folder in enumerate(("a, b", "a, c")):
        (tmp_path / folder).mkdir()
        torch.manual_seed(seed)
        net = UNet(1, 2, depth=2, base_channels=2, padding="same")
        save_model(tmp_path / folder / "m.pt", net)
    return tmp_path


def _predict(work: Path, checkpoint: str, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / checkpoint), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *extra])


def _error(capsys) -> str:
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    return line


def test_another_checkpoint_whose_path_starts_alike_is_another_model(work, capsys):
    assert _predict(work, "a, b/m.pt") == 0
    assert _predict(work, "a, c/m.pt", "--skip-existing") == 2
    line = _error(capsys)
    assert "holds another model's outputs" in line, line
    assert "this checkpoint's" not in line
    assert f"were made by checkpoint {work / 'a, b' / 'm.pt'} (sha256 " in line


def test_the_same_checkpoint_is_named_whole_and_only_settings_differ(work, capsys):
    assert _predict(work, "a, b/m.pt") == 0
    assert _predict(work, "a, b/m.pt", "--tile-size", "16", "--skip-existing") == 2
    line = _error(capsys)
    assert "other settings (the defaults there, tile size 16 here)" in line, line
    assert f"by checkpoint {work / 'a, b' / 'm.pt'} (sha256 " in line


def test_a_copy_of_the_checkpoint_elsewhere_is_the_same_model(work, capsys):
    """The outputs' key tells a model by its sha256 (a copy's outputs are skipped as its
    own); the refusal of other settings said "another model's outputs" of the same sha256
    at another path."""
    (work / "copy").mkdir()
    (work / "copy" / "m.pt").write_bytes((work / "a, b" / "m.pt").read_bytes())
    assert _predict(work, "a, b/m.pt") == 0
    assert _predict(work, "copy/m.pt", "--skip-existing") == 0  # skipped: the same model
    assert _predict(work, "copy/m.pt", "--tile-size", "16", "--skip-existing") == 2
    line = _error(capsys)
    assert "other settings (the defaults there, tile size 16 here)" in line, line
    assert "another model's" not in line
