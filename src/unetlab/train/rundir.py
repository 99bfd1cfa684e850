"""The run folder: claiming it (lock, refusals, a fresh start), its files, its split.json and
its metrics.csv (:class:`MetricsFile`)."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import logging
import os
from pathlib import Path

from unetlab.atomic import atomic_path, remove_tree
from unetlab.checkpoint import is_checkpoint
from unetlab.config import Config, check_resumed, load_run_config
from unetlab.data.datasets import data_folders
from unetlab.data.split_record import SPLIT_FILE, read_split, split_record, write_split
from unetlab.errors import OutOfMemoryError, OutputError, Spelled, UnetlabError, said_as, worded
from unetlab.outputs import (
    LOCK,
    MANIFEST,
    SYSTEM_FILES,
    FolderLock,
    record,
    refuse_inside,
    remove_stale_temporaries,
    write_error,
    written_here,
)
from unetlab.run_records import HISTORY_FILE, SUMMARY_FILE
from unetlab.train.loop import TrainingError
from unetlab.train.resume import minutes_spent, saved_at
from unetlab.train.setup import Data

OFFSET_FILE = "label_offset.json"  # train.label_offset: fit's measurement
RUN_FILES = (
    "config.yaml",
    "plan.yaml",
    "metrics.csv",
    "train.log",
    "curves.png",
    OFFSET_FILE,
    SPLIT_FILE,
    HISTORY_FILE,
    SUMMARY_FILE,
    "checkpoints",
)
CHECKPOINTS = ("best.pt", "last.pt")  # the files of checkpoints/
#: ``fit(resume="auto")``, ``train --resume auto``: resume where the run folder holds a run
RESUME_AUTO = "auto"
#: :data:`RESUME_AUTO` as its caller gave it, in the line of what it decided (both were said
#: to each, s54)
RESUMED_AUTO = Spelled("resume='auto'", "--resume auto")

log = logging.getLogger(__name__)


def resume_wanted(resume: bool | str, run_dir: str | os.PathLike) -> bool:
    """``resume`` as fit takes it: True, False, or ``"auto"`` (a requeued batch job): whether
    ``run_dir`` holds a run to resume (``checkpoints/last.pt``), said in one line. Every
    process of a group decides the same: none writes a checkpoint before all have started."""
    if resume != RESUME_AUTO:
        if not isinstance(resume, bool):
            raise UnetlabError(f"resume must be True, False or 'auto', not {resume!r}")
        return resume
    found = (Path(run_dir) / "checkpoints" / "last.pt").is_file()
    said = "resuming the run it holds" if found else "no checkpoint to resume: starting the run"
    log.info("%s: %s: %s", said_as(RESUMED_AUTO), run_dir, said)
    return found


def claim_run_dir(
    run_dir: str | os.PathLike,
    cfg: Config,
    *,
    resume: bool,
    overwrite: bool,
    held: contextlib.ExitStack,
) -> Path:
    """Make (or check) ``run_dir`` for the run of ``cfg`` and take it (the main process):
    refuse a folder the run may not use (:func:`check_run_dir`, :func:`prepare_run_dir`), a
    missing one to resume, or a resume that would change what the run trains; hold the
    folder's lock in ``held``, and, in it, remove a folder this call made again when the run
    ends on the user's problem before its first checkpoint (:func:`_gone_if_unstarted`)."""
    check_run_dir(run_dir, cfg.data.root)
    if resume and not Path(run_dir).exists():  # before making it: none is left
        raise OutputError(**worded(lambda fix: _no_such_run(run_dir, fix), *_FIXES))
    made = _made(run_dir)
    held.enter_context(FolderLock(run_dir))
    # inside the lock: a folder this call made goes again if its data is bad
    held.enter_context(_gone_if_unstarted(run_dir, made))
    run_dir = prepare_run_dir(run_dir, resume=resume, overwrite=overwrite)
    if resume:
        _check_resumed(run_dir, cfg)
    return run_dir


