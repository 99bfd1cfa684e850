"""A semantic model's objects are the regions of each class: a speck of another class inside
an object, dropped as small, joins it (it left a hole though holes are filled), read whole
and in blocks alike; a nucleus predicted half of each class is one object per class, as the
README says (audit s35 multiclass 4)."""

import numpy as np

from unetlab.inference.objects import ObjectOptions, objects_from_probabilities

from .test_semantic_bands import one_hot, streamed

YY, XX = np.mgrid[:64, :64]


def _disc(cy, cx, r):
    return (YY - cy) ** 2 + (XX - cx) ** 2 <= r * r


def test_a_dropped_speck_of_another_class_inside_an_object_joins_it():
    labels = np.zeros((64, 64), np.int64)
    labels[_disc(30, 30, 12)] = 1
    labels[_disc(30, 30, 1)] = 2  # 5 px, below the least area of 7
    labels[_disc(30, 52, 6)] = 1
    labels[30, 45:47] = 2  # 2 px between two objects: no one object's, stays background
    options = ObjectOptions(min_area=7)
    whole = objects_from_probabilities(one_hot(labels, 3), options)
    assert whole.max() == 2 and np.count_nonzero(whole == whole[30, 30]) == _disc(30, 30, 12).sum()
    assert whole[30, 45] == whole[30, 46] == 0
    for rows in (1, 5, 64):
        np.testing.assert_array_equal(streamed(one_hot(labels, 3), options, rows), whole)
    kept = objects_from_probabilities(one_hot(labels, 3), ObjectOptions(min_area=5))
    assert kept.max() == 3  # kept, the speck is an object of its own
    holes = objects_from_probabilities(
        one_hot(labels, 3), ObjectOptions(min_area=7, fill_holes=False)
    )
    assert holes[30, 30] == 0  # --no-fill-holes: its pixels stay out


def test_a_nucleus_half_of_each_class_is_one_object_per_class():
    labels = np.zeros((64, 64), np.int64)
    labels[_disc(30, 30, 12)] = 1
    labels[_disc(30, 30, 12) & (YY >= 30)] = 2
    ids = objects_from_probabilities(one_hot(labels, 3), ObjectOptions(min_area=7))
    assert ids.max() == 2 and ids[25, 30] != ids[35, 30]
