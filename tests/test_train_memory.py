"""A training step's memory: the count of what autograd saves against autograd itself, the
estimate against a measured step, and the refusal of a tile x batch that cannot fit before
the data is loaded (audit s35 laptop 3: 16 tiles of 1024 px died at the first step after 36 s
of loading, and --check said nothing)."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from unetlab.models import UNet
from unetlab.models.memory import STEP_FACTOR, counted_bytes, saved_bytes, step_bytes

NETS = [
    ("small", {}, 64),
    ("small-valid", {"norm": None, "in_channels": 3, "num_classes": 5}, 108),
    ("paper", {"base_channels": 4}, 188),  # valid, no norm, the bottleneck's dropout
    ("small", {"norm": "group", "base_channels": 8}, 64),
    ("small", {"upsample": "bilinear", "fusion": "add"}, 64),
]


@pytest.mark.parametrize(("preset", "over", "tile"), NETS)
def test_saved_bytes_is_what_autograd_saves(preset, over, tile):
    model = UNet.from_preset(preset, **over).train()
    config = asdict(model.config)
    counted = counted_bytes(model, config["in_channels"], tile)
    assert saved_bytes(config, tile) == pytest.approx(counted, rel=0.01)  # norm statistics


@pytest.mark.skipif(
    not __import__("unetlab.train.memory", fromlist=["x"]).can_measure(),
    reason="peak memory is measured through Linux's /proc/self/clear_refs",
)
def test_estimate_within_tolerance_of_a_measured_step(one_thread):
    """The estimate's share per tile (STEP_FACTOR x the saved bytes) against the growth of
    the peak resident memory from one tile to three in real steps (bench/README.md: the
    factor's rows lie within -30%..+30% of the fit), and the whole estimate not below a
    measured step."""
    from unetlab.train.memory import measure_step

    def build():
        return UNet.from_preset("small", base_channels=8, depth=3)

    config = asdict(build().config)
    measure_step(build, 128, 1)  # the library's one-time workspace, paid before
    one, three = measure_step(build, 192, 1), measure_step(build, 192, 3)
    per_tile = (three - one) / 2  # 33 MB measured (one thread), 20 MB saved
    factor = STEP_FACTOR["fp32"]
    assert per_tile == pytest.approx(factor * saved_bytes(config, 192), rel=0.4)
    assert step_bytes(config, 192, 3) >= three
