"""Partial gold truth of the Cell Tracking Challenge's layout (:mod:`unetlab.data.ctc`).

Some gold-truth frames (``01_GT/SEG/man_seg009.tif``) annotate only some of the cells: the
others train as background, and evaluate counts the net's finding them as false positives.
The tracking markers (``01_GT/TRA/man_track009.tif``) mark every cell of every frame, so a
marker with no object of the frame's mask under it is a cell left unannotated.
:func:`warn_partial_truth` says which frames are partial, once, with the fix; it reads the
markers of the paired frames only (one small file each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unetlab.data.io import read_stack
from unetlab.data.names import CTC_SEG
from unetlab.data.read_notes import note_once

if TYPE_CHECKING:
    from unetlab.data.pairs import Pair

#: frames named in the line, then "and N more"
_LISTED = 4


def unmarked(mask: np.ndarray, markers: np.ndarray) -> tuple[int, int]:
    """(cells marked, those with no mask): the marker ids of ``markers`` (0: none), and how
    many of them have no object of ``mask`` (object ids, 0: background) under any pixel."""
    marked = np.unique(markers[markers > 0])
    covered = np.unique(markers[(markers > 0) & (mask > 0)])
    return len(marked), len(marked) - len(covered)


def markers_of(mask: Path) -> Path:
    """The tracking markers of the frame of a gold-truth mask: ``01_GT/SEG/man_seg009.tif``:
    ``01_GT/TRA/man_track009.tif``."""
    return mask.parent.parent / "TRA" / f"man_track{CTC_SEG.fullmatch(mask.name).group(1)}.tif"


def _said(pair: Pair, masks: Mapping[Path, np.ndarray]) -> str | None:
    """``01/t009: 4 of 7 cells marked in TRA have no mask`` where the markers of ``pair``'s
    frame mark cells its mask leaves out; None where none, or it has no markers of its size
    (a 3-D frame's single-slice mask)."""
    track = markers_of(pair.mask)
    if not track.is_file():
        return None
    mask = masks[pair.mask] if pair.mask in masks else read_stack(pair.mask, mask=True)
    markers = read_stack(track, mask=True)
    if markers.shape != mask.shape:
        return None
    marked, left = unmarked(mask[pair.page], markers[pair.page])
    return f"{pair.name}: {left} of {marked} cells marked in TRA have no mask" if left else None


def warn_partial_truth(
    pairs: Sequence[Pair], masks: Mapping[Path, np.ndarray] | None = None
) -> None:
    """One warning naming the frames of ``pairs`` (those of the layout: paired with
    ``man_segNNN.tif``) whose gold truth leaves out cells their TRA markers mark, with the
    fix. ``masks``: mask files already read (by path, all pages), not read again."""
    frames = sorted((p for p in pairs if p.sequence is not None), key=lambda p: p.name)
    partial = [said for p in frames if (said := _said(p, masks or {}))]
    if not partial:
        return
    more = f" and {len(partial) - _LISTED} more" if len(partial) > _LISTED else ""
    note_once(
        f"partial gold truth: {', '.join(partial[:_LISTED])}{more}: those cells train as "
        "background and, found, score as false positives; leave those frames out (move "
        "their NN_GT/SEG/man_segNNN.tif aside) or complete their masks, or set the "
        "unannotated region to the ignore value (data.ignore_value; evaluate's "
        "--ignore-value)"
    )
