"""Inputs all of a channel count the model cannot take, refused before any file (s58): a
``--recursive`` tree's folder of them is one failed line, the other folders go on; 4
fluorescence channels (a minisblack TIFF) are no RGBA picture for an RGB model, nor 3 a
colour picture for a grey one."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree
from unetlab.models import UNet


def _net(channels: int) -> UNet:
    torch.manual_seed(0)
    return UNet(channels, 2, depth=2, base_channels=4, padding="same")


def _png(path: Path, shape) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(shape, np.uint8)).save(path)


def _stains(path: Path, channels: int) -> None:
    """A (C, Y, X) minisblack TIFF of ``channels`` stains."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cyx = np.zeros((channels, 24, 24), np.uint8)
    tifffile.imwrite(path, cyx, photometric="minisblack", metadata={"axes": "CYX"})


def test_a_tree_folder_of_a_count_the_model_cannot_take_is_one_line(tmp_path):
    root = tmp_path / "tree"
    for i in range(2):
        _png(root / "good" / f"g{i}.png", (24, 24, 3))
        _stains(root / "bad" / f"b{i}.tif", 2)
    lines = []
    results = predict_tree(_net(3), root, tmp_path / "out", progress=False, failed=lines.append)
    assert len(results[Path("good")].written) == 2
    assert list(results[Path("bad")].failed) == [root / "bad"]  # the folder, not each file
    (line,) = lines
    assert line.startswith(f"{root / 'bad'}/: all 2 inputs ({root / 'bad' / 'b0.tif'}, ...)")
    assert "have 2 channels, the model takes 3: give images of 3 channels" in line
    assert not (tmp_path / "out" / "bad").exists()


def test_every_tree_folder_of_one_such_count_is_refused_up_front(tmp_path):
    root = tmp_path / "tree"
    for name in ("a/x.tif", "b/y.tif"):
        _stains(root / name, 2)
    with pytest.raises(UnetlabError, match=r"have 2 channels, the model takes 3"):
        predict_tree(_net(3), root, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("have", "model"), [(4, 3), (3, 1), (4, 1)])
def test_stains_are_no_colour_picture_to_convert(tmp_path, have, model):
    """4 minisblack channels to an RGB model (read as RGBA: each file failed), 3 or 4 to a
    grey one (read as a colour picture's luminance: each file failed)."""
    for i in range(2):
        _stains(tmp_path / "in" / f"s{i}.tif", have)
    with pytest.raises(UnetlabError, match=rf"have {have} channels, the model takes {model}"):
        predict_folder(_net(model), tmp_path / "in", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("shape", "model"), [((24, 24, 4), 3), ((24, 24, 3), 1)])
def test_colour_pictures_are_still_converted(tmp_path, shape, model):
    for i in range(2):
        _png(tmp_path / "in" / f"c{i}.png", shape)
    result = predict_folder(_net(model), tmp_path / "in", tmp_path / "out", progress=False)
    assert len(result.written) == 2 and not result.failed


def test_every_tree_folder_of_counts_the_model_cannot_take_is_refused_up_front(tmp_path):
    """Folders of 2 and of 5 channels for an RGB model: each its line, before any folder."""
    root = tmp_path / "tree"
    _stains(root / "a" / "x.tif", 2)
    _stains(root / "b" / "y.tif", 5)
    with pytest.raises(UnetlabError) as caught:
        predict_tree(_net(3), root, tmp_path / "out", progress=False)
    said = str(caught.value)
    assert said.startswith(f"no folder under {root} holds inputs the model can take: {root / 'a'}/")
    assert "has 2 channels, the model takes 3" in said and f"; {root / 'b'}/: " in said
    assert "has 5 channels, the model takes 3: give images of 3 channels, pick 3" in said
    assert not (tmp_path / "out").exists()


