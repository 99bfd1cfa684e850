"""Config files: the YAML they are read with (:mod:`~unetlab.config.yaml_dialect`), the
shipped configs and how ``--config NAME`` finds them, reading one and writing a config out."""

from __future__ import annotations

import os
from collections.abc import Mapping
from math import inf
from pathlib import Path
from typing import TYPE_CHECKING

from unetlab import config_keys
from unetlab.atomic import atomic_path
from unetlab.config_keys import shipped_configs  # noqa: F401 (re-exported)
from unetlab.deferred import deferred
from unetlab.errors import Spelled, UnetlabError, first_line, spelled
from unetlab.outputs import claim_files

if TYPE_CHECKING:
    from unetlab.config.sections import Config

#: PyYAML and the dialect read with it, imported where a YAML text is read or written (not
#: by a predict with a .pt checkpoint: 10 ms of its start)
yaml = deferred("yaml")
dialect = deferred("unetlab.config.yaml_dialect")


def parse_yaml(text: str):
    """``text`` read as YAML by :mod:`~unetlab.config.yaml_dialect`'s Loader: 1.2 booleans, a
    key named twice refused (:class:`~unetlab.config.yaml_dialect.DuplicateKeyError`)."""
    return dialect.parse_yaml(text)


def find_config(path: str | os.PathLike) -> Path:
    """``path`` as given when it exists (a folder of that name only where no shipped config
    has it); else the shipped config it names: ``small_cpu``, ``small_cpu.yaml`` or
    ``configs/small_cpu.yaml`` (the README's paths, outside a clone)."""
    path, shipped = Path(path), config_keys.SHIPPED  # its one binding (s69 re-review)
    if path.is_dir() and len(path.parts) == 1 and (shipped / f"{path.name}.yaml").is_file():
        return shipped / f"{path.name}.yaml"  # --config paper beside a folder named paper
    if (
        path.exists()
        or len(path.parts) > 2
        or (len(path.parts) == 2 and path.parts[0] != "configs")
    ):
        return path
    found = shipped / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    return found if found.is_file() else path


#: the config file, as ``load_config`` (its ``path``) and ``unetlab train`` name it
CONFIG = Spelled("load_config", "--config")


def refuse_no_name(source: str | os.PathLike, flag: Spelled = CONFIG) -> None:
    """UnetlabError where ``source`` (given as ``flag``) is the empty name, which ``Path``
    reads as the folder ``.`` (s69 re-review, ``--from ''``; s70, ``train --config ''``: ". is
    a folder, not a config file")."""
    if os.fspath(source) == "":
        names = ", ".join(shipped_configs())
        raise UnetlabError(
            **spelled(
                lambda f: (
                    f"{f} '' names no config: give a YAML file or a shipped config's "
                    f"name ({names}), or none for unetlab's defaults"
                ),
                flag,
            )
        )


def read_config_file(path: Path, *, flag: Spelled = CONFIG) -> dict:
    """The mapping of a YAML config file, or one line saying why it is not one (``flag``: the
    setting that gave it, as the caller spells it: ``config --write --from`` was told to
    give --config a YAML file, s69 review)."""
    path = find_config(path)
    if path.is_dir():
        said = f"{path} is a folder, not a config file: give "
        raise UnetlabError(
            **spelled(lambda f: f"{said}{f} a YAML file (e.g. configs/small_cpu.yaml)", flag)
        )
    if not path.is_file():
        raise UnetlabError(
            f"{path}: no such config file (give a YAML file, or one of the shipped configs: "
            f"{', '.join(shipped_configs())})"
        )
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        said = f"{path}: not a YAML config file (not text: byte {exc.start} is not UTF-8); give "
        raise UnetlabError(
            **spelled(lambda f: f"{said}{f} a YAML file such as configs/small_cpu.yaml", flag)
        ) from exc
    except OSError as exc:
        raise UnetlabError(f"{path}: cannot read it ({exc.strerror})") from exc
    except dialect.DuplicateKeyError as exc:
        raise UnetlabError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UnetlabError(f"{path}: not valid YAML: {yaml_problem(exc)}") from exc
    if not isinstance(data, dict):
        raise UnetlabError(f"{path}: a config file must be a YAML mapping of sections")
    return data


