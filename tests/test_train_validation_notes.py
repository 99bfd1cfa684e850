"""What training says of its validation set: a copy of a training image in it (audit s31
fewshot 1) and a set of 1-2 images (fewshot 5)."""

from __future__ import annotations

import logging
import shutil

import pytest

from unetlab.cli import main
from unetlab.data.pairs import Pair
from unetlab.data.scenes import write_voc_scenes
from unetlab.data.split_record import copied_images
from unetlab.data.synthetic import write_synthetic_dataset

pytestmark = pytest.mark.usefixtures("one_thread")

#: one epoch of a small net (the notes, not the net, are what these tests look at)
FAST = ["--no-plan", "--no-progress", "--epochs", "1", "--set", "data.tile_size=64"]
FAST += ["--set", "model.depth=2", "--set", "model.base_channels=4"]
FAST += ["--set", "data.tiles_per_epoch=8"]


def _pair(folder, name):
    return Pair(folder / "images" / name, folder / "masks" / name)


def test_a_renamed_copy_is_found_by_its_bytes(tmp_path):
    root = write_synthetic_dataset(tmp_path / "em", n_train=3, n_val=1, size=32)
    shutil.copy(root / "train" / "images" / "01.png", root / "val" / "images" / "copy.png")
    train = [_pair(root / "train", f"{i:02d}.png") for i in range(3)]
    val = [_pair(root / "val", "00.png"), _pair(root / "val", "copy.png")]
    assert copied_images(train, val, root) == [("val/images/copy.png", "train/images/01.png")]
    assert copied_images(train, val[:1], root) == []


def test_check_and_run_warn_of_a_copy_and_of_one_validation_image(tmp_path, caplog):
    root = write_synthetic_dataset(tmp_path / "em", n_train=3, n_val=1, size=64)
    for kind in ("images", "masks"):
        shutil.copy(root / "train" / kind / "02.png", root / "val" / kind / "dup.png")
    run = tmp_path / "runs" / "a"
    argv = ["train", "--data", str(root), "--run-dir", str(run), *FAST]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--check"]) == 0
    said = caplog.text
    assert "validation image val/images/dup.png is a copy of training image " in said
    assert "train/images/02.png" in said and "are inflated" in said
    assert "only 2 validation images (00.png, dup.png)" in said
    assert main(argv) == 0
    log = (run / "train.log").read_text()
    assert "val/images/dup.png is a copy of training image train/images/02.png" in log
    assert "only 2 validation images" in log


def test_three_distinct_validation_images_are_not_noted(tmp_path, caplog):
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=3, size=64)
    argv = ["train", "--data", str(root), "--run-dir", str(tmp_path / "r"), *FAST, "--check"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(argv) == 0
    assert "copy of" not in caplog.text and "only " not in caplog.text


def test_few_validation_images_are_grown_as_the_split_is_made(tmp_path, caplog):
    """data.val_fraction splits only a data set without a val/ folder or a VOC list: where
    the 2 validation images are its val/ (a symlink too) or its val.txt, raising it changes
    nothing (audit s61 user)."""
    split = write_synthetic_dataset(tmp_path / "em", n_train=10, n_val=2, size=64)
    flat = tmp_path / "flat"
    for kind in ("images", "masks"):
        shutil.copytree(split / "train" / kind, flat / kind)
    linked = write_synthetic_dataset(tmp_path / "linked", n_train=10, n_val=2, size=64)
    shutil.move(linked / "val", tmp_path / "shared_val")
    (linked / "val").symlink_to(tmp_path / "shared_val")
    voc = write_voc_scenes(tmp_path / "voc", n_train=6, n_val=2, size=64)
    fixes = {
        split: "(add images to em/val/",
        linked: "(add images to linked/val/",
        voc: "(list more names in voc/ImageSets/Segmentation/val.txt",
        flat: "(raise data.val_fraction",
    }
    for root, fix in fixes.items():
        caplog.clear()
        argv = ["train", "--data", str(root), "--run-dir", str(tmp_path / "r"), *FAST]
        with caplog.at_level(logging.INFO, logger="unetlab"):
            assert main([*argv, "--check"]) == 0
        line = next(
            r.getMessage() for r in caplog.records if "validation images (" in r.getMessage()
        )
        assert line.startswith("only 2 validation images (")
        assert fix + " for a steadier choice)" in line


def test_more_validation_names_a_data_set_given_as_dot_by_its_folder(tmp_path, monkeypatch):
    """``more_validation(".")`` said "add images to /val/" (review s61: ``Path(".").name``)."""
    from unetlab.data.datasets import more_validation

    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=32)
    monkeypatch.chdir(root)
    assert more_validation(".") == "add images to em/val/"
