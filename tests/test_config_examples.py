"""A config key's type error ends with a valid value of it (audit s50 roads: `--set
data.ignore_value=void` said "must be int or null, not 'void'" and no value that works)."""

from __future__ import annotations

import shlex
import typing
from dataclasses import fields, is_dataclass

import pytest

from unetlab.config import Config, load_config
from unetlab.config.convert import check_type, set_to
from unetlab.config.files import parse_yaml
from unetlab.errors import UnetlabError


@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("data.ignore_value=void", "int or null, not 'void': e.g. data.ignore_value=255"),
        ("train.epochs=abc", "int, not 'abc': e.g. train.epochs=50"),
        ("train.lr=fast", "float, not 'fast': e.g. train.lr=0.001"),
        ("augment.flip=maybe", "bool, not 'maybe': e.g. augment.flip=true"),
        ("data.label_values=abc", "list or null, not 'abc': e.g. 'data.label_values=[0, 255]'"),
        ("train.amp=5", "str, not 5: choose one of auto, native, bf16, fp16, off"),
        ("model.norm=[1]", "str or null, not [1]: choose one of none, batch, group"),
    ],
)
def test_a_type_error_ends_with_an_example(override, line):
    key = override.split("=")[0]
    with pytest.raises(UnetlabError) as err:
        load_config(None, [override])
    assert str(err.value) == f"config key {key} must be {line}"


def _keys(cls=Config, prefix=""):
    """(``section.key``, type hint) of every config key."""
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if is_dataclass(hints[f.name]):
            yield from _keys(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", hints[f.name]


@pytest.mark.parametrize(("key", "hint"), list(_keys()))
def test_every_keys_example_is_a_value_of_its_type(key, hint):
    with pytest.raises(UnetlabError) as err:
        load_config(None, [f"{key}=[[]]"])  # a list of a list: no key takes it
    said = str(err.value)
    if key == "data.class_names":  # a list for a mapping: its own line, with its form
        assert "e.g. {0: " in said
        return
    if ": choose one of " in said:  # a choice of words: its choices, each valid
        for word in said.rsplit(": choose one of ", 1)[1].split(", "):
            check_type(parse_yaml(word), hint, key)
        return
    assert ": e.g. " in said, said
    (given,) = shlex.split(said.rsplit(": e.g. ", 1)[1])
    written, value = given.split("=", 1)
    assert written == key
    check_type(parse_yaml(value), hint, key)  # no error: the example is valid


@pytest.mark.parametrize(
    "key, value, python, cli",
    [
        ("train.batch_size", 17, "cfg.train.batch_size = 17", "--set train.batch_size=17"),
        ("train.amp", "off", "cfg.train.amp = 'off'", "--set train.amp=off"),
        (
            "data.label_values",
            [0, 255],
            "cfg.data.label_values = [0, 255]",
            "--set 'data.label_values=[0, 255]'",
        ),
    ],
)
def test_a_setting_is_set_as_python_and_the_command_line_write_it(key, value, python, cli):
    """set_to: a fix's setting as each caller types it; load_config takes the --set form."""
    assert set_to(key, value) == (python, cli)
    taken = load_config(None, [shlex.split(cli)[1]])
    assert getattr(getattr(taken, key.split(".")[0]), key.split(".")[1]) == value


@pytest.mark.parametrize(
    "value, python, cli",
    [
        ("abc", ": e.g. cfg.data.ignore_value = 255", ": e.g. --set data.ignore_value=255"),
        ([[]], ": e.g. cfg.data.ignore_value = 255", ": e.g. --set data.ignore_value=255"),
    ],
)
def test_a_code_type_errors_command_line_example_has_its_set_flag(value, python, cli):
    """s55 pyforms4: check_type(form="code")'s ``cli`` (the line the command line prints of
    Config.from_dict's or load_config's refusal) ended "e.g. data.ignore_value=255", which
    the command line takes only after --set."""
    with pytest.raises(UnetlabError) as err:
        check_type(value, int | None, "data.ignore_value", form="code")
    assert str(err.value).endswith(python) and err.value.cli.endswith(cli)
    assert check_type(parse_yaml(shlex.split(cli)[-1].split("=")[1]), int | None, "k") == 255
