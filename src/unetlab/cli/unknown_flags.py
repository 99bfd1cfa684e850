"""The fix of a flag that a command has not but another command has (``train --checkpoint``:
train takes --init; ``train --tta``: a flag of predict and evaluate), or that names a config
key (``train --lr 0.01``: use --set train.lr=0.01), for :func:`unetlab.cli._typo`'s line.
It reads the parsers already built and :data:`CONFIG_KEYS`, not the config: that imports
torch, 2 CPU s of a refusal that takes 0.25 s without it."""

from __future__ import annotations

import argparse

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

#: every ``section.key`` of the config, in its order (a test keeps it the config's)
CONFIG_KEYS = (
    "model.preset",
    "model.encoder",
    "model.encoder_weights",
    "model.init_checkpoint",
    "model.in_channels",
    "model.num_classes",
    "model.depth",
    "model.base_channels",
    "model.padding",
    "model.norm",
    "model.upsample",
    "model.fusion",
    "model.dropout",
    "data.root",
    "data.val_fraction",
    "data.seed",
    "data.label_values",
    "data.class_names",
    "data.ignore_value",
    "data.grey_masks",
    "data.normalization",
    "data.tile_size",
    "data.tiles_per_epoch",
    "data.edge_windows",
    "data.weight_map",
    "data.w0",
    "data.sigma",
    "data.target",
    "data.boundary_width",
    "data.channel",
    "data.axes",
    "data.exclude_rows",
    "data.nodata",
    "augment.enabled",
    "augment.elastic",
    "augment.elastic_sigma",
    "augment.grid",
    "augment.flip",
    "augment.vflip",
    "augment.rot90",
    "augment.rotate",
    "augment.shift",
    "augment.brightness",
    "augment.contrast",
    "augment.gamma",
    "augment.p_elastic",
    "augment.p_flip",
    "augment.p_rot90",
    "augment.p_rotate",
    "augment.p_shift",
    "augment.p_brightness",
    "augment.p_contrast",
    "augment.p_gamma",
    "augment.stain",
    "augment.p_stain",
    "train.epochs",
    "train.batch_size",
    "train.optimizer",
    "train.lr",
    "train.momentum",
    "train.weight_decay",
    "train.schedule",
    "train.grad_clip",
    "train.loss",
    "train.focal_gamma",
    "train.amp",
    "train.channels_last",
    "train.device",
    "train.seed",
    "train.patience",
    "train.val_every",
    "train.num_workers",
    "train.max_minutes",
    "train.class_weights",
    "train.freeze_encoder_epochs",
    "train.best_smoothing",
    "train.label_offset",
    "train.dist_timeout_minutes",
    "run.name",
    "run.dir",
)


def config_fix(flag: str, value: str | None) -> str:
    """``use --set train.lr=0.01`` for a flag named as a config key (``--lr``,
    ``--batch-size`` or ``--batch_size``) and the ``value`` typed with it (VALUE where
    none was); "" for another flag."""
    name = flag.lstrip("-").replace("-", "_")
    keys = [key for key in CONFIG_KEYS if key.split(".", 1)[1] == name]
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
