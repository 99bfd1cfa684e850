"""What a checkpoint records of its training images' channels
(:func:`~unetlab.data.colour.channels_kind` of each, at training start, beside the loading
that reads every image) reads each TIFF's header once: it opened each file twice (s49)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.data.colour import channels_kind, same_kind
from unetlab.errors import UnetlabError

# the TIFFs are written just before they are counted: taken as settled (read_once, s65)
pytestmark = pytest.mark.usefixtures("settled_inputs")


def _counted(monkeypatch) -> list[str]:
    """The paths of every ``tifffile.TiffFile`` opened from now on."""
    opened: list[str] = []

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            opened.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


@pytest.mark.parametrize(("photometric", "kind"), [("minisblack", "stains"), ("rgb", "colours")])
def test_each_training_tiff_is_opened_once(tmp_path, monkeypatch, photometric, kind):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(20):
        path = tmp_path / f"i{i:02d}.tif"
        if photometric == "rgb":
            tifffile.imwrite(path, rng.integers(0, 255, (8, 8, 3), np.uint8), photometric="rgb")
        else:
            cyx = rng.integers(0, 9000, (2, 8, 8), np.uint16)
            tifffile.imwrite(path, cyx, photometric="minisblack")
        paths.append(path)
    opened = _counted(monkeypatch)
    assert same_kind(channels_kind(p) for p in paths) == kind
    assert sorted(opened) == sorted(str(p) for p in paths)  # 40 before: twice each


def _data_set(root, kind: str, n: int = 20):
    """``n`` pairs of ``kind`` "cyx" (2-channel uint16, 0.65 um pixels) or "grey" (2-D uint8)
    TIFF images beside 2-D uint8 TIFF masks."""
    rng = np.random.default_rng(1)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    mask = np.zeros((32, 32), np.uint8)
    mask[4:12, 4:12] = mask[14:30, 14:30] = 1
    for i in range(n):
        image = root / "images" / f"i{i:02d}.tif"
        if kind == "cyx":
            cyx = rng.integers(0, 9000, (2, 32, 32), np.uint16)
            meta = {"axes": "CYX", "unit": "um"}
            tifffile.imwrite(image, cyx, imagej=True, resolution=(1 / 0.65,) * 2, metadata=meta)
        else:
            tifffile.imwrite(image, rng.integers(0, 255, (32, 32), np.uint8))
        tifffile.imwrite(root / "masks" / image.name, mask)
    return root


@pytest.mark.parametrize("kind", ["cyx", "grey"])
def test_prepare_data_opens_each_training_image_twice(tmp_path, monkeypatch, kind):
    """Training start opened each image TIFF five times (its page count, pixels, nodata,
    pixel size, channels), now twice: its page count when pairing, then once for all the
    rest; what it gives is what the readers give on their own."""
    from unetlab.config import load_config
    from unetlab.data.fingerprint import file_pixel_size
    from unetlab.train.setup import prepare_data

    root = _data_set(tmp_path / "set", kind)
    opened = _counted(monkeypatch)
    data = prepare_data(load_config(None, [f"data.root={root}"]))
    images = [o for o in opened if "/images/" in o.replace("\\", "/")]
    assert len(images) == 2 * 20  # 92 (cyx) and 76 (grey) before
    monkeypatch.undo()
    train = data.pairs[0]
    spacing = {file_pixel_size(p.image) for p in train}
    assert data.objects.get("pixel_size") == (None if spacing == {None} else [0.65, 0.65])
    kinds = [channels_kind(p.image, p.axes) for p in train]
    channels = same_kind(kinds) if kind == "cyx" else None
    assert data.appearance.get("channels") == channels
    assert channels == ("stains" if kind == "cyx" else None)


def test_a_stacks_header_is_read_once_for_all_its_pages(tmp_path, monkeypatch):
    """Each page of a multi-page stack re-opened its TIFF for its header (2 stacks of 20
    pages: 44 image opens); now a few per file, and every page still gets the header."""
    from unetlab.config import load_config
    from unetlab.train.setup import prepare_data

    root = tmp_path / "set"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    rng = np.random.default_rng(2)
    mask = np.zeros((20, 32, 32), np.uint8)
    mask[:, 4:12, 4:12] = mask[:, 14:30, 14:30] = 1
    for s in range(2):
        zyx = rng.integers(0, 255, (20, 32, 32), np.uint8)
        meta = {"axes": "ZYX", "unit": "um"}
        tifffile.imwrite(
            root / "images" / f"s{s}.tif", zyx, imagej=True, resolution=(2, 2), metadata=meta
        )
        tifffile.imwrite(root / "masks" / f"s{s}.tif", mask, imagej=True, metadata=meta)
    opened = _counted(monkeypatch)
    data = prepare_data(load_config(None, [f"data.root={root}"]))
    images = [o for o in opened if "/images/" in o.replace("\\", "/")]
    assert len(images) <= 3 * 2
    samples = list(data.train) + list(data.val)
    assert len(samples) == 40
    assert {s.spacing for s in samples} == {(0.5, 0.5)}
    assert data.objects.get("pixel_size") == [0.5, 0.5]


def _minisblack(folder, n: int, channels: int) -> list:
    """``n`` (Y, X, ``channels``) minisblack TIFFs in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        yxc = np.zeros((24, 24, channels), np.uint8)
        tifffile.imwrite(folder / f"s{i}.tif", yxc, photometric="minisblack")
    return sorted(folder.glob("*.tif"))


