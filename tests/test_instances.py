"""Instance masks -> ids -> the three-class boundary/interior target: exact values by hand."""

import numpy as np
import pytest

from unetlab.data.instances import (
    boundary_target,
    instance_ids,
    looks_like_instances,
    object_areas,
    object_statistics,
    split_pieces,
)
from unetlab.errors import DatasetError


def test_two_touching_objects_are_kept_apart_by_boundary():
    ids = np.zeros((5, 8), np.uint16)
    ids[1:4, 1:4] = 7
    ids[1:4, 4:7] = 300  # touches object 7 with no background between
    expected = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0, 0],
            [0, 1, 1, 1, 1, 1, 1, 0],
            [0, 1, 2, 1, 1, 2, 1, 0],
            [0, 1, 1, 1, 1, 1, 1, 0],
            [0, 0, 0, 0, 0, 0, 0, 0],
        ],
        np.uint8,
    )
    target = boundary_target(ids)
    np.testing.assert_array_equal(target, expected)
    assert target.dtype == np.uint8


def test_boundary_width_two_and_zero():
    ids = np.zeros((7, 7), np.int32)
    ids[1:6, 1:6] = 1
    target = boundary_target(ids, boundary_width=2)
    # only the centre pixel is 3 or more 4-steps away from the background
    assert (target == 2).sum() == 1 and target[3, 3] == 2
    # the diamond: pixel (2, 2) is 2 steps from (0, 2)... inside the 2-px rim
    assert target[2, 2] == 1 and target[2, 3] == 1
    np.testing.assert_array_equal(boundary_target(ids, boundary_width=0), np.where(ids, 2, 0))


def test_image_border_is_no_boundary():
    ids = np.ones((3, 4), np.int32)  # one object filling the image
    np.testing.assert_array_equal(boundary_target(ids), np.full((3, 4), 2))
    ids[:, 2:] = 2  # two objects meeting in the middle: only the meeting columns are boundary
    np.testing.assert_array_equal(boundary_target(ids), [[2, 1, 1, 2]] * 3)


def test_empty_image_has_no_objects():
    ids = instance_ids(np.zeros((4, 5), np.uint16))
    assert ids.dtype == np.int32 and not ids.any()
    np.testing.assert_array_equal(boundary_target(ids), np.zeros((4, 5)))
    stats = object_statistics(object_areas(ids), images=1)
    assert stats["count"] == 0 and stats["area_median"] == 0.0


def test_binary_mask_becomes_connected_components():
    mask = np.zeros((4, 6), np.uint8)
    mask[0:2, 0:2] = 255
    mask[2:4, 2:4] = 255  # diagonal to the first: a separate object (4-connectivity)
    mask[0, 5] = 255
    ids = instance_ids(mask)
    assert ids.max() == 3
    assert len(np.unique(ids[0:2, 0:2])) == 1 and len(np.unique(ids[2:4, 2:4])) == 1
    assert ids[0, 0] != ids[2, 2]


def test_binary_mask_components_take_the_connectivity_asked():
    mask = np.zeros((4, 5), np.uint8)
    mask[0:2, 0:2] = mask[2:4, 2:4] = 1  # touching at a corner
    assert instance_ids(mask).max() == 2
    assert instance_ids(mask, connectivity=2).max() == 1
    with pytest.raises(ValueError, match="connectivity is 1"):
        instance_ids(mask, connectivity=8)


@pytest.mark.parametrize("value", [1, 255, 65535, True])
def test_binary_values_are_split_into_components(value):
    mask = np.zeros((3, 5), np.uint16 if value == 65535 else type(value))
    mask[:, 0] = mask[:, 4] = value
    assert instance_ids(mask).max() == 2


def test_one_id_other_than_a_binary_value_is_one_object():
    mask = np.zeros((4, 5), np.uint16)
    mask[0:2, 0:2] = mask[2:4, 2:4] = 7  # one object in two pieces
    mask[0, 4] = 7
    np.testing.assert_array_equal(instance_ids(mask), mask)


def test_ids_kept_as_given_and_whole_floats_accepted():
    mask = np.array([[0, 5, 5], [9, 9, 0], [0, 0, 70000]], np.uint32)
    np.testing.assert_array_equal(instance_ids(mask), mask)
    np.testing.assert_array_equal(instance_ids(mask.astype(np.float32)), mask)


def test_fractional_and_negative_ids_are_refused():
    with pytest.raises(DatasetError, match="m.png: instance ids must be whole numbers"):
        instance_ids(np.array([[0, 1.5], [2, 3]]), name="m.png")
    with pytest.raises(DatasetError, match="-1 is no object id .* cfg.data.ignore_value = -1"):
        instance_ids(np.array([[0, -1], [2, 3]], np.int16))
    with pytest.raises(DatasetError, match="one \\(H, W\\) id image"):
        instance_ids(np.zeros((2, 2, 3), np.uint8))


def test_areas_and_statistics():
    ids = np.zeros((4, 10), np.int32)
    ids[0, :4] = 3  # area 4
    ids[2:4, 5:10] = 8  # area 10
    np.testing.assert_array_equal(object_areas(ids), [4, 10])
    stats = object_statistics([4, 10, 1], images=2)
    # numpy's linear percentiles of [1, 4, 10]: p05 = 1 + 0.1 * 3, p95 = 4 + 0.9 * 6
    assert stats == pytest.approx(
        {
            "count": 3,
            "images": 2,
            "area_min": 1.0,
            "area_p05": 1.3,
            "area_median": 4.0,
            "area_p95": 9.4,
            "area_max": 10.0,
        }
    )


def test_split_pieces_finds_reused_ids():
    ids = np.zeros((3, 7), np.int32)
    ids[0, 0] = ids[0, 6] = 2  # one id, two distant pieces
    ids[2, 2:4] = 1
    assert split_pieces(ids) == [2]


@pytest.mark.parametrize(
    ("n", "wide", "folder", "expected"),
    [
        (300, True, False, True),
        (300, False, False, True),
        (17, True, False, True),
        (17, False, False, False),
        (3, True, False, False),
        (3, False, True, True),
    ],
)
def test_looks_like_instances(n, wide, folder, expected):
    assert looks_like_instances(list(range(n)), wide=wide, folder_named=folder) is expected


def test_a_negative_truth_value_names_evaluates_ignore_value():
    """rev D: evaluate's instance truth holding -1 (no label) was told to renumber its ids."""
    from unetlab.evaluate.masks import instance_mask

    ids = np.array([[0, -1], [2, 3]], np.int16)
    with pytest.raises(DatasetError, match="-1 is no object id .* ignore_value=-1 weighs") as e:
        instance_mask(ids, None, "gt.tif")
    assert "--ignore-value -1 weighs them 0" in e.value.cli
    classes, kept = instance_mask(ids, -1, "gt.tif")
    assert classes[0, 1] == -1 and kept[0, 1] == 0
