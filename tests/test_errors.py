"""errors.first_line: the line a one-line error quotes of another exception."""

from unetlab.errors import first_line


def test_first_line_takes_the_first_stripped_line():
    assert first_line(ValueError("  bad value\n  at offset 3\n")) == "bad value"


def test_first_line_of_an_empty_message_is_the_default_or_the_type():
    assert first_line(ZeroDivisionError(), default="no details") == "no details"
    assert first_line(KeyError("")) == "''"  # KeyError quotes its key: not empty
    assert first_line(RuntimeError("   ")) == "RuntimeError"
