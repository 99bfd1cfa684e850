"""The ``unetlab`` command: one subcommand per module in this package, each a thin layer
over the Python API.

Exit status: 0 done; 2 a problem the user can fix (a ``UnetlabError``: one line naming it
and the fix, no traceback; ``--debug`` shows the traceback; a bad flag or value too, in
:mod:`unetlab.cli.parser`'s one line); 75 (``errors.IN_USE``) the
folder is in use by another unetlab process (a ``FolderInUseError``: its one line; try again
later); 1 a bug in unetlab (any other exception: its traceback and a request to report it, once
under ``--nproc N`` where each process meets the same);
130 interrupted; 141 the reader of the output went away (``unetlab sizes | head``), quietly.
The console script and ``python -m unetlab`` both end through :func:`run`."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import re
import sys
import traceback
from collections.abc import Collection
from typing import NoReturn

from unetlab import __version__
from unetlab.api_lines import stderr_handler
from unetlab.cli.parser import Parser
from unetlab.data.read_notes import read_notes
from unetlab.errors import (
    IN_USE,
    FolderInUseError,
    UnetlabError,
    close_names,
    command_spelling,
    first_line,
)
from unetlab.signals import exit_now, interrupt_exits, say_stop_line, stop_raises, stop_status

# Each name is a module unetlab.cli.<name> with add_parser(subparsers) whose parser sets
# ``run=callable(args) -> int``.
COMMANDS = (
    "demo",
    "train",
    "predict",
    "evaluate",
    "summary",
    "compare",
    "sizes",
    "bench",
    "export",
    "config",
    "weightmap",
    "env",
)
#: commands users guess, and the command that does it (audit s34 messy 12: `unetlab check`)
GUESSED = {
    "check": "unetlab train --data DIR --check",
    "plan": "unetlab train --data DIR --check (it shows the plan and writes nothing)",
    "eval": "unetlab evaluate",
    "infer": "unetlab predict",
    "segment": "unetlab predict",
}

_TRAIN_CHANNEL = (
    "use --set data.channel=C to train channel C (from 0) of multi-channel images, e.g. the "
    "nuclei's (predict then reads it)"
)
_NO_DIAMETER = (
    "unetlab has no diameter option: the net knows objects as large in pixels as in its "
    "training images; give predict --scale d/D, d the training objects' diameter in px "
    "(predict --scale says it: from the checkpoint's median object area) and D yours, or "
    "--scale auto (the image's pixel size / the training pixel size)"
)
_NO_DIAMETER_EVALUATE = (
    "unetlab has no diameter option: the net knows objects as large in pixels as in its "
    "training images; give evaluate --checkpoint --scale d/D, d the training objects' "
    "diameter in px (predict --scale says it: from the checkpoint's median object area) "
    "and D yours, or --scale auto (the image's pixel size / the training pixel size)"
)
#: flags users bring from predict or cellpose (``--chan``, ``--diameter``) to a command
#: that spells them otherwise or has none: ``unetlab train --channel 0`` (audit s39 audit2)
GUESSED_FLAGS = {
    ("train", "--channel"): _TRAIN_CHANNEL,
    ("train", "--chan"): _TRAIN_CHANNEL,
    ("predict", "--diameter"): _NO_DIAMETER,
    ("evaluate", "--diameter"): _NO_DIAMETER_EVALUATE,
}

DEBUG_HELP = "show tracebacks for errors (before or after the command)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(  # its commands' parsers are Parsers too: one-line errors, no prefixes
        prog="unetlab",
        description="U-Net semantic segmentation: train, evaluate and predict images of any size.",
    )
    parser.add_argument(
        "--version",
        action=_Version,
        nargs=0,
        help="show the version (and git commit) and exit; unetlab env says more",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        module.add_parser(sub)
    for command in sub.choices.values():  # also after the command, where users put it
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
        )
    parser.commands = sub.choices  # each command's parser, by name (its usage in errors)
    return parser


class _Version(argparse.Action):
    """``--version``: one line, the commit of a checkout in it, read when asked (without
    torch); ``unetlab env`` gives the rest."""

    def __call__(self, parser, namespace, values, option_string=None):
        from unetlab.provenance import version_line

        print(version_line())
        parser.exit()


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments; a flag the command does not know is refused in one line by the
    command's own parser (``unetlab train --bogus``: "unetlab train: error: ...", pointing
    to train's help, not the top level's), a flag spelt like one it has naming that one. A
    command users guess (:data:`GUESSED`) is refused naming the one that does it, a flag
    (:data:`GUESSED_FLAGS`) naming its spelling there."""
    given = sys.argv[1:] if argv is None else argv
    command = next((a for a in given if not a.startswith("-")), None)
    if command in GUESSED:
        parser.error(f"'{command}' is not a command: use {GUESSED[command]}")
    if _asks_help(given):
        return parser.parse_args(argv)  # argparse's help, whatever else is given beside it
    if typo := _typo(parser, "", given[: _command_at(parser, given) + 1]):
        parser.error(typo)  # unetlab's own flags, before the command: ``unetlab --vers``
    if command in parser.commands and (dashed := _dashed_file(given)) is not None:
        parser.commands[command].error(dashed)
    if command in parser.commands and (typo := _misspelt_flag(parser, command, given)):
        parser.commands[command].error(typo)
    args, unknown = parser.parse_known_args(argv)
    if unknown and (spaced := _spaced_set(given, unknown[0])):
        parser.commands[args.command].error(spaced)
    if unknown:  # words no flag takes (the flags were named above)
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _command_at(parser: argparse.ArgumentParser, given: list[str]) -> int:
    """Where the command is in ``given``: the first word after unetlab's own flags (``unetlab
    measure --seed 3``: no command's name, so its flags are not unetlab's: argparse says
    'measure' is not a command), else the first command's name after an unknown flag
    (``unetlab --lr 1 train``), else ``len(given)``."""
    for at, word in enumerate(given):
        if word in parser.commands or not word.startswith("-"):
            return at
        if word not in parser._option_string_actions:
            break  # a flag of no command: the words after it may be its values
    return next((at for at, word in enumerate(given) if word in parser.commands), len(given))


