"""The reference of every config key: its type, default and meaning, read from the dataclasses
of :mod:`unetlab.config` (each field's ``help``), so that it cannot drift from them.
``unetlab config`` prints it; docs/config.md is :func:`reference_markdown`'s output.
"""

from __future__ import annotations

import json
import re
import textwrap
import typing
from dataclasses import MISSING, fields
from typing import NamedTuple

from unetlab.config.sections import Config
from unetlab.errors import UnetlabError, close_names


class ConfigKey(NamedTuple):
    key: str  # section.name
    type: str  # as annotated: "int", "str | None", ...
    default: str  # as YAML writes it: 50, null, auto, [1, 2]
    help: str


def sections() -> list[tuple[str, type]]:
    """``[(name, dataclass)]`` of the config's sections, in order."""
    hints = typing.get_type_hints(Config)
    return [(f.name, hints[f.name]) for f in fields(Config)]


def config_keys() -> list[ConfigKey]:
    """Every key of :class:`unetlab.config.Config`, section by section; ``help`` is ""
    for a key without one (a test refuses that)."""
    keys = []
    for section, cls in sections():
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            default = f.default if f.default is not MISSING else f.default_factory()
            keys.append(
                ConfigKey(
                    f"{section}.{f.name}",
                    _type_name(hints[f.name]),
                    _yaml_value(default),
                    f.metadata.get("help", ""),
                )
            )
    return keys


def select(keys: list[ConfigKey], names: list[str]) -> list[ConfigKey]:
    """The keys that are, or lie in the sections, ``names`` (``train``, ``train.lr``);
    a name that matches none is refused with the closest ones."""
    if not names:
        return keys
    known = [k.key for k in keys] + [s for s, _ in sections()]
    for name in names:
        if name not in known:
            close = close_names(name, known, n=3)
            hint = f": did you mean {' or '.join(close)}?" if close else ""
            raise UnetlabError(f"{name} is no config key or section{hint}")
    return [k for k in keys if k.key in names or k.key.split(".")[0] in names]


def reference_text(names: list[str] | None = None, width: int = 92) -> str:
    """The keys (all, or those of :func:`select`) as plain text: ``section.key: type =
    default`` and the meaning indented below; the presets' options at the end."""
    lines = []
    for k in select(config_keys(), list(names or [])):
        lines.append(f"{k.key}: {k.type} = {k.default}")
        lines += textwrap.wrap(k.help, width, initial_indent="    ", subsequent_indent="    ")
    if not names or "model" in names or "model.preset" in names:
        lines += ["", "model.preset sets these UNet options (a model.* key that is not null wins):"]
        lines += [f"    {name}: {options}" for name, options in preset_options().items()]
    return "\n".join(lines) + "\n"


def preset_options() -> dict[str, str]:
    """``{"small": "depth 4, base_channels 16, ..."}`` from the presets themselves."""
    from unetlab.models.architecture import PRESETS

    return {
        name: ", ".join(f"{k} {_yaml_value(v)}" for k, v in options.items())
        for name, options in PRESETS.items()
    }


def reference_markdown() -> str:
    """docs/config.md: one table of keys, types, defaults and meanings per section."""
    out = [
        "# Configuration keys",
        "",
        "Generated from `src/unetlab/config/sections.py` by "
        "`unetlab config --markdown > docs/config.md`;",
        "do not edit by hand. Set any key in a `--config` YAML file (`section:` then `key: value`)",
        "or with `--set section.key=value`; precedence: `--set` and flags > the file > these",
        "defaults. A run folder's `config.yaml` holds every key as the run used it, and",
        "`history.yaml` what the open ones (null, `auto`, the preset) resolved to.",
    ]
    keys = config_keys()
    for section, cls in sections():
        out += ["", f"## {section}", "", _first_sentence(cls.__doc__), ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for k in keys:
            if k.key.split(".")[0] == section:
                cells = (f"`{k.key}`", f"`{k.type}`", f"`{k.default}`", k.help)
                out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if section == "model":
            out += [
                "",
                "What each `model.preset` sets (a `model.*` key that is not null wins):",
                "",
            ]
            out += [f"- `{name}`: {options}" for name, options in preset_options().items()]
    return "\n".join(out) + "\n"


def _first_sentence(doc: str | None) -> str:
    text = " ".join(line.strip() for line in (doc or "").strip().split("\n\n")[0].splitlines())
    return re.split(r"(?<=\.)\s", text)[0]


def _type_name(hint) -> str:
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    return str(hint).replace("NoneType", "None")


def _yaml_value(value) -> str:
    """``value`` as YAML writes it in a config file (null, true, 0.001, auto, [1, 2])."""
    if isinstance(value, str):
        return value
    return json.dumps(value)
