"""A streamed slide's outputs as a pathology user meets them (audit s30 slides): the GeoJSON of
a pyramid level in full-resolution pixels, where QuPath places shapes on the slide; one
input's outputs appear together or not at all, so a re-predict stopped part-way never leaves
a new GeoJSON or overlay beside the earlier objects."""

import json
import logging
from dataclasses import replace

import numpy as np
import pytest
import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab.data import ome
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.outputs import resumable


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ome, "CHUNK", 32)
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 64)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 4096)


def _pyramid(path, image, levels=2):
    """A tiled, compressed OME-TIFF with a SubIFD pyramid, as slide scanners write them."""
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(
            image,
            tile=(32, 32),
            compression="zlib",
            subifds=levels - 1,
            metadata={"PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5},
        )
        for level in range(1, levels):
            step = 2**level
            tif.write(image[::step, ::step], tile=(32, 32), compression="zlib", subfiletype=1)
    return path


def _options(**more):
    return dict(
        outlines="geojson", large_threshold=100, **{"objects": ObjectOptions.for_model, **more}
    )


def _bounds(geojson):
    points = [
        p
        for f in json.loads(geojson.read_text())["features"]
        for ring in f["geometry"]["coordinates"]
        for p in (ring if isinstance(ring[0][0], int | float) else [q for r in ring for q in r])
    ]
    return np.max(np.asarray(points), axis=0)


def test_a_level_geojson_is_in_full_resolution_pixels(tmp_path, small_chunks):
    net = local_net()
    slide = _pyramid(tmp_path / "s.ome.tif", nuclei_image(256, 192, seed=4))
    predict_file(net, slide, tmp_path / "l1", level=1, **_options())
    features = json.loads((tmp_path / "l1" / "s_objects.geojson").read_text())["features"]
    ids = tifffile.imread(tmp_path / "l1" / "s_objects.tif")
    assert ids.shape == (128, 96) and len(features) == ids.max() >= 5
    # the level's objects, placed on the level-0 slide: coordinates times its downsample
    x, y = _bounds(tmp_path / "l1" / "s_objects.geojson")
    assert 96 < x <= 192 and 128 < y <= 256
    first = features[0]
    index = int(first["properties"]["name"])
    rows, cols = np.nonzero(ids == index)
    ring = np.asarray(first["geometry"]["coordinates"][0])
    assert ring[:, 0].min() == 2 * cols.min() and ring[:, 1].min() == 2 * rows.min()
    # its area in um2 is the object's (0.5 um x 2 at level 1), not the scaled polygon's
    assert first["properties"]["measurements"]["area_um2"] == pytest.approx(len(rows) * 1.0)


def _snapshot(folder):
    """The outputs of input s (not the folder's records, which say a run stopped)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith("s")}


def test_a_re_predict_stopped_while_publishing_leaves_the_earlier_outputs(
    tmp_path, small_chunks, monkeypatch
):
    net = local_net()
    slide = _pyramid(tmp_path / "s.ome.tif", nuclei_image(160, 128, seed=5))
    out = tmp_path / "out"
    predict_file(net, slide, out, draw_overlay=True, **_options())
    before = _snapshot(out)
    assert {"s.tif", "s_objects.tif", "s_objects.csv", "s_objects.geojson", "s_overlay.png"} <= set(
        before
    )

    def stopped(stage, final, spec, output_format, *, tiff=None, told=None):
        if final.name == "s.tif":  # the labels: after the overlay, outlines and objects
            raise KeyboardInterrupt
        return sealed(stage, final, spec, output_format, tiff=tiff, told=told)

    sealed = ome.seal
    seeds = replace(ObjectOptions.for_model(net), seed_threshold=0.9)
    monkeypatch.setattr(ome, "seal", stopped)
    with pytest.raises(KeyboardInterrupt):
        predict_file(net, slide, out, draw_overlay=True, **_options(objects=seeds))
    assert _snapshot(out) == before  # no new GeoJSON or overlay beside the old objects
    assert not [p.name for p in out.iterdir() if p.name.endswith((".tmp.png", ".tmp.geojson"))]


@pytest.mark.parametrize("output_format", ["ome-tiff", "ome-zarr"])
def test_a_first_predict_stopped_while_publishing_leaves_nothing(
    tmp_path, small_chunks, monkeypatch, output_format
):
    """No output of the stopped slide is left, and (review s30) no staged OME-Zarr objects
    array, which only a later command run in that folder would have removed: only the
    stagings a rerun resumes (and publishes) stay."""
    net = local_net()
    slide = _pyramid(tmp_path / "s.ome.tif", nuclei_image(160, 128, seed=5))
    seal = ome.seal

    def stopped(stage, final, spec, fmt, *, tiff=None, told=None):
        if "objects" not in final.name:  # the objects sealed and staged, then stopped
            raise KeyboardInterrupt
        return seal(stage, final, spec, fmt, tiff=tiff, told=told)

    monkeypatch.setattr(ome, "seal", stopped)
    with pytest.raises(KeyboardInterrupt):
        predict_file(
            net,
            slide,
            tmp_path / "out",
            draw_overlay=True,
            output_format=output_format,
            **_options(),
        )
    left = [p for p in (tmp_path / "out").iterdir() if p.name.startswith((".s", "s"))]
    assert left and all(resumable(p) for p in left)
    assert not [p for p in left if p.name.endswith(".publish.partial")]


def test_an_instance_models_objects_are_unclassified_in_qupath(tmp_path, small_chunks):
    """Audit s30 slides 6: every detection was classified 'interior' (the instance target's
    part); QuPath leaves a detection without ``classification`` unclassified."""
    net = local_net()
    net.classes = ["background", "boundary", "interior"]
    slide = _pyramid(tmp_path / "s.ome.tif", nuclei_image(96, 96, seed=4))
    predict_file(net, slide, tmp_path / "o", **_options())
    features = json.loads((tmp_path / "o" / "s_objects.geojson").read_text())["features"]
    assert features and not [f for f in features if "classification" in f["properties"]]
    net.classes = ["background", "boundary", "nucleus"]  # a name the user gave: kept
    predict_file(net, slide, tmp_path / "n", **_options())
    features = json.loads((tmp_path / "n" / "s_objects.geojson").read_text())["features"]
    assert {f["properties"]["classification"]["name"] for f in features} == {"nucleus"}


def test_a_multichannel_slides_csv_names_its_channels(tmp_path, small_chunks):
    dapi = nuclei_image(96, 96, seed=4)
    cd8 = np.full_like(dapi, 7)
    path = tmp_path / "mc.ome.tif"
    tifffile.imwrite(
        path,
        np.stack([cd8, dapi]),
        tile=(32, 32),
        compression="zlib",
        metadata={"axes": "CYX", "Channel": {"Name": ["CD8", "DAPI 405"]}},
    )
    predict_file(local_net(), path, tmp_path / "o", channel=1, **_options())
    header = (tmp_path / "o" / "mc_objects.csv").read_text().splitlines()[0].split(",")
    assert "mean_intensity_CD8" in header and "mean_intensity_DAPI_405" in header
    assert not [c for c in header if c.endswith(("_0", "_1"))]


def test_the_steps_after_the_tiles_say_what_they_do(tmp_path, small_chunks, caplog):
    """Numbering, measuring and outlining a slide's objects takes minutes on a large slide,
    after the last tile's progress line: each step has its line, once (the step's, where no
    bar is shown)."""
    slide = _pyramid(tmp_path / "s.ome.tif", nuclei_image(96, 96, seed=4))
    with caplog.at_level(logging.INFO):
        predict_file(local_net(), slide, tmp_path / "o", **_options())
    said = [m for m in caplog.messages if m.startswith("s_objects.")]
    measured = said.index(next(m for m in said if "numbering" in m))
    assert said[measured].startswith("s_objects.tif: numbering and measuring ")
    assert said[measured + 1].startswith("s_objects.geojson: tracing the outlines of ")
    assert sum("numbering" in m for m in caplog.messages) == 1
    assert sum("outlines of" in m for m in caplog.messages) == 1


def _polygon_centroid(ring):
    """(x, y) of a closed ring's area centroid (the shoelace formula)."""
    x, y = np.asarray(ring, dtype=float).T
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = cross.sum() / 2
    return (
        ((x[:-1] + x[1:]) * cross).sum() / (6 * area),
        ((y[:-1] + y[1:]) * cross).sum() / (6 * area),
    )


