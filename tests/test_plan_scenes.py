"""The plan's lines for many-class street scenes (audit s29 scenes, findings 7-9): a class in
validation images only cannot be learnt, a rare class's pixel share never reads 0.0%, and
an epoch is whole batches."""

from dataclasses import replace

import numpy as np
import pytest

from tests.test_plan import facts
from unetlab.config import load_config
from unetlab.plan import make_plan, plan_loss, plan_tiles_per_epoch, rare_classes


def _scenes(val_only: bool):
    one = facts().pairs[0]
    pairs = [replace(one, name=f"{i}.png") for i in range(6)]
    for i in (4, 5) if val_only else (1, 5):
        pairs[i] = replace(pairs[i], values=(0, 10, 255), counts=(20, 5, 75))
    return type(facts())(pairs)


def test_a_class_in_validation_images_only_is_left_to_trainings_line():
    """Training says it as it loads every mask (tests/test_unlearnable_once.py): the data
    check said it too (audit s50 roads)."""
    fp = _scenes(val_only=True)
    assert rare_classes(fp, {"4.png", "5.png"}, names={10: "rider"}) == []
    (spread,) = rare_classes(_scenes(val_only=False), {"4.png", "5.png"})
    assert spread.endswith("1 for training, 1 for validation; more examples of it would help")
    many = type(fp)([replace(p, values=(0, 10, 255)) if p.name != "0.png" else p for p in fp.pairs])
    assert rare_classes(many, {f"{i}.png" for i in range(1, 6)}) == []  # 5 images, none trains
    assert rare_classes(many, set()) == []  # no validation split: all training


@pytest.mark.parametrize(
    ("counts", "said"),
    [((1, 9999), "holds 0.01% of the pixels"), ((8, 992), "holds 0.8% of the pixels")],
)
def test_a_rare_class_share_never_reads_zero(counts, said):
    fp = facts(counts=counts)
    (loss, *_) = plan_loss(fp, load_config(None, []))
    assert said in loss.reason and "0.0%" not in loss.reason


def _planned(*overrides, explicit=()):
    cfg = load_config(None, list(overrides))
    plan = make_plan(facts(side=300), cfg, explicit=set(explicit), device="cpu")
    return {c.key: c for c in plan.choices}


def test_an_epoch_is_whole_batches():
    assert plan_tiles_per_epoch(64, 7)[0].value == 63
    assert plan_tiles_per_epoch(64, 25)[0].value == 75
    assert plan_tiles_per_epoch(5, 7)[0].value == 7  # at least one batch
    assert plan_tiles_per_epoch(64, 8) == []
    assert "64 tiles would end each epoch with a step of 1" in plan_tiles_per_epoch(64, 7)[0].reason
    batch = _planned("data.tile_size=136", explicit={"data.tile_size"})["train.batch_size"].value
    assert batch == 7  # the audit's plan: 136 px tiles on a CPU
    assert (
        _planned("data.tile_size=136", explicit={"data.tile_size"})["data.tiles_per_epoch"].value
        == 63
    )
    mine = _planned(
        "data.tile_size=136",
        "data.tiles_per_epoch=64",
        explicit={"data.tile_size", "data.tiles_per_epoch"},
    )
    assert "data.tiles_per_epoch" not in mine  # the user's: left alone
    user_batch = ["data.tile_size=136", "train.batch_size=8"]
    assert "data.tiles_per_epoch" not in _planned(
        *user_batch, explicit={"data.tile_size", "train.batch_size"}
    )  # 64 in batches of 8


def test_the_loss_reason_counts_training_pixels_and_names_a_class_in_validation_only():
    """The class weights come from the training masks; the loss reason cited a class of the
    validation images only (its share of all pixels) as the rare class they weight."""
    cfg = load_config(None, ["data.class_names={0: road, 10: rider, 255: sky}"])
    fp = _scenes(val_only=True)
    (loss,) = plan_loss(fp, cfg, {"4.png", "5.png"})
    assert loss.reason == (
        "mask value 0 (road) holds 20.0% of the training pixels; mask value 10 (rider) in "
        "validation images only (not in train, not learnt): Dice keeps the rare class in view"
    )
    (loss, weights) = plan_loss(_scenes(val_only=False), cfg, {"4.png"})  # 10 in 1.png too
    assert weights.reason.startswith("mask value 10 (rider) holds 2.0% of the training pixels:")
    assert "validation images only" not in weights.reason
    assert plan_loss(fp, cfg)[0].reason.startswith("mask value 10 (rider) holds 1.7% of the pixels")


def test_plan_training_weighs_the_training_pixels_of_its_split(tmp_path):
    from unetlab.data.io import write_png
    from unetlab.plan import plan_training

    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("val", 2)):
        for i in range(n):
            mask = np.zeros((48, 48), np.uint8)
            mask[24:] = 1
            if split == "val":
                mask[4:8, 4:8] = 2  # 0.7% of the pixels, in validation images only
            image = (rng.random(mask.shape) * 40 + mask * 60).astype(np.uint8)
            write_png(tmp_path / split / "images" / f"{i}.png", image)
            write_png(tmp_path / split / "masks" / f"{i}.png", mask)
    cfg = load_config(None, [f"data.root={tmp_path}", "model.depth=2"])
    choices = {c.key: c for c in plan_training(cfg, set())[1].choices}
    assert choices["train.loss"].reason == (
        "classes are balanced enough (mask value 0 holds 50.0% of the training pixels; mask "
        "value 2 in validation images only (not in train, not learnt))"
    )
    assert "train.class_weights" not in choices  # training holds 0 and 1, half each


def test_the_loss_reason_says_labelled_pixels_beside_a_colour_tables_void(tmp_path):
    """A colour table's void (255) counts in no class share, as data.ignore_value's: the
    reason says the shares are of the labelled training pixels (it said 'training pixels')."""
    from unetlab.data.scenes import write_scene_folders
    from unetlab.plan import plan_training

    write_scene_folders(tmp_path, n=8, size=(64, 128), colour=True)
    cfg = load_config(None, [f"data.root={tmp_path}", "model.depth=2"])
    loss = next(c for c in plan_training(cfg, set())[1].choices if c.key == "train.loss")
    assert "of the labelled training pixels" in loss.reason, loss.reason
