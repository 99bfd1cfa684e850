"""The Cell Tracking Challenge's layout (celltrackingchallenge.net, "Naming and file content
conventions"), which its data sets (PhC-C2DH-U373, DIC-C2DH-HeLa, ...) and many time-lapses
copy: a data set folder holds sequences ``01/``, ``02/``, ... of frames ``t000.tif`` ...
(``t0000.tif`` in long ones), each beside

- ``01_GT/SEG/man_seg000.tif``: the gold-truth segmentation (object ids) of only SOME frames,
  paired with the frame of its number (``man_seg013.tif`` with ``t013.tif``); a 3-D set's
  ``man_seg_TTT_ZZZ.tif`` annotates the one slice ZZZ of frame TTT, paired with that plane
  of the frame (:func:`slice_of`) where the frame has no whole mask;
- ``01_GT/TRA/man_track000.tif``: tracking markers (a blob per cell), no segmentation (read
  only to find frames whose gold truth leaves cells out: :mod:`unetlab.data.ctc_partial`);
- ``01_ST/SEG/man_seg000.tif``: the silver truth, computer-made, of every frame: trained on
  where a training chooses it (``data.ctc_truth``: :func:`truth_read`), else not read.

:func:`ctc_sequences` finds the sequences of a data set folder (or of one sequence folder
given alone), :func:`ctc_pairs` pairs their frames by number and says in one line what was
paired and what was left, :func:`ctc_part` is the line for a folder of the layout given
in the data set's place (``01_GT/``, ``01_GT/TRA/``: markers given as masks),
:func:`sequence_words` evaluate's for a ``--gt`` of other frames than those predicted.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from unetlab.data.names import CTC_SEG as SEG
from unetlab.data.names import CTC_SLICE as SLICE
from unetlab.data.names import ctc_mask, listing
from unetlab.data.read_notes import note_once
from unetlab.errors import UnetlabError, unknown_choice
from unetlab.words import first_listed, numbered, worded

#: a frame; a gold-truth mask: :data:`~unetlab.data.names.CTC_SEG`, of one 3-D slice:
#: :data:`~unetlab.data.names.CTC_SLICE`
FRAME = re.compile(r"t(\d+)\.tiff?", re.IGNORECASE)
#: the folders beside a sequence ``NN/``: its gold truth, its silver truth
TRUTHS = ("_GT", "_ST")
#: the truths a training may choose (``data.ctc_truth``): the gold (annotated by people, of
#: some frames), the silver (computer-made, of every frame), or both: the gold where a frame
#: has both
CTC_TRUTHS = {"gold": ("_GT",), "silver": ("_ST",), "both": ("_GT", "_ST")}
#: the truth read where none is chosen (``data.ctc_truth``'s default)
GOLD = "gold"
#: the truth of both kinds (:data:`CTC_TRUTHS`), the gold where a frame has it
BOTH = "both"
#: the truths as lines name them, by their folders: ``{"_GT": "gold", "_ST": "silver"}``
KINDS = {folders[0]: name for name, folders in CTC_TRUTHS.items() if len(folders) == 1}
_TRUTH = contextvars.ContextVar("unetlab_ctc_truth", default=GOLD)
#: the layout in a few words, for the lines that name it
CTC_LAYOUT = "the Cell Tracking Challenge's 01/t000.tif beside 01_GT/SEG/man_seg000.tif"


class Use(NamedTuple):
    """What a command does with the pairs, as its lines say it: training's or evaluate's
    (these said "to train on them", "nothing to train on" in evaluate, s69 re-review)."""

    verb: str  # "train on"
    done: str  # "trained on"
    left_out: str  # what the cells a partial frame leaves out do (:mod:`.ctc_partial`)
    ignored_by: str  # the setting that leaves them out
    silver: str  # how a set of the silver truth alone is read (:func:`ctc_near`)
    lacking: str  # how sequences without the truth read are read (:func:`lacking_truth`)


TRAINING = Use(
    "train on",
    "trained on",
    "train as background and, found, score as false positives",
    "data.ignore_value",
    "to train on it, set data.ctc_truth silver (--set data.ctc_truth=silver)",
    "set data.ctc_truth both (--set data.ctc_truth=both) to pair each frame with its gold "
    "truth, else its silver",
)
# evaluate scores the gold truth, and has no --set (it was told to set data.ctc_truth, s70)
SCORING = Use(
    "score",
    "scored",
    "are background in the truth: found, they score as false positives",
    "--ignore-value",
    "to score against it, copy NN_ST/SEG/ to NN_GT/SEG/ (evaluate scores the gold truth)",
    # it was told "data.ctc_truth both pairs each frame ...", a training's setting (s70)
    "not scored: evaluate scores the gold truth (to score against the silver, copy "
    "NN_ST/SEG/ to NN_GT/SEG/)",
)


@contextlib.contextmanager
def truth_read(truth: str) -> Iterator[None]:
    """Within: the sequences of the layout are found and paired with ``truth``, a key of
    :data:`CTC_TRUTHS` (challenge users train on the silver truth, which covers every frame,
    or on both; evaluate scores the gold truth, outside)."""
    token = _TRUTH.set(checked_truth(truth))
    try:
        yield
    finally:
        _TRUTH.reset(token)


def checked_truth(truth: str) -> str:
    """``truth`` where it is a key of :data:`CTC_TRUTHS`, else UnetlabError naming them
    (``split_pairs(..., ctc_truth='Silver')`` ended in a KeyError's traceback, s70 review;
    ``ctc_truth=['gold']`` in a TypeError's, "unhashable", s70 re-review)."""
    if not isinstance(truth, str) or truth not in CTC_TRUTHS:
        raise UnetlabError(unknown_choice("data.ctc_truth", truth, CTC_TRUTHS))
    return truth


def slice_of(mask: Path) -> int | None:
    """The slice a truth mask of one 3-D slice annotates (``01_GT/SEG/man_seg_013_042.tif``:
    42, a plane of ``01/t013.tif``), None for any other file."""
    found = SLICE.fullmatch(mask.name)
    return int(found.group(2)) if found and truth_of(mask) is not None else None


def truths_validated(validations: Sequence[Sequence[Path]], item: str) -> str:
    """The clause of how many masks of each validation (``validations``: a split's, or each
    fold's) are of the gold truth and of the silver, where :func:`truth_read` reads both and
    some are silver: best.pt and the label offset are chosen on them (mostly the silver,
    unsaid, s70 review; said of one sequence's split and of folds too, and no more under
    silver alone, where it counted "0 gold-truth", s71 re-review); ``item``: a mask's pair."""
    kinds = [[truth_of(m) for m in masks] for masks in validations]
    if _TRUTH.get() != BOTH or not any(TRUTHS[1] in k for k in kinds):
        return ""
    gold, silver = (", ".join(str(k.count(t)) for k in kinds) for t in TRUTHS)
    folds = ", fold by fold," if len(kinds) > 1 else ""
    return (
        f"; validation, which picks best.pt and the label offset, scores{folds} {gold} "
        f"gold-truth and {silver} silver-truth (computer-made) {item}s: evaluate --gt scores "
        "the gold truth"
    )


def truth_of(mask: Path) -> str | None:
    """The truth folder (of :data:`TRUTHS`) of a mask of the layout
    (``01_ST/SEG/man_seg000.tif``: ``_ST``), None for any other file."""
    truth = mask.parent.parent.name
    if mask.parent.name.upper() != "SEG" or not truth[: -len("_GT")].isdigit():
        return None
    return next((t for t in TRUTHS if truth.endswith(t)), None)


def refuse_other_truth(masks: Collection[str], truth: str, record: str, root: Path) -> None:
    """UnetlabError where the masks of ``record`` (a split record's, ``masks``: their paths
    relative to its data folder ``root``) are of a truth the setting ``truth``
    (``data.ctc_truth``) does not read (``train --split`` of a silver run trained on its
    silver masks, said it paired the gold truth and recorded gold, s70 review), or, under
    both, silver masks of frames that have a gold truth, which it reads in their place
    (they trained on the silver, said paired with the gold, s70 re-review)."""
    kinds = {t for m in masks if (t := truth_of(Path(m))) is not None}
    if unread := kinds - set(CTC_TRUTHS[truth]):
        needed = next(k for k, folders in CTC_TRUTHS.items() if set(folders) == kinds)
        named = " and ".join(f"{KINDS[t]} truth (NN{t}/SEG/)" for t in TRUTHS if t in unread)
        raise UnetlabError(
            f"{record} lists masks of the {named}, which data.ctc_truth {truth} does not "
            f"read: set data.ctc_truth {needed} (--set data.ctc_truth={needed}) to train on them"
        )
    shadowed = sorted(f for m in masks if (f := _gold_frame(Path(m), Path(root))))
    if shadowed and "_GT" in CTC_TRUTHS[truth]:  # the gold read, in the silver's place
        fix = (
            "set data.ctc_truth silver (--set data.ctc_truth=silver) to train on the masks it lists"
            if kinds == {"_ST"}
            else "drop --split (split=None) to split the folder as it is now"
        )
        raise UnetlabError(
            f"{record} lists the silver truth (NN_ST/SEG/) of {numbered(len(shadowed), 'frame')}"
            f" ({first_listed(shadowed, 4)}) that {worded(len(shadowed), 'has', 'have')} a "
            f"gold truth, which data.ctc_truth {truth} reads in its place: {fix}"
        )


def _gold_frame(mask: Path, root: Path) -> str | None:
    """The frame (``01/t001``) of a silver-truth ``mask`` (relative to the data folder
    ``root``) that has a gold-truth mask too, None for any other mask."""
    if truth_of(mask) != "_ST" or SEG.fullmatch(mask.name) is None:
        return None
    sequence = mask.parent.parent.name[: -len("_ST")]
    gold = root / mask.parent.parent.parent / f"{sequence}_GT" / "SEG" / mask.name
    return f"{sequence}/{_frame_of(mask)[: -len('.tif')]}" if gold.is_file() else None


def _named(folder: Path) -> Path:
    """``folder`` as given, resolved only where its name is no folder's (``.``, ``..``:
    ``Path('.').name`` is '', so a sequence given as ``.`` was no sequence, s69 review)."""
    return folder if folder.name not in ("", "..") else folder.resolve()


def ctc_sequences(root: Path) -> list[tuple[Path, Path]]:
    """``[(frames folder, its truth's SEG folder)]`` of the sequences of ``root``: a data
    set folder holding ``NN/`` beside ``NN_GT/SEG/`` (those with a SEG folder, in name
    order), or one sequence folder ``NN/`` with ``NN_GT/SEG/`` beside it; [] for any other.
    Within :func:`truth_read`, the SEG folders of the truth read (``NN_ST/SEG/`` of the
    silver; both: the gold's where there is one). The listing's names are asked first: a
    folder of 1,500 numbered samples is not stat'ed."""
    root = _named(Path(root))
    if root.name.isdigit() and (seg := _truth_folder(root)) is not None:
        return [(root, seg)]
    entries = listing(root)
    named = {d.name for d in entries}
    truths = CTC_TRUTHS[_TRUTH.get()]
    return [
        (d, seg)
        for d in entries
        if d.name.isdigit()
        and any(f"{d.name}{t}" in named for t in truths)
        and (seg := _truth_folder(d)) is not None
    ]


def _truth_folder(sequence: Path) -> Path | None:
    """The SEG folder of the first truth read (:func:`truth_read`) that the sequence folder
    ``sequence`` has beside it, or None."""
    folders = (_seg_folder(sequence, truth) for truth in CTC_TRUTHS[_TRUTH.get()])
    return next((f for f in folders if f is not None), None)


def _seg_folder(sequence: Path, truth: str = "_GT") -> Path | None:
    """The ``NN_GT/SEG/`` folder (``truth``: of :data:`TRUTHS`) beside the sequence folder
    ``sequence`` (``NN/``), or None."""
    seg = sequence.parent / f"{sequence.name}{truth}" / "SEG"
    return seg if seg.is_dir() and sequence.is_dir() else None


def _numbered(folder: Path, pattern: re.Pattern) -> dict[int, Path]:
    """``{number: file}`` of the files of ``folder`` whose whole name ``pattern`` matches."""
    return {
        int(m.group(1)): f for f in listing(folder) if (m := pattern.fullmatch(f.name)) is not None
    }


class _Left(NamedTuple):
    """What a data set of the layout holds and does not read, for its line."""

    slices: int  # masks of one 3-D slice of frames annotated whole (not read)
    strays: list[Path]  # files of the SEG/ folders read of no mask's name (man_seg002.png)
    markers: bool  # an NN_GT/TRA/ folder
    other: bool  # the truth not read (:data:`_OTHER`): an NN_ST/ folder, an NN_GT/SEG/ one


class _Count(NamedTuple):
    """What a sequence paired, for the line."""

    name: str  # "01"
    paired: int  # frames paired
    frames: int
    silver: int  # of them with the silver truth
    sliced: int = 0  # of them paired by masks of one 3-D slice
    slices: int = 0  # those masks
    filled: int = 0  # of those frames, the other slices paired with the silver truth


class _Read(NamedTuple):
    """The truth read beside a sequence (:func:`_truth_masks`)."""

    masks: dict[int, list[Path]]  # frame number: its whole mask, else its slices' masks
    silver: set[int]  # the frames of those of the silver truth
    covered: int  # masks of one slice of frames annotated whole: not read
    strays: list[Path]  # files of no mask's name
    filled: frozenset[int] = frozenset()  # frames of gold slices and the silver of the rest


#: the truth beside the one read (``data.ctc_truth``), its folder, and how lines name it
_OTHER = {GOLD: ("_ST", "silver truth (NN_ST/)"), "silver": ("_GT", "gold truth (NN_GT/SEG/)")}


def ctc_pairs(root: Path, problems: list[str], use: Use = TRAINING) -> list[tuple[Path, Path]]:
    """(frame, truth mask) of each annotated frame of the sequences of ``root``
    (:func:`ctc_sequences`), paired by frame number, with the gold truth (within
    :func:`truth_read`: the truth read); a mask of no frame added to ``problems``; what was
    paired and what was left said once, a problem where nothing was, as ``use``
    (:data:`TRAINING`, :data:`SCORING`) reads them."""
    pairs, counts, left, sequences = [], [], [], ctc_sequences(root)
    for frames_dir, _ in sequences:
        frames, read = _numbered(frames_dir, FRAME), _truth_masks(frames_dir)
        problems += [
            f"{mask}: no frame {frames_dir / _frame_of(mask)} for this mask (a mask "
            "pairs with the frame of its number)"
            for n in sorted(set(read.masks) - set(frames))
            for mask in read.masks[n]
        ]
        paired = sorted(set(read.masks) & set(frames))
        pairs += [(frames[n], mask) for n in paired for mask in read.masks[n]]
        counts.append(_counted(frames_dir.name, paired, len(frames), read))
        left.append(_left_of(frames_dir, read))
    lacking = lacking_truth(root, [frames for frames, _ in sequences])
    counts += [_Count(d.name, 0, len(_numbered(d, FRAME)), 0) for d in lacking]
    counts.sort(key=lambda c: c.name)  # in sequence order: "(02/: 5 of 5, 01/: 0 of 6)", s70
    line = _paired_line(root, counts, _together(left), use, lacking)
    if pairs:
        note_once(line, level=logging.INFO)
    else:
        problems.append(f"{line}: nothing to {use.verb}")
    return pairs


def _counted(name: str, paired: list[int], frames: int, read: _Read) -> _Count:
    """The :class:`_Count` of the sequence ``name`` of ``frames`` frames, ``paired`` those
    paired with the truth ``read``."""
    sliced = [n for n in paired if SLICE.fullmatch(read.masks[n][0].name)]
    slices = sum(1 for n in sliced for mask in read.masks[n] if SLICE.fullmatch(mask.name))
    silver, filled = len(read.silver & {*paired}), len(read.filled & {*paired})
    return _Count(name, len(paired), frames, silver, len(sliced), slices, filled)


def _truth_masks(sequence: Path) -> _Read:
    """The masks of the truths read (:func:`truth_read`) beside the sequence folder
    ``sequence`` by frame, the gold's where a frame has both (a whole mask or slices'; of
    slices, with the silver of the frame's other slices: :func:`_filled`)."""
    truths = CTC_TRUTHS[_TRUTH.get()]
    read = {t: _seg_masks(seg) for t in truths if (seg := _seg_folder(sequence, t)) is not None}
    gold, silver = (read[t].masks if t in read else {} for t in TRUTHS)
    filled = _filled(gold, silver)
    return _Read(
        silver | gold | filled,
        set(silver) - set(gold),
        sum(r.covered for r in read.values()),
        [f for r in read.values() for f in r.strays],
        frozenset(filled),
    )


def _filled(gold: dict[int, list[Path]], silver: dict[int, list[Path]]) -> dict[int, list[Path]]:
    """The masks of each frame that the ``gold`` truth annotates by slices
    (``man_seg_TTT_ZZZ.tif``) and the ``silver`` whole (``man_segTTT.tif``): the slices',
    then the silver's, which pairs with the frame's other slices (under both, the slices
    alone left the silver of a Fluo-N3DH frame's other 30 planes out, s71 re-review)."""
    return {
        n: [*masks, *silver[n]]
        for n, masks in gold.items()
        if n in silver and SLICE.fullmatch(masks[0].name) and SEG.fullmatch(silver[n][0].name)
    }


def _seg_masks(seg: Path) -> _Read:
    """The masks of the SEG folder ``seg`` by frame: a frame's whole mask
    (``man_segNNN.tif``), else those of its slices (``man_seg_NNN_ZZZ.tif``, in slice
    order); no silver frames."""
    files = listing(seg)
    whole = {int(m.group(1)): [f] for f in files if (m := SEG.fullmatch(f.name))}
    sliced: dict[int, list[Path]] = {}
    for f in files:
        if (m := SLICE.fullmatch(f.name)) is not None:
            sliced.setdefault(int(m.group(1)), []).append(f)
    covered = sum(len(masks) for n, masks in sliced.items() if n in whole)
    strays = [f for f in files if ctc_mask(f.name) is None]
    return _Read(sliced | whole, set(), covered, strays)


def lacking_truth(root: Path, read: Collection[Path]) -> list[Path]:
    """The sequences of the data set folder ``root`` beside a truth (``NN_GT/SEG/``,
    ``NN_ST/SEG/``) but not of those :func:`truth_read` reads (``read``: the sequences of
    it, :func:`ctc_sequences`): none of their frames pair (a set of silver truth read
    dropped 02/ of the gold truth alone without a word, s70 review)."""
    root = _named(Path(root))
    if root.name.isdigit():
        return []
    entries = listing(root)
    named = {d.name for d in entries}
    return [
        d
        for d in entries
        if d.name.isdigit()
        and d not in read
        and any(f"{d.name}{t}" in named for t in TRUTHS)
        and any(_seg_folder(d, t) is not None for t in TRUTHS)
    ]


#: how a second sequence is given the truth read (:func:`truth_read`): under silver it was
#: told to annotate one (NN_GT/SEG/), a truth not read (s70 re-review)
_SECOND = {
    GOLD: "annotate frames of a second sequence (NN_GT/SEG/)",
    "silver": "give a second sequence its silver truth (NN_ST/SEG/)",
    "both": "annotate frames of a second sequence (NN_GT/SEG/) or give it its silver truth "
    "(NN_ST/SEG/)",
}


def second_sequence() -> str:
    """How a second sequence gets the truth read, for the line of one sequence."""
    return _SECOND[_TRUTH.get()]


def lacking_words(lacking: list[Path]) -> str:
    """What the sequences ``lacking`` (:func:`lacking_truth`) lack: ``02/ has no silver
    truth (NN_ST/SEG/)``."""
    names = "/, ".join(d.name for d in lacking) + "/"
    truth = _TRUTH.get()
    folder = f"NN{CTC_TRUTHS[truth][0]}/SEG/"
    return f"{names} {worded(len(lacking), 'has', 'have')} no {truth} truth ({folder})"


def _frame_of(mask: Path) -> str:
    """The frame's name a truth mask pairs with, of the mask's own digits
    (``man_seg0042.tif``, ``man_seg_0042_007.tif``: ``t0042.tif``)."""
    return f"t{ctc_mask(mask.name).group(1)}.tif"


def _left_of(frames_dir: Path, read: _Read) -> _Left:
    markers = (frames_dir.parent / f"{frames_dir.name}_GT" / "TRA").is_dir()
    other = _OTHER.get(_TRUTH.get())
    beside = other is not None and (frames_dir.parent / f"{frames_dir.name}{other[0]}").is_dir()
    return _Left(read.covered, read.strays, markers, beside and _seg_folder(frames_dir) is not None)


def _together(left: list[_Left]) -> _Left:
    """What the sequences ``left`` out, together."""
    return _Left(
        sum(each.slices for each in left),
        [f for each in left for f in each.strays],
        any(each.markers for each in left),
        any(each.other for each in left),
    )


def _truth_words(counts: list[_Count]) -> str:
    """The truth the frames of ``counts`` paired with, as :func:`_paired_line` names it."""
    silver = sum(c.silver for c in counts)
    truth = _TRUTH.get()
    if truth == GOLD:
        return (
            "their gold-truth segmentation by frame number, tNNN.tif with NN_GT/SEG/man_segNNN.tif"
        )
    if truth == "silver":
        return (
            "their silver-truth segmentation (computer-made; data.ctc_truth silver) by frame "
            "number, tNNN.tif with NN_ST/SEG/man_segNNN.tif"
        )
    gold = sum(c.paired for c in counts) - silver
    return (
        f"their gold-truth segmentation, else the silver (data.ctc_truth both: {gold} gold, "
        f"{silver} silver) by frame number, tNNN.tif with NN_GT/SEG/man_segNNN.tif, else "
        "with NN_ST/SEG/man_segNNN.tif"
    )


def _paired_line(
    root: Path, counts: list[_Count], left: _Left, use: Use, lacking: list[Path]
) -> str:
    """What a data set of the layout paired (``counts``: each sequence's) and left out
    (:class:`_Left`): the frames paired by masks of one 3-D slice, the frames of no truth,
    the masks of one 3-D slice of frames annotated whole, files of another
    name, the tracking markers and the truth not read there are, the sequences ``lacking``
    the truth read (:func:`lacking_truth`)."""
    paired = sum(c.paired for c in counts)
    each = ", ".join(f"{c.name}/: {c.paired} of {c.frames}" for c in counts)
    line = (
        f"{root}: the Cell Tracking Challenge's layout: paired {numbered(paired, 'frame')} "
        f"with {_truth_words(counts)} ({each})"
    )
    if sliced := sum(c.sliced for c in counts):
        line += (
            f"; {sliced} of them by {numbered(sum(c.slices for c in counts), 'mask')} of one "
            "3-D slice (man_seg_TTT_ZZZ.tif: slice ZZZ of frame TTT), "
            + _other_planes(sliced, sum(c.filled for c in counts), use)
        )
    if unpaired := sum(c.frames for c in counts) - paired:  # "0 frames ... left out", s70
        line += f"; {numbered(unpaired, 'frame')} without one left out"
    if left.slices:
        line += (
            f"; {numbered(left.slices, 'mask')} of one 3-D slice of frames annotated whole not "
            "read (the whole frame's mask is)"
        )
    if left.strays:
        line += (
            f"; {numbered(len(left.strays), 'file')} of SEG/ not named man_segNNN.tif not "
            f"read ({left.strays[0].name}, ...): save the masks as man_segNNN.tif (TIFF)"
        )
    unread = ["TRA markers"] * left.markers
    unread += [_OTHER[_TRUTH.get()][1]] if left.other else []
    if unread:
        line += f"; {' and '.join(unread)} not {use.done}"
    if lacking:  # the setting that reads them is said there
        return line + f"; {lacking_words(lacking)}: {use.lacking}"
    return line + _choose(left, use)


def _other_planes(sliced: int, filled: int, use: Use) -> str:
    """What became of the other planes of ``sliced`` frames annotated by slices alone,
    ``filled`` of them paired with the silver truth (:func:`_filled`)."""
    if filled == sliced:
        return "their other planes with the silver truth"
    if filled:
        return f"the other planes of {filled} with the silver truth, of the rest not {use.done}"
    return f"their other planes not {use.done}"  # "those slices alone" read cryptic, s71


def _choose(left: _Left, use: Use) -> str:
    """The setting that trains on the truth ``left`` unread, where a training reads them."""
    if not left.other or use is not TRAINING:
        return ""
    return " (data.ctc_truth both trains on the gold truth, and the silver of the other frames)"


def ctc_near(root: Path, use: Use = TRAINING) -> list[str]:
    """The near misses of the layout in ``root`` (a data set folder or one sequence): frames
    ``NN/tNNN.tif`` with none of the truth read (:func:`truth_read`; no ``NN_GT/SEG/``: a
    challenge's test set), with the silver truth alone (``NN_ST/SEG/``, read as ``use``
    reads it), or the gold alone where the silver is read, each with the fix."""
    root = _named(Path(root))
    candidates = [root] if root.name.isdigit() else listing(root)
    bare = [d for d in candidates if d.name.isdigit() and d.is_dir() and _numbered(d, FRAME)]
    bare = [d for d in bare if _truth_folder(d) is None]
    named = "/, ".join(d.name for d in bare) + "/"
    if _TRUTH.get() == "silver" and any(_seg_folder(d) is not None for d in bare):
        return [  # it said "expected ... the Cell Tracking Challenge's 01/t000.tif ..." (s70)
            f"data.ctc_truth silver: {named} of {CTC_LAYOUT} {worded(len(bare), 'has', 'have')} "
            "no silver truth (NN_ST/SEG/): set data.ctc_truth gold or both"
        ]
    if any(_seg_folder(d, "_ST") is not None for d in bare):
        return [
            f"{named} of {CTC_LAYOUT} {worded(len(bare), 'has', 'have')} only the silver truth "
            f"(NN_ST/SEG/, computer-made), which is not read unless chosen: {use.silver}"
        ]
    if bare:
        return [
            f"{named} hold the frames of {CTC_LAYOUT} but no gold truth (no NN_GT/SEG/): a "
            f"test set; predict it (unetlab predict --input {bare[0]})"
        ]
    return []


def unread_note(root: Path, read: str, unread: str, fix: str) -> None:
    """One line where ``root`` holds two layouts and one is read (``read``), the other not
    (``unread``; s69 review: a CTC set beside cellpose pairs dropped them without a word)."""
    note_once(f"{root}: {read} read; {unread} beside them not: {fix}")


def sequences_beside(root: Path, read: str) -> None:
    """:func:`unread_note` where ``root``'s layout ``read`` leaves sequences of the
    Cell Tracking Challenge's layout beside it."""
    if sequences := [frames for frames, _ in ctc_sequences(root)]:
        unread = f"the Cell Tracking Challenge sequences {'/, '.join(s.name for s in sequences)}/"
        unread_note(root, read, unread, f"give a sequence folder ({sequences[0]}) to read one")


def truth_folders(folders: list[Path]) -> list[Path]:
    """The sequences' truth folders (``NN_GT/``, ``NN_ST/``, beside ``NN/``) of ``folders``,
    the sub-folders of one folder: masks and markers, no images to predict."""
    named = {f.name for f in folders}
    return [f for f in folders if f.name.endswith(TRUTHS) and f.name[: -len("_GT")] in named]


class Truth(NamedTuple):
    """A sequence's truth folder given in the data set's place (:func:`ctc_part`)."""

    said: str  # what it is
    sequence: Path  # the sequence's frames folder ``NN/``
    gold: bool  # ``NN_GT/`` or ``NN_GT/SEG/``, where the masks are
    silver: bool  # ``NN_ST/`` or ``NN_ST/SEG/``


def ctc_part(folder: Path) -> Truth | None:
    """Where ``folder`` is the gold or silver truth of a sequence of the layout (``01_GT/``,
    ``01_GT/SEG/``, ``01_GT/TRA/``, ``01_ST/SEG/``) given as a data set or its masks: what
    it is (the caller names the folder to give and its argument); else None. Paths as
    given."""
    folder = _named(Path(folder))
    truth = folder if folder.name.endswith(TRUTHS) else _named(folder.parent)
    sequence = truth.parent / truth.name[: -len("_GT")]
    if not (truth.name.endswith(TRUTHS) and sequence.name.isdigit() and sequence.is_dir()):
        return None
    kind = KINDS[next(t for t in TRUTHS if truth.name.endswith(t))]
    said = f"{folder}: this is the {kind} truth of the sequence {sequence.name}/ of a Cell "
    said += "Tracking Challenge data set"
    if folder.name.upper() == "TRA":
        said += ": TRA holds tracking markers (a blob per cell), not segmentations"
    masks = folder == truth or folder.name.upper() == "SEG"
    gold = kind == GOLD and masks and _seg_folder(sequence) is not None
    return Truth(said, sequence, gold, kind == "silver" and masks)


def sequence_words(
    root: Path, predicted: Mapping[str, Collection[Path]]
) -> Callable[[str], str] | None:
    """Where ``root`` (given as a flag to a command that pairs files by name: evaluate's
    ``--gt``) holds several sequences of the layout, whose frames share their names
    (``01/t000.tif``, ``02/t000.tif``), or is a sequence whose annotated frames' predictions
    were made from another sequence of its data set (``predicted``: each prediction's stem
    -> the folders of its inputs, resolved, as predict recorded them): the line, of the
    flag, naming the sequence to give; else None."""
    sequences = ctc_sequences(root)
    if len(sequences) == 1:
        return _other_sequence(root, *sequences[0], predicted)
    if len(sequences) < 2:
        return None
    sequences = [frames for frames, _ in sequences]
    inputs = {folder for folders in predicted.values() for folder in folders}
    made = [s for s in sequences if s.resolve() in inputs]
    said = f"{root}: holds {len(sequences)} Cell Tracking Challenge sequences "
    said += f"({'/, '.join(s.name for s in sequences)}/) whose frames share their names "
    if len(made) > 1:
        return lambda f: f"{said}(t000.tif, ...), and {_mixed(made, predicted, f)}"
    if len(made) == 1:
        fix = f"{made[0]}, the sequence predicted (as predict recorded it)"
    else:
        fix = "the one sequence predicted: " + " or ".join(map(str, sequences))
    return lambda f: f"{said}(t000.tif, ...): give {f} {fix}"


def _mixed(made: list[Path], predicted: Mapping[str, Collection[Path]], flag: str) -> str:
    """The clause of predictions made from several sequences (``made``: those, ``predicted``:
    each prediction's input folders, resolved): how many of each, and the fix (a folder
    holding both sequences' outputs was refused as "the one sequence predicted: 01 or 02",
    not said to be mixed, s70)."""
    each = ", ".join(
        f"{sum(s.resolve() in folders for folders in predicted.values())} of {s.name}/"
        for s in made
    )
    return (
        f"the predictions are of {numbered(len(made), 'sequence')} (as predict recorded "
        f"them: {each}): predict each sequence into a folder of its own (unetlab predict "
        f"--checkpoint CKPT --input {made[0]} --output out_{made[0].name}) and give {flag} "
        "the sequence of each"
    )


def _other_sequence(
    root: Path, sequence: Path, seg: Path, predicted: Mapping[str, Collection[Path]]
) -> Callable[[str], str] | None:
    """:func:`sequence_words` of one sequence (its truth's SEG folder ``seg``): where the
    predictions of its annotated frames (by their stems, ``t013`` of ``man_seg013.tif``)
    were made from another sequence's, or from it and others."""
    stems = [_frame_of(mask)[: -len(".tif")] for mask in _numbered(seg, SEG).values()]
    inputs = {folder for stem in stems for folder in predicted.get(stem, ())}
    if not (others := _siblings(sequence, inputs)):
        return None
    if sequence.resolve() in inputs:
        return lambda f: f"{root}: {_mixed([sequence, *others], predicted, f)}"
    said = f"{root}: the predictions were made from the frames of the sequence "
    said += f"{others[0].name}/ (as predict recorded them), not of {sequence.name}/"
    return lambda f: f"{said}: give {f} {sequence.parent / others[0].name}"


def _siblings(sequence: Path, predicted: Collection[Path]) -> list[Path]:
    """The folders of ``predicted`` that are other sequences of ``sequence``'s data set."""
    real = sequence.resolve()
    return sorted(
        p for p in predicted if p.parent == real.parent and p != real and p.name.isdigit()
    )
