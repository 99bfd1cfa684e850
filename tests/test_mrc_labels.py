"""MRC label files: predict writes an MRC input's labels as ``<stem>.mrc`` (mode 0 with IMOD's
stamp, mode 6 above 255) over its grid, voxel size and origin, rows in its order, so that
they overlay the tomogram in 3dmod, ChimeraX, napari and membrain-seg's tools (s71: the
README told her to convert the TIFF output with mrcfile)."""

import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from tests.test_mrc import IMOD_STAMP, write_mrc
from unetlab import UNet, predict_folder
from unetlab.data.mrc import mrc_header, read_mrc, write_mrc_labels

ORIGIN = (-120.5, 33.0, 4200.0)  # (z, y, x) Å


def _tomogram(path: Path, *, big: bool = False, origin=ORIGIN) -> Path:
    """A float32 tomogram of (z, y, x) 30 x 6 x 4 Å voxels on a grid of half its sizes
    (CELLA / MX, not NX), ``origin`` (z, y, x) Å, in either byte order."""
    voxels = np.random.default_rng(0).normal(size=(3, 20, 24)).astype(np.float32)
    write_mrc(path, voxels, voxel=(30.0, 6.0, 4.0), grid=(3, 10, 12), big=big)
    raw = bytearray(path.read_bytes())
    struct.pack_into((">" if big else "<") + "3f", raw, 196, *origin[::-1])  # ORIGIN x, y, z
    path.write_bytes(bytes(raw))
    return path


def _labels(shape=(3, 20, 24), most: int = 2) -> np.ndarray:
    """Labels unlike any of their flips: row 0 of plane 0 holds the most, the rest ramps."""
    labels = (np.arange(np.prod(shape)).reshape(shape) % most).astype(np.uint16)
    labels[0, 0, :] = most
    return labels


@pytest.mark.parametrize("big", [False, True])
def test_labels_read_back_in_values_voxel_size_and_origin(tmp_path, big):
    image = _tomogram(tmp_path / "tomo.rec", big=big)
    labels = _labels()
    path = write_mrc_labels(tmp_path / "out.mrc", labels, like=image)
    head = mrc_header(path)
    assert head.dtype == np.uint8 and head.offset == 1024
    assert head.voxel == pytest.approx((30.0, 6.0, 4.0)) and head.origin == ORIGIN
    assert mrc_header(image).origin == ORIGIN  # the reader's own, either byte order
    np.testing.assert_array_equal(read_mrc(path), labels)  # rows in the same order


def test_the_header_is_imods_bytes_and_says_unetlab_made_it(tmp_path):
    path = write_mrc_labels(tmp_path / "out.mrc", _labels(), like=_tomogram(tmp_path / "t.mrc"))
    raw = path.read_bytes()
    words = np.frombuffer(raw[:1024], "<i4")
    assert list(words[:4]) == [24, 20, 3, 0] and list(words[16:19]) == [1, 2, 3]
    assert words[38] == IMOD_STAMP and words[39] == 0  # unsigned bytes
    assert raw[208:214] == b"MAP DD" and words[55] == 1
    assert raw[224:304].decode().rstrip() == "unetlab: labels of t.mrc"
    dmin, dmax = np.frombuffer(raw[76:84], "<f4")
    assert (dmin, dmax) == (0.0, 2.0) and len(raw) == 1024 + 3 * 20 * 24


def test_more_than_255_classes_are_mode_6(tmp_path):
    labels = _labels(most=300)
    path = write_mrc_labels(tmp_path / "out.mrc", labels, like=_tomogram(tmp_path / "t.mrc"))
    assert np.frombuffer(path.read_bytes()[12:16], "<i4")[0] == 6
    read = read_mrc(path)
    assert read.dtype == np.uint16
    np.testing.assert_array_equal(read, labels)


def test_mrcfile_reads_them_as_written(tmp_path):
    """The cross-check of another reader: mrcfile's (membrain-seg's and napari-mrcfile's)."""
    mrcfile = pytest.importorskip("mrcfile", reason="mrcfile is not installed (optional)")
    image = _tomogram(tmp_path / "tomo.rec", big=True)
    for most in (2, 300):
        labels = _labels(most=most)
        path = write_mrc_labels(tmp_path / f"out{most}.mrc", labels, like=image)
        with open(tmp_path / "validate.txt", "w") as said:
            assert mrcfile.validate(str(path), print_file=said)
        with mrcfile.open(path, permissive=False) as m:
            np.testing.assert_array_equal(m.data, labels)  # int8 where mode 0: values < 128
            assert tuple(m.voxel_size.tolist()) == pytest.approx((4.0, 6.0, 30.0))
            assert tuple(m.header.origin.tolist()) == pytest.approx(ORIGIN[::-1])


def test_predict_writes_an_mrc_inputs_labels_as_mrc_over_its_rows(tmp_path):
    """The labels of ``tomo.rec`` are ``tomo.mrc``, equal to those of the same planes given as
    a TIFF stack (rows in the input's order: they overlay it), at its voxel size and origin;
    the input is kept."""
    folder, planes = tmp_path / "in", tmp_path / "planes"
    folder.mkdir(), planes.mkdir()
    image = _tomogram(folder / "tomo.rec", big=True)
    tifffile.imwrite(planes / "tomo.tif", read_mrc(image), imagej=True)
    before = image.read_bytes()
    torch.manual_seed(0)
    net = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    done = predict_folder(net, folder, tmp_path / "out")
    assert done.pixels == 3 * 20 * 24  # its MP/s: the label file's voxels (ome.output_pixels)
    predict_folder(net, planes, tmp_path / "tiff", axes="ZYX")
    labels = tmp_path / "out" / "tomo.mrc"
    assert not (tmp_path / "out" / "tomo.tif").exists()
    np.testing.assert_array_equal(read_mrc(labels), tifffile.imread(tmp_path / "tiff" / "tomo.tif"))
    head = mrc_header(labels)
    assert head.voxel == pytest.approx((30.0, 6.0, 4.0)) and head.origin == ORIGIN
    assert image.read_bytes() == before


