"""MRC files (electron microscopy's stacks and tomograms: .mrc, .rec, .st, .ali, .map) are
read as z-stacks, their voxel size (Å) the outputs' scale (s70 new user: a folder of .mrc
stacks said "no images found", a .mrc mask "mask without an image")."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, predict_folder
from unetlab.data.fingerprint import file_pixel_size
from unetlab.data.io import find_images, read_stack, stack_size
from unetlab.data.mrc import MRC_SUFFIXES, mrc_header, read_mrc
from unetlab.data.tiffmeta import PixelSize, read_page_axes, read_pixel_size
from unetlab.errors import ImageReadError

MODES = {"i1": 0, "u1": 0, "i2": 1, "f4": 2, "u2": 6, "f2": 12}
IMOD_STAMP = 1146047817


def write_mrc(
    path,
    voxels,
    *,
    voxel=10.5,
    big=False,
    extended=0,
    imod=True,
    grid=None,
    stamp=None,
    axes=(1, 2, 3),
    word53=b"MAP ",
) -> Path:
    """An MRC2014 file of the (Z, Y, X) ``voxels``: ``voxel`` Å (or (z, y, x) Å), ``big``-
    endian, ``extended`` bytes of extended header; 8-bit with IMOD's stamp unless not
    ``imod`` (its flags bit 0 set for int8); ``grid`` (MZ, MY, MX), the sizes by
    default; ``stamp``: the machine stamp's first two bytes (by ``big`` by default);
    ``axes``: MAPC, MAPR, MAPS; ``word53``: b"MAP " (older files: blank)."""
    order = ">" if big else "<"
    nz, ny, nx = voxels.shape
    mz, my, mx = voxels.shape if grid is None else grid
    vz, vy, vx = voxel if isinstance(voxel, tuple) else (voxel,) * 3
    words = np.zeros(256, order + "i4")
    words[:4] = nx, ny, nz, MODES[voxels.dtype.str[1:]]
    words[7:10] = mx, my, mz
    words.view(order + "f4")[10:13] = mx * vx, my * vy, mz * vz
    words[16:19] = axes
    words[23] = extended
    signed = voxels.dtype == np.int8  # IMOD's flag bit 0
    words[38:40] = (IMOD_STAMP, signed) if imod and voxels.dtype.itemsize == 1 else 0
    head = bytearray(words.tobytes())
    head[208:212] = word53
    head[212:214] = (b"\x11\x11" if big else b"\x44\x44") if stamp is None else stamp
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
    assert file_pixel_size(path) == (0.00105, 0.00105)  # the training images'
    assert read_page_axes(path, 3).letters == "Z"


def test_no_cell_no_pixel_size(tmp_path):
    path = write_mrc(tmp_path / "tomo.mrc", _voxels("f4"), voxel=0.0)
    assert mrc_header(path).voxel is None and read_pixel_size(path) is None


def _bad(path: Path, cut: int = 0, more: bytes = b"", byte: tuple[int, int] | None = None, **made):
    raw = bytearray(write_mrc(path, _voxels("f4"), **made).read_bytes())
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
        (lambda p: _bad(p, byte=(12, 9), stamp=b"\x44\x41"), "MRC mode 9 (a mode"),  # little
        (lambda p: _bad(p, byte=(12, 16)), "mode 16 (RGB, 3 bytes a voxel) is not an image"),
        (lambda p: _bad(p, byte=(64, 3)), "stored in axis order (3, 2, 3)"),
        (lambda p: _bad(p, cut=6784 - 500), "500 bytes, shorter than an MRC file's 1024"),
        (lambda p: p.write_bytes(b"MRC"), "not an MRC file (3 bytes, no 'MAP ' at byte 208"),
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
        assert any(fix in line for fix in ("copy the file", "newstack", "reorder", "grey"))


def test_an_rgb_mrc_file_is_told_to_be_made_grey(tmp_path):
    """Mode 16 is RGB: "newstack -mode 2" keeps it RGB; Fiji makes it grey (s70 review: the
    fix of MODE_FIX dropped, every test passed)."""
    path = _bad(tmp_path / "rgb.mrc", byte=(12, 16))
    with pytest.raises(ImageReadError, match=r"Fiji: Image > Type > 8-bit"):
        read_stack(path)


def test_predict_writes_tiff_probabilities_at_the_voxel_size(tmp_path):
    """Fiji and napari open the probabilities at the tomogram's scale, in nm (s71: Fiji said
    0.00105 µm for 10.5 Å; the labels are an MRC file: test_mrc_labels); the input is kept."""
    folder = tmp_path / "in"
    folder.mkdir()
    voxels = np.random.default_rng(0).normal(size=(3, 32, 32)).astype(np.float32)
    path = write_mrc(folder / "tomo.rec", voxels, voxel=10.5)
    before = path.read_bytes()
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "out", save_probabilities=True)
    with tifffile.TiffFile(tmp_path / "out" / "tomo_prob.tif") as tif:
        assert tif.series[0].shape == (3, 2, 32, 32) and tif.series[0].axes == "ZCYX"
        meta = tif.imagej_metadata
        x = tif.pages[0].tags["XResolution"].value
    assert meta["unit"] == "nm" and meta["spacing"] == pytest.approx(1.05)  # Fiji: 1.05 nm
    assert x[1] / x[0] == pytest.approx(1.05)
    found = read_pixel_size(tmp_path / "out" / "tomo_prob.tif")  # read back: µm as before
    assert found.size == pytest.approx((0.00105,) * 2) and found.spacing == pytest.approx(0.00105)
    assert path.read_bytes() == before


def test_light_microscopy_pixels_stay_in_um(tmp_path):
    """Sides of 0.01 µm and more are recorded in µm as before; those under it in nm."""
    from unetlab.data.tiffmeta import in_nanometres

    light = PixelSize((0.1, 0.01), "um", 0.5)
    assert in_nanometres(light) is light
    edge = PixelSize((0.01, 0.01), "um", 0.01)  # a hundredth of a µm: µm, as napari's layers
    assert in_nanometres(edge) is edge
    em = in_nanometres(PixelSize((0.004, 0.004), "um", 0.05))
    assert (
        em.unit == "nm"
        and em.size == pytest.approx((4.0, 4.0))
        and em.spacing == pytest.approx(50.0)
    )


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
    read whole peaked at 2.30 GB, streamed at 0.46 GB), its labels those of a whole read,
    its MRC label file too (s72; test_mrc_streamed_labels)."""
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
    assert not (tmp_path / "streamed" / "tomo.tif").exists()
    streamed = read_mrc(tmp_path / "streamed" / "tomo.mrc")
    np.testing.assert_array_equal(streamed, read_mrc(tmp_path / "whole" / "tomo.mrc"))


