"""A streamed slide's provisional object ids are staged in a dtype that holds the most a page
can be given: uint32, uint64 past it (they were uint32 always, cast without a check: past
2**32 - 1 they wrapped and joined unrelated objects). Pure rules, no giant image."""

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, save_model
from unetlab.data import ome
from unetlab.data.large_ids import id_dtype
from unetlab.inference.objects import ObjectOptions, objects_in_bands
from unetlab.inference.semantic_bands import SemanticBands
from unetlab.inference.slide_objects import (
    SlideObjects,
    most_provisional_ids,
    staged_id_dtype,
    staged_ids,
)

U32 = np.iinfo(np.uint32).max


def test_the_staged_dtype_is_uint32_up_to_its_largest_id_then_uint64():
    assert staged_id_dtype(1, U32, rows=1, margin=0) == np.uint32
    assert staged_id_dtype(1, U32 + 1, rows=1, margin=0) == np.uint64
    # margins count their rows again in each band's window
    assert most_provisional_ids(10, 7, rows=4, margin=2) == 7 * (10 + 2 * 2 * 3)
    assert staged_id_dtype(60_000, 60_000, rows=256, margin=0) == np.uint32  # 3.6e9 px
    assert staged_id_dtype(60_000, 60_000, rows=256, margin=64) == np.uint64  # windows: 5.4e9


def test_a_band_id_that_would_wrap_is_a_bug_not_a_join():
    assert staged_ids(np.array([0, U32], np.int64), np.dtype(np.uint32)).dtype == np.uint32
    with pytest.raises(RuntimeError, match="does not fit the staged uint32"):
        staged_ids(np.array([0, U32 + 1], np.int64), np.dtype(np.uint32))
    assert staged_ids(np.array([U32 + 1]), np.dtype(np.uint64))[0] == U32 + 1


def _slide_objects(tmp_path, options, height, width) -> SlideObjects:
    labels = ome.OutputSpec((1, height, width), "zyx", np.dtype(np.uint8))
    finals = {k: tmp_path / f"s_{k}" for k in ("objects", "table", "geojson")}
    return SlideObjects(options, None, labels, finals, "ome-tiff")


@pytest.mark.parametrize("mode", ["instances", "semantic"])
def test_a_slide_too_large_for_uint32_ids_stages_them_as_uint64(tmp_path, mode):
    """No array is made: the dtype is chosen from the page's size before the first band."""
    options = ObjectOptions(mode=mode)
    assert _slide_objects(tmp_path, options, 600, 800).spec.dtype == np.uint32
    assert _slide_objects(tmp_path, options, 70_000, 70_000).spec.dtype == np.uint64


def test_the_bound_holds_for_the_bands_of_a_page_of_one_pixel_objects():
    """Every other pixel an object of its own (the most a page holds), found in bands with
    a margin: their provisional ids stay within the bound, as do a semantic model's."""
    h, w, rows, margin = 40, 30, 8, 4
    target = np.zeros((h, w), int)
    target[::2, ::2] = 2  # instance interior, one pixel each
    probabilities = np.eye(3, dtype=np.float32)[target].transpose(2, 0, 1)
    options = ObjectOptions(mode="instances", min_area=1, min_seed_area=1, fill_holes=False)
    bands = objects_in_bands(
        [(0, probabilities)], height=h, options=options, band_rows=rows, margin=margin
    )
    largest = max(int(ids.max()) for _, ids in bands)
    assert largest > h * w // 8  # many objects found
    assert largest <= most_provisional_ids(h, w, rows=rows, margin=margin)
    regions = SemanticBands(ObjectOptions(mode="semantic"), h, w)
    for y in range(0, h, rows):
        regions.add(y, probabilities[:, y : y + rows])
    assert 0 < regions.count <= most_provisional_ids(h, w, rows=h, margin=0)


def test_a_count_of_objects_past_uint32_is_written_as_uint64():
    assert id_dtype(65535) == np.uint16 and id_dtype(U32) == np.uint32
    assert id_dtype(U32 + 1) == np.uint64


def test_a_semantic_slides_staged_lookup_is_held_in_the_least_dtypes(tmp_path, monkeypatch):
    """The lookup of a semantic model's regions to the page's objects, staged and held
    while its ids are renumbered, was int64 pairs: now the staged ids' and the least
    id dtype (uint32, uint16 for a slide of a few objects)."""
    from tests.test_slide_drawn_again import _predict

    (tmp_path / "in").mkdir()
    image = np.random.default_rng(1).integers(0, 255, (40, 36), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "big.tif", image)
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 3, depth=2, base_channels=2, padding="same"))
    held, renumber = [], SlideObjects._renumber

    def spy(self, page, h, w, lut, *rest):
        held.append(tuple(a.dtype for a in lut))
        return renumber(self, page, h, w, lut, *rest)

    monkeypatch.setattr(SlideObjects, "_renumber", spy)
    _predict(tmp_path, "out", "--instances")
    assert held == [(np.uint32, np.uint16)]
