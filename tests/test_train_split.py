"""train --split: a new run on the files another run's split.json lists, to repeat it
exactly (audit s30 ops 1)."""

from __future__ import annotations

import json
import shutil

import pytest

from unetlab.cli import main
from unetlab.data.synthetic import write_synthetic_dataset

pytestmark = pytest.mark.usefixtures("one_thread")

#: one epoch of a small net (the split, not the net, is what these tests look at)
FAST = ["--no-plan", "--no-progress", "--epochs", "1", "--set", "data.tile_size=64"]
FAST += ["--set", "model.depth=2", "--set", "model.base_channels=4"]
FAST += ["--set", "data.tiles_per_epoch=8"]


def test_a_run_repeated_with_split_trains_on_its_files(tmp_path, capsys):
    root = write_synthetic_dataset(tmp_path / "em", n_train=3, n_val=1, size=64)
    first = tmp_path / "runs" / "a"
    assert main(["train", "--data", str(root), "--run-dir", str(first), *FAST]) == 0
    shutil.copy(root / "val" / "images" / "00.png", root / "train" / "images" / "99.png")
    shutil.copy(root / "val" / "masks" / "00.png", root / "train" / "masks" / "99.png")
    config, again = str(first / "config.yaml"), tmp_path / "runs" / "again"
    argv = ["train", "--config", config, "--run-dir", str(again), *FAST]
    assert main([*argv, "--split", str(first)]) == 0
    recorded = json.loads((first / "split.json").read_text())
    repeated = json.loads((again / "split.json").read_text())
    assert repeated["train"] == recorded["train"] and repeated["val"] == recorded["val"]
    assert "99.png" in (again / "train.log").read_text()  # named as left out
    capsys.readouterr()
    assert main([*argv, "--overwrite", "--split", str(tmp_path)]) == 2
    assert "no such split record" in capsys.readouterr().err


def test_a_changed_file_of_the_split_is_refused_with_the_fix_of_a_new_run(tmp_path, capsys):
    # the fix was a resume's: "train on the folder as it is in a new run (another --run-dir,
    # or --overwrite)", which --split already is (review s30 finding 6)
    root = write_synthetic_dataset(tmp_path / "em", n_train=3, n_val=1, size=64)
    first = tmp_path / "runs" / "a"
    assert main(["train", "--data", str(root), "--run-dir", str(first), *FAST]) == 0
    shutil.copy(root / "val" / "images" / "00.png", root / "train" / "images" / "00.png")
    again = ["train", "--data", str(root), "--run-dir", str(tmp_path / "runs" / "b"), *FAST]
    capsys.readouterr()
    assert main([*again, "--split", str(first)]) == 2
    err = capsys.readouterr().err
    assert "train/images/00.png" in err and "the run repeated (--split, split=)" in err
    assert err.rstrip().endswith("drop --split (split=None) to split the folder as it is now")
    assert "--overwrite" not in err and not (tmp_path / "runs" / "b" / "split.json").exists()


def test_the_warning_names_split_as_the_way_to_repeat_a_run(tmp_path):
    from unetlab.train.repeat import describe_other_data

    record = {"train": [{}] * 4, "val": [{}] * 2}
    differences = {"added": ["x.png"], "missing": [], "changed": [], "moved": []}
    path = tmp_path / "split.json"
    text = describe_other_data(path, record, differences, (5, 2))
    assert text.endswith(f"train on the files it lists: add --split {path}")


@pytest.mark.parametrize("given", ["run", "run/split.json"])
def test_split_of_a_run_without_split_json_says_it_predates_it(tmp_path, capsys, given):
    """A run folder of an older unetlab (config.yaml, checkpoints/, no split.json): the line
    says so and how its split is drawn again (audit s31 upgrade 3)."""
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    old = tmp_path / "run"
    (old / "checkpoints").mkdir(parents=True)
    (old / "config.yaml").write_text("data:\n  seed: 3\n  val_fraction: 0.25\n")
    argv = ["train", "--data", str(root), "--run-dir", str(tmp_path / "b"), "--check"]
    assert main([*argv, "--split", str(tmp_path / given)]) == 2
    err = capsys.readouterr().err
    assert "older unetlab, which recorded no split.json" in err and err.count("\n") == 1
    assert "data.seed 3, data.val_fraction 0.25" in err
    assert f"--config {old / 'config.yaml'}" in err
