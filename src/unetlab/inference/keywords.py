"""The keywords of the functions that predict files
(:func:`~unetlab.inference.files.predict_file`,
:func:`~unetlab.inference.folders.predict_folder`), checked by name before any work: one that
is no setting is refused in one line naming the API's spelling, which differs from
``unetlab predict``'s for a few options (``--instances`` is ``objects=True``, ``--overlay``
``draw_overlay=True``, ``--min-area 30`` an ObjectOptions field)."""

from __future__ import annotations

from unetlab.errors import UnetlabError, close_names
from unetlab.inference.objects import USER_FIELDS
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import OutputOptions

__all__ = ["CLI_NAMES", "FILE_KEYWORDS", "check_keywords"]

#: the keywords of a prediction of files beside the fields of OutputOptions and
#: PredictOptions (:func:`~unetlab.inference.files.predict_file`'s)
FILE_KEYWORDS = ("options", "axes")
#: ``unetlab predict``'s options that the API spells otherwise -> what to give instead
CLI_NAMES = {
    "instances": "objects=True (or objects=ObjectOptions(...))",
    "overlay": "draw_overlay=True",
    "large_pixels": "large_threshold=",
    "checkpoint": "the model itself (unetlab.load_model(path))",
}


def check_keywords(settings: dict) -> None:
    """Refuse, in one line before any work, keywords of a prediction that are no
    setting (``settings``: those left beside its own and OutputOptions' fields), naming the
    API's spelling of ``unetlab predict``'s options (:data:`CLI_NAMES`; an object setting
    such as ``min_area``: ``objects=`` a function giving ObjectOptions) or the closest
    keyword (audit s32 notebook 5: ``instances=True`` failed every file, the folder
    claimed)."""
    known = [*PredictOptions.__dataclass_fields__, *FILE_KEYWORDS]
    unknown = [k for k in settings if k not in known]
    if not unknown:
        return
    every = [*OutputOptions.__dataclass_fields__, *known]
    fixes = "; ".join(f"{k}: {_spelling(k, settings[k], every)}" for k in unknown)
    raise UnetlabError(f"unknown keyword{'s' * (len(unknown) > 1)} {fixes} (nothing was written)")


def _spelling(name: str, value, known: list[str]) -> str:
    """What to give instead of keyword ``name`` (given ``value``)."""
    if name in CLI_NAMES:
        return f"use {CLI_NAMES[name]}"
    if name in USER_FIELDS:
        return (
            f"an object setting: use objects=lambda m: ObjectOptions.for_model(m, {name}="
            f"{value!r}) (or objects=ObjectOptions(...))"
        )
    if close := close_names(name, known):
        return f"did you mean {close[0]}?"
    return f"the keywords are {', '.join(known)}"
