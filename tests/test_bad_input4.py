"""Bad input, s54 badinput4: one clear line, the same rule for every entry point."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.every_file import absent_channel, most_channels
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import PredictOptions
from unetlab.inference.tree import predict_tree
from unetlab.models import UNet


def _png(path: Path, shape: tuple[int, ...]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(shape, np.uint8)).save(path)
    return path


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="same")


def test_most_channels_is_an_upper_bound_read_from_the_header(tmp_path):
    assert most_channels(_png(tmp_path / "grey.png", (16, 16))) == 1
    assert most_channels(_png(tmp_path / "rgb.png", (16, 16, 3))) == 3
    assert most_channels(_png(tmp_path / "rgba.png", (16, 16, 4))) == 3  # alpha dropped
    pages = tmp_path / "pages.tif"  # pages may be read as a multi-channel model's channels
    tifffile.imwrite(pages, np.zeros((4, 16, 16), np.uint8), photometric="minisblack")
    assert most_channels(pages) == 4
    palette = tmp_path / "palette.tif"  # one sample a pixel, read as its colours
    colours = np.zeros((3, 256), np.uint16)
    tifffile.imwrite(palette, np.zeros((16, 16), np.uint8), photometric="palette", colormap=colours)
    assert most_channels(palette) == 3
    (tmp_path / "junk.png").write_bytes(b"not a png")
    assert most_channels(tmp_path / "junk.png") is None  # its own line says
    assert most_channels(tmp_path / "gone.png") is None


def test_a_channel_no_colour_input_has_is_refused_before_any_file(tmp_path, capsys):
    # s54 badinput4: --channel 5 on colour inputs failed each file (exit 3)
    from unetlab.checkpoint import save_model

    save_model(tmp_path / "m.pt", _net())
    inputs = [str(_png(tmp_path / "in" / f"{n}.png", (16, 16, 3))) for n in "ab"]
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--no-progress"]
    out = tmp_path / "out"
    assert main([*args, "--input", *inputs, "--output", str(out), "--channel", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "--channel 5 is out of range: all 2 inputs" in err, err
    assert "have at most 3 channels (valid: --channel 0 to 2)" in err, err
    assert not out.exists()
    # one input of 3 channels beside a grey one: the colour one predicted, the grey named
    grey = str(_png(tmp_path / "in" / "g.png", (16, 16)))
    assert main([*args, "--input", inputs[0], grey, "--output", str(out), "--channel", "2"]) == 3
    err = capsys.readouterr().err
    assert "failed: " in err and "g.png" in err and (out / "a.png").exists(), err


def test_predict_folder_takes_the_same_channel_rule_in_python_words(tmp_path):
    # s54 badinput4: predict_folder had no up-front channel rule (each file failed)
    folder = tmp_path / "in"
    for name in "ab":
        _png(folder / f"{name}.png", (16, 16, 3))
    with pytest.raises(UnetlabError, match=r"^channel=3 is out of range: all 2 inputs") as got:
        predict_folder(_net(), folder, tmp_path / "out", channel=3, progress=False)
    assert "--channel" not in str(got.value) and "channel=0 to 2" in str(got.value)
    with pytest.raises(UnetlabError, match=r"channel=4 is out of range"):  # in options too
        options = PredictOptions(channel=4)
        predict_folder(_net(), folder, tmp_path / "out", options=options, progress=False)
    assert not (tmp_path / "out").exists()


def test_predict_tree_refuses_a_channel_no_input_has_and_fails_a_folder_alone(tmp_path):
    # s54 badinput4: predict --recursive and predict_tree failed each file of every folder
    root = tmp_path / "tree"
    _png(root / "grey" / "g.png", (16, 16))
    _png(root / "grey" / "deeper" / "h.png", (16, 16))
    with pytest.raises(UnetlabError, match=r"channel=1 is out of range: all 2 inputs"):
        predict_tree(_net(), root, tmp_path / "out", channel=1, progress=False)
    assert not (tmp_path / "out").exists()
    # a colour folder has channel 1: it is predicted, each grey folder failed in one line
    _png(root / "colour" / "c.png", (16, 16, 3))
    lines = []
    results = predict_tree(
        _net(), root, tmp_path / "out", channel=1, progress=False, failed=lines.append
    )
    assert results[Path("colour")].written and not results[Path("colour")].failed
    assert len(lines) == 2 and all("channel=1 is out of range: the input" in ln for ln in lines)
    assert not (tmp_path / "out" / "grey").exists()


def test_absent_channel_gives_both_spellings(tmp_path):
    grey = _png(tmp_path / "g.png", (16, 16))
    said = absent_channel([grey], 2)
    assert said["message"].startswith("channel=2 is out of range: the input")
    assert said["message"].endswith("leave channel= out for images of one channel")
    assert said["cli"].endswith("leave --channel out for images of one channel")
    assert absent_channel([grey], 0) is None and absent_channel([grey], "DAPI") is None
