"""A config from its layers: the defaults, updated by a YAML file, updated by ``key=value``
overrides (``--set``), each value checked; and which keys the user chose (what the plan must
leave alone)."""

from __future__ import annotations

import os
import typing
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path

from unetlab.config.checks import WRITTEN_CHECKS, check_written_value
from unetlab.config.convert import build, check_type, unknown_key_message
from unetlab.config.files import (
    config_name,
    find_config,
    parse_yaml,
    read_config_file,
    refuse_no_name,
    yaml_problem,
)
from unetlab.config.guard import assigned_keys
from unetlab.config.removed import drop_removed, drop_removed_overrides
from unetlab.config.sections import Config
from unetlab.deferred import deferred
from unetlab.errors import UnetlabError

#: PyYAML, imported where a YAML text is read (not by a predict with a .pt checkpoint)
yaml = deferred("yaml")


def load_config(
    path: str | os.PathLike | None = None, overrides: list[str] | str | None = None
) -> Config:
    """Defaults, updated by the YAML file at ``path``, updated by ``overrides``.

    ``overrides`` are ``"section.key=value"`` strings, e.g. ``["train.epochs=5",
    "data.class_names={0: membrane, 255: cell}"]``; each value is parsed with
    YAML (1.2 booleans: ``off`` is a word); one string is one override. Unknown keys and
    ill-typed values raise UnetlabError (a ValueError). The keys the file and ``overrides`` set are kept as ``cfg.user_keys``:
    :func:`unetlab.plan.plan_training` plans the others, as ``unetlab train`` does.
    """
    overrides = _override_list(path, overrides)
    if path is not None:
        refuse_no_name(path)
    data = read_config_file(Path(path)) if path is not None else {}
    if path is not None:
        data = drop_removed(data, config_name(path))  # an older unetlab's run (audit s31 upgrade 1)
        _check_file(data, find_config(path), _named_keys({}, overrides))
    # defaults first, so that dict-valued keys (normalization) can be updated key by key
    defaults = Config().to_dict()
    merged = {
        s: {**defaults[s], **(data.get(s) or {})} if s in defaults else data[s]
        for s in {**defaults, **data}
    }
    overrides = drop_removed_overrides(list(overrides or []))
    _check_override_values(overrides)
    for replaced in _replaced(overrides):  # each value is checked, also one set twice
        _check_replaced(merged, overrides, replaced)
    cfg = build(Config, apply_overrides(merged, overrides), "", "override")
    cfg.user_keys = frozenset(_named_keys(data, overrides))  # what the plan must not change
    if path is not None:
        cfg.file_keys = frozenset(_named_keys(data, None) - _named_keys({}, overrides))
        cfg.config_file = config_name(path)
    return cfg


def given_config(cfg) -> Config:
    """``cfg`` where it is a :class:`Config`; anything else (a dict of settings) refused in
    one line, not as "'dict' object has no attribute 'checked'" (audit s42 api)."""
    if isinstance(cfg, Config):
        return cfg
    raise UnetlabError(
        f"cfg must be a Config, not {type(cfg).__name__}: "
        "cfg = unetlab.load_config(None, ['data.root=path/to/data'])"
    )


def _override_list(path, overrides) -> list[str]:
    """``overrides`` as a list (one string: itself; its characters were read as overrides,
    "override 't' must look like section.key=value", audit s42 api), once ``path`` is
    checked to be a path (a dict of settings raised pathlib's TypeError)."""
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise UnetlabError(
            f"path must be a YAML file's path or None, not {type(path).__name__}: give "
            "settings as overrides, load_config(None, ['train.epochs=5'])"
        )
    return [overrides] if isinstance(overrides, str) else list(overrides or [])


def _check_file(data: dict, path: Path, overridden: set[str]) -> None:
    """The config file at ``path`` (``data``) refused naming the file: an unknown section or
    key, any of them before a value of the wrong type (s51 walkcluster: "config key
    train.epochs must be int, not 'two'" named none); a value that an override replaces is
    left to the override's check."""
    for name, value, hint, default in list(_file_settings(Config, data, path)):
        if name not in overridden:
            try:
                _check_value(name, value, hint, default, "file")  # not as --set writes it
            except UnetlabError as exc:
                raise UnetlabError(f"{path}: {exc}") from None


