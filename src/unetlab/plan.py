"""From a data set's fingerprint to training settings, each with its reason.

``unetlab train`` measures the data (:mod:`unetlab.data.fingerprint`), refuses data that
contradicts itself (:func:`check_data`), then derives tile size, batch, normalisation, loss,
the object settings, augmentation, the precision this CPU runs fastest, the processes that
make tiles beside a GPU and, under a time budget, the epoch cap (:func:`make_plan`).
Every choice is an ordinary config key: a key set in the YAML file or with ``--set`` is the
user's and wins (the choice is kept in the plan, marked ``user``). The plan goes to the run
folder (``plan.yaml``) and its reasons to ``train.log``.

Example::

    fp = fingerprint(train_pairs + val_pairs, target=cfg.data.target)
    check_data(fp, cfg, explicit)
    plan = make_plan(fp, cfg, explicit=explicit, device="cpu")
    cfg = plan.apply(cfg)
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import yaml

from unetlab.atomic import atomic_path
from unetlab.config import Config, changed_keys
from unetlab.data.checks import channel_problems
from unetlab.data.classes import read_class_names
from unetlab.data.fingerprint import (
    Fingerprint,
    fill_value,
    lonely_classes,
    lossy_problem,
    mixed_encodings,
    pixel_counts,
    too_small,
    unlabelled_fill,
)
from unetlab.data.pairs import PairReader, problems_error
from unetlab.data.void import VOID, border_share, percent, void_beside_classes, void_line
from unetlab.errors import UnetlabError
from unetlab.inference.offset import MIN_AGREEING, MIN_GAIN, MIN_IMAGES
from unetlab.models import PRESETS
from unetlab.models import sizes as net_sizes
from unetlab.runtime import available_cpus, supports_bf16

log = logging.getLogger(__name__)

OBJECTS_PER_TILE = 4  # a tile spans this many typical objects across
MAX_TILE = {"cpu": 256, "cuda": 512}  # largest planned input tile per device (memory, time)
PIXELS_PER_STEP = {"cpu": 8 * 128 * 128, "cuda": 8 * 512 * 512}  # batch x tile^2 per step
DICE_BELOW = 0.25  # a class with a smaller pixel share adds Dice to the loss
WEIGHTS_BELOW = 0.10  # ... and below this, class weights
FEW_IMAGES = 10  # fewer training images than this: elastic deformation (the paper's reason)
BUDGET_EPOCHS = 100_000  # the epoch cap under a time budget: the clock ends the run first
RARE_IMAGES = 3  # a class in fewer images than this is too rare to learn and to validate
# up/down layout dependence (fingerprint.layout_dependence) above which the data has an up:
# road scenes measure 0.85-0.88, microscopy 0.003-0.06, a 3-image microscopy subset at most
# 0.25 and one 128 px nuclei image 0.34 (bench/README.md, the plan and the layout)
UP_DOWN_LAYOUT = 0.4
# ... measured on at least this many images: 3-image microscopy subsets reach 0.25 by chance
LAYOUT_IMAGES = 4


@dataclass(frozen=True)
class Choice:
    """One planned config value: dotted ``key``, ``value``, ``reason``; ``user`` when the
    user set the key (the plan's value is then only advice), ``yours`` the value the user set;
    ``source``: the config file that set it (None: the user, by an override or in code)."""

    key: str
    value: object
    reason: str
    user: bool = False
    yours: object = None
    source: str | None = None

    @property
    def used(self):
        """The value the run trains with."""
        return self.yours if self.user else self.value

    def line(self) -> str:
        if not self.user:
            return f"{self.key} = {_show(self.value)}: {self.reason}"
        whose = f"set in {self.source}" if self.source else "your setting"
        if self.yours == self.value:
            return f"{self.key} = {_show(self.value)}: {self.reason} (also {whose})"
        return (
            f"{self.key} = {_show(self.yours)}: {whose} (the plan would choose "
            f"{_show(self.value)}: {self.reason})"
        )


@dataclass
class Plan:
    """The choices, the fingerprint they come from, and ``notes``: facts of the data that no
    setting answers (a class in too few images), logged as warnings."""

    choices: list[Choice] = field(default_factory=list)
    fingerprint: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def apply(self, cfg: Config) -> Config:
        """``cfg`` with every choice the user did not make set to the plan's value."""
        data = cfg.to_dict()
        for c in self.choices:
            if not c.user:
                section, key = c.key.split(".", 1)
                data[section][key] = c.value
        return Config.from_dict(data)

    def lines(self) -> list[str]:
        return [c.line() for c in self.choices]

    def to_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "plan": {
                c.key: {
                    "value": c.used,
                    "set_by": "user" if c.user else "plan",
                    **({"set_in": c.source} if c.user and c.source else {}),
                    "planned": c.value,
                    "reason": c.reason,
                }
                for c in self.choices
            },
        }

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(yaml.dump(self.to_dict(), Dumper=_Plain, sort_keys=False))
        return path

    def log(self) -> None:
        """The plan, line by line, to the log (``train.log`` and the console)."""
        log.info("plan from the data (--set KEY=VALUE overrides a line; --no-plan turns it off):")
        for line in self.lines():
            log.info("plan: %s", line)
        for note in self.notes:
            log.warning("%s", note)


