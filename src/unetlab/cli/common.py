"""Argument groups shared by several subcommands."""

from __future__ import annotations

import argparse
import typing
from dataclasses import fields

from unetlab.errors import UnetlabError
from unetlab.models.architecture import CHOICES, ENCODERS, PRESETS, UNetConfig

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
        flag = _FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
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
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            raise UnetlabError(f"{flag} must be a positive number of pixels, not {value}")


def check_probability(flag: str, value: float | None) -> None:
    """One line for a flag that is a probability but lies outside [0, 1]."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise UnetlabError(f"{flag} is a probability in [0, 1], not {value}")
