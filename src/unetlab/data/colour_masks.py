"""How a colour mask's line names its fix (:class:`~unetlab.data.io.ColourMaskError`): a
class mask's (save class indices, or a colour table), or, where the mask is read as object
ids, an instance mask's (save ids, and the numpy recipe that makes them). One rule for
loading the data (:mod:`unetlab.data.datasets`) and measuring it for a plan
(:mod:`unetlab.data.fingerprint`), which told a colour instance mask the class fix (s57)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unetlab.data.instances import INSTANCE_VALUES
from unetlab.data.io import ColourMaskError, read_stack
from unetlab.data.names import ANNOTATION_SUFFIXES, holds_object_ids
from unetlab.errors import UnetlabError, quoted, said_as, set_to

#: the reader of masks of object ids, as a colour mask's line names it
INSTANCE_MODE = "the instance mode (data.target: instances)"


def mask_said(exc: UnetlabError, mask: Path, target: str) -> str:
    """The problem ``exc`` of ``mask`` as a list quotes it, a colour mask told the fix of
    the reader that ``data.target`` ``target`` gives it (:func:`ids_reader`)."""
    if not isinstance(exc, ColourMaskError):
        return quoted(exc)
    many = target == "auto" and not holds_object_ids(mask)
    if many and (colours := _colour_count(mask)) > INSTANCE_VALUES:
        return many_colours_line(exc, colours)
    return said_by(exc, ids_reader(mask, target))


def many_colours_line(exc: ColourMaskError, colours: int) -> str:
    """The line of a colour mask of ``colours`` colours, more than ``data.target: auto``
    reads as classes: it may be classes (many of them, or a few whose edges blend, as
    anti-aliased drawing makes them: 111 colours for 3 classes) or objects, a colour each,
    which its colours cannot tell apart; so both fixes, each saying what it fits (s57
    review E: the instance recipe alone turned classes and their edges into objects)."""
    nearest = (
        "table[np.argmin(((mask[..., None, :3].astype(int) - table) ** 2).sum(-1), -1)] "
        "(table: a (K, 3) uint8 array of the class colours)"
    )
    semantic = said_as(set_to("data.target", "semantic"))
    return (
        f"{exc.problem} of {colours} colours; if its colours are classes, {exc.CLASS_FIX}, "
        f"with {semantic} past {INSTANCE_VALUES} classes; where blends at the class edges "
        f"(anti-aliasing) add colours, first give each pixel its nearest class colour by "
        f"{nearest}; if each colour is an object, "
        + ColourMaskError.ids_fix(f"the instance mode (data.target: auto, for {colours} colours)")
    )


def said_by(exc: UnetlabError, reader: str | None) -> str:
    """A mask's problem as a list quotes it; a colour mask that ``reader`` reads as object
    ids (None: a class mask) is told the fix of an instance mask, not a class mask's (s56)."""
    if reader is not None and isinstance(exc, ColourMaskError):
        return exc.ids_line(reader)
    return quoted(exc)


def ids_reader(mask: Path, target: str) -> str | None:
    """Who reads the colour mask ``mask`` as object ids for ``data.target`` ``target``, as
    its line names it: the instance mode, set or chosen by ``auto`` for where the mask lies
    or what it is (:func:`why_ids`; s56 review B: a colour mask in ``instances/`` was told
    a class mask's fix); None for a class mask (:func:`mask_said` gives a mask of many
    colours both fixes)."""
    if target == "instances":
        return INSTANCE_MODE
    if target == "auto" and holds_object_ids(mask):
        return f"the instance mode (data.target: auto, for {why_ids(mask)})"
    return None


def why_ids(mask: Path) -> str:
    """What makes ``mask`` object ids by where it lies or what it is
    (:func:`~unetlab.data.names.holds_object_ids`)."""
    if mask.is_dir():  # a DSB sample's masks/
        return "a folder of one mask per object"
    if mask.suffix.lower() in ANNOTATION_SUFFIXES:
        return "outlines"
    return "a folder named instances/"


def _colour_count(mask: Path) -> int:
    """How many colours the colour mask ``mask`` holds (its pixels read as an image's, the
    alpha left out): more than :data:`INSTANCE_VALUES` may be classes or objects, and get
    both fixes (:func:`many_colours_line`); 0 where it cannot be read."""
    try:
        rgb = read_stack(mask)[..., :3].reshape(-1, 3).astype(np.int64)
    except (UnetlabError, OSError):
        return 0
    return len(np.unique((rgb[:, 0] << 32) | (rgb[:, 1] << 16) | rgb[:, 2]))
