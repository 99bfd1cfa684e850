"""A semantic model's objects of an image that arrives as row blocks, the same as read whole.

:func:`~unetlab.inference.objects.objects_from_probabilities` makes a semantic model's
objects (without watershed seeds or a distance split: :func:`exact_in_bands`) from whole
regions: the 4-connected regions of each class but the background, each background region
that one object encloses joined to it, those smaller than their class's least area dropped
(one the image's edge or a nodata pixel cuts only below ``CUT_MIN_AREA``),
numbered in the raster order of their first pixel. Bands post-processed with a margin of
context (:func:`~unetlab.inference.objects.objects_in_bands`) misjudge a region taller than
the margin: a U whose arms meet below the window is two objects there, a hole open at a
window's edge is not filled, a piece of an object is dropped as small.

:class:`SemanticBands` decides every step on the whole regions instead. Each block's pixels
are cut into regions of equal class (the background's too), each given a provisional id;
of each region it keeps the class, area, whether it reaches the image's edge or nodata, and
which regions it touches, within the block and across the seam with the block before
(regions of one class that touch there are one region). :meth:`SemanticBands.lookup` then
joins, fills, drops and numbers over the whole image: the provisional ids map to exactly
the ids read whole, pixel for pixel. Memory grows with the number of regions, not pixels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components
from skimage import measure

from unetlab.inference.objects import ObjectOptions, class_least, cut_least, distinct
from unetlab.inference.predict import labels_from_probabilities


def exact_in_bands(options: ObjectOptions) -> bool:
    """Whether :class:`SemanticBands` gives ``options``' objects exactly: semantic objects
    without watershed seeds or a distance split (those look at an object's shape, which a
    band sees only in part)."""
    return (
        options.mode == "semantic"
        and options.watershed_seeds is None
        and not options.distance_split
    )


class SemanticBands:
    """Provisional ids of an (H, W) image's row blocks (:meth:`add`), and the lookup from
    them to the ids :func:`~unetlab.inference.objects.objects_from_probabilities` gives the
    whole image (:meth:`lookup`)."""

    def __init__(self, options: ObjectOptions, height: int, width: int):
        if not exact_in_bands(options):
            raise ValueError("SemanticBands takes semantic options without seeds or split")
        self.options, self.height, self.width = options, height, width
        self.count = 0  # provisional ids given: 1..count
        self.rows = 0  # rows added
        self.kinds, self.areas, self.edges = [], [], []  # of each block
        self.same: list[np.ndarray] = []  # (2, n) ids of one region, across seams
        self.touching: list[np.ndarray] = []  # (2, n) ids of touching regions
        self.last: tuple[np.ndarray, np.ndarray] | None = None  # the last row's ids, labels
        self.cut: list[np.ndarray] = []  # ids of regions in or beside an outside pixel
        self.last_outside = np.zeros(width, bool)  # the last row's outside pixels

    def add(
        self, y: int, probabilities: np.ndarray, outside: np.ndarray | None = None
    ) -> np.ndarray:
        """The (rows, W) int64 provisional ids of the block of rows ``y``.. (``(K, rows, W)``
        probabilities); blocks arrive in order and cover the image. ``outside``: the block's
        (rows, W) pixels that are no sample (nodata): a region in or beside one is cut, as
        at the image's edge (``outside`` of
        :func:`~unetlab.inference.objects.objects_from_probabilities`)."""
        if y != self.rows:
            raise ValueError(f"blocks must arrive in order: expected row {self.rows}, got {y}")
        labels = labels_from_probabilities(np.asarray(probabilities))
        if labels.shape[1] != self.width or y + labels.shape[0] > self.height:
            raise ValueError(f"a block of {labels.shape} at row {y} is outside the image")
        signed = labels.astype(np.int16 if labels.dtype == np.uint8 else np.int32)
        ids = measure.label(signed, background=-1, connectivity=1).astype(np.int64, copy=False)
        del signed
        n = int(ids.max(initial=0))
        areas = np.bincount(ids.ravel(), minlength=n + 1)[1:]
        sums = np.bincount(ids.ravel(), weights=labels.ravel(), minlength=n + 1)[1:]
        self.kinds.append(np.rint(sums / np.maximum(areas, 1)).astype(np.int64))
        self.areas.append(areas.astype(np.int64))
        self.edges.append(self._edge(ids, y, n))
        ids += self.count  # in place: a block's ids are its largest array
        self.touching.append(_touching_pairs(ids))
        if self.last is not None:
            above, kinds = self.last
            one = kinds == labels[0]
            self.same.append(np.stack([above[one], ids[0][one]]))
            self.touching.append(np.stack([above[~one], ids[0][~one]]))
        self._cut_by(ids, outside, None if self.last is None else self.last[0])
        self.last = ids[-1].copy(), labels[-1].copy()
        self.rows += labels.shape[0]
        self.count += n
        return ids

    def _cut_by(self, ids: np.ndarray, outside: np.ndarray | None, seam) -> None:
        """Note the regions of a block's (global) ``ids`` in or beside its ``outside``
        pixels, across the seam with the block before too (``seam``: its last row's ids)."""
        above = self.last_outside
        if outside is None or not np.any(outside):
            self.last_outside = np.zeros(self.width, bool)
            if above.any():
                self.cut.append(distinct(ids[0][above]))
            return
        outside = np.asarray(outside, bool)
        near = ndimage.binary_dilation(outside)
        near[0] |= above
        self.cut.append(distinct(ids[near]))
        if seam is not None:
            self.cut.append(distinct(seam[outside[0]]))
        self.last_outside = outside[-1].copy()

    def _edge(self, local: np.ndarray, y: int, n: int) -> np.ndarray:
        """Which of a block's n regions reach the image's edge."""
        edge = np.zeros(n + 1, bool)
        edge[local[:, 0]] = edge[local[:, -1]] = True
        if y == 0:
            edge[local[0]] = True
        if y + local.shape[0] == self.height:
            edge[local[-1]] = True
        return edge[1:]

    def lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, values)``: the provisional ids 0..count (increasing) and the id of each
        in the whole image's objects (0: none). Needs every row."""
        if self.rows != self.height:
            raise ValueError(f"blocks ended at row {self.rows} of {self.height}")
        n, options = self.count, self.options
        region = _regions(n, _cat(self.same))
        roots = distinct(region)  # each region's smallest provisional id, raster order
        index = np.searchsorted(roots, region)  # provisional id -> region 0..m-1
        kinds = np.zeros(len(roots), np.int64)
        kinds[index[1:]] = np.concatenate(self.kinds or [np.zeros(0, np.int64)])
        areas = np.bincount(index[1:], np.concatenate(self.areas or [[]]), len(roots))
        edge = np.zeros(len(roots), bool)
        edge[index[1:][np.concatenate(self.edges or [np.zeros(0, bool)])]] = True
        pairs = _pairs_of(index[_cat(self.touching)])
        background = options.background
        is_object = np.ones(len(roots), bool) if background is None else kinds != background
        is_object[0] = False  # index 0: provisional id 0, no region
        owner = np.zeros(len(roots), np.int64)
        if options.fill_holes and background is not None:
            owner = _owners(pairs, is_object, edge)
        areas = areas.astype(np.int64) + np.bincount(owner, areas, len(roots)).astype(np.int64)
        cut = edge.copy()
        cut[index[np.concatenate(self.cut or [np.zeros(0, np.int64)])]] = True
        cut[owner[cut]] = True  # an object cut through its hole
        keep = is_object & (areas >= np.maximum(cut_least(self._least(kinds), cut), 1))
        final = np.zeros(len(roots), np.int64)
        final[keep] = np.arange(1, int(keep.sum()) + 1)
        values = np.where(is_object, final, final[owner])[index]
        return np.arange(n + 1, dtype=np.int64), values

    def _least(self, kinds: np.ndarray) -> np.ndarray:
        """Each region's least area (as ``remove_small`` / ``remove_small_by_class``)."""
        least = self.options.class_min_areas
        if least is None:
            return np.full(len(kinds), self.options.min_area, np.int64)
        return class_least(kinds, least)


