"""A named class in validation images only is said once, with its images and the move that
lets the net learn it (audit s50 roads: `train --check` said it twice, "mask value 9
(person) is in 3 images: 0 for training ... cannot learn it" and then "class(es) 9 (person)
named in class_names.txt but have no pixels in the training masks")."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from unetlab.cli import main
from unetlab.data.datasets import split_kind, split_move
from unetlab.data.scenes import write_scene_folders
from unetlab.train.setup import images_holding

PERSON = 9  # the road scenes' mask value of person


def test_images_holding_counts_the_masks_holding_each_class():
    masks = [np.array([[0, 2], [-1, 2]]), np.array([[2, -1]]), np.full((2, 2), -1)]
    assert images_holding(masks, 4).tolist() == [1, 0, 2, 0]
    assert images_holding([], 2).tolist() == [0, 0]


@pytest.mark.usefixtures("one_thread")
def test_a_class_in_validation_images_only_is_said_once(tmp_path, caplog):
    write_scene_folders(tmp_path, n=12, size=(64, 128))
    held = 0
    for part in ("train", "val"):
        for path in sorted((tmp_path / part / "masks").glob("*.png")):
            mask = np.array(Image.open(path))
            if part == "train":
                Image.fromarray(np.where(mask == PERSON, 255, mask).astype(np.uint8)).save(path)
            else:
                held += bool((mask == PERSON).any())
    assert held  # the validation masks hold the class
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(["train", "--data", str(tmp_path), "--check", "--set", "model.depth=2"]) == 0
    said = [r.getMessage() for r in caplog.records if "(person)" in r.getMessage()]
    unlearnt = [line for line in said if "cannot learn" in line]
    assert unlearnt == [
        f"mask value 9 (person) is in {held} validation image{'s' * (held > 1)} and in no "
        "training mask: the net keeps its output but cannot learn it; move an image holding "
        "it from val/ to train/ (data.seed changes no folder)"  # not "another data.seed"
    ], said


def test_split_kind_names_how_the_data_set_is_split(tmp_path):
    """The move said above fits the split: train/ and val/ folders, VOC's lists, or a random
    split of one folder, where another data.seed helps (audit s50 roads)."""
    write_scene_folders(tmp_path / "folders", n=4, size=(32, 32))
    assert split_kind(tmp_path / "folders") == "folders"
    flat = tmp_path / "folders" / "train"
    assert split_kind(flat) == "random"
    (flat / "ImageSets" / "Segmentation").mkdir(parents=True)
    (flat / "ImageSets" / "Segmentation" / "train.txt").write_text("x\n")
    assert split_kind(flat) == "lists"


@pytest.mark.parametrize(
    "split, to, move",
    [
        ("folders", "val", "from train/ into val/ (data.val_fraction changes no folder)"),
        ("folders", "train", "from val/ to train/ (data.seed changes no folder)"),
        ("lists", "val", "from train.txt into val.txt (ImageSets/Segmentation)"),
        ("lists", "train", "from val.txt to train.txt (ImageSets/Segmentation)"),
        ("random", "val", "into the validation images (a random split: raise data.val_fraction)"),
        ("random", "train", "to the training images (a random split: another data.seed)"),
        (None, "val", "into the validation images (from train/ into val/ where the data set"),
    ],
)
def test_split_move_says_the_move_each_split_allows_either_way(split, to, move):
    """One rule for both ways (the plan's note moves an image to be validated on, the data
    check's line to be learnt from), each way fitting its split (audit s43, s50)."""
    assert split_move(split, to).startswith(move)
