"""NumPy files as images and masks (s72 new users: a notebook user's np.save / np.savez arrays
and a cellpose user's X_seg.npy beside X.tif were "no images found" and unpaired masks)."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, predict_folder
from unetlab.data.io import find_images, read_stack, stack_size
from unetlab.data.names import holds_object_ids
from unetlab.data.pairs import find_pairs
from unetlab.errors import ImageReadError

RNG = np.random.default_rng(0)


def _array(shape, dtype="f4") -> np.ndarray:
    return (RNG.random(shape) * 200).astype(dtype)


def write_seg(path, masks, **more) -> Path:
    """A cellpose ``_seg.npy``: its GUI's dict of numpy arrays, lists, strings and numpy
    scalars, pickled by np.save as cellpose saves it."""
    held = {
        "masks": masks,
        "outlines": np.zeros_like(masks),
        "filename": str(Path(path).with_name(Path(path).name.replace("_seg.npy", ".tif"))),
        "flows": [np.zeros((*masks.shape, 3), np.uint8), np.zeros((2, *masks.shape), "f4")],
        "chan_choose": [0, 0],
        "ismanual": np.ones(int(masks.max()), bool),
        "est_diam": np.float64(17.5),
        "colors": np.zeros((3, 3), np.uint8),
        **more,
    }
    np.save(path, held, allow_pickle=True)
    return Path(path)


@pytest.mark.parametrize(
    ("shape", "dtype"),
    [
        ((40, 48), "f4"),
        ((40, 48), "f8"),
        ((40, 48, 3), "u1"),
        ((40, 48, 4), "f4"),
        ((3, 40, 48), "f4"),
        ((5, 40, 48), "u2"),
        ((2, 3, 40, 48), "f4"),
        ((40, 48), ">f4"),
    ],
)
@pytest.mark.parametrize("colour_planes", [False, True])
def test_an_array_reads_as_the_tiff_tifffile_saves_of_it(tmp_path, shape, dtype, colour_planes):
    """The axes rule is a bare TIFF's: an (H, W, 3|4) array is a colour picture, a (C, H, W)
    one pages (one colour image to a colour model), as the TIFF tifffile.imwrite saves."""
    arr = _array(shape, dtype)
    np.save(tmp_path / "a.npy", arr)
    tifffile.imwrite(tmp_path / "a.tif", arr)
    ours = read_stack(tmp_path / "a.npy", colour_planes=colour_planes)
    theirs = read_stack(tmp_path / "a.tif", colour_planes=colour_planes)
    assert ours.shape == theirs.shape and ours.dtype.isnative
    np.testing.assert_array_equal(ours, theirs)
    assert stack_size(tmp_path / "a.npy") == stack_size(tmp_path / "a.tif")


def test_one_channel_last_is_one_grey_image(tmp_path):
    """(H, W, 1), which a TIFF would store as H pages of one column, is one grey image."""
    arr = _array((40, 48, 1))
    np.save(tmp_path / "a.npy", arr)
    np.testing.assert_array_equal(read_stack(tmp_path / "a.npy"), arr[None, ..., 0])
    assert stack_size(tmp_path / "a.npy") == (1, 40, 48, 1)


@pytest.mark.parametrize("channels", [2, 5])
def test_channels_last_but_colours_are_refused_naming_moveaxis(tmp_path, channels):
    """(H, W, 2) would read as 40 planes of 48 x 2 pixels: refused, with the (C, H, W) fix."""
    np.save(tmp_path / "a.npy", _array((40, 48, channels)))
    for read in (read_stack, stack_size):
        with pytest.raises(ImageReadError) as e:
            read(tmp_path / "a.npy")
        assert f"reads as 40 planes of 48 x {channels} pixels" in str(e.value)
        assert "np.moveaxis(array, -1, 0)" in str(e.value) and "--axes YXC" in str(e.value)


def test_axes_given_read_a_narrow_last_axis_as_a_tiffs(tmp_path):
    """s72 review 4: --axes YXC of an (H, W, 2) array was refused by the narrow-axis rule
    before the axes given were read; the same TIFF reads (README: "as for such a TIFF")."""
    arr = _array((40, 48, 2))
    np.save(tmp_path / "a.npy", arr)
    tifffile.imwrite(tmp_path / "a.tif", arr, photometric="minisblack")
    ours = read_stack(tmp_path / "a.npy", axes="YXC")
    np.testing.assert_array_equal(ours, read_stack(tmp_path / "a.tif", axes="YXC"))
    assert ours.shape == (1, 40, 48, 2)
    assert stack_size(tmp_path / "a.npy", axes="YXC") == (1, 40, 48, 2)


def test_npz_images_and_masks_and_one_array(tmp_path):
    images, masks = _array((3, 40, 48)), RNG.integers(0, 4, (3, 40, 48))
    np.savez(tmp_path / "data.npz", images=images, masks=masks)
    np.testing.assert_array_equal(read_stack(tmp_path / "data.npz"), images)
    np.testing.assert_array_equal(read_stack(tmp_path / "data.npz", mask=True), masks)
    np.savez_compressed(tmp_path / "one.npz", x=images[0])
    np.testing.assert_array_equal(read_stack(tmp_path / "one.npz"), images[:1])
    np.savez(tmp_path / "other.npz", x=images, y=masks)
    with pytest.raises(ImageReadError, match=r"other.npz: an .npz of arrays x, y, none named "):
        read_stack(tmp_path / "other.npz")


def test_npy_and_npz_files_are_found_in_a_folder_and_pair(tmp_path):
    """images/a.npy + masks/a.npy (and .npz) pair by stem, as TIFFs do."""
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    np.save(tmp_path / "images" / "a.npy", _array((40, 48)))
    np.save(tmp_path / "masks" / "a.npy", RNG.integers(0, 2, (40, 48)))
    np.savez(tmp_path / "images" / "b.npz", _array((40, 48)))
    np.savez(tmp_path / "masks" / "b.npz", RNG.integers(0, 2, (40, 48)))
    assert [p.name for p in find_images(tmp_path / "images")] == ["a.npy", "b.npz"]
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs] == [("a.npy", "a.npy"), ("b.npz", "b.npz")]


def test_a_cellpose_seg_file_gives_its_masks_and_pairs_with_its_image(tmp_path):
    """X_seg.npy beside X.tif: its masks (ids, by what the file is, 8-bit too) are X's."""
    masks = np.zeros((40, 48), np.uint8)
    masks[5:15, 5:15], masks[20:30, 20:30] = 1, 2
    tifffile.imwrite(tmp_path / "x.tif", _array((40, 48), "u1"))
    seg = write_seg(tmp_path / "x_seg.npy", masks)
    np.testing.assert_array_equal(read_stack(seg, mask=True), masks[None])
    assert stack_size(seg) == (1, 40, 48, 1)
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs] == [("x.tif", "x_seg.npy")]
    assert holds_object_ids(seg)


