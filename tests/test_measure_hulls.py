"""Convex hulls of objects: scikit-image's convex area exactly, whole and in pieces, and
memory that goes with a block of objects, not with all of them."""

import tracemalloc

import numpy as np
import pytest
from skimage.measure import regionprops_table

from unetlab.inference.measure import TableSums, object_table


def shapes(h, w, seed) -> np.ndarray:
    """Ellipses, sparse (far from convex) blobs, single pixels and a large disc."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    ids = np.zeros((h, w), np.int32)
    ids[(yy - h / 2) ** 2 + (xx - w / 3) ** 2 <= (h / 3) ** 2] = 1
    for k in range(2, 40):
        cy, cx = rng.uniform(-5, [h + 5, w + 5])
        if k % 3 == 0:
            a, b, t = rng.uniform(1, 30), rng.uniform(0.5, 15), rng.uniform(0, np.pi)
            u = (yy - cy) * np.cos(t) + (xx - cx) * np.sin(t)
            v = -(yy - cy) * np.sin(t) + (xx - cx) * np.cos(t)
            ids[(u / a) ** 2 + (v / b) ** 2 <= 1] = k
        elif k % 3 == 1:
            near = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.uniform(4, 900)
            ids[near & (rng.random((h, w)) < 0.03)] = k
        else:
            ids[int(cy) % h, int(cx) % w] = k
    return ids


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_convex_areas_are_scikit_images(seed):
    ids = shapes(150, 230, seed)
    oracle = regionprops_table(ids, properties=["label", "area_convex"])
    table = object_table(ids)
    np.testing.assert_array_equal(table["id"], oracle["label"])
    np.testing.assert_array_equal(np.rint(table["area"] / table["solidity"]), oracle["area_convex"])
    for rows, cols in [(1, 230), (9, 31), (150, 4)]:
        sums = TableSums(int(ids.max()))
        for y in range(0, ids.shape[0], rows):
            for x in range(0, ids.shape[1], cols):
                sums.add(y, ids[y : y + rows, x : x + cols], None, x)
        pieces = sums.table(height=ids.shape[0], width=ids.shape[1])
        np.testing.assert_array_equal(pieces["solidity"], table["solidity"])


def test_hull_memory_goes_with_a_block_of_objects():
    """All objects' hulls were counted at once: ~5 KB an object at the end of a slide
    with 170,000 nuclei (audit s28 perf, F1)."""
    cell, ny, nx = 7, 90, 180
    yy, xx = np.mgrid[: cell * ny, : cell * nx]
    inside = ((yy % cell - 3) ** 2 + (xx % cell - 3) ** 2) <= 9
    ids = np.where(inside, (yy // cell) * nx + xx // cell + 1, 0)
    sums = TableSums(ny * nx)
    sums.add(0, ids)
    tracemalloc.start()
    try:
        table = sums.table(height=ids.shape[0], width=ids.shape[1])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(table["id"]) == ny * nx
    assert peak < 1000 * ny * nx, f"{peak / (ny * nx):.0f} B an object"
