"""A flag the command has not, but another command has (``train --checkpoint``), or a config
key's name given as a flag (``train --lr 0.01``), is refused naming the fix: this command's
counterpart, the command that has it, or the ``--set`` that sets the key (s62 flags)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import typing
from dataclasses import fields

import pytest

from unetlab.cli import build_parser, main
from unetlab.cli.train import _settings
from unetlab.cli.unknown_flags import COUNTERPARTS
from unetlab.config import load_config
from unetlab.config_keys import COMPOUND_KEYS, CONFIG_KEYS, TRAIN_FLAGS

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
        (["train", "--lr", "a b"], ["--lr a b: use --set 'train.lr=a b'"]),  # one word
        (["train", "--epochs", "2", "--lr", "-1"], ["--lr -1: use --set train.lr=-1"]),
        (["train", "--batch-size", "4"], ["--batch-size 4: use --set train.batch_size=4"]),
        (["train", "--base-channels", "8"], ["use --set model.base_channels=8"]),
        (["train", "--base_channels=8"], ["use --set model.base_channels=8"]),
        (["train", "--tile-size", "256"], ["use --set data.tile_size=256"]),
        (["train", "--seed", "3"], ["use --set data.seed=3 or --set train.seed=3"]),
        (["train", "--amp", "--data", "d"], ["--amp: use --set train.amp=VALUE"]),
        (["summary", "--set", "x=1"], ["--set: a flag of train and config, not of summary"]),
        (["compare", "--output", "o"], ["--output: unetlab compare takes --out"]),
        ([*PREDICT[:5], "--data", "d"], ["--data: unetlab predict takes --input"]),
        (["evaluate", "--output", "o"], ["--output: unetlab evaluate takes --json FILE"]),
        (["--epochs", "3", "train"], ["--epochs: a flag of train: give it after the command"]),
        ([*PREDICT, "--check"], ["--check: did you mean --checkpoint?"]),
        ([*PREDICT, "--out", "o"], ["--out: did you mean --output?"]),
        (["sizes", "--input-size", "572"], ["--input-size: unetlab sizes takes --near N"]),
        (
            ["weightmap", "--gt-instances", "--output", "o", "m.png"],
            ["--gt-instances: a flag of evaluate, not of weightmap (did you mean --instances?)"],
        ),
        (["evaluate", "--instances"], ["not of evaluate (did you mean --gt-instances?)"]),
        (["export", "--output", "o"], ["unetlab export takes --onnx FILE, --torchscript FILE"]),
        (["evaluate", "--input", "d"], ["unetlab evaluate takes --data DIR with --checkpoint"]),
        (["evaluate", "--init", "m.pt"], ["--init: unetlab evaluate takes --checkpoint"]),
        (
            ["predict", *PREDICT[3:], "--init", "m.pt"],
            ["--init: unetlab predict takes --checkpoint"],
        ),
        (["weightmap", "--input", "m.png"], ["unetlab weightmap takes the masks without a flag"]),
        (["--lr", "1", "train"], ["--lr 1: a setting of train: give --set train.lr=1 after"]),
        # a config key as a flag of a command without --set: train's setting (s63 flags)
        (["predict", "--lr", "0.01"], ["--lr 0.01: --lr is a training setting: unetlab train"]),
        ([*PREDICT, "--lr=0.01"], ["--lr=0.01: --lr is a training setting: unetlab train --set"]),
        (
            ["export", "--max-minutes", "3"],
            ["--max-minutes 3: --max-minutes is a training setting: unetlab train --minutes 3"],
        ),
        (["evaluate", "--weight-decay", "0"], ["unetlab train --set train.weight_decay=0 (see"]),
        (["--lr", "0.01", "predict"], ["--lr 0.01: --lr is a training setting: unetlab train"]),
        # before the command, a command's name after the flag is the command, not its value
        (["--lr", "train"], ["--lr: a setting of train: give --set train.lr=VALUE after the"]),
        (["--lr", "predict"], ["--lr: --lr is a training setting: unetlab train --set train.lr="]),
        # this command's flag like it, before train's setting of that name (s63 review)
        (["predict", "--init-checkpoint", "m.pt"], ["--init-checkpoint: did you mean --checkpo"]),
        (["evaluate", "--init-checkpoint", "m.pt"], ["--init-checkpoint: did you mean --check"]),
        (["export", "--init-checkpoint", "m.pt"], ["--init-checkpoint: did you mean --checkpoi"]),
        (["summary", "--init-checkpoint", "m.pt"], ["--init-checkpoint: did you mean --checkp"]),
        (["demo", "--max-minutes", "3"], ["--max-minutes: did you mean --minutes?"]),
        (["summary", "--num-classes", "3"], ["--num-classes: did you mean --classes?"]),
        (["sizes", "--num-classes", "3"], ["--num-classes: did you mean --classes?"]),
        (["evaluate", "--root", "data"], ["--root: unetlab evaluate takes --data DIR with --chec"]),
        (["predict", "--root", "data"], ["--root: unetlab predict takes --input PATH"]),
        (["predict", "--amp"], ["--amp: unetlab predict takes --precision bf16"]),
        (["evaluate", "--amp"], ["--amp: unetlab evaluate takes --precision bf16"]),
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
    assert "=predict" not in err and "=train" not in err
    for word in words:
        assert word in err, err
    assert err.count("--foo") == ("--foo" in argv)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["train", "--root", "train"], "--root train: unetlab train takes --data train (data."),
        (["train", "--data", "d", "--dir", "train"], "--dir train: unetlab train takes --run-dir"),
        (["train", "--data", "d", "--name", "predict"], "--name predict: use --set run.name=pred"),
        (["train", "--data", "d", "--name", "demo"], "--name demo: use --set run.name=demo (see"),
    ],
)
def test_a_command_name_after_the_commands_flag_is_its_value(capsys, argv, said):
    """After the command, a command's name typed after a flag is its value (a data folder
    named train is common); before it, unetlab reads it as the command (s63 review)."""
    with pytest.raises(SystemExit):
        main(argv)
    assert said in capsys.readouterr().err


#: a config key given as a flag, and the fix it names: each is fed to the config
FIXED = [
    (["--label-values", "0", "255"], "0 255: use --set data.label_values=VALUE (a list: unetlab"),
    (["--class-names", "bg", "cell"], "cell: use --set data.class_names=VALUE (a mapping: unetlab"),
    (["--exclude-rows", "bottom=26"], "=26: use --set data.exclude_rows=VALUE (a mapping: unetlab"),
    (["--amp", "--epochs", "1"], "--amp: use --set train.amp=VALUE (unetlab config train.amp says"),
    (["--lr", "0.01"], "--lr 0.01: use --set train.lr=0.01"),
    (["--name", "my run"], "--name my run: use --set 'run.name=my run'"),
    (["--seed", "3"], "--seed 3: use --set data.seed=3 or --set train.seed=3"),
    (["--max-minutes", "10"], "--max-minutes 10: unetlab train takes --minutes 10 (train.max_"),
    (
        ["--init-checkpoint", "m.pt"],
        "m.pt: unetlab train takes --init m.pt (model.init_checkpoint)",
    ),
    (["--root=my data"], "--root=my data: unetlab train takes --data 'my data' (data.root)"),
    (
        ["--dir", "runs/x"],
        "runs/x: unetlab train takes --run-dir runs/x (the run folder itself; run",
    ),
]


@pytest.mark.parametrize(("given", "fix"), FIXED)
def test_a_config_keys_fix_is_one_the_config_takes(capsys, tmp_path, monkeypatch, given, fix):
    """The fix names the flag train has for the key, or the --set of a value the config takes
    (one word for a key of one: a list or a mapping is VALUE, and ``unetlab config KEY``
    says its form), shell-quoted: each --set and flag is given to train and loaded."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["train", *given])
    err = capsys.readouterr().err
    assert fix in err, err
    said = shlex.split(re.search(r": (use|unetlab train takes) (.*) \(see unetlab", err)[2])
    sets = [w for at, w in enumerate(said) if at and said[at - 1] == "--set"]
    typed = [w for w in sets if not w.endswith("=VALUE")]
    argv = ["train", *(f"--set={w}" for w in typed)] if sets else ["train", *said[:2]]
    args = build_parser().parse_args(argv)
    config, overrides = _settings(args)
    assert len(overrides) == (len(typed) if sets else said[0] != "--run-dir"), overrides
    assert said[0] != "--run-dir" or str(args.run_dir) == said[1]
    load_config(config, overrides)  # refused where the fix is not the config's
    for key in [w.split("=")[0] for w in sets if w.endswith("=VALUE")]:
        assert key in CONFIG_KEYS and main(["config", key]) == 0  # says what it takes


