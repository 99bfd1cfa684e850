"""A DICOM CT series (a folder of one file a slice, from a hospital PACS) read as one volume:
slices by position along the normal, not by file name; Hounsfield units; spacing and the
affine its label volumes are written with (3D Slicer and ITK-SNAP overlay them)."""

import builtins
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from tests.dicom_writer import ct_volume, save, write_series
from unetlab.data.dicom import (
    NEEDS_PYDICOM,
    is_dicom_series,
    mask_geometry_line,
    read_series,
    series_header,
)
from unetlab.data.nifti import read_header, read_volume, write_labels_at
from unetlab.errors import ImageReadError

pytest.importorskip("pydicom", reason="pydicom is not installed (optional: unetlab[dicom])")


@pytest.fixture
def series(tmp_path):
    hu, labels = ct_volume(slices=10)
    write_series(tmp_path / "CT_1", hu, names="IM{:04d}")  # no ending, shuffled numbers
    return tmp_path / "CT_1", hu, labels


def test_the_slices_are_in_position_order_not_file_order_in_hounsfield_units(series):
    folder, hu, _ = series
    volume = read_series(folder)
    assert volume.dtype == np.int16
    np.testing.assert_array_equal(volume, hu)  # -1000 air, not 24 stored


def test_spacing_and_affine_come_from_positions_and_pixel_spacing(series):
    head = series_header(series[0])
    assert head.shape == (10, 64, 64) and head.modality == "CT"
    assert head.spacing == pytest.approx((2.5, 0.7, 0.8))
    # LPS (-20, -30, 100) is RAS (20, 30, 100); x and y run to L and P, -x and -y of RAS
    expected = np.array([[-0.8, 0, 0, 20], [0, -0.7, 0, 30], [0, 0, 2.5, 100], [0, 0, 0, 1]])
    np.testing.assert_allclose(head.affine, expected)


def test_slices_stored_head_first_are_ordered_along_the_normal(tmp_path):
    hu, _ = ct_volume(slices=8)
    write_series(tmp_path / "s", hu[::-1], spacing=(-2.0, 0.7, 0.8), origin=(0, 0, 50))
    np.testing.assert_array_equal(read_series(tmp_path / "s"), hu)
    assert series_header(tmp_path / "s").affine[2, 3] == pytest.approx(50 - 7 * 2.0)


def test_a_label_volume_written_with_the_affine_reads_back_over_the_series(series, tmp_path):
    folder, _, labels = series
    head = series_header(folder)
    out = write_labels_at(tmp_path / "CT_1.nii.gz", labels, head.affine)
    np.testing.assert_array_equal(read_volume(out, mask=True), labels)
    np.testing.assert_allclose(read_header(out).affine, head.affine, atol=1e-5)
    assert mask_geometry_line(head, out) is None


def test_the_qform_alone_gives_the_same_affine(series, tmp_path):
    """Readers that take the qform (a quaternion) over the sform find the same place."""
    folder, _, labels = series
    head = series_header(folder)
    raw = bytearray(read_header(write_labels_at(tmp_path / "a.nii", labels, head.affine)).raw)
    struct.pack_into("<h", raw, 254, 0)  # sform_code 0: the qform is the affine
    (tmp_path / "b.nii").write_bytes(bytes(raw) + b"\0" * 4 + b"\0" * labels.size)
    np.testing.assert_allclose(read_header(tmp_path / "b.nii").affine, head.affine, atol=1e-5)


def test_a_flipped_label_volume_is_said_not_to_lie_on_the_series(series, tmp_path):
    folder, _, labels = series
    head = series_header(folder)
    flipped = head.affine @ np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 9], [0, 0, 0, 1]])
    out = write_labels_at(tmp_path / "seg.nii.gz", labels[::-1], flipped)
    line = mask_geometry_line(head, out)
    assert "z reversed" in line and "origin" in line and "3D Slicer" in line
    assert "\n" not in line


