"""A large image read window by window leaves its nodata (GeoTIFF tag 42113) and alpha-0
pixels out as the image read whole does: of the statistics, filled with the valid mean,
predicted as the background; the same labels either way (inference/slide_nodata.py), but
for the nodata pixels: a streamed OME-TIFF holds a no-data value there (255, GDAL_NODATA),
a PNG of the image read whole the background."""

import json
import logging

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.test_predict_objects import local_net, nuclei_image
from tests.test_slide_resume import (
    Stop,
    _interrupted_then_resumed,
    _outputs,
    _predict,
    pinned_version,  # noqa: F401 (autouse)
)
from unetlab import UNet
from unetlab.data import ome
from unetlab.data.nodata import valid_pixels
from unetlab.data.normalize import image_stats
from unetlab.data.read_notes import read_notes
from unetlab.inference import slide_resume
from unetlab.inference.files import predict_file
from unetlab.inference.slide_nodata import SlideNodata, slide_nodata, valid_stats
from unetlab.inference.slides import predict_slide
from unetlab.inference.tiling import TileGrid

TAG = [(42113, "s", 0, "0", True)]


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ome, "CHUNK", 16)


def _model():
    return UNet(3, 3, depth=2, base_channels=4, padding="same").eval()


def _bordered(seed=0, shape=(90, 74)):
    """An RGB uint8 image (1-255) with a nodata border of 0 in every band, and the border."""
    rng = np.random.default_rng(seed)
    image = rng.integers(1, 255, (*shape, 3), dtype=np.uint8)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    bad = np.hypot(yy - shape[0] / 2, xx - shape[1] / 2) > 0.42 * min(shape)
    image[bad] = 0
    return image, bad


def _write(path, image, tags=TAG):
    tifffile.imwrite(path, image, tile=(32, 32), photometric="rgb", extratags=tags)


def _write_stack(path, stack):
    tifffile.imwrite(
        path, stack, tile=(32, 32), photometric="rgb", extratags=TAG, metadata={"axes": "TYXS"}
    )


def _labels(folder, name):
    path = folder / f"{name}.tif"
    if path.exists():
        return tifffile.imread(path)
    return np.asarray(Image.open(folder / f"{name}.png"))


def _both(tmp_path, path, **kw):
    """The labels of ``path`` read whole and streamed (forced by large_threshold)."""
    model = _model()
    common = dict(tile_size=32, batch_size=2, **kw)
    predict_file(model, path, tmp_path / "whole", **common)
    predict_file(model, path, tmp_path / "stream", large_threshold=100, **common)
    return _labels(tmp_path / "whole", path.stem), _labels(tmp_path / "stream", path.stem)


@pytest.mark.parametrize("nodata", ["auto", "none", 0])
def test_streamed_labels_equal_the_whole_image_with_a_nodata_border(tmp_path, small_chunks, nodata):
    image, bad = _bordered()
    _write(tmp_path / "m.tif", image)
    whole, streamed = _both(tmp_path, tmp_path / "m.tif", nodata=nodata)
    if nodata != "none":
        assert np.array_equal(whole[~bad], streamed[~bad])
        assert (whole[bad] == 0).all()  # a PNG: the background
        assert (streamed[bad] == 255).all()  # an OME-TIFF: the no-data value it names
    else:  # predicted there, as before
        assert np.array_equal(whole, streamed)
        assert (streamed[bad] != 0).any()


def test_streamed_objects_are_none_in_nodata(tmp_path, small_chunks):
    image, bad = _bordered(1)
    _write(tmp_path / "o.tif", image)
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    found = {}
    for nodata in ("none", "auto"):
        out = tmp_path / nodata
        common = dict(tile_size=32, objects=True, large_threshold=100, nodata=nodata)
        predict_file(model, tmp_path / "o.tif", out, **common)
        found[nodata] = tifffile.imread(out / "o_objects.tif")
    assert found["none"][bad].any()  # objects there before
    assert found["auto"].any() and not found["auto"][bad].any()


def test_every_pixel_nodata_is_not_predicted(tmp_path, small_chunks, caplog):
    _write(tmp_path / "e.tif", np.zeros((70, 60, 3), np.uint8))
    with caplog.at_level(logging.WARNING):  # streamed only: its own line
        predict_file(_model(), tmp_path / "e.tif", tmp_path / "s", large_threshold=100)
    assert (_labels(tmp_path / "s", "e") == 255).all()  # the no-data value
    assert "e.tif: every pixel is nodata or transparent: not predicted" in caplog.text


