"""Predict's per-well summary of each HCS plate among its inputs (``--instances``): one row
per well of ``<plate>_wells.csv`` (well, row, column, fields, objects, objects per field, the
mean and median object area in px², and in µm² where the pixel size is known) and the plate
at a glance, ``<plate>_wells.png`` (a rows x columns grid of objects per well, wells absent
blank, a colour bar), both written atomically beside the other outputs.

The figures are read from the fields' objects tables that predict made in the output folder
(:func:`fields_made`), so a field skipped (``--skip-existing``), resumed or predicted by an
earlier run counts as one predicted now; a field that failed now, or without a table, is not
counted, and a well with none is blank.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.io import write_csv
from unetlab.data.plates import FieldPlace, field_place, plate_grid
from unetlab.data.read_notes import note_once
from unetlab.inference.slides import output_stem

__all__ = [
    "PlateRun",
    "fields_made",
    "plates_of",
    "table_name",
    "well_rows",
    "wells_paths",
    "write_wells",
]


def plates_of(files: Sequence[Path]) -> dict[Path, list[tuple[Path, FieldPlace]]]:
    """The plates of the fields among ``files`` -> their fields and places, in input order."""
    plates: dict[Path, list[tuple[Path, FieldPlace]]] = {}
    for path in files:
        if (place := field_place(path)) is not None:
            plates.setdefault(place.plate, []).append((path, place))
    return plates


def wells_paths(out_dir: str | os.PathLike, plate: Path) -> tuple[Path, Path]:
    """The per-well table and picture of ``plate`` in ``out_dir``: ``<plate>_wells.csv``
    and ``<plate>_wells.png`` (``plate.ome.zarr``: ``plate_wells.csv``)."""
    stem = Path(out_dir) / f"{output_stem(plate)}_wells"
    return stem.with_suffix(".csv"), stem.with_suffix(".png")


@dataclass(frozen=True)
class PlateRun:
    """This run's inputs by their resolved paths: ``given`` (all, in their order),
    ``written`` (predicted now) and ``done`` (predicted now or skipped: their outputs there
    are this run's; a failed field's earlier ones are not)."""

    given: tuple[str, ...]
    written: frozenset[str]
    done: frozenset[str]

    @classmethod
    def of(cls, files: Sequence[Path], written: Sequence[Path], skipped: Sequence[Path]):
        """The run of ``files`` that wrote the outputs of ``written`` and skipped ``skipped``."""
        written = frozenset(map(_key, written))
        return cls(tuple(map(_key, files)), written, written | set(map(_key, skipped)))


def _key(path: str | os.PathLike) -> str:
    """An input as the folder's manifest names it: its resolved path."""
    return str(Path(path).resolve())


def fields_made(out_dir, plate: Path, run: PlateRun, name_of, *, asked: bool) -> list:
    """The fields of ``plate`` (paths and places) whose output ``name_of(field)`` predict
    made in ``out_dir`` from that field, as its manifest says (never a file it did not
    write): earlier runs' fields first, then this run's; of this run's, where the output is
    ``asked`` now, those done, else those not predicted now (predicting a field again
    without that output removes its earlier one)."""
    from unetlab.manifest import made_from

    made, given = made_from(out_dir, "predict"), set(run.given)
    earlier = [s for s in dict.fromkeys(made.values()) if s and s not in given]
    now = [s for s in run.given if (s in run.done if asked else s not in run.written)]
    fields = []
    for source in dict.fromkeys(earlier + now):
        place = field_place(source)
        mine = place is not None and _key(place.plate) == _key(plate)
        if mine and made.get(name_of(Path(source))) == source:
            fields.append((Path(source), place))
    return fields


def table_name(path: Path) -> str:
    """The name of the objects table of the input ``path`` (``plate_A01_f0_objects.csv``)."""
    return f"{output_stem(path)}_objects.csv"


def write_wells(out_dir: str | os.PathLike, plate: Path, fields: list) -> list[Path]:
    """The per-well table and picture of ``plate`` (the module's docstring), from the
    objects tables in ``out_dir`` of its ``fields`` (paths and places); their paths."""
    rows = well_rows(out_dir, fields)
    table, picture = wells_paths(out_dir, plate)
    write_csv(table, {k: [_cell(r.get(k, "")) for r in rows] for k in _columns(rows)})
    return [table, _draw(picture, plate, rows, [p for _, p in fields])]


