"""A semantic model's objects of an image that arrives as row blocks, the same as read whole.

:func:`~unetlab.inference.objects.objects_from_probabilities` makes a semantic model's
objects (without watershed seeds or a distance split: :func:`exact_in_bands`) from whole
regions: the 4-connected regions of each class but the background, each background region
that one object encloses joined to it, those smaller than their class's least area dropped
(one the image's edge, a nodata pixel or, with no background class, a pixel of no class
cuts only below ``cut_min_area``, scaled at a level), numbered in the raster order of their
first pixel. Bands post-processed with a margin of context
(:func:`~unetlab.inference.objects.objects_in_bands`) misjudge a region taller than the
margin: a U whose arms meet below the window is two objects there, a hole open at a
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

from unetlab.deferred import deferred
from unetlab.inference.objects import (
    ObjectOptions,
    class_least,
    cut_least,
    distinct,
    no_class_cuts,
    object_class_map,
    speck_owners,
)

measure = deferred("skimage.measure")

ndimage = deferred("scipy.ndimage")
sparse = deferred("scipy.sparse")
csgraph = deferred("scipy.sparse.csgraph")


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
        self.touching: list[np.ndarray] = []  # touching regions' ids, a key a pair: _pair_keys
        self.last: tuple[np.ndarray, np.ndarray] | None = None  # the last row's ids, labels
        self.cut: list[np.ndarray] = []  # ids of regions in or beside an outside pixel
        self.held: list[np.ndarray] = []  # ids of regions holding one: no hole (s34)
        self.last_outside = np.zeros(width, bool)  # the last row's outside pixels
        self.void = -1  # the class of outside pixels where no class is the background

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
        probabilities = np.asarray(probabilities)
        labels = object_class_map(probabilities, self.options)  # no_class's: no object
        if self.options.background is None:  # no object over nodata nor no class (as whole)
            self.void = max(probabilities.shape[0], 2)  # no_class_table's
            labels = _voided(labels, outside, self.void)
        if labels.shape[1] != self.width or y + labels.shape[0] > self.height:
            raise ValueError(f"a block of {labels.shape} at row {y} is outside the image")
        signed = labels.astype(np.int16 if labels.dtype == np.uint8 else np.int32)
        ids = measure.label(signed, background=-1, connectivity=1).astype(np.int64, copy=False)
        del signed
        n = int(ids.max(initial=0))
        areas = np.bincount(ids.ravel(), minlength=n + 1)[1:]
        sums = np.bincount(ids.ravel(), weights=labels.ravel(), minlength=n + 1)[1:]
        # kept small: a dense slide has millions of regions (a region's class fits the
        # labels' type, a block's area 32 bits)
        self.kinds.append(np.rint(sums / np.maximum(areas, 1)).astype(labels.dtype))
        self.areas.append(areas.astype(np.int32 if ids.size < 2**31 else np.int64))
        self.edges.append(self._edge(ids, y, n))
        ids += self.count  # in place: a block's ids are its largest array
        self.touching.append(_touching_pairs(ids))
        if self.last is not None:
            above, kinds = self.last
            one = kinds == labels[0]
            self.same.append(np.stack([above[one], ids[0][one]]))
            self.touching.append(_pair_keys(above[~one], ids[0][~one]))
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
        self.held.append(distinct(ids[outside]))
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
        in the whole image's objects (0: none). Needs every row; once (it takes the
        blocks' records of touching regions as it goes: a dense slide's are its largest)."""
        if self.rows != self.height:
            raise ValueError(f"blocks ended at row {self.rows} of {self.height}")
        if self.touching is None:
            raise ValueError("lookup() takes the blocks' records: it is called once")
        n, options = self.count, self.options
        region = _regions(n, _cat(self.same))
        roots = distinct(region)  # each region's smallest provisional id, raster order
        index = np.searchsorted(roots, region)  # provisional id -> region 0..m-1
        index = index.astype(np.int32 if len(roots) < 2**31 else np.int64, copy=False)
        del region
        kinds = np.zeros(len(roots), np.int64)
        kinds[index[1:]] = np.concatenate(self.kinds or [np.zeros(0, np.int64)])
        areas = np.bincount(index[1:], np.concatenate(self.areas or [[]]), len(roots))
        edge = np.zeros(len(roots), bool)
        edge[index[1:][np.concatenate(self.edges or [np.zeros(0, bool)])]] = True
        touching, self.touching = self.touching, None  # taken as they are mapped: memory
        background = options.background
        is_object = kinds != (self.void if background is None else background)
        is_object[0] = False  # index 0: provisional id 0, no region
        graph = self._graph(touching, index, kinds, areas, is_object, edge)
        owner, specks, beside = graph
        del touching, graph
        areas = areas.astype(np.int64) + np.bincount(owner, areas, len(roots)).astype(np.int64)
        cut = edge.copy()
        cut[index[np.concatenate(self.cut or [np.zeros(0, np.int64)])]] = True
        cut[beside] = True
        cut[owner[cut]] = True  # an object cut through its hole
        least = cut_least(self._least(kinds), cut, options.cut_min_area)  # a level's: scaled
        keep = is_object & (areas >= np.maximum(least, 1))
        final = np.zeros(len(roots), np.int64)
        final[keep] = np.arange(1, int(keep.sum()) + 1)
        _join_enclosed(final, specks, is_object & ~keep, owner, is_object, edge)
        values = np.where(is_object, final, final[owner])[index]
        return np.arange(n + 1, dtype=np.int64), values

    def _graph(self, touching: list, index, kinds, areas, is_object, edge) -> tuple:
        """``(owner, specks, beside)`` of :meth:`lookup`'s regions from their ``touching``
        pairs (taken): the object owning each background region (a hole; 0: none), the
        (2, n) pairs (small object, region it touches), and the small objects beside a
        region of no class (none there without ``no_class``; no background), cut there as
        read whole (:func:`~unetlab.inference.objects.no_class_pixels`, s70). The pairs
        are made only where holes are filled or no class cuts."""
        options, n = self.options, len(kinds)
        owner, specks, beside = np.zeros(n, np.int64), np.zeros((2, 0), np.int64), []
        if not options.fill_holes and not no_class_cuts(options):
            return owner, specks, beside
        small = is_object & (areas < int(self._least(kinds).max(initial=1)))
        # no background: no holes, only the small objects' pairs are needed
        pairs = _region_pairs(touching, index, None if options.background is not None else small)
        if options.fill_holes:
            specks = pairs[:, small[pairs[0]]].astype(np.int64)  # few: kept beside
        if options.fill_holes and options.background is not None:
            held = np.zeros(n, bool)  # nodata is never a hole, as read whole
            held[index[np.concatenate(self.held or [np.zeros(0, np.int64)])]] = True
            owner = _owners(pairs, is_object, edge, held)
        if no_class_cuts(options):  # kinds' void: no class, nodata too
            beside = pairs[0][small[pairs[0]] & (kinds[pairs[1]] == self.void)]
        return owner, specks, beside

    def _least(self, kinds: np.ndarray) -> np.ndarray:
        """Each region's least area (as ``remove_small`` / ``remove_small_by_class``)."""
        least = self.options.class_min_areas
        if least is None:
            return np.full(len(kinds), self.options.min_area, np.int64)
        return class_least(kinds, least)


