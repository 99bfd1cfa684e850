"""The U-Net of Ronneberger, Fischer and Brox (MICCAI 2015, arXiv:1505.04597) and its variants.

``UNet.from_preset("paper")`` is the paper's network exactly: 5 levels of two valid 3x3
convolutions + ReLU, 2x2 max pools, 2x2 up-convolutions halving the channels, the encoder map
centre-cropped and concatenated skip first, dropout at the end of the contracting path (one
channel-wise ``Dropout2d(0.5)`` on the bottleneck's output), a 1x1 head, He-normal
initialisation (std sqrt(2/N)). 572x572 in, 388x388 out, 31,030,658 parameters.
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields

import torch
from torch import nn

from unetlab.errors import UnetlabError, did_you_mean
from unetlab.models import sizes
from unetlab.models.architecture import PRESETS, UNetConfig
from unetlab.models.blocks import DoubleConv, Down, Up
from unetlab.words import worded


def _tracing() -> bool:
    """True while a tracer records the graph, where sizes are symbolic: they are checked
    when the traced file runs on unetlab's tiles instead."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling()


def _known_options(options) -> dict:
    """``options`` (UNet keywords) as a dict; UnetlabError naming the unknown ones."""
    options, known = dict(options), {f.name for f in fields(UNetConfig)}
    if unknown := set(options) - known:
        said = f"unknown UNet {worded(len(unknown), 'option')} {sorted(unknown)}"
        raise UnetlabError(f"{said}: known are {sorted(known)}")
    return options


