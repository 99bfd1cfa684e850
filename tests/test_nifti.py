"""NIfTI-1 volumes (unetlab.data.nifti): read as (Z, Y, X) z-stacks, written back as label
volumes with the image's header. Files are written here by hand (``write_nifti``) from the
standard's header layout; nibabel, where installed, cross-checks the reading."""

import gzip
import struct

import numpy as np
import pytest

from unetlab.data.io import read_stack, stack_size
from unetlab.data.nifti import (
    is_nifti,
    nifti_case,
    nifti_pixel_size,
    nifti_stem,
    read_header,
    read_volume,
    write_labels_like,
)
from unetlab.errors import ImageReadError

CODES = {"u1": 2, "i2": 4, "i4": 8, "f4": 16, "f8": 64, "i1": 256, "u2": 512}


def write_nifti(path, xyz, *, spacing=(0.8, 0.8, 5.0), slope=0.0, inter=0.0, order="<", units=0):
    """``xyz`` (X, Y, Z[, T]) as a single-file NIfTI-1 (gzipped where ``path`` ends .gz),
    with an sform as a CT scanner's (x and y flipped: RAS from LPS); ``units`` its
    xyzt_units (0 unknown; 10 mm and s, as CT scanners write)."""
    xyz = np.asarray(xyz)
    h = bytearray(348)
    struct.pack_into(order + "i", h, 0, 348)
    struct.pack_into(order + "8h", h, 40, xyz.ndim, *xyz.shape, *([1] * (7 - xyz.ndim)))
    code = CODES[xyz.dtype.str[1:]]
    struct.pack_into(order + "2h", h, 70, code, xyz.dtype.itemsize * 8)
    struct.pack_into(order + "8f", h, 76, 1.0, *spacing, 1, 1, 1, 1)
    struct.pack_into(order + "3f", h, 108, 352.0, slope, inter)
    h[123] = units
    struct.pack_into(order + "2h", h, 252, 1, 1)
    struct.pack_into(order + "4f", h, 280, -spacing[0], 0, 0, 100.0)
    struct.pack_into(order + "4f", h, 296, 0, -spacing[1], 0, 120.0)
    struct.pack_into(order + "4f", h, 312, 0, 0, spacing[2], -50.0)
    h[344:348] = b"n+1\0"
    body = bytes(h) + b"\0" * 4 + xyz.astype(xyz.dtype.newbyteorder(order)).tobytes(order="F")
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)
    return path


def ct_volume(shape=(7, 5, 3), seed=0):
    """(X, Y, Z) int16 Hounsfield units."""
    return np.random.default_rng(seed).integers(-1024, 3000, shape).astype(np.int16)


@pytest.mark.parametrize("name", ["ct.nii", "ct.nii.gz", "CT.NII.GZ"])
def test_volume_reads_as_z_stack_of_slices(tmp_path, name):
    xyz = ct_volume()
    volume = read_volume(write_nifti(tmp_path / name, xyz))
    assert volume.shape == (3, 5, 7) and volume.dtype == np.int16
    np.testing.assert_array_equal(volume, xyz.transpose(2, 1, 0))
    assert volume[2, 4, 6] == xyz[6, 4, 2]  # voxel (i, j, k) is slice k, row j, column i


