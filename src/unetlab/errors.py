"""Errors a user can act on. The CLI prints them as one line (a list of data problems: one
a line), without a traceback, and exits
with status 2 (75 for :class:`FolderInUseError`: try again later); any other exception is a
bug in unetlab and is shown as one (status 1).

``UnetlabError`` is also a ``ValueError`` so that code written against the earlier API, which
raised ``ValueError`` for bad settings, keeps working; nothing in unetlab catches
``ValueError`` to mean "the user's fault".
"""

import contextlib
import difflib
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import FrozenInstanceError
from typing import NamedTuple


class UnetlabError(ValueError):
    """Bad input from the user: the message names the problem and the fix. ``cli``: the same
    message as the command line spells its settings (``--gt`` where the message names
    ``gt_dir``), which the command prints in its place (:func:`first_line`); None: one
    message for both."""

    def __init__(self, message: str = "", *, cli: str | None = None):
        super().__init__(message)
        self.cli = cli


class MadeAgain:
    """A base, listed first, of an error whose ``__init__`` takes other arguments than its
    message: it pickles as made again from ``how`` (those arguments, which its
    ``__init__`` keeps), its attributes and notes with it. A loader worker's error is
    pickled to the main process, where the message alone did not rebuild it (a TypeError,
    review s54 6) or came back a plain DatasetError without the worker's traceback note
    (review s55 G6)."""

    how: tuple = ()

    def __reduce__(self):
        return type(self), self.how, self.__dict__


class ImageReadError(UnetlabError):
    """An image or mask file is missing, corrupt or of an unsupported kind."""


class CheckpointError(UnetlabError):
    """A file is not a unetlab checkpoint, or is truncated."""


class DatasetError(UnetlabError):
    """A data set folder has problems (listed in the message, with the files). ``listed``:
    the message is several problems, one a line below the count, all of which the CLI
    prints (:func:`first_line` gives the whole of it)."""

    def __init__(self, message: str = "", *, listed: bool = False, cli: str | None = None):
        super().__init__(message, cli=cli)
        self.listed = listed


class Spelled(NamedTuple):
    """A setting as the Python API (``gt_dir``) and the command line (``--gt``) spell it, for
    an error raised on either's behalf (:func:`spelled`)."""

    python: str
    cli: str


def flag_of(name: str) -> str:
    """The command-line flag of a keyword (``min_area``: ``--min-area``): the CLI's, and
    the lines of :mod:`unetlab.inference` that name a setting as the command line gives it
    (:func:`said_as`), which import no CLI."""
    return "--" + name.replace("_", "-")


#: no value as Python writes it and as the command line's YAML does (``--set data.channel=
#: null``): a notebook was told "null" (s54)
NONE = Spelled("None", "null")


def spelled(say: Callable[..., str], *names: str | Spelled) -> dict:
    """The keywords of an error whose message ``say(*names)`` names the settings ``names``:
    its ``message`` in the Python API's spelling and its ``cli`` in the command line's where
    one of them is :class:`Spelled` (a plain ``str`` is the same in both), else the message
    alone (a caller's one spelling)."""
    if not any(isinstance(name, Spelled) for name in names):
        return {"message": say(*names)}
    python = [name.python if isinstance(name, Spelled) else name for name in names]
    cli = [name.cli if isinstance(name, Spelled) else name for name in names]
    return {"message": say(*python), "cli": say(*cli)}


class Blank(str):
    """A value the user fills in (``V``, ``C``), bare in both spellings of :func:`set_to`:
    ``cfg.data.ignore_value = V``, ``--set data.ignore_value=V``."""

    def __repr__(self) -> str:
        return str(self)


def set_to(key: str, value) -> Spelled:
    """Config key ``key`` given ``value`` as its caller writes it, for an error's fix
    (:func:`spelled`): ``cfg.train.batch_size = 17`` as Python assigns it (a
    notebook calling ``fit`` was told ``set train.batch_size=17``, s52), ``--set
    train.batch_size=17`` as the command line takes it (shell-quoted where needed)."""
    return Spelled(f"cfg.{key} = {value!r}", "--set " + shlex.quote(f"{key}={yaml_flow(value)}"))


