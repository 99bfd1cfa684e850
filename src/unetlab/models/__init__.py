"""U-Net models: the paper's network, its variants and their size arithmetic (torch only).

The names load on first use (PEP 562): ``unetlab.models.architecture`` (the configs,
presets and encoders' names) needs no torch, so the command line's help is quick."""

from __future__ import annotations

import importlib

#: Each public name and the module of this package that defines it.
_HOMES = {
    "ENCODERS": "architecture",
    "PRESETS": "architecture",
    "UNetConfig": "architecture",
    "DoubleConv": "blocks",
    "Down": "blocks",
    "Up": "blocks",
    "center_crop": "blocks",
    "EncoderUNet": "encoders",
    "EncoderUNetConfig": "encoders",
    "UNet": "unet",
}

__all__ = sorted([*_HOMES, "model_from_config"])


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


def model_from_config(config: dict):
    """The net an architecture dict describes (``asdict(model.config)``, as checkpoints
    hold it): an :class:`EncoderUNet` when it names an ``encoder``, else a :class:`UNet`."""
    from unetlab.models.encoders import EncoderUNet
    from unetlab.models.unet import UNet

    if "encoder" in config:
        return EncoderUNet.from_config(config)
    return UNet.from_config(config)
