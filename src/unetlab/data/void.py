"""Mask value 255 beside class indices 0..K-1: the void mark of Cityscapes, VOC and mmseg.

Grey index masks of street scenes (Cityscapes' trainIds, CamVid, mmseg's data sets) hold the
classes as 0, 1, ..., K-1 and mark the pixels nobody labelled (void outlines around objects,
ego vehicle, borders) 255. Read as one more class, 255 trains an output for thin outlines, and
counts in the mIoU and in every prediction (audit s29 scenes: an 11-class set trained a 12th
class "255" without a word, while the same pixels as a palette PNG were ignored).

- :func:`void_beside_classes`: whether a data set's measured masks look so
  (:class:`VoidBeside`: K and the void's pixel share), or None.
- :func:`border_share`: how much of a value's pixels border another value (thin outlines: most).
- :func:`void_line`: the plan's line, a refusal where the data set names its classes and
  leaves 255 out, else a warning.

Not for binary masks 0/255 (ISBI, the demo: 255 is a class there), instance masks, or a 255
that fills most of every mask (scribbles: :func:`unetlab.data.fingerprint.unlabelled_fill`).
"""

from __future__ import annotations

import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from unetlab.data.fingerprint import PairFacts, fill_value, ignoring, pixel_counts
from unetlab.data.void_mark import VOID, void_beside
from unetlab.errors import Spelled, said_as

#: a value with at least this share of its pixels next to another value lies in thin outlines
OUTLINE_SHARE = 0.5


@dataclass(frozen=True)
class VoidBeside:
    """The masks hold class indices ``values`` (0..K-1, at least two) and ``VOID``, which
    holds ``share`` of the ``pixels`` measured (all, or the training ones:
    :func:`of_training`)."""

    values: tuple[int, ...]
    share: float
    pixels: str = "pixels"

    @property
    def classes(self) -> str:
        return f"{self.values[0]}-{self.values[-1]}"


def void_beside_classes(pairs: Sequence[PairFacts]) -> VoidBeside | None:
    """:class:`VoidBeside` when the masks' values (of every pair in ``pairs``) are dense class
    indices 0..K-1 (:func:`~unetlab.data.void_mark.void_beside`) and
    ``VOID``; None otherwise: no 255, binary 0/255 masks, instance masks, or a 255 that fills
    most of every mask (unlabelled scribbles, said by ``unlabelled_fill``)."""
    if not pairs or any(p.instances for p in pairs):
        return None
    counts = pixel_counts(pairs)
    if (others := void_beside(counts)) is None or fill_value(pairs) == VOID:
        return None
    return VoidBeside(others, counts[VOID] / sum(counts.values()))


def of_training(
    found: VoidBeside, pairs: Sequence[PairFacts], held_out: Collection[str]
) -> VoidBeside:
    """``found`` with its share of the training pixels: of the ``pairs`` not ``held_out``
    (the validation pairs' names), as the plan's class shares and weights count them;
    ``found`` where none is held out or all are."""
    kept = [p for p in pairs if p.name not in held_out]
    if not kept or not held_out:
        return found
    counts = pixel_counts(kept)
    share = counts.get(VOID, 0) / max(sum(counts.values()), 1)
    return replace(found, share=share, pixels="training pixels")


def border_share(mask: np.ndarray, value: int = VOID) -> float | None:
    """The share of ``value``'s pixels in an (H, W) ``mask`` that have a 4-neighbour of
    another value (1.0 for outlines up to 2 px wide), or None where ``mask`` has none."""
    mask = np.asarray(mask)
    mine = mask == value
    if not mine.any():
        return None
    near = np.zeros_like(mine)
    near[1:] |= mask[:-1] != value
    near[:-1] |= mask[1:] != value
    near[:, 1:] |= mask[:, :-1] != value
    near[:, :-1] |= mask[:, 1:] != value
    return float((mine & near).sum() / mine.sum())


#: the setting that counts void nowhere, as the caller sets it (:func:`said_as`: plan_training
#: in a notebook was told ``--set data.ignore_value=255``, s52)
IGNORE_VOID = ignoring(VOID)


def void_as_class(found: VoidBeside) -> Spelled:
    """The setting that trains void as one more class, after ``found``'s classes, as Python
    and the command line set it (:func:`said_as` says it)."""
    values = [int(v) for v in (*found.values, VOID)]  # numpy's said as plain numbers
    cli = "--set " + shlex.quote(f"data.label_values=[{','.join(map(str, values))}]")  # no glob
    return Spelled(f"cfg.data.label_values = {values}", cli)


def void_line(found: VoidBeside, *, named: bool, border: float | None = None) -> str:
    """The line for ``found``: ``named``, where the data set's class names name the classes
    but not 255 (a refusal's problem), else a warning; ``border``: :func:`border_share` of
    some masks (None: not measured)."""
    share = f"{percent(found.share)} of the {found.pixels}"
    if border is not None:
        kind = "thin outlines" if border >= OUTLINE_SHARE else "regions"
        share += f", in {kind}: {border:.0%} of them border a class"
    ignore, as_class = said_as(IGNORE_VOID), "if it is a class, " + said_as(void_as_class(found))
    n = len(found.values)
    if named:
        return (
            f"mask value {VOID} ({share}) has no name beside the classes {found.classes} "
            f"the data set names: it looks like void (Cityscapes, VOC, mmseg) and would train "
            f"as one more class (index {n}); {ignore} to count it nowhere, or {as_class}"
        )
    return (
        f"mask value {VOID} lies apart from the classes {found.classes} ({share}): it looks "
        f"like void (Cityscapes, VOC, mmseg) and trains as one more class (index {n}); if it "
        f"marks unlabelled pixels, {ignore}; {as_class} (or name every class, {VOID} too, in "
        "data.class_names)"
    )


def percent(share: float) -> str:
    """``share`` (0-1) as a percentage: one decimal from 0.1% up (34.0%, 0.8%), two
    significant digits below (0.012%), so that a rare class never reads "0.0%"."""
    if share >= 1e-3 or share <= 0:
        return f"{share:.1%}"
    return f"{share * 100:.2g}%"