def test_an_anisotropic_voxel_is_cella_over_mx_my_mz(tmp_path):
    """CELLA / MX, MY, MZ per axis (the grid, not NX, NY, NZ): a (z, y, x) 30 x 6 x 4 Å
    voxel on a grid of half the sizes (s70 review: a mutant that read NX, or swapped the
    axes, passed every test, whose voxels were cubes on a grid of the sizes)."""
    voxels = _voxels("f4", (3, 20, 24))
    path = write_mrc(tmp_path / "tomo.mrc", voxels, voxel=(30.0, 6.0, 4.0), grid=(3, 10, 12))
    assert mrc_header(path).voxel == pytest.approx((30.0, 6.0, 4.0))
    found = read_pixel_size(path)
    assert found.size == pytest.approx((0.0006, 0.0004)) and found.spacing == pytest.approx(0.003)


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("dtype", ["i1", "i2", "f4"])
def test_a_blank_stamp_reads_in_the_order_the_header_is_sane_in(tmp_path, dtype, big):
    """Older files leave the stamp and 'MAP ' blank: the byte order is the one that reads
    MAPC, MAPR, MAPS in 1-3 (s70 review: a mode-0 big-endian file, NX 256, read little-
    endian by its MODE and NX, failed as "axis order (16777216, ...)")."""
    voxels = _voxels(dtype, (3, 4, 256))
    blank = {"stamp": b"\0\0", "word53": b"\0" * 4, "imod": False}
    path = write_mrc(tmp_path / "old.mrc", voxels, big=big, **blank)
    np.testing.assert_array_equal(read_stack(path), voxels)


