"""An output that needs no net, added to a finished folder with --skip-existing (an overlay,
the objects' outlines), is drawn from the labels and objects there: the same bytes as a run
that predicted it, and the net not run (walk s50: every input was predicted again)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests import test_predict_again_line
from unetlab import UNet
from unetlab.cli import main
from unetlab.inference import drawn_again

DRAWN = "this checkpoint and settings wrote in"
work = test_predict_again_line.work  # the fixture: three PNG inputs and a tiny model


@pytest.fixture
def inputs(work):
    """``work``'s three PNG inputs and a TIFF with a pixel size (TIFF labels and overlay)."""
    image = np.random.default_rng(3).integers(0, 255, (40, 36), dtype=np.uint8)
    pixel = dict(imagej=True, resolution=(2.0, 2.0), metadata={"unit": "um"})
    tifffile.imwrite(work / "in" / "03.tif", image, **pixel)
    return work


def _predict(work, out: str, *extra: str) -> None:
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / "in")]
    assert main([*argv, "--output", str(work / out), "--device", "cpu", *extra]) == 0


def _counting_net(monkeypatch) -> list[int]:
    calls = []
    forward = UNet.forward

    def counted(self, x):
        calls.append(1)
        return forward(self, x)

    monkeypatch.setattr(UNet, "forward", counted)
    return calls


@pytest.mark.parametrize(
    "first, added",
    [
        ((), ("--overlay",)),
        (("--instances",), ("--instances", "--overlay", "--outlines", "geojson")),
    ],
)
def test_an_added_output_is_drawn_from_those_there_without_the_net(
    inputs, monkeypatch, caplog, first, added
):
    work = inputs
    _predict(work, "once", *added)
    _predict(work, "twice", *first)
    calls = _counting_net(monkeypatch)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "twice", "--skip-existing", *added)
    assert calls == []
    assert caplog.text.count(DRAWN) == 4
    names = sorted(p.name for p in (work / "once").iterdir() if not p.name.startswith("."))
    assert {"00_overlay.png", "03_overlay.tif"} <= set(names)
    for name in names:
        if name.endswith((".png", ".tif", ".csv", ".geojson")):
            once, twice = work / "once" / name, work / "twice" / name
            assert once.read_bytes() == twice.read_bytes(), name


def test_probabilities_added_still_run_the_net(work, monkeypatch):
    _predict(work, "out")
    calls = _counting_net(monkeypatch)
    _predict(work, "out", "--skip-existing", "--overlay", "--save-probabilities")
    assert calls


def test_an_image_with_transparent_pixels_is_predicted_again(work, monkeypatch):
    """Its labels there hold no class on the transparent pixels: the net runs."""
    for name in ("00.png", "01.png", "02.png"):
        (work / "in" / name).unlink()
    grey = np.random.default_rng(0).integers(0, 255, (40, 36), dtype=np.uint8)
    alpha = np.full_like(grey, 255)
    alpha[:5, :5] = 0
    Image.fromarray(np.dstack([grey, alpha]), "LA").save(work / "in" / "la.png")
    _predict(work, "out")
    calls = _counting_net(monkeypatch)
    _predict(work, "out", "--skip-existing", "--overlay")
    assert calls


def test_decoded_gives_the_indices_of_mask_values():
    written = np.array([[0, 255], [128, 0]], np.uint8)
    assert drawn_again.decoded(written, [0, 128, 255]).tolist() == [[0, 2], [1, 0]]
    assert drawn_again.decoded(written, [0, 255]) is None  # 128: no mask value
    assert drawn_again.decoded(written, None) is written


@pytest.mark.parametrize("classes", [3, 300])
def test_labels_read_back_have_the_dtype_the_net_gives_them(tmp_path, classes):
    """uint8, uint16 above 256 classes, whatever the TIFF holds: as predicted, drawn the same."""
    from unetlab.inference.predict import labels_from_probabilities

    probs = np.zeros((classes, 2, 3), np.float32)
    probs[classes - 1, 0, 0] = 1
    given = labels_from_probabilities(probs)
    tifffile.imwrite(tmp_path / "l.tif", given.astype(np.uint32))
    (read,), ids = drawn_again.written_pages(tmp_path / "l.tif", None, None, classes)
    assert read.dtype == given.dtype
    assert np.array_equal(read, given) and ids == []


@pytest.mark.parametrize("objects", [(), ("--instances",)])
def test_the_outputs_an_added_overlay_is_drawn_from_are_not_rewritten(
    inputs, objects, monkeypatch, caplog
):
    """Their files stay as they were (same mtime), not written again with the same bytes,
    nor the labels written to the publishing folder only to be removed (work for nothing)."""
    from unetlab.inference import files

    work = inputs
    _predict(work, "out", *objects)
    kept = {p.name: p.stat().st_mtime_ns for p in (work / "out").glob("0*")}
    held = {n: (work / "out" / n).read_bytes() for n in kept}
    assert {"00.png", "03.tif"} <= set(kept)
    assert bool(objects) == ({"00_objects.csv", "00_objects.tif"} <= set(kept))
    _predict(work, "once", *objects, "--overlay")  # the overlay a run that predicts draws
    written = []  # the labels, object ids and tables written (to the publishing folder)
    for name in ("_write_labels", "_write_id_tiff", "write_csv"):
        monkeypatch.setattr(files, name, _spied(getattr(files, name), written))
    measured = []  # the tables measured again: the kept one's counts are read (counting3 s53)
    monkeypatch.setattr(files, "_page_tables", _spied_call(files._page_tables, measured))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "out", "--skip-existing", *objects, "--overlay")
    assert written == [] and measured == []  # ids and table were written, then removed (s52)
    assert {n: (work / "out" / n).stat().st_mtime_ns for n in kept} == kept
    assert {n: (work / "out" / n).read_bytes() for n in kept} == held
    for name in ("00_overlay.png", "03_overlay.tif"):  # drawn the same
        assert (work / "out" / name).read_bytes() == (work / "once" / name).read_bytes()
    if objects:  # the objects counted as the kept tables hold them
        rows = sum(
            len((work / "out" / f"0{i}_objects.csv").read_text().splitlines()) - 1 for i in range(4)
        )
        assert f"objects: {rows} in 4 images" in caplog.text, caplog.text


def _spied(write, written: list):
    """``write`` (of a path among its first two arguments), its path's name put in ``written``."""

    def spied(*args, **kwargs):
        written.append(next(a.name for a in args[:2] if hasattr(a, "name")))
        return write(*args, **kwargs)

    return spied


def _spied_call(call, calls: list):
    """``call``, each call put in ``calls``."""

    def spied(*args, **kwargs):
        calls.append(1)
        return call(*args, **kwargs)

    return spied