class UNet(nn.Module):
    """U-Net for (N, in_channels, H, W) float input -> (N, num_classes, H', W') logits.

    ``num_classes=1`` is a sigmoid output (threshold 0.5); ``num_classes>=2`` softmax/argmax.
    With ``padding="valid"`` H' = ``output_size(H)`` (H - 184 for the paper net); with
    ``padding="same"`` H' = H and H must be a multiple of ``size_multiple``.
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 2,
        *,
        depth: int = 5,
        base_channels: int = 64,
        padding: str = "valid",
        norm: str | None = None,
        upsample: str = "transpose",
        fusion: str = "concat",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.config = UNetConfig(
            in_channels,
            num_classes,
            depth=depth,
            base_channels=base_channels,
            padding=padding,
            norm=norm,
            upsample=upsample,
            fusion=fusion,
            dropout=dropout,
        )
        # Inference metadata travelling with the weights (see unetlab.checkpoint).
        self.classes: list[str] = [str(i) for i in range(max(num_classes, 2))]
        self.normalization: dict = {"mode": "per_image"}
        # Mask value encoding each class index ([0, 255] for 0/255 masks); None: 0..C-1.
        self.label_values: list[int] | None = None
        # What the classes describe and the training objects' sizes (unetlab.train.object_record);
        # None: unknown (a model not trained by unetlab.train, or an older checkpoint).
        self.objects: dict | None = None

        pad = 1 if padding == "same" else 0
        widths = [base_channels * 2**i for i in range(depth)]
        self.inc = DoubleConv(in_channels, widths[0], padding=pad, norm=norm)
        self.down_path = nn.ModuleList(
            Down(c_in, c_out, padding=pad, norm=norm) for c_in, c_out in zip(widths, widths[1:])
        )
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.up_path = nn.ModuleList(
            Up(c_in, c_out, padding=pad, norm=norm, upsample=upsample, fusion=fusion)
            for c_in, c_out in zip(widths[:0:-1], widths[-2::-1])
        )
        self.head = nn.Conv2d(widths[0], num_classes, 1)
        self.reset_parameters()

    @classmethod
    def from_preset(cls, name: str, **overrides) -> UNet:
        """Build a named preset (``paper``, ``small``, ``small-valid``) with keyword overrides."""
        if name not in PRESETS:
            hint = did_you_mean(str(name), PRESETS)
            raise UnetlabError(f"unknown preset {name!r}: {hint}choose one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **_known_options(overrides)})

    @classmethod
    def from_config(cls, config: UNetConfig | dict) -> UNet:
        """Build the net a :class:`UNetConfig` (or a dict of its fields, a checkpoint's
        ``config``) describes; an unknown key is refused naming the known ones."""
        return cls(**(asdict(config) if isinstance(config, UNetConfig) else _known_options(config)))

    def reset_parameters(self) -> None:
        """He-normal init, std sqrt(2/N), N = incoming connections of a unit (paper, sec. 3).

        For a 3x3 conv over 64 channels N = 576. A 2x2 transposed conv with stride 2 feeds
        each output unit from one input position, so N = in_channels.
        """
        for m in self.modules():
            if getattr(getattr(m, "weight", None), "is_meta", False):
                continue  # a net on the meta device (sizes only) has no values to draw
            if isinstance(m, nn.ConvTranspose2d):
                fan_in = m.in_channels * math.prod(m.kernel_size) // math.prod(m.stride)
            elif isinstance(m, nn.Conv2d):
                fan_in = m.in_channels // m.groups * math.prod(m.kernel_size)
            else:
                continue
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_in))
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not _tracing():
            self._check_input_size(x.shape[-2:])
        skips = []
        x = self.inc(x)
        for down in self.down_path:
            skips.append(x)
            x = down(x)
        x = self.dropout(x)
        for up in self.up_path:
            x = up(x, skips.pop())
        return self.head(x)

    def _check_input_size(self, size) -> None:
        """UnetlabError naming good sizes when an axis would be floored by a pool (the output
        would no longer line up with the input: a same net would return a smaller map)."""
        for axis in size:
            sizes.output_size(int(axis), self.depth, self.padding)

    # --- size arithmetic (see unetlab.models.sizes) ---------------------------------------

    @property
    def depth(self) -> int:
        """Resolution levels (the paper's 5: four poolings)."""
        return self.config.depth

    @property
    def padding(self) -> str:
        """``"valid"`` (the paper's: each 3x3 conv loses a pixel a side) or ``"same"``."""
        return self.config.padding

    @property
    def in_channels(self) -> int:
        """Channels of the images it takes (1 grey, 3 RGB, or a fluorescence image's stains)."""
        return self.config.in_channels

    @property
    def num_classes(self) -> int:
        """Output channels: the classes (softmax), or 1 for a one-class sigmoid net."""
        return self.config.num_classes

    @property
    def border(self) -> int:
        """Pixels lost per side: 92 for the paper net, 0 for same padding."""
        return sizes.border(self.depth, self.padding)

    @property
    def receptive_field(self) -> int:
        """Input window one output pixel sees: 185 for the paper net."""
        return sizes.receptive_field(self.depth, self.padding)

    @property
    def size_multiple(self) -> int:
        """Valid sizes step by this (16 for depth 5); same nets need multiples of it."""
        return sizes.size_multiple(self.depth)

    @property
    def min_input_size(self) -> int:
        """The smallest valid input side in px (188 for the paper net)."""
        return sizes.min_input_size(self.depth, self.padding)

    def output_size(self, input_size: int | tuple[int, int]) -> int | tuple[int, int]:
        """Output size for an int or (H, W); ValueError naming the nearest valid sizes."""
        if isinstance(input_size, int):
            return sizes.output_size(input_size, self.depth, self.padding)
        return tuple(sizes.output_size(s, self.depth, self.padding) for s in input_size)

    def valid_input_sizes(self, near: int, count: int = 5) -> list[int]:
        """``count`` valid input sizes around ``near``."""
        return sizes.valid_input_sizes(near, self.depth, self.padding, count)

    def is_valid_size(self, size: int) -> bool:
        """Whether an input side of ``size`` px passes through the net without a fractional
        pool (572 for the paper net; 573 not: :meth:`valid_input_sizes` names the nearest)."""
        return sizes.is_valid_size(size, self.depth, self.padding)
