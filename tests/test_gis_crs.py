"""The CRS a georeferenced input's outputs carry where its GeoKeys name no EPSG code, or a
code unetlab cannot spell as a ``.prj`` (session 36, helper gis2): a GeoTIFF in a
user-defined CRS (ProjectedCSTypeGeoKey 32767) whose WKT is in GDAL's ``<input>.aux.xml``
is measured in that CRS's unit (m², m) and passes the WKT on; a national grid's code
(EPSG:27700) is named in the ``.aux.xml`` and gets no invented ``.prj`` (said once); an
input's own ``.prj`` is copied as the outputs' ``.prj``, never an ``EPSG:<code>`` line."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_gis_placed import HOW, UTM_WKT1, _field
from tests.test_gis_sidecars import UTM33N_ESRI, _pam_srs
from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.data import geotiff
from unetlab.data.world_file import input_grid

#: a transverse Mercator grid of its own (no EPSG code), in metres, as GDAL writes it into
#: the ``.aux.xml`` of a GeoTIFF whose GeoKeys cannot hold it
LOCAL_WKT = (
    'PROJCS["Local grid",GEOGCS["GRS 1980",DATUM["unknown",SPHEROID["GRS80",6378137,'
    '298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION['
    '"Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",'
    '8.5],PARAMETER["scale_factor",1],PARAMETER["false_easting",2600000],PARAMETER['
    '"false_northing",1200000],UNIT["metre",1]]'
)


#: GeoKeys: projected, pixel is area, ProjectedCSTypeGeoKey ``code`` (and a linear unit)
def _keys(code: int, unit: int | None = None) -> tuple:
    keys = [1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, code]
    keys += [3076, 0, 1, unit] if unit is not None else []
    return (1, 1, 0, len(keys) // 4, *keys)


def _geotiff(folder, code: int, unit: int | None = None, aux: str | None = None):
    """The grains and pores (20 x 24) as a GeoTIFF of 0.1 m pixels at (2600000, 1200000)
    whose GeoKeys name ``code``, with GDAL's .aux.xml naming ``aux`` beside it."""
    tags = [
        (33550, 12, 3, (0.1, 0.1, 0.0), True),
        (33922, 12, 6, (0.0, 0.0, 0.0, 2600000.0, 1200000.0, 0.0), True),
        (34735, 3, len(_keys(code, unit)), _keys(code, unit), True),
    ]
    labels, _ = grains_and_pores()
    folder.mkdir()
    src = folder / "ortho.tif"
    tifffile.imwrite(src, labels.astype(np.uint8), extratags=tags)
    if aux is not None:
        srs = aux.replace("&", "&amp;").replace('"', "&quot;")
        (folder / "ortho.tif.aux.xml").write_text(f"<PAMDataset><SRS>{srs}</SRS></PAMDataset>")
    return src


@pytest.fixture(autouse=True)
def _say_again(monkeypatch):
    monkeypatch.setattr(geotiff, "_SAID", set())


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_user_defined_geotiff_is_measured_and_placed_in_the_crs_of_its_aux_xml(tmp_path):
    """GeoKeys 32767 (no code, no unit) and the CRS in ``ortho.tif.aux.xml``: the table in
    m² (grain 1: 8 x 8 px of 0.1 m: 0.64 m²; it was in pixels), and its WKT beside each
    output with a world file (.prj and .aux.xml; there was none: QGIS asked)."""
    src = _geotiff(tmp_path / "in", 32767, aux=LOCAL_WKT)
    grid = input_grid(src)
    assert (grid.how, grid.epsg, grid.metres) == ("tiepoint", None, 1.0)
    out = tmp_path / "o"
    unetlab.predict_folder(three_class_net(), src, out, draw_overlay=True, **HOW)
    row = _rows(out / "ortho_objects.csv")[0]
    assert (row["area_m2"], row["centroid_x_m"], row["centroid_x_map"]) == (
        "0.64",
        "0.45",
        "2600000.5",
    )
    for name in ("ortho.png", "ortho_overlay.png", "ortho_objects.tif"):
        prj = out / name.replace(name[-4:], ".prj")
        assert prj.read_text(encoding="utf-8") == LOCAL_WKT, name
        assert _pam_srs(out / f"{name}.aux.xml") == LOCAL_WKT, name


def test_a_user_defined_geotiffs_tagged_tiff_outputs_get_its_aux_xml(tmp_path):
    """With a linear unit in its GeoKeys (metres: its TIFF outputs carry its tags, 32767
    with them), ``ortho_objects.tif.aux.xml`` holds the input's WKT: GDAL reads the CRS
    there first, as it does the input's (it read none from the tags)."""
    src = _geotiff(tmp_path / "in", 32767, unit=9001, aux=LOCAL_WKT)
    out = tmp_path / "o"
    unetlab.predict_folder(three_class_net(), src, out, **HOW)
    assert geotiff.read_geotags(out / "ortho_objects.tif")  # carries the tags
    assert _pam_srs(out / "ortho_objects.tif.aux.xml") == LOCAL_WKT
    assert not (out / "ortho_objects.tfw").exists() and not (out / "ortho_objects.prj").exists()


