"""unetlab.write_dataset: a notebook's arrays as the folder training reads (audit s32
notebook 7)."""

from __future__ import annotations

import numpy as np
import pytest

import unetlab
from unetlab.data.tiffmeta import read_pixel_size
from unetlab.errors import OutputError, UnetlabError


def _data(n=2, shape=(24, 32)):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4000, (n, *shape)).astype(np.uint16)
    masks = (rng.random((n, *shape)) > 0.5).astype(np.uint8) * np.arange(1, n + 1)[:, None, None]
    return images, masks.astype(np.uint16)


def test_arrays_come_back_as_written_and_pair_up_for_training(tmp_path):
    images, masks = _data()
    root = unetlab.write_dataset(images, masks, tmp_path / "data", pixel_size=0.325)
    for i in range(2):
        image = unetlab.read_image(root / "images" / f"00{i}.tif")
        assert image.dtype == np.uint16 and np.array_equal(image, images[i])
        assert np.array_equal(unetlab.read_mask(root / "masks" / f"00{i}.tif"), masks[i])
        assert read_pixel_size(root / "images" / f"00{i}.tif").size == (0.325, 0.325)
    train, val = unetlab.split_pairs(root, val_fraction=0.5)
    assert len(train) + len(val) == 2
    colour = np.zeros((8, 8, 3), np.float32) + 0.5
    named = unetlab.write_dataset([colour], [np.ones((8, 8), bool)], tmp_path / "c", names=["a"])
    assert np.array_equal(unetlab.read_image(named / "images" / "a.tif"), colour)


def test_nothing_is_replaced_and_bad_pairs_are_one_line(tmp_path):
    images, masks = _data()
    unetlab.write_dataset(images, masks, tmp_path)
    before = (tmp_path / "masks" / "000.tif").read_bytes()
    with pytest.raises(OutputError, match="replaces no file"):
        unetlab.write_dataset(images, masks + 1, tmp_path)  # other masks of those names
    assert (tmp_path / "masks" / "000.tif").read_bytes() == before
    bad = [
        ((images, masks[:1]), "2 images, 1 masks"),
        ((images, masks[:, :8]), r"image \(24, 32\) but mask \(8, 32\)"),
        ((images, masks.astype(np.float32)), "holds float32 values"),
        ((images[0], masks[0]), r"images has shape \(24, 32\)"),
    ]
    for (im, ma), message in bad:
        with pytest.raises(UnetlabError, match=message):
            unetlab.write_dataset(im, ma, tmp_path / "new")
    for size in (0, -0.3, float("nan"), True):
        with pytest.raises(UnetlabError, match="pixel_size must be a positive number"):
            unetlab.write_dataset(images, masks, tmp_path / "new", pixel_size=size)
    assert not (tmp_path / "new").exists()


def test_a_cell_run_again_writes_only_what_is_missing(tmp_path):
    """The same arrays again (a notebook cell run twice, or after Ctrl-C stopped it between
    files) leave the files there as they are and write the missing ones; other pixels or
    another pixel size of a name there are refused (s50 notebook walk: the same arrays
    again were refused, 'write_dataset replaces no file')."""
    images, masks = _data(n=3)
    unetlab.write_dataset(images, masks, tmp_path, pixel_size=0.5)
    kept = tmp_path / "images" / "000.tif"
    stamp = kept.stat().st_mtime_ns
    (tmp_path / "masks" / "002.tif").unlink()  # stopped before its last file
    assert unetlab.write_dataset(images, masks, tmp_path, pixel_size=0.5) == tmp_path
    assert kept.stat().st_mtime_ns == stamp
    assert np.array_equal(unetlab.read_mask(tmp_path / "masks" / "002.tif"), masks[2])
    with pytest.raises(OutputError, match="000.tif exists \\(6 of the files\\)"):
        unetlab.write_dataset(images, masks, tmp_path, pixel_size=0.25)
    images[2, 0, 0] += 1
    with pytest.raises(OutputError, match="002.tif exists \\(1 of the files\\)"):
        unetlab.write_dataset(images, masks, tmp_path, pixel_size=0.5)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["x", "x"], "'x' and 'x' name the same file"),
        (["Cell", "cell"], "'Cell' and 'cell' name the same file"),
        (["../x", "y"], "'../x' is not a file name without folder"),
        (["a/b", "y"], "'a/b' is not a file name"),
        (["", "y"], "'' is not a file name"),
    ],
)
def test_a_name_given_twice_or_with_a_folder_is_one_line_and_nothing_written(
    tmp_path, names, message
):
    """The second image would replace the first (review s32 10), or land outside images/."""
    images, masks = _data()
    with pytest.raises(UnetlabError, match=message):
        unetlab.write_dataset(images, masks, tmp_path / "d", names=names)
    assert not (tmp_path / "d").exists() and not (tmp_path / "x.tif").exists()
