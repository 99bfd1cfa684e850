"""The records a run folder keeps beside its config: ``history.yaml``, every command that
trained into it (appended, never replaced), and ``summary.json``, the run's final numbers.

config.yaml holds the settings the run goes on with (a resume may change its length); with
the history, which says when each command ran, from which step, what it changed, and with
which code, machine and resolved choices (device, precision, the net built), it says how
the weights were made. The summary is what a script reads instead of train.log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import yaml

from unetlab.atomic import atomic_path
from unetlab.provenance import code_identity, command_line, now

HISTORY_FILE = "history.yaml"
SUMMARY_FILE = "summary.json"


def history_entry(*, resume: bool, state: dict, changes: dict | None = None) -> dict:
    """One command of a run's history: when, the command and the folder it ran in, whether
    it started or resumed the run, where the run was (``state``: epoch, step, batch) and, on
    resume, the config keys it changed (``{"section.key": (before, after)}``)."""
    entry = {
        "time": now(),
        "command": command_line(),
        "cwd": os.getcwd(),
        "run": "resume" if resume else "start",
        "at": where(state),
    }
    if resume:
        entry["changed"] = {k: {"from": a, "to": b} for k, (a, b) in (changes or {}).items()}
    return entry


def where(state: dict) -> dict:
    """Where a run was when a command began (``state``: epoch, step, batch): the epochs it
    had finished (``epochs_done``: a resume goes on in the next one, as train.log's
    "resuming ... at epoch N" says; audit s34 repro 8), the step and the batch of that next
    epoch."""
    return {"epochs_done": state["epoch"], "step": state["step"], "batch": state["batch"]}


def resumes(history: list[dict]) -> dict:
    """What summary.json says of the commands that trained a run (its ``history``): how many
    (``commands``) and how often it was resumed (``resumed``), with where each resume went on
    from (``resumed_at``: time, epochs done, step; an older history's ``at.epoch`` read as
    the epochs done)."""
    resumed = [e for e in history if e.get("run") == "resume"]
    return {
        "commands": len(history),
        "resumed": len(resumed),
        "resumed_at": [{"time": e.get("time"), **_done(e.get("at") or {})} for e in resumed],
    }


def _done(at: dict) -> dict:
    done = at.get("epochs_done", at.get("epoch"))
    return {"epochs_done": done, "step": at.get("step")}


def read_history(run_dir: str | os.PathLike) -> list[dict]:
    """The entries of ``run_dir``'s history (none when it has no history file)."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    found = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found if isinstance(found, list) else []


def append_history(run_dir: str | os.PathLike, entry: dict) -> Path:
    """Add ``entry`` to the end of ``run_dir``'s history (written atomically: a crash leaves
    the history as it was)."""
    path = Path(run_dir) / HISTORY_FILE
    entries = [*read_history(run_dir), entry]
    head = "# every command that trained this run, oldest first (config.yaml: the settings now)\n"
    with atomic_path(path) as tmp:
        text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=1 << 16)
        tmp.write_text(head + text, encoding="utf-8")
    return path


def write_summary(run_dir: str | os.PathLike, summary: dict) -> Path:
    """Write ``summary`` (with the commands that trained the run and its resumes,
    :func:`resumes`; the time and the code: versions, git commit,
    :func:`unetlab.provenance.code_identity`) as ``run_dir``'s summary.json, atomically."""
    path = Path(run_dir) / SUMMARY_FILE
    data = {**summary, **resumes(read_history(run_dir)), "written": now(), "code": code_identity()}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, default=_plain) + "\n", encoding="utf-8")
    return path


def _plain(value):
    """JSON for numpy scalars and tuples' kin."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