def test_a_national_grids_code_is_named_in_the_aux_xml_and_said_once(tmp_path, caplog):
    """EPSG:27700 (British National Grid, not spelled by unetlab; no linear unit in its
    GeoKeys: PNG labels, a tagless objects TIFF): ``ortho.png.aux.xml`` names the code, no
    .prj is invented, and that is said in one line a call (each call's inputs are in that
    grid: s59, once a process before)."""
    first = _geotiff(tmp_path / "a", 27700)
    second = _geotiff(tmp_path / "b", 27700)
    out = tmp_path / "o"
    with caplog.at_level(logging.INFO):
        for src, name in ((first, "a"), (second, "b")):
            unetlab.predict_folder(three_class_net(), src, out / name, draw_overlay=True, **HOW)
    for name in ("a", "b"):
        assert _pam_srs(out / name / "ortho.png.aux.xml") == "EPSG:27700"
        assert _pam_srs(out / name / "ortho_objects.tif.aux.xml") == "EPSG:27700"
        assert not list((out / name).glob("*.prj"))
    said = [r for r in caplog.records if "EPSG:27700: its outputs with a world file" in r.message]
    assert len(said) == 2 and all("no .prj" in r.getMessage() for r in said)


def test_a_loop_of_predict_file_hears_each_said_once_line_once(tmp_path, caplog):
    """A GeoTIFF's lines for all files like it ("said once") were said at each
    ``predict_file`` of a loop over such files (review D: 12 lines for 4 calls, 3 before)."""
    sources = [_geotiff(tmp_path / f"d{i}", 27700) for i in range(3)]
    counts = []
    with caplog.at_level(logging.INFO):
        for i, src in enumerate(sources):
            unetlab.predict_file(three_class_net(), src, tmp_path / "out" / f"o{i}", **HOW)
            counts.append(sum("(said once)" in r.getMessage() for r in caplog.records))
    assert counts[0] > 0 and counts == [counts[0]] * 3


def test_an_inputs_own_prj_is_the_outputs_prj_not_its_aux_xmls_code(tmp_path):
    """A PNG placed by its .pgw whose .aux.xml names ``EPSG:32633`` (as unetlab writes it
    beside its outputs) and whose .prj holds the WKT: the outputs' .prj is that WKT (it was
    the line ``EPSG:32633``, which is no .prj); with no .prj, the zone's ESRI WKT."""
    out = tmp_path / "o"
    src = _field(tmp_path / "in", prj=UTM_WKT1, aux="EPSG:32633")
    unetlab.predict_folder(three_class_net(), src, out / "a", **HOW)
    assert (out / "a" / "field.prj").read_text(encoding="utf-8") == UTM_WKT1
    assert _pam_srs(out / "a" / "field.png.aux.xml") == "EPSG:32633"
    src = _field(tmp_path / "code", aux="EPSG:32633")
    unetlab.predict_folder(three_class_net(), src, out / "b", **HOW)
    assert (out / "b" / "field.prj").read_text(encoding="utf-8") == UTM33N_ESRI


@pytest.mark.parametrize("placed", ["geokeys", "world file", "user-defined"])
def test_an_ome_zarr_output_records_its_place_on_the_map(tmp_path, placed):
    """``--output-format ome-zarr`` of a georeferenced input (streamed: large_threshold):
    the labels' and probabilities' groups hold ``unetlab_geo``, the affine of array "0"'s
    pixel corners and the CRS (they held no place at all): a GeoTIFF in EPSG:32633 (its
    ESRI WKT), a TIFF placed by its .tfw and .prj, a user-defined CRS in its .aux.xml."""
    import zarr

    from tests.test_geotiff import GEO
    from tests.test_gis_placed import WORLD

    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    src = tmp_path / "in" / "ortho.tif"
    if placed == "user-defined":
        src = _geotiff(tmp_path / "ud", 32767, aux=LOCAL_WKT)
        corner, crs, wkt = (2600000.0, 1200000.0), None, LOCAL_WKT
        scale = 0.1
    elif placed == "geokeys":
        tifffile.imwrite(src, labels.astype(np.uint8), extratags=GEO)
        corner, crs, wkt, scale = (500000.0, 5500000.0), "EPSG:32633", UTM33N_ESRI, 0.05
    else:
        tifffile.imwrite(src, labels.astype(np.uint8))
        (tmp_path / "in" / "ortho.tfw").write_text(WORLD)
        (tmp_path / "in" / "ortho.prj").write_text(UTM_WKT1)
        corner, crs, wkt, scale = (500000.0, 5500000.0), "EPSG:32633", UTM_WKT1, 0.1
    how = dict(large_threshold=100, output_format="ome-zarr", save_probabilities=True)
    written = unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **how).written[src]
    groups = [p for p in written if p.suffix == ".zarr"]
    assert len(groups) == 2  # labels and probabilities
    for group in groups:
        geo = zarr.open_group(group, mode="r").attrs["unetlab_geo"]
        assert geo["transform"] == [scale, 0.0, corner[0], 0.0, -scale, corner[1]]
        assert geo["gdal_geotransform"] == [corner[0], scale, 0.0, corner[1], 0.0, -scale]
        assert (geo["crs"], geo["crs_wkt"]) == (crs, wkt)
