"""U-Nets on ImageNet backbones: VGG16 and ResNet50 encoders under a U-Net decoder.

The encoders are written out here with torchvision's module names (``features.0.weight``,
``conv1.weight``, ``layer1.0.downsample.0.weight``, ...), so the ImageNet files users already
have (``vgg16-397923af.pth``, ``resnet50-0676ba61.pth``) load into ``net.encoder`` as they
are (:mod:`unetlab.models.pretrained`); torchvision itself is not needed.

- VGG16 (Simonyan & Zisserman 2015, configuration D): 13 3x3 convolutions + ReLU in 5
  blocks. Skips are the maps before the first four pools (scales 1, 1/2, 1/4, 1/8; 64, 128,
  256, 512 channels) and the bottom is the last block at 1/16 (512 channels).
- ResNet50 (He et al. 2016, torchvision's "v1.5": the stride sits on the 3x3 convolution):
  conv1 (7x7/2) + BN + ReLU at 1/2 (64 channels), then layers 1-4 of 3, 4, 6, 3 bottlenecks
  at 1/4, 1/8, 1/16, 1/32 (256, 512, 1024, 2048 channels).

The decoder climbs back one scale a step: up-sample x2 (2x2 transposed convolution, or
bilinear + 1x1), concatenate the encoder map of that scale (skip first, as the paper), then
(3x3 conv => BN => ReLU) * 2. Padding is "same" throughout: the output has the input's size.
An input whose sides are not multiples of the encoder's stride (16 or 32) is zero-padded at the
bottom and right and the output cropped back, so any size works; sizes that are multiples
(``valid_input_sizes``) waste nothing. The net exposes the same size interface as ``UNet``
(``border``, ``size_multiple``, ``min_input_size``, ``output_size``, ...), so the overlap-tile
engine serves it unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from unetlab.errors import UnetlabError
from unetlab.models.architecture import DECODER_CHANNELS, ENCODERS
from unetlab.models.blocks import DoubleConv

#: VGG16's ``features``: output channels of each 3x3 convolution, "M" for a 2x2 max pool.
VGG16_LAYOUT = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)
#: ResNet50: (bottlenecks, width) of layer1..layer4; a bottleneck outputs 4 x width channels.
RESNET50_LAYERS = ((3, 64), (4, 128), (6, 256), (3, 512))
EXPANSION = 4

#: The classifier head of each torchvision file, which the encoder does not use.
HEAD_PREFIXES = {"vgg16": "classifier.", "resnet50": "fc."}


class VGG16Encoder(nn.Module):
    """torchvision's ``vgg16().features``: (3x3 conv => ReLU) * n => 2x2 max pool, 5 blocks.

    ``forward``: (N, C, H, W) -> five maps at scales 1, 1/2, 1/4, 1/8, 1/16 (``channels``).
    H and W must be multiples of 16. The fifth pool is kept (its index is part of the
    layout) but not run.
    """

    channels = (64, 128, 256, 512, 512)
    scales = (1, 2, 4, 8, 16)

    def __init__(self, in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        c = in_channels
        for v in VGG16_LAYOUT:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
                c = v
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = []
        for layer in self.features[:-1]:
            if isinstance(layer, nn.MaxPool2d):
                maps.append(x)
            x = layer(x)
        return [*maps, x]


class Bottleneck(nn.Module):
    """1x1 conv => BN => ReLU => 3x3 conv (stride) => BN => ReLU => 1x1 conv (x4) => BN,
    plus the input (through ``downsample``, 1x1 conv/stride => BN, when the shape changes),
    => ReLU. torchvision's ``Bottleneck`` names."""

    def __init__(self, in_channels: int, width: int, stride: int = 1):
        super().__init__()
        out = width * EXPANSION
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + identity)


