"""The one-way rule for palette masks beside a colour table (all read by colour, or all by
index), held in each process against the masks read before it beside the same table: a
command's data check reads the data set's own masks in its main process. Review s67 (fix
round): a folder-wide decision refused a data set's mask against a stray palette PNG no image
pairs with, and kept its decision after the user edited the table (a mask refused against
itself); the table's value now keys the rule, and no file outside the data set counts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unetlab.data.datasets import scan_masks
from unetlab.data.io import read_mask
from unetlab.data.pairs import Pair
from unetlab.errors import DatasetError, ImageReadError

TABLE = "0 0 0 bg\n255 0 0 road\n0 0 255 person\n"
BY_COLOUR = [0, 0, 0, 0, 0, 255, 255, 0, 0]  # index 1 person, 2 road: both in the table
BY_INDEX = [0, 0, 0, 9, 9, 200, 255, 0, 0]  # (9, 9, 200) not in it


def _masks(root: Path, **palettes: list[int]) -> dict[str, Path]:
    """Palette masks named as ``palettes`` (index 0 | 1 | 2 in bands) beside TABLE."""
    (root / "masks").mkdir(parents=True)
    (root / "class_colors.txt").write_text(TABLE)
    mask = np.zeros((16, 16), np.uint8)
    mask[:, 5:10], mask[:, 10:] = 1, 2
    for name, palette in palettes.items():
        im = Image.fromarray(mask, mode="P")
        im.putpalette(palette)
        im.save(root / "masks" / f"{name}.png")
    return {name: root / "masks" / f"{name}.png" for name in palettes}


def test_the_data_check_refuses_a_data_set_read_two_ways(tmp_path):
    masks = _masks(tmp_path, s0=BY_COLOUR, s1=BY_INDEX)
    pairs = [Pair(tmp_path / f"{name}.tif", path) for name, path in masks.items()]
    with pytest.raises(DatasetError) as err:
        scan_masks(pairs)
    assert "read two ways" in str(err.value) and "s1.png by palette index" in str(err.value)


def test_a_mask_read_the_other_way_than_one_before_it_is_refused(tmp_path):
    masks = _masks(tmp_path, s0=BY_COLOUR, s1=BY_INDEX)
    read_mask(masks["s1"])
    with pytest.raises(ImageReadError, match="read two ways") as err:
        read_mask(masks["s0"])
    assert str(masks["s0"]) in str(err.value) and str(masks["s1"]) in str(err.value)


def test_a_stray_palette_png_no_image_pairs_with_refuses_no_mask(tmp_path):
    """masks/ holds a by-index preview (glasbey-like colours) beside the data set's masks."""
    masks = _masks(tmp_path, _palette_preview=[0, 0, 0, 9, 9, 200, 200, 9, 9], img001=BY_COLOUR)
    assert read_mask(masks["img001"])[0].tolist() == [0] * 5 + [2] * 5 + [1] * 6


def test_an_edited_table_holds_no_mask_to_the_old_reading(tmp_path):
    """a1 read by index (its (9, 9, 200) not in the table), b0 refused against it; the user
    follows the fix (adds the colour), and both read by colour in the same process."""
    masks = _masks(tmp_path, a1=BY_INDEX, b0=BY_COLOUR)
    read_mask(masks["a1"])
    with pytest.raises(ImageReadError, match="add it there as a class"):
        read_mask(masks["b0"])
    (tmp_path / "class_colors.txt").write_text(TABLE + "9 9 200 car\n")
    assert read_mask(masks["b0"])[0, 7] == 2 and read_mask(masks["a1"])[0, 7] == 3


def test_a_mask_re_saved_since_it_was_read_no_longer_counts(tmp_path):
    """s0, read by colour, then re-saved (the user's fix): s1 read by index is not refused."""
    masks = _masks(tmp_path, s0=BY_COLOUR, s1=BY_INDEX)
    read_mask(masks["s0"])
    stamp = masks["s0"].stat().st_mtime_ns + 10**9
    os.utime(masks["s0"], ns=(stamp, stamp))
    assert read_mask(masks["s1"])[0].tolist() == [0] * 5 + [1] * 5 + [2] * 6


def test_train_with_label_values_set_refuses_a_data_set_read_two_ways(tmp_path):
    """With data.label_values set train skips its mask scan (s67 noticed), yet its loading
    reads every mask in the main process: the one-way rule holds there too, before any
    DataLoader worker starts (pinned, s68: it refused as it does without the setting)."""
    from unetlab.config import load_config
    from unetlab.train import prepare_data

    masks = _masks(tmp_path, s0=BY_COLOUR, s1=BY_INDEX, s2=BY_COLOUR)
    (tmp_path / "images").mkdir()
    for name in masks:
        Image.fromarray(np.full((16, 16), 90, np.uint8)).save(tmp_path / "images" / f"{name}.png")
    cfg = load_config(None, [f"data.root={tmp_path}", "data.label_values=[0,1,2]"])
    with pytest.raises(DatasetError) as err:
        prepare_data(cfg)
    assert "read two ways" in str(err.value) and "s1.png by palette index" in str(err.value)
