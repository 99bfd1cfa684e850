"""Every choice for a fingerprint (:func:`make_plan`), the epoch cap under a time budget and
the label offset among them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from unetlab.config import Config
from unetlab.config.sections import BUDGET_EPOCHS
from unetlab.data.fingerprint import Fingerprint
from unetlab.inference.offset import MIN_AGREEING, MIN_GAIN, MIN_IMAGES
from unetlab.plan.augment import plan_augment
from unetlab.plan.checks import declared_names
from unetlab.plan.device import plan_precision, plan_workers
from unetlab.plan.geometry import Geometry
from unetlab.plan.loss import one_balance, plan_loss, plan_objects
from unetlab.plan.memory import StepMemory, data_memory
from unetlab.plan.normalization import plan_normalization
from unetlab.plan.record import BUDGET_KEY, Choice, Plan
from unetlab.plan.tiles import plan_batch, plan_tile, plan_tiles_per_epoch
from unetlab.words import numbered

BUDGET_SHOWN = "no limit"  # how the plan and unetlab compare say BUDGET_EPOCHS
#: the planned keys the batch's reason is derived from: its tile and its step's memory
BATCH_FROM = ("data.tile_size", "train.amp", "data.weight_map", "data.target")


def plan_offset(val_images: int) -> Choice:
    """Measure the labels' sub-pixel offset after training when there are validation images."""
    if val_images < MIN_IMAGES:
        why = f"{numbered(val_images, 'validation image')}: at least {MIN_IMAGES} tell an offset from chance"
        return Choice("train.label_offset", "none", why)
    why = (
        f"measures after training whether the predictions meet the labels better moved a "
        f"fraction of a pixel (labels drawn off): on the {val_images} validation images; a "
        f"move is kept only if it raises their mIoU by {MIN_GAIN}, over no move and over the "
        f"predictions smoothed as much without it, and that of {MIN_AGREEING:.0%} of them; "
        "under a time budget only where it costs a small share "
        "of it (the log says so after the first validations)"
    )
    return Choice("train.label_offset", "fit", why)


def _step_memory(fp: Fingerprint, cfg: Config, device: str, images: int | None) -> StepMemory:
    """The training step's memory facts for the net of ``cfg`` on ``fp``'s images, with the
    data set of ``images`` such images loaded (None: ``fp``'s)."""
    channels = max((p.channels for p in fp.pairs), default=None)
    data = data_memory(fp, cfg, images or len(fp.pairs))
    return StepMemory.of(cfg, device, channels, 3 if fp.instances else None, data=data)


def _as_planned(cfg: Config, choices: list[Choice], explicit: set[str]) -> Config:
    """``cfg`` with those of ``choices`` the user did not make applied: the run the plan
    makes, for its memory (the weight map's 4 bytes a pixel of data, the autocast's step)."""
    return Plan([c for c in choices if c.key not in explicit]).apply(cfg)


def _marked(
    choices: list[Choice], cfg: Config, explicit: set[str], sources: dict[str, str]
) -> list[Choice]:
    """``choices`` with those of the user's keys (``explicit``) marked: the user's value in
    ``cfg`` and the config file that set it (``sources``)."""
    values = cfg.to_dict()

    def yours(key: str):
        section, name = key.split(".", 1)
        return values[section][name]

    return [
        replace(c, user=True, yours=yours(c.key), source=sources.get(c.key))
        if c.key in explicit
        else c
        for c in choices
    ]


def make_plan(
    fp: Fingerprint,
    cfg: Config,
    *,
    explicit: set[str],
    device: str = "cpu",
    val_images: int | None = None,
    sources: dict[str, str] | None = None,
    images: int | None = None,
    held_out: Collection[str] = (),
    ignored: int | None = None,
) -> Plan:
    """Every choice for ``fp`` (``device``: ``cpu`` or ``cuda``), the user's keys marked;
    ``val_images``: how many of the pairs validate (None: the label offset is not planned);
    ``images``: the pairs training loads (None: ``fp``'s, at most 400), for the memory;
    ``sources``: the config file that set each of the user's keys that one set;
    ``held_out``: the names of ``fp``'s validation pairs (the loss weighs training pixels);
    ``ignored``: the mask value training counts nowhere (``data.ignore_value``, a table's void)."""
    device = "cuda" if device.startswith("cuda") else "cpu"
    tile = plan_tile(fp, Geometry.of(cfg), device, declared_names(cfg))
    tile_size = cfg.data.tile_size if "data.tile_size" in explicit else tile.value
    yours = cfg.train.batch_size if "train.batch_size" in explicit else None
    loss = plan_loss(fp, cfg, held_out, ignored=ignored) if not fp.instances else []
    loss, notes = one_balance(loss + plan_objects(fp, cfg), cfg, explicit)
    amp = cfg.train.amp if "train.amp" in explicit else None
    precision = plan_precision(device, amp=amp) + plan_workers(device)
    memory = _step_memory(fp, _as_planned(cfg, loss + precision, explicit), device, images)
    batch = replace(plan_batch(tile_size, device, memory, used=yours), given=BATCH_FROM)
    choices = [tile, batch, plan_normalization(fp)]
    if "data.tiles_per_epoch" not in explicit:
        per_epoch = plan_tiles_per_epoch(cfg.data.tiles_per_epoch, yours or batch.value)
        choices += [replace(c, given=("train.batch_size",)) for c in per_epoch]
    training = None if images is None or val_images is None else images - val_images
    choices += loss + plan_augment(fp, training, held_out) + precision  # what training sees
    if val_images is not None:
        choices.append(plan_offset(val_images))
    if cfg.train.max_minutes > 0:
        budget = f"the {cfg.train.max_minutes:g} min budget ends the run"
        on = (BUDGET_KEY,)  # their reasons marked stale where the budget changes after
        choices.append(Choice("train.epochs", BUDGET_EPOCHS, budget, shown=BUDGET_SHOWN, given=on))
        patience = f"{budget}, the lr annealed, not early stopping"
        choices.append(Choice("train.patience", 0, patience, given=on))
    marked = _marked(choices, cfg, explicit, sources or {})
    minutes = cfg.train.max_minutes  # the budget its reasons rest on
    return Plan(marked, fp.summary(), notes, data_bytes=memory.data, budget=minutes)
