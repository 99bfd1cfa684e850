"""A model saved over a run's last.pt (save_model(..., overwrite=True)) is refused by
--resume in one line, not a bare KeyError 'optimizer' reported as a bug (audit s32
notebook 2)."""

from __future__ import annotations

import numpy as np

import unetlab
from unetlab.checkpoint import load_model, save_model
from unetlab.cli import main


def test_resume_from_a_plain_model_names_init(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 32, 32)).astype(np.uint8)
    unetlab.write_dataset(images, (images > 128).astype(np.uint8), tmp_path / "data")
    args = ["train", "--data", str(tmp_path / "data"), "--run-dir", str(tmp_path / "run")]
    tiny = ["--no-plan", "--epochs", "1", "--set", "model.depth=2", "--set", "data.tile_size=32"]
    assert main([*args, *tiny]) == 0
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    save_model(last, load_model(last), overwrite=True)
    capsys.readouterr()
    assert main([*args, *tiny, "--epochs", "2", "--resume"]) != 0
    err = capsys.readouterr().err
    assert "holds no training state" in err and f"--init {last}" in err
    assert "bug" not in err and "KeyError" not in err
