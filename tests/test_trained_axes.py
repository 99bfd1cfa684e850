"""Predict and evaluate of a checkpoint trained with --axes (data.axes) read its TIFFs with
those axes where none are given, saying so in one line; --axes given wins. Before, a user who
trained with --axes ZYX had to give it again (README said so, 7574c59): without it, ImageJ
stacks saved without axes were read as channels (evaluate refused their masks) or as
pages of unknown meaning."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.test_axes_mixed import _png_pair
from tests.test_train_axes import _stacks
from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.data.read_notes import read_notes
from unetlab.errors import OutputError
from unetlab.evaluate import evaluate_model
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import embedded_key
from unetlab.outputs import recorded_keys

H, W = 24, 20
SAID = "reading TIFFs with axes {}, as the model was trained (give axes= to change)"
#: as the command line says it (each caller its own form: both were said inline, s55)
SAID_CLI = "reading TIFFs with axes {}, as the model was trained (give --axes to change)"


@pytest.fixture(autouse=True)
def _lines_said_here(monkeypatch):
    """The lines said once a process (outside a command) said afresh: an earlier test that
    said the trained-axes line must not leave these tests without it."""
    import unetlab.data.read_notes

    monkeypatch.setattr(unetlab.data.read_notes, "_said", set())


def _net(axes: str | None, channels: int = 1) -> UNet:
    torch.manual_seed(0)
    net = UNet(channels, 2, depth=2, base_channels=2, padding="same").eval()
    net.training_data = None if axes is None else {"axes": axes}  # as load_model sets it
    return net


def _bare(path, pages: int = 3) -> None:
    """A stack of ``pages`` grey pages that records no axes (tifffile's shaped, no axes)."""
    stack = np.random.default_rng(0).integers(0, 255, (pages, H, W), dtype=np.uint8)
    tifffile.imwrite(path, stack, photometric="minisblack")


def _axes(path) -> str:
    with tifffile.TiffFile(path) as tif:
        return tif.series[0].axes


def test_predict_file_reads_a_tiff_with_the_axes_the_model_trained_with(tmp_path, caplog):
    _bare(tmp_path / "m.tif")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        paths = predict_file(_net("TYX"), tmp_path / "m.tif", tmp_path / "o")
    assert _axes(paths[-1]) == "TYX"  # time points, as trained: not planes
    assert SAID.format("TYX") in caplog.text
    assert "record no axes" not in caplog.text  # no warning of pages read as planes
    given = predict_file(_net("TYX"), tmp_path / "m.tif", tmp_path / "z", axes="ZYX")
    assert _axes(given[-1]) == "ZYX"  # given: it wins


def test_a_png_beside_them_is_read_as_it_is(tmp_path):
    """The checkpoint's axes are no reason to fail a PNG (--axes given fails it)."""
    _bare(tmp_path / "m.tif")
    image = np.random.default_rng(1).integers(0, 255, (H, W), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "p.png")
    files = [tmp_path / "m.tif", tmp_path / "p.png"]
    result = predict_folder(_net("TYX"), files, tmp_path / "o")
    assert not result.failed and len(result.written) == 2


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "m.pt"
    net = _net(None)
    return save_model(path, net, train_config={"data": {"axes": "TYX"}})


def _records(out) -> list[dict]:
    return list(json.loads((out / "predict.json").read_text())["records"].values())


def test_the_cli_takes_the_checkpoint_s_axes_and_reruns_skip_as_given(tmp_path, checkpoint, caplog):
    """Outputs read with the checkpoint's axes are those of the same axes given: a rerun
    with or without --axes TYX skips them; --axes ZYX is another reading."""
    (tmp_path / "in").mkdir()
    _bare(tmp_path / "in" / "m.tif")
    out = tmp_path / "o"
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "in")]
    argv += ["--output", str(out), "--no-progress"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(argv) == 0
    assert SAID_CLI.format("TYX") in caplog.text
    assert _axes(out / "m.tif") == "TYX"
    assert [r["model"].get("axes") for r in _records(out)] == ["TYX"]
    made = (out / "m.tif").stat().st_mtime_ns
    assert main([*argv, "--skip-existing"]) == 0
    assert main([*argv, "--axes", "TYX", "--skip-existing"]) == 0
    assert (out / "m.tif").stat().st_mtime_ns == made  # skipped, both times
    assert main([*argv, "--axes", "ZYX", "--skip-existing"]) == 2  # another reading's
    assert main([*argv, "--axes", "ZYX", "--overwrite"]) == 0
    assert _axes(out / "m.tif") == "ZYX"


def test_evaluate_reads_bare_stacks_with_the_axes_the_model_trained_with(tmp_path, caplog):
    """ImageJ stacks without axes (read as 5 channels: their masks refused) are scored as
    the 5 planes each they were trained as."""
    _stacks(tmp_path / "bare")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        report = evaluate_model(_net("ZYX"), tmp_path / "bare")
    assert len(report.images) == 10  # 5 + 5 planes
    assert SAID.format("ZYX") in caplog.text


def test_evaluate_cli_takes_the_checkpoint_s_axes(tmp_path, capsys):
    _stacks(tmp_path / "bare")
    checkpoint = save_model(tmp_path / "m.pt", _net(None), train_config={"data": {"axes": "ZYX"}})
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "bare")]
    assert main([*argv, "--no-progress", "--json", str(tmp_path / "r.json")]) == 0
    assert len(json.loads((tmp_path / "r.json").read_text())["images"]) == 10


