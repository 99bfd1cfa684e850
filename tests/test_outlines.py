"""Object outlines: exact pixel-edge polygons, QuPath GeoJSON and ImageJ ROI zips.

Oracles: the shoelace area against the pixel count; the polygons painted back (pixel centres
inside, even-odd over all rings) against the mask; shapely's validity (JTS's rules, which
QuPath uses); the ROI files decoded by this file's own reader of the format, and by
``roifile`` where it is installed.
"""

from __future__ import annotations

import json
import struct
import zipfile

import numpy as np
import pytest
from scipy import ndimage

from unetlab.data.io import read_image
from unetlab.data.tiffmeta import PageAxes
from unetlab.errors import UnetlabError
from unetlab.inference.outlines import (
    _roi_of,
    geojson_features,
    object_polygons,
    outline_class,
    polygon_area,
    roi_bytes,
    write_collection,
    write_geojson,
    write_imagej_rois,
    write_outlines,
    write_planes,
)
from unetlab.manifest import MANIFEST


def _scene() -> np.ndarray:
    """A square, an L, a ring around a nucleolus, two touching objects, one on the border,
    one of two diagonal pixels, and a ring whose hole reaches out through a corner."""
    labels = np.zeros((16, 18), dtype=np.uint16)
    labels[1:4, 1:4] = 1  # square
    labels[6:10, 1:3] = 2  # L
    labels[8:10, 3:5] = 2
    labels[1:6, 6:11] = 3  # ring with a hole ...
    labels[2:5, 7:10] = 0
    labels[3, 8] = 4  # ... holding another object
    labels[7:11, 7:9] = 5  # two touching objects
    labels[7:11, 9:11] = 6
    labels[13:16, 14:18] = 7  # on the image's border (bottom right)
    labels[0, 13] = 8  # two pixels touching at a corner
    labels[1, 14] = 8
    labels[12, 1:4] = 9  # a ring whose top-left corner pixel is missing
    labels[13:15, 0] = 9
    labels[13:15, 3] = 9
    labels[15, 0:4] = 9
    return labels


def _shoelace(ring: np.ndarray) -> float:
    x, y = ring[:, 0].astype(float), ring[:, 1].astype(float)
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _painted(polygons, shape) -> np.ndarray:
    """Pixels whose centres lie inside an odd number of the rings: a ray from each centre
    to the left crosses the rings' vertical edges (the rings must be rectilinear)."""
    crossings = np.zeros((shape[0], shape[1] + 1), dtype=np.int64)
    for polygon in polygons:
        for ring in polygon:
            (x0, y0), (x1, y1) = ring.T, np.roll(ring, -1, axis=0).T
            assert np.all((x0 == x1) != (y0 == y1)), "an edge neither vertical nor horizontal"
            for x, top, bottom in zip(x0, np.minimum(y0, y1), np.maximum(y0, y1)):
                crossings[top:bottom, x] += 1  # rows whose centres the edge spans
    return np.cumsum(crossings, axis=1)[:, :-1] % 2 == 1


def _check_round_trip(labels: np.ndarray, objects) -> None:
    boxes = ndimage.find_objects(labels)
    assert sorted(objects) == [i for i, box in enumerate(boxes, 1) if box is not None]
    counts = np.bincount(labels.ravel())
    for index, polygons in objects.items():
        assert sum(_shoelace(r) for p in polygons for r in p) == counts[index], index
        assert polygon_area(polygons) == counts[index]
        box = tuple(slice(max(b.start - 1, 0), b.stop + 1) for b in boxes[index - 1])
        window = labels[box] == index  # the box and a margin: painting the image is slow
        shifted = [[ring - (box[1].start, box[0].start) for ring in p] for p in polygons]
        assert np.array_equal(_painted(shifted, window.shape), window), index
        for polygon in polygons:
            assert _shoelace(polygon[0]) > 0 and all(_shoelace(h) < 0 for h in polygon[1:])
            for ring in polygon:  # simple: no corner twice, so no ring touches itself
                assert len({tuple(p) for p in ring.tolist()}) == len(ring), index


def test_a_pixel_is_a_unit_square_and_corners_are_exact():
    labels = np.zeros((3, 4), dtype=np.uint8)
    labels[1, 2] = 1
    labels[0:2, 0] = 2
    labels[1, 1] = 2
    objects = object_polygons(labels)
    assert [r.tolist() for r in objects[1][0]] == [[[3, 1], [3, 2], [2, 2], [2, 1]]]
    assert [r.tolist() for r in objects[2][0]] == [[[1, 0], [1, 1], [2, 1], [2, 2], [0, 2], [0, 0]]]
    assert objects[1][0][0].dtype == np.int64