def test_page_statistics_are_of_the_valid_pixels():
    image, bad = _bordered(2)
    nodata = SlideNodata(0.0)
    for spec in ({"mode": "per_image"}, {"mode": "percentile"}):
        stats, fill, _, counts = valid_stats(image, image, nodata, spec, "x")
        want = image_stats(valid_pixels(image, bad), spec)
        np.testing.assert_allclose(stats, want)
        assert counts == (bad.sum(), bad.size)
    np.testing.assert_allclose(fill, image[~bad].mean(axis=0))
    fixed = {"mode": "fixed", "mean": 1, "std": 2}
    stats, fill, _, counts = valid_stats(image, image, nodata, fixed, "x")
    np.testing.assert_allclose(fill, image[~bad].mean(axis=0))  # the pass of its own
    assert counts == (bad.sum(), bad.size)
    stats, fill, _, counts = valid_stats(0 * image, 0 * image, nodata, {"mode": "per_image"}, "x")
    assert fill is None and counts == (bad.size, bad.size)


def test_alpha_zero_is_left_out_and_what_a_slide_leaves_out(tmp_path):
    rgba = np.full((20, 20, 4), 200, np.uint8)
    rgba[:5, :, 3] = 0
    tifffile.imwrite(tmp_path / "a.tif", rgba, photometric="rgb", extrasamples=[2])
    found = slide_nodata(tmp_path / "a.tif", "auto")
    assert found == SlideNodata(None, 3)
    assert found.invalid(rgba)[:5].all() and not found.invalid(rgba)[5:].any()
    assert found.kind() == "transparent" and SlideNodata(0.0).kind() == "nodata"
    assert slide_nodata(tmp_path / "a.tif", "none") is None
    assert slide_nodata(tmp_path / "a.tif", 7) == SlideNodata(7.0)
    _write(tmp_path / "t.tif", np.ones((8, 8, 3), np.uint8))
    assert slide_nodata(tmp_path / "t.tif", "auto") == SlideNodata(0.0)
    tifffile.imwrite(tmp_path / "p.tif", np.ones((8, 8), np.uint8))
    assert slide_nodata(tmp_path / "p.tif", "auto") is None


def test_the_resume_identity_names_the_nodata(tmp_path):
    tifffile.imwrite(tmp_path / "p.tif", np.ones((8, 8), np.uint8))
    grid = TileGrid((8, 8), (8, 8), (8, 8), (0,), (0,), 0, True)
    ids = [
        slide_resume.identity(tmp_path / "p.tif", {}, grid, 1, world=1, device="cpu", nodata=n)
        for n in (None, SlideNodata(0.0), SlideNodata(float("nan")))
    ]
    assert ids[0] != ids[1] and ids[1] != ids[2]
    assert ids[2]["nodata"] == ["nan", None]  # JSON that compares equal read back


def test_a_resumed_slide_with_nodata_equals_an_uninterrupted_one(tmp_path, monkeypatch, caplog):
    """The page's statistics and fill come back from the resume record; a rerun with
    another nodata setting starts afresh."""
    monkeypatch.setattr(ome, "CHUNK", 32)
    image = nuclei_image(160, 96, seed=7)
    yy, xx = np.mgrid[:160, :96]
    bad = np.hypot(yy - 80, xx - 48) > 50
    image[bad] = 0
    path = tmp_path / "n.tif"
    tifffile.imwrite(path, image, tile=(32, 32), photometric="minisblack", extratags=TAG)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        whole, resumed, _ = _interrupted_then_resumed(tmp_path, path, 24, save_probabilities=True)
        assert resumed == whole
        assert any(m.startswith(f"resuming {path} at row ") for m in caplog.messages)
        labels = tifffile.imread(tmp_path / "out" / "n.tif")
        assert (labels[bad] == 255).all() and labels[~bad].max() < 255
        caplog.clear()
        with pytest.raises(KeyboardInterrupt):
            _predict(local_net(), path, tmp_path / "again", _stop_after(24))
        _predict(local_net(), path, tmp_path / "again", None, nodata="none")
    assert any("discarded" in m for m in caplog.messages)
    assert _outputs(tmp_path / "again") != whole


def _stop_after(tiles: int):
    done = [0]

    def progress(n):
        done[0] += n
        if done[0] >= tiles:
            raise KeyboardInterrupt

    return progress


