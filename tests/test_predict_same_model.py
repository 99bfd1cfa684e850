"""Outputs of other inputs that this run's checkpoint made at another pyramid ``--level`` or
``--tile-size`` are the same model's: the folder check names the setting that differs, not
two models with the same checkpoint and sha named twice (follow-up s42 "mixlevel")."""

from __future__ import annotations

import logging

import numpy as np
import tifffile
import torch

from unetlab import UNet, save_model
from unetlab.cli import main


def _pyramid(path, seed: int) -> None:
    image = np.random.default_rng(seed).integers(0, 255, (64, 64), dtype=np.uint8)
    meta = {"PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3, "axes": "YX"}
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(image, tile=(32, 32), subifds=1, metadata=meta)
        tif.write(image[::2, ::2], tile=(32, 32), subfiletype=1)


def test_outputs_of_another_level_name_the_level_not_two_models(tmp_path, caplog):
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    _pyramid(tmp_path / "a.ome.tif", 0)
    _pyramid(tmp_path / "b.ome.tif", 1)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--output", str(tmp_path / "o")]
    argv += ["--device", "cpu", "--no-progress"]
    assert main([*argv, "--input", str(tmp_path / "a.ome.tif"), "--level", "0"]) == 0
    with caplog.at_level(logging.INFO, logger="unetlab.inference.folders"):
        assert main([*argv, "--input", str(tmp_path / "b.ome.tif"), "--level", "1"]) == 0
    assert "mix two models" not in caplog.text
    assert "outputs of a.ome.tif made by this run's model read at another pyramid level" in (
        caplog.text
    )
    assert "(level 0 there, 1 here): the same model, not two" in caplog.text


def test_only_reading_and_tiling_settings_are_the_same_model():
    from unetlab.inference.records import describe_same_model, same_model

    assert same_model({"level": (0, 1), "tile_size": (None, 32)})
    assert not same_model({"level": (0, 1), "tta": ([], ["hflip"])})  # another model's outputs
    assert not same_model({})  # other weights: setting_changes gives none
    assert describe_same_model({"level": (0, 1)}) == (
        "read at another pyramid level (level 0 there, 1 here)"
    )
