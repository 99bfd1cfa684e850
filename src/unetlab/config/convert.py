"""A config's values checked against the sections' type annotations: :func:`build` makes a
section (or the whole config) from a nested dict, converting each value where that is lossless
(``1`` for a float, ``"off"`` for a bool) and refusing an unknown key by naming the closest
known one."""

from __future__ import annotations

import math
import shlex
import sys
import types
import typing
from dataclasses import fields, is_dataclass

from unetlab.config.guard import plain_value
from unetlab.errors import UnetlabError, did_you_mean, set_to, yaml_flow

#: the YAML 1.1 words that a bool key still takes (the config's YAML reads them as strings)
_WORDS = {"yes": True, "on": True, "no": False, "off": False}

#: a value of each key whose default (null) shows none, for the example that ends its type
#: error's line (audit s50 roads: "data.ignore_value must be int or null, not 'void'")
EXAMPLES = {
    "model.encoder_weights": "weights/resnet50.pth",
    "model.init_checkpoint": "runs/old/checkpoints/best.pt",
    "model.in_channels": 3,
    "model.num_classes": 2,
    "model.depth": 4,
    "model.base_channels": 32,
    "model.padding": "same",
    "model.norm": "batch",
    "model.upsample": "bilinear",
    "model.fusion": "concat",
    "model.dropout": 0.1,
    "data.root": "path/to/data",
    "data.label_values": [0, 255],
    "data.class_names": {0: "background", 255: "cell"},
    "data.ignore_value": 255,
    "data.normalization": {"mode": "per_image"},
    "data.channel": 0,
    "data.axes": "ZYX",
    "data.exclude_rows": {"bottom": 26},
    "data.h5_dataset": "exported_data",
    "data.h5_mask_dataset": "volumes/labels/neuron_ids",
    "train.channels_last": True,
}


def build(cls, data: dict, prefix: str, form: str = "code"):
    """A ``cls`` (a dataclass) from ``data``, its nested sections built in turn; ``prefix``
    (``train.``) names the keys in errors, each written in ``form`` (:func:`check_type`:
    ``"code"`` for a notebook's ``Config.from_dict``, ``"override"`` for ``load_config``'s)."""
    if not isinstance(data, dict):
        raise UnetlabError(f"config {prefix.rstrip('.') or 'file'} must be a mapping, not {data!r}")
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    if unknown := [k for k in data if k not in known]:
        raise UnetlabError(unknown_key_message(unknown[0], list(known), prefix))
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if is_dataclass(hint):
            section = value if value is not None else {}
            kwargs[name] = build(hint, section, f"{prefix}{name}.", form)
        else:
            default = known[name].default
            kwargs[name] = check_type(value, hint, f"{prefix}{name}", default, form=form)
    return cls(**kwargs)


def unknown_key_message(key, known: list[str], prefix: str = "") -> str:
    """``unknown config key train.epoch: did you mean train.epochs? known keys in train are
    ...``: the closest known name (:func:`~unetlab.errors.close_names`), when one is close."""
    hint = did_you_mean(str(key), known, prefix)
    where = f" in {prefix.rstrip('.')}" if prefix else ""
    return f"unknown config key {prefix}{key!s}: {hint}known keys{where} are {', '.join(known)}"


def check_type(value, hint, key: str, default=None, *, form: str = "set"):
    """``value`` converted to ``hint`` where that is lossless, else ValueError naming ``key``
    and ending with an example (:func:`example`: ``default``, the key's default value, or
    one of :data:`EXAMPLES`), written where the value came from (``form``): as ``--set``
    takes it (``"set"``), as a config file does (``"file"``: ``epochs: 50 under train:``; a
    file's typo was given ``train.epochs=50`` to copy into YAML, s51 resumelines 3), as
    Python assigns it (``"code"``: ``cfg.train.epochs = 50``; an attribute set in a notebook
    was told the --set form, s52 review) or as ``load_config``'s overrides take it
    (``"override"``: ``train.epochs=50``, no ``--set``). The error's ``cli`` is the ``--set``
    form but for a file's value (:class:`~unetlab.errors.UnetlabError`): ``Config.from_dict``
    and ``load_config`` serve the command line too (s53: a notebook was told ``--set``).
    ``value`` is checked made plain (:func:`~unetlab.config.guard.plain_value`), as a
    section's keyword and attribute take it (s55), and the error quotes it as given
    (``(0, 26)``: it quoted the list made of it, ``[0, 26]``, s56)."""
    plain = plain_value(value)
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        ok, converted = _convert(plain, option)
        if ok:
            return converted
    cli = "file" if form == "file" else "set"
    problem = _type_problem(plain, options, key, default, form, value)
    raise UnetlabError(problem, cli=_type_problem(plain, options, key, default, cli, value))


