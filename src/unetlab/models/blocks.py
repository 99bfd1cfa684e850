"""The parts of a U-Net, named after the paper (Ronneberger et al. 2015, Fig. 1)."""

from __future__ import annotations

import torch
from torch import nn

from unetlab.errors import UnetlabError

NORMS = (None, "batch", "group")


def center_crop(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop the centre ``size`` (H, W) out of an (N, C, H, W) map (the paper's copy and crop)."""
    h, w = x.shape[-2:]
    top, left = (h - size[0]) // 2, (w - size[1]) // 2
    if top == 0 and left == 0 and (h, w) == tuple(size):
        return x
    return x[..., top : top + size[0], left : left + size[1]]


def _norm(kind: str | None, channels: int) -> nn.Module | None:
    if kind is None:
        return None
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        # 8 channels a group (GroupNorm's usual choice), at least one group.
        return nn.GroupNorm(max(1, channels // 8), channels)
    raise UnetlabError(f"norm must be one of {NORMS}, not {kind!r}")


class DoubleConv(nn.Sequential):
    """(3x3 convolution => [norm] => ReLU) * 2; padding 0 ("valid") or 1 ("same")."""

    def __init__(self, in_channels: int, out_channels: int, *, padding: int, norm: str | None):
        layers: list[nn.Module] = []
        for c_in in (in_channels, out_channels):
            layers.append(nn.Conv2d(c_in, out_channels, 3, padding=padding, bias=norm is None))
            if (n := _norm(norm, out_channels)) is not None:
                layers.append(n)
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class Down(nn.Sequential):
    """2x2 max pool, stride 2 => DoubleConv: one step down the contracting path."""

    def __init__(self, in_channels: int, out_channels: int, *, padding: int, norm: str | None):
        super().__init__(
            nn.MaxPool2d(2), DoubleConv(in_channels, out_channels, padding=padding, norm=norm)
        )


class Up(nn.Module):
    """Up-convolution halving the channels => fuse with the cropped skip => DoubleConv.

    ``upsample="transpose"``: a 2x2 transposed convolution, stride 2 (the paper).
    ``upsample="bilinear"``: bilinear x2 then a 1x1 convolution that halves the channels, so
    both modes have the same channel counts and sizes.
    ``fusion="concat"``: ``cat([skip, up])`` (the paper, skip first); ``"add"``: ``skip + up``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        padding: int,
        norm: str | None,
        upsample: str,
        fusion: str,
    ):
        super().__init__()
        if upsample == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        elif upsample == "bilinear":
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, out_channels, 1),
            )
        else:
            raise UnetlabError(f"upsample must be 'transpose' or 'bilinear', not {upsample!r}")
        if fusion not in ("concat", "add"):
            raise UnetlabError(f"fusion must be 'concat' or 'add', not {fusion!r}")
        self.fusion = fusion
        fused = 2 * out_channels if fusion == "concat" else out_channels
        self.conv = DoubleConv(fused, out_channels, padding=padding, norm=norm)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        skip = center_crop(skip, x.shape[-2:])
        x = torch.cat([skip, x], dim=1) if self.fusion == "concat" else skip + x
        return self.conv(x)
