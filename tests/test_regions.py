"""The objects of a label image: the boxed, counted measures equal the plain ones (np.unique,
one full-image label and filter per value, a brute-force pair search) exactly."""

import numpy as np
import pytest
from scipy import ndimage

from unetlab.data.large_ids import index_dtype
from unetlab.data.regions import (
    count_regions,
    distinct_values,
    object_labels,
    touching_in_class,
    touching_objects,
    value_ids,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

DTYPES = [np.uint8, np.uint16, np.int32, np.int64, np.float32]


def plain_labels(mask, background_value, *, instances):
    """The full-image version: one np.unique, one label of the whole image per value."""
    if instances:
        _, ids = np.unique(mask, return_inverse=True)
        return np.where(mask == background_value, 0, ids.reshape(mask.shape) + 1)
    out = np.zeros(mask.shape, dtype=np.int64)
    for value in np.unique(mask):
        if value != background_value:
            regions, _ = ndimage.label(mask == value)
            out[regions > 0] = regions[regions > 0] + out.max()
    return out


def brute_touching(objects, gap, classes=None):
    """Objects with a pixel of another object (of their class; None: all of one class) in
    the (2 gap + 3) square around one of theirs, by looking at every pair of pixels."""
    classes = objects > 0 if classes is None else classes
    points = np.argwhere(objects > 0)
    found = set()
    for i, (y, x) in enumerate(points):
        for v, u in points[i + 1 :]:
            a, b = objects[y, x], objects[v, u]
            near = max(abs(int(y) - int(v)), abs(int(x) - int(u))) <= gap + 1
            if near and a != b and classes[y, x] == classes[v, u]:
                found |= {a, b}
    return len(found)


masks = st.tuples(st.sampled_from(DTYPES), st.integers(1, 9), st.integers(1, 9)).flatmap(
    lambda t: arrays(t[0], (t[1], t[2]), elements=st.integers(0, 4).map(lambda v: v * 7))
)


@settings(max_examples=60, deadline=None)
@given(masks, st.booleans())
def test_values_ids_and_labels_equal_the_plain_measures(mask, instances):
    values, counts = distinct_values(mask)
    plain_values, plain_counts = np.unique(mask, return_counts=True)
    assert values.dtype == plain_values.dtype
    np.testing.assert_array_equal(values, plain_values)
    np.testing.assert_array_equal(counts, plain_counts)
    found, ids = value_ids(mask)
    np.testing.assert_array_equal(found, plain_values)
    np.testing.assert_array_equal(found[ids - 1], mask)
    known, known_ids = value_ids(mask, values)  # its values given: the same ids
    assert known is values and known_ids.dtype == ids.dtype
    np.testing.assert_array_equal(known_ids, ids)
    for background_value in (0, int(plain_values[0])):
        labels = object_labels(mask, background_value, instances=instances)
        assert labels.dtype == np.int64
        plain = plain_labels(mask, background_value, instances=instances)
        np.testing.assert_array_equal(labels, plain)
        if not instances:
            assert count_regions(mask, background_value) == plain.max()


@settings(max_examples=60, deadline=None)
@given(masks, st.integers(0, 2))
def test_touching_in_class_equals_a_brute_force_pair_search(mask, gap):
    for instances in (False, True):
        objects = object_labels(mask, 0, instances=instances)
        expected = brute_touching(objects, gap, None if instances else mask)
        assert touching_in_class(mask, objects, gap, instances=instances) == expected


def test_touching_objects_in_a_narrow_dtype_and_past_its_range():
    objects = np.zeros((5, 9), dtype=np.int64)
    objects[1:3, 1:3], objects[1:3, 5:7] = 300, 70_000  # 2 px apart: touch at gap 2
    assert touching_objects(objects, 2) == 2 and touching_objects(objects, 1) == 0
    objects[1:3, 5:7] = 255  # ids that fit uint8, with the background stand-in 301
    assert touching_objects(objects, 2) == 2
    assert touching_objects(np.zeros((3, 3), dtype=np.int64), 2) == 0


def test_wide_and_negative_values_fall_back_to_sorting():
    mask = np.array([[-3, 5], [2_000_000, 5]], dtype=np.int64)
    values, counts = distinct_values(mask)
    assert values.tolist() == [-3, 5, 2_000_000] and counts.tolist() == [1, 2, 1]
    found, ids = value_ids(mask)
    assert ids.tolist() == [[1, 2], [3, 2]]
    assert object_labels(mask, 5, instances=False).tolist() == [[1, 0], [2, 0]]


def test_a_windows_index_is_int32_counted_or_sorted_past_one_slice():
    """value_ids' index as int32 (an int64 one per 2**21-px window held twice the
    memory): by counting, and by sorting (ids past 2**20) over more than one slice."""
    rng = np.random.default_rng(1)
    small = rng.integers(0, 50, (600, 500)).astype(np.uint32)  # 300,000 px: two slices
    for mask in (small, small + np.uint32(3_000_000_000)):
        found, ids = value_ids(mask)
        assert ids.dtype == np.int32
        np.testing.assert_array_equal(found, np.unique(mask))
        np.testing.assert_array_equal(found[ids - 1], mask)
    assert index_dtype(2**31 - 1) == np.int32 and index_dtype(2**31) == np.int64


@pytest.mark.parametrize("scale", [1, 3_000_000])  # counted (bincount), sorted (np.unique)
def test_a_masks_values_are_found_once_for_its_regions(monkeypatch, scale):
    """s59: MaskValues.of found a mask's distinct values (distinct_values), then again for
    its regions (value_regions -> value_ids): two passes over the mask, two sorts of it
    where its values are too large to count; one now, the regions the same."""
    from unetlab.data.fingerprint import MaskValues

    mask = np.zeros((40, 40), np.int64)
    mask[2:9, 2:9], mask[20:30, 5:9], mask[30:35, 30:35] = scale, scale, 2 * scale
    passes = []
    for name in ("bincount", "unique"):
        real = getattr(np, name)

        def counted(*a, _real=real, _name=name, **k):
            return passes.append(_name) or _real(*a, **k)

        monkeypatch.setattr(np, name, counted)
    found = MaskValues.of(mask)
    monkeypatch.undo()
    whole = [p for p in passes if p == ("bincount" if scale == 1 else "unique")]
    assert len(whole) == 1  # 2 before
    assert found.values == (0, scale, 2 * scale) and found.regions == (0, 2, 1)
