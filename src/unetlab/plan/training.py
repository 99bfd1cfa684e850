"""Measure, check and plan a config's data set in one call (:func:`plan_training`)."""

from __future__ import annotations

import copy
import logging
import time

from unetlab.config import Config, chosen_keys, given_config
from unetlab.config.keywords import checks_keywords
from unetlab.data.datasets import split_kind
from unetlab.data.fingerprint import unlabelled_fill
from unetlab.data.mask_reading import reads_masks_as_config
from unetlab.data.mask_shares import inverted_masks
from unetlab.data.read_notes import call_lines
from unetlab.data.void import VOID, of_training
from unetlab.plan.bar import bar_note
from unetlab.plan.checks import (
    auto_void,
    auto_void_reason,
    check_data,
    declared_names,
    names_note,
    void_note,
)
from unetlab.plan.make import make_plan
from unetlab.plan.notes import (
    merged_note,
    rare_classes,
    seed_holding,
    unvalidated_classes,
    unvalidated_values,
)
from unetlab.plan.record import Choice, Plan, show
from unetlab.runtime import resolve_device

log = logging.getLogger(__name__)


def _unlabelled_value(d, train_pairs) -> int | None:
    """The mask value training will count nowhere: ``data.ignore_value``, or the void
    outlines of palette masks (VOC's 255) whose classes training finds itself."""
    if d.ignore_value is not None or d.label_values is not None or not train_pairs:
        return d.ignore_value
    from unetlab.data.classes import VOC_VOID, dataset_palette

    return VOC_VOID if dataset_palette([p.mask for p in train_pairs]) is not None else None


@reads_masks_as_config
def check_training_data(cfg: Config, explicit: set[str] | None = None) -> list[str]:
    """The checks :func:`plan_training` makes of ``cfg``'s data set, without the plan (``train
    --no-plan``): DatasetError listing every contradiction (masks mixing encodings, a value in
    one file only, stray values, unnamed void beside named classes, ...); then the plan's
    warnings about the data (:func:`data_notes`: a class in no validation image or in few
    images, unlabelled fill, an inverted binary mask, an unnamed 255 beside classes 0..K-1), logged as warnings and
    returned."""
    explicit = chosen_keys(cfg) if explicit is None else explicit
    fp, train, val, ignored, _ = _checked(cfg.checked(), explicit)
    notes = data_notes(cfg, explicit, fp, (train, val), ignored)
    for note in notes:
        log.warning("%s", note)
    return notes


def _checked(cfg: Config, explicit: set[str], *, planned: bool = False):
    """The fingerprint of ``cfg``'s training and validation pairs, checked
    (:func:`check_data`), with the pairs, the mask value training counts nowhere and the
    plan's ``data.ignore_value`` choice or None: where ``planned`` and the masks' 255 is
    void beyond doubt (:func:`auto_void`), the pairs are measured without it and checked as
    with ``data.ignore_value=255``, else its problem refuses them."""
    from unetlab.data.datasets import data_split
    from unetlab.data.pairs import refuse_missing_root, refuse_no_root

    refuse_no_root(cfg.data.root)
    refuse_missing_root(cfg.data.root)
    d = cfg.data
    problems: list[str] = []  # every problem of the data set, raised together by check_data
    train, val = data_split(d, problems=problems)  # training says which split it uses
    ignored = _unlabelled_value(d, train)
    fp = _fingerprint(cfg, train + val, ignored, problems)
    void = auto_void(fp, cfg, explicit) if planned else None
    choice = None
    if void is not None:  # measured again as training will read the masks: 255 nowhere
        void = of_training(void, fp.pairs, {p.mask_page for p in val})  # as the loss's shares
        choice = Choice("data.ignore_value", VOID, auto_void_reason(void))
        cfg, ignored = _applied(cfg, choice), VOID
        fp = _fingerprint(cfg, train + val, ignored, problems)
    check_data(fp, cfg, explicit, problems=problems)
    return fp, train, val, ignored, choice


def _applied(cfg: Config, choice: Choice) -> Config:
    """``cfg`` with ``choice`` applied, with the record of what the user set."""
    return cfg.recorded(Plan([choice]).apply(cfg))


def _fingerprint(cfg: Config, pairs: list, ignored, problems: list[str]):
    """The fingerprint of ``pairs`` measured as training reads them, ``ignored`` (the mask
    value training counts nowhere) in no class; ``problems`` collects the unreadable ones."""
    from unetlab.data.fingerprint import fingerprint

    d = cfg.data
    return fingerprint(
        pairs,
        problems=problems,
        target="semantic" if d.label_values is not None else d.target,  # as training reads
        ignore_value=ignored,
        channel=d.channel,
        exclude_rows=d.exclude_rows,  # a data bar: measured as training reads the pairs
        nodata=d.nodata,  # nodata pixels too (a NaN nodata is no problem)
        names=declared_names(cfg),  # a class named background is no object, as in training
        label_values=d.label_values,  # the classes a boundary name is read of (two: it)
    )


