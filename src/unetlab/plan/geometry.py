"""The net's size arithmetic for the plan, without building the net."""

from __future__ import annotations

from dataclasses import dataclass

from unetlab.config import Config
from unetlab.models import PRESETS
from unetlab.models import sizes as net_sizes


@dataclass(frozen=True)
class Geometry:
    depth: int
    padding: str

    @classmethod
    def of(cls, cfg: Config) -> Geometry:
        preset = PRESETS[cfg.model.preset]
        return cls(cfg.model.depth or preset["depth"], cfg.model.padding or preset["padding"])

    @property
    def min_input(self) -> int:
        return net_sizes.min_input_size(self.depth, self.padding)

    @property
    def min_image(self) -> int:
        """The smallest image side the net trains on (its smallest output)."""
        return net_sizes.output_size(self.min_input, self.depth, self.padding)

    def inputs(self, up_to: int) -> list[int]:
        """Valid input sizes up to ``up_to`` px, ascending."""
        step = net_sizes.size_multiple(self.depth)
        return list(range(self.min_input, up_to + 1, step))

    def output(self, size: int) -> int:
        return net_sizes.output_size(size, self.depth, self.padding)
