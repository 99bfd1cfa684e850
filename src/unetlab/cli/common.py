"""Argument groups shared by several subcommands."""

from __future__ import annotations

import argparse

from unetlab.models import PRESETS, UNet


def add_model_args(parser: argparse.ArgumentParser, *, default_preset: str = "paper") -> None:
    """--preset and the variant flags; each flag left unset keeps the preset's value."""
    g = parser.add_argument_group("model")
    g.add_argument("--preset", default=default_preset, choices=sorted(PRESETS),
                   help=f"architecture preset (default: {default_preset})")  # fmt: skip
    g.add_argument("--in-channels", type=int, help="input channels (1 grey, 3 RGB, ...)")
    g.add_argument("--classes", type=int, dest="num_classes", help="number of output classes")
    g.add_argument("--depth", type=int, help="levels (the paper: 5)")
    g.add_argument("--base-channels", type=int, help="channels of the first level (paper: 64)")
    g.add_argument("--padding", choices=["valid", "same"])
    g.add_argument("--norm", choices=["none", "batch", "group"])
    g.add_argument("--upsample", choices=["transpose", "bilinear"])
    g.add_argument("--fusion", choices=["concat", "add"])
    g.add_argument("--dropout", type=float)


def model_from_args(args: argparse.Namespace) -> UNet:
    overrides = {
        k: getattr(args, k)
        for k in (
            "in_channels",
            "num_classes",
            "depth",
            "base_channels",
            "padding",
            "norm",
            "upsample",
            "fusion",
            "dropout",
        )  # fmt: skip
        if getattr(args, k) is not None
    }
    if overrides.get("norm") == "none":
        overrides["norm"] = None
    # meta device: building the paper net's 31M weights for a table would waste a second
    import torch

    with torch.device("meta"):
        return UNet.from_preset(args.preset, **overrides)


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA if available), cpu, cuda or cuda:N (default: auto)")  # fmt: skip
