"""The watershed's ties are decided by each region alone (:mod:`unetlab.data.region_watershed`):
one slide split into bands of other heights, or into column blocks, gives the same objects
as read whole, on one-hot probabilities whose flat plateaus tie everywhere."""

import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

from tests.test_grow_seeds_memory import _reference
from tests.test_postprocess import disc_ids, one_hot, same_partition
from unetlab.data import region_watershed
from unetlab.data.instances import boundary_target
from unetlab.data.labels import grow_seeds
from unetlab.data.region_watershed import position_ranks, watershed_by_region
from unetlab.inference import column_objects
from unetlab.inference.objects import ObjectOptions, objects_in_bands, objects_int32

TIES = ObjectOptions(mode="instances", min_area=4, distance_split=False)


def _tied_slide(seed: int, shape=(120, 90), count=25) -> np.ndarray:
    """(3, H, W) one-hot probabilities of touching discs: interior 1.0 across each clump."""
    rng = np.random.default_rng(seed)
    ids = disc_ids(shape, rng.integers(0, shape, (count, 2)), 6)
    return one_hot(boundary_target(ids, boundary_width=1))


def _in_bands(probabilities, band_rows: int) -> np.ndarray:
    """The slide's ids in bands of ``band_rows`` rows, every window holding its regions
    whole (a margin up to the slide's height)."""
    parts = objects_in_bands(
        [(0, probabilities)],
        height=probabilities.shape[1],
        options=TIES,
        band_rows=band_rows,
        margin=2,
        max_margin=probabilities.shape[1],
    )
    return np.concatenate([ids for _, ids in parts])


@pytest.mark.parametrize("seed", [3, 9])
def test_two_band_heights_give_the_objects_of_the_slide_read_whole(seed):
    """Bands of 10 and of 23 rows moved 2 (seed 3) and 4 (seed 9) pixels between touching
    discs, and 2 or 4 from the slide read whole, before the regions were flooded alone."""
    probabilities = _tied_slide(seed)
    whole = objects_int32(probabilities, TIES)
    assert whole.max() > 10
    assert same_partition(_in_bands(probabilities, 10), whole)
    assert same_partition(_in_bands(probabilities, 23), whole)


@pytest.mark.parametrize("seed", [1, 5])
def test_column_blocks_give_the_objects_of_the_window_read_whole(monkeypatch, seed):
    """A wide window found in blocks of 24 columns (the slide's 512 past 2,048 px, made
    small): each block's window holds other regions beside those of its core."""
    probabilities = _tied_slide(seed, (60, 200), 40)
    whole = objects_int32(probabilities, TIES)
    monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 32)
    monkeypatch.setattr(column_objects, "COLUMN_BLOCK", 24)
    assert column_objects.in_columns(probabilities.shape[-1])
    assert same_partition(_in_bands(probabilities, 60), whole)


def test_a_region_floods_alike_whatever_lies_beside_it():
    """One tied clump of three discs, alone and with another clump beside it in the image:
    its pixels take the same seeds."""
    rng = np.random.default_rng(0)
    clump = disc_ids((30, 40), rng.integers(6, [24, 34], (3, 2)), 6)
    beside = disc_ids((30, 40), rng.integers(5, [25, 35], (4, 2)), 5)
    image = np.concatenate([clump, np.zeros((30, 3), np.int32), beside], axis=1)
    interior, foreground = (image > 0).astype(np.float32), image > 0
    seeds = np.isin(boundary_target(image, boundary_width=1), 2)
    alone = grow_seeds(-interior[:, :40], seeds[:, :40], foreground[:, :40])
    together = grow_seeds(-interior, seeds, foreground)[:, :40]
    assert same_partition(alone, together)


