"""Label images whose ids lie far above their pixel count (a tracker's 32- or 64-bit ids, a
hash's; uint64 above 2**63) through the functions that took arrays as long as the largest
id: the nodata flags (nodata.touched_ids, flag_touching), the fingerprint's cut_regions and
line_objects, and inference.objects' small-object removal, renumbering, splitting and hole
filling. Each gives what the same objects under compact ids give (the user's ids where it
returns ids), at the cost of the objects: a traced peak of a few MB, where a bool per id of
3e9 was 3 GB and ids above 2**63 no array."""

import tracemalloc

import numpy as np
import pytest

from unetlab.data.fingerprint import cut_regions, line_objects
from unetlab.data.instances import object_areas, split_pieces
from unetlab.data.large_ids import compact_large_ids, far_above
from unetlab.data.nodata import flag_touching, touched_ids
from unetlab.inference.measure import object_table
from unetlab.inference.necks import split_necks
from unetlab.inference.objects import (
    ObjectOptions,
    compact,
    enclosed_specks_joined,
    faint_objects,
    fill_object_holes,
    object_classes,
    remove_small,
    remove_small_objects,
    seam_pairs,
    speck_owners,
    split_by_distance,
)
from unetlab.inference.objects_3d import objects_3d, table_3d
from unetlab.inference.outlines import object_polygons
from unetlab.inference.table_extras import saturated_fraction

BIG = [(np.uint32, 3_000_000_000), (np.int64, 2**40), (np.uint64, 2**63 + 9)]
PEAK = 8_000_000  # bytes traced: the arrays of a 40 x 48 image, not of an id


def _ids(dtype, big: int) -> np.ndarray:
    """Five objects: two large ids, one ring with a hole, a 1-px line, one cut by the edge."""
    ids = np.zeros((40, 48), dtype)
    ids[2:12, 3:15] = big
    ids[5:8, 7:10] = 0  # a hole in it
    ids[15:30, 20:23] = 5
    ids[20:32, 30:44] = big - 1
    ids[35, 2:20] = 7  # a line
    ids[0:3, 40:48] = 2  # at the edge
    return ids


def _dense(ids: np.ndarray, big: int) -> np.ndarray:
    """The same objects under compact ids (their ranks 1..5)."""
    order = np.array([0, 2, 5, 7, big - 1, big], ids.dtype)
    return np.searchsorted(order, ids)


def _traced(function, *args, **kwargs):
    """(``function``'s result, its traced peak in bytes)."""
    tracemalloc.start()
    try:
        out = function(*args, **kwargs)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_nodata_flags_objects_of_large_ids_as_of_compact_ones(dtype, big):
    ids, bad = _ids(dtype, big), np.zeros((40, 48), bool)
    bad[30:40, 40:48] = True  # beside id big - 1 only
    near, peak = _traced(touched_ids, ids, bad)
    assert near.tolist() == [big - 1] and peak < PEAK
    table = object_table(ids)
    flagged, peak = _traced(flag_touching, table, ids, bad)
    same = flag_touching(object_table(_dense(ids, big)), _dense(ids, big), bad)
    assert flagged["touches_border"].tolist() == same["touches_border"].tolist()
    assert flagged["touches_border"].tolist() == [True, False, False, True, False]
    assert [int(i) for i in flagged["id"]] == [2, 5, 7, big - 1, big] and peak < PEAK


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_cut_regions_and_lines_of_large_ids_are_those_of_their_ranks(dtype, big):
    ids, outside = _ids(dtype, big), np.zeros((40, 48), bool)
    outside[12, 3] = True
    dense = _dense(ids, big)
    for function, args in ((cut_regions, (outside,)), (line_objects, ())):
        out, peak = _traced(function, ids, *args)
        np.testing.assert_array_equal(out, function(dense, *args))
        assert peak < PEAK
    assert cut_regions(ids, outside).tolist() == [True, False, False, False, True]
    assert line_objects(ids).tolist() == [False, False, True, False, False]


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_small_objects_and_renumbering_of_large_ids_as_of_compact_ones(dtype, big):
    ids = _ids(dtype, big)
    dense = _dense(ids, big)
    options = ObjectOptions(min_area=20, cut_min_area=5)
    for function, args in (
        (remove_small, (20,)),
        (compact, ()),
        (remove_small_objects, (options,)),
        (split_by_distance, ()),
    ):
        out, peak = _traced(function, ids, *args)
        np.testing.assert_array_equal(out, function(dense, *args), err_msg=function.__name__)
        assert peak < PEAK, function.__name__


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_holes_of_large_ids_are_filled_and_the_ids_kept(dtype, big):
    ids = _ids(dtype, big)
    filled, peak = _traced(fill_object_holes, ids)
    expected = ids.copy()
    expected[5:8, 7:10] = big
    assert [int(v) for v in np.unique(filled)] == [0, 2, 5, 7, big - 1, big]
    np.testing.assert_array_equal(filled.astype(np.uint64), expected.astype(np.uint64))
    np.testing.assert_array_equal(fill_object_holes(_dense(ids, big)), _dense(expected, big))
    assert peak < PEAK


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_outlines_of_large_ids_are_keyed_by_them(dtype, big):
    ids = _ids(dtype, big)
    polygons, peak = _traced(object_polygons, ids)
    dense = object_polygons(_dense(ids, big))
    assert list(polygons) == [2, 5, 7, big - 1, big] and peak < PEAK
    as_lists = [[[np.asarray(r).tolist() for r in piece] for piece in p] for p in polygons.values()]
    assert as_lists == [
        [[np.asarray(r).tolist() for r in piece] for piece in p] for p in dense.values()
    ]


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_areas_and_split_ids_of_large_ids_as_of_compact_ones(dtype, big):
    ids = _ids(dtype, big)
    ids[38, 40:44] = big  # a second piece of id big
    dense = _dense(ids, big)
    areas, peak = _traced(object_areas, ids)
    assert areas.tolist() == object_areas(dense).tolist() and peak < PEAK
    split, peak = _traced(split_pieces, ids)
    assert split == [big] and split_pieces(dense) == [5] and peak < PEAK