def test_scene_areas_paint_and_rings_round_trip():
    labels = _scene()
    before = labels.copy()
    objects = object_polygons(labels)
    assert np.array_equal(labels, before)  # the input is not changed
    _check_round_trip(labels, objects)
    assert [len(p) for p in objects[3]] == [2]  # one polygon, one hole
    assert len(objects[8]) == 2  # corner-touching pixels are two pieces
    assert [len(p) for p in objects[9]] == [2]  # a hole touching the outer ring at a corner
    assert objects[7][0][0].max(axis=0).tolist() == [18, 16]  # the border's corners


def test_a_hole_goes_to_the_innermost_piece_around_it():
    labels = np.zeros((9, 9), dtype=np.uint8)
    labels[1:8, 1:8] = 1
    labels[2:7, 2:7] = 0
    labels[3:6, 3:6] = 1  # a piece inside the hole, with a hole of its own
    labels[4, 4] = 0
    objects = object_polygons(labels)
    _check_round_trip(labels, objects)
    outer, inner = objects[1]
    assert [len(outer), len(inner)] == [2, 2]
    assert [_shoelace(r) for r in outer] == [49, -25] and [_shoelace(r) for r in inner] == [9, -1]


@pytest.mark.parametrize("seed", range(6))
def test_random_speckle_round_trips_with_simple_rings(seed):
    """Noise has saddles everywhere: rings stay simple and the round trip exact."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 1 + seed % 3, size=(23, 19), endpoint=True)
    labels = (ids * (rng.random((23, 19)) < 0.6 + seed * 0.04)).astype(np.int32)
    _check_round_trip(labels, object_polygons(labels))


def test_one_large_noisy_object_round_trips():
    """Thousands of rings and saddles in one object (a first version retraced the object
    per saddle it fixed, and took minutes here)."""
    labels = (np.random.default_rng(3).random((160, 160)) < 0.6).astype(np.uint8)
    objects = object_polygons(labels)
    assert len(objects[1]) > 500 and sum(len(p) for p in objects[1]) > 1500
    _check_round_trip(labels, objects)


def test_rings_make_valid_shapely_geometries():
    shapely = pytest.importorskip("shapely", reason="shapely (JTS's Python twin) not installed")
    from shapely.geometry import shape

    rng = np.random.default_rng(7)
    noise = (rng.random((40, 40)) < 0.55).astype(np.uint8)
    for labels in (_scene(), noise, ndimage.label(noise)[0]):
        for feature in geojson_features(labels)["features"]:
            geometry = shape(feature["geometry"])
            assert shapely.is_valid(geometry), shapely.is_valid_reason(geometry)
            assert geometry.area == np.count_nonzero(labels == int(feature["properties"]["name"]))


def test_bad_label_images_are_refused_with_the_fix():
    with pytest.raises(UnetlabError, match="2-D label image"):
        object_polygons(np.zeros((2, 3, 4), dtype=np.uint8))
    with pytest.raises(UnetlabError, match="integer object ids"):
        object_polygons(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(UnetlabError, match="ids >= 0"):
        object_polygons(-np.ones((3, 4), dtype=np.int16))
    assert object_polygons(np.zeros((3, 4), dtype=np.uint16)) == {}
    assert list(object_polygons(np.eye(3, dtype=bool))) == [1]


def test_geojson_is_what_qupath_imports(tmp_path):
    labels = _scene()
    table = {"id": np.array([1, 3, 99]), "area": [9, 16, 5], "mean": [np.nan, 2.5, 1.0]}
    path = write_geojson(
        tmp_path / "a.geojson",
        labels,
        pixel_size=(0.5, 0.25),
        class_names={1: "nucleus", 3: "ring"},
        measurements=table,
    )
    # no temporary left (the manifest lists the file: unetlab wrote it)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "a.geojson"]
    data = json.loads(path.read_text(encoding="utf-8"))  # strict JSON: no NaN
    assert data["type"] == "FeatureCollection"
    features = {int(f["properties"]["name"]): f for f in data["features"]}
    assert sorted(features) == list(range(1, 10))
    for index, feature in features.items():
        assert feature["type"] == "Feature"
        assert feature["properties"]["objectType"] == "detection"
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        assert geometry["type"] == ("MultiPolygon" if index == 8 else "Polygon")
        for ring in (ring for polygon in polygons for ring in polygon):
            assert ring[0] == ring[-1] and len(ring) >= 5  # closed, as GeoJSON asks
        area = sum(_shoelace(np.array(r[:-1])) for p in polygons for r in p)
        assert area == np.count_nonzero(labels == index)
        assert feature["properties"]["measurements"]["area_um2"] == area * 0.125
    assert features[1]["properties"]["classification"]["name"] == "nucleus"
    assert len(features[1]["properties"]["classification"]["color"]) == 3
    assert "classification" not in features[2]["properties"]
    assert features[1]["properties"]["measurements"] == {"area": 9.0, "area_um2": 1.125}
    assert features[3]["properties"]["measurements"] == {"area": 16.0, "mean": 2.5, "area_um2": 2.0}


def test_geojson_one_class_for_all_and_traced_outlines_reused():
    objects = object_polygons(_scene())
    data = geojson_features(objects, class_names="Nucleus")
    assert {f["properties"]["classification"]["name"] for f in data["features"]} == {"Nucleus"}
    assert all("measurements" not in f["properties"] for f in data["features"])
    with pytest.raises(UnetlabError, match="'id' column"):
        geojson_features(objects, measurements={"area": [1]})
    with pytest.raises(UnetlabError, match="pixel_size"):
        geojson_features(objects, pixel_size=0)


def test_planes_written_feature_by_feature_are_the_collection_encoded_whole(tmp_path):
    labels = _scene()
    table = {"id": np.array([3, 1, 3]), "area": np.array([1.0, 9.0, np.nan]), "n": [1, 2, 5]}
    how = dict(pixel_size=(0.5, 0.25), class_names={1: "a", 3: "b"})
    planes = [(labels, table, {"z": 0}), (labels[::-1], None, {"z": 1, "t": 2})]
    whole = [geojson_features(o, measurements=m, plane=p, **how) for o, m, p in planes]
    text = json.dumps(
        {"type": "FeatureCollection", "features": [f for c in whole for f in c["features"]]},
        allow_nan=False,
        separators=(",", ":"),
    )
    pairs = [(iter(object_polygons(o).items()), m, p) for o, m, p in planes]  # (id, polygons)
    write_planes(tmp_path / "a.geojson", iter(pairs), **how)
    write_collection(tmp_path / "b.geojson", whole)
    for name in ("a", "b"):
        assert (tmp_path / f"{name}.geojson").read_text() == text + "\n"
    assert whole[0]["features"][2]["properties"]["measurements"]["n"] == 5.0  # the last row
    write_planes(tmp_path / "none.geojson", [])
    assert json.loads((tmp_path / "none.geojson").read_text()) == {
        "type": "FeatureCollection",
        "features": [],
    }


def test_outlines_of_a_model_are_of_its_last_class_and_planes_on_their_slices(tmp_path):
    class Net:
        classes = ["background", "boundary", "nucleus"]

    assert outline_class(Net()) == "nucleus" and outline_class(object()) is None
    ids = [_scene(), _scene()[:, ::-1]]
    paths = dict(geojson=tmp_path / "o.geojson", rois=tmp_path / "o.zip")
    tables = [{"id": np.array([1])}, {"id": np.array([2])}]
    assert write_outlines(ids, tables, class_name="x", **paths) == list(paths.values())
    features = json.loads(paths["geojson"].read_text())["features"]
    n = len(object_polygons(ids[0]))
    assert [f["geometry"]["plane"]["z"] for f in features] == [0] * n + [1] * n  # pages as z
    with zipfile.ZipFile(paths["rois"]) as archive:
        assert archive.namelist()[0] == "p0-0001.roi" and len(archive.namelist()) == 2 * n
    assert write_outlines(ids, tables) == []  # none asked for


def _decode_roi(data: bytes) -> dict:
    """ImageJ's .roi layout (RoiDecoder): big-endian header, coordinates, header2, name."""
    assert data[:4] == b"Iout"
    version, kind = struct.unpack(">hB", data[4:7])
    top, left, bottom, right, count = struct.unpack(">4hH", data[8:18])
    (shape_size,) = struct.unpack(">i", data[36:40])
    (header2,) = struct.unpack(">i", data[60:64])
    name_at, name_length = struct.unpack(">2i", data[header2 + 16 : header2 + 24])
    roi = {"version": version, "type": kind, "bounds": (top, left, bottom, right)}
    roi["position"] = struct.unpack(">i", data[56:60])[0]  # the stack slice
    roi["czt"] = struct.unpack(">3i", data[header2 + 4 : header2 + 16])  # header2 C, Z, T
    roi["name"] = data[name_at : name_at + 2 * name_length].decode("utf-16-be")
    if shape_size:
        roi["path"] = np.frombuffer(data, ">f4", shape_size, offset=64)
    else:
        xy = np.frombuffer(data, ">i2", 2 * count, offset=64).reshape(2, count)
        roi["ring"] = xy.T + (left, top)
    return roi


