"""split_by_distance, which processes all objects at once and gives only the objects that may
split their own h-maxima and watershed, against the object-by-object original (kept here as
the reference): the same ids, pixel for pixel, on random touching and merged discs and on
Kromp 2020 nuclei masks whose touching pairs are merged."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import reconstruction

from unetlab.data.io import read_image
from unetlab.inference import objects
from unetlab.inference.objects import (
    SPLIT_DEPTH,
    SPLIT_MIN_DEPTH,
    SPLIT_SMOOTH,
    compact,
    split_by_distance,
)


def reference_landscape(mask: np.ndarray, depth: float, weight=None) -> tuple | None:
    """The original's landscape of one object's padded mask and its h, or None where it
    cannot split; ``weight``: the object's padded interior probability (0 off the object),
    which weighs the smoothed distance."""
    distance = ndimage.distance_transform_edt(mask)
    h = max(SPLIT_MIN_DEPTH, depth * float(distance.max()))
    if distance.max() <= h + 1:
        return None
    smooth = ndimage.gaussian_filter(distance, SPLIT_SMOOTH)
    if weight is not None:
        smooth = smooth * ndimage.gaussian_filter(weight, SPLIT_SMOOTH)
    return np.where(mask, smooth, 0.0), h


def reference_weight(interior: np.ndarray, box: tuple, mask: np.ndarray) -> np.ndarray:
    """The original's weight of one object (its ``box``, its padded ``mask``): its interior
    probability, padded, 0 off the object, enclosed dips filled."""
    weight = np.where(mask, np.pad(np.asarray(interior[box], np.float64), 1), 0.0)
    seed = np.where(mask, weight.max(), weight)
    return reconstruction(seed, weight, method="erosion")


def reference_split_one(mask: np.ndarray, depth: float, weight=None) -> np.ndarray | None:
    """The original: one object's padded mask -> its pieces, or None for one piece."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    landscape = reference_landscape(mask, depth, weight)
    if landscape is None:
        return None
    smooth, h = landscape
    markers, n = ndimage.label(h_maxima(smooth, h).astype(bool) & mask, np.ones((3, 3)))
    if n < 2:
        return None
    return watershed(-smooth, markers, mask=mask)


def reference_split(ids: np.ndarray, depth: float = SPLIT_DEPTH, interior=None) -> np.ndarray:
    """The original split_by_distance: an h-maxima and a watershed for every object;
    ``interior``: (H, W) interior probability that weighs the distance, or None."""
    out = np.asarray(ids, dtype=np.int64).copy()
    next_id = int(out.max(initial=0)) + 1
    for i, box in enumerate(ndimage.find_objects(np.asarray(ids)), 1):
        if box is None:
            continue
        mask = np.pad(out[box] == i, 1)
        weight = None if interior is None else reference_weight(interior, box, mask)
        pieces = reference_split_one(mask, depth, weight)
        if pieces is None:
            continue
        pieces = pieces[1:-1, 1:-1]
        extra = pieces > 1
        out[box][extra] = next_id + pieces[extra] - 2
        next_id += int(pieces.max()) - 1
    return compact(out)


def random_discs(rng: np.random.Generator) -> np.ndarray:
    """Discs of radius 1-14 at random (some past the edge), later ones painted over earlier
    ones; a third share an id with another disc (merged pairs, some apart), ids with gaps;
    plus a few 1-px-wide lines and single pixels."""
    shape = tuple(rng.integers(24, 90, 2))
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    ids = np.zeros(shape, np.int64)
    count = int(rng.integers(1, 12))
    labels = rng.choice(np.arange(1, 3 * count + 5), count, replace=False)
    for k in range(count):
        cy, cx = rng.uniform(-5, shape[0] + 5), rng.uniform(-5, shape[1] + 5)
        r = rng.uniform(1, 14)
        label = labels[k - 1] if k and rng.random() < 0.33 else labels[k]
        ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = label
    for _ in range(int(rng.integers(0, 3))):
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        ids[y, x : x + int(rng.integers(1, 9))] = ids.max() + 1
    return ids


