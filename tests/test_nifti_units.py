"""A NIfTI volume's objects tables in the unit of its header (xyzt_units): a CT's mm, not µm
(s72: 0.8 x 0.8 x 2.5 mm voxels gave volume_um3 1.6e9 a voxel, area_um2 640000 a pixel)."""

import csv
import logging

import numpy as np
import pytest

from tests.test_nifti import write_nifti
from tests.test_objects_3d import _ball_stack
from tests.test_predict_objects import local_net
from unetlab.data.tiffmeta import given_sizes, read_pixel_size
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.measure import in_unit, named_channels


def test_in_unit_scales_each_power_and_keeps_the_rest():
    table = {
        "id": np.array([1, 2]),
        "z_um": np.array([0.0, 2500.0]),
        "area_um2": np.array([640000.0, 1280000.0]),
        "volume_um3": np.array([1.6e9, 3.2e9]),
        "centroid_x_um": np.array([800.0, 1600.0]),
        "area": np.array([1, 2]),
        "mean_intensity_0": np.array([5.0, 6.0]),
        "mean_intensity_1": np.array([7.0, 8.0]),
    }
    out = named_channels(in_unit(table, "mm"), ["um", "CT"])  # a channel named "um": kept
    assert list(out) == [
        *("id", "z_mm", "area_mm2", "volume_mm3", "centroid_x_mm", "area"),
        *("mean_intensity_um", "mean_intensity_CT"),
    ]
    assert out["mean_intensity_um"] is table["mean_intensity_0"]
    np.testing.assert_allclose(out["z_mm"], [0.0, 2.5])
    np.testing.assert_allclose(out["area_mm2"], [0.64, 1.28])
    np.testing.assert_allclose(out["volume_mm3"], [1.6, 3.2])
    np.testing.assert_allclose(out["centroid_x_mm"], [0.8, 1.6])
    assert in_unit(table, "um") is table


@pytest.mark.parametrize(
    ("units", "shown"), [(10, "mm"), (2, "mm"), (1, "mm"), (3, "um"), (0, "mm")]
)
def test_header_unit_is_the_tables_unit(tmp_path, units, shown):
    path = write_nifti(tmp_path / "ct.nii.gz", np.zeros((4, 4, 3), np.int16), units=units)
    pixel = read_pixel_size(path)
    assert pixel.unit == "um" and pixel.shown == shown  # sizes in µm, shown in the header's
    assert given_sizes(pixel, "ct", 500.0, None).shown == shown  # --pixel-size: µm, kept


def test_a_header_of_no_unit_is_read_in_mm_and_said_once(tmp_path, caplog):
    """s72 review: xyzt_units 0 (nibabel's default header) recorded no pixel size: predict
    asked for --pixel-size in µm and wrote area_um2 of 1e8 a pixel for 0.8 mm ones. Read as
    mm, as ITK and nnU-Net read it, said in one line for all such volumes."""
    ball = _ball_stack().transpose(2, 1, 0)
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        write_nifti(tmp_path / "in" / f"{name}.nii.gz", ball, spacing=(0.8, 0.8, 2.5))
    with caplog.at_level(logging.INFO):
        predict_folder(local_net(), tmp_path / "in", tmp_path / "o", objects=True)
    said = [r.getMessage() for r in caplog.records if "names no unit" in r.getMessage()]
    assert said == [
        "a.nii.gz: its NIfTI header names no unit (xyzt_units 0): its voxel size (pixdim 0.8 x "
        "0.8) read as mm, as ITK and nnU-Net read it; set xyzt_units where it is in another "
        "unit"
    ]
    with open(tmp_path / "o" / "a_objects.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and not [c for c in rows[0] if "_um" in c]
    assert all(float(r["area_mm2"]) == pytest.approx(0.64 * int(r["area"])) for r in rows)
    assert all(float(r["z_mm"]) == 2.5 * int(r["z"]) for r in rows)


def test_objects_3d_of_a_ct_in_mm3(tmp_path):
    """--objects-3d of a CT in mm: volume_mm3 and centroid_*_mm, no µm column."""
    balls = _ball_stack().transpose(2, 1, 0)  # (X, Y, Z) as NIfTI stores it
    path = write_nifti(tmp_path / "ct.nii.gz", balls, spacing=(0.8, 0.8, 2.5), units=10)
    predict_file(local_net(), path, tmp_path / "o", objects=True, objects_3d=True)
    with open(tmp_path / "o" / "ct_objects.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and not [c for c in rows[0] if "_um" in c]
    for row in rows:
        assert float(row["volume_mm3"]) == pytest.approx(int(row["volume"]) * 1.6)
        assert float(row["centroid_z_mm"]) == pytest.approx(float(row["centroid_z"]) * 2.5)
        assert float(row["centroid_y_mm"]) == pytest.approx(float(row["centroid_y"]) * 0.8)


def test_objects_3d_summary_of_a_ct_in_mm3(tmp_path):
    """--objects-3d of a CT folder: its objects_summary.csv gives total_volume_mm3 and
    mean_volume_mm3 (a summary that knew only _um3 columns left them out)."""
    balls = _ball_stack().transpose(2, 1, 0)
    (tmp_path / "in").mkdir()
    write_nifti(tmp_path / "in" / "ct.nii.gz", balls, spacing=(0.8, 0.8, 2.5), units=10)
    predict_folder(local_net(), tmp_path / "in", tmp_path / "o", objects=True, objects_3d=True)
    with open(tmp_path / "o" / "objects_summary.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["total_volume_mm3"]) == pytest.approx(int(row["total_volume"]) * 1.6)
    assert float(row["mean_volume_mm3"]) == pytest.approx(float(row["mean_volume"]) * 1.6)
    assert "total_volume_um3" not in row