def test_streamed_labels_equal_the_whole_image_with_transparent_pixels(tmp_path, small_chunks):
    image, bad = _bordered(3)
    rgba = np.dstack([image, np.where(bad, 0, 255).astype(np.uint8)])
    rgba[bad, :3] = 90  # a colour under the transparent pixels: alpha alone says it
    tifffile.imwrite(tmp_path / "c.tif", rgba, tile=(32, 32), photometric="rgb", extrasamples=[2])
    whole, streamed = _both(tmp_path, tmp_path / "c.tif")
    assert np.array_equal(whole[~bad], streamed[~bad])
    assert (whole[bad] == 0).all() and (streamed[bad] == 255).all()


def test_streamed_objects_beside_nodata_touch_the_border_as_read_whole(tmp_path, small_chunks):
    """Objects beside nodata touch the border streamed as read whole (nodataslides s32)."""
    import csv

    image, bad = _bordered(1)
    _write(tmp_path / "o.tif", image)
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    tables = {}
    for how, kw in (("whole", {}), ("stream", {"large_threshold": 100})):
        out = tmp_path / how
        predict_file(model, tmp_path / "o.tif", out, tile_size=32, objects=True, **kw)
        tables[how] = list(csv.DictReader((out / "o_objects.csv").read_text().splitlines()))
    whole, streamed = tables["whole"], tables["stream"]
    assert len(whole) == len(streamed) > 0
    key = ("area", "bbox_top", "bbox_left", "touches_border")
    assert sorted(tuple(r[k] for k in key) for r in whole) == sorted(
        tuple(r[k] for k in key) for r in streamed
    )
    assert any(r["touches_border"] == "true" for r in streamed)


def test_streamed_probabilities_equal_the_whole_read_with_nodata(tmp_path, small_chunks):
    """The fill is the valid mean in float64 both ways: a float32 mean read whole was an ulp
    off the streamed one (100000.09 against 100000.1), 1.6e-4 in the probabilities."""
    rng = np.random.default_rng(1)
    image = (1e5 + rng.normal(0, 30, (90, 74))).astype(np.float32)
    image[_bordered()[1]] = -9999
    tags = [(42113, "s", 0, "-9999", True)]
    tifffile.imwrite(tmp_path / "f.tif", image, tile=(32, 32), extratags=tags)
    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    common = dict(tile_size=32, batch_size=2, save_probabilities=True)
    predict_file(model, tmp_path / "f.tif", tmp_path / "whole", **common)
    predict_file(model, tmp_path / "f.tif", tmp_path / "stream", large_threshold=100, **common)
    whole = tifffile.imread(tmp_path / "whole" / "f_prob.tif")
    streamed = tifffile.imread(tmp_path / "stream" / "f_prob.tif")
    np.testing.assert_allclose(streamed, whole, rtol=0, atol=1e-6)


def test_a_stacks_all_nodata_page_is_named_in_its_line(tmp_path, small_chunks, caplog):
    """A stack whose 2nd page is all nodata: its line names the page ("s.tif frame 1: every
    pixel is nodata"), as the stack's other page lines do, read whole and streamed; it named
    the file alone, as if every page were nodata."""
    stack = np.stack([_bordered(0)[0], np.zeros((90, 74, 3), np.uint8), _bordered(1)[0]])
    _write_stack(tmp_path / "s.tif", stack)
    for large in (None, 100):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            predict_file(_model(), tmp_path / "s.tif", tmp_path / str(large), large_threshold=large)
        lines = [
            r.getMessage() for r in caplog.records if "every pixel is nodata" in r.getMessage()
        ]
        assert len(lines) == 1 and "s.tif frame 1: every pixel" in lines[0], (large, lines)


def test_a_stacks_share_left_out_is_the_stacks_streamed_as_read_whole(tmp_path, small_chunks):
    """A 3-page stack, one page all nodata: the left-out line gives the stack's share (its
    pages' nodata pixels added up), streamed as read whole; streamed, it gave the last page's
    (100% nodata, review s47)."""
    image, bad = _bordered(0)
    stack = np.stack([image, np.full_like(image, 7), np.zeros_like(image)])
    _write_stack(tmp_path / "s.tif", stack)
    expected = (bad.sum() + bad.size) / (3 * bad.size)
    shares = []
    for large in (None, 100):
        with read_notes() as notes:
            predict_file(_model(), tmp_path / "s.tif", tmp_path / str(large), large_threshold=large)
        share, kind = notes.shares()[str(tmp_path / "s.tif")]
        shares.append(share)
        assert kind == "nodata"
    assert shares == pytest.approx([expected, expected])


