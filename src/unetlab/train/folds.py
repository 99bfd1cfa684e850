"""K-fold cross-validation: ``k`` runs of one config into ``run_dir/fold_1..k``, each
validating on another ``1/k`` of the images (:func:`unetlab.data.folds.fold_pairs`, drawn
from ``data.seed``) through ``fit``'s ``split=``; ``folds.csv`` and a line with each fold's
figures and their mean ± sd. A stopped cross-validation resumes (``resume=True``): the folds
folds.csv lists are kept, the fold in progress goes on from its ``last.pt``. An overwritten
cross-validation waits aside until the new one has trained all its folds
(:mod:`unetlab.train.folds_aside`)."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.config import Config
from unetlab.data.ctc import truth_read
from unetlab.data.folds import all_pairs, fold_pairs, refuse_unlabelled_folds
from unetlab.data.mask_reading import reads_masks_as_config
from unetlab.data.read_notes import call_notes, met_again, say_note
from unetlab.data.split_record import SPLIT_FILE, describe_pairs, read_split, split_record
from unetlab.errors import (
    Blank,
    OutputError,
    Spelled,
    UnetlabError,
    said_as,
    set_to,
    spelled,
    worded,
)
from unetlab.metrics.spread import described, spread
from unetlab.outputs import FolderLock, record
from unetlab.provenance import unetlab_command
from unetlab.run_records import SUMMARY_FILE
from unetlab.train.fitting import fit
from unetlab.train.folds_aside import aside_note, drop_aside, set_aside
from unetlab.train.log import (
    FEW_VALIDATION,
    few_validation_said,
    file_handler,
    miou_name,
)
from unetlab.train.resume import caller_says_resume
from unetlab.train.rundir import FOLDS_FILE, check_run_dir, fold_dir, fold_dirs

log = logging.getLogger(__name__)

#: folds.csv's columns
COLUMNS = (
    "fold",
    "run_dir",
    "train_images",
    "val_images",
    "validated_on",
    "epochs",
    "steps",
    "best_epoch",
    "best_val_miou",
    "last_val_miou",
    "last_val_mdice",
)


@reads_masks_as_config
@call_notes()  # one call: its folds' fits say what reading notes once
def fit_folds(
    cfg: Config, k: int, *, run_dir: str | os.PathLike, resume: bool = False, **fitting
) -> dict:
    """Train ``cfg`` ``k`` times into ``run_dir/fold_1`` .. ``fold_k``, fold ``i`` validating
    on the ``i``-th ``1/k`` of the images of ``cfg.data.root`` (every image exactly once; a
    ``train/`` + ``val/`` split pooled) and training on the rest; ``fitting``: ``fit``'s other
    keywords (``progress``, ``overwrite``, ``plan``). A time budget (``train.max_minutes``)
    is each fold's. Writes ``run_dir/folds.csv`` after each fold; returns ``{"folds": rows,
    "mean": ...}`` (:func:`fold_summary`). ``resume``: go on with a stopped cross-validation
    (``cfg`` its folds' config, as ``fit``'s resume takes a run's): the folds that folds.csv
    lists are kept as they are, a fold with a ``last.pt`` resumes from it, the others start;
    refused where the data folder no longer holds the images the folds were drawn from. The
    folder is locked while it trains (another process is refused)."""
    run_dir = Path(run_dir)
    check_run_dir(run_dir, cfg.data.root, folds=True)
    pairs = all_pairs(cfg.data.root, cfg.data.axes, cfg.data.ctc_truth)
    with truth_read(cfg.data.ctc_truth):  # its line of one sequence names the truth read
        splits = fold_pairs(pairs, k, seed=cfg.data.seed)
    refuse_unlabelled_folds(splits, cfg.data.ignore_value)  # before any fold trains
    run_dir.mkdir(parents=True, exist_ok=True)
    with FolderLock(run_dir), few_validation_said():  # said once (_log_start), not a fold
        rows = _started(run_dir, cfg.data.root, splits, resume, fitting.get("overwrite", False))
        _log_start(cfg, k, len(pairs), sorted({len(val) for _, val in splits}))
        for i, (train, val) in enumerate(splits, 1):
            if any(r["fold"] == i for r in rows):
                log.info("fold %d/%d: done before (folds.csv): kept", i, k)
                continue
            folder = fold_dir(run_dir, i)
            # each fold's train.log keeps what was said for its data and its config
            met_again(_START_KEYS, kinds=("removed",))
            try:
                result = _fit_fold(cfg, folder, f"{i}/{k}", (train, val), resume=resume, **fitting)
            except (KeyboardInterrupt, UnetlabError) as exc:  # a stop, or the user's problem
                stop = isinstance(exc, KeyboardInterrupt)
                _said_in_fold(folder, stopped_note(run_dir, k, i, stop=stop) + aside_note(run_dir))
                raise
            rows = sorted([*rows, _row(i, folder, train, val, result)], key=lambda r: r["fold"])
            write_folds(run_dir / FOLDS_FILE, rows)  # after each fold: a stopped run keeps them
        drop_aside(run_dir)  # all folds trained: the overwritten run they replace goes
    summary = fold_summary(rows) | {"val_miou_classes": _miou_classes(run_dir)}
    if not logging.getLogger().handlers:  # a notebook's or script's log; the CLI prints it
        log.info("%s; %s", describe_folds(summary), run_dir / FOLDS_FILE)
    return summary


def _said_in_fold(folder: Path, line: str) -> None:
    """``line`` logged (the console, at the level the program asked for), and written to the
    fold's train.log too where it has one: its last line was fit's stop line without the
    command (the folds' line says it: s52, the fold's log ended at "saved .../last.pt").
    Written there straight (as fit's own ending line, ``_run_logs``), the ``unetlab``
    logger's level left alone: lowered for the file, the line reached a notebook's
    warnings-only handlers too (s53 reviewA)."""
    log.info("%s", line)
    if (logged := folder / "train.log").is_file():
        handler = file_handler(logged)
        try:
            handler.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, line, (), None))
        finally:
            handler.close()


def stopped_note(run_dir: str | os.PathLike, k: int, i: int, *, stop: bool = True) -> str:
    """The line a cross-validation stopped in fold ``i`` of ``k`` says: the command that
    goes on with it where a fold saved a checkpoint (``--resume`` needs one, review s32 8),
    else to start it again; ``stop``: a stop (Ctrl-C), not an error the user fixes first."""
    when = "" if stop else "once the problem above is fixed, "
    if begun := begun_folds(run_dir):
        how = "resumes" if fold_dir(run_dir, i) in begun else "starts"
        again = Spelled("fit_folds(..., resume=True)", folds_resume_command(run_dir, k))
        return (
            f"cross-validation stopped in fold {i}/{k}; {when}continue it with: "
            f"{said_as(again)} (the folds done are kept, fold {i} {how})"
        )
    return (
        f"cross-validation stopped in fold {i}/{k} before any fold saved a checkpoint: "
        f"nothing to resume; {when}{said_as(START_AGAIN)}"
    )


#: how a cross-validation stopped before any fold saved a checkpoint is started again
START_AGAIN = Spelled(
    "call the same fit_folds(...) again to start it (without resume=True)",
    "run the same command again to start it (without --resume)",
)


def folds_resume_command(run_dir: str | os.PathLike, k: int) -> str:
    """The command that goes on with the cross-validation of ``k`` folds in ``run_dir``."""
    return unetlab_command("train", "--run-dir", run_dir, "--folds", k, "--resume")


def _fit_fold(cfg: Config, folder: Path, which: str, pairs: tuple, *, resume: bool, **fitting):
    """One fold's ``fit``: resumed from its ``last.pt`` (``resume`` and it has one), else
    started on its split (``pairs``: train, val)."""
    train, val = pairs
    go_on = resume and (folder / "checkpoints" / "last.pt").is_file()
    how = "resuming, validating" if go_on else "validating"
    line = "fold %s: %s on %s", which, how, describe_pairs(val)
    say_note(log, logging.INFO, ("fold", which), *line, again=True)  # before its log opened
    with caller_says_resume():  # a stop: stopped_note says how to go on with all the folds
        if go_on:  # its own config.yaml carries the plan
            return fit(cfg, run_dir=folder, resume=True, **(fitting | {"plan": None}))
        return fit(cfg, run_dir=folder, split=split_record(cfg.data.root, train, val), **fitting)


def _started(run_dir: Path, root, splits: list, resume: bool, overwrite: bool) -> list[dict]:
    """The rows of the folds done (``resume``: folds.csv's, the folds checked against the
    data, :func:`_check_drawn`); a new cross-validation's folds.csv is started empty, one
    into a folder with folds begun refused without ``overwrite``; with it, the old folds and
    their folds.csv wait aside until the new folds have replaced them
    (:mod:`unetlab.train.folds_aside`: never read as the new run's, never lost first)."""
    record(run_dir, [FOLDS_FILE], command="train")  # before it is written
    if resume:
        _check_drawn(run_dir, root, splits)
        return read_folds(run_dir / FOLDS_FILE)
    if not overwrite:
        refuse_begun(run_dir)
    else:
        set_aside(run_dir, complete=folds_complete(run_dir))
    write_folds(run_dir / FOLDS_FILE, [])
    return []


def folds_complete(run_dir: Path) -> bool:
    """Whether ``run_dir``'s folds all finished: folds.csv lists folds 1..n (n >= 2) and no
    other fold folder is there."""
    try:
        listed = {r["fold"] for r in read_folds(run_dir / FOLDS_FILE)}
    except (KeyError, ValueError, OSError):  # a table of another version: not known done
        return False
    folders = {number for number, _ in fold_dirs(run_dir)}
    return len(listed) >= 2 and listed == set(range(1, len(listed) + 1)) and folders <= listed


def refuse_begun(run_dir: str | os.PathLike) -> None:
    """Refuse a new cross-validation into ``run_dir`` where folds saved checkpoints."""
    if begun := begun_folds(run_dir):
        said = f"{run_dir} already holds a cross-validation ({', '.join(f.name for f in begun)} "
        raise OutputError(**worded(lambda fix: said + _BEGUN.format(**fix), *_BEGUN_FIXES))


_BEGUN = (
    "saved checkpoints): {resume} to go on with it (the folds done are kept), {overwrite} to "
    "start again, or give another {run_dir}"
)
#: :func:`refuse_begun`'s fixes, as fit_folds and the command line take them (a notebook was
#: told both, s54)
_BEGUN_FIXES = (
    {"resume": "add resume=True", "overwrite": "overwrite=True", "run_dir": "run_dir"},
    {"resume": "add --resume", "overwrite": "--overwrite", "run_dir": "--run-dir"},
)


def _miou_classes(run_dir: Path) -> list | None:
    """The classes whose IoUs the folds' val mIoU averages, as the first fold's summary.json
    records them (None: not recorded)."""
    try:
        found = json.loads((fold_dir(run_dir, 1) / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found.get("val_miou_classes") if isinstance(found, dict) else None


#: what trains every fold alike, as the caller sets it (:func:`said_as`: fit_folds in a
#: notebook was told ``--epochs N``, s53)
BY_EPOCHS = Spelled(
    f"{set_to('train.epochs', Blank('N')).python} with {set_to('train.max_minutes', 0).python}",
    "--epochs N --minutes 0",  # --epochs alone leaves the clock on: an upper bound
)


#: the keys of a cross-validation's first lines (:func:`_log_start`), written in each fold's
#: train.log too (:func:`~unetlab.data.read_notes.met_again`): said before any fold's log
#: opened, no fold's log had them (s59)
_START, _CLOCK, _FEW_VALIDATION = (
    ("folds", "start"),
    ("folds", "clock"),
    ("folds", "few validation"),
)
_START_KEYS = (_START, _CLOCK, _FEW_VALIDATION)


def _log_start(cfg: Config, k: int, images: int, sizes: list[int]) -> None:
    """The cross-validation's first lines: its folds, the budget each fold has, and once for
    all folds that their validation sets are small (audit s31 fewshot 5)."""
    budget = cfg.train.max_minutes
    each = f", each for {budget:g} min (the budget is per fold: {k * budget:g} min in all)"
    say_note(
        log,
        logging.INFO,
        _START,
        "cross-validation: %d folds of the %d images of %s (shuffled by data.seed %d), each "
        "image validated once%s",
        *(k, images, cfg.data.root, cfg.data.seed),
        each if budget > 0 else "",
    )
    if budget > 0:
        say_note(
            log,
            logging.WARNING,
            _CLOCK,
            "on the clock the folds buy different numbers of steps (the machine's load, the "
            "first fold's start-up): their figures then compare runs of different lengths; "
            "%s trains every fold alike (folds.csv lists each fold's steps)",
            said_as(BY_EPOCHS),
        )
    if sizes[0] < FEW_VALIDATION:
        say_note(
            log,
            logging.WARNING,
            _FEW_VALIDATION,
            "each fold validates on only %s image%s: a fold's val figures and its choice of "
            "best.pt are noisy; the mean ± sd over the folds is the figure (report a test set "
            "the folds never saw)",
            "-".join(map(str, sizes)),
            "s" * (sizes != [1]),
        )


def begun_folds(run_dir: str | os.PathLike) -> list[Path]:
    """The ``fold_<i>`` folders of ``run_dir`` that saved a checkpoint (``last.pt``), in
    fold order."""
    return [f for _, f in fold_dirs(run_dir) if (f / "checkpoints" / "last.pt").is_file()]


#: the fix of a cross-validation resumed on other folds (:func:`_check_drawn`), as fit_folds
#: (its ``k``, ``overwrite``, ``run_dir``) or the command line (--folds, ...) spell it
OTHER_FOLDS = Spelled(
    " (images added or removed, or another k or cfg.data.seed): resume with the data and k it "
    "started with, or start again (overwrite=True, or another run_dir)",
    " (images added or removed, or another --folds or data.seed): resume with the data and "
    "--folds it started with, or start again (--overwrite, or another --run-dir)",
)


def _check_drawn(run_dir: Path, root, splits: list) -> None:
    """Refuse to resume folds whose split.json records other images than the data folder
    gives them now (images added, removed, or another ``k`` or ``data.seed``): the folds
    would no longer validate each image once."""
    for i, (train, val) in enumerate(splits, 1):
        record = read_split(fold_dir(run_dir, i) / SPLIT_FILE)
        if record is None:
            continue
        now = split_record(root, train, val)
        if any(_listed(record[part]) != _listed(now[part]) for part in ("train", "val")):
            said = f"{fold_dir(run_dir, i)} trained on other images than fold {i} of {root} is now"
            raise UnetlabError(**spelled(said.__add__, OTHER_FOLDS))


def _listed(entries: list[dict]) -> set[tuple]:
    return {(e["image"], e["page"], e["image_sha256"], e["mask_sha256"]) for e in entries}


def _row(i: int, folder: Path, train: list, val: list, result: dict) -> dict:
    last = result.get("val") or {}
    return {
        "fold": i,
        "run_dir": str(folder),
        "train_images": len(train),
        "val_images": len(val),
        "validated_on": " ".join(p.shown for p in val),
        "epochs": result["epochs"],
        "steps": result["steps"],
        "best_epoch": result.get("best_epoch"),
        "best_val_miou": result.get("best_val_miou"),
        "last_val_miou": last.get("miou"),
        "last_val_mdice": last.get("mdice"),
    }


def fold_summary(rows: list[dict]) -> dict:
    """The folds' ``rows`` and the spread over them (:func:`unetlab.metrics.spread.spread`:
    mean, sd, min, max) of the best and the last val mIoU and the last val Dice."""
    keys = ("best_val_miou", "last_val_miou", "last_val_mdice")
    nan = math.nan
    return {
        "folds": rows,
        **{k: spread([nan if r[k] is None else r[k] for r in rows]) for k in keys},
    }


def describe_folds(summary: dict) -> str:
    """``5 folds: val mIoU of best.pt 0.6120 ± 0.0410 (0.5500-0.6600), last ...``"""
    name = miou_name(summary.get("val_miou_classes") or ())
    return (
        f"{len(summary['folds'])} folds, mean ± sd (min-max) over the folds: val {name} of "
        f"best.pt {described(summary['best_val_miou'])}, of the last epoch "
        f"{described(summary['last_val_miou'])}, val Dice of the last epoch "
        f"{described(summary['last_val_mdice'])} (best.pt was chosen on the same images: "
        "report the last epoch's, or a test set)"
    )


def write_folds(path: Path, rows: list[dict]) -> Path:
    """Write the folds' ``rows`` as CSV, atomically (undefined figures empty)."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows({k: "" if r[k] is None else r[k] for k in COLUMNS} for r in rows)
    return path


#: folds.csv's columns that hold whole numbers (the figures are floats, the rest text)
_WHOLE = ("fold", "train_images", "val_images", "epochs", "steps", "best_epoch")


def read_folds(path: Path) -> list[dict]:
    """The rows :func:`write_folds` wrote (numbers as numbers, empty ones None); none when
    there is no such file."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    text = ("run_dir", "validated_on")
    return [
        {
            k: r[k] if k in text else None if r[k] == "" else (int if k in _WHOLE else float)(r[k])
            for k in COLUMNS
        }
        for r in rows
    ]
