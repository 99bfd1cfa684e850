"""The rules of a resumed run's config: which keys may change on resume (:data:`RESUMABLE`),
the changes between two configs, and the refusals that keep a resumed run training what its
first part trained (:func:`resumed_config` for the command line, :func:`check_resumed` for
``fit(..., resume=True)``), and a run's own config read back where this version refuses one
of its values (:func:`load_run_config`). :mod:`unetlab.config` re-exports these names."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

from unetlab.config.convert import build
from unetlab.config.files import read_config_file
from unetlab.config.load import load_config
from unetlab.config.removed import drop_removed
from unetlab.config.sections import Config
from unetlab.errors import UnetlabError, first_line
from unetlab.provenance import unetlab_command

#: the keys a resumed run may change: how long, where and with what batches it goes on (the
#: schedule is laid over the new length), and how it is watched. Every other key would change
#: what is trained, so a resumed run keeps the run's own value.
RESUMABLE = frozenset(
    {
        "data.root",  # the same data, moved
        "data.tiles_per_epoch",
        "train.epochs",
        "train.max_minutes",
        "train.batch_size",
        "train.device",
        "train.num_workers",
        "train.patience",
        "train.val_every",
        "train.dist_timeout_minutes",
        "run.dir",
        "run.name",
    }
)


def config_changes(before: Config, after: Config, keys: set[str] | None = None) -> dict:
    """``{"section.key": (before's value, after's)}`` for each key (of ``keys``, or all) whose
    values differ."""
    old, new = before.to_dict(), after.to_dict()
    return {
        f"{section}.{key}": (value, new[section][key])
        for section, values in old.items()
        for key, value in values.items()
        if value != new[section][key] and (keys is None or f"{section}.{key}" in keys)
    }


def describe_changes(changes: dict) -> str:
    """``train.epochs 50 -> 60, train.max_minutes 1.0 -> 2.0``"""
    return ", ".join(f"{key} {old} -> {new}" for key, (old, new) in changes.items())


def resumed_config(
    own: Config,
    asked: Config,
    explicit: set[str],
    *,
    source: str,
    spent: Callable[[], float | None] | None = None,
) -> Config:
    """The config a resumed run goes on with: ``own``, the run's resolved config (read from
    ``source``, its plan included), with the values that ``asked`` (the command's config file
    and flags) gives to its ``explicit`` keys where they may change on resume (``RESUMABLE``).
    An explicit key of another kind whose value differs from the run's is refused, naming it:
    a resumed run must train what its first part trained. ``spent``: the minutes of its time
    budget the run has spent (None: not known), read only for the refusal that names them."""
    changes = config_changes(own, asked, explicit)
    if refused := [key for key in changes if key not in RESUMABLE]:
        listed = ", ".join(f"{k} {changes[k][1]} (the run's: {changes[k][0]})" for k in refused)
        raise UnetlabError(
            f"a resumed run keeps its own settings ({source}), but this command sets {listed}: "
            "drop them to resume, or start a new run with them (another --run-dir, or "
            "--overwrite)"
        )
    _refuse_clock_switch(own, changes, source, spent=spent)
    data = own.to_dict()
    for key, (_, value) in changes.items():
        section, name = key.split(".")
        data[section][name] = value
    return type(own).from_dict(data)


def check_resumed(
    own: Config, asked: Config, *, source: str, spent: Callable[[], float | None] | None = None
) -> None:
    """What ``fit(..., resume=True)`` is given (``asked``) against the run's own config
    (``own``, read from ``source``): one line naming the keys where it differs and may not
    change on resume (``RESUMABLE``), in Python's terms; a switch between the clock and steps
    (:func:`_refuse_clock_switch`) too. :func:`resumed_config` is the command line's
    (it takes the run's config with the keys the command sets); ``spent`` as there."""
    changes = config_changes(own, asked)
    if refused := [key for key in changes if key not in RESUMABLE]:
        listed = ", ".join(f"{k} {changes[k][1]} (the run's: {changes[k][0]})" for k in refused[:4])
        more = f" and {len(refused) - 4} more" if len(refused) > 4 else ""
        raise UnetlabError(
            f"a resumed run keeps its own settings ({source}), but this config sets "
            f"{listed}{more}: pass the run's own config, cfg = load_config({str(source)!r}), "
            f"changing only {', '.join(sorted(RESUMABLE))}; or start a new run with yours "
            "(another run_dir, or overwrite=True)"
        )
    _refuse_clock_switch(own, changes, source, flags=False, spent=spent)


def _refuse_clock_switch(
    own: Config,
    changes: dict,
    source: str,
    *,
    flags: bool = True,
    spent: Callable[[], float | None] | None = None,
) -> None:
    """A cosine or poly schedule runs on the clock under a time budget and on steps without
    one: a resume cannot switch between the two (it has the other one's state). ``flags``:
    the fix in the command line's terms, else in the config's; ``spent``: the minutes the
    run has spent, the least budget that trains on (:func:`_more_than`)."""
    if "train.max_minutes" not in changes or own.train.schedule not in ("cosine", "poly"):
        return
    before, after = changes["train.max_minutes"]
    if (before > 0) == (after > 0):
        return
    minutes, more_minutes, more_epochs = _CLOCK_WORDS[flags]
    if before > 0:
        fix = f"resume it with {more_minutes} ({_more_than(spent)}) to give it more time"
        raise UnetlabError(f"this run trained on a {before:g}-minute time budget ({source}): {fix}")
    raise UnetlabError(
        f"this run trained without a time budget ({source}: its {own.train.schedule} schedule "
        f"counts steps), so a resume cannot give it {minutes}: give {more_epochs} to train "
        f"longer, or start a new run with {minutes}"
    )


#: the time budget and the epochs as :func:`_refuse_clock_switch` names them: the command
#: line's flags (True), or Python's attributes of the config given to ``fit`` (False; a
#: notebook was told ``train.max_minutes M``, an override's key, s55)
_CLOCK_WORDS = {
    True: ("--minutes", "--minutes M", "--epochs N"),
    False: ("cfg.train.max_minutes", "cfg.train.max_minutes = M", "cfg.train.epochs = N"),
}


def _more_than(spent: Callable[[], float | None] | None) -> str:
    """``more than 0.07, the minutes it has spent``: a budget below them trains nothing (a
    resume warns that training ends at once); rounded up to 0.01 min, so "more than" holds.
    Where they are not known: ``more than the minutes it has spent``."""
    minutes = spent() if spent is not None else None
    if minutes is None:
        return "more than the minutes it has spent"
    return f"more than {math.ceil(minutes * 100) / 100:g}, the minutes it has spent"


def load_run_config(
    path: str | os.PathLike, asked: Config | None = None, keys: set[str] | None = None
) -> tuple[Config, dict]:
    """``(config, fixed)``: a run's config.yaml at ``path``, and ``{}``; or, where it holds a
    value this version refuses (a check added since the run began), that key given ``asked``'s
    value, when ``keys`` (None: every key) holds it, and ``fixed`` = ``{"section.key": (the
    refused value, the one given)}``. Such a run cannot go on as it trained, whatever the
    command: its value is replaced only by one that the command sets by name. Else one line
    names the key, its value, why it is refused and the command that resumes the run."""
    try:
        return load_config(path), {}
    except UnetlabError as exc:
        refused = refused_values(drop_removed(read_config_file(Path(path)), path), exc)
    given = {
        k: asked.value_of(k) for k in refused if asked is not None and (keys is None or k in keys)
    }
    if missing := [k for k in refused if k not in given]:
        key, (value, reason) = missing[0], refused[missing[0]]
        sets = [word for k in missing for word in ("--set", f"{k}={_yaml_text(_default(k))}")]
        command = unetlab_command("train", "--run-dir", Path(path).parent, "--resume", *sets)
        raise UnetlabError(
            f"{path} holds {key}: {_yaml_text(value)}, which this version of unetlab refuses "
            f"({reason}): resume it with a value this version takes, e.g. its default: {command}"
        )
    overrides = [f"{k}={json.dumps(v)}" for k, v in given.items()]
    fixed = {k: (refused[k][0], v) for k, v in given.items()}
    return load_config(path, overrides), fixed


def refused_values(data: dict, error: UnetlabError) -> dict:
    """``{"section.key": (value, why)}``: the values of a config file's mapping ``data`` (a
    whole config, as a run folder's config.yaml holds it) that this version refuses, each
    found by setting keys to their defaults until the file is taken; ``error`` (what loading
    it raised) again when no key's value is to blame (an unknown key)."""
    defaults, trial, refused = Config().to_dict(), _copy(data), {}
    while (reason := _refusal(trial)) is not None:
        for section, values in trial.items():
            if not isinstance(values, dict):  # a top-level key of another file (mine: 1)
                continue
            names = [k for k in values if k in defaults.get(section, {})]
            blamed = next((k for k in names if _blames(trial, section, k, defaults, reason)), None)
            if blamed is not None:
                refused[f"{section}.{blamed}"] = (values[blamed], reason)
                values[blamed] = defaults[section][blamed]
                break
        else:
            raise error
    return refused


def _blames(data: dict, section: str, key: str, defaults: dict, reason: str) -> bool:
    """Whether setting ``section.key`` to its default changes (or ends) the refusal."""
    if data[section][key] == defaults[section][key]:  # not to blame, or not alone
        return False
    trial = _copy(data)
    trial[section][key] = defaults[section][key]
    return _refusal(trial) != reason


def _refusal(data: dict) -> str | None:
    """Why a run's config.yaml (``data``) is refused, a type's example as the file writes it
    (``epochs: 50 under train:``; Config.from_dict's is Python's, s53), or None."""
    try:
        build(Config, data, "", "file")
    except UnetlabError as exc:
        return first_line(exc)
    return None


def _copy(data: dict) -> dict:
    return {s: dict(v) if isinstance(v, dict) else v for s, v in data.items()}


def _default(key: str):
    return Config().value_of(key)


def _yaml_text(value) -> str:
    """``value`` as a config file or ``--set`` writes it: ``0.5``, ``null``, ``dice``."""
    return value if isinstance(value, str) else json.dumps(value)
