"""``data.normalization: {mode: dataset}``: each channel's mean and std over all the
training images' sample pixels, measured by training, recorded in the checkpoint and applied
as they are at predict, so calibrated data (reflectance) keep their absolute values (s37
bands D: per-image percentiles mapped each tile's own 1st percentile to 0)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.checkpoint import load_checkpoint
from unetlab.cli import main
from unetlab.data.normalize import image_stats, normalization_formula, pooled_stats
from unetlab.errors import UnetlabError


def _scene(i: int, side: int = 36) -> tuple[np.ndarray, np.ndarray]:
    """A float32 3-band 'reflectance' scene: water (0.02-0.05) and land (0.2-0.4), and its
    mask; scene 0's left quarter is no data (0 in every band, GDAL_NODATA 0)."""
    mask = np.zeros((side, side), np.uint8)
    mask[:, side // 2 + i :] = 1
    rng = np.random.default_rng(i)
    spectra = np.array([[0.05, 0.03, 0.02], [0.2, 0.3, 0.4]], np.float32)
    image = spectra[mask] + rng.normal(0, 0.01, (side, side, 3)).astype(np.float32)
    if i == 0:
        image[:, : side // 4] = 0
    return image, mask


def _write(root, stems=range(3)):
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True)
    for i in stems:
        image, mask = _scene(i)
        tags = [(42113, "s", 0, "0", True)]  # GDAL_NODATA: a corner outside the swath
        how = dict(photometric="minisblack", planarconfig="contig", extratags=tags)
        tifffile.imwrite(root / "images" / f"{i}.tif", image, **how)
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)


def test_pooled_stats_are_those_of_all_the_pixels_together():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1, 2, (50, 2)), rng.normal(-3, 0.5, (20, 2))
    stats = [(x.mean(0), x.std(0), len(x)) for x in (a, b)]
    mean, std = pooled_stats(stats)
    both = np.concatenate([a, b])
    assert np.allclose(mean, both.mean(0)) and np.allclose(std, both.std(0))
    zeroed = [(np.array([5.0, 0.0, 1.0]), np.array([2.0, 0.0, 4.0]), 10)] * 2
    assert pooled_stats(zeroed)[1] == [2.0, 3.0, 4.0]  # a band of 0: scaled as the others


def test_training_measures_the_set_and_predict_applies_it_as_is(tmp_path):
    _write(tmp_path / "data" / "train", range(3))
    _write(tmp_path / "data" / "val", [5])
    run = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "data"), "--run-dir", str(run), "--epochs", "1"]
    args += ["--set", "model.depth=2", "--set", "model.base_channels=2", "--no-progress"]
    args += ["--set", "data.tile_size=32", "--set", "data.normalization.mode=dataset"]
    assert main(args) == 0
    spec = load_checkpoint(run / "checkpoints" / "best.pt")["normalization"]
    pixels = [_scene(i)[0] for i in range(3)]
    pixels[0] = pixels[0][:, 9:]  # the nodata quarter left out
    every = np.concatenate([p.reshape(-1, 3) for p in pixels])
    assert spec["mode"] == "dataset"
    assert np.allclose(spec["mean"], every.mean(0), rtol=1e-4)
    assert np.allclose(spec["std"], every.std(0), rtol=1e-3)
    water = np.full((8, 8, 3), 0.03, np.float32)  # a tile of one class keeps its level
    mean, std = image_stats(water, spec)
    assert np.allclose(mean, spec["mean"]) and np.allclose(std, spec["std"])
    assert "over the training images" in normalization_formula(spec)


def test_a_dataset_spec_without_statistics_is_refused_at_predict():
    with pytest.raises(UnetlabError, match="training measures them"):
        image_stats(np.zeros((4, 4), np.float32), {"mode": "dataset"})