def test_imods_flag_says_signed_bytes(tmp_path):
    voxels = _voxels("i1")
    path = write_mrc(tmp_path / "imod.mrc", voxels)  # IMOD's stamp, flags bit 0 set
    assert read_stack(path).dtype == np.int8


@pytest.mark.parametrize("stamp", [None, b"\0\0"])
def test_mapc_mapr_maps_all_zero_is_x_y_z(tmp_path, stamp):
    """Old files leave MAPC, MAPR, MAPS 0: the usual order."""
    voxels = _voxels("i2")
    path = write_mrc(tmp_path / "old.mrc", voxels, axes=(0, 0, 0), stamp=stamp)
    np.testing.assert_array_equal(read_stack(path), voxels)


def _png(path: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.zeros((16, 16), np.uint8)).save(path, format="PNG")
    return path


def test_other_formats_named_as_mrc_files_are_left_out_of_a_folder(tmp_path):
    """An OziExplorer a.map beside a.png, notes in .st: no images, as before MRC was read
    (s70 review: "a.map and a.png would write the same outputs: not predicted", rc 3); an
    MRC file so named is one, an older one without 'MAP ' too."""
    _png(tmp_path / "a.png")
    (tmp_path / "a.map").write_text("OziExplorer Map Data File Version 2.2\n" * 40)
    (tmp_path / "notes.st").write_text("tilt angles\n")
    write_mrc(tmp_path / "m.map", _voxels("f4"))
    write_mrc(tmp_path / "old.rec", _voxels("f4"), stamp=b"\0\0", word53=b"\0" * 4)
    assert [f.name for f in find_images(tmp_path)] == ["a.png", "m.map", "old.rec"]
    assert [f.name for f in find_images(tmp_path / "*")] == ["a.png", "m.map", "old.rec"]


def test_a_stray_map_is_no_image_of_a_data_set(tmp_path):
    """train --data: images/a0.map beside a0.png said "2 images share the stem"."""
    from unetlab.data.pairs import find_pairs

    for part in ("images", "masks"):
        (tmp_path / part).mkdir()
        _png(tmp_path / part / "a0.png")
    (tmp_path / "images" / "a0.map").write_text("OziExplorer Map Data File\n" * 40)
    assert [p.image.name for p in find_pairs(tmp_path)] == ["a0.png"]


def _apple(path: Path) -> Path:
    path.write_bytes(b"\x00\x05\x16\x07" + b"\x00" * 4092)
    return path


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda d: _text(d / "a.map"), "a.map: not an MRC file (1520 bytes, no 'MAP '"),
        (lambda d: _tiff(d / "t.mrc"), "t.mrc: a TIFF file named .mrc: rename it t.tif"),
        (lambda d: _apple(d / "._t0.mrc"), "._t0.mrc: a macOS metadata file (AppleDouble)"),
        (lambda d: write_mrc(d / "y.tif", _voxels("f4")), "an MRC file named .tif: rename it"),
    ],
)
def test_a_file_of_another_kind_is_named_for_what_it_is(tmp_path, make, said):
    """Not "MRC mode 808464432 ... convert it to mode 2" for text named .map, "333319 x 0 x
    0 voxels" for a macOS twin, "cannot read this TIFF ... damaged" for an MRC named .tif."""
    from unetlab.data.slides import slide_header

    path = make(tmp_path)
    for read in (read_stack, stack_size, slide_header):
        with pytest.raises(ImageReadError) as caught:
            read(path)
        assert said in str(caught.value) and "\n" not in str(caught.value)


def _text(path: Path) -> Path:
    path.write_text("OziExplorer Map Data File Version 2.2\n" * 40)
    return path


def _tiff(path: Path) -> Path:
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8))
    return path


