"""The line that an input records no pixel size (its objects table in pixels only) is not
said for a PNG that its world file and a CRS in metres place: its table is in metres
(patch_gis2_folders_world_file_metres, in inference/folders.py)."""

import logging

import unetlab
from tests.test_gis_placed import HOW, UTM_WKT1, _field
from tests.test_objects_classes import three_class_net

LINE = "records no pixel size unetlab uses"


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