def test_a_cellpose_seg_file_is_no_image(tmp_path):
    seg = write_seg(tmp_path / "x_seg.npy", np.ones((40, 48), np.uint16))
    with pytest.raises(ImageReadError, match="x_seg.npy: cellpose's masks file, which holds no"):
        read_stack(seg)


class _Runs:
    """A pickle that runs a program as it loads (``command``)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("name", ["x_seg.npy", "x.npy"])
def test_a_pickle_that_runs_a_program_is_refused_without_running_it(tmp_path, name):
    """A _seg.npy whose pickle asks for os.system is refused naming the file (its program
    never runs); any other pickled .npy is never unpickled at all."""
    ran = tmp_path / "ran"
    held = {"masks": np.ones((40, 48), np.uint16), "x": _Runs(f"touch {ran}")}
    np.save(tmp_path / name, held, allow_pickle=True)
    with pytest.raises(ImageReadError) as e:
        read_stack(tmp_path / name, mask=True)
    assert str(e.value).startswith(f"{tmp_path / name}: ") and "\n" not in str(e.value)
    assert ("system" in str(e.value)) == (name == "x_seg.npy")
    assert name == "x_seg.npy" or "a pickled .npy (Python objects" in str(e.value)
    assert not ran.exists()


def test_a_pickled_npz_is_refused_never_loaded(tmp_path):
    """An .npz holding an array of objects (np.savez pickles it) is refused by its header,
    named as a pickle (it was "not a NumPy .npz file ... use np.save"); never unpickled."""
    ran = tmp_path / "ran"
    held = np.array([_Runs(f"touch {ran}")], object)
    np.savez(tmp_path / "x.npz", images=held, masks=np.ones((4, 4), np.uint8))
    with pytest.raises(ImageReadError, match=r"x.npz: a pickled .npz \(Python objects"):
        read_stack(tmp_path / "x.npz")
    assert not ran.exists()
    np.testing.assert_array_equal(read_stack(tmp_path / "x.npz", mask=True), np.ones((1, 4, 4)))


def test_a_npy_is_memory_mapped(tmp_path):
    """A .npy's pixels are read from a memory map (a 20k x 20k one streams window by
    window), never loaded whole to be sliced."""
    from unetlab.data.npy import npy_map

    np.save(tmp_path / "a.npy", _array((40, 48)))
    assert isinstance(npy_map(tmp_path / "a.npy"), np.memmap)


@pytest.mark.parametrize(
    "payload",
    [
        {"masks": np.ones((4, 4), np.uint16), "f": eval},
        {"masks": np.ones((4, 4), np.uint16), "p": Path("a")},
        {"masks": [[1, 2]]},
        {"outlines": np.ones((4, 4), np.uint16)},
    ],
)
def test_a_seg_file_of_anything_else_is_one_line(tmp_path, payload):
    np.save(tmp_path / "x_seg.npy", payload, allow_pickle=True)
    with pytest.raises(ImageReadError, match=r"x_seg.npy: "):
        read_stack(tmp_path / "x_seg.npy", mask=True)


def test_a_raw_pickle_named_seg_npy_is_refused(tmp_path):
    """A file of no .npy header (a bare pickle) is no NumPy file: refused, never unpickled."""
    (tmp_path / "x_seg.npy").write_bytes(pickle.dumps(_Runs(f"touch {tmp_path / 'ran'}")))
    with pytest.raises(ImageReadError, match="not a NumPy .npy file"):
        read_stack(tmp_path / "x_seg.npy", mask=True)
    assert not (tmp_path / "ran").exists()


def test_files_of_another_kind_are_named(tmp_path):
    np.save(tmp_path / "a.npy", _array((40, 48)))
    (tmp_path / "a.tif").write_bytes((tmp_path / "a.npy").read_bytes())
    with pytest.raises(ImageReadError, match="a NumPy file named .tif: rename it a.npy"):
        read_stack(tmp_path / "a.tif")
    (tmp_path / "b.npy").write_bytes(b"not an array at all")
    with pytest.raises(ImageReadError, match="b.npy: not a NumPy .npy file"):
        read_stack(tmp_path / "b.npy")
    np.save(tmp_path / "c.npy", np.array(["a", "b"]))
    with pytest.raises(ImageReadError, match="c.npy: holds <U1 values, not numbers"):
        read_stack(tmp_path / "c.npy")


def test_a_truncated_npy_is_one_line(tmp_path):
    np.save(tmp_path / "a.npy", _array((40, 48)))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="a.npy: cannot be read .*copy the file again"):
        read_stack(tmp_path / "a.npy")


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="same").eval()


def test_predict_writes_an_arrays_outputs_as_a_tiffs_and_keeps_it(tmp_path):
    """A 2-D array's labels are a PNG, a stack's a TIFF, probabilities TIFFs, as a TIFF
    input's; no output is an .npy and the inputs are kept."""
    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "a.npy", _array((32, 36)))
    np.save(folder / "z.npy", _array((3, 32, 36)))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    predict_folder(_net(), folder, tmp_path / "out", save_probabilities=True)
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name[0] != ".")
    assert written == ["a.png", "a_prob.tif", "predict.json", "z.tif", "z_prob.tif"]
    assert tifffile.imread(tmp_path / "out" / "z.tif").shape == (3, 32, 36)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("dtype", ["<f4", ">i2"])
