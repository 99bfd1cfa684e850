"""Which of the training masks' regions tell how large a class's objects are.

Prediction takes each class's least object size from the training masks (1/4 of the 5th
percentile of its regions' areas), so a region that is not a whole object must not count:

- a region *cut* by the image's edge or by unlabelled pixels (a tile exported from a slide
  cuts the glands it crosses into slivers of any size, down to 1 px);
- a *sliver*: a region no wider than ``LINE_WIDTH`` px (:func:`unetlab.data.fingerprint.
  line_objects`), such as the 1-2 px of a gland left between two nuclei drawn over its edge,
  in a class whose pixels lie mostly in wider regions (a thin class, a rim or a contour,
  keeps them: they are its objects; by pixels, as a few large glands hold far more pixels
  than their many specks).

A class keeps its cut regions where it has no whole one, and its slivers where it has nothing
else, so that every class with regions still has sizes. :func:`region_facts` measures one
mask, :func:`sized` decides over a data set.
"""

from __future__ import annotations

import numpy as np

from unetlab.data.fingerprint import LINE_WIDTH, cut_regions, line_objects
from unetlab.data.large_ids import index_dtype, largest_compact

FACTS = ("area", "kind", "cut", "edge", "sliver")


def region_facts(ids: np.ndarray, kinds=None, ignored: np.ndarray | None = None) -> dict:
    """For each region of an (H, W) id map (``ids``, 0 none) in increasing id order: its
    ``area`` (px), ``kind`` (its class: the value of (H, W) ``kinds`` at its pixels; all 0
    without), ``cut`` (it touches the image's edge or an ``ignored`` pixel, 4-neighbours),
    ``edge`` (it touches the image's edge) and ``sliver``
    (:func:`unetlab.data.fingerprint.line_objects`). Ids far above the pixel count (a
    tracker's) are ranked first (:func:`~unetlab.data.large_ids.largest_compact`: arrays
    by the largest id needed GBs)."""
    ids, top = largest_compact(np.asarray(ids, dtype=np.int64))
    counts = np.bincount(ids.ravel(), minlength=top + 1)[1:]
    present = counts > 0
    cut = cut_regions(ids, ignored)
    kind = np.zeros(top, np.int64)
    if kinds is not None and top:
        kind[present] = np.asarray(kinds).ravel()[first_pixels(ids)[1:][present]]
    sliver = line_objects(ids) if top else np.zeros(0, bool)
    return {
        "area": counts[present],
        "kind": kind[present],
        "cut": cut[present],
        "edge": cut_regions(ids)[present] if ignored is not None else cut[present],
        "sliver": sliver[present],
    }


def first_pixels(ids: np.ndarray) -> np.ndarray:
    """For each id 0..max of a non-negative integer id map (any integer dtype: int32 where
    the ids fit), the raveled index of its first pixel in raster order (the pixel count
    where it has none): ``np.unique(ids.ravel(), return_index=True)``, which sorts every
    pixel (0.12 CPU-s for 2048 x 2048, 80% of :func:`region_facts`), by one pass (0.01 s)."""
    flat = ids.ravel()
    dtype = index_dtype(flat.size)  # the places as int32 where they fit: half the memory
    first = np.full(int(flat.max(initial=0)) + 1, flat.size, dtype)  # one dtype: fast
    np.minimum.at(first, flat, np.arange(flat.size, dtype=dtype))
    return first.astype(np.int64, copy=False)


def raster_ranks(places: np.ndarray) -> np.ndarray:
    """Each object's number 1..n (int64) in the raster order of its first pixel, given the
    raveled ``places`` of those first pixels (ties in the order given): the numbering of an
    image's objects, read whole or streamed, so both give each object the same id."""
    ranks = np.empty(len(places), np.int64)
    ranks[np.argsort(places, kind="stable")] = np.arange(1, len(places) + 1)
    return ranks


def _cut_by(cut: int, edge: int) -> str:
    """How ``cut`` regions were cut, ``edge`` of them by the image's edge."""
    if edge in (0, cut):
        return f"{cut} cut by {'the image edge' if edge else 'unlabelled pixels'}"
    return f"{cut} cut ({edge} by the image edge, {cut - edge} by unlabelled pixels)"


def joined(facts: list[dict]) -> dict:
    """The :func:`region_facts` of several masks as one."""
    empty = {"area": np.int64, "kind": np.int64, "cut": bool, "edge": bool, "sliver": bool}
    return {
        k: np.concatenate([f[k] for f in facts]) if facts else np.zeros(0, empty[k]) for k in FACTS
    }


def sized(facts: dict) -> np.ndarray:
    """Which regions of :func:`region_facts` (of a whole data set) measure their class's
    object sizes: per class, those neither cut nor slivers; a class without such regions
    keeps its cut ones, and a class whose pixels lie mostly in slivers (a thin class) counts them."""
    keep = np.zeros(len(facts["area"]), bool)
    for k in np.unique(facts["kind"]):
        mine = facts["kind"] == k
        sliver = facts["sliver"] & mine
        area = facts["area"]
        thin = 2 * int(area[sliver].sum()) > int(area[mine].sum())  # mostly lines: its objects
        wide = mine & ~sliver if not thin else mine
        whole = wide & ~facts["cut"]
        keep |= whole if whole.any() else (wide if wide.any() else mine)
    return keep


def left_out(facts: dict, keep: np.ndarray) -> str:
    """'' or ', leaving out N regions cut by the image edge or unlabelled pixels and M
    slivers' for the log; where both cut them, how many each: ', leaving out 103 cut (20 by
    the image edge, 83 by unlabelled pixels) ...', since the plan's tile line leaves out only
    those the edge (or nodata) cut: a road set's void border read "20 cut" there and "103
    cut" here (audit s39 roads)."""
    cut = facts["cut"] & ~keep
    slivers = int((facts["sliver"] & ~facts["cut"] & ~keep).sum())
    edge = int((cut & facts["edge"]).sum())
    parts = [_cut_by(int(cut.sum()), edge)] if cut.any() else []
    parts += [f"{slivers} slivers at most {LINE_WIDTH} px wide"] if slivers else []
    return f", leaving out {' and '.join(parts)}" if parts else ""