def _spaced_set(given: list[str], first: str) -> str:
    """The line for a ``--set KEY=VALUE`` typed with spaces (``--set train.epochs 3``,
    ``--set train.epochs = 3``), whose ``first`` word no flag takes: 'unrecognized
    arguments: 3: no flag takes it'; "" for another word."""
    for at, word in enumerate(given):
        joined = word.startswith("--set=")  # --set=train.epochs 3
        key, rest = (word[6:], given[at + 1 :]) if joined else (None, given[at + 2 :])
        if word == "--set" and at + 1 < len(given):
            key = given[at + 1]
        if key is None or not rest or key.startswith("-") or "=" in key.rstrip("="):
            continue
        typed = rest[:2] if rest[0] == "=" else rest[:1]  # '= 3', '=3' or '3'
        value = typed[-1].removeprefix("=")
        if typed[0] == first and value and not typed[-1].startswith("--"):
            fix = f"--set {key.rstrip('=')}={value}"
            said = f"{word} {key}" if not joined else word
            return f"{said} {' '.join(typed)}: give {fix} (one word, no spaces around =)"
    return ""


#: what argparse reads as a number, not a flag (its own rule): ``--offset -3``, ``-0.5``
_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


def _dashed_file(given: list[str]) -> str | None:
    """The line for a file name starting with '-' among ``given`` (before a ``--``), which
    argparse reads as a flag: ``--input -ctrl.png`` was "expected at least one argument"
    (audit s37 paths); None where there is none. A file name is one that exists, or ends in
    a suffix of letters (``.png``); unetlab has no one-dash flag but ``-h``, and ``-`` is
    stdout (``--json -``)."""
    before = given[: given.index("--")] if "--" in given else given
    for token in before:
        if not token.startswith("-") or token.startswith("--") or token in ("-", "-h"):
            continue
        suffix = os.path.splitext(token)[1][1:]
        if _NUMBER.match(token) or not (os.path.lexists(token) or suffix.isalpha()):
            continue
        return f"{token}: a file name starting with '-' reads as a flag: give it as ./{token}"
    return None


