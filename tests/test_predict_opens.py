"""How often ``unetlab predict`` of a flat folder of YXC TIFFs opens each one: 11 to 12
times (s60: the trained axes read 5 times, the streaming rule's reads outside one open,
the pixel size after the file's open closed); 4 now (the first 5), what it predicts
unchanged."""

from __future__ import annotations

import collections

import numpy as np
import tifffile
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet
from unetlab.read_once import ReadOnce


def _opens(monkeypatch) -> collections.Counter:
    """The names of each ``tifffile.TiffFile`` opened from now on, counted."""
    opened: collections.Counter = collections.Counter()

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            folder, name = str(path).replace("\\", "/").rsplit("/", 2)[-2:]
            opened[name] += folder == "in"
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


def test_predict_opens_each_yxc_tiff_of_a_folder_a_few_times(tmp_path, monkeypatch):
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        yxc = rng.integers(0, 255, (24, 24, 2), np.uint8)
        tifffile.imwrite(tmp_path / "in" / f"s{i}.tif", yxc, photometric="minisblack")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in"), "--no-progress", "--save-probabilities"]
    opened = _opens(monkeypatch)
    assert main([*argv, "--output", str(tmp_path / "out")]) == 0
    # the first: the channel checks' look; then each: its positions with its axes, the
    # streaming rule, its prediction, its geotags
    assert {n: k for n, k in opened.items() if k} == {
        "s0.tif": 5,
        "s1.tif": 4,
        "s2.tif": 4,
        "s3.tif": 4,
    }
    monkeypatch.undo()  # 12, 11, 11, 11 before; the same outputs again with every read
    # read (no read kept: s61 review, the same outputs of two runs that both kept theirs)
    monkeypatch.setattr(ReadOnce, "read", lambda _self, _what, _path, read: read())
    assert main([*argv, "--output", str(tmp_path / "once")]) == 0
    for made in sorted((tmp_path / "once").iterdir()):
        again = tmp_path / "out" / made.name
        assert again.read_bytes() == made.read_bytes() or made.suffix == ".json", made.name


def test_predict_stats_each_input_fewer_times(tmp_path, monkeypatch):
    """Each input's record was made once for each of its output names (13 for a TIFF, two
    os.stat each) and its resolved path once a name (s60: 127-129 stats of each of 4 TIFFs);
    once an input now."""
    import os
    from pathlib import Path

    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    (tmp_path / "in").mkdir()
    for i in range(4):
        yxc = np.zeros((24, 24, 2), np.uint8)
        tifffile.imwrite(tmp_path / "in" / f"s{i}.tif", yxc, photometric="minisblack")
    stats, real = collections.Counter(), os.stat

    def counted(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and Path(path).parent == tmp_path / "in":
            stats[Path(path).name] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    assert main([*argv, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]) == 0
    inputs = [stats[f"s{i}.tif"] for i in range(4)]
    # 129, 127, 127, 127 before; 93, 91, 91, 91 (s60)
    assert min(inputs) > 0 and max(inputs) < 100, inputs
