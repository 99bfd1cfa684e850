"""The keywords of a function of a config (``fit``, ``plan_training``), checked before the
call: a setting given as a keyword (``fit(cfg, run_dir=..., epochs=3)``, as ``unetlab train
--epochs 3``) is refused in one line naming its config key, and a run folder given by
position in one naming ``run_dir=``, where Python's TypeError named neither."""

from __future__ import annotations

import functools
import inspect

from unetlab.config_keys import config_keys_named
from unetlab.errors import UnetlabError, close_names

__all__ = ["checks_keywords", "config_keys_named", "refuse_stray"]


def refuse_stray(function, args: tuple, kwargs: dict) -> None:
    """One line (UnetlabError) for what ``function(cfg, *args, **kwargs)`` cannot take: a
    keyword it has not (a config key's name: set it on ``cfg``; else the closest keyword),
    or more positional arguments than it has (its keywords by name)."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    name = function.__name__
    by_position = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    keywords = [p.name for p in parameters if p.kind is not p.VAR_KEYWORD]
    if len(args) > len(by_position):
        raise UnetlabError(
            f"{name} takes the config and then keywords by name, not {args[len(by_position)]!r} "
            f"by position: {name}(cfg, {keywords[len(by_position)]}=...)"
        )
    for key, value in kwargs.items():
        if key not in keywords:
            raise UnetlabError(f"{name} has no keyword {key}: {_fix(key, value, name, keywords)}")


def _fix(key: str, value, name: str, keywords: list[str]) -> str:
    """What to do instead of giving ``key=value`` to function ``name``."""
    keys = config_keys_named(key)
    if keys:
        return (
            f"it is a config setting: cfg.{keys[0]} = {value!r} before {name}(cfg, ...)"
            f"{''.join(f' (or cfg.{k})' for k in keys[1:])}"
        )
    close = close_names(key, keywords)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{hint}its keywords are {', '.join(keywords)} (settings: cfg.section.key = value)"


def checks_keywords(function):
    """``function(cfg, ...)`` whose arguments are checked by :func:`refuse_stray` first."""

    @functools.wraps(function)
    def checked(cfg, *args, **kwargs):
        refuse_stray(function, args, kwargs)
        return function(cfg, *args, **kwargs)

    return checked
