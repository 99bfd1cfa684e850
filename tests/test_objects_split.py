"""The distance split of objects (Fiji's Binary > Watershed): touching discs split, one
bumpy disc whole."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from unetlab.errors import UnetlabError
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, split_by_distance

YY, XX = np.mgrid[:80, :120]


def disc(cy: float, cx: float, r: float) -> np.ndarray:
    return (YY - cy) ** 2 + (XX - cx) ** 2 <= r * r


def touching_pair_probabilities() -> np.ndarray:
    """Two discs of radius 15 whose centres are 27 px apart, painted interior as one blob
    (the seam not marked as boundary), a 2-px boundary rim around the union."""
    from scipy import ndimage

    union = disc(40, 40, 15) | disc(40, 67, 15)
    interior = ndimage.binary_erosion(union, iterations=2)
    probs = np.zeros((3, *union.shape))
    probs[0] = ~union
    probs[1] = union & ~interior
    probs[2] = interior
    return probs


def test_touching_discs_with_one_interior_blob_are_split_with_the_option():
    probs = touching_pair_probabilities()
    plain = ObjectOptions(mode="instances", min_area=36)
    assert objects_from_probabilities(probs, plain).max() == 1
    ids = objects_from_probabilities(
        probs, ObjectOptions(mode="instances", min_area=36, distance_split=True)
    )
    assert ids.max() == 2
    assert ids[40, 40] != ids[40, 67] and ids[40, 40] > 0 and ids[40, 67] > 0
    areas = np.bincount(ids.ravel())[1:]
    assert abs(int(areas[0]) - int(areas[1])) <= 0.02 * areas.sum()  # cut at the neck


@pytest.mark.parametrize(("amplitude", "lobes"), [(0.1, 6), (0.2, 5), (0.25, 8)])
def test_a_single_bumpy_disc_is_not_split(amplitude, lobes):
    angle, radius = np.arctan2(YY - 40, XX - 60), np.hypot(YY - 40, XX - 60)
    bumpy = radius <= 20 * (1 + amplitude * np.sin(lobes * angle))
    assert split_by_distance(bumpy.astype(np.int32)).max() == 1


def test_split_keeps_other_objects_and_numbers_new_pieces_last():
    ids = np.zeros(YY.shape, np.int32)
    ids[disc(40, 20, 12) | disc(40, 41, 12)] = 1
    ids[disc(40, 95, 10)] = 2
    out = split_by_distance(ids)
    assert out.max() == 3
    assert out[40, 95] == 2 and out[40, 20] == 1 and out[40, 41] == 3
    assert np.array_equal(out > 0, ids > 0)


def cluster_probabilities(dip: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Three discs of radius 14 whose centres are 14 px apart (a cluster whose outline has
    no neck: its distance transform has one maximum), a 2-px boundary rim around the union,
    and an interior probability of 1 that dips to ``dip`` (above the seed threshold, so
    one seed) along the seams where the discs meet, as a net paints touching nuclei; and
    the discs' ids (the nearest centre)."""
    from scipy import ndimage

    centres = [(30.0, 45.0), (30.0, 59.0), (42.1, 52.0)]
    union = np.logical_or.reduce([disc(cy, cx, 14) for cy, cx in centres])
    nearest = np.argmin([np.hypot(YY - cy, XX - cx) for cy, cx in centres], axis=0) + 1
    truth = np.where(union, nearest, 0)
    seam = np.zeros_like(union)
    seam[:, 1:] |= truth[:, 1:] != truth[:, :-1]
    seam[1:] |= truth[1:] != truth[:-1]
    seam &= union
    rim = union & ~ndimage.binary_erosion(union, iterations=2)
    interior = dip + (1 - dip) * np.clip(ndimage.distance_transform_edt(~seam) / 4, 0, 1)
    probs = np.zeros((3, *union.shape))
    probs[0] = ~union
    probs[1] = rim
    probs[2] = np.where(union & ~rim, interior, 0.0)
    return probs, truth


def test_a_cluster_without_a_neck_is_split_where_its_interior_dips():
    from unetlab.metrics.objects import object_f1

    probs, truth = cluster_probabilities()
    options = ObjectOptions(mode="instances", min_area=36, distance_split=True)
    assert objects_from_probabilities(probs, options).max() == 1  # the distance: one maximum
    ids = objects_from_probabilities(probs, replace(options, split_interior=True))
    assert ids.max() == 3
    assert object_f1(ids, truth) == 1.0