def set_all(settings: Iterable[Spelled]) -> Spelled:
    """Several :func:`set_to` settings given at once: Python's assignments joined by ``;``,
    the command line's ``--set`` flags by spaces."""
    settings = list(settings)
    return Spelled("; ".join(s.python for s in settings), " ".join(s.cli for s in settings))


def yaml_flow(value) -> str:
    """``value`` as YAML flow text (``true``, ``[0, 255]``, ``{0: background}``, ``null``),
    as a config file or ``--set`` takes it."""
    if value is None:  # Python's word is no YAML null
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"[{', '.join(yaml_flow(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_flow(v)}" for k, v in value.items()) + "}"
    return str(value)


def worded(say: Callable[[Mapping[str, str]], str], python: Mapping, cli: Mapping) -> dict:
    """The keywords of an error whose message ``say(words)`` names several settings: its
    ``message`` in the Python API's ``python`` words (``{"overwrite": "overwrite=True"}``)
    and its ``cli`` in the command line's (``{"overwrite": "--overwrite"}``); of one
    setting: :func:`spelled`."""
    return {"message": say(python), "cli": say(cli)}


#: whether the command line runs (:func:`command_spelling`): a module flag, not a context
#: variable, as the lines of worker threads (a folder's prefetched files) belong to it too
_COMMAND = {"running": False}


@contextlib.contextmanager
def command_spelling() -> Iterator[None]:
    """Within: the lines logged name the command line's flags (:func:`said_as`), as
    :func:`unetlab.cli.main` runs a command; the Python API's keywords after."""
    before = _COMMAND["running"]
    _COMMAND["running"] = True
    try:
        yield
    finally:
        _COMMAND["running"] = before


def said_as(name: Spelled) -> str:
    """``name`` as its caller spells it in a line logged (which, unlike an error, cannot
    carry both spellings): the command line's flag while it runs (:func:`command_spelling`),
    else the Python API's keyword."""
    return name.cli if _COMMAND["running"] else name.python


def said(say: Callable[..., str], *names: str | Spelled) -> dict:
    """The keywords of an error whose message ``say(*names)`` is quoted in lines of one
    spelling (a data set's problems, predict's failed lines): its ``message`` names the
    settings as the caller that runs spells them (:func:`said_as`), its ``cli`` as the
    command line does; :func:`spelled` for an error raised to its caller alone."""
    caller = [said_as(name) if isinstance(name, Spelled) else name for name in names]
    cli = [name.cli if isinstance(name, Spelled) else name for name in names]
    return {"message": say(*caller), "cli": say(*cli)}


def in_command() -> bool:
    """Whether the command line runs (:func:`command_spelling`): a line that quotes an error
    written down (train.log's last) takes its :attr:`UnetlabError.cli` then, as the command
    prints it (:func:`first_line`'s ``cli``)."""
    return _COMMAND["running"]


class OutputError(UnetlabError):
    """An output cannot be written: it would replace an input or a file unetlab did not
    write, its folder is read-only, full or in use by another unetlab process."""


class TheirFileError(OutputError):
    """An output of one input would replace a file unetlab did not write (never done, not
    even with overwrite): that input's outputs cannot be written, the other inputs' can
    (predict names it failed and goes on)."""


class FolderInUseError(OutputError):
    """Another unetlab process holds the folder's lock (its outputs, a run folder): nothing
    is wrong with the command, which may go through once that process is done. The CLI
    exits with status :data:`IN_USE`, so a scheduled job can tell busy from broken."""


#: the CLI's exit status for a :class:`FolderInUseError`: sysexits' EX_TEMPFAIL, "try again
#: later" (2 is for a command that would fail again as it is)
IN_USE = 75


class DiskFullError(OutputError):
    """A write failed because its disk is full: a run it stops can go on where it stopped
    once there is space (predict says how many inputs are done, as after a Ctrl-C)."""