def yaml_problem(exc: yaml.YAMLError) -> str:
    """What PyYAML says is wrong, and where (``line 2, column 1: found character '\\t' that
    cannot start any token (indent with spaces, not tabs)``), in one line."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if not problem:
        return first_line(exc)
    said = problem.replace("\t", "\\t")
    context = getattr(exc, "context", None)
    if "'\\t'" in said:
        said += " (indent with spaces, not tabs)"
    elif context:
        said += f" ({context})"
    return said if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: {said}"


def config_name(path: str | os.PathLike) -> str:
    """The config file ``path`` names, as a log line shows it: a shipped config as
    ``configs/NAME.yaml``, another file as given."""
    found = find_config(path)
    return f"configs/{found.name}" if found.parent == config_keys.SHIPPED else str(path)


def save_config(
    cfg: Config,
    path: str | os.PathLike,
    *,
    header: str = "",
    overwrite: bool = False,
    keep_existing: bool = False,
    notes: Mapping[str, str] | None = None,
) -> Path:
    """Write ``cfg`` as YAML (atomically); ``header`` lines are written as ``#`` comments,
    ``notes`` (by ``section.key``, each line a comment) beside the keys written as keys (one
    of another key, or that holds a character no YAML file holds: UnetlabError).
    ``cfg`` is checked first (:meth:`Config.checked`): a bad value set as an attribute is
    refused now, not when the file is read back. The keys the user chose
    (:func:`~unetlab.config.chosen_keys`) are written as keys, the others as comments at their
    default: read back, the file sets what ``cfg`` set, and ``plan_training`` plans the rest
    as it would have planned ``cfg`` (every key written made it plan nothing, s52 notebook).
    As every unetlab output
    (:func:`unetlab.outputs.claim_files`), never a training run's file (its config.yaml:
    ``train --resume`` reads it) nor one whose suffix names another format (an image); an
    existing file unetlab did not write only with ``overwrite``; its own earlier file again,
    unless ``keep_existing`` (``unetlab config --write``: a starter is edited by hand)."""
    path = Path(path)
    claim_files(
        [path],
        overwrite=overwrite,
        command="config",
        formats={path: "YAML"},
        keep_existing=keep_existing,
    )
    from unetlab.config.load import chosen_keys  # load reads files with this module

    return write_config(cfg, path, header=header, keys=chosen_keys(cfg), notes=notes)


def write_config(
    cfg: Config,
    path: str | os.PathLike,
    *,
    header: str = "",
    keys: set[str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> Path:
    """:func:`save_config` without its claim: for the training run, which holds its folder
    and writes every key (``keys`` None: its resolved config); else only ``keys`` (``section
    .key`` names) as keys, each with its comment of ``notes`` beside it, the others as
    comments."""
    text = "".join(f"# {line}\n" for line in header.splitlines())
    values = cfg.checked().to_dict()
    if keys is None:
        text += _yaml(values)
    else:
        _refuse_bad_notes(notes or {}, keys)
        sections = (_section_text(s, v, keys, notes or {}) for s, v in values.items())
        text += COMMENTED_NOTE + "".join(sections)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


#: the line above a config whose keys not chosen are comments (:func:`save_config`)
COMMENTED_NOTE = (
    "# keys commented out were not set: their defaults, left to plan_training to choose\n"
)


def _refuse_bad_notes(notes: Mapping[str, str], keys: set[str]) -> None:
    """UnetlabError where one of ``notes`` names no key of ``keys`` (written as keys), as a
    misspelled one (it was dropped without a word, s70 review), or holds a character that no
    YAML file holds (it wrote a file that does not read back)."""
    for name, note in notes.items():
        if name not in keys:
            raise UnetlabError(
                f"notes name {name}, which is no key the config written sets: give notes of "
                f"those it sets ({', '.join(sorted(keys))})"
            )
        if found := yaml.reader.Reader.NON_PRINTABLE.search(note):
            raise UnetlabError(
                f"the note of {name} holds the character {found[0]!r}, which no YAML file "
                "holds: leave it out"
            )


def _yaml(value, width: float = 80) -> str:
    return yaml.safe_dump(
        value, sort_keys=False, default_flow_style=False, allow_unicode=True, width=width
    )


def _section_text(section: str, values: dict, keys: set[str], notes: Mapping[str, str]) -> str:
    """``section:`` and its ``values`` indented, those not named in ``keys`` as comments,
    those named with their comment of ``notes`` (by ``section.key``: :func:`_noted`)."""
    lines = [f"{section}:"]
    for key, value in values.items():
        name = f"{section}.{key}"
        if name not in keys:
            lines += [f"  # {line}" for line in _yaml({key: value}).splitlines()]
        elif note := notes.get(name):
            written = [f"  {line}" for line in _yaml({key: value}, inf).splitlines()]
            lines += _noted(written, note, above=isinstance(value, str) and len(written) > 1)
        else:
            lines += [f"  {line}" for line in _yaml({key: value}).splitlines()]
    return "\n".join(lines) + "\n"


def _noted(written: list[str], note: str, *, above: bool) -> list[str]:
    """The lines ``written`` of a key (its value not folded: s70 review, a note beside a long
    text folded over two lines left a file that does not read back) with the comment
    ``note``: its first line beside their first, its others under it, at its column; all
    ``above`` them (text over several lines, which a comment beside would cut off)."""
    lines = [f"# {line}".rstrip() for line in note.splitlines()]
    if above:
        return [f"  {line}" for line in lines] + written
    column = " " * (len(written[0]) + 2)
    return [f"{written[0]}  {lines[0]}", *(column + line for line in lines[1:]), *written[1:]]