def _check_override_values(overrides: list[str]) -> None:
    """Each of ``overrides`` whose check names its key (:func:`check_written_value`), also
    one a later override replaces, checked as an override gives it, before the config is
    built (whose checks name the key as Python assigns it: ``cfg.data.axes = 'XYC'``)."""
    for override in overrides:
        if _key(override) in WRITTEN_CHECKS:
            given = apply_overrides({}, [override])
            for key, value, hint, default in _file_settings(Config, given, Path("overrides")):
                _check_value(key, value, hint, default, "override")


def _check_value(key: str, value, hint, default, form: str) -> None:
    """``value`` of ``key`` as ``form`` wrote it (a config ``"file"``, an ``"override"``): of
    its type ``hint`` first, as the config's build says it ([true] for data.channel was told
    check_channel's line, review s58 A2), then its value (:func:`check_written_value`)."""
    check_written_value(key, check_type(value, hint, key, default, form=form), form)


def _file_settings(cls, data: dict, path: Path, prefix: str = ""):
    """(dotted key, value, type, default) of each setting in ``data``, the part of the
    config file at ``path`` that sets ``cls``: an unknown key, or a section that is no
    mapping, refused naming the file."""
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        if key not in known:
            raise UnetlabError(f"{path}: {unknown_key_message(key, list(known), prefix)}")
        if not is_dataclass(hints[key]):
            yield f"{prefix}{key}", value, hints[key], known[key].default
        elif isinstance(value, dict | None):
            yield from _file_settings(hints[key], value or {}, path, f"{prefix}{key}.")
        else:
            raise UnetlabError(
                f"{path}: config section {prefix}{key} must be a mapping of keys, indented "
                f"under {key}: (e.g. {key}: {{KEY: VALUE}}), not {value!r}"
            )


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Set ``section.key=value`` strings into a nested dict (values parsed as YAML)."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or len(parts) < 2 or not all(parts):
            fix = meant_override(item)
            hint = f"did you mean {fix}?" if fix else "e.g. train.epochs=5"
            raise UnetlabError(f"override {item!r} must look like section.key=value ({hint})")
        try:
            value = parse_yaml(text) if text.strip() else None
        except yaml.YAMLError as exc:
            raise UnetlabError(
                f"override {item!r}: the value is not valid YAML ({yaml_problem(exc)})"
            ) from exc
        node = data.setdefault(parts[0], {})
        if not isinstance(node, dict):
            raise UnetlabError(f"override {item!r}: config section {parts[0]} is not a mapping")
        for depth, part in enumerate(parts[1:-1], 2):  # into a dict-valued key, e.g.
            inner = node.get(part)  # data.normalization.mode=scale
            if inner is not None and not isinstance(inner, dict):
                raise UnetlabError(
                    f"override {item!r}: {'.'.join(parts[:depth])} holds {inner!r}, not a "
                    f"mapping of keys: set it as {'.'.join(parts[:depth])}=VALUE"
                )
            node[part] = dict(inner or {})
            node = node[part]
        node[parts[-1]] = value
    return data


def meant_override(item: str) -> str | None:
    """The well-formed override a malformed ``item`` most likely meant, or None: ``:`` or a
    space for ``=`` (``train.epochs:5``), and a key without its section where one section
    holds it (``epochs=5`` -> ``train.epochs=5``; walk s49: the line gave only an example).
    None where a part of the key is empty (``train..epochs=5``) or the suggestion is ``item``
    itself (s49 review1: "did you mean train..epochs=5?")."""
    key, sep, value = item.partition("=")
    if not sep:
        key, sep, value = item.strip().replace(":", " ", 1).partition(" ")
    key, value = key.strip(), value.strip()
    if not sep or not value or not all(key.split(".")):
        return None
    if "." not in key:
        sections = typing.get_type_hints(Config).items()
        holders = [name for name, t in sections if key in {f.name for f in fields(t)}]
        if len(holders) != 1:
            return None
        key = f"{holders[0]}.{key}"
    meant = f"{key}={value}"
    return None if meant == item.strip() else meant


