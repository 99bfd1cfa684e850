"""measure_objects of label images whose ids are large (a tracker's ids, hashed ids, 32- and
64-bit label images): the table is regionprops', by id, at the cost of the objects, not of
the largest id (it allocated arrays as long as the largest id: ids near 20 million in a
64 x 64 image took 25 s and 3.5 GB, ids of 3e9 a MemoryError)."""

import numpy as np
import pytest
from skimage.measure import regionprops_table

from unetlab.inference.measure import measure_objects, object_table


def _ids(dtype, big: int) -> np.ndarray:
    ids = np.zeros((24, 30), dtype)
    ids[2:7, 3:9] = big
    ids[10:20, 12:15] = 5
    ids[12:22, 20:29] = big - 1
    ids[0, 29] = 1  # one pixel on the edge
    return ids


@pytest.mark.parametrize(
    ("dtype", "big"),
    [(np.uint32, 3_000_000_000), (np.int64, 2**40), (np.uint64, 2**63 + 9)],
)
def test_large_ids_are_measured_as_regionprops_does(dtype, big):
    ids = _ids(dtype, big)
    image = np.arange(ids.size, dtype=np.float64).reshape(ids.shape)
    table = measure_objects(ids, image, pixel_size=0.5)
    dense = np.searchsorted(np.array([0, 1, 5, big - 1, big], dtype), ids)
    small = object_table(dense, image)
    assert [int(i) for i in table["id"]] == [1, 5, big - 1, big]
    for name, column in small.items():
        if name != "id":
            np.testing.assert_allclose(table[name], column, err_msg=name)
    oracle = regionprops_table(dense, image, properties=["area", "centroid"])
    np.testing.assert_allclose(table["area"], oracle["area"])
    np.testing.assert_allclose(table["centroid_y_um"], oracle["centroid-0"] * 0.5)


def test_ids_without_background_up_to_the_largest_uint64():
    ids = np.full((6, 7), 2**64 - 1, np.uint64)  # no background, the largest uint64
    ids[:, :3] = 2
    table = object_table(ids)
    assert table["id"].tolist() == [2, 2**64 - 1] and table["area"].tolist() == [18, 24]
    dense = np.where(ids == 2, 2, 3)
    same = object_table(dense)
    for name in same:
        if name != "id":
            np.testing.assert_array_equal(table[name], same[name])
    assert same["id"].dtype == np.int64 and table["id"].dtype == np.uint64


def test_a_stack_whose_planes_hold_ids_above_2_63_gives_them_back_exactly():
    """One plane's ids above 2**63 (uint64 back), another's small (int64): numpy joined
    them as float64, so 2**60 + 1 came back as 2**60 and 2**63 + 12345 as 2**63 + 12288."""
    ids = np.zeros((3, 16, 16), np.uint64)
    ids[0, 2:5, 2:5] = 3
    ids[1, 2:5, 2:5], ids[1, 8:10, 8:10] = 2**63 + 12345, 2**60 + 1
    ids[2, 1:3, 1:3] = 2**40 + 7  # compact ids, back as int64
    table = measure_objects(ids)
    assert table["id"].dtype == np.uint64
    assert [int(i) for i in table["id"]] == [3, 2**60 + 1, 2**63 + 12345, 2**40 + 7]
    assert list(table["page"]) == [0, 1, 1, 2]
