"""A cellpose data set given to predict: its masks (X_masks.png beside X.tif) are not
predicted as images (audit s33 migrant)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.data.io import write_png, write_tiff
from unetlab.errors import UnetlabError
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


def _seg_file(path, masks=None):
    """A cellpose GUI's save: a pickled dict of its masks beside its image."""
    masks = np.ones((8, 8), np.uint16) if masks is None else masks
    np.save(path, {"masks": masks, "outlines": masks * 0, "filename": "x"}, allow_pickle=True)


def test_a_cellpose_folder_predicts_its_images_and_names_its_seg_files(tmp_path, caplog):
    """A cellpose folder (X.tif beside its GUI's X_seg.npy) said "2 masks beside their images
    ... give the file itself to predict one", and the file given failed (s72 notes): the
    _seg.npy files are left out in one line that names their images, none of them an input."""
    for stem in ("a", "b"):
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
        _seg_file(tmp_path / f"{stem}_seg.npy")
    _seg_file(tmp_path / "lone_seg.npy")  # no image: masks still, never an input
    with caplog.at_level(logging.WARNING):
        files = find_inputs(tmp_path)
        globbed = find_inputs(str(tmp_path / "*"))
    assert [f.name for f in files] == [f.name for f in globbed] == ["a.tif", "b.tif"]
    assert (
        "3 cellpose masks files (a_seg.npy, b_seg.npy, ...) not predicted: they hold the masks "
        "of a.tif, b.tif, ..., no image" in caplog.text
    )
    assert "give the file itself" not in caplog.text


def test_a_seg_file_given_alone_names_its_image(tmp_path):
    """``predict --input X_seg.npy`` failed as an unreadable image; it names the image to give."""
    write_tiff(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    _seg_file(tmp_path / "a_seg.npy")
    _seg_file(tmp_path / "lone_seg.npy")
    with pytest.raises(UnetlabError, match=r"a_seg.npy: cellpose's masks file of a.tif, .* give "):
        find_inputs(tmp_path / "a_seg.npy")
    with pytest.raises(UnetlabError, match=r"masks of lone.tif \(or .png\) beside it; put that"):
        find_inputs(tmp_path / "lone_seg.npy")


def test_a_seg_files_image_is_one_predict_reads_not_any_file_of_its_stem(tmp_path):
    """s73 review 4: beside a.tif, a.csv and a_seg.npy, the line said "give .../a.csv"."""
    write_tiff(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    (tmp_path / "a.csv").write_text("id,area\n")
    _seg_file(tmp_path / "a_seg.npy")
    with pytest.raises(UnetlabError, match=r"masks file of a.tif, .* give .*a.tif to predict"):
        find_inputs(tmp_path / "a_seg.npy")


def test_a_numeric_array_named_seg_npy_is_an_image_still(tmp_path, caplog):
    """s73 review 5: numseg/cells_seg.npy of numbers (no cellpose pickle) was predicted on
    main; it was left out as a masks file, then "no images found"."""
    np.save(tmp_path / "cells_seg.npy", np.zeros((8, 8), np.uint8))
    with caplog.at_level(logging.WARNING):
        assert [f.name for f in find_inputs(tmp_path)] == ["cells_seg.npy"]
        assert [f.name for f in find_inputs(tmp_path / "cells_seg.npy")] == ["cells_seg.npy"]
    assert "cellpose masks file" not in caplog.text


def test_the_seg_files_line_names_their_folder_not_the_first_inputs(tmp_path, caplog):
    """s73 review 9: find_inputs(['npyin/t.tif', 'new/a0_seg.npy']) said "npyin/: 1 cellpose
    masks file (a0_seg.npy)"."""
    for folder in ("npyin", "new"):
        (tmp_path / folder).mkdir()
    write_tiff(tmp_path / "npyin" / "t.tif", np.zeros((8, 8), np.uint8))
    _seg_file(tmp_path / "new" / "a0_seg.npy")
    with caplog.at_level(logging.WARNING):
        find_inputs([tmp_path / "npyin" / "t.tif", tmp_path / "new" / "a0_seg.npy"])
    assert f"{tmp_path / 'new'}/: 1 cellpose masks file (a0_seg.npy)" in caplog.text
