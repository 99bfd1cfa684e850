"""A model with no background class (every class a real class: land cover, mask value 0
unlabelled) made objects of the input's nodata pixels, which hold the certainty of its
class 0 there: no object is made of them, read whole or streamed."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.test_label_nodata import _net, _swath
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities


def _land_cover():
    """Three real classes (mask values 1-3, 0 unlabelled): no background class."""
    net = _net(3)
    net.label_values, net.ignore_value, net.classes = [1, 2, 3], 0, ["water", "crop", "town"]
    return net


def test_no_object_is_made_of_nodata_without_a_background_class(tmp_path):
    """Every class a real class: the nodata pixels, which hold class 0's certainty, made
    one object of class 0 over the whole nodata area (read whole and streamed alike)."""
    src, bad = _swath(tmp_path / "scene.tif")
    ids = {}
    for read, how in (("whole", {}), ("streamed", {"large_threshold": 100})):
        predict_file(_land_cover(), src, tmp_path / read, objects=True, **how)
        ids[read] = tifffile.imread(tmp_path / read / "scene_objects.tif")
        assert not ids[read][bad].any() and ids[read][~bad].any()
    assert np.array_equal(ids["whole"], ids["streamed"])


def test_objects_without_a_background_class_grow_over_no_outside_pixel():
    probs = np.zeros((3, 6, 9), np.float32)
    probs[0] = 1.0  # class 0 everywhere: the nodata's certainty too
    outside = np.zeros((6, 9), bool)
    outside[:, 3:6] = True  # a nodata stripe cuts class 0 in two
    options = ObjectOptions(background=None, min_area=1)
    ids = objects_from_probabilities(probs, options, outside=outside)
    assert not ids[outside].any() and len(np.unique(ids[~outside])) == 2
