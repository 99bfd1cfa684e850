"""SemanticBands (a semantic model's streamed objects, as every ``--level N`` is) hold a
piece the edge cuts to the level's scaled ``cut_min_area``, as read whole (was 64 px)."""

import numpy as np

from tests.test_objects_edges import _glands, _probabilities
from tests.test_semantic_bands import streamed
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, scaled_options


def test_a_levels_bands_keep_its_edge_pieces_as_read_whole():
    at_level = scaled_options(ObjectOptions(class_min_areas=(0, 500, 9)), (2.0, 2.0))
    assert at_level.cut_min_area == 16
    p = _probabilities(_glands()[::2, ::2], 3)
    whole = objects_from_probabilities(p, at_level)
    assert np.array_equal(streamed(p, at_level, 8), whole)
    assert sorted(np.bincount(whole.ravel())[1:].tolist()) == [25, 225]
    user = ObjectOptions(class_min_areas=(0, 500, 9), cut_min_area=30)  # a user's setting
    p = _probabilities(_glands(), 3)
    assert np.array_equal(streamed(p, user, 16), objects_from_probabilities(p, user))
