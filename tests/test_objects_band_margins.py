"""Each band of :func:`objects_in_bands` takes the least margin that holds whole the regions
its objects grow over (found from those regions alone, so a band after a tall clump falls
back to a short one), and counts as unsure only the objects at a seam that its windows
cannot settle: those reaching a cut edge, or given otherwise by the two windows."""

import gc
import weakref
from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from tests.test_postprocess import disc_ids, same_partition, soft
from unetlab.data.instances import boundary_target
from unetlab.inference import objects
from unetlab.inference.objects import (
    ObjectOptions,
    grown_over,
    objects_from_probabilities,
    objects_in_bands,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

INSTANCES = ObjectOptions(mode="instances", min_area=5)


def _bands(probabilities, options=INSTANCES, **how):
    """``(parts, unsure)``: the ``(y, ids)`` of the bands and the count of unsure objects."""
    unsure = []
    parts = list(
        objects_in_bands(
            [(0, probabilities)],
            height=probabilities.shape[1],
            options=options,
            unsure=unsure,
            **how,
        )
    )
    return parts, unsure[0]


def test_a_clump_taller_than_the_widest_margin_counts_no_object_that_comes_out_the_same():
    """A chain of 12 overlapping nuclei, 120 rows, one region of foreground, in bands of 8
    rows with at most 10 rows of margin: every window cuts the chain, yet each nucleus is
    found alike in the windows on both sides of a seam (and as in the image read whole);
    the count said 12 (each nucleus at a seam, in a clump reaching a cut edge: audit s35
    lapfix, 228 of 2,649 on a 2000 x 2000 crop where none differed)."""
    h, w = 120, 24
    centres = [(y, 12) for y in range(6, 114, 9)]
    probabilities = soft(boundary_target(disc_ids((h, w), centres, 5), boundary_width=1), 0)
    assert ndimage.label(grown_over(probabilities, INSTANCES), np.ones((3, 3)))[1] == 1
    parts, unsure = _bands(probabilities, band_rows=8, margin=2, max_margin=10)
    whole = objects_from_probabilities(probabilities, INSTANCES)
    assert whole.max() == 12
    assert same_partition(np.concatenate([ids for _, ids in parts]), whole)
    assert unsure == 0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    radius=st.floats(4.0, 14.0),
    split=st.booleans(),
    band=st.integers(4, 24),
    widest=st.integers(3, 12),
)
def test_fuzz_the_count_holds_every_seam_object_that_differs(seed, radius, split, band, widest):
    """Margins capped below the objects' height: each object of the bands that crosses a
    seam and differs from the image read whole is among those counted."""
    rng = np.random.default_rng(seed)
    h, w = 90, 32
    centres = rng.integers(0, [h, w], (int(h * w / (radius * radius * 3)), 2))
    target = boundary_target(disc_ids((h, w), centres, radius), boundary_width=1)
    probabilities = soft(target, seed % 1000)
    options = replace(INSTANCES, distance_split=split)
    parts, unsure = _bands(probabilities, options, band_rows=band, margin=2, max_margin=widest)
    ids = np.concatenate([b for _, b in parts])
    whole = objects_from_probabilities(probabilities, options)
    seams = [y for y, _ in parts][1:]
    differing = 0
    for i in np.unique(ids[ids > 0]):
        mask = ids == i
        ys = np.flatnonzero(mask.any(1))
        found = np.unique(whole[mask])
        same = len(found) == 1 and found[0] > 0 and np.array_equal(whole == found[0], mask)
        differing += not same and any(ys[0] < s <= ys[-1] for s in seams)
    assert unsure >= differing


def test_bands_after_a_tall_clump_fall_back_to_a_short_margin():
    """A bar of 100 rows, then small nuclei: the bands it crosses widen to hold it whole,
    those after it are short again (a widened margin used to stay for the rest of the page:
    every later band as tall as it), and all equal the image read whole."""
    h, w = 400, 40
    target = np.zeros((h, w), int)
    target[10:110, 10:30] = 2
    target[10:110, [10, 29]] = target[[10, 109], 10:30] = 1
    small = [(y, x) for y in range(140, 395, 12) for x in (8, 20, 32)]
    target[140:] = boundary_target(disc_ids((h, w), small, 4), boundary_width=1)[140:]
    probabilities = soft(target, 0)
    parts, unsure = _bands(probabilities, band_rows=8, margin=2, max_margin=200)
    whole = objects_from_probabilities(probabilities, INSTANCES)
    assert same_partition(np.concatenate([ids for _, ids in parts]), whole)
    assert unsure == 0
    assert max(ids.shape[0] for y, ids in parts if y < 110) >= 50
    assert max(ids.shape[0] for y, ids in parts if y > 200) <= 16