def test_roi_zip_has_one_roi_per_object_with_its_bounds(tmp_path):
    labels = _scene()
    path = write_imagej_rois(tmp_path / "rois.zip", labels)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "rois.zip"]
    objects = object_polygons(labels)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == [f"{i:04d}.roi" for i in range(1, 10)]
        rois = {int(n[:4]): _decode_roi(archive.read(n)) for n in names}
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        roi = rois[index]
        assert roi["version"] >= 218 and roi["name"] == f"{index:04d}"
        assert roi["bounds"] == (box[0].start, box[1].start, box[0].stop, box[1].stop)
        rings = [ring for polygon in objects[index] for ring in polygon]
        if len(rings) == 1:  # a traced polygon (Analyze Particles' kind), corners exact
            assert roi["type"] == 8 and np.array_equal(roi["ring"], rings[0])
        else:  # a composite: moveTo x y, lineTo x y ..., close per ring (even-odd fill)
            assert roi["type"] == 1 and index in (3, 8, 9)
            got = _path_rings(roi["path"].tolist())
            assert len(got) == len(rings)
            assert all(np.array_equal(g, ring) for g, ring in zip(got, rings))


def _path_rings(path: list[float]) -> list[np.ndarray]:
    """The rings of a ShapeRoi path: 0 x y (moveTo), 1 x y (lineTo), 4 (close)."""
    rings, i = [], 0
    while i < len(path):
        if path[i] == 4:
            i += 1
            continue
        if path[i] == 0:
            rings.append([])
        rings[-1].append(path[i + 1 : i + 3])
        i += 3
    return [np.array(ring, dtype=np.int64) for ring in rings]


