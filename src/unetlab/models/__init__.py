"""U-Net models: the paper's network, its variants and their size arithmetic (torch only)."""

from unetlab.models.blocks import DoubleConv, Down, Up, center_crop
from unetlab.models.unet import PRESETS, UNet, UNetConfig

__all__ = ["PRESETS", "DoubleConv", "Down", "UNet", "UNetConfig", "Up", "center_crop"]
