"""Probabilities -> objects: exact outputs on hand-built probability maps."""

import numpy as np
import pytest
from scipy import ndimage

from unetlab.data.instances import boundary_target
from unetlab.data.large_ids import id_dtype
from unetlab.inference.measure import TableSums, object_table
from unetlab.inference.objects import (
    MIN_AREA_FALLBACK,
    MIN_PEAK,
    ObjectOptions,
    _HeldRows,
    default_min_area,
    fill_object_holes,
    objects_from_probabilities,
    objects_in_bands,
    remove_small,
)


def disc_ids(shape, centres, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    ids = np.zeros(shape, np.int32)
    for k, (cy, cx) in enumerate(centres):
        ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = k + 1
    return ids


def one_hot(target, k=3):
    """(H, W) class indices -> (k, H, W) float32 probabilities 0/1."""
    return (np.arange(k)[:, None, None] == target[None]).astype(np.float32)


def same_partition(a, b) -> bool:
    """Equal up to renumbering of the ids (0 stays 0)."""
    if a.shape != b.shape or not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


INSTANCES = ObjectOptions(mode="instances", min_area=4)


def test_two_touching_discs_give_two_objects():
    ids = disc_ids((30, 40), [(15, 12), (15, 24)], 7)  # overlap: the second covers the first
    probs = one_hot(boundary_target(ids, boundary_width=2))
    out = objects_from_probabilities(probs, INSTANCES)
    assert out.dtype == np.uint16 and out.max() == 2
    np.testing.assert_array_equal(out, ids)  # every pixel back in its own object


def test_semantic_connected_components_merge_touching_discs():
    ids = disc_ids((30, 40), [(15, 12), (15, 24)], 7)
    out = objects_from_probabilities(one_hot((ids > 0).astype(int), 2), ObjectOptions(min_area=4))
    np.testing.assert_array_equal(out, (ids > 0).astype(np.int32))


def test_speckles_below_min_area_are_removed():
    target = np.zeros((20, 20), int)
    target[2:9, 2:9] = 2  # a 49 px object
    target[15, 15] = target[12:14, 3:5] = 2  # 1 px and 4 px speckles
    probs = one_hot(target)
    out = objects_from_probabilities(probs, ObjectOptions(mode="instances", min_area=5))
    expected = np.zeros((20, 20), np.int32)
    expected[2:9, 2:9] = 1
    np.testing.assert_array_equal(out, expected)
    semantic = objects_from_probabilities(one_hot(target > 0, 2), ObjectOptions(min_area=5))
    np.testing.assert_array_equal(semantic, expected)


def test_holes_are_filled_but_gaps_between_objects_are_not():
    ids = np.zeros((9, 14), np.int32)
    ids[1:8, 1:8] = 1
    ids[4, 4] = 0  # a hole inside object 1
    ids[1:8, 9:13] = 2
    filled = fill_object_holes(ids)
    assert filled[4, 4] == 1
    np.testing.assert_array_equal(filled[:, 8], 0)  # the gap between the objects stays
    ring = np.zeros((7, 7), np.int32)
    ring[1:6, 1:6], ring[3, 1:6] = 1, 2  # pocket (2, 2)-(2, 4)... enclosed by two objects
    ring[2, 2:5] = ring[4, 2:5] = 0
    assert (fill_object_holes(ring) == ring).all()


def square_ring(ids, top, left, size, value):
    """A 1-px square outline of ``value`` with its top-left corner at (top, left)."""
    ids[top : top + size, left : left + size] = value
    ids[top + 1 : top + size - 1, left + 1 : left + size - 1] = 0


def test_a_hole_joins_the_object_around_it_not_an_outer_one():
    ids = np.zeros((13, 13), np.int32)
    square_ring(ids, 1, 1, 11, 1)  # object 1 encloses object 2 ...
    square_ring(ids, 4, 4, 5, 2)  # ... whose hole is (5..7, 5..7)
    filled = fill_object_holes(ids)
    np.testing.assert_array_equal(filled[5:8, 5:8], 2)  # not 1: a detached piece of it
    np.testing.assert_array_equal(filled[2:11, 2][filled[2:11, 2] != 2], 1)  # the gap joins 1
    assert not (filled == 0)[1:12, 1:12].any()


def test_a_gap_around_a_fragment_in_a_hole_joins_the_object_that_encloses_it():
    ids = np.zeros((11, 11), np.int32)
    square_ring(ids, 1, 1, 9, 1)
    ids[5, 5] = 2  # a fragment in the hole
    ids[3, 3:8] = 3  # a bar across the hole: 3 touches only the gap, 1 encloses it
    filled = fill_object_holes(ids)
    expected = ids.copy()
    expected[(ids == 0)] = 1
    expected[0, :] = expected[-1, :] = expected[:, 0] = expected[:, -1] = 0
    np.testing.assert_array_equal(filled, expected)


def test_a_gap_that_fragments_enclose_together_stays_background():
    ids = np.zeros((11, 11), np.int32)
    square_ring(ids, 1, 1, 9, 1)
    ids[3:8, 3] = ids[3:8, 7] = 2  # two bars in the hole, joined top and bottom by 3
    ids[3, 4:7] = ids[7, 4:7] = 3  # the pocket (4..6, 4..6) is enclosed by 2 and 3 together
    filled = fill_object_holes(ids)
    np.testing.assert_array_equal(filled[4:7, 4:7], 0)  # not 1, which does not touch it
    assert (filled[2, 2:9] == 1).all()  # the gap between ring and bars joins the ring


def _fill_by_definition(ids):
    """Each 4-connected background region off the edge joins the object it touches that
    alone cuts it off from the edge (one binary_fill_holes per object and region)."""
    out = ids.copy()
    regions, n = ndimage.label(ids == 0)
    for r in range(1, n + 1):
        inside = regions == r
        touching = np.unique(ids[ndimage.binary_dilation(inside) & ~inside])
        for index in touching[touching > 0]:
            if ndimage.binary_fill_holes(ids == index)[inside].all():
                out[inside] = index
                break
    return out


@pytest.mark.parametrize("seed", range(6))
def test_hole_filling_follows_its_definition_on_random_maps(seed):
    rng = np.random.default_rng(seed)
    ids = np.zeros((48, 56), np.int32)
    for value in range(1, 40):
        top, left = rng.integers(0, 44, 2)
        size = int(rng.integers(2, 12))
        if rng.random() < 0.5:
            square_ring(ids, top, left, size, value)
        else:
            ids[top : top + rng.integers(1, 4), left : left + rng.integers(1, 6)] = value
    ids = remove_small(ids, 1)
    filled = fill_object_holes(ids)
    assert filled.dtype == np.int32
    np.testing.assert_array_equal(filled, _fill_by_definition(ids))


def test_unseeded_foreground_becomes_an_object():
    target = np.zeros((10, 10), int)
    target[2:8, 2:8] = 1  # boundary class only, no interior: still an object
    out = objects_from_probabilities(one_hot(target), INSTANCES)
    np.testing.assert_array_equal(out, (target > 0).astype(np.int32))


def test_empty_and_full_images():
    empty = objects_from_probabilities(one_hot(np.zeros((6, 7), int)), INSTANCES)
    assert empty.shape == (6, 7) and not empty.any()
    full = objects_from_probabilities(one_hot(np.full((6, 7), 2)), INSTANCES)
    np.testing.assert_array_equal(full, np.ones((6, 7)))  # an object touching every border


def test_one_sigmoid_channel():
    p = np.zeros((1, 8, 8), np.float32)
    p[0, 1:4, 1:4] = 0.9
    p[0, 5:8, 5:8] = 0.6
    out = objects_from_probabilities(p, ObjectOptions(min_area=1))
    assert out.max() == 2 and out[2, 2] == 1 and out[6, 6] == 2


def test_instance_mode_needs_three_classes():
    with pytest.raises(ValueError, match="needs 3 classes"):
        objects_from_probabilities(np.zeros((2, 4, 4)), INSTANCES)


def test_remove_small_renumbers_in_order():
    ids = np.array([[5, 5, 0, 9], [0, 2, 0, 9]])
    np.testing.assert_array_equal(remove_small(ids, 2), [[1, 1, 0, 2], [0, 0, 0, 2]])


def test_defaults_come_from_the_recorded_statistics():
    class Model:
        objects = {"target": "instances", "count": 10, "area_p05": 100.0, "area_p95": 900.0}

    options = ObjectOptions.for_model(Model())
    assert options.mode == "instances" and options.min_area == 25
    assert options.margin(Model.objects) == 60  # 2 * sqrt(900)
    assert ObjectOptions.for_model(Model(), min_area=3, seed_threshold=None).min_area == 3
    assert default_min_area(None) == MIN_AREA_FALLBACK
    assert default_min_area({"count": 0}) == MIN_AREA_FALLBACK
    assert ObjectOptions.for_model(object()).mode == "semantic"


def test_partition_helper():
    a = np.array([[1, 1, 0, 2]])
    assert same_partition(a, np.array([[7, 7, 0, 3]]))
    assert not same_partition(a, np.array([[7, 7, 0, 7]]))
    assert not same_partition(a, np.array([[7, 7, 3, 3]]))


def blocks_of(probs, rows):
    """(y, block) row blocks of ``rows`` rows, as the tiling loop yields them."""
    return ((y, probs[:, y : y + rows]) for y in range(0, probs.shape[1], rows))


def soft(target, seed):
    """Net-like probabilities of a class map: one-hot, blurred, with a little noise (a
    one-hot map's flat plateaus leave the watershed ties that only the queue order breaks,
    and that order depends on what else the window holds)."""
    p = ndimage.gaussian_filter(one_hot(target), (0, 1, 1))
    p += np.random.default_rng(seed).uniform(0, 0.05, p.shape)
    return (p / p.sum(0)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("band_rows", "block_rows"), [(13, 7), (20, 20), (7, 3), (200, 9)])
def test_bands_equal_the_whole_image_up_to_renumbering(band_rows, block_rows, seed):
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, [61, 47], (25, 2))  # many touching, some cut by the border
    ids = disc_ids((61, 47), centres, 4.5)
    probs = soft(boundary_target(ids, boundary_width=1), seed)
    whole = objects_from_probabilities(probs, INSTANCES)
    parts = list(
        objects_in_bands(
            blocks_of(probs, block_rows),
            height=61,
            options=INSTANCES,
            band_rows=band_rows,
            margin=12,
        )
    )
    assert [y for y, _ in parts] == list(range(0, 61, band_rows))
    banded = np.concatenate([b for _, b in parts])
    assert banded.shape == whole.shape and same_partition(banded, whole)


