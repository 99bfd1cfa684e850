"""The fix of a flag that a command has not but another command has (``train --checkpoint``:
train takes --init; ``train --tta``: a flag of predict and evaluate), or that names a config
key (``train --lr 0.01``: use --set train.lr=0.01; ``--max-minutes 10``: train takes
--minutes 10), for :func:`unetlab.cli._typo`'s line. It reads the parsers already built and
:mod:`unetlab.config_keys`, not the config: that imports torch, 2 CPU s of a refusal that
takes 0.25 s without it."""

from __future__ import annotations

import argparse
import shlex

from unetlab.config_keys import COMPOUND_KEYS, TRAIN_FLAGS, config_keys_named

#: ``(command, flag)``: a flag of another command or a config key's name, and what this
#: command takes instead (before train's setting of that name: ``evaluate --root``)
COUNTERPARTS = {
    ("train", "--checkpoint"): "--init CKPT, the weights a new run starts from "
    "(--resume continues a run)",
    ("train", "--output"): "--run-dir DIR",
    ("train", "--out"): "--run-dir DIR",
    ("train", "--input"): "--data DIR",
    ("predict", "--data"): "--input PATH",
    ("evaluate", "--output"): "--json FILE",
    ("compare", "--output"): "--out DIR",
    ("demo", "--run-dir"): "--output DIR",
    ("sizes", "--input-size"): "--near N",
    ("export", "--output"): "--onnx FILE, --torchscript FILE or --bioimageio DIR|ZIP",
    ("evaluate", "--input"): "--data DIR with --checkpoint (or --pred DIR with --gt DIR)",
    ("evaluate", "--init"): "--checkpoint CKPT, the trained model to evaluate",
    ("predict", "--init"): "--checkpoint CKPT, the trained model to predict with",
    ("predict", "--root"): "--input PATH",
    ("evaluate", "--root"): "--data DIR with --checkpoint (or --pred DIR with --gt DIR)",
    ("predict", "--amp"): "--precision bf16 (bf16 autocast; fp32 by default)",
    ("evaluate", "--amp"): "--precision bf16 (bf16 autocast; fp32 by default)",
    ("bench", "--amp"): "--precision bf16 (bf16 autocast; fp32 by default)",
    ("weightmap", "--input"): "the masks without a flag: unetlab weightmap --output DIR MASK...",
}

#: a config key's name (as a flag) and the flag of another command that means the same
#: thing, the one look-alike of that flag a command without --set offers: the model it
#: reads, its time budget, its class count. Any other look-alike means something else
#: (``predict --seed``: --seed-threshold is a probability; ``export --class-weights``:
#: --weights are formats), and the flag is said to be a training setting (review s64)
SAME_MEANING = {
    "--init-checkpoint": "--checkpoint",
    "--max-minutes": "--minutes",
    "--num-classes": "--classes",
}


#: flags whose meaning differs between the commands that have them (or a config key of
#: their name): another command's is no look-alike (``unetlab --input x export``: not
#: --input-size, a size for a path) and, but in train, no training setting (``predict
#: --name``: run.name is train's run folder, export's --name the model's; review s64)
MEANS_OTHERWISE = {"--input", "--name"}


def other_meaning(flag: str, like: str) -> bool:
    """Whether ``like``, a flag spelt like ``flag``, means something else than the config
    key ``flag`` names (:data:`SAME_MEANING`) or than ``flag`` does where another command
    has it (:data:`MEANS_OTHERWISE`); False for a typo and for no look-alike."""
    key = flag.lstrip("-").replace("-", "_")
    named = config_keys_named(key) or flag in MEANS_OTHERWISE
    return bool(like and named and SAME_MEANING.get(flag) != like)


#: ``run.dir``'s fix: train's --run-dir, the run folder itself
RUN_FOLDER = "the run folder itself; run.dir is its parent, run.name its name"


def config_fix(
    flag: str,
    values: list[str],
    train: argparse.ArgumentParser,
    *,
    before: bool = False,
    command: str = "train",
) -> str:
    """The fix of ``flag`` typed with ``values``, a config key's name (``--lr``,
    ``--max-minutes``, ``--batch_size``): ``train``'s flag for the key
    (:data:`~unetlab.config_keys.TRAIN_FLAGS`: "unetlab train takes --minutes 10"), else the
    --set of each key of that name ("use --set train.lr=0.01"); "" for another flag. The one
    word typed for a key of one word is copied, shell-quoted; else VALUE and the ``unetlab
    config`` line that says what the key takes. ``before``: given before the command;
    ``command``: the one it was given to (or before), which has no --set but train: "--lr is
    a training setting: unetlab train --set train.lr=0.01"."""
    keys = config_keys_named(flag.lstrip("-").replace("-", "_"))
    if not keys or command != "train" and flag in MEANS_OTHERWISE:
        return ""
    compound = [COMPOUND_KEYS[k] for k in keys if k in COMPOUND_KEYS]
    one = values[0] if len(values) == 1 and not compound else None
    elsewhere = f"{flag} is a training setting: unetlab train"
    if keys[0] in TRAIN_FLAGS.values() or keys == ["run.dir"]:
        fix = _train_flag(keys[0], one, train)
        if command != "train":
            return f"{elsewhere} {fix}"
        return f"unetlab train takes {fix}{': give it after the command' if before else ''}"
    sets = " or ".join("--set " + shlex.quote(f"{k}={one or 'VALUE'}") for k in keys)
    told = f"{compound[0]}: " if compound else ""
    form = "" if one else f" ({told}unetlab config {' '.join(keys)} says what it takes)"
    if command != "train":
        return f"{elsewhere} {sets}{form}"
    if before:
        return f"a setting of train: give {sets} after the command{form}"
    return f"use {sets}{form}"


def _train_flag(key: str, one: str | None, train: argparse.ArgumentParser) -> str:
    """``train``'s flag for config ``key`` (run.dir: --run-dir), with ``one``, else its
    metavar: "--minutes 10 (train.max_minutes)"."""
    flag = next((f for f, k in TRAIN_FLAGS.items() if k == key), "--run-dir")
    action = train._option_string_actions[flag]
    value = shlex.quote(one) if one else action.metavar or action.dest.upper()
    return f"{flag} {value} ({RUN_FOLDER if key == 'run.dir' else key})"


def elsewhere(
    commands: dict[str, argparse.ArgumentParser], command: str, flag: str, like: str = ""
) -> str:
    """The fix of ``flag``, which ``command`` ("" for unetlab's own flags, before the
    command) has not: its counterpart there (:data:`COUNTERPARTS`), else the commands that
    have it, and ``like``, this command's flag spelt like it ("did you mean --instances?");
    "" where none has."""
    if (command, flag) in COUNTERPARTS:
        return f"unetlab {command} takes {COUNTERPARTS[command, flag]}"
    having = [name for name, p in commands.items() if flag in p._option_string_actions]
    if not having:
        return ""
    listed = " and ".join([", ".join(having[:-1]), having[-1]] if len(having) > 1 else having)
    if not command:
        return f"a flag of {listed}: give it after the command"
    close = f" (did you mean {like}?)" if like else ""
    return f"a flag of {listed}, not of {command}{close}"
