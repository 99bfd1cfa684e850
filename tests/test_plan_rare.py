"""A class in fewer than three images gets a line saying in how many training and validation
images it is (an audit's 'person', in 2 of 20 images, went 1 to training, 1 to validation and
scored IoU 0 without a word)."""

import logging
from dataclasses import replace

import numpy as np
import pytest

from tests.test_plan import facts
from unetlab.config import load_config
from unetlab.data.datasets import split_pairs
from unetlab.data.io import write_png
from unetlab.errors import DatasetError
from unetlab.plan import plan_loss, plan_training, rare_classes
from unetlab.train import prepare_data


def test_rare_classes_counts_training_and_validation_images():
    one = facts().pairs[0]
    pairs = [replace(one, name=f"{i}.png") for i in range(5)]
    pairs[1] = replace(pairs[1], values=(0, 6, 255), counts=(20, 5, 75))
    pairs[3] = replace(pairs[3], values=(0, 6, 255), counts=(20, 5, 75))
    fp = type(facts())(pairs)
    (line,) = rare_classes(fp, {"3.png", "4.png"}, names={6: "person"})
    assert line == (
        "mask value 6 (person) is in 2 images: 1 for training, 1 for validation; more "
        "examples of it would help"
    )
    assert rare_classes(fp, set(), total=400)[0].startswith(
        "mask value 6 is in 2 images of the 5 measured (of 400): 2 for training, 0 for"
    )
    assert rare_classes(type(fp)(pairs[1:4:2]), set()) == []  # in all the images there are


def test_the_plan_says_where_a_class_in_two_images_went(tmp_path, caplog):
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(6):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:20, 4:20] = 1
        if i in (1, 4):
            mask[22:30, 22:30] = 2
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    (root / "class_names.txt").write_text("background\nthing\nperson\n")
    cfg = load_config(None, [f"data.root={root}", "data.val_fraction=0.34"])
    _, val = split_pairs(root, val_fraction=0.34, seed=0)
    held = sum(p.mask.stem in ("1", "4") for p in val)
    _, plan = plan_training(cfg)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        plan.log()
    expected = (
        f"mask value 2 (person) is in 2 images: {2 - held} for training, {held} for "
        "validation; more examples of it would help"
    )
    if not held:  # a class in no validation image has its own line (tests/test_plan_sparse.py)
        expected = "mask value 2 (person) in no validation image (2 images, 2,048 labelled px)"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and warned[0].startswith(expected)


def test_a_named_class_in_one_file_is_a_note_not_a_refusal(tmp_path, caplog):
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(6):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:20, 4:20] = 1
        if i == 2:
            mask[22:30, 22:30] = 2
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    cfg = load_config(None, [f"data.root={root}", "data.val_fraction=0.34"])
    with pytest.raises(DatasetError, match="mask value 2 is found in one file only"):
        plan_training(cfg)  # nothing names the classes: a stray value?
    (root / "class_names.txt").write_text("background\nthing\nperson\n")
    _, plan = plan_training(cfg)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        plan.log()
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warned == []  # in validation only: training says it (once) as it loads masks
        prepare_data(cfg)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and warned[0].startswith(
        "mask value 2 (person) is in 1 validation image and in no training mask: "
    )
    named = load_config(None, [f"data.root={root}", "data.class_names={0: a, 1: b, 2: c}"])
    (root / "class_names.txt").unlink()
    plan_training(named)


def test_the_loss_reason_names_the_rarest_class():
    named = load_config(None, ["data.class_names={0: membrane, 255: cell}"])
    loss, _ = plan_loss(facts(counts=(5, 95)), named)
    assert loss.reason.startswith("mask value 0 (membrane) holds 5.0% of the pixels")
    loss, _ = plan_loss(facts(counts=(5, 95)), load_config(None, []))
    assert loss.reason.startswith("mask value 0 holds 5.0%")
