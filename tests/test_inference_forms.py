"""Predict's messages in their caller's form (s56 pyformsI): the command line is told its
flags (``--channel``, ``--large-pixels``), a Python caller the keywords (``channel=``,
``large_threshold=``), never both inline as "--channel (channel=)"."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import tifffile

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import PredictOptions, predict_image
from unetlab.inference.slides import predict_slide
from unetlab.models import UNet


def _grey(tmp_path):
    """A tiny grey (1-channel) model saved as m.pt, and a 3-channel TIFF beside it."""
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    save_model(tmp_path / "m.pt", net)
    three = np.random.default_rng(0).integers(0, 4000, (24, 24, 3), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "three.tif", three, photometric="minisblack", planarconfig="contig")
    return net, three


def _predicted(tmp_path, capsys, *more, at: str = "three.tif") -> str:
    """The error lines of ``unetlab predict`` of ``at`` (a file or a glob) with ``more``
    flags, which fails."""
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input"]
    capsys.readouterr()
    assert main([*argv, str(tmp_path / at), "--output", str(tmp_path / "o"), *more])
    return capsys.readouterr().err


def test_channels_of_a_grey_model_are_told_in_each_callers_form(tmp_path, capsys):
    net, three = _grey(tmp_path)
    err = _predicted(tmp_path, capsys)
    assert "the model takes 1: choose one with --channel C, e.g. the nuclear stain" in err
    two = three[..., :2]  # a folder's file without the channel its other file has
    tifffile.imwrite(tmp_path / "two.tif", two, photometric="minisblack", planarconfig="contig")
    err = _predicted(tmp_path, capsys, "--channel", "2", at="*.tif")
    assert "no channel 2: give --channel a channel it has" in err and "channel=" not in err
    with pytest.raises(UnetlabError, match="choose one with channel=C, e.g.") as said:
        predict_image(net, three)
    assert "--channel" not in str(said.value)
    with pytest.raises(UnetlabError, match="no channel 2: give channel= a channel it has"):
        predict_image(net, two, channel=2)


def test_a_data_set_root_is_told_recursive_on_the_command_line(tmp_path, capsys):
    """find_inputs's Python form (use predict_tree): test_folder_names.py."""
    _grey(tmp_path)
    for name in ("images/a.png", "masks/a.png", "test/c.png"):
        write_png(tmp_path / "ds" / name, np.zeros((8, 8), np.uint8))
    err = _predicted(tmp_path, capsys, at="ds")
    assert "predict its images, or add --recursive to predict them all, their outputs" in err
    assert "predict_tree" not in err


def test_a_band_list_of_repeated_channels_is_told_in_each_callers_form(tmp_path, capsys):
    _grey(tmp_path)
    with pytest.raises(UnetlabError, match=r"^channel must list distinct channel indices"):
        PredictOptions(channel=[1, 1])
    err = _predicted(tmp_path, capsys, "--channel", "1,1")
    assert "error: --channel must list distinct channel indices, each at least 0, not (1" in err


def test_numpy_s_channel_index_is_taken_alone_in_a_list_too():
    """Review s70: np.int64(1) and (np.int64(1), np.int64(2)) were taken, [np.int64(1)]
    refused ("channel must be a channel index at least 0, ... not np.int64(1)"): one in a
    list is that index, an int. Seen failing without the fix (the refusal); -1 still is."""
    for given in (np.int64(1), [np.int64(1)], (np.uint8(1),), np.array([1])):
        channel = PredictOptions(channel=given).channel
        assert channel == 1 and type(channel) is int, given
    with pytest.raises(UnetlabError, match=r"^channel must be a channel index at least 0"):
        PredictOptions(channel=[np.int64(-1)])


def test_a_channel_name_is_taken_alone_in_a_list_too():
    """Review s70: PredictOptions(channel=["DAPI"]) was refused ("channel must be ... or a
    name, not ['DAPI']"): the name was looked for before the list of one was taken apart.
    Seen failing without the fix (the refusal); a blank name still is refused."""
    assert PredictOptions(channel=["DAPI"]).channel == "DAPI"
    assert PredictOptions(channel=("DAPI",)).channel == "DAPI"
    with pytest.raises(UnetlabError, match=r"^channel must be a channel index at least 0"):
        PredictOptions(channel=[" "])


def test_a_channel_other_than_the_trained_one_is_told_the_flag(tmp_path, caplog):
    """The command line's form of the note (Python's: test_folder_spelling.py)."""
    net, three = _grey(tmp_path)
    net.channel = 1  # trained on channel 1 (data.channel=1)
    save_model(tmp_path / "c1.pt", net)
    argv = ["predict", "--checkpoint", str(tmp_path / "c1.pt"), "--channel", "0"]
    with caplog.at_level(logging.WARNING):
        assert (
            main([*argv, "--input", str(tmp_path / "three.tif"), "--output", str(tmp_path / "o")])
            == 0
        )
    assert "predicting channel 0 (--channel), but the model was trained on channel 1" in (
        caplog.text
    )