def prepare_run_dir(run_dir: str | os.PathLike, *, resume: bool, overwrite: bool) -> Path:
    """Create ``run_dir``; refuse an existing run unless resuming or overwriting.

    The folder's manifest (:mod:`unetlab.outputs`) lists the run files unetlab wrote there
    (recorded before they are written); a run file that exists but is not listed is someone
    else's and is refused whatever the flags. A run made before run folders had manifests
    counts as unetlab's when it holds ``checkpoints/last.pt`` or ``best.pt``. A run that
    stopped before its first checkpoint (bad data found while loading) is simply started
    again. A folder that holds other things and no run is refused (:func:`refuse_others`)."""
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise UnetlabError("choose one of resume and overwrite")
    refuse_others(run_dir)
    existing = [name for name in RUN_FILES if (run_dir / name).exists()]
    if resume and not (run_dir / "checkpoints" / "last.pt").is_file():
        raise OutputError(**worded(lambda fix: _nothing_to_resume(run_dir, fix), *_FIXES))
    started = _saved(run_dir)
    if existing and not resume:
        if started and not overwrite:  # one that stopped before a checkpoint is started again
            raise OutputError(**_started_refusal(run_dir, existing))
        _remove_run(run_dir, existing)
    run_dir.mkdir(parents=True, exist_ok=True)
    record(run_dir, RUN_FILES, command="train")  # before any of them is written
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    record(run_dir / "checkpoints", CHECKPOINTS, command="train")
    for folder in (run_dir, run_dir / "checkpoints"):  # left by a killed run (we hold the lock)
        remove_stale_temporaries(folder)
    return run_dir


def _saved(run_dir: Path) -> bool:
    """Whether the run in ``run_dir`` saved a checkpoint (best.pt or last.pt)."""
    return any((run_dir / "checkpoints" / name).is_file() for name in CHECKPOINTS)


def _started_refusal(run_dir: Path, existing: list[str]) -> dict:
    """Why ``run_dir``, which holds a run, is refused without resume or overwrite, and the
    fixes that work, as :class:`OutputError`'s keywords: the message in the Python API's
    words (``resume=True``), ``cli`` in the command line's (``--resume``); each said both
    before (s54 new user: a notebook's cell run twice). A run with best.pt and no last.pt
    cannot be resumed (--resume was advised, which then failed: s43 review)."""
    return worded(lambda fix: _refusal_line(run_dir, existing, fix), *_FIXES)


#: the fixes of a run folder that holds a run, as the Python API and the command line say them
_PYTHON_FIXES = {
    "resume": "resume=True",
    "overwrite": "overwrite=True",
    "run_dir": "run_dir",
    "init": "cfg.model.init_checkpoint = '{best}'",
    # a resumed run started again: overwrite=True alone is "choose one of resume and overwrite"
    "restart": "resume=False",
    "restart_saved": "resume=False, overwrite=True",  # a run that saved a checkpoint
    "folds": "fit_folds",
}
_CLI_FIXES = {
    "resume": "--resume",
    "overwrite": "--overwrite",
    "run_dir": "--run-dir",
    "init": "--init {best}",
    "restart": "--overwrite",
    "restart_saved": "--overwrite",
    "folds": "--folds",
}


_FIXES = (_PYTHON_FIXES, _CLI_FIXES)


def _no_such_run(run_dir: Path, fix: dict[str, str]) -> str:
    return (
        f"{run_dir}: no such run folder to resume; give {fix['run_dir']} a run that saved a "
        f"checkpoint, or start a new run without {fix['resume']}"
    )


def _nothing_to_resume(run_dir: Path, fix: dict[str, str]) -> str:
    """A resume of ``run_dir`` without last.pt refused, in the words of ``fix``; starting it
    again deletes a best.pt it holds, which is said (--overwrite was advised without a word of
    it: s54) with the run folder that keeps it, as :func:`_refusal_line` says them."""
    again = fix["restart_saved" if _saved(run_dir) else "restart"]
    if (best := run_dir / "checkpoints" / "best.pt").is_file():
        init = fix["init"].format(best=best)
        again += f" (its best.pt goes; another {fix['run_dir']} with {init} starts from it)"
    return (
        f"{run_dir}: no checkpoints/last.pt to resume from; start the run again with "
        f"{again}, or give {fix['run_dir']} a run that saved a checkpoint"
    )


