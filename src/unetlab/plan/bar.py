"""The plan's note on a data bar drawn into the masks: one mask value that fills whole rows at
the top or bottom of every mask (an SEM data bar stored as id 65535 in instance masks trains
as one large object per image: audit s31 grains 8)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unetlab.data.exclude import check_exclude_rows, excluded_rows
from unetlab.data.pairs import Pair, PairReader

#: masks read for the note (the bar is in every mask, so a few say it)
MASKS_READ = 8
#: rows a band must fill to be a bar (a one-row frame is not)
MIN_ROWS = 2
#: the most of a band's value outside the band, as a share of the other pixels
OUTSIDE = 0.01


def edge_bands(mask: np.ndarray) -> dict[str, tuple[int, int]]:
    """``{"top": (value, rows), "bottom": (value, rows)}`` of the full-width bands of one
    value other than 0 at the top and bottom of ``mask`` (H, W), at least ``MIN_ROWS``
    rows, whose value is found in at most ``OUTSIDE`` of the other pixels; an edge without
    one is left out."""
    mask = np.asarray(mask)
    uniform = (mask == mask[:, :1]).all(axis=1)
    bands = {}
    for edge, rows in (
        ("top", np.arange(mask.shape[0])),
        ("bottom", np.arange(mask.shape[0])[::-1]),
    ):
        value = mask[rows[0], 0]
        same = uniform[rows] & (mask[rows, 0] == value)
        count = int(np.argmin(same)) if not same.all() else len(rows)
        rest = mask[rows[count:]]
        # a bar's value is in the bar alone: unlabelled pixels (sparse labels) fill an edge
        # too, and much of the rest
        confined = rest.size == 0 or np.count_nonzero(rest == value) <= OUTSIDE * rest.size
        if value != 0 and count >= MIN_ROWS and confined:
            bands[edge] = (int(value), count)
    return bands


def bar_note(
    pairs: Sequence[Pair], exclude_rows=None, ignore_value: int | None = None
) -> str | None:
    """A line when the same value fills the same edge's rows in every one of the first
    ``MASKS_READ`` masks of ``pairs``, and ``exclude_rows`` leaves some of them in: a data
    bar drawn into the masks, which trains as a class or one object per image (and which
    predict labels as whatever the net makes of it). It names ``data.exclude_rows`` with the
    rows, and ``data.ignore_value``. None otherwise."""
    pairs = list(pairs)[:MASKS_READ]
    if len(pairs) < 2:
        return None
    read = PairReader()
    found = [edge_bands(read.stack(p.mask, mask=True, axes=p.axes)[p.page]) for p in pairs]
    rows = check_exclude_rows(exclude_rows)
    for k, edge in enumerate(("top", "bottom")):
        bands = [f.get(edge) for f in found]
        if any(b is None for b in bands) or len({v for v, _ in bands}) != 1:
            continue
        value, least = bands[0][0], min(n for _, n in bands)
        height = read.stack(pairs[0].mask, mask=True, axes=pairs[0].axes)[pairs[0].page].shape[0]
        if excluded_rows(rows, height)[k] >= least:
            continue
        if value == ignore_value:
            what = f"mask value {value} (data.ignore_value: out of the loss, not of normalisation)"
            fix = ""
        else:
            what, fix = f"mask value {value}", f", or at least data.ignore_value={value}"
        return (
            f"{what} fills the {edge} {least} rows of every mask, the full width: a data bar? "
            f"if it is no sample, set data.exclude_rows={{{edge}: {least}}} (left out of "
            f"normalisation, loss, plan, predict and evaluate){fix}"
        )
    return None
