"""The records a run folder keeps beside its config: ``history.yaml``, every command that
trained into it (appended, never replaced), and ``summary.json``, the run's final numbers.

config.yaml holds the settings the run goes on with (a resume may change its length); with
the history, which says when each command ran, from which step, what it changed, and with
which code, machine and resolved choices (device, precision, the net built), it says how
the weights were made. The summary is what a script reads instead of train.log.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
import yaml

from unetlab.atomic import atomic_path
from unetlab.config.files import yaml_problem
from unetlab.errors import UnetlabError
from unetlab.provenance import code_identity, command_line, now

HISTORY_FILE = "history.yaml"
SUMMARY_FILE = "summary.json"
#: what other code or threads than a run's mean for results
BITWISE = "results may differ bitwise"
#: why, of the differences :func:`making_differences` finds: code (a commit, torch), threads
WHY_CODE = "another unetlab commit or torch may compute them otherwise"
WHY_THREADS = "CPU results depend on the thread count"

log = logging.getLogger(__name__)


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
    "resuming the run in R from step S, the end of epoch N" says; audit s34 repro 8), the
    step and the batch of that next epoch."""
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
    """The entries of ``run_dir``'s history (none when it has no history file); one that is
    no YAML (cut short, edited by hand, not text) raises a :class:`UnetlabError` naming it."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return []
    try:
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:  # PyYAML's message: several lines
        problem = yaml_problem(exc) if isinstance(exc, yaml.YAMLError) else "not UTF-8 text"
        raise UnetlabError(
            f"{path} cannot be read ({problem}): repair it, or move it aside (it records the "
            "commands that trained the run; its checkpoints and metrics do not need it)"
        ) from exc
    return found if isinstance(found, list) else []


def append_history(run_dir: str | os.PathLike, entry: dict) -> Path:
    """Add ``entry`` to the end of ``run_dir``'s history (written atomically: a crash leaves
    the history as it was); :func:`say_resume_making` compares it with the command before."""
    path = Path(run_dir) / HISTORY_FILE
    return _write_history(path, [*read_history(run_dir), entry])


def say_resume_making(run_dir: str | os.PathLike) -> None:
    """One line where the last command of ``run_dir``'s history, a resume, trains with another
    unetlab commit, torch or thread count than the command before it
    (:func:`making_differences`). Called once the look beside other work has set the threads
    the steps run on (:func:`amend_resolved`), so both entries record the count their steps
    ran on (s56 review U)."""
    history = read_history(run_dir)
    if len(history) < 2 or not all(isinstance(e, dict) for e in history[-2:]):
        return
    if history[-1].get("run") == "resume":
        _say_other_making(history[-2], history[-1], Path(run_dir) / HISTORY_FILE)


def amend_resolved(run_dir: str | os.PathLike, **resolved) -> None:
    """The last command's entry in ``run_dir``'s history with its ``resolved`` keys set to
    ``resolved`` (e.g. the threads its steps ran on, once the look beside other work has
    lowered them); written atomically, and only where a value changes."""
    path = Path(run_dir) / HISTORY_FILE
    entries = read_history(run_dir)
    if not entries or not isinstance(entries[-1], dict):
        return
    was = entries[-1].setdefault("resolved", {})
    if any(was.get(key) != value for key, value in resolved.items()):
        was.update(resolved)
        _write_history(path, entries)


def _write_history(path: Path, entries: list) -> Path:
    head = "# every command that trained this run, oldest first (config.yaml: the settings now)\n"
    with atomic_path(path) as tmp:
        text = yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=1 << 16)
        tmp.write_text(head + text, encoding="utf-8")
    return path


def making_differences(before: dict, now: dict) -> list[str]:
    """How the command of the history entry ``now`` differs from ``before``'s in what its
    results depend on beyond the config: the unetlab commit (and uncommitted changes), torch,
    the CPU threads (of CPU runs), e.g. ``["threads 2, not 1"]``; a part either lacks is not
    compared (an older history, a GPU run's threads)."""
    code, was = now.get("code") or {}, before.get("code") or {}
    said = []
    if code.get("commit") and was.get("commit") and _commit(code) != _commit(was):
        said.append(f"unetlab commit {_commit(code)}, not {_commit(was)}")
    if code.get("torch") and was.get("torch") and code["torch"] != was["torch"]:
        said.append(f"torch {code['torch']}, not {was['torch']}")
    threads = (now.get("resolved") or {}).get("threads")
    recorded = (before.get("resolved") or {}).get("threads")
    if threads and recorded and threads != recorded:
        said.append(f"threads {threads}, not {recorded}")
    return said


def _which(said: list[str], code: str, threads: str) -> list[str]:
    """``code`` where ``said`` (:func:`making_differences`) names other code (a commit,
    torch), ``threads`` where it names other threads: only what holds is said (s64 notebook:
    the thread count's reason was said of a commit alone)."""
    other = [s.startswith("threads ") for s in said]
    return [part for part, holds in ((code, not all(other)), (threads, any(other))) if holds]


def why(said: list[str]) -> str:
    """The reasons, in parentheses, that hold for the differences ``said``."""
    return f"({'; '.join(_which(said, WHY_CODE, WHY_THREADS))})"


def _commit(code: dict) -> str:
    changed = " with uncommitted changes" if code.get("dirty") else ""
    return f"{str(code['commit'])[:12]}{changed}"


def other_making(config_file: str | os.PathLike | None) -> str | None:
    """One line where this process would train with another unetlab commit, torch or thread
    count than the run whose ``config.yaml`` is ``config_file`` (the last command of the
    history.yaml beside it): its results may differ bitwise; None where they match, or
    ``config_file`` is no run's (audit s34 repro 5). Training goes on: a warning, not a
    refusal."""
    if config_file is None or not Path(config_file).is_file():
        return None
    run = Path(config_file).parent
    history = read_history(run)
    if not history or not isinstance(history[-1], dict):
        return None
    now = {"code": code_identity(), "resolved": {"threads": torch.get_num_threads()}}
    if not (said := making_differences(history[-1], now)):
        return None
    kept = " and ".join(_which(said, "its code", "its threads (OMP_NUM_THREADS)"))
    return (
        f"this run trains with {'; '.join(said)} ({run / HISTORY_FILE} records {run}'s): "
        f"its {BITWISE} {why(said)}; to repeat {run} bit for bit, train with {kept}"
    )


def _say_other_making(before: dict, entry: dict, path: Path) -> None:
    if said := making_differences(before, entry):
        log.warning(
            "warning: this resume trains with %s (%s records the run's last command's): its "
            "%s from an uninterrupted run's %s",
            "; ".join(said),
            path,
            BITWISE,
            why(said),
        )


def write_summary(run_dir: str | os.PathLike, summary: dict) -> Path:
    """Write ``summary`` (with the commands that trained the run and its resumes,
    :func:`resumes`; the time and the code: versions, git commit,
    :func:`unetlab.provenance.code_identity`) as ``run_dir``'s summary.json, atomically."""
    path = Path(run_dir) / SUMMARY_FILE
    data = {**summary, **resumes(read_history(run_dir)), "written": now(), "code": code_identity()}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, default=_plain) + "\n", encoding="utf-8")
    return path


def read_summary(run_dir: str | os.PathLike) -> dict:
    """``run_dir``'s summary.json as written (:func:`write_summary`); {} where it has none
    or it cannot be read."""
    try:
        found = json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _plain(value):
    """JSON for numpy scalars and tuples' kin."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
