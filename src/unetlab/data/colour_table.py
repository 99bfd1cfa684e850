"""Colour masks (Cityscapes' ``*_color.png``, CamVid's labels): RGB images whose colours are
the classes, read as class values through a colour table beside the data.

- ``class_colors.txt``: line i gives the colour of class value i as ``R G B`` (0-255,
  spaces or commas), optionally followed by the class's name; ``#`` lines are comments,
  and a first line of the column names (``R G B name``) is passed over.
- ``class_dict.csv`` (CamVid's): a header, then ``name,r,g,b`` per class, class i on row i.
- ``labelmap.txt`` (CVAT's "Segmentation mask" export): ``name:r,g,b:parts:actions`` per
  class, class i on line i (``#`` lines are comments).

A colour named ``void`` (or ``ignore``, ``unlabeled``, ``unlabelled``) is no class: its
pixels read as :data:`VOID` (255, VOC's void value, ignored in training and scoring like
a palette mask's) and take no class value; the other rows are classes 0, 1, 2, ... in order.
A colour found in a mask that is not in the table is refused, naming the file, the colour
and a pixel that has it. The table's colours become the checkpoint's palette, in which
predictions are drawn (``--color``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.names import loose
from unetlab.errors import Blank, DatasetError, ImageReadError, said_as, set_to
from unetlab.read_once import ContextKept
from unetlab.words import numbered

COLOURS_FILE = "class_colors.txt"
CAMVID_FILE = "class_dict.csv"
CVAT_FILE = "labelmap.txt"
#: the value of a void colour's pixels: VOC's void value
VOID = 255
VOID_NAMES = ("void", "ignore", "unlabeled", "unlabelled")
#: folders above a mask searched for a table: masks/, train/ (or val/), the data root
LEVELS = 3
FIX = (
    f"list the mask colours in {COLOURS_FILE} beside the data (line i: R G B [name] of "
    "class i; a colour named void is ignored)"
)


@dataclass(frozen=True)
class ColourTable:
    """Mask colours and the value each stands for; ``source``: where they come from."""

    colours: tuple[tuple[int, int, int], ...]
    values: tuple[int, ...]
    names: tuple[str | None, ...]
    source: str

    def palette(self) -> np.ndarray:
        """(256, 3) uint8 colours of the mask values (entry v: the colour of value v)."""
        out = np.zeros((256, 3), dtype=np.uint8)
        out[list(self.values)] = self.colours
        return out

    def class_names(self) -> dict[int, str] | None:
        """``{value: name}`` of the classes (void left out) when every class is named."""
        named = {v: n for v, n in zip(self.values, self.names) if v != VOID}
        return None if not named or None in named.values() else named

    def knows(self, rgb: np.ndarray) -> bool:
        """Whether every colour of ``rgb`` (..., 3) is in the table."""
        return bool(np.isin(np.unique(_keys(rgb[..., :3])), _keys(np.asarray(self.colours))).all())

    def values_of(self, rgb: np.ndarray, path: str | os.PathLike) -> np.ndarray:
        """(..., 3) colours as their uint8 values; ImageReadError naming ``path``, the first
        colour not in the table and a pixel of it."""
        keys = _keys(rgb[..., :3])
        table = _keys(np.asarray(self.colours, dtype=np.uint8))
        order = np.argsort(table)
        at = np.clip(np.searchsorted(table, keys, sorter=order), 0, len(table) - 1)
        index = order[at]
        known = table[index] == keys
        if not known.all():
            raise ImageReadError(self._unknown(rgb, known, path))
        return np.asarray(self.values, dtype=np.uint8)[index]

    def _unknown(self, rgb: np.ndarray, known: np.ndarray, path) -> str:
        where = np.argwhere(~known)[0]
        colour = tuple(int(c) for c in rgb[tuple(where)][:3])
        y, x = (int(i) for i in where[-2:])
        page = f" page {int(where[0])}" if len(where) > 2 and rgb.shape[0] > 1 else ""
        others = len(np.unique(_keys(rgb[..., :3])[~known])) - 1
        more = f" (and {numbered(others, 'more colour')} not in it)" if others else ""
        return (
            f"{path}: colour {colour} at pixel x={x}, y={y}{page} is not in {self.source}"
            f"{more}: {self.add_fix()}"
        )

    def add_fix(self) -> str:
        """How to add a colour missing from the table, in its file's own row form."""
        if Path(self.source).name == CVAT_FILE:
            return "add it there as a class (name:R,G,B::), or as 'void:R,G,B::' to ignore it"
        if Path(self.source).name == CAMVID_FILE:  # its rows are name,r,g,b (audit s43)
            return "add it there as a class (name,R,G,B), or as 'void,R,G,B' to ignore it"
        if Path(self.source).name == COLOURS_FILE:
            return "add it there as a class (R G B name), or as 'R G B void' to ignore it"
        return FIX

    def naming_fix(self, values: Sequence[int]) -> str:
        """How to keep mask ``values`` that are no class of the table (grey class indices
        read as they are: ``data.grey_masks`` indices) as classes: its next class rows where
        they follow its classes' values (0, 1, 2, ... in row order), else data.class_names (a
        class_names.txt beside the table must name the classes it names)."""
        count = sum(v != VOID for v in self.values)
        held = f"values 0-{count - 1}" if count > 1 else "value 0"
        it, file = "it" if len(values) == 1 else "them", Path(self.source).name
        if list(values) == list(range(count, count + len(values))):
            rows = "a class row" if len(values) == 1 else "class rows"
            return f"add {it} to {file} as {rows} after its last (its classes are {held})"
        named = said_as(CLASS_NAMES)  # each caller's (the bare key to both, s57)
        return f"name {it} with {named} ({file}'s class rows are {held} only)"


