"""A batch is never more tiles than the image has; out-of-memory lines fit the device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unetlab.errors import OutOfMemoryError
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.tiling import Geometry, tile_grid, tiled_apply
from unetlab.models import UNet
from unetlab.runtime import memory_hint


def test_choose_tiling_caps_a_given_batch_at_the_image_tiles():
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    grid, batch = choose_tiling(model, (96, 96), batch_size=100000)
    assert batch == len(grid) == 1
    grid, batch = choose_tiling(model, (96, 200), tile_size=64, batch_size=100000)
    assert batch == len(grid) > 1
    assert choose_tiling(model, (96, 200), tile_size=64, batch_size=2)[1] == 2


def test_the_tile_buffer_holds_no_more_tiles_than_the_image(monkeypatch):
    # iter_tiled_rows with a batch of 100000 allocated 100000 tiles for a one-tile image
    shapes, empty = [], torch.empty

    def spy(*args, **kwargs):
        shapes.append(tuple(args[0]) if args and isinstance(args[0], tuple) else args)
        return empty(*args, **kwargs)

    monkeypatch.setattr(torch, "empty", spy)
    grid = tile_grid((20, 20), Geometry(border=0, multiple=4, min_size=4, overlap=4), 16)
    image = np.arange(400, dtype=np.float32).reshape(20, 20, 1)
    out = tiled_apply(lambda x: x + 1, image, grid, batch_size=100000)
    np.testing.assert_array_equal(out[0], image[..., 0] + 1)
    assert shapes and max(s[0] for s in shapes) == len(grid) == 4


def _out_of_memory(exc: BaseException, **kwargs) -> str:
    with (
        pytest.raises(OutOfMemoryError) as err,
        memory_hint("a.png", "lower --batch-size", **kwargs),
    ):
        raise exc
    return str(err.value)


def test_the_cpu_suggestion_is_made_only_where_gpu_memory_ran_out():
    kw = dict(gpu_fix="or predict on the CPU")
    cpu = _out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory"), **kw)
    assert cpu.endswith("; lower --batch-size") and "CPU" not in cpu.split(";")[-1]
    gpu = _out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"), **kw)
    assert gpu.endswith("; lower --batch-size, or predict on the CPU")
