"""What a data set says about its classes: palette colours, the void value, class names.

- Palette PNG masks (PASCAL VOC's ``SegmentationClass/``) store class values as palette
  indices; :func:`read_palette` gives the colours, so predictions can be written in them.
- VOC marks object outlines and "difficult" pixels with 255 (white in its palette), which is
  no class: :func:`void_value` finds it in palette masks, and training ignores it.
- ``class_names.txt`` beside the data (line i names mask value i, or lines ``VALUE NAME``
  name those values; ``#`` lines are comments) gives the classes names:
  :func:`read_class_names`.
- Colour (RGB) masks are read through the colour table beside them
  (:mod:`unetlab.data.colour_table`), whose colours are then the palette and whose names
  the class names where no ``class_names.txt`` gives them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from unetlab.data.coco import coco_class_names
from unetlab.data.colour import colour_file
from unetlab.data.colour_table import (
    VOID,
    VOID_NAMES,
    ColourTable,
    find_colour_table,
    read_colour_table,
)
from unetlab.data.decathlon import DATASET_JSON, decathlon_labels
from unetlab.data.labelme import IGNORE, IGNORE_VALUE
from unetlab.data.mask_palettes import palette_reading
from unetlab.data.names import (
    COCO_VIEWS,
    FOLDER_NAMES,
    SPLIT_NAMES,
    coco_view,
    folder_candidates,
    loose,
)
from unetlab.data.shapes import shape_class_names
from unetlab.data.totalseg import class_names, totalseg_cases
from unetlab.errors import DatasetError
from unetlab.words import numbered

#: the roles of the folders a data set's masks lie in (:data:`unetlab.data.names.FOLDER_NAMES`)
MASK_ROLES = ("masks", "instances", "SegmentationClass")
#: VOC's void label: object borders and ambiguous pixels, in no class.
VOC_VOID = 255
NAMES_FILE = "class_names.txt"


def voc_colormap(n: int = 256) -> np.ndarray:
    """(n, 3) uint8 PASCAL VOC colours of values 0..n-1 (0 black, 1 dark red, ..., 255 cream):
    the bits of the value spread over the high bits of R, G and B."""
    out = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, rgb = i, [0, 0, 0]
        for bit in range(7, -1, -1):
            for ch in range(3):
                rgb[ch] |= ((c >> ch) & 1) << bit
            c >>= 3
        out[i] = rgb
    return out


def read_palette(path: str | os.PathLike) -> np.ndarray | None:
    """The (256, 3) uint8 colours of a palette PNG mask (entry v: the colour of value v; black
    past the file's own entries), or None when the file is not a palette image."""
    rgb = _palette_entries(path)
    if rgb is None:
        return None
    colours = np.zeros((256, 3), dtype=np.uint8)
    colours[: len(rgb)] = rgb
    return colours


def _palette_entries(path: str | os.PathLike) -> np.ndarray | None:
    """The (n, 3) uint8 colours a palette PNG mask holds (n <= 256: a short palette is not
    padded), or None when the file is not a palette image."""
    try:
        with Image.open(path) as im:
            if im.mode != "P":
                return None
            flat = im.getpalette() or []
    except (OSError, UnidentifiedImageError):
        return None
    flat = flat[: 256 * 3]
    return np.asarray(flat[: len(flat) // 3 * 3], dtype=np.uint8).reshape(-1, 3)


def palette_words(path: str | os.PathLike, value: int) -> str | None:
    """How a viewer shows ``value`` of the palette PNG mask ``path``, the colour a person
    finds a stray patch by (audit s43 scenes: 'mask value 11' named no colour):
    ``palette colour (250, 170, 30)``, or ``not in the file's palette of 3 colours`` for an
    index past a short palette (it was named by the black the palette is padded with);
    None when ``path`` is no palette PNG (a TIFF page, a grey mask)."""
    if not (0 <= int(value) < 256 and Path(path).is_file()):
        return None
    rgb = _palette_entries(path)
    if rgb is None:
        return None
    if int(value) >= len(rgb):
        return f"not in the file's palette of {numbered(len(rgb), 'colour')}"
    return f"palette colour {tuple(int(c) for c in rgb[int(value)])}"


def dataset_palette(mask_files: Sequence[Path]) -> np.ndarray | None:
    """The colours of the colour table beside the data set's first mask when it is a colour
    (RGB) mask or a palette mask read by its colours through the table
    (:mod:`unetlab.data.colour_table`), else its palette when it is a palette PNG: the
    colours predictions are drawn in."""
    if not mask_files:
        return None
    if coco_view(mask_files[0]) == COCO_VIEWS[0]:  # no file: VOC's colours, crowds void
        return voc_colormap()
    palette, first = read_palette(mask_files[0]), mask_files[0]
    table = find_colour_table(first) if colour_file(first, mask=True) else None
    if table is not None and (palette is None or _read_by_colour(first, table)):
        return table.palette()
    return palette


def _read_by_colour(path: Path, table: ColourTable) -> bool:
    """Whether the palette mask ``path`` is read by its colours through ``table``
    (:func:`~unetlab.data.mask_palettes.palette_values`), not by its indices."""
    return palette_reading(path, table)[1] is not None


def void_value(
    values: Sequence[int], palette: np.ndarray | None, names: Mapping[int, str] | None = None
) -> int | None:
    """``VOC_VOID`` when palette masks hold it beside other values (VOC's outlines), or
    ``names`` name it labelme's ``__ignore__`` (its labelme2voc's void), else None."""
    voc = palette is not None and len(values) > 1
    if VOC_VOID in values and (voc or (names or {}).get(IGNORE_VALUE) == IGNORE):
        return VOC_VOID
    return None


class DatasetClasses(NamedTuple):
    """The classes masks are read as: the mask value of each class, the void value that
    counts nowhere (None: none), a name per class, the values found in the masks less the
    void (``found``: none where the label values were set) and whether the names name every
    one of them (``named``: the classes are then every named value, the void aside)."""

    label_values: list[int]
    ignore_value: int | None
    class_names: list[str]
    found: list[int]
    named: bool


def dataset_classes(
    held: Iterable[int],
    palette: np.ndarray | None,
    names: Mapping[int, str] | None,
    *,
    label_values: Sequence[int] | None = None,
    ignore_value: int | None = None,
) -> DatasetClasses:
    """The classes of masks holding the values ``held`` (over them all), by training's rule,
    which ``unetlab weightmap`` follows too: ``label_values`` where set, else the values
    held less the void (``ignore_value`` where set, else palette masks' VOC void:
    :func:`void_value`); where ``names`` (``{value: name}``: ``class_names.txt``, a colour
    table's rows, :func:`read_class_names`) name every one of them, every value named, the
    void aside (a named class no mask holds keeps its output). Each class is named by
    ``names``, else by its value. ``palette``: :func:`dataset_palette`'s."""
    names = dict(names or {})
    found, named = [], False
    if label_values is None:
        seen = sorted({int(v) for v in held})
        if ignore_value is None:
            ignore_value = void_value(seen, palette, names)
        found = [v for v in seen if v != ignore_value]
        named = bool(names) and set(found) <= set(names)  # the data set's classes, all
        label_values = sorted(set(names) - {ignore_value}) if named else found
    values = list(label_values)
    said = [str(names.get(v, v)) for v in values]
    return DatasetClasses(values, ignore_value, said, found, named)


def read_class_names(root: str | os.PathLike) -> dict[int, str] | None:
    """``{value: name}`` from ``root/class_names.txt`` (line i names mask value i), else the
    names of the colour table in ``root`` or its masks folder (:func:`_root_table`) when it
    names every class, or None: :func:`class_names_from`'s names."""
    return class_names_from(root)[0]


def class_names_from(root: str | os.PathLike) -> tuple[dict[int, str] | None, Path]:
    """(:func:`read_class_names`' names, the file they are read from, for log lines:
    ``class_names.txt``, else the colour table's), each file read once (review s64: the
    file's name was found by reading the root's table again). DatasetError naming both
    files when ``class_names.txt`` and a table the masks are read through (``root``'s, or
    one in a folder below it: :func:`mask_tables`) name the classes differently
    (:func:`names_disagree`)."""
    path = Path(root) / NAMES_FILE
    if not path.is_file() and (labels := decathlon_labels(Path(root))) is not None:
        return labels, Path(root) / DATASET_JSON  # MSD's, nnU-Net's
    if not path.is_file() and (cases := totalseg_cases(Path(root))) is not None:
        return class_names(cases), cases[0][1]  # its structures', by file name
    if not path.is_file() and (coco := coco_class_names(Path(root))) is not None:
        return coco  # its categories'
    if not path.is_file() and (shaped := shape_class_names(root)) is not None:
        return shaped  # labelme's labels, YOLO's data.yaml
    if not path.is_file():
        table = _root_table(root)
        return (None, path) if table is None else (table.class_names(), Path(table.source))
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = names_of_lines([line for line in lines if line and not line.startswith("#")])
    for other in [read_colour_table(root), *mask_tables(root)]:  # each table read once
        if other is not None and (problem := names_disagree(names, other, path)):
            raise DatasetError(problem)
    return names, path


def _root_table(root: str | os.PathLike) -> ColourTable | None:
    """The colour table naming the classes of ``root``'s masks: ``root``'s, else the one its
    masks are read through (:func:`mask_tables`: several, where they name the classes
    alike), or None. Training and weightmap read the names of a table in masks/ alike
    (review s63: training named them '0'..'6', weightmap sky..person)."""
    if (table := read_colour_table(root)) is not None:
        return table
    tables = sorted(mask_tables(root), key=_of_test_split)  # train/'s before test/'s
    for other in tables[1:]:  # named otherwise: the run's classes went unnamed (s66 new user)
        if problem := _tables_disagree(tables[0], other):
            raise DatasetError(problem)
    named = [t.class_names() is not None for t in tables]
    return tables[0] if tables and (all(named) or not any(named)) else None


def _of_test_split(table: ColourTable) -> bool:
    """Whether ``table`` is in a ``test/`` split or its masks folder, which training leaves
    unused: the names are said to come from another split's (s66 new user)."""
    folder = Path(table.source).parent
    return any(_named_as(f, [SPLIT_NAMES["test"]]) for f in (folder, folder.parent))


def _tables_disagree(table: ColourTable, other: ColourTable) -> str | None:
    """One line when two colour tables of one data set's masks (``train/``'s and
    ``test/``'s) name a class value both define otherwise (letter case, Unicode normal form
    and spaces at the ends aside, as :func:`names_disagree`); None when they agree or either
    names none of its classes. A class one table has past the other's (test/'s extra row,
    a rare last class missing from val/'s) is no disagreement (review s66)."""
    names, others = table.class_names(), other.class_names()
    if names is None or others is None:
        return None
    wrong = [v for v in sorted(set(names) & set(others)) if loose(names[v]) != loose(others[v])]
    if not wrong:
        return None
    return (
        f"{table.source} and {other.source} name the classes differently: "
        f"{_differ(wrong, ('one', names), ('the other', others))}; make them name the same "
        "classes in the same order (row i: class i, void rows aside), or keep one table at "
        "the data root in their place"
    )


def mask_tables(root: str | os.PathLike) -> list[ColourTable]:
    """The colour tables in the folders below ``root`` that its masks are read through
    (:func:`~unetlab.data.colour_table.find_colour_table` looks in a mask's folder and the
    two above it): its masks folder (``masks/``, ``labels/``, ``SegmentationClass/``, ...),
    its splits (``train/``, ``val/``, ``test/``) and theirs; a class_names.txt in ``root``
    names those masks' classes too (audit s45: a table in masks/ went unchecked). A folder
    of another data set beside them (``root/other_set/masks/``) is none of them (s47)."""
    tables = []
    for folder in _mask_folders(Path(root)):
        if (table := read_colour_table(folder)) is not None:
            tables.append(table)
    return tables


def masks_root(folder: Path) -> Path | None:
    """The data set root whose masks ``folder`` holds, by its name: its parent for a masks
    folder (``masks/``, ``labels/``, ``SegmentationClass/``, ...: :data:`MASK_ROLES`, any
    letter case) or a split (``val/``: :data:`~unetlab.data.names.SPLIT_NAMES`), a split's
    parent for a split's masks folder (``val/masks/``); None for a folder of neither name."""
    if _named_as(folder, SPLIT_NAMES.values()):
        return folder.parent
    if not _named_as(folder, [FOLDER_NAMES[role] for role in MASK_ROLES]):
        return None
    return folder.parent.parent if _named_as(folder.parent, SPLIT_NAMES.values()) else folder.parent


def _named_as(folder: Path, names) -> bool:
    return any(folder.name.casefold() in each for each in names)


def _mask_folders(root: Path) -> list[Path]:
    """The folders below ``root`` its masks are in or read through: its masks folders and
    its split folders with theirs (:func:`unetlab.data.names.folder_candidates`), sorted."""
    splits = _sub_folders(root, tuple(SPLIT_NAMES))
    found = _sub_folders(root, MASK_ROLES)
    for split in splits:
        found += [split, *_sub_folders(split, MASK_ROLES)]
    return sorted(set(found))


def _sub_folders(folder: Path, roles: Sequence[str]) -> list[Path]:
    """The sub-folders of ``folder`` named as one of ``roles`` is; none where it is no
    folder one may list."""
    try:
        found = folder_candidates(folder, roles)
    except OSError:
        return []
    return [f for role in roles for f in found[role]]


#: a line of the ``value name`` form (``128 dim``, ``255: bright``)
VALUE_NAME = re.compile(r"^(\d+)\s*[\s:,=]\s*(\S.*)$")
#: names that make a class the background in a set of any size, case, spaces, ``_`` and
#: ``-`` aside (``Background ``, ``back ground``, ``BG``); else :data:`MEMBRANE`. Not
#: ``void`` nor ``none``: void is the ignored band of Cityscapes-like sets
BACKGROUND_NAMES = ("background", "bg", "backdrop")
#: ISBI's boundary between the cells, the background in a set of any size where no class
#: is named one of :data:`BACKGROUND_NAMES`
MEMBRANE = "membrane"
#: names that call a class no class of its own: the background, or pixels left unlabelled
NO_CLASS_NAMES = frozenset(
    (
        *BACKGROUND_NAMES, MEMBRANE, "void", "ignore", "ignored",
        "unlabeled", "unlabelled", "unknown", "unclassified", "other", "others", "rest",
        "nothing", "none", "empty", "clutter", "no class", "no label", "not labelled",
    )
)  # fmt: skip
_NO_CLASS_WORDS = frozenset(name.replace(" ", "") for name in NO_CLASS_NAMES)
#: words that call a class the boundary between the objects, alone or as its name's last
#: word (``grain boundary``, ``cell wall``): the background of a set of two classes
#: (:func:`boundary_by_name`), no more (a scene's ``curb edge``, ``wall``: objects)
BOUNDARY_WORDS = frozenset(
    (
        "membrane", "membranes", "boundary", "boundaries", "edge", "edges", "contour",
        "contours", "outline", "outlines", "wall", "walls", "border", "borders",
    )
)  # fmt: skip
_SEPARATORS = re.compile(r"[\s_-]+")


def name_word(name: str | None) -> str | None:
    """``name`` as the name rules read it: loose case and end spaces, spaces, ``_`` and
    ``-`` aside (``Back ground``, ``BACK_GROUND`` -> ``background``); None for None."""
    return None if name is None else _SEPARATORS.sub("", loose(str(name)))


def background_rank(name: str | None) -> int | None:
    """0 where ``name`` names the background (:data:`BACKGROUND_NAMES`), 1 where it is
    :data:`MEMBRANE`, else None: the one rule every choice of the background by name reads
    (:func:`~unetlab.data.weightmap.background_by_name`)."""
    word = name_word(name)
    return 0 if word in BACKGROUND_NAMES else 1 if word == MEMBRANE else None


def names_boundary(name: str | None) -> bool:
    """Whether ``name`` calls its class the boundary between the objects: one of
    :data:`BOUNDARY_WORDS` alone or as its last word (``Grain boundary``, ``cell_wall``)."""
    return name is not None and last_word(name) in BOUNDARY_WORDS


def counted_classes(
    class_names: Sequence[str], label_values=None, ignore_value: int | None = None
) -> list[int]:
    """Indices of the classes of ``class_names`` that count as classes: not the one of mask
    value ``ignore_value`` (:func:`ignored_class`'s rule: without ``label_values`` a class's
    mask value is its index) nor one named void
    (:data:`~unetlab.data.colour_table.VOID_NAMES`)."""
    ignored = ignored_class(len(class_names), label_values, ignore_value)
    return [
        k
        for k, name in enumerate(class_names)
        if loose(str(name)) not in VOID_NAMES and k != ignored
    ]


def ignored_class(
    n_classes: int, label_values=None, ignore_value: int | None = None, *, target=None
) -> int | None:
    """Index of the class of mask value ``ignore_value`` among ``n_classes`` (a one-class
    sigmoid net's two: background and object), else None: the one class that counts as no
    class in validation, evaluate, compare and the objects (its predictions errors of the
    true class), a class named void that training learned not (review s68). A class's mask
    value is its label value; without ``label_values`` (an older checkpoint, a net built in
    Python) its index, as evaluate reads such a model's masks (class indices): ignore 2 of 3
    classes is class 2, ignore 255 none (review s69). None for an instance ``target``: its
    masks hold object ids, none of its classes' values (review s69)."""
    n_classes = max(n_classes, 2)
    values = list(range(n_classes) if label_values is None else label_values)
    known = ignore_value is not None and len(values) == n_classes and ignore_value in values
    return values.index(ignore_value) if known and target != "instances" else None


def boundary_by_name(
    class_names: Sequence[str] | None, label_values=None, ignore_value: int | None = None
) -> int | None:
    """Index of the class a set of two classes (:func:`counted_classes`) names the boundary
    between the objects (:func:`names_boundary`: ``{0: grain, 1: boundary}``, ``{0: cell,
    1: cell wall}``), the background there, or None: in a set of more classes a boundary is
    part of the objects (``bg, cell, boundary``) or an object class (a scene's ``curb
    edge``). A class named background, which :func:`~unetlab.data.weightmap.background_by_name`
    takes before this, is no boundary word."""
    names = [str(n) for n in class_names or ()]
    counted = counted_classes(names, label_values, ignore_value)
    if len(counted) != 2:
        return None
    return next((k for k in counted if names_boundary(names[k])), None)


def last_word(name: str) -> str:
    """The last word of ``name``, case, spaces, ``_`` and ``-`` aside (``Cell_Interior``:
    ``interior``)."""
    return _SEPARATORS.split(loose(str(name)))[-1]


def names_of_lines(lines: Sequence[str]) -> dict[int, str]:
    """``{value: name}`` of a names file's lines: line i names mask value i, or, where every
    line reads ``VALUE NAME`` with distinct values (``0 background`` / ``128 dim`` / ``255
    bright``, as masks of 0/128/255 need), each line names its value."""
    pairs = [VALUE_NAME.match(line) for line in lines]
    if lines and all(pairs) and len({int(m[1]) for m in pairs}) == len(pairs):
        return {int(m[1]): m[2].strip() for m in pairs}
    return dict(enumerate(lines))


def names_a_class(name: str | None) -> bool:
    """Whether ``name`` names a class of its own (``road``): neither a number (a class
    named by its mask value: unnamed) nor one of :data:`NO_CLASS_NAMES` (``background``,
    ``void``, ``unlabelled``, ``other``, ``membrane``, ...; case, ``_`` and ``-`` aside).
    A two-class set's ``boundary`` names a class here as in a set of more
    (:func:`boundary_by_name` makes it the background)."""
    word = name_word(name)
    return bool(word) and not word.isdigit() and word not in _NO_CLASS_WORDS


def voc_class_colours(k: int, names: Sequence[str], background: int | None) -> np.ndarray:
    """(k, 3) uint8 VOC colours of k classes named ``names`` (:func:`voc_colormap`): class 0
    black, the background overlays leave untinted, unless its name names a class of its own
    (:func:`names_a_class`: ``road``, not ``background`` nor ``0``, nor a two-class set's
    boundary: :func:`boundary_by_name`) and no other class is the
    ``background`` (0 or None): then the first VOC colour no class has, as a colour table
    colours its road (a road-scene overlay left road untinted and ``--color`` drew it black:
    audit s39 roads)."""
    colours = voc_colormap(k + 1)
    own = names and names_a_class(names[0]) and boundary_by_name(names) != 0
    if own and background in (0, None):
        colours[0] = colours[k]
    return colours[:k]


def names_disagree(names: dict[int, str], table: ColourTable, path: Path) -> str | None:
    """One line when ``class_names.txt`` (``names``, read from ``path``) and the colour
    table beside it name the classes differently (letter case, Unicode normal form and
    spaces at the ends aside: :func:`~unetlab.data.names.loose`): a value each names
    otherwise, or one only the table names, or one only the file names where the table names
    its classes; None when they agree or the table names none. Refused, not warned: the
    names decide the background class (border weights, objects, evaluation) and label every
    report, and which of two files is right only the user knows."""
    rows = {v: n for v, n in zip(table.values, table.names) if v != VOID}
    if all(n is None for n in rows.values()):
        return None
    wrong = [
        v for v in sorted(set(rows) | set(names)) if _loose(names.get(v)) != _loose(rows.get(v))
    ]
    if not wrong:
        return None
    table_name = Path(table.source).name
    # without class_names.txt the names are those of the root's table, else of masks/'s
    named_by = _root_table(path.parent)
    beside = named_by is not None and named_by.source == table.source
    delete = f", or delete {path.name} (the table's names are used then)" if beside else ""
    return (
        f"{path} and {table.source} name the classes differently: "
        f"{_differ(wrong, (path.name, names), (table_name, rows))}; make them name the same "
        "classes in the same order "
        f"(line i of {path.name}: mask value i; row i of the table: class i, void rows "
        f"aside){delete}"
    )


def _loose(name: str | None) -> str | None:
    return None if name is None else loose(name)


def _differ(wrong: list[int], first: tuple[str, Mapping], second: tuple[str, Mapping]) -> str:
    """How two files (``(name, {value: name or None})``) name the first of the ``wrong``
    values: ``value 2 is 'road' in A, 'lane' in B (and 1 more value)``, or ``..., and B has
    no value 2`` where B has none (it was said 'unnamed in B', review s66)."""
    v = wrong[0]
    said = [f"{_shown(names[v])} in {file}" for file, names in (first, second) if v in names]
    lacks = [f"{file} has no value {v}" for file, names in (first, second) if v not in names]
    more = f" (and {numbered(len(wrong) - 1, 'more value')})" if len(wrong) > 1 else ""
    return f"value {v} is {', '.join(said)}" + "".join(f", and {x}" for x in lacks) + more


def _shown(name: str | None) -> str:
    return "unnamed" if name is None else repr(name)


def class_colours(palette: Sequence[Sequence[int]], label_values: Sequence[int]) -> np.ndarray:
    """(K, 3) uint8 colour of each class index: the palette entry of its mask value."""
    return np.asarray(palette, dtype=np.uint8)[np.asarray(label_values, dtype=np.int64)]
