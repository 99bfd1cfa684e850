"""The coded concepts of a DICOM SEG's segments (``predict --seg-codes FILE``): for each
class, the SegmentedPropertyCategory and SegmentedPropertyType a PACS, OHIF or 3D Slicer
reads (SNOMED CT, e.g. category SCT 123037004 "Anatomical Structure", type SCT 10200004
"Liver"), from a CSV or YAML file, each bad row or unknown class said in one line naming
the fix. A class the file leaves out keeps the generic code
(:data:`~unetlab.data.dicom_seg.GENERIC`).

CSV: the header ``class,category_scheme,category_code,category_meaning,type_scheme,
type_code,type_meaning``, then a row a class. YAML: a mapping of each class to its
``category`` and ``type``, each ``[scheme, code, meaning]``, every value read as the text
written (``010200004`` no octal number, a class ``on`` no True).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from unetlab.errors import UnetlabError

#: the CSV's header: the class, then its category's and type's scheme, code and meaning
HEADER = (
    "class",
    *("category_scheme", "category_code", "category_meaning"),
    *("type_scheme", "type_code", "type_meaning"),
)
#: the longest scheme designator (DICOM's SH) and code meaning (LO) a SEG holds
LONGEST = {"scheme": 16, "meaning": 64}
#: the form of a YAML file's class, said in its lines
YAML_FORM = "{category: [SCT, '123037004', Anatomical Structure], type: [SCT, '10200004', Liver]}"


class Code(NamedTuple):
    """A coded concept: its coding ``scheme`` (SCT: SNOMED CT), ``code`` and ``meaning``."""

    scheme: str
    code: str
    meaning: str


class SegCode(NamedTuple):
    """A segment's SegmentedPropertyCategory and SegmentedPropertyType."""

    category: Code
    type: Code


@dataclass(frozen=True)
class SegCodes:
    """The codes a file gives the classes it names (``codes``: (class, SegCode) pairs in
    the file's order), and the file (``source``, for the lines)."""

    source: str
    codes: tuple[tuple[str, SegCode], ...]

    def of(self, name: str) -> SegCode | None:
        """The codes of the class ``name``; None where the file leaves it out."""
        return dict(self.codes).get(name)

    def record(self) -> dict[str, list[list[str]]]:
        """The codes as a prediction record keeps them: class -> [category, type]."""
        return {name: [list(c.category), list(c.type)] for name, c in self.codes}


