"""Masks of class indices that lack a class (a test set without a rare one) beside a void
value are told the ignore value, not label values of the values they hold (s51 scene255:
a road test set's 0 1 2 4 5 6 7 8 10 255 was told --label-values of those 10 values for 11
classes, which would read mask value 4 as class 3)."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.evaluate.checks import MaskValuesError, check_class_indices


def test_masks_lacking_a_class_beside_255_are_told_the_ignore_value():
    held = np.array([0, 1, 2, 4, 5, 6, 7, 8, 10, 255])
    with pytest.raises(MaskValuesError) as caught:
        check_class_indices(held, 10)
    assert "give ignore_value=255 if it marks pixels that count nowhere" in str(caught.value)
    assert "label_values" not in str(caught.value)


def test_binary_0_255_masks_are_still_told_label_values():
    with pytest.raises(MaskValuesError, match=r"label_values=\[0, 255\]"):
        check_class_indices(np.array([0, 255]), 1)
