"""Predict's outputs of each HCS plate among its inputs, beside each field's own: with
``--instances`` the per-well table and picture (:mod:`unetlab.inference.plate_wells`); with
``--output-format ome-zarr`` an output plate ``<plate>.ome.zarr`` of the input's
row/column/field layout with NGFF 0.4 ``plate`` and ``well`` metadata, as napari
(napari-ome-zarr) and Fiji open a plate.

Each field of the output plate is that field's labels as predict writes them
(``<stem>.ome.zarr``: class indices, a multiscales image) with its objects' ids
(``<stem>_objects.ome.zarr``, with ``--instances``) as its NGFF label ``labels/objects``.
Their files are hard links to the field's own outputs (no second copy on disk; copied
where the file system cannot link), which stay: they are what ``--skip-existing`` and a
stopped run resume from. The plate is staged under a hidden name and renamed into place once
whole, at the end of each run, from the fields whose labels predict made in the folder
(:func:`~unetlab.inference.plate_wells.fields_made`: this run's predicted or skipped, earlier
runs'); a field that failed now is left out, a well without any too, a plate without any
not written.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from unetlab.atomic import link_or_copy, remove_tree
from unetlab.data.folder_notes import is_zarr
from unetlab.data.ome import replace_folder, staging_path
from unetlab.data.plates import FieldPlace, plate_grid
from unetlab.data.slides import zarr_within
from unetlab.errors import OutputError
from unetlab.inference.plate_wells import (
    PlateRun,
    fields_made,
    plates_of,
    table_name,
    wells_paths,
    write_wells,
)
from unetlab.inference.slides import output_names, output_stem

__all__ = [
    "claim_wells",
    "plate_zarr_names",
    "plate_zarr_path",
    "refuse_own_plates",
    "write_plates",
]

log = logging.getLogger(__name__)

#: the NGFF version of the output plate's metadata (that of predict's OME-Zarr labels)
NGFF = "0.4"


def plate_zarr_path(out_dir: str | os.PathLike, plate: Path) -> Path:
    """The output plate of ``plate`` in ``out_dir``: ``<plate>.ome.zarr`` (``plate.ome.zarr``
    and ``plate.zarr`` alike: ``plate.ome.zarr``)."""
    return Path(out_dir) / f"{output_stem(plate)}.ome.zarr"


def _zarr(outputs) -> bool:
    return outputs.output_format == "ome-zarr"


def plate_zarr_names(files: Sequence[Path], outputs) -> list[str]:
    """The names of the output plates of the plates among ``files`` that ``outputs`` ask
    for (``--output-format ome-zarr``): held with the fields' outputs
    (:func:`~unetlab.inference.output_rules.prediction_folder`: folders, which
    :func:`~unetlab.outputs.claim_files` does not take)."""
    if not _zarr(outputs):
        return []
    return [plate_zarr_path(".", plate).name for plate in plates_of(files)]


def refuse_own_plates(out_dir: str | os.PathLike, files: Sequence[Path], outputs) -> None:
    """OutputError (one line, before any work) where ``out_dir`` lies in a Zarr store
    (``*.zarr``) that holds one of ``files`` (a plate's fields, a level: outputs written into
    the input), or where an output plate of the plates among ``files`` would be its input
    plate. Real paths compared (an output reached through a link into a store is in it);
    nothing read, but the plates' where ome-zarr is asked for."""
    out = Path(os.path.realpath(out_dir))
    for store in _input_stores(files).intersection([out, *out.parents]):
        raise OutputError(
            f"{out}: an output folder inside the input {store}: give another --output, "
            "outside it (an input is never written into)"
        )
    if _zarr(outputs):
        for plate in plates_of(files):
            _refuse_own_plate(plate_zarr_path(out_dir, plate), plate)
    _refuse_plate_clashes(out_dir, files, outputs)


def plate_names(plate: Path, outputs) -> list[str]:
    """The names of the plate-wide outputs of ``plate`` that ``outputs`` ask for: its
    per-well table and picture (objects), its output plate (``--output-format ome-zarr``)."""
    names = [p.name for p in wells_paths(".", plate)] if outputs.objects is not None else []
    return names + ([plate_zarr_path(".", plate).name] if _zarr(outputs) else [])


