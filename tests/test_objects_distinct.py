"""``distinct``: ``np.unique`` of a 1-d integer array by sorting (numpy 2.4's hashed
``np.unique`` took 8.8 s for 2 million distinct region pairs, sorting 0.4 s)."""

import numpy as np
import pytest

from unetlab.inference.objects import distinct


@pytest.mark.parametrize("n, high", [(0, 5), (1, 5), (1000, 7), (1000, 10**12)])
def test_distinct_is_np_unique(n, high):
    values = np.random.default_rng(n).integers(0, high, n)
    found = distinct(values)
    np.testing.assert_array_equal(found, np.unique(values))
    assert found.dtype == values.dtype


def test_distinct_leaves_its_input_as_it_was():
    values = np.array([3, 1, 3, 2])
    assert distinct(values).tolist() == [1, 2, 3] and values.tolist() == [3, 1, 3, 2]
