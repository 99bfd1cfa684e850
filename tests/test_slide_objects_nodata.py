"""A streamed page's nodata cuts the objects beside it for their least sizes as read whole
(review s33 2): SlideObjects.add_page given the slide reads its invalid pixels band by band
and passes them to the exact semantic regions and to the bands with a margin alike."""

import numpy as np
import pytest

from tests.test_postprocess import same_partition
from unetlab.data import ome
from unetlab.inference import slide_objects
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
from unetlab.inference.slide_nodata import SlideNodata
from unetlab.inference.slide_objects import SlideObjects, lookup_path

NODATA = -5.0


class _Slide:
    """One page of raw (H, W, 1) pixels, read by window."""

    def __init__(self, pixels: np.ndarray):
        self.pixels = pixels

    def read(self, page: int, rows: slice, cols: slice) -> np.ndarray:
        assert page == 0
        return self.pixels[rows, cols][..., None].copy()


def _pieces() -> tuple[np.ndarray, np.ndarray]:
    """(96, 40) foreground and nodata: a 100-px piece beside nodata across the band seam at
    row 48 (kept: cut), a 100-px piece inside (dropped), a 600-px object (kept)."""
    fg = np.zeros((96, 40), np.float32)
    fg[40:50, 5:15] = 1  # 100 px, beside the nodata below it
    fg[70:80, 25:35] = 1  # 100 px, nothing beside it
    fg[5:25, 10:40] = 1  # 600 px
    bad = np.zeros((96, 40), bool)
    bad[50:60, 0:20] = True
    fg[bad] = 0  # nodata is predicted as the background
    return fg, bad


def _streamed(tmp_path, options, probabilities, slide) -> np.ndarray:
    h, w = probabilities.shape[1:]
    spec = ome.OutputSpec((h, w), "yx", np.dtype(np.uint8))
    finals = {"objects": tmp_path / "o.ome.zarr", "table": tmp_path / "o.csv"}
    found = SlideObjects(options, None, spec, finals, "ome-zarr")
    found.invalid = SlideNodata(NODATA).invalid
    found.staged()
    rows = ((y, probabilities[:, y : y + 16]) for y in range(0, h, 16))
    found.add_page(0, rows, h, slide=slide)
    ids = np.asarray(found.ids[:])
    staged = lookup_path(found.stage, 0)
    if staged.exists():
        with np.load(staged) as lookup:
            ids = lookup["values"][np.searchsorted(lookup["keys"], ids)]
    return ids


@pytest.mark.parametrize("split", [False, True])  # exact regions; bands with a margin
def test_a_piece_beside_nodata_is_cut_streamed_as_read_whole(tmp_path, monkeypatch, split):
    monkeypatch.setattr(ome, "CHUNK", 16)
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 16)
    fg, bad = _pieces()
    probabilities = np.stack([1 - fg, fg])
    options = ObjectOptions(background=0, min_area=200, distance_split=split)
    whole = objects_from_probabilities(probabilities, options, outside=bad)
    assert whole[45, 10] > 0 and whole[75, 30] == 0 and whole.max() == 2
    raw = np.where(bad, NODATA, fg)
    streamed = _streamed(tmp_path / "a", options, probabilities, _Slide(raw))
    assert same_partition(streamed, whole)
    unread = _streamed(tmp_path / "b", options, probabilities, None)  # no slide: no nodata
    assert unread[45, 10] == 0 and same_partition(
        unread, np.where(whole == whole[45, 10], 0, whole)
    )


def test_a_semantic_models_streamed_objects_read_no_rows_again(tmp_path, monkeypatch):
    """The rows' nodata is read from the page the tiles read (its kept band: the rows were
    blanked from it), not from the slide once more per band (note33): while the tiles run,
    a page with objects reads the slide as often as one without."""
    import tifffile

    from tests.test_objects_classes import three_class_net
    from tests.test_slide_objects_seams import seams
    from unetlab.data import slides as slide_data
    from unetlab.inference.slides import predict_slide

    monkeypatch.setattr(ome, "CHUNK", 16)
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 16)  # a page of 13 bands
    image = seams().astype(np.float32)
    image[:6, :9] = NODATA
    tifffile.imwrite(tmp_path / "s.tif", image)
    reads, read = [], slide_data.Slide.read
    monkeypatch.setattr(slide_data.Slide, "read", lambda *a, **k: reads.append(1) or read(*a, **k))
    tiles = {}  # the reads before the objects are numbered and measured (publish)
    publish = SlideObjects.publish
    monkeypatch.setattr(
        SlideObjects, "publish", lambda *a, **k: tiles.update(at=len(reads)) or publish(*a, **k)
    )
    how = dict(tile_size=36, batch_size=2, nodata=NODATA)
    net = three_class_net()
    predict_slide(
        net, tmp_path / "s.tif", tmp_path / "objects", objects=ObjectOptions.for_model, **how
    )
    with_objects = tiles["at"]
    reads.clear()
    predict_slide(net, tmp_path / "s.tif", tmp_path / "labels", **how)
    assert with_objects == len(reads)