def _voided(labels: np.ndarray, outside: np.ndarray | None, void: int) -> np.ndarray:
    """A block's class ``labels`` with its ``outside`` pixels (nodata) of class ``void``
    (no class: their regions are no object, where a model with no background class has
    the certainty of a real class there); in place where its dtype holds ``void``."""
    if outside is None or not np.any(outside):
        return labels
    if void > np.iinfo(labels.dtype).max:
        labels = labels.astype(np.uint32)
    labels[np.asarray(outside, bool)] = void
    return labels


def _join_enclosed(final, specks, dropped, owner, is_object, edge) -> None:
    """Each group of ``dropped`` regions (objects below their least area, one alone or
    several touching each other) that one kept object alone surrounds given that object's
    id in ``final``, as :func:`~unetlab.inference.objects.enclosed_specks_joined` read
    whole: ``specks``, the (2, n) pairs (small object, region it touches); a touching
    background region counts as the object that owns it (a dropped one's: the group's own),
    an unowned background region or the image's ``edge`` leaves the group open."""
    specks = specks[:, dropped[specks[0]]]
    if not specks.shape[1]:
        return
    speck, other = specks
    by = np.where(is_object[other], other, owner[other])
    link = dropped[by]  # another dropped object, or the speck's own hole: one group
    rim = distinct(speck[edge[speck]])
    nodes, joins = speck_owners(
        np.concatenate([speck[~link], rim]),
        np.concatenate([final[by[~link]], np.zeros(rim.size, np.int64)]),
        np.stack([speck[link], by[link]]),
    )
    final[nodes] = joins