def _checks_opened(opened_by_checks: list[str], paths) -> list[int]:
    return [opened_by_checks.count(str(p)) for p in paths]


@pytest.mark.parametrize("channel", [5, 1])
def test_the_channel_checks_open_each_header_once(tmp_path, monkeypatch, channel):
    """s59: with the axes a model trained with, the checks before any file opened each
    TIFF's header twice (its axes, then its channels) and the first input's 4 times
    (wrong_count's look, then absent_channel's); once each now, refused or not."""
    from unetlab.inference.every_file import Takes, refuse_for_every_file

    paths = _minisblack(tmp_path / "in", 4, 2)
    opened = _counted(monkeypatch)
    takes = Takes(1, None, "YXC")
    if channel >= 2:
        with pytest.raises(UnetlabError, match="have 2 channels"):
            refuse_for_every_file("in", paths, {"channel": channel}, takes=takes)
        assert _checks_opened(opened, paths) == [1, 1, 1, 1]  # [4, 2, 2, 2] before
    else:
        refuse_for_every_file("in", paths, {"channel": channel}, takes=takes)
        assert _checks_opened(opened, paths) == [1, 0, 0, 0]  # [4, 0, 0, 0] before


def test_the_channel_checks_stat_each_header_a_few_times(tmp_path, monkeypatch):
    """s59 re-read: the read-once cache stacked on one header (the look, the bound, the
    header) took each file's stamp at each layer: 4 YXC TIFFs were stat-ed 8, 7, 7, 7
    times by one check; the reads alone are kept now (the axes, the header): 6, 4, 4, 4;
    s60: the axes' header kept once, by :func:`~unetlab.data.io.trained_file_axes`."""
    import os

    import unetlab.read_once
    from unetlab.inference.every_file import Takes, refuse_for_every_file

    paths = _minisblack(tmp_path / "in", 4, 2)
    stats, real = [], os.stat
    stat = lambda p, *a, **k: stats.append(str(p)) or real(p, *a, **k)  # noqa: E731
    monkeypatch.setattr(unetlab.read_once.os, "stat", stat)
    with pytest.raises(UnetlabError, match="have 2 channels"):
        refuse_for_every_file("in", paths, {"channel": 5}, takes=Takes(1, None, "YXC"))
    assert [stats.count(str(p)) for p in paths] == [4, 2, 2, 2]  # 6, 4, 4, 4 before