def test_far_above_is_decided_by_the_dtype_where_it_can_be():
    small = np.zeros((128, 128), np.uint16)  # 16 k px: no uint16 id is far above them
    assert not far_above(small) and far_above(np.array([[0, 70000]], np.uint32))
    assert far_above(np.array([[0, 2000]], np.uint16)) and not far_above(small.astype(np.int64))
    ranks, original = compact_large_ids(np.array([[0, 2000], [7, 2000]], np.uint16))
    assert ranks.tolist() == [[0, 2], [1, 2]] and original.tolist() == [0, 7, 2000]


def _necked(dtype, big: int) -> np.ndarray:
    """Two discs of radius 15 joined at a narrow neck (id ``big``), a square (5) and a bar
    (``big`` - 1)."""
    yy, xx = np.mgrid[:60, :100]
    ids = np.zeros((60, 100), dtype)
    ids[((yy - 30) ** 2 + (xx - 30) ** 2 <= 225) | ((yy - 30) ** 2 + (xx - 56) ** 2 <= 225)] = big
    ids[2:8, 80:90] = 5
    ids[50:58, 80:95] = big - 1
    return ids


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_necks_of_large_ids_split_as_their_ranks_and_the_ids_kept(dtype, big):
    ids = _necked(dtype, big)
    order = np.array([0, 5, big - 1, big], dtype)
    dense = split_necks(np.searchsorted(order, ids), least=50)
    assert dense.max() == 4  # the discs parted: a new piece after the 3 objects
    out, peak = _traced(split_necks, ids, least=50)
    given = np.concatenate([order, [big + 1]]).astype(np.uint64)
    np.testing.assert_array_equal(out.astype(np.uint64), given[dense])
    assert out.dtype == (np.uint64 if big >= 2**63 else np.int64) and peak < PEAK


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_seam_pairs_of_large_ids_are_those_of_their_ranks(dtype, big):
    ids = _ids(dtype, big)
    lower = ids.copy()
    lower[2:12, 3:15] = 9  # another labelling's id for object big
    pairs = seam_pairs(ids, lower)
    assert pairs == [(2, 2), (5, 5), (7, 7), (big - 1, big - 1), (big, 9)]


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_table_3d_of_large_ids_is_that_of_their_ranks(dtype, big):
    ids = np.stack([_ids(dtype, big)] * 3)
    image = np.arange(ids.size, dtype=np.float64).reshape(ids.shape)
    table, peak = _traced(table_3d, ids, image, (1.0, 0.5, 0.5))
    dense = table_3d(_dense(ids, big), image, (1.0, 0.5, 0.5))
    assert [int(i) for i in table["id"]] == [2, 5, 7, big - 1, big] and peak < PEAK
    assert dense["id"].tolist() == [1, 2, 3, 4, 5] and list(table) == list(dense)
    for key in set(table) - {"id"}:
        np.testing.assert_array_equal(table[key], dense[key], err_msg=key)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.uint64])