def _type_problem(value, options: tuple, key: str, default, form: str, shown) -> str:
    """:func:`check_type`'s line for ``value``, of none of the types ``options``, in ``form``,
    quoting ``shown`` (the value as given)."""
    if any(_value_map(o) for o in options) and isinstance(value, (dict, list, tuple)):
        return _value_map_message(key, value, form)
    names = " or ".join(
        getattr(o, "__name__", str(o)).replace("NoneType", NONE_WORDS[form]) for o in options
    )
    if value is None:  # --set train.epochs= (blank), =null, or "epochs:" in a file
        given = _none_word(key, form) or _choices(key) or _missing_value(key, default, form)
        return f"config key {key} has no value (it takes {names}){given}"
    null = type(None) in options and str(value).casefold() == "none"  # Python's word, not YAML's
    fix = f": write {NONE_WORDS[form]} for none" if null else _list_form(key, value, options, form)
    fix = fix or _choices(key) or example(key, default, form=form)
    return f"config key {key} must be {names}, not {shown!r}{fix}"


def _missing_value(key: str, default, form: str) -> str:
    """``: e.g. --set train.epochs=50`` (``"file"``: ``: e.g. epochs: 50 under train:``;
    ``"code"``: ``: e.g. cfg.train.epochs = 50``; ``"override"``: ``: e.g. train.epochs=50``)."""
    if written := _FORMS[form](key, default):
        return f": e.g. {written}"
    flag = "--set " if form == "set" else ""
    if form == "file":
        return f": write a value after {key.split('.')[-1]}:"
    return f": assign one (cfg.{key} = ...)" if form == "code" else f": {flag}{key}=VALUE"


#: the keys whose type takes no None but whose value ``none`` says none (DataSection(nodata=
#: None) was told "e.g. cfg.data.nodata = 'auto'", s55)
NONE_AS_WORD = ("data.nodata", "model.encoder", "train.class_weights", "train.label_offset")

#: what Python's None may mean for a key of :data:`NONE_AS_WORD` where 'none' is not the only
#: reading (a reader of nodata given None takes auto, check_nodata none: s56 review)
_NONE_MEANT = {
    "data.nodata": ": 'auto' (the default: a GeoTIFF's nodata value and alpha 0) or 'none' "
    "(no pixel left out)"
}


def _none_word(key: str, form: str) -> str:
    """``: write 'none' for none`` (or :data:`_NONE_MEANT`'s values) for a key of
    :data:`NONE_AS_WORD` given Python's None, else ``""``: a value left blank (``--set
    data.nodata=``, ``nodata:`` in a file) is told an example (s55 review: it lost "e.g. --set
    data.nodata=auto" to "write none for none")."""
    if form != "code" or key not in NONE_AS_WORD:
        return ""
    return _NONE_MEANT.get(key, ": write 'none' for none")


def _choices(key: str) -> str:
    """``: choose one of auto, native, ...`` for a key that is a choice of words (as the
    unknown word's line says them, :func:`~unetlab.errors.unknown_choice`), else ``""``."""
    from unetlab.config.checks import choices_of  # checks import this module's callers

    words = choices_of(key)
    return f": choose one of {', '.join(words)}" if words else ""


def example(key: str, default=None, *, form: str = "set") -> str:
    """``: e.g. --set data.ignore_value=255``: a valid value of config key ``key`` (of
    :data:`EXAMPLES`, else its ``default``) as ``--set`` takes it, quoted for a shell where it
    has spaces or brackets (``form``: ``"override"``, as ``load_config`` takes it, without
    ``--set``; ``"file"``, as a config file
    writes it, :func:`file_assignment`; ``"code"``, as Python assigns it,
    :func:`code_assignment`); ``""`` where there is none."""
    written = _FORMS[form](key, default)
    return f": e.g. {written}" if written else ""


def _example_value(key: str, default=None) -> str | None:
    """:func:`example`'s value of ``key`` as YAML flow text; None where there is none."""
    value = EXAMPLES.get(key, default)
    if value is None or not isinstance(value, str | int | float | list | dict):
        return None
    return yaml_flow(value)


def assignment(key: str, default=None) -> str:
    """``data.ignore_value=255``: :func:`example`'s value assigned to ``key``, shell-quoted
    where needed; ``""`` where there is none."""
    written = _example_value(key, default)
    return "" if written is None else shlex.quote(f"{key}={written}")


def set_assignment(key: str, default=None) -> str:
    """``--set data.ignore_value=255``: :func:`assignment` as the command line's flag takes it
    (a notebook's type error told the command line ``data.ignore_value=255``, s55);
    ``""`` where there is none."""
    written = assignment(key, default)
    return f"--set {written}" if written else ""


