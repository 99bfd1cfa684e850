"""The fix of a flag that a command has not but another command has (``train --checkpoint``:
train takes --init; ``train --tta``: a flag of predict and evaluate), or that names a config
key (``train --lr 0.01``: use --set train.lr=0.01), for :func:`unetlab.cli._typo`'s line.
It reads the parsers already built and :mod:`unetlab.config_keys`, not the config: that
imports torch, 2 CPU s of a refusal that takes 0.25 s without it."""

from __future__ import annotations

import argparse

from unetlab.config_keys import config_keys_named

#: ``(command, flag)``: a flag of another command, and what this command takes instead
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
}


def config_fix(flag: str, value: str | None) -> str:
    """``use --set train.lr=0.01`` for a flag named as a config key (``--lr``,
    ``--batch-size`` or ``--batch_size``) and the ``value`` typed with it (VALUE where
    none was); "" for another flag."""
    keys = config_keys_named(flag.lstrip("-").replace("-", "_"))
    if not keys:
        return ""
    sets = " or ".join(f"--set {key}={'VALUE' if value is None else value}" for key in keys)
    return f"use {sets}"


def elsewhere(commands: dict[str, argparse.ArgumentParser], command: str, flag: str) -> str:
    """The fix of ``flag``, which ``command`` ("" for unetlab's own flags, before the
    command) has not: its counterpart there (:data:`COUNTERPARTS`), else the commands that
    have it; "" where none has."""
    if (command, flag) in COUNTERPARTS:
        return f"unetlab {command} takes {COUNTERPARTS[command, flag]}"
    having = [name for name, p in commands.items() if flag in p._option_string_actions]
    if not having:
        return ""
    listed = " and ".join([", ".join(having[:-1]), having[-1]] if len(having) > 1 else having)
    if not command:
        return f"a flag of {listed}: give it after the command"
    return f"a flag of {listed}, not of {command}"
