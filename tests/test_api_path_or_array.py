"""A file's path given where the Python API takes pixels, and an array where it takes a path:
one line naming what to pass (s52 badinput), not numpy's "image of shape ()" nor pathlib's
"expected str, bytes or os.PathLike object"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unetlab import UNet, UnetlabError, measure_objects, predict_file, predict_folder, predict_tree


@pytest.mark.parametrize("keyword", ["image", "classes"])
@pytest.mark.parametrize("kind", [str, Path])
def test_measure_objects_asks_for_pixels_where_a_path_is_given(keyword, kind):
    ids = np.zeros((16, 16), np.uint16)
    ids[2:6, 2:6] = 1
    given = {keyword: kind("cells.tif")}
    line = f"{keyword}= takes pixels, not the path 'cells.tif': read the file first, {keyword}="
    with pytest.raises(UnetlabError, match="^" + line + r"unetlab\.read_image\(path\)"):
        measure_objects(ids, **given)


def test_predict_folder_and_file_name_the_keyword_given_an_array(tmp_path):
    net, image = UNet(1, 2, depth=2, base_channels=4), np.zeros((16, 16), np.float32)
    fix = r": an array is predicted by unetlab\.predict_image"
    with pytest.raises(UnetlabError, match=f"^inputs must be a folder, file or glob.*ndarray{fix}"):
        predict_folder(net, image, tmp_path / "out")
    with pytest.raises(UnetlabError, match=f"^inputs must be .* not list{fix}"):
        predict_folder(net, [tmp_path, image], tmp_path / "out")
    with pytest.raises(UnetlabError, match=f"^out_dir must be a folder's path, not ndarray{fix}"):
        predict_folder(net, tmp_path, image)
    with pytest.raises(UnetlabError, match=f"^out_dir must be a folder's path, not ndarray{fix}"):
        predict_file(net, tmp_path / "a.tif", image)
    with pytest.raises(UnetlabError, match=f"^root must be a folder's path, not ndarray{fix}"):
        predict_tree(net, image, tmp_path / "out")
    with pytest.raises(UnetlabError, match=f"^out_dir must be a folder's path, not ndarray{fix}"):
        predict_tree(net, tmp_path, image)
    assert not any(tmp_path.iterdir())  # no output folder made
