"""Training configuration: nested plain dataclasses, loaded from YAML plus ``key=value`` overrides.

Precedence: overrides (``--set train.epochs=5``) > YAML file > the defaults below. Unknown keys
are errors that name the known ones, and every value is type-checked, so a typo never silently
falls back to a default. ``Config.to_dict()`` / ``save_config`` / ``load_config`` round-trip
exactly; the resolved config is written to every run folder and into every checkpoint.

Example::

    cfg = load_config("small_cpu", ["train.epochs=5", "data.root=data/isbi"])
    cfg.train.lr, cfg.model.preset   # 0.003, 'small'
"""

from __future__ import annotations

import difflib
import math
import os
import re
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass, make_dataclass
from pathlib import Path

import yaml

from unetlab.atomic import atomic_path
from unetlab.config_resume import (  # noqa: F401 (the resume rules: re-exported)
    RESUMABLE,
    check_resumed,
    config_changes,
    describe_changes,
    resumed_config,
)
from unetlab.errors import UnetlabError, first_line
from unetlab.losses import FOCAL_GAMMA, LOSSES

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "poly", "plateau", "none")
AMP_MODES = ("auto", "native", "bf16", "fp16", "off")
CLASS_WEIGHTS = ("auto", "median_frequency", "sqrt_median_frequency", "none")


def option(default, help: str):
    """A config key's field: its default and its one-line ``help`` (``unetlab config`` and
    docs/config.md list them)."""
    return field(default=default, metadata={"help": help})


@dataclass
class ModelSection:
    """A preset (``paper``, ``small``, ``small-valid``) and overrides of its UNet options.

    ``None`` keeps the preset's value; ``num_classes``/``in_channels`` left ``None`` come from
    the data (number of label values; image channels). ``norm: none`` removes normalisation.
    ``encoder: vgg16 | resnet50`` builds a U-Net decoder over that backbone instead (the
    preset's options then do not apply; ``upsample`` does), ``encoder_weights`` the local
    torchvision ImageNet file to start it from (``vgg16-397923af.pth``, never downloaded).
    """

    preset: str = option(
        "small",
        "architecture preset: paper (the paper's net), small or small-valid (CPU-sized); "
        "unetlab config lists what each sets",
    )
    encoder: str = option(
        "none",
        "none (a plain U-Net from the preset), vgg16 or resnet50: a U-Net decoder over that "
        "torchvision backbone",
    )
    encoder_weights: str | None = option(
        None,
        "a local torchvision ImageNet weights file for the encoder (never downloaded); null: "
        "random start",
    )
    in_channels: int | None = option(None, "input channels; null: the images' channel count")
    num_classes: int | None = option(
        None, "output classes; null: the number of label values (1: a sigmoid net for two values)"
    )
    depth: int | None = option(None, "levels of the U (pooling steps + 1); null: the preset's")
    base_channels: int | None = option(
        None, "channels of the first level, doubled at each level down; null: the preset's"
    )
    padding: str | None = option(
        None,
        "valid (the paper's: outputs smaller than inputs, overlap-tile exact) or same; null: the "
        "preset's",
    )
    norm: str | None = option(
        None, "batch, group or none (no normalisation layers); null: the preset's"
    )
    upsample: str | None = option(
        None, "transpose (learned up-convolution, the paper's) or bilinear; null: transpose"
    )
    fusion: str | None = option(
        None, "how a skip joins the decoder: concat (the paper's) or add; null: concat"
    )
    dropout: float | None = option(
        None, "dropout rate at the end of the contracting path, in [0, 1); null: the preset's"
    )

    def __post_init__(self):
        from unetlab.models import PRESETS

        if self.preset not in PRESETS:
            raise UnetlabError(
                f"model.preset {self.preset!r} is unknown: choose one of {', '.join(PRESETS)}"
            )
        if self.norm not in (None, "none", "batch", "group"):
            raise UnetlabError(f"model.norm must be none, batch or group, not {self.norm!r}")
        _check_model_ranges(self)
        _check_encoder(self)

    def overrides(self) -> dict:
        """UNet keyword overrides of the preset (``norm: none`` -> ``norm=None``)."""
        skip = ("preset", "encoder", "encoder_weights")
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        out = {k: v for k, v in out.items() if v is not None}
        if out.get("norm") == "none":
            out["norm"] = None
        return out


