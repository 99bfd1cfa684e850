"""The overlay of an instance model shows its objects (counting audit 5), in memory and
streamed alike; a semantic model's shows its classes as before."""

from __future__ import annotations

import numpy as np

from unetlab.data.io import read_image
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.slide_overlay import by_object, write_slide_overlay
from unetlab.plots import (
    display_rgb,
    draw_outlines,
    object_colours,
    object_overlay,
    outlines,
    overlay,
    prediction_overlay,
)


def _merged():
    """Two touching objects (1, 2) and a third (3) apart, over a grey ramp."""
    image = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (12, 1))
    ids = np.zeros((12, 16), np.int64)
    ids[2:8, 2:6], ids[2:8, 6:10], ids[9:11, 12:15] = 1, 2, 3
    return image, ids


def test_colours_fixed_per_id_and_apart_for_neighbouring_ids():
    ids = np.arange(0, 3001)
    colours = object_colours(ids).astype(int)
    assert (colours[0] == 0).all()
    np.testing.assert_array_equal(object_colours(ids[::-1]), colours[::-1])  # fixed per id
    step = np.abs(np.diff(colours[1:], axis=0)).sum(1)
    assert step.min() > 150  # ids in a row (neighbours in reading order) differ clearly


def test_uint64_ids_above_2_63_are_coloured_as_objects():
    ids = np.array([0, 5, 2**62 + 5, 2**63 + 9, 2**64 - 1], np.uint64)
    colours = object_colours(ids).astype(int)
    assert (colours[0] == 0).all() and colours[1:].sum(axis=1).min() > 150
    np.testing.assert_array_equal(colours[1], colours[2])  # modulo 2**62
    np.testing.assert_array_equal(colours[1], object_colours(np.array([5])).astype(int)[0])


def test_each_object_filled_and_outlined_in_its_own_colour():
    image, ids = _merged()
    drawn = object_overlay(image, ids, alpha=0.3)
    shown = display_rgb(image).astype(np.float32)
    colours = object_colours(ids)
    edge = outlines(ids)
    np.testing.assert_array_equal(drawn[edge], colours[edge])
    inner = (ids > 0) & ~edge
    mixed = np.round(0.7 * shown[inner] + 0.3 * colours[inner]).astype(np.uint8)
    np.testing.assert_array_equal(drawn[inner], mixed)
    np.testing.assert_array_equal(drawn[ids == 0], display_rgb(image)[ids == 0])
    # touching objects 1 and 2 are told apart; merged (one id) they are one colour
    assert not (drawn[4, 4] == drawn[4, 7]).all()
    merged = np.where(ids == 2, 1, ids)
    one = object_overlay(image, merged)
    assert (one[outlines(merged) & (merged == 1)] == object_colours(np.array(1))).all()


def test_classes_stay_for_semantic_models():
    image, ids = _merged()
    labels = (ids > 0).astype(np.int64)
    classes = draw_outlines(overlay(image, labels), ids)
    np.testing.assert_array_equal(prediction_overlay(image, labels, ids), classes)
    np.testing.assert_array_equal(prediction_overlay(image, labels), overlay(image, labels))
    by_objects = prediction_overlay(image, labels, ids, by_object=True)
    np.testing.assert_array_equal(by_objects, object_overlay(image, ids))
    assert by_object(ObjectOptions(mode="instances"))
    assert not by_object(ObjectOptions(mode="semantic")) and not by_object(None)


def test_streamed_overlay_draws_objects_as_the_in_memory_one(tmp_path):
    image, ids = _merged()
    labels = (ids > 0).astype(np.int64)

    def window(a):
        return lambda rows, cols: a[rows, cols]

    args = (ids.shape, window(image[..., None]), window(labels), window(ids))
    write_slide_overlay(tmp_path / "s.png", *args, by_object=True)
    np.testing.assert_array_equal(read_image(tmp_path / "s.png"), object_overlay(image, ids))
    write_slide_overlay(tmp_path / "c.png", *args)
    np.testing.assert_array_equal(
        read_image(tmp_path / "c.png"), draw_outlines(overlay(image, labels), ids)
    )
