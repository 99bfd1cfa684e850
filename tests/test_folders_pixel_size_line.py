"""The line that an input records no pixel size (its objects table in pixels only) is not
said for a PNG that its world file and a CRS in metres place: its table is in metres
(patch_gis2_folders_world_file_metres, in inference/folders.py)."""

import logging

import numpy as np
import tifffile
from PIL import Image

import unetlab
from tests.test_gis_placed import HOW, UTM_WKT1, _field
from tests.test_objects_classes import three_class_net

LINE = "records no usable pixel size"


def test_no_pixel_size_line_for_a_png_placed_in_metres(tmp_path, caplog):
    placed = _field(tmp_path / "in", prj=UTM_WKT1)
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), placed, tmp_path / "o", **HOW)
    assert LINE not in caplog.text
    bare = _field(tmp_path / "bare")
    (tmp_path / "bare" / "field.pgw").unlink()  # no world file: in pixels, said
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), bare, tmp_path / "p", **HOW)
    assert LINE in caplog.text


def _line(caplog) -> str:
    lines = (r.getMessage() for r in caplog.records)
    return next(m for m in lines if "pixel size" in m and "objects table" in m)


def _said(caplog, inputs, out) -> str:
    """The line that predicting ``inputs`` into ``out`` says."""
    caplog.clear()
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), inputs, out, **HOW)
    return _line(caplog)


def _bare_png(folder):
    """The grains and pores as a PNG that nothing gives a pixel size."""
    png = _field(folder)
    (folder / "field.pgw").unlink()
    return png


def test_the_line_is_short_and_names_the_fix(tmp_path, caplog):
    """It was some 420 characters naming GeoTIFF, ImageJ, OME and FEI/Zeiss SEM metadata, a
    map's CRS and a Python call, for a PNG too: one short line naming --pixel-size UM, and
    for a TIFF where Fiji records one."""
    png = _bare_png(tmp_path / "png")
    assert _said(caplog, png, tmp_path / "o") == (  # a file given alone: by its path
        f"{png} records no usable pixel size: its objects table is in pixels only; give "
        "pixel_size=UM for um columns"
    )
    (tmp_path / "tif").mkdir()
    tifffile.imwrite(tmp_path / "tif" / "field.tif", np.asarray(Image.open(png)))
    assert _said(caplog, tmp_path / "tif", tmp_path / "p") == (
        "field.tif records no usable pixel size: its objects table is in pixels only; give "
        "pixel_size=UM for um columns, or record it in the file (Fiji: "
        "Image > Properties)"
    )


def test_the_line_counts_the_inputs_that_record_none(tmp_path, caplog):
    """A folder where many inputs record no pixel size named its first file alone, read as
    if that file alone lacked one (s51 kromp nuclei: 'Ganglioneuroblastoma_3.png records no
    pixel size' of 12 PNGs all without): the line counts them and names the first."""
    image = np.asarray(Image.open(_bare_png(tmp_path / "png")))
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        tifffile.imwrite(tmp_path / "in" / f"{name}.tif", image)
    scaled = {"imagej": True, "resolution": (2.0, 2.0), "metadata": {"unit": "um"}}
    tifffile.imwrite(tmp_path / "in" / "c.tif", image, **scaled)  # 0.5 um pixels
    assert _said(caplog, tmp_path / "in", tmp_path / "o") == (
        "2 of 3 inputs record no usable pixel size (first: a.tif): their objects tables are in "
        "pixels only; give pixel_size=UM for um columns, or record it in the "
        "file (Fiji: Image > Properties)"
    )


def test_the_line_names_the_fix_as_the_command_line_gives_it(tmp_path, caplog):
    """A notebook was told "give --pixel-size UM (pixel_size=)": each caller its own form."""
    from unetlab.errors import command_spelling

    png = _bare_png(tmp_path / "png")
    with command_spelling():
        said = _said(caplog, png, tmp_path / "o")
    assert said.endswith("; give --pixel-size UM for um columns"), said
    assert "pixel_size=" not in said


def test_a_pixel_size_refused_as_implausible_is_no_usable_one(tmp_path, caplog):
    """s54: a TIFF whose pixel size was read but refused (2 pixels per inch: 12700 um, its
    own warning says so) was counted among the inputs that "record no pixel size"."""
    image = np.asarray(Image.open(_bare_png(tmp_path / "png")))
    (tmp_path / "in").mkdir()
    inch = {"resolution": (2.0, 2.0), "resolutionunit": "INCH"}
    tifffile.imwrite(tmp_path / "in" / "inch.tif", image, **inch)
    said = _said(caplog, tmp_path / "in", tmp_path / "o")
    assert "is outside what microscopes and scanners sample" in caplog.text  # refused, said
    assert said.startswith("inch.tif records no usable pixel size: "), said