@pytest.mark.parametrize("chunk", [2**16, 7])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_position_ranks_put_markers_alone_in_raster_order_before_their_value(
    monkeypatch, dtype, chunk
):
    """The flood's priorities: dense ranks of the values (-0.0 equal to 0.0, NaN of either
    sign one value after all others, as ``np.unique`` has it), each marker
    pixel ranked alone, in raster order, before the other pixels of its value (which tie),
    0 outside ``where``, whatever the float width; read in steps of 7 keys too (the steps of
    2**16 of an image past 65,536 px, whose ranks go on across a step's end)."""
    monkeypatch.setattr(region_watershed, "_CHUNK", chunk)
    rng = np.random.default_rng(2)
    choices = [-2.5, -1.0, -0.0, 0.0, 0.5, 3.0, np.inf, -np.inf, np.nan, -np.nan]
    values = rng.choice(choices, (40, 30)).astype(dtype)
    where, seeded = rng.random((40, 30)) < 0.8, rng.random((40, 30)) < 0.2
    ranks = position_ranks(values, where, seeded)
    level = np.unique(values[where].astype(np.float64) + 0.0, return_inverse=True)[1]
    index = np.where(seeded[where], np.flatnonzero(where), -1)
    rows = np.stack([level.reshape(-1), ~seeded[where], index], axis=1).astype(np.int64)
    expected = np.zeros(values.shape)
    expected[where] = np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1) + 1
    assert np.array_equal(ranks, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_the_lexsort_ranks_past_2_31_pixels_are_the_keys_ranks(dtype):
    """``_ranked_by_lexsort`` (2**31 pixels or more, past the keys' index bits) ranks as the
    sorted keys do: NaN of either sign one value after all others, markers alone."""
    rng = np.random.default_rng(4)
    finite = [-2.5, -0.0, 0.0, 3.0]
    choices = finite if dtype == np.int16 else finite + [np.inf, -np.inf, np.nan, -np.nan]
    values = rng.choice(choices, (30, 20)).astype(dtype)
    where, seeded = rng.random((30, 20)) < 0.8, rng.random((30, 20)) < 0.2
    keys = region_watershed._sorted_keys(values, where, seeded)
    expected = region_watershed._ranked(keys)
    lexsorted = region_watershed._ranked_by_lexsort(values[where], seeded[where])
    assert np.array_equal(lexsorted, expected)


def test_a_plateau_past_2_16_pixels_takes_the_ids_of_the_reference():
    """400 x 400 px of one flat region with 3 seeds: its keys pass ``_CHUNK`` (2**16) at the
    real size, so the ranks go on across the steps' ends (the reference ranks by np.unique)."""
    elevation, seeds = np.zeros((400, 400), np.float32), np.zeros((400, 400), bool)
    seeds[[20, 200, 390], [30, 350, 100]] = True
    mask = np.ones((400, 400), bool)
    found = grow_seeds(elevation, seeds, mask)
    assert np.array_equal(found, _reference(elevation, seeds, mask))
    assert np.unique(found).tolist() == [1, 2, 3]


def _tied_maps(seed: int, shape=(120, 90), count=25):
    """(elevation, seeds, mask) of touching discs, soft or one-hot: their interiors seeds
    (tied at -1.0 when one-hot), the discs the mask."""
    rng = np.random.default_rng(seed)
    ids = disc_ids(shape, rng.integers(0, shape, (count, 2)), 6)
    inside = boundary_target(ids, boundary_width=1) == 2
    interior = inside.astype(np.float32)
    if seed % 2:
        interior += rng.uniform(0, 0.2, shape).astype(np.float32)
    return -interior, inside, ids > 0


def _counted(monkeypatch, name: str) -> list:
    """The calls of ``region_watershed``'s function ``name`` (their results)."""
    calls, function = [], getattr(region_watershed, name)

    def counted(*args, **kwargs):
        calls.append(function(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(region_watershed, name, counted)
    return calls


@pytest.mark.parametrize("seed", [2, 3, 8])
@pytest.mark.parametrize("connectivity, line", [(1, False), (2, False), (1, True)])
def test_floods_in_windows_of_a_few_rows_give_the_ids_of_one_flood(
    monkeypatch, seed, connectivity, line
):
    """The regions holding several seeds flooded in windows of 4 rows (a region in the window
    of its first row, windows overlapping where regions pass their end) or all at once, the
    ranks read in steps of 7 keys in the windows (an image past 65,536 px)."""
    maps, how = _tied_maps(seed), dict(connectivity=connectivity, line=line)
    monkeypatch.setattr(region_watershed, "MIN_FLOOD_ROWS", 10**6)
    floods = _counted(monkeypatch, "_flood")
    whole = grow_seeds(*maps, **how)
    assert len(floods) == 1
    monkeypatch.setattr(region_watershed, "MIN_FLOOD_ROWS", 4)
    monkeypatch.setattr(region_watershed, "FLOODS", 100)
    monkeypatch.setattr(region_watershed, "BLOCK_ROWS", 3)
    monkeypatch.setattr(region_watershed, "_CHUNK", 7)
    assert np.array_equal(grow_seeds(*maps, **how), whole)
    assert len(floods) > 3  # more than one window
    assert len(np.unique(whole)) > 10


def test_more_than_255_windows_are_numbered_apart(monkeypatch):
    """300 two-seed regions, one every other row, each in a window of its own: the windows'
    numbers were uint8, 256 wrapped to 0 (and ``_box`` of no pixel failed)."""
    elevation, mask = np.zeros((600, 5), np.float32), np.zeros((600, 5), bool)
    mask[::2] = True
    seeds = np.zeros((600, 5), bool)
    seeds[::2, 0] = seeds[::2, 4] = True
    monkeypatch.setattr(region_watershed, "MIN_FLOOD_ROWS", 10**6)
    whole = grow_seeds(elevation, seeds, mask)
    monkeypatch.setattr(region_watershed, "MIN_FLOOD_ROWS", 1)
    monkeypatch.setattr(region_watershed, "FLOODS", 1000)
    monkeypatch.setattr(region_watershed, "BLOCK_ROWS", 1)
    floods = _counted(monkeypatch, "_flood")
    assert np.array_equal(grow_seeds(elevation, seeds, mask), whole)
    assert len(floods) == 300
    assert len(np.unique(whole)) == 601


def test_float64_ranks_give_the_labels_of_float32_ones(monkeypatch):
    """Past ``FLOAT32_RANKS`` ranks (2**24: 16 M pixels flooded at once; made 50 here) the
    priorities are float64: the same ranks, the same ids."""
    elevation, seeds, mask = _tied_maps(5)
    monkeypatch.setattr(region_watershed, "MIN_FLOOD_ROWS", 10**6)  # one flood
    ranks = _counted(monkeypatch, "position_ranks")
    expected = grow_seeds(elevation, seeds, mask)
    monkeypatch.setattr(region_watershed, "FLOAT32_RANKS", 50)
    assert np.array_equal(grow_seeds(elevation, seeds, mask), expected)
    assert [r.dtype for r in ranks] == [np.float32, np.float64]
    assert np.array_equal(ranks[1], ranks[0])
    assert ranks[0].max() > 50


def test_a_3d_image_is_refused_not_flooded_as_rows():
    """The windows are of rows and columns (``_box``): a volume was flooded in wrong windows,
    silently."""
    elevation, seeds, mask = (np.stack([m[:40, :40]] * 3) for m in _tied_maps(2))
    markers = ndimage.label(seeds)[0]
    with pytest.raises(ValueError, match="2-d markers"):
        watershed_by_region(elevation, markers, mask)


def _clumps(rows: int, width: int, step: int):
    """(elevation, seeds, mask) of two touching soft discs in each ``step``-px cell."""
    yy, xx = np.mgrid[:rows, :width]
    cy, cx = (yy % step) - step // 2, (xx % step) - step // 2
    left = np.clip(1 - np.hypot(cy, cx + 5) / 6, 0, 1)
    interior = np.maximum(left, np.clip(1 - np.hypot(cy, cx - 5) / 6, 0, 1)).astype(np.float32)
    interior += np.random.default_rng(0).uniform(0, 0.01, interior.shape).astype(np.float32)
    return -interior, interior > 0.5, interior > 0.05


def test_many_two_seed_clumps_flood_in_windows_in_under_11_bytes_a_pixel():
    """1,024^2 px of two-seed clumps: one flood of the image held its float32 ranks and mask
    beside skimage's float64 copies, 30.5 B a pixel (bench/region_watershed.py pairs);
    floods of an eighth of its rows at a time 12.0, where ``np.bincount`` of the seeds'
    int32 labels (their sizes) copied them as intp; counted by blocks of rows, 10.1."""
    maps = _clumps(1024, 1024, 32)
    grow_seeds(*(m[:64, :64] for m in maps))  # skimage's modules imported untraced
    tracemalloc.start()
    try:
        grow_seeds(*maps, min_seed_area=4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / maps[0].size < 11