def _asks_help(given: list[str]) -> bool:
    """Whether ``given`` asks for help (``-h``/``--help`` before a ``--``), before or after
    the command, beside a misspelt flag too (``predict --outptu o -h``)."""
    before = given[: given.index("--")] if "--" in given else given
    return "-h" in before or "--help" in before


def _misspelt_flag(parser: argparse.ArgumentParser, command: str, given: list[str]) -> str:
    """The line for the flags after ``command`` in ``given`` (before a ``--``) that the
    command does not know, said before anything else is: ``--outptu`` named the required
    --output as missing, not the typo, and ``--instancs`` named no flag to use (audit s41
    auditslide). Each is named with its fix (:func:`_flag_fix`); "" where all are known
    (argparse then says what it says; help asked is :func:`_asks_help`'s)."""
    return _typo(parser, command, given[given.index(command) + 1 :])


def _typo(top: argparse.ArgumentParser, command: str, given: list[str]) -> str:
    """:func:`_misspelt_flag`'s line for the flags among ``given`` of ``command`` ("" for
    unetlab's own, ``top``'s, ``given`` up to the command): every unknown one, each with its
    fix where it has one."""
    parser = top.commands[command] if command else top
    known = [o for o in parser._option_string_actions if o.startswith("--")]
    given = given[: given.index("--")] if "--" in given else given
    said = []
    for at, token in enumerate(given):
        flag = token.split("=")[0]
        if typed := _dashed_otherwise(flag, known):
            said.append((flag, typed))
        elif flag.startswith("--") and flag not in known and " " not in flag:
            said.append(_fix_here(top, command, known, given, at))  # not a value (a space)
    if not any(fix for _, fix in said):
        return f"unrecognized arguments: {' '.join(w for w, _ in said)}" if said else ""
    none = f"{parser.prog} has no such flag"
    return "unrecognized arguments: " + "; ".join(f"{w}: {fix or none}" for w, fix in said)


def _fix_here(
    top: argparse.ArgumentParser, command: str, known: list[str], given: list[str], at: int
) -> tuple[str, str]:
    """:func:`_flag_fix` of ``given[at]``; before the command (``command`` ""), that of the
    command after it, to which it belongs (``unetlab --seed train`` was told "a flag of
    demo", ``unetlab --init-checkpoint m.pt predict`` train's --init, review s64): a flag of
    that command is told to go after it, another is told what that command takes."""
    to = next((w for w in given if w in top.commands), None) if not command else None
    if to is None:
        return _flag_fix(top, command, known, given, at)
    flag = given[at].split("=")[0]
    if flag in top.commands[to]._option_string_actions:
        return flag, f"a flag of {to}: give it after the command (unetlab {to} {flag} ...)"
    theirs = [o for o in top.commands[to]._option_string_actions if o.startswith("--")]
    return _flag_fix(top, to, theirs, given[: given.index(to)], at, before=True)


