"""The base of the config's sections (:class:`Section`): a name that is no key is refused
as an attribute too (``cfg.train.epocs = 99`` in a notebook was silently ignored, audit s30),
each key assigned after the section is built is recorded as the user's
(:func:`assigned_keys`), so that the plan keeps it even where it equals the default, and a
value of the wrong type is refused where it is assigned (``cfg.train.epochs = "50"`` passed
until ``plan_training`` or ``fit``, s52 notebook); ranges are checked where the config is used
(:meth:`~unetlab.config.Config.checked`), as one key may need another set first."""

from __future__ import annotations

import os
import typing
from dataclasses import MISSING, fields, is_dataclass
from functools import cache

from unetlab.errors import UnetlabError
from unetlab.words import numbered

#: the instance attribute (not a field: neither saved nor compared) holding the keys assigned
_ASSIGNED = "_assigned"
#: the keys not at their default that a config's or a section's one-line repr names with
#: their values
REPR_KEYS = 4


class Section:
    """Refuses an attribute that is neither a field nor a class attribute (``user_keys``),
    naming the closest key as :func:`unetlab.config.load_config` does; records a field
    assigned once the section is built (a dataclass's ``__init__`` assigns each field once,
    so a field assigned again is the caller's, and its value's type is checked as a config
    file's is: :func:`~unetlab.config.convert.check_type`); a keyword and an assigned value
    are stored as converted (``"off"`` a bool's False, ``1`` a float's 1.0)."""

    def __setattr__(self, name: str, value) -> None:
        known = [f.name for f in fields(self)] if is_dataclass(self) else []
        if name not in known and not hasattr(type(self), name):
            raise UnetlabError(_unknown(self, name, known))
        if name in known:  # a constructor's keyword (TrainSection(epochs="5"), s54) and an
            # assigned value alike, stored as checked() makes it (an assigned "off" stayed a
            # truthy str until then, s55)
            value = _check_assigned(self, name, value)
        if name in known and name in self.__dict__:
            self.__dict__.setdefault(_ASSIGNED, set()).add(name)
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        """One line, as the config's (``cfg.train`` as a notebook cell's value listed its
        ~40 keys): the keys not at their default, the first :data:`REPR_KEYS` with their
        values, and how to see them all (``str`` is the dataclass's full form)."""
        from unetlab.config.load import changed_fields

        changed = changed_fields(self)
        return one_line(
            type(self).__qualname__,
            [(key, getattr(self, key)) for key in changed],
            f"print(cfg.{_prefix(self).removesuffix('.')})",
        )

    def __str__(self) -> str:
        """Every key: the dataclass's form (what ``repr`` was), a section's keys too."""
        listed = ", ".join(
            f"{f.name}={str(v) if isinstance(v := getattr(self, f.name), Section) else repr(v)}"
            for f in fields(self)
        )
        return f"{type(self).__qualname__}({listed})"


def one_line(name: str, changed: list[tuple[str, object]], every: str) -> str:
    """``NAME(N keys not the default: a=1, b=2 and K more; EVERY for every key)``: the
    ``changed`` (key, value) pairs, the first :data:`REPR_KEYS` of them shown."""
    shown = ", ".join(f"{key}={value!r}" for key, value in changed[:REPR_KEYS])
    more = f" and {len(changed) - REPR_KEYS} more" if len(changed) > REPR_KEYS else ""
    return (
        f"{name}({numbered(len(changed), 'key')} not the default: "
        f"{shown or 'none'}{more}; {every} for every key)"
    )


def assigned_keys(cfg) -> set[str]:
    """The ``section.key`` names assigned as attributes of ``cfg``'s sections since they were
    built (``cfg.data.tile_size = 256``), whatever the value."""
    return {
        f"{f.name}.{key}"
        for f in fields(cfg)
        for key in getattr(getattr(cfg, f.name), _ASSIGNED, ())
    }


def _check_assigned(section, name: str, value):
    """A key's ``value`` of the wrong type refused in one line naming the key and its type
    (``config key train.epochs must be int, not '50'``), as Python assigns it; else the value
    made plain as :meth:`~unetlab.config.Config.checked` makes it (numpy numbers, paths,
    ``1`` for a float). A whole section is only checked to be one (not a dict)."""
    from unetlab.config.convert import check_type

    hint = _hints(type(section))[name]
    if is_dataclass(hint) and not isinstance(value, hint):  # Config(train={"epochs": 5})
        raise UnetlabError(
            f"config section {name} must be a {hint.__name__}, not {type(value).__name__}: "
            f"give {hint.__name__}(...) with its keys as keywords, or build the whole config "
            f"from a dict with Config.from_dict({{{name!r}: {{...}}}})"
        )
    if not is_dataclass(hint):
        default = next(f.default for f in fields(section) if f.name == name)
        default = None if default is MISSING else default
        key = f"{_prefix(section)}{name}"
        return check_type(value, hint, key, default, form="code")
    return value


@cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _prefix(section) -> str:
    """``train.`` for the train section (``""`` for the whole config)."""
    from unetlab.config.sections import Config

    names = {hint: f"{key}." for key, hint in _hints(Config).items()}
    return names.get(type(section), "")


def _unknown(section, name: str, known: list[str]) -> str:
    from unetlab.config.convert import unknown_key_message

    return unknown_key_message(name, known, _prefix(section))


def plain_value(value):
    """Paths as strings, numpy scalars as Python numbers, numpy arrays and tuples as lists,
    nested; a mapping's keys too, where one is a number or a path
    (``dict(zip(np.unique(masks), names))`` has numpy integer keys, s52 review)."""
    if isinstance(value, dict):
        return {_plain_key(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # an array: a list of numbers
        return value.tolist()  # a numpy scalar: a Python number
    return value


def _plain_key(key):
    """A mapping's ``key`` as :func:`plain_value` makes a value, but a tuple stays one (a
    list is no key)."""
    return key if isinstance(key, tuple) else plain_value(key)
