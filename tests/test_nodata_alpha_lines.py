"""An RGBA picture predicted through the Python API gets one line of its transparent pixels:
left out (``nodata: auto``) or read as sample (``nodata: none``), not both (review s32 4)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from unetlab.data import read_notes
from unetlab.inference.files import predict_file
from unetlab.models import UNet


@pytest.mark.parametrize("nodata", ["auto", "none"])
def test_a_cut_out_gets_the_line_of_its_setting_only(tmp_path, caplog, monkeypatch, nodata):
    monkeypatch.setattr(read_notes, "_said", set())  # said once a process: not by earlier tests
    _cut_png(tmp_path / "cut.png")
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"):
        predict_file(model, tmp_path / "cut.png", tmp_path / "o", tile_size=32, nodata=nodata)
    lines = [r.getMessage() for r in caplog.records if r.name == "unetlab.data.read_notes"]
    assert len(lines) == 1, lines
    if nodata == "auto":
        assert "left out of the normalisation" in lines[0] and "cut.png 31%" in lines[0]
    else:
        assert "segmented like the rest" in lines[0] and "cut.png 31%" in lines[0]


@pytest.mark.parametrize("names", [["road", "car", "sky"], ["background", "car", "sky"]])
def test_transparent_pixels_are_no_road_of_a_model_whose_class_0_is_a_class(
    tmp_path, caplog, monkeypatch, names
):
    """Audit s46 scenes 1: a road model's (class 0 road, no background) transparent rows were
    written as class 0 in road's colour, the line saying 'predicted as background'. They are
    no class (255, the void colour) and the line says so; a model with a background class
    keeps writing it there."""
    from unetlab.data.read_notes import read_notes as notes

    monkeypatch.setattr(read_notes, "_said", set())
    rgba = _cut_png(tmp_path / "cut.png")
    model = UNet(3, 3, depth=2, base_channels=4, padding="same").eval()
    model.classes = names
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"), notes():
        predict_file(
            model, tmp_path / "cut.png", tmp_path / "o", tile_size=32, color=True, draw_overlay=True
        )
    written = Image.open(tmp_path / "o" / "cut.png")
    labels = np.asarray(written)
    line = next(r.getMessage() for r in caplog.records if "left out of" in r.getMessage())
    if names[0] == "road":
        assert (labels[:15] == 255).all() and (labels[15:] < 3).all()
        assert written.getpalette()[255 * 3 : 256 * 3] == [0, 0, 0]  # void: black
        assert (
            "written as 255 (no class, the void colour) in a PNG label image, not class 0 (road)"
            in line
        )
        overlay = np.asarray(Image.open(tmp_path / "o" / "cut_overlay.png"))
        assert (overlay[:15] == rgba[:15, :, :3]).all()  # untinted: the image as read
    else:
        assert (labels[:15] == 0).all() and "predicted as background" in line


def test_evaluate_scores_a_road_png_nowhere_on_its_transparent_pixels(tmp_path, monkeypatch):
    """The no-class value a road model's PNG holds there (255) is named in its text key
    ``nodata``: evaluate --pred scored it nowhere rather than refusing 'class index 255'."""
    from unetlab.cli import main
    from unetlab.data.io import write_png

    monkeypatch.setattr(read_notes, "_said", set())
    _cut_png(tmp_path / "cut.png")
    model = UNet(3, 3, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["road", "car", "sky"]
    predict_file(model, tmp_path / "cut.png", tmp_path / "o", tile_size=32)
    assert (np.asarray(Image.open(tmp_path / "o" / "cut.png"))[:15] == 255).all()
    (tmp_path / "gt").mkdir()
    write_png(tmp_path / "gt" / "cut.png", np.tile(np.arange(40) % 3, (48, 1)).astype(np.uint8))
    json_out = tmp_path / "scores.json"
    args = ["evaluate", "--pred", str(tmp_path / "o"), "--gt", str(tmp_path / "gt")]
    assert main([*args, "--json", str(json_out)]) in (0, None)
    assert json_out.is_file()


def _cut_png(path) -> np.ndarray:
    """An RGBA PNG of 48 x 40 random pixels whose first 15 rows are transparent, at
    ``path``: its pixels."""
    rgba = np.random.default_rng(0).integers(1, 255, (48, 40, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[:15, :, 3] = 0
    Image.fromarray(rgba, "RGBA").save(path)
    return rgba


def test_the_nodata_key_of_a_label_png_is_read_without_decoding_it(tmp_path, monkeypatch):
    """evaluate reads a PNG map's ``nodata`` key for each map: Pillow's ``text`` decoded
    the whole image again for it (23 ms of a 2048² map; 0.7 ms from the chunk list)."""
    from PIL import ImageFile

    from unetlab.data.io import write_png
    from unetlab.data.nodata import png_nodata

    labels = np.zeros((64, 64), np.uint8)
    write_png(tmp_path / "m.png", labels, text={"nodata": "255"})
    write_png(tmp_path / "n.png", labels)

    def decoded(self, *args, **kwargs):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    assert png_nodata(tmp_path / "m.png") == 255 and png_nodata(tmp_path / "n.png") is None


def test_the_python_api_says_one_line_of_what_it_wrote_on_transparent_pixels(
    tmp_path, caplog, monkeypatch
):
    """Review s47 1: predict_file / predict_folder called from Python (no command's
    read_notes around them) said 'predicted as background' as the image was read, then
    'written as 255 (no class) ...': two lines that contradict for a road model. One line,
    the one a command says, for a file and for a folder (naming both images)."""
    from unetlab.inference.folders import predict_folder

    monkeypatch.setattr(read_notes, "_said", set())
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        _cut_png(tmp_path / "in" / f"{name}.png")
    model = UNet(3, 3, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["road", "car", "sky"]
    said = []
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"):
        predict_file(model, tmp_path / "in" / "a.png", tmp_path / "one", tile_size=32)
        said.append([r.getMessage() for r in caplog.records if r.name.endswith("read_notes")])
        caplog.clear()
        predict_folder(model, tmp_path / "in", tmp_path / "all", tile_size=32, progress=False)
        said.append([r.getMessage() for r in caplog.records if r.name.endswith("read_notes")])
    for lines, count in zip(said, ("1 image", "2 images")):
        assert len(lines) == 1, lines
        assert f"{count} with nodata or transparent pixels" in lines[0]
        assert "written as 255 (no class) in a PNG label image, not class 0 (road)" in lines[0]
        assert "predicted as background" not in lines[0]
    assert "a.png 31%" in said[1][0] and "b.png 31%" in said[1][0]


def test_evaluate_model_says_its_transparent_pixels_in_evaluation_s_words(
    tmp_path, caplog, monkeypatch
):
    """s53 badinput3: evaluate_model said they were left out of "the loss and validation"
    (training's words) and named data.nodata, not its own nodata= setting."""
    from unetlab.data.io import write_png
    from unetlab.evaluate import evaluate_model

    monkeypatch.setattr(read_notes, "_said", set())
    (tmp_path / "d" / "images").mkdir(parents=True)
    _cut_png(tmp_path / "d" / "images" / "cut.png")
    write_png(tmp_path / "d" / "masks" / "cut.png", np.tile([0, 1], (48, 20)).astype(np.uint8))
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "cell"]
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"):
        evaluate_model(model, tmp_path / "d", progress=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "unetlab.data.read_notes"]
    assert len(lines) == 1 and "cut.png 31%" in lines[0], lines
    assert "left out of the normalisation and the scores," in lines[0]
    assert "loss" not in lines[0] and "data.nodata" not in lines[0]
    assert "nodata='none' reads them as sample" in lines[0]
