"""The refusals of the config's sections: each value's range and choices, checked as a
section is built (its ``__post_init__``), each refused in one line naming the key, the value
and what would do."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from unetlab.config.convert import file_assignment
from unetlab.errors import NONE, Spelled, UnetlabError, set_to, spelled, unknown_choice
from unetlab.losses import LOSSES

if TYPE_CHECKING:
    from unetlab.config.sections import DataSection, ModelSection, TrainSection

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "poly", "plateau", "none")
AMP_MODES = ("auto", "native", "bf16", "fp16", "off")
#: train.dist_timeout_minutes' most (~1,900 years; gloo waits it, seen): Python's timedelta
#: ends at 1.4e12 minutes, and init_process_group's was an OverflowError's traceback past it
MAX_WAIT_MINUTES = 1e9
#: train.dist_timeout_minutes' least: it bounds the processes' start (rendezvous) and every
#: step's all-reduce while the main one validates alone; 1e-9 timed every collective out at
#: once (s44 small 5), and the backends' own are 10 to 30 minutes
MIN_WAIT_MINUTES = 1.0
CLASS_WEIGHTS = ("auto", "median_frequency", "sqrt_median_frequency", "none")


def check_range(
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
        valid = f"{'above' if low_open else 'at least'} {low:g}"
    else:
        valid = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    raise UnetlabError(f"{key} must be {valid}, not {value}")


def check_model(model: ModelSection) -> None:
    """The ``model`` section: a known preset and norm, the UNet options' ranges, the encoder."""
    from unetlab.checkpoint import refuse_empty_path
    from unetlab.models import PRESETS

    if model.preset not in PRESETS:
        raise UnetlabError(unknown_choice("model.preset", model.preset, PRESETS))
    if model.norm not in (None, "none", "batch", "group"):
        raise UnetlabError(f"model.norm must be none, batch or group, not {model.norm!r}")
    _check_model_ranges(model)
    _check_encoder(model)
    refuse_empty_path(model.init_checkpoint, "model.init_checkpoint", ", or null to start afresh")
    if model.init_checkpoint is not None and model.encoder_weights is not None:
        raise UnetlabError(
            "model.init_checkpoint gives the whole net its weights, the encoder's too: drop "
            "model.encoder_weights"
        )


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
        check_range(f"model.{name}", getattr(model, name), 1, top, optional=True)
    if model.dropout is not None:
        check_range("model.dropout", model.dropout, 0.0, 1.0, high_open=True)
    for name in ("padding", "upsample", "fusion"):
        value, allowed = getattr(model, name), CHOICES[name]
        if value is not None and value not in allowed:
            raise UnetlabError(f"model.{name} must be {' or '.join(allowed)}, not {value!r}")


def _check_encoder(model: ModelSection) -> None:
    from unetlab.models import ENCODERS

    if model.encoder not in ("none", *ENCODERS):
        raise UnetlabError(unknown_choice("model.encoder", model.encoder, ("none", *ENCODERS)))
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


def check_data(data: DataSection) -> None:
    """The ``data`` section's values."""
    from unetlab.data.ctc import checked_truth
    from unetlab.data.exclude import check_exclude_rows
    from unetlab.data.grey_masks import check_grey_masks
    from unetlab.data.instances import TARGETS
    from unetlab.data.nodata import check_nodata
    from unetlab.data.normalize import check_keys

    if data.target not in TARGETS:
        raise UnetlabError(unknown_choice("data.target", data.target, TARGETS))
    if data.boundary_width < 0:
        raise UnetlabError(f"data.boundary_width must be at least 0, not {data.boundary_width}")
    if not 0.0 <= data.val_fraction < 1.0:
        raise UnetlabError(f"data.val_fraction must be in [0, 1), not {data.val_fraction}")
    if data.tile_size < 1 or data.tiles_per_epoch < 1:
        raise UnetlabError("data.tile_size and data.tiles_per_epoch must be positive")
    if data.seed < 0:
        raise UnetlabError(f"data.seed must be at least 0, not {data.seed}")
    check_range("data.w0", data.w0, 0.0)
    check_range("data.sigma", data.sigma, 0.0, low_open=True)
    # set as built, not as the user's key (config.guard records an attribute assigned again)
    object.__setattr__(data, "channel", check_channel(data.channel))
    if data.label_values is not None and len(set(data.label_values)) != len(data.label_values):
        raise UnetlabError(f"data.label_values has duplicates: {data.label_values}")
    if data.normalization is not None:
        check_keys(data.normalization)
    if data.axes is not None:
        object.__setattr__(data, "axes", check_data_axes(data.axes))
    check_grey_masks(data.grey_masks)
    checked_truth(data.ctc_truth)
    # refused as the config is built or checked (a notebook's cfg.data.nodata = "bogus"
    # passed Config.checked, s54), as they stay: the config records what was given
    check_nodata(data.nodata)
    check_exclude_rows(data.exclude_rows)


