"""The loss and its balance: Dice and class weights for rare classes, the border weight
map where objects touch, and never both weighting the rare class."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields

from unetlab.config import Config
from unetlab.data.fingerprint import Fingerprint
from unetlab.data.void import VOID, percent
from unetlab.errors import said_as, set_to
from unetlab.plan.checks import declared_names, looks_void
from unetlab.plan.record import Choice
from unetlab.plan.tiles import whole_objects

DICE_BELOW = 0.25  # a class with a smaller pixel share adds Dice to the loss
WEIGHTS_BELOW = 0.10  # ... and below this, class weights
#: the setting that turns class weights off, as the caller sets it (:func:`said_as`: fit in
#: a notebook was told ``set train.class_weights=none``, s53)
NO_CLASS_WEIGHTS = set_to("train.class_weights", "none")


def plan_loss(
    fp: Fingerprint, cfg: Config, held_out: Collection[str] = (), *, ignored: int | None = None
) -> list[Choice]:
    """ce for balanced classes; ce+dice when a class holds under ``DICE_BELOW`` of the pixels;
    class weights under ``WEIGHTS_BELOW``. The shares are of the training pixels, as the
    class weights' (``held_out``: the validation pairs' names), of the labelled ones where a
    value counts nowhere (``ignored``, else ``data.ignore_value``: void), a class in
    validation images only named as such."""
    training = fp.training(held_out)
    fractions = training.class_fractions()
    rarest = min(fractions, key=fractions.get)
    names = declared_names(cfg)
    pixels = "training pixels" if training is not fp else "pixels"
    if ignored is not None or cfg.data.ignore_value is not None:  # void's share: its own line
        pixels = f"labelled {pixels}"
    share = f"{_value(rarest, names)} holds {percent(fractions[rarest])} of the {pixels}"
    if rarest == VOID and looks_void(fp, cfg):  # the void line above: no contradiction
        share += f" (the value that looks like void: a class unless data.ignore_value={VOID})"
    if unlearnt := sorted(set(fp.class_fractions()) - set(fractions)):
        shown = ", ".join(_value(v, names) for v in unlearnt)
        share += f"; {shown} in validation images only (not in train, not learnt)"
    if fractions[rarest] >= DICE_BELOW:
        return [Choice("train.loss", "ce", f"classes are balanced enough ({share})")]
    choices = [Choice("train.loss", "ce+dice", f"{share}: Dice keeps the rare class in view")]
    if fractions[rarest] < WEIGHTS_BELOW and not fp.instances:  # objects' rims: see train
        # the square root of median frequency: the full weights over-predicted the rarest
        # classes of the synthetic scenes (bench/README.md, class weights)
        reason = f"{share}: weighted cross-entropy (square root of median frequency)"
        choices.append(Choice("train.class_weights", "sqrt_median_frequency", reason))
    return choices


def _value(value: int, names: dict[int, str]) -> str:
    return f"mask value {value}" + (f" ({names[value]})" if value in names else "")


def plan_objects(fp: Fingerprint, cfg: Config) -> list[Choice]:
    """Where objects touch: the instance target for instance masks (where this version has
    ``data.target``), else the paper's border weight map for semantic masks."""
    touching, n = fp.touching_fraction(), fp.counted_objects()
    whole, left_out = whole_objects(fp)
    if n == 0 and fp.cut_objects() and not fp.instances:
        why = f"no {whole}objects to tell whether they touch ({left_out[2:]}): no border weights"
        return [Choice("data.weight_map", False, why)]
    if n == 0:
        return []
    share = f"{touching:.0%} of {n} {whole}objects lie within 2 px of another of their class" + (
        f" ({left_out[2:]})" if left_out else ""
    )
    if fp.masks_look_merged():  # unseen: merged_note
        share += f"; {fp.merged_fraction():.0%} look like several drawn as one (see below)"
    if fp.instances:
        if "target" in {f.name for f in fields(cfg.data)}:
            return [Choice("data.target", "instances", f"instance masks; {share}")]
        return []
    if touching >= 0.5:
        return [
            Choice(
                "data.weight_map",
                True,
                f"{share}: the paper's border weights (w0 {cfg.data.w0:g}, sigma "
                f"{cfg.data.sigma:g} px) keep them apart",
            )
        ]
    return [Choice("data.weight_map", False, f"{share}: no border weights needed")]


#: class weights that weight the classes (``auto`` leaves them out beside a weight map)
WEIGHTING = ("median_frequency", "sqrt_median_frequency")


def one_balance(
    choices: list[Choice], cfg: Config, explicit: set[str]
) -> tuple[list[Choice], list[str]]:
    """``choices`` with the rare class weighted once, and a note where the user weights it
    twice. The border weight map's w_c already balances the classes (n_max / n_k in each
    image); class weights on top sent the contact zone between touching nuclei (0.2 % of the
    pixels) ~82 % of the cross-entropy weight, and the net painted every nucleus as contact
    (nucleus IoU 0.003, 0.77 with either one alone). Where both would apply, the weight map
    stays (it also keeps touching objects apart, which class weights cannot) and the class
    weights go; class weights the user set keep the weight map off instead."""
    by_key = {c.key: c for c in choices}
    planned_map, planned_weights = (
        by_key.get("data.weight_map"),
        by_key.get("train.class_weights"),
    )
    user_map = "data.weight_map" in explicit and cfg.data.weight_map
    user_weights = "train.class_weights" in explicit and _weighting(cfg.train.class_weights)
    if user_map and user_weights:
        note = (
            "data.weight_map and train.class_weights are both set: the weight map already "
            "balances the classes, so the rare class is weighted twice (it may swallow the "
            f"others); turn class weights off: {said_as(NO_CLASS_WEIGHTS)}"
        )
        return choices, [note]
    if user_weights and planned_map is not None and planned_map.value:
        why = (
            f"{planned_map.reason.split(':')[0]}, but train.class_weights already weights the "
            "classes and the border weight map would weight the rare class again "
            f"({said_as(NO_CLASS_WEIGHTS)} for border weights)"
        )
        return _replaced(choices, Choice("data.weight_map", False, why)), []
    map_on = user_map or ("data.weight_map" not in explicit and planned_map and planned_map.value)
    if map_on and planned_weights is not None:
        why = (
            f"{planned_weights.reason.split(':')[0]}, but the border weight map already balances "
            "the classes (n_max / n_k in each image): class weights on top would weight the "
            "rare class twice"
        )
        return _replaced(choices, Choice("train.class_weights", "none", why)), []
    return choices, []


def _weighting(class_weights) -> bool:
    return isinstance(class_weights, list) or class_weights in WEIGHTING


def _replaced(choices: list[Choice], new: Choice) -> list[Choice]:
    return [new if c.key == new.key else c for c in choices]
