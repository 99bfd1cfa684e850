"""Label images of three classes or more are grey class indices 0, 1, 2, ... by default
(downstream tools read them): black in an image viewer. predict ends with one line naming
--color (audit s43 legend 2); coloured or two-class outputs get none."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main


@pytest.fixture
def work(tmp_path):
    """in/00.png (grey 24x20), a 4-class checkpoint m4.pt and a 2-class one m2.pt."""
    (tmp_path / "in").mkdir()
    image = np.random.default_rng(0).integers(0, 255, (24, 20), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "in" / "00.png")
    torch.manual_seed(0)
    for k in (2, 4):
        save_model(tmp_path / f"m{k}.pt", UNet(1, k, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _hints(work, caplog, checkpoint: str, out: str, *extra: str) -> list[str]:
    argv = ["predict", "--checkpoint", str(work / checkpoint), "--input", str(work / "in")]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--output", str(work / out), "--device", "cpu", *extra]) == 0
    return [r.getMessage() for r in caplog.records if "--color" in r.getMessage()]


def test_grey_index_labels_of_many_classes_end_with_a_color_hint(work, caplog):
    (hint,) = _hints(work, caplog, "m4.pt", "grey")
    assert "class indices 0-3" in hint and "--color writes them in the classes' colours" in hint
    assert Image.open(work / "grey" / "00.png").mode == "L"  # the default format kept
    assert _hints(work, caplog, "m4.pt", "colour", "--color") == []
    assert Image.open(work / "colour" / "00.png").mode == "P"
    assert _hints(work, caplog, "m2.pt", "two") == []


def _predict(work, checkpoint: str, out: str, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / checkpoint), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / out), "--device", "cpu", *extra])


def test_overlays_and_colour_labels_of_many_classes_get_a_legend(work, caplog):
    """The overlays' colours are the classes' (audit s43 legend 1): legend.png beside them,
    once per folder, the run's own file (a rerun and --skip-existing keep it so)."""
    from unetlab.manifest import made_from

    assert _predict(work, "m4.pt", "ov", "--overlay") == 0
    legend = work / "ov" / "legend.png"
    assert Image.open(legend).size[1] > 4 * 20  # a row per class
    assert made_from(work / "ov", "predict")["legend.png"] is None  # predict's, of no input
    assert _predict(work, "m4.pt", "ov", "--overlay") == 0  # rerun: its own file replaced
    assert _predict(work, "m4.pt", "ov", "--overlay", "--skip-existing") == 0
    assert legend.is_file()
    (work / "masks").mkdir()  # evaluate passes over the legend: no "legend" without a mask
    mask = (np.arange(24 * 20).reshape(24, 20) % 4).astype(np.uint8)
    Image.fromarray(mask).save(work / "masks" / "00.png")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(["evaluate", "--pred", str(work / "ov"), "--gt", str(work / "masks")]) == 0
    assert "legend" not in caplog.text
    assert _predict(work, "m4.pt", "col", "--color") == 0
    assert (work / "col" / "legend.png").is_file()
    assert _predict(work, "m4.pt", "grey") == 0  # grey indices: no colours to explain
    assert _predict(work, "m2.pt", "two", "--overlay") == 0  # one colour: the object
    assert not (work / "grey" / "legend.png").exists()
    assert not (work / "two" / "legend.png").exists()


def test_a_legend_never_replaces_a_file_predict_did_not_write(work):
    (work / "mine").mkdir()
    (work / "mine" / "legend.png").write_bytes(b"the user's")
    assert _predict(work, "m4.pt", "mine", "--overlay") == 2  # a folder of other files
    assert _predict(work, "m4.pt", "mine", "--overlay", "--overwrite") == 0  # beside them
    assert (work / "mine" / "legend.png").read_bytes() == b"the user's"
    assert (work / "mine" / "00_overlay.png").is_file()


def test_an_input_named_legend_added_later_is_predicted_with_skip_existing(work, caplog):
    """predict's legend.png (of no input) is no earlier output of an input legend.png added
    later: --skip-existing predicts it, where it refused the folder as another model's."""
    assert _predict(work, "m4.pt", "ov", "--overlay") == 0
    Image.open(work / "in" / "00.png").save(work / "in" / "legend.png")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(work, "m4.pt", "ov", "--overlay", "--skip-existing") == 0
    assert "another model" not in caplog.text
    assert Image.open(work / "ov" / "legend.png").size == (20, 24)  # its labels
    assert (work / "ov" / "legend_overlay.png").is_file()


