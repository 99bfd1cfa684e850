"""The layer table of a U-Net (the SPEC §1 format) and its cost, traced on the meta device.

Rows are the layers that hold weights or change the shape (convolutions, pools, transposed
convolutions, upsampling, norms), numbered in execution order as torchsummary numbers them.
Tracing runs on ``torch.device("meta")``: no memory, milliseconds even for the paper net.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from unetlab.models import UNet

ROW_TYPES = (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.Upsample, nn.BatchNorm2d, nn.GroupNorm)


@dataclass(frozen=True)
class Row:
    name: str  # e.g. "Conv2d-1"
    shape: tuple[int, ...]  # output shape with batch -1
    params: int
    flops: int  # multiply-adds x 2 for one sample


@dataclass(frozen=True)
class Summary:
    rows: list[Row]
    total_params: int
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    border: int
    receptive_field: int
    in_channels: int
    num_classes: int

    @property
    def gflops(self) -> float:
        return sum(r.flops for r in self.rows) / 1e9

    def table(self) -> str:
        """The SPEC §1 table, then the size facts."""
        lines = [f"{'Layer (type)':<22}{'Output Shape':<22}Param #"]
        for r in self.rows:
            shape = "[" + ", ".join(str(s) for s in r.shape) + "]"
            lines.append(f"{r.name:<22}{shape:<22}{r.params:,}")
        h, w = self.input_size
        oh, ow = self.output_size
        lines += [
            f"Total params: {self.total_params:,}",
            f"Input size: {self.in_channels}x{h}x{w}",
            f"Output size: {self.num_classes}x{oh}x{ow}",
            f"Border per side: {self.border} px",
            f"Receptive field: {self.receptive_field}x{self.receptive_field} px",
            f"GFLOPs per tile: {self.gflops:.1f}",
        ]
        return "\n".join(lines)


def _flops(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(module, nn.ConvTranspose2d):
        # every input pixel is multiplied into a k x k x C_out patch
        per_pixel = module.in_channels * module.out_channels * math.prod(module.kernel_size)
        return 2 * per_pixel * math.prod(inp.shape[2:]) // module.groups
    if isinstance(module, nn.Conv2d):
        per_pixel = module.in_channels // module.groups * math.prod(module.kernel_size)
        return 2 * per_pixel * out.shape[1] * math.prod(out.shape[2:])
    return 0


def summarize(model: UNet, input_size: int | tuple[int, int] = 572) -> Summary:
    """Trace ``model``'s architecture at ``input_size`` (validated first) on the meta device."""
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    out_size = model.output_size(size)  # ValueError with the nearest sizes if invalid
    with torch.device("meta"):
        meta = UNet.from_config(model.config).eval()
    rows: list[Row] = []
    counts: dict[str, int] = {}

    def hook(module, args, out):
        kind = type(module).__name__
        counts[kind] = counts.get(kind, 0) + 1
        params = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append(Row(f"{kind}-{len(rows) + 1}", (-1, *out.shape[1:]), params,
                        _flops(module, args[0], out)))  # fmt: skip

    handles = [m.register_forward_hook(hook) for m in meta.modules() if isinstance(m, ROW_TYPES)]
    try:
        meta(torch.empty(1, model.in_channels, *size, device="meta"))
    finally:
        for h in handles:
            h.remove()
    return Summary(
        rows=rows,
        total_params=sum(p.numel() for p in meta.parameters() if p.requires_grad),
        input_size=size,
        output_size=out_size,
        border=model.border,
        receptive_field=model.receptive_field,
        in_channels=model.in_channels,
        num_classes=model.num_classes,
    )


def forward_gflops(model: UNet, input_size: int | tuple[int, int]) -> float:
    """GFLOP of one forward pass of one tile (2 x multiply-adds of convolutions)."""
    return summarize(model, input_size).gflops