def random_interior(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """A smooth random interior probability in [0, 1] (float32, as a net gives it)."""
    field = ndimage.gaussian_filter(rng.normal(size=shape), 3.0)
    return (1 / (1 + np.exp(-8 * field))).astype(np.float32)


def truth_interior(ids: np.ndarray) -> np.ndarray:
    """An interior probability a net might give for true nuclei ``ids``: rising from 0 at
    each nucleus's outline to 1 at 3 px inside it, so it dips along the seam of two touching
    nuclei (float32)."""
    from skimage.segmentation import find_boundaries

    inside = (ids > 0) & ~find_boundaries(ids, mode="inner")
    return np.clip(ndimage.distance_transform_edt(inside) / 3, 0, 1).astype(np.float32)


def merged_pairs(ids: np.ndarray) -> np.ndarray:
    """Touching pairs of objects given one id (each object in one pair at most)."""
    a = np.concatenate([ids[1:].ravel(), ids[:, 1:].ravel()]).astype(np.int64)
    b = np.concatenate([ids[:-1].ravel(), ids[:, :-1].ravel()]).astype(np.int64)
    touching = (a > 0) & (b > 0) & (a != b)
    pairs = np.unique(np.sort(np.stack([a[touching], b[touching]], 1), 1), axis=0)
    lut, used = np.arange(int(ids.max()) + 1), set()
    for i, j in pairs:
        if i not in used and j not in used:
            used |= {i, j}
            lut[j] = i
    return lut[ids]


def test_random_touching_and_merged_discs_split_as_one_object_at_a_time():
    rng = np.random.default_rng(28)
    splits = 0
    for _ in range(150):
        ids = random_discs(rng)
        expected = reference_split(ids)
        np.testing.assert_array_equal(split_by_distance(ids), expected)
        splits += int(expected.max()) > len(np.unique(ids)) - 1
    assert splits >= 15  # the images do exercise the split


@pytest.mark.parametrize("weigh", [False, True])
@pytest.mark.parametrize("pixels", [objects._CANVAS_PIXELS, 700])
def test_the_landscapes_of_all_objects_at_once_are_each_objects_alone(monkeypatch, weigh, pixels):
    """_may_split's landscape and h of each object that may split (the h-maxima and the
    watershed are given them) are the bits of its padded box alone; in blocks too."""
    monkeypatch.setattr(objects, "_CANVAS_PIXELS", pixels)
    rng = np.random.default_rng(41)
    compared = 0
    for _ in range(80):
        ids = random_discs(rng)
        interior = random_interior(rng, ids.shape) if weigh else None
        boxes = ndimage.find_objects(ids)
        for i, (smooth, h) in objects._may_split(ids, boxes, SPLIT_DEPTH, interior).items():
            mask = np.pad(ids[boxes[i - 1]] == i, 1)
            weight = None if interior is None else reference_weight(interior, boxes[i - 1], mask)
            expected, expected_h = reference_landscape(mask, SPLIT_DEPTH, weight)
            assert h == expected_h and smooth.shape == expected.shape
            assert smooth.tobytes() == expected.tobytes()
            compared += 1
    assert compared >= 15


@pytest.mark.parametrize("depth", [0.05, 0.3])
def test_other_depths_split_as_one_object_at_a_time(depth):
    rng = np.random.default_rng(7)
    for _ in range(30):
        ids = random_discs(rng)
        np.testing.assert_array_equal(split_by_distance(ids, depth), reference_split(ids, depth))


def test_the_interior_weighed_split_is_as_one_object_at_a_time():
    rng = np.random.default_rng(29)
    splits = 0
    for _ in range(100):
        ids = random_discs(rng)
        interior = random_interior(rng, ids.shape)
        expected = reference_split(ids, interior=interior)
        np.testing.assert_array_equal(split_by_distance(ids, interior=interior), expected)
        splits += int(expected.max()) > len(np.unique(ids)) - 1
    assert splits >= 15


def test_blocks_of_objects_give_the_same_ids(monkeypatch):
    rng = np.random.default_rng(3)
    ids = np.concatenate([random_discs(rng)[:24, :24] for _ in range(12)], axis=1)
    expected = split_by_distance(ids)
    monkeypatch.setattr(objects, "_CANVAS_PIXELS", 500)  # a block an object or two
    monkeypatch.setattr(objects, "_CANVAS_WIDTH", 40)  # many shelves
    np.testing.assert_array_equal(split_by_distance(ids), expected)
    np.testing.assert_array_equal(expected, reference_split(ids))


@pytest.mark.parametrize(
    "name", ["Ganglioneuroblastoma_8.png", "Neuroblastoma_9.png", "otherspecimen_1.png"]
)
def test_kromp_nuclei_with_merged_pairs_split_as_one_object_at_a_time(kromp_dir, name):
    ids = merged_pairs(read_image(kromp_dir / "test" / "masks" / name).astype(np.int64))
    expected = reference_split(ids)
    np.testing.assert_array_equal(split_by_distance(ids), expected)


def test_kromp_nuclei_with_merged_pairs_and_their_interior_split_alike(kromp_dir):
    truth = read_image(kromp_dir / "test" / "masks" / "otherspecimen_1.png").astype(np.int64)
    ids, interior = merged_pairs(truth), truth_interior(truth)
    expected = reference_split(ids, interior=interior)
    np.testing.assert_array_equal(split_by_distance(ids, interior=interior), expected)
    assert expected.max() > split_by_distance(ids).max()  # the seams' dips split more


@pytest.mark.parametrize("name", ["Ganglioneuroblastoma_8.png", "otherspecimen_1.png"])
def test_kromp_nuclei_get_h_maxima_of_their_own_only_where_they_split(kromp_dir, monkeypatch, name):
    """Dozens of these nuclei have two peaks above h that one ridge joins (no split)."""
    ids = merged_pairs(read_image(kromp_dir / "test" / "masks" / name).astype(np.int64))
    results = []
    original = objects._split_one
    monkeypatch.setattr(
        objects, "_split_one", lambda *a: results.append(original(*a)) or results[-1]
    )
    split_by_distance(ids)
    assert results and all(pieces is not None for pieces in results)


def test_objects_that_cannot_split_get_no_h_maxima_of_their_own(monkeypatch):
    yy, xx = np.mgrid[:200, :200]
    ids = np.zeros((200, 200), np.int32)
    for k, (cy, cx) in enumerate([(30, 30), (30, 100), (100, 60), (160, 160)], 1):
        ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= 20**2] = k
    ids[(yy - 160) ** 2 + (xx - 127) ** 2 <= 20**2] = 4  # two discs, one id: splits
    calls = []
    original = objects._split_one
    monkeypatch.setattr(objects, "_split_one", lambda *a: calls.append(1) or original(*a))
    out = split_by_distance(ids)
    assert out.max() == 5 and len(calls) == 1
    np.testing.assert_array_equal(out, reference_split(ids))


def test_no_objects():
    assert not split_by_distance(np.zeros((5, 7), np.int32)).any()
