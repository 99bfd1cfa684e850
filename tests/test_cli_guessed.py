"""A command users guess is refused naming the one that does it (audit s34 messy 12)."""

from __future__ import annotations

import pytest

from unetlab.cli import main


@pytest.mark.parametrize("argv", [["check", "--data", "d"], ["--debug", "check"]])
def test_check_points_to_train_check(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "'check' is not a command: use unetlab train --data DIR --check" in err


def test_plan_points_to_train_check(capsys):
    """The README speaks of the plan throughout; unetlab plan listed the commands only
    (newuser2's walk-through)."""
    with pytest.raises(SystemExit) as info:
        main(["plan", "--data", "d"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "'plan' is not a command: use unetlab train --data DIR --check (it shows the plan" in err


def test_a_folder_named_check_is_no_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "check", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert info.value.code == 2


@pytest.mark.parametrize("flag", ["--channel", "--chan"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_train_channel_names_the_setting(capsys, flag, value):
    """predict's --channel (cellpose's --chan) given to train names data.channel (audit s39
    audit2: it read only 'unrecognized arguments: --channel 0'), with the value given, a
    negative one too (``--channel -1`` read "--channel: use ...", the -1 dropped as a flag)."""
    with pytest.raises(SystemExit) as info:
        main(["train", "--data", "d", flag, value])
    assert info.value.code == 2
    said = f"unrecognized arguments: {flag} {value}: use --set data.channel=C"
    assert said in capsys.readouterr().err


def test_predict_diameter_says_there_is_none_and_what_to_do(capsys):
    """cellpose's --diameter given to predict (audit s39 audit2) says unetlab has none."""
    with pytest.raises(SystemExit):
        main(
            [
                "predict",
                "--checkpoint",
                "m.pt",
                "--input",
                "a.tif",
                "--output",
                "o",
                "--diameter",
                "30",
            ]
        )
    err = capsys.readouterr().err
    assert "unrecognized arguments: --diameter 30: unetlab has no diameter option" in err
    assert "give predict --scale d/D, d the training objects' diameter in px" in err


def test_evaluate_diameter_names_evaluates_own_scale(capsys):
    """evaluate has --scale F too: its --diameter line names it, not predict's."""
    with pytest.raises(SystemExit):
        main(["evaluate", "--checkpoint", "m.pt", "--data", "d", "--diameter", "30"])
    err = capsys.readouterr().err
    assert "give evaluate --checkpoint --scale d/D, d the training objects' diameter" in err


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("--outptu", "--output"), ("--instancs", "--instances"), ("--pixelsize", "--pixel-size")],
)
def test_a_misspelt_flag_names_the_flag_meant(capsys, typo, meant):
    """A flag spelt like one the command has names it (audit s41 auditslide: --outptu said
    '--output is required', not the typo; --instancs named no flag to use)."""
    argv = ["predict", "--checkpoint", "m.pt", "--input", "a.tif", typo, "o"]
    argv += ["--output", "o"] if typo != "--outptu" else []
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {typo}: did you mean {meant}?" in err


def test_a_prefix_of_a_flag_names_the_flag(capsys):
    """argparse's prefixes are off (--skip was taken as --skip-existing, and would change
    meaning the day another --skip... flag joins): the flag it starts is named."""
    from unetlab.cli import _misspelt_flag, build_parser

    parser = build_parser()
    said = _misspelt_flag(parser, "predict", ["predict", "--skip", "--input", "x"])
    assert said == "unrecognized arguments: --skip: did you mean --skip-existing?"
    assert _misspelt_flag(parser, "predict", ["predict", "--", "--outptu"]) == ""


@pytest.mark.parametrize(
    ("command", "typo", "meant", "also"),
    [
        ("predict", "--min-prea", "--min-area", "--min-peak"),
        ("bench", "--prepet", "--preset", "--repeat"),
        ("sizes", "--neor", "--near", "--norm"),
    ],
)
def test_a_flag_close_to_two_names_the_closest(command, typo, meant, also):
    """Of two flags alike, the one a single slip away is named (s44 small 2: difflib scored
    --min-prea the same against --min-area and --min-peak and took the later name)."""
    from unetlab.cli import _misspelt_flag, build_parser

    parser = build_parser()
    assert {meant, also} <= set(parser.commands[command]._option_string_actions)
    said = _misspelt_flag(parser, command, [command, typo, "1"])
    assert said == f"unrecognized arguments: {typo}: did you mean {meant}?"


def test_flags_alike_tie_to_the_first_listed():
    """Two flags a slip away alike: the first the parser lists, whatever their names."""
    from unetlab.cli import _flags_like

    assert _flags_like("--abcx", ["--abcz", "--abcy"]) == "--abcz"
    assert _flags_like("--abcx", ["--abcy", "--abcz"]) == "--abcy"


def test_a_flag_of_no_name_names_no_flag():
    """``--=x`` (``--$FLAG=x`` of an empty variable): every flag starts with ``--``, and the
    line listed all 46 of predict's as "did you mean"."""
    from unetlab.cli import _misspelt_flag, build_parser

    said = _misspelt_flag(build_parser(), "predict", ["predict", "--=x", "--input", "a"])
    assert said == "unrecognized arguments: --=x"


@pytest.mark.parametrize(
    "typed, said",
    [
        ("\u2014epochs", "its dashes are not '--' (pasted from a document?): type --epochs"),
        ("\u2013-epochs", "its dashes are not '--' (pasted from a document?): type --epochs"),
        ("-epochs", "did you mean --epochs? flags take two dashes"),
    ],
    ids=["em dash", "en dash", "one dash"],
)
def test_a_flag_typed_with_other_dashes_names_it(typed, said, capsys):
    """A flag pasted from a document (em or en dash) said 'no flag takes it; a value follows
    its flag', one typed with one dash 'unetlab train has no such flag'."""
    with pytest.raises(SystemExit):
        main(["train", "--data", "d", typed, "3"])
    err = capsys.readouterr().err
    assert f"unrecognized arguments: {typed}: {said} (see unetlab train --help)" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "typed", [["train.epochs", "3"], ["train.epochs=", "3"], ["train.epochs", "=", "3"]]
)
def test_a_set_typed_with_spaces_names_its_one_word(typed, capsys):
    """--set train.epochs 3 (or '= 3') said 'unrecognized arguments: 3: no flag takes it'."""
    with pytest.raises(SystemExit):
        main(["train", "--data", "d", "--set", *typed, "--check"])
    err = capsys.readouterr().err
    assert f"error: --set {' '.join(typed)}: give --set train.epochs=3 (one word, no " in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "typed, said",
    [
        (["--set", "train.epochs", "=3"], "--set train.epochs =3"),
        (["--set=train.epochs", "3"], "--set=train.epochs 3"),
    ],
)
def test_a_set_typed_with_spaces_otherwise_names_its_one_word(typed, said, capsys):
    """'--set train.epochs =3' was told 'give --set train.epochs==3' (the value's = kept),
    '--set=train.epochs 3' 'unrecognized arguments: 3: no flag takes it'."""
    with pytest.raises(SystemExit):
        main(["train", "--data", "d", *typed, "--check"])
    err = capsys.readouterr().err
    assert f"error: {said}: give --set train.epochs=3 (one word, no " in err
    assert len(err.strip().splitlines()) == 1
