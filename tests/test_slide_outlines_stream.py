"""A streamed slide's GeoJSON is written as its outlines are traced, window by window (a
million objects were ~1 GB of features and text held at once), and holds what tracing
each page whole gives: the same features, ids ascending per page, whatever order the
windows meet the objects in. (Measures summed piece by piece may differ in the last bit,
as the CSV's do: compared approximately.)"""

import json

import numpy as np
import pytest
from scipy import ndimage

from unetlab.data import ome
from unetlab.inference import slide_objects
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.outlines import object_polygons
from unetlab.inference.slide_objects import SlideObjects


class _Slide:
    def __init__(self, pixels: np.ndarray):
        self.pixels, self.shape = pixels, (*pixels.shape, 1)

    def page(self, p):
        slide = self

        class Page:
            def __getitem__(self, where):
                return slide.pixels[p][where][..., None]

            def drop(self):
                pass

        return Page()


def _ids(pages: int, seed: int = 0) -> np.ndarray:
    """Blobs with provisional ids in a shuffled order (with gaps), so that the windows meet
    them out of id order."""
    rng = np.random.default_rng(seed)
    mask = ndimage.binary_opening(rng.random((pages, 70, 90)) < 0.45, np.ones((1, 2, 2)))
    out = np.zeros(mask.shape, np.uint32)
    for p in range(pages):
        labels, n = ndimage.label(mask[p])
        lut = np.concatenate([[0], rng.permutation(n) * 3 + 5]).astype(np.uint32)
        out[p] = lut[labels]
    return out


def _publish(tmp_path, ids: np.ndarray, name: str) -> tuple[bytes, np.ndarray]:
    pages = ids.shape[0]
    shape, axes = (ids.shape, "zyx") if pages > 1 else (ids.shape[1:], "yx")
    spec = ome.OutputSpec(shape, axes, np.dtype(np.uint8), pixel_size=(0.5, 0.25))
    out = tmp_path / name
    finals = {k: out / f"s{v}" for k, v in (("objects", ".ome.zarr"), ("table", ".csv"))}
    finals["geojson"] = out / "s.geojson"
    found = SlideObjects(ObjectOptions(), None, spec, finals, "ome-zarr")
    found.staged()
    found.outline("nucleus")
    for p in range(pages):
        sink = ome.RowSink(found.ids, found.spec, p, 0, ids.shape[1])
        sink.write(0, ids[p])
        sink.close()
    written = found.publish(_Slide((ids > 0).astype(np.uint8) * 100))
    assert written[-1] == finals["geojson"]
    import zarr

    final = np.asarray(zarr.open_group(finals["objects"], mode="r")["0"])
    return finals["geojson"].read_bytes(), final.reshape(ids.shape)


@pytest.mark.parametrize("pages", [1, 2])
def test_streamed_geojson_is_the_page_traced_whole(tmp_path, monkeypatch, pages):
    ids = _ids(pages)
    whole, final = _publish(tmp_path, ids, "whole")  # one window a page
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 16)  # 16-row reads ...
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 500)  # ... of 16 x 16 px
    monkeypatch.setattr(slide_objects.ome, "CHUNK", 16)
    streamed, again = _publish(tmp_path, ids, "streamed")
    assert np.array_equal(final, again)
    features, before = json.loads(streamed)["features"], json.loads(whole)["features"]
    assert len(features) == len(before)
    for feature, want in zip(features, before):
        measured = feature["properties"].pop("measurements")
        assert measured["area_um2"] == measured["area"] * 0.125
        assert measured == pytest.approx(want["properties"].pop("measurements"), rel=1e-12)
        assert feature == want
    at = [
        (f["geometry"].get("plane", {}).get("z", 0), int(f["properties"]["name"])) for f in features
    ]
    assert at == sorted(at) and len(at) == sum(len(np.unique(p)) - 1 for p in final) > 30
    for (page, index), feature in zip(at, features):
        (polygons,) = object_polygons(final[page] == index).values()
        rings = [[r.tolist() + r[:1].tolist() for r in polygon] for polygon in polygons]
        assert feature["geometry"]["coordinates"] == (rings[0] if len(rings) == 1 else rings)


def test_a_slides_rois_are_written_whatever_the_geojson_writer_pulls(tmp_path, monkeypatch):
    """The ROIs are written as a page's objects pass into roi_zip: each page's rest is pulled
    before the next page is handed on (:func:`slide_objects._drained`), so a GeoJSON writer
    that pulls a page's objects partly, or not at all, leaves none unwritten (s65: its
    pulling every object was relied on; a page it passed was never written)."""
    import zipfile

    ids = _ids(1)
    spec = ome.OutputSpec(ids.shape[1:], "yx", np.dtype(np.uint8), pixel_size=(0.5, 0.25))
    out = tmp_path / "out"
    finals = {k: out / f"s{v}" for k, v in (("objects", ".ome.zarr"), ("table", ".csv"))}
    finals |= {"geojson": out / "s.geojson", "rois": out / "s_rois.zip"}
    found = SlideObjects(ObjectOptions(), None, spec, finals, "ome-zarr")
    found.staged()
    found.outline("nucleus", formats=("geojson", "rois"))
    sink = ome.RowSink(found.ids, found.spec, 0, 0, ids.shape[1])
    sink.write(0, ids[0])
    sink.close()
    passed = lambda self, planes, *_: [page for *_, page in planes]  # noqa: E731
    monkeypatch.setattr(SlideObjects, "_write_geojson", passed)  # no object pulled
    slide = _Slide((ids > 0).astype(np.uint8) * 100)
    slide.path = tmp_path / "s.tif"
    found.publish(slide)
    assert len(zipfile.ZipFile(finals["rois"]).namelist()) == len(np.unique(ids)) - 1 > 30


def test_each_pages_rois_are_written_before_the_next_page_whatever_is_pulled():
    """The ROIs are written as a page's objects pass (roi_zip's put): each page's rest is
    pulled before the next page is handed on, and the last's once the pages run out, so a
    writer beside them that pulls a page's objects partly, or not at all, leaves none
    unwritten and holds no page waiting (s65: the GeoJSON writer's pulling was relied on)."""
    pulled = []

    def objects(page: int):
        for index in range(3):
            pulled.append((page, index))
            yield index

    pages = slide_objects._drained((objects(page), None, page) for page in range(3))
    first, _, _ = next(pages)
    assert next(first) == 0 and pulled == [(0, 0)]
    next(pages)  # page 1 handed on, none of its objects pulled
    assert pulled == [(0, 0), (0, 1), (0, 2)]
    rest = [(page, index) for page in (1, 2) for index in range(3)]
    assert [page for *_, page in pages] == [2] and pulled[3:] == rest
