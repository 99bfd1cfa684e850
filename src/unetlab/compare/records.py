"""What one run folder says of its run, read without torch: its settings (config.yaml, as
dotted keys), its epochs (metrics.csv), its final numbers (summary.json), whether it ended
(:func:`run_status`) and the evaluations saved in it (``unetlab evaluate --json`` reports)."""

from __future__ import annotations

import csv
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from unetlab.config.files import yaml_problem
from unetlab.data.classes import ignored_class
from unetlab.data.split_record import file_sha256
from unetlab.errors import UnetlabError
from unetlab.model_identity import SAME_MODEL, model_sha256s, report_model_sha256s
from unetlab.outputs import LOCK
from unetlab.plan.make import BUDGET_EPOCHS, BUDGET_SHOWN
from unetlab.run_records import HISTORY_FILE, SUMMARY_FILE, read_history

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.csv"
LAST_CHECKPOINT = Path("checkpoints", "last.pt")
#: the checkpoints a run saves in its checkpoints/ folder
CHECKPOINT_NAMES = ("best.pt", "last.pt")
#: JSON files of a run that are not evaluations (split.json, label_offset.json, ...)
NOT_EVALUATIONS = frozenset({SUMMARY_FILE, "split.json", "label_offset.json"})
#: how deep below a run folder evaluation reports are looked for (run/eval/test.json: 2)
EVALUATION_DEPTH = 2

#: a run's status: ended as planned; stopped by Ctrl-C or a signal (last.pt saved); ended
#: without a word (killed, the machine down); training now
DONE, STOPPED, KILLED, RUNNING = "done", "stopped", "killed", "running"


@dataclass
class RunRecord:
    """One run folder read: ``config`` its settings as dotted keys (``{"train.lr": 0.003}``);
    ``rows`` metrics.csv's epochs (numbers; None where empty); ``summary`` summary.json (None
    when absent or older than the run's last command); ``status`` one of DONE, STOPPED,
    KILLED, RUNNING; ``resumable``: it holds checkpoints/last.pt; ``evaluations``: the
    ``unetlab evaluate`` reports in it, by their path in the folder without ``.json``;
    ``resumed``: how often a command resumed it (history.yaml); ``classes``: the classes it
    trained and ``ignored_class`` the one of the mask value training ignored, in no mean
    (None: none; :func:`trained_classes`)."""

    path: Path
    config: dict
    rows: list[dict]
    summary: dict | None
    status: str
    resumable: bool
    evaluations: dict[str, dict] = field(default_factory=dict)
    resumed: int = 0
    classes: list[str] = field(default_factory=list)
    ignored_class: str | None = None

    @property
    def finished(self) -> bool:
        return self.status == DONE


def is_run(folder: Path) -> bool:
    """Whether ``folder`` holds a training run (config.yaml and one of metrics.csv,
    history.yaml, checkpoints/)."""
    if not (folder / CONFIG_FILE).is_file():
        return False
    return any((folder / n).exists() for n in (METRICS_FILE, HISTORY_FILE, "checkpoints"))


def read_run(folder: str | os.PathLike) -> RunRecord:
    """The records of the run in ``folder`` (:class:`RunRecord`)."""
    folder = Path(folder)
    summary = _read_json(folder / SUMMARY_FILE)
    history = read_history(folder)
    status = run_status(folder, summary, history)
    rows = read_metrics(folder / METRICS_FILE)
    config = flatten(_read_yaml(folder / CONFIG_FILE))
    classes, ignored = trained_classes(summary, history, config)
    return RunRecord(
        path=folder,
        config=with_budget(with_classes(config, classes, rows)),
        rows=rows,
        summary=summary if status in (DONE, STOPPED) else None,
        status=status,
        resumable=(folder / LAST_CHECKPOINT).is_file(),
        evaluations=find_evaluations(folder),
        resumed=sum(e.get("run") == "resume" for e in history if isinstance(e, dict)),
        classes=classes,
        ignored_class=ignored,
    )


def trained_classes(summary: dict | None, history: list, config: dict) -> tuple[list, str | None]:
    """``(classes, ignored)``: the classes a run trained and the one of the mask value
    training ignored (None: none): summary.json's ``classes`` and ``val_ignored_class``;
    without them (a killed run) history.yaml's, written as it started (its last entry's
    ``resolved`` classes, label values and ignore value; config.yaml's
    ``data.ignore_value`` before it recorded one), by
    :func:`~unetlab.data.classes.ignored_class`'s rule, none for an instance target (review
    s69: metrics.csv has no column of that class, so it was counted out); ``[]`` where
    neither says."""
    if (summary or {}).get("classes"):
        return list(summary["classes"]), summary.get("val_ignored_class")
    entries = [e.get("resolved") for e in history if isinstance(e, dict)]
    resolved = next((r for r in reversed(entries) if isinstance(r, dict)), {})
    classes = [str(c) for c in resolved.get("classes") or []]
    value = resolved.get("ignore_value", config.get("data.ignore_value"))
    target = config.get("data.target")
    k = ignored_class(len(classes), resolved.get("label_values"), value, target=target)
    return classes, None if k is None or not classes else classes[k]


