"""Training windows that reach past the image edge (``data.edge_windows``): how often each
pixel is inside a label window, and that the labels outside the image train nothing."""

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab.config import Config
from unetlab.data.datasets import (
    Sample,
    TileDataset,
    load_instance_samples,
    load_samples,
)
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.mirror import reflect_indices
from unetlab.data.pairs import find_pairs
from unetlab.data.transforms import Augment
from unetlab.data.windows import axis_coverage, start_range, window_coverage, window_start
from unetlab.losses import build_loss
from unetlab.train.run import tile_dataset
from unetlab.train.setup import Data


def coordinate_sample(h, w, weight=None):
    """image channels = (row, col) of each pixel, mask = row * 1000 + col."""
    rows, cols = np.mgrid[0:h, 0:w]
    image = np.stack([rows, cols]).astype(np.float32)
    return Sample("s", image, (rows * 1000 + cols).astype(np.int64), weight)


def brute_coverage(size, window, edge):
    first, last = start_range(size, window, edge=edge)
    held = np.zeros(size)
    for start in range(first, last + 1):
        held[max(start, 0) : max(start + window, 0)] += 1
    return held / (last - first + 1)


@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("size, window", [(512, 256), (37, 8), (9, 9), (5, 12), (10, 7), (1, 1)])
def test_axis_coverage_counts_the_windows_that_hold_each_pixel(size, window, edge):
    assert np.allclose(axis_coverage(size, window, edge=edge), brute_coverage(size, window, edge))


def test_windows_inside_the_image_rarely_hold_its_edge_pixels():
    """The default's figures: a 512 px axis, 256 px windows: 257 starts, row 0 in one."""
    rows = axis_coverage(512, 256)
    assert rows.max() == rows[256] == pytest.approx(256 / 257)  # no row is in all 257
    assert rows[0] == pytest.approx(1 / 257)  # 0.4% of the centre's
    assert rows[16] / rows[256] == pytest.approx(17 / 256)  # 6.6%


def test_edge_windows_cover_edge_pixels_about_half_as_often_as_the_centre():
    rows = axis_coverage(512, 256, edge=True)
    assert rows[0] / rows.max() >= 0.5 and rows[16] / rows.max() > 0.55
    assert rows.max() == rows[256] == pytest.approx(0.5)  # 256 of 512 starts
    square = window_coverage((512, 512), 256, edge=True)
    assert square[0, 0] / square[256, 256] >= 0.25 and square[0, 256] / square[256, 256] >= 0.5
    # windows at least as large as the axis cover all of it, as before
    assert axis_coverage(100, 256, edge=True).tolist() == [1.0] * 100
    assert axis_coverage(256, 256, edge=True).tolist() == [1.0] * 256


def test_the_default_draws_the_same_starts_as_before():
    """Off, one ``rng.integers`` over the old range: seeded runs and resumes repeat."""
    for size, window in [(64, 8), (5, 3), (3, 5)]:
        a, b = np.random.default_rng(4), np.random.default_rng(4)
        lo, hi = (0, size - window) if window <= size else (size - window, 0)
        assert [window_start(size, window, a) for _ in range(50)] == [
            int(b.integers(lo, hi + 1)) for _ in range(50)
        ]


@pytest.mark.parametrize("edge", [False, True])
def test_the_tiles_cover_the_image_as_axis_coverage_says(edge):
    """The sampler itself: rows held by the targets of 3,000 tiles against the exact figure."""
    ds = TileDataset(
        [coordinate_sample(48, 48)],
        input_size=12,
        output_size=12,
        tiles_per_epoch=3000,
        edge_windows=edge,
    )
    held = np.zeros(48)
    for i in range(len(ds)):
        _, top, _ = ds.draw(i)
        held[max(top, 0) : max(top + 12, 0)] += 1
    assert np.allclose(held / len(ds), axis_coverage(48, 12, edge=edge), atol=0.03)
    assert (held[0] / held.max() >= 0.4) == edge


