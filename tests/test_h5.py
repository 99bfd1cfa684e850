"""HDF5 images and masks (s73 new user, an ilastik / Imaris / BigDataViewer user): ilastik's
exports, Imaris' .ims and BigDataViewer's .h5 are read as TIFFs are (before: a folder of
them said "no masks, but 4 other files"; .ims was named a format unetlab does not read)."""

import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

pytest.importorskip("h5py", reason="h5py is not installed (optional: unetlab[h5])")

from tests.h5_writer import write_bdv, write_ilastik, write_imaris, write_keras  # noqa: E402
from tests.read_refusal import refused_in_one_line  # noqa: E402
from tests.stack_predict import predicted_whole_as_streamed  # noqa: E402
from unetlab import UNet, predict_folder  # noqa: E402
from unetlab.data.io import find_images, read_stack, stack_size  # noqa: E402
from unetlab.data.slides import open_slide  # noqa: E402
from unetlab.data.tiffmeta import read_page_axes, read_pixel_size  # noqa: E402
from unetlab.errors import ImageReadError  # noqa: E402

RNG = np.random.default_rng(0)


def _stack(shape=(3, 40, 50)) -> np.ndarray:
    return RNG.integers(0, 4000, shape).astype(np.uint16)


def test_ilastik_exports_read_by_their_axistags_as_images_and_masks(tmp_path):
    """Raw data (yxc), a Simple Segmentation of 1..N and Probabilities (zyxc float32)."""
    raw = RNG.integers(0, 255, (30, 40)).astype(np.uint8)
    seg = RNG.integers(1, 4, (30, 40, 1)).astype(np.uint8)
    write_ilastik(tmp_path / "raw.h5", raw[..., None])
    write_ilastik(tmp_path / "seg.h5", seg)
    np.testing.assert_array_equal(read_stack(tmp_path / "raw.h5"), raw[None])
    mask = read_stack(tmp_path / "seg.h5", mask=True)
    np.testing.assert_array_equal(mask, seg[None, ..., 0])
    probs = RNG.random((2, 30, 40, 3)).astype(np.float32)
    path = write_ilastik(tmp_path / "probs.h5", np.moveaxis(probs, 0, 2), "yxzc")
    np.testing.assert_array_equal(read_stack(path), probs)
    assert stack_size(path) == (2, 30, 40, 3) and read_page_axes(path, 2).letters == "Z"
    assert read_pixel_size(path) is None  # ilastik records none


def test_a_folder_of_ilastik_exports_pairs_as_images_and_masks(tmp_path):
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        write_ilastik(tmp_path / folder / "a.h5", np.ones((20, 24, 1), np.uint8))
    assert find_images(tmp_path / "images") == [tmp_path / "images" / "a.h5"]


def test_an_imaris_file_is_cropped_to_its_size_with_its_channels_and_voxel(tmp_path):
    a, b = _stack(), _stack()
    path = write_imaris(tmp_path / "a.ims", [a, b], voxel=(2.0, 0.5, 0.25))
    stack = read_stack(path)
    assert stack.shape == (3, 40, 50, 2)  # stored padded to (3, 48, 64)
    np.testing.assert_array_equal(stack[..., 1], b)
    found = read_pixel_size(path)
    assert found.size == pytest.approx((0.5, 0.25)) and found.spacing == pytest.approx(2.0)
    with open_slide(path, level=1) as slide:
        assert slide.shape == (3, 20, 25, 2) and slide.downsample == (2.0, 2.0)
        assert slide.pixel_size == pytest.approx((1.0, 0.5))
        np.testing.assert_array_equal(
            slide.read(1, slice(0, 20), slice(None))[..., 0], a[1, ::2, ::2]
        )


def test_a_window_of_an_imaris_file_is_read_alone(tmp_path):
    a = _stack()
    with open_slide(write_imaris(tmp_path / "a.ims", [a])) as slide:
        assert slide.levels == 2 and slide.chunked
        window = slide.read(2, slice(30, 40), slice(40, 50))
    np.testing.assert_array_equal(window[..., 0], a[2, 30:40, 40:50])