def _cat(pairs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), np.int64)


def _touching_pairs(ids: np.ndarray) -> np.ndarray:
    """(2, n) ids (below 2**32) of 4-neighbours that differ, each pair once."""
    keys = []
    for a, b in ((ids[:, 1:], ids[:, :-1]), (ids[1:], ids[:-1])):
        differ = a != b
        keys.append(distinct((a[differ] << 32) | b[differ]))
    keys = distinct(np.concatenate(keys))
    return np.stack([keys >> 32, keys & 0xFFFFFFFF])


def _regions(n: int, same: np.ndarray) -> np.ndarray:
    """The region of each provisional id 0..n: its smallest provisional id (0: 0)."""
    graph = sparse.coo_matrix((np.ones(same.shape[1]), (same[0], same[1])), shape=(n + 1,) * 2)
    _, label = connected_components(graph, directed=False)
    smallest = np.full(label.max() + 1, n + 1, np.int64)
    np.minimum.at(smallest, label, np.arange(n + 1))
    return smallest[label]


def _pairs_of(pairs: np.ndarray) -> np.ndarray:
    """(2, n) region pairs both ways, each once, without a region paired with itself,
    sorted by the first then the second."""
    pairs = pairs[:, pairs[0] != pairs[1]]
    keys = distinct(np.concatenate([(pairs[0] << 32) | pairs[1], (pairs[1] << 32) | pairs[0]]))
    return np.stack([keys >> 32, keys & 0xFFFFFFFF])