def _refuse_plate_clashes(out_dir, files: Sequence[Path], outputs) -> None:
    """OutputError (before any work) where a plate-wide output of a plate among ``files``
    has the name of another input's output (``plate.tif``'s labels ``plate.ome.zarr``) or of
    another plate's (two folders' ``plate.ome.zarr``): one would replace the other's."""
    from unetlab.inference.output_rules import input_roles

    taken = {n.lower(): f for f in files for n in input_roles(f, **outputs.wanted)}
    for plate in plates_of(files):
        for name in plate_names(plate, outputs):
            if (other := taken.setdefault(name.lower(), plate)) != plate:
                raise OutputError(
                    f"{Path(out_dir) / name}: both {plate} and {other} would write it: "
                    "give each its own --output, or rename one"
                )


def _input_stores(files: Sequence[Path]) -> set[Path]:
    """The real paths of the Zarr stores that hold ``files`` or are among them (a plate, an
    image given whole: named ``.zarr`` or not)."""
    stores = set()
    for f in files:
        within = zarr_within(f)
        if within is not None or is_zarr(f):
            stores.add(Path(os.path.realpath(within[0] if within else f)))
    return stores


def claim_wells(out_dir: str | os.PathLike, files: Sequence[Path], outputs) -> None:
    """With objects, the per-well table and picture of the plates among ``files`` checked
    and listed in the folder's manifest before any work, as the per-image table's
    (:func:`~unetlab.inference.objects_summary.claim_summary`); with ome-zarr, their output
    plates checked: one there that unetlab did not write refused, with ``--overwrite`` too."""
    from unetlab.inference.output_rules import GIVE_ANOTHER
    from unetlab.outputs import claim_files, refuse_unlisted

    if _zarr(outputs):  # held with the fields' outputs (a folder): one unetlab did not
        plates = [plate_zarr_path(out_dir, plate) for plate in plates_of(files)]
        refuse_unlisted(plates, "predict")  # write is never replaced (--overwrite or not)
    if outputs.objects is None:
        return
    paths = [p for plate in plates_of(files) for p in wells_paths(out_dir, plate)]
    if paths:
        refuse_unlisted(paths, "predict")
        claim_files(paths, overwrite=outputs.overwrite, command="predict", elsewhere=GIVE_ANOTHER)


def _refuse_own_plate(path: Path, plate: Path) -> None:
    """OutputError where the output plate ``path`` is the input ``plate``."""
    if Path(os.path.abspath(path)) == Path(os.path.abspath(plate)):
        raise OutputError(
            f"{path}: the output plate would be written over the input plate {plate}: "
            "give another --output (an input is never written into)"
        )


def write_plates(
    out_dir: str | os.PathLike, files: Sequence[Path], outputs, run: Callable[[], PlateRun]
) -> list[Path]:
    """The plate-wide outputs (the module's docstring) of each plate among ``files``, from
    the outputs in ``out_dir`` that predict made of its fields (:func:`fields_made`: this
    ``run``'s done, a function that gives it, and earlier runs'); none where no field has them. One not asked for now
    whose fields' outputs are all gone is removed (unetlab's own only); their paths."""
    written, plates = [], plates_of(files)
    done = run() if plates else None  # resolved paths: read only for a plate's fields
    for plate in plates:
        for asked, name_of, paths, write in _plate_kinds(out_dir, plate, outputs):
            fields = fields_made(out_dir, plate, done, name_of, asked=asked)
            if asked and fields:
                written += _written(write, out_dir, plate, fields, paths)
            elif not asked and not fields:
                _drop_own(Path(out_dir), paths)
    return written


def _written(write, out_dir, plate: Path, fields: list, paths: list[Path]) -> list[Path]:
    """``write(out_dir, plate, fields)``'s paths; [] where the file system refused it (a
    file in use on Windows), said in one line: the fields' outputs stand, the run ends."""
    try:
        return write(out_dir, plate, fields)
    except OSError as exc:
        log.warning(
            "%s: not written (%s: %s): the fields' outputs are there; close what holds it "
            "and run again with --skip-existing",
            *(paths[0], type(exc).__name__, exc),
        )
        return []