def file_assignment(key: str, default=None) -> str:
    """``ignore_value: 255 under data:``: :func:`example`'s value of ``key`` as a config file
    sets it (``mode: scale under data: normalization:``); ``""`` where there is none."""
    written = _example_value(key, default)
    if written is None:
        return ""
    *sections, leaf = key.split(".")
    return f"{leaf}: {written} under {': '.join(sections)}:"


def code_assignment(key: str, default=None) -> str:
    """``cfg.data.ignore_value = 255``: :func:`example`'s value of ``key`` as Python assigns
    it to a config's attribute (``cfg.data.label_values = [0, 255]``); ``""`` where there is
    none."""
    if _example_value(key, default) is None:
        return ""
    return set_to(key, EXAMPLES.get(key, default)).python


#: how an example is written for each ``form`` of :func:`check_type`
_FORMS = {
    "set": set_assignment,
    "override": assignment,
    "file": file_assignment,
    "code": code_assignment,
}
#: the word for none in each form (a value "none" given to a key that takes null)
NONE_WORDS = {"set": "null", "override": "null", "file": "null", "code": "None"}


def _list_form(key: str, value, options, form: str = "set") -> str:
    """``: a list is written in brackets, e.g. [0, 255] (--set 'data.label_values=[0, 255]')``
    for a list key given comma-separated values (``0,255``), without the ``--set`` form for a
    config file's value (``"file"``), as Python assigns it for an attribute's (``"code"``:
    ``e.g. cfg.data.label_values = [0, 255]``); else ``""``."""
    if not any(typing.get_origin(o) is list for o in options) or not isinstance(value, str):
        return ""
    parts = [p.strip() for p in value.strip("()").split(",") if p.strip()]
    if len(parts) < 2:
        return ""
    written = f"[{', '.join(parts)}]"
    if form == "code":
        return f": a list is written in brackets, e.g. cfg.{key} = {written}"
    told = f": a list is written in brackets, e.g. {written}"
    if form == "file":
        return told
    flag = "--set " if form == "set" else ""
    return f"{told} ({flag}{shlex.quote(f'{key}={written}')})"


def _value_map(hint) -> bool:
    """Whether ``hint`` is a mapping keyed by mask values (``dict[int, ...]``)."""
    origin = typing.get_origin(hint)
    return origin is dict and typing.get_args(hint)[:1] == (int,)


def _value_map_message(key: str, value, form: str = "set") -> str:
    """The line for a mapping by mask value given in another form (a list, or keys that are
    not whole numbers), with the form it takes built from what was given (``"code"``: as
    Python writes it, ``{0: 'bg'}``; else as YAML, ``{0: bg}``)."""
    pairs = list(enumerate(value if isinstance(value, (list, tuple)) else value.values()))
    shown = repr if form == "code" else str
    example = ", ".join(f"{k}: {shown(v)}" for k, v in pairs[:4])
    example += ", ..." if len(pairs) > 4 else ""
    if isinstance(value, (list, tuple)):
        return (
            f"config key {key} maps mask values to names, not a list {value!r}: keys must be "
            f"mask values (integers), e.g. {{{example}}} if the masks hold 0, 1, 2, ..."
        )
    return (
        f"config key {key}: keys must be mask values (integers) and values names, e.g. "
        f"{{{example}}}, not {value!r}"
    )


def _whole(key):
    """A mapping's key given as a whole number in text (``--set data.class_names.1=cell``,
    ``{"0": bg}`` as JSON writes keys) as that number; any other key as it is."""
    if isinstance(key, str):
        text = key.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return key


def _convert(value, hint) -> tuple[bool, object]:
    origin = typing.get_origin(hint)
    if hint is type(None):
        return value is None, None
    if hint is bool:
        if isinstance(value, str) and value.lower() in _WORDS:
            return True, _WORDS[value.lower()]
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int) and abs(value) > sys.float_info.max:
            # as float("1e400") reads it: a checked key then says its range (float() of
            # a 400-digit int was an OverflowError's "this is a bug", review s58 A1)
            return True, math.inf if value > 0 else -math.inf
        if isinstance(value, (int, float)):
            return True, float(value)
        if not isinstance(value, str):
            return False, None
        try:  # YAML 1.1 reads 1e-3 (no dot) as a string
            return True, float(value)
        except ValueError:
            return False, None
    if hint is str:
        return isinstance(value, str), value
    if origin is list and isinstance(value, (list, tuple)):
        (item,) = typing.get_args(hint)
        converted = [_convert(v, item) for v in value]
        return all(ok for ok, _ in converted), [v for _, v in converted]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return False, None
        args = typing.get_args(hint)
        if not args:
            return True, dict(value)
        keys = [_convert(_whole(k) if args[0] is int else k, args[0]) for k in value]
        vals = [_convert(v, args[1]) for v in value.values()]
        ok = all(k for k, _ in keys) and all(v for v, _ in vals)
        return ok, {k: v for (_, k), (_, v) in zip(keys, vals)}
    return False, None
