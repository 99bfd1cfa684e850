"""Argument groups shared by several subcommands."""

from __future__ import annotations

import argparse
import logging
import math
import os
import typing
from collections.abc import Sequence
from dataclasses import fields

from unetlab.errors import UnetlabError, flag_of
from unetlab.models.architecture import CHOICES, ENCODERS, PRESETS, UNetConfig

log = logging.getLogger(__name__)


def minutes_value(text: str) -> float:
    """``--minutes M``: a finite number >= 0, refused by the flag's name (argparse's line),
    not by train.max_minutes, a key the user did not type."""
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a number of minutes, not {text!r}") from None
    if minutes == math.inf:
        raise argparse.ArgumentTypeError("takes a finite number: for no time limit, leave it out")
    if not 0 <= minutes < math.inf:
        raise argparse.ArgumentTypeError(f"must be at least 0 (0: no time limit), not {text}")
    return minutes


def user_path(text: str) -> str:
    """A path argument with its ``~`` expanded (``type=`` of every file and folder flag):
    the shell leaves the ``~`` of ``--run-dir=~/runs/a`` alone, and a command given it as it
    is made a folder named ``~`` in the working one (then ``rm -rf ~`` removes the home)."""
    return os.path.expanduser(text)


def add_set_flag(p, example: str = "train.epochs=5", also: str = "") -> None:
    """``--set KEY=VALUE`` (repeatable, into ``args.overrides``): train's and config
    --write's; ``also`` starts its help (``"with --write: "``)."""
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"{also}set a config key, e.g. {example} (repeatable; value parsed as YAML)",
    )


#: the file name that means standard output (``--json -``, as jq pipelines expect)
STDOUT = "-"
#: Help of the flags that ``add_model_args`` derives from UNetConfig's fields.
_MODEL_HELP = {
    "in_channels": "input channels (1 grey, 3 RGB, ...)",
    "num_classes": "number of output classes",
    "depth": "levels (the paper: 5)",
    "base_channels": "channels of the first level (paper: 64)",
}
#: Flags not named after their field.
_FLAG_NAMES = {"num_classes": "--classes"}
#: --tta of predict and evaluate (unetlab.inference.tta)
TTA_HELP = (
    "average the flips/turns the net trained with: all 8 for a net trained with flips and "
    "quarter turns, identity and left-right flip for one kept upright (augment.vflip and "
    "augment.rot90 off); all 8 for a checkpoint that does not record them; --tta all: the 8 "
    "whatever the net trained with"
)


def _tta_value(text: str) -> str:
    if text != "all":
        raise argparse.ArgumentTypeError(f"takes no value, or 'all' (the 8), not {text!r}")
    return text


def add_tta_arg(group, help_suffix: str = "") -> None:
    """``--tta`` (the net's own flips and turns: True) or ``--tta all`` (the 8)."""
    group.add_argument(
        "--tta",
        nargs="?",
        const=True,
        default=False,
        type=_tta_value,
        metavar="all",
        help=TTA_HELP + help_suffix,
    )


#: ``unetlab.runtime.PRECISIONS`` and ``unetlab.inference.tiling.BLENDS``, which import
#: torch: named here too so that ``--help`` does not wait for it (a test ties them)
PRECISIONS = ("fp32", "bf16")
BLENDS = ("mean", "gaussian")


def add_prediction_args(group, *, tta_help: str = "") -> None:
    """The flags of :class:`~unetlab.inference.predict.PredictOptions` but ``--device``
    (:func:`add_device_arg`): --tile-size, --batch-size, --blend, --tta, --precision,
    --channel; read back by :func:`predict_options`. ``tta_help`` ends --tta's help."""
    group.add_argument(
        "--tile-size",
        type=int,
        help="input tile size in px (default: the largest that fits the memory budget)",
    )
    group.add_argument("--batch-size", type=int, help="tiles per forward pass (default: automatic)")
    group.add_argument(
        "--blend",
        choices=BLENDS,
        default=BLENDS[0],
        help=f"how overlapping tiles of same-padding nets are averaged (default: {BLENDS[0]})",
    )
    add_tta_arg(group, tta_help)
    group.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=PRECISIONS[0],
        help=f"{PRECISIONS[0]}, or bf16 autocast where the GPU or CPU runs it natively "
        f"(default: {PRECISIONS[0]})",
    )
    group.add_argument(
        "--channel",
        nargs="+",
        metavar="C",
        help="predict only channel C (0-based, or a name the file records: ImageJ label, OME "
        "channel name, e.g. DAPI) of multi-channel images, e.g. the nuclear stain "
        "of a fluorescence image for a grey model; or bands C C ... in that order for a "
        "model of as many channels (--channel 3 2 1 7, or 3,2,1,7: RGB + NIR of a 13-band "
        "scene) (default: the channel or the bands the model was trained on, data.channel, "
        "else all channels)",
    )


