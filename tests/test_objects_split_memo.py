"""The distance split of a streamed image's bands: an object that lies whole in two
overlapping windows (its pixels alike) is split once (:class:`SplitMemo`), not in every
window (a crowded 2000 x 2000 page split 3,432 objects in its bands where the image read
whole split 1,399), and the ids stay those of splitting it in each window."""

import numpy as np
import pytest

from tests.test_postprocess import same_partition, soft
from tests.test_split_fast import random_discs, random_interior
from unetlab.data.instances import boundary_target
from unetlab.inference import objects
from unetlab.inference.objects import (
    ObjectOptions,
    SplitMemo,
    objects_from_probabilities,
    objects_in_bands,
    split_by_distance,
)


def _splits(monkeypatch) -> list[tuple]:
    """Record the padded mask of each object :func:`objects._split_one` is given."""
    seen, split_one = [], objects._split_one
    monkeypatch.setattr(
        objects,
        "_split_one",
        lambda mask, *a: seen.append((mask.shape, mask.tobytes())) or split_one(mask, *a),
    )
    return seen


def _crowded(seed: int) -> np.ndarray:
    """(3, 160, 48) probabilities, as a net gives them, of 15 pairs of overlapping discs of
    one id each (dumbbells the distance split cuts), some touching others."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:160, :48]
    ids = np.zeros((160, 48), np.int64)
    for k in range(1, 16):
        r, (y, x), angle = rng.uniform(6, 9), rng.uniform(0, (160, 48)), rng.uniform(0, np.pi)
        for d in (0, 1.8 * r):
            cy, cx = y + d * np.sin(angle), x + d * np.cos(angle)
            ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = k
    return soft(boundary_target(ids, boundary_width=1), seed)


def banded(probabilities, options, outside=None) -> np.ndarray:
    parts = objects_in_bands(
        [(0, probabilities)],
        height=probabilities.shape[1],
        options=options,
        band_rows=12,
        margin=4,
        max_margin=40,
        outside=outside,
    )
    return np.concatenate([ids for _, ids in parts])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weigh", [False, True])
def test_bands_split_each_object_once_with_the_ids_of_splitting_it_in_each(
    seed, weigh, monkeypatch
):
    options = ObjectOptions(mode="instances", min_area=5, distance_split=True, split_interior=weigh)
    probabilities = _crowded(seed)
    seen = _splits(monkeypatch)
    whole = objects_from_probabilities(probabilities, options)
    assert len(set(seen)) == len(seen) >= 3  # distinct objects, some to split
    seen.clear()
    found = banded(probabilities, options)
    assert same_partition(found, whole)
    assert len(set(seen)) == len(seen)  # none split twice
    once = len(seen)
    seen.clear()
    monkeypatch.setattr(SplitMemo, "recall", lambda self, keys: {})  # each window anew
    again = banded(probabilities, options)
    np.testing.assert_array_equal(found, again)
    assert len(seen) > once  # the windows overlap: without the memo objects split again


@pytest.mark.parametrize("seed", range(20))
def test_a_memo_gives_the_split_of_each_window_alone(seed, monkeypatch):
    """Overlapping windows of a random id map (discs, merged pairs, objects cut by the
    windows' edges), with and without an interior weight: with the memo of those before,
    each is split as alone, splitting no more objects; a window again, none."""
    rng = np.random.default_rng(seed)
    ids = random_discs(rng)
    interior = random_interior(rng, ids.shape) if seed % 2 else None
    h = ids.shape[0]
    memo, seen = SplitMemo(), _splits(monkeypatch)
    for k, rows in enumerate([slice(0, 2 * h // 3), slice(h // 3, h), slice(h // 3, h)]):
        weight = None if interior is None else interior[rows]
        alone = split_by_distance(ids[rows], interior=weight)
        calls = len(seen)
        memo.top = rows.start
        found = split_by_distance(ids[rows], interior=weight, memo=memo)
        np.testing.assert_array_equal(found, alone)
        assert len(seen) - calls <= calls
        if k == 2:
            assert len(seen) == calls  # all of them split before, at the same place
        seen.clear()
