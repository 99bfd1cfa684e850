"""The axes of a TIFF that records none: ``--axes`` / ``axes=`` says them, a (Y, X, C) array
saved without axes is refused rather than read as Y images of X x C px, and a channel asked
of pages read as planes says so (audit s28 'stacks', findings 3 and 4)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.errors import ImageReadError, UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.tree import predict_tree

H, W = 24, 20


@pytest.fixture
def net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=2, padding="same")


def _channels(n: int = 2) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (n, H, W), dtype=np.uint8)


def test_pages_given_as_channels_predict_the_channel(tmp_path, net):
    cyx = _channels()
    tifffile.imwrite(tmp_path / "c.tif", cyx)  # no axes: two pages
    Image.fromarray(cyx[1]).save(tmp_path / "one.png")
    predict_file(net, tmp_path / "c.tif", tmp_path / "o", axes="CYX", channel=1)
    predict_file(net, tmp_path / "one.png", tmp_path / "o1")
    got, want = (np.asarray(Image.open(p)) for p in (tmp_path / "o/c.png", tmp_path / "o1/one.png"))
    assert got.shape == (H, W) and np.array_equal(got, want)


def test_a_channels_last_array_saved_without_axes_is_refused_naming_axes(tmp_path, net):
    yxc = np.moveaxis(_channels(), 0, -1)
    tifffile.imwrite(tmp_path / "yxc.tif", yxc)  # tifffile: 24 pages of 20 x 2 px
    with pytest.raises(UnetlabError, match=r"24 pages of 20 x 2 px, too narrow.*axes='YXC'"):
        predict_file(net, tmp_path / "yxc.tif", tmp_path / "o")
    assert not (tmp_path / "o").exists()
    paths = predict_file(net, tmp_path / "yxc.tif", tmp_path / "o", axes="YXC", channel=0)
    assert paths[-1].name == "yxc.png"


def test_a_time_lapse_without_axes_given_tyx_gets_t(tmp_path, net):
    tifffile.imwrite(tmp_path / "m.tif", _channels(3))
    predict_file(net, tmp_path / "m.tif", tmp_path / "o", axes="TYX", objects=ObjectOptions())
    with tifffile.TiffFile(tmp_path / "o" / "m.tif") as tif:
        assert tif.series[0].axes == "TYX" and tif.imagej_metadata["frames"] == 3
    header = (tmp_path / "o" / "m_objects.csv").read_text().splitlines()[0]
    assert header.startswith("page,t,")


def test_pages_without_metadata_warn_and_a_channel_of_them_says_axes(tmp_path, net, caplog):
    tifffile.imwrite(tmp_path / "c.tif", _channels())
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "c.tif", tmp_path / "o")
    assert "2 pages and no axis metadata: read as 2 planes" in caplog.text
    assert "channels give axes='CYX'" in caplog.text and "--axes" not in caplog.text
    with pytest.raises(UnetlabError, match="records no channel axis.*channel=0.*axes='CYX'") as no:
        predict_file(net, tmp_path / "c.tif", tmp_path / "o2", channel=1)
    assert "give --channel 0 to predict that one, or --axes CYX (ZCYX" in no.value.cli


def test_pages_without_metadata_streamed_warn_once(tmp_path, net, caplog):
    """Read window by window (no --axes there), the same warning as read whole, once."""
    tifffile.imwrite(tmp_path / "c.tif", _channels())
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "c.tif", tmp_path / "o", large_threshold=100)
    assert (tmp_path / "o" / "c.tif").exists()  # streamed: a TIFF, not a PNG
    assert caplog.text.count("2 pages and no axis metadata: read as 2 planes") == 1
    assert "metadata={'axes': 'CYX'}" in caplog.text


@pytest.mark.parametrize("axes", ["TCY", "TYXX", "CSYX", "TCYXZ", "ABYX"])
def test_axes_that_do_not_fit_are_refused(tmp_path, net, axes):
    tifffile.imwrite(tmp_path / "c.tif", _channels(4).reshape(2, 2, H, W))
    with pytest.raises(ImageReadError, match=f"axes='{axes}'") as refused:  # Python's keyword
        predict_file(net, tmp_path / "c.tif", tmp_path / "o", axes=axes)
    assert f"--axes {axes}" in refused.value.cli  # the command line's flag


def test_axes_with_x_before_y_are_refused_not_transposed(tmp_path, net):
    tifffile.imwrite(tmp_path / "c.tif", _channels(2))
    with pytest.raises(ImageReadError, match="axes='TXY' puts X before Y.*axes='TYX'"):
        predict_file(net, tmp_path / "c.tif", tmp_path / "o", axes="TXY")


BAD_AXES = [("ZXY", "puts X before Y"), ("ZZYX", "give each axis once"), ("ZYXW", "give each")]


@pytest.mark.parametrize(("axes", "said"), BAD_AXES)
def test_the_cli_refuses_bad_axes_in_one_line_before_the_checkpoint_loads(
    tmp_path, capsys, axes, said
):
    """Not each file failed (exit 3, "nothing written") after the model loaded."""
    tifffile.imwrite(tmp_path / "c.tif", _channels(5), imagej=True)
    missing = str(tmp_path / "none.pt")  # not read: the value is refused first
    argv = ["predict", "--checkpoint", missing, "--input", str(tmp_path / "c.tif")]
    assert main([*argv, "--output", str(tmp_path / "o"), "--axes", axes]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0] and f"--axes {axes}" in err[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("run", [predict_folder, predict_tree])
@pytest.mark.parametrize(("axes", "said"), BAD_AXES)
def test_predict_folder_and_tree_refuse_bad_axes_before_the_model_loads(tmp_path, run, axes, said):
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "c.tif", _channels(5), imagej=True)
    loads = []
    with pytest.raises(UnetlabError, match=said):
        run(lambda: loads.append(1), tmp_path / "in", tmp_path / "o", axes=axes)
    assert loads == [] and not (tmp_path / "o").exists()


def test_the_cli_takes_axes(tmp_path, net):
    save_model(tmp_path / "m.pt", net)
    tifffile.imwrite(tmp_path / "c.tif", _channels(4).reshape(2, 2, H, W))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "c.tif")]
    argv += ["--output", str(tmp_path / "o"), "--device", "cpu", "--channel", "1"]
    assert main([*argv, "--axes", "TCYX"]) == 0
    with tifffile.TiffFile(tmp_path / "o" / "c.tif") as tif:
        assert tif.series[0].shape == (2, H, W) and tif.series[0].axes == "TYX"


def test_skip_existing_does_not_take_outputs_of_other_axes_for_done(tmp_path, net):
    save_model(tmp_path / "m.pt", net)
    tifffile.imwrite(tmp_path / "c.tif", _channels(3))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "c.tif")]
    argv += ["--output", str(tmp_path / "o"), "--device", "cpu"]
    assert main([*argv, "--axes", "TYX"]) == 0
    assert main([*argv, "--axes", "TYX", "--skip-existing"]) == 0  # done: skipped
    stamp = (tmp_path / "o" / "c.tif").stat().st_mtime_ns
    assert main([*argv, "--axes", "ZYX", "--skip-existing"]) == 2  # another setting's
    assert main([*argv, "--skip-existing"]) == 2  # no axes given: not those of TYX either
    assert (tmp_path / "o" / "c.tif").stat().st_mtime_ns == stamp
    assert main([*argv, "--axes", "ZYX"]) == 0
    with tifffile.TiffFile(tmp_path / "o" / "c.tif") as tif:
        assert tif.series[0].axes == "ZYX"


def test_outputs_of_another_input_read_with_other_axes_are_not_another_models(
    tmp_path, net, caplog
):
    from unetlab.inference.folders import predict_folder

    tifffile.imwrite(tmp_path / "c.tif", _channels(3), photometric="minisblack")
    tifffile.imwrite(tmp_path / "d.tif", _channels(1)[0])
    out = tmp_path / "o"
    predict_folder(net, [tmp_path / "c.tif"], out, axes="TYX")
    with caplog.at_level(logging.INFO, logger="unetlab.inference.folders"):
        predict_folder(net, [tmp_path / "d.tif"], out)  # the same model, no axes given
    assert "mix two models" not in caplog.text
    assert "outputs of c.tif made by this run's model" in caplog.text
    assert "(axes TYX there, not given here)" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.folders"):
        predict_folder(net, [tmp_path / "d.tif"], out, tile_size=16)  # tiled otherwise
    assert "mix two models" not in caplog.text  # the same checkpoint: the same model
    assert "made by this run's model read with other axes and tiled otherwise" in caplog.text
    assert "(axes TYX there, not given here; tile_size not given there, 16 here)" in caplog.text


def test_a_setting_no_phrase_names_is_named_where_it_differs():
    from unetlab.inference.records import Provenance, describe_setting_changes, setting_changes

    made = Provenance(None, "ab" * 32, {"precision": "fp32", "later": [1, 2]})
    ours = Provenance(None, "ab" * 32, {"precision": "fp32", "axes": "ZYX"})
    changes = setting_changes(made, ours)
    assert describe_setting_changes(changes) == (
        "axes not given there, ZYX here; later [1, 2] there, not given here"
    )
    assert setting_changes(made, Provenance(None, "cd" * 32, made.model)) == {}  # other weights


def test_skip_existing_names_the_axes_of_outputs_it_will_not_take(tmp_path, net):
    from unetlab.errors import OutputError
    from unetlab.inference.folders import predict_folder

    tifffile.imwrite(tmp_path / "c.tif", _channels(3), photometric="minisblack")
    predict_folder(net, [tmp_path / "c.tif"], tmp_path / "o", axes="TYX")
    with pytest.raises(OutputError, match=r"other settings \(axes TYX there, the defaults here\)"):
        predict_folder(net, [tmp_path / "c.tif"], tmp_path / "o", skip_existing=True)


def test_channels_given_by_axes_are_not_an_rgb_picture_for_a_grey_model(tmp_path, net):
    cyx = _channels(3)
    # what tifffile.imwrite(path, cyx) writes today: an RGB TIFF of planar samples
    tifffile.imwrite(tmp_path / "c.tif", cyx, photometric="rgb", planarconfig="separate")
    with pytest.raises(
        UnetlabError, match=r"c.tif: has 3 channels, the model takes 1: choose one with channel=C"
    ):
        predict_file(net, tmp_path / "c.tif", tmp_path / "o", axes="CYX")
    assert not (tmp_path / "o").exists()
    predict_file(net, tmp_path / "c.tif", tmp_path / "o", axes="CYX", channel=2)
    Image.fromarray(cyx[2]).save(tmp_path / "two.png")
    predict_file(net, tmp_path / "two.png", tmp_path / "o2")
    got, want = (np.asarray(Image.open(p)) for p in (tmp_path / "o/c.png", tmp_path / "o2/two.png"))
    assert np.array_equal(got, want)


@pytest.mark.parametrize("axes", [None, "YXS"])
def test_an_rgb_picture_still_gives_a_grey_model_its_luminance(tmp_path, net, axes, caplog):
    rgb = np.moveaxis(_channels(3), 0, -1)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "rgb.tif", tmp_path / "o", axes=axes)
    assert "colour image given to a grey model; predicting its luminance" in caplog.text


def test_the_cli_asks_for_a_channel_of_channels_given_by_axes(tmp_path, net, capsys):
    save_model(tmp_path / "m.pt", net)
    tifffile.imwrite(tmp_path / "c.tif", _channels(3), photometric="rgb", planarconfig="separate")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "c.tif")]
    argv += ["--output", str(tmp_path / "o"), "--device", "cpu", "--axes", "CYX"]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "has 3 channels, the model takes 1: choose one with --channel" in err
    assert "luminance" not in err
    assert main([*argv, "--channel", "2"]) == 0