def channel_arg(text: str) -> int | str:
    """``--channel``: an index (0, 1, ...), or the name of a channel the files record."""
    return int(text) if text.strip().lstrip("-").isdigit() else text.strip()


def channel_args(given: Sequence[str] | None) -> int | str | tuple[int, ...] | None:
    """``--channel``'s words: one channel (:func:`channel_arg`), or a band list of indices
    (``3 2 1 7`` or ``3,2,1,7``: ``data.channel`` a list) as a tuple, which
    :class:`~unetlab.inference.predict.PredictOptions` checks as it checks the config's; a
    list holding a name is refused in one line (the files name one channel at a time)."""
    if given is None:
        return None
    words = [w for text in given for w in text.replace(",", " ").split()]
    if len(words) == 1:
        return channel_arg(words[0])
    if not words or not all(w.isdigit() for w in words):
        raise UnetlabError(
            f"--channel {' '.join(given)}: give one channel (an index or a name the file "
            "records, --channel DAPI) or a list of channel indices (--channel 3 2 1 7), not "
            "names in a list"
        )
    return tuple(int(w) for w in words)


def predict_options(args: argparse.Namespace, device):
    """The flags of :func:`add_prediction_args` and ``device``, as one
    :class:`~unetlab.inference.predict.PredictOptions`."""
    from unetlab.inference.predict import PredictOptions

    return PredictOptions(
        tile_size=args.tile_size,
        batch_size=args.batch_size,
        blend=args.blend,
        tta=args.tta,
        precision=args.precision,
        device=device,
        channel=channel_args(args.channel),
    )


def add_model_args(parser: argparse.ArgumentParser, *, default_preset: str = "paper") -> None:
    """--preset and one flag per UNetConfig field (``--base-channels``, ...), each left unset
    keeping the preset's value; choices and types come from UNetConfig itself."""
    g = parser.add_argument_group("model")
    g.add_argument(
        "--preset",
        default=default_preset,
        choices=sorted(PRESETS),
        help=f"architecture preset (default: {default_preset})",
    )
    hints = typing.get_type_hints(UNetConfig)
    for f in fields(UNetConfig):
        flag = _FLAG_NAMES.get(f.name, flag_of(f.name))
        kind = {"choices": [c or "none" for c in CHOICES[f.name]]} if f.name in CHOICES else {}
        if not kind:
            kind = {"type": hints[f.name]}
        g.add_argument(flag, dest=f.name, help=_MODEL_HELP.get(f.name), **kind)
    g.add_argument(
        "--encoder",
        choices=["none", *ENCODERS],
        default="none",
        help="a U-Net on this ImageNet backbone instead of the preset (default: none)",
    )


def model_flags() -> set[str]:
    """The flags :func:`add_model_args` adds (``--preset``, ``--depth``, ``--encoder``, ...)."""
    named = {_FLAG_NAMES.get(f.name, flag_of(f.name)) for f in fields(UNetConfig)}
    return named | {"--preset", "--encoder"}


def model_from_args(args: argparse.Namespace):
    """The net the model flags describe (a :class:`~unetlab.models.UNet` or an
    :class:`~unetlab.models.EncoderUNet`), its weights on torch's meta device."""
    from unetlab.models import EncoderUNet, UNet

    overrides = {
        f.name: getattr(args, f.name)
        for f in fields(UNetConfig)
        if getattr(args, f.name) is not None
    }
    if overrides.get("norm") == "none":
        overrides["norm"] = None
    # meta device: building the paper net's 31M weights for a table would waste a second
    import torch

    with torch.device("meta"):
        if args.encoder == "none":
            return UNet.from_preset(args.preset, **overrides)
        options = {
            k: overrides.pop(k)
            for k in ("in_channels", "num_classes", "upsample")
            if k in overrides
        }
        if overrides:
            raise UnetlabError(
                f"--{next(iter(overrides)).replace('_', '-')} does not apply "
                f"to an encoder net: drop it"
            )
        return EncoderUNet(args.encoder, **options)


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA if available), cpu, cuda or cuda:N (default: auto)",
    )


