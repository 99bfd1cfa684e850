"""The pixel rule counts a TIFF as the prediction reads it: a 2-channel (Y, X, C) array
saved without metadata is 48 pages of 64 x 2 px to tifffile, one 48 x 64 image of 2
channels to a YXC model; it was counted as 48 pages of 128 px, never large (s63)."""

from __future__ import annotations

import logging

import numpy as np
import tifffile
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.inference import files, slides
from unetlab.inference.slides import is_large
from unetlab.models import UNet


def _bare_two_channels(path):
    yxc = np.random.default_rng(0).integers(0, 255, (48, 64, 2), np.uint8)
    tifffile.imwrite(path, yxc, metadata=None)
    with tifffile.TiffFile(path) as tif:  # what tifffile guesses of it
        assert len(tif.pages) == 48 and tif.series[0].shape == (48, 64, 2)


def test_a_bare_yxc_tiff_is_counted_as_one_image_of_its_channels(tmp_path):
    _bare_two_channels(tmp_path / "a.tif")
    assert is_large(tmp_path / "a.tif", threshold=3071, axes="YXC")  # 48 x 64 px
    assert not is_large(tmp_path / "a.tif", threshold=3072, axes="YXC")
    assert not is_large(tmp_path / "a.tif", threshold=128)  # read as it is: 48 pages of 64 x 2
    assert is_large(tmp_path / "a.tif", threshold=127)
    assert not is_large(tmp_path / "a.tif", threshold=3071, axes="CYX")  # pages as channels


def test_predict_counts_a_bare_yxc_tiff_by_the_models_channels(tmp_path, capsys):
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    (tmp_path / "in").mkdir()
    _bare_two_channels(tmp_path / "in" / "a.tif")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu", "--no-progress"]
    argv += ["--input", str(tmp_path / "in")]
    assert main([*argv, "--large-pixels", "1000", "--output", str(tmp_path / "o")]) == 3
    said = capsys.readouterr().err  # it was read whole, its pages 128 px: 0 large
    assert "read it whole with --large-pixels 3072" in said, said  # the fix it names works:
    assert main([*argv, "--large-pixels", "3072", "--output", str(tmp_path / "w")]) == 0
    assert tifffile.imread(tmp_path / "in" / "a.tif").shape == (48, 64, 2)  # kept as it was
    assert (tmp_path / "w" / "a.png").is_file()


def _yxc_model(tmp_path, axes="YXC"):
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": axes}})
    (tmp_path / "in").mkdir()
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu", "--no-progress"]
    return [*argv, "--input", str(tmp_path / "in")]


def test_by_default_a_bare_yxc_tiff_over_the_pixel_rule_is_read_whole(
    tmp_path, caplog, monkeypatch
):
    """The streaming path cannot read its pages as one image's rows: at default settings it
    is read whole, said first, as before s63 (a plain (8200, 8200, 2) array was refused,
    exit 3); the user's own --large-pixels under it is refused (the test above)."""
    monkeypatch.setattr(slides, "LARGE_PIXELS", 1000)  # 67 MP, for 48 x 64 px
    monkeypatch.setattr(files, "LONG_READ_PIXELS", 1000)
    argv = _yxc_model(tmp_path)
    _bare_two_channels(tmp_path / "in" / "a.tif")
    assert not is_large(tmp_path / "in" / "a.tif", axes="YXC")  # its pages are 128 px
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "o")]) == 0
    assert "1 file (0 large)" in caplog.text
    said = [m for m in caplog.messages if "MP read whole" in m]
    assert len(said) == 1 and "otherwise than its file does" in said[0], caplog.messages
    assert "metadata={'axes': 'YXC'}" in said[0] and "--large-pixels" not in said[0]
    assert (tmp_path / "o" / "a.png").is_file()


def test_a_stack_of_bare_channels_is_counted_by_its_series_shape(tmp_path, capsys):
    """A (5, 48, 64, 2) array saved plain is 240 pages of 64 x 2 px to tifffile; a ZYXC
    model reads 5 planes of 48 x 64: --large-pixels 1000 asks to stream them (it read them
    whole, their pages 128 px), which the streaming path cannot, said in one line."""
    argv = _yxc_model(tmp_path, "ZYXC")
    stack = np.random.default_rng(0).integers(0, 255, (5, 48, 64, 2), np.uint8)
    tifffile.imwrite(tmp_path / "in" / "a.tif", stack)
    assert is_large(tmp_path / "in" / "a.tif", threshold=3071, axes="ZYXC")
    assert not is_large(tmp_path / "in" / "a.tif", threshold=3072, axes="ZYXC")
    assert main([*argv, "--large-pixels", "1000", "--output", str(tmp_path / "o")]) == 3
    assert "read it whole with --large-pixels 3072" in capsys.readouterr().err
