"""A band subset (``data.channel: [2, 0]``): trained on those channels of multi-band files,
in that order, recorded in the checkpoint, so predict, evaluate and export read the same
bands of a file with all of them (s38 bands: a 13-band product's RGB + NIR)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.io import read_image
from unetlab.errors import UnetlabError, command_spelling
from unetlab.inference.export import export_onnx
from unetlab.inference.files import predict_file
from unetlab.inference.predict import predict_image
from unetlab.train.log import channels_trained


def _bands(i: int, side: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A 16-bit (H, W, 4) scene whose squares show in band 2 only, and its 0/1 mask."""
    mask = np.zeros((side, side), np.uint8)
    mask[4 + i : 16 + i, 6:18] = mask[22:34, 20 + i : 32 + i] = 1
    rng = np.random.default_rng(i)
    image = rng.integers(900, 1100, (side, side, 4)).astype(np.uint16)
    image[..., 2] += mask.astype(np.uint16) * 2000
    return image, mask


def _write(root, n: int = 4):
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True)
    for i in range(n):
        image, mask = _bands(i)
        tifffile.imwrite(root / "images" / f"{i}.tif", image)
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)
    return root


def test_data_channel_takes_a_list_of_distinct_bands():
    assert load_config(None, ["data.channel=[3, 2, 1, 7]"]).data.channel == [3, 2, 1, 7]
    assert load_config(None, ["data.channel=[3]"]).data.channel == 3  # a list of one: it
    assert load_config(None, ["data.channel=2"]).data.channel == 2  # old configs as before
    for bad in ("[3, 3]", "[]", "[-1, 2]"):
        with pytest.raises(UnetlabError, match="a list of distinct indices"):
            load_config(None, [f"data.channel={bad}"])


def test_the_data_line_names_the_channels_trained_and_the_key_that_picks_some():
    """A 2-channel nuclei + cytoplasm set said only '2 channel(s)' (audit s39 audit2)."""
    with command_spelling():  # the command line's data line
        said = channels_trained(None, 2)
    assert said.startswith("2 channels, all trained") and "(--set data.channel=C, or" in said
    # fit in a notebook: as Python sets it (s52: it was told --set)
    assert "all trained (cfg.data.channel = C, or a list" in channels_trained(None, 2)
    assert channels_trained(None, 1) == "1 channel"
    assert channels_trained(1, 1) == "channel 1 of each image (data.channel)"


def test_a_band_subset_is_trained_recorded_and_predicted_from_the_whole_file(tmp_path):
    root, run = _write(tmp_path / "data"), tmp_path / "run"
    args = ["train", "--data", str(root), "--run-dir", str(run), "--minutes", "0.02"]
    args += ["--set", "model.depth=2", "--set", "model.base_channels=2", "--no-progress"]
    assert main([*args, "--set", "data.channel=[2, 0]", "--set", "data.tile_size=32"]) == 0
    best = run / "checkpoints" / "best.pt"
    checkpoint = load_checkpoint(best)
    assert checkpoint["config"]["in_channels"] == 2 and checkpoint["channel"] == [2, 0]
    assert "channel.bands" in checkpoint["features"]  # an older reader refuses, not misreads
    assert "high, channels 2, 0 of each image (data.channel))" in (run / "train.log").read_text()
    model = load_model(best)
    image, _ = _bands(9)
    got = predict_image(model, image)
    model.channel = None  # the same net given the two bands by hand
    assert np.array_equal(got, predict_image(model, image[..., [2, 0]]))
    expected = got.argmax(0)
    model.channel = [2, 0]
    tifffile.imwrite(tmp_path / "scene.tif", image)
    (written,) = predict_file(model, tmp_path / "scene.tif", tmp_path / "out")
    assert np.array_equal(read_image(written), expected)
    with pytest.raises(
        UnetlabError, match=r"has 2 channels \(0 to 1\), but channels 2, 0 are read"
    ):
        predict_image(model, image[..., :2])
    report = tmp_path / "eval.json"
    argv = ["evaluate", "--checkpoint", str(best), "--data", str(root), "--json", str(report)]
    assert main(argv) == 0 and json.loads(report.read_text())
    onnx = pytest.importorskip("onnx")  # last: the rest runs without it
    export_onnx(model, tmp_path / "m.onnx", check=False)
    props = onnx.load(str(tmp_path / "m.onnx")).metadata_props
    assert {p.key: p.value for p in props}["image_channels"] == "[2, 0]"  # for a deployer


