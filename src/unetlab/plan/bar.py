"""The plan's note on a data bar drawn into the masks: one mask value that fills whole rows at
the top or bottom of every mask (an SEM data bar stored as id 65535 in instance masks trains
as one large object per image: audit s31 grains 8)."""

from __future__ import annotations

from collections.abc import Sequence

from unetlab.data.exclude import check_exclude_rows, edge_bands, excluded_rows
from unetlab.data.fingerprint import PairFacts, ignoring
from unetlab.data.pairs import Pair, PairReader
from unetlab.errors import Spelled, said_as, set_to

__all__ = ["MASKS_READ", "bar_note", "edge_bands"]

#: masks read for the note (the bar is in every mask, so a few say it)
MASKS_READ = 8


def bar_note(
    pairs: Sequence[Pair],
    exclude_rows=None,
    ignore_value: int | None = None,
    measured: Sequence[PairFacts] = (),
) -> str | None:
    """A line when the same value fills the same edge's rows in every one of the first
    ``MASKS_READ`` masks of ``pairs``, and ``exclude_rows`` leaves some of them in: a data
    bar drawn into the masks, which trains as a class or one object per image (and which
    predict labels as whatever the net makes of it). It names ``data.exclude_rows`` with the
    rows, and ``data.ignore_value``. None otherwise. ``measured``: the fingerprint's facts of
    pairs, whose masks' bands it found as it read them (:attr:`PairFacts.bands`): those
    masks are not read again."""
    pairs = list(pairs)[:MASKS_READ]
    if len(pairs) < 2:
        return None
    read = PairReader()  # a stack's pages: one read of its file
    found, heights = zip(*(_looked_at(p, measured, read) for p in pairs))
    rows = check_exclude_rows(exclude_rows)
    for k, edge in enumerate(("top", "bottom")):
        bands = [f.get(edge) for f in found]
        if any(b is None for b in bands) or len({v for v, _ in bands}) != 1:
            continue
        value, least = bands[0][0], min(n for _, n in bands)
        if excluded_rows(rows, heights[0])[k] >= least:
            continue
        if value == ignore_value:
            what = f"mask value {value} (data.ignore_value: out of the loss, not of normalisation)"
            fix = ""
        else:
            what, fix = f"mask value {value}", f", or at least {said_as(ignoring(int(value)))}"
        return (
            f"{what} fills the {edge} {least} rows of every mask, the full width: a data bar? "
            f"if it is no sample, {said_as(_excluding(edge, int(least)))} (left out of "
            f"normalisation, loss, plan, predict and evaluate){fix}"
        )
    return None


def _excluding(edge: str, rows: int) -> Spelled:
    """``data.exclude_rows`` leaving out ``rows`` at ``edge``, as the caller sets it
    (:func:`said_as`: plan_training in a notebook was told ``data.exclude_rows={bottom: 8}``,
    s53; the command line was told it unquoted, which the shell splits)."""
    return set_to("data.exclude_rows", {edge: rows})


def _looked_at(pair: Pair, measured: Sequence[PairFacts], read: PairReader) -> tuple[dict, int]:
    """(:func:`edge_bands`, rows) of ``pair``'s whole mask page: as the fingerprint found
    them (``measured``), else read with ``read``."""
    fact = next((f for f in measured if f.name == pair.mask_page and f.mask_rows), None)
    if fact is not None:
        return {edge: (value, rows) for edge, value, rows in fact.bands}, fact.mask_rows
    mask = read.stack(pair.mask, mask=True, axes=pair.axes)[pair.page]
    return edge_bands(mask), mask.shape[0]
