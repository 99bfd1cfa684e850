from unetlab.words import numbered


def test_numbered_is_plural_but_for_one():
    assert numbered(1, "step") == "1 step"
    assert numbered(2, "step") == "2 steps"
    assert numbered(0, "file") == "0 files"
    assert numbered(1, "class", "classes") == "1 class"
    assert numbered(3, "class", "classes") == "3 classes"