def test_bands_without_margin_cut_objects_at_the_seams():
    ids = disc_ids((20, 10), [(10, 5)], 4)
    probs = one_hot(boundary_target(ids))
    parts = objects_in_bands(
        blocks_of(probs, 5), height=20, options=INSTANCES, band_rows=10, margin=0
    )
    banded = np.concatenate([b for _, b in parts])
    assert len(np.unique(banded)) == 3  # the disc in two pieces: margin is what joins them


def test_bands_refuse_missing_rows():
    probs = np.zeros((3, 10, 4), np.float32)
    with pytest.raises(ValueError, match="ended at row 5 of 10"):
        list(
            objects_in_bands(
                blocks_of(probs[:, :5], 5), height=10, options=INSTANCES, band_rows=4, margin=2
            )
        )


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_table_columns_and_band_sums_agree(channels):
    ids = disc_ids((23, 31), [(5, 5), (12, 20), (22, 3)], 4)  # the last one cut by the edge
    rng = np.random.default_rng(0)
    image = None if channels is None else rng.integers(0, 255, (23, 31, channels)).astype(np.uint8)
    image = image[..., 0] if channels == 1 else image
    table = object_table(ids, image)
    np.testing.assert_array_equal(table["id"], [1, 2, 3])
    np.testing.assert_array_equal(table["area"], [(ids == k).sum() for k in (1, 2, 3)])
    assert table["centroid_y"][0] == 5 and table["centroid_x"][1] == 20
    np.testing.assert_array_equal(
        [table[k][0] for k in ("bbox_top", "bbox_left", "bbox_bottom", "bbox_right")],
        [1, 1, 10, 10],
    )
    np.testing.assert_array_equal(table["touches_border"], [False, False, True])
    if channels == 1:
        assert table["mean_intensity"][0] == pytest.approx(image[ids == 1].mean())
    sums = TableSums(3)
    for y in range(0, 23, 5):
        sums.add(y, ids[y : y + 5], None if image is None else image[y : y + 5])
    banded = sums.table(height=23, width=31)
    assert list(banded) == list(table)
    for key in table:
        np.testing.assert_allclose(banded[key], table[key], rtol=1e-12)


