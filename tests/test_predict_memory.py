"""A photo predicted on a CPU holds one tile's activations, not a batch's, and its stitched
probabilities outside malloc's heap (12 MP RGB JPEG, 11 classes: 3.4-3.9 GB peak, batches
of 3 tiles of 1072 and the probabilities pinning the tuned heap; bench/README.md "Memory of
a photo")."""

from __future__ import annotations

import mmap

import numpy as np
import pytest
import tifffile
import torch

from unetlab import predict_image, runtime
from unetlab.inference import sizing
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.slides import predict_slide
from unetlab.inference.tiling import Geometry, tile_grid, tiled_apply
from unetlab.models import UNet


def _road_net() -> UNet:
    with torch.device("meta"):  # the road-scene plan's net: sizes only
        return UNet(3, 11, depth=4, base_channels=16, padding="same", norm="batch")


def test_a_cpu_batch_holds_no_more_tiles_than_reach_a_megapixel():
    net = _road_net()
    grid, batch = choose_tiling(net, (3000, 4000), device="cpu")
    assert grid.tile == (1072, 1072) and batch == 1  # 3 before: 1.3 GB more activations
    assert choose_tiling(net, (3000, 4000))[1] == 3  # a GPU's budget still fills batches
    # small tiles still batch: 256 px, 3.2x faster a pixel in batches of 8 (bench/README.md)
    assert choose_tiling(net, (3000, 4000), tile_size=256, device="cpu")[1] == 8
    assert choose_tiling(net, (3000, 4000), tile_size=768, device="cpu")[1] == 2


def test_predict_image_batches_tiles_as_its_device_allows(monkeypatch):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    sizes = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda x: sizes.append(len(x)) or forward(x))
    image = np.random.default_rng(0).integers(0, 255, (80, 80), np.uint8)
    tiles = len(choose_tiling(model, image.shape, tile_size=32)[0])
    monkeypatch.setattr(sizing, "CPU_BATCH_PIXELS", 32 * 32)  # a tile reaches it
    predict_image(model, image, tile_size=32, device="cpu")
    assert tiles > 1 and sizes == [1] * tiles


def test_a_streamed_slide_batches_tiles_as_its_device_allows(monkeypatch, tmp_path):
    # stream_tiling called choose_tiling without the device: a streamed page on a CPU
    # batched up to 8 tiles (8000 x 6000 RGB, 11 classes: 2 of 840 px, 0.5 GB more)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    sizes = []
    forward = model.forward
    monkeypatch.setattr(model, "forward", lambda x: sizes.append(len(x)) or forward(x))
    image = np.random.default_rng(0).integers(0, 255, (80, 80), np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", image, tile=(32, 32), compression="zlib")
    tiles = len(choose_tiling(model, image.shape, tile_size=32)[0])
    monkeypatch.setattr(sizing, "CPU_BATCH_PIXELS", 32 * 32)  # a tile reaches it
    predict_slide(model, tmp_path / "s.tif", tmp_path / "out", tile_size=32, device="cpu")
    assert tiles > 1 and sizes == [1] * tiles


def _in_own_pages(array: np.ndarray) -> bool:
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(getattr(base, "obj", base), mmap.mmap)  # numpy's memoryview of it


def test_stitched_probabilities_live_outside_the_heap(monkeypatch):
    grid = tile_grid((40, 40), Geometry(border=0, multiple=4, min_size=4, overlap=8), 24)
    image = np.arange(1600, dtype=np.float32).reshape(40, 40)
    assert not _in_own_pages(tiled_apply(lambda x: x + 1, image, grid))  # small: the heap
    monkeypatch.setattr(runtime, "PAGE_ARRAY_BYTES", 1024)
    out = tiled_apply(lambda x: x + 1, image, grid)
    assert _in_own_pages(out) and out.dtype == np.float32 and out.flags.writeable
    np.testing.assert_allclose(out[0], image + 1, rtol=1e-6)


def test_page_zeros_are_zero_and_of_their_dtype(monkeypatch):
    monkeypatch.setattr(runtime, "PAGE_ARRAY_BYTES", 0)
    page = runtime.page_zeros((3, 5, 7), np.float32)
    assert page.shape == (3, 5, 7) and page.dtype == np.float32 and not page.any()
    page[1] += 2  # writable
    assert page.sum() == 70
    assert runtime.page_zeros((0, 5)).shape == (0, 5)  # mmap.mmap(-1, 0): OSError


def test_page_zeros_are_private_to_a_forked_child(monkeypatch):
    """A forked child's writes stay in the child (copy on write, as malloc's pages): an
    anonymous map is shared by default, so a child's writes reached the parent."""
    import os

    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(runtime, "PAGE_ARRAY_BYTES", 0)
    page = runtime.page_zeros((4, 4), np.float32)
    pid = os.fork()
    if pid == 0:  # the child
        page[:] = 1
        os._exit(0)
    os.waitpid(pid, 0)
    assert not page.any()


def _labels(path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path))


def test_labels_alone_are_made_row_by_row_without_the_whole_probabilities(monkeypatch, tmp_path):
    # predict without probabilities or objects stitched the whole (K, H, W) probabilities
    # only to take their argmax (12 MP photo, 11 classes: 528 MB beside the activations)
    from PIL import Image

    from unetlab.inference import tiling
    from unetlab.inference.files import predict_file

    torch.manual_seed(0)
    model = UNet(3, 5, depth=2, base_channels=4, padding="same").eval()
    image = np.random.default_rng(7).integers(0, 255, (150, 130, 3), np.uint8)
    Image.fromarray(image).save(tmp_path / "photo.png")
    made, zeros = [], tiling.page_zeros
    monkeypatch.setattr(tiling, "page_zeros", lambda shape: made.append(shape) or zeros(shape))
    predict_file(model, tmp_path / "photo.png", tmp_path / "rows", tile_size=32, batch_size=3)
    assert len(made) > 2 and all(shape[1] < 150 for shape in made)  # a row of tiles' each
    made.clear()
    both = dict(tile_size=32, batch_size=3, save_probabilities=True)
    predict_file(model, tmp_path / "photo.png", tmp_path / "whole", **both)
    assert made == [(5, 150, 130)]
    rows, whole = _labels(tmp_path / "rows/photo.png"), _labels(tmp_path / "whole/photo.png")
    assert rows.shape == (150, 130) and np.array_equal(rows, whole)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"blend": "gaussian", "batch_size": 2},
        {"tta": ("identity", "hflip", "rot90")},
        {"exclude_rows": (9, 0.1)},
        {"scale": 2},
        {"invalid": True},
        {"classes": 1},
    ],
)
def test_labels_made_row_by_row_are_those_of_the_whole_probabilities(settings):
    from unetlab.inference.predict import (
        PredictOptions,
        labels_fitted,
        labels_from_probabilities,
        predict_fitted,
    )

    settings = dict(settings)
    torch.manual_seed(1)
    model = UNet(2, settings.pop("classes", 4), depth=2, base_channels=4, padding="same").eval()
    image = np.random.default_rng(8).random((90, 77, 2), dtype=np.float32)
    invalid = None
    if settings.pop("invalid", False):
        invalid = np.zeros((90, 77), bool)
        invalid[20:40, 10:60] = True
    options = PredictOptions.for_model(model, tile_size=24, **settings)
    rows = labels_fitted(model, image, options, invalid=invalid)
    whole = labels_from_probabilities(predict_fitted(model, image, options, invalid=invalid))
    assert rows.dtype == whole.dtype and np.array_equal(rows, whole)
    assert len(np.unique(whole)) > 1 or invalid is not None
