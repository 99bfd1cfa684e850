"""A config file to start from (``unetlab config --write``): a shipped config, another file
or the defaults, with ``--set`` overrides, written for the user to edit and train with."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path

from unetlab.config.files import (
    COMMENTED_NOTE,
    config_name,
    find_config,
    parse_yaml,
    read_config_file,
    refuse_no_name,
    save_config,
    yaml,
)
from unetlab.config.load import load_config
from unetlab.errors import Spelled


def write_starter(
    path: str | os.PathLike,
    source: str | os.PathLike | None = None,
    overrides: Sequence[str] = (),
    *,
    overwrite: bool = False,
) -> Path:
    """Write the config of ``source`` (a YAML file or a shipped config's name: ``small_cpu``;
    None: the defaults) with ``overrides`` (``section.key=value``) to ``path``, atomically, as
    :func:`~unetlab.config.save_config` writes it: the keys they set as keys, the others as
    comments at their defaults, so that ``load_config(path)`` (``unetlab train --config
    path``) is ``load_config(source, overrides)``, the keys it leaves to the plan too.

    An existing file is kept (OutputError, one line: another name, or ``overwrite``): a
    starter is edited by hand, and save_config's own rule replaced a config it wrote before
    without a word. What ``overwrite`` does not lift is refused first (save_config's rules: a
    folder, a training run's file, a file of another format, a folder's manifest), so that
    no refusal sends the caller to an ``overwrite`` refused next (s69 review)."""
    path, overrides = Path(path), [overrides] if isinstance(overrides, str) else list(overrides)
    if source is not None:  # a folder or a file that is no text: said as --from, not --config
        refuse_no_name(source, SOURCE)
        read_config_file(Path(source), flag=SOURCE)
    cfg = load_config(source, overrides)  # a bad source or override: its own line
    text = find_config(source).read_text(encoding="utf-8") if source is not None else ""
    return save_config(
        cfg,
        path,
        header=_header(path, source, overrides, text),
        overwrite=overwrite,
        keep_existing=True,
        notes=_kept_notes(text, overrides),
    )


#: the config a starter is written from, as write_starter and ``unetlab config`` spell it
SOURCE = Spelled("write_starter's source", "--from")


def _header(path: Path, source, overrides: Sequence[str], text: str) -> str:
    """The comment lines above a starter: what it was written from, how to train with it, and
    the notes that open its source file, whose ``text`` is given (s69 review: small_cpu's
    word on its classes was dropped)."""
    made = config_name(source) if source is not None else "unetlab's defaults"
    made += "".join(f" --set {item}" for item in overrides)
    return "\n".join(
        [
            f"{WRITTEN} {made}",
            f"{TRAIN_WITH} {path}",
            *(_source_notes(source, text) if source is not None else []),
        ]
    )


#: the two lines that open a starter's header, before what each names
WRITTEN = "written by unetlab config --write from"
TRAIN_WITH = "train with: unetlab train --data DIR --config"


def _source_notes(source: str | os.PathLike, text: str) -> list[str]:
    """The notes that open the config file ``source`` (its ``text``), under a line naming it;
    those of a starter are its source's, as its header says them (s69 review: a starter
    from a starter stacked every earlier header, each naming another file): what save_config
    writes above every config (:data:`~unetlab.config.files.COMMENTED_NOTE`) is left out."""
    notes = [line for line in _opening_notes(text) if line != COMMENTED_NOTE[2:-1]]
    if len(notes) > 1 and notes[0].startswith(f"{WRITTEN} ") and notes[1].startswith(TRAIN_WITH):
        return notes[2:]  # its source's notes, already under the line naming that file
    return [f"{config_name(source)} begins:", *(f"  {line}" for line in notes)] if notes else []


def _opening_notes(text: str) -> list[str]:
    """The comment lines that open the config ``text``, without their ``#``."""
    block = itertools.takewhile(lambda line: line.startswith("#"), text.splitlines())
    return [line[2:] if line.startswith("# ") else line[1:] for line in block]


def _kept_notes(text: str, overrides: Sequence[str]) -> dict[str, str]:
    """The comments beside the keys of the config ``text`` (:func:`_key_notes`) but those of
    the keys ``overrides`` set, which may speak of the value replaced (small_cpu's
    ``patience: 10  # stop after 10 validations ...``), or a key nested in them."""
    names = [item.partition("=")[0].strip() for item in overrides]
    return {
        key: note
        for key, note in _key_notes(text).items()
        if not any(name == key or name.startswith(f"{key}.") for name in names)
    }


def _key_notes(text: str) -> dict[str, str]:
    """The comments beside the keys of the sections of the config ``text``, by ``section.key``
    (``tile_size: 128  # input = output ...``: s69 review, a starter dropped them), each with
    the comment lines under it that go on right of its key (s70 review: paper's ``momentum:
    0.99  # "a high momentum (0.99) such that ...`` was cut off there), lines joined by
    newlines: those of each section's own keys, not of the keys nested in them."""
    notes: dict[str, str] = {}
    section, indent, noted = "", "", ""  # noted: the key whose comment may go on
    for line in text.splitlines():
        if noted and re.match(rf"{indent} +#", line):
            notes[noted] += "\n" + line.partition("#")[2].removeprefix(" ").rstrip()
            continue
        noted = ""
        if line[:1] not in ("", " ", "#"):  # a section
            section, indent = line.partition(":")[0], ""
            continue
        own = re.match(r"( +)([A-Za-z_]\w*):", line)
        if own is None or not section or indent not in ("", own[1]):
            continue
        indent = own[1]
        if note := _beside(line):
            noted = f"{section}.{own[2]}"
            notes[noted] = note
    return notes


def _beside(line: str) -> str:
    """The comment that ends the YAML ``line`` (its text without ``#``), or "": the first
    `` #`` after which the line reads the same without the rest (not one in a quoted value:
    ``name: "lab #3"  # see #12``)."""
    try:
        whole = parse_yaml(line.strip())
    except yaml.YAMLError:  # a flow value that goes on over the next lines
        return ""
    for found in re.finditer(r"\s#", line):
        try:
            if parse_yaml(line[: found.start()].strip()) == whole:
                return line[found.end() :].strip()
        except yaml.YAMLError:
            continue
    return ""
