"""A streamed slide's provisional object ids are staged in a dtype that holds the ids really
given: uint32, widened to uint64 where a page's pass it (they were uint32 always, cast
without a check: past 2**32 - 1 they wrapped and joined unrelated objects; then uint64 for
every page a bound from its size could pass it, over ~4 Gpx). No giant image."""

from dataclasses import replace

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, save_model
from unetlab.data import ome
from unetlab.data.large_ids import id_dtype
from unetlab.inference import slide_objects
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.slide_objects import SlideObjects, staged_id_dtype, staged_ids

U32 = np.iinfo(np.uint32).max


def test_the_staged_dtype_is_uint32_up_to_its_largest_id_then_uint64():
    assert staged_id_dtype(U32, np.dtype(np.uint32)) == np.uint32
    assert staged_id_dtype(U32 + 1, np.dtype(np.uint32)) == np.uint64
    assert staged_id_dtype(5, np.dtype(np.uint64)) == np.uint64  # never narrowed again


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
def test_a_slide_of_any_size_stages_its_ids_as_uint32_at_first(tmp_path, mode):
    """No array is made: a 70000^2 page (the old bound: uint64, twice the bytes) too."""
    options = ObjectOptions(mode=mode)
    assert _slide_objects(tmp_path, options, 600, 800).spec.dtype == np.uint32
    assert _slide_objects(tmp_path, options, 70_000, 70_000).spec.dtype == np.uint32


def test_ids_past_uint32_widen_the_staging_keeping_its_rows(tmp_path, monkeypatch):
    """A band whose ids pass uint32 widens the staged array to uint64 before it is written
    (also a resumed run's uint32 staging: it was the wrap check's RuntimeError): the rows
    written (a chunk row) and those waiting in the sink (part of one) are kept, and a
    resumed run reopens it as uint64."""
    found = _slide_objects(tmp_path, ObjectOptions(mode="instances"), 1100, 40)
    found.staged()
    assert found.staged(new=False).dtype == np.uint32  # reopened, as a resumed run does
    bands = [(0, np.full((600, 40), 7, np.int64)), (600, np.full((500, 40), U32 + 5, np.int64))]
    monkeypatch.setattr(slide_objects, "objects_in_bands", lambda rows, **kw: iter(bands))
    found.add_page(0, [], 1100)
    assert found.ids.dtype == np.uint64 and found.spec.dtype == np.uint64
    found.spec = replace(found.spec, dtype=np.dtype(np.uint32))  # as a new run makes it
    staged = np.asarray(found.staged(new=False))
    assert staged.dtype == np.uint64 and found.spec.dtype == np.uint64
    assert (staged[0, :600] == 7).all() and (staged[0, 600:] == U32 + 5).all()
    assert sorted(p.name for p in found.stage.iterdir() if p.is_dir()) == ["0"]


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
