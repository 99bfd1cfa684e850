"""A streamed slide's overlay is drawn band by band of rows (audit s30 slides 4: objects drawn
whole took float copies of many times the overlay's pixels, 4.8 GB at 4096 x 4096), and the
bands join into the picture drawn whole: the same stretch, colours and outlines at the seams."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from unetlab.inference import slide_overlay
from unetlab.inference.slide_overlay import write_slide_overlay
from unetlab.plots import palette, prediction_overlay


def _slide(side: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 4000, (side, side, 1), dtype=np.uint16)
    mask = ndimage.binary_opening(rng.random((side, side)) < 0.45, np.ones((2, 2)))
    ids = ndimage.label(mask)[0].astype(np.uint32)
    labels = np.where(ids > 0, 2, 0).astype(np.uint8)
    return [lambda rows, cols, a=a: a[rows, cols] for a in (image, labels, ids)], (
        image,
        labels,
        ids,
    )


@pytest.mark.parametrize("by_object", [True, False])
def test_an_overlay_drawn_in_bands_is_the_one_drawn_whole(tmp_path, monkeypatch, by_object):
    monkeypatch.setattr(slide_overlay, "DRAW_ROWS", 7)  # seams inside objects
    readers, (image, labels, ids) = _slide(61)
    write_slide_overlay(tmp_path / "o.png", (61, 61), *readers, by_object=by_object, side=61)
    whole = prediction_overlay(image[..., 0], labels, ids, colours=palette(3), by_object=by_object)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), whole)


def test_drawing_an_overlay_of_objects_takes_a_few_times_its_pixels(tmp_path, monkeypatch):
    side = 512
    monkeypatch.setattr(slide_overlay, "DRAW_ROWS", 32)  # 4096 x 256 as 512 x 32
    readers, _ = _slide(side, seed=1)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        write_slide_overlay(tmp_path / "o.png", (side, side), *readers, by_object=True, side=side)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    # sampled image, ids, labels, the stretched copy and the picture: ~30 bytes a pixel;
    # drawn whole it took ~150 here, ~280 at 4096 x 4096
    assert peak < 60 * side * side, f"{peak / side / side:.0f} bytes a pixel"
