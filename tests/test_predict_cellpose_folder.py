"""A cellpose data set given to predict: its masks (X_masks.png beside X.tif) are not
predicted as images (audit s33 migrant)."""

from __future__ import annotations

import logging

import numpy as np

from unetlab.data.io import write_png, write_tiff
from unetlab.inference.folders import find_inputs


def test_masks_beside_their_images_are_left_out_and_said(tmp_path, caplog):
    for stem in ("a", "b"):
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
        write_png(tmp_path / f"{stem}_masks.png", np.ones((8, 8), np.uint16))
    write_png(tmp_path / "lone_masks.png", np.ones((8, 8), np.uint8))  # no image: predicted
    with caplog.at_level(logging.WARNING):
        files = find_inputs(tmp_path)
    assert [f.name for f in files] == ["a.tif", "b.tif", "lone_masks.png"]
    assert "2 masks beside their images (a_masks.png, b_masks.png)" in caplog.text
    assert [f.name for f in find_inputs(tmp_path / "a_masks.png")] == ["a_masks.png"]


def test_the_masks_line_is_said_once_where_the_folder_is_listed_twice(tmp_path, caplog):
    """predict lists a folder more than once a command: the line was said twice (audit s39
    audit2, a folder of X.tif beside X_cp_masks.png)."""
    write_tiff(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "a_cp_masks.png", np.ones((8, 8), np.uint16))
    with caplog.at_level(logging.WARNING):
        find_inputs(tmp_path)
        find_inputs(tmp_path)
    assert caplog.text.count("1 mask beside their images (a_cp_masks.png)") == 1