def test_axes_given_for_a_zarr_are_told_as_the_keyword(tmp_path):
    """open_slide's line (the command line refuses --axes for a folder of no TIFF first)."""
    import zarr

    net, _ = _grey(tmp_path)
    zarr.create_array(tmp_path / "a.zarr", shape=(16, 16), dtype="uint8", chunks=(8, 8))[:] = 1
    with pytest.raises(UnetlabError, match=r"a.zarr: axes= applies to TIFF files; drop it for"):
        predict_file(net, tmp_path / "a.zarr", tmp_path / "o", axes="YX")


def test_label_values_of_a_model_without_them_are_told_in_each_callers_form(tmp_path, capsys):
    net, _ = _grey(tmp_path)
    said = "records no label values: write class indices (drop {})"
    with pytest.raises(UnetlabError, match=re.escape(said.format("label_values"))):
        predict_folder(net, tmp_path / "three.tif", tmp_path / "o", label_values=True, channel=0)
    err = _predicted(tmp_path, capsys, "--label-values", "--channel", "0")
    assert said.format("--label-values") in err


def test_an_unknown_output_format_of_a_slide_is_told_as_the_keyword(tmp_path):
    """The command line's --output-format takes its choices alone: Python's line (s56: it
    named the flag)."""
    net, _ = _grey(tmp_path)
    with pytest.raises(UnetlabError, match=r"^output_format must be one of ome-tiff, ome-zarr"):
        predict_slide(net, tmp_path / "three.tif", tmp_path / "o", output_format="png")


@pytest.mark.parametrize("name", ["img{x}.tif", "img{}.tif", "img{0}.tif"])
def test_braces_in_a_file_name_are_said_as_they_are(tmp_path, name):
    """A name is the line's argument, not its template (s56 fixI: ``.format`` over a line
    holding the path raised KeyError, IndexError or ValueError)."""
    net, three = _grey(tmp_path)
    tifffile.imwrite(tmp_path / name, three, photometric="minisblack", planarconfig="contig")
    said = f"{name}: has 3 channels (0 to 2), no channel 5: give channel= a channel it has"
    with pytest.raises(UnetlabError, match=re.escape(said)):
        predict_file(net, tmp_path / name, tmp_path / "o", channel=5)


def test_braces_in_a_channel_name_or_band_list_are_said_as_they_are(tmp_path):
    net, _ = _grey(tmp_path)
    net3 = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    with pytest.raises(UnetlabError, match=re.escape("channel '{DAPI}' was asked for, but")):
        predict_folder(net3, tmp_path / "three.tif", tmp_path / "o", channel="{DAPI}")
    with pytest.raises(UnetlabError, match=re.escape("indices, each at least 0, not ['{0}', 1]")):
        PredictOptions(channel=["{0}", 1])


def test_a_folder_goes_on_past_a_file_with_braces_in_its_name(tmp_path, capsys):
    """The file is listed failed and the others predicted (rc 3), not "a bug" (rc 1)."""
    _grey(tmp_path)
    x = np.random.default_rng(0).integers(0, 4000, (24, 24, 3), dtype=np.uint16)
    (tmp_path / "in").mkdir()
    for name, image in (("a.tif", x), ("b{x}.tif", x[..., :2]), ("c.tif", x)):
        tifffile.imwrite(
            tmp_path / "in" / name, image, photometric="minisblack", planarconfig="contig"
        )
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--channel", "2"]
    capsys.readouterr()
    assert main([*argv, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "o")]) == 3
    err = capsys.readouterr().err
    assert "b{x}.tif: has 2 channels (0 to 1), no channel 2: give --channel a channel" in err
    assert sorted(p.name for p in (tmp_path / "o").glob("*.png")) == ["a.png", "c.png"]


def test_a_folder_caller_is_told_its_own_large_threshold_and_it_reads_the_file_whole(tmp_path):
    """s56 fixI: predict_folder's caller was sent to predict_file(..., large_threshold=N),
    though the keyword it gave predict_folder works."""
    net = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    planes = np.random.default_rng(0).integers(0, 200, (3, 16, 20), dtype=np.uint8)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "s.tif", planes, metadata={"axes": "ZYX"})
    done = predict_folder(net, tmp_path / "in", tmp_path / "o", large_threshold=10, axes="CYX")
    (line,) = done.failed.values()
    assert line.endswith(
        "or read it whole with large_threshold=320 (predict_slide always reads window by "
        "window: call predict_file for a whole read)"
    ), line
    assert "predict_file(" not in line and "--" not in line
    done = predict_folder(net, tmp_path / "in", tmp_path / "o", large_threshold=320, axes="CYX")
    assert not done.failed and [p.name for p in done.written] == ["s.tif"]
