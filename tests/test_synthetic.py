"""Synthetic EM-like data: shapes, labels, determinism, and that a threshold cannot solve it."""

import numpy as np
import pytest
from scipy import ndimage

from unetlab.data.datasets import discover_label_values, split_pairs
from unetlab.data.io import read_image, read_mask
from unetlab.data.synthetic import (
    cell_tessellation,
    synthetic_em,
    write_synthetic_dataset,
    write_synthetic_image,
)


def test_image_mask_instances_agree():
    image, mask, instances = synthetic_em((96, 128), np.random.default_rng(0))
    assert image.shape == mask.shape == instances.shape == (96, 128)
    assert image.dtype == np.uint8 and mask.dtype == np.uint8 and instances.dtype == np.uint16
    assert set(np.unique(mask).tolist()) == {0, 255}
    assert np.array_equal(instances == 0, mask == 0)  # membranes are no instance
    n = int(instances.max())
    assert set(np.unique(instances).tolist()) == set(range(n + 1)) and n >= 5
    assert 0.08 < float((mask == 0).mean()) < 0.3  # thin membranes (ISBI: ~22 %)


def test_same_rng_state_same_image_and_sizes():
    a = synthetic_em(40, np.random.default_rng(7))
    b = synthetic_em(40, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], synthetic_em(40, np.random.default_rng(8))[0])
    with pytest.raises(ValueError, match="at least 8x8"):
        synthetic_em(4, np.random.default_rng(0))


def test_membranes_are_thin_and_separate_cells():
    cells, membrane = cell_tessellation((128, 128), np.random.default_rng(1), cell_size=36)
    # distance of a membrane pixel to the nearest cell pixel: ~1-2 px in a 2-4 px band; only
    # wedges where two junctions come close are thicker (<= 12 % of the membrane pixels)
    depth = ndimage.distance_transform_edt(np.pad(membrane, 1))[1:-1, 1:-1][membrane]
    assert np.percentile(depth, 90) <= 2.9 and np.mean(depth > 2.9) < 0.12
    # every 4-connected component of the cell area lies in one Voronoi cell
    components, n = ndimage.label(~membrane)
    for k in range(1, n + 1):
        assert len(np.unique(cells[components == k])) == 1


def test_dark_organelles_inside_cells_fool_a_threshold():
    """The best global threshold, picked on the images themselves, stays far below 0.85 mIoU."""
    rng = np.random.default_rng(3)
    images, masks = zip(*[synthetic_em(128, rng)[:2] for _ in range(4)])
    image, membrane = np.concatenate(images), np.concatenate(masks) == 0
    assert image[membrane].mean() < image[~membrane].mean() - 40  # membranes are dark

    def miou(threshold):
        pred = image < threshold
        ious = [
            (pred & membrane).sum() / (pred | membrane).sum(),
            (~pred & ~membrane).sum() / (~pred | ~membrane).sum(),
        ]
        return float(np.mean(ious))

    assert max(miou(t) for t in range(0, 256, 4)) < 0.8


def test_write_dataset_and_large_image(tmp_path):
    root = write_synthetic_dataset(tmp_path / "syn", n_train=3, n_val=2, size=48, seed=5)
    assert sorted(p.name for p in (root / "train" / "images").iterdir()) == [
        "00.png",
        "01.png",
        "02.png",
    ]
    train, val = split_pairs(root)
    assert len(train) == 3 and len(val) == 2
    assert discover_label_values(train + val) == [0, 255]
    image = read_image(root / "val" / "images" / "01.png")
    assert image.shape == (48, 48) and image.dtype == np.uint8
    again = write_synthetic_dataset(tmp_path / "again", n_train=3, n_val=2, size=48, seed=5)
    assert np.array_equal(
        read_mask(again / "val" / "masks" / "01.png"), read_mask(root / "val" / "masks" / "01.png")
    )
    image = write_synthetic_image(tmp_path / "big.png", (70, 90), seed=1)
    assert np.array_equal(read_image(tmp_path / "big.png"), image) and image.shape == (70, 90)
