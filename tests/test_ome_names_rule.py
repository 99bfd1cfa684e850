"""One rule for a mask named as its OME-TIFF image less ``.ome``, and for a stem two
images share, in both layouts, a flat folder and images/ + masks/
(:func:`unetlab.data.pairs._ome_named`, s64 refold): each had its own, and they
disagreed."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data.io import write_png, write_tiff
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError

IMAGE = np.zeros((16, 16), np.uint8)
MASK = np.pad(np.ones((4, 4), np.uint8), 6)


def _problems(root, names=None) -> str:
    with pytest.raises(DatasetError) as caught:
        find_pairs(root, names=names)
    return str(caught.value)


def test_a_stem_two_images_share_is_no_ome_tiff_in_a_flat_folder(tmp_path):
    """``a.ome.tif`` beside ``a.ome.png`` (a stem two images share: no image) and
    ``a_masks.png``: the flat folder's rule took the shared stem for an OME-TIFF and raised
    AttributeError ('NoneType' has no 'name'); said as the images/ + masks/ layout says it."""
    write_tiff(tmp_path / "a.ome.tif", IMAGE)
    write_png(tmp_path / "a.ome.png", IMAGE)
    write_png(tmp_path / "a_masks.png", MASK)
    write_tiff(tmp_path / "c.tif", IMAGE)
    write_png(tmp_path / "c_masks.png", MASK)
    said = _problems(tmp_path)
    assert "2 images share the stem a.ome (a.ome.png, a.ome.tif)" in said
    assert "a_masks.png: mask without an image a.* beside it" in said
    assert "OME-TIFF" not in said


def test_a_split_file_keeps_the_ome_hint_of_an_images_and_masks_folder(tmp_path):
    """A split file listing ``a.ome`` kept ``masks/a.png`` out of an images/ + masks/
    folder, which then said only 'no mask' (a flat folder said the name to give)."""
    write_tiff(tmp_path / "images" / "a.ome.tif", IMAGE)
    write_png(tmp_path / "masks" / "a.png", MASK)
    write_tiff(tmp_path / "images" / "c.tif", IMAGE)
    write_png(tmp_path / "masks" / "c.png", MASK)
    said = _problems(tmp_path, names=["a.ome", "c"])
    assert "its image a.ome.tif is an OME-TIFF, whose stem keeps '.ome'" in said
    assert "rename the mask a.ome.png" in said and "no mask" not in said


def test_a_listed_ome_tiff_is_not_given_the_mask_of_an_image_the_split_leaves_out(tmp_path):
    """``a_masks.png`` is ``a.tif``'s mask: a split file listing ``a.ome`` (not ``a``) told
    it to take ``a.ome.tif``'s stem in a flat folder; the lone ``a.ome.tif`` is the problem."""
    for image in ("a.ome.tif", "a.tif", "c.tif"):
        write_tiff(tmp_path / image, IMAGE)
    for mask in ("a_masks.png", "c_masks.png"):
        write_png(tmp_path / mask, MASK)
    said = _problems(tmp_path, names=["a.ome", "c"])
    assert "a.ome.tif: no mask a.ome_masks.png" in said and "rename" not in said


def test_a_stem_two_images_share_is_said_once_in_a_flat_folder(tmp_path):
    """``x.tif`` beside ``x.png`` and no mask: a flat folder said the shared stem and then
    'None: no mask x_masks.png' (the images/ + masks/ layout says the shared stem alone)."""
    write_tiff(tmp_path / "x.tif", IMAGE)
    write_png(tmp_path / "x.png", IMAGE)
    write_tiff(tmp_path / "c.tif", IMAGE)
    write_png(tmp_path / "c_masks.png", MASK)
    said = _problems(tmp_path)
    assert "1 problem" in said and "2 images share the stem x (x.png, x.tif)" in said
    assert "None" not in said