def test_evaluate_of_pngs_only_is_not_refused_for_the_checkpoint_s_axes(tmp_path):
    root = tmp_path / "png"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    _png_pair(root, "p")
    _png_pair(root, "q")
    checkpoint = save_model(tmp_path / "m.pt", _net(None), train_config={"data": {"axes": "ZYX"}})
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(root), "--no-progress"]
    assert main(argv) == 0
    assert len(evaluate_model(_net("ZYX"), root).images) == 2


def test_evaluate_given_axes_does_not_ask_of_a_c_h_w_tiff(tmp_path, caplog):
    """Grey planes read by --axes ZYX given to an RGB model: repeated, said without "(a page
    of a (C, H, W) TIFF?", which the axes answered (as predict says it)."""
    _stacks(tmp_path / "bare")
    with caplog.at_level(logging.WARNING):
        evaluate_model(_net(None, channels=3), tmp_path / "bare", axes="ZYX")
    assert "grey image given to a 3-channel model; its channel is repeated" in caplog.text
    assert "(C, H, W) TIFF?" not in caplog.text


def test_a_tiff_the_trained_axes_do_not_fit_is_read_as_it_is(tmp_path):
    """A ZYX model given a 2-D TIFF, or a 4-D hyperstack that says its axes, and a YX model
    given an RGB TIFF: each was refused naming an --axes never given ('--axes ZYX names 3
    axes, but the file's image has 2'); read as they are, as without the checkpoint."""
    rng = np.random.default_rng(2)
    tifffile.imwrite(tmp_path / "plane.tif", rng.integers(0, 255, (H, W), dtype=np.uint8))
    hyper = rng.integers(0, 255, (2, 3, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "tz.tif", hyper, imagej=True, metadata={"axes": "TZYX"})
    rgb = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    assert predict_file(_net("ZYX"), tmp_path / "plane.tif", tmp_path / "a")
    assert _axes(predict_file(_net("ZYX"), tmp_path / "tz.tif", tmp_path / "b")[-1]) == "TZYX"
    assert predict_file(_net("YX", channels=3), tmp_path / "rgb.tif", tmp_path / "c")
    assert predict_file(_net("CYX", channels=3), tmp_path / "rgb.tif", tmp_path / "d")


def test_evaluate_reads_a_plane_beside_stacks_as_it_is(tmp_path, caplog):
    """A 2-D pair among the bare stacks of a ZYX model: the stacks as trained, the plane as
    it is (it made the set refused: '--axes ZYX names 3 axes, but ... has 2')."""
    _stacks(tmp_path / "set")
    plane = np.random.default_rng(3).integers(0, 255, (32, 32), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "set" / "images" / "c.tif", plane)
    tifffile.imwrite(tmp_path / "set" / "masks" / "c.tif", (plane > 128).astype(np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"), read_notes():  # said anew
        report = evaluate_model(_net("ZYX"), tmp_path / "set")
    assert len(report.images) == 11  # 5 + 5 planes, and the plane
    assert SAID.format("ZYX") in caplog.text


def test_a_plane_read_as_it_is_is_recorded_without_the_checkpoint_s_axes(tmp_path):
    """A 2-D TIFF beside a bare stack of a ZYX model is read as it is, and its record says
    so: it held the checkpoint's ZYX, so a rerun with --axes ZYX skipped the plane's outputs
    (that reading refuses it) and its record overstated how it was read."""
    (tmp_path / "in").mkdir()
    _bare(tmp_path / "in" / "m.tif")
    plane = np.random.default_rng(4).integers(0, 255, (H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "p.tif", plane)
    net, inputs, out = _net("ZYX"), tmp_path / "in", tmp_path / "o"
    assert len(predict_folder(net, inputs, out).written) == 2
    read = {r["model"].get("axes") for r in _records(out)}
    assert read == {"ZYX", None}  # the stack's as trained, the plane's as it is
    again = predict_folder(net, inputs, out, skip_existing=True)
    assert sorted(again.skipped) == [inputs / "m.tif", inputs / "p.tif"]
    given = predict_folder(net, [inputs / "m.tif"], out, axes="ZYX", skip_existing=True)
    assert given.skipped == [inputs / "m.tif"]  # the same reading, given
    with pytest.raises(OutputError, match="the defaults there, axes ZYX here"):
        predict_folder(net, [inputs / "p.tif"], out, axes="ZYX", skip_existing=True)
    refused = predict_folder(net, [inputs / "p.tif"], out, axes="ZYX", overwrite=True)
    assert list(refused.failed) == [inputs / "p.tif"] and not refused.skipped


def test_a_streamed_plane_carries_the_key_its_record_has(tmp_path):
    """A large 2-D TIFF of a ZYX model, read window by window as it is: the key its output
    carries is its manifest's, without the checkpoint's axes (it carried them: a run
    stopped before confirming it would not have taken it as its own)."""
    (tmp_path / "in").mkdir()
    plane = np.random.default_rng(4).integers(0, 255, (64, 64), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "p.tif", plane)
    out = tmp_path / "o"
    predict_folder(_net("ZYX"), tmp_path / "in", out, large_threshold=100)
    assert [r["model"].get("axes") for r in _records(out)] == [None]
    assert embedded_key(out / "p.tif") == recorded_keys(out, "predict")["p.tif"]


def _probabilities(net, path, out) -> np.ndarray:
    written = predict_file(net, path, out, save_probabilities=True)
    return tifffile.imread([p for p in written if p.name.endswith("_prob.tif")][0])


@pytest.mark.filterwarnings("ignore:<tifffile.TiffWriter.write> data with shape")
@pytest.mark.parametrize("photometric", [None, "minisblack"])  # planar RGB, 3 grey pages
def test_a_yxc_model_reads_a_bare_3_page_tiff_s_pages_as_its_channels(
    tmp_path, caplog, photometric
):
    """A model trained with data.axes YXC given a (3, Y, X) array saved by tifffile without
    axes: read with YXC it was 3 rows of 20 channels ('has 20 channels but the model
    expects 3'); its 3 pages are the channels, as a CYX model reads them."""
    image = np.random.default_rng(5).integers(0, 255, (3, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "m.tif", image, photometric=photometric)
    with caplog.at_level(logging.WARNING):
        read = _probabilities(_net("YXC", channels=3), tmp_path / "m.tif", tmp_path / "a")
    assert "read as the 3 channels of one image" in caplog.text
    assert read.shape[-2:] == (H, W)
    as_cyx = _probabilities(_net("CYX", channels=3), tmp_path / "m.tif", tmp_path / "b")
    np.testing.assert_array_equal(read, as_cyx)


def test_a_yxc_model_still_reads_a_bare_y_x_c_array_as_trained(tmp_path):
    """Its training's own files, (Y, X, 5) arrays saved without axes (Y pages of X x 5):
    read with YXC, 5 channels."""
    image = np.random.default_rng(6).integers(0, 255, (H, W, 5), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "m.tif", image)
    read = _probabilities(_net("YXC", channels=5), tmp_path / "m.tif", tmp_path / "a")
    assert read.shape[-2:] == (H, W)


def test_evaluate_of_a_yxc_model_names_cyx_for_a_bare_3_page_image(tmp_path):
    """Its one-mask pair: refused naming axes='CYX' (evaluate_model's keyword; s57 forms7), as without the checkpoint (it was
    refused for a mask '20x24' beside an image '24x3', as read with YXC)."""
    from unetlab.errors import DatasetError

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    image = np.random.default_rng(7).integers(0, 255, (3, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "images" / "m.tif", image, photometric="minisblack")
    tifffile.imwrite(tmp_path / "masks" / "m.tif", (image[0] > 128).astype(np.uint8))
    with pytest.raises(DatasetError, match="3 pages but its mask m.tif has 1.*axes='CYX'"):
        evaluate_model(_net("YXC", channels=3), tmp_path, progress=False)


@pytest.mark.parametrize("model", ["TYX", "ZYX"])
def test_a_4d_bare_stack_keeps_its_4_axes_for_a_model_of_planes(tmp_path, caplog, model):
    """A (T, Z, Y, X) array saved without axes (QQYX) given to a model trained on TYX (or
    ZYX): read as one stack of 10 planes, 'a Z stack', written ZYX (10, Y, X); now TZYX,
    its 4 axes kept, as --axes TZYX reads it, said once."""
    stack = np.random.default_rng(8).integers(0, 255, (2, 5, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "q.tif", stack, photometric="minisblack")
    assert _axes(tmp_path / "q.tif") == "QQYX"
    with caplog.at_level(logging.INFO, logger="unetlab"):
        written = predict_file(_net(model), tmp_path / "q.tif", tmp_path / "o")
    with tifffile.TiffFile(written[-1]) as tif:
        assert (tif.series[0].axes, tif.series[0].shape) == ("TZYX", (2, 5, H, W))
    said = "reading TIFFs of 4 axes that record none as TZYX (time points of Z stacks), each "
    assert said + f"plane as the model was trained on {model}" in caplog.text
    assert "a Z stack" not in caplog.text
    given = predict_file(_net(None), tmp_path / "q.tif", tmp_path / "g", axes="TZYX")
    np.testing.assert_array_equal(tifffile.imread(written[-1]), tifffile.imread(given[-1]))


def test_evaluate_scores_a_4d_bare_stack_as_tzyx_for_a_model_of_planes(tmp_path, caplog):
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    stack = np.random.default_rng(9).integers(0, 255, (2, 5, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "images" / "q.tif", stack, photometric="minisblack")
    masks = (stack > 128).astype(np.uint8)
    tifffile.imwrite(tmp_path / "masks" / "q.tif", masks, photometric="minisblack")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        report = evaluate_model(_net("TYX"), tmp_path, progress=False)
    assert len(report.images) == 10
    assert "as TZYX (time points of Z stacks), each plane as the model was trained on TYX" in (
        caplog.text
    )
    assert "no axis metadata" not in caplog.text


def test_a_4d_bare_stack_read_as_tzyx_is_recorded_so(tmp_path, checkpoint):
    """Its record held the checkpoint's TYX: a rerun with --axes TZYX, the same reading, was
    refused as 'other settings (axes TYX there, axes TZYX here)', and --axes TYX, which
    does not fit it, skipped it."""
    (tmp_path / "in").mkdir()
    stack = np.random.default_rng(10).integers(0, 255, (2, 5, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "q.tif", stack, photometric="minisblack")
    out = tmp_path / "o"
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "in")]
    argv += ["--output", str(out), "--no-progress"]
    assert main(argv) == 0
    assert [r["model"].get("axes") for r in _records(out)] == ["TZYX"]
    made = (out / "q.tif").stat().st_mtime_ns
    assert main([*argv, "--axes", "TZYX", "--skip-existing"]) == 0
    assert (out / "q.tif").stat().st_mtime_ns == made  # skipped: the same reading
    assert main([*argv, "--axes", "TYX", "--skip-existing"]) == 2  # another's
