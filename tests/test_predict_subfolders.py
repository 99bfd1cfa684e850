"""predict names the sub-folders of images it leaves out, and the masks X_mask.png beside
X.tif are no images to predict (audit s34 messy 1 and 5)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from unetlab.data.io import write_png, write_tiff
from unetlab.data.read_notes import read_notes
from unetlab.errors import UnetlabError
from unetlab.inference.folders import find_inputs


def _image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_tiff(path, np.zeros((4, 4), np.uint8))


def test_sub_folders_left_out_are_named_with_the_pattern(tmp_path, caplog):
    for name in ("a.tif", "sub/b.tif", "sub/deeper/c.tif"):
        _image(tmp_path / name)
    with caplog.at_level(logging.WARNING), read_notes():
        assert find_inputs(tmp_path) == [tmp_path / "a.tif"]
    assert f"{tmp_path}/: sub/ (2 image files) is not read" in caplog.text
    assert "recursively; use predict_tree to predict them" in caplog.text  # Python's (s56)
    assert "--recursive" not in caplog.text
    assert "**" not in caplog.text  # a glob took an earlier run's outputs in the tree (s39)
    assert len(find_inputs(str(tmp_path / "**" / "*"))) == 3


def test_a_folder_of_sub_folders_names_them(tmp_path):
    _image(tmp_path / "day1" / "a.tif")
    _image(tmp_path / "day2" / "b.tif")
    with pytest.raises(UnetlabError, match=r"no images found in .*day1/ \(1 image file\), day2/"):
        find_inputs(tmp_path)


def test_a_data_root_names_its_images_folder(tmp_path):
    _image(tmp_path / "images" / "a.tif")
    _image(tmp_path / "masks" / "a.tif")
    with pytest.raises(UnetlabError, match=r"a data set: give .*images to predict its images"):
        find_inputs(tmp_path)


def test_x_mask_files_beside_their_images_are_not_predicted(tmp_path):
    for stem in ("a", "b"):
        _image(tmp_path / f"{stem}.tif")
        write_png(tmp_path / f"{stem}_mask.png", np.zeros((4, 4), np.uint8))
    write_png(tmp_path / "a_label.png", np.zeros((4, 4), np.uint8))
    assert find_inputs(tmp_path) == [tmp_path / "a.tif", tmp_path / "b.tif"]


def test_a_glob_and_recursive_pass_over_earlier_outputs_in_the_tree(tmp_path, caplog):
    """'drop/**/*' read the labels of an earlier run's output folder inside the tree as
    images (s39); --recursive passed over them already."""
    from tests.test_predict_objects import local_net, nuclei_image
    from unetlab.inference.folders import predict_folder
    from unetlab.inference.tree import tree_folders

    drop = tmp_path / "drop"
    for name in ("a/x.tif", "b/y.tif"):
        (drop / name).parent.mkdir(parents=True)
        write_tiff(drop / name, nuclei_image(40, 48))
    predict_folder(local_net(), drop / "a", drop / "a" / "pred")
    assert (drop / "a" / "pred" / "x.png").is_file()
    with caplog.at_level(logging.WARNING), read_notes():
        assert find_inputs(str(drop / "**" / "*")) == [drop / "a" / "x.tif", drop / "b" / "y.tif"]
    assert f"'{drop}/**/*': 1 file it matches is an output unetlab wrote (x.png;" in caplog.text
    assert find_inputs(drop / "a" / "pred" / "x.png") == [drop / "a" / "pred" / "x.png"]  # named
    found = tree_folders(drop, tmp_path / "out")
    assert found == [(Path("a"), [drop / "a" / "x.tif"]), (Path("b"), [drop / "b" / "y.tif"])]
