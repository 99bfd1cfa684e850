"""Palette masks (labelme's, CVAT's, VOC's) store each class as a palette index, and unetlab
reads the indices (beside a colour table, their colours: :mod:`unetlab.data.colour_table`,
not checked here). Masks from two projects whose label lists are ordered differently look
the same in a viewer but give one class two indices: read by index, their classes swap
without a word. :func:`check_palette` compares the colour of each index a mask uses with
those the other palette masks read before it gave it, and refuses a clash naming both files.

Scope: the masks of one folder (predictions drawn in other colours, in their own folder, are
compared with each other only), in this process; a file changed since it was read no longer
counts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from unetlab.errors import ImageReadError

#: (colour, index) -> (file, its mtime): who gave an index a colour first
Seen = dict[tuple[tuple[int, int, int], int], tuple[str, int]]
_folders: dict[str, Seen] = {}


def used_colours(palette: list[int] | None, indices: np.ndarray) -> dict[int, tuple[int, ...]]:
    """``{index: (R, G, B)}`` of the palette entries of the ``indices`` (uint8) a mask uses;
    an index beyond a short palette is black (as Pillow shows it)."""
    entries = np.zeros((256, 3), np.uint8)
    rgb = np.asarray(palette or [], np.uint8)[: 256 * 3]
    entries[: len(rgb) // 3] = rgb[: len(rgb) // 3 * 3].reshape(-1, 3)
    counts = np.bincount(indices.ravel(), minlength=256)
    return {int(v): tuple(int(c) for c in entries[v]) for v in np.flatnonzero(counts)}


def telling(colours: dict[int, tuple[int, ...]]) -> dict[int, tuple[int, ...]]:
    """The entries of ``colours`` (:func:`used_colours`) whose colour no other used index
    shares: a mask without a palette, or with a short or repeating one (Pillow's
    ``Image.new("P")``, unset entries: black), says nothing of which index is which class."""
    shared = {c for c in colours.values() if list(colours.values()).count(c) > 1}
    return {i: c for i, c in colours.items() if c not in shared}


def check_palette(path: str | os.PathLike, palette: list[int] | None, indices: np.ndarray) -> None:
    """ImageReadError when the palette mask ``path`` (its Pillow ``palette``, flat RGB, and its
    ``indices``, uint8) gives an index it uses another colour than an earlier mask gave it, or a
    colour it uses another index; else remember its colours. Only colours that tell an index
    apart count (:func:`telling`)."""
    if indices.dtype != np.uint8:
        return
    seen = _seen(Path(path))
    mine = telling(used_colours(palette, indices))
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