class _Plain(yaml.SafeDumper):
    """YAML without anchors and aliases (a value the plan repeats is written out again)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _show(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...")


# --- the net's size arithmetic, without building it ----------------------------------------


@dataclass(frozen=True)
class Geometry:
    depth: int
    padding: str

    @classmethod
    def of(cls, cfg: Config) -> Geometry:
        preset = PRESETS[cfg.model.preset]
        return cls(cfg.model.depth or preset["depth"], cfg.model.padding or preset["padding"])

    @property
    def min_input(self) -> int:
        return net_sizes.min_input_size(self.depth, self.padding)

    @property
    def min_image(self) -> int:
        """The smallest image side the net trains on (its smallest output)."""
        return net_sizes.output_size(self.min_input, self.depth, self.padding)

    def inputs(self, up_to: int) -> list[int]:
        """Valid input sizes up to ``up_to`` px, ascending."""
        step = net_sizes.size_multiple(self.depth)
        return list(range(self.min_input, up_to + 1, step))

    def output(self, size: int) -> int:
        return net_sizes.output_size(size, self.depth, self.padding)


# --- checks --------------------------------------------------------------------------------


def check_data(
    fp: Fingerprint, cfg: Config, explicit: set[str], *, problems: Sequence[str] = ()
) -> None:
    """Raise one DatasetError naming the files when the data contradicts itself: blurred
    masks, masks mixing 0/1 and 0/255, a mask value in one file only (these three only where
    ``fp`` measured classes, and unless ``data.label_values`` is the user's), images whose
    channels differ from the others' (or from ``model.in_channels``), images smaller than the
    net's smallest input;
    ``problems`` found before (files that do not pair up or cannot be measured) are listed
    first in the same error."""
    problems = list(problems)
    if "data.label_values" not in explicit:
        problems += _class_problems(fp, cfg)
    problems += label_value_problems(fp, cfg)
    problems += void_problems(fp, cfg)
    images = [(Path(p.image), p.channels) for p in fp.pairs]
    problems += channel_problems(images, cfg.model.in_channels)
    geometry = Geometry.of(cfg)
    problems += too_small(fp.pairs, geometry.min_image, _small_fix(geometry))
    if problems:
        raise problems_error(problems, where=cfg.data.root)


def declared_names(cfg: Config) -> dict[int, str]:
    """``{mask value: name}`` of the classes the data set names: ``data.class_names``, else
    its ``class_names.txt``; ``{}`` when nothing names them."""
    d = cfg.data
    return dict(d.class_names or (d.root is not None and read_class_names(d.root)) or {})


def _class_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """Blurred masks, mixed encodings and values in one file only, where the fingerprint
    reads the mask values as classes (it follows ``data.target``, as training does; an
    object id is in one file only by nature). A class the data set names
    (``data.class_names``, ``class_names.txt``) may be in one file: the plan's notes say so."""
    if fp.instances:
        return []
    if problem := lossy_problem(pixel_counts(fp.pairs)):
        return [problem]  # as training refuses them; not a class in one file per value
    declared = set(declared_names(cfg))
    lonely = lonely_classes(fp.pairs, ignore_value=cfg.data.ignore_value, declared=declared)
    return mixed_encodings(fp.pairs) + lonely


def _void(fp: Fingerprint, cfg: Config):
    """:func:`void_beside_classes` of ``fp`` unless the config says what the masks' values
    are: ``data.ignore_value`` or ``data.label_values`` set, or 255 named as a class."""
    d = cfg.data
    if d.ignore_value is not None or d.label_values is not None:
        return None
    return None if VOID in declared_names(cfg) else void_beside_classes(fp.pairs)


def void_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """A problem when the masks hold classes 0..K-1 and 255 and the data set names those
    classes (``data.class_names``, ``class_names.txt``) but not 255: the names say what the
    classes are, and 255 is not one of them (Cityscapes', VOC's and mmseg's void)."""
    found = _void(fp, cfg)
    if found is None or not set(found.values) <= set(declared_names(cfg)):
        return []
    return [void_line(found, named=True)]


#: the masks read to tell whether a void value lies in thin outlines
VOID_MASKS = 3


def void_note(fp: Fingerprint, cfg: Config, pairs: Sequence) -> list[str]:
    """A warning when the masks hold classes 0..K-1 and 255 and nothing names the classes
    (:func:`void_problems` refuses where names leave 255 out), with how much of 255 borders
    a class in up to ``VOID_MASKS`` of ``pairs`` that hold it (thin outlines: void)."""
    found = _void(fp, cfg)
    if found is None or set(found.values) <= set(declared_names(cfg)):
        return []
    holding = {p.name for p in fp.pairs if VOID in p.values}
    reader = PairReader(cfg.data.channel)
    chosen = [p for p in pairs if p.mask_page in holding][:VOID_MASKS]
    masks = [reader.stack(p.mask, mask=True)[p.page] for p in chosen]
    shares = [b for m in masks if (b := border_share(m)) is not None]
    return [void_line(found, named=False, border=float(np.mean(shares)) if shares else None)]


#: the keys that name a data set's classes, all three set for ISBI in configs/small_cpu.yaml
CLASS_KEYS = ("data.label_values", "data.class_names", "model.num_classes")


def label_value_problems(fp: Fingerprint, cfg: Config) -> list[str]:
    """One problem when the masks hold values outside ``data.label_values`` (and not
    ``data.ignore_value``), naming where the classes were set (a config file: its
    ``CLASS_KEYS`` together, as ISBI's 0/255 in small_cpu.yaml, which gave three errors one
    after the other on class-index masks) and every key the fix needs at once."""
    d = cfg.data
    if d.label_values is None or fp.instances:
        return []
    found = sorted({v for p in fp.pairs for v in p.values} - {d.ignore_value})
    unknown = [v for v in found if v not in d.label_values]
    if not unknown:
        return []
    in_file = [k for k in CLASS_KEYS if k in cfg.file_keys]
    where = f" set in {cfg.config_file}" if "data.label_values" in in_file else ""
    keys = ", ".join(f"{k} {_show(_value(cfg, k))}" for k in in_file if k != "data.label_values")
    also = f" (with {keys})" if keys else ""
    fill = fill_value(fp.pairs) if d.ignore_value is None else None
    classes = [v for v in found if v != fill]
    fix = [f"data.label_values={_show(classes)}"]
    fix += ["data.class_names=null"] if d.class_names else []
    fix += [f"model.num_classes={len(classes)}"] if cfg.model.num_classes else []
    fix += [f"data.ignore_value={fill}"] if fill is not None else []
    unlabelled = (
        f" ({fill} fills most of every mask: unlabelled pixels?)"
        if fill is not None
        else "; a value that marks unlabelled pixels: --set data.ignore_value=V"
        if d.ignore_value is None
        else ""
    )
    return [
        f"mask value(s) {', '.join(map(str, unknown))} are not among data.label_values "
        f"{_show(d.label_values)}{where}{also}: for these masks "
        + ("leave out that config or " if where else "")
        + "--set "
        + " --set ".join(fix)
        + unlabelled
    ]


def _value(cfg: Config, key: str):
    section, name = key.split(".", 1)
    return getattr(getattr(cfg, section), name)


def _small_fix(geometry: Geometry) -> str:
    shallower = [
        f"model.depth={d} needs {Geometry(d, geometry.padding).min_image} px"
        for d in range(geometry.depth - 1, 1, -1)
    ]
    return "pad them, or use a shallower net (" + ", ".join(shallower[:2]) + ")"


# --- choices -------------------------------------------------------------------------------


def plan_tile(fp: Fingerprint, geometry: Geometry, device: str) -> Choice:
    """The input tile: ``OBJECTS_PER_TILE`` typical objects across, within the smallest image
    (its output must fit) and the device's ``MAX_TILE``."""
    fits = [
        s
        for s in geometry.inputs(max(MAX_TILE[device], geometry.min_input))
        if geometry.output(s) <= fp.smallest_side
    ]
    if not fits:
        fits = [geometry.min_input]
    areas = fp.sized_areas()  # lines (a thin class's fragments) size no tile
    if areas.size == 0:
        return Choice(
            "data.tile_size",
            fits[-1],
            f"no {_whole(fp)[0]}objects to size by{_whole(fp)[1]}: the largest tile within "
            f"{_limit(fits, fp, device)}",
        )
    diameter = 2 * math.sqrt(float(np.median(areas)) / math.pi)
    want = OBJECTS_PER_TILE * diameter
    tile = next((s for s in fits if geometry.output(s) >= want), fits[-1])
    why = (
        f"{_whole(fp)[0]}objects are ~{diameter:.0f} px across (median "
        f"{np.median(areas):.0f} px{_whole(fp)[1]}): "
        f"{OBJECTS_PER_TILE} across need a {want:.0f} px output"
    )
    if geometry.output(tile) < want:
        why += f"; capped by {_limit(fits, fp, device)}"
    return Choice("data.tile_size", tile, why)


def _whole(fp: Fingerprint) -> tuple[str, str]:
    """('', '') or, where objects meet unlabelled pixels and are left out of the object
    facts, ('wholly labelled ', '; N that meet unlabelled pixels left out')."""
    cut = fp.cut_objects()
    if not cut:
        return "", ""
    return "wholly labelled ", f"; {cut} that meet unlabelled pixels left out"


def _limit(fits: list[int], fp: Fingerprint, device: str) -> str:
    if len(fits) > 1 and 2 * fits[-1] - fits[-2] > MAX_TILE[device]:  # the next size is over
        return f"the {device} budget of {MAX_TILE[device]} px tiles"
    return f"the smallest image side ({fp.smallest_side} px)"


MAX_BATCH = 32  # tiles per step, however small


def plan_batch(tile: int, device: str) -> Choice:
    """Tiles per step: about ``PIXELS_PER_STEP[device]`` input pixels, 1 to ``MAX_BATCH``
    tiles; the reason gives the pixels a step does take."""
    want = PIXELS_PER_STEP[device]
    batch = int(min(max(want // (tile * tile), 1), MAX_BATCH))
    tiles = f"{batch} tile{'s' if batch > 1 else ''}"
    why = f"{tiles} of {tile} px: ~{_kilo(batch * tile * tile)} px per step on {device}"
    if want // (tile * tile) > MAX_BATCH:
        why += f" (at most {MAX_BATCH} tiles; {_kilo(want)} px would be the aim)"
    return Choice("train.batch_size", batch, why)


def plan_tiles_per_epoch(tiles: int, batch: int) -> list[Choice]:
    """``data.tiles_per_epoch`` rounded to the nearest multiple of ``batch`` (at least one
    batch), so that no epoch ends with a step of a few tiles (64 tiles in batches of 7 ended
    every epoch with a 1-tile step under batch norm); [] when ``batch`` divides it."""
    if tiles % batch == 0:
        return []
    rounded = max(round(tiles / batch), 1) * batch
    why = (
        f"{rounded // batch} full batches of {batch}: every step a whole batch ({tiles} tiles "
        f"would end each epoch with a step of {tiles % batch})"
    )
    return [Choice("data.tiles_per_epoch", rounded, why)]


def _kilo(pixels: int) -> str:
    return f"{pixels // 1024}k" if pixels >= 1024 else str(pixels)


def plan_normalization(fp: Fingerprint) -> Choice:
    """Percentiles for 16-bit or fluorescence-like images (dark background: the median in the
    lowest fifth of the 0.5-99.5 percentile range); for 8-bit colour bright-field images
    (:func:`_bright_field`: H&E, IHC) the training set's own per-channel mean and std, the
    same for every image, so that a whole slide, mostly white glass, is scaled as its tissue
    crops were (per-image statistics of a slide come from the glass: F1 0.80 on a slide
    region against 0.94 for the same pixels alone); else (grey EM and bright-field, colour
    photographs) per-image standardisation, steadier under the lighting of photographs
    (synthetic road scenes: held-out mIoU 0.77 per image, 0.72 with fixed statistics)."""
    deep = [
        p for p in fp.pairs if np.dtype(p.dtype).kind in "iu" and np.dtype(p.dtype).itemsize >= 2
    ]
    dark = [
        p
        for p in fp.pairs
        if all((m - lo) < 0.2 * (hi - lo) for lo, m, hi in zip(p.low, p.median, p.high))
    ]
    if deep:
        return Choice(
            "data.normalization",
            {"mode": "percentile", "low": 1.0, "high": 99.8},
            f"{len(deep)} of {len(fp.pairs)} images are {deep[0].dtype}: each image's 1st-99.8th percentiles to 0-1",
        )
    if len(dark) > len(fp.pairs) / 2:
        return Choice(
            "data.normalization",
            {"mode": "percentile", "low": 1.0, "high": 99.8},
            f"fluorescence-like: {len(dark)} of {len(fp.pairs)} images are mostly dark background",
        )
    colour = all(p.channels == 3 for p in fp.pairs)
    bright = _bright_field(fp)
    stats = fp.intensity_stats()
    if colour and len(bright) > len(fp.pairs) / 2 and stats is not None:
        mean, std = ([round(float(v), 1) for v in a] for a in stats)
        why = (
            f"bright-field colour: {len(bright)} of {len(fp.pairs)} 8-bit colour images are "
            "bright on a near-white background: the training set's per-channel mean and std "
            "for every image, so that a slide, mostly glass, is scaled as its crops were "
            "(per-image statistics of a slide would come from its glass)"
        )
        return Choice("data.normalization", {"mode": "fixed", "mean": mean, "std": std}, why)
    kind = (
        "colour images, not mostly dark, not bright-field"
        if colour
        else "grey levels fill the range (EM, bright-field)"
    )
    return Choice("data.normalization", {"mode": "per_image"}, f"{kind}: per-image standardisation")


#: an 8-bit bright-field image: the 99.5th percentile of every channel at least this share of
#: 255 (light through the empty glass) and the mean of the channels' medians at least
#: ``BRIGHT_MEDIAN`` of it (H&E crops 0.78, synthetic road scenes 0.40)
BRIGHT_TOP, BRIGHT_MEDIAN = 0.9, 0.6


def _bright_field(fp: Fingerprint) -> list:
    """The pairs whose images look like 8-bit bright-field microscopy: a near-white
    background and mostly bright (photographs have darker medians)."""
    return [
        p
        for p in fp.pairs
        if p.dtype == "uint8"
        and min(p.high) >= BRIGHT_TOP * 255
        and float(np.mean(p.median)) >= BRIGHT_MEDIAN * 255
    ]


def plan_loss(fp: Fingerprint, cfg: Config) -> list[Choice]:
    """ce for balanced classes; ce+dice when a class holds under ``DICE_BELOW`` of the pixels;
    class weights under ``WEIGHTS_BELOW``."""
    fractions = fp.class_fractions()
    rarest = min(fractions, key=fractions.get)
    name = f" ({names[rarest]})" if (names := declared_names(cfg)) and rarest in names else ""
    share = f"mask value {rarest}{name} holds {percent(fractions[rarest])} of the pixels"
    if fractions[rarest] >= DICE_BELOW:
        return [Choice("train.loss", "ce", f"classes are balanced enough ({share})")]
    choices = [Choice("train.loss", "ce+dice", f"{share}: Dice keeps the rare class in view")]
    if fractions[rarest] < WEIGHTS_BELOW and not fp.instances:  # objects' rims: see train
        # the square root of median frequency: the full weights over-predicted the rarest
        # classes of the synthetic scenes (bench/README.md, class weights)
        reason = f"{share}: weighted cross-entropy (square root of median frequency)"
        choices.append(Choice("train.class_weights", "sqrt_median_frequency", reason))
    return choices


def plan_objects(fp: Fingerprint, cfg: Config) -> list[Choice]:
    """Where objects touch: the instance target for instance masks (where this version has
    ``data.target``), else the paper's border weight map for semantic masks."""
    touching, n = fp.touching_fraction(), fp.sized_areas().size
    whole, left_out = _whole(fp)
    if n == 0 and fp.cut_objects() and not fp.instances:
        why = f"no {whole}objects to tell whether they touch ({left_out[2:]}): no border weights"
        return [Choice("data.weight_map", False, why)]
    if n == 0:
        return []
    share = f"{touching:.0%} of {n} {whole}objects lie within 2 px of another of their class" + (
        f" ({left_out[2:]})" if left_out else ""
    )
    if fp.instances:
        if "target" in {f.name for f in fields(cfg.data)}:
            return [Choice("data.target", "instances", f"instance masks; {share}")]
        return []
    if touching >= 0.5:
        return [
            Choice(
                "data.weight_map",
                True,
                f"{share}: the paper's border weights (w0 {cfg.data.w0:g}, sigma {cfg.data.sigma:g} px) keep them apart",
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
    planned_map, planned_weights = by_key.get("data.weight_map"), by_key.get("train.class_weights")
    user_map = "data.weight_map" in explicit and cfg.data.weight_map
    user_weights = "train.class_weights" in explicit and _weighting(cfg.train.class_weights)
    if user_map and user_weights:
        note = (
            "data.weight_map and train.class_weights are both set: the weight map already "
            "balances the classes, so the rare class is weighted twice (it may swallow the "
            "others); set train.class_weights=none"
        )
        return choices, [note]
    if user_weights and planned_map is not None and planned_map.value:
        why = (
            f"{planned_map.reason.split(':')[0]}, but train.class_weights already weights the "
            "classes and the border weight map would weight the rare class again (set "
            "train.class_weights=none for border weights)"
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


def plan_augment(fp: Fingerprint) -> list[Choice]:
    """Elastic deformation for fewer than ``FEW_IMAGES`` images; brightness/contrast 0.2
    where the images' median grey levels vary by more than a tenth of their range, else 0.1;
    upside-down flips and quarter turns unless the classes' layout has an up
    (:func:`plan_orientation`)."""
    n = len(fp.pairs)
    elastic = Choice(
        "augment.elastic",
        n < FEW_IMAGES,
        f"{n} images: {'few, so elastic deformation (the paper)' if n < FEW_IMAGES else 'enough without elastic deformation (slow on a CPU)'}",
    )
    medians = np.array(
        [(p.median[0] - p.low[0]) / max(p.high[0] - p.low[0], 1e-9) for p in fp.pairs]
    )
    spread = float(medians.std())
    strength = 0.2 if spread > 0.1 else 0.1
    why = f"the images' median grey level varies by {spread:.2f} of their range"
    return [
        elastic,
        *plan_orientation(fp),
        Choice("augment.brightness", strength, why),
        Choice("augment.contrast", strength, why),
    ]


def plan_orientation(fp: Fingerprint) -> list[Choice]:
    """``augment.vflip`` and ``augment.rot90`` off when the classes lie apart above and
    below the middle of the masks (up/down layout over ``UP_DOWN_LAYOUT``: sky above, road
    below), so that the net is not taught upside-down and turned layouts it will never see;
    on where the layout has no up (microscopy), and on fewer than ``LAYOUT_IMAGES`` images,
    whose layout chance decides. Horizontal flips stay either way."""
    up, n = fp.layout()[0], len(fp.pairs)
    if up > UP_DOWN_LAYOUT and n < LAYOUT_IMAGES:
        why = (
            f"up/down layout {up:.2f} > {UP_DOWN_LAYOUT:g}, but on {n} image(s), too few to "
            f"tell an up from chance (at least {LAYOUT_IMAGES}): flips both ways and quarter "
            "turns (set augment.vflip=false augment.rot90=false for images with an up)"
        )
        return [Choice("augment.vflip", True, why), Choice("augment.rot90", True, why)]
    if up > UP_DOWN_LAYOUT:
        why = (
            f"the classes lie apart above and below the middle (up/down layout {up:.2f} > "
            f"{UP_DOWN_LAYOUT:g}: the images have an up): no upside-down flips or quarter "
            "turns, left-right flips kept"
        )
        return [Choice("augment.vflip", False, why), Choice("augment.rot90", False, why)]
    why = (
        f"the classes lie alike above and below the middle (up/down layout {up:.2f} <= "
        f"{UP_DOWN_LAYOUT:g}): flips both ways and quarter turns"
    )
    return [Choice("augment.vflip", True, why), Choice("augment.rot90", True, why)]


def plan_precision(device: str, *, native_bf16: bool | None = None) -> list[Choice]:
    """bf16 autocast in channels-last where the CPU runs bf16 natively (AMX, AVX512-BF16):
    training steps take a half to a third of fp32 time there (bench/README.md). CUDA already
    autocasts (``train.amp: auto``); other CPUs would emulate bf16, many times slower."""
    if device != "cpu":
        return []
    native = supports_bf16("cpu") if native_bf16 is None else native_bf16
    if not native:
        return [Choice("train.amp", "off", "this CPU has no native bf16: fp32")]
    why = "this CPU runs bf16 natively (AMX or AVX512-BF16): 2-3x the steps of fp32"
    return [Choice("train.amp", "native", why), Choice("train.channels_last", True, why)]


MAX_WORKERS = 8  # tile-making processes beside one GPU


def plan_workers(device: str, *, cpus: int | None = None) -> list[Choice]:
    """Processes that make the training tiles while a GPU computes. Made in the main process,
    the batch is waited for: the paper net's batch-4 step on an H200 spent 61-74% of its time
    making the batch on the host, and persistent workers cut an H100 epoch's data wait to
    0.1-0.2 s of 1.5-1.8 s (bench/README.md). On a CPU the workers would take cores from
    the compute, so ``train.num_workers`` stays 0 there."""
    if device == "cpu":
        return []
    workers = min((available_cpus() if cpus is None else cpus) - 1, MAX_WORKERS)
    if workers < 1:
        return []
    why = f"{workers} processes make the tiles while the GPU computes (one CPU left for the run)"
    return [Choice("train.num_workers", workers, why)]


def plan_offset(val_images: int) -> Choice:
    """Measure the labels' sub-pixel offset after training when there are validation images."""
    if val_images < MIN_IMAGES:
        why = f"{val_images} validation image(s): at least {MIN_IMAGES} tell an offset from chance"
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


def make_plan(
    fp: Fingerprint,
    cfg: Config,
    *,
    explicit: set[str],
    device: str = "cpu",
    val_images: int | None = None,
    sources: dict[str, str] | None = None,
) -> Plan:
    """Every choice for ``fp`` (``device``: ``cpu`` or ``cuda``), the user's keys marked;
    ``val_images``: how many of the pairs validate (None: the label offset is not planned);
    ``sources``: the config file that set each of the user's keys that one set."""
    device = "cuda" if device.startswith("cuda") else "cpu"
    tile = plan_tile(fp, Geometry.of(cfg), device)
    tile_size = cfg.data.tile_size if "data.tile_size" in explicit else tile.value
    batch = plan_batch(tile_size, device)
    choices = [tile, batch, plan_normalization(fp)]
    if "data.tiles_per_epoch" not in explicit:
        used = cfg.train.batch_size if "train.batch_size" in explicit else batch.value
        choices += plan_tiles_per_epoch(cfg.data.tiles_per_epoch, used)
    if not fp.instances:
        choices += plan_loss(fp, cfg)
    choices += plan_objects(fp, cfg)
    choices, notes = one_balance(choices, cfg, explicit)
    choices += plan_augment(fp)
    choices += plan_precision(device) + plan_workers(device)
    if val_images is not None:
        choices.append(plan_offset(val_images))
    if cfg.train.max_minutes > 0:
        budget = f"the {cfg.train.max_minutes:g} min budget ends the run"
        choices.append(Choice("train.epochs", BUDGET_EPOCHS, budget))
        choices.append(
            Choice("train.patience", 0, f"{budget}, the lr annealed, not early stopping")
        )
    values = cfg.to_dict()

    def yours(key: str):
        section, name = key.split(".", 1)
        return values[section][name]

    sources = sources or {}
    marked = [
        Choice(c.key, c.value, c.reason, True, yours(c.key), sources.get(c.key))
        if c.key in explicit
        else c
        for c in choices
    ]
    return Plan(marked, fp.summary(), notes)


def rare_classes(
    fp: Fingerprint,
    val: set[str],
    *,
    names: dict[int, str] | None = None,
    total: int = 0,
    skip: Collection[int] = (),
) -> list[str]:
    """A line for each class (mask value) in fewer than ``RARE_IMAGES`` of the measured
    images, saying in how many training and validation images it is (``val``: the
    validation pairs' ``mask_page``); ``total``: the data set's pairs, when the fingerprint
    measured only some of them; ``skip``: values another note speaks of (in no validation
    image). A class in validation images only, however many, is said to be one the net
    cannot learn (it is an output all the same, and counts 0 in the val mIoU wherever it is
    predicted). Not for instance masks (an id is in one image by nature)."""
    if fp.instances:
        return []
    found: dict[int, list[bool]] = {}
    for p in fp.pairs:
        for value in p.values:
            found.setdefault(value, []).append(p.name in val)
    measured = len(fp.pairs)
    of = f" of the {measured} measured (of {total})" if total > measured else ""
    training = any(p.name not in val for p in fp.pairs)
    lines = []
    for value, in_val in sorted(found.items()):
        n, held = len(in_val), sum(in_val)
        unlearnt = training and held == n  # in validation images only
        if (n >= min(RARE_IMAGES, measured) and not unlearnt) or value in skip:
            continue
        name = f" ({names[value]})" if names and value in names else ""
        lines.append(
            f"mask value {value}{name} is in {n} image{'s' if n > 1 else ''}{of}: "
            f"{n - held} for training, {held} for validation; "
            + (
                "in no training image: the net cannot learn it; move an image holding it to "
                "the training images (a random split: another data.seed)"
                if unlearnt
                else "more examples of it would help"
            )
        )
    return lines


SEEDS_TRIED = 20  # data.seed values after the user's tried for a split that validates every class


def unvalidated_classes(
    fp: Fingerprint,
    val: set[str],
    *,
    names: dict[int, str] | None = None,
    seed_for: Callable[[set[int]], int | None] | None = None,
) -> list[str]:
    """One line naming the classes (mask values) found in no validation image (``val``: the
    validation pairs' ``mask_page``) and what that means for ``best.pt``, with a
    ``data.seed`` that puts them in (``seed_for(values)``: one, or None). An audit's split
    of 4 images held out one without the rare class: its val IoU was 0 at every validation,
    val mIoU capped at 2/3, and best.pt chosen for never predicting it. None for instance
    masks or without measured validation images."""
    missing = unvalidated_values(fp, val)
    if not missing:
        return []
    held = [p for p in fp.pairs if p.name in val]
    shown = ", ".join(f"{v} ({names[v]})" if names and v in names else str(v) for v in missing)
    pixels = sum(sum(p.counts) for p in held)
    few = "; one image: a noisy score" if len(held) == 1 else ""
    seed = seed_for(set(missing)) if seed_for else None
    fix = (
        f"data.seed={seed} puts {'it' if len(missing) == 1 else 'them'} in validation"
        if seed is not None
        else "put an image with it among the validation images or raise data.val_fraction"
    )
    return [
        f"mask value{'s' if len(missing) > 1 else ''} {shown} in no validation image "
        f"({len(held)} image{'s' if len(held) > 1 else ''}, {pixels:,} labelled px{few}): "
        "its val IoU is 0 once the net predicts it, so best.pt is chosen by the other "
        f"classes and favours a net that never predicts it; {fix}"
    ]


def unvalidated_values(fp: Fingerprint, val: set[str]) -> list[int]:
    """The mask values found in none of the measured validation pairs (``val``: their
    ``mask_page``); [] for instance masks or without measured validation pairs."""
    held = [p for p in fp.pairs if p.name in val]
    if fp.instances or not held:
        return []
    return sorted({v for p in fp.pairs for v in p.values} - {v for p in held for v in p.values})


def _seed_holding(d, fp: Fingerprint, values: set[int]) -> int | None:
    """The first ``data.seed`` after ``d.seed`` whose random split validates on an image of
    each of ``values``, or None (no such seed in ``SEEDS_TRIED``, or a fixed split)."""
    from unetlab.data.datasets import split_pairs

    found = {p.name: set(p.values) for p in fp.pairs}
    for seed in range(d.seed + 1, d.seed + 1 + SEEDS_TRIED):
        split = dict(val_fraction=d.val_fraction, seed=seed, problems=[], quiet=True)
        _, val = split_pairs(d.root, **split)
        if values <= set().union(*(found.get(p.mask_page, set()) for p in val)):
            return seed
    return None


def _unlabelled_value(d, train_pairs) -> int | None:
    """The mask value training will count nowhere: ``data.ignore_value``, or the void
    outlines of palette masks (VOC's 255) whose classes training finds itself."""
    if d.ignore_value is not None or d.label_values is not None or not train_pairs:
        return d.ignore_value
    from unetlab.data.classes import VOC_VOID, dataset_palette

    return VOC_VOID if dataset_palette([p.mask for p in train_pairs]) is not None else None


def plan_training(
    cfg: Config, explicit: set[str] | None = None, *, device: str = "cpu"
) -> tuple[Config, Plan]:
    """Measure the data of ``cfg.data.root`` (training and validation pairs), check it
    (:func:`check_data`) and return ``cfg`` with the plan applied, and the plan. The keys in
    ``explicit`` keep the user's values; None (a notebook): those that ``load_config``'s file
    and overrides set (``cfg.user_keys``, also where they equal the defaults) and those that
    differ from the defaults (set as attributes: :func:`unetlab.config.changed_keys`). Give
    the plan to ``fit(..., plan=plan)`` for its reasons in ``train.log`` and ``plan.yaml``."""
    if explicit is None:
        explicit = set(cfg.user_keys) | changed_keys(cfg)
    from unetlab.data.datasets import split_pairs
    from unetlab.data.fingerprint import fingerprint

    if cfg.data.root is None:
        raise UnetlabError("no data folder: give --data DIR (or data.root in the config)")
    d = cfg.data
    problems: list[str] = []  # every problem of the data set, raised together by check_data
    split = dict(val_fraction=d.val_fraction, seed=d.seed, problems=problems, quiet=True)
    train, val = split_pairs(d.root, **split)  # training says which split it uses
    target = "semantic" if d.label_values is not None else d.target  # as training reads them
    ignored = _unlabelled_value(d, train)
    fp = fingerprint(
        train + val, problems=problems, target=target, ignore_value=ignored, channel=d.channel
    )
    check_data(fp, cfg, explicit, problems=problems)
    sources = {k: cfg.config_file for k in cfg.file_keys & explicit}
    plan = make_plan(
        fp, cfg, explicit=explicit, device=device, val_images=len(val), sources=sources
    )
    names = declared_names(cfg)
    held_out = {p.mask_page for p in val}
    seed_for = lambda values: _seed_holding(d, fp, values)  # noqa: E731
    plan.notes += unvalidated_classes(fp, held_out, names=names, seed_for=seed_for)
    skip = unvalidated_values(fp, held_out)  # said there
    plan.notes += rare_classes(fp, held_out, names=names, total=len(train) + len(val), skip=skip)
    if ignored is None and "data.label_values" not in explicit:
        plan.notes += [line] if (line := unlabelled_fill(fp.pairs, declared=names)) else []
    plan.notes += void_note(fp, cfg, train + val)
    planned = plan.apply(cfg)
    planned.user_keys = frozenset(explicit)  # planned again, they stay the user's
    return planned, plan