def test_a_large_mrc_is_streamed_by_the_memory_rule(tmp_path, monkeypatch):
    """With no --large-pixels, a tomogram whose whole read is over the budget is streamed
    as a TIFF stack is (s70 review: taking MRC out of the rule left every test passing)."""
    from unetlab.inference import sizing
    from unetlab.inference.stream_rule import is_streamed

    path = write_mrc(tmp_path / "tomo.rec", _voxels("f4", (3, 64, 80)))
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    assert not is_streamed(path, net)
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", 1000.0)
    assert is_streamed(path, net)


def test_evaluate_reads_mrc_predictions_and_gives_the_planes_z(tmp_path):
    """membrain-seg's or IMOD's tomo.mrc is a prediction ("no prediction in pred ... named
    <stem>.png" before); each section's row has its z, as an ImageJ ZYX stack's has."""
    from unetlab.evaluate.predictions import evaluate_predictions

    rng = np.random.default_rng(0)
    masks = (rng.random((3, 24, 24)) > 0.5).astype(np.uint8)
    for part in ("images", "masks", "pred"):
        (tmp_path / part).mkdir()
    write_mrc(tmp_path / "images" / "tomo.mrc", _voxels("f4", (3, 24, 24)))
    write_mrc(tmp_path / "masks" / "tomo.mrc", masks)
    write_mrc(tmp_path / "pred" / "tomo.mrc", masks)
    report = evaluate_predictions(tmp_path / "pred", tmp_path, progress=False)
    rows = report.images
    assert [r["z"] for r in rows] == [0, 1, 2] and all(r["miou"] == 1 for r in rows)


def test_an_mrc_stacks_pages_are_its_z_in_the_per_image_table(tmp_path):
    """evaluate's per-image table gave an MRC ground truth's rows ``page`` alone; an ImageJ
    ZYX TIFF's ``page`` and ``z``."""
    from unetlab.evaluate.frames import PageColumns

    path = write_mrc(tmp_path / "tomo.mrc", _voxels("u1"))
    assert PageColumns()(path, 2, 3) == {"page": 2, "z": 2}


def test_level_1_of_an_mrc_file_suggests_no_libvips_copy(tmp_path):
    """libvips reads no MRC file: "vips tiffsave t0.mrc ..." was a fix that fails."""
    from unetlab.data.slides import open_slide
    from unetlab.errors import UnetlabError

    path = write_mrc(tmp_path / "one.mrc", _voxels("f4", (1, 20, 24)))
    with pytest.raises(UnetlabError) as caught:
        open_slide(path, level=1)
    assert "has no pyramid" in str(caught.value) and "vips" not in str(caught.value)


def _old(path: Path, voxels: np.ndarray, **made) -> Path:
    """An older MRC file: no 'MAP ', a blank stamp, MAPC, MAPR, MAPS 0."""
    blank = {"stamp": b"\0\0", "word53": b"\0" * 4, "imod": False, "axes": (0, 0, 0)}
    return write_mrc(path, voxels, **{**blank, **made})


def test_a_bad_older_file_in_a_folder_is_named_not_dropped(tmp_path):
    """s70 review: an older .rec (no 'MAP ') padded, truncated or of mode 4 dropped out of
    a folder without a word ("no images found in D", "1 file ... 1 written"): each is
    listed, and its reader says what is wrong with it."""
    _old(tmp_path / "good.rec", _voxels("f4"))
    raw = _old(tmp_path / "padded.rec", _voxels("f4")).read_bytes()
    (tmp_path / "padded.rec").write_bytes(raw + b"\0" * 512)
    (tmp_path / "cut.rec").write_bytes(raw[:-100])
    four = bytearray(raw)
    four[12] = 4
    (tmp_path / "complex.rec").write_bytes(bytes(four))
    names = ["complex.rec", "cut.rec", "good.rec", "padded.rec"]
    assert [f.name for f in find_images(tmp_path)] == names
    said = {"cut": "truncated", "padded": "disagree", "complex": "MRC mode 4"}
    for stem, words in said.items():
        with pytest.raises(ImageReadError, match=words):
            read_stack(tmp_path / f"{stem}.rec")


