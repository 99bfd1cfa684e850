"""Runs side by side: one row per run with the settings that differ between them, how long
each trained, its validation figures and its saved evaluations (:class:`Comparison`)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.compare.records import KILLED, STOPPED, RunRecord, scored_checkpoint
from unetlab.metrics.spread import described, spread
from unetlab.provenance import unetlab_command

#: config keys that name the run's folder, not how it trains
NOT_SETTINGS = ("run.",)
#: what the rows are sorted by (``by``): the column, highest first
SORT_COLUMNS = {"best": "best_val_miou", "last": "last_val_miou"}
#: the runs a comparison's one-line repr names
REPR_RUNS = 5
#: the columns every comparison has, after ``run``, ``status`` and the differing settings
FIGURES = (
    "epochs",
    "steps",
    "train_minutes",
    "wall_minutes",
    "best_epoch",
    "best_val_miou",
    "last_val_miou",
    "last_val_mdice",
)
#: the figures whose spread over runs of the same settings is given: (column, words)
SPREAD_FIGURES = (
    ("best_val_miou", "val mIoU of best.pt"),
    ("last_val_miou", "of the last validation"),
    ("last_val_mdice", "val Dice of the last validation"),
)
#: columns shown with 4 decimals (the scores)
SCORE_DIGITS = 4
#: metrics.csv's per-class columns: ``val_iou_<class name>``
CLASS_IOU = "val_iou_"
#: the CSV's column of each class's IoU at best.pt's epoch: ``best_val_iou_<class name>``
BEST_CLASS_IOU = "best_" + CLASS_IOU
#: a per-class cell of a class the run's validation images lack (its IoU, 0 from false
#: positives or n/a, says nothing of the class: audit s43 legend 3)
NOT_IN_VAL = "not in val"
#: the per-class cell of the class of the mask value training ignored (summary.json's
#: ``val_ignored_class``): in no mean, no pixel of it scored (as train's log says it)
IGNORED = "ignored"
#: the fewest classes whose IoUs are shown under the table (a 2-class run's are its mIoU's)
CLASS_TABLE_MIN = 3


@dataclass
class Comparison:
    """``rows``: one dict per run (``run``, ``status``, the settings in ``settings``, FIGURES,
    then the columns of the evaluation reports found, :func:`evaluation_columns`), sorted by ``by``'s column,
    highest first, runs without it last; ``records`` the runs read, in the same order;
    ``columns`` all columns in order. ``pandas.DataFrame(c.rows)`` makes it a data frame."""

    rows: list[dict]
    records: list[RunRecord]
    columns: list[str]
    settings: list[str]
    by: str

    def __repr__(self) -> str:
        """One line (a notebook cell's value; the dataclass's was some 10,000 characters of
        rows and run records, s50 notebook walk): the first runs with ``by``'s figure."""
        column = SORT_COLUMNS.get(self.by, self.by)
        shown = [f"{r['run']} {_short(r.get(column))}" for r in self.rows[:REPR_RUNS]]
        more = f" and {len(self.rows) - REPR_RUNS} more" if len(self.rows) > REPR_RUNS else ""
        return (
            f"Comparison({len(self.rows)} runs by {column}: {', '.join(shown)}{more}; "
            "print(c.table()) for the table, pandas.DataFrame(c.rows) for all)"
        )

    def table(self) -> str:
        """The table as aligned text; under it the spread over the runs where they share
        their settings (:meth:`spread_line`) and a line for each unfinished run. The name
        ``Report.table()`` and ``summarize(model).table()`` give theirs (s52 notebook)."""
        shared = [line] if (line := self.spread_line()) else []
        table = [*_aligned(self.columns, self.rows), *self.class_lines()]
        return "\n".join([*table, *shared, *self.notes()])

    def text(self) -> str:
        """:meth:`table`, by its earlier name (kept for code that calls it)."""
        return self.table()

    def class_lines(self) -> list[str]:
        """Where the runs trained three classes or more: a second table of each class's val
        IoU at best.pt's epoch, one row per run (a rare class that a setting helped hides in
        the mIoU: audit s39 roads, pole, sign and person of 11 classes); else none."""
        names = self.class_names()
        if len(names) < CLASS_TABLE_MIN:
            return []
        rows = [
            {"run": r["run"]} | _class_cells(r, c, names) for r, c in zip(self.rows, self.records)
        ]
        table = ["val IoU per class at best.pt's epoch:", *_aligned(["run", *names], rows, True)]
        if any(NOT_IN_VAL in row.values() for row in rows):
            table.append(f"{NOT_IN_VAL}: no pixel of the class in the run's validation images")
        if any(IGNORED in row.values() for row in rows):
            table.append(f"{IGNORED}: the class of the mask value training ignored, in no mean")
        return table

    def class_names(self) -> list[str]:
        """The classes whose IoU the rows hold (:func:`class_ious`), in the runs' order."""
        keys = dict.fromkeys(k for row in self.rows for k in row if k.startswith(BEST_CLASS_IOU))
        return [k.removeprefix(BEST_CLASS_IOU) for k in keys]

    def spread_line(self) -> str | None:
        """Where the runs share every setting (the folds of ``train --folds``, repeats):
        mean ± sd (min-max) over the finished ones of the best and last val mIoU and the last
        val Dice, naming the runs left out (stopped, killed, running: a killed 1-epoch run's
        figures are no repeat's, audit s34 repro 4); else, or with fewer than two finished,
        None."""
        if self.settings:
            return None
        done = [row for row, rec in zip(self.rows, self.records) if rec.finished]
        out = [
            f"{r['run']} ({r['status']})" for r, c in zip(self.rows, self.records) if not c.finished
        ]
        if len(done) < 2:
            return None
        figures = [
            f"{label} {described(spread([_nan(row[key]) for row in done]))}"
            for key, label in SPREAD_FIGURES
        ]
        which = f"{len(done)} finished runs" if out else f"{len(done)} runs"
        left = f"; left out, unfinished: {', '.join(out)}" if out else ""
        return (
            f"the {which} share their settings (folds, repeats): mean ± sd "
            f"(min-max) over them: {', '.join(figures)}{left}"
        )

    def notes(self) -> list[str]:
        """One line for each run that did not end as planned: how to go on with it; and one
        where time-budget runs got unlike shares of their CPU (:func:`load_note`)."""
        notes = [note for row, rec in zip(self.rows, self.records) if (note := _note(row, rec))]
        return notes + ([line] if (line := load_note(self.rows, self.records)) else [])

    def write_csv(self, path: str | os.PathLike) -> Path:
        """The rows as CSV (empty cells for missing figures; lists as JSON), atomically."""
        path = Path(path)
        columns = [*self.columns, *(BEST_CLASS_IOU + n for n in self.class_names())]
        with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows({k: _csv_cell(row.get(k)) for k in columns} for row in self.rows)
        return path