def test_roi_zip_reads_back_with_roifile(tmp_path):
    roifile = pytest.importorskip("roifile", reason="roifile (optional reader) not installed")
    labels = _scene()
    objects = object_polygons(labels)
    rois = roifile.roiread(write_imagej_rois(tmp_path / "rois.zip", objects))
    assert [roi.name for roi in rois] == [f"{i:04d}" for i in objects]
    for roi, (index, polygons) in zip(rois, objects.items()):
        rings = [ring for polygon in polygons for ring in polygon]
        got = roi.coordinates(multi=True) if len(rings) > 1 else [roi.coordinates()]
        got = [np.asarray(r)[: len(ring)] for r, ring in zip(got, rings)]  # unclose
        assert all(np.array_equal(g, ring) for g, ring in zip(got, rings)), index


def test_roi_refuses_what_imagej_cannot_hold():
    ring = np.array([[40000, 0], [40001, 0], [40001, 1], [40000, 1]])
    # the fix (write_geojson) is said by the writer, which knows the file
    said = r"object 0001 does not fit an ImageJ ROI \(it reaches 40,001 px, past the 32,767 "
    with pytest.raises(UnetlabError, match=said):
        roi_bytes([[ring]], name="0001")


def test_an_roi_refusal_names_a_file_whose_name_holds_braces():
    """The refusal's line was built with str.format on a text holding the file's name:
    a{b}.zip raised KeyError instead (re-read s64)."""
    ring = np.array([[40000, 0], [40001, 0], [40001, 1], [40000, 1]])
    with pytest.raises(UnetlabError, match=r"a\{b\}_rois\.zip: object 0001 does not fit"):
        _roi_of("a{b}_rois.zip", [[ring]], name="0001")


def test_kromp_test_masks_round_trip(kromp_dir):
    masks = sorted((kromp_dir / "test" / "masks").iterdir())
    assert masks
    for path in masks:
        labels = read_image(path)
        _check_round_trip(labels, object_polygons(labels))


def test_a_stack_s_rois_read_back_on_their_slices(tmp_path):
    roifile = pytest.importorskip("roifile", reason="roifile (optional reader) not installed")
    first, second = np.zeros((20, 20), np.uint16), np.zeros((20, 20), np.uint16)
    first[2:5, 3:9], first[10:15, 10:12], second[1:3, 1:3] = 1, 2, 1
    rois = roifile.roiread(write_imagej_rois(tmp_path / "s.zip", [first, second], positions=[3, 7]))
    assert [(roi.name, roi.position) for roi in rois] == [
        ("p0-0001", 3),
        ("p0-0002", 3),
        ("p1-0001", 7),
    ]
    assert [(roi.left, roi.top, roi.right, roi.bottom) for roi in rois][1] == (10, 10, 12, 15)