def _flag_fix(
    top: argparse.ArgumentParser,
    command: str,
    known: list[str],
    given: list[str],
    at: int,
    *,
    before: bool = False,
) -> tuple[str, str]:
    """The words of the unknown flag ``given[at]`` of ``command`` (whose flags are ``known``;
    ``before``: given before it) to name and its fix ("" for none), the first of:
    :data:`GUESSED_FLAGS`' line; the flag it starts (argparse's prefixes: ``predict --check``
    is --checkpoint), not where it names a config key of another meaning (``predict
    --seed``: not --seed-threshold, :func:`~unetlab.cli.unknown_flags.other_meaning`); for a
    command with --set, that key's fix (``--lr 0.01``: --set train.lr=0.01); for a config
    key, this command's flag of the same meaning (``predict --init-checkpoint``:
    --checkpoint), else the key's fix, a training setting, with the other commands that have
    it; its counterpart here or the commands that have it (``summary --set``: train's, not
    --preset), with this command's flag sharing a word (``weightmap --gt-instances``:
    --instances); the key's fix with no command; the flag spelt like it."""
    from unetlab.cli.unknown_flags import COUNTERPARTS, config_fix, elsewhere, other_meaning

    flag, values = given[at].split("=")[0], _values(given, at, () if command else top.commands)
    joined = "=" in given[at]  # --lr=0.01: its value named with it
    token = given[at] if joined else " ".join([given[at], *values[:1]])
    if (command, flag) in GUESSED_FLAGS:
        return token, GUESSED_FLAGS[command, flag]
    prefix = any(o.startswith(flag) for o in known)
    if prefix and (like := _flags_like(flag, known)) and not other_meaning(flag, like):
        return flag, _prefix_fix(top, command, flag, like, before)
    typed = given[at] if joined else " ".join([given[at], *values])  # all it was typed with
    train = top.commands["train"]  # the command of the config keys' flags
    if "--set" in known and (fix := config_fix(flag, values, train, before=before)):
        return typed, fix
    own = _flags_like(flag, _sharing(flag, known))  # this command's, sharing a word
    own = "" if other_meaning(flag, own) else own  # export --class-weights: not --weights
    to = command or next((w for w in given if w in top.commands), "train")  # or before it
    setting = config_fix(flag, values, train, before=before or not command, command=to)
    if command and setting and (command, flag) not in COUNTERPARTS:
        if own:  # of the same meaning: predict --init-checkpoint is --checkpoint
            return flag, _like_fix(command, own, before)
        return typed, _with_others(top, command, flag, setting)
    if fix := elsewhere(top.commands, command, flag, own):
        return flag, fix
    if setting:
        return typed, setting  # unetlab --lr 1
    like = _flags_like(flag, known)  # unetlab --checkpoints m.pt predict: after it, too
    return (flag, _like_fix(command, like, before)) if like else (given[at], "")


def _prefix_fix(
    top: argparse.ArgumentParser, command: str, flag: str, like: str, before: bool
) -> str:
    """The fix of ``flag``, which starts ``like`` (the flag or flags of ``command`` it may
    be): "did you mean"; a flag of another command that starts several here is that
    command's first (``predict --split``: train's split record, not "--split-necks or
    --split-interior", s65)."""
    from unetlab.cli.unknown_flags import elsewhere

    if " or " in like and not before and (fix := elsewhere(top.commands, command, flag, like)):
        return fix
    return _like_fix(command, like, before)


def _with_others(top: argparse.ArgumentParser, command: str, flag: str, setting: str) -> str:
    """``setting``, the fix of ``flag`` (a training setting's name) given to ``command``,
    with the other commands than train that have a flag of that name (``predict --seed``:
    demo's)."""
    from unetlab.cli.unknown_flags import elsewhere

    others = {name: p for name, p in top.commands.items() if name != "train"}
    also = elsewhere(others, command, flag)
    return f"{setting}; {also}" if also else setting


def _like_fix(command: str, like: str, before: bool) -> str:
    """The fix naming ``command``'s flag ``like`` for a flag given to it, or ``before`` it."""
    return (
        f"unetlab {command} takes {like}, after the command" if before else f"did you mean {like}?"
    )


def _values(given: list[str], at: int, commands: Collection[str]) -> list[str]:
    """The values typed with the flag ``given[at]``: after its '=', else the words after it
    to the next flag (``-1`` is a value, as argparse reads it) or name of ``commands`` (given
    before the command only: unetlab reads ``unetlab --lr train`` so; ``train --root train``
    is a folder named train)."""
    if "=" in given[at]:
        return [given[at].split("=", 1)[1]]
    values = []
    for word in given[at + 1 :]:
        if word.startswith("-") and not _NUMBER.match(word) or word in commands:
            break
        values.append(word)
    return values


def _sharing(flag: str, known: list[str]) -> list[str]:
    """The flags of ``known`` that share a word with ``flag`` (``--gt-instances``:
    ``--instances``; ``--set``: not ``--preset``)."""
    words = set(re.split("[-_]", flag.lstrip("-")))
    return [o for o in known if words & set(re.split("[-_]", o.lstrip("-")))]


#: dashes a word processor or a web page puts for '--' or '-' (en and em dash, minus, ...)
_LOOK_ALIKE_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


