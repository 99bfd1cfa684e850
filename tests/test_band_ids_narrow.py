"""The ids of a streamed slide's object bands in int32 where they fit, not int64: a band's
window of a 16,384-px-wide slide is 4 million pixels, and its int64 copies (the split's
numbering, the band's offset ids, the merged ids) held 35 MB each at the objects' peak
(bench/README.md, "Peak memory against a slide's size"). The values stay those of int64."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from unetlab.inference import objects
from unetlab.inference.objects import (
    ObjectOptions,
    _Merger,
    objects_from_probabilities,
    objects_in_bands,
    offset_ids,
    split_by_distance,
    split_dtype,
)

INT32_MAX = np.iinfo(np.int32).max


@pytest.mark.parametrize(
    ("offset", "top", "dtype"),
    [(0, 5, np.int32), (100, 5, np.int32), (INT32_MAX - 5, 5, np.int32), (INT32_MAX, 5, np.int64)],
)
def test_offset_ids_add_the_offset_but_to_0_in_the_least_int_that_holds_them(offset, top, dtype):
    ids = np.array([[0, 1, top], [2, 0, 3]], np.int32)
    expected = np.where(ids > 0, ids.astype(np.int64) + offset, 0)
    out = offset_ids(ids, offset)
    assert out.dtype == dtype and np.array_equal(out, expected)


def test_offset_ids_of_int64_ids_that_fit_are_int32():
    ids = np.array([0, 7, 9], np.int64)
    assert offset_ids(ids, 10).dtype == np.int32
    assert offset_ids(ids, 10).tolist() == [0, 17, 19]


def test_split_dtype_is_int32_while_every_new_piece_fits():
    assert split_dtype(np.zeros((4, 4), np.int64)) == np.int32
    assert split_dtype(np.array([INT32_MAX - 4, 0, 0, 0])) == np.int32
    assert split_dtype(np.array([INT32_MAX - 3, 0, 0, 0])) == np.int64


def test_relabel_keeps_the_ids_dtype():
    merger = _Merger()
    merger.union(3, 9)
    ids = np.array([[0, 9, 3], [4, 9, 0]], np.int32)
    out = merger.relabel(ids)
    assert out.dtype == np.int32 and out.tolist() == [[0, 3, 3], [4, 3, 0]]


@pytest.mark.parametrize("offset", [0, 3_000_000])  # a band early in a slide, and far in
def test_relabel_holds_the_copy_and_a_slice(offset):
    """A wide band's core rows relabelled: their copy, 4 B a pixel, and slices of 2**16 px
    (the band's distinct ids by sorting held an index and a sorted copy too: 8 B)."""
    rng = np.random.default_rng(0)
    ids = np.kron(rng.integers(0, 3000, (64, 1024)), np.ones((4, 4), np.int64)).astype(np.int32)
    ids[ids % 7 == 0] = 0
    ids[ids > 0] += offset
    merger = _Merger()
    for i in range(1, 3000, 5):
        merger.union(offset + i, offset - 2 * i if offset else i + 1)
    values, inverse = np.unique(ids, return_inverse=True)
    expected = np.array([merger.find(int(v)) if v else 0 for v in values])[inverse]
    out, peak = _relabelled_and_peak(merger, ids)
    assert np.array_equal(out, expected.reshape(ids.shape)) and out.dtype == np.int32
    assert peak / ids.size < 5.5


def test_relabel_of_a_fortran_ordered_band_relabels_it():
    """A column-ordered array (a transposed or sliced window) relabelled, not returned as is."""
    merger = _Merger()
    merger.union(5, 9)
    ids = np.asfortranarray(np.array([[9, 0, 5], [9, 9, 0], [4, 9, 5]], np.int32))
    assert merger.relabel(ids).tolist() == [[5, 0, 5], [5, 5, 0], [4, 5, 5]]
    assert merger.relabel(ids[1:]).tolist() == [[5, 5, 0], [4, 5, 5]]


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_relabel_of_ids_far_apart_holds_no_table_of_their_range(dtype):
    """Ids 1e7 apart: a lookup table of their range held 80 MB and 1e7 finds (3 s)."""
    merger = _Merger()
    merger.union(5, 10_000_005)
    merger.union(7, 9_000_000)
    ids = np.zeros((256, 1024), dtype)
    ids[0, :3] = 10_000_005, 9_000_000, 12
    ids[-1, -2:] = 5, 7
    out, peak = _relabelled_and_peak(merger, ids)
    expected = np.where(ids == 10_000_005, 5, np.where(ids == 9_000_000, 7, ids))
    assert out.dtype == dtype and np.array_equal(out, expected)
    assert peak < 4 * ids.nbytes


def _relabelled_and_peak(merger: _Merger, ids: np.ndarray) -> tuple[np.ndarray, int]:
    """``merger.relabel(ids)`` and the bytes traced at its peak."""
    tracemalloc.start()
    try:
        return merger.relabel(ids), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _nuclei(rng, shape):
    """(3, H, W) instance probabilities of touching discs: background, boundary, interior."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    interior = np.zeros(shape)
    for _ in range(40):
        y, x, r = rng.integers(0, shape[0]), rng.integers(0, shape[1]), rng.integers(4, 9)
        interior = np.maximum(interior, 1 - np.hypot(yy - y, xx - x) / r)
    interior = np.clip(interior * 1.6, 0, 1)
    foreground = np.clip(interior * 2, 0, 1)
    return np.stack([1 - foreground, foreground - interior, interior]).astype(np.float32)


def test_bands_yield_int32_ids_as_the_image_read_whole_numbers_them():
    rng = np.random.default_rng(5)
    probabilities = _nuclei(rng, (96, 80))
    options = ObjectOptions(mode="instances", min_area=5)
    blocks = [(y, probabilities[:, y : y + 24]) for y in range(0, 96, 24)]
    bands = list(objects_in_bands(blocks, height=96, options=options, band_rows=32, margin=16))
    assert len(bands) == 3 and all(ids.dtype == np.int32 for _, ids in bands)
    whole = objects_from_probabilities(probabilities, options)
    streamed = np.concatenate([ids for _, ids in bands])
    # the same partition of the pixels (bands number their objects otherwise)
    pairs = np.unique(np.stack([whole.ravel(), streamed.ravel()]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def test_the_split_numbers_its_pieces_as_int64_did(monkeypatch):
    rng = np.random.default_rng(11)
    probabilities = _nuclei(rng, (64, 64))
    ids = objects_from_probabilities(probabilities, ObjectOptions(mode="instances", min_area=1))
    split = split_by_distance(ids, interior=probabilities[2])
    monkeypatch.setattr(objects, "split_dtype", lambda ids: np.dtype(np.int64))
    assert np.array_equal(split, split_by_distance(ids, interior=probabilities[2]))
