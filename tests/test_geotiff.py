"""GeoTIFF inputs (drone orthomosaics, audit s31 drone, findings 1 and 7): every output of
the input's pixel grid carries its GeoTIFF tags unchanged, so QGIS lays it over the map, and
ModelPixelScale in metres is the pixel size (in micrometres, as the tables are), before a
300-dpi resolution tag."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet
from unetlab.data import geotiff, ome
from unetlab.data.geotiff import GEOTIFF_TAGS, read_geotags
from unetlab.data.tiffmeta import read_pixel_size
from unetlab.inference.files import predict_file

#: GeoKeys: projected, pixel is area, EPSG 32633 (UTM 33N), metres, citation in 34737
KEYS = (1, 1, 0, 5, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633, 3073, 34737, 8, 0)
KEYS += (3076, 0, 1, 9001)
GEO = [
    (33550, 12, 3, (0.05, 0.05, 0.0), True),
    (33922, 12, 6, (0.0, 0.0, 0.0, 500000.0, 5500000.0, 0.0), True),
    (34735, 3, len(KEYS), KEYS, True),
    (34737, 2, 9, "UTM 33N|", True),
]


@pytest.fixture(autouse=True)
def _say_again(monkeypatch):
    """Lines said once a process are said in each test."""
    monkeypatch.setattr(geotiff, "_SAID", set())


def _geotiff(path, image, tags=GEO, **kwargs):
    tifffile.imwrite(path, image, extratags=tags, **kwargs)
    return path


def _tags(path) -> dict:
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return {c: page.tags[c].value for c in GEOTIFF_TAGS if c in page.tags}


def _keys(change: dict) -> tuple:
    """KEYS with the entries of ``change`` (key -> (location, count, value)) replaced."""
    keys = dict(zip(KEYS[4::4], zip(KEYS[5::4], KEYS[6::4], KEYS[7::4])))
    keys.update(change)
    flat = [v for k, entry in keys.items() for v in (k, *entry)]
    return (1, 1, 0, len(keys), *flat)


def test_every_output_of_a_geotiff_carries_its_tags(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (24, 20), dtype=np.uint8)
    src = _geotiff(tmp_path / "ortho.tif", image)
    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=2, padding="same")
    kw = dict(save_probabilities=True, draw_overlay=True, objects=True)
    written = predict_file(model, src, tmp_path / "out", **kw)
    names = sorted(p.name for p in written if p.suffix == ".tif")
    # labels as TIFF (not PNG), probabilities, objects, overlay
    assert names == ["ortho.tif", "ortho_objects.tif", "ortho_overlay.tif", "ortho_prob.tif"]
    want = _tags(src)
    assert len(want) == 4
    for name in names:
        assert _tags(tmp_path / "out" / name) == want, name


def test_model_pixel_scale_in_metres_is_the_pixel_size_before_dpi(tmp_path, caplog):
    image = np.zeros((8, 8), np.uint8)
    dpi = _geotiff(tmp_path / "d300.tif", image, resolution=(300, 300), resolutionunit="INCH")
    with caplog.at_level(logging.INFO):
        assert read_pixel_size(dpi).size == (50000.0, 50000.0)  # 0.05 m, not 84.7 um
    assert "its objects table is in metres (area_m2" in caplog.text
    feet = [*GEO[:2], (34735, 3, len(KEYS), _keys({3076: (0, 1, 9002)}), True)]
    assert read_pixel_size(_geotiff(tmp_path / "ft.tif", image, feet)).size == (15240.0, 15240.0)


def test_degrees_are_no_pixel_size(tmp_path, caplog):
    keys = _keys({1024: (0, 1, 2)})
    del_unit = [(33550, 12, 3, (1e-6, 1e-6, 0.0), True), (34735, 3, len(keys), keys, True)]
    path = _geotiff(tmp_path / "wgs84.tif", np.zeros((8, 8), np.uint8), del_unit)
    with caplog.at_level(logging.INFO):
        assert read_pixel_size(path) is None
    assert "degrees" in caplog.text


def test_a_geotiffs_metre_resolution_tags_are_taken(tmp_path):
    # a GeoTIFF whose GeoKeys name no unit: its 5 cm resolution tags are a map's pixels
    keys = (1, 1, 0, 1, 1024, 0, 1, 1)
    tags = [(34735, 3, len(keys), keys, True)]
    res = dict(resolution=(0.2, 0.2), resolutionunit="CENTIMETER")
    path = _geotiff(tmp_path / "m5cm.tif", np.zeros((8, 8), np.uint8), tags, **res)
    assert read_pixel_size(path).size == (50000.0, 50000.0)


def test_metre_resolution_of_a_plain_tiff_says_a_fix_that_differs(tmp_path, caplog):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), resolution=(0.2, 0.2), resolutionunit=3)
    with caplog.at_level(logging.WARNING):
        assert read_pixel_size(path) is None
    assert "save it as a GeoTIFF" in caplog.text


@pytest.mark.parametrize("geo", [GEO, []])
def test_streamed_ome_tiff_has_the_tags_on_its_full_resolution_ifd(tmp_path, geo):
    spec = ome.OutputSpec(
        shape=(1100, 600), axes="yx", dtype=np.dtype(np.uint8), geotags=tuple(geo)
    )
    stage = ome.staging_path(tmp_path / "big.tif")
    ome.create(stage, spec)[:] = 1
    ome.finish(stage, tmp_path / "big.tif", spec, "ome-tiff")
    with tifffile.TiffFile(tmp_path / "big.tif") as tif:
        page = tif.pages[0]
        assert {c: page.tags[c].value for c in GEOTIFF_TAGS if c in page.tags} == {
            t[0]: t[3] for t in geo
        }
        assert len(page.pages) == 2  # the overviews, without them (another grid)
        assert not any(c in sub.tags for sub in page.pages for c in GEOTIFF_TAGS)


def test_read_geotags_of_other_files_is_empty(tmp_path):
    assert read_geotags(tmp_path / "x.png") == ()
