"""Image I/O: formats, bit depths, stacks, masks, atomic writes, one-line errors."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.data.io import atomic_path, find_images, read_image, read_mask, read_stack, write_png
from unetlab.errors import ImageReadError


def test_formats_and_dtypes(tmp_path):
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (7, 5), dtype=np.uint8)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    deep = rng.integers(0, 65536, (7, 5), dtype=np.uint16)
    Image.fromarray(grey).save(tmp_path / "g.png")
    Image.fromarray(rgb).save(tmp_path / "c.jpg")
    tifffile.imwrite(tmp_path / "d.tif", deep)
    Image.fromarray(deep).save(tmp_path / "d16.png")
    assert np.array_equal(read_image(tmp_path / "g.png"), grey)
    assert read_image(tmp_path / "c.jpg").shape == (7, 5, 3)
    assert np.array_equal(read_image(tmp_path / "d.tif"), deep)
    d16 = read_image(tmp_path / "d16.png")
    assert d16.dtype == np.uint16 and np.array_equal(d16, deep)


def test_tiff_stacks(tmp_path):
    stack = np.arange(3 * 4 * 6, dtype=np.uint8).reshape(3, 4, 6)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    assert np.array_equal(read_stack(tmp_path / "s.tif"), stack)
    with pytest.raises(ImageReadError, match="3 pages"):
        read_image(tmp_path / "s.tif")
    rgb = np.zeros((2, 4, 6, 3), np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    assert read_stack(tmp_path / "rgb.tif").shape == (2, 4, 6, 3)


def test_palette_mask_gives_indices(tmp_path):
    idx = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    im = Image.fromarray(idx, mode="P")
    im.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9))
    im.save(tmp_path / "m.png")
    assert np.array_equal(read_mask(tmp_path / "m.png"), idx)
    # as an image the palette is expanded to colours
    assert read_image(tmp_path / "m.png").shape == (2, 3, 3)


def test_a_palette_image_of_a_grey_palette_is_grey(tmp_path):
    """A grey GIF (Pillow writes a grey palette) was read as RGB, and called a 'colour image'
    given to a grey model (s30)."""
    for odd in (0, 1):  # every value, exactly (all 256 at once: Pillow opens the file as L)
        grey = (np.arange(128, dtype=np.uint8) * 2 + odd).reshape(8, 16)
        Image.fromarray(grey).save(tmp_path / "g.gif")
        with Image.open(tmp_path / "g.gif") as im:
            assert im.mode == "P"
        np.testing.assert_array_equal(read_image(tmp_path / "g.gif"), grey)
    palette = Image.fromarray(np.array([[0, 1], [2, 1]], np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 7, 7, 7, 250, 250, 250])
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png"), [[0, 7], [250, 7]])
    np.testing.assert_array_equal(read_mask(tmp_path / "p.png"), [[0, 1], [2, 1]])  # indices
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[0, 0] = (200, 30, 40)
    Image.fromarray(colour).save(tmp_path / "c.gif")
    np.testing.assert_array_equal(read_image(tmp_path / "c.gif"), colour)


def test_rgb_masks(tmp_path):
    grey_rgb = np.repeat(np.array([[0, 255]], np.uint8)[..., None], 3, axis=2)
    Image.fromarray(grey_rgb).save(tmp_path / "ok.png")
    assert np.array_equal(read_mask(tmp_path / "ok.png"), [[0, 255]])
    colour = grey_rgb.copy()
    colour[0, 0] = (255, 0, 0)
    Image.fromarray(colour).save(tmp_path / "bad.png")
    with pytest.raises(ImageReadError, match="colour .RGB. image"):
        read_mask(tmp_path / "bad.png")


def test_corrupt_and_missing_files_one_line(tmp_path):
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(tmp_path / "ok.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "ok.png").read_bytes()[:40])
    (tmp_path / "text.png").write_text("not an image")
    for name in ("cut.png", "text.png", "missing.png"):
        with pytest.raises(ImageReadError) as info:
            read_image(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)


def test_a_bug_in_the_axes_rule_keeps_its_traceback(tmp_path, monkeypatch):
    """Only tifffile's and Pillow's calls are read as "a corrupt file": a TypeError of
    unetlab's own axes rule was reported as "cannot read this image" (exit 2, no traceback)."""
    from unetlab.data import io

    tifffile.imwrite(tmp_path / "ok.tif", np.zeros((2, 8, 9), np.uint8))
    (tmp_path / "cut.tif").write_bytes((tmp_path / "ok.tif").read_bytes()[:30])

    def broken(*args, **kwargs):
        raise TypeError("a bug of unetlab")

    monkeypatch.setattr(io, "axes_letters", broken)
    for read in (read_stack, io.stack_shape):
        with pytest.raises(TypeError, match="a bug of unetlab"):
            read(tmp_path / "ok.tif")
        with pytest.raises(ImageReadError, match="cut.tif: cannot read this image") as info:
            read(tmp_path / "cut.tif")
        assert "\n" not in str(info.value)