def _opened_by_checks(monkeypatch) -> list[str]:
    """The paths of each ``tifffile.TiffFile`` opened by the channel checks
    (:mod:`unetlab.inference.every_file`) from now on."""
    import traceback

    opened: list[str] = []

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            stack = traceback.extract_stack()
            if any(f.filename.endswith("every_file.py") for f in stack):
                opened.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


@pytest.mark.parametrize("recursive", [False, True])
def test_a_predict_command_reads_each_header_once_for_its_checks(tmp_path, monkeypatch, recursive):
    """s59: ``predict --channel 1`` of a YXC model opened its first input's header 5 times
    for the checks (the command's: wrong_count's look, absent_channel's; predict_folder's);
    ``--recursive`` its 2 folders' firsts 11 times (the tree's check, each folder's twice,
    predict_folder's): once each now, by all the command's checks."""
    import torch

    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.models import UNet

    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    firsts = [_minisblack(tmp_path / "in" / f, 2, 2)[0] for f in ("a", "b")]
    given = ["--input", str(tmp_path / "in" / ("" if recursive else "a"))]
    given += ["--recursive"] if recursive else []
    opened = _opened_by_checks(monkeypatch)
    args = [
        "predict",
        "--checkpoint",
        str(tmp_path / "m.pt"),
        "--device",
        "cpu",
        "--no-progress",
        *given,
    ]
    assert main([*args, "--output", str(tmp_path / "out"), "--channel", "1"]) == 0
    assert len(list((tmp_path / "out").rglob("*.png"))) == (4 if recursive else 2)
    assert sorted(opened) == sorted(map(str, firsts if recursive else firsts[:1]))


def test_predict_recursive_reads_the_checkpoint_header_once(tmp_path, monkeypatch):
    """s59: ``predict --recursive --channel 1 0`` read the checkpoint's header (its parts,
    without the weights) twice before the model loaded: the band list's model, then what
    it takes; once now, and the band list still predicted."""
    import torch

    import unetlab.checkpoint
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.models import UNet

    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    _minisblack(tmp_path / "in" / "a", 2, 2)
    read, parts = [], unetlab.checkpoint._parts
    monkeypatch.setattr(unetlab.checkpoint, "_parts", lambda p: read.append(p) or parts(p))
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    args += ["--input", str(tmp_path / "in"), "--recursive", "--no-progress"]
    assert main([*args, "--output", str(tmp_path / "out"), "--channel", "1", "0"]) == 0
    assert len(list((tmp_path / "out").rglob("*.png"))) == 2
    assert read == [tmp_path / "m.pt"]


def test_wrong_count_looks_at_the_first_input_once(tmp_path, monkeypatch):
    """s60: wrong_count looked at the first input twice (its own look, then the look of
    every input for their common count: 4 stats of its header, 2 opens with its channel
    names'); once now, the refusal as before."""
    import os

    import unetlab.read_once
    from unetlab.inference.every_file import Takes, headers_read_once, wrong_count

    paths = _minisblack(tmp_path / "in", 4, 2)
    opened = _counted(monkeypatch)
    stats, real = [], os.stat
    stat = lambda p, *a, **k: stats.append(str(p)) or real(p, *a, **k)  # noqa: E731
    monkeypatch.setattr(unetlab.read_once.os, "stat", stat)
    with headers_read_once():
        refusal = wrong_count(paths, None, takes=Takes(3, None, "YXC"))
    assert "all 4 inputs" in refusal["message"] and "have 2 channels" in refusal["message"]
    assert _checks_opened(opened, paths) == [1, 1, 1, 1]  # [2, 1, 1, 1] before
    assert [stats.count(str(p)) for p in paths] == [2, 2, 2, 2]  # [4, 2, 2, 2] before