def well_rows(out_dir, fields: list[tuple[Path, FieldPlace]]) -> list[dict]:
    """One row per well of ``fields`` in their order: its place, fields with a table,
    objects, objects per field and the areas' mean and median (px², and µm² where the
    tables give ``area_um2``)."""
    wells: dict[str, list] = {}
    for path, place in fields:
        wells.setdefault(place.well, [place]).append(_areas(out_dir, path))
    return [
        _well_row(found[0], [a for a in found[1:] if a is not None]) for found in wells.values()
    ]


def _areas(out_dir, path: Path) -> dict | None:
    """The ``area`` (and ``area_um2``, where each row has one) column of ``path``'s objects
    table in ``out_dir``; None where it has none (the field failed, or was not predicted),
    or, said in one line, where it cannot be read (saved again with semicolons)."""
    table = Path(out_dir) / table_name(path)
    if not table.is_file():
        return None
    with table.open(newline="", encoding="utf-8") as f:
        found = csv.DictReader(f)
        rows, columns = list(found), found.fieldnames or []
    has_um2 = "area_um2" in columns and all(r["area_um2"] for r in rows)
    try:
        return {
            k: np.array([float(r[k]) for r in rows]) for k in ("area", "area_um2")[: 1 + has_um2]
        }
    except (KeyError, ValueError) as exc:
        note_once(
            f"{table}: no number in its 'area' column ({type(exc).__name__}: {exc}; saved "
            "again in another program?): left out of its plate's wells table; add --overwrite "
            "to predict the field again"
        )
        return None


def _well_row(place: FieldPlace, tables: list[dict]) -> dict:
    well, name, column, _ = place.columns
    row = {"well": well, "row": name, "column": column, "fields": len(tables)}
    if not tables:
        return row
    row["objects"] = sum(len(t["area"]) for t in tables)
    row["objects_per_field"] = row["objects"] / len(tables)
    for key in ("area", "area_um2"):
        if all(key in t for t in tables) and row["objects"]:
            areas = np.concatenate([t[key] for t in tables])
            row[f"mean_{key}"], row[f"median_{key}"] = areas.mean(), np.median(areas)
    return row


def _cell(value) -> str:
    """A figure as the table gives it: 10 significant digits (``515`` objects a field, not
    ``515.0``), text as it is."""
    return f"{value:.10g}" if isinstance(value, float | np.floating) else str(value)


def _columns(rows: list[dict]) -> list[str]:
    """The table's columns in one order, those no well has (µm² without a pixel size) left out."""
    order = ["well", "row", "column", "fields", "objects", "objects_per_field"]
    order += ["mean_area", "median_area", "mean_area_um2", "median_area_um2"]
    return [k for k in order if any(k in r for r in rows)]


def _draw(path: Path, plate: Path, rows: list[dict], places: list[FieldPlace]) -> Path:
    """``<plate>_wells.png``: objects per well on the plate's rows x columns grid, its
    title saying the fields a well has; objects per field where wells have different
    counts of fields (a well of 4 fields would show twice the objects of an as full well
    of 2)."""
    from unetlab.plots import plot_plate

    names, columns = plate_grid(plate, places)
    at = {p.well: (names.index(p.row), columns.index(p.column)) for p in places}
    shown = [r for r in rows if "objects" in r]
    key, what = _shown_as(sorted({r["fields"] for r in shown}) or [0])
    values = np.full((len(names), len(columns)), math.nan)
    for row in shown:
        values[at[row["well"]]] = row[key]
    title = f"{plate.name}: {what}"
    return plot_plate(values, names, columns, path, title=title, label=key.replace("_", " "))


def _shown_as(counts: list[int]) -> tuple[str, str]:
    """The column the plate picture shows of wells of ``counts`` fields (sorted), and what
    its title says: objects per well where they hold as many fields, else per field."""
    lo, hi = counts[0], counts[-1]
    if lo == hi:
        return "objects", f"objects per well ({lo} field{'s' * (lo != 1)})"
    return "objects_per_field", f"objects per field (wells of {lo}-{hi} fields)"