def test_find_images(tmp_path):
    for name in ("b.png", "a.tif", "notes.txt", "c.GIF"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in find_images(tmp_path)] == ["a.tif", "b.png", "c.GIF"]
    assert [p.name for p in find_images(str(tmp_path / "*.png"))] == ["b.png"]
    assert [p.name for p in find_images(str(tmp_path / "*"))] == ["a.tif", "b.png", "c.GIF"]
    with pytest.raises(ImageReadError, match="no such file"):
        find_images(tmp_path / "nope.png")


def test_atomic_write(tmp_path):
    target = tmp_path / "out.png"
    write_png(target, np.full((3, 3), 7, np.uint8))
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        write_png(tmp_path / "out.png", np.zeros((2, 2), np.uint8))
    finally:
        os.umask(old)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o644


def _disk(free: int):
    """A stand-in for shutil.disk_usage: a 1 GB disk with ``free`` bytes free."""
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    return lambda path: usage(10**9, 10**9 - free, free)


@pytest.mark.parametrize(
    "failure",
    [
        OSError("524288 requested and 248668 written"),  # numpy's short tofile: no errno
        RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 128 vs 0"),
    ],
)
def test_a_silent_failed_write_on_a_full_disk_is_one_line(tmp_path, monkeypatch, failure):
    import shutil

    from unetlab.errors import OutputError

    write_png(tmp_path / "a.png", np.ones((4, 4), np.uint8))
    before = (tmp_path / "a.png").read_bytes()

    def fail():
        with atomic_path(tmp_path / "a.png") as tmp:
            tmp.write_bytes(b"half")
            raise failure

    monkeypatch.setattr(shutil, "disk_usage", _disk(300_000))
    with pytest.raises(OutputError) as info:
        fail()
    assert str(info.value) == (
        f"{tmp_path / 'a.png'}: cannot write it (No space left on device); 0.3 MB free on its "
        "disk: free some space on that disk or write elsewhere"
    )
    monkeypatch.setattr(shutil, "disk_usage", _disk(10**8))  # room left: not the disk, a bug
    with pytest.raises(type(failure)) as info:
        fail()
    assert info.value is failure
    assert (tmp_path / "a.png").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_a_full_disk_error_says_how_much_is_free(tmp_path, monkeypatch):
    import errno
    import shutil

    from unetlab.errors import OutputError

    monkeypatch.setattr(shutil, "disk_usage", _disk(0))
    full = pytest.raises(OutputError, match=r"\(No space left on device\); 0.0 MB free on its")
    with full, atomic_path(tmp_path / "a.json"):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_csv_floats_keep_ten_digits(tmp_path):
    from unetlab.data.io import write_csv

    write_csv(tmp_path / "t.csv", {"x": [123456.78125, 1548.6875, 0.1], "ok": [True, False, True]})
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines == ["x,ok", "123456.7812,true", "1548.6875,false", "0.1,true"]


def test_a_broken_link_in_a_folder_is_named_in_one_line(tmp_path, caplog):
    """A link whose file is gone was skipped without a word."""
    write_png(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "b.png").symlink_to(tmp_path / "gone" / "b.png")
    (tmp_path / "notes.txt").symlink_to(tmp_path / "gone.txt")  # not an image: not named
    with caplog.at_level("WARNING", logger="unetlab.data.io"):
        assert find_images(tmp_path) == [tmp_path / "a.png"]
    assert len(caplog.records) == 1
    assert "1 broken link whose file is gone: b.png -> " in caplog.text
    assert "skipped" in caplog.text and "notes.txt" not in caplog.text


def test_an_integer_array_beyond_8_bits_is_no_8_bit_png(tmp_path):
    """s53 reviewB: a uint32 id mask (ids past 65,535) was cast to uint8, wrapped mod 256,
    without a word: a bug's ValueError; values that fit, and uint16, are written."""
    from unetlab.data.io import png_bytes

    for values, dtype in (([0, 256], np.uint32), ([0, 70_000], np.uint32), ([-1, 3], np.int64)):
        with pytest.raises(ValueError, match=r"cannot be a PNG of 8 bits"):
            png_bytes(np.array([values], dtype))
        with pytest.raises(ValueError, match=r"cannot be a PNG of 8 bits"):
            write_png(tmp_path / "p.png", np.array([values], dtype), palette=np.zeros((2, 3)))
    assert not (tmp_path / "p.png").exists()
    write_png(tmp_path / "ok.png", np.array([[0, 255]], np.int64))
    write_png(tmp_path / "deep.png", np.array([[0, 70_000 % 65_536]], np.uint16))
    assert read_mask(tmp_path / "ok.png").tolist() == [[0, 255]]
