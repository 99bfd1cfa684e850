"""The base of the config's sections (:class:`Section`): a name that is no key is refused
as an attribute too (``cfg.train.epocs = 99`` in a notebook was silently ignored, audit s30),
and each key assigned after the section is built is recorded as the user's
(:func:`assigned_keys`), so that the plan keeps it even where it equals the default."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

from unetlab.errors import UnetlabError

#: the instance attribute (not a field: neither saved nor compared) holding the keys assigned
_ASSIGNED = "_assigned"


class Section:
    """Refuses an attribute that is neither a field nor a class attribute (``user_keys``),
    naming the closest key as :func:`unetlab.config.load_config` does; records a field
    assigned once the section is built (a dataclass's ``__init__`` assigns each field once,
    so a field assigned again is the caller's)."""

    def __setattr__(self, name: str, value) -> None:
        known = [f.name for f in fields(self)] if is_dataclass(self) else []
        if name not in known and not hasattr(type(self), name):
            raise UnetlabError(_unknown(self, name, known))
        if name in known and name in self.__dict__:
            self.__dict__.setdefault(_ASSIGNED, set()).add(name)
        object.__setattr__(self, name, value)


def assigned_keys(cfg) -> set[str]:
    """The ``section.key`` names assigned as attributes of ``cfg``'s sections since they were
    built (``cfg.data.tile_size = 256``), whatever the value."""
    return {
        f"{f.name}.{key}"
        for f in fields(cfg)
        for key in getattr(getattr(cfg, f.name), _ASSIGNED, ())
    }


def _unknown(section, name: str, known: list[str]) -> str:
    from unetlab.config.convert import unknown_key_message
    from unetlab.config.sections import Config

    prefix = next(
        (f"{f.name}." for f in fields(Config) if type(getattr(Config(), f.name)) is type(section)),
        "",
    )
    return unknown_key_message(name, known, prefix)
