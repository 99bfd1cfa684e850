"""``unetlab train`` counted the regions of each mask twice: the plan's measure numbered
its objects (object_labels), then training's scan of its values labelled them again
(value_regions). Within data.regions.regions_counted_once (held by data.held.stacks_held
for the command) the scan takes them from the plan's (s60), the same counts."""

from __future__ import annotations

import contextlib
import io
import traceback

import numpy as np
import pytest
import scipy.ndimage
import tifffile

from unetlab.data import regions
from unetlab.data.regions import object_labels, value_regions


def _mask(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((40, 40)) > 0.6).astype(np.uint8) * rng.integers(1, 4, (40, 40)).astype(
        np.uint8
    )


def test_the_regions_of_a_numbered_mask_are_not_labelled_again(monkeypatch):
    mask, other = _mask(0), _mask(1)
    alone, outside_1 = value_regions(mask, 0), value_regions(mask, 1)
    labelled = []
    real = scipy.ndimage.label
    monkeypatch.setattr(scipy.ndimage, "label", lambda *a, **k: labelled.append(1) or real(*a, **k))
    with regions.regions_counted_once():
        objects = object_labels(mask, 0, instances=False)
        before = len(labelled)
        assert value_regions(mask, 0) == alone and len(labelled) == before  # none again
        assert sum(alone) == objects.max()
        again = len(labelled)
        assert value_regions(mask, 1) == outside_1 and len(labelled) > again  # counted anew
        assert value_regions(other, 0) != alone and len(labelled) > before  # other pixels
    assert value_regions(mask, 0) == alone  # outside: counted, as ever


def test_train_check_counts_each_masks_regions_once(tmp_path, monkeypatch):
    from unetlab.cli import main

    root = tmp_path / "set"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        tifffile.imwrite(root / "images" / f"i{i}.tif", rng.integers(0, 255, (40, 40), np.uint8))
        tifffile.imwrite(root / "masks" / f"i{i}.tif", _mask(i))
    by, real = {"value_regions": 0, "object_labels": 0}, scipy.ndimage.label

    def label(*args, **kwargs):
        for frame in traceback.extract_stack()[:-1]:
            by[frame.name] = by.get(frame.name, 0) + (frame.name in by)
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.ndimage, "label", label)
    run = ["--run-dir", str(tmp_path / "run"), "--no-progress", "--device", "cpu"]
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", "--data", str(root), "--check", *run]) == 0
    assert by["object_labels"] >= 6 and by["value_regions"] == 0  # 18 before


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_kept_counts_are_those_of_the_mask(dtype):
    mask = _mask(3).astype(dtype)
    with regions.regions_counted_once():
        object_labels(mask, 0, instances=False)
        kept = value_regions(mask, 0, np.unique(mask))
    assert kept == value_regions(mask, 0, np.unique(mask))


def test_a_value_without_a_kept_count_is_counted_again():
    """A float mask's NaN (through the API) is not found by key among the kept counts:
    a KeyError before; now the mask's regions are counted anew."""
    mask = np.zeros((10, 10), np.float32)
    mask[2:4, 2:4], mask[6, 6], mask[7, 7] = 1, np.nan, 2.5
    alone = value_regions(mask, 0)
    with regions.regions_counted_once():
        object_labels(mask, 0, instances=False)
        assert value_regions(mask, 0) == alone == (0, 1, 1, 0)
