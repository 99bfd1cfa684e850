"""A semantic model with no background class makes no object over its ignored class (no
class), as over nodata: an object beside it is a piece, cut there, held to ``cut_min_area``
as one beside nodata is (s70: beside the ignored class it was held to its whole least area
and dropped)."""

from __future__ import annotations

import numpy as np

from unetlab.inference.objects import ObjectOptions, objects_from_probabilities

_OPTIONS = ObjectOptions(background=None, no_class=(2,), min_area=100, cut_min_area=10)


def _probabilities(piece: np.ndarray) -> np.ndarray:
    """(3, 40, 40): class 0 everywhere (one object), class 1 on ``piece``."""
    probs = np.zeros((3, 40, 40), np.float32)
    probs[0] = 1.0
    probs[0][piece], probs[1][piece] = 0.0, 1.0
    return probs


def test_an_object_beside_the_ignored_class_is_cut_as_one_beside_nodata():
    """Seen failing without the fix (the piece beside the ignored class dropped)."""
    piece = np.zeros((40, 40), bool)
    piece[15:20, 15:21] = True  # 30 px: under min_area 100, over cut_min_area 10
    beside = np.zeros((40, 40), bool)
    beside[15:20, 21:30] = True
    by_nodata = objects_from_probabilities(_probabilities(piece), _OPTIONS, outside=beside)
    probs = _probabilities(piece)
    probs[:, beside] = 0.0
    probs[2][beside] = 1.0  # the ignored class there instead
    by_ignored = objects_from_probabilities(probs, _OPTIONS)
    assert np.count_nonzero(by_nodata[piece]) == 30
    assert np.array_equal(by_ignored > 0, by_nodata > 0)
    alone = objects_from_probabilities(_probabilities(piece), _OPTIONS)
    assert np.unique(alone).tolist() == [1]  # beside neither: dropped, joined to class 0's
