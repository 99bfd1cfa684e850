"""The colour table a palette mask is read through was looked for (up to three folders,
three file names each), read and parsed at every palette mask read (review s67): within a
command's held reads (:func:`~unetlab.data.held.stacks_held`, train's) it is found once per
folder; outside, each read looks, so a table written since is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import unetlab.data.colour_table as colour_table
import unetlab.data.io as io
from unetlab.data.classes import dataset_palette
from unetlab.data.held import stacks_held
from unetlab.data.io import read_mask


def _masks(root, n: int = 3):
    (root / "masks").mkdir(parents=True)
    mask = np.zeros((8, 8), np.uint8)
    mask[:, 4:] = 1
    for i in range(n):
        im = Image.fromarray(mask, mode="P")
        im.putpalette([0, 0, 0, 0, 0, 255])
        im.save(root / "masks" / f"{i}.png")
    return sorted((root / "masks").glob("*.png"))


def _counted(monkeypatch) -> list[int]:
    looks = [0]
    find = colour_table.find_colour_table

    def counting(mask):
        looks[0] += 1
        return find(mask)

    monkeypatch.setattr(colour_table, "find_colour_table", counting)
    monkeypatch.setattr(io, "find_colour_table", counting)  # where io asks it by name
    return looks


def test_a_folders_table_is_found_once_within_held_reads(tmp_path, monkeypatch):
    paths = _masks(tmp_path)
    (tmp_path / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 road\n0 0 255 person\n")
    looks = _counted(monkeypatch)
    with stacks_held(None):
        got = [read_mask(p) for p in paths]
    assert looks[0] == 1
    assert all(np.unique(m).tolist() == [0, 2] for m in got)  # blue: person, by colour


def test_outside_each_read_looks_and_sees_a_table_written_since(tmp_path, monkeypatch):
    paths = _masks(tmp_path)
    looks = _counted(monkeypatch)
    assert np.unique(read_mask(paths[0])).tolist() == [0, 1]  # no table: by index
    (tmp_path / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 road\n0 0 255 person\n")
    assert np.unique(read_mask(paths[1])).tolist() == [0, 2]
    assert looks[0] == 2


def test_a_relative_mask_path_finds_the_table_above_its_folder(tmp_path, monkeypatch):
    """The table is looked for above the mask's absolute folder, the key it is kept by (a
    relative 'a.png' searched '.' alone: read by index, as if there were none)."""
    paths = _masks(tmp_path, 1)
    (tmp_path / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 road\n0 0 255 person\n")
    monkeypatch.chdir(tmp_path / "masks")
    with stacks_held(None):
        assert colour_table.folder_table(paths[0].name).source.endswith("class_colors.txt")
        assert np.unique(read_mask(paths[0].name)).tolist() == [0, 2]  # blue: person


def test_a_relative_rgb_mask_path_finds_the_table_two_folders_up(tmp_path, monkeypatch):
    """Every search starts from the mask's absolute folder (find_colour_table): an RGB mask
    'masks/a.png' read from data/train with the table in data/ searched 'masks' and '.'
    alone and was refused ('list the mask colours in class_colors.txt', which is there)."""
    masks = tmp_path / "data" / "train" / "masks"
    masks.mkdir(parents=True)
    (tmp_path / "data" / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 road\n0 0 255 person\n")
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, 4:] = (0, 0, 255)
    Image.fromarray(rgb).save(masks / "a.png")
    monkeypatch.chdir(tmp_path / "data" / "train")
    assert np.unique(read_mask("masks/a.png")).tolist() == [0, 2]  # blue: person
    assert dataset_palette([Path("masks/a.png")]) is not None  # the table's colours
