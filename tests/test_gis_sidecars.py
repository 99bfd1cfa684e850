"""The files beside a georeferenced input (note33 "GIS"): a TIFF placed by a ``.tfw`` world
file alone (no GeoTIFF tags) is placed as a PNG with its ``.pgw`` is; the CRS of its
``.prj`` (or ``.aux.xml``) is written beside each output that carries a world file, as a
``.prj`` and in GDAL's ``.aux.xml`` (QGIS reads a PNG's CRS there: GDAL 3.6's gdalinfo named
none from a ``.prj``), and a GeoTIFF's EPSG code in the ``.aux.xml``, so that QGIS does not
ask for it; a malformed world file is warned of once."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_gis_placed import HOW, UTM_WKT1, WORLD, _field
from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.data import geotiff, world_file
from unetlab.data.world_file import input_grid

#: ESRI's WKT of WGS 84 (EPSG:4326) and of WGS 84 / UTM zone 33N (EPSG:32633), as PROJ
#: 9.5.1 writes them (pyproj's ``CRS.from_epsg(code).to_wkt("WKT1_ESRI")``)
WGS84_ESRI = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)
UTM33N_ESRI = (
    f'PROJCS["WGS_1984_UTM_Zone_33N",{WGS84_ESRI},PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


@pytest.fixture(autouse=True)
def _say_again(monkeypatch):
    monkeypatch.setattr(geotiff, "_SAID", set())
    monkeypatch.setattr(world_file, "_WARNED", set(), raising=False)


def _pam_srs(path) -> str:
    """The SRS of a GDAL .aux.xml, as GDAL reads it."""
    import xml.etree.ElementTree as ElementTree

    return ElementTree.parse(path).getroot().find("SRS").text


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _tiff_field(folder, *, suffix=".tfw", prj=UTM_WKT1):
    """The grains and pores as a plain TIFF (no GeoTIFF tags, no pixel size) with a world
    file (and a .prj) beside it."""
    labels, _ = grains_and_pores()
    folder.mkdir()
    tifffile.imwrite(folder / "field.tif", labels.astype(np.uint8))
    (folder / "field").with_suffix(suffix).write_text(WORLD)
    if prj is not None:
        (folder / "field.prj").write_text(prj)
    return folder / "field.tif"


@pytest.mark.parametrize("suffix", [".tfw", ".TFW", ".tifw", ".wld"])
def test_a_tiff_with_a_world_file_and_no_geotiff_tags_is_placed(tmp_path, suffix):
    src = _tiff_field(tmp_path / "in", suffix=suffix)
    grid = input_grid(src)
    assert grid is not None and grid.how == "world file" and grid.epsg == 32633
    assert grid.affine == (0.1, 0.0, 500000.0, 0.0, -0.1, 5500000.0)


def test_a_tiffs_tfw_places_its_outputs_as_a_pngs_pgw_does(tmp_path):
    """The same table (m², map centroids), outlines and world files as the PNG of the same
    grid with a .pgw and .prj (the TIFF's were in pixels, with no world file)."""
    net = three_class_net()
    tif = _tiff_field(tmp_path / "in")
    png = _field(tmp_path / "png", prj=UTM_WKT1)
    unetlab.predict_folder(net, tif, tmp_path / "t", draw_overlay=True, **HOW)
    unetlab.predict_folder(net, png, tmp_path / "p", draw_overlay=True, **HOW)
    for name in ("field.pgw", "field_overlay.pgw", "field_objects.tfw"):
        assert (tmp_path / "t" / name).read_text() == WORLD, name
    rows = _rows(tmp_path / "t" / "field_objects.csv")
    pngs = _rows(tmp_path / "p" / "field_objects.csv")
    assert {r.pop("image") for r in rows} == {"field.tif"} and len(rows) == len(pngs)
    assert {r.pop("image") for r in pngs} == {"field.png"}
    assert {Path(r.pop("path")).name for r in rows} == {"field.tif"}  # the input as given
    assert {Path(r.pop("path")).name for r in pngs} == {"field.png"}
    assert rows == pngs
    # grain 1: 8 x 8 px of 0.1 m from column 1, row 1: by hand
    assert (rows[0]["area_m2"], rows[0]["centroid_x_map"]) == ("0.64", "500000.5")
    outlines = [
        json.loads((tmp_path / d / "field_objects.geojson").read_text()) for d in ("t", "p")
    ]
    assert outlines[0] == outlines[1]
    ring = outlines[0]["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == [500000.1, 5499999.9]


@pytest.mark.parametrize("where", ["prj", "aux"])
def test_the_inputs_crs_is_written_beside_each_output_with_a_world_file(tmp_path, where):
    """``labels.prj`` beside ``labels.png`` (and the overlay's, the objects TIFF's), the
    input's WKT as it is, listed in the folder's manifest as the folder's own: a second
    run in the same folder takes them as its own."""
    src = _field(tmp_path / "in", **{where: UTM_WKT1})
    out, net = tmp_path / "o", three_class_net()
    result = unetlab.predict_folder(net, src, out, draw_overlay=True, **HOW)
    for name in ("field.png", "field_overlay.png", "field_objects.tif"):
        prj, aux = out / name.replace(name[-4:], ".prj"), out / f"{name}.aux.xml"
        assert prj.read_text(encoding="utf-8") == UTM_WKT1, name
        assert _pam_srs(aux) == UTM_WKT1, name
        assert {prj, aux} <= set(result.written[src])
    manifest = (out / ".unetlab-outputs").read_text(encoding="utf-8")
    assert "field.prj\tpredict\t" in manifest and "field.png.aux.xml\tpredict\t" in manifest
    assert not list(out.glob(".*.tmp*"))  # written atomically
    again = unetlab.predict_folder(net, src, out, draw_overlay=True, overwrite=True, **HOW)
    assert again.written[src] and (out / "field.prj").read_text(encoding="utf-8") == UTM_WKT1


def test_no_crs_file_without_a_crs_beside_the_input(tmp_path):
    src = _field(tmp_path / "in")
    unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **HOW)
    assert (tmp_path / "o" / "field.pgw").is_file()
    assert not list((tmp_path / "o").glob("*.prj")) and not list((tmp_path / "o").glob("*.xml"))


def test_a_geotiffs_png_outputs_name_its_epsg_code_in_gdals_aux_xml(tmp_path):
    """A GeoTIFF placed by ModelTransformation (no pixel size: PNG labels) in EPSG:32633:
    its PNG outputs get a .pgw, ``labels.png.aux.xml`` naming EPSG:32633 (its GeoKeys')
    and ``labels.prj``, the zone's ESRI WKT (there was none: no WKT to copy). Read back as
    an input's, the .aux.xml names the code, in metres."""
    from tests.test_gis_outputs import TRANSFORMED
    from unetlab.data.world_file import sidecar_crs

    labels, _ = grains_and_pores()
    src = tmp_path / "moved.tif"
    tifffile.imwrite(src, labels.astype(np.float32), extratags=TRANSFORMED)
    out = tmp_path / "o"
    unetlab.predict_folder(three_class_net(), src, out, draw_overlay=True, **HOW)
    assert (out / "moved.pgw").is_file()
    assert _pam_srs(out / "moved.png.aux.xml") == "EPSG:32633"
    assert _pam_srs(out / "moved_overlay.png.aux.xml") == "EPSG:32633"
    for name in ("moved.prj", "moved_overlay.prj"):
        assert (out / name).read_text(encoding="utf-8") == UTM33N_ESRI, name
    assert sidecar_crs(out / "moved.png") == (32633, 1.0)


def test_a_prj_there_already_that_unetlab_did_not_write_is_kept(tmp_path, caplog):
    """A .prj in the output folder that the manifest does not list is not replaced."""
    from unetlab.inference.world_files import world_files

    src = _field(tmp_path / "in", prj=UTM_WKT1)
    out = tmp_path / "o"
    unetlab.predict_folder(three_class_net(), src, out, **HOW)
    theirs = out / "field_objects.prj"
    theirs.unlink()
    lines = (out / ".unetlab-outputs").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith("field_objects.prj\t")]
    (out / ".unetlab-outputs").write_text("\n".join(kept) + "\n", encoding="utf-8")
    theirs.write_text('PROJCS["theirs"]', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        made = world_files(src, [out / "field_objects.tif", out / "field.png"])
    assert theirs.read_text(encoding="utf-8") == 'PROJCS["theirs"]'
    assert theirs not in made
    assert "field_objects.prj: a file there already names another CRS" in caplog.text


def test_a_malformed_world_file_is_warned_of_once(tmp_path, caplog):
    """Its table, pixel size and outputs' world files each read it: one line (was 3)."""
    src = _field(tmp_path / "in", world="0.1 0 0 oops\n")
    with caplog.at_level(logging.WARNING):
        unetlab.predict_folder(three_class_net(), src, tmp_path / "o", **HOW)
    assert caplog.text.count("field.pgw: not a world file") == 1
    assert not list((tmp_path / "o").glob("*.pgw"))


@pytest.mark.parametrize("kind", ["degrees", "transformation"])
def test_a_geotiffs_tiff_outputs_without_its_tags_get_a_world_file(tmp_path, kind):
    """A GeoTIFF in degrees, or placed by ModelTransformation alone, records no pixel size,
    so its objects TIFF carried none of its tags and lay nowhere in QGIS: it gets the
    labels' world file (.tfw) and CRS. A GeoTIFF in metres: its TIFF outputs carry its
    tags, no .tfw (test_gis_placed)."""
    from tests.test_gis_outputs import DEGREES, TRANSFORMED

    tags, epsg = {"degrees": (DEGREES, 4326), "transformation": (TRANSFORMED, 32633)}[kind]
    labels, _ = grains_and_pores()
    src = tmp_path / "m.tif"
    tifffile.imwrite(src, labels.astype(np.float32), extratags=tags)
    out = tmp_path / "o"
    result = unetlab.predict_folder(three_class_net(), src, out, save_probabilities=True, **HOW)
    prj = {"degrees": WGS84_ESRI, "transformation": UTM33N_ESRI}[kind]
    for name in ("m_objects", "m_prob"):
        assert (out / f"{name}.tfw").read_text() == (out / "m.pgw").read_text(), name
        assert _pam_srs(out / f"{name}.tif.aux.xml") == f"EPSG:{epsg}"
        assert (out / f"{name}.prj").read_text(encoding="utf-8") == prj, name
        assert out / f"{name}.tfw" in result.written[src]


def test_a_tiff_placed_by_its_tfw_streamed_measures_as_read_whole(tmp_path):
    """A TIFF placed by a .tfw and a .prj in metres, forced to stream (a low pixel limit):
    its table in m² and metres, its outlines and the summary's areas as read whole (its
    streamed table had no area_m2 and no _m columns: the slide records no pixel size)."""
    src, net, done = _tiff_field(tmp_path / "in"), three_class_net(), {}
    for name, extra in (("whole", {}), ("streamed", dict(large_threshold=100))):
        done[name] = unetlab.predict_folder(net, src, tmp_path / name, **HOW, **extra)
    rows = [_rows(tmp_path / d / "field_objects.csv") for d in ("whole", "streamed")]
    assert rows[0] == rows[1]
    # grain 1: 8 x 8 px of 0.1 m: 0.64 m², its centroid 4.5 px (0.45 m) from pixel (0, 0)
    assert (rows[1][0]["area_m2"], rows[1][0]["centroid_x_m"]) == ("0.64", "0.45")
    assert rows[1][0]["perimeter_m"] == "2.8"  # 28 px of 0.1 m
    outlines = [
        json.loads((tmp_path / d / "field_objects.geojson").read_text())
        for d in ("whole", "streamed")
    ]
    assert outlines[0] == outlines[1]
    assert done["streamed"].areas[src] == done["whole"].areas[src]
    assert done["whole"].areas[src]["grain"] > 0


def _tfw_pyramid(folder):
    """test_gis_placed's 2-level pyramid (0.05 m at level 0, 40 x 48 px) as a plain TIFF
    (no GeoTIFF tags, no pixel size) placed by a .tfw and a .prj: the same map place."""
    labels, _ = grains_and_pores()
    big = np.kron(labels, np.ones((2, 2), np.int64)).astype(np.float32)
    folder.mkdir()
    with tifffile.TiffWriter(folder / "pyr.tif") as tif:
        tif.write(big, tile=(16, 16), subifds=1)
        tif.write(labels.astype(np.float32), tile=(16, 16), subfiletype=1)
    (folder / "pyr.tfw").write_text("0.05\n0\n0\n-0.05\n500000.025\n5499999.975\n")
    (folder / "pyr.prj").write_text(UTM_WKT1)
    return folder / "pyr.tif"


def test_a_tfw_pyramids_level_outputs_get_that_levels_world_file(tmp_path):
    """--level 1 of a pyramid placed by a .tfw: its TIFF outputs (labels, probabilities,
    objects: the level's 20 x 24 px) get the level's world file, the pixel twice level
    0's from the same corner, as the GeoTIFF pyramid's level outputs carry it in their
    tags (they got none: their size is not level 0's and they record no step)."""
    from tests.test_gis_placed import _pyramid

    net, how = three_class_net(), dict(level=1, save_probabilities=True, **HOW)
    src = _tfw_pyramid(tmp_path / "tfw")
    result = unetlab.predict_folder(net, src, tmp_path / "o", draw_overlay=True, **how)
    geo, _ = _pyramid(tmp_path / "geo")
    unetlab.predict_folder(net, geo, tmp_path / "g", **how)
    # 0.1 m pixels, the top-left pixel's centre 0.05 m in from 500000 E, 5500000 N: by hand
    level1 = "0.1\n0\n0\n-0.1\n500000.05\n5499999.95\n"
    out = tmp_path / "o"
    for name in ("pyr", "pyr_prob", "pyr_objects"):
        assert (out / f"{name}.tfw").read_text() == level1, name
        assert (out / f"{name}.prj").read_text() == UTM_WKT1, name
        assert out / f"{name}.tfw" in result.written[src]
        with tifffile.TiffFile(tmp_path / "g" / f"{name}.tif") as tif:
            carried = geotiff.map_grid(geotiff.geotags(tif.pages[0]))
        assert carried.world_file() == level1, name
    assert (out / "pyr_overlay.pgw").read_text() == level1


def test_esri_wkt_of_utm_zones_and_their_datums():
    """Zone and hemisphere from the code: the central meridian 6 * zone - 183, a false
    northing of 10000000 m south of the equator; GRS 1980 for ETRS89 and NAD83; None for
    a code whose definition is not spelled here (Web Mercator). All 157 codes were
    checked against PROJ 9.5.1's ESRI WKT (pyproj), equal."""
    from unetlab.data.esri_wkt import esri_wkt

    assert esri_wkt(32633) == UTM33N_ESRI and esri_wkt(4326) == WGS84_ESRI
    south = esri_wkt(32733)
    assert south.startswith('PROJCS["WGS_1984_UTM_Zone_33S"')
    assert 'PARAMETER["False_Northing",10000000.0]' in south
    assert 'PARAMETER["Central_Meridian",-177.0]' in esri_wkt(32601)  # zone 1
    etrs = esri_wkt(25832)  # ETRS89 / UTM zone 32N: 9 E
    assert etrs.startswith('PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989"')
    assert 'SPHEROID["GRS_1980",6378137.0,298.257222101]' in etrs
    assert 'PARAMETER["Central_Meridian",9.0]' in etrs
    assert 'PARAMETER["Central_Meridian",-123.0]' in esri_wkt(26910)  # NAD83 zone 10N
    assert esri_wkt(3857) is None and esri_wkt(None) is None and esri_wkt(32661) is None


def test_a_tiff_outputs_level_is_what_its_record_says(tmp_path, monkeypatch):
    """tiff_level guessed the level from the output's size, opening the output and the
    input (level 0, the pyramid, each level read) for it; the output records its level
    (model.level): that is read, the input not opened."""
    from unetlab.inference.world_files import tiff_level

    src, opened, real = _tfw_pyramid(tmp_path / "tfw"), [], tifffile.TiffFile

    class Counted(real):
        def __init__(self, path, *args, **kwargs):
            opened.append(Path(path).name)
            super().__init__(path, *args, **kwargs)

    for level in (0, 1):
        out = tmp_path / f"o{level}"
        unetlab.predict_folder(
            three_class_net(), src, out, level=level, save_probabilities=True, **HOW
        )
        opened.clear()
        monkeypatch.setattr(tifffile, "TiffFile", Counted)
        assert tiff_level(src, out / "pyr_prob.tif", {}) == level
        monkeypatch.setattr(tifffile, "TiffFile", real)
        assert opened == ["pyr_prob.tif"]
