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