def _dashed_otherwise(flag: str, known: list[str]) -> str:
    """The fix of a flag of ``known`` typed with other dashes: a pasted en or em dash
    (``—epochs``, ``–-epochs``: "no flag takes it; a value follows its flag") or one dash
    (``-epochs``: "has no such flag"); "" for any other word (a value, ``-3``, ``-h``)."""
    name = flag.lstrip("-" + _LOOK_ALIKE_DASHES)
    pasted = any(c in _LOOK_ALIKE_DASHES for c in flag[: len(flag) - len(name)])
    dashes = len(flag) - len(name)  # none: a value ('check'); '--': a flag argparse knows
    if not name or not dashes or flag.startswith("--") and not pasted or len(name) < 2:
        return ""
    if not (like := _flags_like(f"--{name}", known)) or " or " in like:
        return ""
    if pasted:
        return f"its dashes are not '--' (pasted from a document?): type {like}"
    return f"did you mean {like}? flags take two dashes"


def _flags_like(flag: str, known: list[str]) -> str:
    """The flag(s) of ``known`` that ``flag`` is a misspelling or a prefix of ("" where
    none): the one that starts with it, or is spelt close to it (ratio 0.75 or more, or one
    slip away: :func:`~unetlab.errors.close_names`, ties to the first as --help lists them),
    else those that start with it (``--split``: "--split-necks or --split-interior"). No name
    after the dashes (``--=x``, an empty shell variable's ``--$FLAG=x``) is like none: every
    flag starts with ``--``, and the line listed them all."""
    if not flag.lstrip("-"):
        return ""
    longer = [o for o in known if o.startswith(flag)]
    close = close_names(flag, longer or known, cutoff=0.75)
    if len(longer) == 1 or close:
        return close[0] if close else longer[0]
    return " or ".join(longer)


def _command_modules() -> list:
    return [importlib.import_module(f"unetlab.cli.{name.replace('-', '_')}") for name in COMMANDS]


def main(argv: list[str] | None = None, *, owns_process: bool = False) -> int:
    """Run the ``unetlab`` command ``argv`` (the command line's where None); its exit status.
    ``owns_process``: :func:`run`'s, which ends the process with it (:func:`exit_process`):
    a --nproc launch's stop under way then drops further stop signals to that end (a script
    that calls ``main()`` gets its handlers back: review s61), and the objects alive as
    torch loads are frozen, the tuned heap kept (:func:`_set_up`)."""
    # a stop signal until the command's own handlers take over (stop_raises) ends the
    # process at once in one line: SIGTERM as torch loaded said none (s49 nprocedge 2)
    with interrupt_exits():
        args = _set_up(argv, owns_process=owns_process)
    from unetlab.distributed import first_to_say, peer_stops_raised  # loaded by _set_up

    try:
        # read_notes: files turned by their EXIF orientation, images with transparent
        # pixels: one line each at the end of the command, not one a file; stop_raises:
        # SIGTERM, SIGHUP as Ctrl-C, temporaries removed; command_spelling: the lines
        # logged name this command's flags, not the Python API's keywords (read_notes' too:
        # it says its lines as it ends, within command_spelling); a --nproc launch's stop
        # under way drops further stop signals to the command's end, or the process's where
        # it owns the process (in its teardown the default action killed it, status -15);
        # peer_stops_raised: another process of a launch stopped alone is a stop, no bug
        stops = stop_raises(owns_process=owns_process)
        with stops, command_spelling(), read_notes(), peer_stops_raised():
            return int(args.run(args) or 0)
    except KeyboardInterrupt as exc:
        how, code = stop_status(exc)
        if os.environ.get("RANK", "0") == "0":  # one line for --nproc N, not one a process
            say_stop_line(f"unetlab {args.command}: {how}")
        return code
    except BrokenPipeError:  # as a shell tool does; the rest of the output goes nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except UnetlabError as exc:
        if args.debug:
            raise
        line = f"unetlab {args.command}: error: {first_line(exc, cli=True)}"
        if first_to_say(line):  # --nproc N: once, not once a process
            print(line, file=sys.stderr)
        return IN_USE if isinstance(exc, FolderInUseError) else 2
    except Exception:  # noqa: BLE001 - not the user's fault: show it as the bug it is
        said = traceback.format_exc() + (
            f"unetlab {args.command}: this is a bug in unetlab {__version__}, not a problem with "
            "your input; please report it with the traceback above and the command you ran"
        )
        if first_to_say(said):  # --nproc N: the same traceback once, another one too
            print(said, file=sys.stderr)
        return 1


