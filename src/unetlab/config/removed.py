"""Config keys that unetlab once had and removed (:data:`REMOVED`): a run's config.yaml of an
older unetlab that holds one at the value that had no effect is read without it (one log line
says so), any other value is refused saying the key was removed, what it did and what to do.
Without this table such a file reads as if the key were misspelt (audit s31 upgrade 1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from unetlab.data.read_notes import say_once_a_call
from unetlab.deferred import deferred
from unetlab.errors import UnetlabError

#: PyYAML, imported where a YAML text is read (not by a predict with a .pt checkpoint)
yaml = deferred("yaml")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Removed:
    """A removed key: the commit that removed it (the last version that trained with it is
    that commit's parent), what it did, and its value that did nothing (None: every value had
    an effect, so none is dropped without a word)."""

    commit: str
    did: str
    no_effect: object = None


#: ``section.key`` -> :class:`Removed`. A key goes here when a commit removes it from
#: :mod:`unetlab.config.sections`; ``no_effect`` only where that value trained as this version
#: trains (dropping it changes nothing).
REMOVED = {
    "data.seam_weight": Removed(
        commit="96a1ff1",
        did="weighted the loss at the boundary pixels where objects meet (data.target "
        "instances); measured, it gained nothing",
        no_effect=1.0,
    ),
}

#: the keys said outside a command or public call; within one, once in it however often a
#: run's file is read, and again in the next call (:func:`~unetlab.data.read_notes.first_said`)
_said: set[tuple[str, str]] = set()


def drop_removed(data: dict, source: str | Path) -> dict:
    """``data`` (a config file's mapping, read from ``source``) without the removed keys it
    holds at their no-effect value, each said once in the log; any other value of a removed
    key refused in one line that says so and what to do."""
    data = {s: dict(v) if isinstance(v, dict) else v for s, v in data.items()}
    for key in REMOVED:
        section, name = key.split(".")
        values = data.get(section)
        if not isinstance(values, dict) or name not in values:
            continue
        value = values.pop(name)
        check_removed(key, value, str(source))
    return data


def drop_removed_overrides(overrides: list[str]) -> list[str]:
    """``overrides`` (``section.key=value``) without those that set a removed key to its
    no-effect value (said once); another value of a removed key refused as in a file."""
    from unetlab.config.files import parse_yaml

    kept = []
    for item in overrides:
        key, _, text = item.partition("=")
        if key.strip() not in REMOVED:
            kept.append(item)
            continue
        try:
            value = parse_yaml(text) if text.strip() else None
        except yaml.YAMLError:  # refused below as the removed key it sets
            value = text
        check_removed(key.strip(), value, "--set")
    return kept


def check_removed(key: str, value, source: str) -> None:
    """Log that ``key`` (removed) is left out, where ``value`` is its no-effect value; else
    refuse it in one line."""
    removed = REMOVED[key]
    if removed.no_effect is not None and _same(value, removed.no_effect):
        # kept by the gathering (say_once_a_call): a later run's log that meets it again
        # (a fold's train.log) writes it too
        say_once_a_call(
            log,
            logging.INFO,
            ("removed", key),
            "%s: %s: %s left out: unetlab removed the key (%s); %s had no effect, as this "
            "version trains",
            source,
            key,
            value,
            removed.commit,
            value,
            outside=_said,
        )
        return
    fix = (
        f"delete the line to train as this version does (as {key}: {removed.no_effect} did)"
        if removed.no_effect is not None
        else "delete the line to train as this version does"
    )
    raise UnetlabError(
        f"{source}: {key}: {value} was removed from unetlab ({removed.commit}; it "
        f"{removed.did}): {fix}, or repeat the run with unetlab at {removed.commit}^ "
        "(the commit before)"
    )


def _same(value, no_effect) -> bool:
    if isinstance(value, bool) or value is None:
        return value is no_effect
    try:
        return float(value) == float(no_effect)
    except (TypeError, ValueError):
        return value == no_effect
