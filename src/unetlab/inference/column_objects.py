"""A wide band window's objects found in column blocks, not its whole width at once.

A streamed slide's band window (:func:`~unetlab.inference.objects.objects_in_bands`) held
its whole width's watershed, holes, splits and least sizes at once: tens of bytes a pixel
of temporaries, 208 MB traced on a 394 x 16,384 px window (bench/slide_column_objects.py).
Each object, its holes and its splits are a function of its 8-connected foreground region
alone (:func:`~unetlab.inference.objects.grown_over`), so a block of columns widened until
it holds whole (one column to spare: no cut edge beside them) every region whose box
reaches its core columns gives the objects of those columns exactly as the whole width
does. A region's box holds its holes and every region inside them, so the regions whose
box reaches the core are all a core pixel's object can depend on. The blocks' objects are
then joined: an object crossing a core's left edge is whole in both blocks, and takes the
id the block before wrote at its first column.

Exactly, the watershed's ties included: each region of the foreground is flooded alone
(:mod:`unetlab.data.region_watershed`), so a pixel between two touching objects at equal
values goes to the same one in any window holding its region whole. Before (scikit-image's
queue over the whole window), review D's nuclei slide (200 x 4,300 px, a real net's output)
gave 3 pixels of 1,652 objects moved between one band and bands of 50 or 100 rows, and 1
pixel (one of those 3) in column blocks (``tests/test_region_watershed.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from unetlab.deferred import deferred

ndimage = deferred("scipy.ndimage")

#: columns of a block's core: a 394 x 16,384 window's traced peak 207 MB whole, 118 MB in
#: blocks of 2,048, 90 of 1,024, 78 of 512 (a block's split canvases and the window's ids
#: held: bench/README.md "A band window's objects in column blocks"), as fast
COLUMN_BLOCK = 512
#: windows at most this wide are found whole, as before: 57 MB at 2,048 px (29 in blocks)
WHOLE_WIDTH_UP_TO = 2048
#: a window whose blocks' windows together span more than this many times its width is
#: found whole, once: a region across the width (a long stripe, a semantic model's tissue)
#: widens every block's window to the whole width, each costing the whole width's time
WHOLE_WHEN_SPANNING = 2


def in_columns(width: int) -> bool:
    """Whether a band window ``width`` px wide is found in column blocks."""
    return width > WHOLE_WIDTH_UP_TO


def objects_by_columns(
    foreground: np.ndarray, find: Callable[[int, int], np.ndarray]
) -> np.ndarray:
    """(H, W) int32 ids (int64 past int32's pixel count) of a window whose objects grow over
    ``foreground`` ((H, W) bool), partitioning its pixels as ``find(0, W)`` does:
    ``find(lo, hi)`` gives the ids of columns ``[lo, hi)`` alone (any numbering, 0 =
    background), called once per core of :data:`COLUMN_BLOCK` columns with the least such window
    holding whole every region whose box reaches that core (:func:`region_columns`); once,
    ``find(0, W)``, where those windows together span more than :data:`WHOLE_WHEN_SPANNING`
    widths."""
    height, width = foreground.shape
    starts, stops = region_columns(foreground)
    cores = [(c0, min(c0 + COLUMN_BLOCK, width)) for c0 in range(0, width, COLUMN_BLOCK)]
    windows = [block_window(starts, stops, core, width) for core in cores]
    if sum(hi - lo for lo, hi in windows) > WHOLE_WHEN_SPANNING * width:
        return find(0, width)
    dtype = np.int32 if foreground.size < np.iinfo(np.int32).max else np.int64
    out = np.zeros((height, width), dtype)
    given = 0
    for core, (lo, hi) in zip(cores, windows):
        given = joined_core(out, find(lo, hi), lo, core, given)
    return out


def region_columns(foreground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and past-last column of each 8-connected region of ``foreground``."""
    regions, _ = ndimage.label(foreground, np.ones((3, 3), bool))
    boxes = [box for box in ndimage.find_objects(regions) if box is not None]
    starts = np.array([box[1].start for box in boxes], np.int64)
    stops = np.array([box[1].stop for box in boxes], np.int64)
    return starts, stops


def block_window(starts, stops, core: tuple[int, int], width: int) -> tuple[int, int]:
    """``(lo, hi)``: the columns holding whole, and one column beyond, each region (first
    and past-last columns ``starts``, ``stops``) whose box reaches the ``core`` columns."""
    c0, c1 = core
    reaching = (starts < c1) & (stops > c0)
    lo = min(int(starts[reaching].min(initial=c0)), c0)
    hi = max(int(stops[reaching].max(initial=c1)), c1)
    return max(lo - 1, 0), min(hi + 1, width)


def joined_core(out: np.ndarray, ids: np.ndarray, lo: int, core: tuple[int, int], given: int):
    """Write the ``core`` columns of a block's ``ids`` (of columns from ``lo``) into ``out``;
    returns the ids given so far. Each object that starts left of the core (whole here and in
    the blocks before) takes the id written at a pixel of its first column; the others take
    new ids past ``given``."""
    c0, c1 = core
    cols = ids[:, c0 - lo : c1 - lo]
    present = np.unique(cols)
    present = present[present > 0]
    boxes = ndimage.find_objects(ids, max_label=int(present.max(initial=0)))
    lut = np.zeros(int(present.max(initial=0)) + 1, out.dtype)
    fresh = []
    for i in present.tolist():
        rows, span = boxes[i - 1]
        if span.start + lo < c0:
            y = rows.start + int(np.argmax(ids[rows, span.start] == i))
            lut[i] = out[y, span.start + lo]
            if not lut[i]:  # the blocks gave this object otherwise: a bug, never bad input
                raise RuntimeError(f"column block at {c0}: object {i} crosses into none")
        else:
            fresh.append(i)
    lut[fresh] = np.arange(given + 1, given + 1 + len(fresh))
    out[:, c0:c1] = lut[cols]
    return given + len(fresh)