def _key(override: str) -> str:
    return override.partition("=")[0].strip()


def _replaced(overrides: list[str]) -> list[int]:
    """The indices of the overrides that a later one of the same key, or of a mapping that
    holds it, replaces (``--set train.epochs=abc`` then ``--epochs 1``;
    ``data.normalization.mode=bogus`` then ``data.normalization={mode: scale}``)."""
    keys = [_key(o) for o in overrides]
    return [i for i, key in enumerate(keys) if any(_replaces(k, key) for k in keys[i + 1 :])]


def _replaces(later: str, key: str) -> bool:
    """Whether an override of ``later`` replaces one of ``key``: the same key, or a mapping
    holding it (s55 review: a sub-key's bad value replaced by its whole mapping passed)."""
    return key == later or key.startswith(f"{later}.")


def _check_replaced(merged: dict, overrides: list[str], i: int) -> None:
    """Refuse ``overrides[i]``, which a later override of its key replaces, where it is bad
    both in force with the others (those before it and the later ones of other keys) and
    with those before it alone: a bad value (``train.epochs=abc``), not one that only clashes
    with a later setting of another key (s54: an encoder run's ``--set model.encoder=vgg16``
    given a refusal's ``--set model.depth=4 --set model.encoder=none`` was refused, model.depth
    not applying to an encoder net), nor one that needs a later one (``normalization.std``)."""
    key = _key(overrides[i])
    in_force = overrides[: i + 1] + [o for o in overrides[i + 1 :] if not _replaces(_key(o), key)]
    try:
        build(Config, apply_overrides(merged, in_force), "", "override")
    except UnetlabError:
        if _may_be_incomplete(key):  # a mapping replaced may have been incomplete, no worse
            _check_mapping_type(overrides[i])
            _check_incomplete(merged, overrides[i])
            return
        build(Config, apply_overrides(merged, overrides[: i + 1]), "", "override")


#: the mappings whose keys need one another (``mode: fixed`` its ``mean`` and ``std``): a
#: value of one that a later value replaces may have been incomplete, no mistake (s55: ``--set
#: 'data.normalization={mode: fixed}'`` then ``{mode: per_image}`` was refused, "needs 'mean'
#: and 'std' lists"); other mappings (exclude_rows: ``{bottom: -3}``) are checked whole
WHOLE_ONLY_WITH_OTHERS = ("data.normalization",)


def _may_be_incomplete(key: str) -> bool:
    """Whether the override key ``key`` sets a mapping of :data:`WHOLE_ONLY_WITH_OTHERS` or a
    key of one (``data.normalization.mode``)."""
    return any(_replaces(m, key) for m in WHOLE_ONLY_WITH_OTHERS)


def _check_incomplete(merged: dict, override: str) -> None:
    """The normalization that ``override`` (a replaced value) gives, checked but for the
    keys its mode needs (s55 review: ``data.normalization.mode=bogus`` then ``=scale``
    passed, as did a key its mode does not take): what it gives alone, or with the file's
    keys where it sets one of the file's mode (:func:`_with_file`; s56 review: a file's
    ``{mode: percentile, low: 0.1}`` refused ``data.normalization.high=0.5``, replaced, as
    "not 1.0 and 0.5", the default low), refused where both are bad (the line of the file's
    keys alone: both lines were collected and the first raised, s57); not
    with the keys of other overrides, which a later value may make fit (s56: a file's ``low:
    2`` refused ``--set data.normalization.mode=scale`` given before ``mode=percentile``)."""
    from unetlab.data.normalize import check_keys

    spec = apply_overrides({}, [override])["data"]["normalization"]
    if not isinstance(spec, dict):
        return
    filed = _with_file(merged["data"].get("normalization"), override)
    if filed is None:
        check_keys(spec, whole=False)
    elif not _keys_fit(spec):
        check_keys(filed, whole=False)  # bad both ways: the line of the file's keys


def _keys_fit(spec: dict) -> bool:
    """Whether the normalization ``spec`` passes ``check_keys(spec, whole=False)``."""
    from unetlab.data.normalize import check_keys

    try:
        check_keys(spec, whole=False)
    except UnetlabError:
        return False
    return True