def test_a_truncated_older_mask_pairs_with_its_image(tmp_path):
    """train --data said "masks/t1.rec: mask without an image in images/" with the image
    there: the truncated older image had dropped out; now its reader names it."""
    from unetlab.data.pairs import find_pairs
    from unetlab.errors import DatasetError

    for part in ("images", "masks"):
        (tmp_path / part).mkdir()
    raw = _old(tmp_path / "images" / "t1.rec", _voxels("f4")).read_bytes()
    (tmp_path / "images" / "t1.rec").write_bytes(raw[:-100])
    _old(tmp_path / "masks" / "t1.rec", _voxels("u1") % 2)
    with pytest.raises(DatasetError, match=r"images/t1.rec: its MRC header .* truncated"):
        find_pairs(tmp_path)


def test_a_blank_stamp_mode_0_big_endian_file_with_axes_0_reads_right(tmp_path):
    """s70 review: MODE 0 and MAPC, MAPR, MAPS 0 read alike in either byte order, so NX 256
    alone chose little-endian: "65536 x 67108864 x 50331648 ... truncated"."""
    voxels = _voxels("i1", (3, 4, 256))
    path = _old(tmp_path / "old.mrc", voxels, big=True)
    np.testing.assert_array_equal(read_stack(path), voxels)


@pytest.mark.parametrize("words", [{3: 9}, {0: 0}, {1: 0}, {2: 1 << 24}])
def test_a_header_with_no_mode_or_sizes_is_no_mrc_file(tmp_path, words):
    """Without 'MAP ', a header is an older MRC file's only with a mode MRC2014 names and
    sizes in 1 to 2^24 (s70 review: dropping either condition passed every test)."""
    head = np.zeros(256, "<i4")
    head[:4] = 4, 4, 1, 2
    for word, value in words.items():
        head[word] = value
    path = tmp_path / "x.map"
    path.write_bytes(head.tobytes() + b"\0" * 64)
    with pytest.raises(ImageReadError, match=r"x.map: not an MRC file \(1088 bytes, no 'MAP '"):
        read_stack(path)


def test_short_notes_named_st_are_no_mrc_file(tmp_path):
    """A 12-byte notes.st was told "shorter than an MRC file's 1024-byte header"."""
    path = tmp_path / "notes.st"
    path.write_text("tilt angles\n")
    with pytest.raises(ImageReadError, match="notes.st: not an MRC file"):
        read_stack(path)


def test_a_png_named_rec_is_listed_and_told_to_be_renamed(tmp_path):
    """A PNG named b.rec dropped out of a folder without a word; by name it was told
    "rename it b.png": a folder says the same."""
    _png(tmp_path / "b.rec")
    assert [f.name for f in find_images(tmp_path)] == ["b.rec"]
    with pytest.raises(ImageReadError, match="a PNG file named .rec: rename it b.png"):
        read_stack(tmp_path / "b.rec")


def test_an_mrc2014_file_of_an_unknown_mode_stays_in_a_folder(tmp_path):
    """'MAP ' says MRC whatever the header holds: a mode-9 .rec is listed for its reader to
    refuse (s70 review: the 'MAP ' shortcut of holds_mrc dropped, every test passed)."""
    _bad(tmp_path / "odd.rec", byte=(12, 9))
    assert [f.name for f in find_images(tmp_path)] == ["odd.rec"]


def test_an_mrc_file_named_rec_is_of_its_kind(tmp_path):
    """wrong_kind_line: an MRC2014 file is what .rec, .st, .ali, .map and .mrc say."""
    from unetlab.data.file_kind import wrong_kind_line

    for suffix in MRC_SUFFIXES:
        assert wrong_kind_line(write_mrc(tmp_path / f"a{suffix}", _voxels("f4"))) is None


def test_an_ozi_map_beside_a_dsb_samples_image_is_no_second_image(tmp_path):
    """A DSB sample's images/ holds one image: an OziExplorer id.map beside id.png made it
    "has 2 images" (s70 review: dsb's own suffix filter back, every test passed)."""
    from unetlab.data.dsb import object_masks_shape

    sample = tmp_path / "s1"
    (sample / "images").mkdir(parents=True)
    (sample / "masks").mkdir()
    _png(sample / "images" / "s1.png")
    _text(sample / "images" / "s1.map")
    _png(sample / "masks" / "m1.png")
    assert object_masks_shape(sample / "masks") == (1, 16, 16)