def compare(records: Sequence[RunRecord], names: Sequence[str], *, by: str = "best") -> Comparison:
    """The :class:`Comparison` of ``records`` named ``names``."""
    if by not in SORT_COLUMNS:
        raise ValueError(f"by must be one of {', '.join(SORT_COLUMNS)}, not {by!r}")
    settings = differing_keys([r.config for r in records])
    evaluated = evaluation_columns(records)
    rows = [
        {"run": name, "status": status(rec)}
        | {k: rec.config.get(k) for k in settings}
        | figures(rec)
        | evaluation_cells(rec, evaluated)
        | {BEST_CLASS_IOU + n: iou for n, iou in class_ious(rec).items()}
        for rec, name in zip(records, names)
    ]
    order = sorted(range(len(rows)), key=lambda i: _descending(rows[i][SORT_COLUMNS[by]]))
    # wall_minutes only where a run's summary.json records it (runs trained before did not)
    shown = [c for c in FIGURES if c != "wall_minutes" or any(r[c] is not None for r in rows)]
    columns = ["run", "status", *settings, *shown, *evaluated]
    return Comparison(
        rows=[rows[i] for i in order],
        records=[records[i] for i in order],
        columns=columns,
        settings=settings,
        by=by,
    )


def differing_keys(configs: Sequence[dict]) -> list[str]:
    """The keys whose values are not the same in all ``configs`` that have them, in the
    order they first appear; the run's own name and folder (run.*) left out. A key that some
    lack is a key added to unetlab after those runs were made (every config.yaml holds all
    keys of its code): it differs only where the runs that have it differ."""
    keys = dict.fromkeys(k for c in configs for k in c if not k.startswith(NOT_SETTINGS))
    return [k for k in keys if len({_key(c[k]) for c in configs if k in c}) > 1]