#: flags of :data:`FIXED` that predict has not, nor another command (--seed: predict's
#: --seed-threshold; --name: export's; --class-names: evaluate's), nor one like it (--amp:
#: --precision; --root: --input; --init-checkpoint: --checkpoint)
NOT_PREDICTS = {"--lr", "--max-minutes", "--dir"}


@pytest.mark.parametrize("given", [g for g, _ in FIXED if g[0].split("=")[0] in NOT_PREDICTS])
def test_a_config_key_of_a_command_without_set_names_trains_fix(capsys, given):
    """A config key given to predict, which has no --set, names train's fix, the one
    train's own refusal names: "--lr is a training setting: unetlab train --set ..." (s63)."""
    with pytest.raises(SystemExit):
        main(["train", *given])
    fix = re.search(r": (use|unetlab train takes) (.*) \(see unetlab", capsys.readouterr().err)[2]
    with pytest.raises(SystemExit):
        main(["predict", *given])
    flag = given[0].split("=")[0]
    assert f"{flag} is a training setting: unetlab train {fix}" in capsys.readouterr().err


def test_every_unknown_flag_is_named_once():
    """Flags without a hint beside one with a hint are named too, each once."""
    from unetlab.cli import _misspelt_flag

    said = _misspelt_flag(build_parser(), "train", ["train", "--bogus", "--lr", "1", "--foo"])
    assert said == (
        "unrecognized arguments: --bogus: unetlab train has no such flag; --lr 1: use --set "
        "train.lr=1; --foo: unetlab train has no such flag"
    )