def _plate_kinds(out_dir, plate: Path, outputs) -> list[tuple]:
    """Each plate-wide output of ``plate``: whether ``outputs`` ask for it, the name of the
    field's output it is made of, its paths in ``out_dir``, what writes it."""
    labels = lambda path: output_names(output_stem(path), "ome-zarr")["labels"]  # noqa: E731
    zarr = [plate_zarr_path(out_dir, plate)]
    return [
        (outputs.objects is not None, table_name, wells_paths(out_dir, plate), write_wells),
        (_zarr(outputs), labels, zarr, lambda *a: [write_plate_zarr(*a)]),
    ]


def _drop_own(out_dir: Path, paths: Sequence[Path]) -> None:
    """Those of ``paths`` that predict wrote removed, with their manifest lines: the
    outputs of fields that are gone (said in one line)."""
    from unetlab.manifest import forget, made_from

    ours = [p for p in paths if p.name in made_from(out_dir, "predict") and p.exists()]
    for path in ours:
        log.info("removed %s: the fields' outputs it was made of are gone", path)
        remove_tree(path) if path.is_dir() else path.unlink()
    forget(out_dir, [p.name for p in ours], "predict")


def write_plate_zarr(
    out_dir: str | os.PathLike, plate: Path, fields: list[tuple[Path, FieldPlace]]
) -> Path:
    """``<plate>.ome.zarr`` in ``out_dir`` of the ``fields`` (paths and places, in their
    order) whose labels are there; staged, then renamed into place whole."""
    import zarr

    final = plate_zarr_path(out_dir, plate)
    stage = staging_path(final)
    if stage.exists():
        remove_tree(stage)  # a stopped run's
    root = zarr.open_group(stage, mode="w", zarr_format=2)
    wells: dict[str, list[FieldPlace]] = {}
    copied = 0
    for path, place in fields:
        if (put := _put_field(Path(out_dir), root, path, place)) is not None:
            wells.setdefault(f"{place.row}/{place.column}", []).append(place)
            copied += put
    for well, found in wells.items():
        images = [{"path": p.field} for p in found]
        root[well].attrs["well"] = {"images": images, "version": NGFF}
    root.attrs["plate"] = _plate_metadata(plate, [p for _, p in fields], wells)
    replace_folder(stage, final)
    if copied:
        log.warning(
            "%s: %d files copied, not linked (this file system has no hard links): the plate "
            "takes as much disk again as its fields' outputs",
            *(final, copied),
        )
    return final


def _put_field(out_dir: Path, root, path: Path, place: FieldPlace) -> int | None:
    """The outputs of the field ``path`` (at ``place``) linked into the staged plate
    ``root`` (its labels as the field's image, its objects' ids as its label ``objects``);
    the number of files copied, not linked; None where the field has no labels in
    ``out_dir``."""
    names = output_names(output_stem(path), "ome-zarr")
    labels, objects = out_dir / names["labels"], out_dir / names["objects"]
    if not labels.is_dir():
        return None
    well = root.require_group(f"{place.row}/{place.column}")
    field = Path(root.store.root) / well.path / place.field
    copied = _link_tree(labels, field)
    if objects.is_dir():
        copied += _link_tree(objects, field / "labels" / "objects")
        well.require_group(f"{place.field}/labels").attrs["labels"] = ["objects"]
    return copied


def _link_tree(source: Path, target: Path) -> int:
    """``source``'s folders made again under ``target``, each file hard-linked
    (:func:`~unetlab.atomic.link_or_copy`); the number of files copied, not linked."""
    copied = []
    put = lambda s, t: copied.append(link_or_copy(s, t))  # noqa: E731
    shutil.copytree(source, target, copy_function=put, dirs_exist_ok=True)
    return sum(copied)


def _plate_metadata(plate: Path, places: list[FieldPlace], wells: dict) -> dict:
    """NGFF ``plate`` metadata of the output plate: the input's rows and columns (its
    metadata's, else its fields'), the wells of ``wells`` with their indices, the most
    fields a well holds."""
    rows, columns = plate_grid(plate, places)
    listed = []
    for well in wells:
        row, column = well.split("/")
        listed.append({"path": well, "rowIndex": rows.index(row)})
        listed[-1]["columnIndex"] = columns.index(column)
    return {
        "name": output_stem(plate),
        "version": NGFF,
        "rows": [{"name": r} for r in rows],
        "columns": [{"name": c} for c in columns],
        "wells": listed,
        "field_count": max((len(f) for f in wells.values()), default=0),
    }
