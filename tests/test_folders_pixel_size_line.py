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

LINE = "records no pixel size"


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
    return next(r.getMessage() for r in caplog.records if "records no pixel size" in r.getMessage())


def test_the_line_is_short_and_names_the_fix(tmp_path, caplog):
    """It was some 420 characters naming GeoTIFF, ImageJ, OME and FEI/Zeiss SEM metadata, a
    map's CRS and a Python call, for a PNG too: one short line naming --pixel-size UM, and
    for a TIFF where Fiji records one."""
    png = _field(tmp_path / "png")
    (tmp_path / "png" / "field.pgw").unlink()
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), png, tmp_path / "o", **HOW)
    assert _line(caplog) == (
        "field.png records no pixel size: its objects table is in pixels only; give "
        "--pixel-size UM (pixel_size=) for um columns"
    )
    caplog.clear()
    (tmp_path / "tif").mkdir()
    tifffile.imwrite(tmp_path / "tif" / "field.tif", np.asarray(Image.open(png)))
    with caplog.at_level(logging.INFO):
        unetlab.predict_folder(three_class_net(), tmp_path / "tif", tmp_path / "p", **HOW)
    assert _line(caplog) == (
        "field.tif records no pixel size: its objects table is in pixels only; give "
        "--pixel-size UM (pixel_size=) for um columns, or record it in the file (Fiji: "
        "Image > Properties)"
    )
