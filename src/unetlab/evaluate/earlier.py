"""An earlier evaluate report where a report is to be written: what it scored, and the
refusal to replace a report of something else without ``overwrite`` (nothing is lost)."""

from __future__ import annotations

import json
from pathlib import Path

from unetlab.errors import OutputError, Spelled, spelled
from unetlab.model_identity import report_model_sha256

#: the keys of a report's source that name what was scored (a checkpoint, folders of images,
#: masks, predictions), whose files a report's own files never replace
INPUT_KEYS = ("checkpoint", "data", "predictions", "ground_truth")
#: how a caller keeps both reports, and replaces the earlier one
KEEP_BOTH = Spelled("write this report to another path", "give --json another name")
REPLACE = Spelled("pass overwrite=True", "add --overwrite")


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


def _models(report: dict) -> set[str]:
    """The sha256s naming the models a report scored (:func:`report_model_sha256`): its
    checkpoint's, or those of the checkpoints that made its predictions (``predicted_by``);
    none known: empty."""
    made = [report] if report.get("checkpoint") else report.get("predicted_by") or []
    return {
        sha for entry in made if isinstance(entry, dict) and (sha := report_model_sha256(entry))
    }


def earlier_report(path: Path, new: dict) -> str | None:
    """What the evaluate report at ``path`` scored, in words, where it scored another
    checkpoint, data or predictions than ``new`` (a report's dict); else None. A checkpoint
    rewritten keeping its model (its run's end recorded) is the same model."""
    old = _report_at(path)
    before = scored_words(old)
    if before is None:
        return None
    if scored_paths(old) != scored_paths(new):
        return before
    if not (was := _models(old)) or not (now := _models(new)) or was == now:
        return None  # a model not known on either side: told by its files alone
    return f"{before} (of another model than now)"


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
        return f" (replaces the report of {before} that was there, with its CSVs)"
    raise _kept(path, before)


def refuse_other_inputs(path: Path, scored: dict, *, overwrite: bool) -> None:
    """:func:`refuse_earlier_report` before any scoring, from what the command was given
    (``scored``: ``checkpoint`` and ``data``, or ``predictions`` and ``ground_truth``, as a
    report records them): refused where the report at ``path`` scored other files, not
    after minutes of scoring; another model in the same files where ``scored`` names it
    (a checkpoint's sha256s: :func:`unetlab.checkpoint.checkpoint_source`), else once
    scored."""
    if not overwrite and (before := earlier_report(path, scored)) is not None:
        raise _kept(path, before)


def _report_at(path: Path) -> dict:
    """The JSON object in the file at ``path``; {} for none (no file, another JSON)."""
    try:
        old = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return old if isinstance(old, dict) else {}


def _kept(path: Path, before: str) -> OutputError:
    """The refusal to replace the report of ``before`` at ``path``, in each caller's form."""

    def say(keep, replace):
        return (
            f"{path} holds the report of {before} from an earlier evaluation: {keep} to keep "
            f"both, or {replace} to replace it"
        )

    return OutputError(**spelled(say, KEEP_BOTH, REPLACE))
