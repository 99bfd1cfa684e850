"""An overlay added with --skip-existing to a folder that holds a streamed slide's labels
is drawn from them (and from the object ids there, with objects) window by window, without
the net; those there are not rewritten, and the overlay is the one a run that predicted it
draws. Outlines not there need the net: the slide is predicted again. A run that predicts a streamed slide with objects draws their outlines
from the object ids it writes (it drew the provisional ids it staged: the pieces of each
window), as an image read whole draws them."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests import test_predict_drawn_again
from unetlab import UNet, save_model
from unetlab.cli import main

DRAWN = "drawn from the labels"
_counting_net = test_predict_drawn_again._counting_net  # the net's calls


@pytest.fixture
def work(tmp_path):
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (70, 52), dtype=np.uint8)
    tifffile.imwrite(
        tmp_path / "in" / "big.tif", image, resolution=(2e4, 2e4), resolutionunit="CENTIMETER"
    )
    torch.manual_seed(0)
    net = UNet(1, 3, depth=2, base_channels=2, padding="same")
    net.label_values = [0, 128, 255]  # --label-values: the labels there decoded
    save_model(tmp_path / "m.pt", net)
    return tmp_path


def _predict(work, out: str, *extra: str) -> None:
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / "in")]
    argv += ["--output", str(work / out), "--device", "cpu", "--large-pixels", "100"]
    assert main([*argv, *extra]) == 0


def _stamps(folder) -> dict:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.glob("big*")}


@pytest.mark.parametrize("values", [(), ("--label-values",)])
def test_a_streamed_slides_added_overlay_is_drawn_from_its_labels(
    work, monkeypatch, caplog, values
):
    _predict(work, "once", *values, "--overlay")
    _predict(work, "twice", *values)
    before = _stamps(work / "twice")
    assert "big.tif" in before
    calls = _counting_net(monkeypatch)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "twice", "--skip-existing", *values, "--overlay")
    assert calls == []
    assert DRAWN in caplog.text
    after = _stamps(work / "twice")
    assert {n: after[n] for n in before} == before  # not rewritten: same bytes, same mtime
    once, twice = (np.asarray(Image.open(work / d / "big_overlay.png")) for d in ("once", "twice"))
    assert np.array_equal(once, twice)


@pytest.mark.parametrize("outlines", [(), ("--outlines", "geojson")])
def test_a_streamed_slides_added_overlay_with_objects_is_drawn_from_its_ids(
    work, monkeypatch, caplog, outlines
):
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "once", "--instances", *outlines, "--overlay")
    said = [m for m in caplog.messages if m.startswith("big.tif: 1 object")]
    _predict(work, "twice", "--instances", *outlines)
    before = _stamps(work / "twice")
    assert {"big.tif", "big_objects.tif", "big_objects.csv"} <= set(before)
    calls = _counting_net(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "twice", "--skip-existing", "--instances", *outlines, "--overlay")
    assert calls == []
    assert "drawn from the labels and objects" in caplog.text
    assert said and [m for m in caplog.messages if m in said] == said  # counted as predicted
    after = _stamps(work / "twice")
    assert {n: after[n] for n in before} == before  # not rewritten: same bytes, same mtime
    once, twice = (np.asarray(Image.open(work / d / "big_overlay.png")) for d in ("once", "twice"))
    assert np.array_equal(once, twice)


def test_a_streamed_slides_missing_outlines_are_predicted_again(work, monkeypatch):
    _predict(work, "out", "--instances")
    calls = _counting_net(monkeypatch)
    _predict(work, "out", "--skip-existing", "--instances", "--outlines", "geojson", "--overlay")
    assert calls
    assert (work / "out" / "big_objects.geojson").exists()


@pytest.mark.parametrize("objects", [("--instances",), ("--instances", "--outlines", "geojson")])
def test_a_streamed_slides_overlay_outlines_the_objects_it_writes(work, objects):
    """A random 3-class net's one object of 3493 px was drawn as 289 provisional pieces."""
    _predict(work, "streamed", *objects, "--overlay")
    _predict(work, "whole", *objects, "--overlay", "--large-pixels", "100000")
    streamed, whole = (work / d for d in ("streamed", "whole"))
    ids = tifffile.imread(streamed / "big_objects.tif")
    assert np.array_equal(ids, tifffile.imread(whole / "big_objects.tif"))
    assert ids.max() >= 1
    drawn = np.asarray(Image.open(streamed / "big_overlay.png"))  # a TIFF's read whole
    assert np.array_equal(drawn, tifffile.imread(whole / "big_overlay.tif"))


def test_the_objects_of_a_table_there_are_counted_by_page_and_class(tmp_path):
    from unetlab.inference.drawn_again import table_counts

    table = tmp_path / "t.csv"
    table.write_text("page,id,class,class_name\n0,1,1,cell\n0,2,2,dust\n2,1,1,cell\n")
    assert table_counts(table, 3) == ([2, 0, 1], {"cell": 2, "dust": 1}, {})
    table.write_text("id,area\n1,4\n2,9\n")
    assert table_counts(table, 1) == ([2], {}, {})


def test_a_streamed_slides_overlay_holds_its_id_lookup_in_the_dtypes_written(work, monkeypatch):
    """The overlay, drawn after the objects, reads each page's provisional -> final id
    lookup kept by publish: held as staged (uint32) and written (the ids' dtype), not as
    int64 pairs (a 3072² slide's 2.2 million regions: 35 MB held while drawing)."""
    from unetlab.inference.slide_objects import SlideObjects

    held, final_rows = [], SlideObjects.final_rows

    def spy(self, page):
        held.append([(keys.dtype, values.dtype) for keys, values in self.luts])
        return final_rows(self, page)

    monkeypatch.setattr(SlideObjects, "final_rows", spy)
    _predict(work, "streamed", "--instances", "--overlay")
    written = tifffile.TiffFile(work / "streamed" / "big_objects.tif").pages[0].dtype
    assert held == [[(np.dtype(np.uint32), written)]]
