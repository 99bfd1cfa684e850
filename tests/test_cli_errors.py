"""A bad command line is one line naming the problem and the fix, as any bad input is: no
argparse usage block above it (a screen of flags for predict); and flags are taken only as
spelt (argparse's prefixes would change meaning the day a longer flag joins)."""

from __future__ import annotations

import pytest

from unetlab.cli import COMMANDS, _parse, build_parser, main

PREDICT = ["predict", "--checkpoint", "m.pt", "--input", "a.tif", "--output", "o"]


def _said(capsys, argv: list[str]) -> str:
    """stderr of ``unetlab ARGV``, which must stop as argparse does (status 2)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.endswith("\n"), err
    return err.removesuffix("\n")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_flag_of_every_command_is_one_line(capsys, command):
    """The flag named, before a missing required flag is (predict, weightmap, export)."""
    assert _said(capsys, [command, "--no-such-flag"]) == (
        f"unetlab {command}: error: unrecognized arguments: --no-such-flag: unetlab {command} "
        f"has no such flag (see unetlab {command} --help for those it has)"
    )


@pytest.mark.parametrize(
    ("flag", "meant"),
    [
        ("--instance", "--instances"),
        ("--out", "--output"),  # one of three it starts: the one spelt closest
        ("--check", "--checkpoint"),  # train's --check, taken as predict's --checkpoint
        ("--spli", "--split-necks or --split-interior"),
        ("--instance=1", "--instances"),
    ],
)
def test_a_prefix_is_refused_naming_the_flag(capsys, flag, meant):
    """argparse took --instance as --instances (and ``predict --check m.pt`` as
    --checkpoint); a prefix now says which flag it starts."""
    name = flag.split("=")[0]
    assert _said(capsys, [*PREDICT, flag]) == (
        f"unetlab predict: error: unrecognized arguments: {name}: did you mean {meant}? "
        "(see unetlab predict --help)"
    )


def test_another_commands_flag_that_starts_several_is_named_as_its(capsys):
    """``predict --split x`` was asked "did you mean --split-necks or --split-interior?",
    flags of no value: --split is train's (a run's split record), said first (s65)."""
    assert _said(capsys, [*PREDICT, "--split", "run/split.json"]) == (
        "unetlab predict: error: unrecognized arguments: --split: a flag of train, not of "
        "predict (did you mean --split-necks or --split-interior?) (see unetlab predict --help)"
    )


def test_flag_equals_value_is_still_read():
    """allow_abbrev=False leaves ``--flag=value`` to argparse, as it was."""
    args = _parse(build_parser(), [*PREDICT, "--tile-size=128", "--outlines=both", "--tta=all"])
    assert (args.tile_size, args.outlines, args.tta, args.output) == (128, "both", "all", "o")
    args = _parse(build_parser(), ["--debug", "sizes", "--near=100", "--count=3"])
    assert (args.near, args.count, args.debug) == (100, 3, True)


SEE = "(see unetlab {} --help)"
LINES = [
    (
        ["summary", "--padding", "reflect"],
        "unetlab summary: error: argument --padding: invalid choice: 'reflect': choose from "
        "'valid', 'same' " + SEE.format("summary"),
    ),
    (
        ["predict", "--checkpoint", "m.pt", "--input", "a.tif"],
        "unetlab predict: error: the following arguments are required: --output: give "
        "--output DIR " + SEE.format("predict"),
    ),
    (
        ["weightmap", "--output", "o"],
        "unetlab weightmap: error: the following arguments are required: MASK: give MASK "
        + SEE.format("weightmap"),
    ),
    (
        ["train", "--epochs", "x"],
        "unetlab train: error: argument --epochs: invalid int value: 'x': give a whole number "
        + SEE.format("train"),
    ),
    (
        [*PREDICT[:-1]],
        "unetlab predict: error: argument --output: expected one argument: give --output DIR "
        + SEE.format("predict"),
    ),
    (
        ["train", "--resume", "--overwrite"],
        "unetlab train: error: argument --overwrite: not allowed with argument --resume: give "
        "one of the two " + SEE.format("train"),
    ),
    (
        ["train", "--no-plan=1"],
        "unetlab train: error: argument --no-plan: ignored explicit argument '1': it takes no "
        "value: give the flag alone " + SEE.format("train"),
    ),
    (
        ["train", "--minutes", "x"],  # a type's own line: kept
        "unetlab train: error: argument --minutes: takes a number of minutes, not 'x' "
        + SEE.format("train"),
    ),
    (
        ["train", "stray"],
        "unetlab train: error: unrecognized arguments: stray: no flag takes it; a value "
        "follows its flag " + SEE.format("train"),
    ),
]


@pytest.mark.parametrize(("argv", "line"), LINES, ids=[" ".join(a[:3]) for a, _ in LINES])
def test_each_kind_of_bad_command_line_is_one_line_with_its_fix(capsys, argv, line):
    assert _said(capsys, argv) == line


def test_no_command_or_an_unknown_one_is_one_line_naming_the_commands(capsys):
    commands = ", ".join(COMMANDS)
    assert _said(capsys, []) == (
        f"unetlab: error: no command given: give one of {commands} (see unetlab --help)"
    )
    assert _said(capsys, ["--debug", "trian"]) == (
        f"unetlab: error: 'trian' is not a command: did you mean train? the commands are "
        f"{commands} (see unetlab --help)"
    )
    assert _said(capsys, ["--vers"]) == (
        "unetlab: error: unrecognized arguments: --vers: did you mean --version? "
        "(see unetlab --help)"
    )


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["--degub"], "--debug"),  # two letters swapped: difflib's ratio 0.71, below its cutoff
        (["--dbug"], "--debug"),
        (["train", "--minuets", "3"], "--minutes"),
        (["train", "--nrpoc", "2"], "--nproc"),
    ],
)
def test_a_slip_of_one_or_two_letters_names_the_flag(capsys, argv, meant):
    """``unetlab --degub`` said "no such flag": a short flag with two letters swapped is
    spelt too far from the flag for difflib; it is named, and an unrelated word is not."""
    prog = "unetlab" if argv[0].startswith("--") else f"unetlab {argv[0]}"
    assert _said(capsys, argv) == (
        f"{prog}: error: unrecognized arguments: {argv[-2 if len(argv) == 3 else 0]}: did you "
        f"mean {meant}? (see {prog} --help)"
    )
    assert "has no such flag" in _said(capsys, ["train", "--dope"])
    assert "has no such flag" in _said(capsys, ["--deep"])


@pytest.mark.parametrize("command", ["train", "predict"])
def test_help_is_argparses_own_even_beside_a_bad_flag(capsys, command):
    """--help is unchanged: its usage block and flags on stdout, status 0, as argparse
    gives it wherever it stands (a bad flag beside it is not refused)."""
    for argv in ([command, "--help"], [command, "--no-such-flag", "-h"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0
        out, err = capsys.readouterr()
        assert out.startswith(f"usage: unetlab {command} [-h]") and "options:" in out
        assert err == ""


def test_a_message_of_several_lines_is_said_in_one():
    """A type's ArgumentTypeError may wrap its text; the line stays one, the value in it
    as given (its two spaces kept)."""
    from unetlab.cli.parser import one_line

    train = build_parser().commands["train"]
    assert one_line(train, "argument --x: not 'a  b':\n    give a number\n") == (
        "argument --x: not 'a  b': give a number (see unetlab train --help)"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "--outptu", "o", "-h"],  # a flag spelt like one it has, then -h
        ["-h", "train", "--bogus"],  # unetlab's -h before the command, a bad flag after
        ["--vers", "--help"],
    ],
)
def test_help_beside_a_flag_like_one_it_has_is_help(capsys, argv):
    """-h after a misspelt flag (or before the command) printed 'did you mean' instead of
    the help argparse gives wherever -h stands."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out, err = capsys.readouterr()
    assert stop.value.code == 0 and out.startswith("usage: unetlab") and err == ""


def test_a_word_after_a_double_dash_is_not_called_a_flag(capsys):
    """``-- -x.png``: after ``--`` a word, refused as one, not as 'no such flag'."""
    assert _said(capsys, [*PREDICT, "--", "-x.png"]) == (
        "unetlab predict: error: unrecognized arguments: -- -x.png: no flag takes it; a "
        "value follows its flag " + SEE.format("predict")
    )


def test_a_misspelt_flag_with_a_spaced_value_is_named(capsys):
    """``--outptu='my dir'``: the space is the value's; the typo is named, not --output
    said missing."""
    assert _said(capsys, [*PREDICT[:-2], "--outptu=my dir"]) == (
        "unetlab predict: error: unrecognized arguments: --outptu: did you mean --output? "
        + SEE.format("predict")
    )
