"""The area of an annotation (:func:`unetlab.data.annotations._size`) is the area it fills:
its parts' summed, its holes' taken away, not its largest ring's (s65): the region and
correction rules of QuPath exports compare it with the detections' areas."""

from __future__ import annotations

import json

import numpy as np

from unetlab.data.annotations import Outline, _depths, _size, rasterise, read_outlines
from unetlab.data.read_notes import read_notes


def _square(x: float, y: float, size: float) -> list:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def _ring(x: float, y: float, size: float) -> np.ndarray:
    return np.array(_square(x, y, size), dtype=np.float64)


def test_an_outlines_size_is_its_parts_less_its_holes():
    holed = Outline("holed", rings=(_ring(0, 0, 10), _ring(2, 2, 6)))
    assert _depths(holed) == [0, 1] and _size(holed) == 100 - 36
    island = Outline("island", rings=(_ring(0, 0, 10), _ring(2, 2, 6), _ring(4, 4, 2)))
    assert _depths(island) == [0, 1, 2] and _size(island) == 100 - 36 + 4
    parts = Outline("parts", rings=(_ring(0, 0, 5), _ring(20, 0, 9)))
    assert _depths(parts) == [0, 0] and _size(parts) == 25 + 81
    joined = Outline(
        "joined", rings=(_ring(0, 0, 10), _ring(2, 2, 6), _ring(4, 4, 2)), parts=(2, 1)
    )
    assert _depths(joined) == [0, 1, 0]  # a part is filled apart: in no ring of its own
    assert _size(Outline("box", box=(0, 0, 4, 5))) == 20


def _feature(kind: str, coordinates: list, properties: dict) -> dict:
    geometry = {"type": kind, "coordinates": coordinates}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_a_region_of_many_parts_around_no_detection_is_no_object(tmp_path):
    """An annotation of two parts of 196 px each around no detection: 392 px, over 10x the
    largest detection's 25 px, is a region where none was found, passed over; it was read as
    an object (its largest part's 196 px taken as its area)."""
    found = {"objectType": "detection"}
    detections = [_feature("Polygon", [_square(x, 10, 5)], found) for x in (10, 30)]
    region = _feature(
        "MultiPolygon", [[_square(60, 60, 14)], [_square(90, 90, 14)]], {"objectType": "annotation"}
    )
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps([*detections, region]))
    with read_notes():
        ids = rasterise(read_outlines(path), (128, 128), path.name)
    assert np.bincount(ids.ravel())[1:].tolist() == [25, 25]
