from unetlab.words import numbered, worded


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
