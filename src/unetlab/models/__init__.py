"""U-Net models: the paper's network, its variants and their size arithmetic (torch only)."""

from torch import nn

from unetlab.models.blocks import DoubleConv, Down, Up, center_crop
from unetlab.models.encoders import ENCODERS, EncoderUNet, EncoderUNetConfig
from unetlab.models.unet import PRESETS, UNet, UNetConfig

__all__ = [
    "ENCODERS",
    "PRESETS",
    "DoubleConv",
    "Down",
    "EncoderUNet",
    "EncoderUNetConfig",
    "UNet",
    "UNetConfig",
    "Up",
    "center_crop",
    "model_from_config",
]


def model_from_config(config: dict) -> nn.Module:
    """The net an architecture dict describes (``asdict(model.config)``, as checkpoints
    hold it): an :class:`EncoderUNet` when it names an ``encoder``, else a :class:`UNet`."""
    if "encoder" in config:
        return EncoderUNet.from_config(config)
    return UNet.from_config(config)
