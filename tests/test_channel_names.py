"""The channel a 1-channel model reads of a file (audit s28 'stacks', findings 6 and 10): a
grey image or stack given to a model trained on one channel of multi-channel images
(``data.channel``) is predicted as it is; refusals of a multi-channel file list the channel
names it records (ImageJ labels, OME ``Channel Name``), and ``channel=`` takes such a name."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import read_image
from unetlab.data.tiffmeta import channel_names
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import predict_image
from unetlab.models import UNet

NAMES = ["membrane", "DAPI"]


@pytest.fixture
def model() -> UNet:
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    net.channel = 1  # trained on channel 1 of 2-channel images (data.channel=1)
    return net


def _pixels(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 4000, shape, dtype=np.uint16)


def _labels(path) -> np.ndarray:
    return tifffile.imread(path) if path.suffix == ".tif" else read_image(path)


def _imagej_tcyx(path, labels=True):
    meta = {"axes": "TCYX"} | ({"Labels": NAMES * 3} if labels else {})
    tifffile.imwrite(path, _pixels(3, 2, 32, 40), imagej=True, metadata=meta)
    return path


def _ome_cyx(path):
    meta = {"axes": "CYX", "Channel": {"Name": NAMES}}
    tifffile.imwrite(path, _pixels(2, 32, 40), ome=True, photometric="minisblack", metadata=meta)
    return path


def test_channel_names_are_read_from_imagej_and_ome(tmp_path):
    assert channel_names(_imagej_tcyx(tmp_path / "ij.tif")) == NAMES
    assert channel_names(_ome_cyx(tmp_path / "o.ome.tif")) == NAMES
    assert channel_names(_imagej_tcyx(tmp_path / "none.tif", labels=False)) == []
    tifffile.imwrite(tmp_path / "grey.tif", _pixels(32, 40))
    assert channel_names(tmp_path / "grey.tif") == []


@pytest.mark.parametrize("axes", ["TYX", "YX"])
def test_a_grey_file_is_predicted_by_a_model_of_one_channel_of_two(tmp_path, model, axes, caplog):
    image = _pixels(3, 32, 40) if axes == "TYX" else _pixels(32, 40)
    tifffile.imwrite(tmp_path / "grey.tif", image, imagej=True, metadata={"axes": axes})
    with caplog.at_level(logging.INFO):
        labels = predict_file(model, tmp_path / "grey.tif", tmp_path / "a")[0]
    assert "grey.tif: has one channel; predicting it" in caplog.text
    model.channel = None  # the same net as a plain grey model: the same labels
    plain = predict_file(model, tmp_path / "grey.tif", tmp_path / "b")[0]
    assert np.array_equal(_labels(labels), _labels(plain))


def test_evaluate_says_the_grey_line_once_a_file_as_predict(tmp_path, model, caplog):
    """evaluate_model said it once a page (3 for a 3-page stack, s49 review1 em2.py)."""
    from unetlab.evaluate import evaluate_model

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    stack = {"metadata": {"axes": "ZYX"}, "photometric": "minisblack"}  # 3 grey pages
    tifffile.imwrite(tmp_path / "images" / "s.tif", _pixels(3, 32, 40), **stack)
    masks = np.zeros((3, 32, 40), np.uint8)
    masks[:, 8:20, 10:30] = 1
    tifffile.imwrite(tmp_path / "masks" / "s.tif", masks, **stack)
    with caplog.at_level(logging.INFO):
        evaluate_model(model, tmp_path)
    assert caplog.text.count("s.tif: has one channel; predicting it") == 1


def test_a_large_grey_file_read_window_by_window_likewise(tmp_path, model):
    tifffile.imwrite(tmp_path / "grey.tif", _pixels(32, 40))
    streamed = predict_file(model, tmp_path / "grey.tif", tmp_path / "a", large_threshold=100)
    model.channel = None
    whole = predict_file(model, tmp_path / "grey.tif", tmp_path / "b")
    assert np.array_equal(tifffile.imread(streamed[0]), _labels(whole[0]))
    with pytest.raises(UnetlabError, match="no channel 1"):
        predict_file(model, tmp_path / "grey.tif", tmp_path / "c", large_threshold=100, channel=1)


def test_a_channel_asked_for_is_still_one_the_file_has(tmp_path, model):
    tifffile.imwrite(
        tmp_path / "grey.tif", _pixels(3, 32, 40), imagej=True, metadata={"axes": "TYX"}
    )
    with pytest.raises(UnetlabError, match="no channel 1"):
        predict_file(model, tmp_path / "grey.tif", tmp_path / "a", channel=1)
    predict_file(model, tmp_path / "grey.tif", tmp_path / "b", channel=0)


def test_a_two_channel_file_still_gives_the_model_its_channel(tmp_path, model):
    path = _imagej_tcyx(tmp_path / "two.tif")
    default = tifffile.imread(predict_file(model, path, tmp_path / "a")[0])
    one = tifffile.imread(predict_file(model, path, tmp_path / "b", channel=1)[0])
    zero = tifffile.imread(predict_file(model, path, tmp_path / "c", channel=0)[0])
    assert np.array_equal(default, one) and not np.array_equal(default, zero)


@pytest.mark.parametrize("make", [_imagej_tcyx, _ome_cyx])
def test_refusals_list_the_channels_the_file_names(tmp_path, model, make):
    path = make(tmp_path / "two.ome.tif" if make is _ome_cyx else tmp_path / "two.tif")
    model.channel = None
    with pytest.raises(UnetlabError, match=r"has 2 channels \(0: membrane, 1: DAPI\), the model"):
        predict_file(model, path, tmp_path / "a")
    with pytest.raises(UnetlabError, match=r"\(0: membrane, 1: DAPI\), no channel 2"):
        predict_file(model, path, tmp_path / "b", channel=2)


@pytest.mark.parametrize("make", [_imagej_tcyx, _ome_cyx])
def test_a_channel_is_chosen_by_the_name_the_file_records(tmp_path, model, make):
    path = make(tmp_path / "two.ome.tif" if make is _ome_cyx else tmp_path / "two.tif")
    model.channel = None
    by_name = predict_file(model, path, tmp_path / "a", channel="dapi")[0]
    by_index = predict_file(model, path, tmp_path / "b", channel=1)[0]
    assert np.array_equal(_labels(by_name), _labels(by_index))
    with pytest.raises(UnetlabError, match=r"no such channel 'GFP': its channels are 0: membr"):
        predict_file(model, path, tmp_path / "c", channel="GFP")


def test_a_name_is_refused_for_a_file_that_names_no_channels(tmp_path, model, capsys):
    """The fix named --channel 0, 1, ... to Python too: channel=0, 1, ... there; the
    command's failed line says --channel as before."""
    path = _imagej_tcyx(tmp_path / "two.tif", labels=False)
    said = "records no channel names, so no channel 'DAPI': give its index "
    with pytest.raises(UnetlabError, match=said + r"\(channel=0, 1, ...\)"):
        predict_file(model, path, tmp_path / "a", channel="DAPI")
    checkpoint = save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(path), "--channel", "DAPI"]
    assert main([*argv, "--output", str(tmp_path / "b")]) == 3
    assert f"failed: {path}: {said}(--channel 0, 1, ...)" in capsys.readouterr().err  # s53: path