def _refusal_line(run_dir: Path, existing: list[str], fix: dict[str, str]) -> str:
    """:func:`_started_refusal`'s line, in the words of ``fix``."""
    held = ", ".join(existing)
    if (run_dir / "checkpoints" / "last.pt").is_file():
        return (
            f"{run_dir} already holds a run{stopped_at(run_dir)} ({held}): use "
            f"{fix['resume']} to continue it from there, {fix['overwrite']} to start again, "
            f"or another {fix['run_dir']}"
        )
    init = fix["init"].format(best=run_dir / "checkpoints" / "best.pt")
    return (
        f"{run_dir} already holds a run that cannot be resumed ({held}; no "
        f"checkpoints/last.pt): give another {fix['run_dir']} ({init} starts from its "
        f"weights), or {fix['overwrite']} to start again (its best.pt goes)"
    )


def stopped_at(run_dir: Path) -> str:
    """`` saved at step 80, the end of epoch 80``: where the run in ``run_dir`` would resume
    (:func:`unetlab.train.resume.saved_at`), or "" without a readable last.pt."""
    at = saved_at(run_dir)
    return f" saved at {at}" if at else ""


def _own_run_files(run_dir: Path) -> set[str]:
    """The names of RUN_FILES that unetlab wrote in ``run_dir``: those its manifest lists, or
    all of them in a run from before run folders had manifests (one with checkpoints that
    unetlab saved: another tool's checkpoints/last.pt and config.yaml are not a run of ours,
    and --overwrite removed them: s47 crash review)."""
    listed = written_here(run_dir) & set(RUN_FILES)
    if "checkpoints" not in listed and any(
        is_checkpoint(run_dir / "checkpoints" / name) for name in CHECKPOINTS
    ):
        return set(RUN_FILES)
    if "checkpoints" in listed and _offset_record(run_dir / OFFSET_FILE):
        listed.add(OFFSET_FILE)  # a run's from before its manifest listed it
    return listed


def refuse_others(run_dir: str | os.PathLike) -> None:
    """Refuse a ``run_dir`` with run files (config.yaml, ...) that unetlab did not write, or
    one that is not empty and holds no unetlab run (no run file that unetlab wrote, see
    :func:`_own_run_files`): a run's files would be put among files that have nothing to do
    with it. The folder's manifest, lock and the files file managers drop (.DS_Store, ...)
    do not count."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return
    ours = _own_run_files(run_dir)
    existing = [name for name in RUN_FILES if (run_dir / name).exists()]
    if foreign := [name for name in existing if name not in ours]:
        others = f" (nor were {', '.join(foreign[1:])})" if len(foreign) > 1 else ""
        raise _not_ours(run_dir / foreign[0], others)
    if ours:
        return
    ignored = {MANIFEST, LOCK, *SYSTEM_FILES}
    if not (held := sorted(p.name for p in run_dir.iterdir() if p.name not in ignored)):
        return
    shown = ", ".join(held[:3]) + (f", ... ({len(held)} entries)" if len(held) > 3 else "")
    raise OutputError(
        **worded(
            lambda fix: (
                f"{run_dir} is not empty ({shown}) and holds no unetlab run: give "
                f"{fix['run_dir']} a new or empty folder (or, to continue a run, its run "
                f"folder with {fix['resume']})"
            ),
            *_FIXES,
        )
    )


def _not_ours(path: Path, others: str = "") -> OutputError:
    """The refusal of a run folder's file ``path`` that unetlab did not write (``others``:
    the folder's other such files, said after it), in each caller's words."""
    return OutputError(
        **worded(
            lambda fix: (
                f"{path} exists and was not written by unetlab{others}: choose another "
                f"{fix['run_dir']} (unetlab never replaces files it did not write)"
            ),
            *_FIXES,
        )
    )


def _offset_record(path: Path) -> bool:
    """Whether ``path`` holds a label offset as :func:`fit_label_offset` writes it."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(found, dict) and {"offset", "miou", "unshifted_miou"} <= set(found)


