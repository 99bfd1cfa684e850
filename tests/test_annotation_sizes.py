"""The area of an annotation (:func:`unetlab.data.annotations._size`) is the area it covers:
its parts' outer rings' union (summed, s65: overlapping parts counted twice), a hole counted as inside (as a detection in a hole is
around it), not its largest ring's (s65): the region and correction rules of QuPath exports
compare it with the detections' areas."""

from __future__ import annotations

import json

import numpy as np
import pytest

from unetlab.data import annotations
from unetlab.data.annotations import (
    Outline,
    _overlapping,
    _ring_extents,
    _size,
    geojson_outlines,
    rasterise,
    read_outlines,
)
from unetlab.data.read_notes import read_notes


def _square(x: float, y: float, size: float) -> list:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def _ring(x: float, y: float, size: float) -> np.ndarray:
    return np.array(_square(x, y, size), dtype=np.float64)


def test_an_outlines_size_is_its_parts_outer_rings():
    holed = Outline("holed", rings=(_ring(0, 0, 10), _ring(2, 2, 6)), outer=(0,))
    assert _size(holed) == 100  # its hole counted as inside
    island = Outline(
        "island", rings=(_ring(0, 0, 10), _ring(2, 2, 6), _ring(4, 4, 2)), outer=(0, 2)
    )
    assert _size(island) == 100  # a part in another's hole: their union (counted twice, s65)
    parts = Outline("parts", rings=(_ring(0, 0, 5), _ring(20, 0, 9)))
    assert _size(parts) == 25 + 81
    assert _size(Outline("box", box=(0, 0, 4, 5))) == 20


def test_a_geojson_polygons_first_ring_is_its_outer_ring():
    """Each Polygon's first ring is its outer ring, its others its holes, as GeoJSON writes
    them; a MultiPolygon's and a GeometryCollection's polygons each have theirs."""
    hole, island = _square(2, 2, 6), _square(4, 4, 2)
    features = [
        _feature("Polygon", [_square(0, 0, 10), hole], {}),
        _feature("MultiPolygon", [[_square(0, 0, 10), hole], [island]], {}),
        _feature("GeometryCollection", None, {}),
    ]
    features[2]["geometry"] = {
        "type": "GeometryCollection",
        "geometries": [features[1]["geometry"]],
    }
    with read_notes():
        outlines = geojson_outlines(features, "a.geojson")
    assert [o.outer for o in outlines] == [(0,), (0, 2), (0, 2)]
    assert [_size(o) for o in outlines] == [100, 100, 100]


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


def _around_none(hole: float) -> list[int]:
    """The objects' pixel counts of a 60 px square ring of ``hole`` px wide lumen around no
    detection, beside two 15 x 15 px detections (its area is over 10x their bounds'; its
    ring's less its lumen's is not)."""
    found = {"objectType": "detection"}
    detections = [_feature("Polygon", [_square(x, 150, 15)], found) for x in (150, 190)]
    outer, lumen = _square(10, 10, 60), _square(10 + (60 - hole) / 2, 10 + (60 - hole) / 2, hole)
    ring = _feature("Polygon", [outer, lumen[::-1]], {"objectType": "annotation"})
    with read_notes():
        ids = rasterise(geojson_outlines([*detections, ring], "a.geojson"), (256, 256), "a")
    return np.bincount(ids.ravel())[1:].tolist()


def test_a_thin_ring_around_no_detection_is_a_region():
    """A ring whose outer ring is over 10x the largest detection's bounds is a region where
    none was found, however wide its lumen: its hole was taken away (s65 review: 3600 px
    less a 50 px wide lumen, 1100 px, was read as an object)."""
    assert _around_none(10) == [225, 225]
    assert _around_none(50) == [225, 225]


def test_a_ring_around_a_detection_in_its_lumen_is_a_region(tmp_path):
    """A ring around one detection lying in its lumen, its outer ring over 4x the
    detection's area, is the region it was found in, not the detection redrawn nor an
    object (s65 review: its 24 px ring less its 20 px lumen, 176 px, under 4 x 100 px,
    was kept as an object); with the hole 7 px wide in a 10 px ring around a 4 px detection
    (51 px less the hole, under 4 x 16 px, but 100 px over it) the same."""
    found, drawn = {"objectType": "detection"}, {"objectType": "annotation"}
    far = [_feature("Polygon", [_square(x, 200, 15)], found) for x in (200, 230)]
    cell = _feature("Polygon", [_square(107, 107, 10)], found)
    ring = _feature("Polygon", [_square(100, 100, 24), _square(102, 102, 20)[::-1]], drawn)
    with read_notes():
        ids = rasterise(geojson_outlines([cell, ring, *far], "a.geojson"), (256, 256), "a")
    assert np.bincount(ids.ravel())[1:].tolist() == [100, 225, 225]
    small = [_feature("Polygon", [_square(x, 10, 4)], found) for x in (10, 50)]
    holed = _feature("Polygon", [_square(6, 6, 10), _square(8, 8, 7)], drawn)
    path = tmp_path / "holed.geojson"
    path.write_text(json.dumps([holed, *small]))
    with read_notes():
        ids = rasterise(read_outlines(path), (64, 64), path.name)
    assert np.bincount(ids.ravel())[1:].tolist() == [16, 16]


