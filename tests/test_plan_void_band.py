"""A void band declared ignored (a fixed black band of void at the bottom of every mask, a
car's hood as in Cityscapes) is named as void in the plan's note, not "a data bar?"; the
stain jitter's line counts the training images it says it counts, as the elastic line does
(review s67: "8 8-bit colour images" of 5 training and 3 validation images)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from unetlab.config import load_config
from unetlab.data.fingerprint import Fingerprint, measure_pair
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs
from unetlab.plan import plan_training
from unetlab.plan.augment import plan_stain
from unetlab.plan.bar import bar_note


def _hooded(root):
    """5 training and 3 validation colour photographs of a road, sky (1) and a hood: 255 in
    the bottom 6 rows of every mask."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 5), ("val", 3)):
        for i in range(n):
            mask = np.zeros((40, 32), np.uint8)
            mask[:20, 4:] = 1  # no full row: the sky is no bar
            mask[34:] = 255
            image = rng.integers(10, 200, (40, 32, 3), dtype=np.uint8)
            write_png(root / split / "images" / f"{i}.png", image)
            write_png(root / split / "masks" / f"{i}.png", mask)
    return root


def _plan(root, *overrides):
    cfg = load_config(None, [f"data.root={root}", "model.depth=2", *overrides])
    return plan_training(cfg)[1]


def test_a_declared_void_band_is_named_void_not_a_data_bar(tmp_path):
    plan = _plan(_hooded(tmp_path), "data.ignore_value=255")
    (line,) = [n for n in plan.notes if "fills the bottom" in n]
    assert line.startswith("mask value 255, void (ignored: counted in no loss), fills the bottom")
    assert "data bar" not in line and "a void band" in line
    assert "exclude_rows = {'bottom': 6}" in line and "ignore_value" not in line
    undeclared = bar_note(find_pairs(tmp_path / "train"))  # no void declared: a data bar?
    assert "a data bar?" in undeclared and "ignore_value = 255" in undeclared


def test_the_stain_line_counts_the_training_images(tmp_path):
    plan = _plan(_hooded(tmp_path), "data.ignore_value=255")
    (stain,) = [c for c in plan.choices if c.key == "augment.stain"]
    assert stain.reason.startswith("5 8-bit colour training images, not bright-field"), stain
    (elastic,) = [c for c in plan.choices if c.key == "augment.elastic"]
    assert elastic.reason.startswith("5 training images")


def test_plan_stain_counts_the_images_not_held_out():
    photo = np.random.default_rng(0).integers(10, 200, (16, 16, 3), dtype=np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    fp = Fingerprint([measure_pair(photo, mask, name=f"{i}.png") for i in range(8)])
    held_out = {"5.png", "6.png", "7.png"}
    choice = plan_stain(fp, held_out)
    assert choice.reason.startswith("5 8-bit colour training images, not bright-field")
    p = fp.pairs[0]
    grey = [replace(p, channels=1, low=p.low[:1], median=p.median[:1], high=p.high[:1])]
    mixed = Fingerprint([*grey, *fp.pairs[1:]])  # 0.png grey, a training image
    assert plan_stain(mixed, held_out).reason.startswith("1 of 5 training images are not 8-bit")
    assert plan_stain(fp).reason.startswith("8 8-bit colour images,")  # no split: all images