def test_table_3d_has_a_row_per_object_not_per_id_up_to_the_largest(dtype):
    ids = np.zeros((3, 8, 8), dtype)
    ids[:, 1:3, 1:3], ids[1:, 5:7, 5:7] = 1, 5
    table = table_3d(ids, np.ones(ids.shape), None)
    assert table["id"].tolist() == [1, 5] and table["volume"].tolist() == [12, 8]
    assert table["z_first"].tolist() == [0, 1] and table["z_last"].tolist() == [2, 2]


@pytest.mark.parametrize(("dtype", "big"), [(np.int64, 20_000_000), *BIG])
def test_classes_and_faint_objects_of_large_ids_are_by_object_not_by_every_id(dtype, big):
    """By object (the ids present and a value each), where a by-id answer held an entry per
    id up to the largest: 160 MB for one id 2e7, a MemoryError for 3e9 and 2**40 (8 TB)."""
    ids, dense = _ids(dtype, big), _dense(_ids(dtype, big), big)
    labels = np.where(ids == 5, 2, (ids > 0).astype(np.int64))
    interior = np.where(ids == 7, 0.2, 0.9)
    (present, kinds), peak = _traced(object_classes, ids, labels, 0)
    assert [int(i) for i in present] == [2, 5, 7, big - 1, big] and peak < PEAK
    assert kinds.tolist() == object_classes(dense, labels, 0)[1].tolist() == [1, 2, 1, 1, 1]
    assert object_classes(dense, labels, 0)[0].tolist() == [1, 2, 3, 4, 5]
    faint, peak = _traced(faint_objects, ids, interior, 0.5)
    assert [int(i) for i in faint] == [7] and peak < PEAK
    assert faint_objects(dense, interior, 0.5).tolist() == [3]
    options = ObjectOptions(
        min_area=1, cut_min_area=1, class_min_areas=(0, 1, 50), background=0, min_peak=0.5
    )
    kept = remove_small_objects(ids, options, labels, interior=interior)
    same = remove_small_objects(dense, options, labels, interior=interior)
    np.testing.assert_array_equal(kept, same)
    assert kept.max() == 3  # id 5 (45 px, class 2) too small, id 7 faint


def _specks(dtype, big: int) -> np.ndarray:
    """Two objects of large ids: in one, two touching specks (4 px each; dropped, one
    group); in the other, a speck of id 3 inside and one of id big - 5 at its rim (open)."""
    ids = np.zeros((30, 40), dtype)
    ids[2:20, 2:20] = big
    ids[8:10, 8:10], ids[9:11, 10:12] = big - 3, big - 2
    ids[22:28, 25:38] = big - 1
    ids[25:27, 30:32], ids[22:24, 25:27] = 3, big - 5
    return ids


SPECK_IDS = [(np.int64, 2**62 + 7), (np.int64, 2**40), (np.uint64, 2**63 + 9)]


@pytest.mark.parametrize(("dtype", "big"), SPECK_IDS)
def test_specks_inside_objects_of_large_ids_join_them_as_under_compact_ids(dtype, big):
    """The pairs (speck, what it touches) were packed as speck id * (largest id + kept
    id): ids of 2**62 overflowed int64, and the table by speck id took 8 TB for 2**40."""
    ids = _specks(dtype, big)
    dense = np.searchsorted(np.unique(ids), ids)
    kept = remove_small(ids, 10)
    joined, peak = _traced(enclosed_specks_joined, ids, kept)
    np.testing.assert_array_equal(joined, enclosed_specks_joined(dense, remove_small(dense, 10)))
    assert joined[8, 8] == joined[10, 11] == joined[5, 5] > 0 and peak < PEAK
    assert joined[25, 30] == joined[23, 35] > 0 and joined[22, 25] == 0  # open: dropped