def test_an_annotation_of_overlapping_parts_is_the_area_of_their_union(tmp_path):
    """A hand-drawn object of two overlapping 25 px strokes (a GeometryCollection, 675 px)
    around no detection is an object: under 10x the largest detection's 100 px bounds. Its
    parts' areas summed, 1,250 px, it was passed over as a region (s66); parts apart are
    still summed, and a large one's union is counted at a coarser scale."""
    found = {"objectType": "detection"}
    detections = [_feature("Polygon", [_square(x, 10, 10)], found) for x in (10, 30)]
    strokes = [{"type": "Polygon", "coordinates": [_square(x, 60, 25)]} for x in (60, 62)]
    drawn = {"type": "Feature", "properties": {"objectType": "annotation"}}
    drawn["geometry"] = {"type": "GeometryCollection", "geometries": strokes}
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps([*detections, drawn]))
    with read_notes():
        outlines = read_outlines(path)
    assert [_size(o) for o in outlines] == [100, 100, 675]
    ids = rasterise(outlines, (128, 128), path.name)
    assert np.bincount(ids.ravel())[1:].tolist() == [100, 100, 675]
    large = Outline("large", rings=(_ring(0, 0, 4000), _ring(2000, 0, 4000)))
    assert abs(_size(large) - 6000 * 4000) < 1e-2 * 6000 * 4000  # filled coarser: 0.7% off


def _diamond(x: float, y: float, r: float) -> np.ndarray:
    """A square turned 45 degrees, its left corner at ``x``, ``y``: 2 r^2 px, which no fill
    of pixels counts exactly (0.3 px corners)."""
    return np.array([[x, y], [x + r, y - r], [x + 2 * r, y], [x + r, y + r], [x, y]])


def test_parts_whose_bounds_do_not_overlap_are_summed_exactly():
    """Parts whose bounds touch only, or do not meet, are summed by their corners, exact;
    filled, their area would be a count of pixels (s66 review: a test of squares on whole
    pixels could not tell the two, and passed with bounds that touch taken as overlapping)."""
    r = 4.3
    beside, below = _diamond(2 * r, 5.5, r), _diamond(-0.5, 5 + 2 * r, r)
    touching = Outline("touching", rings=(_diamond(0, 5, r), beside, below))
    assert _overlapping(*_ring_extents(touching.rings)[1:]) == [[0], [1], [2]]
    assert _size(touching) == pytest.approx(6 * r * r, abs=1e-9)
    crossing = Outline("crossing", rings=(_diamond(0, 5, r), _diamond(2 * r - 0.1, 5.5, r)))
    assert _overlapping(*_ring_extents(crossing.rings)[1:]) == [[0, 1]]
    assert _size(crossing) == round(_size(crossing))  # filled: whole pixels


def test_parts_overlap_in_groups_linked_by_their_bounds():
    """Rings are grouped where their bounds overlap, through others too (a chain), and each
    group is filled alone: apart, its parts are summed."""
    rings = (_ring(0, 0, 10), _ring(30, 0, 10), _ring(8, 8, 10), _ring(16, 16, 10))
    assert _overlapping(*_ring_extents(rings)[1:]) == [[0, 2, 3], [1]]


@pytest.mark.parametrize("at_once", [3, 2**20])
def test_overlapping_groups_are_those_of_every_pair_tested(monkeypatch, at_once):
    """The groups of boxes that overlap, found all at once (some pairs at a time), are those
    of every pair tested one by one: boxes on half pixels, touching, starting alike; no
    boxes, no groups (an IndexError, s67 review)."""
    monkeypatch.setattr(annotations, "_PAIRS_AT_ONCE", at_once)
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 40, 150):
        low = np.round(rng.uniform(0, 40, (n, 2)) * 2) / 2
        high = low + np.round(rng.uniform(0.5, 8, (n, 2)) * 2) / 2
        meet = np.all((low[:, None] < high[None]) & (high[:, None] > low[None]), axis=2)
        group = list(range(n))  # each box's group: the least box linked to it
        for _ in range(n):
            group = [min(g for g, m in zip(group, row) if m) for row in meet]
        groups: dict[int, list[int]] = {}
        for i, g in enumerate(group):
            groups.setdefault(g, []).append(i)
        expected = sorted(groups.values())
        assert sorted(_overlapping(low, high)) == expected, n


def test_small_parts_scattered_wide_are_measured_to_the_pixel():
    """20 squares of 10 px scattered over 40,000 px, two of them overlapping by 5 x 5 px, are
    1,975 px: each group of parts whose bounds overlap is filled at its own scale (s66
    review: the whole, filled at one scale under 4 MP, measured 2,815 px)."""
    rng = np.random.default_rng(0)
    scattered = [_ring(*rng.uniform(0, 40000, 2), 10) for _ in range(18)]
    parts = Outline("parts", rings=(*scattered, _ring(0, 0, 10), _ring(5, 5, 10)))
    assert _size(parts) == pytest.approx(18 * 100 + 175, abs=1e-6)


def test_a_region_whose_largest_part_decides_is_not_filled(tmp_path, monkeypatch):
    """An annotation whose largest part alone is over 10x the largest detection's bounds is
    a region without its parts' union being filled (s66 review: a tissue annotation of
    10,000 parts took 17 s to fill; its first part, 400 px, decides beside 25 px
    detections), and one whose largest part does not decide is still filled."""
    filled = []
    monkeypatch.setattr(annotations, "_union_area", lambda rings, *_: filled.append(rings) or 0)
    found = {"objectType": "detection"}
    detections = [_feature("Polygon", [_square(x, 10, 5)], found) for x in (10, 30)]
    parts = [[_square(60, 60, 20)], [_square(70, 70, 10)]]
    region = _feature("MultiPolygon", parts, {"objectType": "annotation"})
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps([*detections, region]))
    with read_notes():
        ids = rasterise(read_outlines(path), (128, 128), path.name)
    assert np.bincount(ids.ravel())[1:].tolist() == [25, 25]
    assert filled == []
    small = Outline("small", rings=(_ring(0, 0, 10), _ring(5, 5, 10)))
    assert _size(small, enough=250) == 0 and len(filled) == 1  # 100 px parts: filled
