"""The parts of a checkpoint, or of a bioimage.io package's record, that unetlab writes as
numbers or names (``label_offset``, ``tta``, ``normalization.low``), whether a value read
back is one, and how a damaged one is said: both :mod:`unetlab.checkpoint` and
:mod:`unetlab.packages` (which the former imports) refuse them in one line where reading
them raised a TypeError, ValueError or IndexError called a bug (s57 review E, s58)."""

from __future__ import annotations

from unetlab.data.normalize import NUMBER_KEYS, finite_numbers, not_numbers
from unetlab.data.transforms import DIHEDRAL


def _offset(value) -> bool:
    """Whether ``value`` is a label offset (dy, dx): a list of two numbers (no bools, no
    text: :func:`~unetlab.data.normalize.finite_numbers`) within one pixel, as
    :func:`unetlab.inference.offset.check_offset` takes them (no NaN, no inf)."""
    dy_dx = finite_numbers(value) if isinstance(value, (list, tuple)) else None
    return dy_dx is not None and len(dy_dx) == 2 and all(abs(v) <= 1 for v in dy_dx)


#: the parts of numbers or names, where present: whether a value is one, and what it is
PART_VALUES = {
    "label_offset": (_offset, "two numbers (dy, dx) in a list, each within one pixel (-1 to 1)"),
    "tta": (
        lambda v: isinstance(v, (list, tuple)) and all(n in DIHEDRAL for n in v),
        f"a list of the transforms {', '.join(DIHEDRAL)}",
    ),
    **{
        f"normalization.{key}": (lambda v, key=key: not not_numbers({key: v}), takes)
        for key, takes in NUMBER_KEYS.items()
    },
}


def kind(value) -> str:
    """``a list``, ``an int``, ``missing``: what a damaged part is, in words."""
    if value is None:
        return "missing"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def damaged_value(part: str, value) -> str | None:
    """``is 'flips', not a list of the transforms ...``: what is wrong with ``value`` read
    as ``part`` (a key of :data:`PART_VALUES`, or a mapping's part), None where it fits or
    is absent (None)."""
    fits, takes = PART_VALUES.get(part, (lambda v: isinstance(v, dict), "a mapping"))
    if value is None or fits(value):
        return None
    said = repr(value) if part in PART_VALUES and len(repr(value)) <= 40 else kind(value)
    return f"is {said}, not {takes}"