def test_a_window_reads_from_a_memory_map(tmp_path, dtype):
    from unetlab.data.slides import open_slide

    arr = _array((2, 30, 40), dtype)
    np.save(tmp_path / "a.npy", arr)
    with open_slide(tmp_path / "a.npy") as slide:
        assert slide.shape == (2, 30, 40, 1) and slide.pixel_size is None
        window = slide.read(1, slice(5, 9), slice(0, 40))
    assert window.dtype.isnative
    np.testing.assert_array_equal(window[..., 0], arr[1, 5:9])


@pytest.mark.parametrize("shape", [(64, 72), (64, 72, 3)])
def test_a_large_npy_is_streamed_as_read_whole(tmp_path, shape):
    """A .npy over the threshold is predicted window by window from a memory map (as a
    large TIFF is), its labels those of a whole read."""
    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slides import is_large

    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "a.npy", _array(shape, "u1"))
    assert is_large(folder / "a.npy", threshold=100)
    predict_folder(_net(), folder, tmp_path / "whole")
    predict_folder(_net(), folder, tmp_path / "streamed", OutputOptions(large_threshold=100))
    from PIL import Image

    whole = np.asarray(Image.open(tmp_path / "whole" / "a.png"))
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "streamed" / "a.tif"), whole)


def test_pickles_and_npz_files_are_never_streamed(tmp_path):
    from unetlab.inference.slides import is_large

    write_seg(tmp_path / "x_seg.npy", np.ones((40, 48), np.uint16))
    np.save(tmp_path / "o.npy", {"a": 1}, allow_pickle=True)
    np.savez(tmp_path / "z.npz", _array((40, 48)))
    assert not any(is_large(tmp_path / n, threshold=1) for n in ("x_seg.npy", "o.npy", "z.npz"))