def test_a_one_channel_file_given_a_channel_name_is_told_to_leave_it_out(tmp_path, model, capsys):
    """s50 slidelines: a grey slide given --channel DAPI was told to give its index
    (--channel 0, 1, ...): it has one channel, so --channel is to be left out."""
    grey, png = tmp_path / "grey.ome.tif", tmp_path / "grey.png"
    tifffile.imwrite(grey, _pixels(32, 40), ome=True, tile=(16, 16))
    Image.fromarray(_pixels(32, 40).astype(np.uint8)).save(png)
    said = "has one channel and no channel names, so no channel 'DAPI': leave out "
    for path in (grey, png):
        with pytest.raises(UnetlabError, match=said + r"channel= \(its one channel is read\)"):
            predict_file(model, path, tmp_path / "a", channel="DAPI")
    checkpoint = save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(grey), "--channel", "DAPI"]
    assert main([*argv, "--output", str(tmp_path / "b"), "--large-pixels", "100"]) == 3
    assert f"failed: {grey}: {said}--channel (its one" in capsys.readouterr().err  # s53: path


def test_cli_channel_by_name(tmp_path, model, capsys):
    (tmp_path / "in").mkdir()
    _imagej_tcyx(tmp_path / "in" / "two.tif")
    model.channel = None
    save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "name"), "--channel", "dapi"]) == 0
    assert main([*argv, "--output", str(tmp_path / "index"), "--channel", "1"]) == 0
    by_name, by_index = (tifffile.imread(tmp_path / d / "two.tif") for d in ("name", "index"))
    assert np.array_equal(by_name, by_index)
    assert main([*argv, "--output", str(tmp_path / "bad"), "--channel", "GFP"]) == 3
    assert "no such channel 'GFP': its channels are 0: membrane, 1: DAPI" in capsys.readouterr().err


def test_an_array_has_no_channel_names(model):
    with pytest.raises(UnetlabError, match="'DAPI' is a name, and an array records no"):
        predict_image(model, _pixels(32, 40, 2), channel="DAPI")


