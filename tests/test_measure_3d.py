"""measure_objects(..., objects_3d=True) of the objects TIFF predict --objects-3d wrote gives
predict's table, one row per 3-D object (s50: it measured the ids plane by plane, a row per
plane per object, though the README promised the same table for any label image)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from tests.test_objects_3d import _ball_stack, _write
from tests.test_predict_objects import local_net
from unetlab import measure_objects
from unetlab.data.io import write_csv
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file


@pytest.mark.parametrize("axes", ["ZYX", "TZYX"])
def test_3d_objects_measure_as_predicts_table(tmp_path, axes):
    stack = _ball_stack((9, 56, 72))
    image = np.stack([stack, stack[:, :, ::-1]]) if axes == "TZYX" else stack
    _write(tmp_path / "s.tif", image, axes, finterval=30)  # pixel 0.5 µm, planes 1 µm apart
    predict_file(local_net(), tmp_path / "s.tif", tmp_path / "o", objects=True, objects_3d=True)
    with tifffile.TiffFile(tmp_path / "o" / "s_objects.tif") as tif:
        ids, read_as = tif.asarray(), tif.series[0].axes
    assert read_as == axes
    table = measure_objects(
        ids, image, pixel_size=0.5, axes=axes, frame_interval=30, z_spacing=1.0, objects_3d=True
    )
    write_csv(tmp_path / "again.csv", table)
    want = (tmp_path / "o" / "s_objects.csv").read_text()
    assert "volume_um3" in want and want.count("\n") > 4
    # predict's table ends with image, the file's name (inference.table_extras)
    lines = [line.rsplit(",", 1)[0] for line in want.splitlines()]
    assert (tmp_path / "again.csv").read_text() == "".join(f"{line}\n" for line in lines)
    # the file's path alone: its axes, sizes, frame interval and record (objects_3d)
    write_csv(tmp_path / "file.csv", measure_objects(tmp_path / "o" / "s_objects.tif", image))
    assert (tmp_path / "file.csv").read_text() == (tmp_path / "again.csv").read_text()


def test_a_path_to_objects_per_plane_measures_by_plane_and_an_edited_one_says_so(tmp_path, caplog):
    _write(tmp_path / "s.tif", _ball_stack((5, 56, 72)), "ZYX")
    predict_file(local_net(), tmp_path / "s.tif", tmp_path / "o", objects=True)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        table = measure_objects(tmp_path / "o" / "s_objects.tif")
    assert caplog.text == ""  # predict's record: ids per plane
    want = (tmp_path / "o" / "s_objects.csv").read_text().splitlines()
    assert want[0].startswith("page,z,z_um,id,area,area_um2,")
    assert table["z_um"].tolist() == [float(line.split(",")[2]) for line in want[1:]]
    ids = tifffile.imread(tmp_path / "o" / "s_objects.tif")
    _write(tmp_path / "edited.tif", ids, "ZYX")  # saved again: no record
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = measure_objects(str(tmp_path / "edited.tif"))
    assert "plane by plane" in caplog.text and again["area"].tolist() == table["area"].tolist()
    with pytest.raises(UnetlabError, match="give another file's ids as an array"):
        measure_objects(tmp_path / "o" / "s_overlay.png")


def test_3d_objects_without_an_image_or_sizes_have_no_intensity_nor_um():
    ids = np.zeros((4, 10, 10), np.uint16)
    ids[1:3, 2:5, 2:5] = 7
    table = measure_objects(ids, objects_3d=True)
    assert table["id"].tolist() == [7] and table["volume"].tolist() == [18]
    assert table["planes"].tolist() == [2] and "mean_intensity" not in table
    assert not any(name.endswith("_um") or name.endswith("_um3") for name in table)
    movie = measure_objects(np.stack([ids, ids[:, ::-1]]), objects_3d=True)  # (T, Z, Y, X)
    assert movie["t"].tolist() == [0, 1] and movie["z_first"].tolist() == [1, 1]


def test_ids_with_a_z_axis_and_no_word_are_measured_by_plane_and_say_so(caplog):
    ids = np.zeros((3, 10, 10), np.uint16)
    ids[:, 2:5, 2:5] = 1
    with caplog.at_level(logging.INFO, logger="unetlab"):
        table = measure_objects(ids, axes="ZYX", z_spacing=1.0)
    assert table["z"].tolist() == [0, 1, 2]
    assert "plane by plane" in caplog.text and "objects_3d=True" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        measure_objects(ids, axes="ZYX", objects_3d=False)
        movie = measure_objects(ids, axes="TYX", frame_interval=5)  # frames: no line
    assert caplog.text == "" and movie["t_s"].tolist() == [0, 5, 10]


def test_3d_objects_of_a_movie_or_with_classes_are_refused_saying_why():
    ids = np.ones((3, 10, 10), np.uint16)
    with pytest.raises(UnetlabError, match=r"of axes 'TYX' \(a movie's frames are no planes\)"):
        measure_objects(ids, axes="TYX", objects_3d=True)
    with pytest.raises(UnetlabError, match=r"not \(10, 10\): drop objects_3d"):
        measure_objects(ids[0], objects_3d=True)
    with pytest.raises(UnetlabError, match="drop one of them"):
        measure_objects(ids, classes=np.ones_like(ids), objects_3d=True)


def test_3d_objects_refuse_a_z_spacing_without_pixel_size_as_predict_objects_does():
    """measure_objects(ids, z_spacing=1.0, objects_3d=True) dropped every µm column unsaid
    (and took a negative spacing), where predict_objects refuses it (s50 threedleft): the
    same one line from both."""
    import unetlab

    ids = np.zeros((5, 20, 20), np.uint16)
    ids[1:4, 5:10, 5:10] = 1
    said = r"^z_spacing= weighs the planes against the pixels: give pixel_size= too$"
    with pytest.raises(UnetlabError, match=said):
        measure_objects(ids, z_spacing=1.0, objects_3d=True)
    with pytest.raises(UnetlabError, match=said):
        unetlab.predict_objects(local_net(), _ball_stack(), objects_3d=True, z_spacing=1.0)
    with pytest.raises(UnetlabError, match=r"^z_spacing must be a positive number of µm, not -1"):
        measure_objects(ids, pixel_size=0.5, z_spacing=-1.0, objects_3d=True)
    table = measure_objects(ids, pixel_size=0.5, z_spacing=2.0, objects_3d=True)
    assert table["volume_um3"].tolist() == [75 * 0.5 * 0.5 * 2.0]
    plain = measure_objects(ids, axes="ZYX", z_spacing=1.0)  # by plane: z_um, as before
    assert "z_um" in plain


def test_measure_objects_gives_predict_objects_table_saturation_too():
    """measure_objects' table lacked predict's saturated_fraction, though README calls it the
    same table (s50 threedleft): an integer image gives it, a float one not, as predict's."""
    import unetlab

    image = _ball_stack()[6]
    image[10:20, 10:20] = 255  # a saturated patch
    ids, table = unetlab.predict_objects(local_net(), image)
    measured = measure_objects(ids, image)
    assert list(measured) == list(table) and list(table)[-1] == "saturated_fraction"
    for name in table:
        np.testing.assert_array_equal(measured[name], table[name], err_msg=name)
    assert measured["saturated_fraction"].max() > 0
    assert "saturated_fraction" not in measure_objects(ids, image.astype(np.float32))


@pytest.mark.parametrize(
    ("keywords", "said"),
    [
        (dict(axes="ZYX", z_spacing=-1.0), "z_spacing must be a positive number of µm, not -1.0"),
        (dict(axes="TYX", frame_interval=-5.0), "frame_interval must be a positive number of "),
        (dict(axes="TYX", frame_interval="5"), "frame_interval must be a positive number of "),
    ],
)
def test_steps_by_plane_that_are_no_positive_numbers_are_one_line(keywords, said):
    """Plane by plane, measure_objects gave z_um -1 and t_s -5 for negative steps (s50
    threedleft): one line, as with objects_3d=True."""
    ids = np.zeros((3, 10, 10), np.uint16)
    ids[1, 2:5, 2:5] = 1
    with pytest.raises(UnetlabError, match="^" + said):
        measure_objects(ids, **keywords)
    good = {k: abs(float(v)) if k != "axes" else v for k, v in keywords.items()}
    assert len(measure_objects(ids, **good)["id"]) == 1
