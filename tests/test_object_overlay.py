"""The overlay of an instance model shows its objects (counting audit 5), in memory and
streamed alike; a semantic model's shows its classes as before."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from unetlab.data.io import read_image
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.slide_overlay import by_object, write_slide_overlay
from unetlab.plots import (
    OBJECT_PALETTE,
    display_rgb,
    draw_outlines,
    object_colour_table,
    object_colours,
    object_overlay,
    outlines,
    overlay,
    prediction_overlay,
)


def _merged():
    """Two touching objects (1, 2) and a third (3) apart, over a grey ramp."""
    image = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (12, 1))
    ids = np.zeros((12, 16), np.int64)
    ids[2:8, 2:6], ids[2:8, 6:10], ids[9:11, 12:15] = 1, 2, 3
    return image, ids


def test_colours_of_isolated_objects_fixed_per_id_and_apart_for_ids_in_a_row():
    ids = np.arange(0, 3001)
    colours = object_colours(ids).astype(int)
    assert (colours[0] == 0).all()
    np.testing.assert_array_equal(object_colours(ids[::-1]), colours[::-1])  # fixed per id
    step = np.abs(np.diff(colours[1:], axis=0)).sum(1)
    assert step.min() > 150  # ids in a row (neighbours in reading order) differ clearly


def test_uint64_ids_above_2_63_are_coloured_as_objects():
    ids = np.array([0, 5, 2**62 + 5, 2**63 + 9, 2**64 - 1], np.uint64)
    colours = object_colours(ids).astype(int)
    assert (colours[0] == 0).all() and colours[1:].sum(axis=1).min() > 150
    np.testing.assert_array_equal(colours[1], object_colours(np.array([5])).astype(int)[0])


def _crowd(seed: int = 0, n: int = 400, side: int = 256) -> np.ndarray:
    """(side, side) ids of ``n`` objects packed edge to edge (nearest of random seeds,
    ids shuffled), a few split by a 1-px line of background."""
    rng = np.random.default_rng(seed)
    seeds = np.zeros((side, side), np.int64)
    seeds[rng.integers(0, side, n), rng.integers(0, side, n)] = rng.permutation(n) + 1
    _, (iy, ix) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    ids = seeds[iy, ix]
    ids[::37] = 0  # lines of background 1 px wide: the objects either side stay neighbours
    return ids


def _near_pairs(ids: np.ndarray):
    """The pairs of different objects whose pixels are side by side (4- and 8-neighbours)
    or one background pixel apart in a row or column."""
    found = set()
    for a, b in [
        (ids[:, :-1], ids[:, 1:]),
        (ids[:-1], ids[1:]),
        (ids[:-1, :-1], ids[1:, 1:]),
        (ids[:-1, 1:], ids[1:, :-1]),
        (ids[:-2], ids[2:]),
        (ids[:, :-2], ids[:, 2:]),
    ]:
        near = (a != b) & (a > 0) & (b > 0)
        found |= set(zip(a[near].tolist(), b[near].tolist()))
    return found


def _assert_neighbours_apart(ids: np.ndarray, colours: np.ndarray) -> int:
    """Every pair of near objects (:func:`_near_pairs`) in colours far apart (RGB distance
    over 150 of 765: not two greens); returns the pairs checked."""
    colour = {}
    for k in np.unique(ids[ids > 0]).tolist():
        seen = np.unique(colours[ids == k], axis=0)
        assert len(seen) == 1, k  # one colour per object
        colour[k] = seen[0].astype(int)
    pairs = _near_pairs(ids)
    for a, b in pairs:
        assert np.abs(colour[a] - colour[b]).sum() > 150, (a, b, colour[a], colour[b])
    return len(pairs)


def test_touching_objects_never_share_or_nearly_share_a_colour():
    for seed in range(3):
        ids = _crowd(seed)
        assert _assert_neighbours_apart(ids, object_colours(ids)) > 900
        np.testing.assert_array_equal(object_colours(ids), object_colours(ids.copy()))
    as_float = object_colours(ids.astype(np.float32))  # a viewer's float labels alike
    np.testing.assert_array_equal(as_float, object_colours(ids))
    # huge, sparse ids (a tracker's or a hash's, above 2**63) keep neighbours apart too
    big = ids.astype(np.uint64) * np.uint64(2**40 + 7) + np.uint64(2**63)
    big[ids == 0] = 0
    assert big.max() > 2**63
    _assert_neighbours_apart(big, object_colours(big))
    # the in-memory overlay's outlines
    drawn = object_overlay(np.zeros(ids.shape, np.uint8), ids)
    assert _assert_neighbours_apart(np.where(outlines(ids), ids, 0), drawn) > 900


def test_a_band_drawn_with_the_whole_maps_table_has_the_whole_maps_colours():
    ids = _crowd(4)
    whole = object_colours(ids)
    table = object_colour_table(ids)
    np.testing.assert_array_equal(object_colours(ids[100:140], table), whole[100:140])
    assert len(table[0]) > 300 and set(table[1].tolist()) <= set(range(len(OBJECT_PALETTE)))


def test_each_object_filled_and_outlined_in_its_own_colour():
    image, ids = _merged()
    drawn = object_overlay(image, ids, alpha=0.3)
    shown = display_rgb(image).astype(np.float32)
    colours = object_colours(ids)
    edge = outlines(ids)
    np.testing.assert_array_equal(drawn[edge], colours[edge])
    inner = (ids > 0) & ~edge
    mixed = np.round(0.7 * shown[inner] + 0.3 * colours[inner]).astype(np.uint8)
    np.testing.assert_array_equal(drawn[inner], mixed)
    np.testing.assert_array_equal(drawn[ids == 0], display_rgb(image)[ids == 0])
    # touching objects 1 and 2 are told apart; merged (one id) they are one colour
    assert not (drawn[4, 4] == drawn[4, 7]).all()
    merged = np.where(ids == 2, 1, ids)
    one = object_overlay(image, merged)
    assert (one[outlines(merged) & (merged == 1)] == object_colours(np.array(1))).all()


def test_classes_stay_for_semantic_models():
    image, ids = _merged()
    labels = (ids > 0).astype(np.int64)
    classes = draw_outlines(overlay(image, labels), ids)
    np.testing.assert_array_equal(prediction_overlay(image, labels, ids), classes)
    np.testing.assert_array_equal(prediction_overlay(image, labels), overlay(image, labels))
    by_objects = prediction_overlay(image, labels, ids, by_object=True)
    np.testing.assert_array_equal(by_objects, object_overlay(image, ids))
    assert by_object(ObjectOptions(mode="instances"))
    assert not by_object(ObjectOptions(mode="semantic")) and not by_object(None)


def test_streamed_overlay_draws_objects_as_the_in_memory_one(tmp_path):
    image, ids = _merged()
    labels = (ids > 0).astype(np.int64)

    def window(a):
        return lambda rows, cols: a[rows, cols]

    args = (ids.shape, window(image[..., None]), window(labels), window(ids))
    write_slide_overlay(tmp_path / "s.png", *args, by_object=True)
    np.testing.assert_array_equal(read_image(tmp_path / "s.png"), object_overlay(image, ids))
    write_slide_overlay(tmp_path / "c.png", *args)
    np.testing.assert_array_equal(
        read_image(tmp_path / "c.png"), draw_outlines(overlay(image, labels), ids)
    )


def _planes() -> np.ndarray:
    """(2, 24, 32) ids of two objects of a 3-D stack (ids 1 and 9, whose own colours are
    the same): side by side in plane 0, apart in plane 1."""
    ids = np.zeros((2, 24, 32), np.int32)
    ids[0, 4:16, 2:12], ids[0, 4:16, 12:24] = 1, 9
    ids[1, 4:16, 2:8], ids[1, 4:16, 18:24] = 1, 9
    return ids


def test_an_object_of_several_planes_has_one_colour_in_all(tmp_path, monkeypatch):
    import tifffile

    import unetlab.inference.files as files
    from tests.test_predict_objects import local_net
    from unetlab.inference.folders import predict_folder

    ids = _planes()
    table = object_colour_table(ids)  # the pages' neighbours: 1 and 9 apart in both
    assert object_colour_table(list(ids))[1].tolist() == table[1].tolist()
    coloured = object_colours(ids, table)
    one, nine = (np.unique(coloured[ids == k], axis=0) for k in (1, 9))
    assert len(one) == len(nine) == 1 and np.abs(one.astype(int) - nine).sum() > 150
    # predict --objects-3d --overlay: each plane drawn with its frame's table
    monkeypatch.setattr(files, "_joined_in_3d", lambda *a, **k: list(ids))
    image = (np.random.default_rng(0).random(ids.shape) * 255).astype(np.uint8)
    for axes, joined in (("ZYX", True), ("TYX", False)):
        tifffile.imwrite(tmp_path / "s.tif", image, imagej=True, metadata={"axes": axes})
        out = tmp_path / axes
        how = dict(objects=True, objects_3d=joined, draw_overlay=True)
        predict_folder(local_net(), [tmp_path / "s.tif"], out, **how)
        drawn = tifffile.imread(out / "s_overlay.tif")
        for k in (1, 9):
            edge = np.array([outlines(page) for page in ids]) & (ids == k)
            seen = np.unique(drawn[edge], axis=0)
            if joined:  # was: 9 cyan in plane 0, purple in plane 1
                assert len(seen) == 1, k
            else:  # a movie's frames (ids from 1 in each) each drawn as alone
                alone = [object_colours(page)[outlines(page) & (page == k)] for page in ids]
                assert {tuple(c) for c in seen.tolist()} == {
                    tuple(c) for a in alone for c in a.tolist()
                }, k
