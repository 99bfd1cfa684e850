"""The least object size is a whole object's: an object the image's edge cuts is a piece of
one and is held only to CUT_MIN_AREA (a 77-px piece of a gland whose least size is 5,368 px
was dropped); a least size scaled to a coarser pyramid level stays at least CUT_MIN_AREA
(a 17-px least size at a 16x level was 1 px: every speck an object)."""

import numpy as np

from unetlab.inference.objects import (
    CUT_MIN_AREA,
    ObjectOptions,
    edge_objects,
    objects_from_probabilities,
    scaled_least_areas,
    scaled_options,
)


def _probabilities(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.stack([(labels == k).astype(np.float32) for k in range(classes)])


def _glands() -> np.ndarray:
    """Class 1 (glands, least size 50 px): a whole 64-px gland, a 20-px piece the left edge
    cuts, a 20-px speck inside, a 2-px speck on the bottom edge; class 2: a 6-px piece at
    the right edge and a 6-px speck inside (least size 9 px)."""
    labels = np.zeros((30, 40), np.int64)
    labels[2:10, 10:18] = 1  # whole, 64 px
    labels[12:17, 0:4] = 1  # cut by the left edge, 20 px
    labels[20:24, 20:25] = 1  # inside, 20 px
    labels[29, 30:32] = 1  # on the bottom edge, 2 px
    labels[3:5, 37:40] = 2  # cut by the right edge, 6 px
    labels[12:14, 30:33] = 2  # inside, 6 px
    return labels


def test_an_object_the_image_edge_cuts_is_not_dropped_for_its_classs_least_size():
    options = ObjectOptions(class_min_areas=(0, 50, 9))
    ids = objects_from_probabilities(_probabilities(_glands(), 3), options)
    areas = sorted(np.bincount(ids.ravel())[1:].tolist())
    assert areas == [6, 20, 64]  # the whole gland and both pieces; the specks inside go
    assert ids[14, 0] > 0 and ids[4, 39] > 0 and ids[22, 22] == 0 and ids[13, 31] == 0
    assert ids[29, 30] == 0  # a piece smaller than CUT_MIN_AREA is noise all the same


def test_one_least_size_spares_edge_pieces_too():
    labels = (_glands() > 0).astype(np.int64)
    ids = objects_from_probabilities(_probabilities(labels, 2), ObjectOptions(min_area=50))
    assert sorted(np.bincount(ids.ravel())[1:].tolist()) == [6, 20, 64]
    small = objects_from_probabilities(_probabilities(labels, 2), ObjectOptions(min_area=2))
    assert int(small.max()) == 6  # a least size under CUT_MIN_AREA holds for pieces too


def test_edge_objects():
    ids = np.array([[0, 1, 0, 0], [0, 0, 2, 0], [3, 0, 0, 0], [0, 0, 4, 4]])
    assert edge_objects(ids).tolist() == [False, True, False, True, True]


def test_scaled_least_areas_stay_above_the_noise_floor():
    assert CUT_MIN_AREA == 4
    assert scaled_least_areas((17, 10, 1, 0), (4.0, 4.0)) == (4, 4, 1, 0)  # was (1, 1, 1, 0)
    assert scaled_least_areas((320, 17, 3), (2.0, 2.0)) == (80, 4, 3)
    assert scaled_least_areas((5368, 16), (1.0, 1.0)) == (5368, 16)
    options = ObjectOptions(min_area=17, min_seed_area=4, class_min_areas=(0, 5368, 17))
    scaled = scaled_options(options, (4.0, 4.0))
    assert (scaled.min_area, scaled.min_seed_area) == (4, 4)
    assert scaled.class_min_areas == (0, 336, 4)
    assert scaled_options(ObjectOptions(min_area=2), (4.0, 4.0)).class_min_areas is None
