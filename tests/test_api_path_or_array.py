"""A file's path given where the Python API takes pixels, and an array where it takes a path:
one line naming what to pass (s52 badinput), not numpy's "image of shape ()" nor pathlib's
"expected str, bytes or os.PathLike object"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

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
    with pytest.raises(UnetlabError, match=f"^inputs must be .* not list holding ndarray{fix}"):
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


def _series(files):
    return pytest.importorskip("pandas").Series(files)


@pytest.mark.parametrize(
    "kind",
    [set, np.array, _series, lambda files: dict.fromkeys(files).keys(), lambda files: iter(files)],
    ids=["set", "ndarray of str", "pandas Series", "dict keys", "generator"],
)
def test_predict_folder_takes_any_iterable_of_paths(tmp_path, kind):
    """s52 fix1: a set, a numpy array of str, a Series, dict keys and a generator (read
    once, by the check and then the search) were refused as arrays."""
    for name in ("a", "b"):
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / f"{name}.png")
    files = sorted(str(p) for p in tmp_path.glob("*.png"))
    net = UNet(1, 2, depth=2, base_channels=4).eval()
    result = predict_folder(net, kind(files), tmp_path / "out", progress=False)
    assert sorted(p.name for p in result.written) == ["a.png", "b.png"]


def test_an_array_s_fix_is_given_for_arrays_only(tmp_path):
    """s52 fix1: None, a list (predict_tree's root) or a list holding None got 'an array is
    predicted by unetlab.predict_image'; they are named, with what a path is."""
    net, path = UNet(1, 2, depth=2, base_channels=4), r" \(a str or pathlib\.Path\), not "
    with pytest.raises(UnetlabError, match=f"^out_dir must be a folder's path{path}None$"):
        predict_file(net, tmp_path / "a.tif", None)
    with pytest.raises(UnetlabError, match=f"^root must be a folder's path{path}list$"):
        predict_tree(net, [tmp_path], tmp_path / "out")
    with pytest.raises(
        UnetlabError,
        match=r"^inputs must be .*\(a str or pathlib\.Path\), or an iterable of them, not None$",
    ):
        predict_folder(net, None, tmp_path / "out")
    with pytest.raises(UnetlabError, match=r"^inputs must be .*, not list holding int$"):
        predict_folder(net, [tmp_path, 3], tmp_path / "out")


def test_a_0d_array_of_str_is_one_path_and_an_empty_iterable_is_named(tmp_path):
    """s52 review3: np.array("a.png") raised numpy's 'iteration over a 0-d array'; an empty
    set or glob said 'no images found in ' (naming nothing)."""
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "a.png")
    net = UNet(1, 2, depth=2, base_channels=4).eval()
    result = predict_folder(net, np.array(str(tmp_path / "a.png")), tmp_path / "out")
    assert [p.name for p in result.written] == ["a.png"]
    for empty, name in ((set(), "set"), (tmp_path.glob("*.tif"), "generator"), ([], "list")):
        with pytest.raises(UnetlabError, match=f"an iterable of them, not an empty {name}$"):
            predict_folder(net, empty, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_a_data_frame_of_inputs_is_refused_naming_its_column_of_paths(tmp_path):
    """s53 badinput3: a DataFrame was iterated by its column names, read as paths
    ("path: no such file or folder")."""
    pd = pytest.importorskip("pandas")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "a.png")
    table = pd.DataFrame({"group": [1], "image": [str(tmp_path / "a.png")]})
    net = UNet(1, 2, depth=2, base_channels=4).eval()
    with pytest.raises(
        UnetlabError, match=r"not a DataFrame .*column of paths, e\.g\. df\['image'\]$"
    ):
        predict_folder(net, table, tmp_path / "out")
    # a table made from a list: its column is 0, an int (KeyError '0'; reviewB s53)
    with pytest.raises(UnetlabError, match=r"e\.g\. df\[0\]$"):
        predict_folder(net, pd.DataFrame([str(tmp_path / "a.png")]), tmp_path / "out")
    assert not (tmp_path / "out").exists()
