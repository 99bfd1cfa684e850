"""An overlay added with --skip-existing to a folder that holds a streamed slide's labels
is drawn from them window by window, without the net; the labels there are not rewritten,
and the overlay is the one a run that predicted it draws. With objects the slide is
predicted again. A run that predicts a streamed slide with objects draws their outlines
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


def test_a_streamed_slides_objects_are_predicted_again(work, monkeypatch):
    _predict(work, "out", "--instances")
    calls = _counting_net(monkeypatch)
    _predict(work, "out", "--skip-existing", "--instances", "--overlay")
    assert calls


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
