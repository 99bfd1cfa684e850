"""A binary mask whose class shares are far from the others' (audit s34 messy 2: one mask of
fourteen saved inverted, 255 over 94% of it against 6-9% in the others, passed the check).

A warning, not a refusal: a field full of cells can hold mostly foreground.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: masks needed besides an outlier before one is said (fewer: no "others" to compare with)
MIN_OTHERS = 3
#: the others' shares of the value must all lie on one side of a half, this far from it
MARGIN = 0.2
#: how Fiji's binary masks come out inverted, and the fix
FIJI_FIX = (
    "Fiji: Edit > Invert, and Process > Binary > Options 'Black background' so that new "
    "masks are not inverted"
)


def inverted_masks(pairs: Sequence) -> str | None:
    """The line naming the binary masks of ``pairs`` (``PairFacts``: ``name``, ``values``,
    ``counts``) whose share of the brighter value is on the other side of a half from every
    other mask's, and closer to the others once inverted: ``mask value 255 covers 94% of
    masks/img_010.png but 6-9% of each of the 13 other masks: an inverted mask ...``. None:
    none such, more than two values in all, instance masks, or too few masks."""
    values = sorted({v for p in pairs for v in p.values})
    if len(values) != 2 or any(getattr(p, "instances", False) for p in pairs):
        return None
    value = values[1]
    shares = np.array([_share(p, value) for p in pairs])
    below = shares < 0.5
    odd = below if below.sum() < (~below).sum() else ~below
    others = shares[~odd]
    if not odd.any() or len(others) < max(MIN_OTHERS, 2 * odd.sum()):
        return None
    if abs(others - 0.5).min() < MARGIN or abs(shares[odd] - 0.5).min() < MARGIN:
        return None  # the odd one as far from a half as the others: a dense field is no flip
    typical = float(np.median(others))
    if not all(abs((1 - s) - typical) < abs(s - typical) for s in shares[odd]):
        return None
    named = ", ".join(f"{percent(s)} of {p.name}" for p, s, o in zip(pairs, shares, odd) if o)
    low, high = percent(others.min()), percent(others.max())
    span = low if low == high else f"{low[:-1]}-{high}"
    return (
        f"mask value {value} covers {named} but {span} of each of "
        f"the {len(others)} other masks: an inverted mask (0 and {value} swapped)? {FIJI_FIX}"
    )


def percent(share: float) -> str:
    return f"{share:.0%}"


def _share(facts, value: int) -> float:
    """The share of ``value`` among the counted pixels of one mask's facts (0: none)."""
    counts = dict(zip(facts.values, facts.counts))
    return counts.get(value, 0) / max(sum(facts.counts), 1)
