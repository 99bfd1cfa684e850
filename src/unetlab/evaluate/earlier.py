"""An earlier evaluate report where a report is to be written: what it scored, and the
refusal to replace a report of something else without ``overwrite`` (nothing is lost)."""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path

from unetlab.errors import OutputError, Spelled, spelled
from unetlab.model_identity import (
    REPORT_SAME_MODEL,
    REPORT_SHA256,
    REPORT_WEIGHTS,
    report_model_sha256s,
)
from unetlab.read_once import ReadOnce, file_stamp

#: the keys of a report's source that name what was scored (a checkpoint, folders of images,
#: masks, predictions), whose files a report's own files never replace
INPUT_KEYS = ("checkpoint", "data", "predictions", "ground_truth")
#: how a caller keeps both reports, and replaces the earlier one
KEEP_BOTH = Spelled("write this report to another path", "give --json another name")
#: how a caller keeps both, by what is written (:func:`_kind`): the command names the CSVs
#: after --json FILE
KEEP = {
    "report": KEEP_BOTH,
    "table": Spelled("write this table to another path", "give --json another name"),
    "confusion matrix": Spelled(
        "write this picture to another path", "give --confusion another name"
    ),
}
REPLACE = Spelled("pass overwrite=True", "add --overwrite")
#: the PNG text chunk in which a confusion-matrix picture records what it scored (a PNG
#: records nothing else of it: :func:`scoring_record`)
PNG_KEY = "unetlab-evaluate"
#: the fields of a report (and of a ``predicted_by`` entry) that name the model scored: a
#: checkpoint's sha256s, or the weights' of a model given in memory
MODEL_KEYS = (REPORT_SHA256, REPORT_SAME_MODEL, REPORT_WEIGHTS)


def scored_words(report: dict) -> str | None:
    """What an evaluate JSON report scored, in words; None for another JSON."""
    if report.get("checkpoint"):
        return f"{report['checkpoint']} on {report.get('data')}"
    if report.get("predictions"):
        return f"the predictions {report['predictions']} against {report.get('ground_truth')}"
    if report.get("data"):  # a model given in memory (from Python): no checkpoint
        return f"a model given in memory on {report['data']}"
    return None


def scored_paths(report: dict) -> dict[str, str]:
    """The files and folders a report (or a command's inputs by the same keys) scored, by
    :data:`INPUT_KEYS`, each resolved: the same files given by another relative path are the
    same, those of another folder given by the same relative path are not (s57 review). A
    report before s57 recorded predictions and truths as typed: resolved against the
    current folder, where it was made not being recorded (a run again from there is the
    same; from elsewhere it is refused as other files, nothing lost)."""
    return {key: str(Path(report[key]).resolve()) for key in INPUT_KEYS if report.get(key)}


def _models(report: dict) -> list[frozenset[str]]:
    """The models a report scored, each named by its sha256s
    (:func:`report_model_sha256s`): its checkpoint's, its weights' where a model given in
    memory made it (s58; none recorded before), or those of the checkpoints that made its
    predictions (``predicted_by``); none known: empty."""
    if report.get(REPORT_WEIGHTS):
        return [frozenset({str(report[REPORT_WEIGHTS])})]
    made = [report] if report.get("checkpoint") else report.get("predicted_by") or []
    return [
        shas
        for entry in made
        if isinstance(entry, dict) and (shas := frozenset(report_model_sha256s(entry)))
    ]


def _same_models(was: list[frozenset[str]], now: list[frozenset[str]]) -> bool:
    """Whether each model of one side is one of the other's: named by a sha256 they share.
    A rewritten checkpoint is named by its bytes' sha256 and its model's (the file's
    before); a ``predicted_by`` entry before s59 recorded the bytes' alone, after it both,
    so the same model written either way is one (s59 review D)."""
    return all(any(a & b for b in now) for a in was) and all(any(a & b for a in was) for b in now)


def earlier_report(path: Path, new: dict, *, some_of: bool = False) -> str | None:
    """What the evaluate report (or confusion-matrix PNG: :func:`scoring_record`) at
    ``path`` scored, in words, where it scored another checkpoint, data or predictions than
    ``new`` (a report's dict); else None. A checkpoint rewritten keeping its model (its run's
    end recorded) is the same model. ``some_of``: ``new`` names the models of all the
    records of its predictions, of which a scoring reads some: another model only where
    none of them is one of the earlier report's."""
    old = _recorded_at(Path(path))
    before = scored_words(old)
    if before is None:
        return None
    if scored_paths(old) != scored_paths(new):
        return before
    if not (was := _models(old)) or not (now := _models(new)):
        return None  # a model not known on either side: told by its files alone
    if any(a & b for a in was for b in now) if some_of else _same_models(was, now):
        return None
    return f"{before} (of another model than now)"


def scoring_record(report: dict) -> dict:
    """The fields of a report's dict (or :attr:`Report.source`) that :func:`earlier_report`
    tells scorings apart by: its inputs (:data:`INPUT_KEYS`, resolved) and models (:data:`MODEL_KEYS`,
    also of its ``predicted_by`` entries), which a picture records beside it as JSON text."""
    kept = scored_paths(report) | {k: str(report[k]) for k in MODEL_KEYS if report.get(k)}
    made = [
        {k: e[k] for k in MODEL_KEYS if e.get(k)}
        for e in report.get("predicted_by") or []
        if isinstance(e, dict)
    ]
    return kept | ({"predicted_by": made} if any(made) else {})