def _check_model_ranges(model: ModelSection) -> None:
    """The UNet options' ranges and choices (as ``UNetConfig`` checks them), refused here
    naming the ``model.`` key, before any data is read."""
    from unetlab.models.architecture import CHOICES, MAX_CHANNELS, MAX_DEPTH

    for name, top in (
        ("in_channels", MAX_CHANNELS),
        ("num_classes", MAX_CHANNELS),
        ("depth", MAX_DEPTH),
        ("base_channels", MAX_CHANNELS),
    ):
        _check_range(f"model.{name}", getattr(model, name), 1, top, optional=True)
    if model.dropout is not None:
        _check_range("model.dropout", model.dropout, 0.0, 1.0, high_open=True)
    for name in ("padding", "upsample", "fusion"):
        value, allowed = getattr(model, name), CHOICES[name]
        if value is not None and value not in allowed:
            raise UnetlabError(f"model.{name} must be {' or '.join(allowed)}, not {value!r}")


def _check_range(
    key: str,
    value,
    low,
    high=math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
) -> None:
    """``value`` of config key ``key`` in [low, high] (open at an end with ``low_open`` /
    ``high_open``; an infinite ``high`` is open), else one line naming the key, the value and
    the valid range; ``optional``: None passes. NaN is never in range."""
    if value is None and optional:
        return
    high_open = high_open or high == math.inf
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if above and below:
        return
    if high == math.inf:
        valid = f"{'>' if low_open else '>='} {low:g}"
    else:
        valid = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    raise UnetlabError(f"{key} must be {valid}, not {value}")


def _check_encoder(model: ModelSection) -> None:
    from unetlab.models import ENCODERS

    if model.encoder not in ("none", *ENCODERS):
        raise UnetlabError(
            f"model.encoder {model.encoder!r} is unknown: choose one of none, {', '.join(ENCODERS)}"
        )
    if model.encoder == "none":
        if model.encoder_weights is not None:
            raise UnetlabError("model.encoder_weights needs model.encoder: vgg16 or resnet50")
        return
    plain = ("depth", "base_channels", "padding", "norm", "fusion", "dropout")
    if given := [name for name in plain if getattr(model, name) is not None]:
        raise UnetlabError(
            f"model.{given[0]} does not apply to an encoder net (model.encoder: "
            f"{model.encoder}); drop it (in_channels, num_classes and upsample do apply)"
        )


