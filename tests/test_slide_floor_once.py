"""16-bit slides given to a model trained on 8-bit images: the floor's "not applied to uint16
images" line is said once in a run, and alone: a streamed page said the other dtype twice
(the appearance's line too, which an image read whole leaves to the floor's), and a
``--recursive`` tree said it once in each folder (inference/slides.py, inference/tree.py)."""

import logging

import numpy as np
import tifffile
import torch

from unetlab import UNet
from unetlab.data.appearance import image_appearance, training_appearance
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree

SPEC8 = {"mode": "per_image", "floor": [12.0], "dtype": "uint8"}


def _model() -> UNet:
    """A model as ``unetlab train`` leaves one trained on 8-bit images: floored, with the
    appearance of its training images."""
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = dict(SPEC8)
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 200, (32, 32)).astype(np.uint8) for _ in range(3)]
    spec = model.normalization
    model.appearance = training_appearance(
        [image_appearance(a, spec) for a in images], ["uint8"] * 3
    )
    return model


def _slides(folder, n: int, seed: int = 0) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image = rng.integers(100, 4000, (80, 80)).astype(np.uint16)
        tifffile.imwrite(folder / f"s{i}.tif", image, tile=(32, 32))


def _uint16_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "uint16" in r.getMessage()]


def test_a_folder_of_16bit_slides_says_the_floor_once_in_one_line(tmp_path, caplog):
    _slides(tmp_path / "in", 3)
    caplog.set_level(logging.WARNING)
    predict_folder(_model(), tmp_path / "in", tmp_path / "out", large_threshold=100)
    assert len(list((tmp_path / "out").glob("s*.tif"))) == 3  # streamed, each
    (line,) = _uint16_lines(caplog)
    assert "floor 12 is in the uint8 values it trained on, not applied to uint16 images" in line
    assert line.startswith("s0.tif (the first uint16 image): ")  # a name, not the path
    assert len(line) < 420, len(line)


def test_a_tree_of_16bit_slides_says_the_floor_once(tmp_path, caplog):
    _slides(tmp_path / "in" / "a", 1)
    _slides(tmp_path / "in" / "b", 2, seed=1)
    caplog.set_level(logging.WARNING)
    results = predict_tree(_model(), tmp_path / "in", tmp_path / "out", large_threshold=100)
    assert sum(len(r.written) for r in results.values()) == 3
    (line,) = _uint16_lines(caplog)
    assert "not applied to uint16 images" in line