@pytest.mark.parametrize("flat", [False, True])
def test_a_stray_mask_beside_a_listed_ome_tiffs_own_mask_is_left_out(tmp_path, flat):
    """Review s64: a split file listing ``a.ome`` kept ``a.png`` (named as ``a.ome.tif`` less
    ``.ome``, no image ``a``) though ``a.ome.tif`` has its mask ``a.ome.png``: 'mask without
    an image' (an images/ + masks/ folder read 2 pairs before s64, a flat folder never)."""
    image, mask = (lambda s: tmp_path / f"{s}.tif", lambda s: tmp_path / f"{s}_masks.png")
    if not flat:
        image, mask = (
            lambda s: tmp_path / "images" / f"{s}.tif",
            lambda s: tmp_path / "masks" / f"{s}.png",
        )
    for stem in ("a.ome", "c"):
        write_tiff(image(stem), IMAGE)
        write_png(mask(stem), MASK)
    write_png(mask("a"), MASK)  # a stray: no image a, and a.ome.tif has its mask
    pairs = find_pairs(tmp_path, names=["a.ome", "c"], refuse_untiffed=False)
    assert [p.image.name for p in pairs] == ["a.ome.tif", "c.tif"]


def test_a_stem_two_listed_images_share_keeps_no_mask_named_as_it_less_ome(tmp_path):
    """Review s64: a split file listing ``a.ome`` (``a.ome.tif`` beside ``a.ome.png``: no
    image) and ``A`` kept ``masks/a.png``, then said to differ from ``A.tif`` only in letter
    case; the split leaves ``a.png`` out, and ``A.tif`` has no mask."""
    write_tiff(tmp_path / "images" / "a.ome.tif", IMAGE)
    write_png(tmp_path / "images" / "a.ome.png", IMAGE)
    write_tiff(tmp_path / "images" / "A.tif", IMAGE)
    write_png(tmp_path / "masks" / "a.png", MASK)
    said = _problems(tmp_path, names=["a.ome", "A"])
    assert "2 images share the stem a.ome" in said and "A.tif: no mask in" in said
    assert "letter case" not in said and "a.png" not in said.replace("a.ome.png", "")


@pytest.mark.parametrize("masks", [("a",), ("a", "b")])
def test_an_image_named_ome_that_is_no_tiff_is_not_called_an_ome_tiff(tmp_path, masks):
    """Review s64: ``a.ome.png`` with its mask ``a.png`` was said to be 'an OME-TIFF' (the
    rule looks at the stem only); the stem is said, and the name to give the mask."""
    for stem in masks:
        write_png(tmp_path / "images" / f"{stem}.ome.png", IMAGE)
        write_png(tmp_path / "masks" / f"{stem}.png", MASK)
    write_tiff(tmp_path / "images" / "c.tif", IMAGE)
    write_png(tmp_path / "masks" / "c.png", MASK)
    said = _problems(tmp_path, names=[f"{s}.ome" for s in masks] + ["c"])
    assert "OME-TIFF" not in said
    if len(masks) == 1:
        assert "its image a.ome.png has a stem that keeps '.ome': rename the mask a.ome.png" in said
    else:
        assert "2 masks are named as their image less '.ome' (a.png, b.png)" in said
        assert "a.png as a.ome.png (images and masks pair by the same stem)" in said


def test_a_flat_folders_own_path_stays_in_its_lines(tmp_path):
    """Review s64: of two problems or more, paths are said relative to the folder: its own
    path went too, ': 2 images share the stem x' and 'listed in the split file but not in '."""
    write_tiff(tmp_path / "x.tif", IMAGE)
    write_png(tmp_path / "x.png", IMAGE)
    write_tiff(tmp_path / "c.tif", IMAGE)
    write_png(tmp_path / "c_masks.png", MASK)
    said = _problems(tmp_path, names=["x", "c", "z"])
    assert "2 problems" in said and f"\n  {tmp_path}/: 2 images share the stem x" in said
    assert said.endswith(f"z: listed in the split file but not in {tmp_path}/")