def check_pixels(**flags: int | None) -> None:
    """One line for a size flag below 1 px: ``check_pixels(tile_size=args.tile_size)`` names
    ``--tile-size``."""
    for name, value in flags.items():
        check_pixels_said(flag_of(name), value)


def check_pixels_said(said: str, value: int | None) -> None:
    """:func:`check_pixels` for a size named as the user gave it, ``said``: a flag or a
    positional such as ``unetlab sizes N``'s ``N``."""
    if value is not None and value < 1:
        raise UnetlabError(f"{said} must be a positive number of pixels, not {value}")


#: The flags of :func:`add_object_args`, by their ``args`` names.
OBJECT_FLAGS = (
    "min_area",
    "cut_min_area",
    "seed_threshold",
    "distance_split",
    "split_interior",
    "split_necks",
    "fill_holes",
    "min_peak",
)


def add_object_args(group, when: str, *, level: bool = False) -> None:
    """--min-area, --seed-threshold, ...: how probabilities become objects (ObjectOptions),
    each unset keeping the checkpoint's default; ``when`` opens each help (``"with
    --instances"``); ``level``: the command's --level scales --cut-min-area's default."""
    group.add_argument(
        "--min-area",
        type=int,
        metavar="PX",
        help=f"{when}: drop objects smaller than this (default: from the object sizes the "
        "checkpoint records)",
    )
    group.add_argument(
        "--cut-min-area",
        type=int,
        metavar="PX",
        help=f"{when}: keep a piece of an object that the image's edge, nodata or "
        f"--exclude-rows cuts from this size where --min-area is larger (default 64"
        f"{', scaled with --level' * level}; 0 keeps every piece)",
    )
    _add_nuclei_args(group, when)
    group.add_argument(
        "--fill-holes",
        action=argparse.BooleanOptionalAction,
        help=f"{when}: background enclosed by one object joins it, in its area and outline "
        "(a gland's lumen; --no-fill-holes keeps such holes out of the object) (default: on)",
    )


def _add_nuclei_args(group, when: str) -> None:
    """--seed-threshold, --distance-split, --split-interior, --min-peak of
    :func:`add_object_args`: how touching and faint nuclei become objects."""
    group.add_argument(
        "--seed-threshold",
        type=float,
        metavar="P",
        help=f"{when}, for a nuclei (instance) model: interior probability that makes a seed, "
        "one object per seed (default 0.5; higher splits more touching nuclei and breaks up "
        "more large ones)",
    )
    group.add_argument(
        "--distance-split",
        action=argparse.BooleanOptionalAction,
        help=f"{when}: split each object at the maxima of its distance transform, as Fiji's "
        "Binary > Watershed (touching round nuclei the model merged; a maximum counts if it "
        "rises 10%% of the object's radius above the neck) (default: on for a nuclei "
        "(instance) model, off for others)",
    )
    group.add_argument(
        "--split-necks",
        action="store_true",
        default=None,
        help=f"{when}: split each object once more where two round parts meet at a neck of "
        "at most 0.9 x the smaller part's reach (touching nuclei the distance split left "
        "whole; it helps where the count without is too low: check on your own validation "
        "images with evaluate) (default: off)",
    )
    group.add_argument(
        "--split-interior",
        action="store_true",
        default=None,
        help=f"{when}, for a nuclei (instance) model: weigh that distance by the interior "
        "probability, which dips between touching nuclei whose outline has no neck (clusters "
        "of small round nuclei split more often; a nucleus with a dark nucleolus may too) "
        "(default: off)",
    )
    group.add_argument(
        "--min-peak",
        type=float,
        metavar="P",
        help=f"{when}, for a nuclei (instance) model: drop an object whose interior "
        "probability stays under P at every pixel (faint blobs of texture or out-of-focus "
        "nuclei; default 0.85, 0 keeps every object)",
    )


def object_flags_given(args: argparse.Namespace) -> list[str]:
    """The flags of :func:`add_object_args` set on the command line ("--min-area", ...)."""
    return [flag_of(name) for name in OBJECT_FLAGS if getattr(args, name) is not None]


