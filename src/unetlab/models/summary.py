"""The layer table of a U-Net (the SPEC §1 format) and its cost, traced on the meta device.

Rows are the layers that hold weights or change the shape (convolutions, pools, transposed
convolutions, upsampling, norms), numbered in execution order among themselves: torchsummary's
columns, but it also lists every ReLU, dropout and up-sampling block, so its rows and numbers
differ (50 rows for the paper net, here 27).
Tracing runs on ``torch.device("meta")``: no memory, milliseconds even for the paper net.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from unetlab.errors import UnetlabError
from unetlab.models import UNet, model_from_config
from unetlab.models.sizes import nearest_valid_sizes

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

    def __repr__(self) -> str:
        """One line (a notebook cell's value; the dataclass's was 2,356 characters of rows
        for the paper net, s52 notebook), as a Report's and a Plan's: the sizes and cost."""
        (h, w), (oh, ow) = self.input_size, self.output_size
        return (
            f"Summary({self.total_params:,} parameters, {self.in_channels}x{h}x{w} -> "
            f"{self.num_classes}x{oh}x{ow}, border {self.border} px, receptive field "
            f"{self.receptive_field} px, {self.gflops:.1f} GFLOPs, {len(self.rows)} rows; "
            "print(s.table()) for the layer table)"
        )

    def table(self, input_note: str = "") -> str:
        """The SPEC §1 table, then the size facts; ``input_note``: where the input size came
        from, after it (``"the training tiles'"``)."""
        lines = [f"{'Layer (type)':<22}{'Output Shape':<22}Param #"]
        for r in self.rows:
            shape = "[" + ", ".join(str(s) for s in r.shape) + "]"
            lines.append(f"{r.name:<22}{shape:<22}{r.params:,}")
        h, w = self.input_size
        oh, ow = self.output_size
        lines += [
            f"Total params: {self.total_params:,}",
            f"Input size: {self.in_channels}x{h}x{w}" + (f" ({input_note})" if input_note else ""),
            f"Output size: {self.num_classes}x{oh}x{ow}",
            f"Border per side: {self.border} px",
            f"Receptive field: {self.receptive_field}x{self.receptive_field} px",
            f"GFLOPs per tile: {self.gflops:.1f}",
        ]
        return "\n".join(lines)


def default_size(model: UNet) -> int:
    """572 for a valid net, 512 for a same net, or the next size the net takes."""
    size = 572 if model.padding == "valid" else 512
    lower, upper = nearest_valid_sizes(size, model.config.depth, model.padding)
    return size if lower == size else upper


def _size_pair(input_size) -> tuple[int, int]:
    """``input_size`` as (h, w); not whole numbers, or not one or two of them: UnetlabError
    in one line ("big" was read as 3 sizes, then "'>=' not supported", audit s42 api)."""
    size = (input_size, input_size) if hasattr(input_size, "__index__") else input_size
    whole = isinstance(size, tuple | list) and len(size) == 2
    if whole and all(hasattr(n, "__index__") and not isinstance(n, bool) for n in size):
        return int(size[0]), int(size[1])
    raise UnetlabError(
        f"input_size must be a whole number of pixels (572) or an (h, w) pair, not {input_size!r}"
    )


def summarize(model: UNet, input_size: int | tuple[int, int] | None = None) -> Summary:
    """Trace ``model``'s architecture at ``input_size`` (validated first; default: the
    paper's 572 for valid nets, 512 for same nets, or the next valid size) on the meta
    device."""
    size = _size_pair(input_size or default_size(model))
    out_size = model.output_size(size)  # ValueError with the nearest sizes if invalid
    with torch.device("meta"):
        meta = model_from_config(asdict(model.config)).eval()
    names = {module: name for name, module in meta.named_modules()}
    seen: list[tuple[nn.Module, tuple[int, ...]]] = []

    def hook(module, args, out):
        seen.append((module, (-1, *out.shape[1:])))

    handles = [m.register_forward_hook(hook) for m in meta.modules() if isinstance(m, ROW_TYPES)]
    # FLOPs as torch counts them: 2 x multiply-adds of the convolutions, per module
    counter = FlopCounterMode(display=False)
    try:
        with counter:
            meta(torch.empty(1, model.in_channels, *size, device="meta"))
    finally:
        for h in handles:
            h.remove()
    flops = counter.get_flop_counts()
    rows = []
    for module, shape in seen:
        params = sum(p.numel() for p in module.parameters(recurse=False))
        ops = flops.get(f"{type(meta).__name__}.{names[module]}", {})
        rows.append(
            Row(f"{type(module).__name__}-{len(rows) + 1}", shape, params, sum(ops.values()))
        )
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