def test_a_bigdataviewer_file_reads_its_setups_as_channels_at_the_xmls_voxel(tmp_path):
    a, b = _stack(), _stack()
    a[0, 0, 0] = 65000  # stored as int16 (negative), read as the uint16 it is
    path = write_bdv(tmp_path / "b.h5", [a, b], voxel=(1.5, 0.2, 0.2))
    stack = read_stack(path)
    assert stack.dtype == np.uint16 and stack[0, 0, 0, 0] == 65000
    np.testing.assert_array_equal(stack[..., 1], b)
    found = read_pixel_size(path)
    assert found.size == pytest.approx((0.2, 0.2)) and found.spacing == pytest.approx(1.5)
    with open_slide(path, level=1) as slide:
        assert slide.shape == (3, 20, 25, 2) and slide.pixel_size == pytest.approx((0.4, 0.4))


def test_predict_writes_tiff_labels_at_the_voxel_size_streamed_as_whole(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_imaris(folder / "a.ims", [_stack(), _stack()], voxel=(2.0, 0.5, 0.25))
    predicted_whole_as_streamed(path, tmp_path)


def _cut(path: Path) -> Path:
    write_imaris(path, [_stack()])
    path.write_bytes(path.read_bytes()[:3000])
    return path


def _several(path: Path) -> Path:
    return write_ilastik(path, np.ones((8, 8, 1), np.uint8), raw=np.zeros((8, 8)))


def _wrong_tags(path: Path) -> Path:
    return write_ilastik(path, np.ones((8, 8, 1), np.uint8), "yx")


@pytest.mark.parametrize(
    "make, said",
    [
        (_cut, "cannot be read as HDF5 (Unable to synchronously open file (truncated file"),
        (_several, "an HDF5 file of 2 datasets (exported_data (8, 8, 1), raw (8, 8)), not an"),
        (_wrong_tags, "axistags 'yx' do not name the axes of its dataset of shape (8, 8, 1)"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_the_fix(tmp_path, make, said):
    refused_in_one_line(
        make(tmp_path / "a.h5"), said, ("copy or export it again", "data.h5_dataset=NAME (train)")
    )


def test_an_hdf5_file_named_tif_is_told_to_be_renamed(tmp_path):
    path = tmp_path / "a.tif"
    write_ilastik(path, np.ones((8, 8, 1), np.uint8))
    with pytest.raises(ImageReadError, match=r"an HDF5 file named \.tif: rename it a\.h5"):
        read_stack(path)


def test_without_h5py_one_line_names_the_extra(tmp_path, monkeypatch):
    path = write_ilastik(tmp_path / "a.h5", np.ones((8, 8, 1), np.uint8))
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImageReadError, match=r"a\.h5: reading HDF5 .* pip install 'unetlab\[h5\]'"):
        read_stack(path)


def test_predict_at_level_1_of_an_imaris_file_writes_its_pixels_at_their_size(tmp_path):
    path = write_imaris(tmp_path / "a.ims", [_stack(), _stack()], voxel=(2.0, 0.5, 0.25))
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, [path], tmp_path / "out", level=1)
    assert tifffile.imread(tmp_path / "out" / "a.tif").shape == (3, 20, 25)
    assert read_pixel_size(tmp_path / "out" / "a.tif").size == pytest.approx((1.0, 0.5))


def _images_of_several(root: Path) -> Path:
    """ilastik-style data whose images hold raw beside other datasets (a thumbnail)."""
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for i in range(2):
        img = RNG.integers(0, 255, (32, 32)).astype(np.uint8)
        write_ilastik(root / "images" / f"{i}.h5", img[..., None], raw=img, thumb=img[::4, ::4])
        seg = np.tile([1, 2], (32, 16)).astype(np.uint8)[..., None]
        write_ilastik(root / "masks" / f"{i}.h5", seg)
    return root


def test_a_file_of_several_datasets_reads_the_one_named(tmp_path):
    from unetlab.data.h5 import h5_dataset_read_as

    path = _several(tmp_path / "a.h5")
    with h5_dataset_read_as("raw"):
        np.testing.assert_array_equal(read_stack(path), np.zeros((1, 8, 8)))
        one = write_ilastik(tmp_path / "one.h5", np.ones((8, 8, 1), np.uint8))
        assert read_stack(one, mask=True).max() == 1  # a file of one: whatever its name
    with h5_dataset_read_as("/exported_data"):
        assert read_stack(path).max() == 1  # not the raw read before (held by the name)
    with h5_dataset_read_as("nope"), pytest.raises(ImageReadError) as e:
        read_stack(path)
    assert "raw (8, 8)), none named 'nope', not an ilastik" in str(e.value)


def test_a_pair_reader_keeps_the_dataset_named_where_it_was_made(tmp_path):
    """A data loader's worker reads as the command that made the reader."""
    import pickle

    from unetlab.data.h5 import h5_dataset_read_as
    from unetlab.data.pairs import PairReader

    path = _images_of_several(tmp_path)
    with h5_dataset_read_as("thumb"):
        reader = pickle.loads(pickle.dumps(PairReader()))
    assert reader.stack(path / "images" / "0.h5", mask=False).shape == (1, 8, 8)


def test_train_check_reads_the_dataset_data_h5_dataset_names(tmp_path, capsys, caplog):
    from unetlab.cli import main

    root = _images_of_several(tmp_path / "data")
    assert main(["train", "--data", str(root), "--check"]) == 2
    said = capsys.readouterr().err
    assert "3 datasets (exported_data (32, 32, 1), raw (32, 32), thumb (8, 8))" in said
    assert "--set data.h5_dataset=NAME (train)" in said
    caplog.set_level("INFO")
    assert main(["train", "--data", str(root), "--check", "--set", "data.h5_dataset=raw"]) == 0
    assert "check: 1 training and 1 validation images, classes 1, 2" in caplog.text


def test_predict_and_evaluate_take_h5_dataset(tmp_path, instance_checkpoint, capsys):
    from unetlab.cli import main

    root = _images_of_several(tmp_path / "data")
    model = str(instance_checkpoint)
    out = tmp_path / "out"
    args = ["predict", "--checkpoint", model, "--input", str(root / "images"), "--output"]
    assert main([*args, str(out)]) != 0 and not out.exists()
    assert main([*args, str(out), "--h5-dataset", "raw"]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["0.png", "1.png"]
    evaluate = ["evaluate", "--checkpoint", model, "--data", str(root), "--h5-dataset", "raw"]
    assert main(evaluate) == 0


def test_predict_and_evaluate_read_the_dataset_the_checkpoint_trained_on(
    tmp_path, instance_checkpoint, caplog
):
    """s74: a model trained with data.h5_dataset=raw refused its own files without
    --h5-dataset raw again; the checkpoint's is read, said in one line."""
    import shutil

    from unetlab.checkpoint import update_checkpoint
    from unetlab.cli import main

    root = _images_of_several(tmp_path / "data")
    model = str(shutil.copy(instance_checkpoint, tmp_path / "raw.pt"))
    update_checkpoint(model, train_config={"data": {"h5_dataset": "raw"}})
    caplog.set_level("INFO")
    out = tmp_path / "out"
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                model,
                "--input",
                str(root / "images"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.glob("*.png")) == ["0.png", "1.png"]
    assert "'raw' read, as the checkpoint trained (its data.h5_dataset; --h5-dataset NAME" in (
        caplog.text
    )
    assert main(["evaluate", "--checkpoint", model, "--data", str(root)]) == 0


def test_hdf5_files_holding_no_image_are_passed_over_in_one_line(tmp_path, caplog):
    """s74 user: a Keras unet_membrane.hdf5 among the images stopped training ('no mask in
    masks/ with this name'); before HDF5 was read it was passed over."""
    from unetlab.data.h5 import h5_dataset_read_as
    from unetlab.data.pairs import find_pairs

    root = _images_of_several(tmp_path / "data")
    write_keras(root / "images" / "unet_membrane.hdf5")
    write_keras(root / "images" / "weights.h5", keras=False)
    with h5_dataset_read_as("raw"):
        pairs = find_pairs(root)
        find_pairs(root)
    assert [p.image.name for p in pairs] == ["0.h5", "1.h5"]
    said = [r.getMessage() for r in caplog.records if "passed over" in r.getMessage()]
    assert sorted(s.split("images/")[1] for s in said) == [
        "unet_membrane.hdf5: Keras model weights, no image: passed over",
        "weights.h5: no dataset of numbers on 2 or more axes, no image: passed over",
    ]


def test_an_hdf4_file_is_passed_over_in_a_folder_and_told_alone(
    tmp_path, instance_checkpoint, caplog
):
    """s74 review: an HDF4 MOD021KM.hdf in a TIFF set, passed over before .hdf was read,
    stopped train ('no mask in masks/ with this name') and failed in predict ('a damaged or
    cut-short file': it is whole); an HDF5 file after a user block of 512 bytes is read."""
    from unetlab.cli import main
    from unetlab.data.pairs import find_pairs

    root = tmp_path / "data"
    for folder, value in (("images", 7), ("masks", 1)):
        (root / folder).mkdir(parents=True)
        tifffile.imwrite(root / folder / "0.tif", np.full((32, 32), value, np.uint8))
    hdf4 = root / "images" / "MOD021KM.hdf"
    hdf4.write_bytes(b"\x0e\x03\x13\x01" + bytes(4000))
    (root / "images" / "b.hdf").write_bytes(b"neither" * 100)
    blocked = write_ilastik(tmp_path / "blocked.hdf", np.ones((8, 8, 1), np.uint8))
    (root / "images" / "u.hdf").write_bytes(bytes(512) + blocked.read_bytes())
    assert [p.name for p in find_images(root / "images")] == ["0.tif", "u.hdf"]
    (root / "images" / "u.hdf").unlink()
    assert [p.image.name for p in find_pairs(root)] == ["0.tif"]
    said = [r.getMessage() for r in caplog.records if "passed over" in r.getMessage()]
    assert sorted(s.split("images/")[1] for s in said) == [
        "MOD021KM.hdf: an HDF4 file, not HDF5 (unetlab reads HDF5 alone): passed over",
        "b.hdf: not HDF5, no image: passed over",
    ]
    args = ["predict", "--checkpoint", str(instance_checkpoint), "--output"]
    assert main([*args, str(tmp_path / "out"), "--input", str(root / "images")]) == 0
    with pytest.raises(ImageReadError, match=r"HDF4 file, not HDF5 .*: convert it to HDF5"):
        read_stack(hdf4)


def test_an_ilastik_export_of_three_8_bit_samples_is_a_colour_picture(tmp_path):
    """s74: ilastik's export of an RGB picture (yxc, c=3, uint8) was read as 3 stains, so a
    grey model refused it where a colour PNG is turned into its luminance."""
    from unetlab.data.colour import channels_kind, colour_file

    rgb = write_ilastik(tmp_path / "rgb.h5", _stack((40, 50, 3)).astype(np.uint8))
    stains = write_ilastik(tmp_path / "stains.h5", _stack((40, 50, 3)))
    ims = write_imaris(tmp_path / "a.ims", [_stack((1, 40, 50)).astype(np.uint8)] * 3)
    assert [colour_file(p) for p in (rgb, stains, ims)] == [True, False, False]
    assert [channels_kind(p) for p in (rgb, stains, ims)] == ["colours", "stains", "stains"]
    assert colour_file(rgb, mask=True) is False


def test_evaluate_names_an_hdf5_stacks_pages_by_its_axes(tmp_path):
    """s74: evaluate's per-image rows named an ilastik zyx export's planes ``page`` alone
    (its frames listed TIFF and MRC files apart from the readers' list)."""
    from unetlab.data.nodata import file_nodata
    from unetlab.evaluate.frames import PageColumns

    path = write_ilastik(tmp_path / "z.h5", _stack((3, 40, 50)), keys="zyx")
    assert PageColumns()(path, 2, 3) == {"page": 2, "z": 2}
    assert file_nodata(path).value is None and not file_nodata(path).pil_alpha


def test_imaris_time_points_are_the_outputs_t_streamed_as_read_whole(tmp_path):
    """Before: streamed, the 2 x 3 pages of a 2-time-point .ims came out as 6 Z planes."""
    from unetlab.inference.records import OutputOptions

    a = _stack()
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_imaris(folder / "t.ims", [a], times=2)
    stack = read_stack(path)
    assert stack.shape == (6, 40, 50) and (stack[3:] == a // 2).all()
    found = read_page_axes(path, 6)
    assert (found.letters, found.shape) == ("TZ", (2, 3))
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "whole")
    predict_folder(net, folder, tmp_path / "streamed", OutputOptions(large_threshold=100))
    for how in ("whole", "streamed"):
        with tifffile.TiffFile(tmp_path / how / "t.tif") as tif:
            assert (tif.series[0].axes, tif.series[0].shape) == ("TZYX", (2, 3, 40, 50)), how


class _Counted:
    """A file read through h5py that counts the bytes read of it."""

    def __init__(self, path: Path, counts: list):
        self._file = open(path, "rb")  # noqa: SIM115 - h5py's until the slide is closed
        self._counts = counts

    def readinto(self, buffer):
        self._counts.append(self._file.readinto(buffer))
        return self._counts[-1]

    def __getattr__(self, name):
        return getattr(self._file, name)


def test_planes_of_chunks_many_planes_deep_are_read_once_each(tmp_path, monkeypatch):
    """Before: h5py's chunk cache (1 MiB; here a quarter, for an image of 4 MiB) let each
    chunk 8 planes deep be read again for each plane streamed (s73 review: a 16 x 2048² .ims,
    chunks 16 deep, decoded 11 times: 10.6 s CPU plane by plane, 0.9 s read whole)."""
    import h5py

    a = RNG.integers(0, 60000, (8, 512, 512)).astype(np.uint16)
    path = write_imaris(tmp_path / "z.ims", [a], chunk=64, depth=8)
    counts: list[int] = []
    opened = h5py.File
    small = dict(rdcc_nbytes=1 << 18)  # h5py's default 1 MiB, as small as the image is
    monkeypatch.setattr(h5py, "File", lambda p, mode: opened(_Counted(p, counts), mode, **small))
    with open_slide(path) as slide:
        for page in range(8):
            for top in range(0, 512, 128):
                block = slide.read(page, slice(top, top + 128), slice(None))
                np.testing.assert_array_equal(block[..., 0], a[page, top : top + 128])
    assert 4 << 20 <= sum(counts) < 1.2 * a.nbytes  # 4 MiB of level 0: read once


def _edited(path: Path, edit) -> Path:
    import h5py

    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _no_channel_1_at_t1(path):
    write_imaris(path, [_stack(), _stack()], times=2)
    return _edited(path, lambda f: f.__delitem__("DataSet/ResolutionLevel 0/TimePoint 1/Channel 1"))


def _no_channels(path):
    write_imaris(path, [_stack()])
    return _edited(path, lambda f: f.__delitem__("DataSet/ResolutionLevel 0/TimePoint 0/Channel 0"))


def _no_levels(path):
    write_imaris(path, [_stack()])
    return _edited(path, lambda f: [f["DataSet"].__delitem__(k) for k in list(f["DataSet"])])


def _setup_missing(path):
    write_bdv(path, [_stack(), _stack()])
    return _edited(path, lambda f: f.__delitem__("t00000/s01"))


def _setups_differ(path):
    return write_bdv(path, [_stack(), _stack((3, 30, 50))])


def _empty(path):
    return _edited(path, lambda f: f.create_dataset("d", shape=(0, 10), dtype="u1"))


def _groups_only(path):
    return _edited(path, lambda f: f.create_group("a/b"))


def _text(path):
    return _edited(path, lambda f: f.create_dataset("s", data=b"hello"))


def _one_axis(path):
    return _edited(path, lambda f: f.create_dataset("s", data=np.arange(9)))


@pytest.mark.parametrize(
    "make, said",
    [
        (_no_channel_1_at_t1, "lacks DataSet/ResolutionLevel 0/TimePoint 1/Channel 1/Data: a dam"),
        (_no_channels, "an Imaris file with no Channel in /DataSet/ResolutionLevel 0/TimePoint 0"),
        (_no_levels, "an Imaris file with no ResolutionLevel in /DataSet: a damaged"),
        (_setup_missing, "lacks t00000/s01/0/cells: a damaged or cut-short file"),
        (_setups_differ, "(3, 40, 50) and t00000/s01/0/cells (3, 30, 50) differ in size, so are"),
        (_empty, "its image d is empty: a damaged"),
        (_groups_only, "holds no dataset, only groups (no image)"),
        (_text, "its dataset 's' (object, shape ()) is no image (one is numbers on 2 or more"),
        (
            _one_axis,
            "'s' (int64, shape (9,)) is no image (one is numbers on 2 or more axes): remove it",
        ),
    ],
)
def test_a_file_of_missing_odd_or_empty_datasets_is_one_line_and_left_closed(tmp_path, make, said):
    """Before: tracebacks (IndexError, KeyError, ZeroDivisionError) with the file left open,
    or lines naming the wrong problem ("a damaged file" for a 1-D dataset, "0 datasets")."""
    import h5py

    path = make(tmp_path / ("a.ims" if "Imaris" in said or "Data" in said else "a.h5"))
    for read in (read_stack, open_slide):
        with pytest.raises(ImageReadError) as e:
            read(path)
        line = str(e.value)
        assert line.startswith(f"{path}: ") and said in line and "\n" not in line, line
    assert h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE) == 0  # every file closed


def test_a_file_open_for_writing_elsewhere_is_told_to_be_closed_there(tmp_path):
    import fcntl

    path = write_ilastik(tmp_path / "a.h5", np.ones((8, 8, 1), np.uint8))
    with open(path, "rb+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as HDF5 locks a file it writes
        with pytest.raises(ImageReadError, match=r"a\.h5: open for writing in another program"):
            read_stack(path)


def test_a_level_the_file_lacks_is_refused_as_a_tiffs_is(tmp_path):
    """Before: 'has 1 resolution level(s) (0-0), not level 1' where a TIFF says 'drop --level
    1 (full resolution)'; no libvips copy is offered (libvips reads no HDF5)."""
    from unetlab.errors import UnetlabError

    one = write_ilastik(tmp_path / "a.h5", np.ones((8, 8, 1), np.uint8))
    with pytest.raises(UnetlabError) as e:
        open_slide(one, level=1)
    assert "a.h5: has no pyramid (level 0 alone): give level=0" in str(e.value)
    assert "libvips" not in str(e.value)
    two = write_imaris(tmp_path / "a.ims", [_stack()])
    with pytest.raises(UnetlabError, match=r"a\.ims: has 2 pyramid levels; choose level=0 to"):
        open_slide(two, level=2)


def _corrupt_chunk(path: Path) -> Path:
    import h5py

    with h5py.File(path, "a") as f:
        d = f.create_dataset("bad", data=_stack((64, 64)), chunks=(32, 32), compression="gzip")
        d.id.write_direct_chunk((32, 32), b"\xff" * 50, filter_mask=0)  # not gzip
    return path


def test_what_else_each_layout_says_is_read_as_it_says(tmp_path):
    """Cases no test caught a change of (s73 review): nm voxels, ilastik's t, pages of no
    axistags, a level of fewer planes, an unreadable size, a corrupt chunk, a cut .ims."""
    from unetlab.data.h5 import h5_dataset_read_as, h5_page_axes

    path = write_imaris(tmp_path / "nm.ims", [_stack()], voxel=(2000, 500, 250), unit="nm")
    found = read_pixel_size(path)
    assert found.size == pytest.approx((0.5, 0.25)) and found.spacing == pytest.approx(2.0)
    tyx = write_ilastik(tmp_path / "t.h5", _stack(), "tyx")
    assert read_page_axes(tyx, 3).letters == "T"
    bare = write_ilastik(tmp_path / "bare.h5", _stack(), None)
    assert read_page_axes(bare, 3).letters == "Q"
    times = write_imaris(tmp_path / "t2.ims", [_stack()], times=2)
    assert h5_page_axes(times, 4) == ("TZ", (2, 2))  # a level of 2 planes a time point
    sized = write_imaris(tmp_path / "size.ims", [_stack()])
    key = "DataSet/ResolutionLevel 0/TimePoint 0/Channel 0"
    _edited(sized, lambda f: f[key].attrs.__setitem__("ImageSizeX", np.array([b"a"], "S1")))
    with pytest.raises(ImageReadError, match=r"size\.ims: invalid literal .*: a damaged or cut"):
        read_stack(sized)
    corrupt = _corrupt_chunk(_several(tmp_path / "c.h5"))
    said = r"c\.h5: cannot read its pixels \(.*: a damaged or"
    with pytest.raises(ImageReadError, match=said), h5_dataset_read_as("bad"):
        read_stack(corrupt)
    with pytest.raises(ImageReadError) as e:
        read_stack(_cut(tmp_path / "cut.ims"))
    assert "cut.ims: cannot be read as HDF5" in str(e.value) and "rename" not in str(e.value)


def test_predict_opens_a_small_file_once_or_twice(
    tmp_path, instance_checkpoint, monkeypatch, settled_inputs
):
    """Before: 9 opens of a file (its header by the checks 5, h5_pixel_size 2, the read)."""
    import h5py

    from unetlab.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    write_ilastik(folder / "a.h5", RNG.integers(0, 255, (32, 32, 1)).astype(np.uint8))
    opens: list[str] = []
    opened = h5py.File
    monkeypatch.setattr(h5py, "File", lambda p, mode: opens.append(p) or opened(p, mode))
    args = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(folder)]
    assert main([*args, "--output", str(tmp_path / "out")]) == 0
    assert len(opens) <= 2, opens  # 9 before


def test_bigstitcher_tiles_are_views_not_channels_one_read_said(tmp_path, caplog):
    """s74: BigStitcher's setups of 2 tiles x 2 channels were read as 4 channels (tiles of
    one size): the .xml's ViewSetup attributes say which setups are one view's channels."""
    from unetlab.data.h5 import h5_dataset_read_as

    stacks = [_stack(), _stack(), _stack(), _stack()]
    views = [{"channel": c, "tile": t, "angle": 0} for t in (0, 1) for c in (0, 1)]
    path = write_bdv(tmp_path / "stitch.h5", stacks, views=views)
    np.testing.assert_array_equal(read_stack(path), np.stack(stacks[:2], -1))
    said = [r.getMessage() for r in caplog.records if "views of BigStitcher" in r.getMessage()]
    assert len(said) == 1 and "tile 0, angle 0, illumination 0 read (s00, s01" in said[0]
    assert "--h5-dataset s02" in said[0]
    with h5_dataset_read_as("s02"):
        np.testing.assert_array_equal(read_stack(path), np.stack(stacks[2:], -1))
    channels = write_bdv(tmp_path / "ch.h5", stacks[:3], views=[{"channel": c} for c in range(3)])
    assert read_stack(channels).shape == (3, 40, 50, 3)  # setups of channels alone: channels


def test_a_keras_model_beside_the_data_set_is_not_said(tmp_path, caplog):
    """s74: train --data cremi/ said "k/images/unet_membrane.hdf5: Keras model weights, no
    image: passed over" of a folder beside it, which no command read (its parent looked at
    for a layout); the data set's own is said."""
    from unetlab.data.h5 import h5_dataset_read_as
    from unetlab.data.pairs import data_set_above, find_pairs

    root = _images_of_several(tmp_path / "data")
    for folder in ("images", "masks"):  # a Keras U-Net's data/membrane/train/, beside
        (tmp_path / "k" / folder).mkdir(parents=True)
    write_keras(tmp_path / "k" / "images" / "unet_membrane.hdf5")
    with h5_dataset_read_as("raw"):
        assert len(find_pairs(root)) == 2
        assert data_set_above(root) is None  # train's look: is data/ a part of a data set?
    assert "unet_membrane" not in caplog.text


def test_the_help_of_h5_dataset_names_every_suffix_read_and_the_checkpoints_default():
    """s74 review: --h5-dataset's help said its default was "the file's one" (the
    checkpoint's is read) and listed .h5 and .hdf5 alone, the config keys two apiece."""
    from unetlab.cli.predict import H5_DATASET
    from unetlab.config.sections import DataSection
    from unetlab.data.h5 import H5_SUFFIXES

    keys = {f.name: f.metadata["help"] for f in dataclasses.fields(DataSection)}
    helps = [H5_DATASET, keys["h5_dataset"], keys["h5_mask_dataset"]]
    assert all(f"({', '.join(('.h5', '.hdf5', '.hdf', '.ims'))})" in h for h in helps)
    assert sorted(H5_SUFFIXES) == sorted((".h5", ".hdf5", ".hdf", ".ims"))
    assert "default: the checkpoint's data.h5_dataset" in H5_DATASET


def test_a_bigstitcher_view_named_by_the_checkpoint_is_said_at_its_own_voxel(tmp_path, caplog):
    """s75: a checkpoint trained on BigStitcher's view of setup s02 read it unsaid (a file
    of several's dataset is said), at the voxel size of the .xml's first setup."""
    from unetlab.data.h5 import trained_h5_datasets

    stacks = [_stack(), _stack(), _stack(), _stack()]
    views = [{"channel": c, "tile": t, "angle": 0} for t in (0, 1) for c in (0, 1)]
    path = write_bdv(tmp_path / "stitch.h5", stacks, voxel=(1.5, 0.2, 0.2), views=views)
    xml = path.with_suffix(".xml")
    head, *setups = xml.read_text(encoding="utf-8").split("<ViewSetup>")
    setups[2:] = [s.replace("0.2 0.2 1.5", "0.4 0.4 3") for s in setups[2:]]  # tile 1's
    xml.write_text("<ViewSetup>".join([head, *setups]), encoding="utf-8")
    caplog.set_level("INFO")
    with trained_h5_datasets({"h5_dataset": "s02"}):
        np.testing.assert_array_equal(read_stack(path), np.stack(stacks[2:], -1))
        found = read_pixel_size(path)
    assert found.size == pytest.approx((0.4, 0.4)) and found.spacing == pytest.approx(3.0)
    assert "'s02' read, as the checkpoint trained (its data.h5_dataset" in caplog.text
    assert read_pixel_size(path).size == pytest.approx((0.2, 0.2))  # s00's view: its own


@pytest.mark.parametrize("named", [None, "s01"])
def test_a_bigdataviewer_setup_without_a_voxel_size_reads_the_first_given(tmp_path, named):
    """s75 review: the setup read (the first, or the checkpoint's sNN view) giving no
    voxelSize gave no pixel size, where another setup of the .xml gives it (before: the
    first that gives one): 2 channels, the first without; 2 tiles, s01 without."""
    from unetlab.data.h5 import trained_h5_datasets

    views = [{"channel" if named is None else "tile": i} for i in (0, 1)]
    path = write_bdv(tmp_path / "v.h5", [_stack(), _stack()], voxel=(1.5, 0.2, 0.2), views=views)
    xml = path.with_suffix(".xml")
    head, *setups = xml.read_text(encoding="utf-8").split("<ViewSetup>")
    without = int(named[1:]) if named else 0
    setups[without] = re.sub("<voxelSize>.*</voxelSize>", "", setups[without])
    xml.write_text("<ViewSetup>".join([head, *setups]), encoding="utf-8")
    with trained_h5_datasets({"h5_dataset": named}):
        found = read_pixel_size(path)
    assert found.size == pytest.approx((0.2, 0.2)) and found.spacing == pytest.approx(1.5)
