"""Training again from a run's config.yaml warns when the data is no longer the files its
split.json lists (audit s30 ops 1)."""

from __future__ import annotations

import logging
import shutil

import pytest

from unetlab.cli import main
from unetlab.config import Config, save_config
from unetlab.data.datasets import split_pairs
from unetlab.data.split_record import split_differences, split_record, write_split
from unetlab.data.synthetic import write_synthetic_dataset
from unetlab.train.repeat import other_data


@pytest.fixture
def recorded(tmp_path):
    """(data folder of 4 + 2 images, the run folder's config.yaml beside its split.json)."""
    root = write_synthetic_dataset(tmp_path / "em", n_train=4, n_val=2, size=64)
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    cfg = Config()
    cfg.data.root, cfg.data.tile_size, cfg.model.preset = str(root), 64, "small"
    # a net and an epoch small enough for the runs trained from it: the data is what counts
    cfg.model.depth, cfg.model.base_channels, cfg.data.tiles_per_epoch = 2, 4, 8
    save_config(cfg, run / "config.yaml", header="resolved config of a unetlab run")
    write_split(run / "split.json", split_record(root, *split_pairs(root, quiet=True)))
    return root, run / "config.yaml", cfg


def _add_one(root):
    shutil.copy(root / "val" / "images" / "00.png", root / "train" / "images" / "99.png")
    shutil.copy(root / "val" / "masks" / "00.png", root / "train" / "masks" / "99.png")


def test_the_same_files_say_nothing(recorded):
    _, config, cfg = recorded
    assert other_data(config, cfg) is None


def test_added_and_changed_files_are_named(recorded):
    root, config, cfg = recorded
    _add_one(root)
    shutil.copy(root / "train" / "masks" / "02.png", root / "train" / "masks" / "01.png")
    warning = other_data(config, cfg)
    assert "added to the folder, or readable only now, since: 1 (train/images/99.png)" in warning
    assert "changed (their sha256 differs): 1 (train/masks/01.png)" in warning
    assert "5 training and 2 validation images (the run had 4 and 2)" in warning
    assert "to repeat" in warning


def test_a_redrawn_split_is_named_as_moved(recorded):
    root, config, _ = recorded
    record = split_record(root, *split_pairs(root, quiet=True))
    train, val = split_pairs(root, quiet=True)
    differences = split_differences(record, train[1:], val + train[:1], root)
    assert differences["moved"] == ["train/images/00.png"]
    (root / "val" / "images" / "01.png").unlink()
    assert split_differences(record, train, val[:1], root)["missing"] == ["val/images/01.png"]


def test_a_config_with_no_split_beside_it_is_no_run(recorded, tmp_path):
    root, config, cfg = recorded
    _add_one(root)
    elsewhere = tmp_path / "mine.yaml"
    shutil.copy(config, elsewhere)
    assert other_data(elsewhere, cfg) is None


@pytest.mark.usefixtures("one_thread")
def test_train_from_a_runs_config_warns(recorded, tmp_path, caplog):
    root, config, _ = recorded
    _add_one(root)
    argv = ["train", "--config", str(config), "--run-dir", str(tmp_path / "again")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--check", "--no-plan"]) == 0
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("train/images/99.png" in line for line in warned), warned


def test_the_listed_split_leaves_out_files_added_since(recorded, caplog):
    from unetlab.data.split_record import read_split
    from unetlab.train.resume import listed_split

    root, config, cfg = recorded
    _add_one(root)
    record = read_split(config.parent / "split.json")
    with caplog.at_level(logging.INFO):
        train, val = listed_split(record, cfg, doing="training")
    assert [p.image.name for p in train] == ["00.png", "01.png", "02.png", "03.png"]
    assert len(val) == 2
    assert "training on the 4 training and 2 validation images the run recorded" in caplog.text


def test_a_split_drawn_again_alone_names_the_settings_not_the_files(tmp_path):
    from unetlab.train.repeat import describe_other_data

    record = {"train": [{}] * 4, "val": [{}] * 2}
    differences = {"added": [], "missing": [], "changed": [], "moved": ["a.png", "b.png"]}
    text = describe_other_data(tmp_path / "split.json", record, differences, (4, 2))
    assert "moved between training and validation (the split drawn again): 2" in text
    assert "to repeat" in text and "keep its data.seed and data.val_fraction" in text


FAST = ["--no-plan", "--no-progress", "--epochs", "1", "--set", "data.tile_size=64"]


@pytest.mark.usefixtures("one_thread")
def test_the_warning_reaches_the_new_runs_train_log(recorded, tmp_path, caplog):
    # review s30: it reached stderr only, logged before fit opened train.log
    root, config, _ = recorded
    _add_one(root)
    again = tmp_path / "again"
    argv = ["train", "--config", str(config), "--run-dir", str(again), *FAST]
    with caplog.at_level(logging.INFO):
        assert main(argv) == 0
    said = [r.getMessage() for r in caplog.records if "train/images/99.png" in r.getMessage()]
    # 99.png copies val's 00.png: also warned as a copy (audit s31 fewshot 1)
    warned = [m for m in said if "is a copy of training image" not in m]
    assert len(warned) == 1 and warned[0].startswith("warning: the data differs"), warned
    assert len(said) == 2
    log = (again / "train.log").read_text()
    assert "warning: the data differs" in log and "train/images/99.png" in log


@pytest.mark.usefixtures("one_thread")
def test_fit_warns_only_for_a_new_run_from_a_runs_config(recorded, tmp_path):
    from unetlab.config import load_config
    from unetlab.train import fit

    root, config, _ = recorded
    _add_one(root)
    cfg = load_config(config, ["train.epochs=1", "data.tile_size=64"])
    fit(cfg, run_dir=tmp_path / "b", progress=False, config_file=config)
    # the warning itself: 99.png is named by the copy warning too (review s60)
    assert "warning: the data differs" in (tmp_path / "b" / "train.log").read_text()
    cfg = load_config(config, ["train.epochs=1", "data.tile_size=64"])
    fit(cfg, run_dir=tmp_path / "c", progress=False)  # no config_file: no warning
    cfg = load_config(tmp_path / "c" / "config.yaml", ["train.epochs=2"])
    fit(cfg, run_dir=tmp_path / "c", progress=False, resume=True, config_file=config)
    assert "the data differs" not in (tmp_path / "c" / "train.log").read_text()
