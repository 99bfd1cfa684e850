"""The columns appended to predict's objects table: ``saturated_fraction`` and ``image``
(audit s33 plates 1, 2: saturated debris counted as nuclei unflagged; concatenated tables
lost the well)."""

import numpy as np
import pytest

from unetlab.inference.table_extras import (
    appended_columns,
    channel_planes,
    image_ceilings,
    saturated_fraction,
    saturated_pixels,
    with_image_columns,
    with_saturation,
)


def _well():
    ids = np.zeros((6, 8), np.int32)
    ids[0:2, 0:2] = 1  # 4 px, 1 saturated
    ids[3:5, 3:7] = 3  # 8 px, none (id 2 absent)
    image = np.full((6, 8), 500, np.uint16)
    image[0, 0] = 65535
    image[5, 7] = 65535  # background: no object's
    return ids, image


def test_saturated_fraction_per_object_of_the_dtype_maximum():
    ids, image = _well()
    assert saturated_fraction(ids, image, np.array([1, 3])).tolist() == [0.25, 0.0]
    assert saturated_fraction(ids, image.astype(np.int32), np.array([1, 3])).tolist() == [0, 0]
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[4, 4, 2] = 255  # one channel at its maximum: the pixel is saturated
    assert saturated_fraction(ids, rgb, np.array([3])).tolist() == [0.125]
    assert saturated_fraction(ids, image, np.array([], np.int64)).tolist() == []
    with pytest.raises(ValueError, match="integer image"):
        saturated_fraction(ids, image.astype(np.float32), np.array([1]))


def test_columns_are_appended_after_the_measures():
    ids, image = _well()
    table = {"id": np.array([1, 3]), "area": np.array([4, 8])}
    out = with_image_columns(table, ids, image, "A10_s1_w1.tif")
    assert list(out) == ["id", "area", "saturated_fraction", "image"]
    assert out["image"].tolist() == ["A10_s1_w1.tif"] * 2
    floats = with_image_columns(table, ids, image.astype(np.float32), "f.tif")
    assert list(floats) == ["id", "area", "image"]  # no maximum to be at
    empty = with_image_columns({"id": np.zeros(0, np.int64)}, ids * 0, image, "A12.tif")
    assert [len(v) for v in empty.values()] == [0, 0, 0]


def test_saturated_pixels_of_pieces_add_up_to_the_whole():
    ids, image = _well()
    ceilings = image_ceilings(image)  # the whole image's, given to each piece
    whole = saturated_pixels(ids, image, 4, ceilings)
    parts = [saturated_pixels(ids[s], image[s], 4, ceilings) for s in (np.s_[:3], np.s_[3:])]
    assert whole.tolist() == (parts[0] + parts[1]).tolist() == [1, 1, 0, 0]  # bg 1, object 1 1
    assert saturated_pixels(ids, image.astype(np.float64), 4, [None]) is None
    table = appended_columns({"id": np.array([1, 3])}, "w.tif", np.array([0.25, 0.0]))
    assert list(table) == ["id", "saturated_fraction", "image"]


def _camera(bits=12, shift=0, clipped=40):
    """A 64x64 uint16 field of a ``bits``-bit camera (values shifted up by ``shift`` bits)
    with a clipped spot of ``clipped`` px at its ceiling in object 1."""
    rng = np.random.default_rng(0)
    ceiling = (1 << bits) - 1
    image = rng.integers(100, ceiling // 2, (64, 64)).astype(np.uint16)
    ids = np.zeros((64, 64), np.int32)
    ids[10:20, 10:20] = 1  # 100 px
    spot = np.zeros(100, bool)
    spot[:clipped] = True
    image[10:20, 10:20][spot.reshape(10, 10)] = ceiling
    return ids, image << shift


def test_a_camera_ceiling_in_a_wider_file_is_found():
    # audit s33 plates: a 12-bit camera saved as 16-bit clips at 4095, not at 65535
    for bits in (10, 12, 14):
        ids, image = _camera(bits)
        assert image_ceilings(image) == [(1 << bits) - 1]
        assert saturated_fraction(ids, image, np.array([1])).tolist() == [0.4]
    ids, image = _camera(12, shift=4)  # the camera's bits at the top: 65520
    assert image_ceilings(image) == [4095 << 4]
    assert saturated_fraction(ids, image, np.array([1])).tolist() == [0.4]
    assert image_ceilings(image + 1) == [None]  # not a camera's steps of 16
    assert image_ceilings(_camera(8)[1]) == [255]  # 8-bit values in a 16-bit file
    assert image_ceilings(_camera(9)[1]) == [None]  # 511: no camera's depth
    assert image_ceilings(_camera(12)[1].astype(np.uint32)) == [4095]
    assert image_ceilings(np.full((4, 4), 255, np.uint8)) == [255]
    assert image_ceilings(np.full((4, 4), 254, np.uint8)) == [None]


def test_a_16_bit_image_whose_maximum_happens_to_be_4095_is_not_saturated():
    ids, image = _camera(12, clipped=0)
    image[30:33, 30:33] = 4095  # 9 px at it, but no more than at each value below
    image[33:49, 30:60] = np.arange(4079, 4095, dtype=np.uint16)[:, None]  # 30 px each
    assert image_ceilings(image) == [None]
    ids[30:33, 30:33] = 2
    assert saturated_fraction(ids, image, np.array([1, 2])).tolist() == [0, 0]
    ids, image = _camera(12, clipped=5)  # 5 px at 4095: too few to say
    assert image_ceilings(image) == [None]


def test_each_channel_has_its_own_ceiling():
    ids, grey = _camera(12)
    rgb = np.stack([grey // 2, grey, np.full_like(grey, 65535)], axis=2)
    rgb[..., 2] = 7
    assert image_ceilings(rgb) == [None, 4095, None]
    rgb[0, 0, 2] = 65535
    assert image_ceilings(rgb) == [None, 4095, 65535]
    assert saturated_fraction(ids, rgb, np.array([1])).tolist() == [0.4]


def test_channel_planes_are_views_of_each_channel():
    grey = np.arange(12).reshape(3, 4)
    assert len(channel_planes(grey)) == 1 and channel_planes(grey)[0] is grey
    rgb = np.stack([grey, grey + 1], axis=2)
    planes = channel_planes(rgb)
    assert [p.shape for p in planes] == [(3, 4)] * 2 and (planes[1] - planes[0] == 1).all()
    assert all(np.shares_memory(p, rgb) for p in planes)


def test_with_saturation_finds_each_row_in_its_planes():
    """One rule for the array API's tables: a 3-D object's row is found in every plane (side
    by side), a plane-by-plane table's row in its page's plane alone; no column for a float
    image or none."""
    ids, image = _well()
    stack, images = np.stack([ids, ids]), np.stack([image, np.full_like(image, 500)])
    whole = with_saturation({"id": np.array([1, 3])}, stack, images)
    assert whole["saturated_fraction"].tolist() == [0.125, 0.0]  # 1 of id 1's 8 px
    paged = {"id": np.array([1, 3, 1, 3]), "page": np.array([0, 0, 1, 1])}
    by_page = with_saturation(paged, stack, images, "page")["saturated_fraction"]
    assert by_page.tolist() == [0.25, 0.0, 0.0, 0.0]
    for none in (images.astype(np.float32), None):
        assert "saturated_fraction" not in with_saturation({"id": np.array([1])}, stack, none)