@pytest.mark.parametrize(
    "options",
    [
        INSTANCES,
        ObjectOptions(mode="semantic", background=0, distance_split=True),
        ObjectOptions(mode="semantic", background=0, watershed_seeds=0.7),
        ObjectOptions(mode="semantic", background=None, distance_split=True),
    ],
)
def test_objects_grow_over_pixels_each_pixel_decides_alone(options):
    """The pixels objects are grown over, a function of each pixel's probabilities (so a
    window's regions of them are the image's), hold every object grown (a membrane
    model's watershed lines are no object, but the cells grow over them)."""
    rng = np.random.default_rng(0)
    k = 3 if options.mode == "instances" else 2
    probabilities = rng.random((k, 40, 50)).astype(np.float32)
    probabilities = ndimage.gaussian_filter(probabilities, (0, 2, 2))
    probabilities /= probabilities.sum(0)
    over = grown_over(probabilities, options)
    grown = objects._grown(probabilities, options)[0] > 0
    assert grown.any() and not (grown & ~over).any()
    window = grown_over(probabilities[:, 7:31], options)
    assert np.array_equal(window, over[7:31])


def test_a_block_whose_rows_are_mostly_done_is_not_held_while_the_next_is_made(monkeypatch):
    """The bands keep of a finished block in pages of its own (in a slide: a row of tiles'
    buffer, as wide as the page) a copy of the rows a later window needs, not the block, so
    it is freed before the next block's tiles are predicted; the objects are those of one
    block alike."""
    monkeypatch.setattr(objects, "PAGE_ARRAY_BYTES", 1)  # these small blocks as large ones
    h, w = 120, 24
    centres = [(y, x) for y in range(8, 112, 13) for x in (6, 18)]
    probabilities = soft(boundary_target(disc_ids((h, w), centres, 5), boundary_width=1), 0)
    sources: list = []

    def blocks():
        for y in (0, 60):
            gc.collect()
            assert all(source() is None for source in sources)  # the block before: freed
            block = probabilities[:, y : y + 60].copy()
            sources.append(weakref.ref(block))
            yield y, block
            del block

    how = dict(height=h, options=INSTANCES, margin=2, band_rows=8, max_margin=6)
    parts = list(objects_in_bands(blocks(), **how))
    whole = list(objects_in_bands([(0, probabilities)], **how))
    assert [y for y, _ in parts] == [y for y, _ in whole]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(parts, whole, strict=True))


def test_a_wide_capped_window_makes_its_foreground_only_while_finding_its_margin(monkeypatch):
    """The band windows' foreground (:func:`grown_over`) is the one their margin was found
    from: none made again for the column blocks, each block's watershed or the cut objects
    (a wide capped window's was made two or three times, and once more by each block)."""
    from unetlab.inference import column_objects

    monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 32)
    monkeypatch.setattr(column_objects, "COLUMN_BLOCK", 24)
    rng = np.random.default_rng(0)
    centres = [(y, x) for y in range(6, 114, 9) for x in (12, 60)]  # two tall chains
    centres += [tuple(c) for c in rng.integers(0, [120, 200], (30, 2))]
    probabilities = soft(boundary_target(disc_ids((120, 200), centres, 5), boundary_width=1), 0)
    made, looking = [], []
    grown, margin_for = objects.grown_over, objects._margin_for

    def looked_for(*args):
        looking.append(True)
        try:
            return margin_for(*args)
        finally:
            looking.clear()

    monkeypatch.setattr(objects, "grown_over", lambda *a: made.append(bool(looking)) or grown(*a))
    monkeypatch.setattr(objects, "_margin_for", looked_for)
    parts, unsure = _bands(probabilities, band_rows=16, margin=2, max_margin=10)
    assert unsure > 0  # capped windows, their cut objects looked for
    assert len(made) > 8 and all(made)
