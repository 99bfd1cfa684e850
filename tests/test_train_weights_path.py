"""Where a run's encoder weights file is (s30): model.encoder_weights from --config or --set is
read from the current folder and recorded absolute, as data.root; a resume keeps the run's."""

from pathlib import Path

import numpy as np
import pytest

import unetlab.train
from unetlab.cli import main
from unetlab.config import load_config, save_config
from unetlab.data.io import write_png

from .test_train_safety import a_checkpoint

TINY = ["--no-plan", "--epochs", "1", "--set", "model.encoder=resnet50"]
RESULT = {"best_checkpoint": "last.pt", "best_val_miou": None, "val": {}}


@pytest.fixture
def given(tmp_path, monkeypatch) -> list:
    """The configs the CLI hands to fit (which is not run: the test is of the command line)."""
    root = tmp_path / "data"
    for i in range(2):
        write_png(root / "images" / f"{i:02d}.png", np.full((32, 32), 9 * i, np.uint8))
        write_png(root / "masks" / f"{i:02d}.png", np.tile([0, 255], (32, 16)).astype(np.uint8))
    seen = []

    def fit(cfg, **kwargs):
        seen.append((cfg, kwargs["resume"]))
        return RESULT

    monkeypatch.setattr(unetlab.train, "fit", fit)
    monkeypatch.chdir(tmp_path)
    return seen


def test_an_empty_weights_path_stays_none(given):
    """training reads "" as no weights file: it must not become the current folder."""
    assert (
        main(
            [
                "train",
                "--data",
                "data",
                "--run-dir",
                "run",
                *TINY,
                "--set",
                'model.encoder_weights=""',
            ]
        )
        == 0
    )
    assert given[0][0].model.encoder_weights == ""


@pytest.mark.parametrize("how", ["set", "config", "home"])
def test_a_relative_weights_file_is_recorded_absolute(tmp_path, given, monkeypatch, how):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if how == "config":
        (tmp_path / "cfg.yaml").write_text("model: {encoder_weights: w/resnet50.pth}\n")
        args = ["--config", "cfg.yaml"]
    else:
        where = "~/w" if how == "home" else "w"
        args = ["--set", f"model.encoder_weights={where}/resnet50.pth"]
    assert main(["train", "--data", "data", "--run-dir", "run", *TINY, *args]) == 0
    folder = tmp_path / "home" if how == "home" else tmp_path
    assert given[0][0].model.encoder_weights == str(folder / "w" / "resnet50.pth")


def _run(folder: Path, weights: str) -> Path:
    """A run folder that saved a checkpoint, its config.yaml naming ``weights``."""
    cfg = load_config(None, ["model.encoder=resnet50", f"model.encoder_weights={weights}"])
    cfg.data.root = str(folder.parent / "data")
    a_checkpoint(folder / "checkpoints" / "last.pt")
    save_config(cfg, folder / "config.yaml")
    return folder


def test_a_resume_keeps_the_runs_weights_file_given_again_or_not(
    tmp_path, given, capsys, monkeypatch
):
    weights = str(tmp_path / "w" / "resnet50.pth")
    run = _run(tmp_path / "run", weights)
    again = [*TINY[-2:], "--set", "model.encoder_weights=w/resnet50.pth"]  # the first command's
    for extra in ([], again):
        assert main(["train", "--run-dir", "run", "--resume", *extra]) == 0
        assert given[-1] == (given[-1][0], True)
        assert given[-1][0].model.encoder_weights == weights
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the same words name another file here: refused
    assert main(["train", "--run-dir", str(run), "--resume", *again]) == 2
    err = capsys.readouterr().err
    assert f"model.encoder_weights {elsewhere / 'w' / 'resnet50.pth'} (the run's: {weights})" in err
    assert main(["train", "--run-dir", str(run), "--resume"]) == 0
    assert given[-1][0].model.encoder_weights == weights


def test_an_older_runs_relative_weights_file_is_resumed_as_recorded(tmp_path, given):
    """A run from before weights were recorded absolute: its config.yaml is the run's, and a
    resume must not differ from it (fit refuses a changed model key)."""
    _run(tmp_path / "run", "w/resnet50.pth")
    for extra in ([], [*TINY[-2:], "--set", "model.encoder_weights=w/resnet50.pth"]):
        assert main(["train", "--run-dir", "run", "--resume", *extra]) == 0
        assert given[-1][0].model.encoder_weights == "w/resnet50.pth"
