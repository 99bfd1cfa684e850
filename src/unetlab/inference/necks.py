"""A second, shape-only split of objects at narrow necks (``ObjectOptions.split_necks``).

Within each object, the h-maxima (h = :data:`NECK_DEPTH` px) of its smoothed distance to
its outline seed a watershed on the negated distance; then, the widest neck first, two
pieces are joined back while the neck between them (the largest distance to the outline on
their shared edge) is over :data:`NECK_RATIO` x the smaller piece's largest distance, or
while a piece is under the least area. Each object sees only its own pixels, so streamed
bands split it as the image read whole. Measured in bench/kromp_necks.py (Kromp nuclei).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from unetlab.data.large_ids import compact_large_ids
from unetlab.deferred import deferred

ndimage = deferred("scipy.ndimage")

NECK_DEPTH = 0.5  # px, h of the h-maxima on the smoothed distance
NECK_RATIO = 0.9  # a cut stays where its neck is at most this x the smaller piece's reach
NECK_SMOOTH = 1.0  # px, sigma of the Gaussian that smooths the distance


def split_necks(ids: np.ndarray, least: int = 1, pieces_of=None) -> np.ndarray:
    """Each object of ``ids`` split at its narrow necks into pieces of ``least`` px or more
    (int64 ids; the first piece keeps the object's id, the others come after every object;
    not renumbered). ``pieces_of(mask, id)``: another rule for one object's padded mask
    (the bench's trials), :func:`neck_pieces` by default. Ids far above the pixel count
    are split by their ranks (:func:`~unetlab.data.large_ids.compact_large_ids`; a box per
    id up to the largest took 20 s for one id 2e7) and given back, the new pieces after the
    largest (uint64 past int64's range, as ids above 2**63 come)."""
    top = int(np.asarray(ids).max(initial=0))
    ranks, original = compact_large_ids(ids, top)
    out = _split(ranks, least, pieces_of, original, top)
    return out if original is None else _given_back(out, original, top)


def _split(ids: np.ndarray, least: int, pieces_of, original, top: int) -> np.ndarray:
    """:func:`split_necks` of ids not far above the pixel count (``original``: the id each
    stands for, which ``pieces_of`` is given, or None where they are the ids, whose largest
    is ``top``)."""
    out = np.asarray(ids, np.int64).copy()
    next_id = (top if original is None else len(original) - 1) + 1
    for i, box in enumerate(ndimage.find_objects(np.asarray(ids)), 1):
        if box is None:
            continue
        mask = np.zeros([s.stop - s.start + 2 for s in box], bool)
        mask[1:-1, 1:-1] = out[box] == i
        given = i if original is None else int(original[i])
        pieces = neck_pieces(mask, least) if pieces_of is None else pieces_of(mask, given)
        if pieces is None:
            continue
        pieces = pieces[1:-1, 1:-1]
        extra = pieces > 1
        out[box][extra] = next_id + pieces[extra] - 2
        next_id += int(pieces.max()) - 1
    return out


def _given_back(ranks: np.ndarray, original: np.ndarray, top: int) -> np.ndarray:
    """:func:`_split`'s ``ranks`` as the ids they stand for (``original``), a new piece's
    past the largest, ``top`` (int64, uint64 where they pass its range)."""
    extra = int(ranks.max(initial=0)) - (len(original) - 1)
    kind = np.int64 if top + extra < 2**63 else np.uint64
    new = top + np.arange(1, extra + 1, dtype=np.uint64)
    return np.concatenate([original.astype(kind), new.astype(kind)])[ranks]


def neck_pieces(
    mask: np.ndarray, least: int, depth: float = NECK_DEPTH, ratio: float = NECK_RATIO
) -> np.ndarray | None:
    """Pieces 1..n of one object's ``mask`` (padded by 1 px) whose necks are narrow, or
    None for one piece; ``depth`` and ``ratio``: the h and the neck limit (the bench tries
    others)."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    distance = ndimage.distance_transform_edt(mask)
    if distance.max() <= depth + 1:
        return None
    smooth = _smoothed(distance)
    smooth[~mask] = 0.0
    if _peaks(smooth, mask) < 2:  # each h-maximum holds one of its own
        return None
    seeds = h_maxima(smooth, depth).astype(bool) & mask
    markers, n = ndimage.label(seeds, np.ones((3, 3)))
    if n < 2:
        return None
    pieces = joined_wide(watershed(-smooth, markers, mask=mask), distance, least, ratio)
    return pieces if pieces.max() > 1 else None


def _smoothed(distance: np.ndarray) -> np.ndarray:
    """``ndimage.gaussian_filter(distance, NECK_SMOOTH)``, the same values: its two 1-D
    correlations (rows, then columns, 'reflect') with its kernel, which is not worked out
    again for each object (a third of the Gaussian's time on objects of 50 x 50 px)."""
    out = ndimage.correlate1d(distance, _kernel(), 0)
    return ndimage.correlate1d(out, _kernel(), 1, out)


@cache
def _kernel() -> np.ndarray:
    """``gaussian_filter``'s 1-D kernel for :data:`NECK_SMOOTH` (its default truncation, 4
    sigma), as it makes it: its response to a single 1 (the kernel is symmetric)."""
    radius = int(4.0 * NECK_SMOOTH + 0.5)
    one = np.zeros(2 * radius + 1)
    one[radius] = 1.0
    return ndimage.gaussian_filter1d(one, NECK_SMOOTH, mode="constant")


def _peaks(smooth: np.ndarray, mask: np.ndarray) -> int:
    """How many 8-connected sets of ``mask`` pixels at least as high as their 8 neighbours
    ``smooth`` holds (``mask`` padded by 1 px: each of its pixels has all 8). Each
    h-maximum (8-connected) holds one of its own: its highest pixels, which no neighbour
    tops (a higher one would be in it), with those of the same value joined to them (their
    reconstruction is the same)."""
    middle = smooth[1:-1, 1:-1]
    peaks = mask[1:-1, 1:-1].copy()
    high, wide = middle.shape
    for dy, dx in _AROUND:
        peaks &= middle >= smooth[dy : dy + high, dx : dx + wide]
    many = np.count_nonzero(peaks)
    return many if many < 2 else ndimage.label(peaks, np.ones((3, 3)))[1]


_AROUND = [(dy, dx) for dy in range(3) for dx in range(3) if (dy, dx) != (1, 1)]


def joined_wide(
    pieces: np.ndarray, distance: np.ndarray, least: int, ratio: float = NECK_RATIO
) -> np.ndarray:
    """``pieces`` (0 outside) with the worst pair joined while one fails: a piece under
    ``least`` px first, then the widest neck over ``ratio`` (of equal ones, the pair whose
    shared edge comes first). A joined pair's necks, peaks and areas are those of its two
    parts combined, not measured again over the object (a 1000² blob of 545 pieces: 104
    measures of it, 17.7 s)."""
    count = int(pieces.max())
    peaks = ndimage.maximum(distance, pieces, np.arange(count + 1)).tolist()
    areas = np.bincount(pieces.ravel(), minlength=count + 1).tolist()
    necks = _saddles(pieces, distance)
    root = np.arange(count + 1)

    def badness(pair: tuple[int, int]) -> tuple:
        (x, y), (saddle, first) = pair, necks[pair]
        return min(areas[x], areas[y]) < least, saddle / min(peaks[x], peaks[y]), -first

    while necks:
        worst = max(necks, key=badness)
        if badness(worst)[:2] <= (False, ratio):
            break
        keep, gone = worst
        root[root == gone] = keep
        peaks[keep], areas[keep] = max(peaks[keep], peaks[gone]), areas[keep] + areas[gone]
        necks = _merged(necks, keep, gone)
    return np.unique(root, return_inverse=True)[1][pieces]


def _merged(necks: dict, keep: int, gone: int) -> dict:
    """``necks`` with piece ``gone`` part of ``keep``: their pair dropped, the necks of each
    to a third piece combined (the highest saddle, the first edge)."""
    out: dict[tuple[int, int], tuple[float, int]] = {}
    for (x, y), (saddle, first) in necks.items():
        x, y = (keep if x == gone else x), (keep if y == gone else y)
        if x == y:
            continue
        pair = (min(x, y), max(x, y))
        if pair in out:
            saddle, first = max(saddle, out[pair][0]), min(first, out[pair][1])
        out[pair] = (saddle, first)
    return out


def _saddles(pieces: np.ndarray, distance: np.ndarray) -> dict:
    """For each pair of 4-adjacent pieces (lower id first): the largest ``distance`` on
    their shared edge and where that edge first comes (vertical edges, then horizontal)."""
    a = np.concatenate([pieces[1:].ravel(), pieces[:, 1:].ravel()])
    b = np.concatenate([pieces[:-1].ravel(), pieces[:, :-1].ravel()])
    d = np.maximum(
        np.concatenate([distance[1:].ravel(), distance[:, 1:].ravel()]),
        np.concatenate([distance[:-1].ravel(), distance[:, :-1].ravel()]),
    )
    edge = np.flatnonzero((a > 0) & (b > 0) & (a != b))
    lo, hi = np.minimum(a, b)[edge], np.maximum(a, b)[edge]
    saddles: dict[tuple[int, int], tuple[float, int]] = {}
    for x, y, v, at in zip(lo.tolist(), hi.tolist(), d[edge].tolist(), edge.tolist()):
        seen = saddles.get((x, y))
        saddles[(x, y)] = (v, at) if seen is None else (max(v, seen[0]), seen[1])
    return saddles