def test_predict_image_of_a_grey_array_by_a_model_of_one_channel_of_two(model):
    image = _pixels(32, 40)
    labelled = predict_image(model, image)  # its channel 1 applies to multi-channel images
    assert np.array_equal(labelled, predict_image(model, image[:, :, None]))
    with pytest.raises(UnetlabError, match="no channel 1"):
        predict_image(model, image, channel=1)
    model.channel = None
    assert np.array_equal(labelled, predict_image(model, image))


def test_a_channel_name_matches_by_the_one_rule_of_names():
    """A channel's name matches as class names do (data.names.loose: letter case, Unicode
    normal form, spaces at the ends aside): a name recorded with a space at its end, or with
    its accent stored decomposed (as macOS file names are), was refused as "no such
    channel" when typed as it shows."""
    from unetlab.inference.pages import channel_index

    names = ["membrane ", "Cafe\u0301", "STRASSE"]
    assert channel_index("s.tif", "Membrane", names) == 0
    assert channel_index("s.tif", "caf\u00e9", names) == 1
    assert channel_index("s.tif", "Straße", names) == 2


def test_evaluate_takes_a_channel_by_its_name_as_predict_does(tmp_path, capsys):
    """evaluate --channel DAPI (evaluate_model channel='DAPI'), which predict takes, failed
    comparing the name with the file's channel count (a TypeError shown as a bug): each
    file's named channel is its index there, as predict reads it; a name the file lacks is
    refused naming its channels."""
    from unetlab.evaluate import evaluate_model

    root = tmp_path / "d"
    (root / "images").mkdir(parents=True)
    _ome_cyx(root / "images" / "a.ome.tif")
    mask = np.zeros((32, 40), np.uint8)
    mask[5:20, 5:20] = 1
    (root / "masks").mkdir()
    tifffile.imwrite(root / "masks" / "a.ome.tif", mask)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    named = evaluate_model(net, root, progress=False, channel="DAPI").summary
    assert named == evaluate_model(net, root, progress=False, channel=1).summary
    assert named != evaluate_model(net, root, progress=False, channel=0).summary
    with pytest.raises(UnetlabError, match="no such channel 'GFP': its channels are 0: membrane"):
        evaluate_model(net, root, progress=False, channel="GFP")
    checkpoint = save_model(tmp_path / "m.pt", net)
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(root), "--no-progress"]
    assert main([*argv, "--channel", "DAPI"]) == 0
    assert main([*argv, "--channel", "GFP"]) == 2
    image = root / "images" / "a.ome.tif"  # a failure: by its path as given (review s55 H8)
    said = f"error: {image}: no such channel 'GFP': its channels are 0: membrane, 1: DAPI"
    assert said in capsys.readouterr().err


def test_an_interleaved_file_naming_its_first_channel_only_names_none(tmp_path):
    """tifffile writes the channels of a page's samples as one OME Channel of 8 samples,
    named by the first name only: the file records no name for each of its 8 channels (s70
    review: "its channels are 0: DAPI" of an 8-channel file); planes each named are read."""
    names = ["DAPI", "CD45", "panCK", "CD3", "CD8", "CD20", "Ki67", "aSMA"]
    meta = {"axes": "YXS", "Channel": {"Name": names}}
    image = np.zeros((32, 32, 8), np.uint16)
    contig = dict(photometric="minisblack", planarconfig="contig")
    tifffile.imwrite(tmp_path / "s.ome.tif", image, ome=True, metadata=meta, **contig)
    assert channel_names(tmp_path / "s.ome.tif") == []
    meta = {"axes": "CYX", "Channel": {"Name": names}}
    planes = np.moveaxis(image, -1, 0)
    tifffile.imwrite(
        tmp_path / "c.ome.tif", planes, ome=True, metadata=meta, photometric="minisblack"
    )
    assert channel_names(tmp_path / "c.ome.tif") == names


GREY = dict(photometric="minisblack")


@pytest.mark.parametrize("size, named", [(" 3", True), ("3.0", False), ("x", False)])
def test_a_size_c_with_spaces_is_read_as_tifffile_reads_it(tmp_path, size, named):
    """OME's SizeC=" 3" is 3, as tifffile reads the file's channels: its 3 names are read
    (s70 re-review: none, the size not all digits); one that is no whole number names none."""
    image = np.zeros((3, 16, 16), np.uint16)
    meta = {"axes": "CYX", "Channel": {"Name": ["DAPI", "CD45", "panCK"]}}
    tifffile.imwrite(tmp_path / "o.ome.tif", image, ome=True, metadata=meta, **GREY)
    with tifffile.TiffFile(tmp_path / "o.ome.tif") as tif:
        xml = tif.ome_metadata.replace('SizeC="3"', f'SizeC="{size}"')
    tifffile.imwrite(tmp_path / "s.ome.tif", image, description=xml, metadata=None, **GREY)
    assert channel_names(tmp_path / "s.ome.tif") == (meta["Channel"]["Name"] if named else [])
