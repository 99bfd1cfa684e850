"""Training on one channel of multi-channel files (``data.channel``): the counterpart of
``predict --channel``, recorded in the checkpoint so that predict reads that channel."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.datasets import split_pairs
from unetlab.data.fingerprint import fingerprint
from unetlab.data.io import read_image
from unetlab.errors import DatasetError, UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import predict_image


def _cyx(i: int, side: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A 16-bit (2, H, W) image, 'nuclei' in channel 0 and a flat membrane channel 1, and
    its object ids."""
    mask = np.zeros((side, side), dtype=bool)
    for k in range(3 + i % 2):
        y, x = 5 + 12 * k, 6 + 3 * (i % 3)
        mask[y : y + 8, x : x + 8] = True
    ids, _ = ndimage.label(mask)
    dapi = mask * 1500 + 300 + np.arange(side) % 11
    membrane = np.full((side, side), 50000) - np.arange(side)[:, None]
    return np.stack([dapi, membrane]).astype(np.uint16), ids.astype(np.uint16)


def write_cyx(root, n: int = 4):
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True)
    for i in range(n):
        image, ids = _cyx(i)
        path = root / "images" / f"{i}.tif"
        tifffile.imwrite(path, image, imagej=True, metadata={"axes": "CYX"})
        tifffile.imwrite(root / "masks" / f"{i}.tif", ids)
    return root


def test_the_fingerprint_measures_the_chosen_channel_only(tmp_path):
    root = write_cyx(tmp_path / "data")
    train, _ = split_pairs(root, val_fraction=0.0, seed=0)
    assert {p.channels for p in fingerprint(train).pairs} == {2}
    one = fingerprint(train, channel=1)
    assert {p.channels for p in one.pairs} == {1}
    assert one.pairs[0].low[0] > 49000  # the membrane's values, not the DAPI's
    with pytest.raises(DatasetError, match=r"0.tif: has 2 channels \(0 to 1\), no channel 2"):
        fingerprint(train, channel=2)
    with pytest.raises(UnetlabError, match="data.channel must be a channel index at least 0"):
        load_config(None, ["data.channel=-1"])


def test_train_on_channel_0_and_predict_it_without_a_flag(tmp_path, caplog):
    root = write_cyx(tmp_path / "data")
    run = tmp_path / "run"
    args = ["train", "--data", str(root), "--run-dir", str(run), "--minutes", "0.02"]
    args += ["--set", "model.depth=2", "--set", "model.base_channels=2", "--no-progress"]
    args += ["--set", "data.channel=0", "--set", "data.tile_size=32"]
    assert main(args) == 0
    checkpoint = load_checkpoint(run / "checkpoints" / "best.pt")
    assert checkpoint["config"]["in_channels"] == 1 and checkpoint["channel"] == 0
    model = load_model(run / "checkpoints" / "best.pt")
    image, _ = _cyx(7)
    expected = predict_image(model, image[0]).argmax(0)
    assert np.array_equal(predict_image(model, np.moveaxis(image, 0, -1)).argmax(0), expected)
    tifffile.imwrite(tmp_path / "two.tif", image, imagej=True, metadata={"axes": "CYX"})
    (written,) = predict_file(model, tmp_path / "two.tif", tmp_path / "out")
    assert np.array_equal(read_image(written), expected)
    with caplog.at_level(logging.INFO):  # --channel still overrides it, with a note
        argv = ["predict", "--checkpoint", str(run / "checkpoints" / "best.pt")]
        argv += ["--input", str(tmp_path / "two.tif"), "--output", str(tmp_path / "one")]
        # on the CPU: compared below pixel for pixel with predict_image's CPU labels
        assert main([*argv, "--channel", "1", "--device", "cpu"]) == 0
    assert "but the model was trained on channel 0 (data.channel)" in caplog.text
    ch1 = predict_image(model, image[1]).argmax(0)
    assert np.array_equal(read_image(tmp_path / "one" / "two.png"), ch1)
