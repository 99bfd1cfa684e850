"""A flag the command has not, but another command has (``train --checkpoint``), or a config
key's name given as a flag (``train --lr 0.01``), is refused naming the fix: this command's
counterpart, the command that has it, or the ``--set`` that sets the key (s62 flags)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import pytest

from unetlab.cli import build_parser, main
from unetlab.cli.train import _settings
from unetlab.cli.unknown_flags import COUNTERPARTS
from unetlab.config_keys import CONFIG_KEYS, TRAIN_FLAGS

PREDICT = ["predict", "--checkpoint", "m.pt", "--input", "a.tif", "--output", "o"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (
            ["train", "--data", "d", "--checkpoint", "m.pt"],
            ["--checkpoint: unetlab train takes --init CKPT", "(--resume continues a run)"],
        ),
        (["train", "--output", "o"], ["--output: unetlab train takes --run-dir DIR"]),
        (["train", "--data", "d", "--tta", "all"], ["--tta: a flag of predict and evaluate, not"]),
        (["train", "--lr", "0.01"], ["--lr 0.01: use --set train.lr=0.01"]),
        (["train", "--lr=0.01"], ["--lr=0.01: use --set train.lr=0.01"]),
        (["train", "--epochs", "2", "--lr", "-1"], ["--lr -1: use --set train.lr=-1"]),
        (["train", "--batch-size", "4"], ["--batch-size 4: use --set train.batch_size=4"]),
        (["train", "--base-channels", "8"], ["use --set model.base_channels=8"]),
        (["train", "--base_channels=8"], ["use --set model.base_channels=8"]),
        (["train", "--tile-size", "256"], ["use --set data.tile_size=256"]),
        (["train", "--seed", "3"], ["use --set data.seed=3 or --set train.seed=3"]),
        (["train", "--amp", "--data", "d"], ["--amp: use --set train.amp=VALUE"]),
        (["summary", "--set", "x=1"], ["--set: a flag of train, not of summary"]),
        (["compare", "--output", "o"], ["--output: unetlab compare takes --out"]),
        ([*PREDICT[:5], "--data", "d"], ["--data: unetlab predict takes --input"]),
        (["evaluate", "--output", "o"], ["--output: unetlab evaluate takes --json FILE"]),
        (["--epochs", "3", "train"], ["--epochs: a flag of train: give it after the command"]),
        ([*PREDICT, "--check"], ["--check: did you mean --checkpoint?"]),
        ([*PREDICT, "--out", "o"], ["--out: did you mean --output?"]),
        (["sizes", "--input-size", "572"], ["--input-size: unetlab sizes takes --near N"]),
        (
            ["train", "--bogus", "--lr", "1", "--tta", "all", "--foo"],
            ["--bogus: unetlab train has no such flag", "--lr 1: use --set train.lr=1", "--tta:"],
        ),
    ],
)
def test_a_flag_of_elsewhere_names_the_fix(capsys, argv, words):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert "did you mean --preset" not in err
    for word in words:
        assert word in err, err
    assert err.count("--foo") == ("--foo" in argv)


def test_every_unknown_flag_is_named_once():
    """Flags without a hint beside one with a hint are named too, each once."""
    from unetlab.cli import _misspelt_flag

    said = _misspelt_flag(build_parser(), "train", ["train", "--bogus", "--lr", "1", "--foo"])
    assert said == (
        "unrecognized arguments: --bogus: unetlab train has no such flag; --lr 1: use --set "
        "train.lr=1; --foo: unetlab train has no such flag"
    )


def test_counterparts_are_flags_of_their_commands():
    """Each counterpart's flag is another command's, and its fix a flag of its own."""
    commands = build_parser().commands
    for (command, flag), fix in COUNTERPARTS.items():
        assert flag not in commands[command]._option_string_actions, (command, flag)
        assert any(flag in p._option_string_actions for p in commands.values()), flag
        assert fix.split()[0] in commands[command]._option_string_actions, fix


def test_train_flags_are_trains_and_set_their_keys():
    """:data:`TRAIN_FLAGS` is train's flags that set a key: each given sets it (no other)."""
    train = build_parser().commands["train"]
    for flag, key in TRAIN_FLAGS.items():
        value = "cpu" if flag == "--device" else "small" if flag == "--preset" else "3"
        config, overrides = _settings(train.parse_args([flag, value]))
        assert [o.split("=")[0] for o in overrides] == [key], flag


def test_config_keys_are_the_configs():
    """:data:`CONFIG_KEYS` (read without the config, which loads torch) is the config's."""
    from unetlab.config import Config

    cfg = Config()
    keys = tuple(f"{s.name}.{k.name}" for s in fields(Config) for k in fields(getattr(cfg, s.name)))
    assert keys == CONFIG_KEYS, f"set CONFIG_KEYS in src/unetlab/config_keys.py to {keys}"


def test_a_config_key_flag_is_refused_without_torch():
    """The refusal stays as quick as the others: no torch (2 CPU s of a 0.25 s refusal)."""
    code = (
        "import sys\nfrom unetlab.cli import main\ntry:\n    main(['train', '--lr', '1'])\n"
        "except SystemExit as stop:\n    print(stop.code, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"]
    assert "use --set train.lr=1" in out.stderr
