"""Training runs side by side: :func:`compare_runs` reads run folders (or folders of runs,
such as a ``train --folds`` run's) and returns a :class:`Comparison`: one row per run with
the settings that differ between them, how long each trained, its best and last validation
figures and the evaluations saved in its folder; :func:`write_comparison` writes it as CSV
and the runs' validation curves as one PNG. Reads files only (no torch)::

    from unetlab.compare import compare_runs
    table = compare_runs(["runs/a", "runs/b", "runs/cv"])
    print(table.table())
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from unetlab.compare.find import run_folders, run_names
from unetlab.compare.records import RunRecord, read_run
from unetlab.compare.table import SORT_COLUMNS, Comparison, best_validation, compare
from unetlab.data.pairs import data_set_above
from unetlab.errors import OutputError, Spelled, UnetlabError, spelled
from unetlab.outputs import claim_files
from unetlab.plots import plot_runs

__all__ = [
    "Comparison",
    "RunRecord",
    "check_out_folder",
    "compare_runs",
    "curve_axis",
    "epoch_steps",
    "write_comparison",
]

log = logging.getLogger(__name__)

#: the files write_comparison makes in its folder
CSV_FILE, CURVES_FILE = "compare.csv", "compare_curves.png"
#: what write_comparison's curves can run along (``x``)
CURVE_AXES = ("auto", "epoch", "step")


def compare_runs(paths: Iterable[str | os.PathLike], *, by: str = "best") -> Comparison:
    """The runs of ``paths`` (run folders, or folders holding runs) side by side, sorted by
    ``by``: ``"best"`` (best.pt's val mIoU) or ``"last"`` (the last validation's), highest
    first. A run found inside a given folder that has not finished an epoch yet is left
    out (a line says so); one given by name is refused, as are fewer than two runs. One
    path (a folder of runs) may be given as itself."""
    if by not in SORT_COLUMNS:
        raise UnetlabError(f"by must be {' or '.join(map(repr, SORT_COLUMNS))}, not {by!r}")
    # a str was read as its characters, "r: no such folder" (audit s42 api)
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    folders, named = run_folders(paths)
    records = [r for r in map(read_run, folders) if _has_epochs(r, named)]
    if len(records) < 2:
        raise UnetlabError(_too_few(paths, records))
    return compare(records, run_names([r.path for r in records]), by=by)


def _has_epochs(record: RunRecord, named: set[Path]) -> bool:
    if record.rows:
        return True
    if record.path.resolve() in named:
        raise UnetlabError(
            f"{record.path}: no epoch has finished yet (metrics.csv has no rows): compare it "
            "once it has trained one, or leave it out"
        )
    log.warning("%s: left out, no epoch has finished yet (metrics.csv has no rows)", record.path)
    return False


def _too_few(paths: list, records: list[RunRecord]) -> str:
    given = ", ".join(map(str, paths))
    if not records:
        return f"no run with a finished epoch in {given}: compare runs once they have trained"
    return (
        f"only one run to compare ({records[0].path}): give two run folders or more, or a "
        "folder of runs (one run's figures: its summary.json, metrics.csv and curves.png)"
    )


#: write_comparison's folder as its caller gives it (Python was told "give --out a folder")
OUT = Spelled("write_comparison", "--out")
#: the fix of a file there that compare did not write: its names are fixed, so not "give
#: another name" (s59)
ANOTHER_FOLDER = Spelled(f"give {OUT.python} another folder", f"give {OUT.cli} another folder")


def write_comparison(
    comparison: Comparison, folder: str | os.PathLike, *, x: str = "auto"
) -> list[Path]:
    """Write ``comparison`` into ``folder`` as compare.csv and compare_curves.png (the
    validation curves of its runs overlaid, by ``x``: ``"epoch"``, ``"step"``, or
    ``"auto"``: by step where the runs' epochs differ in length (:func:`curve_axis`), else
    by epoch), atomically; a file of those names that unetlab compare did not write is
    refused (one line), never replaced. Returns the two paths."""
    if x not in CURVE_AXES:
        raise UnetlabError(f"x must be {', '.join(map(repr, CURVE_AXES))}, not {x!r}")
    folder = check_out_folder(folder)
    # no overwrite to name: compare replaces no file it did not write
    table, curves = claim_files(
        [folder / CSV_FILE, folder / CURVES_FILE],
        command="compare",
        overwrite_fix="",
        elsewhere=ANOTHER_FOLDER,
    )
    comparison.write_csv(table)
    runs = [
        (row["run"], rec.rows, best_validation(rec)[0])
        for row, rec in zip(comparison.rows, comparison.records)
    ]
    plot_runs(runs, curves, x=curve_axis(comparison.records) if x == "auto" else x)
    return [table, curves]


def check_out_folder(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path where :func:`write_comparison` may write; a file, or a data set's
    folder, is refused in one line (``unetlab compare`` asks before it prints its table)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UnetlabError(**spelled(lambda out: f"{folder} is a file: give {out} a folder", OUT))
    if (above := data_set_above(folder)) is not None:  # its PNG read as an image or mask
        raise OutputError(
            **spelled(
                lambda out: (
                    f"{folder} is the {folder.resolve().name}/ folder of the data set {above}: "
                    f"compare_curves.png there would be read as one of its files; give {out} "
                    "another folder"
                ),
                OUT,
            )
        )
    return folder


def curve_axis(records: Iterable[RunRecord]) -> str:
    """``"step"`` where the runs' epochs differ in length (steps per epoch: another data
    size, batch size or ``data.tiles_per_epoch``), so that an epoch of one run is not drawn
    as long as another's; else ``"epoch"``. Said in a line when it is steps."""
    lengths = {n for rec in records if (n := _epoch_steps(rec))}
    if len(lengths) < 2:
        return "epoch"
    log.info(
        "the curves are drawn by training step: the runs' epochs differ in length (%s steps "
        "an epoch; --curves-by epoch draws them by epoch)",
        ", ".join(f"{n:g}" for n in sorted(lengths)),
    )
    return "step"


def _epoch_steps(record: RunRecord) -> int | None:
    """The steps of one whole epoch of the run ``record``: as its summary.json's ``repeat``
    records them (a time-budget run's: its only epoch may have been cut short after 1 of 6
    steps, audit s35 workshop 9), else from its metrics.csv (:func:`epoch_steps`)."""
    repeat = (record.summary or {}).get("repeat") or {}
    if repeat.get("epochs") and repeat.get("steps_of_epochs"):
        return round(repeat["steps_of_epochs"] / repeat["epochs"])
    return epoch_steps(record.rows)


def epoch_steps(rows: list[dict]) -> int | None:
    """The steps of one whole epoch of a run, from metrics.csv's ``rows``: the most steps
    between two rows (per epoch between them), so that a last epoch cut short by the time
    budget or a stop (2 of 6 steps) does not pass for a shorter epoch (5.25 steps: audit s33
    readme3 8); None without rows."""
    rows = [r for r in rows if r.get("epoch") is not None and r.get("step") is not None]
    steps = [
        (row["step"] - before["step"]) / (row["epoch"] - before["epoch"])
        for before, row in zip([{"step": 0, "epoch": 0}, *rows], rows)
        if row["epoch"] > before["epoch"]
    ]
    return round(max(steps)) if steps else None