def _set_up(argv: list[str] | None, *, owns_process: bool) -> argparse.Namespace:
    """The command's arguments (``argv``: the command line's by default), torch loaded and
    logging set up; the help and bad flags end here, before torch loads. Where the command
    ``owns_process`` (:func:`run`'s) the process ends with it: its objects frozen as torch
    loads (:func:`_load_torch`) and its tuned heap kept for speed; a script's or a
    notebook's ``main()``, its ``sys.argv`` set or not, leaves both as they were (review s61:
    it froze a script's live objects, a 200 MB cycle never freed, and kept its peak heap)."""
    args = _parse(build_parser(), argv)
    _load_torch(frozen=owns_process)
    from unetlab.distributed import once_a_launch, stop_with_launch
    from unetlab.runtime import keep_allocator_tuned

    if owns_process:
        keep_allocator_tuned()
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given (to relaunch)
    # each line on the stderr of its moment (a second main() in the process: its own);
    # basicConfig adds none where one is set up (the first call's: no line twice)
    logging.basicConfig(level=logging.INFO, handlers=[stderr_handler(logging.NOTSET)])
    once_a_launch()  # --nproc N: a line said once a command, once for the launch
    stop_with_launch()  # --nproc N: torchrun killed, its processes stop too
    # tifffile logs what it meets in a damaged file (4-8 lines per read); unetlab says what
    # is wrong with the file in its own one line
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    return args


def _load_torch(*, frozen: bool) -> None:
    """Import torch; for the process's own command (``frozen``) with the collector off, and
    all objects then frozen (:func:`gc.freeze`): they live as long as the process, and the
    full collections that scanned them again and again (4 in a one-file predict, 0.19 s of
    its 2 s) scan only the objects made after. A script's or a test's ``main()`` keeps its
    collector as it is: frozen, its garbage of the moment would never be freed."""
    if not frozen or "torch" in sys.modules or not gc.isenabled():
        importlib.import_module("torch")
        return
    gc.disable()
    try:
        importlib.import_module("torch")
    finally:
        gc.freeze()
        gc.enable()


def run() -> NoReturn:
    """The ``unetlab`` command (the console script and ``python -m unetlab``). A Ctrl-C
    before :func:`main` can name the command (while it imports torch, the first second or
    two) ends as one later does: one line, status 130, no traceback."""
    with interrupt_exits():
        _command_modules()
    try:
        code = main(owns_process=True)
    except KeyboardInterrupt:  # in the few ms between the imports and main's own handler
        print("unetlab: interrupted", file=sys.stderr)
        code = 130
    except SystemExit as exc:  # a command's sys.exit(): after a launch's stop, an end as any
        code = _exit_status(exc)  # (exit_process); it skipped exit_now (review s61)
    except Exception:  # --debug's traceback: after a launch's stop the interpreter's
        exit_now(1)  # teardown follows, a stop signal there ending it at once (review s61)
        raise
    exit_process(code)


def _exit_status(exc: SystemExit) -> int:
    """The status the interpreter ends with for ``exc``: its code (None: 0), or 1 for another
    object, which it writes to stderr first (``sys.exit("message")``), as this does."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    with contextlib.suppress(OSError):  # a closed terminal (SIGHUP)
        print(exc.code, file=sys.stderr)
    return 1


def exit_process(code: int) -> NoReturn:
    """End the process with ``code``. A process that torchrun started (``WORLD_SIZE`` set)
    ends without the interpreter's teardown, its output flushed: there torch's gloo aborts a
    process now and then after its work is done and its group destroyed (SIGABRT, "terminate
    called without an active exception", no Python frame left; 1 launch in about 32 of two
    CPU processes here, none in 150 with this), and the whole launch fails with it. So does
    a launcher whose stop is under way (:func:`~unetlab.signals.exit_now`: a stop signal in
    the teardown killed it, status -15, or was dropped as it hung)."""
    launched = "WORLD_SIZE" in os.environ
    if launched or exit_now(code):
        if launched:
            from unetlab.distributed import noted_for_launch

            code = noted_for_launch(code)
        logging.shutdown()
        with contextlib.suppress(OSError):  # a reader gone away (BrokenPipeError)
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
