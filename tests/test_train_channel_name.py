"""Training on a channel by its name (``data.channel: DAPI``, s70: refused, "must be int or
list or null"): found in each file by the names it records, whatever its index; the
checkpoint records the name, and predict finds it by name in each file that names its
channels (a file of another channel order was read by index: another stain, unsaid)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab.checkpoint import load_checkpoint, load_model, save_model
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.fingerprint import fingerprint
from unetlab.data.io import read_image
from unetlab.data.pairs import Pair
from unetlab.errors import DatasetError, UnetlabError
from unetlab.inference.files import predict_file
from unetlab.models import UNet

NAMES = ["DAPI", "CD45", "panCK"]


def _image(seed: int, side: int = 40) -> np.ndarray:
    """(3, side, side) uint16: DAPI squares near 2,000 over 300, the other stains near
    40,000 and 60,000 (far from DAPI's: a test sees which channel was read)."""
    rng = np.random.default_rng(seed)
    dapi = np.full((side, side), 300.0)
    for y, x in rng.integers(2, side - 10, (4, 2)):
        dapi[y : y + 8, x : x + 8] = 2000
    others = [
        40000 + rng.integers(0, 500, (side, side)),
        60000 - np.arange(side)[:, None] + np.zeros((1, side), int),
    ]
    return np.stack([dapi + rng.integers(0, 50, (side, side)), *others]).astype(np.uint16)


def _ome(path, image: np.ndarray, names=NAMES, order=(0, 1, 2)):
    """An OME-TIFF of ``image``'s channels in ``order``, each named as in ``names``."""
    meta = {"axes": "CYX", "Channel": {"Name": [names[i] for i in order]}}
    tifffile.imwrite(path, image[list(order)], ome=True, metadata=meta, photometric="minisblack")
    return path


def _data_set(root, orders, n: int = 4):
    """images/ + masks/ of ``n`` 3-channel OME-TIFFs, the i-th in channel order ``orders[i %
    len(orders)]``, its mask DAPI's squares."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        image = _image(i)
        _ome(root / "images" / f"{i}.ome.tif", image, order=orders[i % len(orders)])
        tifffile.imwrite(root / "masks" / f"{i}.ome.tif", (image[0] > 1000).astype(np.uint8))
    return root


def test_a_channel_name_is_a_setting():
    assert load_config(None, ["data.channel=DAPI"]).data.channel == "DAPI"
    assert load_config(None, ["data.channel=[2, 0]"]).data.channel == [2, 0]
    with pytest.raises(UnetlabError, match="a channel's name"):
        load_config(None, ["data.channel=' '"])


def test_a_name_is_found_in_each_file_whatever_its_index(tmp_path):
    """DAPI first in one file, last in the other: each measured on its DAPI (by index, the
    second file's 0 was panCK near 60,000)."""
    a = _ome(tmp_path / "a.ome.tif", _image(0))
    b = _ome(tmp_path / "b.ome.tif", _image(1), order=(2, 1, 0))
    tifffile.imwrite(tmp_path / "m.tif", np.zeros((40, 40), np.uint8))
    pairs = [Pair(a, tmp_path / "m.tif"), Pair(b, tmp_path / "m.tif")]
    for pair in fingerprint(pairs, channel="DAPI").pairs:
        assert pair.channels == 1 and pair.high[0] < 2100, pair.high
    lacking = _ome(tmp_path / "c.ome.tif", _image(2), names=["Hoechst", "CD45", "panCK"])
    with pytest.raises(DatasetError, match=r"c.ome.tif: has no channel named 'DAPI' \(data"):
        fingerprint([Pair(lacking, tmp_path / "m.tif")], channel="DAPI")
    tifffile.imwrite(
        tmp_path / "d.tif", _image(3), metadata={"axes": "CYX"}, photometric="minisblack"
    )
    with pytest.raises(DatasetError, match="d.tif: records no channel names, so no channel"):
        fingerprint([Pair(tmp_path / "d.tif", tmp_path / "m.tif")], channel="DAPI")


def _train(root, run, channel: str) -> None:
    args = ["train", "--data", str(root), "--run-dir", str(run), "--minutes", "0.02"]
    args += ["--set", "model.depth=2", "--set", "model.base_channels=2", "--no-progress"]
    args += ["--set", f"data.channel={channel}", "--set", "data.tile_size=32"]
    assert main(args) == 0


@pytest.mark.parametrize("channel", ["DAPI", "0"])
def test_the_checkpoint_records_the_channels_name(tmp_path, channel):
    """By name, or by index where the files name their channels: the name is recorded
    (with the index in the first training image, which older readers and arrays take)."""
    root = _data_set(tmp_path / "data", [(0, 1, 2)] if channel == "0" else [(0, 1, 2), (1, 2, 0)])
    _train(root, tmp_path / "run", channel)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    assert checkpoint["channel"] == 0 and checkpoint["channel_names"] == ["DAPI"]
    assert "channel.names" in checkpoint["features"]
    assert load_model(tmp_path / "run" / "checkpoints" / "best.pt").channel_names == ["DAPI"]


@pytest.fixture
def model() -> UNet:
    """A 1-channel net trained on channel 0, DAPI (as the checkpoint records it)."""
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    net.channel, net.channel_names = 0, ["DAPI"]
    return net


@pytest.mark.parametrize("large", [False, True])
def test_predict_finds_the_trained_channel_by_name(tmp_path, model, caplog, large):
    """A file of another channel order is predicted on its DAPI (read whole, and window by
    window), said once; a file naming no channels by the index."""
    image = _image(5)
    plain = _ome(tmp_path / "plain.ome.tif", image)
    moved = _ome(tmp_path / "moved.ome.tif", image, order=(2, 0, 1))
    kw = dict(large_threshold=100) if large else {}
    with caplog.at_level(logging.INFO):
        (a,) = predict_file(model, plain, tmp_path / "a", **kw)
        (b,) = predict_file(model, moved, tmp_path / "b", **kw)
    assert np.array_equal(read_image(a), read_image(b))
    assert "the model's channel DAPI is its channel 1 (channel 0 in the" in caplog.text
    tifffile.imwrite(
        tmp_path / "bare.tif", image, metadata={"axes": "CYX"}, photometric="minisblack"
    )
    (c,) = predict_file(model, tmp_path / "bare.tif", tmp_path / "c", **kw)
    assert np.array_equal(read_image(c), read_image(a))


def test_a_file_without_the_trained_name_is_one_line(tmp_path, model, capsys):
    """A file naming its channels, none DAPI: refused naming them and --channel (not read
    by index: its channel 0 is another stain or the same under another name)."""
    (tmp_path / "in").mkdir()
    _ome(tmp_path / "in" / "h.ome.tif", _image(6), names=["Hoechst", "CD45", "panCK"])
    _ome(tmp_path / "in" / "ok.ome.tif", _image(6), order=(1, 0, 2))
    save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 3
    said = capsys.readouterr().err
    assert "h.ome.tif: has no channel named 'DAPI', which the model was trained on" in said
    assert "0: Hoechst" in said and "give --channel the one to predict" in said, said
    assert "Traceback" not in said and any((tmp_path / "out").glob("ok.*"))
    argv[-1] = str(tmp_path / "in" / "h.ome.tif")  # the fix it names
    assert main([*argv, "--output", str(tmp_path / "o2"), "--channel", "Hoechst"]) == 0


def test_a_name_asked_that_the_model_trained_on_is_not_warned(tmp_path, model, caplog):
    """--channel DAPI of a file where DAPI is channel 2 and the model's names DAPI: no
    "trained on channel 0" warning (s69's index comparison, false here)."""
    (tmp_path / "in").mkdir()
    _ome(tmp_path / "in" / "m.ome.tif", _image(7), order=(1, 2, 0))
    save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "out"), "--channel", "DAPI"]) == 0
    assert "but the model was trained on channel 0" not in caplog.text, caplog.text