def test_outlines_find_their_image_past_an_ozi_map_beside_them(tmp_path):
    """masks/X.zip's image is images/X.png, not an OziExplorer masks/X.map (s70 review:
    io's lookup of the image of outlines back to a suffix filter, every test passed)."""
    from unetlab.data.io import outlined_image

    for part in ("images", "masks"):
        (tmp_path / part).mkdir()
    _png(tmp_path / "images" / "X.png")
    _text(tmp_path / "masks" / "X.map")
    (tmp_path / "masks" / "X.zip").write_bytes(b"")
    assert outlined_image(tmp_path / "masks" / "X.zip") == tmp_path / "images" / "X.png"


def test_a_subfolder_of_ozi_maps_holds_no_images(tmp_path):
    """The note on sub-folders with images counts no OziExplorer .map (s70 review: the
    check dropped from its count, every test passed)."""
    from unetlab.data.folder_notes import image_subfolders
    from unetlab.data.io import INPUT_SUFFIXES

    (tmp_path / "maps").mkdir()
    _text(tmp_path / "maps" / "a.map")
    (tmp_path / "tomos").mkdir()
    write_mrc(tmp_path / "tomos" / "t.rec", _voxels("f4"))
    assert image_subfolders(tmp_path, INPUT_SUFFIXES) == {tmp_path / "tomos": 1}


def test_predicts_tiff_beside_its_mrc_input_is_the_prediction(tmp_path):
    """predict --output beside the input: tomo.tif is the prediction of tomo.mrc, which
    comes first by name (s70 review: MRC files last dropped, every test passed)."""
    from unetlab.evaluate.masks import Written

    write_mrc(tmp_path / "tomo.mrc", _voxels("f4"))
    tifffile.imwrite(tmp_path / "tomo.tif", np.zeros((3, 20, 24), np.uint8), imagej=True)
    assert Written(tmp_path).maps == {"tomo": tmp_path / "tomo.tif"}


def test_membrain_segs_segmented_mrc_pairs_with_its_tomogram(tmp_path, caplog):
    """membrain-seg writes <stem>_<checkpoint>_segmented.mrc: it was "no prediction in pred"
    with the fix "rename them <stem>.mrc"; now scored against <stem>'s mask, one line saying
    so, the longest stem it starts with (TS_01, not TS) its image's."""
    import logging

    from unetlab.evaluate.predictions import evaluate_predictions

    masks = (_voxels("u1", (3, 24, 24)) % 2).astype(np.uint8)
    for part in ("images", "masks", "pred"):
        (tmp_path / part).mkdir()
    for stem, flip in (("TS", True), ("TS_01", False)):
        write_mrc(tmp_path / "images" / f"{stem}.mrc", _voxels("f4", (3, 24, 24)))
        write_mrc(tmp_path / "masks" / f"{stem}.mrc", 1 - masks if flip else masks)
    write_mrc(tmp_path / "pred" / "TS_01_MemBrain_seg_v10_alpha.ckpt_segmented.mrc", masks)
    write_mrc(tmp_path / "pred" / "TS_segmented.mrc", 1 - masks)
    with caplog.at_level(logging.INFO):
        report = evaluate_predictions(tmp_path / "pred", tmp_path, progress=False)
    assert len(report.images) == 6 and all(r["miou"] == 1 for r in report.images)
    assert "membrain-seg's _<checkpoint>_segmented" in caplog.text


def test_segmented_names_pair_only_where_unambiguous():
    from unetlab.data.names import segmented_for

    assert segmented_for({"a_x_segmented", "b_segmented", "c"}, {"a", "b", "c"}) == {
        "a": "a_x_segmented",
        "b": "b_segmented",
    }
    assert segmented_for({"a_x_segmented", "a_y_segmented"}, {"a"}) == {}  # two checkpoints
    assert segmented_for({"a_x_segmented", "a"}, {"a"}) == {}  # a.mrc is a's own
    assert segmented_for({"ab_segmented"}, {"a"}) == {}  # not named for a