class FormatLimitError(UnetlabError):
    """An output's format cannot hold what was found (an object past 32,767 px as an ImageJ
    ROI, given to ``write_imagej_rois``): nothing is wrong with the input; another format
    holds it (predict leaves such objects out of its ROIs, or refuses such a slide level
    before any tile)."""


class GroupError(UnetlabError):
    """A process of a data-parallel run's group ended (killed, out of memory): the others
    cannot go on; the message says where the last checkpoint is and how to resume."""


class OutOfMemoryError(UnetlabError):
    """The computation did not fit in (GPU or CPU) memory; the message names the setting to
    lower."""


class KnownFields:
    """A base of the API's options dataclasses (``OutputOptions``, ``ObjectOptions``): a
    keyword that is none of their fields is refused in one line naming the closest field,
    not as Python's TypeError "__init__() got an unexpected keyword argument 'colour'"."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        for name in kwargs:
            if name not in cls.__dataclass_fields__:
                raise UnetlabError(_no_field(cls, name))
        return super().__new__(cls)


def _no_field(cls: type, name: str) -> str:
    """``OutputOptions has no field colour: did you mean color? its fields are ...``."""
    known = list(cls.__dataclass_fields__)
    return f"{cls.__name__} has no field {name}: {did_you_mean(name, known)}its fields are {', '.join(known)}"


class FrozenOptionsError(UnetlabError, FrozenInstanceError):
    """A field of an options value assigned (or deleted) in place: one line naming
    ``dataclasses.replace``; still dataclasses' FrozenInstanceError for code that catches it."""


def refuses_assignment(cls: type) -> type:
    """Over ``@dataclass(frozen=True)`` of an options class: ``options.field = value`` (or
    ``del options.field``) is refused in one line naming the changed copy to make (a
    notebook's ``opts.draw_overlay = True``, as ``cfg.train.epochs = 5`` works, was
    dataclasses' "cannot assign to field 'draw_overlay'", naming no fix: audit s62 user);
    an unknown field names the closest."""

    kind = cls.__name__
    held = (
        "options"
        if kind.endswith("Options")
        else "config"
        if kind.endswith("Config")
        else kind.lower()
    )

    def refuse(self, name: str, value: object = ..., *, verb: str = "set") -> None:
        if name not in cls.__dataclass_fields__:
            raise FrozenOptionsError(_no_field(cls, name))
        raise FrozenOptionsError(
            f"{kind} is one value, not changed in place: cannot {verb} {name}; make a changed "
            f"copy, {held} = dataclasses.replace({held}, {name}={_as_code(value)})"
        )

    cls.__setattr__ = refuse
    cls.__delattr__ = lambda self, name: refuse(self, name, verb="delete")
    return cls


def _as_code(value: object, most: int = 40) -> str:
    """``value`` as a line of code shows it: its repr where that is short code on one line
    (``True``, ``ObjectOptions(min_area=5)``), else ``...`` (a 2-D array's repr spans
    lines, a lambda's is ``<function <lambda> at 0x...>``: review of s62 user)."""
    if value is ...:
        return "..."
    shown = repr(value)
    try:
        compile(shown, "<value>", "eval")
    except (SyntaxError, ValueError):
        return "..."
    return shown if len(shown) <= most and "\n" not in shown else "..."


def first_line(exc: BaseException, default: str | None = None, *, cli: bool = False) -> str:
    """The first line of ``str(exc)``, stripped; ``default`` (or the exception's type name)
    when the message is empty: what a one-line error quotes of a foreign exception. A
    :class:`DatasetError` of ``listed`` problems is given whole, a problem a line. ``cli``:
    the message as the command line spells its settings, where it has one
    (:attr:`UnetlabError.cli`)."""
    said = getattr(exc, "cli", None) if cli else None
    text = (str(exc) if said is None else said).strip()
    if text and getattr(exc, "listed", False):
        return text
    if text:
        return text.splitlines()[0].strip()
    return type(exc).__name__ if default is None else default