def read_seg_codes(path: str | os.PathLike) -> SegCodes:
    """The codes of the CSV or YAML file ``path``; UnetlabError, one line naming the file
    (and the row) and the fix, where it cannot be read or a row is bad."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise UnetlabError(
            f"{path}: SEG codes are read from a .csv or a .yaml file, not {suffix!r}"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnetlabError(f"{path}: cannot read the SEG codes ({exc.__class__.__name__})") from exc
    rows = _csv_rows(path, text) if suffix == ".csv" else _yaml_rows(path, text)
    return SegCodes(str(path), _unique(path, rows))


def _csv_rows(path: Path, text: str) -> list[tuple[str, str, SegCode]]:
    """(where, class, codes) of each row of the CSV ``text``."""
    lines = list(csv.reader(text.splitlines()))
    if not lines or tuple(cell.strip() for cell in lines[0]) != HEADER:
        raise UnetlabError(f"{path}: its first line must be the header {','.join(HEADER)}")
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        where = f"{path}, line {number}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(HEADER):
            raise UnetlabError(
                f"{where}: {len(cells)} fields, not {len(HEADER)}: {','.join(HEADER)}"
            )
        cells = [_field(where, key, cell) for key, cell in zip(HEADER, cells, strict=True)]
        rows.append((where, cells[0], SegCode(Code(*cells[1:4]), Code(*cells[4:]))))
    return rows


def _yaml_rows(path: Path, text: str) -> list[tuple[str, str, SegCode]]:
    """(where, class, codes) of each class of the YAML ``text``."""
    import yaml

    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)  # text as written: 010200004 no octal
    except yaml.YAMLError as exc:
        raise UnetlabError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise UnetlabError(f"{path}: a mapping of each class to {YAML_FORM}")
    return [
        (f"{path}, class {name!r}", str(name), _yaml_code(path, name, v))
        for name, v in data.items()
    ]


def _yaml_code(path: Path, name, value) -> SegCode:
    """The codes of the class ``name`` of a YAML file, ``value`` its mapping."""
    where = f"{path}, class {name!r}"
    if not isinstance(value, dict) or set(value) != {"category", "type"}:
        raise UnetlabError(f"{where}: give its category and type alone, as {YAML_FORM}")
    return SegCode(*(_yaml_triple(where, key, value[key]) for key in ("category", "type")))


def _yaml_triple(where: str, key: str, value) -> Code:
    """The code ``value`` (its ``key``: category or type) of a YAML class."""
    if not isinstance(value, list) or len(value) != 3:
        raise UnetlabError(f"{where}: its {key} must be [scheme, code, meaning], not {value!r}")
    if not all(isinstance(v, str) for v in value):  # all text as read (a list nested)
        raise UnetlabError(
            f"{where}: its {key}'s scheme, code and meaning are words, not {value!r}"
        )
    parts = ("scheme", "code", "meaning")
    return Code(*(_field(where, f"{key}_{p}", v) for p, v in zip(parts, value, strict=True)))


def _field(where: str, key: str, cell: str) -> str:
    """``cell`` stripped; UnetlabError where it is empty, too long for its ``key`` or, but
    the class's name, not plain text a SEG holds (:func:`_unwritable`)."""
    cell = cell.strip()
    if not cell:
        raise UnetlabError(f"{where}: {key} is empty: give each class's every field")
    most = LONGEST.get(key.rsplit("_", 1)[-1])
    if most is not None and len(cell) > most:
        raise UnetlabError(f"{where}: {key} {cell!r} is over {most} characters, a SEG's most")
    if key != "class" and (bad := _unwritable(cell)):
        raise UnetlabError(
            f"{where}: {key} {cell!r} holds {bad}: a SEG's codes are ASCII text without "
            "backslashes or control characters (write ae for ä, / for \\)"
        )
    return cell


def _unwritable(text: str) -> str | None:
    """What in ``text`` a code of a SEG cannot hold, in words, or None: a backslash (DICOM's
    value separator: pydicom reads two values back), a control character, or a character
    beyond ASCII (DICOM's default repertoire; s75 review: "ä" was written as Latin-1)."""
    for char in text:
        if char == "\\":
            return "a backslash"
        if not char.isprintable():
            return "a control character"
        if not char.isascii():
            return repr(char)
    return None


def _unique(path: Path, rows: Sequence[tuple[str, str, SegCode]]) -> tuple:
    """The (class, codes) of ``rows``; UnetlabError where a class is given twice or none is."""
    seen: dict[str, str] = {}
    for where, name, _ in rows:
        if name in seen:
            raise UnetlabError(f"{where}: {name!r} again ({seen[name]}): one row a class")
        seen[name] = where.removeprefix(f"{path}, ")
    if not seen:
        raise UnetlabError(f"{path}: no class's codes: give a row a class")
    return tuple((name, code) for _, name, code in rows)


def refuse_unknown(codes: SegCodes, classes: Sequence[str]) -> None:
    """UnetlabError, one line, where ``codes`` name a class none of ``classes`` (the
    model's, but its background: the SEG's segments) is."""
    if unknown := [name for name, _ in codes.codes if name not in classes]:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise UnetlabError(
            f"{codes.source}: {unknown[0]!r}{more} is none of the model's segments "
            f"({', '.join(classes)}): name them as the checkpoint does, or drop the row"
        )