@pytest.mark.parametrize("margin", [0, 8])  # same padding, a valid net's border
def test_labels_outside_the_image_are_ignored_and_the_input_mirrored(margin):
    sample = coordinate_sample(30, 40, np.full((30, 40), 3.0, np.float32))
    size_out = 16
    ds = TileDataset(
        [sample],
        input_size=size_out + 2 * margin,
        output_size=size_out,
        tiles_per_epoch=200,
        seed=2,
        edge_windows=True,
    )
    past = 0
    for i in range(len(ds)):
        image, target, weight = ds[i]
        _, top, left = ds.draw(i)
        assert top >= -8 and left >= -8 and top + 8 <= 30 and left + 8 <= 40  # centre inside
        rows, cols = np.arange(top, top + size_out), np.arange(left, left + size_out)
        inside = np.outer((rows >= 0) & (rows < 30), (cols >= 0) & (cols < 40))
        past += not inside.all()
        expected = np.where(inside, rows[:, None] * 1000 + cols[None, :], IGNORE_INDEX)
        assert np.array_equal(target.numpy(), expected)
        assert torch.equal(weight, torch.from_numpy(np.where(inside, 3.0, 0.0).astype(np.float32)))
        m = margin
        assert (
            image[0, :, 0].tolist()
            == reflect_indices(top - m, top - m + size_out + 2 * m, 30).tolist()
        )
        assert (
            image[1, 0].tolist()
            == reflect_indices(left - m, left - m + size_out + 2 * m, 40).tolist()
        )
    assert past > 100  # most of these windows reach past an edge


def test_augmented_edge_tiles_keep_outside_labels_ignored():
    sample = coordinate_sample(32, 32)
    augment = Augment()
    ds = TileDataset(
        [sample],
        input_size=24,
        output_size=8,
        augment=augment,
        tiles_per_epoch=60,
        edge_windows=True,
    )
    for i in range(len(ds)):
        image, target, _ = ds[i]
        known = target.numpy() != IGNORE_INDEX
        t = target.numpy()[known]
        assert ((t // 1000 < 32) & (t % 1000 < 32)).all()  # only real pixels are labels
    assert image.shape == (2, 24, 24)


def _write(root, name, image, mask):
    for folder, array in (("images", image), ("masks", mask)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(root / folder / f"{name}.png")


def test_the_loss_takes_nothing_from_the_labels_outside_the_image(tmp_path):
    """A background-only mask: were the outside pixels class 0, a logit that calls them
    anything else would raise the loss."""
    rng = np.random.default_rng(0)
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255
    _write(tmp_path, "a", rng.integers(0, 255, (40, 40), np.uint8), mask)
    (sample,) = load_samples(
        find_pairs(tmp_path), label_values=[0, 255], normalization={"mode": "per_image"}
    )
    ds = TileDataset([sample], input_size=24, output_size=24, tiles_per_epoch=20, edge_windows=True)
    loss = build_loss("ce")
    for i in range(len(ds)):
        _, target, weight = ds[i]
        outside = target == IGNORE_INDEX
        if not outside.any():
            continue
        logits = torch.stack([(target == 0).float() * 4, (target == 1).float() * 4])[None]
        wrong = logits.clone()
        wrong[0, 1][outside] = 50.0  # outside called class 1: no change
        assert float(loss(logits, target[None], weight[None])) == pytest.approx(
            float(loss(wrong, target[None], weight[None]))
        )


def test_instance_targets_with_weight_maps_past_the_edge(tmp_path):
    ids = np.zeros((40, 40), np.uint8)
    ids[0:12, 0:12] = 1  # an object on the corner
    ids[20:34, 14:30] = 2
    _write(tmp_path, "a", (ids * 60).astype(np.uint8), ids)
    (sample,), _ = load_instance_samples(
        find_pairs(tmp_path), normalization={"mode": "per_image"}, weight_map={"w0": 10.0}
    )
    ds = TileDataset([sample], input_size=32, output_size=16, tiles_per_epoch=80, edge_windows=True)
    past = 0
    for i in range(len(ds)):
        _, target, weight = ds[i]
        _, top, left = ds.draw(i)
        rows, cols = np.arange(top, top + 16), np.arange(left, left + 16)
        inside = np.outer((rows >= 0) & (rows < 40), (cols >= 0) & (cols < 40))
        assert (target.numpy()[~inside] == IGNORE_INDEX).all()
        assert (weight.numpy()[~inside] == 0).all() and (weight.numpy()[inside] > 0).all()
        assert set(np.unique(target.numpy()[inside])) <= {0, 1, 2}
        past += not inside.all()
    assert past > 30  # 61% of them reach past an edge


def test_the_config_key_reaches_the_training_tiles():
    cfg = Config.from_dict({"data": {"edge_windows": True}})
    data = Data([coordinate_sample(64, 64)], [], [0], ["a"])
    assert tile_dataset(cfg, data, (32, 16)).edge_windows
    assert not tile_dataset(Config.from_dict({}), data, (32, 16)).edge_windows
    with pytest.raises(Exception, match="edge_windows"):
        Config.from_dict({"data": {"edge_windows": "sometimes"}})