def data_notes(cfg: Config, explicit: set[str], fp, pairs: tuple, ignored) -> list[str]:
    """The warnings about ``cfg``'s data that no setting answers, with or without a plan: a
    class in no validation image, a class in few images, unlabelled pixels that fill the
    masks, an unnamed 255 beside classes 0..K-1, a data bar drawn into every mask
    (:func:`~unetlab.plan.bar.bar_note`). ``fp``: the fingerprint of ``pairs``
    (training, validation); ``ignored``: the mask value training counts nowhere."""
    train, val = pairs
    names = declared_names(cfg)
    held_out = {p.mask_page for p in val}
    seed_for = lambda values: seed_holding(cfg.data, fp, values, held_out)  # noqa: E731
    total = len(train) + len(val)
    split = split_kind(cfg.data.root) if cfg.data.root else None
    notes = unvalidated_classes(
        fp, held_out, names=names, seed_for=seed_for, total=total, split=split
    )
    skip = unvalidated_values(fp, held_out)  # said there
    notes += rare_classes(fp, held_out, names=names, total=total, skip=skip)
    if ignored is None and "data.label_values" not in explicit:
        notes += [line] if (line := unlabelled_fill(fp.pairs, declared=names)) else []
    notes += [line] if (line := inverted_masks(fp.pairs)) else []  # audit s34 messy 2
    notes += [line] if (line := merged_note(fp)) else []  # 0/255 masks of touching nuclei
    bar = bar_note(train + val, cfg.data.exclude_rows, ignored, measured=fp.pairs)
    notes += [bar] if bar else []
    return notes + names_note(fp, cfg) + void_note(fp, cfg, train + val, held_out)


@checks_keywords
@reads_masks_as_config
@call_lines()  # its INFO lines shown; a call is one command for what reading notes
def plan_training(
    cfg: Config, explicit: set[str] | None = None, *, device: str | None = None
) -> tuple[Config, Plan]:
    """Measure the data of ``cfg.data.root`` (training and validation pairs), check it
    (:func:`check_data`) and return ``cfg`` with the plan applied, and the plan. The keys in
    ``explicit`` keep the user's values; None (a notebook): :func:`~unetlab.config.chosen_keys`,
    every key set by ``load_config``'s file and overrides or assigned on ``cfg``
    (``cfg.data.tile_size = 256`` is kept, also where it equals the default). Give the plan
    to ``fit(..., plan=plan)`` for its reasons in ``train.log`` and ``plan.yaml``;
    ``plan.lines()`` lists them now.
    ``device`` (``cpu``, ``cuda``) the plan is for; None: the one ``train.device`` resolves
    to, as ``fit`` does (``auto``: a visible GPU; a CPU plan was made for it on a GPU)."""
    start = time.monotonic()
    notebook = explicit is None
    cfg = given_config(cfg)
    explicit = chosen_keys(cfg) if notebook else explicit
    cfg = cfg.checked()  # a value set as an attribute (max_minutes = "1"): one line
    if device is None:
        device = resolve_device(cfg.train.device, 'train.device="cpu"').type
    fp, train, val, ignored, void = _checked(cfg, explicit, planned=True)
    sources = {k: cfg.config_file for k in cfg.file_keys & explicit}
    read = cfg if void is None else _applied(cfg, void)  # as training reads the masks
    plan = make_plan(
        fp,
        read,
        explicit=explicit,
        device=device,
        val_images=len(val),
        sources=sources,
        images=len(train) + len(val),
        held_out={p.mask_page for p in val},
        ignored=ignored,
    )
    if void is not None:  # the masks' void, read before every other choice
        plan.choices.insert(0, void)
    plan.notes += data_notes(read, explicit, fp, (train, val), ignored)
    planned = plan.apply(cfg)
    planned.user_keys = frozenset(explicit)  # planned again, they stay the user's
    planned.plan_values = {  # not theirs while they hold these values
        c.key: copy.deepcopy(planned.value_of(c.key)) for c in plan.choices if not c.user
    }
    plan.seconds, plan.budget = time.monotonic() - start, planned.train.max_minutes
    if notebook:
        plan.how = PYTHON_HOW
        _say_planned(plan, cfg)
    return planned, plan


#: how a notebook keeps its own value of a planned key, or trains without a plan
PYTHON_HOW = "a key set on cfg before plan_training keeps your value; fit(cfg) without it: no plan"


def _say_planned(plan: Plan, cfg: Config) -> None:
    """One line naming each value the plan changed, and how to keep one's own."""
    changed = [
        (c.key, cfg.value_of(c.key), c.shown or show(c.value))  # no epoch cap of 100000 (s54)
        for c in plan.choices
        if not c.user and c.value != cfg.value_of(c.key)
    ]
    if changed:
        log.info(
            "plan_training changed %s (plan.lines() says why; to keep a value, set it on cfg "
            "before plan_training, e.g. cfg.%s = %s)",
            ", ".join(f"{key} {show(old)} -> {new}" for key, old, new in changed),
            changed[0][0],
            show(changed[0][1]),
        )