@pytest.mark.parametrize(("dtype", "big"), SPECK_IDS)
def test_specks_join_kept_objects_that_keep_large_ids(dtype, big):
    """``kept`` of the user's own large ids (not renumbered): each speck takes its
    object's id, the pairs of specks and ids of 2**62 sorted, not packed into one int64;
    uint64 ids above 2**63 were read as negative, a speck touching another (s47)."""
    ids = _specks(dtype, big)
    kept = np.where(remove_small(ids, 10) > 0, ids, 0)
    joined = enclosed_specks_joined(ids, kept)
    assert joined[8, 8] == joined[10, 11] == big and joined[25, 30] == big - 1
    assert joined[22, 25] == 0 and (joined[kept > 0] == kept[kept > 0]).all()


@pytest.mark.parametrize(("dtype", "big"), SPECK_IDS)
def test_speck_owners_of_large_ids_are_those_of_their_ranks(dtype, big):
    """speck_owners (enclosed_specks_joined's and SemanticBands' region graph) with specks
    and kept objects of large ids gives what their ranks give, in the ids' dtype: uint64 ids
    above 2**63 were read as negative (no owner), 2**62 as pairs sorted, not packed (s47).
    Specks big-3 and big-2 touch each other and kept object big only; speck 3 touches big-1
    and something open; speck big-5 touches big-1 alone."""
    specks = np.array([big - 3, big - 2, 3, 3, big - 5], dtype)
    targets = np.array([big, big, big - 1, 0, big - 1], dtype)
    links = np.array([[big - 3], [big - 2]], dtype)
    nodes, owner = speck_owners(specks, targets, links)
    assert nodes.tolist() == [3, big - 5, big - 3, big - 2]
    assert owner.dtype == dtype and owner.tolist() == [0, big - 1, big, big]
    order = np.unique(np.concatenate([specks, targets]))
    ranked = [np.searchsorted(order, a) for a in (specks, targets, links)]
    small_nodes, small_owner = speck_owners(*ranked)
    assert (order[small_nodes] == nodes).all() and (order[small_owner] == owner).all()


@pytest.mark.parametrize(("dtype", "big"), BIG)
def test_objects_3d_of_planes_of_large_ids_are_those_of_their_ranks(dtype, big):
    planes = np.stack([_ids(dtype, big)] * 3)
    planes[1, 20:32, 30:37] = big - 3  # a plane's object split in two
    order = np.array([0, 2, 5, 7, big - 3, big - 1, big], dtype)
    joined, peak = _traced(objects_3d, planes)
    np.testing.assert_array_equal(joined, objects_3d(np.searchsorted(order, planes)))
    assert joined.max() == 5 and peak < PEAK


@pytest.mark.parametrize(("dtype", "big"), [*BIG, (np.uint64, 70)])
def test_saturated_fractions_of_large_ids_are_those_of_their_ranks(dtype, big):
    ids = _ids(dtype, big)
    image = np.zeros((40, 48), np.uint8)
    image[2:7, 3:15] = 255  # 54 of object big's 111 px (its hole: 9) at the ceiling
    image[35, 2:5] = 255  # 3 of the line's 18
    present = np.array([2, 5, 7, 9, big - 1, big], dtype)  # 9: no object of the image
    out, peak = _traced(saturated_fraction, ids, image, present)
    dense = saturated_fraction(_dense(ids, big), image, np.array([1, 2, 3, 1, 4, 5]))
    assert out.tolist() == [0, 0, 3 / 18, 0, 0, 54 / 111] and peak < PEAK
    assert dense.tolist()[:3] == out.tolist()[:3] and dense.tolist()[4:] == out.tolist()[4:]


def test_instance_ids_beyond_int32_are_refused_naming_the_fix():
    """Instance masks (training's, evaluate --gt-instances) hold ids below 2**31: a tracker's
    3e9 was refused naming the range only; the line names the fix, which reads."""
    from skimage.segmentation import relabel_sequential

    from unetlab.data.instances import instance_ids
    from unetlab.errors import DatasetError

    mask = np.zeros((16, 16), np.uint32)
    mask[2:6, 2:6], mask[9:14, 9:14] = 3_000_000_000, 3_000_000_007
    with pytest.raises(DatasetError) as refused:
        instance_ids(mask, name="a.tif")
    line = str(refused.value)
    assert "\n" not in line and line.startswith("a.tif: instance ids run from 0 to 3000000007")
    assert line.endswith(
        "number the objects 1..n (a tracker's or hash's ids: "
        "skimage.segmentation.relabel_sequential) and save them as 32-bit"
    )
    ids = instance_ids(relabel_sequential(mask)[0], name="a.tif")
    assert sorted(np.unique(ids).tolist()) == [0, 1, 2]