def with_classes(config: dict, classes: list, rows: list[dict]) -> dict:
    """``config`` with ``model.num_classes``, which config.yaml leaves null where the data
    set it, filled with the ``classes`` the run trained (:func:`trained_classes`), else the
    per-class IoU columns of metrics.csv (a table showed "-": audit s33 readme3 8)."""
    if config.get("model.num_classes", 0) is not None:
        return config
    classes = classes or [k for k in (rows[0] if rows else {}) if k.startswith("val_iou_")]
    return config | {"model.num_classes": len(classes)} if classes else config


def with_budget(config: dict) -> dict:
    """``config`` with the epoch cap of a time budget (``train.max_minutes``), which the
    clock ends the run before, as the plan says it: ``train.epochs`` "no limit", not 100000
    (audit s34 repro 9); an epoch count the user set stays."""
    budget = config.get("train.max_minutes") or 0
    if budget > 0 and config.get("train.epochs") == BUDGET_EPOCHS:
        return config | {"train.epochs": BUDGET_SHOWN}
    return config


def run_status(folder: Path, summary: dict | None, history: list[dict]) -> str:
    """RUNNING while a live process of this machine holds the folder's lock; else DONE or
    STOPPED as summary.json says, when the last command that trained the run (history.yaml)
    wrote it; else KILLED (no summary, or one an earlier command wrote)."""
    if _locked(folder / LOCK):
        return RUNNING
    if summary is None or _written_before(summary, history):
        return KILLED
    return DONE if summary.get("finished") else STOPPED


def _written_before(summary: dict, history: list[dict]) -> bool:
    """Whether ``summary`` was written before the run's last command started."""
    started = _time(history[-1].get("time")) if history else None
    written = _time(summary.get("written"))
    return started is not None and written is not None and written < started


def _time(text) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _locked(lock: Path) -> bool:
    """Whether ``lock`` (.unetlab.lock, removed when its holder ends; left by a killed one)
    names a process of this machine that is alive. Read, never locked: a run starting now
    must not find it taken."""
    try:
        pid, _, host = lock.read_text(encoding="utf-8").strip().partition(" on ")
        if host != socket.gethostname():
            return False
        os.kill(int(pid), 0)
    except (OSError, ValueError):  # no lock, another's, a process gone
        return False
    return True


def read_metrics(path: Path) -> list[dict]:
    """metrics.csv's rows as numbers (None for an empty cell); the last row when a killed
    write cut it (no line end), and a missing file, give nothing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise UnetlabError(f"{path} cannot be read ({exc}): is it a unetlab run's?") from exc
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    try:
        rows = list(csv.DictReader(lines))
    except csv.Error as exc:
        raise UnetlabError(f"{path} cannot be read ({exc}): is it a unetlab run's?") from exc
    if rows and not {"epoch", "step"} <= set(rows[0]):  # every row was dropped as cut short,
        # and compare said "no epoch has finished yet" of a file of rows (s51 walkbad)
        head = lines[0].strip()[:60]
        raise UnetlabError(
            f"{path}: its first line {head!r} names no epoch and step columns: is it a "
            "unetlab run's metrics.csv? (put back the one train wrote, or leave the run out)"
        )
    return [r for r in map(_numbers, rows) if r is not None]


def _numbers(row: dict) -> dict | None:
    """A row's cells as numbers; None for a row of too few or too many cells, or of text."""
    if None in row or None in row.values():
        return None
    try:
        out = {k: float(v) if v else None for k, v in row.items()}
    except ValueError:
        return None
    return out if out.get("epoch") is not None and out.get("step") is not None else None