def quoted(exc: BaseException) -> str:
    """The line of ``exc`` (:func:`first_line`) as a list of problems quotes it, which carries
    one spelling: its :attr:`UnetlabError.cli` while the command line runs
    (:func:`in_command`), else the Python API's (a data set's collected problems told the
    command line "set data.channel ... (or None for all)", s54)."""
    return first_line(exc, cli=in_command())


def close_names(word: str, known: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The ``n`` names of ``known`` spelt closest to ``word``, closest first (none where none
    is close): the name itself in other case (``SMALL``, ``--EPOCHS``: difflib's ratio is
    0) or with its ``+`` parts in another order (``dice+ce`` is ``ce+dice``; difflib named
    ``dice``, a loss without the cross-entropy), then one slip of the fingers away
    (:func:`slipped`), then by difflib's ratio (at least ``cutoff`` but for a slip), ties to
    the first in ``known`` (the order its names are listed in). Every "did you mean" of unetlab (flags, config keys,
    keywords, presets) asks it. difflib's own ``get_close_matches`` broke ties by the later
    name and let a closer ratio beat a slip (``train.epoch``: any of two keys of one ratio;
    s44 small 2: ``--min-prea`` named --min-peak, not --min-area one letter away)."""
    known = list(dict.fromkeys(known))
    score = {k: (_same_name(word, k), slipped(word, k), _ratio(word, k)) for k in known}
    near = [k for k in known if score[k][0] or score[k][1] or score[k][2] >= cutoff]
    return sorted(near, key=score.__getitem__, reverse=True)[:n]  # stable: the first of equals


def _same_name(word: str, known: str) -> bool:
    """Whether ``word`` is ``known`` but for letter case and the order of its ``+`` parts."""
    return sorted(word.casefold().split("+")) == sorted(known.casefold().split("+"))


def _ratio(word: str, known: str) -> float:
    return difflib.SequenceMatcher(None, word, known).ratio()


def did_you_mean(word: str, known: Iterable[str], prefix: str = "") -> str:
    """``"did you mean <prefix><name>? "`` of the name of ``known`` closest to ``word``
    (:func:`close_names`), or "" where none is close."""
    close = close_names(word, known)
    return f"did you mean {prefix}{close[0]}? " if close else ""


def unknown_choice(key: str, value, choices: Iterable[str], more: str = "") -> str:
    """``model.preset 'smal' is unknown: did you mean small? choose one of paper, small,
    small-valid`` (``more`` after the choices): a setting whose value is none of its
    ``choices``, the closest named (:func:`did_you_mean`)."""
    choices = list(choices)
    hint = did_you_mean(str(value), choices)
    return f"{key} {value!r} is unknown: {hint}choose one of {', '.join(choices)}{more}"


def slipped(typed: str, word: str) -> bool:
    """Whether ``typed`` is ``word`` with one slip of the fingers: two of its letters
    swapped (``--degub``, ``--minuets``), one changed, one left out or one added. difflib's
    ratio of a short word with two letters swapped (0.71 for ``--degub``) falls below the
    cutoff that keeps unrelated words from being suggested; this names it. Only for a word
    of four letters or more past its dashes (``--ab`` is one slip from many)."""
    if typed == word or len(typed.lstrip("-")) < 4 or abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        differ = [i for i, (a, b) in enumerate(zip(typed, word)) if a != b]
        if len(differ) == 1:
            return True
        return (
            len(differ) == 2
            and typed[differ[0]] == word[differ[1]]
            and typed[differ[1]] == word[differ[0]]
        )
    short, long = sorted((typed, word), key=len)
    return any(long[:at] + long[at + 1 :] == short for at in range(len(long)))


def optional_module(name: str, where, needs: str):
    """The optional package ``name`` (an extra's: pydicom, h5py) imported, or ImageReadError
    ``where: needs``, the one line naming its install."""
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImageReadError(f"{where}: {needs}") from exc
