"""The Cell Tracking Challenge's layout (celltrackingchallenge.net, "Naming and file content
conventions"), which its data sets (PhC-C2DH-U373, DIC-C2DH-HeLa, ...) and many time-lapses
copy: a data set folder holds sequences ``01/``, ``02/``, ... of frames ``t000.tif`` ...
(``t0000.tif`` in long ones), each beside

- ``01_GT/SEG/man_seg000.tif``: the gold-truth segmentation (object ids) of only SOME frames,
  paired with the frame of its number (``man_seg013.tif`` with ``t013.tif``); a 3-D set's
  ``man_seg_TTT_ZZZ.tif`` annotates the one slice ZZZ of frame TTT (not read: said);
- ``01_GT/TRA/man_track000.tif``: tracking markers (a blob per cell), no segmentation;
- ``01_ST/SEG/``: the silver truth, computer-made (not read: the gold truth trains).

:func:`ctc_sequences` finds the sequences of a data set folder (or of one sequence folder
given alone), :func:`ctc_pairs` pairs their frames by number and says in one line what was
paired and what was left, :func:`ctc_part` is the line for a folder of the layout given
in the data set's place (``01_GT/``, ``01_GT/TRA/``: markers given as masks).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from unetlab.data.names import listing
from unetlab.data.read_notes import note_once
from unetlab.words import numbered

#: a frame, a gold-truth mask, a 3-D set's mask of one slice (``man_seg_TTT_ZZZ.tif``)
FRAME = re.compile(r"t(\d+)\.tiff?", re.IGNORECASE)
SEG = re.compile(r"man_seg(\d+)\.tiff?", re.IGNORECASE)
SLICE = re.compile(r"man_seg_(\d+)_(\d+)\.tiff?", re.IGNORECASE)
#: the folders beside a sequence ``NN/``: its gold truth, its silver truth
TRUTHS = ("_GT", "_ST")
#: the layout in a few words, for the lines that name it
CTC_LAYOUT = "the Cell Tracking Challenge's 01/t000.tif beside 01_GT/SEG/man_seg000.tif"


def seg_mask(path: Path) -> bool:
    """Whether ``path`` is named as a gold-truth mask of the layout (``man_seg013.tif``)."""
    return SEG.fullmatch(path.name) is not None


def ctc_sequences(root: Path) -> list[tuple[Path, Path]]:
    """``[(frames folder, its gold-truth SEG folder)]`` of the sequences of ``root``: a data
    set folder holding ``NN/`` beside ``NN_GT/SEG/`` (those with a SEG folder, in name
    order), or one sequence folder ``NN/`` with ``NN_GT/SEG/`` beside it; [] for any other."""
    if root.name.isdigit() and (seg := _seg_folder(root)) is not None:
        return [(root, seg)]
    return [
        (d, seg)
        for d in listing(root)
        if d.name.isdigit() and d.is_dir() and (seg := _seg_folder(d)) is not None
    ]


def _seg_folder(sequence: Path) -> Path | None:
    """The ``NN_GT/SEG/`` folder beside the sequence folder ``sequence`` (``NN/``), or None."""
    seg = sequence.parent / f"{sequence.name}_GT" / "SEG"
    return seg if seg.is_dir() else None


def _numbered(folder: Path, pattern: re.Pattern) -> dict[int, Path]:
    """``{number: file}`` of the files of ``folder`` whose whole name ``pattern`` matches."""
    return {
        int(m.group(1)): f for f in listing(folder) if (m := pattern.fullmatch(f.name)) is not None
    }


def ctc_pairs(root: Path, names: list[str] | None, problems: list[str]) -> list[tuple[Path, Path]]:
    """(frame, gold-truth mask) of each annotated frame of the sequences of ``root``
    (:func:`ctc_sequences`), paired by frame number (``names``: those frame stems only); a
    mask of no frame added to ``problems``; what was paired and what was left said once."""
    pairs, counts, slices = [], [], 0
    for frames_dir, seg_dir in ctc_sequences(root):
        frames, masks = _numbered(frames_dir, FRAME), _numbered(seg_dir, SEG)
        problems += [
            f"{masks[n]}: no frame {frames_dir}/t{n:03d}.tif for this mask (a mask pairs with "
            "the frame of its number)"
            for n in sorted(set(masks) - set(frames))
        ]
        paired = [(frames[n], masks[n]) for n in sorted(set(masks) & set(frames))]
        pairs += [p for p in paired if names is None or p[0].stem in names]
        counts.append((frames_dir.name, len(paired), len(frames)))
        slices += sum(1 for f in listing(seg_dir) if SLICE.fullmatch(f.name))
    note_once(_paired_line(root, counts, slices), level=logging.INFO)
    return pairs


def _paired_line(root: Path, counts: list[tuple[str, int, int]], slices: int) -> str:
    """What a data set of the layout paired (``counts``: (sequence, frames paired, frames)
    each) and left out: the frames of no gold truth, the masks of one 3-D slice, the
    tracking markers and the silver truth."""
    paired = sum(c[1] for c in counts)
    each = ", ".join(f"{name}/: {n} of {total}" for name, n, total in counts)
    left = sum(c[2] for c in counts) - paired
    line = (
        f"{root}: the Cell Tracking Challenge's layout: paired {numbered(paired, 'frame')} "
        f"with their gold-truth segmentation by frame number, tNNN.tif with NN_GT/SEG/"
        f"man_segNNN.tif ({each}); {numbered(left, 'frame')} without one left out"
    )
    if slices:
        line += (
            f"; {numbered(slices, 'mask')} of one 3-D slice (man_seg_TTT_ZZZ.tif) not read: "
            "save slice ZZZ of frame TTT as an image of its own to train on it"
        )
    return line + "; TRA markers and silver truth (NN_ST/) not read"


def ctc_part(folder: Path) -> tuple[str, Path] | None:
    """Where ``folder`` is the gold or silver truth of a sequence of the layout (``01_GT/``,
    ``01_GT/SEG/``, ``01_GT/TRA/``, ``01_ST/SEG/``) given as a data set or its masks: (what
    it is, the sequence's frames folder ``01/``; the caller names the folder to give and its
    argument); else None."""
    folder = folder.resolve()
    truth = folder if folder.name.endswith(TRUTHS) else folder.parent
    sequence = truth.parent / truth.name[: -len("_GT")]
    if not (truth.name.endswith(TRUTHS) and sequence.name.isdigit() and sequence.is_dir()):
        return None
    kind = "silver" if truth.name.endswith("_ST") else "gold"
    said = f"{folder}: this is the {kind} truth of the sequence {sequence.name}/ of a Cell "
    said += "Tracking Challenge data set"
    if folder.name.upper() == "TRA":
        said += ": TRA holds tracking markers (a blob per cell), not segmentations"
    return said, sequence


def gold_sequence(folder: Path) -> Path | None:
    """The sequence ``NN/`` whose gold truth ``folder`` is (``NN_GT/`` or ``NN_GT/SEG/``,
    given where masks are: its masks pair with the frames' predictions by number), else
    None."""
    if (part := ctc_part(folder)) is None:
        return None
    gold = part[1].parent / f"{part[1].name}_GT"
    return part[1] if folder.resolve() in (gold, gold / "SEG") and _seg_folder(part[1]) else None


def sequences_line(root: Path, flag: str) -> str | None:
    """Where ``root`` holds several sequences of the layout, whose frames share their names
    (``01/t000.tif``, ``02/t000.tif``), given as ``flag`` to a command that pairs files by
    name (evaluate's predictions with their masks): the line naming the sequences and the
    one folder to give; else None."""
    sequences = [frames for frames, _ in ctc_sequences(root)]
    if len(sequences) < 2:
        return None
    return (
        f"{root}: holds {len(sequences)} Cell Tracking Challenge sequences "
        f"({'/, '.join(s.name for s in sequences)}/) whose frames share their names (t000.tif, "
        f"...): give {flag} the one sequence predicted (e.g. {flag} {sequences[-1]})"
    )
