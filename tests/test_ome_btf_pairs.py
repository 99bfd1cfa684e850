"""OME's BigTIFF (``a.ome.btf``) pairs as an OME-TIFF does, in a flat folder and in
images/ + masks/ (s65): by its stem ``a.ome``, and a mask named as it less ``.ome`` is
told the name to give."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.data.io import write_png, write_tiff
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError

IMAGE = np.zeros((16, 16), np.uint8)
MASK = np.pad(np.ones((4, 4), np.uint8), 6)


def _files(root, flat: bool, suffix: str = ".btf", mask_stem: str = "a.ome"):
    """(image path of a stem, mask path of a stem) in ``root``'s layout, where an OME-TIFF
    ``a.ome`` (``suffix``) with its mask named ``mask_stem`` and a plain pair ``c`` are."""
    if flat:
        image, mask = (lambda s, ext: root / f"{s}{ext}"), (lambda s: root / f"{s}_masks.png")
    else:
        image = lambda s, ext: root / "images" / f"{s}{ext}"  # noqa: E731
        mask = lambda s: root / "masks" / f"{s}.png"  # noqa: E731
    _bigtiff(image("a.ome", suffix))
    write_png(mask(mask_stem), MASK)
    write_tiff(image("c", ".tif"), IMAGE)
    write_png(mask("c"), MASK)
    return image, mask


def _bigtiff(path):
    import tifffile

    write_tiff(path, IMAGE, bigtiff=True, ome=True)
    with tifffile.TiffFile(path) as tif:
        assert tif.is_bigtiff and tif.is_ome


@pytest.mark.parametrize("flat", [False, True])
def test_an_ome_btf_pairs_with_the_mask_of_its_stem(tmp_path, flat):
    _, mask = _files(tmp_path, flat)
    pairs = find_pairs(tmp_path, refuse_untiffed=False)
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("a.ome.btf", mask("a.ome").name),
        ("c.tif", mask("c").name),
    ]


@pytest.mark.parametrize("flat", [False, True])
def test_a_mask_named_as_an_ome_btf_less_ome_is_told_its_name(tmp_path, flat):
    _, mask = _files(tmp_path, flat, mask_stem="a")
    with pytest.raises(DatasetError) as caught:
        find_pairs(tmp_path, refuse_untiffed=False)
    said = str(caught.value)
    assert "its image a.ome.btf is an OME-TIFF, whose stem keeps '.ome'" in said
    assert f"rename the mask {mask('a.ome').name}" in said


@pytest.mark.parametrize("suffix", [".tif", ".btf"])
@pytest.mark.parametrize("flat", [False, True])
def test_a_stray_beside_a_listed_ome_tiffs_own_mask_is_said_left_out(
    tmp_path, flat, suffix, caplog
):
    """Review s64: a split file listing ``a.ome`` left out a stray mask ``a`` (named as
    ``a.ome.tif`` less ``.ome``, no image ``a``) beside ``a.ome.tif``'s own mask without a
    word; it is said left out, as a file the split file does not list."""
    _, mask = _files(tmp_path, flat, suffix)
    write_png(mask("a"), MASK)  # the stray
    with caplog.at_level(logging.INFO, logger="unetlab"):
        pairs = find_pairs(tmp_path, names=["a.ome", "c"], refuse_untiffed=False)
    assert [p.image.name for p in pairs] == [f"a.ome{suffix}", "c.tif"]
    said = (
        f"{mask('a')}: named as a.ome{suffix} less '.ome', which has its mask "
        f"{mask('a.ome').name}: left out, as a file the split file does not list"
    )
    assert caplog.text.count(said) == 1, caplog.text


def test_strays_beside_listed_ome_tiffs_own_masks_are_said_in_one_line(tmp_path, caplog):
    image, mask = _files(tmp_path, False)
    for stem in ("a", "b"):
        _bigtiff(image(f"{stem}.ome", ".btf"))
        write_png(mask(f"{stem}.ome"), MASK)
        write_png(mask(stem), MASK)  # a stray
    with caplog.at_level(logging.INFO, logger="unetlab"):
        pairs = find_pairs(tmp_path, names=["a.ome", "b.ome"], refuse_untiffed=False)
    assert len(pairs) == 2
    assert (
        f"{tmp_path / 'masks'}/: 2 masks named as a listed OME-TIFF less '.ome' beside its own "
        "mask (a.png, b.png): left out, as files the split file does not list"
    ) in caplog.text