def check_object_args(args: argparse.Namespace, **extra) -> None:
    """One line naming the flag for a value of :func:`add_object_args`' flags (and ``extra``
    object options, e.g. ``watershed_seeds=``) out of range, before any model loads: the
    ranges of :class:`~unetlab.inference.objects.ObjectOptions`."""
    from unetlab.inference.objects import check_object_values

    values = {name: getattr(args, name) for name in OBJECT_FLAGS} | extra
    check_object_values({name: flag_of(name) for name in values}, **values)


def object_options(args: argparse.Namespace, model, **extra):
    """The :class:`~unetlab.inference.objects.ObjectOptions` of ``model`` with the flags of
    :func:`add_object_args` (and ``extra`` options) that are set; --seed-threshold is refused
    for a model without interior seeds (:meth:`ObjectOptions.for_model`)."""
    from unetlab.inference.objects import ObjectOptions

    flags = {name: getattr(args, name) for name in OBJECT_FLAGS}
    names = {name: flag_of(name) for name in (*OBJECT_FLAGS, "watershed_seeds")}
    return ObjectOptions.for_model(model, names=names, **flags, **extra)


def split_hint(options, classes: int) -> list[str]:
    """A line for a semantic model of several object classes (``classes`` with the
    background) that does not split its objects: touching objects of one class are one
    region, one object (audit s35 multiclass 3: 50 touching healthy nuclei counted 34);
    --distance-split parts them at their neck (45 there)."""
    kinds = classes - (options.background is not None)
    if options.mode != "semantic" or kinds < 2 or options.distance_split:
        return []
    if options.watershed_seeds is not None:
        return []
    return [
        "objects: touching objects of one class are one region, counted as one; "
        "--distance-split splits them at their neck (round nuclei)"
    ]


def background_hint(options, record: dict | None) -> list[str]:
    """The line training warned with where the background looked like the objects (the
    checkpoint's ``objects`` ``background_problem``), for a semantic model's objects: SEM
    grain boundaries drawn as 1 made each image's one object the boundary network, said
    by training alone (s67 user trial)."""
    problem = (record or {}).get("background_problem")
    if options.mode != "semantic" or not problem:
        return []
    return [f"objects: training warned that {problem}; retrain so named"]


def objects_line(
    options, recorded: bool, scale=None, names=None, label_values=None, ignore_value=None
) -> str:
    """How objects are found, in one line ("objects: instances mode, ..."); ``recorded``:
    the checkpoint records the object sizes the default min area comes from; ``scale``
    (``--scale``): the default min area in the image's px (:func:`_least_area`); ``names``:
    the model's class names, the background's said (a road model's "background class 0" was
    its road, which then made no objects: audit s46 scenes) unless a background by its name
    among the model's ``label_values`` less its ``ignore_value`` (:func:`model_classes`)."""
    seeds = (
        f", seeds where interior >= {options.seed_threshold}" if options.mode == "instances" else ""
    )
    split = ", split at distance maxima" if options.distance_split else ""
    split += " weighed by the interior" if options.distance_split and options.split_interior else ""
    split += ", split at narrow necks" if options.split_necks else ""
    watershed = (
        "" if options.watershed_seeds is None else f", watershed seeds > {options.watershed_seeds}"
    )
    watershed += "" if options.fill_holes else ", holes kept out of the objects"
    fixed = "" if recorded else " (no object sizes recorded: a fixed default)"
    peak = f", objects peaking under {options.min_peak:g} dropped" if options.min_peak else ""
    background = "" if options.mode == "instances" else f", background class {options.background}"
    background += _background_name(options, names, label_values, ignore_value)
    if options.mode == "semantic" and options.background is None:  # mask value 0 was ignored
        background = ", no background class (every class makes objects)"
    return (
        f"objects: {options.mode} mode{background}{seeds}{split}{watershed}, min area "
        f"{_least_area(options, scale)}{fixed}{peak}"
    )


def model_classes(model) -> dict:
    """The class facts of ``model`` :func:`objects_line` names its background by: its class
    names, label values and ignored mask value (grain / grain boundary / unsure, 2 ignored:
    the boundary the background by its name, no class of its own)."""
    facts = {"names": "classes", "label_values": "label_values", "ignore_value": "ignore_value"}
    return {key: getattr(model, field, None) for key, field in facts.items()}