#: the axes of ``data.axes`` given in a config, as a notebook assigns them and as ``--set``
#: gives them (a format: :func:`unetlab.data.io.axes_problem`'s ``axes_as``)
SET_AXES_AS = Spelled("cfg.data.axes = '{}'", "--set data.axes={}")
#: as a config file sets them, to both callers (:func:`check_written_value`)
FILE_AXES_AS = "axes: {} under data:"
#: as ``load_config``'s overrides give them: Python's ``overrides`` argument (a notebook's
#: ``load_config(None, ['data.axes=XYC'])`` was told ``cfg.data.axes = 'XYC'``, an attribute
#: it never set, s58), the command line's ``--set`` (:func:`check_written_value`)
OVERRIDE_AXES_AS = Spelled("overrides=['data.axes={}']", "--set data.axes={}")


def check_data_axes(axes: str, axes_as: Spelled | str = SET_AXES_AS) -> str:
    """``data.axes`` in capitals; UnetlabError naming what no file could take
    (:func:`unetlab.data.io.axes_problem`), the axes written as ``axes_as``."""
    from unetlab.data.io import axes_problem

    if not isinstance(axes, str):
        raise UnetlabError(f"data.axes must be letters such as ZYX, not {axes!r}")
    if axes_problem(axes):  # Python's the key as it assigns it (DataSection(axes='XYC') was
        # told --axes, s56); the command line's as --set gives it, one form (train's --axes
        # is checked before the config is: its line names --axes; this one said "data.axes XYC
        # ... give --axes YXC", s57)
        raise UnetlabError(**spelled(lambda said: axes_problem(axes, said), axes_as))
    return axes.upper()


def check_channel(channel, none: Spelled | str = NONE):
    """``data.channel`` as an index, a name (``DAPI``: the channel each file names so, its
    spaces at the ends left out), a list of two or more distinct indices (a list of one is
    that index), or None; UnetlabError naming what it is instead (a name that is digits or a
    word for none too), none written as ``none``
    (Python's ``None``, the command line's ``null``; an override's ``null``)."""
    if channel is None:
        return None
    if isinstance(channel, str) and (name := _channel_name(channel)):
        return name
    if hasattr(channel, "tolist") and getattr(channel, "ndim", 2) <= 1:  # numpy's, as ints
        channel = channel.tolist()
    many = isinstance(channel, (list, tuple))
    indices = [c.item() if hasattr(c, "item") else c for c in channel] if many else [channel]
    bad = not indices or any(
        isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in indices
    )
    if bad or len(set(indices)) != len(indices):
        said = (
            "data.channel must be a channel index at least 0, a channel's name (e.g. DAPI), a "
            f"list of distinct indices (e.g. [3, 2, 1, 7]) or {{}} for all, not {channel!r}"
        )
        raise UnetlabError(**spelled(said.format, none))
    return indices if len(indices) > 1 else indices[0]


def _channel_name(text: str) -> str | None:
    """``text`` as a channel's name, its spaces at the ends left out; None where it is blank
    or a word for none (s70 review: ``--set data.channel=none`` became a channel named
    'none' that training found in no file), which :func:`check_channel`'s line refuses.
    UnetlabError where it is digits, signed or not, or names several (s70 re-review: a laser
    line's "488" was told to be a name, as it was; "-1" and "DAPI, CD45" became names no
    file has)."""
    word = text.strip()
    if not word or word.casefold() in ("none", "null"):
        return None
    if word.lstrip("+-").isdigit():
        raise UnetlabError(
            f"data.channel {word!r} is digits, read as no channel's name: give the channel's "
            "index as a number instead (e.g. 2, counting from 0); a channel a file names by "
            "digits (a laser line) is taken by its index"
        )
    if "," in word:
        raise UnetlabError(
            f"data.channel {word!r} names several channels, where a name takes one: give one "
            "name (e.g. DAPI), or a list of indices for several (e.g. [3, 2, 1, 7])"
        )
    return word


def choices_of(key: str) -> tuple[str, ...]:
    """The words config key ``key`` (``train.amp``) takes where it is a choice of words,
    ``()`` otherwise: one source for the type error's line and the checks below."""
    from unetlab.data.instances import TARGETS
    from unetlab.models import ENCODERS, PRESETS
    from unetlab.models.architecture import CHOICES

    section, _, name = key.partition(".")
    train = dict(optimizer=OPTIMIZERS, schedule=SCHEDULES, loss=LOSSES, amp=AMP_MODES)
    model = {n: tuple(c or "none" for c in v) for n, v in CHOICES.items()}
    model |= dict(preset=tuple(PRESETS), encoder=("none", *ENCODERS))
    words = {"train": train, "model": model, "data": dict(target=TARGETS)}
    return tuple(words.get(section, {}).get(name, ()))


def check_train(train: TrainSection) -> None:
    """The ``train`` section's values: its choices, then its ranges."""
    for name in ("optimizer", "schedule", "loss", "amp"):
        if getattr(train, name) not in (choices := choices_of(f"train.{name}")):
            raise UnetlabError(unknown_choice(f"train.{name}", getattr(train, name), choices))
    _check_train_ranges(train)
    _check_class_weights(train.class_weights)
    _check_train_limits(train)
    _check_label_offset(train.label_offset)


