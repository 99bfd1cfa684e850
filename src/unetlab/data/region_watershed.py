"""A seeded watershed whose ties are decided by position, so that they depend on the region alone.

scikit-image's ``watershed`` breaks ties of elevation by the age of a pixel in its queue,
and pops its markers in the order its binary heap's layout gives, a function of all the
image's markers: which seed first claimed a pixel at a tie (equal values, or a pixel beside
two seeds) depended on what else the image held. A slide's band windows and column blocks
are crops of one image holding other objects, so the same clump split differently (bands of
10 rows or of 23) moved pixels between touching objects (1-4 px a 120 x 90 image of 25
touching one-hot discs, ``tests/test_region_watershed.py``).

The flood is given priorities (:func:`position_ranks`) in which no two markers tie: the
dense rank of each pixel's elevation, a marker pixel ranked alone, in raster order, before
the other pixels of its value (as its age 0 put it). Those others tie as before and are
ordered by their age in the queue, first pushed first popped (a plateau is shared out as
by distance). The flood labels a pixel when a popped neighbour pushes it, so with no tie
left to the heap's layout a region's pixels are settled by its own pixels alone: the same
in any window that holds the region whole (a translation keeps the raster order). So the
regions holding several markers are flooded a few windows of rows at a time, each window
ranked alone; a region with one marker needs no flood (its pixels are that marker's).

Memory (the one place of these figures): a flood of the whole image held its ranks and
skimage's float64 copies of them, :func:`~unetlab.data.labels.grow_seeds` peaking at 30.5 B
a pixel; in windows 10.0 where many regions hold several markers, still 30.6 where one region
spans the image's rows (its window is the image): ``bench/region_watershed.py``, the table of
bench/README.md "Floods in windows"; bounds in ``tests/test_region_watershed.py`` (11) and
``tests/test_grow_seeds_memory.py`` (33, one region).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Ranks up to this are exact in float32 (a 24-bit significand); past it the priorities are
#: float64 (skimage's flood makes a float64 copy of either).
FLOAT32_RANKS = 2**24
#: The regions holding several markers are flooded in windows of rows, each region in the
#: window of its first row, windows starting every ``max(MIN_FLOOD_ROWS, H / FLOODS)`` rows
#: (``BLOCK_ROWS`` the step of that first row): skimage's flood holds, for each pixel of its
#: window, a float64 copy of the priorities, padded, and the masked markers, beside the ranks.
MIN_FLOOD_ROWS = 64
FLOODS = 8
BLOCK_ROWS = 16
#: Keys a step of :func:`position_ranks`' passes handles at once (its temporaries' bound).
_CHUNK = 2**16
_VALUE_BITS = np.uint64(31)  # a key: (value's order bits, not a marker, index) in 32, 1, 31 bits
_INDEX = np.uint64((1 << 31) - 1)


def watershed_by_region(
    elevation: np.ndarray,
    markers: np.ndarray,
    mask: np.ndarray,
    *,
    connectivity: int = 1,
    line: bool = False,
) -> np.ndarray:
    """``skimage.segmentation.watershed(elevation, markers, mask=mask, connectivity=
    connectivity, watershed_line=line)`` with ties between markers decided by position
    (row, then column: :func:`position_ranks`), so that a ``connectivity``-connected region of
    ``mask`` takes the same ids in any window that holds it whole, and each region holding
    no marker an object of its own (:func:`unseeded_numbered`): (H, W) ids in ``markers``'
    dtype (int64 where those numbers pass int32's), 0 outside ``mask`` (and on the lines).

    ``markers`` (int, of ``ndimage.label``: each marker lies in one region) is modified.
    The regions holding several markers are flooded in windows of rows (:func:`_flood_windows`),
    the region labels let go before: the markers and the windows' numbers (int32, uint8), and
    one window's flood at a time (the whole image where a region spans its rows; the figures:
    the module's docstring)."""
    if markers.ndim != 2:  # the windows are of rows and columns
        raise ValueError(f"watershed_by_region takes 2-d markers, not {markers.shape}")
    structure = ndimage.generate_binary_structure(markers.ndim, connectivity)
    regions, n_regions = ndimage.label(mask, structure)
    markers, top = unseeded_numbered(markers, regions, n_regions)
    lone, many = _lone_markers(markers, regions, top, n_regions)
    _lone_spread(markers, regions, lone)
    if many.size:
        numbered, windows = _flood_windows(regions, n_regions, many)
        del regions  # the floods, with no labels of the whole image beside them
        for number, rows in enumerate(windows, 1):
            own = numbered[rows] == number
            if number == len(windows):
                del numbered  # the last (the tallest) flood without it
            box = _box(own)
            window = (slice(rows.start + box[0].start, rows.start + box[0].stop), box[1])
            _flood(elevation[window], markers[window], own[box], connectivity, line)
    return markers


def _lone_spread(markers: np.ndarray, regions: np.ndarray, lone: np.ndarray) -> None:
    """Each region's one marker (``lone``, by region label; 0: none or several) over the
    region in ``markers``, ``BLOCK_ROWS`` rows at a time."""
    for top in range(0, regions.shape[0], BLOCK_ROWS):
        single = lone[regions[top : top + BLOCK_ROWS]]
        np.copyto(markers[top : top + BLOCK_ROWS], single, where=single > 0)


def _flood_windows(
    regions: np.ndarray, n_regions: int, many: np.ndarray
) -> tuple[np.ndarray, list[slice]]:
    """(``numbered``: (H, W) uint8 (wider past 255 windows), a pixel of the regions ``many``
    the number 1.. of the window that floods it, 0 elsewhere; each window's rows, holding its
    regions whole, the tallest last, flooded without ``numbered``): a region goes to the
    window of its first row, in steps of ``max(MIN_FLOOD_ROWS, H / FLOODS)`` rows, its rows
    found by blocks of ``BLOCK_ROWS``."""
    height = regions.shape[0]
    index = np.zeros(n_regions + 1, np.int32)
    index[many] = np.arange(1, many.size + 1, dtype=np.int32)
    first = np.full(many.size + 1, height)
    last = np.zeros(many.size + 1, int)
    for top in range(0, height, BLOCK_ROWS):
        block = index[regions[top : top + BLOCK_ROWS]]
        seen = np.flatnonzero(np.bincount(block.ravel(), minlength=many.size + 1))
        first[seen] = np.minimum(first[seen], top)
        last[seen] = min(top + BLOCK_ROWS, height)
    first, last = first[1:], last[1:]
    window = np.unique(first // max(MIN_FLOOD_ROWS, -(-height // FLOODS)), return_inverse=True)[1]
    rows = [(first[window == k].min(), last[window == k].max()) for k in range(window.max() + 1)]
    order = sorted(range(len(rows)), key=lambda k: rows[k][1] - rows[k][0])  # the tallest last
    dtype = np.min_scalar_type(len(rows))  # uint8 for FLOODS windows up to 255
    number = np.empty(len(rows), dtype)
    number[order] = np.arange(1, len(rows) + 1)
    numbers = np.zeros(n_regions + 1, dtype)
    numbers[many] = number[window]
    return numbers[regions], [slice(int(rows[k][0]), int(rows[k][1])) for k in order]


def _box(own: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of ``own`` (2-d bool, not all False) that hold its pixels."""
    rows = np.flatnonzero(own.any(axis=1))
    columns = np.flatnonzero(own.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


def position_ranks(elevation: np.ndarray, where: np.ndarray, seeded: np.ndarray) -> np.ndarray:
    """The flood's priorities over ``where``, 0 elsewhere: each pixel's dense rank 1.. by
    elevation, a pixel of ``seeded`` (bool) ranked alone before the others of its value,
    in raster order; the others of one value share a rank (the flood's age, first pushed
    first popped, orders them); NaN (a model's output gone wrong) one value after all
    others. Float32 up to ``FLOAT32_RANKS`` ranks, float64 past.
    Besides the result, 13 B a pixel of ``where`` (the sorted keys, the ranks' starts and
    the ranks in ``where``'s order)."""
    if np.count_nonzero(where) >= 2**31:
        ranked = _ranked_by_lexsort(elevation[where], seeded[where])
    else:
        ranked = _ranked(_sorted_keys(elevation, where, seeded))
    ranks = np.zeros(where.shape, ranked.dtype)
    ranks[where] = ranked
    return ranks


def _ranked(keys: np.ndarray) -> np.ndarray:
    """The ranks of the pixels of sorted ``keys`` (:func:`_sorted_keys`), in their index
    order, passed over in steps of ``_CHUNK``."""
    starts = _rank_starts(keys)
    ranked = np.empty(keys.size, _rank_dtype(np.count_nonzero(starts)))
    top = 0
    for lo in range(0, keys.size, _CHUNK):
        rank = np.cumsum(starts[lo : lo + _CHUNK], dtype=np.int64)
        rank += top
        ranked[(keys[lo : lo + _CHUNK] & _INDEX).astype(np.intp)] = rank
        top = int(rank[-1])
    return ranked


def _rank_starts(keys: np.ndarray) -> np.ndarray:
    """Bool by sorted key: whether it starts a rank (a marker, or a value or a marker
    before it that its own is not)."""
    starts = np.empty(keys.size, bool)
    for lo in range(0, keys.size, _CHUNK):
        group = keys[lo : lo + _CHUNK] >> _VALUE_BITS  # (value, not a marker)
        before = keys[lo - 1] >> _VALUE_BITS if lo else ~group[0]
        new = np.diff(group, prepend=before) != 0
        new |= (group & np.uint64(1)) == 0
        starts[lo : lo + new.size] = new
    return starts


def _rank_dtype(count: int) -> type:
    return np.float32 if count <= FLOAT32_RANKS else np.float64


def _sorted_keys(elevation: np.ndarray, where: np.ndarray, seeded: np.ndarray) -> np.ndarray:
    """The pixels of ``where`` (fewer than 2**31) as uint64 keys (value's order bits, not a
    marker, index in ``where``'s order), sorted: all distinct, no order of ties left to the
    sort; 2.3x faster than a stable argsort (1.5 M values: 0.17 -> 0.07 s). Float32 values
    (and narrower) by their bits; others by their dense level (``np.unique``)."""
    values, marker = elevation[where], seeded[where]
    if values.dtype.kind != "f" or values.itemsize > 4:
        values = np.unique(values, return_inverse=True)[1].reshape(-1).astype(np.uint32)
    keys = np.empty(values.size, np.uint64)
    for lo in range(0, values.size, _CHUNK):
        key = _order_bits(values[lo : lo + _CHUNK]).astype(np.uint64) << np.uint64(32)
        key |= np.arange(lo, lo + key.size, dtype=np.uint64)
        key |= (~marker[lo : lo + _CHUNK]).astype(np.uint64) << _VALUE_BITS
        keys[lo : lo + key.size] = key
    del values, marker
    keys.sort()
    return keys


def _order_bits(values: np.ndarray) -> np.ndarray:
    """uint32 in the order of ``values`` (equal where they are): dense levels as they are;
    a float's bits, -0.0 as 0.0, every NaN as one (after +inf, as ``np.unique`` puts the
    dense levels' NaN), all flipped where negative, else the sign bit."""
    if values.dtype == np.uint32:
        return values
    values = values.astype(np.float32)  # a copy: its bits are flipped in place
    values += np.float32(0)  # -0.0 as 0.0, which it equals
    values[np.isnan(values)] = np.nan  # -nan's sign bit set put it before -inf
    bits = values.view(np.uint32)
    flip = bits >> np.uint32(31)  # 1 for negative: all bits flipped; else the sign bit
    flip *= np.uint32(0x7FFFFFFF)
    flip |= np.uint32(0x80000000)
    bits ^= flip
    return bits


def _ranked_by_lexsort(values: np.ndarray, marker: np.ndarray) -> np.ndarray:
    """:func:`_ranked` for 2**31 pixels or more (past the keys' index bits): by
    ``np.lexsort``, in about 40 B a pixel."""
    order = np.lexsort((~marker, values))
    values, marker = values[order], marker[order]
    start = np.ones(values.size, bool)
    start[1:] = (values[1:] != values[:-1]) | marker[1:] | marker[:-1]
    if values.dtype.kind == "f":  # NaN, sorted last, one value as in the keys' order
        start[1:] &= ~(np.isnan(values[1:]) & np.isnan(values[:-1])) | marker[1:] | marker[:-1]
    del values, marker
    rank = np.cumsum(start, dtype=np.int64)
    ranked = np.empty(order.size, _rank_dtype(int(rank[-1])))
    ranked[order] = rank
    return ranked


def unseeded_numbered(
    markers: np.ndarray, regions: np.ndarray, n_regions: int
) -> tuple[np.ndarray, int]:
    """(``markers`` (int32, modified) with each of the ``n_regions`` ``regions`` of the
    mask (labelled 1..n) that holds none a marker of its own, numbered after every marker
    in the raster order of its first pixel (int64 where the highest passes int32's), their
    highest number now)."""
    seeded = np.zeros(n_regions + 1, bool)
    seeded[regions[markers > 0]] = True
    alone = (regions > 0) & ~seeded[regions]
    first = int(markers.max(initial=0))
    unseeded = np.flatnonzero(~seeded[1:])  # their region labels less 1
    top = first + int(unseeded[-1]) + 1 if unseeded.size else first
    if top > np.iinfo(np.int32).max:
        markers = markers.astype(np.int64)
    markers[alone] = regions[alone].astype(markers.dtype) + first
    return markers, top


def _flood(elevation, markers, own, connectivity: int, line: bool) -> None:
    """Flood the regions ``own`` (bool) from their ``markers`` (modified: their pixels take
    the ids) over the :func:`position_ranks` of ``elevation``."""
    from skimage.segmentation import watershed

    ranks = position_ranks(elevation, own, markers > 0)
    grown = watershed(ranks, markers, mask=own, connectivity=connectivity, watershed_line=line)
    np.copyto(markers, grown, where=own)


def _lone_markers(
    markers: np.ndarray, regions: np.ndarray, top: int, n_regions: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(lone, many)``: each of the ``n_regions`` regions' one marker (0 where it holds
    none or several), by region, in ``markers``' dtype (numbered up to ``top``); and the
    regions that hold several."""
    owner = np.zeros(top + 1, regions.dtype)
    owner[markers] = regions
    owner = owner[1:]
    present = np.flatnonzero(owner)  # each marker label given, by its region
    count = np.bincount(owner[present], minlength=n_regions + 1)
    lone = np.zeros(count.size, markers.dtype)
    lone[owner[present]] = (present + 1).astype(markers.dtype)
    lone[count != 1] = 0
    return lone, np.flatnonzero(count > 1)
