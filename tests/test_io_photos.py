"""Phone and web photos (audit s31 "photos"): EXIF orientation, palette masks whose palettes
are ordered differently, transparent cut-outs, colour masks saved as JPEG."""

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageOps

from unetlab.data.io import read_image, read_mask, read_stack, stack_shape
from unetlab.data.orientation import oriented, transposed_sizes
from unetlab.data.pairs import Pair, PairReader
from unetlab.data.read_notes import read_notes
from unetlab.errors import ImageReadError

STORED = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)  # 4 rows, 6 columns


def _tagged(im: Image.Image, orientation: int) -> Image.Exif:
    exif = im.getexif()
    exif[274] = orientation
    return exif


def _save(array, path, orientation=None, **kw):
    im = Image.fromarray(array)
    if orientation is not None:
        kw["exif"] = _tagged(im, orientation)
    im.save(path, **kw)
    return path


def test_oriented_turns_as_pillow_exif_transpose_for_every_tag():
    for orientation in range(1, 9):
        im = Image.fromarray(STORED)
        im.info["exif"] = _tagged(im, orientation).tobytes()
        want = np.asarray(ImageOps.exif_transpose(im))
        np.testing.assert_array_equal(oriented(STORED, orientation, 0, 1), want)


def test_a_photo_tagged_6_is_read_turned_as_viewers_show_it(tmp_path):
    """A portrait phone photo is stored landscape with Orientation 6: it was read as stored,
    90 degrees off the mask drawn on the view (s31 photos finding 1)."""
    view = np.rot90(STORED, -1)  # turned 90 degrees clockwise: 6 rows, 4 columns
    for suffix in (".png", ".webp"):
        path = _save(
            STORED, tmp_path / f"p{suffix}", 6, **({"lossless": True} if suffix == ".webp" else {})
        )
        np.testing.assert_array_equal(read_image(path), view)
        assert stack_shape(path) == (1, 6, 4)
    jpeg = _save(STORED, tmp_path / "p.jpg", 8)
    assert read_image(jpeg).shape == (6, 4, 3) and stack_shape(jpeg) == (1, 6, 4)
    untagged = _save(STORED, tmp_path / "u.png")
    np.testing.assert_array_equal(read_image(untagged), STORED)


def test_masks_and_tiffs_are_turned_too(tmp_path):
    labels = (np.arange(24).reshape(4, 6) % 3).astype(np.uint8)
    im = Image.fromarray(labels, mode="P")
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
    im.save(tmp_path / "m.png", exif=_tagged(im, 6))
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), np.rot90(labels, -1))
    tifffile.imwrite(
        tmp_path / "t.tif", STORED, photometric="rgb", extratags=[(274, "H", 1, 8, True)]
    )
    np.testing.assert_array_equal(read_image(tmp_path / "t.tif"), np.rot90(STORED, 1))
    assert stack_shape(tmp_path / "t.tif") == (1, 6, 4)
    stack = np.stack([labels, labels + 1])
    tifffile.imwrite(
        tmp_path / "s.tif", stack, photometric="minisblack", extratags=[(274, "H", 1, 3, True)]
    )
    np.testing.assert_array_equal(read_stack(tmp_path / "s.tif"), stack[:, ::-1, ::-1])


def test_a_pair_of_a_turned_photo_and_its_mask_drawn_on_the_view_lines_up(tmp_path):
    rng = np.random.default_rng(0)
    view = rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)
    mask = (view[..., 0] > 127).astype(np.uint8)
    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    stored = np.rot90(view, 1)  # what a phone stores for Orientation 6
    _save(np.ascontiguousarray(stored), tmp_path / "images" / "a.png", 6)
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    pair = Pair(tmp_path / "images" / "a.png", tmp_path / "masks" / "a.png")
    image, read = PairReader()(pair)
    np.testing.assert_array_equal(image, view)
    np.testing.assert_array_equal(read, mask)


def test_turned_files_are_said_once_a_command(tmp_path, caplog):
    paths = [_save(STORED, tmp_path / f"{i}.png", 6) for i in range(3)]
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"), read_notes():
        for p in paths:
            read_image(p)
            stack_shape(p)
        assert not caplog.records  # said at the end, once
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("3 files turned by their EXIF orientation")


def test_a_size_off_by_a_turn_names_the_orientation():
    assert "EXIF" in transposed_sizes((384, 512), (512, 384))
    assert transposed_sizes((384, 512), (384, 500)) == ""
    assert transposed_sizes((5, 5), (5, 5)) == ""


def test_a_mask_drawn_on_the_stored_pixels_of_a_turned_photo_is_refused_naming_the_turn(
    tmp_path,
):
    from unetlab.errors import DatasetError

    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    stored = np.ascontiguousarray(np.zeros((4, 6, 3), np.uint8))
    _save(stored, tmp_path / "images" / "a.png", 6)  # viewed 6 rows x 4 columns
    Image.fromarray(np.zeros((4, 6), np.uint8)).save(tmp_path / "masks" / "a.png")
    pair = Pair(tmp_path / "images" / "a.png", tmp_path / "masks" / "a.png")
    with pytest.raises(DatasetError, match="masks must have the image's size.*EXIF"):
        PairReader()(pair)


def test_the_cli_says_turned_files_in_one_line(tmp_path, caplog):
    from unetlab.cli import main

    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        view = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
        _save(np.ascontiguousarray(np.rot90(view, 1)), tmp_path / "images" / f"{i}.png", 6)
        Image.fromarray((view[..., 0] > 127).astype(np.uint8)).save(tmp_path / "masks" / f"{i}.png")
    with caplog.at_level(logging.INFO):
        assert main(["train", "--data", str(tmp_path), "--check"]) == 0
    said = [m for m in caplog.messages if "turned by their EXIF orientation" in m]
    assert len(said) == 1 and said[0].startswith("3 files turned"), caplog.messages