@pytest.mark.parametrize("axes", ["CYX", "ZYX", "YXC"])
def test_axes_given_read_an_array_as_a_bare_tiffs(tmp_path, axes):
    """--axes names an array's axes as a bare TIFF's (an array records none)."""
    arr = _array((3, 40, 48) if axes != "YXC" else (40, 48, 3))
    np.save(tmp_path / "a.npy", arr)
    tifffile.imwrite(tmp_path / "a.tif", arr)
    ours = read_stack(tmp_path / "a.npy", axes=axes)
    np.testing.assert_array_equal(ours, read_stack(tmp_path / "a.tif", axes=axes))
    assert stack_size(tmp_path / "a.npy", axes=axes) == stack_size(tmp_path / "a.tif", axes=axes)


def test_a_stack_of_time_points_is_streamed_as_read_whole(tmp_path):
    from unetlab.inference.records import OutputOptions

    folder = tmp_path / "in"
    folder.mkdir()
    np.save(folder / "t.npy", _array((3, 32, 36)))
    predict_folder(_net(), folder, tmp_path / "whole", axes="TYX")
    large = OutputOptions(large_threshold=100)
    predict_folder(_net(), folder, tmp_path / "streamed", large, axes="TYX")
    whole, streamed = (tifffile.imread(tmp_path / d / "t.tif") for d in ("whole", "streamed"))
    np.testing.assert_array_equal(streamed, whole)


def _damaged_npz(path: Path, how: str) -> Path:
    """A compressed .npz whose deflate stream is broken (``stream``: zlib.error) or whose
    central directory names a compression zipfile has not (``method``: NotImplementedError)."""
    np.savez_compressed(path, images=RNG.random((2, 40, 48)).astype("f4"))
    data = bytearray(path.read_bytes())
    if how == "stream":  # the first deflate block's type: 3, which no stream has
        name_len, extra_len = int.from_bytes(data[26:28], "little"), data[28] | data[29] << 8
        data[30 + name_len + extra_len] = 0xFF
    else:
        at = data.rfind(b"PK\x01\x02")
        data[at + 10 : at + 12] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("how", ["stream", "method"])
def test_a_damaged_npz_is_one_line(tmp_path, how):
    """s72 re-review 5: a damaged compressed .npz raised zlib.error (280 of 3,000 damages) or
    zipfile's NotImplementedError (~45): a traceback. Now: one line naming the file."""
    npz = _damaged_npz(tmp_path / "x.npz", how)
    with pytest.raises(ImageReadError, match=r"x.npz: not a NumPy .npz file \("):
        read_stack(npz)


def test_an_npz_s_size_is_read_from_its_member_s_header(tmp_path, monkeypatch):
    """An .npz's size was found by decompressing its array (up to three times a file before
    its pixels were read: s72 re-read); now from the member's header, its array unloaded."""
    images = np.zeros((3, 40, 48), np.float32)
    np.savez_compressed(tmp_path / "d.npz", images=images, masks=images.astype(np.uint8))

    def loaded(self, key):
        raise AssertionError(f"{key} decompressed for its size")

    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__", loaded)
    assert stack_size(tmp_path / "d.npz")[:3] == (3, 40, 48)