def _stack_rois(tmp_path, axes: PageAxes | None, pages: int, channels: int = 1) -> dict:
    """write_outlines' ROIs of ``pages`` planes (plane p: one square of side p + 1), decoded
    by this file's reader (RoiDecoder's offsets): {name: decoded}."""
    ids = [np.zeros((12, 12), np.uint16) for _ in range(pages)]
    for p, plane in enumerate(ids):
        plane[1 : p + 2, 1 : p + 2] = 1
    path = tmp_path / "h.zip"
    write_outlines(ids, [{}] * pages, rois=path, axes=axes, channels=channels)
    with zipfile.ZipFile(path) as archive:
        return {n[:-4]: _decode_roi(archive.read(n)) for n in archive.namelist()}


def test_a_hyperstack_s_rois_carry_c_z_t(tmp_path):
    # audit s34 stacks 4: a T=3 x Z=2 stack's ROIs had a slice number only, which Fiji's
    # ROI Manager puts on the wrong frame or plane (and channel over the input)
    rois = _stack_rois(tmp_path, PageAxes("TZ", (3, 2)), 6)
    assert [r["version"] >= 228 for r in rois.values()] == [True] * 6
    got = {name: (r["position"], r["czt"]) for name, r in rois.items()}
    want = {f"p{p}-0001": (0, (0, p % 2 + 1, p // 2 + 1)) for p in range(6)}  # c 0: all
    assert got == want
    # the file's order Z then T: page p is z = p // 3, t = p % 3
    rois = _stack_rois(tmp_path, PageAxes("ZT", (2, 3)), 6)
    assert [r["czt"] for r in rois.values()] == [(0, p // 3 + 1, p % 3 + 1) for p in range(6)]
    roifile = pytest.importorskip("roifile", reason="roifile (optional reader) not installed")
    read = roifile.roiread(tmp_path / "h.zip")
    assert [(r.c_position, r.z_position, r.t_position) for r in read][:2] == [(0, 1, 1), (0, 1, 2)]


def test_a_plain_stack_s_rois_keep_their_slice(tmp_path):
    for axes in (PageAxes("T", (3,)), PageAxes("Z", (3,)), None):
        rois = _stack_rois(tmp_path, axes, 3)
        assert [(r["position"], r["czt"]) for r in rois.values()] == [
            (p + 1, (0, 0, 0)) for p in range(3)
        ]


def test_a_multichannel_stack_s_rois_carry_their_plane_on_every_channel(tmp_path):
    rois = _stack_rois(tmp_path, PageAxes("Z", (3,)), 3, channels=2)  # a ZCYX input
    assert [(r["position"], r["czt"]) for r in rois.values()] == [
        (0, (0, p + 1, 0)) for p in range(3)
    ]
    rois = _stack_rois(tmp_path, PageAxes("T", (2,)), 2, channels=3)  # a TCYX input
    assert [r["czt"] for r in rois.values()] == [(0, 0, 1), (0, 0, 2)]


def test_an_outline_of_more_corners_than_a_traced_roi_holds_is_a_composite_roi(tmp_path):
    """An object of more than 65,535 corners (a comb 16,400 px wide, a tooth every other
    pixel above and below its spine: 65,600 corners) is written exact as a composite ROI,
    as ImageJ's RoiEncoder saves such a polygon; its neighbour stays a traced ROI (s66: the
    corner limit failed a whole-read image's ROI zip)."""
    labels = np.zeros((5, 16404), np.uint8)
    labels[2, 1:16401] = 1
    labels[1, 1:16401:2] = labels[3, 1:16401:2] = 1
    labels[:, 16402:] = 2
    objects = object_polygons(labels)
    (ring,) = objects[1][0]
    assert len(ring) > 65535
    with zipfile.ZipFile(write_imagej_rois(tmp_path / "comb.zip", objects)) as archive:
        comb, block = (_decode_roi(archive.read(n)) for n in archive.namelist())
    assert comb["type"] == 1 and comb["bounds"] == (1, 1, 4, 16401)
    (got,) = _path_rings(comb["path"].tolist())
    assert np.array_equal(got, ring)
    assert block["type"] == 8 and np.array_equal(block["ring"], objects[2][0][0])