def _check_train_ranges(train: TrainSection) -> None:
    for name in ("epochs", "batch_size", "val_every"):
        if getattr(train, name) < 1:
            raise UnetlabError(f"train.{name} must be at least 1, not {getattr(train, name)}")
    if not 0 < train.lr < math.inf:
        raise UnetlabError(f"train.lr must be positive (and finite), not {train.lr}")
    check_range("train.momentum", train.momentum, 0.0, 1.0, high_open=True)
    check_range("train.weight_decay", train.weight_decay, 0.0)
    check_range("train.grad_clip", train.grad_clip, 0.0)
    check_range("train.patience", train.patience, 0)
    check_range("train.num_workers", train.num_workers, 0)
    if not train.focal_gamma >= 0:
        raise UnetlabError(f"train.focal_gamma must be at least 0, not {train.focal_gamma}")


def check_max_minutes(minutes, none: str | None = None) -> None:
    """UnetlabError for a ``train.max_minutes`` of no end, saying to give 0 as ``none`` (by
    default as Python assigns it: a notebook has no --minutes; a file's or an override's,
    :func:`check_written_value`)."""
    if minutes == math.inf:
        said = "train.max_minutes must be a finite number of minutes: for no time limit, {}"
        none = none or set_to("train.max_minutes", 0).python
        raise UnetlabError(
            said.format(f"{none} (train.epochs sets the length)"),
            cli=said.format("set 0 (or leave --minutes out) and train.epochs sets the length"),
        )


#: the keys whose checks name them as the user wrote them (:func:`check_written_value`):
#: each key's check, and the fix it says as a config file writes it (``"file"``) and as an
#: override gives it (``"override"``): data.channel's none is YAML's null either way (an
#: override of ``None`` is the word 'None'; a file's was told ``None``, review s58)
WRITTEN_CHECKS = {
    "data.axes": (check_data_axes, dict(file=FILE_AXES_AS, override=OVERRIDE_AXES_AS)),
    "data.channel": (check_channel, dict(file=NONE.cli, override=NONE.cli)),
    "train.max_minutes": (
        check_max_minutes,
        dict(
            file=file_assignment("train.max_minutes", 0),
            override="overrides=['train.max_minutes=0']",
        ),
    ),
}


def check_written_value(key: str, value, form: str) -> None:
    """``value`` of ``key``, of the right type (converted by
    :func:`~unetlab.config.convert.check_type`), checked where its check names the key as the
    user wrote it, ``form`` (:data:`WRITTEN_CHECKS`): a config file's (``"file"``; the file's
    name is the caller's to add) or an override's (``"override"``: ``load_config``'s
    ``overrides``, as YAML read it; the command line's ``--set``). A file's data.axes: XYC
    was told to give --set data.axes=YXC, a flag never typed (review s57); a file's
    train.max_minutes was told ``cfg.train.max_minutes = 0`` (review s58). None is left to
    the section's own check."""
    if value is not None and key in WRITTEN_CHECKS:
        check, said = WRITTEN_CHECKS[key]
        check(value, said[form])


def _check_train_limits(train: TrainSection) -> None:
    if train.freeze_encoder_epochs < 0:
        raise UnetlabError(
            f"train.freeze_encoder_epochs must be at least 0, not {train.freeze_encoder_epochs}"
        )
    if train.seed < 0:
        raise UnetlabError(f"train.seed must be at least 0, not {train.seed}")
    check_max_minutes(train.max_minutes)
    if not MIN_WAIT_MINUTES <= train.dist_timeout_minutes <= MAX_WAIT_MINUTES:  # timedelta's
        raise UnetlabError(
            "train.dist_timeout_minutes must be a finite number of minutes from 1 (less timed "
            "out the processes' start and the main one's validation) to 1e9 (a wait without "
            f"end), not {train.dist_timeout_minutes}"
        )
    if not 0 <= train.max_minutes < math.inf:
        raise UnetlabError(
            f"train.max_minutes must be at least 0 (0: no time limit), not {train.max_minutes}"
        )
    if not 0.0 <= train.best_smoothing < 1.0:
        raise UnetlabError(f"train.best_smoothing must be in [0, 1), not {train.best_smoothing}")


def _check_class_weights(weights: str | list[float]) -> None:
    if isinstance(weights, str) and weights not in CLASS_WEIGHTS:
        more = " or give a list of one weight per class"
        raise UnetlabError(unknown_choice("train.class_weights", weights, CLASS_WEIGHTS, more))
    if isinstance(weights, list) and not all(w >= 0 for w in weights):
        raise UnetlabError(f"train.class_weights must be at least 0, not {weights}")


def _check_label_offset(offset: str | list[float]) -> None:
    if isinstance(offset, str) and offset in ("none", "fit"):
        return
    fix = "use none, fit, or [dy, dx] with each within one pixel (e.g. [-0.5, 0])"
    if isinstance(offset, str) or len(offset) != 2:
        raise UnetlabError(f"train.label_offset {offset!r} is unknown: {fix}")
    if not all(isinstance(v, (int, float)) and abs(v) <= 1 for v in offset):
        raise UnetlabError(f"train.label_offset {offset!r} is out of range: {fix}")
