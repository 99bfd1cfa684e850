"""K-fold cross-validation splits: every image of a data folder validates exactly once,
in one of ``k`` runs (audit s31 fewshot 7: with 6-10 labelled images one held-out image
is an anecdote, and a seed re-drawn does not rotate it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from unetlab.data.ctc import GOLD, truths_validated
from unetlab.data.datasets import split_pairs
from unetlab.data.io import DATA_AXES
from unetlab.data.pairs import Pair, PairReader
from unetlab.data.split_record import describe_pairs
from unetlab.data.stack_split import (
    check_folds,
    file_groups,
    kept_whole,
    one_sequence_note,
    split_whole,
    stack_folds,
)
from unetlab.data.tiffmeta import DATA_AXES_AS, read_page_axes
from unetlab.errors import DatasetError, Spelled, UnetlabError, spelled
from unetlab.words import numbered

log = logging.getLogger(__name__)


def fold_indices(n: int, k: int, *, seed: int) -> list[tuple[list[int], list[int]]]:
    """``k`` sorted (train, val) index lists of ``range(n)``: one shuffle drawn from ``seed``
    dealt into ``k`` folds of sizes differing by one at most; fold ``i`` validates on the
    ``i``-th and trains on the rest, so that each index validates exactly once."""
    check_folds(n, k, "images")
    order = np.random.default_rng(seed).permutation(n)
    folds = [sorted(order[i::k].tolist()) for i in range(k)]
    return [(sorted(set(range(n)) - set(val)), val) for val in folds]


def all_pairs(
    root: str | os.PathLike, axes: str | None = None, ctc_truth: str = GOLD
) -> list[Pair]:
    """Every pair of the data folder ``root`` as training reads it (a ``train/`` + ``val/``
    split or a VOC one pooled, the images' TIFF ``axes`` as given, a Cell Tracking Challenge
    set's ``ctc_truth``), its training pairs first."""
    split = dict(val_fraction=0.0, quiet=True, axes=axes, axes_setting=DATA_AXES)
    train, val = split_pairs(root, ctc_truth=ctc_truth, **split)
    return [*train, *val]


def fold_pairs(pairs: Sequence[Pair], k: int, *, seed: int) -> list[tuple[list[Pair], list[Pair]]]:
    """The (train, val) pairs of each of ``k`` folds of ``pairs``: image by image
    (:func:`fold_indices`) for single-page images; where some file is a stack, by whole
    files, or a single stack's contiguous blocks (:func:`unetlab.data.stack_split.stack_folds`:
    neighbouring frames are near copies, audit s34 stacks 7), said in one line."""
    if split_whole(pairs):
        folds = stack_folds(pairs, k, seed=seed)
        validated = [[pairs[i].mask for i in val] for _, val in folds]
        log.info(
            "%s", _stack_folds_note(pairs, k) + truths_validated(validated, kept_whole(pairs).item)
        )
    else:
        folds = fold_indices(len(pairs), k, seed=seed)
        if note := one_sequence_note(pairs, [val for _, val in folds]):
            log.info("%s", note)
    return [([pairs[i] for i in train], [pairs[i] for i in val]) for train, val in folds]


def _stack_folds_note(pairs: Sequence[Pair], k: int) -> str:
    groups, whole = file_groups(pairs), kept_whole(pairs)
    if len(groups) > 1:
        return (
            f"the data holds {whole.held}: its {k} folds are made of whole {whole.group}s "
            f"({numbered(len(groups), whole.group)}), every {whole.item} of a {whole.group} "
            "in one fold (neighbouring frames are near copies)"
        )
    noun = read_page_axes(pairs[0].image, len(pairs), axes_as=DATA_AXES_AS).noun()  # frames
    return (
        f"{pairs[0].image.name} is one stack of {len(pairs)} {noun}: each of the {k} folds "
        f"validates a contiguous block of them and trains on the others but the {noun[:-1]} "
        "on each side of the block (neighbouring frames are near copies)"
    )


#: other folds drawn, as fit_folds (cfg.data.seed, its k) or the command line spell it
OTHER_DRAW = Spelled(
    "(another cfg.data.seed, or another k)", "(another data.seed, or other --folds)"
)


def refuse_unlabelled_folds(
    splits: Sequence[tuple[list[Pair], list[Pair]]], ignore_value: int | None
) -> None:
    """DatasetError in one line where a fold's validation (or training) images, of
    ``splits`` as :func:`fold_pairs` draws them, hold no labelled pixel (every mask pixel
    ``ignore_value``): checked before any fold trains (it was refused when that fold
    started, after the folds before it had trained: s43 review). Each mask read once; no
    ``ignore_value``: nothing to check (no-data pixels are left to each fold's own check)."""
    if ignore_value is None:
        return
    reader, seen = PairReader(), {}
    for i, (train, val) in enumerate(splits, 1):
        for role, pairs in (("validate", val), ("train", train)):
            if not any(_labelled(reader, pair, ignore_value, seen) for pair in pairs):
                said = (
                    f"fold {i}/{len(splits)} would {role} on images none of which holds a "
                    f"labelled pixel ({describe_pairs(pairs)}: every mask pixel is "
                    "data.ignore_value); label some of them, or draw other folds "
                )
                raise DatasetError(**spelled(said.__add__, OTHER_DRAW))


def _labelled(reader: PairReader, pair: Pair, ignore_value: int, seen: dict) -> bool:
    """Whether ``pair``'s mask holds a pixel other than ``ignore_value`` (``seen``: the
    answers so far; a mask that cannot be read counts as labelled: its fold refuses it)."""
    if pair not in seen:
        try:
            mask = reader.mask_of(pair)
        except UnetlabError:
            seen[pair] = True
        else:
            seen[pair] = bool((np.asarray(mask) != ignore_value).any())
    return seen[pair]
