"""The synthetic scene generator's options (``unetlab.data.scenes``): the 11-class road set
(rare classes at 0.1-0.6 % of the pixels, 255 void borders), grey or colour-table masks in
train/val/test folders read back by the project's own readers, and the thin
``bench/road_scenes.py`` command over it (s40: the two generators made one)."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.config import load_config
from unetlab.data.colour_table import VOID, read_colour_table
from unetlab.data.io import read_mask
from unetlab.data.scenes import (
    ROAD,
    ROAD_CLASSES,
    SCENE_CLASSES,
    split_parts,
    synthetic_scene,
    write_scene_folders,
    write_voc_scenes,
)
from unetlab.errors import OutputError, UnetlabError
from unetlab.train import prepare_data

RARE = ("pole", "sign", "person")


def test_road_scenes_hold_rare_classes_at_a_tenth_to_half_a_percent_and_void_borders():
    rng = np.random.default_rng(0)
    masks = [synthetic_scene((256, 512), rng, "road", "border")[1] for _ in range(12)]
    counts = sum(np.bincount(m.ravel(), minlength=256) for m in masks)
    share = dict(zip(ROAD_CLASSES, counts[: len(ROAD_CLASSES)] / counts.sum(), strict=True))
    assert set(np.unique(np.concatenate(masks))) == {*range(11), VOID}
    for name in RARE:  # measured 0.61, 0.14, 0.10 %
        assert 0.0008 < share[name] < 0.007, (name, share[name])
    assert min(s for n, s in share.items() if n not in RARE) > 0.02  # the others: 2-20 %
    for m in masks:  # void: the frame's left, right and bottom 2-5 px, nowhere else
        assert (m[-2:] == VOID).all() and (m[:, :2] == VOID).all() and (m[:, -2:] == VOID).all()
        inner = m[:-5, 5:-5]
        assert not (inner == VOID).any()


def test_street_scenes_keep_their_seven_classes_and_void_outlines_by_default():
    image, mask = synthetic_scene(64, np.random.default_rng(1))
    assert image.shape == (64, 64, 3) and set(np.unique(mask)) <= set(range(len(SCENE_CLASSES)))
    _, ringed = synthetic_scene(64, np.random.default_rng(1), void="outlines")
    ring = ringed == VOID
    assert ring.any() and np.isin(mask[ring], (0, 1, 2, 3)).all()  # around poles, signs, people
    np.testing.assert_array_equal(ringed[~ring], mask[~ring])
    with pytest.raises(UnetlabError, match="no scene kind 'city': give one of street, road"):
        synthetic_scene(64, np.random.default_rng(1), "city")
    with pytest.raises(UnetlabError, match="no void 'edge' in scenes: give one of outlines"):
        synthetic_scene(64, np.random.default_rng(1), void="edge")


def test_colour_masks_and_their_table_read_back_as_the_grey_masks(tmp_path):
    grey = write_scene_folders(tmp_path / "grey", n=6, size=(48, 64), seed=3)
    rgb = write_scene_folders(tmp_path / "rgb", n=6, size=(48, 64), seed=3, colour=True)
    np.testing.assert_array_equal(grey, rgb)  # the same scenes
    assert split_parts(6) == ["val", "test", "train", "train", "train", "train"]
    files = sorted((tmp_path / "grey").glob("*/masks/road_*.png"))
    assert [f.parent.parent.name for f in files].count("train") == 4
    table = read_colour_table(tmp_path / "rgb")
    assert table.class_names() == dict(enumerate(ROAD_CLASSES)) and VOID in table.values
    for file in files:
        colour = tmp_path / "rgb" / file.relative_to(tmp_path / "grey")
        assert read_mask(colour).shape == (48, 64)
        np.testing.assert_array_equal(read_mask(colour), read_mask(file))
    data = prepare_data(load_config(None, [f"data.root={tmp_path / 'rgb'}"]))
    assert data.class_names == list(ROAD_CLASSES) and data.ignore_value == VOID
    palette = np.asarray(data.palette, np.uint8)
    assert np.array_equal(palette[: len(ROAD_CLASSES)], ROAD.label_colours())


def test_scene_folders_refuse_a_folder_holding_files_and_kinds_mix_with_layouts(tmp_path):
    theirs = tmp_path / "mine" / "train" / "images" / "road_000.png"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"theirs")
    with pytest.raises(OutputError, match="mine holds files already: give a new or empty"):
        write_scene_folders(tmp_path / "mine", n=6, size=(32, 64))
    assert theirs.read_bytes() == b"theirs"
    with pytest.raises(OutputError, match="road_000.png is a file: give a new or empty"):
        write_scene_folders(theirs, n=6, size=(32, 64))  # NotADirectoryError before
    voc = write_voc_scenes(tmp_path / "voc", n_train=1, n_val=1, size=48, kind=ROAD, void=None)
    assert (voc / "class_names.txt").read_text().split() == list(ROAD_CLASSES)
    assert not (read_mask(voc / "SegmentationClass" / "scene_000.png") == VOID).any()
    street = write_scene_folders(tmp_path / "street", n=6, size=48, kind="street", void=None)
    assert street[len(SCENE_CLASSES) :].sum() == 0
    assert len(list((tmp_path / "street").glob("*/masks/street_*.png"))) == 6


def test_voc_scenes_refuse_a_folder_holding_files(tmp_path):
    """write_voc_scenes into a user's VOC folder replaced their scene_000.jpg; refused now."""
    theirs = tmp_path / "voc" / "JPEGImages" / "scene_000.jpg"
    theirs.parent.mkdir(parents=True)
    theirs.write_bytes(b"theirs")
    with pytest.raises(OutputError, match="voc holds files already: give a new or empty"):
        write_voc_scenes(tmp_path / "voc", n_train=1, n_val=1, size=48)
    assert theirs.read_bytes() == b"theirs"