def _background_name(options, names, label_values=None, ignore_value=None) -> str:
    """`` (road: no objects of it)`` of a semantic model's named background class, else ""."""
    from unetlab.data.weightmap import own_background_name

    if options.mode != "semantic":
        return ""
    name = own_background_name(names, options.background, label_values, ignore_value)
    return "" if name is None else f" ({name}: no objects of it)"


def _least_area(options, scale) -> str:
    """``options``' min area as :func:`objects_line` says it: at a ``scale`` (``--scale``)
    the checkpoint's default in the image's px, divided by the factor squared as
    :func:`~unetlab.inference.objects.defaults_at_scale` divides it (each image's own
    factor for auto); one given, as it is."""
    from unetlab.inference.objects import scaled_least_areas
    from unetlab.inference.rescale import check_scale

    factor = 1 if scale is None else check_scale(scale)
    if factor == 1 or "min_area" not in options.model_areas:
        return f"{options.min_area} px"
    if factor == "auto":
        return f"{options.min_area} px at training scale / each image's --scale auto factor²"
    (area,) = scaled_least_areas((options.min_area,), (factor, factor))
    return f"{area} px ({options.min_area} at training scale / {factor:g}²)"


def class_least_areas(options, scale=None) -> tuple[tuple[int, ...], str]:
    """(``options``' ``class_min_areas`` as the by-class line says them, what to add after
    them): at a ``scale`` (``--scale``) the checkpoint's defaults in the image's px, divided
    by the factor squared as :func:`~unetlab.inference.objects.defaults_at_scale` divides
    them (``"; 60, 20 at training scale / 2²"``; auto: each image's own factor, the values
    at training scale); given ones (none: --min-area gives one for all) as they are."""
    from unetlab.inference.objects import scaled_least_areas
    from unetlab.inference.rescale import check_scale

    areas = options.class_min_areas
    factor = 1 if scale is None else check_scale(scale)
    if factor == 1 or "class_min_areas" not in options.model_areas:
        return areas, ""
    if factor == "auto":
        return areas, "; at training scale / each image's --scale auto factor²"
    trained = ", ".join(map(str, areas))
    return scaled_least_areas(
        areas, (factor, factor)
    ), f"; {trained} at training scale / {factor:g}²"


def say_nanometre_slips(args) -> None:
    """A line for each of ``--pixel-size`` and ``--z-spacing`` given as if in nm
    (:func:`~unetlab.inference.measure.nanometre_slip`)."""
    from unetlab.inference.measure import nanometre_slip

    for flag, value in (("--pixel-size", args.pixel_size), ("--z-spacing", args.z_spacing)):
        if line := nanometre_slip(value, flag):
            log.warning("%s", line)


def given_checkpoint_parts(args) -> dict | None:
    """The parts of ``--checkpoint`` read without its weights
    (:func:`unetlab.checkpoint.checkpoint_parts`), once a command: kept on ``args`` (s59:
    its header read twice before the model loaded; s74: its data.h5_dataset, then what it
    takes); None for no unetlab checkpoint (a bioimage.io package)."""
    from unetlab.checkpoint import checkpoint_parts

    if not hasattr(args, "checkpoint_parts"):
        args.checkpoint_parts = checkpoint_parts(args.checkpoint)
    return args.checkpoint_parts


def warn_unfinished(model) -> None:
    """One warning line where ``model``'s checkpoint is the last.pt of a training run stopped
    before its end (:func:`unetlab.checkpoint.unfinished_line`): export, evaluate and
    predict of it run, and say so."""
    from unetlab.checkpoint import unfinished_line

    if line := unfinished_line(model):
        log.warning("warning: %s", line)


def warn_unread_split(model, command: str) -> None:
    """One warning line where ``model``'s split record cannot be read
    (:func:`unetlab.checkpoint.unread_split_line`): ``command`` (predict, export, summary),
    which does not need it, runs."""
    from unetlab.checkpoint import unread_split_line

    if line := unread_split_line(model):
        said = "warning: %s; %s does not need it and runs (evaluate refuses it)"
        log.warning(said, line, command)


def warn_loaded(model, command: str) -> None:
    """The lines a checkpoint loaded by ``command`` may need, each one warning: its run
    stopped before its end (:func:`warn_unfinished`), its split record unread
    (:func:`warn_unread_split`; s74 notes: export and summary loaded it unsaid)."""
    warn_unfinished(model)
    warn_unread_split(model, command)
