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


def test_two_dropped_specks_touching_each_other_inside_an_object_join_it():
    """s36: two specks of other classes that touch each other, both dropped, leave no hole:
    together they touch the one object alone (the join took each speck alone, and each saw
    the other as an opening)."""
    labels = np.zeros((64, 64), np.int64)
    labels[_disc(30, 30, 12)] = 1
    labels[29:31, 28:30] = 2  # 4 px
    labels[29:31, 30:32] = 3  # 4 px, touching the other speck
    labels[50:52, 5:7] = 2
    labels[50:52, 7:9] = 3  # two touching specks on the background: stay background
    options = ObjectOptions(min_area=7)
    probabilities = one_hot(labels, 4)
    whole = objects_from_probabilities(probabilities, options)
    assert whole.max() == 1 and np.count_nonzero(whole == 1) == _disc(30, 30, 12).sum()
    assert not whole[50:52, 5:9].any()
    for rows in (1, 3, 64):
        np.testing.assert_array_equal(streamed(probabilities, options, rows), whole)


def test_a_dropped_speck_joins_its_object_without_a_background_class():
    """s36: a model with no background class (trained with nodata: every class makes
    objects) joins a dropped speck to the one object around it too, read whole and in
    blocks (the join needed a background class)."""
    labels = np.zeros((64, 64), np.int64)
    labels[_disc(30, 30, 12)] = 1
    labels[_disc(30, 30, 1)] = 2  # 5 px
    labels[29:31, 36:38] = 2
    labels[29:31, 38:40] = 0  # 2 x 4 px touching each other inside the disc: join too
    labels[0:2, 50:52] = 2  # on the image's edge: open, dropped
    options = ObjectOptions(min_area=7, background=None)
    probabilities = one_hot(labels, 3)
    whole = objects_from_probabilities(probabilities, options)
    disc = whole[30, 30]
    assert disc > 0 and np.count_nonzero(whole == disc) == _disc(30, 30, 12).sum()
    assert not whole[0:2, 50:52].any()
    for rows in (1, 5, 64):
        np.testing.assert_array_equal(streamed(probabilities, options, rows), whole)
