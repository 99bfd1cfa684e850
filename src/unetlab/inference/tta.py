"""Which test-time transforms suit a net: those it trained with.

A net trained with left-right flips only (``augment.vflip`` and ``augment.rot90`` off: road
scenes, sky above, road below) never saw an upside-down or turned street; averaging its
predictions of such copies asks it about images it cannot read. So a trained net records
the transforms its training augmentation covered (``model.tta``, kept in the checkpoint),
and ``tta=True`` averages over those alone.

- :func:`fitting_tta` (defined with the augmentation, :mod:`unetlab.data.transforms`): the
  transforms an ``augment`` config (``enabled``, ``flip``, ``vflip``, ``rot90``) trains a
  net for.
- :func:`model_tta`: a model's recorded transforms; all 8 for a model that records none
  (foreign packages, and checkpoints written before the record whose training config does
  not say how they were augmented: those that do get its transforms when loaded).
- :func:`resolve_tta`: what a ``tta`` setting means for a model (``True``: its own; ``"all"``:
  the 8; names: those); :func:`describe_tta` says it in words for the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from unetlab.data.transforms import fitting_tta as fitting_tta  # its home: the augmentation
from unetlab.inference.tiling import TTA_TRANSFORMS, tta_names
from unetlab.words import numbered

#: ``tta="all"``: the 8 flips and turns whatever the net trained with (for experts)
ALL = "all"

#: the transforms in words
WORDS = {
    "identity": "identity",
    "rot90": "quarter turn",
    "rot180": "half turn",
    "rot270": "three-quarter turn",
    "hflip": "left-right flip",
    "vflip": "upside-down flip",
    "transpose": "transpose",
    "antitranspose": "antitranspose",
}


def model_tta(model) -> tuple[str, ...]:
    """The transforms ``model`` trained with (``model.tta``; ``("identity",)`` for a net
    trained without flips or turns), or all 8 when the model records none."""
    recorded = getattr(model, "tta", None)
    if recorded is None:
        return TTA_TRANSFORMS
    return tta_names(tuple(recorded) or ("identity",))


def resolve_tta(model, tta: bool | str | Sequence[str]) -> tuple[str, ...]:
    """The transforms a ``tta`` setting averages for ``model``: ``True`` its own
    (:func:`model_tta`), ``"all"`` the 8, ``False`` none, else the names given."""
    if tta is True:
        return model_tta(model)
    if isinstance(tta, str) and tta == ALL:
        return TTA_TRANSFORMS
    return tta_names(tta)


def describe_tta(model, tta: bool | str | Sequence[str]) -> str:
    """The log's line: ``"TTA: 2 transforms (identity, left-right flip), those the net
    trained with"``; ``""`` without TTA. Transforms asked for that the net (by its record)
    never trained with are counted and named."""
    names = resolve_tta(model, tta)
    if not names:
        return ""
    count = numbered(len(names), "transform")
    listed = ", ".join(WORDS[n] for n in names)
    if tta is not True:
        source = "as asked" + _untrained(model, names)
    elif getattr(model, "tta", None) is None:
        source = "the checkpoint does not record those the net trained with"
    elif len(names) == 1:
        source = "the net trained without flips or turns: TTA changes nothing"
    else:
        source = "those the net trained with"
    return f"TTA: {count} ({listed}), {source}"


def _untrained(model, names: Sequence[str]) -> str:
    """``"; 6 of them the net never trained with (...)"`` for the transforms in ``names``
    outside the model's record; ``""`` when all are in it or it records none."""
    if getattr(model, "tta", None) is None:
        return ""
    trained = set(model_tta(model))
    new = [n for n in names if n not in trained]
    if not new:
        return ""
    listed = ", ".join(WORDS[n] for n in new)
    return f"; {len(new)} of them the net never trained with ({listed}), which may lower the scores"
