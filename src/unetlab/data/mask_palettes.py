"""Palette masks (labelme's, CVAT's, VOC's) store each class as a palette index, and unetlab
reads the indices. Masks from two projects whose label lists are ordered differently look
the same in a viewer but give one class two indices: read by index, their classes swap
without a word. :func:`check_palette` compares the colour of each index a mask uses with
those the other palette masks read before it gave it, and refuses a clash naming both files.

Beside a colour table (:mod:`unetlab.data.colour_table`), a palette mask every colour of which
(of the indices it uses) is in the table is read by its colours through it, as an RGB mask
of the same pixels, and not checked here; one using other colours (glasbey's, VOC's, a grey
LUT's: indices beside a table of other colours) is read by index as without one
(:func:`palette_values`). The masks beside one table are read one way: a mask read the other
way than one before it in this process is refused, naming both (a command's data check reads
the data set's masks in its main process; a DataLoader's workers each check their own). Set
palette entries of one colour are read by it, merged as the table says; an index a mask uses
that is black past the palette's last colour (unset), where a set entry is black too (used or
not) or another such index is used, is refused: which is the class? So is an index past
the colours the palette stores (it has none: PNG counts it an error) where the mask's own
colours are the table's (:func:`_within_palette`).

Scope: the masks of one folder (predictions drawn in other colours, in their own folder, are
compared with each other only), in this process; a file changed since it was read no longer
counts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from unetlab.data.colour_table import VOID, ColourTable
from unetlab.errors import ImageReadError
from unetlab.words import first_listed, numbered, worded

#: (colour, index) -> (file, its mtime): who gave an index a colour first
Seen = dict[tuple[tuple[int, int, int], int], tuple[str, int]]
_folders: dict[str, Seen] = {}
#: table -> (the last mask that told how they are read, its mtime, its first colour not in
#: the table: None where it was read by colour)
_ways: dict[ColourTable, tuple[str, int, tuple[int, ...] | None]] = {}


def used_colours(palette: list[int] | None, indices: np.ndarray) -> dict[int, tuple[int, ...]]:
    """``{index: (R, G, B)}`` of the palette entries of the ``indices`` (uint8) a mask uses;
    an index beyond a short palette is black (as Pillow shows it)."""
    entries = _entries(palette)
    counts = np.bincount(indices.ravel(), minlength=256)
    return {int(v): tuple(int(c) for c in entries[v]) for v in np.flatnonzero(counts)}


def _entries(palette: list[int] | None) -> np.ndarray:
    """(256, 3) uint8 colours of Pillow's flat ``palette``, black past a short one."""
    entries = np.zeros((256, 3), np.uint8)
    rgb = np.asarray(palette or [], np.uint8)[: 256 * 3]
    entries[: len(rgb) // 3] = rgb[: len(rgb) // 3 * 3].reshape(-1, 3)
    return entries


def palette_values(
    path: str | os.PathLike, palette: list[int] | None, indices: np.ndarray, table
) -> np.ndarray:
    """The values of the palette mask ``path`` (its Pillow ``palette`` and ``indices``,
    uint8): through the colour ``table`` beside it (None: none) by a 256-entry lookup when it
    holds every colour the mask uses (:func:`colour_lookup`), else its indices, checked
    against the other palette masks (:func:`check_palette`); ImageReadError when the masks
    beside the table were read the other way before (:func:`_one_way`)."""
    used = used_colours(palette, indices) if indices.dtype == np.uint8 else {}
    lookup = None if table is None or not used else colour_lookup(palette, used, table)
    if table is not None and used:
        _within_palette(path, palette, used, lookup, table)
        _one_way(path, table, used, lookup)
    if lookup is not None:
        _one_colour_each(path, used, lookup, table, palette)
    if lookup is None:
        if used:
            check_palette(path, telling(used))
        return indices
    return indices if _alike(lookup, used) else lookup[indices]  # 5 ms of 2 Mpixels spared


def _alike(lookup: np.ndarray | None, used: dict[int, tuple[int, ...]]) -> bool:
    """Whether the ``lookup`` of :func:`colour_lookup` gives each ``used`` index itself."""
    return lookup is not None and all(lookup[i] == i for i in used)


def colour_lookup(
    palette: list[int] | None, used: dict[int, tuple[int, ...]], table: ColourTable
) -> np.ndarray | None:
    """(256,) uint8 table value of each palette entry the mask uses (``used``:
    :func:`used_colours`), or None when one's colour is not in ``table`` or the palette is
    grey (a grey LUT's class indices, read as a grey mask's). Entry 255 repeating an earlier
    entry's colour (padding: labelme's black) is :data:`VOID`, as read by index."""
    entries = _entries(palette)
    if (entries == entries[:, :1]).all():
        return None
    value = dict(zip(table.colours, table.values))
    if any(colour not in value for colour in used.values()):
        return None
    lookup = np.arange(256, dtype=np.uint8)
    for index, colour in used.items():
        lookup[index] = value[colour]
    if VOID in used and (entries[:VOID] == entries[VOID]).all(1).any():
        lookup[VOID] = VOID
    return lookup


def _one_colour_each(path, used: dict, lookup: np.ndarray, table: ColourTable, palette) -> None:
    """ImageReadError where a palette index the mask ``path`` uses is black past the
    palette's last colour (:func:`_unset_from`: unset, or stored black after it) and a set
    entry below it is black too, used or not, or else another such used index: read by
    colour they would be one class, by index two, and the palette cannot say which is meant
    (review s67: index 2, unset, read as background beside '0 0 0 background'). Set entries
    sharing a colour are read by it, merged as the table says (Cityscapes: ids 0-4 black,
    void; pole and polegroup one grey). Entry 255 repeating an earlier colour is the padding
    read as void (:func:`colour_lookup`)."""
    unset, entries = _unset_from(palette), _entries(palette)
    past = _past(used, unset, lookup)
    for index in past:
        held = np.flatnonzero((entries[:unset] == used[index]).all(axis=1))  # set, its colour
        others = [int(i) for i in held] or [i for i in past if i != index]
        if others:
            raise ImageReadError(_unset_line(path, index, others[0], table, lookup, held.size))


def _unset_line(path, index: int, other: int, table: ColourTable, lookup, other_set) -> str:
    """The line refusing ``path``'s palette ``index``, black past the palette's last colour,
    beside ``other`` of the same colour: a set entry where ``other_set``, else past it too."""
    colour = (0, 0, 0)  # every entry past the last colour (:func:`_unset_from`) is black
    name = dict(zip(table.colours, table.names)).get(colour) or f"value {lookup[index]}"
    low, high = sorted((other, index))
    said = (
        f"{path}: palette indices {low} and {high} are both colour {colour} ({name} in "
        f"{Path(table.source).name}; {f'{index} is' if other_set else 'both are'} black past "
        "the palette's last colour): read by colour one class, by index two; give "
    )
    if not other_set:
        return f"{said}each its class's own colour in the palette (and a row of the table)"
    return (
        f"{said}index {index} its class's own colour in the palette (and a row of the "
        f"table), or re-save the mask with {other} where it shows {name}"
    )


def _past(used: dict, first: int, lookup: np.ndarray | None) -> list[int]:
    """The indices ``used`` from ``first`` on, in order, 255 aside where it is read as void
    (by index: ``lookup`` None, or by colour where :func:`colour_lookup` made it void)."""
    void = lookup is None or lookup[VOID] == VOID
    return sorted(i for i in used if i >= first and not (i == VOID and void))


def _unset_from(palette: list[int] | None) -> int:
    """The first palette index whose entry is unset: past the stored ``palette`` or in its
    trailing run of black entries (Pillow's and GIMP's fill)."""
    set_ = np.flatnonzero(_entries(palette).any(axis=1))
    return int(set_[-1]) + 1 if set_.size else 0


def _within_palette(path, palette, used: dict, lookup, table: ColourTable) -> None:
    """ImageReadError where the palette mask ``path`` beside ``table`` uses an index past
    the colours its palette stores (PNG counts it an error; Pillow reads it black): read by
    colour it was the table's black class without a word, and beside a table without black
    it turned the whole mask to its indices (s67 noticed). Not where the mask's own colours
    are read by index anyway (glasbey's, a grey LUT's: :func:`colour_lookup`), nor index
    255 read as void; a palette that stores no colour says nothing."""
    stored = len(palette or []) // 3
    past = _past(used, stored, lookup)
    if not past or not stored:
        return
    own = {i: c for i, c in used.items() if i < stored}
    if lookup is None and colour_lookup(palette, own, table) is None:
        return
    index = past[0]
    raise ImageReadError(
        f"{path}: palette {worded(len(past), 'index', 'indices')} {first_listed(past)} "
        f"{'is' if len(past) == 1 else 'are'} past its palette's "
        f"{numbered(stored, 'colour')} (indices 0 to {stored - 1}): it has no colour, so no "
        f"row of {Path(table.source).name} says its class (PNG counts such an index an "
        f"error; a viewer shows it black); give index {index} its class's colour in the "
        "palette (and a row of the table), or re-save the mask with each of its pixels at its "
        "class's index"
    )


def _one_way(path, table: ColourTable, used: dict, lookup: np.ndarray | None) -> None:
    """Remember how the palette mask ``path`` beside ``table`` was read (by colour:
    ``lookup``, else by index), where the two differ on the indices it uses; ImageReadError
    when an earlier mask beside the same table (its value: an edited table starts anew),
    unchanged since, was read the other way in this process: a command's data check reads
    the data set's masks in its main process; a DataLoader's workers each check their own."""
    if _alike(lookup, used):
        return  # read alike both ways: tells nothing
    unknown = next((c for c in used.values() if c not in table.colours), None)
    other, stamp, its_unknown = _ways.get(table, (str(path), -1, unknown))
    if (its_unknown is None) != (unknown is None) and _stamp(other) == stamp:
        raise ImageReadError(_two_ways(path, other, table, unknown, its_unknown))
    _ways[table] = (str(path), _stamp(str(path)), unknown)


def _two_ways(path, other: str, table: ColourTable, unknown, its_unknown) -> str:
    """The line refusing ``path`` and ``other`` beside ``table`` read two ways: the one by
    index uses a colour not in the table (``unknown``: ``path``'s, ``its_unknown``: ``other``'s)."""
    by_index, by_colour = (path, other) if unknown else (other, path)
    return (
        f"{path} and {other}: palette masks beside {table.source} read two ways, "
        f"{Path(by_index).name} by palette index (its colour {unknown or its_unknown} is not in the table), "
        f"{Path(by_colour).name} by colour (every colour it uses is); the masks beside one "
        f"table are read one way: if their colours are the classes, {table.add_fix()}; if "
        f"their palette indices are, re-save {Path(by_colour).name} with the other masks' palette"
    )


def palette_reading(path: str | os.PathLike, table: ColourTable) -> tuple[dict, np.ndarray | None]:
    """(:func:`used_colours`, :func:`colour_lookup`) of the palette mask ``path`` beside
    ``table``: a lookup where it is read by its colours, None by its indices; ({}, None) for
    a file that is no 8-bit palette image or cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode != "P":
                return {}, None
            palette, indices = im.getpalette(), np.asarray(im)
    except OSError:
        return {}, None
    used = used_colours(palette, indices)
    return used, colour_lookup(palette, used, table)


def telling(colours: dict[int, tuple[int, ...]]) -> dict[int, tuple[int, ...]]:
    """The entries of ``colours`` (:func:`used_colours`) whose colour no other used index
    shares: a mask without a palette, or with a short or repeating one (Pillow's
    ``Image.new("P")``, unset entries: black), says nothing of which index is which class."""
    shared = {c for c in colours.values() if list(colours.values()).count(c) > 1}
    return {i: c for i, c in colours.items() if c not in shared}


def check_palette(path: str | os.PathLike, mine: dict[int, tuple[int, ...]]) -> None:
    """ImageReadError when the palette mask ``path`` gives an index it uses another colour
    than an earlier mask gave it, or a colour it uses another index; else remember its
    colours. ``mine``: its colours that tell an index apart (:func:`telling`)."""
    seen = _seen(Path(path))
    for index, colour in mine.items():
        for (c, i), (other, stamp) in list(seen.items()):
            if (c == colour) == (i == index) or other == str(path):
                continue
            if _stamp(other) != stamp:  # changed or gone since: forget it
                del seen[(c, i)]
                continue
            raise ImageReadError(_clash(path, index, colour, other, c, i))
    stamp = _stamp(str(path))
    for index, colour in mine.items():
        seen.setdefault((colour, index), (str(path), stamp))


def _clash(path, index: int, colour, other: str, other_colour, other_index: int) -> str:
    if index == other_index:
        said = f"value {index} is colour {colour} there but {other_colour} in {other}"
    else:
        said = f"colour {colour} is value {index} there but {other_index} in {other}"
    return (
        f"{path} and {other} have palettes ordered differently ({said}): read by value, their "
        f"classes would swap; re-save {Path(path).name} with the palette order of the other "
        "masks (the same value for each class), or list the class colours in "
        "class_colors.txt beside them (R G B name, a line per class): palette masks beside it "
        "are read by their colours"
    )


def _seen(path: Path) -> Seen:
    return _folders.setdefault(str(path.absolute().parent), {})


def _stamp(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1