@pytest.mark.parametrize("kind", ["u1", "i1", "i2", "u2", "i4", "f4", "f8"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_datatypes_and_byte_orders(tmp_path, kind, order):
    xyz = (np.arange(2 * 3 * 4) % 100).reshape(2, 3, 4).astype(kind)
    volume = read_volume(write_nifti(tmp_path / "v.nii", xyz, order=order))
    assert volume.dtype == np.dtype(kind)
    np.testing.assert_array_equal(volume, xyz.transpose(2, 1, 0))


def test_scaling_applies_to_images_not_labels(tmp_path):
    stored = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    path = write_nifti(tmp_path / "v.nii.gz", stored, slope=2.0, inter=-1024.0)
    image = read_volume(path)
    assert image.dtype == np.float32
    np.testing.assert_array_equal(image, stored.transpose(2, 1, 0) * 2.0 - 1024)
    np.testing.assert_array_equal(read_volume(path, mask=True), stored.transpose(2, 1, 0))


def test_float_labels_read_as_integers(tmp_path):
    xyz = np.array([[[0.0, 1.0], [2.0, 0.0]]])  # MSD's labels are float64
    labels = read_volume(write_nifti(tmp_path / "l.nii.gz", xyz), mask=True)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, xyz.transpose(2, 1, 0))
    bad = write_nifti(tmp_path / "b.nii", np.array([[[0.0, 0.5]]]))
    with pytest.raises(ImageReadError, match="not whole numbers"):
        read_volume(bad, mask=True)


def test_four_d_volume_reads_as_channels(tmp_path):
    xyzc = np.arange(2 * 3 * 4 * 2, dtype=np.int16).reshape(2, 3, 4, 2)
    volume = read_volume(write_nifti(tmp_path / "mri.nii.gz", xyzc))
    assert volume.shape == (4, 3, 2, 2)
    np.testing.assert_array_equal(volume[..., 1], xyzc[..., 1].transpose(2, 1, 0))


def test_read_stack_and_stack_size_take_nifti(tmp_path):
    path = write_nifti(tmp_path / "ct.nii.gz", ct_volume())
    assert stack_size(path) == (3, 5, 7, 1)
    np.testing.assert_array_equal(read_stack(path), ct_volume().transpose(2, 1, 0))
    assert read_stack(path, mask=True).shape == (3, 5, 7)


@pytest.mark.parametrize(
    ("units", "order", "size"),
    [(10, "<", (700.0, 800.0, 5000.0)), (3, ">", (0.7, 0.8, 5.0)), (1, "<", (7e5, 8e5, 5e6))],
    ids=["mm", "um_big_endian", "m"],
)
def test_voxel_size_is_the_pixel_size(tmp_path, units, order, size):
    """pixdim in the unit xyzt_units names is the (y, x) pixel size and z spacing in µm of
    read_pixel_size and training's file_pixel_size (train said "none of the 5 training images
    record one"; the objects tables had no _um columns)."""
    from unetlab.data.fingerprint import file_pixel_size
    from unetlab.data.tiffmeta import PixelSize, read_pixel_size

    spacing = (0.8, 0.7, 5.0)
    path = write_nifti(
        tmp_path / "ct.nii.gz", ct_volume(), spacing=spacing, order=order, units=units
    )
    assert read_pixel_size(path) == PixelSize(size[:2], "um", size[2])
    assert file_pixel_size(path) == size[:2]


def test_unknown_units_are_mm_and_no_pixel_size_without_a_side(tmp_path):
    """Unknown units (0, nibabel's default header): mm, as ITK reads them (s72: no pixel
    size, so µm tables); a zero or NaN side: no pixel size; a 2-D volume: no z spacing."""
    unknown = write_nifti(tmp_path / "a.nii", ct_volume())
    assert nifti_pixel_size(unknown) == ((800.0, 800.0), 5000.0)
    for i, side in enumerate((0.0, float("nan"))):
        flat = write_nifti(tmp_path / f"{i}.nii", ct_volume(), spacing=(side, 1, 1), units=2)
        assert nifti_pixel_size(flat) is None
    two_d = write_nifti(tmp_path / "b.nii", ct_volume()[:, :, 0], units=2)
    assert nifti_pixel_size(two_d) == ((800.0, 800.0), None)


def test_names():
    assert is_nifti("a/b.nii.gz") and is_nifti("B.NII") and not is_nifti("b.gz")
    assert nifti_stem("x/spleen_2.nii.gz") == "spleen_2" and nifti_stem("A.NII") == "A"


def _bad(tmp_path, body: bytes, name="bad.nii.gz"):
    path = tmp_path / name
    path.write_bytes(body)
    with pytest.raises(ImageReadError) as caught:
        read_volume(path)
    line = str(caught.value)
    assert "\n" not in line and str(path) in line
    return line


def test_bad_files_one_line_each(tmp_path):
    good = write_nifti(tmp_path / "g.nii.gz", ct_volume((40, 40, 20))).read_bytes()
    assert "gzip data are cut off" in _bad(tmp_path, good[: len(good) // 2])
    assert "not a NIfTI-1" in _bad(tmp_path, gzip.compress(b"\x89PNG" + bytes(400)))
    plain = gzip.decompress(good)
    assert "cut off: its header gives 32,000 voxels" in _bad(tmp_path, plain[:1000], "c.nii")
    nifti2 = struct.pack("<i", 540) + bytes(600)
    assert "NIfTI-2" in _bad(tmp_path, nifti2, "two.nii")
    rgb = bytearray(plain)
    struct.pack_into("<h", rgb, 70, 128)
    assert "RGB24" in _bad(tmp_path, bytes(rgb), "rgb.nii")
    assert "0 bytes" in _bad(tmp_path, b"", "empty.nii")


def test_labels_written_with_the_image_header(tmp_path):
    image = write_nifti(tmp_path / "ct.nii.gz", ct_volume(), slope=1.0, inter=-1024.0)
    labels = np.random.default_rng(1).integers(0, 3, (3, 5, 7)).astype(np.int64)
    out = write_labels_like(tmp_path / "pred.nii.gz", labels, like=image)
    np.testing.assert_array_equal(read_volume(out, mask=True), labels)
    written, source = read_header(out), read_header(image)
    assert written.dtype == np.uint8 and (written.slope, written.inter) == (1.0, 0.0)
    assert written.raw[252:328] == source.raw[252:328]  # qform, sform: it overlays the image
    assert written.spacing == source.spacing
    with pytest.raises(ValueError, match="shape"):
        write_labels_like(tmp_path / "p2.nii.gz", labels[:2], like=image)


def test_nibabel_reads_as_unetlab(tmp_path):
    nib = pytest.importorskip("nibabel", reason="nibabel not installed: no cross-check")
    path = write_nifti(tmp_path / "ct.nii.gz", ct_volume(), slope=2.0, inter=1.0)
    theirs = np.asarray(nib.load(path).get_fdata(), np.float32).transpose(2, 1, 0)
    np.testing.assert_array_equal(read_volume(path), theirs)
    out = write_labels_like(tmp_path / "p.nii.gz", np.ones((3, 5, 7), np.uint8), like=path)
    np.testing.assert_array_equal(nib.load(out).affine, nib.load(path).affine)


@pytest.mark.parametrize("slope", [0.0, float("nan"), float("inf")])
def test_zero_or_not_finite_slope_reads_unscaled(tmp_path, slope):
    """nifti1.h scales by a non-zero slope; nibabel reads these voxels as stored."""
    stored = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    image = read_volume(write_nifti(tmp_path / "v.nii", stored, slope=slope, inter=-1024.0))
    assert image.dtype == np.int16
    np.testing.assert_array_equal(image, stored.transpose(2, 1, 0))


def test_not_finite_intercept_refused(tmp_path):
    path = write_nifti(tmp_path / "v.nii", ct_volume(), slope=1.0, inter=float("nan"))
    with pytest.raises(ImageReadError, match="scl_slope 1 and scl_inter nan"):
        read_volume(path)


@pytest.mark.parametrize("offset", [float("nan"), -352.0, 0.0, 348.0])
def test_damaged_vox_offset_one_line(tmp_path, offset):
    raw = bytearray(write_nifti(tmp_path / "g.nii", ct_volume()).read_bytes())
    struct.pack_into("<f", raw, 108, offset)
    assert "(vox_offset)" in _bad(tmp_path, bytes(raw), "o.nii")


@pytest.mark.parametrize("name", ["huge.nii", "huge.nii.gz"])
def test_header_of_more_voxels_than_the_file_holds(tmp_path, name):
    """A damaged header of 32767 ** 3 voxels on a small file: cut off, no MemoryError."""
    raw = bytearray(write_nifti(tmp_path / "g.nii", ct_volume()).read_bytes())
    struct.pack_into("<4h", raw, 40, 3, 32767, 32767, 32767)
    body = gzip.compress(bytes(raw)) if name.endswith(".gz") else bytes(raw)
    assert "cut off: its header gives 35,181,150,961,663 voxels" in _bad(tmp_path, body, name)


@pytest.mark.parametrize("top", [2, 300], ids=["uint8", "uint16"])
def test_labels_written_for_a_big_endian_image(tmp_path, top):
    image = write_nifti(tmp_path / "ct.nii.gz", ct_volume(), order=">")
    labels = np.random.default_rng(2).integers(0, top + 1, (3, 5, 7))
    labels[0, 0, 0] = top
    out = write_labels_like(tmp_path / "pred.nii.gz", labels, like=image)
    written, source = read_header(out), read_header(image)
    assert written.order == ">" and written.dtype == np.dtype(">u1" if top < 256 else ">u2")
    np.testing.assert_array_equal(read_volume(out, mask=True), labels)
    assert written.raw[252:328] == source.raw[252:328] and written.spacing == source.spacing


def test_case_names_drop_nnunet_first_channel():
    assert nifti_case("a/spleen_2_0000.nii.gz") == "spleen_2" == nifti_case("spleen_2.nii")
    assert (
        nifti_case("spleen_2_0001.nii.gz") == "spleen_2_0001" and nifti_case("_0000.nii") == "_0000"
    )


def test_pins_of_the_review_mutants(tmp_path):
    """Behaviour no test caught a change of (review s70, pins: they pass on the code before
    the fix round too): a label header's intent and display range, gzip found by content,
    a 5-D volume refused, float labels out of uint8's range as int32, mask_stem's NIfTI
    names, case_of taking _0000 off only where it names a label volume."""
    from pathlib import Path

    from unetlab.data.decathlon import case_of
    from unetlab.data.io import mask_stem

    image = write_nifti(tmp_path / "ct.nii.gz", ct_volume())
    head = read_header(write_labels_like(tmp_path / "p.nii", np.ones((3, 5, 7), int), like=image))
    assert struct.unpack_from("<h", head.raw, 68)[0] == 1002  # NIFTI_INTENT_LABEL
    assert struct.unpack_from("<2f", head.raw, 124) == (0.0, 0.0)  # cal_max, cal_min
    gz = tmp_path / "named_plain.nii"
    gz.write_bytes(gzip.compress(write_nifti(tmp_path / "x.nii", ct_volume()).read_bytes()))
    np.testing.assert_array_equal(read_volume(gz), ct_volume().transpose(2, 1, 0))
    five = bytearray(write_nifti(tmp_path / "f.nii", ct_volume()).read_bytes())
    struct.pack_into("<6h", five, 40, 5, 7, 5, 3, 1, 2)
    assert "a 5-D NIfTI volume" in _bad(tmp_path, bytes(five), "five.nii")
    wide = write_nifti(tmp_path / "w.nii", np.array([[[0.0, 300.0, -1.0]]]))
    assert read_volume(wide, mask=True).dtype == np.int32
    assert (
        mask_stem(Path("a/Spleen_2.NII.GZ")) == "Spleen_2" == mask_stem(Path("Spleen_2_0000.nii"))
    )
    assert case_of(Path("x_0000.nii.gz"), {"x"}) == "x"
    assert case_of(Path("x_0000.nii.gz"), {"x_0000"}) == "x_0000"


@pytest.mark.parametrize("qfac", [-1.0, 0.0])
def test_a_qform_of_pixdim_0_steps_1_as_nibabel_reads_it(tmp_path, qfac):
    """A header of a qform (no sform) whose pixdim y is 0 (no voxel size): its affine is
    the quaternion's rotation times the steps, 0 taken as 1 (nibabel's "setting 0 dims to
    1"), z flipped by qfac -1 (0 read as 1, as nibabel fixes it), at the qform's offset:
    nifti1.h's quatern_to_mat44. Pins the branch (untested before s75; passes on the code as
    it was; seen failing with the 0 step kept, and with qfac ignored)."""
    from unetlab.data.nifti import read_header

    path = write_nifti(tmp_path / "q.nii", ct_volume())
    raw = bytearray(path.read_bytes())
    struct.pack_into("<4f", raw, 76, qfac, 0.8, 0.0, 2.5)  # qfac, x, y (0), z
    struct.pack_into("<2h", raw, 252, 1, 0)  # qform_code 1, sform_code 0
    half = np.sqrt(0.5)  # 90 degrees about z: (a, b, c, d) = (cos 45, 0, 0, sin 45)
    struct.pack_into("<6f", raw, 256, 0.0, 0.0, half, 10.0, 20.0, -30.0)
    path.write_bytes(bytes(raw))
    z = -2.5 if qfac < 0 else 2.5
    want = [[0, -1, 0, 10], [0.8, 0, 0, 20], [0, 0, z, -30], [0, 0, 0, 1]]
    np.testing.assert_allclose(read_header(path).affine, want, atol=1e-6)
