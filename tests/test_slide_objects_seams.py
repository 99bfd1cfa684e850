"""A streamed image's objects cross its band seams as in the image read whole (audit s31:
1,441 objects read whole, 1,442 streamed on a 6000 x 4500 drone crop): a U and an upside-down
U taller than a band's margin, a ring whose hole is taller than it, classes that touch, an
object along the image's edge, least sizes by class; the CSV and the ids, byte for byte."""

import logging
import re

import numpy as np
import pytest
import tifffile

from tests.test_objects_classes import three_class_net
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab.data import ome
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions

BY_CLASS = [None, {"count": 3, "area_p05": 40.0}, {"count": 3, "area_p05": 8.0}]


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of the least height (twice the 32-row margin) and 16 x 16 chunks."""
    monkeypatch.setattr(ome, "CHUNK", 16)
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 16)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 256)
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 16)


def seams() -> np.ndarray:
    """(200, 64) classes: every object below crosses a seam (rows 64, 128) and is taller
    than the margin (32 rows)."""
    labels = np.zeros((200, 64), np.int64)
    labels[20:150, 2:5] = labels[20:150, 10:13] = labels[146:150, 2:13] = 1  # U
    labels[30:170, 16:19] = labels[30:170, 24:27] = labels[30:34, 16:27] = 2  # upside-down U
    labels[40:180, 30:50] = 1
    labels[43:177, 33:47] = 0  # a hole 134 rows tall ...
    labels[100:103, 39:41] = 2  # ... with a pore in it
    labels[180:190, 30:50] = 2  # a pore that touches the ring
    labels[:, 60:] = 2  # along the edge
    labels[60:70, 54] = 2  # a pore of 10 px, kept; a grain of 4 px, dropped
    labels[62:64, 56:58] = 1
    return labels


def predicted(tmp_path, out, **how):
    path = tmp_path / "seams.tif"
    tifffile.imwrite(
        path, seams().astype(np.float32), resolution=(20000.0, 20000.0), resolutionunit="CENTIMETER"
    )
    net = three_class_net(BY_CLASS)
    found = []
    written = predict_file(
        net, path, out, counted=lambda *a: found.append(a), objects=ObjectOptions.for_model, **how
    )
    table = next(p for p in written if p.name.endswith("_objects.csv"))
    ids = next(p for p in written if p.name.startswith("seams_objects.") and p.suffix == ".tif")
    return table.read_bytes(), tifffile.imread(ids), found


def test_objects_across_seams_are_those_of_the_image_read_whole(tmp_path, small_bands):
    whole, whole_ids, counted_whole = predicted(tmp_path, tmp_path / "w")
    table, ids, counted = predicted(tmp_path, tmp_path / "s", large_threshold=100)
    assert (tmp_path / "s" / "seams.tif").exists()  # streamed: an OME-TIFF of labels
    assert counted == counted_whole == [([7], {"grain": 2, "pore": 5})]
    assert table == whole
    np.testing.assert_array_equal(ids, whole_ids)


def test_a_streamed_slide_says_it_is_finding_its_objects(tmp_path, small_bands, caplog):
    """After the tiles' 100% the regions are joined into objects: a line says so (the
    audit's slides were silent for minutes there, s32 histo 4)."""
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_objects"):
        predicted(tmp_path, tmp_path / "s", large_threshold=100)
    said = [m for m in caplog.messages if "finding the objects of" in m]
    assert len(said) == 1
    assert re.fullmatch(r"seams_objects.tif: finding the objects of \d+ regions .*", said[0])


def test_a_resumed_stacks_objects_keep_the_lookup_of_a_page_done_before(
    tmp_path, small_bands, monkeypatch
):
    """A page whose ids were staged before a stop is not read again: its lookup to the
    objects' ids (staged with them) is; the outputs equal an uninterrupted run's."""
    from tests.test_slide_resume import Stop, _outputs
    from unetlab.inference.slides import predict_slide

    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.stack([seams(), seams()[::-1]]).astype(np.float32))
    net = three_class_net(BY_CLASS)
    how = dict(tile_size=36, batch_size=2, objects=ObjectOptions.for_model)
    whole = Stop()
    predict_slide(net, path, tmp_path / "whole", progress=whole, **how)
    pages, add_page = [], slide_objects.SlideObjects.add_page
    monkeypatch.setattr(
        slide_objects.SlideObjects,
        "add_page",
        lambda self, page, *a, **k: pages.append(page) or add_page(self, page, *a, **k),
    )
    with pytest.raises(KeyboardInterrupt):  # in the second page
        predict_slide(net, path, tmp_path / "out", progress=Stop(whole.tiles * 3 // 4), **how)
    pages.clear()
    again = Stop()
    predict_slide(net, path, tmp_path / "out", progress=again, **how)
    assert again.tiles < whole.tiles * 3 // 4  # the first page was not predicted again
    assert pages == [1]  # the first page's ids and lookup were staged before
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