def refuse_earlier_report(path: Path, new: dict, *, overwrite: bool) -> str:
    """OutputError (one line, nothing written) where ``path`` holds an earlier report of
    something else than ``new`` (:func:`earlier_report`) and not ``overwrite``: writing
    would lose it (audit s45 newuser: the README's evaluate --checkpoint and --pred lines
    both wrote eval.json, the second report replacing the first; s57: said, but replaced).
    With ``overwrite``: the words after ``JSON: path`` that say what it replaced, else ""."""
    before = earlier_report(path, new)
    if before is None:
        return ""
    if overwrite:
        csvs = ", with its CSVs" if _kind(path) == "report" else ""
        return f" (replaces the {_kind(path)} of {before} that was there{csvs})"
    raise _kept(path, before)


def refuse_other_inputs(path: Path, scored: dict, *, overwrite: bool) -> None:
    """:func:`refuse_earlier_report` before any scoring, from what the command was given
    (``scored``: ``checkpoint`` and ``data``, or ``predictions`` and ``ground_truth``, as a
    report records them): refused where the report at ``path`` scored other files, not
    after minutes of scoring; another model in the same files where ``scored`` names it
    (a checkpoint's sha256s: :func:`unetlab.checkpoint.checkpoint_source`; predictions'
    ``predicted_by`` of all their records: refused where none is the earlier report's
    model, the scoring reading some of them), else once scored."""
    some_of = bool(scored.get("predictions"))
    if not overwrite and (before := earlier_report(path, scored, some_of=some_of)) is not None:
        raise _kept(path, before)


def record_csv_scoring(path: Path, report: dict) -> None:
    """List the CSV at ``path`` (claimed, about to be written by :func:`atomic_path`) in its
    folder's manifest with the key of what it scored (the JSON of :func:`scoring_record`),
    marked written once in place: a CSV records nothing of it itself."""
    from unetlab.atomic import when_written
    from unetlab.manifest import confirm, record

    path = Path(path)
    key = json.dumps(scoring_record(report), sort_keys=True)
    record(path.parent, [path.name], command="evaluate", made_by={path.name: key})

    # the claim's own mark too (one action a path), in one rewrite of the manifest
    when_written(path, functools.partial(confirm, path.parent, {path.name: ("", key)}, "evaluate"))


#: the records of earlier reports read within :func:`records_read_once`
_RECORDS = ReadOnce("earlier_records_read")


def records_read_once() -> contextlib.AbstractContextManager:
    """Within: each earlier report or picture read once for what it scored, however many
    checks ask (a command's before scoring, its own before writing, the writer's: a PNG
    and a JSON were read 3 times, s59); one changed meanwhile is read again."""
    return _RECORDS.kept()


def _recorded_at(path: Path) -> dict:
    """What the file at ``path`` records of its scoring: a PNG's :data:`PNG_KEY` text, a
    CSV's manifest key (:func:`record_csv_scoring`), else the file's JSON object; {} for none
    (no file, another JSON or PNG, a CSV listed without it). Read once within
    :func:`records_read_once` while the file is unchanged; a CSV's while it and its folder's
    manifest are, which says it (read twice by evaluate again, s60)."""
    from unetlab.manifest import MANIFEST

    if path.suffix.lower() == ".csv":
        what = ("csv", path.name, file_stamp(path))
        return _RECORDS.read(what, path.parent / MANIFEST, lambda: _record_read(path))
    return _RECORDS.read(("record",), path, lambda: _record_read(path))


def _record_read(path: Path) -> dict:
    """:func:`_recorded_at`, read now."""
    try:
        text = _png_text(path) if path.suffix.lower() == ".png" else _csv_key(path)
        old = json.loads(text)
    except (OSError, ValueError):
        return {}
    return old if isinstance(old, dict) else {}


def _csv_key(path: Path) -> str:
    """The manifest key of the CSV at ``path`` (:func:`record_csv_scoring`) where the file
    is there, else the file's text (a JSON report)."""
    from unetlab.manifest import confirmed_keys

    if path.suffix.lower() != ".csv":
        return path.read_text(encoding="utf-8")
    if not path.is_file():
        return ""
    return confirmed_keys(path.parent, "evaluate").get(path.name, "")


def _png_text(path: Path) -> str:
    """The :data:`PNG_KEY` text chunk of the PNG at ``path`` ("" for none); OSError or
    ImageReadError (a ValueError) where it cannot be read as a whole PNG."""
    from unetlab.data.png_chunks import read_png_text

    return read_png_text(path).get(PNG_KEY, "")


def _kept(path: Path, before: str) -> OutputError:
    """The refusal to replace the report of ``before`` at ``path``, in each caller's form."""

    def say(keep, replace):
        return (
            f"{path} holds the {_kind(path)} of {before} from an earlier evaluation: {keep} to keep "
            f"both, or {replace} to replace it"
        )

    return OutputError(**spelled(say, KEEP[_kind(path)], REPLACE))


def _kind(path: Path) -> str:
    """What an evaluate file at ``path`` is, in words: a report, a table or a picture."""
    suffix = Path(path).suffix.lower()
    return {".png": "confusion matrix", ".csv": "table"}.get(suffix, "report")