def test_training_refuses_a_band_the_files_lack_naming_their_count(tmp_path, capsys):
    root = _write(tmp_path / "data", n=2)
    args = ["train", "--data", str(root), "--run-dir", str(tmp_path / "run"), "--check"]
    args += ["--set", "data.channel=[5, 0]", "--set", "data.tile_size=32", "--no-progress"]
    assert main(args) == 2
    assert "has 4 channels (0 to 3), no channel 5" in capsys.readouterr().err


def test_predict_takes_a_band_list_from_the_command_line(tmp_path, capsys):
    """--channel took one index: a net of 2 channels (data.channel: [2, 0]) could not be
    given its bands from the CLI where its checkpoint records none (s38 leftovers)."""
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    model = UNet(2, 2, depth=1, base_channels=2, padding="same")
    save_model(tmp_path / "m.pt", model)
    image, _ = _bands(3, side=32)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "s.tif", image)
    expected = predict_image(model, image[..., [2, 0]]).argmax(0)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in" / "s.tif")]
    for given, out in ((["2", "0"], "a"), (["2,0"], "b")):
        assert main([*argv, "--output", str(tmp_path / out), "--channel", *given]) == 0
        assert np.array_equal(read_image(tmp_path / out / "s.png"), expected)
    capsys.readouterr()
    for given, said in (
        (["2", "0", "1"], "channels 2, 0, 1 were asked for (3 bands), but the model takes 2"),
        (["2,0,0"], "must list distinct channel indices, each at least 0, not (2, 0, 0)"),
        (["2,DAPI"], "--channel 2,DAPI: give one channel (an index or a name the file records"),
    ):
        assert main([*argv, "--output", str(tmp_path / "c"), "--channel", *given]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and said in err


def test_another_band_list_than_the_recorded_one_is_warned_naming_both(tmp_path, caplog):
    """A model recording bands [2, 0] given --channel 1 3 said 'predicting channels 2, 0 ...
    the model trained on them' and predicted 1, 3 (s38 leftovers: --channel's list)."""
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    model = UNet(2, 2, depth=1, base_channels=2, padding="same")
    model.channel = [2, 0]
    save_model(tmp_path / "m.pt", model)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "s.tif", _bands(3, side=32)[0])
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in" / "s.tif"), "--output", str(tmp_path / "o")]
    with caplog.at_level("INFO", logger="unetlab"):
        assert main([*argv, "--channel", "1", "3"]) == 0
    assert "predicting channels 1, 3 (--channel), but the model was " in caplog.text  # s56
    assert "trained on channels 2, 0 (data.channel)" in caplog.text
    assert "the model trained on them" not in caplog.text


def test_a_band_list_as_a_numpy_array_is_read_as_the_list():
    """channel=np.array([3, 2, 1, 7]) (a notebook's np.argsort(...)[:4]) was refused as
    'channel must be a channel index >= 0 or a name', naming no list (audit s38 apiaudit)."""
    from unetlab.models import UNet

    net = UNet(4, 2, depth=2, base_channels=2).eval()
    image = np.random.default_rng(0).integers(0, 4000, (24, 24, 8), dtype=np.uint16)
    listed = predict_image(net, image, channel=[3, 2, 1, 7])
    assert np.array_equal(predict_image(net, image, channel=np.array([3, 2, 1, 7])), listed)
    with pytest.raises(UnetlabError, match=r"a list of distinct ones .* not 2\.5"):
        predict_image(net, image, channel=2.5)
    with pytest.raises(UnetlabError, match=r"channels 0, 1, 2, 9 are read \(channel=, else"):
        predict_image(net, image, channel=[0, 1, 2, 9])  # Python's spelling alone (s56)
    one = UNet(1, 2, depth=2, base_channels=2).eval()
    with pytest.raises(UnetlabError, match=r"no channel 9: give channel= a channel"):
        predict_image(one, image, channel=9)


def test_data_channel_set_from_numpy_is_its_list_of_ints():
    """cfg.data.channel = np.array([3, 2, 1, 7]) (or np.int64(2)) in a notebook was refused
    at plan_training as 'must be a channel index >= 0, ... not [3 2 1 7]' ('not 2' for the
    integer) (audit s38 apiaudit)."""
    from unetlab.config.checks import check_channel

    bands = check_channel(np.array([3, 2, 1, 7]))
    assert bands == [3, 2, 1, 7] and all(type(b) is int for b in bands)  # YAML writes them
    assert type(check_channel(np.int64(2))) is int and check_channel(np.int64(2)) == 2
    assert check_channel([np.int64(3), np.int64(1)]) == [3, 1]
    with pytest.raises(UnetlabError, match="a list of distinct indices"):
        check_channel(np.array([3, 3]))
