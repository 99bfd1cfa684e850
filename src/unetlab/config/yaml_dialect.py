"""The YAML that config files are read with: 1.2 booleans, a key named twice refused
(:func:`parse_yaml`). Its own module, as it builds PyYAML's classes when imported:
:mod:`unetlab.config.files` imports it at its first read."""

from __future__ import annotations

import re

import yaml


class Loader(yaml.SafeLoader):
    """YAML with the 1.2 booleans only: ``true``/``false`` are booleans, while ``off``, ``on``,
    ``yes`` and ``no`` stay words (``train.amp: off`` is the string "off", not False). A bool
    key still takes those words (:mod:`unetlab.config.convert`)."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping that names a key twice (YAML would keep the last without a word)."""

    def __init__(self, key, first, second):
        where = f"on line {first + 1}" if first == second else f"lines {first + 1} and {second + 1}"
        super().__init__(f"key {key!r} appears twice in one mapping ({where}): keep one")


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            if key in seen:
                raise DuplicateKeyError(key, seen[key], key_node.start_mark.line)
        except TypeError:  # an unhashable key: SafeLoader's own error says so
            break
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: _construct_mapping(loader, node),
)


def parse_yaml(text: str):
    """``text`` read as YAML by :class:`Loader`: 1.2 booleans, a key named twice refused."""
    return yaml.load(text, Loader=Loader)