def _remove_run(run_dir: Path, names: list[str]) -> None:
    """Remove the run files ``names`` (unetlab's own); anything else in the folder stays,
    also files that are not checkpoints in ``checkpoints/``."""
    for name in names:
        path = run_dir / name
        if name == "checkpoints":
            for checkpoint in CHECKPOINTS:
                (path / checkpoint).unlink(missing_ok=True)
        elif path.is_dir():
            remove_tree(path)
        else:
            path.unlink()


def check_run_dir(
    run_dir: str | os.PathLike, data_root: str | os.PathLike | None, *, folds: bool = False
) -> None:
    """Refuse a ``run_dir`` that is a file, or that is (or lies in) a folder the data set of
    ``data_root`` reads images or masks from (the run's files would be read as data), or a
    folder of other things that holds no run (:func:`refuse_others`; ``folds``: no
    cross-validation, :func:`refuse_others_than_folds`)."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise OutputError(
            **worded(
                lambda fix: f"{run_dir} is a file, not a folder: give {fix['run_dir']} a folder",
                *_FIXES,
            )
        )
    if data_root is not None:
        refuse_holding(run_dir, data_root)
        refuse_inside([run_dir], data_folders(data_root), command="train")
    (refuse_others_than_folds if folds else refuse_others)(run_dir)


#: what a cross-validation's folder holds beside its ``fold_<i>`` runs (train --folds)
FOLDS_FILE = "folds.csv"
#: where an overwritten cross-validation waits until the new one has replaced it (and the
#: names beginning so: its move and removal), :mod:`unetlab.train.folds_aside`
FOLDS_ASIDE = ".unetlab-overwritten"


def fold_dir(run_dir: str | os.PathLike, i: int) -> Path:
    """Fold ``i``'s run folder in the cross-validation folder ``run_dir``: ``fold_<i>``."""
    return Path(run_dir) / f"fold_{i}"