@pytest.mark.parametrize("spot", [None, (40, 60), (40, 45)])
def test_an_elongated_nucleus_stays_whole_with_the_interior_weight(spot):
    """An ellipse of 64 x 16 px, its interior probability 1, or 0.3 over a dark spot of
    radius 3 (a nucleolus) in its middle or off it: a dip the outline encloses."""
    from scipy import ndimage

    ellipse = ((YY - 40) / 8.0) ** 2 + ((XX - 60) / 32.0) ** 2 <= 1
    rim = ellipse & ~ndimage.binary_erosion(ellipse, iterations=2)
    interior = np.where(disc(*spot, 3), 0.3, 1.0) if spot else 1.0
    probs = np.zeros((3, *ellipse.shape))
    probs[0] = ~ellipse
    probs[1] = rim
    probs[2] = np.where(ellipse & ~rim, interior, 0.0)
    options = ObjectOptions(mode="instances", min_area=36, distance_split=True, split_interior=True)
    assert objects_from_probabilities(probs, options).max() == 1


def test_the_interior_weight_is_an_instance_models_option_only():
    class Instance:
        objects = {"target": "instances"}

    class Semantic:
        objects = {"target": "semantic"}

    assert ObjectOptions.for_model(Instance(), split_interior=True).split_interior
    assert not ObjectOptions.for_model(Instance()).split_interior
    with pytest.raises(UnetlabError, match="--split-interior .*this model has none"):
        ObjectOptions.for_model(
            Semantic(), names={"split_interior": "--split-interior"}, split_interior=True
        )


def test_predict_and_evaluate_take_split_interior():
    import argparse

    from unetlab.cli.common import add_object_args, object_flags_given

    parser = argparse.ArgumentParser()
    add_object_args(parser, "with --instances")
    assert parser.parse_args([]).split_interior is None
    given = parser.parse_args(["--split-interior"])
    assert given.split_interior is True
    assert object_flags_given(given) == ["--split-interior"]


def test_plateaus_are_the_8_connected_local_maxima_of_each_object():
    from unetlab.inference.objects import _plateaus

    smooth = np.array(
        [
            [0, 1, 0, 0, 2, 0],
            [1, 3, 3, 0, 0, 0],
            [0, 1, 0, 0, 0, 5],
        ],
        float,
    )
    mask = smooth > 0
    slots = np.array([[0] * 3 + [1] * 3] * 3)
    value, slot, pixel, highest = _plateaus(smooth, mask, slots, 3)
    assert value.tolist() == [2.0, 3.0, 5.0]  # the 3-3 plateau is one set; 2 and 5 apart
    assert slot.tolist() == [1, 0, 1] and pixel.tolist() == [4, 7, 17]
    assert highest.tolist() == [3.0, 5.0, 0.0]


def test_the_objects_line_names_the_background_class_of_a_class_model():
    from unetlab.cli.common import objects_line
    from unetlab.inference.objects import ObjectOptions

    line = objects_line(ObjectOptions(mode="semantic", background=1), recorded=True)
    assert line.startswith("objects: semantic mode, background class 1, ")
    assert "background" not in objects_line(ObjectOptions(mode="instances"), recorded=True)


def test_the_objects_line_names_a_named_background_class():
    """A road model's line said "background class 0": its road, which then made no object
    and no row, named nowhere (audit s46 scenes)."""
    from unetlab.cli.common import objects_line
    from unetlab.inference.objects import ObjectOptions

    names = ["road", "car", "person"]
    line = objects_line(ObjectOptions(mode="semantic", background=0), True, names=names)
    assert line.startswith("objects: semantic mode, background class 0 (road: no objects of it), ")
    unnamed = objects_line(ObjectOptions(mode="semantic", background=1), True, names=["0", "1"])
    assert unnamed.startswith("objects: semantic mode, background class 1, ")


def test_the_objects_line_says_a_boundary_background_as_the_background_of_its_model():
    """grain / grain boundary / unsure, mask value 2 ignored: two classes, the boundary
    the background by its name, said as no class of its own (s67 fin-bg)."""
    from types import SimpleNamespace

    from unetlab.cli.common import model_classes, objects_line
    from unetlab.inference.objects import ObjectOptions, objects_background

    names = ["grain", "grain boundary", "unsure"]
    model = SimpleNamespace(classes=names, label_values=[0, 1, 2], ignore_value=2)
    options = ObjectOptions(mode="semantic", background=objects_background(model))
    line = objects_line(options, True, **model_classes(model))
    assert line.startswith("objects: semantic mode, background class 1, ")
