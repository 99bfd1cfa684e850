"""The paper's border weight map: exact values on hand-built images."""

import math

import numpy as np
import pytest

from unetlab.data.io import read_mask
from unetlab.data.labels import IGNORE_INDEX, encode_mask
from unetlab.data.weightmap import (
    border_radius,
    class_weights_balanced,
    label_objects,
    object_distances,
    weight_map,
)


def border(total, w0=10.0, sigma=5.0):
    return w0 * math.exp(-(total**2) / (2 * sigma**2))


def two_bars(gap: int, rows: int = 4) -> np.ndarray:
    """Two 1-px-wide vertical objects (class 1) with ``gap`` background columns between."""
    labels = np.zeros((rows, gap + 2), np.int64)
    labels[:, 0] = labels[:, -1] = 1
    return labels


@pytest.mark.parametrize("gap", [1, 2, 5])
def test_two_objects_exact(gap):
    labels = two_bars(gap)
    w = weight_map(labels)
    # balanced: background has 4*gap px, objects 8 px
    n_bg, n_obj = 4 * gap, 8
    w_bg = max(n_bg, n_obj) / n_bg
    w_obj = max(n_bg, n_obj) / n_obj
    # gap pixel j (1..gap) is j from the left bar and gap+1-j from the right one: d1+d2 = gap+1
    expected_gap = w_bg + border(gap + 1)
    np.testing.assert_allclose(w[:, 1:-1], expected_gap, rtol=1e-6)
    # object pixels get the class weight only (the border term is for background pixels)
    np.testing.assert_allclose(w[:, [0, -1]], w_obj, rtol=1e-6)
    assert w.dtype == np.float32 and w.shape == labels.shape


def test_gap_middle_one_pixel_by_hand():
    w = weight_map(two_bars(1), class_weights=None)
    # d1 = d2 = 1 at the single gap pixel: 1 + 10 exp(-4/50)
    np.testing.assert_allclose(w[:, 1], 1 + 10 * math.exp(-4 / 50), rtol=1e-6)
    assert w[0, 1] == pytest.approx(10.23116, abs=1e-5)


def test_two_nearest_of_three_objects():
    objects = np.zeros((1, 10), np.int32)
    objects[0, 0], objects[0, 3], objects[0, 9] = 1, 2, 3
    d1, d2 = object_distances(objects)
    # pixel 1: distances (1, 2, 8); pixel 5: (5, 2, 4); pixel 3 is inside object 2: (3, 0, 6)
    assert (d1[0, 1], d2[0, 1]) == (1, 2)
    assert (d1[0, 5], d2[0, 5]) == (2, 4)
    assert (d1[0, 3], d2[0, 3]) == (0, 3)


def test_diagonal_distances_are_euclidean():
    objects = np.zeros((4, 4), np.int32)
    objects[0, 0], objects[3, 3] = 1, 2
    d1, d2 = object_distances(objects)
    assert d1[1, 2] == pytest.approx(math.sqrt(5)) and d2[1, 2] == pytest.approx(math.sqrt(5))


def test_fewer_than_two_objects_no_border_term():
    labels = np.zeros((6, 6), np.int64)
    labels[2:4, 2:4] = 1
    w = weight_map(labels)
    np.testing.assert_allclose(w[labels == 0], 1.0)
    np.testing.assert_allclose(w[labels == 1], 32 / 4)
    np.testing.assert_array_equal(weight_map(np.zeros((3, 3), np.int64)), 1.0)


def test_ignored_pixels_weigh_zero_and_are_not_counted():
    labels = two_bars(1)
    labels[0, :] = IGNORE_INDEX
    w = weight_map(labels)
    np.testing.assert_array_equal(w[0], 0.0)
    # counts without row 0: background 3 px, objects 6 px -> background weight 2, objects 1
    np.testing.assert_allclose(w[1:, 1], 2 + border(2), rtol=1e-6)
    np.testing.assert_allclose(w[1:, [0, 2]], 1.0)


def test_custom_ignore_index():
    labels = two_bars(1)
    labels[0, :] = 255
    w = weight_map(labels, ignore_index=255, class_weights=None)
    np.testing.assert_array_equal(w[0], 0.0)
    np.testing.assert_allclose(w[1:, 1], 1 + border(2), rtol=1e-6)


def test_instances_split_touching_objects():
    labels = np.zeros((3, 7), np.int64)
    labels[:, 0:3] = 1
    labels[:, 4:7] = 1
    instances = np.zeros_like(labels)
    instances[:, 0:2] = 7  # instance 7 ends one px before the gap column's neighbour
    instances[:, 2:3] = 42
    instances[:, 4:7] = 42  # ids need not be consecutive; one id may be two pieces
    w = weight_map(labels, instances=instances, class_weights=None)
    # the gap column 3 is 1 from both pieces of instance 42, 2 from instance 7: d1=1, d2=2
    np.testing.assert_allclose(w[:, 3], 1 + border(3), rtol=1e-6)
    objects, n = label_objects(labels, instances=instances)
    assert n == 2 and set(np.unique(objects).tolist()) == {0, 1, 2}


