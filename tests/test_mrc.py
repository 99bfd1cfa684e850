"""MRC files (electron microscopy's stacks and tomograms: .mrc, .rec, .st, .ali, .map) are
read as z-stacks, their voxel size (Å) the outputs' scale (s70 new user: a folder of .mrc
stacks said "no images found", a .mrc mask "mask without an image")."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, predict_folder
from unetlab.data.fingerprint import tiff_spacing
from unetlab.data.io import find_images, read_stack, stack_size
from unetlab.data.mrc import MRC_SUFFIXES, mrc_header
from unetlab.data.tiffmeta import PixelSize, read_page_axes, read_pixel_size
from unetlab.errors import ImageReadError

MODES = {"i1": 0, "u1": 0, "i2": 1, "f4": 2, "u2": 6, "f2": 12}
IMOD_STAMP = 1146047817


def write_mrc(path, voxels, *, voxel=10.5, big=False, extended=0, imod=True) -> Path:
    """An MRC2014 file of the (Z, Y, X) ``voxels``: ``voxel`` Å, ``big``-endian,
    ``extended`` bytes of extended header; uint8 with IMOD's stamp (its unsigned bytes)."""
    order = ">" if big else "<"
    nz, ny, nx = voxels.shape
    words = np.zeros(256, order + "i4")
    words[:4] = nx, ny, nz, MODES[voxels.dtype.str[1:]]
    words[7:10] = nx, ny, nz
    words.view(order + "f4")[10:13] = nx * voxel, ny * voxel, nz * voxel
    words[16:19] = 1, 2, 3
    words[23] = extended
    words[38] = IMOD_STAMP if imod and voxels.dtype == np.uint8 else 0
    head = bytearray(words.tobytes())
    head[208:212] = b"MAP "
    head[212:214] = b"\x11\x11" if big else b"\x44\x44"
    body = voxels.astype(voxels.dtype.newbyteorder(order)).tobytes()
    Path(path).write_bytes(bytes(head) + b"\0" * extended + body)
    return Path(path)


def _voxels(dtype, shape=(3, 20, 24)) -> np.ndarray:
    values = np.arange(np.prod(shape)).reshape(shape) % 100 - (0 if dtype[0] == "u" else 50)
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", ["i1", "u1", "i2", "f4", "u2", "f2"])
@pytest.mark.parametrize("big", [False, True])
def test_every_mode_reads_as_its_planes(tmp_path, dtype, big):
    voxels = _voxels(dtype)
    path = write_mrc(tmp_path / "tomo.mrc", voxels, big=big)
    read = read_stack(path)
    assert read.dtype == np.dtype(dtype) and read.dtype.isnative
    np.testing.assert_array_equal(read, voxels)
    assert stack_size(path) == (3, 20, 24, 1)


def test_mode_0_is_signed_unless_imod_says_unsigned(tmp_path):
    """MRC2014's mode 0 is int8; IMOD writes unsigned bytes and stamps its files so."""
    voxels = _voxels("u1") + 100
    assert read_stack(write_mrc(tmp_path / "imod.mrc", voxels)).dtype == np.uint8
    other = read_stack(write_mrc(tmp_path / "other.mrc", voxels, imod=False))
    np.testing.assert_array_equal(other, voxels.view(np.int8))


def test_the_extended_header_is_passed_over(tmp_path):
    voxels = _voxels("f4")
    path = write_mrc(tmp_path / "tilt.st", voxels, extended=1024 * 2)
    np.testing.assert_array_equal(read_stack(path), voxels)


def test_every_suffix_is_found_in_a_folder(tmp_path):
    for suffix in MRC_SUFFIXES:
        write_mrc(tmp_path / f"a{suffix}", _voxels("f4"))
    assert [f.suffix for f in find_images(tmp_path)] == sorted(MRC_SUFFIXES)


def test_the_voxel_size_is_the_pixel_size_in_um(tmp_path):
    path = write_mrc(tmp_path / "tomo.rec", _voxels("i2"), voxel=10.5)
    assert read_pixel_size(path) == PixelSize((0.00105, 0.00105), "um", 0.00105)
    assert tiff_spacing(path) == (0.00105, 0.00105)  # the training images'
    assert read_page_axes(path, 3).letters == "Z"