def test_an_mrc_input_is_refused_as_its_own_output(tmp_path):
    """``tomo.mrc``'s labels are named ``tomo.mrc``: refused by both hooks, the one of a folder
    of inputs and the one of processes sharing a folder (never written over)."""
    from types import SimpleNamespace

    from unetlab.errors import OutputError
    from unetlab.inference.files import _refuse_own_input
    from unetlab.inference.input_folder import refuse_input_folder

    image = _tomogram(tmp_path / "tomo.mrc")
    before = image.read_bytes()
    with pytest.raises(OutputError, match="are named tomo.mrc, so predict would write"):
        refuse_input_folder([image], tmp_path)
    with pytest.raises(OutputError, match="would write over its input"):
        _refuse_own_input(SimpleNamespace(path=image, out_dir=tmp_path))
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    with pytest.raises(OutputError):
        predict_folder(net, tmp_path, tmp_path)
    assert image.read_bytes() == before


def _imod_tomogram(path: Path) -> Path:
    """A tomogram as IMOD writes one: its stamp, flags 4 | 1 (origin sign inverted; bytes
    signed, which a float32 file does not use), NXSTART, NYSTART, NZSTART -5, 7, 2 and
    space group 1 (a volume)."""
    _tomogram(path)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<3i", raw, 16, -5, 7, 2)  # NXSTART, NYSTART, NZSTART
    struct.pack_into("<i", raw, 88, 1)  # ISPG
    struct.pack_into("<2i", raw, 152, IMOD_STAMP, 4 | 1)
    path.write_bytes(bytes(raw))
    return path


def test_imods_origin_flag_grid_start_and_space_group_are_kept(tmp_path):
    """A label file keeps what places it over IMOD's tomogram (the origin's sign flag, the
    grid's start, the space group), and its own flags say unsigned bytes (review s71 5: no
    test tomogram carried IMOD's stamp, so dropping them passed)."""
    image = _imod_tomogram(tmp_path / "tomo.rec")
    path = write_mrc_labels(tmp_path / "out.mrc", _labels(), like=image)
    words = np.frombuffer(path.read_bytes()[:1024], "<i4")
    assert list(words[38:40]) == [IMOD_STAMP, 4]  # the origin's flag, bytes unsigned
    theirs = np.frombuffer(image.read_bytes()[:1024], "<i4")
    kept = [*range(4, 16), 22, 49, 50, 51]  # NXSTART.., MX.., CELLA, CELLB, ISPG, ORIGIN
    assert list(words[kept]) == list(theirs[kept])
    assert list(words[4:7]) == [-5, 7, 2] and words[22] == 1


def test_the_statistics_are_the_labels_own_without_a_copy_of_the_volume(tmp_path):
    """DMIN, DMAX, DMEAN and RMS are the values' (the least 1, not 0, where no voxel is 0),
    counted plane by plane: the writer took 8 bytes a voxel more than the labels (review s71
    2: predict on a 40 x 1024^2 tomogram peaked at 896 MB, 617 MB without it)."""
    import tracemalloc

    image = _tomogram(tmp_path / "tomo.rec")
    labels = _labels() + 1
    path = write_mrc_labels(tmp_path / "out.mrc", labels, like=image)
    said = np.frombuffer(path.read_bytes()[76:88], "<f4").tolist()
    said.append(float(np.frombuffer(path.read_bytes()[216:220], "<f4")[0]))
    assert said == pytest.approx([1, 3, labels.mean(), labels.std()], rel=1e-6)
    big = np.ones((16, 128, 128), np.uint8)
    write_mrc(tmp_path / "big.rec", np.zeros(big.shape, np.float32))
    tracemalloc.start()
    write_mrc_labels(tmp_path / "big.mrc", big, like=tmp_path / "big.rec")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < big.size  # a plane's counts, not the volume's float64 copy (8 x its size)


def test_the_cli_says_color_keeps_the_values_and_gives_no_near_black_hint(tmp_path, caplog):
    """An MRC label file keeps the class values, as IMOD's do: --color says so, and the hint
    for near-black label images (viewers colour these as labels) is not given (review s71 5:
    neither was tested)."""
    import logging

    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values = ["background", "membrane", "ribosome"], None
    save_model(tmp_path / "m.pt", model)
    folder = tmp_path / "in"
    folder.mkdir()
    _tomogram(folder / "tomo.rec")
    predict = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--no-progress"]
    predict += ["--input", str(folder), "--output"]
    with caplog.at_level(logging.INFO):
        assert main([*predict, str(tmp_path / "out")]) == 0
    assert "1 written" in caplog.text and "near black" not in caplog.text
    with caplog.at_level(logging.INFO):
        assert main([*predict, str(tmp_path / "colour"), "--color"]) == 0
    assert "--color: an MRC input's label file (.mrc) keeps the class values" in caplog.text
    assert mrc_header(tmp_path / "colour" / "tomo.mrc").dtype == np.uint8
