import numpy as np

from unetlab.words import numbered, spaced, worded


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
