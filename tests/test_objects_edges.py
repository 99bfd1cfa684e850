"""The least object size is a whole object's: an object the image's edge cuts is a piece of
one and is held only to CUT_MIN_AREA where its least size is larger (a 77-px piece of a
gland whose least size is 5,368 px was dropped); a least size scaled to a coarser pyramid
level stays at least MIN_AREA_FLOOR (a 17-px least size at a 16x level was 1 px: every
speck an object)."""

import numpy as np

from unetlab.data.fingerprint import cut_regions
from unetlab.inference.objects import (
    CUT_MIN_AREA,
    MIN_AREA_FLOOR,
    ObjectOptions,
    objects_from_probabilities,
    objects_in_bands,
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


def test_cut_regions_by_the_image_edge_a_bands_cut_rows_and_outside_pixels():
    ids = np.array([[0, 1, 0, 0], [0, 0, 2, 0], [3, 0, 0, 0], [0, 5, 4, 4]])
    assert cut_regions(ids).tolist() == [True, False, True, True, True]
    band = cut_regions(ids, image_rows=(False, False))  # a band's cut rows cut nothing
    assert band.tolist() == [False, False, True, True, False]
    outside = np.zeros((4, 4), bool)
    outside[1, 3] = True  # beside object 2
    assert cut_regions(ids, outside, image_rows=(False, False))[1]


def test_a_thin_piece_across_a_band_seam_is_dropped_as_read_whole():
    """Review s33 1: a 153-px object (least area 200) across a band's cut row was kept from
    CUT_MIN_AREA in the band, as if the image's edge cut it; read whole it is dropped."""
    fg = np.zeros((200, 64), np.float32)
    fg[90:141, 30:33] = 1  # 153 px, under min_area
    fg[10:40, 5:25] = 1  # 600 px
    fg[185:200, 40:45] = 1  # 75 px, cut by the image's bottom edge: kept, whole and in bands
    p = np.stack([1 - fg, fg])
    options = ObjectOptions(mode="semantic", background=0, min_area=200, distance_split=True)
    whole = objects_from_probabilities(p, options)
    blocks = [(y, p[:, y : y + 50]) for y in range(0, 200, 50)]
    bands = objects_in_bands(blocks, height=200, options=options, band_rows=64, margin=32)
    streamed = np.concatenate([ids for _, ids in bands])
    assert np.array_equal(streamed > 0, whole > 0)
    assert whole[100, 31] == 0 and whole[190, 42] > 0 and len(np.unique(whole)) == 3


def test_an_object_beside_outside_pixels_is_cut_as_at_the_image_edge():
    """Review s33 2: a 100-px piece (least area 200) beside nodata or a data bar is a piece,
    as training sizes count it (cut_regions), kept as at the image's edge."""
    fg = np.zeros((80, 64), np.float32)
    fg[54:64, 20:30] = 1  # 100 px; rows 64.. are a data bar (background)
    fg[20:30, 20:30] = 1  # 100 px inside: dropped
    p = np.stack([1 - fg, fg])
    options = ObjectOptions(mode="semantic", background=0, min_area=200)
    assert objects_from_probabilities(p, options).max() == 0
    bar = np.zeros((80, 64), bool)
    bar[64:] = True
    ids = objects_from_probabilities(p, options, outside=bar)
    assert ids.max() == 1 and ids[60, 25] == 1
    blocks = [(y, p[:, y : y + 16]) for y in range(0, 80, 16)]
    bands = objects_in_bands(
        blocks, height=80, options=options, band_rows=16, margin=16, outside=lambda a, b: bar[a:b]
    )
    assert np.array_equal(np.concatenate([i for _, i in bands]) > 0, ids > 0)


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
