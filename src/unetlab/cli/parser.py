"""The parser of every ``unetlab`` command: argparse's, with its errors in unetlab's form
and its flags spelt in full.

A bad command line is one line on stderr, ``unetlab CMD: error: <problem>: <fix> (see
unetlab CMD --help)``, exit status 2 (argparse's), where argparse printed its usage block
above its error line (a screen of flags for predict). A flag is taken only as spelt: argparse's
prefixes (``--instance`` for ``--instances``) would change meaning the day a longer flag
joins, so an unknown one is refused (:func:`unetlab.cli._parse` names the flag it is like);
``--flag=value`` still works. ``-h/--help`` are argparse's own."""

from __future__ import annotations

import argparse
import re

from unetlab.errors import did_you_mean

#: argparse's messages (Python 3.11-3.13) and what to add to each: the fix
_ARGUMENT = re.compile(r"^argument (?P<name>[^:]+): (?P<what>.*)$", re.S)
_CHOICE = re.compile(r"^invalid choice: (?P<value>.+?) \(choose from (?P<choices>.*)\)$", re.S)
_TYPE = re.compile(r"^invalid (?P<type>\w+) value: ")
_FIX = {
    "int": "give a whole number",
    "float": "give a number",
    "not allowed with argument": "give one of the two",
    "ignored explicit argument": "it takes no value: give the flag alone",
}


class Parser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` that takes no prefixes of its flags and says a bad
    command line in one line (its subparsers, made by ``add_subparsers``, are one too)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        """Exit 2 with ``message`` as one line, the fix added, without the usage block."""
        self.exit(2, f"{self.prog}: error: {one_line(self, message)}\n")


def one_line(parser: argparse.ArgumentParser, message: str) -> str:
    """argparse's ``message`` (or unetlab's own) as one line with its fix, and a pointer to
    the command's help: the line after ``unetlab CMD: error: ``."""
    message = re.sub(r"\s*\n\s*", " ", message.strip())  # a type's line of two lines
    see = f"see {parser.prog} --help"
    if message.startswith("the following arguments are required: "):
        return _required(parser, message, see)
    if message.startswith("unrecognized arguments: ") and message.count(": ") == 1:
        return _unrecognized(parser, message, see)
    argument = _ARGUMENT.match(message)
    if argument:
        return _argument(parser, argument["name"], argument["what"], see)
    return f"{message} ({see})"


def _required(parser: argparse.ArgumentParser, message: str, see: str) -> str:
    """``the following arguments are required: --input, --output``: give them."""
    names = message.split(": ", 1)[1].split(", ")
    if names == ["COMMAND"]:
        return f"no command given: give one of {', '.join(parser.commands)} ({see})"
    spelt = ", ".join(_spelling(parser, name) for name in names)
    return f"{message}: give {spelt} ({see})"


def _unrecognized(parser: argparse.ArgumentParser, message: str, see: str) -> str:
    """``unrecognized arguments: --foo`` (a flag the command does not have, nor one like
    it) or ``unrecognized arguments: x`` (a word no flag takes)."""
    words = message.split(": ", 1)[1].split()
    words = words[: words.index("--")] if "--" in words else words  # after it: words, not flags
    flags = [w for w in words if w.startswith("-")]
    if flags:
        such = "no such flag" if len(flags) == 1 else "no such flags"
        return f"{message}: {parser.prog} has {such} ({see} for those it has)"
    return f"{message}: no flag takes it; a value follows its flag ({see})"


def _argument(parser: argparse.ArgumentParser, name: str, what: str, see: str) -> str:
    """``argument --epochs: invalid int value: 'x'`` and the rest of argparse's lines that
    name one argument; a custom type's own line (``--minutes: takes a number of minutes,
    not 'x'``) is kept as it is."""
    choice = _CHOICE.match(what)
    if choice and name == "COMMAND":
        return _not_a_command(parser, choice["value"], see)
    if choice:
        like = _like_choice(parser, name, choice["value"])
        choices = f"choose from {choice['choices']}"
        return f"argument {name}: invalid choice: {choice['value']}: {like}{choices} ({see})"
    if what.startswith("expected "):
        return f"argument {name}: {what}: give {_spelling(parser, name)} ({see})"
    kind = _TYPE.match(what)
    key = kind["type"] if kind else next((k for k in _FIX if what.startswith(k)), None)
    fix = f": {_FIX[key]}" if key in _FIX else ""
    return f"argument {name}: {what}{fix} ({see})"


def _like_choice(parser: argparse.ArgumentParser, name: str, value: str) -> str:
    """``did you mean colours? `` of a flag's choice spelt like ``value`` (``--grey-masks
    colors``, ``--blend gausian``), as config choices say it; "" where none is close."""
    action = parser._option_string_actions.get(name.split("/")[-1])  # argparse's own table
    choices = [str(c) for c in getattr(action, "choices", None) or ()]
    return did_you_mean(value.strip("'\""), choices)


def _not_a_command(parser: argparse.ArgumentParser, value: str, see: str) -> str:
    """``unetlab trian``: not a command, the one it is like named, and the commands."""
    word = value.strip("'\"")
    like = did_you_mean(word, parser.commands)
    return f"'{word}' is not a command: {like}the commands are {', '.join(parser.commands)} ({see})"


def _spelling(parser: argparse.ArgumentParser, name: str) -> str:
    """A flag as its usage spells it (``--output DIR``, ``--input PATH [PATH ...]``);
    ``name`` as it is where the parser has no such flag."""
    flag = name.split("/")[-1]
    action = parser._option_string_actions.get(flag)  # argparse's own table
    if action is None or action.nargs == 0:
        return flag
    metavar = parser._get_formatter()._format_args(action, action.dest.upper())
    return f"{flag} {metavar}"
