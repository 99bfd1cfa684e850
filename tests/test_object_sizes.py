"""Which regions of the training masks tell a class's object sizes (data/object_sizes.py)."""

import numpy as np
import pytest

from unetlab.data.object_sizes import (
    first_pixels,
    joined,
    left_out,
    raster_ranks,
    region_facts,
    sized,
)
from unetlab.inference.objects import class_min_areas
from unetlab.train.setup import class_object_statistics


def gland_tile() -> np.ndarray:
    """A 40 x 40 tile (0 stroma, 1 gland, 2 nuclei): a whole gland, a gland cut by the left
    edge to a 1-px sliver, one cut by the top edge, a 1-px gland speck left between two
    nuclei, and three whole nuclei."""
    mask = np.zeros((40, 40), np.int64)
    mask[12:28, 12:28] = 1  # the whole gland, 256 px
    mask[5, 0] = 1  # a gland cut by the edge to 1 px
    mask[0:3, 30:38] = 1  # one cut by the top edge, 24 px
    mask[34:37, 2:5] = 2
    mask[34:37, 6:9] = 2
    mask[35, 5] = 1  # a speck between the two nuclei
    mask[32:35, 30:33] = 2
    return mask


def test_cut_glands_and_specks_do_not_set_the_least_gland_size():
    stats = class_object_statistics([gland_tile()], background=0, classes=3)
    glands, nuclei = stats["by_class"][1], stats["by_class"][2]
    assert glands["count"] == 1 and glands["area_min"] == 256.0  # was 1 px: 3 of 4 not whole
    assert nuclei["count"] == 3 and nuclei["area_min"] == 9.0
    assert class_min_areas(stats, 0)[1] == 64  # 1/4 of 256 px, was max(1, 1/4 of 1 px)


def test_a_class_only_ever_cut_is_sized_by_its_cut_regions():
    mask = gland_tile()
    mask[12:28, 12:28] = 0  # no whole gland left: the cut ones (not the specks) size glands
    mask[36:40, 20:28] = 1  # another cut by the bottom edge, 32 px
    stats = class_object_statistics([mask], background=0, classes=3)
    assert stats["by_class"][1]["count"] == 2 and stats["by_class"][1]["area_min"] == 24.0


def test_a_whole_gland_in_another_image_sizes_the_class():
    cut_only = gland_tile()
    cut_only[12:28, 12:28] = 0
    stats = class_object_statistics([cut_only, gland_tile()], background=0, classes=3)
    assert stats["by_class"][1]["count"] == 1  # the whole one, not the other image's cut ones


def test_regions_beside_ignored_pixels_are_cut():
    mask = gland_tile()
    mask[10:30, 30] = -1  # ignored pixels (nodata, a data bar) beside a nucleus
    mask[12:20, 31:34] = 2  # a nucleus half covered by them
    facts = region_facts(*_ids(mask), ignored=mask == -1)
    assert facts["cut"].sum() == 3  # two glands at the edge, the nucleus beside the bar


def test_a_thin_class_keeps_its_lines():
    mask = np.zeros((20, 20), np.int64)
    for row in (3, 7, 11, 15):
        mask[row, 2:18] = 1  # a rim class: every region a 1-px line
    stats = class_object_statistics([mask], background=0, classes=2)
    assert stats["by_class"][1]["count"] == 4 and stats["by_class"][1]["area_min"] == 16.0


def test_the_log_names_what_was_left_out():
    mask = gland_tile()
    facts = joined([region_facts(*_ids(mask))])
    keep = sized(facts)
    assert keep.sum() == 4
    assert left_out(facts, keep) == (
        ", leaving out 2 cut by the image edge and 1 slivers at most 2 px wide"
    )
    assert left_out(facts, np.ones_like(keep)) == ""


def test_the_log_says_how_many_the_edge_and_the_unlabelled_pixels_cut(caplog):
    """The plan's tile line leaves out only the regions the image's edge (or nodata) cuts; a
    road set's void border gave "20 cut" there and "103 cut" in this line, unexplained
    (audit s39 roads)."""
    mask = gland_tile()
    mask[10:30, 30] = -1  # ignored pixels beside a nucleus
    mask[12:20, 31:34] = 2
    with caplog.at_level("INFO", logger="unetlab"):
        class_object_statistics([mask], background=0, classes=3)
    assert (
        "object sizes from 4 whole regions of the masks, leaving out 3 cut (2 by the image "
        "edge, 1 by unlabelled pixels) and 1 slivers at most 2 px wide"
    ) in caplog.text
    mask[:, 30:] = np.where(mask[:, 30:] == 1, 0, mask[:, 30:])  # no gland cut by the top edge
    mask[5, 0] = 0
    facts = joined([region_facts(*_ids(mask), ignored=mask == -1)])
    assert (
        left_out(facts, sized(facts))
        == ", leaving out 1 cut by unlabelled pixels and 1 slivers at most 2 px wide"
    )


def _ids(mask):
    from unetlab.data.labels import instances

    return instances(mask, boundary_class=0), mask


@pytest.mark.parametrize("seed", range(4))
def test_a_regions_kind_is_that_of_its_first_pixel_as_np_unique_found_it(seed):
    """first_pixels replaced np.unique(return_index=True), which sorted every pixel; a region
    whose pixels hold several kinds (a hole filled into an object) keeps its first one's."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 40, (23, 31)) * (rng.random((23, 31)) < 0.7)
    ids[ids == 7] = 0  # an id with no pixel
    kinds = rng.integers(0, 4, ids.shape)
    values, first = np.unique(ids.ravel(), return_index=True)
    found = first_pixels(ids)
    assert np.array_equal(found[values], first)
    assert (found[np.setdiff1d(np.arange(found.size), values)] == ids.size).all()
    kind = region_facts(ids, kinds)["kind"]
    assert np.array_equal(kind, kinds.ravel()[first[values > 0]])


def test_raster_ranks_number_objects_by_their_first_pixel():
    """The one numbering of an image's objects, read whole or streamed; ties keep the order
    they are given in (an int32 id map's first places as an int64 one's)."""
    assert raster_ranks(np.array([40, 3, 17, 3])).tolist() == [4, 1, 3, 2]
    assert raster_ranks(np.zeros(0, np.int64)).tolist() == []
    ids = np.array([[0, 5, 5], [2, 0, 9]], np.int32)
    assert first_pixels(ids)[[2, 5, 9]].tolist() == [3, 1, 5]
    assert raster_ranks(first_pixels(ids)[[2, 5, 9]]).tolist() == [2, 1, 3]


def test_large_ids_give_the_facts_of_their_ranks():
    """Instance masks may hold any id below 2**31 (a tracker's): the facts go by the regions,
    not by the largest id (arrays as long as it: 2**31 - 1 and 3e8 took 131 s together)."""
    import tracemalloc

    ranks = gland_tile()
    ids = np.where(ranks == 1, 20_000_000, np.where(ranks == 2, 30_000_000, 0))
    ignored = np.zeros(ids.shape, bool)
    ignored[20, 20] = True
    tracemalloc.start()
    try:
        got = region_facts(ids, ranks, ignored)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    want = region_facts(ranks, ranks, ignored)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert peak < 4_000_000  # bytes: the regions', not 30 million ids' (1.2 GB)
