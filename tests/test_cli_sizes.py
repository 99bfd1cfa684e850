"""`unetlab sizes --near N`: an invalid N is said, with its nearest valid neighbours."""

from unetlab.cli import main


def test_an_invalid_near_size_is_named_with_its_neighbours(capsys):
    assert main(["sizes", "--near", "573", "--count", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "--near: 573 is not a valid input size for this net: try 572 or 588"
    marked = [line.split()[0] for line in out if line.endswith("<- nearest")]
    assert marked == ["572", "588"] and not any("<- --near" in line for line in out)


def test_a_valid_near_size_is_marked_and_nothing_said(capsys):
    assert main(["sizes", "--near", "572", "--count", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["input", "output", "border", "useful"]
    assert [line.split()[0] for line in out if "<-" in line] == ["572"]


def test_the_size_may_be_given_as_the_help_says_it_near_n(capsys):
    # `unetlab --help` says "sizes: list valid input sizes near N"; `sizes 573` was refused
    assert main(["sizes", "573", "--count", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "N: 573 is not a valid input size for this net: try 572 or 588"
    assert [line.split()[0] for line in out if line.endswith("<- nearest")] == ["572", "588"]


def test_a_size_and_a_different_near_are_refused_in_one_line(capsys):
    assert main(["sizes", "572", "--near", "588"]) == 2
    assert "N 572 and --near 588 differ: give one of them" in capsys.readouterr().err
