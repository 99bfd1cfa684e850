"""A bad ``pixel_size`` is refused in one line (audit s32 notebook 3: 0 gave µm columns of
zeros, a negative size negative centroids, NaN NaN columns, True 1 µm), at the entry
points: measure_objects and with_micrometres."""

import math

import numpy as np
import pytest

import unetlab
from unetlab.errors import UnetlabError
from unetlab.inference.measure import object_table, pixel_pair, with_micrometres


def _ids() -> np.ndarray:
    ids = np.zeros((20, 30), np.uint16)
    ids[2:6, 3:9] = 1
    ids[10:18, 12:20] = 2
    return ids


BAD = [0, -0.325, math.nan, math.inf, True, np.bool_(True), "0.325", (0.3, 0), (1, 2, 3), []]


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_bad_pixel_size_is_refused_in_one_line(bad):
    with pytest.raises(UnetlabError, match="pixel_size must be a positive finite number") as err:
        unetlab.measure_objects(_ids(), pixel_size=bad)
    assert len(str(err.value).splitlines()) == 1


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, (0.2, -0.2)], ids=repr)
def test_with_micrometres_refuses_them_too(bad):
    with pytest.raises(UnetlabError, match="positive finite"):
        with_micrometres(object_table(_ids()), bad)


def test_a_stack_is_refused_before_it_is_measured():
    with pytest.raises(UnetlabError, match="not 0"):
        unetlab.measure_objects(np.stack([_ids()] * 3), pixel_size=0, axes="TYX")


@pytest.mark.parametrize(
    "good, pair",
    [
        (0.325, (0.325, 0.325)),
        (2, (2.0, 2.0)),
        (np.float32(0.5), (0.5, 0.5)),
        ((0.1, 0.05), (0.1, 0.05)),
        ([0.1, 0.05], (0.1, 0.05)),
        (np.array([0.1, 0.05]), (0.1, 0.05)),
        (None, None),
    ],
    ids=repr,
)
def test_good_sizes_still_give_the_um_columns(good, pair):
    assert pixel_pair(good) == pytest.approx(pair) if pair else pixel_pair(good) is None
    table = unetlab.measure_objects(_ids(), pixel_size=good)
    if pair is None:
        assert "area_um2" not in table
    else:
        assert table["area_um2"][0] == pytest.approx(24 * pair[0] * pair[1])
        assert table["centroid_x_um"][0] == pytest.approx(5.5 * pair[1])
