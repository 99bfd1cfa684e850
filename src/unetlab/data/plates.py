"""OME-Zarr HCS plates (NGFF ``plate`` and ``well`` metadata, as ome-zarr-py,
bioformats2raw and the Yokogawa / Operetta converters write them): a plate
``plate.ome.zarr/<row>/<column>/<field>/`` is many images, each field one OME-Zarr image.

- :func:`plate_fields`: the field folders of a plate (or of one of its wells) in its
  metadata's order, each read as any OME-Zarr image; a well or field listed but not on disk
  said in one line and passed over; damaged metadata one line naming its file.
- :func:`field_place`: where a field folder sits on its plate (well, row, column, field),
  which names its outputs (``plate_A01_f0``) and fills its objects' table columns.

Attributes are read from the metadata files themselves (``.zattrs`` of zarr v2, NGFF 0.4;
``zarr.json``'s ``attributes``, under ``ome``, of zarr v3, NGFF 0.5), so a damaged one is
named by its file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

from unetlab.data.folder_notes import is_zarr
from unetlab.data.read_notes import note_once
from unetlab.data.tiff_files import HEADERS, path_key
from unetlab.errors import ImageReadError
from unetlab.read_once import file_stamp

__all__ = [
    "FieldPlace",
    "field_place",
    "plate_fields",
    "plate_grid",
    "refuse_damaged_plate",
    "well_name",
]


@dataclass(frozen=True)
class FieldPlace:
    """A field's place on its plate: the plate folder, its ``row`` and ``column`` names as
    its folders spell them (``B``, ``3``), its ``field`` folder's name (``0``), and the
    digits of the plate's highest field number (``width``: its outputs' zero-padding)."""

    plate: Path
    row: str
    column: str
    field: str
    width: int = 1

    @property
    def well(self) -> str:
        """The well as a plate reader names it: its row, then its column in two digits
        (``A01`` ... ``P24``), so that a file browser sorts the wells in plate order."""
        return well_name(self.row, self.column)

    @property
    def columns(self) -> tuple:
        """Its objects tables' plate columns: well, row, column and field, the column and
        field as numbers where their folders' names are (``A01, A, 1, 0``; NGFF allows
        letters: ``a`` stays ``a``)."""
        return self.well, self.row, _number(self.column), _number(self.field)

    @property
    def suffix(self) -> str:
        """What its outputs' names add to the plate's: ``_A01_f0`` (the field in as many
        digits as the plate's highest field number needs: ``f00`` ... ``f15`` of 16)."""
        return f"_{self.well}_f{self.field.zfill(self.width)}"


def _number(name: str) -> int | str:
    """``name`` as a number where it is digits (``03``: 3), else as it is."""
    return int(name) if name.isdigit() else name


def well_name(row: str, column: str) -> str:
    """``A01`` for row ``A``, column ``1`` (a column not a number is kept as it is)."""
    return row + (column.zfill(2) if column.isdigit() else column)


def _attrs_file(folder: Path) -> Path:
    """The file that holds the attributes of the Zarr group ``folder`` (v2, else v3)."""
    return folder / ".zattrs" if (folder / ".zgroup").exists() else folder / "zarr.json"


def _attrs(folder: Path) -> tuple[dict, Path]:
    """The OME attributes of the Zarr group ``folder`` (those under ``ome`` where NGFF 0.5
    puts them) and their file; ImageReadError naming a file that is no JSON object."""
    file = _attrs_file(folder)
    try:
        with open(file, "rb") as f:
            read = json.load(f)
    except FileNotFoundError:
        return {}, file
    except (OSError, ValueError) as exc:
        raise ImageReadError(f"{file}: cannot read its metadata ({exc}): copy it again") from exc
    if not isinstance(read, dict):
        raise ImageReadError(f"{file}: its metadata is not a JSON object: copy it again")
    attrs = read.get("attributes", {}) if file.name == "zarr.json" else read
    attrs = attrs if isinstance(attrs, dict) else {}
    ome = attrs.get("ome")
    return (ome if isinstance(ome, dict) else attrs), file


def _entries(found, key: str, file: Path, what: str) -> list[str]:
    """The ``path`` of each entry of the list ``found[key]`` (a plate's ``wells``, a well's
    ``images``); ImageReadError naming ``file`` and the entry where one is damaged."""
    listed = found.get(key) if isinstance(found, dict) else None
    if not isinstance(listed, list) or not listed:
        raise ImageReadError(f"{file}: its '{what}' metadata lists no '{key}': {_FIX}")
    paths = [e.get("path") if isinstance(e, dict) else None for e in listed]
    for i, path in enumerate(paths):
        parts = Path(path).parts if isinstance(path, str) else ()
        if len(parts) != (2 if key == "wells" else 1) or ".." in parts or Path(path).is_absolute():
            shape = "'row/column'" if key == "wells" else "a field folder's name"
            raise ImageReadError(
                f"{file}: its '{what}' entry {i} of '{key}' ({listed[i]!r}) has no path of "
                f"{shape}: {_FIX}"
            )
    return paths


#: the fix of damaged plate metadata
_FIX = "correct it as NGFF's plate metadata says, or give each field's folder as --input"


def plate_fields(path: str | os.PathLike) -> list[Path] | None:
    """The field folders of the plate (``plate`` metadata) or well (``well`` metadata) at
    ``path`` in its metadata's order, the wells' then each well's fields; a well or field
    listed but not on disk (or whose metadata is damaged) said in one line and passed over;
    None where ``path`` is neither. ImageReadError naming the file of damaged plate
    metadata, or where no field is left."""
    path = Path(path)
    attrs, file = _attrs(path)
    if "plate" in attrs:
        wells = _entries(attrs["plate"], "wells", file, "plate")
        fields = [f for w in wells for f in _well_fields(path, w)]
    elif "well" in attrs:
        fields = _fields(path, attrs, file)
    else:
        return None
    if not fields:
        raise ImageReadError(
            f"{path}: an HCS plate whose metadata lists no field on disk: copy the plate "
            "again whole, or give one image's folder inside it"
        )
    return fields


def refuse_damaged_plate(path: str | os.PathLike) -> None:
    """ImageReadError (:func:`plate_fields`' line) where the Zarr group ``path`` is an HCS
    plate or well whose metadata is damaged or lists no field on disk: why it cannot be
    read, as an input of its own."""
    plate_fields(path)


def _well_fields(plate: Path, well: str) -> list[Path]:
    """The fields of the well ``well`` (``A/1``) of ``plate``; [] (said) where it is not
    on disk or its metadata is damaged."""
    folder = plate / well
    if not is_zarr(folder):
        note_once(f"{plate}: well {well} is listed in its metadata but not on disk: passed over")
        return []
    try:
        return _fields(folder, *_attrs(folder))
    except ImageReadError as exc:
        note_once(f"{exc}; well {well} passed over")
        return []


def _fields(well: Path, attrs: dict, file: Path) -> list[Path]:
    """The fields of the well folder ``well`` its ``well`` metadata (``attrs``, of
    ``file``) lists, those not on disk said in one line and passed over."""
    fields = [well / f for f in _entries(attrs.get("well"), "images", file, "well")]
    for missing in (f for f in fields if not is_zarr(f)):
        note_once(
            f"{well}: field {missing.name} is listed in its metadata but not on disk: passed over"
        )
    return [f for f in fields if is_zarr(f)]


def field_place(path: str | os.PathLike) -> FieldPlace | None:
    """Where the Zarr folder ``path`` sits on a plate (``plate.ome.zarr/B/3/0``: row ``B``,
    column ``3``, field ``0``); None where it is no field of a plate (the folder two above
    its well records no ``plate`` metadata). Read once a command."""
    return HEADERS.once(("plate field", path_key(path)), lambda: _place(Path(path)))


def _place(path: Path) -> FieldPlace | None:
    path = Path(os.path.abspath(path))
    plate = path.parents[2] if len(path.parts) > 3 else None
    if plate is None or not is_zarr(path) or not is_zarr(plate):
        return None
    try:
        attrs, _ = _attrs(plate)
    except ImageReadError:
        return None
    found = attrs.get("plate")
    if not isinstance(found, dict):
        return None
    return FieldPlace(plate, *path.parts[-3:], width=_field_width(plate, found))


def _field_width(plate: Path, found: dict) -> int:
    """The digits of the fields' numbers on ``plate`` (``plate`` metadata ``found``): those
    of its ``field_count`` less one, else (ome-zarr-py leaves it out) of the most fields a
    well lists, read once a command."""
    count = found.get("field_count")
    if not isinstance(count, int):
        count = _most_fields(plate, file_stamp(_attrs_file(plate)))
    return len(str(count - 1)) if count > 1 else 1


@functools.lru_cache(maxsize=16)
def _most_fields(plate: Path, stamp: tuple | None) -> int:
    """The most fields a well of ``plate`` lists in its metadata; 1 where none can be read
    (a damaged well is said where its fields are read). Kept while the plate's metadata
    file keeps its ``stamp``: a field's name is asked for about 21 times a run, each ask
    reading every well's metadata (252 asks for a plate of 3 wells of 4 fields; a 384-well
    plate's 3,456 fields would read 384 files each time)."""
    counts = [1]
    for path in _well_paths(plate):
        with contextlib.suppress(ImageReadError):
            listed = _attrs(plate / path)[0].get("well")
            images = listed.get("images") if isinstance(listed, dict) else None
            counts.append(len(images) if isinstance(images, list) else 1)
    return max(counts)


def _well_paths(plate: Path) -> list[str]:
    """The ``path`` of each well the ``plate`` metadata of ``plate`` lists, as it is; []
    where it cannot be read."""
    try:
        found = _attrs(plate)[0].get("plate")
    except ImageReadError:  # read before, changed since: said where its fields are read
        return []
    wells = found.get("wells") if isinstance(found, dict) else None
    paths = [w.get("path") for w in wells if isinstance(w, dict)] if isinstance(wells, list) else []
    return [p for p in paths if isinstance(p, str)]


def plate_grid(plate: str | os.PathLike, wells: list[FieldPlace]) -> tuple[list, list]:
    """The row and column names of ``plate`` (its metadata's ``rows`` and ``columns``: a
    96-well plate's A-H and 1-12, its empty wells too), else those of ``wells`` (its
    fields') in their order."""
    found = _attrs(Path(plate))[0].get("plate")
    found = found if isinstance(found, dict) else {}
    grid = []
    for key, own in (("rows", [w.row for w in wells]), ("columns", [w.column for w in wells])):
        listed = found.get(key)
        names = (
            [e.get("name") for e in listed if isinstance(e, dict)]
            if isinstance(listed, list)
            else []
        )
        names = [str(n) for n in names if n is not None]
        grid.append(names if set(own) <= set(names) else list(dict.fromkeys(own)))
    return grid[0], grid[1]