def flatten(config: dict, prefix: str = "") -> dict:
    """``{"train": {"lr": 1}}`` as ``{"train.lr": 1}``; a mapping inside a section that is
    a value (data.class_names) stays whole."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def scored_checkpoint(folder: Path, report: dict) -> str | None:
    """Which checkpoint an evaluation ``report`` of the run in ``folder`` scored: ``best.pt``
    or ``last.pt`` (the run's own, by path or by bytes), with the epoch the report records
    (``best.pt (epoch 7)``) and ``, replaced since`` where that file now holds another
    checkpoint; ``other <file name>`` for a checkpoint of elsewhere; for ``evaluate --pred``,
    the checkpoints that made the predictions, as named above, joined by `` + ``; None
    where the report names none (an older one)."""
    if report.get("checkpoint"):
        scored = [(report["checkpoint"], _identities(report))]
    else:
        made = report.get("predicted_by")
        made = made if isinstance(made, list) else []
        scored = [(m.get("checkpoint"), _identities(m)) for m in made if isinstance(m, dict)]
    names = [_checkpoint_name(folder, str(p), shas) for p, shas in scored if p]
    if not names:
        return None
    epoch = report.get("checkpoint_epoch")
    if len(names) == 1 and epoch is not None and not names[0].startswith("other"):
        stem, _, rest = names[0].partition(",")
        return f"{stem} (epoch {epoch}){',' + rest if rest else ''}"
    return " + ".join(names)


def _identities(entry: dict) -> set[str]:
    """The sha256s that name what a report (or a ``predicted_by`` entry) scored: its
    checkpoint's bytes and, where that file was rewritten keeping its model, the model's
    (``checkpoint_model_sha256``: the sha256 the file had before):
    :func:`unetlab.model_identity.report_model_sha256s`."""
    return set(report_model_sha256s(entry))


def _checkpoint_name(folder: Path, path: str, shas: set[str]) -> str:
    """``best.pt``, ``last.pt`` (``, replaced since``) or ``other <name>``: see
    :func:`scored_checkpoint`."""
    own = {name: folder / "checkpoints" / name for name in CHECKPOINT_NAMES}
    for name, file in own.items():
        if _same_file(file, path):
            replaced = bool(shas) and file.is_file() and not _holds(file, shas)
            return f"{name}, replaced since" if replaced else name
    for name, file in own.items():  # a copy of one
        if shas and file.is_file() and _holds(file, shas):
            return name
    return f"other {Path(path).name}"


def _holds(file: Path, shas: set[str]) -> bool:
    """Whether ``file`` holds the model one of ``shas`` names: by its bytes, or by the
    sha256 it had before its run's end was recorded in it (``same_model_sha256``: a report
    made while the run trained scored the same model):
    :func:`unetlab.model_identity.model_sha256s`."""
    sha = file_sha256(file)
    if sha in shas:  # its bytes: no need to read it
        return True
    return bool(shas.intersection(model_sha256s(sha, _model_sha256(file))))


#: the ``same_model_sha256`` of each checkpoint read, by path, size and modification time:
#: a compare of 50 reports loaded a run's best.pt and last.pt for each (124 MB: 5.3 s)
_MODEL_SHAS: dict[tuple, str | None] = {}


def _model_sha256(file: Path) -> str | None:
    """The ``same_model_sha256`` recorded in checkpoint ``file`` (None: none, or not a
    checkpoint), read once while the file is unchanged."""
    stat = file.stat()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _MODEL_SHAS:
        from unetlab.checkpoint import load_checkpoint  # torch: only where needed

        try:
            _MODEL_SHAS[key] = load_checkpoint(file).get(SAME_MODEL)
        except (UnetlabError, OSError):  # not a checkpoint (anymore): another file
            _MODEL_SHAS[key] = None
    return _MODEL_SHAS[key]


def _same_file(file: Path, path: str) -> bool:
    try:
        return file.resolve() == Path(path).resolve()
    except OSError:
        return False


def find_evaluations(folder: Path) -> dict[str, dict]:
    """The ``unetlab evaluate --json`` reports in ``folder`` (and up to EVALUATION_DEPTH
    folders down, checkpoints/ aside), by their path in it without ``.json``."""
    found = {}
    for path in sorted(_json_files(folder, EVALUATION_DEPTH)):
        report = _read_json(path, quiet=True)
        if isinstance(report, dict) and {"miou", "confusion_matrix"} <= set(report):
            found[path.relative_to(folder).with_suffix("").as_posix()] = report
    return found


def _json_files(folder: Path, depth: int):
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.suffix == ".json" and entry.name not in NOT_EVALUATIONS and entry.is_file():
            yield entry
        elif depth > 1 and entry.is_dir() and entry.name != "checkpoints" and not is_run(entry):
            yield from _json_files(entry, depth - 1)


def _read_json(path: Path, *, quiet: bool = False):
    """``path``'s JSON; None when absent (or, ``quiet``, unreadable)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if quiet:
            return None
        raise UnetlabError(f"{path} cannot be read ({exc}): is it a unetlab run's?") from exc


def _read_yaml(path: Path) -> dict:
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:  # PyYAML's message: several lines
        problem = yaml_problem(exc) if isinstance(exc, yaml.YAMLError) else exc
        raise UnetlabError(f"{path} cannot be read ({problem}): is it a unetlab run's?") from exc
    if not isinstance(found, dict):
        raise UnetlabError(f"{path} holds no settings: is it a unetlab run's config.yaml?")
    return found
