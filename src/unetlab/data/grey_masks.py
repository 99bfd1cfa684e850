"""How a grey RGB mask (R = G = B in every pixel) beside a colour table is read
(``data.grey_masks``): ``colours`` (the default), through the table as every RGB mask beside
it is (CamVid's masks of sky (128, 128, 128) and void (0, 0, 0) look grey); ``indices``, as its
grey values, the class indices of grey masks a tool saved as RGB.

Commands read masks within :func:`grey_masks_read_as` of the config's value, a
:class:`contextvars.ContextVar`: calls in other threads (two ``evaluate_model`` at once) read
as each says, and a new thread reads as the default; a
:class:`~unetlab.data.pairs.PairReader` keeps the value it was made under, so data loader
workers read as their command does.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from unetlab.context_values import set_within
from unetlab.data.colour_table import VOID, ColourTable
from unetlab.errors import UnetlabError, unknown_choice
from unetlab.words import worded

COLOURS, INDICES = "colours", "indices"
GREY_MASKS = (COLOURS, INDICES)
#: the fix named where grey masks may be class indices
KEY_FIX = (
    "set data.grey_masks: indices (train --set data.grey_masks=indices, evaluate --grey-masks "
    "indices)"
)

#: (how grey RGB masks are read now, whether a command's own word gave it: evaluate
#: --grey-masks, which a checkpoint's does not change), per thread and context
_READING: contextvars.ContextVar[tuple[str, bool]] = contextvars.ContextVar(
    "unetlab_grey_masks", default=(COLOURS, False)
)


def check_grey_masks(value, key: str = "data.grey_masks") -> str:
    """``value`` when it is one of :data:`GREY_MASKS`, else UnetlabError naming them."""
    if value not in GREY_MASKS:
        raise UnetlabError(unknown_choice(key, value, GREY_MASKS))
    return value


def grey_masks_read_as(how: str | None) -> contextlib.AbstractContextManager[None]:
    """Read grey RGB masks beside a colour table as ``how`` says within (None: as now); a
    ``how`` given holds over :func:`set_grey_masks_reading` (a checkpoint's) within."""
    now = _READING.get() if how is None else (check_grey_masks(how), True)
    return set_within(_READING, now)


def grey_masks_reading() -> str:
    """How grey RGB masks beside a colour table are read now (:data:`GREY_MASKS`)."""
    return _READING.get()[0]


def index_like(greys: list[int], table: ColourTable) -> bool:
    """Whether the ``greys`` found in a grey mask could be class indices of ``table``'s
    classes: each below their count, or 255 (void)."""
    classes = sum(v != VOID for v in table.values)
    return any(g != VOID for g in greys) and all(g < classes or g == VOID for g in greys)


def greys_of(greys: np.ndarray) -> list[int]:
    """The distinct values of a grey mask's 8-bit ``greys``, ascending."""
    return np.flatnonzero(np.bincount(greys.ravel(), minlength=256)).tolist()


def unknown_grey_line(path, greys: list[int], table: ColourTable) -> str:
    """The refusal of a grey RGB mask at ``path`` whose ``greys`` (class-index-like: see
    :func:`index_like`) are not all colours of ``table``: it names the key and the re-save,
    then adding them to the table for greys that are colours."""
    known = {c[0] for c in table.colours if c[0] == c[1] == c[2]}
    missing = [g for g in greys if g not in known]
    said = ", ".join(str(g) for g in missing[:6])
    more = f" and {len(missing) - 6} more" if len(missing) > 6 else ""
    return (
        f"{path}: a grey RGB mask (R = G = B) of {worded(len(missing), 'grey')} {said}{more} not in {table.source}, "
        "read through it as every RGB mask beside it is; if its greys are class indices, "
        f"{KEY_FIX} or save such masks as single-channel grey PNGs; if they are colours, "
        f"{table.add_fix().replace('add it', 'add each', 1)}"
    )


def trained_grey_masks(model) -> str | None:
    """How ``model``'s training read grey RGB masks (``data.grey_masks`` of the config its
    checkpoint records); None for a model without it (read as the command reads them)."""
    how = (getattr(model, "training_data", None) or {}).get("grey_masks")
    return how if how in GREY_MASKS else None


def set_grey_masks_reading(how: str | None) -> None:
    """Read grey RGB masks as ``how`` (a checkpoint's) says from now, within a function of
    :func:`~unetlab.data.mask_reading.keeps_masks_reading`, which restores the reading
    before; None, or a reading a command gave (:func:`grey_masks_read_as`), keeps the
    reading."""
    _, given = _READING.get()
    if how is not None and not given:
        _READING.set((check_grey_masks(how), False))
