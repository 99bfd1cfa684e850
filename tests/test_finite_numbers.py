"""normalize.finite_numbers, which the checkpoint's and a package's number parts go through
(label_offset, normalization): what it takes as numbers and what it refuses (s59 review A)."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data.normalize import finite_numbers
from unetlab.part_values import damaged_value


@pytest.mark.parametrize(
    "value",
    [[10**400, 0], 10**400, [np.complex128(0.5 + 2j), 0.0], [np.complex64(0.5), 0.0], [True, 0.0]],
)
def test_what_is_no_finite_real_number_is_refused_not_raised(value):
    assert finite_numbers(value) is None


def test_numbers_of_every_kind_are_taken_as_floats():
    assert finite_numbers([1, np.float32(0.5), np.int64(-1)]) == [1.0, 0.5, -1.0]
    assert finite_numbers(np.array([0.25, 0.75])) == [0.25, 0.75]


@pytest.mark.parametrize("offset", [[10**400, 0], [np.complex128(0.5 + 2j), 0.0]])
def test_a_label_offset_too_large_or_complex_is_said_damaged(offset):
    assert "two numbers (dy, dx)" in damaged_value("label_offset", offset)