def test_a_legend_no_output_of_the_folder_needs_is_removed(work, caplog):
    """A rerun over every input whose outputs need no legend (a two-class model's overlays
    with --overwrite; no --overlay) removes predict's legend.png of the earlier run, which
    named classes and colours no image there shows; one that leaves another input's overlay
    of the earlier run keeps it."""
    assert _predict(work, "m4.pt", "ov", "--overlay") == 0
    assert _predict(work, "m2.pt", "ov", "--overlay", "--overwrite") == 0
    assert not (work / "ov" / "legend.png").exists()
    assert _predict(work, "m4.pt", "ov", "--overlay", "--overwrite") == 0
    assert _predict(work, "m4.pt", "ov") == 0  # the overlays removed, their legend too
    assert not (work / "ov" / "legend.png").exists()
    assert _predict(work, "m4.pt", "ov", "--overlay") == 0
    Image.open(work / "in" / "00.png").save(work / "in" / "01.png")
    argv = ["predict", "--checkpoint", str(work / "m4.pt"), "--device", "cpu"]
    assert main([*argv, "--input", str(work / "in" / "01.png"), "--output", str(work / "ov")]) == 0
    assert (work / "ov" / "legend.png").is_file()  # 00_overlay.png still shows the classes


def test_a_legend_shows_a_long_class_name_whole_without_a_font_warning(tmp_path, recwarn):
    """A class name longer than the legend's 3.2 inches was cut at its edge; a name the
    font lacks glyphs for (CJK) printed matplotlib's UserWarning into predict's output."""
    from unetlab.plots import plot_legend

    names = ["background", "tumour-associated stroma with lymphocytes and necrosis", "核"]
    colours = np.array([[0, 0, 0], [200, 0, 0], [0, 200, 0]])
    image = np.asarray(Image.open(plot_legend(names, colours, tmp_path / "legend.png")))
    ink = (image[..., :3] < 128).any(axis=(0, 2)).nonzero()[0]
    assert ink.max() < image.shape[1] - 5  # the longest name ends inside the image
    assert not [w for w in recwarn if "Glyph" in str(w.message)]


def test_a_recursive_run_of_grey_index_labels_says_the_hint_once(work, caplog):
    """--recursive named --color nowhere (its folders' summaries had no model to ask)."""
    (work / "tree" / "a").mkdir(parents=True)
    (work / "tree" / "b").mkdir()
    for sub in ("a", "b"):
        Image.open(work / "in" / "00.png").save(work / "tree" / sub / "00.png")
    argv = ["predict", "--checkpoint", str(work / "m4.pt"), "--input", str(work / "tree")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--recursive", "--output", str(work / "out"), "--device", "cpu"]) == 0
    assert len([r for r in caplog.records if "--color writes" in r.getMessage()]) == 1


def test_no_legend_beside_an_input_named_legend_says_why(work, caplog):
    """An input legend.png's labels are legend.png: no legend, said as such (the line said
    'not a legend unetlab predict wrote', as of a user's file)."""
    Image.open(work / "in" / "00.png").save(work / "in" / "legend.png")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(work, "m4.pt", "ov", "--overlay") == 0
    assert Image.open(work / "ov" / "legend.png").size == (20, 24)  # the input's labels
    assert "the labels of the input" in caplog.text and "rename that input" in caplog.text


def test_a_legend_that_failed_to_draw_is_not_in_the_manifest(work, monkeypatch):
    """legend.png was listed in the manifest before it was drawn: a drawing that failed left
    a line for a file never written, and a legend.png the user put there later was taken
    for predict's and replaced (s44 small 3)."""
    from unetlab.inference import legend
    from unetlab.manifest import made_from

    def fails(*args, **kwargs):
        raise RuntimeError("the drawing failed")

    monkeypatch.setattr(legend, "plot_legend", fails)
    assert _predict(work, "m4.pt", "ov", "--overlay") == 1  # a bug's exit
    assert not (work / "ov" / "legend.png").exists()
    assert "legend.png" not in made_from(work / "ov", "predict")
    monkeypatch.undo()
    (work / "ov" / "legend.png").write_bytes(b"the user's")
    assert _predict(work, "m4.pt", "ov", "--overlay", "--overwrite") == 0
    assert (work / "ov" / "legend.png").read_bytes() == b"the user's"


def test_a_legend_that_failed_to_redraw_keeps_the_earlier_one_listed(work, monkeypatch):
    """A drawing that fails over predict's earlier legend leaves that legend, still its own."""
    from unetlab.inference import legend
    from unetlab.manifest import made_from

    assert _predict(work, "m4.pt", "ov", "--overlay") == 0
    before = (work / "ov" / "legend.png").read_bytes()
    monkeypatch.setattr(legend, "plot_legend", lambda *a, **k: 1 / 0)
    assert _predict(work, "m4.pt", "ov", "--overlay") == 1
    assert (work / "ov" / "legend.png").read_bytes() == before
    assert made_from(work / "ov", "predict")["legend.png"] is None