def test_counterparts_are_flags_of_their_commands():
    """Each counterpart's flag is another command's or a config key's name, and each flag its
    fix names its own."""
    from unetlab.config_keys import config_keys_named

    commands = build_parser().commands
    for (command, flag), fix in COUNTERPARTS.items():
        assert flag not in commands[command]._option_string_actions, (command, flag)
        key = config_keys_named(flag.lstrip("-"))
        assert key or any(flag in p._option_string_actions for p in commands.values()), flag
        named = re.findall(r"--[\w-]+", fix)
        assert named and all(f in commands[command]._option_string_actions for f in named), fix


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
    added = [k for k in keys if k not in CONFIG_KEYS]
    gone = [k for k in CONFIG_KEYS if k not in keys]
    listed = f"add {added}, remove {gone}" if added or gone else "order them as the config does"
    assert keys == CONFIG_KEYS, f"CONFIG_KEYS in src/unetlab/config_keys.py: {listed}"
    hints = {s.name: typing.get_type_hints(type(getattr(cfg, s.name))) for s in fields(Config)}
    compound = {
        f"{s}.{k}"
        for s, types in hints.items()
        for k, kind in types.items()
        if all(typing.get_origin(t) or t in (list, dict) for t in _arms(kind))
    }
    assert compound == set(COMPOUND_KEYS), compound


def _arms(kind) -> list:
    """The types of a type's union but None (``list[int] | None``: list[int])."""
    arms = (
        typing.get_args(kind)
        if typing.get_origin(kind) in (typing.Union, type(int | None))
        else (kind,)
    )
    return [t for t in arms if t is not type(None)]


def test_a_config_key_flag_is_refused_without_torch():
    """The refusal stays as quick as the others: no torch (2 CPU s of a 0.25 s refusal)."""
    code = (
        "import sys\nfrom unetlab.cli import main\n"
        "for argv in (['train', '--lr', '1'], ['train', '--max-minutes', '9'], ['--lr', '2']):\n"
        "    try:\n        main(argv)\n    except SystemExit as stop:\n        print(stop.code)\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "2", "2", "False"]
    assert "use --set train.lr=1" in out.stderr and "takes --minutes 9" in out.stderr


#: commands with no --name, where run.name is no fix
NAMELESS = ["predict", "evaluate", "demo", "weightmap"]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        # before the command, a flag is the command's after it, not demo's (review s64)
        (
            ["--seed", "3", "train"],
            "--seed 3: a setting of train: give --set data.seed=3 or --set train.seed=3 after",
        ),
        (["--seed", "3", "demo"], "--seed: a flag of demo: give it after the command (unetlab d"),
        (["--epochs", "3", "predict"], "--epochs 3: --epochs is a training setting: unetlab tr"),
        (["--depth", "3", "predict"], "setting: unetlab train --set model.depth=3; a flag of summ"),
        # a training setting is no look-alike that means something else (review s64)
        (
            ["predict", "--seed", "3"],
            "--seed 3: --seed is a training setting: unetlab train --set data.seed=3 or --set "
            "train.seed=3; a flag of demo, not of predict (see",
        ),
        (
            ["export", "--class-weights", "1,2"],
            "--class-weights 1,2: --class-weights is a training setting: unetlab train --set",
        ),
        # before the command, the line predict gives it there (not train's --init)
        (
            ["--init-checkpoint", "m.pt", "predict"],
            "--init-checkpoint: unetlab predict takes --checkpoint, after the command (see",
        ),
        # a look-alike before the command: where it goes too, in one line (review s64)
        (
            ["--checkpoints", "m.pt", "predict"],
            "--checkpoints: unetlab predict takes --checkpoint, after the command (see",
        ),
        # another command's flag is no prefix of one meaning something else (review s64)
        (["--input", "x", "export"], "--input: a flag of predict, not of export (see"),
        (["export", "--input", "x"], "--input: a flag of predict, not of export (see"),
        (["summary", "--input", "x"], "--input: a flag of predict, not of summary (see"),
        # run.name is no setting of predict's: export's --name names the model (review s64)
        *[([c, "--name", "X"], f"--name: a flag of export, not of {c} (see") for c in NAMELESS],
        (["--name", "X", "predict"], "--name: a flag of export, not of predict (see"),
        (["measure", "--seed", "3"], "'measure' is not a command: the commands are demo, "),
        (["--debug", "measure", "--seed", "3"], "'measure' is not a command: the commands are"),
    ],
)
def test_a_flag_is_said_as_the_command_it_goes_with_reads_it(capsys, argv, said):
    with pytest.raises(SystemExit):
        main(argv)
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1, err
    assert "did you mean" not in err
