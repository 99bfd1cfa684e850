"""The one-way rule for palette masks beside a colour table (all read by colour, or all by
index) was remembered per table in one process: DataLoader workers, each reading some of the
masks, kept their own memory, so a folder mixing both readings slipped through with
``num_workers`` > 0 (review s67). Each mask is now held to the folder's first mask that tells
the two readings apart, decided alike in every process whatever it read before."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torch.utils.data import Dataset

from unetlab.data.io import read_mask
from unetlab.data.loader import UserErrorLoader
from unetlab.errors import ImageReadError


def _mixed(root):
    """s0: every colour in the table (read by colour), s1: a colour not in it (by index)."""
    (root / "masks").mkdir(parents=True)
    (root / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 road\n0 0 255 person\n")
    mask = np.zeros((16, 16), np.uint8)
    mask[:, 5:10], mask[:, 10:] = 1, 2
    for name, palette in (
        ("s0", [0, 0, 0, 0, 0, 255, 255, 0, 0]),
        ("s1", [0, 0, 0, 9, 9, 200, 255, 0, 0]),
    ):
        im = Image.fromarray(mask, mode="P")
        im.putpalette(palette)
        im.save(root / "masks" / f"{name}.png")
    return sorted((root / "masks").glob("*.png"))


class _Masks(Dataset):
    def __init__(self, paths):
        self.paths = paths

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return read_mask(self.paths[i]).astype(np.int64)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["colour first", "index first"])
def test_a_mask_read_alone_in_a_process_is_held_to_the_folders_reading(tmp_path, order):
    """As a fresh worker reads it, knowing no mask read before: by index, against s0."""
    paths = _mixed(tmp_path / str(order[0]))
    first, second = (paths[k] for k in order)
    if order == (0, 1):
        read_mask(first)
    with pytest.raises(ImageReadError) as err:
        read_mask(paths[1])
    assert "palette masks beside" in str(err.value) and "read two ways" in str(err.value)
    assert str(paths[0]) in str(err.value) and str(paths[1]) in str(err.value)


def test_a_loader_with_workers_refuses_the_mixed_folder(tmp_path):
    paths = _mixed(tmp_path)
    loader = UserErrorLoader(_Masks(paths), batch_size=1, num_workers=2)
    with pytest.raises(ImageReadError, match="read two ways"):
        list(loader)