def _palette(path: Path) -> None:
    """A palette TIFF: one sample a pixel, read as its indices (one channel)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    colours = np.zeros((3, 256), np.uint16)
    tifffile.imwrite(path, np.zeros((24, 24), np.uint8), photometric="palette", colormap=colours)


def test_palette_tiffs_are_one_channel_for_a_grey_model(tmp_path):
    """Review C: counted 3 channels up front and refused ("have 3 channels, the model takes
    1"), though prediction reads their indices, one channel, and predicted them before."""
    for i in range(2):
        _palette(tmp_path / "in" / f"p{i}.tif")
        _palette(tmp_path / "tree" / "sub" / f"p{i}.tif")
    result = predict_folder(_net(1), tmp_path / "in", tmp_path / "out", progress=False)
    assert len(result.written) == 2 and not result.failed
    results = predict_tree(_net(1), tmp_path / "tree", tmp_path / "tout", progress=False)
    assert len(results[Path("sub")].written) == 2


def test_the_axes_the_model_trained_with_read_the_inputs_none_given(tmp_path):
    """Review C: an RGB model trained with data.axes YXC reads a (Y, X, 4) minisblack TIFF
    as YXC (its 4th channel left out), as prediction does; the check up front asked the
    file's own header (4 stains) and refused it, in Python and on the command line."""
    for i in range(2):
        (tmp_path / "in").mkdir(exist_ok=True)
        yxc = np.zeros((24, 24, 4), np.uint8)
        tifffile.imwrite(
            tmp_path / "in" / f"s{i}.tif", yxc, photometric="minisblack", planarconfig="contig"
        )
    net = _net(3)
    net.training_data = {"axes": "YXC"}
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", progress=False)
    assert len(result.written) == 2 and not result.failed
    save_model(tmp_path / "m.pt", _net(3), train_config={"data": {"axes": "YXC"}})
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    out = tmp_path / "cli"
    assert (
        main([*args, "--input", str(tmp_path / "in"), "--output", str(out), "--no-progress"]) == 0
    )
    assert sorted(p.name for p in out.glob("*.png")) == ["s0.png", "s1.png"]


@pytest.mark.parametrize(
    ("folders", "more"), [(4, "; 1 more folder likewise"), (5, "; 2 more folders likewise")]
)
def test_the_folders_not_listed_are_counted_in_words(tmp_path, folders, more):
    """Review C: "1 more folders likewise"."""
    root = tmp_path / "tree"
    for i in range(folders):
        _stains(root / f"f{i}" / "x.tif", 2 + i % 2 * 3)  # 2, 5, 2, 5, ...: no one count
    with pytest.raises(UnetlabError) as caught:
        predict_tree(_net(3), root, tmp_path / "out", progress=False)
    assert str(caught.value).endswith(more), caught.value


def test_a_channel_no_input_has_is_counted_with_the_axes_the_model_trained_with(tmp_path):
    """s58: absent_channel counted a YXC model's (Y, X, 2) minisblack TIFFs by their header
    (24 pages, each maybe a channel), not as prediction reads them (YXC: 2 channels), so
    channel=5 failed each file alike instead of one line before any; a tree's folder too."""
    for i in range(2):
        (tmp_path / "tree" / "sub").mkdir(parents=True, exist_ok=True)
        yxc = np.zeros((24, 24, 2), np.uint8)
        tifffile.imwrite(tmp_path / "tree" / "sub" / f"s{i}.tif", yxc, photometric="minisblack")
    net = _net(1)
    net.training_data = {"axes": "YXC"}
    with pytest.raises(UnetlabError) as caught:
        predict_folder(net, tmp_path / "tree" / "sub", tmp_path / "out", channel=5)
    assert str(caught.value).startswith("channel=5 is out of range: all 2 inputs (")
    assert "have 2 channels (valid: channel=0 to 1)" in str(caught.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(UnetlabError, match="have 2 channels"):  # the tree's one folder
        predict_tree(net, tmp_path / "tree", tmp_path / "tout", channel=5, progress=False)
    eight = np.zeros((24, 24, 8), np.uint8)  # a folder beside with channel 5: goes on
    tifffile.imwrite(tmp_path / "tree" / "good.tif", eight, photometric="minisblack")
    lines = []
    results = predict_tree(
        net, tmp_path / "tree", tmp_path / "tout", channel=5, failed=lines.append
    )
    assert len(results[Path(".")].written) == 1 and len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'tree' / 'sub'}/: channel=5 is out of range")
    save_model(tmp_path / "m.pt", _net(1), train_config={"data": {"axes": "YXC"}})
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    given = ["--input", str(tmp_path / "tree" / "sub"), "--output", str(tmp_path / "cli")]
    assert main([*args, *given, "--channel", "5", "--no-progress"]) == 2
    assert not (tmp_path / "cli").exists()


def test_a_function_models_channels_keyword_is_taken_by_predict_tree(tmp_path):
    """``channels=`` (documented before s60, then dropped: "did you mean channel?", which
    reads another thing) says what a function model takes: 2-channel stains refused for 3."""
    root = tmp_path / "tree"
    _stains(root / "a" / "x.tif", 2)

    def net(image):
        return np.zeros((2, *image.shape[-2:]), np.float32)

    with pytest.raises(UnetlabError, match=r"has 2 channels, the model takes 3"):
        predict_tree(net, root, tmp_path / "out", channels=3, progress=False)
    assert not (tmp_path / "out").exists()