def test_no_cell_no_pixel_size(tmp_path):
    path = write_mrc(tmp_path / "tomo.mrc", _voxels("f4"), voxel=0.0)
    assert mrc_header(path).voxel is None and read_pixel_size(path) is None


def _bad(path: Path, cut: int = 0, more: bytes = b"", byte: tuple[int, int] | None = None):
    raw = bytearray(write_mrc(path, _voxels("f4")).read_bytes())
    if byte is not None:
        raw[byte[0]] = byte[1]
    path.write_bytes(bytes(raw[: len(raw) - cut]) + more)
    return path


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda p: _bad(p, cut=100), "6784 bytes in all; the file has 6684: it is truncated"),
        (lambda p: _bad(p, more=b"x" * 8), "the header's sizes disagree with the file"),
        (lambda p: _bad(p, byte=(12, 4)), "MRC mode 4 (complex float32 (a Fourier transform"),
        (lambda p: _bad(p, byte=(12, 9)), "MRC mode 9 (a mode MRC2014 does not define)"),
        (lambda p: _bad(p, byte=(64, 3)), "stored in axis order (3, 2, 3)"),
        (lambda p: p.write_bytes(b"MRC"), "3 bytes, shorter than an MRC file's 1024-byte"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_the_fix(tmp_path, make, said):
    path = tmp_path / "bad.mrc"
    make(path)
    for read in (read_stack, stack_size):
        with pytest.raises(ImageReadError) as caught:
            read(path)
        line = str(caught.value)
        assert line.startswith(f"{path}: ") and said in line and "\n" not in line
        assert any(fix in line for fix in ("copy the file", "newstack", "reorder"))


def test_predict_writes_a_tiff_stack_at_the_voxel_size(tmp_path):
    """Fiji and napari open the labels at the tomogram's scale; the input is kept."""
    folder = tmp_path / "in"
    folder.mkdir()
    voxels = np.random.default_rng(0).normal(size=(3, 32, 32)).astype(np.float32)
    path = write_mrc(folder / "tomo.rec", voxels, voxel=10.5)
    before = path.read_bytes()
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "out")
    with tifffile.TiffFile(tmp_path / "out" / "tomo.tif") as tif:
        assert tif.series[0].shape == (3, 32, 32) and tif.series[0].axes == "ZYX"
        meta = tif.imagej_metadata
        x = tif.pages[0].tags["XResolution"].value
    assert meta["unit"] == "um" and meta["spacing"] == pytest.approx(0.00105)
    assert x[1] / x[0] == pytest.approx(0.00105)
    assert path.read_bytes() == before


@pytest.mark.parametrize("big", [False, True])
def test_a_window_reads_its_plane_from_a_memory_map(tmp_path, big):
    from unetlab.data.slides import open_slide

    voxels = _voxels("i2", (4, 30, 40))
    with open_slide(write_mrc(tmp_path / "tomo.rec", voxels, big=big)) as slide:
        assert slide.shape == (4, 30, 40, 1) and slide.dtype == np.int16
        assert slide.pixel_size == (0.00105, 0.00105) and slide.z_spacing == 0.00105
        window = slide.read(2, slice(5, 9), slice(0, 40))
    assert window.dtype.isnative
    np.testing.assert_array_equal(window[..., 0], voxels[2, 5:9])


def test_a_large_mrc_is_streamed_plane_by_plane_as_read_whole(tmp_path):
    """A tomogram over the threshold is predicted window by window (s70: a 1.05 GB .rec
    read whole peaked at 2.30 GB, streamed at 0.46 GB), its labels those of a whole read."""
    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slides import is_large

    folder = tmp_path / "in"
    folder.mkdir()
    voxels = np.random.default_rng(1).normal(size=(3, 32, 36)).astype(np.float32)
    path = write_mrc(folder / "tomo.rec", voxels, big=True)
    assert is_large(path, threshold=100)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "whole")
    predict_folder(net, folder, tmp_path / "streamed", OutputOptions(large_threshold=100))
    with tifffile.TiffFile(tmp_path / "streamed" / "tomo.tif") as tif:
        assert tif.is_ome and 'PhysicalSizeZ="0.00105"' in tif.ome_metadata
        streamed = tif.series[0].asarray()
    np.testing.assert_array_equal(streamed, tifffile.imread(tmp_path / "whole" / "tomo.tif"))