def fold_dirs(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """(fold number, path) of each ``fold_<i>`` entry of ``run_dir``, in fold order: a
    name without that prefix is no fold's (a folder ``7`` was taken for one)."""
    found = []
    for path in Path(run_dir).glob("fold_*"):
        number = path.name.removeprefix("fold_")
        if number.isascii() and number.isdigit():  # "²".isdigit(), no int (review s55 A3)
            found.append((int(number), path))
    return sorted(found)


def refuse_others_than_folds(run_dir: str | os.PathLike) -> None:
    """Refuse a ``run_dir`` for a cross-validation that holds other things than its folds
    (``fold_<i>`` run folders, each checked by :func:`refuse_others`, and folds.csv)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return
    ignored = {MANIFEST, LOCK, FOLDS_FILE, *SYSTEM_FILES}
    held = sorted(
        p for p in run_dir.iterdir() if p.name not in ignored and not p.name.startswith(FOLDS_ASIDE)
    )
    numbered = {path for _, path in fold_dirs(run_dir)}
    folds = [p for p in held if p.is_dir() and p in numbered]
    table = run_dir / FOLDS_FILE
    if table.exists() and not folds and FOLDS_FILE not in written_here(run_dir):
        raise _not_ours(table)
    if others := [p.name for p in held if p not in folds]:
        shown = ", ".join(others[:3]) + (
            f", ... ({len(others)} entries)" if len(others) > 3 else ""
        )
        raise OutputError(
            **worded(
                lambda fix: (
                    f"{run_dir} holds other things than the folds of a cross-validation "
                    f"({shown}): give {fix['run_dir']} a new or empty folder, or one that "
                    f"{fix['folds']} trained into"
                ),
                *_FIXES,
            )
        )
    for fold in folds:
        refuse_others(fold)


def refuse_holding(run_dir: Path, data_root: str | os.PathLike) -> None:
    """Refuse a ``run_dir`` that is the data folder or a folder above it: the run's files
    (config.yaml, checkpoints/, ...) would lie among the data set's (audit s29)."""
    root, folder = Path(data_root).resolve(), run_dir.resolve()
    if folder == root or folder in root.parents:
        what = "is the data folder" if folder == root else f"holds the data folder {root}"
        own = root.parent / "runs" / root.name
        raise OutputError(
            **worded(
                lambda fix: (
                    f"{run_dir}: {what}, and a run's files would lie among the data: give "
                    f"{fix['run_dir']} a folder of its own (e.g. {own})"
                ),
                *_FIXES,
            )
        )


def _check_resumed(run_dir: Path, cfg: Config) -> None:
    """Refuse to resume the run in ``run_dir`` with a ``cfg`` that would change what it
    trains (:func:`unetlab.config.check_resumed`), or when its config.yaml is gone."""
    own = run_dir / "config.yaml"
    if not own.is_file():
        raise UnetlabError(
            **worded(
                lambda fix: (
                    f"{own} is missing: the run's settings are unknown, so it cannot be "
                    f"resumed; start a new run (another {fix['run_dir']}, or "
                    f"{fix['restart_saved']})"
                ),
                *_FIXES,
            )
        )
    spent = functools.partial(minutes_spent, run_dir)  # read for the refusal that names it
    check_resumed(load_run_config(own, cfg)[0], cfg, source=str(own), spent=spent)


@contextlib.contextmanager
def _gone_if_unstarted(run_dir: str | os.PathLike, made: bool):
    """A run folder that this call ``made`` (held under its lock) is removed again when the
    run ends on the user's problem before its first checkpoint (bad data, or a setting that
    does not fit the data, found while loading): nothing is left behind, and the same
    command, fixed, starts afresh. A failed step (non-finite loss), out of memory and a full
    disk keep it, with the log that says what happened."""
    run_dir = Path(run_dir)
    try:
        yield
    except UnetlabError as exc:
        kept = isinstance(exc, (TrainingError, OutOfMemoryError, OutputError))
        if made and not _saved(run_dir) and not kept:
            remove_tree(run_dir, ignore_errors=True)
        raise


def _made(folder: str | os.PathLike) -> bool:
    """Make ``folder`` (and its parents); True when this call made it (os.mkdir decides, so
    of two processes starting at once only one did)."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except FileExistsError:
        return False
    except OSError as exc:
        raise write_error(folder, exc) from exc
    return True


def record_split(run_dir: Path, cfg: Config, data: Data) -> dict:
    """The record of the files that train and validate the run (:mod:`unetlab.data.split_record`),
    written to split.json at its start (a resumed run keeps the one it has)."""
    if (record := read_split(run_dir / SPLIT_FILE)) is not None:
        return record
    record = split_record(cfg.data.root, *data.pairs)
    write_split(run_dir / SPLIT_FILE, record)
    return record


class MetricsFile:
    """metrics.csv, one row per epoch, appended and flushed (rows of later epochs dropped on
    resume). ``classes``: those with a ``val_iou_<class>`` column (the ignored mask value's
    has none: its IoU is no figure, review s69: a column of NaN); a resumed file keeps the
    columns its header has beside them where it keeps rows (an older run's column of that
    class too, filled in the new rows as in the old)."""

    def __init__(self, path: Path, classes: list[str], *, keep_epochs: int):
        self.path = path
        self.columns = [
            "epoch",
            "step",
            "train_loss",
            "val_loss",
            "val_miou",
            "val_miou_smoothed",
            "val_mdice",
            "lr",
            "seconds",
            "data_s",
            "compute_s",
            *[f"val_iou_{c}" for c in classes],
        ]
        self.rows: list[dict] = []
        kept: list[dict] = []
        if path.exists():
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                kept = [r for r in reader if int(float(r["epoch"])) <= keep_epochs]
            if kept:  # the columns of the rows kept: none where a run starts over
                self.columns += [c for c in reader.fieldnames or () if c not in self.columns]
            self.rows = [{k: float(v) if v else None for k, v in r.items()} for r in kept]
        with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(kept)

    def append(self, row: dict) -> None:
        self.rows.append(row)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.columns, extrasaction="ignore").writerow(
                {k: _fmt(row.get(k)) for k in self.columns}
            )
            f.flush()
            os.fsync(f.fileno())


def _fmt(value) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6g}"
