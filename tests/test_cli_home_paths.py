"""A ``~`` the shell left alone (``--run-dir=~/runs/a``, a quoted path, run.dir in a YAML
file) is the home folder in every file and folder flag, as in predict's and evaluate's: a
command given it as it is made a folder named ``~`` in the working one (audit s37 paths)."""

from pathlib import Path

import numpy as np
import pytest

import unetlab.train
from unetlab.cli import build_parser, main
from unetlab.data.io import write_png

#: (command line, the argument's dest) of each flag that names a file or folder
PATH_FLAGS = [
    (["train", "--data=~/x"], "data"),
    (["train", "--config=~/x"], "config"),
    (["train", "--init=~/x"], "init"),
    (["train", "--run-dir=~/x"], "run_dir"),
    (["train", "--preview=~/x"], "preview"),
    (["train", "--split=~/x"], "split"),
    (["predict", "--checkpoint=~/c", "--input=~/x", "--output=~/o"], "input"),
    (["predict", "--checkpoint=~/c", "--input=~/i", "--output=~/x"], "output"),
    (["evaluate", "--json=~/x"], "json"),
    (["evaluate", "--confusion=~/x"], "confusion"),
    (["export", "--checkpoint=~/x"], "checkpoint"),
    (["export", "--checkpoint=c", "--onnx=~/x"], "onnx"),
    (["export", "--checkpoint=c", "--torchscript=~/x"], "torchscript"),
    (["export", "--checkpoint=c", "--bioimageio=~/x"], "bioimageio"),
    (["export", "--checkpoint=c", "--sample=~/x"], "sample"),
    (["compare", "~/x"], "runs"),
    (["compare", "r", "--out=~/x"], "out"),
    (["demo", "--output=~/x"], "output"),
    (["bench", "--json=~/x"], "json"),
    (["weightmap", "~/x", "--output=o"], "masks"),
    (["weightmap", "m", "--output=~/x"], "output"),
]


@pytest.mark.parametrize(("argv", "dest"), PATH_FLAGS, ids=lambda v: str(v))
def test_a_tilde_in_a_path_flag_is_the_home(argv, dest, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    value = getattr(build_parser().parse_args(argv), dest)
    assert (value[0] if isinstance(value, list) else value) == str(tmp_path / "x")


def test_weightmap_output_tilde_writes_in_the_home_not_a_folder_named_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    write_png(tmp_path / "m.png", np.tile([0, 255], (16, 8)).astype(np.uint8))
    assert main(["weightmap", "m.png", "--output=~/maps"]) == 0
    assert (tmp_path / "home" / "maps" / "m_weights.tif").is_file()
    assert not (tmp_path / "~").exists()


def test_run_dir_of_a_config_is_read_with_its_tilde(two_pair_data, tmp_path, monkeypatch):
    """run.dir: ~/runs (a YAML file's, or --set's) is the home's runs/, as --run-dir's."""
    seen = []

    def fit(cfg, **kwargs):
        seen.append(kwargs["run_dir"])
        return {"best_checkpoint": "last.pt", "best_val_miou": None, "val": {}}

    monkeypatch.setattr(unetlab.train, "fit", fit)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    args = ["--no-plan", "--epochs", "1", "--set", "run.dir=~/runs", "--set", "run.name=a"]
    assert main(["train", "--data", str(two_pair_data), *args]) == 0
    assert Path(seen[0]) == tmp_path / "home" / "runs" / "a"
    assert not (tmp_path / "~").exists()
