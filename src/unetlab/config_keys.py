"""The names of the config's keys and the ``unetlab train`` flags that set them, read
without the config (importing it loads torch: 2 CPU s of a bad flag's 0.25 s refusal). One
table of train's flags serves its overrides (:func:`unetlab.cli.train`'s ``_settings``), the
refusal of a setting given as a keyword (:mod:`unetlab.config.keywords`) and the fix of a
config key given as a flag (:mod:`unetlab.cli.unknown_flags`). The shipped configs' names too:
the help of train's --config and config's --from lists them."""

from __future__ import annotations

from pathlib import Path

#: the configs that ship with unetlab (also ``configs/`` in a clone of its repository)
SHIPPED = Path(__file__).parent / "configs"


def shipped_configs() -> list[str]:
    """The names of the shipped configs (``--config NAME``)."""
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


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
    "data.ctc_truth",
    "data.grey_masks",
    "data.h5_dataset",
    "data.h5_mask_dataset",
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


#: the keys that take a list or a mapping, not one word: a test keeps it the config's
COMPOUND_KEYS = {
    "data.label_values": "a list",
    "data.class_names": "a mapping",
    "data.normalization": "a mapping",
    "data.exclude_rows": "a mapping",
}

#: ``unetlab train``'s flags that set a config key, and the key each sets
TRAIN_FLAGS = {
    "--data": "data.root",
    "--init": "model.init_checkpoint",
    "--preset": "model.preset",
    "--epochs": "train.epochs",
    "--minutes": "train.max_minutes",
    "--axes": "data.axes",
    "--device": "train.device",
}

#: the names (``minutes``) of those flags named otherwise than their keys
FLAG_KEYS = {flag[2:]: key for flag, key in TRAIN_FLAGS.items() if flag[2:] != key.split(".", 1)[1]}


def config_keys_named(name: str) -> list[str]:
    """The ``section.key`` names of the config keys called ``name`` (``epochs``:
    ``train.epochs``; ``seed``: ``data.seed`` and ``train.seed``), or the key of the
    ``unetlab train`` option of that name (:data:`FLAG_KEYS`)."""
    if name in FLAG_KEYS:
        return [FLAG_KEYS[name]]
    return [key for key in CONFIG_KEYS if key.split(".", 1)[1] == name]
