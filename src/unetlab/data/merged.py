"""Regions of a semantic mask that look like several touching objects drawn as one.

A mask that stores one value for every nucleus (0/255) cannot keep touching nuclei apart:
two that touch are one 4-connected region, and the fingerprint, the plan and object scores
then see one object where the image holds two. Such a region is larger than the mask's
typical region and not convex: two round nuclei meeting at a neck fill their convex hull
less than one nucleus does. :func:`merged_regions` counts the regions larger than the
mask's median region whose solidity (area over the area of their convex hull) is below
``SOLID_BELOW``, in a mask whose typical regions are convex (nuclei, not EM's cells).
Against the Kromp 2020 masks of object ids drawn as 0/255 (a region is truly merged when it
holds two or more nuclei of 10 px or more): on the first 8 training masks it finds 243 of
the 1,802 regions, 219 of them merged (precision 0.90, recall 0.75 of the 292 merged); on
all 39 training masks precision 0.92, recall 0.75; on the 12 test masks 0.96 and 0.85; none
of the 3,431 cells of the 30 ISBI 2012 masks.

Each class is judged alone where the class map is given (``classes``): its regions against
its own median and typical shape. Judged together, a street scene's few large regions of
road, sky and buildings were larger than the median (its poles and signs) and not convex:
14% of the 389 objects of ``bench/road_scenes.py``'s masks looked merged, 3-9% of the street
kind's. Alone, no such class has a typical shape: 1-3.6 regions an image (Kromp's nuclei
280, the synthetic nuclei 23 at 256 px), fewer than ``TYPICAL_LEAST`` whole ones up to its
median, so none is said; a mask of one class is judged as before. Classes too few to judge
alone whose median region is small against the image (under ``POOL_SHARE`` of it) and of
one size (medians within ``POOL_RATIO``) are pooled and judged together: two nucleus types
of four nuclei each (a PanNuke-like tile) keep their estimate (2 merged pairs of 8 regions,
0 judged a type alone). The trade-off: a scene's small classes of one size pool too (12
road or street scenes a size, 64x128 to 512x1024: 0-4 of 119-478 regions said, 0-4 before
the pooling, at most 1.4%, far below ``MERGED_SHARE``), and nucleus types whose sizes differ
more than 1.5x, too few alone, are not judged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from unetlab.deferred import deferred

spatial = deferred("scipy.spatial")

MERGED_SHARE = 0.05  # from this share of a data set's regions looking merged, it is said
SOLID_BELOW = 0.94  # a region larger than the typical one filling less of its hull: merged
TYPICAL_SOLID = 0.76  # ... where at least this share of the regions up to the median are solid
TYPICAL_SAMPLE = 64  # the typical regions' solidity from at most about this many of them
TYPICAL_LEAST = 4  # ... of at least this many whole ones (none cut by the edge), else none said
POOL_SHARE = 0.01  # classes too few to judge alone pooled: their median region under this share
POOL_RATIO = 1.5  # ... of the image, and within this factor of each other's
LEAST_PIXELS = 20  # regions smaller than this are never counted (too few px for a shape)
#: regions covering more than this share of a mask tile it, as cells between membranes (EM:
#: 0.78-0.83 of ISBI's 256-px crops), not objects on a background (Kromp's nuclei: 0.04-0.56
#: an image): not judged (ISBI crops of 256 px said 59 of their 306 cells merged)
TILED_SHARE = 0.7


def merged_regions(objects: np.ndarray, classes: np.ndarray | None = None) -> int:
    """How many regions of ``objects`` ((H, W) ids, 0: background, e.g. the 4-connected
    regions of a semantic mask) look like several touching objects drawn as one; with
    ``classes`` (the (H, W) class map the regions are of) each class's regions against its
    own (:func:`looks_merged`)."""
    return region_counts(objects, classes)[0]


def region_counts(objects: np.ndarray, classes: np.ndarray | None = None) -> tuple[int, int]:
    """(how many regions of ``objects`` look merged (:func:`merged_regions`), how many
    regions it holds), both from one count of the regions' areas: predict's hint and
    evaluate's true regions counted each image's regions twice (np.unique, then again)."""
    objects = np.asarray(objects)
    areas = _areas(objects)
    kinds = _id_classes(objects, classes, areas.size)
    return int(_merged_ids(objects, areas, kinds).size), int(np.count_nonzero(areas))


def looks_merged(objects: np.ndarray, classes: np.ndarray | None = None) -> np.ndarray:
    """The ids of ``objects`` whose regions look like several touching objects drawn as
    one: larger than the median region and of solidity under ``SOLID_BELOW``, in a mask
    whose typical regions are blobs (:func:`blob_like`; else none: irregular cells, as in
    EM, are not convex even alone). With ``classes`` (the (H, W) class map whose regions
    ``objects`` are, each region of one class) each class is judged alone, its median and
    typical regions its own: a street scene's road, sky and buildings, a few large regions
    an image of no shape in common, are no objects a larger one could be several of."""
    objects = np.asarray(objects)
    areas = _areas(objects)
    return _merged_ids(objects, areas, _id_classes(objects, classes, areas.size))


def _areas(objects: np.ndarray) -> np.ndarray:
    """The area (px) of each id of ``objects``, 0 for the background (no region)."""
    areas = np.bincount(objects.ravel())
    areas[0] = 0
    return areas


def _id_classes(objects: np.ndarray, classes: np.ndarray | None, size: int) -> np.ndarray | None:
    """The class of each id 0..``size`` - 1 of ``objects`` in ``classes`` (None without
    ``classes``): the one class of its pixels, or where they hold several (predict fills an
    object's holes, specks of another class among them) the class of most of them."""
    if classes is None:
        return None
    flat, px = objects.ravel(), np.asarray(classes).ravel()
    if px.size and np.count_nonzero((px == px.max()) & (flat > 0)) == np.count_nonzero(flat):
        return None  # one class under every object (0/255 nuclei): judged as one, at once
    kinds = np.zeros(size, np.int64)
    kinds[flat] = px  # one of each id's pixels: its class, where they all agree
    mixed = np.zeros(size, bool)
    mixed[flat[kinds[flat] != px]] = True
    mixed[0] = False  # the background (0) holds every class but the objects'
    if mixed.any():
        inside = mixed[flat]
        kinds[mixed] = _most_of(np.cumsum(mixed)[flat[inside]] - 1, px[inside])
    return kinds


def _most_of(ranks: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """For each rank 0..n - 1 of ``ranks`` (one a pixel, each rank held), the value of
    ``kinds`` (beside ``ranks``) most of its pixels hold (the least of those tied); each
    (rank, kind) pair counted by one bincount (np.unique over the stacked pairs took 3x the
    rest of the estimate where every object held a speck of another class)."""
    lowest = kinds.min()
    kinds = kinds.astype(np.int64) - lowest  # from 0, whatever the class map's values
    present = np.flatnonzero(np.bincount(kinds))
    index = np.zeros(present[-1] + 1, np.int64)
    index[present] = np.arange(present.size)  # the kinds held, 0..k - 1
    counts = np.bincount(
        ranks * present.size + index[kinds], minlength=(ranks.max() + 1) * present.size
    )
    most = present[counts.reshape(-1, present.size).argmax(axis=1)]  # argmax: the least tied
    return most + lowest


def _merged_ids(objects: np.ndarray, areas: np.ndarray, kinds: np.ndarray | None) -> np.ndarray:
    """:func:`looks_merged` of ``objects`` whose ids' ``areas`` (:func:`_areas`) and
    classes (``kinds``: :func:`_id_classes`; None: one class) are known
    (:func:`merged_among`), the solidities of the ids it picks from one pass over the rims."""

    def solidities(chosen: np.ndarray) -> dict:
        return _solidities(objects, areas, chosen)

    return merged_among(areas, kinds, _on_the_edge(objects), objects.size, solidities)


def merged_among(
    areas: np.ndarray,
    kinds: np.ndarray | None,
    edge: np.ndarray,
    pixels: int,
    solidities: Callable[[np.ndarray], dict],
) -> np.ndarray:
    """:func:`looks_merged` of an image of ``pixels`` px known by its regions: ``areas``
    (px by id, 0 where no region), ``kinds`` (class by id, None: one class), ``edge`` (the
    ids on the image's edge), ``solidities(chosen)`` ({id: :func:`solidity`} of the sorted
    ids ``chosen``: an image read whole measures them at once, a streamed slide band by
    band); none where the regions tile the mask (``TILED_SHARE``)."""
    ids = np.flatnonzero(areas)
    if areas.sum() > TILED_SHARE * pixels:
        return np.zeros(0, np.int64)
    groups = [ids] if kinds is None else _class_groups(areas, ids, kinds, edge, pixels)
    picks = [p for p in (_large_and_typical(areas, group, edge) for group in groups) if p]
    if not picks:
        return np.zeros(0, np.int64)
    chosen = np.unique(np.concatenate([ids for pick in picks for ids in pick]))
    solid = solidities(chosen)
    found = [_judged(large, small, solid) for large, small in picks]
    return np.sort(np.concatenate(found))


def _class_groups(
    areas: np.ndarray, ids: np.ndarray, kinds: np.ndarray, edge: np.ndarray, pixels: int
) -> list:
    """The region ``ids`` by class (``kinds``), each judged alone; the classes too few to
    judge alone (fewer than ``TYPICAL_LEAST`` whole regions up to their median: two nucleus
    types of four nuclei each) whose median region is small against the image (under
    ``POOL_SHARE`` of its ``pixels``: no road, sky or building) pooled, judged together."""
    groups = [ids[kinds[ids] == k] for k in np.unique(kinds[ids])]
    few = [_typical_count(areas, group, edge) < TYPICAL_LEAST for group in groups]
    alone = [group for group, short in zip(groups, few) if not short]
    pooled = [
        g for g, short in zip(groups, few) if short and np.median(areas[g]) < POOL_SHARE * pixels
    ]
    return alone + _size_bands(areas, pooled)


def _size_bands(areas: np.ndarray, groups: list) -> list:
    """The region ``groups`` (each of a class) pooled where their median areas are within
    ``POOL_RATIO`` of the next smaller one's: nucleus types of one size together, a small
    scene's poles (40 px) and signs (80 px) apart."""
    if not groups:
        return []
    medians = np.asarray([np.median(areas[group]) for group in groups])
    order = np.argsort(medians, kind="stable")
    cuts = np.flatnonzero(medians[order][1:] > POOL_RATIO * medians[order][:-1]) + 1
    return [np.sort(np.concatenate([groups[i] for i in band])) for band in np.split(order, cuts)]


def _typical_count(areas: np.ndarray, ids: np.ndarray, edge: np.ndarray) -> int:
    """How many of the region ``ids`` are whole (not on the ``edge``), of at least
    ``LEAST_PIXELS`` and no larger than their median: the typical regions judged by."""
    present = ids[areas[ids] >= LEAST_PIXELS]
    small = present[areas[present] <= np.median(areas[ids])]
    return int(np.setdiff1d(small, edge).size)


def _large_and_typical(areas: np.ndarray, ids: np.ndarray, edge: np.ndarray) -> tuple:
    """(large, typical) of the region ``ids`` (of one class): those of at least
    ``LEAST_PIXELS`` larger than their median, and a sample of at most about
    ``TYPICAL_SAMPLE`` of the others not on the image's ``edge``; () where none is large."""
    present = ids[areas[ids] >= LEAST_PIXELS]
    median = np.median(areas[ids]) if ids.size else 0
    large, small = present[areas[present] > median], present[areas[present] <= median]
    if large.size == 0:
        return ()
    small = np.setdiff1d(small, edge)  # typical: whole regions only
    return large, small[:: -(-small.size // TYPICAL_SAMPLE)] if small.size else small


def _judged(large: np.ndarray, small: np.ndarray, solid: dict) -> np.ndarray:
    """The ``large`` ids of solidity under ``SOLID_BELOW`` where the ``small`` (typical)
    ones are at least ``TYPICAL_LEAST`` and blobs (:func:`blob_like`), else none."""
    if small.size < TYPICAL_LEAST or not blob_like([solid[i] for i in small]):
        return np.zeros(0, np.int64)
    return np.asarray([i for i in large if solid[i] < SOLID_BELOW], np.int64)


def _on_the_edge(objects: np.ndarray) -> np.ndarray:
    """The ids of ``objects`` that touch the image's edge: cut there, a region's shape is
    not its own (the convex pieces of EM cells cut by a 64-px crop's edge made its cells
    look like blobs: 9% of their regions were said to look merged)."""
    rim = np.concatenate([objects[0], objects[-1], objects[:, 0], objects[:, -1]])
    return np.unique(rim)


def blob_like(solidities) -> bool:
    """Whether a mask's typical regions (``solidities`` of those no larger than the median)
    are blobs: at least ``TYPICAL_SOLID`` of them of solidity ``SOLID_BELOW`` or more
    (nuclei: 0.80-1.0 of them an image on the 51 Kromp 2020 masks; EM cells: 0.35-0.73 on
    the 30 ISBI 2012 ones)."""
    solid = np.asarray(solidities) >= SOLID_BELOW
    return solid.size > 0 and float(solid.mean()) >= TYPICAL_SOLID


def _solidities(objects: np.ndarray, areas: np.ndarray, chosen: np.ndarray) -> dict:
    """{id: :func:`solidity`} of the ids ``chosen`` (sorted) of ``objects``."""
    kept = np.zeros(areas.size, bool)
    kept[chosen] = True
    ids, points = _rim_points(objects, kept)
    starts = np.searchsorted(ids, chosen)
    ends = np.searchsorted(ids, chosen, side="right")
    return {int(i): solidity(areas[i], points[a:b]) for i, a, b in zip(chosen, starts, ends)}


def _rim_points(objects: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, points): the (y, x) of every rim pixel (a pixel with a 4-neighbour of another
    id, or on the image's edge) of the ids ``kept`` marks, sorted by id."""
    ids, ys, xs = rim_pixels(objects, kept)
    order = np.argsort(ids, kind="stable")
    return ids[order], np.stack([ys[order], xs[order]], axis=1)


def rim_pixels(
    objects: np.ndarray, kept: np.ndarray, halo: tuple[int, int, int, int] = (0, 0, 0, 0)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, ys, xs) of the rim pixels (:func:`_rim_points`) of the ids ``kept`` marks, in
    raster order, in a window of ids read with ``halo`` (rows above and below, columns left
    and right of it, 0 or 1 each: a streamed slide's neighbouring pixels; beyond the
    image's edge, none, read as background); ys and xs are the window's, without its halo."""
    top, bottom, left, right = halo
    padded = np.pad(objects, ((1 - top, 1 - bottom), (1 - left, 1 - right)))
    inner = padded[1:-1, 1:-1]
    rim = (
        (padded[:-2, 1:-1] != inner)
        | (padded[2:, 1:-1] != inner)
        | (padded[1:-1, :-2] != inner)
        | (padded[1:-1, 2:] != inner)
    )
    ys, xs = np.nonzero(rim)
    ids = inner[ys, xs]
    mine = kept[ids]
    return ids[mine], ys[mine], xs[mine]


def solidity(area: int, rim: np.ndarray) -> float:
    """A region's ``area`` (px) over the px its convex hull covers, the hull taken over its
    rim pixels' centres (``rim``: (n, 2) whole numbers): the pixel centres in the hull,
    counted exactly by Pick's theorem (area + boundary points / 2 + 1), so a digitally
    convex region, a disc or a square, scores 1."""
    try:
        hull = spatial.ConvexHull(rim.astype(np.float64))
    except (spatial.QhullError, ValueError):  # a line or a point: nothing to hollow out
        return 1.0
    corners = rim[hull.vertices].astype(np.int64)  # counter-clockwise, on pixel centres
    steps = np.abs(np.diff(corners, axis=0, append=corners[:1]))
    boundary = int(np.gcd(steps[:, 0], steps[:, 1]).sum())
    covered = hull.volume + boundary / 2 + 1  # 2-D: volume is the area
    return float(min(area / covered, 1.0))
