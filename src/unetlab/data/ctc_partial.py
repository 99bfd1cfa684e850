"""Partial gold truth of the Cell Tracking Challenge's layout (:mod:`unetlab.data.ctc`).

Some gold-truth frames (``01_GT/SEG/man_seg009.tif``) annotate only some of the cells: the
others train as background, and evaluate counts the net's finding them as false positives.
The tracking markers (``01_GT/TRA/man_track009.tif``) mark every cell of every frame, so a
marker with no object of the frame's mask under it is a cell left unannotated.
:func:`warn_partial_truth` says which frames are partial, once, with the fix; it reads the
markers of the paired frames only (one small file each).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from unetlab.data.ctc import GOLD, TRAINING, Use, truth_of
from unetlab.data.io import read_stack
from unetlab.data.names import ctc_mask
from unetlab.data.read_notes import note_once
from unetlab.errors import UnetlabError
from unetlab.words import first_listed, worded

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
    """The tracking markers of the frame of a gold-truth mask: ``01_GT/SEG/man_seg009.tif``
    (or ``man_seg_009_042.tif``, of one of its slices): ``01_GT/TRA/man_track009.tif``."""
    return mask.parent.parent / "TRA" / f"man_track{ctc_mask(mask.name).group(1)}.tif"


def _frame(pair: Pair) -> str:
    """The frame ``pair`` is a page of, with its sequence (``01/t009``), named once for all
    the pages of a 3-D frame; a slice annotated alone with its slice (``01/t009[42]``)."""
    return pair.name if pair.mask_at is not None else f"{pair.sequence.name}/{pair.image.stem}"


def _by_mask(pairs: Sequence[Pair]) -> dict[Path, list[Pair]]:
    """The pairs of ``pairs`` of the layout paired with the gold truth (``NN_GT/SEG/
    man_segNNN.tif``; the silver truth's are computer-made), by mask file, in the frames'
    name order: a 3-D frame's pages together, its files read once each."""
    gold = (p for p in pairs if p.sequence is not None and truth_of(p.mask) == "_GT")
    frames = sorted(gold, key=lambda p: p.name)
    grouped: dict[Path, list[Pair]] = {}
    for pair in frames:
        grouped.setdefault(pair.mask, []).append(pair)
    return grouped


def _said(pages: list[Pair], masks: Mapping[Path, np.ndarray]) -> str | UnetlabError | None:
    """``01/t009: 4 of 7 cells marked in TRA have no mask`` where the markers of the frame of
    ``pages`` (the pairs of one mask file) mark cells its mask leaves out, counted over its
    pages at once; the error where its markers could not be read (corrupt, empty: it stopped
    train and evaluate, s69 re-review); None where none, or it has no markers (of its size:
    a frame of another number of slices)."""
    track = markers_of(pages[0].mask)
    if not track.is_file():
        return None
    try:
        markers = read_stack(track, mask=True)
    except UnetlabError as error:
        return error
    mask = masks.get(pages[0].mask)
    mask = read_stack(pages[0].mask, mask=True) if mask is None else mask
    if markers.shape[1:] != mask.shape[1:] or len(markers) != pages[0].pages:
        return None
    at = [p.page for p in pages]
    marked, left = unmarked(mask[[p.mask_index for p in pages]], markers[at])
    if not left:
        return None
    return f"{_frame(pages[0])}: {left} of {marked} cells marked in TRA have no mask"


def _unread(frames: list[str], errors: list[UnetlabError]) -> str:
    """The clause of the frames whose markers could not be read (``errors``: theirs), ''
    where none."""
    if not errors:
        return ""
    its = "its" if len(frames) == 1 else "their"
    return f"{first_listed(frames, _LISTED)}: {its} TRA markers could not be read, not checked ({errors[0]})"


def _no_markers(grouped: Mapping[Path, list[Pair]]) -> tuple[list[str], str]:
    """The sequences whose gold-truth frames (``grouped``: :func:`_by_mask`) have no tracking
    markers at all (a set without NN_GT/TRA/ was not checked, unsaid; one sequence of two
    without them, unsaid too, s70 review), and their line ('' where none)."""
    marked: dict[str, bool] = {}
    for mask, pages in grouped.items():
        name = pages[0].sequence.name
        marked[name] = marked.get(name, False) or markers_of(mask).is_file()
    bare = sorted(name for name, has in marked.items() if not has)
    if not bare:
        return bare, ""
    return bare, (
        f"partial gold truth not checked: {'/, '.join(bare)}/ "
        f"{worded(len(bare), 'has', 'have')} no tracking markers (NN_GT/TRA/man_trackNNN.tif "
        "of the annotated frames), which find the cells a frame's gold truth leaves out"
    )


#: what leaving a partial frame out takes, by the truth read (``data.ctc_truth``): under
#: both, a frame whose gold truth is moved aside trains on its silver (s70 review)
#: and leaves out a frame without one (it was told to train on a silver it has not, s70)
_LEAVE_OUT = {
    GOLD: "leave those frames out (move their NN_GT/SEG/man_segNNN.tif aside)",
    "both": "train those frames on their silver truth (move their NN_GT/SEG/man_segNNN.tif "
    "aside: data.ctc_truth both then reads the frame's NN_ST/SEG/ mask where there is one, "
    "else leaves the frame out)",
}


def warn_partial_truth(
    pairs: Sequence[Pair],
    masks: Mapping[Path, np.ndarray] | None = None,
    *,
    use: Use = TRAINING,
    truth: str = GOLD,
) -> None:
    """One warning naming the frames of ``pairs`` (those of the layout: paired with
    ``man_segNNN.tif``) whose gold truth leaves out cells their TRA markers mark, with the
    fix, and those whose markers could not be read; ``use``: training's or evaluate's
    (:data:`~unetlab.data.ctc.SCORING`); ``truth``: the truth a training reads
    (``data.ctc_truth``), which the fix names. ``masks``: mask files already read (by path,
    all pages), not read again; each other mask file and each markers file is read once, a
    3-D frame's pages together. One line names the sequences without markers."""
    grouped = _by_mask(pairs)
    bare, line = _no_markers(grouped)
    if line:
        note_once(line, level=logging.INFO)
    grouped = {m: pages for m, pages in grouped.items() if pages[0].sequence.name not in bare}
    said = {mask: _said(pages, masks or {}) for mask, pages in grouped.items()}
    partial = [s for s in said.values() if isinstance(s, str)]
    errors = {m: e for m, e in said.items() if isinstance(e, UnetlabError)}
    unread = _unread([_frame(grouped[m][0]) for m in errors], list(errors.values()))
    if partial:
        note_once(
            f"partial gold truth: {first_listed(partial, _LISTED)}: those cells "
            f"{use.left_out}; {_LEAVE_OUT.get(truth, _LEAVE_OUT[GOLD])} or complete their "
            f"masks, or set the unannotated region to the ignore value ({use.ignored_by})"
            + (f"; {unread}" if unread else "")
        )
    elif unread:
        note_once(f"partial gold truth not checked: {unread}")
