"""save_model replaces no file it did not write (audit s32 notebook 2: a user's PNG became
a checkpoint), and a model saved over a run's last.pt is refused by resume in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from unetlab.checkpoint import (
    check_training_state,
    load_checkpoint,
    missing_training_state,
    save_model,
)
from unetlab.data.io import write_png
from unetlab.errors import CheckpointError, OutputError, first_line
from unetlab.models import UNet


def tiny() -> UNet:
    return UNet(1, 2, depth=2, base_channels=2, padding="same")


def test_an_image_or_any_other_file_is_never_replaced(tmp_path):
    png = tmp_path / "frame05.png"
    write_png(png, np.arange(64, dtype=np.uint16).reshape(8, 8))
    other = tmp_path / "notes.pt"
    other.write_text("my notes")
    (tmp_path / "folder.pt").mkdir()
    cases = [
        (png, r"a checkpoint is no \.png image: give a \.pt path"),
        (tmp_path / "new.tif", r"a checkpoint is no \.tif image"),
        (other, "exists and is not a unetlab checkpoint: save_model replaces no other file"),
        (tmp_path / "folder.pt", "exists and is not a unetlab checkpoint"),
    ]
    before = png.read_bytes()
    for path, message in cases:
        for overwrite in (False, True):
            with pytest.raises(OutputError, match=message) as err:
                save_model(path, tiny(), overwrite=overwrite)
            assert "\n" not in str(err.value)
    assert png.read_bytes() == before and other.read_text() == "my notes"
    assert not (tmp_path / "new.tif").exists()


def test_a_checkpoint_is_replaced_only_when_asked(tmp_path):
    path = save_model(tmp_path / "m.pt", tiny(), step=1)
    with pytest.raises(OutputError, match="m.pt is a checkpoint already: pass overwrite=True"):
        save_model(path, tiny(), step=2)
    assert load_checkpoint(path)["step"] == 1
    save_model(path, tiny(), overwrite=True, step=3)
    assert load_checkpoint(path)["step"] == 3
    run = {"optimizer": {}, "scaler": {}, "rng": torch.zeros(1), "train_state": {"step": 1}}
    last = save_model(tmp_path / "last.pt", tiny(), **run)
    with pytest.raises(OutputError, match="pass overwrite=True"):
        save_model(last, tiny(), **run | {"train_state": {"step": 2}})
    save_model(last, tiny(), overwrite=True, **run | {"train_state": {"step": 2}})  # a run's
    assert load_checkpoint(last)["train_state"] == {"step": 2}
    # s54: save_model (Python's alone) said "which --resume needs"
    with pytest.raises(OutputError, match="holding a training run's state, which resume=True"):
        save_model(last, tiny())  # a plain model over a run's last.pt


def test_resuming_from_a_plain_model_is_one_line_naming_init(tmp_path):
    path = save_model(tmp_path / "last.pt", tiny())
    checkpoint = load_checkpoint(path)
    assert missing_training_state(checkpoint) == ["optimizer", "scaler", "train_state", "rng"]
    with pytest.raises(CheckpointError, match="holds no training state") as err:
        check_training_state(checkpoint, path)
    # s54: both forms to each caller ("--init PATH (in Python: cfg.model.init_checkpoint)")
    python, cli = str(err.value), first_line(err.value, cli=True)
    assert python.endswith(f"with cfg.model.init_checkpoint = {str(path)!r}") and "\n" not in python
    assert cli.endswith(f"with --init {path}") and "cfg." not in cli
    check_training_state({"optimizer": 1, "scaler": 1, "train_state": 1, "rng": 1}, path)


#: each command with what it needs besides --checkpoint (data it reads before the model: s68's
#: test gave evaluate no data folder, which it refused before reading the checkpoint)
PICKLE_COMMANDS = {
    "predict": ["--input", "data/images", "--output", "out"],
    "export": ["--onnx", "model.onnx", "--no-check"],
    "evaluate": ["--data", "data"],
}


@pytest.mark.parametrize("command", sorted(PICKLE_COMMANDS))
def test_a_plain_pickle_given_as_a_checkpoint_is_one_line_without_torch_s_warning(
    tmp_path, monkeypatch, capsys, recwarn, command
):
    """s68 review 2: a pickle.dump file showed torch's two-line UserWarning ("Detected pickle
    protocol 4 ...") above evaluate's line; s69 deploy walk: predict's and export's too, where
    only evaluate's fallback read was silenced. One line, and no warning, for all three."""
    import pickle

    from unetlab.cli import main

    monkeypatch.chdir(tmp_path)
    for folder in ("images", "masks"):
        write_png(tmp_path / "data" / folder / "00.png", np.zeros((16, 16), np.uint8))
    Path("pickle.pt").write_bytes(pickle.dumps({"a": 1}, protocol=4))
    args = [command, "--checkpoint", "pickle.pt", *PICKLE_COMMANDS[command]]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pickle.pt: not a unetlab checkpoint" in err[0], err
    assert [str(w.message) for w in recwarn] == []


def test_only_the_pickle_protocol_warning_is_silenced(tmp_path, monkeypatch):
    """Pins that torch.load's other warnings still show (s69 review: ignoring every warning
    passed all the tests above)."""
    import warnings

    from unetlab.checkpoint import load_torch_file

    def warning_load(*args, **kwargs):
        warnings.warn("Detected pickle protocol 4 in the checkpoint", UserWarning, stacklevel=2)
        warnings.warn("another of torch's warnings", UserWarning, stacklevel=2)
        return {"a": 1}

    monkeypatch.setattr(torch, "load", warning_load)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert load_torch_file(tmp_path / "m.pt", "cpu", mmap=False) == {"a": 1}
    assert [str(w.message) for w in caught] == ["another of torch's warnings"]
