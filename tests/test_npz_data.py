"""A notebook's data set in one ``.npz`` (``np.savez(f, images=..., masks=...)``), s73: its
masks are read from its ``masks`` array wherever a mask's size or kind is asked."""

from pathlib import Path

import numpy as np
import pytest

from unetlab.data.colour import colour_file
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError

RNG = np.random.default_rng(0)


def _data_set(path: Path, images: np.ndarray, masks: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, masks=masks)
    return path


def _copies(root: Path, images: np.ndarray, masks: np.ndarray) -> Path:
    """images/data.npz beside masks/data.npz, a copy each (as README told users to)."""
    for folder in ("images", "masks"):
        _data_set(root / folder / "data.npz", images, masks)
    return root


def test_a_masks_array_of_fewer_pages_is_one_line_not_a_traceback(tmp_path):
    """s73: masks/data.npz's pages were counted in its images array, so 5 images with 4 masks
    paired 5 pages and the 5th read failed (IndexError: a traceback)."""
    images, masks = RNG.integers(0, 255, (5, 40, 48), np.uint8), np.ones((4, 40, 48), np.uint8)
    root = _copies(tmp_path, images, masks)
    with pytest.raises(DatasetError, match=r"data.npz: 5 pages but its mask data.npz has 4"):
        find_pairs(root)


def test_a_masks_kind_is_its_masks_arrays(tmp_path):
    """colour_file of masks/data.npz read its images array: RGB images made it a colour mask."""
    images = RNG.integers(0, 255, (2, 40, 48, 3), np.uint8)
    path = _data_set(tmp_path / "data.npz", images, np.ones((2, 40, 48), np.uint8))
    assert colour_file(path) and not colour_file(path, mask=True)
