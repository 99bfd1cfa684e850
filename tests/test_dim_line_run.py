"""In a run (a folder of plate wells), the "read as nearly empty" line is said in full for
the first dim image only; each later one gets one short line pointing to it (audit s33
plates 6: 16 empty control wells gave 16 lines of 300 characters)."""

import logging

import numpy as np
import torch

from unetlab.inference.predict import floor_run, model_stats

SPEC16 = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [12997.0], "dtype": "uint16"}


class _Model(torch.nn.Module):
    normalization = SPEC16


def _empty_well(seed: int) -> np.ndarray:  # camera noise only: far below the floor
    rng = np.random.default_rng(seed)
    return rng.integers(100, 300, (40, 40, 1)).astype(np.uint16)


def test_dim_wells_of_a_run_in_full_once_then_short(caplog):
    caplog.set_level(logging.WARNING)
    names = ["plate/A12_s1_w1.tif", "plate/B12_s1_w1.tif", "plate/C12_s1_w1.tif"]
    with floor_run():
        for k, name in enumerate(names):
            model_stats(_Model(), _empty_well(k), name=name)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "scale it to the training images' range" in lines[0]
    for name, line in zip(names[1:], lines[1:]):
        assert line.startswith(f"{name}: contrast ")
        assert line.endswith(
            "below the model's floor 12997: read as nearly empty (see A12_s1_w1.tif)"
        )
        assert "trained on" not in line and len(line) < 120
    caplog.clear()
    with floor_run():  # a new run says its first in full again
        model_stats(_Model(), _empty_well(5), name="plate/D12_s1_w1.tif")
    (line,) = [r.getMessage() for r in caplog.records]
    assert "scale it to the training images' range" in line
