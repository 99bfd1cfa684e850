"""Stacks whose masks label only some planes: a z-stack annotated every few slices (in Fiji,
4 of 30) and saved as one mask stack leaves the other planes 0, which train as background
everywhere, so the net learns to miss the nuclei they hold. Nothing in a mask tells an
unannotated plane from an empty one, so this warns and the run goes on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.words import numbered

log = logging.getLogger(__name__)

#: The setting and value that mark unannotated planes, named by the warning.
IGNORE_HINT = "65535 (16-bit masks) and --set data.ignore_value=65535"
#: the least share of a stack's planes between its first and last labelled ones that hold no
#: object, for them to be said: a z-stack labelled on slices 6, 12, 18 and 24 leaves 15 of 19
#: (79%), every other slice 13 of 27 (48%); a fully labelled embryo of s68 user3d, with an
#: empty plane or two between its nuclei, 2 of 28 (7%), which was said
GAP_SHARE = 1 / 3


def planes_between(holds: Sequence[bool | None]) -> int:
    """How many planes hold no object (``holds``: each plane's, in stack order: True objects,
    False none, None none but ignored pixels, an unannotated plane marked so) while planes
    above and below them do, where they are at least :data:`GAP_SHARE` of the planes from
    the first labelled to the last; else 0: a stack labelled throughout, empty planes above
    or below its objects (an embryo's top and bottom) or a few between them (a sparse
    embryo's: 2 of 28 planes) being no sign of anything."""
    where = np.flatnonzero([h is True for h in holds])
    if len(where) < 2:
        return 0
    between = sum(h is False for h in holds[where[0] : where[-1]])
    return between if between >= GAP_SHARE * (where[-1] - where[0] + 1) else 0


def unlabelled_planes(pairs: Sequence, masks: Sequence[np.ndarray], ignore: int) -> str | None:
    """One line naming the stacks among ``pairs`` (each a :class:`~unetlab.data.pairs.Pair`,
    in step with ``masks``, their training targets: 0 background, ``ignore`` no label) whose
    masks leave planes between labelled ones without an object, or None where none does."""
    stacks: dict = {}
    for pair, mask in zip(pairs, masks, strict=True):
        if pair.pages > 1:
            stacks.setdefault(pair.mask, []).append(_holds(mask, ignore))
    gaps = {path: (planes_between(holds), holds) for path, holds in stacks.items()}
    gaps = {path: (n, holds) for path, (n, holds) in gaps.items() if n}
    if not gaps:
        return None
    path = min(gaps)
    holds = gaps[path][1]
    empty = sum(n for n, _ in gaps.values())
    return (
        f"the masks of {numbered(len(gaps), 'stack')} ({path.name}: objects on "
        f"{holds.count(True)} of {len(holds)} planes) leave {numbered(empty, 'plane')} between labelled ones "
        "without an object: they train as background, teaching the net to miss what they "
        "hold if they were left unannotated, not empty. Train on the annotated planes alone "
        f"(each saved as an image and mask of its own){_or_marked(gaps)}"
    )


def _or_marked(paths) -> str:
    """The other fix, for mask TIFFs: their unannotated planes marked as ignored; "" where
    every mask named is outlines (a Fiji RoiSet drawn on a few slices), which hold no value."""
    if not any(Path(p).suffix.lower() in (".tif", ".tiff") for p in paths):
        return ""
    return f", or fill the unannotated planes of the mask TIFFs with {IGNORE_HINT}"


def _holds(mask: np.ndarray, ignore: int) -> bool | None:
    """Whether a plane's target ``mask`` holds an object; None where it holds none but
    ``ignore`` pixels."""
    if ((mask != 0) & (mask != ignore)).any():
        return True
    return None if (mask == ignore).any() else False


def warn_unlabelled_planes(pairs: Sequence, masks: Sequence[np.ndarray], ignore: int) -> None:
    """Log :func:`unlabelled_planes` as a warning, where it says anything."""
    if (line := unlabelled_planes(pairs, masks, ignore)) is not None:
        log.warning("%s", line)
