"""The columns appended to predict's objects table: ``saturated_fraction`` and ``image``
(audit s33 plates 1, 2: saturated debris counted as nuclei unflagged; concatenated tables
lost the well)."""

import numpy as np
import pytest

from unetlab.inference.table_extras import (
    appended_columns,
    saturated_fraction,
    saturated_pixels,
    with_image_columns,
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
    whole = saturated_pixels(ids, image, 4)
    parts = saturated_pixels(ids[:3], image[:3], 4) + saturated_pixels(ids[3:], image[3:], 4)
    assert whole.tolist() == parts.tolist() == [1, 1, 0, 0]  # background 1, object 1 1
    assert saturated_pixels(ids, image.astype(np.float64), 4) is None
    table = appended_columns({"id": np.array([1, 3])}, "w.tif", np.array([0.25, 0.0]))
    assert list(table) == ["id", "saturated_fraction", "image"]