def _cat(pairs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(pairs, axis=1) if pairs else np.zeros((2, 0), np.int64)


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 key a pair of ids (below 2**32) ``a[i], b[i]``, either way round the same:
    the smaller id in the high half (8 bytes a pair, where (2, n) int64 took 16)."""
    a, b = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    return (a << 32) | b


def _split_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two ids of each key of :func:`_pair_keys`."""
    return keys >> 32, keys & 0xFFFFFFFF


def _touching_pairs(ids: np.ndarray) -> np.ndarray:
    """The keys (:func:`_pair_keys`) of 4-neighbours that differ, each pair once."""
    keys = []
    for a, b in ((ids[:, 1:], ids[:, :-1]), (ids[1:], ids[:-1])):
        differ = a != b
        keys.append(distinct(_pair_keys(a[differ], b[differ])))
    return distinct(np.concatenate(keys))


def _region_pairs(keys: list[np.ndarray], index: np.ndarray, among=None) -> np.ndarray:
    """(2, n) region pairs both ways (:func:`_both_ways`) of the touching ids' ``keys``
    (:func:`_pair_keys`, a block's an array: taken from the list as they are mapped), each
    id's region by ``index``: a dense slide has tens of millions of touching pairs.
    ``among``: by region, only the pairs with one of these (None: all)."""
    mapped = []
    while keys:
        a, b = _split_keys(keys.pop(0))
        a, b = index[a], index[b]
        differ = a != b if among is None else (a != b) & (among[a] | among[b])
        mapped.append(distinct(_pair_keys(a[differ], b[differ])))
        del a, b, differ
    return _both_ways(distinct(np.concatenate(mapped or [np.zeros(0, np.int64)])))


def _both_ways(keys: np.ndarray) -> np.ndarray:
    """(2, 2n) the pairs of the distinct ``keys`` (:func:`_pair_keys`, no id with itself)
    both ways, sorted by the first then the second; int32 where the ids fit (half the
    memory of the graph's searches below)."""
    both = np.empty(2 * keys.size, np.int64)
    both[: keys.size] = keys
    low, high = _split_keys(keys)
    both[keys.size :] = (high << 32) | low
    del low, high
    both.sort()
    small = not both.size or int(both[-1] >> 32) < 2**31
    pairs = np.empty((2, both.size), np.int32 if small else np.int64)
    pairs[0] = both >> 32
    both &= 0xFFFFFFFF
    pairs[1] = both
    return pairs


def _regions(n: int, same: np.ndarray) -> np.ndarray:
    """The region of each provisional id 0..n: its smallest provisional id (0: 0)."""
    graph = sparse.coo_matrix((np.ones(same.shape[1]), (same[0], same[1])), shape=(n + 1,) * 2)
    _, label = csgraph.connected_components(graph, directed=False)
    smallest = np.full(label.max() + 1, n + 1, np.int64)
    np.minimum.at(smallest, label, np.arange(n + 1))
    return smallest[label]


def _owners(pairs: np.ndarray, is_object, edge, held=None) -> np.ndarray:
    """The object each background region joins (0: none), as
    :func:`~unetlab.inference.objects.fill_object_holes` decides it: a region that does not
    reach the image's edge, nor holds a pixel that is no sample (``held``: nodata is never
    an object's hole, s34), joins the one object it touches, or of several the one that
    alone cuts it off from the edge (there is at most one; the edge alone decides it, as
    the enclosing shape does read whole).

    An object's hole is a region of its complement that does not reach the image's edge
    (any region outside the object's box, or on its border, reaches the edge through the
    rows or columns beside the box), so an object ``i`` encloses a region ``r`` where every
    path of touching regions from the edge to ``r`` passes ``i``: where ``i`` dominates
    ``r`` in the region graph rooted at the edge. Of the objects ``r`` touches, only its
    immediate dominator can (:func:`_dominators`): one depth-first search for all regions,
    where a search per (region, object) took minutes for thousands of objects."""
    owner = np.zeros(len(is_object), np.int64)
    hole = ~is_object & ~edge & (True if held is None else ~held)
    hole[0] = False
    mine = pairs[:, hole[pairs[0]] & is_object[pairs[1]]]  # (hole, object), sorted
    alone = np.bincount(mine[0], minlength=len(owner))[mine[0]] == 1
    owner[mine[0][alone]] = mine[1][alone]
    shared = mine[:, ~alone]
    if not shared.shape[1]:
        return owner
    graph = _rooted(pairs, edge)
    del pairs  # the caller's was a temporary: freed before the search (a dense slide's largest)
    dominator = _dominators(graph, len(owner))
    sole = shared[:, dominator[shared[0]] == shared[1]]
    owner[sole[0]] = sole[1]
    return owner


def _rooted(pairs: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """The region graph's pairs (both ways, sorted; index 0 in none) with index 0 (no
    region) for the outside, touching every region on the edge, less the leaves (a speck
    inside one region, a hole inside one object: most of a slide's regions), which no path
    between other regions passes."""
    rim = np.flatnonzero(edge).astype(pairs.dtype)
    rim = rim[rim > 0]
    at = np.searchsorted(pairs[0], rim)  # (r, 0) first of r's pairs: 0 is the least
    first = np.concatenate([np.zeros_like(rim), np.insert(pairs[0], at, rim)])
    second = np.concatenate([rim, np.insert(pairs[1], at, 0)])
    leaf = np.bincount(first, minlength=len(edge)) == 1
    leaf[0] = False
    keep = ~leaf[first] & ~leaf[second]
    return np.stack([first[keep], second[keep]])


def _dominators(pairs: np.ndarray, m: int, root: int = 0) -> np.ndarray:
    """The immediate dominator of each of the m nodes of a connected undirected graph
    (``pairs``: its edges both ways, sorted) from ``root`` (the root's own: the root; a
    node not reached: -1): the nearest node every path from ``root`` passes. One
    depth-first search (scipy's, in C) and Tarjan's low points: the parent ``p`` of ``v``
    in the search tree dominates it when no edge from ``v``'s subtree reaches above ``p``,
    else ``v``'s dominators are ``p``'s. The two passes over the tree run in Python over
    nodes, not edges, on numpy arrays (a dense slide: millions of nodes, where lists of
    Python ints took gigabytes)."""
    starts = np.searchsorted(pairs[0], np.arange(m + 1))
    graph = sparse.csr_matrix((np.ones(pairs.shape[1], np.int8), pairs[1], starts), (m, m))
    order, parent = csgraph.depth_first_order(graph, root, directed=True, return_predecessors=True)
    del graph  # symmetric: directed=True searches it as undirected, without its transpose
    disc = np.full(m, len(order), order.dtype)  # each node's place in the search
    disc[order] = np.arange(len(order), dtype=order.dtype)
    # the earliest place each node's edges reach (its tree edge to its parent counts too:
    # it never makes a low point reach above the parent, which is all that is asked)
    low = disc.copy()
    np.minimum.at(low, pairs[0], disc[pairs[1]])
    low = low[order]  # by place from here on
    up = np.zeros(len(order), order.dtype)  # the parent's place (the root's: 0)
    up[1:] = disc[parent[order[1:]]]
    del disc
    _subtree_low(low, up)
    cut = np.ones(len(order), bool)
    cut[1:] = (up[1:] == 0) | (low[1:] >= up[1:])  # the parent alone cuts it off
    found = np.full(m, -1, np.int64)
    found[order] = order[_nearest_cut(up, cut)]
    return found


def _subtree_low(low: np.ndarray, up: np.ndarray) -> None:
    """Each place's ``low`` the least of its subtree's, in place (``up``: each place's
    parent's place, a parent before its children)."""
    low_, up_ = memoryview(low), memoryview(up)  # Python ints, read from the arrays
    for v in range(len(low_) - 1, 0, -1):
        p, lv = up_[v], low_[v]
        if lv < low_[p]:
            low_[p] = lv


def _nearest_cut(up: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """The immediate dominator's place of each place: its parent where ``cut``, else its
    parent's (the root's: itself)."""
    dominator = np.zeros(len(up), up.dtype)
    dom, up_, cut_ = memoryview(dominator), memoryview(up), memoryview(cut)
    for v in range(1, len(dom)):
        p = up_[v]
        dom[v] = p if cut_[v] else dom[p]
    return dominator
