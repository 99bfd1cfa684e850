"""What names a U-Net's architecture, without torch: the config dataclass, its presets and
choices, and the encoders' names. The command line builds its flags from these, so
``unetlab --help`` does not wait for torch to load."""

from __future__ import annotations

from dataclasses import dataclass

from unetlab.errors import UnetlabError, refuses_assignment

#: Bounds that only a typo exceeds (the paper net: depth 5, 1024 channels at the bottom).
MAX_DEPTH, MAX_CHANNELS = 12, 2**16


@refuses_assignment
@dataclass(frozen=True)
class UNetConfig:
    """Everything that defines a U-Net's architecture (saved in every checkpoint)."""

    in_channels: int = 1
    num_classes: int = 2
    depth: int = 5
    base_channels: int = 64
    padding: str = "valid"
    norm: str | None = None
    upsample: str = "transpose"
    fusion: str = "concat"
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("in_channels", "num_classes", "depth", "base_channels"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UnetlabError(f"{name} must be a positive integer, not {value!r}")
        if self.depth > MAX_DEPTH or self.base_channels << (self.depth - 1) > MAX_CHANNELS:
            raise UnetlabError(
                f"depth {self.depth} with base_channels {self.base_channels} gives "
                f"{self.base_channels << (min(self.depth, 64) - 1)} channels at the bottom level: "
                f"keep depth <= {MAX_DEPTH} and base_channels x 2^(depth-1) <= {MAX_CHANNELS}"
            )
        if max(self.in_channels, self.num_classes) > MAX_CHANNELS:
            raise UnetlabError(
                f"in_channels and num_classes must be at most {MAX_CHANNELS}, not "
                f"{self.in_channels} and {self.num_classes}"
            )
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                names = " or ".join(repr(a) for a in allowed)
                raise UnetlabError(f"{name} must be {names}, not {getattr(self, name)!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise UnetlabError(f"dropout must be in [0, 1), not {self.dropout!r}")


#: The allowed values of UNetConfig's options that are a choice (one source for the
#: config checks and the command line's flags).
CHOICES: dict[str, tuple] = {
    "padding": ("valid", "same"),
    "norm": (None, "batch", "group"),
    "upsample": ("transpose", "bilinear"),
    "fusion": ("concat", "add"),
}


PRESETS: dict[str, dict] = {
    # SPEC §1: the paper's net. The paper gives no dropout rate; 0.5 is the Caffe model's.
    "paper": dict(depth=5, base_channels=64, padding="valid", norm=None, dropout=0.5),
    # Trains in minutes on a 2-core CPU: same padding, batch norm, 4 levels of 16..128.
    "small": dict(depth=4, base_channels=16, padding="same", norm="batch", dropout=0.0),
    # The paper's valid geometry at a CPU-friendly width (overlap-tile exact).
    "small-valid": dict(depth=4, base_channels=16, padding="valid", norm="batch", dropout=0.0),
}


#: Decoder widths of the encoder U-Nets, deepest step first (one step per factor 2 back to the
#: input's scale); their keys are the encoders' names.
DECODER_CHANNELS = {"vgg16": (256, 128, 64, 32), "resnet50": (256, 128, 64, 32, 16)}
ENCODERS = tuple(DECODER_CHANNELS)