def test_band_sums_take_column_pieces_and_hold_only_the_objects_pixels():
    import tracemalloc

    ids = disc_ids((1000, 1200), [(100, 100), (500, 700), (990, 1190)], 12)
    image = np.random.default_rng(0).integers(0, 255, (1000, 1200, 3), np.uint8)
    sums = TableSums(3)
    tracemalloc.start()
    for y in range(0, 1000, 300):
        for x in range(0, 1200, 512):
            sums.add(y, ids[y : y + 300, x : x + 512], image[y : y + 300, x : x + 512], x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    table = object_table(ids, image)
    banded = sums.table(height=1000, width=1200)
    assert list(banded) == list(table)
    for key in table:
        np.testing.assert_allclose(banded[key], table[key], rtol=1e-12)
    # every pixel's row, column and id at 8 bytes each would be 3.7 MB a piece
    assert peak < 1e6


def test_band_windows_copy_only_the_rows_they_span():
    import tracemalloc

    probabilities = np.random.default_rng(1).random((3, 400, 2000), dtype=np.float32)
    blocks = [(y, probabilities[:, y : y + 200]) for y in range(0, 400, 200)]
    windows = []
    tracemalloc.start()
    held = _HeldRows(iter(blocks), 400)
    for core in range(0, 400, 64):
        top = max(core - 8, 0)
        window = held.rows(top, min(core + 72, 400))
        held.drop_before(core + 64 - 8)
        assert np.array_equal(window, probabilities[:, top : top + window.shape[1]])
        windows.append((window.shape, np.shares_memory(window, probabilities)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert windows[0] == ((3, 72, 2000), True)  # inside the first block: a view
    assert ((3, 80, 2000), False) in windows  # across the two blocks: a copy of its rows
    assert peak < 3 * 80 * 2000 * 4 * 1.5  # never both blocks stacked (9.6 MB)


def test_id_dtype():
    assert id_dtype(65535) == np.uint16 and id_dtype(65536) == np.uint32


def _nucleus_and_a_small_neighbour():
    """Probabilities of a 5013-px nucleus touching a 686-px one (a 1-px boundary rim each)."""
    from skimage.segmentation import find_boundaries

    yy, xx = np.mgrid[:160, :160]
    true = np.zeros((160, 160), int)
    true[(yy - 80) ** 2 + (xx - 60) ** 2 < 40**2] = 1
    true[((yy - 80) ** 2 + (xx - 113) ** 2 < 15**2) & (true == 0)] = 2
    rim = find_boundaries(true, mode="inner")
    target = np.where(true > 0, np.where(rim, 1, 2), 0)
    return true, one_hot(target)


def test_min_area_drops_a_small_touching_nucleus_instead_of_merging_it():
    true, probs = _nucleus_and_a_small_neighbour()
    assert list(np.bincount(true.ravel())[1:]) == [5013, 686]
    keep = objects_from_probabilities(probs, ObjectOptions(mode="instances", min_area=36))
    assert same_partition(keep, true)
    big = objects_from_probabilities(probs, ObjectOptions(mode="instances", min_area=3000))
    np.testing.assert_array_equal(big, (true == 1).astype(np.int32))  # 686 px: background
    bands = objects_in_bands(
        ((y, probs[:, y : y + 16]) for y in range(0, 160, 16)),
        height=160,
        options=ObjectOptions(mode="instances", min_area=3000),
        band_rows=40,
        margin=ObjectOptions(min_area=3000).margin(None),
    )
    streamed = np.concatenate([ids for _, ids in bands])
    assert same_partition(streamed, big)


def test_the_seed_size_does_not_follow_a_min_area_override():
    class Model:
        objects = {"target": "instances", "count": 10, "area_p05": 100.0, "area_p95": 900.0}

    default = ObjectOptions.for_model(Model())
    assert default.min_seed_area == 6  # a quarter of the default min_area, 25
    assert ObjectOptions.for_model(Model(), min_area=5000).min_seed_area == 6


def _a_nucleus_and_a_faint_blob():
    """Probabilities of a disc the net is sure of (interior 0.97) and one it half believes
    in (foreground 0.7, interior at most 0.6: out-of-focus texture)."""
    ids = disc_ids((40, 60), [(20, 15), (20, 45)], 8)
    probs = one_hot(boundary_target(ids, boundary_width=1)) * 0.97
    faint = ids == 2
    probs[:, faint] = np.array([0.3, 0.1, 0.6], np.float32)[:, None]
    return ids, probs


def test_an_instance_model_drops_an_object_whose_interior_never_peaks():
    class Model:
        objects = {"target": "instances", "count": 10, "area_p05": 40.0, "area_p95": 900.0}

    ids, probs = _a_nucleus_and_a_faint_blob()
    options = ObjectOptions.for_model(Model())
    assert options.min_peak == MIN_PEAK and 0.6 < MIN_PEAK < 0.97
    out = objects_from_probabilities(probs, options)
    np.testing.assert_array_equal(out, (ids == 1).astype(np.int32))
    both = objects_from_probabilities(probs, ObjectOptions.for_model(Model(), min_peak=0.0))
    assert both.max() == 2  # 0 keeps every object, as before
    bands = objects_in_bands(
        ((y, probs[:, y : y + 8]) for y in range(0, 40, 8)),
        height=40,
        options=options,
        band_rows=16,
        margin=options.margin(Model.objects),
    )
    assert same_partition(np.concatenate([b for _, b in bands]), out)


def test_min_peak_is_a_probability_of_a_nuclei_model():
    with pytest.raises(ValueError, match="min_peak is a probability"):
        ObjectOptions(mode="instances", min_peak=1.5)
    with pytest.raises(ValueError, match="stays low, of a nuclei .* model; this model has none"):
        ObjectOptions.for_model(object(), min_peak=0.5)
