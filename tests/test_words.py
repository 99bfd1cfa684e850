import numpy as np

from unetlab.words import numbered, spaced, twelve_digits, worded


def test_numbered_is_plural_but_for_one():
    assert numbered(1, "step") == "1 step"
    assert numbered(2, "step") == "2 steps"
    assert numbered(0, "file") == "0 files"
    assert numbered(1, "class", "classes") == "1 class"
    assert numbered(3, "class", "classes") == "3 classes"


def test_worded_is_the_word_alone():
    assert worded(1, "mask value") == "mask value"
    assert worded(3, "mask value") == "mask values"
    assert worded(1, "is", "are") == "is" and worded(0, "is", "are") == "are"


def test_spaced_is_the_values_as_the_command_line_types_them():
    assert spaced([0, 255]) == "0 255"
    assert spaced(np.array([0, 1, 2], np.uint8)) == "0 1 2"  # numpy's, not "np.uint8(0)"
    assert spaced([]) == ""
    assert spaced(range(10), 3) == "0 1 2 ..."  # beyond the first 3, said so
    assert spaced([7, 9, 11], 3) == "7 9 11"  # all of them shown: no dots


def test_twelve_digits_drops_a_conversions_float_noise():
    """The one rounding of pixel sizes and volumes (s74 notes: float(f"{x:.12g}") written
    out in eleven places): exact values, numpy's too."""
    assert 0.1 * 3 != 0.3 and twelve_digits(0.1 * 3) == 0.3
    assert twelve_digits(np.float32(0.65)) == 0.649999976158
    assert twelve_digits(1 / 3) == 0.333333333333 and twelve_digits(2.5e-7) == 2.5e-7
    assert isinstance(twelve_digits(np.float64(1.0)), float)