def test_a_label_volume_of_another_size_is_said(series, tmp_path):
    folder, _, labels = series
    out = write_labels_at(tmp_path / "seg.nii.gz", labels[1:], series_header(folder).affine)
    assert "(9, 64, 64)" in mask_geometry_line(series_header(folder), out)


def test_a_gap_is_one_line_naming_the_slices(tmp_path):
    hu, _ = ct_volume(slices=10)
    write_series(tmp_path / "s", hu, skip=(4,))
    with pytest.raises(ImageReadError, match=r"slices 4 and 5 .* 5 mm apart: 1 gap") as e:
        series_header(tmp_path / "s")
    assert "\n" not in str(e.value)


def test_two_series_in_one_folder_are_named_and_one_can_be_picked(tmp_path):
    hu, _ = ct_volume(slices=8)
    write_series(tmp_path / "s", hu, names="a{:03d}.dcm")
    write_series(tmp_path / "s", hu[:6] + 1, description="COR", number=3, names="b{:03d}.dcm")
    with pytest.raises(ImageReadError, match="2 DICOM series, 2 'AX 2.5mm' .8 slices") as e:
        read_series(tmp_path / "s")
    assert "3 'COR' (6 slices" in str(e.value) and "folder of its own" in str(e.value)
    np.testing.assert_array_equal(read_series(tmp_path / "s", series="COR"), hu[:6] + 1)
    np.testing.assert_array_equal(read_series(tmp_path / "s", series="2"), hu)


def test_slices_of_mixed_sizes_are_one_line(tmp_path):
    hu, _ = ct_volume(slices=8)
    write_series(tmp_path / "s", hu, uid="1.2.3")
    other = write_series(tmp_path / "t", hu[:, :32, :32], origin=(0, 0, 200.0), uid="1.2.3")
    other[0].rename(tmp_path / "s" / "extra")
    with pytest.raises(ImageReadError, match=r"differ in size.*8 of 64x64.*1 of 32x32"):
        series_header(tmp_path / "s")


def test_a_compressed_series_without_a_decoder_is_one_line(tmp_path, monkeypatch):
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLSLossless

    hu, _ = ct_volume(slices=2)
    files = write_series(tmp_path / "s", hu)
    import pydicom

    for f in files:  # stored as JPEG-LS (its bytes need not decode: no decoder is asked)
        ds = pydicom.dcmread(f)
        ds.file_meta.TransferSyntaxUID = JPEGLSLossless
        ds.PixelData = encapsulate([b"\xff\xd8" + b"\0" * 30])
        ds["PixelData"].VR = "OB"
        save(ds, f)
    try:
        _ = pydicom.dcmread(files[0]).pixel_array
        pytest.skip("a JPEG-LS decoder is installed here")
    except RuntimeError:
        pass
    with pytest.raises(ImageReadError, match="JPEG-LS Lossless.*pip install pylibjpeg"):
        read_series(tmp_path / "s")


def test_without_pydicom_a_dicom_folder_is_one_line(series, monkeypatch):
    real = builtins.__import__

    def no_pydicom(name, *args, **kwargs):
        if name == "pydicom" or name.startswith("pydicom."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pydicom)
    assert is_dicom_series(series[0])  # told apart without it
    with pytest.raises(ImageReadError, match=NEEDS_PYDICOM.replace("[", r"\[")):
        read_series(series[0])