@dataclass
class DataSection:
    """Where the data is and how it becomes training tiles.

    ``label_values`` are the mask values of the classes in index order (``None``: the sorted
    values found in the masks); ``class_names`` maps a mask value to a name (``{0: membrane,
    255: cell}``). Mask pixels equal to ``ignore_value`` count in no loss or metric.
    ``tile_size`` is the net's *input* tile; the loss sees the output (``tile_size - 2 *
    border`` for valid nets). ``weight_map`` turns on the paper's border weights (w0, sigma).
    ``target``: ``semantic`` (mask values are classes), ``instances`` (mask values are object
    ids; the net learns background / boundary / interior, the boundary ``boundary_width`` px
    wide) or ``auto`` (instances when no ``label_values`` are set and the masks look like
    ids: see ``unetlab.data.fingerprint.instance_masks``).
    ``normalization`` left null is per-image standardisation, or ImageNet's statistics
    (``{mode: imagenet}``) for a net started from ImageNet weights.
    ``channel``: train on this one channel (0-based) of multi-channel images (the nuclear
    stain of fluorescence files), null for all; measured, trained and recorded in the
    checkpoint, so ``unetlab predict`` reads the same channel (one channel, as ``--channel``
    picks one: a net of several channels takes all of an image's).
    """

    root: str | None = option(
        None,
        "the data folder (images/ + masks/, train/ + val/, an ISBI pair or PASCAL VOC); --data "
        "sets it",
    )
    val_fraction: float = option(
        0.2,
        "share of the images held out for validation, in [0, 1) (ignored when the folder has "
        "train/ and val/)",
    )
    seed: int = option(
        0, "seed of the train/validation split of the folder (train.seed seeds the rest)"
    )
    label_values: list[int] | None = option(
        None,
        "the mask values of the classes in index order; null: the sorted values found in the masks",
    )
    class_names: dict[int, str] | None = option(
        None,
        "a name for each mask value, e.g. {0: membrane, 255: cell}; null: class_names.txt beside "
        "the data, else the values",
    )
    ignore_value: int | None = option(
        None, "a mask value that counts in no loss or metric (unlabelled pixels); null: none"
    )
    normalization: dict | None = option(
        None,
        "input normalisation: {mode: per_image | fixed (+ mean, std) | scale | imagenet | "
        "percentile (+ low, high)}; null: per_image (imagenet for ImageNet weights); per_image "
        "and percentile also take floor, the least std or percentile range (training sets it to "
        "half its images' least, so an empty field is not stretched into objects)",
    )
    tile_size: int = option(
        256,
        "side of the training tiles fed to the net, px (its input; valid nets output tile_size - "
        "2 x border)",
    )
    tiles_per_epoch: int = option(
        64, "tiles drawn from the training images per epoch (an epoch's steps: this / batch size)"
    )
    weight_map: bool = option(
        False,
        "weight the loss with the paper's border weights (w0, sigma), which stress thin gaps "
        "between touching objects",
    )
    w0: float = option(10.0, "the border weight's height (the paper: 10)")
    sigma: float = option(5.0, "the border weight's width, px (the paper: 5)")
    target: str = option(
        "auto",
        "semantic (mask values are classes), instances (values are object ids: learn background /"
        " boundary / interior) or auto (decided from the masks)",
    )
    boundary_width: int = option(
        1, "width in px of the boundary class drawn around each object (data.target instances)"
    )
    channel: int | None = option(
        None, "train on this one channel (0-based) of multi-channel images; null: all channels"
    )

    def __post_init__(self):
        from unetlab.data.instances import TARGETS

        if self.target not in TARGETS:
            raise UnetlabError(
                f"data.target must be one of {', '.join(TARGETS)}, not {self.target!r}"
            )
        if self.boundary_width < 0:
            raise UnetlabError(f"data.boundary_width must be >= 0, not {self.boundary_width}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise UnetlabError(f"data.val_fraction must be in [0, 1), not {self.val_fraction}")
        if self.tile_size < 1 or self.tiles_per_epoch < 1:
            raise UnetlabError("data.tile_size and data.tiles_per_epoch must be positive")
        if self.seed < 0:
            raise UnetlabError(f"data.seed must be >= 0, not {self.seed}")
        _check_range("data.w0", self.w0, 0.0)
        _check_range("data.sigma", self.sigma, 0.0, low_open=True)
        if self.channel is not None and (isinstance(self.channel, bool) or self.channel < 0):
            raise UnetlabError(
                f"data.channel must be a channel index >= 0 (or null for all), not {self.channel}"
            )
        if self.label_values is not None and len(set(self.label_values)) != len(self.label_values):
            raise UnetlabError(f"data.label_values has duplicates: {self.label_values}")
        from unetlab.data.normalize import check_keys

        if self.normalization is not None:
            check_keys(self.normalization)


def _augment_section() -> type:
    """``AugmentSection``: an ``enabled`` switch, then every field of
    :class:`unetlab.data.transforms.Augment` with its type and default, so the config can
    never drift from the augmentation it configures."""
    from unetlab.data.transforms import Augment

    hints = typing.get_type_hints(Augment)
    specs = [
        (
            "enabled",
            bool,
            option(True, "augment the training tiles at all (off: the other keys are unused)"),
        )
    ]
    specs += [
        (f.name, hints[f.name], field(default=f.default, metadata=f.metadata))
        for f in fields(Augment)
    ]

    def options(self) -> dict:
        """Keyword arguments for ``Augment`` (everything but ``enabled``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "enabled"}

    def __post_init__(self):
        Augment(**self.options())  # the same checks as the augmentation's own

    return make_dataclass(
        "AugmentSection",
        specs,
        namespace={
            "options": options,
            "__post_init__": __post_init__,
            "__doc__": "Paired augmentation of the training tiles: ``enabled`` and the "
            "options of ``unetlab.data.transforms.Augment`` (the paper, SPEC §4: elastic "
            "deformation, shifts, rotations, flips, grey value variation).",
            "__module__": __name__,
        },
    )


AugmentSection = _augment_section()


@dataclass
class TrainSection:
    """Optimisation. ``schedule`` is stepped per iteration (cosine, poly) or per validation
    (plateau, on val mIoU). ``amp``/``channels_last`` ``auto`` means on for CUDA, off for CPU;
    ``amp: native`` is bf16 wherever the device runs it natively (CPUs with AMX or AVX512-BF16,
    bf16 GPUs: 2-3x faster training on an AMX CPU, bench/README.md) and
    fp32 elsewhere.
    ``loss``: one of ``LOSSES``: ``ce``, ``dice``, ``ce+dice``, ``focal``,
    ``focal+dice`` (the cross entropy of each pixel times (1 - p)^``focal_gamma``) and
    ``lovasz``, ``ce+lovasz`` (Lovász-softmax, a surrogate of 1 - IoU).
    ``patience``: stop after this many validations without a better val mIoU (0: never).
    ``class_weights``: cross-entropy weight of each class: ``median_frequency`` (median class
    frequency / the class's, from the training masks), ``sqrt_median_frequency`` (its square
    root), ``none``, a list (one per class), or ``auto``: the square root of median frequency
    when the classes are very unequal (see ``unetlab.losses.AUTO_IMBALANCE``), no weight
    map is used and the target is semantic, else none (an instance target's boundary class is
    each object's own rim: weighting it widened every nucleus by about a pixel).
    ``freeze_encoder_epochs``: train only the decoder of an encoder net for this many epochs.
    ``max_minutes``: a time budget (0: none). The cosine/poly schedule then runs on the clock
    (progress = time spent / budget, or steps done / all epochs' steps if further), so the
    run ends annealed when the time is up, validations are spaced to take at most a tenth of
    it, and ``epochs`` is only an upper bound. ``best_smoothing``: best.pt goes to the best
    exponential average of the val mIoU (``s = best_smoothing * s + (1 - best_smoothing) *
    miou``); 0 picks the single best validation.
    ``label_offset``: where the labels sit relative to what the net finds in the images
    (:mod:`unetlab.inference.offset`): ``none``; ``fit``: measured on the validation images
    after training (quarter pixels within one) and kept when it raises their mIoU, then
    every prediction of the checkpoints is moved by it; or ``[dy, dx]`` px."""

    epochs: int = option(
        50, "epochs to train (an upper bound under a time budget, train.max_minutes)"
    )
    batch_size: int = option(4, "tiles per optimisation step (per process)")
    optimizer: str = option("adamw", "adamw or sgd (with train.momentum)")
    lr: float = option(1e-3, "learning rate at the start of the schedule")
    momentum: float = option(0.99, "SGD's momentum, in [0, 1) (the paper: 0.99); unused by adamw")
    weight_decay: float = option(1e-4, "weight decay (decoupled for adamw, L2 for sgd)")
    schedule: str = option(
        "cosine",
        "learning-rate schedule: cosine or poly (per step, to 0 at the end), plateau (halved "
        "after 5 validations without a better val mIoU) or none",
    )
    grad_clip: float = option(1.0, "clip the gradient norm to this, >= 0 (0: off, no clipping)")
    loss: str = option(
        "ce",
        "ce, dice, ce+dice, focal, focal+dice, lovasz or ce+lovasz (the + forms add the two with "
        "equal weight)",
    )
    focal_gamma: float = option(
        FOCAL_GAMMA, "the focal loss's exponent: each pixel's cross entropy times (1 - p)^gamma"
    )
    amp: str = option(
        "auto",
        "mixed precision: auto (bf16/fp16 on CUDA, off on CPU), native (bf16 where the device "
        "runs it natively, else fp32), bf16, fp16 or off (fp32)",
    )
    channels_last: bool | None = option(
        None, "channels-last memory layout; null: on for CUDA, off for CPU"
    )
    device: str = option("auto", "auto (CUDA if present, else CPU), cpu, cuda or cuda:N")
    seed: int = option(
        0,
        "seed of the weights' initialisation, the tiles drawn and their augmentation (data.seed: "
        "the split)",
    )
    patience: int = option(
        0, "stop after this many validations without a better val mIoU (0: never)"
    )
    val_every: int = option(1, "validate every this many epochs (the last epoch always validates)")
    num_workers: int = option(
        0, "DataLoader worker processes drawing tiles (0: in the training process)"
    )
    max_minutes: float = option(
        0.0,
        "time budget in minutes (0: none); the schedule then runs on the clock, so the run is not"
        " repeatable to its weights",
    )
    class_weights: str | list[float] = option(
        "auto",
        "cross-entropy class weights: auto (square root of median frequency when classes are "
        "10x unequal, semantic targets only), median_frequency, sqrt_median_frequency, none, or "
        "a list (one per class)",
    )
    freeze_encoder_epochs: int = option(
        0, "train only the decoder of an encoder net for this many epochs"
    )
    best_smoothing: float = option(
        0.5,
        "best.pt goes to the best exponential average of val mIoU with this factor, in [0, 1) (0:"
        " the single best validation)",
    )
    label_offset: str | list[float] = option(
        "none",
        "where the labels sit relative to the images: none, fit (measured after training) or [dy,"
        " dx] px",
    )

    def __post_init__(self):
        for name, choices in (
            ("optimizer", OPTIMIZERS),
            ("schedule", SCHEDULES),
            ("loss", LOSSES),
            ("amp", AMP_MODES),
        ):
            if getattr(self, name) not in choices:
                raise UnetlabError(
                    f"train.{name} {getattr(self, name)!r} is unknown: choose one of {', '.join(choices)}"
                )
        for name in ("epochs", "batch_size", "val_every"):
            if getattr(self, name) < 1:
                raise UnetlabError(f"train.{name} must be at least 1, not {getattr(self, name)}")
        if not 0 < self.lr < math.inf:
            raise UnetlabError(f"train.lr must be positive (and finite), not {self.lr}")
        _check_range("train.momentum", self.momentum, 0.0, 1.0, high_open=True)
        _check_range("train.weight_decay", self.weight_decay, 0.0)
        _check_range("train.grad_clip", self.grad_clip, 0.0)
        _check_range("train.patience", self.patience, 0)
        _check_range("train.num_workers", self.num_workers, 0)
        if not self.focal_gamma >= 0:
            raise UnetlabError(f"train.focal_gamma must be >= 0, not {self.focal_gamma}")
        if isinstance(self.class_weights, str) and self.class_weights not in CLASS_WEIGHTS:
            raise UnetlabError(
                f"train.class_weights {self.class_weights!r} is unknown: choose one of "
                f"{', '.join(CLASS_WEIGHTS)} or give a list of one weight per class"
            )
        if isinstance(self.class_weights, list) and not all(w >= 0 for w in self.class_weights):
            raise UnetlabError(f"train.class_weights must be >= 0, not {self.class_weights}")
        if self.freeze_encoder_epochs < 0:
            raise UnetlabError(
                f"train.freeze_encoder_epochs must be >= 0, not {self.freeze_encoder_epochs}"
            )
        if self.seed < 0:
            raise UnetlabError(f"train.seed must be >= 0, not {self.seed}")
        if not 0 <= self.max_minutes < math.inf:
            raise UnetlabError(
                f"train.max_minutes must be >= 0 (0: no time limit), not {self.max_minutes}"
            )
        if not 0.0 <= self.best_smoothing < 1.0:
            raise UnetlabError(f"train.best_smoothing must be in [0, 1), not {self.best_smoothing}")
        self._check_label_offset()

    def _check_label_offset(self) -> None:
        offset = self.label_offset
        if isinstance(offset, str) and offset in ("none", "fit"):
            return
        fix = "use none, fit, or [dy, dx] with each within one pixel (e.g. [-0.5, 0])"
        if isinstance(offset, str) or len(offset) != 2:
            raise UnetlabError(f"train.label_offset {offset!r} is unknown: {fix}")
        if not all(isinstance(v, (int, float)) and abs(v) <= 1 for v in offset):
            raise UnetlabError(f"train.label_offset {offset!r} is out of range: {fix}")


@dataclass
class RunSection:
    """The run folder is ``dir/name`` unless given on the command line (``--run-dir``)."""

    name: str = option("unet", "the run folder's name under run.dir (--run-dir overrides both)")
    dir: str = option("runs", "the folder that holds run folders")


@dataclass
class Config:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    train: TrainSection = field(default_factory=TrainSection)
    run: RunSection = field(default_factory=RunSection)

    #: the ``section.key`` names that :func:`load_config`'s file and overrides set (not a
    #: field: neither saved nor compared): :func:`unetlab.plan.plan_training` keeps their values
    user_keys = frozenset()
    #: those of them that the config file set (not an override), and that file's name as
    #: the user knows it (``configs/nuclei.yaml`` for a shipped one): the plan names it
    file_keys = frozenset()
    config_file = None

    def to_dict(self) -> dict:
        """Plain nested dict (YAML-safe); ``Config.from_dict(cfg.to_dict()) == cfg``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """Build from a nested dict; unknown sections/keys and wrong types raise ValueError."""
        return _build(cls, data or {}, "")

    def checked(self) -> Config:
        """This config checked again, as :meth:`from_dict` checks a file's (a notebook may
        have set attributes: ``cfg.train.lr = -1``), paths and numpy numbers made plain."""
        return Config.from_dict(_plain(self.to_dict()))


def _plain(value):
    """Paths as strings, numpy scalars as Python numbers, tuples as lists, nested."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value


def _build(cls, data: dict, prefix: str):
    if not isinstance(data, dict):
        raise UnetlabError(f"config {prefix.rstrip('.') or 'file'} must be a mapping, not {data!r}")
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    if unknown := [k for k in data if k not in known]:
        raise UnetlabError(unknown_key_message(unknown[0], list(known), prefix))
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if is_dataclass(hint):
            kwargs[name] = _build(hint, value if value is not None else {}, f"{prefix}{name}.")
        else:
            kwargs[name] = _check_type(value, hint, f"{prefix}{name}")
    return cls(**kwargs)


def unknown_key_message(key, known: list[str], prefix: str = "") -> str:
    """``unknown config key train.epoch: did you mean train.epochs? known keys in train are
    ...``: the closest known name (``difflib``), when one is close."""
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean {prefix}{close[0]}? " if close else ""
    where = f" in {prefix.rstrip('.')}" if prefix else ""
    return f"unknown config key {prefix}{key!s}: {hint}known keys{where} are {', '.join(known)}"


def _check_type(value, hint, key: str):
    """``value`` converted to ``hint`` where that is lossless, else ValueError naming ``key``."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        ok, converted = _convert(value, option)
        if ok:
            return converted
    names = " or ".join(getattr(o, "__name__", str(o)).replace("NoneType", "null") for o in options)
    raise UnetlabError(f"config key {key} must be {names}, not {value!r}")


def _convert(value, hint) -> tuple[bool, object]:
    origin = typing.get_origin(hint)
    if hint is type(None):
        return value is None, None
    if hint is bool:
        if isinstance(value, str) and value.lower() in _WORDS:
            return True, _WORDS[value.lower()]
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        if isinstance(value, bool):
            return False, None
        if isinstance(value, (int, float)):
            return True, float(value)
        if not isinstance(value, str):
            return False, None
        try:  # YAML 1.1 reads 1e-3 (no dot) as a string
            return True, float(value)
        except ValueError:
            return False, None
    if hint is str:
        return isinstance(value, str), value
    if origin is list and isinstance(value, (list, tuple)):
        (item,) = typing.get_args(hint)
        converted = [_convert(v, item) for v in value]
        return all(ok for ok, _ in converted), [v for _, v in converted]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return False, None
        args = typing.get_args(hint)
        if not args:
            return True, dict(value)
        keys = [_convert(k, args[0]) for k in value]
        vals = [_convert(v, args[1]) for v in value.values()]
        ok = all(k for k, _ in keys) and all(v for v, _ in vals)
        return ok, {k: v for (_, k), (_, v) in zip(keys, vals)}
    return False, None


class _Loader(yaml.SafeLoader):
    """YAML with the 1.2 booleans only: ``true``/``false`` are booleans, while ``off``, ``on``,
    ``yes`` and ``no`` stay words (``train.amp: off`` is the string "off", not False). A bool
    key still takes those words (:func:`_convert`)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_WORDS = {"yes": True, "on": True, "no": False, "off": False}


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping that names a key twice (YAML would keep the last without a word)."""

    def __init__(self, key, first, second):
        where = f"on line {first + 1}" if first == second else f"lines {first + 1} and {second + 1}"
        super().__init__(f"key {key!r} appears twice in one mapping ({where}): keep one")


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            if key in seen:
                raise DuplicateKeyError(key, seen[key], key_node.start_mark.line)
        except TypeError:  # an unhashable key: SafeLoader's own error says so
            break
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: _construct_mapping(loader, node),
)


def _yaml(text: str):
    return yaml.load(text, Loader=_Loader)


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Set ``section.key=value`` strings into a nested dict (values parsed as YAML)."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) < 2 or not all(parts):
            raise UnetlabError(
                f"override {item!r} must look like section.key=value (e.g. train.epochs=5)"
            )
        try:
            value = _yaml(text) if text.strip() else None
        except yaml.YAMLError as exc:
            reason = first_line(exc)
            raise UnetlabError(
                f"override {item!r}: the value is not valid YAML ({reason})"
            ) from exc
        node = data.setdefault(parts[0], {})
        if not isinstance(node, dict):
            raise UnetlabError(f"override {item!r}: config section {parts[0]} is not a mapping")
        for depth, part in enumerate(parts[1:-1], 2):  # into a dict-valued key, e.g.
            inner = node.get(part)  # data.normalization.mode=scale
            if inner is not None and not isinstance(inner, dict):
                raise UnetlabError(
                    f"override {item!r}: {'.'.join(parts[:depth])} holds {inner!r}, not a "
                    f"mapping of keys: set it as {'.'.join(parts[:depth])}=VALUE"
                )
            node[part] = dict(inner or {})
            node = node[part]
        node[parts[-1]] = value
    return data


def load_config(
    path: str | os.PathLike | None = None, overrides: list[str] | None = None
) -> Config:
    """Defaults, updated by the YAML file at ``path``, updated by ``overrides``.

    ``overrides`` are ``"section.key=value"`` strings, e.g. ``["train.epochs=5",
    "data.class_names={0: membrane, 255: cell}"]``; each value is parsed with
    YAML (1.2 booleans: ``off`` is a word). Unknown keys and ill-typed values raise ValueError.
    The keys the file and ``overrides`` set are kept as ``cfg.user_keys``:
    :func:`unetlab.plan.plan_training` plans the others, as ``unetlab train`` does.
    """
    data = _read_config_file(Path(path)) if path is not None else {}
    if path is not None:
        _check_file_keys(Config, data, find_config(path))
    # defaults first, so that dict-valued keys (normalization) can be updated key by key
    defaults = Config().to_dict()
    merged = {
        s: {**defaults[s], **(data.get(s) or {})} if s in defaults else data[s]
        for s in {**defaults, **data}
    }
    overrides = list(overrides or [])
    for hidden in _hidden_overrides(overrides):  # each value is checked, also one set twice
        Config.from_dict(apply_overrides(merged, hidden))
    cfg = Config.from_dict(apply_overrides(merged, overrides))
    cfg.user_keys = frozenset(_named_keys(data, overrides))  # what the plan must not change
    if path is not None:
        cfg.file_keys = frozenset(_named_keys(data, None) - _named_keys({}, overrides))
        cfg.config_file = _config_name(path)
    return cfg


def _config_name(path: str | os.PathLike) -> str:
    """The config file ``path`` names, as a log line shows it: a shipped config as
    ``configs/NAME.yaml``, another file as given."""
    found = find_config(path)
    return f"configs/{found.name}" if found.parent == SHIPPED else str(path)


#: the configs that ship with unetlab (also ``configs/`` in a clone of its repository)
SHIPPED = Path(__file__).parent / "configs"


def shipped_configs() -> list[str]:
    """The names of the shipped configs (``--config NAME``)."""
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def find_config(path: str | os.PathLike) -> Path:
    """``path`` as given when it exists; else the shipped config it names: ``small_cpu``,
    ``small_cpu.yaml`` or ``configs/small_cpu.yaml`` (the README's paths, outside a clone)."""
    path = Path(path)
    if (
        path.exists()
        or len(path.parts) > 2
        or (len(path.parts) == 2 and path.parts[0] != "configs")
    ):
        return path
    shipped = SHIPPED / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    return shipped if shipped.is_file() else path


def _read_config_file(path: Path) -> dict:
    """The mapping of a YAML config file, or one line saying why it is not one."""
    path = find_config(path)
    if path.is_dir():
        raise UnetlabError(
            f"{path} is a folder, not a config file: give --config a YAML file "
            "(e.g. configs/small_cpu.yaml)"
        )
    if not path.is_file():
        raise UnetlabError(
            f"{path}: no such config file (give a YAML file, or one of the shipped configs: "
            f"{', '.join(shipped_configs())})"
        )
    try:
        data = _yaml(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise UnetlabError(
            f"{path}: not a YAML config file (not text: byte {exc.start} is not UTF-8); "
            "give --config a YAML file such as configs/small_cpu.yaml"
        ) from exc
    except OSError as exc:
        raise UnetlabError(f"{path}: cannot read it ({exc.strerror})") from exc
    except DuplicateKeyError as exc:
        raise UnetlabError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UnetlabError(f"{path}: not valid YAML ({first_line(exc)})") from exc
    if not isinstance(data, dict):
        raise UnetlabError(f"{path}: a config file must be a YAML mapping of sections")
    return data


def _check_file_keys(cls, data: dict, path: Path, prefix: str = "") -> None:
    """An unknown section or key of the config file at ``path``, refused naming the file
    (type errors name the key, checked once the overrides are in)."""
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        if key not in known:
            raise UnetlabError(f"{path}: {unknown_key_message(key, list(known), prefix)}")
        if is_dataclass(hints[key]) and not isinstance(value, dict | None):
            raise UnetlabError(
                f"{path}: config section {prefix}{key} must be a mapping of keys, indented "
                f"under {key}: (e.g. {key}: {{KEY: VALUE}}), not {value!r}"
            )
        if is_dataclass(hints[key]) and isinstance(value, dict):
            _check_file_keys(hints[key], value, path, f"{prefix}{key}.")


def _key(override: str) -> str:
    return override.partition("=")[0].strip()


def _hidden_overrides(overrides: list[str]) -> list[list[str]]:
    """For each override that a later one of the same key replaces (``--set train.epochs=abc``
    then ``--epochs 1``), the overrides with it in force instead, so that it is checked too."""
    return [
        overrides[: i + 1] + [o for o in overrides[i + 1 :] if _key(o) != _key(item)]
        for i, item in enumerate(overrides)
        if any(_key(o) == _key(item) for o in overrides[i + 1 :])
    ]


def changed_keys(cfg: Config) -> set[str]:
    """The ``section.key`` names whose values in ``cfg`` differ from the defaults (what a
    notebook chose, where no file or flags say it)."""
    mine, defaults = cfg.to_dict(), Config().to_dict()
    return {
        f"{section}.{key}"
        for section, values in mine.items()
        for key, value in values.items()
        if value != defaults[section][key]
    }


def explicit_keys(
    path: str | os.PathLike | None = None, overrides: list[str] | None = None
) -> set[str]:
    """The ``section.key`` names that the YAML file at ``path`` or ``overrides`` set (what the
    user chose, as opposed to defaults); ``data.normalization.mode=x`` counts as
    ``data.normalization``. Read the same way as :func:`load_config` (call that first: it
    reports bad files and overrides)."""
    data = {} if path is None else _yaml(find_config(path).read_text(encoding="utf-8")) or {}
    return _named_keys(data, overrides)


def _named_keys(data: dict, overrides: list[str] | None) -> set[str]:
    """The ``section.key`` names of a config file's mapping ``data`` and of ``overrides``."""
    keys = {f"{s}.{k}" for s, section in data.items() if isinstance(section, dict) for k in section}
    for item in overrides or []:
        parts = item.partition("=")[0].strip().split(".")
        keys.add(".".join(parts[:2]))
    return keys


def save_config(cfg: Config, path: str | os.PathLike, *, header: str = "") -> Path:
    """Write ``cfg`` as YAML (atomically); ``header`` lines are written as ``#`` comments."""
    text = "".join(f"# {line}\n" for line in header.splitlines())
    text += yaml.safe_dump(cfg.to_dict(), sort_keys=False, default_flow_style=False)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