def _palette_mask(path, labels, colours):
    im = Image.fromarray(labels, mode="P")
    im.putpalette([c for rgb in colours for c in rgb])
    im.save(path)
    return path


GREEN, BROWN, WHITE, BLACK = (40, 160, 40), (130, 80, 30), (255, 255, 255), (0, 0, 0)


def test_palette_masks_ordered_differently_are_refused_naming_both(tmp_path):
    """Two labelme projects with label lists in another order: the masks look the same in a
    viewer, and read by index their classes swapped silently (s31 photos finding 2)."""
    labels = np.array([[0, 1, 2, 3]], np.uint8)
    a = _palette_mask(tmp_path / "a.png", labels, [BLACK, GREEN, BROWN, WHITE])
    b = _palette_mask(tmp_path / "b.png", labels[:, [0, 2, 1, 3]], [BLACK, BROWN, GREEN, WHITE])
    read_mask(a)
    with pytest.raises(
        ImageReadError, match=r"b\.png and .*a\.png have palettes ordered differently"
    ) as err:
        read_mask(b)
    fix = "or list the class colours in class_colors.txt beside them (R G B name, a line per"
    assert fix in str(err.value)
    # the fix it names taken: each mask read by its colours, the same classes where they agree
    table = "0 0 0 bg\n40 160 40 grass\n130 80 30 soil\n255 255 255 snow\n"
    (tmp_path / "class_colors.txt").write_text(table)
    np.testing.assert_array_equal(read_mask(a), labels)
    np.testing.assert_array_equal(read_mask(b), labels)


def test_palettes_that_differ_only_where_no_mask_uses_them_are_read(tmp_path):
    a = _palette_mask(tmp_path / "a.png", np.array([[0, 1]], np.uint8), [BLACK, GREEN, BROWN])
    b = _palette_mask(tmp_path / "b.png", np.array([[0, 0]], np.uint8), [BLACK, WHITE])
    c = _palette_mask(tmp_path / "c.png", np.array([[0, 1]], np.uint8), [BLACK, GREEN])
    for p in (a, b, c):
        read_mask(p)
    # a file fixed since it was read no longer counts
    _palette_mask(a, np.array([[0, 1]], np.uint8), [BLACK, BROWN])
    _palette_mask(c, np.array([[0, 1]], np.uint8), [BLACK, BROWN])
    read_mask(c)


def test_transparent_pixels_are_named_with_their_share(tmp_path, caplog):
    """A background-removed cut-out: the alpha was dropped without a word (finding 3)."""
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:1, :, 3] = 0  # 5 of 20 pixels transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    rgba[..., 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    Image.fromarray(rgba[..., :3]).save(tmp_path / "rgb.png")
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"), read_notes():
        read_image(tmp_path / "cut.png")
        opaque = read_image(tmp_path / "opaque.png")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "cut.png 25% of the pixels" in lines[0], lines
    assert "opaque" not in lines[0]
    np.testing.assert_array_equal(opaque, read_image(tmp_path / "rgb.png"))


def test_a_colour_mask_saved_as_jpeg_is_named_as_such(tmp_path):
    """Finding 5: it was called a colour mask, and class_colors.txt then gave 2000 colours."""
    colours = np.array([BLACK, GREEN, BROWN], np.uint8)[np.indices((16, 16)).sum(0) % 3]
    (tmp_path / "masks").mkdir()
    Image.fromarray(colours).save(tmp_path / "masks" / "m.jpg", quality=90)
    with pytest.raises(ImageReadError, match="colour mask saved as JPEG, which is lossy.*PNG"):
        read_mask(tmp_path / "masks" / "m.jpg")
    (tmp_path / "class_colors.txt").write_text("0 0 0 bg\n40 160 40 leaf\n130 80 30 spot\n")
    with pytest.raises(ImageReadError, match="colour mask saved as JPEG"):
        read_mask(tmp_path / "masks" / "m.jpg")


def test_outside_a_command_the_first_turned_file_is_said_once(tmp_path, caplog, monkeypatch):
    from unetlab.data import read_notes as notes

    monkeypatch.setattr(notes, "_said", set())
    paths = [_save(STORED, tmp_path / f"{i}.png", 6) for i in range(2)]
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"):
        for p in paths:
            read_image(p)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "0.png is turned by its EXIF orientation" in lines[0]


def test_a_folder_of_webp_photos_is_found(tmp_path):
    from unetlab.data.io import find_images

    _save(STORED, tmp_path / "leaf.webp", 6, lossless=True)
    _save(STORED, tmp_path / "root.png")
    assert [p.name for p in find_images(tmp_path)] == ["leaf.webp", "root.png"]


def test_masks_without_a_telling_palette_are_read(tmp_path):
    """Masks whose palette is missing, short or repeats a colour (Pillow's Image.new("P"):
    every used index black) say nothing of their order: two such masks, byte for byte the
    same, were refused as 'palettes ordered differently' (review s31)."""
    labels = np.zeros((8, 8), np.uint8)
    labels[2:4, 2:4], labels[5:7, 5:7] = 1, 2
    for name in ("a.png", "b.png"):
        im = Image.new("P", (8, 8))
        im.putdata(labels.ravel().tolist())
        im.save(tmp_path / name)
    for name in ("c.png", "d.png"):  # indices 0 and 2 share black
        _palette_mask(tmp_path / name, labels, [BLACK, (255, 0, 0), BLACK])
    for name in "abcd":
        assert read_stack(tmp_path / f"{name}.png", mask=True).shape == (1, 8, 8)
