"""Where a training tile's label window falls on an image axis, and how often each pixel of
the image lies inside one (its coverage: what share of the tiles train it).

By default a window lies inside the image where it fits, its start uniform: the pixels of
the edges are then in few windows (a 512 px axis with 256 px windows: row 0 in 0.4% of the
draws that hold the centre row, row 16 in 7%), although prediction predicts them as often
as any other, from the mirrored context past the edge. ``edge=True`` (``data.edge_windows``)
draws the window's centre uniformly over the axis instead: windows reach up to half their
size past the edge (the input mirrored there as prediction mirrors it, the labels outside
ignored), and an edge pixel is in about half as many windows as the centre's (0.50 there).
A window as large as the axis or larger covers all of it either way (every pixel alike).
Off by default: in short trainings it did not help (worse on EM-like images, same and valid
padding; within the seed spread on Kromp nuclei; bench/README.md, "Edge windows").
"""

from __future__ import annotations

import numpy as np


def start_range(size: int, window: int, *, edge: bool = False) -> tuple[int, int]:
    """(first, last) start, both included, of a ``window`` on an axis of ``size``: inside
    the axis when the window fits, else a start <= 0 such that it covers the whole axis;
    ``edge``: (a window smaller than the axis) any start that puts its centre
    (``start + window // 2``) on the axis."""
    if edge and window < size:
        half = window // 2
        return -half, size - 1 - half
    if window <= size:
        return 0, size - window
    return size - window, 0


def window_start(size: int, window: int, rng: np.random.Generator, *, edge: bool = False) -> int:
    """A start drawn uniformly from :func:`start_range` (one ``rng.integers`` draw)."""
    first, last = start_range(size, window, edge=edge)
    return int(rng.integers(first, last + 1))


def axis_coverage(size: int, window: int, *, edge: bool = False) -> np.ndarray:
    """(size,) float64: the probability that each pixel of the axis lies inside a window
    that :func:`window_start` draws, i.e. the expected times it is trained per tile drawn
    (exact: the share of the starts of :func:`start_range` whose window holds it)."""
    first, last = start_range(size, window, edge=edge)
    at = np.arange(size)
    held = np.minimum(last, at) - np.maximum(first, at - window + 1) + 1
    return np.clip(held, 0, None) / (last - first + 1)


def window_coverage(shape: tuple[int, int], window: int, *, edge: bool = False) -> np.ndarray:
    """(H, W) float64: the probability that each pixel of an (H, W) image lies inside a
    ``window`` x ``window`` label window of a training tile drawn from it (rows and columns
    are drawn independently: the outer product of their :func:`axis_coverage`). Masks with
    unlabelled pixels draw again windows that hold none, which this leaves out."""
    rows = axis_coverage(shape[0], window, edge=edge)
    return np.outer(rows, axis_coverage(shape[1], window, edge=edge))
