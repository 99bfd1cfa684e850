"""Predict's per-well summary of each HCS plate among its inputs (``--instances``): one row
per well of ``<plate>_wells.csv`` (well, row, column, fields, objects, objects per field, the
mean and median object area in px², and in µm² where the pixel size is known) and the plate
at a glance, ``<plate>_wells.png`` (a rows x columns grid of objects per well, wells absent
blank, a colour bar), both written atomically beside the other outputs.

The figures are read from the fields' objects tables in the output folder, so a field
skipped (``--skip-existing``) or resumed counts as one predicted now; a field without a
table (failed, or not on disk) is not counted, and a well with none is blank.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.data.io import write_csv
from unetlab.data.plates import FieldPlace, field_place, plate_grid
from unetlab.inference.slides import output_stem

__all__ = ["plates_of", "well_rows", "wells_paths", "write_wells"]


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


def write_wells(out_dir: str | os.PathLike, files: Sequence[Path]) -> list[Path]:
    """The per-well table and picture of each plate among ``files`` (the module's
    docstring), from the fields' objects tables in ``out_dir``; their paths."""
    written = []
    for plate, fields in plates_of(files).items():
        rows = well_rows(out_dir, fields)
        table, picture = wells_paths(out_dir, plate)
        write_csv(table, {k: [_cell(r.get(k, "")) for r in rows] for k in _columns(rows)})
        written += [table, _draw(picture, plate, rows, [p for _, p in fields])]
    return written


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
    """The ``area`` (and ``area_um2``) column of ``path``'s objects table in ``out_dir``;
    None where it has none (the field failed, or was not predicted)."""
    table = Path(out_dir) / f"{output_stem(path)}_objects.csv"
    if not table.is_file():
        return None
    with table.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    keys = ("area", "area_um2") if rows and rows[0].get("area_um2") else ("area",)
    return {k: np.array([float(r[k]) for r in rows], np.float64) for k in keys}


def _well_row(place: FieldPlace, tables: list[dict]) -> dict:
    column = int(place.column) if place.column.isdigit() else place.column
    row = {"well": place.well, "row": place.row, "column": column, "fields": len(tables)}
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
    """``<plate>_wells.png``: objects per well on the plate's rows x columns grid."""
    from unetlab.plots import plot_plate

    names, columns = plate_grid(plate, places)
    at = {p.well: (names.index(p.row), columns.index(p.column)) for p in places}
    values = np.full((len(names), len(columns)), math.nan)
    for row in (r for r in rows if "objects" in r):
        values[at[row["well"]]] = row["objects"]
    title = f"{plate.name}: objects per well"
    return plot_plate(values, names, columns, path, title=title, label="objects")
