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
        return _bar_line(int(value), edge, int(least), ignored=value == ignore_value)
    return None


def _bar_line(value: int, edge: str, rows: int, *, ignored: bool) -> str:
    """The note on ``value`` filling ``rows`` rows at ``edge`` of every mask: a data bar?
    (its fixes: ``data.exclude_rows``, or ``data.ignore_value``); where ``ignored``, declared
    void: a void band (a car's hood, as in Cityscapes), out of the loss already, its rows
    still normalised and predicted (review s67: a declared void hood was "a data bar?")."""
    band = f"the {edge} {rows} rows of every mask, the full width"
    excluding = said_as(_excluding(edge, rows))
    if ignored:
        return (
            f"mask value {value}, void (ignored: counted in no loss), fills {band}: a void "
            f"band (a hood, a frame); its image rows still count in normalisation and are "
            f"predicted: if no image holds a sample there, {excluding} leaves them out of "
            "normalisation, plan, predict and evaluate too"
        )
    return (
        f"mask value {value} fills {band}: a data bar? if it is no sample, {excluding} (left "
        "out of normalisation, loss, plan, predict and evaluate), or at least "
        f"{said_as(ignoring(value))}"
    )


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
    mask = read.mask_of(pair)
    return edge_bands(mask), mask.shape[0]