def _owners(pairs: np.ndarray, is_object, edge) -> np.ndarray:
    """The object each background region joins (0: none), as
    :func:`~unetlab.inference.objects.fill_object_holes` decides it: a region that does not
    reach the image's edge joins the one object it touches, or of several the one that
    alone cuts it off from the edge (there is at most one).

    An object's hole is a region of its complement that does not reach the image's edge
    (any region outside the object's box, or on its border, reaches the edge through the
    rows or columns beside the box), so an object ``i`` encloses a region ``r`` where every
    path of touching regions from the edge to ``r`` passes ``i``: where ``i`` dominates
    ``r`` in the region graph rooted at the edge. Of the objects ``r`` touches, only its
    immediate dominator can (:func:`_dominators`): one depth-first search for all regions,
    where a search per (region, object) took minutes for thousands of objects."""
    owner = np.zeros(len(is_object), np.int64)
    hole = ~is_object & ~edge
    hole[0] = False
    mine = pairs[:, hole[pairs[0]] & is_object[pairs[1]]]  # (hole, object), sorted
    alone = np.bincount(mine[0], minlength=len(owner))[mine[0]] == 1
    owner[mine[0][alone]] = mine[1][alone]
    shared = mine[:, ~alone]
    if not shared.shape[1]:
        return owner
    dominator = _dominators(_adjacency(_rooted(pairs, edge), len(owner)), 0)
    sole = shared[:, dominator[shared[0]] == shared[1]]
    owner[sole[0]] = sole[1]
    return owner


def _rooted(pairs: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """The region graph's pairs (both ways, sorted) with index 0 (no region) for the
    outside, touching every region on the edge, less the leaves (a speck inside one
    region, a hole inside one object: most of a slide's regions), which no path between
    other regions passes."""
    rim = np.flatnonzero(edge)
    rim = np.stack([np.concatenate([rim, 0 * rim]), np.concatenate([0 * rim, rim])])
    pairs = _pairs_of(np.concatenate([pairs, rim], axis=1))
    leaf = np.bincount(pairs[0], minlength=len(edge)) == 1
    leaf[0] = False
    return pairs[:, ~leaf[pairs[0]] & ~leaf[pairs[1]]]


def _adjacency(pairs: np.ndarray, m: int) -> tuple[list[int], list[int]]:
    """CSR (starts, neighbours) of the m regions' graph from its pairs (both ways, sorted),
    as lists: the search below reads them an item at a time."""
    return np.searchsorted(pairs[0], np.arange(m + 1)).tolist(), pairs[1].tolist()


def _dominators(adjacency: tuple[list[int], list[int]], root: int) -> np.ndarray:
    """The immediate dominator of each node of a connected undirected graph from ``root``
    (the root's own: the root; a node not reached: -1): the nearest node every path from
    ``root`` passes. One iterative depth-first search (Tarjan's low points): the parent
    ``p`` of ``v`` in the search tree dominates it when no edge from ``v``'s subtree
    reaches above ``p``, else ``v``'s dominators are ``p``'s."""
    starts, targets = adjacency
    m = len(starts) - 1
    order, parent, low = _search(starts, targets, root)
    disc = [-1] * m
    for t, v in enumerate(order):
        disc[v] = t
    dominator = [-1] * m
    dominator[root] = root
    for v in order[1:]:
        p = parent[v]
        dominator[v] = p if p == root or low[v] >= disc[p] else dominator[p]
    return np.asarray(dominator, np.int64)


def _search(starts: list[int], targets: list[int], root: int):
    """(preorder, parent, low point) of a depth-first search from ``root``: a node's low
    point is the earliest preorder number its subtree reaches by one non-tree edge."""
    m = len(starts) - 1
    disc, parent, low = [-1] * m, [-1] * m, [0] * m
    next_edge = list(starts[:-1])
    disc[root], order, stack = 0, [root], [root]
    while stack:
        v = stack[-1]
        i, end, up, lv = next_edge[v], starts[v + 1], parent[v], low[v]
        while i < end:
            w = targets[i]
            i += 1
            dw = disc[w]
            if dw < 0:
                disc[w] = low[w] = len(order)
                parent[w] = v
                order.append(w)
                stack.append(w)
                break
            if dw < lv and w != up:
                lv = dw
        else:
            stack.pop()
            if up >= 0 and lv < low[up]:
                low[up] = lv
        next_edge[v], low[v] = i, lv
    return order, parent, low