def test_a_levels_csv_is_in_the_geojsons_level_0_pixels(tmp_path, small_chunks, caplog):
    """Joined by id, the CSV's centroid of an object is where its GeoJSON shape lies (level-0
    pixels), not half of it; its um columns are those times level 0's pixel size (0.5 um;
    the level's is 1 um), as level 0 read whole gives them (note33: they were the level's)."""
    net = local_net()
    slide = _pyramid(tmp_path / "s.ome.tif", nuclei_image(256, 192, seed=4))
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_objects"):
        predict_file(net, slide, tmp_path / "l1", level=1, **_options())
    assert any("level-0 pixels (this level's times 2 x 2)" in m for m in caplog.messages)
    lines = (tmp_path / "l1" / "s_objects.csv").read_text().splitlines()
    rows = [dict(zip(lines[0].split(","), line.split(","))) for line in lines[1:]]
    features = json.loads((tmp_path / "l1" / "s_objects.geojson").read_text())["features"]
    ids = tifffile.imread(tmp_path / "l1" / "s_objects.tif")
    assert len(rows) == len(features) >= 5
    for row, feature in zip(rows, features):
        assert row["id"] == feature["properties"]["name"]
        ring = feature["geometry"]["coordinates"]
        ring = ring[0] if feature["geometry"]["type"] == "Polygon" else ring[0][0]
        x, y = _polygon_centroid(ring)  # corners: a pixel's centre is at index + 0.5
        assert (
            abs(float(row["centroid_x"]) + 0.5 - x) < 1
            and abs(float(row["centroid_y"]) + 0.5 - y) < 1
        )
        ys, xs = np.nonzero(ids == int(row["id"]))
        assert float(row["area"]) == 4 * len(ys)  # level-0 pixels
        assert int(row["bbox_left"]) == 2 * xs.min() and int(row["bbox_bottom"]) == 2 * (
            ys.max() + 1
        )
        assert float(row["centroid_x_um"]) == pytest.approx(float(row["centroid_x"]) * 0.5)
        assert float(row["centroid_x_um"]) == pytest.approx(((xs.mean() + 0.5) * 2 - 0.5) * 0.5)
        measured = feature["properties"]["measurements"]
        assert measured["centroid_x"] == pytest.approx(float(row["centroid_x"]))
