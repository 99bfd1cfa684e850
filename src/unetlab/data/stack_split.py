"""Train/validation splits that keep the frames of a stack apart (audit s34 stacks 7).

The pages of one movie or z-stack are neighbouring frames or planes, near copies of each
other: split at random, a validation page sits between training pages and the val figures
(val mIoU, the choice of best.pt) are inflated. So pairs of which some file holds several
pages are split by file (:func:`file_split`: every page of a file on one side, the val
share counted in pages), and a single stack holds out a contiguous block of its last pages,
the page before the block left out as a gap (:func:`block_split`). K-fold the same way
(:func:`file_folds`, :func:`block_folds`). Folders of single-page images are not split
here: they split image by image as before (:func:`unetlab.data.datasets.split_indices`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from unetlab.data.ctc import (
    TRAINING,
    ctc_sequences,
    lacking_truth,
    lacking_words,
    second_sequence,
    truth_of,
    truths_validated,
)
from unetlab.data.pairs import Pair
from unetlab.data.tiffmeta import DATA_AXES_AS, read_page_axes
from unetlab.errors import Spelled, UnetlabError, spelled
from unetlab.words import numbered

Indices = list[int]


def val_count(n: int, val_fraction: float) -> int:
    """How many of ``n`` items validate: ``round(n * val_fraction)``, at least 1 when
    ``n >= 2`` and ``val_fraction > 0``, and never all of them (training keeps at least 1)."""
    if not 0.0 <= val_fraction < 1.0:
        raise UnetlabError(f"val_fraction must be in [0, 1), not {val_fraction}")
    return min(max(round(n * val_fraction), 1), n - 1) if val_fraction > 0 and n >= 2 else 0


def has_stacks(pairs: Sequence[Pair]) -> bool:
    """Whether some pair is a page of a file of several pages (a movie, a z-stack; not the
    images of a data set in one ``.npz``, :attr:`~unetlab.data.pairs.Pair.data_set_file`)."""
    return any(p.pages > 1 and not p.data_set_file for p in pairs)


def split_whole(pairs: Sequence[Pair]) -> bool:
    """Whether ``pairs`` split by :func:`file_groups`, never frame by frame: some pair is a
    page of a stack, or they are frames of several time-lapse sequences (:func:`sequences`)."""
    return has_stacks(pairs) or len(sequences(pairs)) > 1


def sequences(pairs: Sequence[Pair]) -> list[Path]:
    """The sequence folders (``01/``, :attr:`~unetlab.data.pairs.Pair.sequence`) of the
    frames of the Cell Tracking Challenge's layout among ``pairs``, in the order they first
    appear."""
    return list(dict.fromkeys(p.sequence for p in pairs if p.sequence is not None))


def file_groups(pairs: Sequence[Pair]) -> list[Indices]:
    """The indices of ``pairs`` by image file, files in the order they first appear; by
    sequence where they are frames of several sequences (:func:`sequences`: a time-lapse's
    frames are near copies of their neighbours, as a stack's pages are; s69 review)."""
    by_sequence = len(sequences(pairs)) > 1
    groups: dict[Path, Indices] = {}
    for i, pair in enumerate(pairs):
        groups.setdefault(pair.sequence if by_sequence else pair.image, []).append(i)
    return list(groups.values())


class Whole(NamedTuple):
    """What a split keeps whole (:func:`kept_whole`), in the words of its lines."""

    held: str  # what the data holds
    group: str  # one of the groups kept on one side
    item: str  # one of their pairs
    together: str  # what stays together
    name: Callable[[Pair], str]  # the group of a pair, as the lines name it


#: the words of a stack's files, of time-lapse sequences
FILES = Whole("stacks", "file", "page", "the pages of a stack", lambda p: p.file_name)
SEQUENCES = Whole(
    "time-lapse sequences",
    "sequence",
    "frame",
    "the frames of a sequence",
    lambda p: f"{p.sequence.name}/",
)


#: sequences of 3-D frames, whose pairs are the frames' slices (said "15 frames of 1
#: sequence validate" of 3 frames of 5 slices, s69 re-review)
SEQUENCES_OF_SLICES = SEQUENCES._replace(item="slice", together="the slices of a sequence")


def kept_whole(pairs: Sequence[Pair]) -> Whole:
    """The words of :func:`file_groups`' groups of ``pairs``: sequences (of 3-D frames'
    slices), else files."""
    if len(sequences(pairs)) < 2:
        return FILES
    return SEQUENCES_OF_SLICES if has_stacks(pairs) else SEQUENCES


def one_sequence_note(pairs: Sequence[Pair], validations: Sequence[Indices] = ()) -> str | None:
    """The line where ``pairs`` are the frames of one time-lapse sequence (split frame by
    frame, validation frames beside their neighbours in training) naming how to hold a whole
    sequence out, and the truths ``validations`` score (the indices of a split's validation
    frames, or each fold's: :func:`~unetlab.data.ctc.truths_validated`); None for any other
    pairs."""
    found = sequences(pairs)
    if len(found) != 1 or has_stacks(pairs):
        return None
    (sequence,) = found
    read = [s for s, _ in ctc_sequences(sequence.parent)]
    named = "/, ".join(s.name for s in read)
    fix = (
        f"give the data set folder {sequence.parent} (sequences {named}/)"
        if len(read) > 1
        else f"{second_sequence()} in {sequence.parent} and give that folder"
    )
    if len(read) == 1 and (lacking := lacking_truth(sequence.parent, read)):
        # it said to annotate a second sequence, 02/ of the gold truth beside it (s70 review)
        fix = f"{lacking_words(lacking)}: {TRAINING.lacking}"
    gold = all(truth_of(p.mask) == "_GT" for p in pairs)  # computer-made: not "annotated"
    return (
        f"{sequence.name}/ is one time-lapse sequence: its {len(pairs)} "
        f"{'annotated' if gold else 'paired'} frames are split among themselves, and "
        "neighbouring frames are alike, so the validation figures flatter the model; to hold "
        f"a whole sequence out, {fix}"
    ) + truths_validated([[pairs[i].mask for i in val] for val in validations], "frame")


def block_split(n: int, val_fraction: float) -> tuple[Indices, Indices, Indices]:
    """(train, val, gap) of the ``n`` pages of one stack: val its last :func:`val_count`
    pages, gap the page before them (left out of both, unless training would keep none),
    train the pages before."""
    n_val = val_count(n, val_fraction)
    if n_val == 0:
        return list(range(n)), [], []
    start = n - n_val
    gap = [start - 1] if start >= 2 else []
    return list(range(start - len(gap))), list(range(start, n)), gap


def file_split(sizes: Sequence[int], val_fraction: float, seed: int) -> tuple[Indices, Indices]:
    """(train, val) file indices for files of ``sizes`` pages: in an order drawn from
    ``seed``, each file validates when the val pages stay within :func:`val_count` of all
    pages; when none fits, the smallest file (the first drawn of those) validates alone.
    Never every file, none with a ``val_fraction`` of 0 or a single file."""
    target = val_count(sum(sizes), val_fraction)
    if target == 0 or len(sizes) < 2:
        return list(range(len(sizes))), []
    order = np.random.default_rng(seed).permutation(len(sizes)).tolist()
    val, held = [], 0
    for f in order:
        if held + sizes[f] <= target:
            val.append(f)
            held += sizes[f]
    val = val or [min(order, key=lambda f: sizes[f])]
    return sorted(set(range(len(sizes))) - set(val)), sorted(val)


def stack_split(
    pairs: Sequence[Pair], *, val_fraction: float, seed: int, axes_as: Spelled = DATA_AXES_AS
) -> tuple[Indices, Indices, str | None]:
    """(train, val, note) indices of ``pairs`` (some of them pages of a stack): one file
    holds out a block (:func:`block_split`), several split by file (:func:`file_split`);
    ``note``: one line saying what validates and why, None when nothing does. ``axes_as``:
    the axes a warning of the stack's names, as its caller gives them (a training's
    ``cfg.data.axes``; split_pairs' ``axes=``)."""
    groups = file_groups(pairs)
    if len(groups) == 1:
        (pages,) = groups
        train, val, gap = block_split(len(pages), val_fraction)
        train, val, gap = ([pages[k] for k in part] for part in (train, val, gap))
        return train, val, _block_note(pairs, val, gap, axes_as) if val else None
    train_files, val_files = file_split([len(g) for g in groups], val_fraction, seed)
    train = sorted(i for f in train_files for i in groups[f])
    val = sorted(i for f in val_files for i in groups[f])
    return train, val, _file_note(pairs, train, val, val_fraction) if val else None


def _block_note(pairs: Sequence[Pair], val: Indices, gap: Indices, axes_as: Spelled) -> str:
    first, last = pairs[val[0]], pairs[val[-1]]
    axes = read_page_axes(first.image, first.pages, axes_as=axes_as)  # a movie's frames
    gapped = f", {axes.label(pairs[gap[0]].page)} left out as a gap" if gap else ""
    held = (
        f"{axes.label(first.page)} to {axes.label(last.page)}"
        if len(axes.letters) > 1
        else f"{axes.noun()} {first.page}-{last.page}"
    )
    return (
        f"{first.image.name} is one stack of {first.pages} {axes.noun()}: validation is its "
        f"last {len(val)} ({held}){gapped}, training the {axes.noun()} before; neighbouring "
        "frames are near copies, so random ones would inflate the val figures (a val/ folder "
        "or another stack validates on other data)"
    )


def _file_note(pairs: Sequence[Pair], train: Indices, val: Indices, fraction: float) -> str:
    whole, asked = kept_whole(pairs), val_count(len(pairs), fraction)
    files = sorted({whole.name(pairs[i]) for i in val})
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return (
        f"the data holds {whole.held}: split by {whole.group}, every {whole.item} of a "
        f"{whole.group} on one side (neighbouring frames are near copies): "
        f"{numbered(len(val), whole.item)} of {numbered(len(files), whole.group)} "
        f"{'validates' if len(val) == 1 else 'validate'} ({shown}), {len(train)} train "
        f"(data.val_fraction {fraction:g} of {len(pairs)} {whole.item}s asked {asked})"
        + (_over_asked(pairs, whole) if len(val) > asked else "")
        + truths_validated([[pairs[i].mask for i in val]], whole.item)
    )


def _over_asked(pairs: Sequence[Pair], whole: Whole) -> str:
    """Where no group is as small as the validation share asked and the smallest validates:
    the way that validates on all (2 sequences at 0.2: half the gold truth validated, unsaid,
    s69 re-review)."""
    n = len(file_groups(pairs))
    return (
        f"; no {whole.group} is as small as the share asked, so more validate: train "
        f"--folds {n} validates on each of the {n} {whole.group}s in turn and trains on the "
        "others"
    )


def block_folds(n: int, k: int) -> list[tuple[Indices, Indices]]:
    """``k`` (train, val) page lists of one stack of ``n`` pages: fold ``i`` validates the
    ``i``-th of ``k`` contiguous blocks and trains on the other pages but the one on each
    side of the block (a gap, kept when training would otherwise keep none)."""
    check_folds(n, k, "pages")
    folds = []
    for block in np.array_split(np.arange(n), k):
        val = block.tolist()
        rest = [i for i in range(n) if not val[0] <= i <= val[-1]]
        train = [i for i in rest if not val[0] - 1 <= i <= val[-1] + 1] or rest
        folds.append((train, val))
    return folds


def file_folds(
    sizes: Sequence[int], k: int, *, seed: int, whole: Whole = FILES
) -> list[tuple[Indices, Indices]]:
    """``k`` (train, val) file index lists of files of ``sizes`` pages: files in an order
    drawn from ``seed``, the largest first, each dealt to the fold of fewest pages so far,
    so that every file validates in exactly one fold and folds hold about as many pages.
    ``whole``: the files' words (sequences of frames), for a refusal."""
    check_folds(len(sizes), k, f"{whole.group}s ({whole.together} stay in one fold)")
    order = np.random.default_rng(seed).permutation(len(sizes)).tolist()
    order.sort(key=lambda f: -sizes[f])  # stable: the drawn order among equal sizes
    folds: list[Indices] = [[] for _ in range(k)]
    loads = [0] * k
    for f in order:
        i = loads.index(min(loads))
        folds[i].append(f)
        loads[i] += sizes[f]
    return [(sorted(set(range(len(sizes))) - set(v)), sorted(v)) for v in folds]


#: the fold count as the caller gives it (:func:`~unetlab.errors.spelled`: fit_folds' ``k``
#: was named ``--folds``, s53)
K = Spelled("k=", "--folds ")


def check_folds(n: int, k: int, what: str) -> None:
    """``k`` folds of ``n`` items (``what``: images, files) refused in one line where there
    are fewer than 2 or more than ``n``, the count named as the caller gives it (``K``)."""
    if k < 2:
        raise UnetlabError(
            **spelled(lambda f: f"{f}{k}: cross-validation takes 2 folds or more", K)
        )
    if k > n:
        raise UnetlabError(
            **spelled(
                lambda f: (
                    f"{f}{k} but the data has {n} {what}: give at most {n} folds (one "
                    "held out in each)"
                ),
                K,
            )
        )


def stack_folds(pairs: Sequence[Pair], k: int, *, seed: int) -> list[tuple[Indices, Indices]]:
    """``k`` (train, val) index lists of ``pairs`` (some of them pages of a stack): blocks
    of a single stack (:func:`block_folds`), else whole files (:func:`file_folds`)."""
    groups = file_groups(pairs)
    if len(groups) == 1:
        (pages,) = groups
        return [
            ([pages[i] for i in train], [pages[i] for i in val])
            for train, val in block_folds(len(pages), k)
        ]
    return [
        (sorted(i for f in train for i in groups[f]), sorted(i for f in val for i in groups[f]))
        for train, val in file_folds(
            [len(g) for g in groups], k, seed=seed, whole=kept_whole(pairs)
        )
    ]


def next_to_training(train: Sequence[Pair], val: Sequence[Pair]) -> list[Pair]:
    """The ``val`` pairs whose file's page before or after trains: a split that put
    neighbouring frames of a stack on both sides (a run split before stacks were split by
    file, a record repeated with ``--split``); none of a data set in one ``.npz`` (its
    pages are images: :attr:`~unetlab.data.pairs.Pair.data_set_file`)."""
    trained = {(p.image, p.page) for p in train}
    near = [p for p in val if {(p.image, p.page - 1), (p.image, p.page + 1)} & trained]
    return [p for p in near if not p.data_set_file]


def sequences_on_both_sides(train: Sequence[Pair], val: Sequence[Pair]) -> list[Pair]:
    """The ``val`` frames whose sequence trains too, where the frames are of several
    sequences (:func:`sequences`): a split recorded before sequences were held out whole
    (s69 review), resumed or repeated with ``--split``."""
    if len(sequences([*train, *val])) < 2:
        return []
    trained = set(sequences(train))
    return [p for p in val if p.sequence in trained]