def _with_file(given, override: str) -> dict | None:
    """The file's normalization ``given`` with ``override``'s key set, where that is a key of
    ``given``'s mode (``data.normalization.high`` of a percentile one); else None: a mode or a
    whole mapping replaces the file's keys, as does a key of another mode."""
    from unetlab.data.normalize import MODE_KEYS

    key = _key(override).split(".")
    if not isinstance(given, dict) or len(key) < 3 or key[2] == "mode":
        return None
    if key[2] not in MODE_KEYS.get(given.get("mode"), ()):
        return None
    return apply_overrides({"data": {"normalization": given}}, [override])["data"]["normalization"]


def _check_mapping_type(override: str) -> None:
    """The type of a replaced mapping's value (``data.normalization=[1, 2]``: no mapping),
    checked as its override gives it; a key within a mapping takes any value there."""
    key = _key(override)
    section, _, name = key.partition(".")
    if "." in name:
        return
    value = apply_overrides({}, [override])[section][name]
    hint = typing.get_type_hints(typing.get_type_hints(Config)[section])[name]
    check_type(value, hint, key, form="override")


def chosen_keys(cfg: Config) -> set[str]:
    """The ``section.key`` names the user chose in ``cfg`` (what the plan keeps, and what
    :func:`~unetlab.config.save_config` writes as keys): those that ``load_config``'s file and
    overrides set (``cfg.user_keys``), those assigned as attributes (``cfg.data.tile_size =
    256``, also to the default value) and those that differ from the defaults (a section
    built with them), but not those ``plan_training`` set that still hold its value
    (``cfg.plan_values``: a planned config saved wrote the plan's values as the user's, s66
    notebook; one edited since, a mapping in place or its section replaced, is the user's)."""
    return set(cfg.user_keys) | assigned_keys(cfg) | (changed_keys(cfg) - _as_planned(cfg))


def _as_planned(cfg: Config) -> set[str]:
    """The keys of ``cfg.plan_values`` whose values in ``cfg`` are still the planned ones."""
    planned = cfg.plan_values.items()
    return {key for key, value in planned if not _differs(cfg.value_of(key), value)}


def changed_keys(cfg: Config) -> set[str]:
    """The ``section.key`` names whose values in ``cfg`` differ from the defaults (what a
    notebook chose, where no file or flags say it)."""
    return {f"{f.name}.{key}" for f in fields(cfg) for key in changed_fields(getattr(cfg, f.name))}


def changed_fields(section) -> list[str]:
    """The names of ``section``'s keys whose values differ from its defaults, in its order."""
    mine, defaults = asdict(section), asdict(type(section)())
    return [key for key, value in mine.items() if _differs(value, defaults[key])]


def _differs(value, default) -> bool:
    """``value != default``, also for a value that compares element-wise (a numpy array set
    as an attribute in a notebook: :meth:`Config.checked` then says what is wrong with it)."""
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # the truth value of an array is ambiguous
        return True


def explicit_keys(
    path: str | os.PathLike | None = None, overrides: list[str] | str | None = None
) -> set[str]:
    """The ``section.key`` names that the YAML file at ``path`` or ``overrides`` set (what the
    user chose, as opposed to defaults); ``data.normalization.mode=x`` counts as
    ``data.normalization``. Read the same way as :func:`load_config` (call that first: it
    reports bad files and overrides)."""
    data = {} if path is None else parse_yaml(find_config(path).read_text(encoding="utf-8")) or {}
    if path is not None:
        data = drop_removed(data, config_name(path))
    return _named_keys(data, drop_removed_overrides(list(overrides or [])))


def _named_keys(data: dict, overrides: list[str] | None) -> set[str]:
    """The ``section.key`` names of a config file's mapping ``data`` and of ``overrides``."""
    keys = {f"{s}.{k}" for s, section in data.items() if isinstance(section, dict) for k in section}
    for item in overrides or []:
        parts = item.partition("=")[0].strip().split(".")
        keys.add(".".join(parts[:2]))
    return keys
