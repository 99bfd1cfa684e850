"""The least object size is a whole object's: an object the image's edge cuts is a piece of
one and is held only to CUT_MIN_AREA where its least size is larger (a 77-px piece of a
gland whose least size is 5,368 px was dropped); a least size scaled to a coarser pyramid
level stays at least MIN_AREA_FLOOR (a 17-px least size at a 16x level was 1 px: every
speck an object)."""

import numpy as np

from unetlab.inference.objects import (
    CUT_MIN_AREA,
    MIN_AREA_FLOOR,
    ObjectOptions,
    edge_objects,
    objects_from_probabilities,
    scaled_least_areas,
    scaled_options,
)


def _probabilities(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.stack([(labels == k).astype(np.float32) for k in range(classes)])


def _glands() -> np.ndarray:
    """Class 1 (glands, least size 500 px): a whole 900-px gland, a 100-px piece the left
    edge cuts, a 100-px speck inside, a 40-px speck on the bottom edge; class 2 (nuclei,
    least size 9 px): a 6-px piece at the right edge and a 6-px speck inside."""
    labels = np.zeros((60, 80), np.int64)
    labels[2:32, 10:40] = 1  # whole, 900 px
    labels[40:50, 0:10] = 1  # cut by the left edge, 100 px
    labels[40:50, 20:30] = 1  # inside, 100 px
    labels[58:60, 50:70] = 1  # on the bottom edge, 40 px
    labels[3:5, 77:80] = 2  # cut by the right edge, 6 px
    labels[12:14, 60:63] = 2  # inside, 6 px
    return labels


def test_an_object_the_image_edge_cuts_is_not_dropped_for_its_classs_least_size():
    assert CUT_MIN_AREA == 64
    options = ObjectOptions(class_min_areas=(0, 500, 9))
    ids = objects_from_probabilities(_probabilities(_glands(), 3), options)
    assert sorted(np.bincount(ids.ravel())[1:].tolist()) == [100, 900]
    assert ids[45, 0] > 0 and ids[45, 25] == 0  # the edge piece stays, the speck inside goes
    assert ids[59, 60] == 0  # a piece under CUT_MIN_AREA is not told from the edge's specks
    assert ids[4, 79] == 0  # a least size under CUT_MIN_AREA holds at the edge as inside


def test_one_least_size_spares_edge_pieces_too():
    labels = (_glands() > 0).astype(np.int64)
    ids = objects_from_probabilities(_probabilities(labels, 2), ObjectOptions(min_area=500))
    assert sorted(np.bincount(ids.ravel())[1:].tolist()) == [100, 900]
    small = objects_from_probabilities(_probabilities(labels, 2), ObjectOptions(min_area=30))
    assert sorted(np.bincount(small.ravel())[1:].tolist()) == [40, 100, 100, 900]


def test_edge_objects():
    ids = np.array([[0, 1, 0, 0], [0, 0, 2, 0], [3, 0, 0, 0], [0, 0, 4, 4]])
    assert edge_objects(ids).tolist() == [False, True, False, True, True]


def test_scaled_least_areas_stay_above_the_noise_floor():
    assert MIN_AREA_FLOOR == 4
    assert scaled_least_areas((17, 10, 1, 0), (4.0, 4.0)) == (4, 4, 1, 0)  # was (1, 1, 1, 0)
    assert scaled_least_areas((320, 17, 3), (2.0, 2.0)) == (80, 4, 3)
    assert scaled_least_areas((5368, 16), (1.0, 1.0)) == (5368, 16)
    options = ObjectOptions(min_area=17, min_seed_area=4, class_min_areas=(0, 5368, 17))
    scaled = scaled_options(options, (4.0, 4.0))
    assert (scaled.min_area, scaled.min_seed_area) == (4, 4)
    assert scaled.class_min_areas == (0, 336, 4)
    assert scaled_options(ObjectOptions(min_area=2), (4.0, 4.0)).class_min_areas is None