def _killed_stack(tmp_path, after):
    """A 3-page stack (page 0 all sample, page 1 with a nodata border, page 2 all nodata), a
    run killed after ``after`` tiles (9 a page), the model and settings to resume it."""
    image, _ = _bordered(0, (64, 64))
    stack = np.stack([np.full_like(image, 7), image, np.zeros_like(image)])
    path = tmp_path / "s.tif"
    _write_stack(path, stack)
    model, kw = _model(), dict(tile_size=32, batch_size=1)
    with pytest.raises(KeyboardInterrupt):
        predict_slide(model, path, tmp_path / "out", progress=Stop(after), **kw)
    return path, model, kw


def _notes_of(model, path, out, **kw):
    with read_notes() as notes:
        predict_slide(model, path, out, **kw)
    return notes.lines()


@pytest.mark.parametrize("after", [9, 12, 15, 24])
def test_a_resumed_stacks_share_is_the_whole_stacks(tmp_path, small_chunks, caplog, after):
    """Killed within page 0 (9 tiles: at row 32), after it (12), within page 1 (15: its
    statistics are the record's) or after it (24), the resumed run's left-out line equals an
    uninterrupted run's: the record holds the counts of each page read (the line said the
    share of the pages the rerun read: "72% nodata of the 2 of 3 pages this run read")."""
    path, model, kw = _killed_stack(tmp_path, after)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        resumed = _notes_of(model, path, tmp_path / "out", **kw)
    assert any(m.startswith(f"resuming {path} at row ") for m in caplog.messages)
    whole = _notes_of(model, path, tmp_path / "whole", **kw)
    assert resumed == whole and "s.tif 48% nodata)" in whole[0], (resumed, whole)


def test_a_resumed_images_line_is_an_uninterrupted_runs(tmp_path, small_chunks):
    """One page killed within its rows: the rerun reads none of its statistics (the
    record's), and said no left-out line at all; now the record's counts, as a whole run."""
    image, _ = _bordered(0, (96, 64))
    _write(tmp_path / "o.tif", image)
    model, kw = _model(), dict(tile_size=32, batch_size=1)
    with pytest.raises(KeyboardInterrupt):
        predict_slide(model, tmp_path / "o.tif", tmp_path / "out", progress=Stop(4), **kw)
    resumed = _notes_of(model, tmp_path / "o.tif", tmp_path / "out", **kw)
    whole = _notes_of(model, tmp_path / "o.tif", tmp_path / "whole", **kw)
    assert resumed == whole and "o.tif 63% nodata)" in whole[0], (resumed, whole)


def test_an_older_resume_record_resumes_and_says_the_pages_it_read(tmp_path, small_chunks, caplog):
    """A record of an older unetlab holds no counts: the staging still resumes, and the share
    left out is of the pages the rerun read, the line saying of how many."""
    path, model, kw = _killed_stack(tmp_path, 15)  # within page 1
    (record,) = (tmp_path / "out").glob(f"*.partial/{slide_resume.ROWS.format(rank=0)}")
    found = json.loads(record.read_text())
    record.write_text(json.dumps({k: v for k, v in found.items() if k != "left_out"}))
    with read_notes() as notes, caplog.at_level(logging.INFO):
        predict_slide(model, path, tmp_path / "out", **kw)
    assert any(m.startswith(f"resuming {path} at row ") for m in caplog.messages)
    share, kind = notes.shares()[str(path)]
    assert kind == "nodata of the 1 of 3 pages this run read (the run it resumes read the others)"
    assert share == 1  # page 2; page 1's statistics are the record's


def test_a_records_counts_are_of_the_pages_it_read():
    """The counts a resume record holds: of the pages done and of the page under way where
    its rows (and so its statistics) are recorded; none of an older or a damaged record."""
    found = {"left_out": {"0": [5, 10], "1": [2, 10], "2": [1, 10]}}
    assert slide_resume.left_out_counts(found, 1, True) == {0: (5, 10), 1: (2, 10)}
    assert slide_resume.left_out_counts(found, 1, False) == {0: (5, 10)}
    assert slide_resume.left_out_counts({"page": 1, "row": 0, "stats": None}, 1, False) == {}
    for bad in ([1, 2], {"0": 3}, {"x": [1, 2]}, {"0": [1]}):
        assert slide_resume.left_out_counts({"left_out": bad}, 1, True) == {}