def test_instances_cover_everything():
    instances = np.array([[1, 1, 2, 2]])
    objects, n = label_objects(np.ones((1, 4), np.int64), instances=instances)
    assert n == 2 and objects.tolist() == [[1, 1, 2, 2]]


def test_components_are_four_connected():
    labels = np.array([[1, 0], [0, 1]])
    objects, n = label_objects(labels)
    assert n == 2
    w = weight_map(labels, class_weights=None)
    # each background pixel is 1 px from both diagonal cells
    np.testing.assert_allclose(w[0, 1], 1 + border(2), rtol=1e-6)


def test_foreground_choice_and_per_class_objects():
    labels = np.array([[1, 0, 2, 2, 0, 2]])
    objects, n = label_objects(labels)  # classes 1 and 2: three objects
    assert n == 3 and objects.tolist() == [[1, 0, 2, 2, 0, 3]]
    objects, n = label_objects(labels, foreground=[2])  # class 1 is now background
    assert n == 2 and objects.tolist() == [[0, 0, 1, 1, 0, 2]]
    w = weight_map(labels, foreground=[2], class_weights=None)
    # pixel 0 (class 1, no object): 2 px from object 1, 5 px from object 2
    assert w[0, 0] == pytest.approx(1 + border(7), rel=1e-6)
    assert w[0, 4] == pytest.approx(1 + border(2), rel=1e-6)
    assert w[0, 2] == 1.0


def test_class_weight_choices():
    labels = np.array([[0, 0, 0, 1]])
    np.testing.assert_allclose(class_weights_balanced(labels, 3), [1.0, 3.0, 0.0])
    w = weight_map(labels, class_weights=[0.5, 4.0])
    np.testing.assert_allclose(w, [[0.5, 0.5, 0.5, 4.0]])
    with pytest.raises(ValueError, match="has 1 value but labels have class index 1; give one"):
        weight_map(labels, class_weights=[1.0])
    with pytest.raises(ValueError, match="'balanced', None or a sequence"):
        weight_map(labels, class_weights="median")


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="encode the mask first"):
        weight_map(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="sigma > 0"):
        weight_map(np.zeros((2, 2), np.int64), sigma=0)
    with pytest.raises(ValueError, match="ignore_index"):
        weight_map(np.full((2, 2), -3))
    with pytest.raises(ValueError, match="instances have shape"):
        weight_map(np.zeros((2, 2), np.int64), instances=np.zeros((3, 3), np.int64))


def test_windowed_distances_match_unbounded():
    rng = np.random.default_rng(0)
    labels = (rng.random((96, 96)) < 0.55).astype(np.int64)
    objects, _ = label_objects(labels)
    radius = border_radius(10.0, 5.0)
    assert radius == pytest.approx(5 * math.sqrt(2 * math.log(1e4)))
    near, second = object_distances(objects, max_distance=radius)
    full_near, full_second = object_distances(objects)
    for got, exact in ((near, full_near), (second, full_second)):
        within = exact <= radius
        np.testing.assert_array_equal(got[within], exact[within])
        assert (got[~within] > radius).all()


def test_inputs_not_modified():
    labels = two_bars(2)
    before = labels.copy()
    weight_map(labels)
    np.testing.assert_array_equal(labels, before)


@pytest.mark.isbi
def test_isbi_mask_membrane_weighs_more(isbi_dir):
    mask = encode_mask(read_mask(isbi_dir / "train" / "masks" / "00.png"), [0, 255])
    w = weight_map(mask)
    assert w.shape == (512, 512)
    # cells (78 %) are the most frequent class: weight 1 exactly; membrane gets more
    np.testing.assert_array_equal(w[mask == 1], 1.0)
    membrane_weight = (mask == 1).sum() / (mask == 0).sum()
    assert w[mask == 0].min() >= membrane_weight * (1 - 1e-6)
    assert w.max() <= membrane_weight + 10.0
    assert w[mask == 0].mean() > membrane_weight + 2.0  # thin membranes get border weight


def test_a_background_named_as_a_class_of_its_own():
    """One rule for 'the background is a class of its own by name' (the objects line and a
    PNG's left-out pixels both follow it)."""
    from unetlab.data.weightmap import own_background_name

    assert own_background_name(["road", "car"], 0) == "road"
    assert own_background_name([" Road ", "car"], 0) == "Road"
    for names in (["background", "car"], ["Membrane", "cell"], ["0", "car"], [" 0", "car"]):
        assert own_background_name(names, 0) is None, names
    assert own_background_name(["road", "car"], None) is None
    assert own_background_name(None, 0) is None and own_background_name(["road"], 3) is None