def test_a_folder_of_other_files_is_no_series(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG" + b"\0" * 200)
    assert not is_dicom_series(tmp_path) and not is_dicom_series(tmp_path / "a.png")
    with pytest.raises(ImageReadError, match="holds no DICOM image"):
        read_series(tmp_path)


def test_a_series_header_is_read_once_while_the_folder_is_unchanged(series, monkeypatch):
    """s72 review: train asked the header once a slice, each time reading every file (208
    reads a file for 300 slices)."""
    import pydicom

    from unetlab.data.dicom import series_pixel_size

    real, reads = pydicom.dcmread, []
    monkeypatch.setattr(pydicom, "dcmread", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    folder, hu, _ = series
    time.sleep(0.05)  # a folder changed within a clock tick vouches for no later look
    for _ in range(5):
        assert series_header(folder).shape == (10, 64, 64)
        assert series_pixel_size(folder) == ((700.0, 800.0), 2500.0)
    assert len(reads) == 10
    write_series(folder, hu[:1], origin=(-20.0, -30.0, 125.0), names="Z{:04d}", uid="9.9")
    with pytest.raises(ImageReadError, match="2 DICOM series"):  # a file added: read again
        series_header(folder)


def test_a_damaged_slice_is_one_line_naming_it(tmp_path):
    hu, _ = ct_volume(slices=4)
    files = write_series(tmp_path / "s", hu)
    raw = files[1].read_bytes()
    files[1].write_bytes(raw[:-100])  # pixel data cut short
    with pytest.raises(ImageReadError, match=rf"{files[1].name}: .*export the series again"):
        read_series(tmp_path / "s")
    files[1].write_bytes(raw[:700])  # cut within its header: not passed over in silence
    with pytest.raises(ImageReadError, match=rf"{files[1].name}: its header ends before"):
        read_series(tmp_path / "s")


def test_dicom_files_of_no_image_are_passed_over_and_named(tmp_path, caplog):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    hu, _ = ct_volume(slices=4)
    write_series(tmp_path / "s", hu)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    meta.MediaStorageSOPInstanceUID, meta.TransferSyntaxUID = generate_uid(), ExplicitVRLittleEndian
    report = Dataset()
    report.file_meta, report.SOPClassUID = meta, meta.MediaStorageSOPClassUID
    save(report, tmp_path / "s" / "AAAREPORT")
    with caplog.at_level("WARNING"):
        np.testing.assert_array_equal(read_series(tmp_path / "s"), hu)
    assert "AAAREPORT (Basic Text SR Storage)" in caplog.text


def test_a_tilted_gantry_is_refused_naming_the_angle(tmp_path):
    hu, _ = ct_volume(slices=8)
    tilt = np.radians(15)
    write_series(tmp_path / "s", hu, step=(0, 2.5 * np.sin(tilt), 2.5 * np.cos(tilt)))
    with pytest.raises(ImageReadError, match=r"15.0 degrees off their normal.*dcm2niix") as e:
        series_header(tmp_path / "s")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("how", ["turned 4 degrees", "z 2.56 mm, not 2.5"])
def test_a_label_volume_turned_or_rescaled_is_refused(tmp_path, how):
    """s72 review: a tenth of the spacing an affine column let a mask turned 4 degrees or
    0.06 mm a slice off through (its far corner 4.7 mm, 1.4 mm off); corners are compared."""
    hu, labels = ct_volume(slices=24)
    write_series(tmp_path / "CT_1", hu)
    head = series_header(tmp_path / "CT_1")
    turn = np.eye(4)
    if how.startswith("turned"):
        c, s = np.cos(np.radians(4)), np.sin(np.radians(4))
        turn[:2, :2] = [[c, -s], [s, c]]
    else:
        turn[2, 2] = 2.56 / 2.5
    out = write_labels_at(tmp_path / "seg.nii.gz", labels, head.affine @ turn)
    assert "voxels off" in mask_geometry_line(head, out)
    nudged = head.affine.copy()
    nudged[:3, 3] += 0.2 * np.array(head.spacing[::-1])  # a fifth of a voxel: still on it
    assert mask_geometry_line(head, write_labels_at(tmp_path / "n.nii.gz", labels, nudged)) is None


def test_the_quaternion_formulas_match_scipy():
    from scipy.spatial.transform import Rotation

    from unetlab.data.nifti_affine import quaternion_turn, turn_quaternion

    turns = [*Rotation.random(200, random_state=0).as_matrix(), np.diag([1.0, -1, -1])]
    for turn in [*turns, np.diag([-1.0, 1, -1]), np.diag([-1.0, -1, 1])]:
        a, b, c, d = turn_quaternion(turn)
        assert a >= 0
        np.testing.assert_allclose(quaternion_turn(a, b, c, d), turn, atol=1e-12)
        np.testing.assert_allclose(Rotation.from_quat([b, c, d, a]).as_matrix(), turn, atol=1e-12)


# s72 review: each claim below was a mutant no test caught (all tests were axial, slope 1)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # rows to P, columns to F: the normal to R (LPS -x)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)  # rows to L, columns to F: the normal to P (LPS +y)


@pytest.mark.parametrize(
    "orientation, expected",
    [  # RAS columns: x (rows' direction x 0.8), y (columns' x 0.7), z (2.5 along the order)
        (SAGITTAL, [[0, 0, 2.5], [-0.8, 0, 0], [0, -0.7, 0]]),
        (CORONAL, [[-0.8, 0, 0], [0, 0, -2.5], [0, -0.7, 0]]),
    ],
    ids=["sagittal", "coronal"],
)
def test_sagittal_and_coronal_slices_are_ordered_along_their_normal(
    tmp_path, orientation, expected
):
    hu, _ = ct_volume(slices=8)
    cosines = np.asarray(orientation)
    normal = np.cross(cosines[:3], cosines[3:])
    write_series(tmp_path / "s", hu[::-1], orientation=orientation, step=-2.5 * normal)
    np.testing.assert_array_equal(read_series(tmp_path / "s"), hu)
    affine = series_header(tmp_path / "s").affine
    last_written = np.array([-20.0, -30.0, 100.0]) - 7 * 2.5 * normal  # LPS: the first slice
    np.testing.assert_allclose(affine[:3, :3], expected, atol=1e-9)
    start = last_written * [-1, -1, 1]  # RAS
    np.testing.assert_allclose(affine[:3, 3], start, atol=1e-9)


def test_each_slice_is_scaled_by_its_own_slope_and_intercept(tmp_path):
    hu, _ = ct_volume(slices=4)
    hu = hu - hu % 2  # stored as (hu + 1000) / 2: whole numbers
    write_series(tmp_path / "s", hu, rescale=(2, -1000))
    volume = read_series(tmp_path / "s")
    assert volume.dtype == np.int16
    np.testing.assert_array_equal(volume, hu)


@pytest.mark.parametrize("rescale, shift", [((0.5, -1024.5), 0.0), ((2, 0), 40000.0)])
def test_values_not_whole_or_beyond_int16_are_float32(tmp_path, rescale, shift):
    hu, _ = ct_volume(slices=4)
    hu = (hu - hu % 2).astype(np.float64) + shift  # stored whole: 2 hu + 2049; or hu / 2
    write_series(tmp_path / "s", hu, rescale=rescale)
    volume = read_series(tmp_path / "s")
    assert volume.dtype == np.float32
    np.testing.assert_array_equal(volume, hu.astype(np.float32))


def test_two_slices_at_one_position_are_one_line(tmp_path):
    import pydicom
    from pydicom.uid import generate_uid

    hu, _ = ct_volume(slices=4)
    files = write_series(tmp_path / "s", hu)
    ds = pydicom.dcmread(files[2])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    save(ds, tmp_path / "s" / "IM0099")
    with pytest.raises(ImageReadError, match="lie at the same position .*two acquisitions"):
        series_header(tmp_path / "s")


def test_a_slice_without_its_position_is_one_line(tmp_path):
    import pydicom

    hu, _ = ct_volume(slices=4)
    files = write_series(tmp_path / "s", hu)
    ds = pydicom.dcmread(files[1])
    del ds.ImagePositionPatient
    save(ds, files[1])
    with pytest.raises(ImageReadError, match=rf"{files[1].name}: a DICOM slice without Image"):
        series_header(tmp_path / "s")


def test_a_dicomdir_beside_the_slices_is_passed_over(tmp_path):
    hu, _ = ct_volume(slices=4)
    files = write_series(tmp_path / "s", hu)
    (tmp_path / "s" / "DICOMDIR").write_bytes(files[0].read_bytes())  # by its name
    np.testing.assert_array_equal(read_series(tmp_path / "s"), hu)


def test_a_series_is_ct_as_nifti_ct_is(series):
    """A series that states no Modality (type 1, yet a converter's may lack it) is judged by
    its Hounsfield range, as a NIfTI volume is."""
    from types import SimpleNamespace

    import pydicom

    from unetlab.plan.normalization import computed_tomography

    for f in series[0].iterdir():
        ds = pydicom.dcmread(f)
        del ds.Modality
        save(ds, f)
    facts = SimpleNamespace(image=series[0], channels=1, low=[-1000.0], high=[80.0], dtype="int16")
    line = computed_tomography(SimpleNamespace(pairs=[facts]))
    assert line.startswith("CT-like: 1 of 1 images are DICOM int16 of -1000 to 80")


def test_a_series_sizes_are_shown_in_mm_as_a_nifti_volume_s(series):
    """A CT's objects tables and size lines in mm (PixelSpacing is mm), as NIfTI's: not
    area_um2 of 1e5 a pixel."""
    from unetlab.data.tiffmeta import read_pixel_size, shown_unit

    pixel = read_pixel_size(series[0])
    assert pixel.size == (700.0, 800.0) and pixel.shown == "mm"
    assert shown_unit(series[0], None) == "mm"


def test_a_series_modality_ct_is_a_statement_of_ct_as_dataset_json_s(tmp_path):
    """s72's notes: a CT series cropped to the body (no air: its 0.5th percentile at -200
    HU) was no CT by its range, though every slice says ``Modality: CT``."""
    from types import SimpleNamespace

    from unetlab.plan.normalization import computed_tomography

    hu, _ = ct_volume(slices=4)
    write_series(tmp_path / "s", np.maximum(hu, -200))
    facts = SimpleNamespace(
        image=tmp_path / "s", channels=1, low=[-200.0], high=[80.0], dtype="int16"
    )
    line = computed_tomography(SimpleNamespace(pairs=[facts]))
    assert line.startswith("CT (each DICOM series' Modality says so): clipped")


def _ct_line_of_modality(folder: Path, modality: str) -> str:
    """The plan's CT line for a series of -1000 to 80 HU whose slices say ``modality``."""
    from types import SimpleNamespace

    import pydicom

    from unetlab.plan.normalization import computed_tomography

    hu, _ = ct_volume(slices=4)
    write_series(folder, hu)
    for f in folder.iterdir():
        ds = pydicom.dcmread(f)
        ds.Modality = modality
        save(ds, f)
    facts = SimpleNamespace(image=folder, channels=1, low=[-1000.0], high=[80.0], dtype="int16")
    return computed_tomography(SimpleNamespace(pairs=[facts]))


@pytest.mark.parametrize("modality", ["MR", "PT"])
def test_a_series_of_another_modality_is_no_ct_whatever_its_range(tmp_path, modality):
    # an MR series stored as CT's would read as HU; PET's SUV are no HU
    assert _ct_line_of_modality(tmp_path / "s", modality) == ""


@pytest.mark.parametrize("modality", ["OT", "SC"])
def test_a_series_of_other_modality_is_judged_by_its_range(tmp_path, modality):
    """s73 review: OT ("other", what ITK and SimpleITK write), SC were taken as no CT: the
    same -1000 to 80 HU series was CT-like on main, its normalisation per image here."""
    line = _ct_line_of_modality(tmp_path / "s", modality)
    assert line.startswith("CT-like: 1 of 1 images are DICOM int16 of -1000 to 80")