def _key(value) -> str:
    """What ``value`` is, for telling settings apart: 1 and 1.0 alike, true and 1 not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, sort_keys=True)
    return repr(value)


def figures(record: RunRecord) -> dict:
    """How long ``record``'s run trained and its validation figures: FIGURES' values."""
    rows = record.rows
    last = rows[-1]
    validated = [r for r in rows if r.get("val_miou") is not None]
    best_epoch, best = best_validation(record)
    return {
        "epochs": int(last["epoch"]),
        "steps": int(last["step"]),
        "train_minutes": sum(r.get("seconds") or 0.0 for r in rows) / 60,
        "wall_minutes": wall_minutes(record),
        "best_epoch": best_epoch,
        "best_val_miou": best,
        "last_val_miou": validated[-1]["val_miou"] if validated else None,
        "last_val_mdice": validated[-1].get("val_mdice") if validated else None,
    }


def wall_minutes(record: RunRecord) -> float | None:
    """The wall-clock minutes of the command that trained ``record``'s run, start to end
    (summary.json's ``command_seconds``: startup, data, validation and saving besides the
    epochs' ``train_minutes``); None where it does not say or the run was resumed (its
    commands before the last are not recorded)."""
    seconds = (record.summary or {}).get("command_seconds")
    return None if seconds is None or record.resumed else seconds / 60


def best_validation(record: RunRecord) -> tuple[int | None, float | None]:
    """best.pt's epoch and val mIoU: as summary.json says where the run wrote it last, else
    as training chose it from metrics.csv (the first epoch of the highest smoothed val mIoU,
    ``val_miou_smoothed``); (None, None) without validation."""
    summary = record.summary or {}
    if summary.get("best_val_miou") is not None and summary.get("best_epoch") is not None:
        return int(summary["best_epoch"]), summary["best_val_miou"]
    validated = [r for r in record.rows if r.get("val_miou") is not None]
    if not validated:
        return None, None
    smoothed = all(r.get("val_miou_smoothed") is not None for r in validated)
    chose = "val_miou_smoothed" if smoothed else "val_miou"
    best = max(validated, key=lambda r: r[chose])  # the first of equals, as training keeps it
    return int(best["epoch"]), best["val_miou"]


def class_ious(record: RunRecord) -> dict[str, float | None]:
    """``{class name: val IoU}`` at best.pt's epoch (:func:`best_validation`), from
    metrics.csv's ``val_iou_<name>`` columns and None for the ignored class, which has none
    (:attr:`RunRecord.ignored_class`); {} without them or a validation."""
    best_epoch, _ = best_validation(record)
    row = next((r for r in record.rows if r.get("epoch") == best_epoch), None)
    if best_epoch is None or row is None:
        return {}
    ious = {k.removeprefix(CLASS_IOU): v for k, v in row.items() if k.startswith(CLASS_IOU)}
    ignored = record.ignored_class
    if ignored is None or ignored in ious:  # an older run's metrics.csv has its column
        return ious
    names = record.classes or [*ious, ignored]  # the ignored class: in no column
    return {n: ious.get(n) for n in names if n in ious or n == ignored}


def _class_cells(row: dict, record: RunRecord, names: Sequence[str]) -> dict:
    """A run's cells of :meth:`Comparison.class_lines`: each class's val IoU at best.pt's
    epoch, :data:`IGNORED` for the class of the value training ignored (it said '2 ignored',
    not 'not in val': review s68), :data:`NOT_IN_VAL` for one its validation lacks."""
    absent, ignored = classes_not_in_val(record), record.ignored_class
    return {
        n: IGNORED if n == ignored else NOT_IN_VAL if n in absent else row.get(BEST_CLASS_IOU + n)
        for n in names
    }


def classes_not_in_val(record: RunRecord) -> set[str]:
    """The classes with no labelled pixel in the run's validation images, as summary.json's
    ``val_pixels`` (one count per class of its ``classes``) says; none where it does not say
    (runs trained before it was recorded, killed runs)."""
    summary = record.summary or {}
    classes, pixels = summary.get("classes") or [], summary.get("val_pixels")
    if not isinstance(pixels, list) or len(pixels) != len(classes):
        return set()
    return {name for name, count in zip(classes, pixels) if count == 0}


def evaluation_columns(records: Sequence[RunRecord]) -> list[str]:
    """``<report> mIoU`` and ``<report> checkpoint`` (which one it scored,
    :func:`unetlab.compare.records.scored_checkpoint`) for each evaluation report the runs
    hold (by its path in the run folder), and ``<report> trained`` after them where one of
    those reports scored images its run trained on (its figures are then inflated)."""
    columns = []
    for key in dict.fromkeys(k for r in records for k in r.evaluations):
        columns += [f"{key} mIoU", f"{key} checkpoint"]
        if any(r.evaluations.get(key, {}).get("trained_images") for r in records):
            columns.append(f"{key} trained")
    return columns


def evaluation_cells(record: RunRecord, columns: Sequence[str]) -> dict:
    """``record``'s cells of the evaluation ``columns``: the report's mIoU, the checkpoint it
    scored, and how many of the images it scored the run trained on (``2 of 3``)."""
    cells = {}
    for column in columns:
        key, _, what = column.rpartition(" ")
        report = record.evaluations.get(key, {})
        if what == "mIoU":
            cells[column] = report.get("miou")
        elif what == "checkpoint":
            cells[column] = scored_checkpoint(record.path, report) if report else None
        elif report.get("trained_images") is not None:
            cells[column] = f"{report['trained_images']} of {report.get('num_images', '?')}"
        else:
            cells[column] = None
    return cells


def status(record: RunRecord) -> str:
    """``done``, ``running``, or ``stopped``/``killed`` with ``, resumable`` where
    checkpoints/last.pt is there to resume from; ``, resumed Nx`` after it where N commands
    resumed the run (an interrupted run's weights, audit s34 repro 8)."""
    said = record.status
    if record.status in (STOPPED, KILLED) and record.resumable:
        said += ", resumable"
    return f"{said}, resumed {record.resumed}x" if record.resumed else said


#: the lowest ratio of the least to the most CPU share of --minutes runs that says nothing
LIKE_LOADS = 0.8


def load_note(rows: Sequence[dict], records: Sequence[RunRecord]) -> str | None:
    """Where two runs or more trained on a time budget and recorded the share of their CPU
    they got (summary.json ``cpu_share``), the least under ``LIKE_LOADS`` of the most: one
    line naming each run's share and steps, and that such runs compare badly (audit s45
    newuser: two 6-minute Kromp runs on a shared 2-core machine got 25% and 17%, 195 and 78
    steps, and the table showed 5.8 and 5.6 minutes side by side); else None, also where
    they all trained as many steps (their planned epoch cap ended them, not the clock)."""
    shares = [
        (row["run"], share, row.get("steps"))
        for row, rec in zip(rows, records)
        if (rec.config.get("train.max_minutes") or 0) > 0
        and isinstance(share := (rec.summary or {}).get("cpu_share"), (int, float))
        and share > 0
    ]
    if len(shares) < 2 or min(s for _, s, _ in shares) >= LIKE_LOADS * max(s for _, s, _ in shares):
        return None
    if len({steps for _, _, steps in shares}) == 1:  # ended by their epochs, not the clock
        return None
    said = ", ".join(f"{run} {share:.0%} ({steps} steps)" for run, share, steps in shares)
    return (
        f"CPU share of the time-budget runs: {said}: the other work on the machine, not only "
        "the settings, set how many steps each bought; to compare settings, train them "
        "with --epochs N instead of --minutes"
    )


def _note(row: dict, record: RunRecord) -> str | None:
    if record.status not in (STOPPED, KILLED):
        return None
    how = (
        f"go on with: {unetlab_command('train', '--run-dir', record.path, '--resume')}"
        if record.resumable
        else "no checkpoints/last.pt to resume from"
    )
    return f"{row['run']}: {record.status} at epoch {row['epochs']}; {how}"


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def _descending(value) -> tuple:
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    return (missing, 0.0 if missing else -value)


def _aligned(columns: list[str], rows: list[dict], scores: bool = False) -> list[str]:
    """``rows`` under ``columns``, numbers right-aligned; ``scores``: every float a score."""
    cells = [[_text(c, row.get(c), scores) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [all(_numeric(row.get(c)) for row in rows) for c in columns]
    lines = [[c.ljust(w) if not n else c.rjust(w) for c, w, n in zip(columns, widths, numeric)]]
    lines += [
        [v.rjust(w) if n else v.ljust(w) for v, w, n in zip(r, widths, numeric)] for r in cells
    ]
    return ["  ".join(line).rstrip() for line in lines]


def _numeric(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _text(column: str, value, score: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()  # as config.yaml writes it
    if isinstance(value, float):
        if column.endswith("minutes"):
            return f"{value:.1f}"
        return f"{value:.{SCORE_DIGITS}f}" if score or _is_score(column) else f"{value:g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _is_score(column: str) -> bool:
    return column.endswith(("miou", "mdice", "mIoU"))


def _csv_cell(value):
    if value is None:
        return ""
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value


def _short(value) -> str:
    """A figure of the one-line repr: 4 decimals, "-" for none."""
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else str(value)