class ResNet50Encoder(nn.Module):
    """torchvision's ``resnet50()`` without ``avgpool`` and ``fc``.

    ``forward``: (N, C, H, W) -> five maps at scales 1/2, 1/4, 1/8, 1/16, 1/32
    (``channels``): conv1 => bn1 => relu, then after max pool + layer1, layer2, layer3,
    layer4. H and W must be multiples of 32.
    """

    channels = (64, 256, 512, 1024, 2048)
    scales = (2, 4, 8, 16, 32)

    def __init__(self, in_channels: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c = 64
        for i, (blocks, width) in enumerate(RESNET50_LAYERS):
            stride = 1 if i == 0 else 2
            layer = [Bottleneck(c, width, stride)]
            c = width * EXPANSION
            layer += [Bottleneck(c, width) for _ in range(blocks - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.relu(self.bn1(self.conv1(x)))
        maps = [x]
        x = self.maxpool(x)
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            maps.append(x)
        return maps


class DecoderBlock(nn.Module):
    """Up-sample x2 to ``out_channels`` (2x2 transposed conv, or bilinear => 1x1 conv) =>
    ``cat([skip, up])`` when there is a skip => (3x3 conv => BN => ReLU) * 2."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, *, upsample: str):
        super().__init__()
        if upsample == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        else:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, out_channels, 1),
            )
        self.conv = DoubleConv(skip_channels + out_channels, out_channels, padding=1, norm="batch")

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        x = self.up(x)
        if skip is not None:
            x = torch.cat([skip, x], dim=1)
        return self.conv(x)


@dataclass(frozen=True)
class EncoderUNetConfig:
    """Everything that defines an encoder U-Net's architecture (saved in every checkpoint)."""

    encoder: str = "resnet50"
    in_channels: int = 3
    num_classes: int = 2
    upsample: str = "transpose"

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise UnetlabError(
                f"encoder must be one of {', '.join(ENCODERS)}, not {self.encoder!r}"
            )
        for name in ("in_channels", "num_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UnetlabError(f"{name} must be a positive integer, not {value!r}")
        if self.upsample not in ("transpose", "bilinear"):
            raise UnetlabError(f"upsample must be 'transpose' or 'bilinear', not {self.upsample!r}")


class EncoderUNet(nn.Module):
    """U-Net decoder over a VGG16 or ResNet50 encoder: (N, in_channels, H, W) float ->
    (N, num_classes, H, W) logits, any H and W (padded to ``size_multiple`` and cropped back).

    ``encoder`` holds the backbone under torchvision's names; ``decoder`` the up path,
    ``head`` the 1x1 convolution to the classes. ``num_classes=1`` is a sigmoid output.
    """

    padding = "same"
    border = 0

    def __init__(
        self,
        encoder: str = "resnet50",
        in_channels: int = 3,
        num_classes: int = 2,
        *,
        upsample: str = "transpose",
    ):
        super().__init__()
        self.config = EncoderUNetConfig(encoder, in_channels, num_classes, upsample)
        # Inference metadata travelling with the weights (see unetlab.checkpoint).
        self.classes: list[str] = [str(i) for i in range(max(num_classes, 2))]
        self.normalization: dict = {"mode": "per_image"}
        self.label_values: list[int] | None = None
        self.encoder_frozen = False
        backbone = VGG16Encoder if encoder == "vgg16" else ResNet50Encoder
        self.encoder = backbone(in_channels)
        widths = DECODER_CHANNELS[encoder]
        skips = dict(zip(self.encoder.scales, self.encoder.channels))
        c, scale = self.encoder.channels[-1], self.encoder.scales[-1]
        blocks = []
        for width in widths:
            scale //= 2
            blocks.append(DecoderBlock(c, skips.get(scale, 0), width, upsample=upsample))
            c = width
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(c, num_classes, 1)

    @classmethod
    def from_config(cls, config: EncoderUNetConfig | dict) -> EncoderUNet:
        kwargs = asdict(config) if isinstance(config, EncoderUNetConfig) else dict(config)
        return cls(**kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = self.size_multiple
        pad_h, pad_w = -h % m, -w % m
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        maps = self.encoder(x)
        by_scale = dict(zip(self.encoder.scales, maps))
        x, scale = maps[-1], self.encoder.scales[-1]
        for block in self.decoder:
            scale //= 2
            x = block(x, by_scale.get(scale))
        x = self.head(x)
        return x[..., :h, :w] if pad_h or pad_w else x

    def freeze_encoder(self, frozen: bool = True) -> None:
        """Stop (or restart) training the encoder: no gradients for its weights, and its
        BatchNorm layers keep their running statistics (eval mode) even in ``train()``."""
        self.encoder_frozen = frozen
        self.encoder.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> EncoderUNet:
        super().train(mode)
        if self.encoder_frozen:
            self.encoder.eval()
        return self

    # --- the size interface of UNet (see unetlab.models.sizes) ----------------------------

    @property
    def encoder_name(self) -> str:
        return self.config.encoder

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    @property
    def size_multiple(self) -> int:
        """The encoder's total stride: 16 (VGG16) or 32 (ResNet50)."""
        return self.encoder.scales[-1]

    @property
    def min_input_size(self) -> int:
        return self.size_multiple

    @property
    def activation_width(self) -> int:
        """Channels at full resolution a plain UNet of about this net's activation memory
        per pixel would have (for tile sizing): VGG16 keeps 64-channel maps at full
        resolution, ResNet50 keeps 16 there but 64-256 at 1/2 and 1/4."""
        return 64 if self.config.encoder == "vgg16" else 32

    @property
    def receptive_field(self) -> int:
        """Input window one output pixel sees, along the deepest path (encoder to bottom,
        decoder back up): 551 px for ResNet50, 256 px for VGG16 (transposed up-sampling)."""
        return receptive_field(self.config.encoder, self.config.upsample)

    def output_size(self, input_size: int | tuple[int, int]) -> int | tuple[int, int]:
        """The input's size (same padding); ValueError below 1 px."""
        sizes = (input_size,) if isinstance(input_size, int) else tuple(input_size)
        if any(s < 1 for s in sizes):
            raise UnetlabError(
                f"{input_size} is not a valid input size: sides must be at least 1 px"
            )
        return input_size if isinstance(input_size, int) else sizes

    def is_valid_size(self, size: int) -> bool:
        """Every size >= 1 works (padded inside); ``valid_input_sizes`` waste nothing."""
        return size >= 1

    def valid_input_sizes(self, near: int, count: int = 5) -> list[int]:
        """``count`` multiples of ``size_multiple`` centred on ``near`` (no padding inside)."""
        m = self.size_multiple
        k = max(1, round(near / m))
        start = max(1, k - count // 2)
        return [(start + i) * m for i in range(count)]


def _encoder_ops(encoder: str) -> list[tuple[int, int]]:
    """(kernel, stride) of each layer on the encoder's longest path, input to bottom."""
    if encoder == "vgg16":
        ops = [(2, 2) if v == "M" else (3, 1) for v in VGG16_LAYOUT]
        return ops[:-1]  # the fifth pool is not run
    ops = [(7, 2), (3, 2)]
    for i, (blocks, _) in enumerate(RESNET50_LAYERS):
        for b in range(blocks):
            ops += [(1, 1), (3, 2 if i > 0 and b == 0 else 1), (1, 1)]
    return ops


def receptive_field(encoder: str, upsample: str = "transpose") -> int:
    """Receptive field (px) of an :class:`EncoderUNet` output pixel along its deepest path:
    ``rf += (k - 1) * jump; jump *= stride`` down the encoder, then per decoder step the
    up-sampling (a 2x2/2 transposed conv adds nothing, bilinear one input step) and two 3x3
    convolutions at half the jump."""
    rf, jump = 1, 1
    for k, s in _encoder_ops(encoder):
        rf += (k - 1) * jump
        jump *= s
    for _ in DECODER_CHANNELS[encoder]:
        if upsample == "bilinear":
            rf += jump
        jump //= 2
        rf += 2 * 2 * jump
    return rf
