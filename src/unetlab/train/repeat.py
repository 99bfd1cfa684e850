"""Training again from a run's ``config.yaml``: how the data folder now differs from the
files that run recorded in the ``split.json`` beside it (audit s30 ops 1: one image added
to the folder re-drew the whole validation split, and nothing said so)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from unetlab.cpu_share import keep_threads
from unetlab.data.datasets import data_split
from unetlab.data.split_record import (
    SPLIT_FILE,
    describe_names,
    describe_unchanged,
    read_split,
    split_differences,
)
from unetlab.errors import DatasetError, Spelled, said_as, set_to
from unetlab.provenance import unetlab_command
from unetlab.words import numbered

_KINDS = (
    ("added", "added to the folder, or readable only now, since"),
    ("missing", "missing"),
    ("changed", "changed (their sha256 differs)"),
    ("moved", "moved between training and validation (the split drawn again)"),
    (
        "paged",
        "stacks whose pages that run split page by page, as unetlab did then; it now splits "
        "them by file (a single stack: its last pages validate), since neighbouring frames "
        "are near copies; no file moved or changed",
    ),
)

log = logging.getLogger(__name__)


def recorded_beside(config: str | os.PathLike | None) -> tuple[Path, dict] | None:
    """(path, record) of the ``split.json`` beside ``config`` when that is a run's
    ``config.yaml`` (a run folder's), else None. An unreadable record (or a newer
    unetlab's) is none, said in one warning (s74: it was unsaid)."""
    if config is None or not Path(config).is_file():
        return None
    path = Path(config).parent / SPLIT_FILE
    try:
        record = read_split(path)
    except DatasetError as exc:
        log.warning("%s; the data are not checked against that run's files", exc)
        return None
    return (path, record) if record is not None else None


def other_data(config: str | os.PathLike | None, cfg) -> str | None:
    """A warning naming how the data ``cfg`` would train on differs from the files of the
    run whose ``config.yaml`` is ``config`` (added, missing, changed, moved between training
    and validation), and how to repeat that run exactly; None when the same files are split
    the same way, or ``config`` is no run's (:func:`checked_data`)."""
    found = checked_data(config, cfg)
    return found[1] if found is not None and not found[0] else None


def checked_data(config: str | os.PathLike | None, cfg) -> tuple[bool, str] | None:
    """(same, line): whether the data ``cfg`` would train on are the files of the run whose
    ``config.yaml`` is ``config``, split the same way, and the line that says so
    (:func:`unetlab.data.split_record.describe_unchanged`) or names the differences
    (:func:`describe_other_data`); None when ``config`` is no run's (nothing to check
    against). Hashes each recorded file once (the Kromp training folder, 78 files of 20 MB:
    0.05 s here)."""
    found = recorded_beside(config)
    root = cfg.data.root
    if found is None or root is None or not Path(root).is_dir():
        return None
    path, record = found
    train, val = data_split(cfg.data, problems=[])
    differences = split_differences(record, train, val, root)
    if not any(differences.values()):
        return True, describe_unchanged(record, path)
    if differences["moved"] and _split_by_page(record, cfg.data):
        differences["paged"], differences["moved"] = differences["moved"], []
    return False, describe_other_data(path, record, differences, (len(train), len(val)))


def _split_by_page(record: dict, data) -> bool:
    """Whether ``record`` is the split of a Config's ``data`` folder as it is, page by page,
    with the same seed and fraction: a run's made before stacks were split by file
    (audit s34 stacks 7), whose stacks' pages all "move" under the rule of now (session 35
    repro 3: a rerun from such a run's config said its files moved, and that keeping its
    seed and fraction would repeat it)."""
    paged = data_split(data, problems=[], by_page=True)
    return not split_differences(record, *paged, data.root)["moved"]


def describe_other_data(
    path: Path, record: dict, differences: dict[str, list[str]], now: tuple[int, int]
) -> str:
    """The warning of :func:`other_data`, one line per kind of difference."""
    run = path.parent
    lines = [
        f"the data differs from the files the run {run} trained on ({path}, beside the "
        "--config given):"
    ]
    for kind, said in _KINDS:
        if names := differences.get(kind):
            lines.append(f"  {said}: {len(names)} ({describe_names(names)})")
    fix = f"train on the files it lists: add --split {path}"
    if not any(differences.get(kind) for kind in ("added", "missing", "changed", "paged")):
        fix = f"keep its data.seed and data.val_fraction (or add --split {path})"
    elif not any(differences.get(kind) for kind in ("added", "missing", "changed")):
        fix = f"split its pages as it did: add --split {path}"
    lines.append(
        f"this run trains on the folder as it is now: {now[0]} training and {now[1]} "
        f"validation images (the run had {len(record['train'])} and {len(record['val'])}), "
        f"so its results will differ from {run}'s; to repeat {run} exactly, {fix}"
    )
    return "\n".join(lines)


def clock_free_repeat(
    run_dir: str | os.PathLike,
    *,
    epochs: int,
    steps: int,
    per_epoch: int,
    threads: int | None = None,
    nproc: int = 1,
) -> dict:
    """How to train the length a time-budget run (``--minutes``) bought again without the
    clock, whose steps depend on the machine's load (audit s31 fewshot 10): its ``epochs``
    and ``steps``, the steps ``--epochs`` gives (``per_epoch`` a full epoch's; a budget may
    cut the last epoch short), and the command, on the same files (``--split``); on the
    CPU ``threads`` it ran on, where a repeat would get another count by default, given
    with OMP_NUM_THREADS (:func:`~unetlab.cpu_share.keep_threads`; s57: not named, the
    repeat ran on another count, so other figures). A run of a group of ``nproc``
    processes is repeated by as many (``--nproc``: one process trains other batches); fit
    started by torchrun has no Python form (:func:`describe_repeat` says the command)."""
    run_dir = Path(run_dir)
    python = shell = ""
    if threads is not None:
        keep = keep_threads(threads)
        python, shell = f"{keep.python}; ", f"{keep.cli} "
    group = ("--nproc", nproc) if nproc > 1 else ()
    repeat = {
        "epochs": epochs,
        "steps": steps,
        "steps_of_epochs": epochs * per_epoch,
        "threads": threads,
        "command": shell
        + unetlab_command(
            *("train", "--config", run_dir / "config.yaml", "--split", run_dir),
            *("--minutes", 0, "--epochs", epochs, "--run-dir", "NEW_RUN", *group),
        ),
    }
    if nproc == 1:  # a notebook's form of the same (audit s32 notebook 10)
        repeat["python"] = (
            f"{python}fit(load_config({str(run_dir / 'config.yaml')!r}, ['train.max_minutes=0', "
            f"'train.epochs={epochs}']), run_dir=NEW_RUN, split=unetlab.data.split_record."
            f"read_split({str(run_dir / 'split.json')!r}))"
        )
    return repeat


#: a run on the clock, as its caller asked for one
CLOCKED = Spelled("train.max_minutes", "--minutes")


def describe_repeat(repeat: dict) -> str:
    """The line a time-budget run ends with: the length it bought and what trains it again on
    any machine, repeatably: the command on the command line, fit's call in Python
    (:func:`~unetlab.errors.said_as`; the command where a record has no call)."""
    epochs = said_as(
        Spelled(set_to("train.epochs", repeat["epochs"]).python, f"--epochs {repeat['epochs']}")
    )
    cut = (
        f" (its last epoch cut short: {epochs} trains {repeat['steps_of_epochs']} steps)"
        if repeat["steps_of_epochs"] != repeat["steps"]
        else ""
    )
    again = said_as(Spelled(repeat.get("python", repeat["command"]), repeat["command"]))
    return (
        f"this run on the clock trained {numbered(repeat['steps'], 'step')}, "
        f"{numbered(repeat['epochs'], 'epoch')}{cut}; a "
        f"{said_as(CLOCKED)} run is not repeatable (the steps depend on the machine's load); to train "
        f"this length again repeatably: {again} (the learning rate then "
        "anneals over the epochs, not the clock: close figures, not these bit for bit)"
    )