#: the classes named by value, as the caller sets them (:func:`said_as`)
CLASS_NAMES = set_to("data.class_names", Blank("{VALUE: NAME, ...}"))


def _keys(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb).astype(np.int32)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def read_colour_table(folder: str | os.PathLike) -> ColourTable | None:
    """The table of ``folder`` (``class_colors.txt``, else ``class_dict.csv``, else
    ``labelmap.txt``), or None."""
    folder = Path(folder)
    if (path := folder / COLOURS_FILE).is_file():
        rows = [_txt_row(line, path, i) for i, line in _headless(_lines(path))]
    elif (path := folder / CAMVID_FILE).is_file():
        rows = [_csv_row(line, path, i) for i, line in _lines(path)[1:]]  # a header first
    elif (path := folder / CVAT_FILE).is_file():
        rows = [_cvat_row(line, path, i) for i, line in _lines(path)]
    else:
        return None
    return table_of(rows, str(path))


def find_colour_table(mask: str | os.PathLike) -> ColourTable | None:
    """The table in the folder of ``mask`` or the nearest of :data:`LEVELS` above it (of its
    absolute folder: a relative 'masks/a.png' searched 'masks' and '.' alone, review s67)."""
    for folder in list(Path(mask).absolute().parents)[:LEVELS]:
        if (table := read_colour_table(folder)) is not None:
            return table
    return None


#: the table of each mask folder :func:`folder_table` found within :func:`tables_found_once`
_FOUND = ContextKept("unetlab_colour_tables_found")


def tables_found_once() -> contextlib.AbstractContextManager:
    """Within: the colour table of each folder's masks looked for once
    (:func:`folder_table`: a command's data set, unchanged while it reads it; s67: looked
    for, read and parsed at every palette mask read). Within another: that one's."""
    return _FOUND.kept()


def folder_table(mask: str | os.PathLike) -> ColourTable | None:
    """:func:`find_colour_table` of ``mask``, once per folder within :func:`tables_found_once`
    (each time outside)."""
    folder = Path(mask).absolute().parent  # the key (relative: the working folder's)
    return _FOUND.once((str(folder),), lambda: find_colour_table(mask))


def table_of(rows: Sequence[tuple[tuple[int, int, int], str | None]], source: str):
    """A :class:`ColourTable` of ``(colour, name)`` rows: void names :data:`VOID`, the
    others 0, 1, 2, ... in order; DatasetError for a colour given twice or no classes."""
    values, k = [], 0
    for _, name in rows:
        void = name is not None and loose(name) in VOID_NAMES
        values.append(VOID if void else k)
        k += not void
    colours = [c for c, _ in rows]
    if twice := sorted({c for c in colours if colours.count(c) > 1}):
        raise DatasetError(f"{source}: colour {twice[0]} is given twice: give each colour once")
    if not 0 < k <= VOID:
        raise DatasetError(f"{source}: {k} classes: give 1 to {VOID} colours that are classes")
    names = tuple(n for _, n in rows)
    return ColourTable(tuple(colours), tuple(values), names, source)


def palette_table(
    palette, values: Sequence[int], source: str, *, void: int | None = None
) -> ColourTable | None:
    """The table of a checkpoint's ``palette`` ((256, 3): the colour of each mask value) for
    the mask ``values`` of its classes and the ``void`` value it ignores; None when two classes
    share a colour. A void whose colour is a class's is left out: a palette's unused entries
    (255 among them) are often black, the colour of background, and a colour is read as its
    class."""
    colours = [tuple(int(c) for c in palette[v]) for v in values]
    if len(set(colours)) < len(colours):
        return None
    values = [int(v) for v in values]
    if void is not None and (colour := tuple(int(c) for c in palette[void])) not in colours:
        colours, values = [*colours, colour], [*values, int(void)]
    return ColourTable(tuple(colours), tuple(values), (None,) * len(values), source)


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8-sig").splitlines()
    return [(i, s.strip()) for i, s in enumerate(text, 1) if s.strip() and s[0] != "#"]


#: the first three column names a header line of ``class_colors.txt`` may give, any case
HEADERS = (("r", "g", "b"), ("red", "green", "blue"))


def _headless(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """``lines`` less a first line that names the columns (``R G B name``, ``red,green,blue``:
    :data:`HEADERS`), as a spreadsheet or the README's form copied saves it (s66 new user)."""
    first = re.split(r"[\s,]+", lines[0][1].casefold())[:3] if lines else []
    return lines[1:] if tuple(first) in HEADERS else lines


def _txt_row(line: str, path: Path, number: int):
    parts = re.split(r"[\s,]+", line, maxsplit=3)
    name = parts[3].strip() if len(parts) > 3 else None
    return _colour(parts[:3], path, number, "R G B [name]"), name


def _csv_row(line: str, path: Path, number: int):
    parts = [p.strip() for p in line.split(",")]
    return _colour(parts[1:4], path, number, "name,r,g,b"), parts[0]


def _cvat_row(line: str, path: Path, number: int):
    name, _, rest = line.partition(":")
    colour = rest.partition(":")[0]
    return _colour(colour.split(","), path, number, "name:r,g,b:parts:actions"), name.strip()


def _colour(parts: list[str], path: Path, number: int, form: str) -> tuple[int, int, int]:
    if len(parts) == 3 and all(p.isdigit() and int(p) < 256 for p in parts):
        r, g, b = (int(p) for p in parts)
        return r, g, b
    raise DatasetError(
        f"{path} line {number}: expected {form} with R, G, B in 0-255, got {' '.join(parts)!r}"
    )
