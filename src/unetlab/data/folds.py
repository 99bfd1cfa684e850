"""K-fold cross-validation splits: every image of a data folder validates exactly once,
in one of ``k`` runs (audit s31 fewshot 7: with 6-10 labelled images one held-out image
is an anecdote, and a seed re-drawn does not rotate it)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from unetlab.data.datasets import split_pairs
from unetlab.data.pairs import Pair
from unetlab.errors import UnetlabError


def fold_indices(n: int, k: int, *, seed: int) -> list[tuple[list[int], list[int]]]:
    """``k`` sorted (train, val) index lists of ``range(n)``: one shuffle drawn from ``seed``
    dealt into ``k`` folds of sizes differing by one at most; fold ``i`` validates on the
    ``i``-th and trains on the rest, so that each index validates exactly once."""
    if k < 2:
        raise UnetlabError(f"--folds {k}: cross-validation takes 2 folds or more")
    if k > n:
        raise UnetlabError(
            f"--folds {k} but the data has {n} images: give at most {n} folds (one image "
            "held out in each)"
        )
    order = np.random.default_rng(seed).permutation(n)
    folds = [sorted(order[i::k].tolist()) for i in range(k)]
    return [(sorted(set(range(n)) - set(val)), val) for val in folds]


def all_pairs(root: str | os.PathLike) -> list[Pair]:
    """Every pair of the data folder ``root`` as training reads it (a ``train/`` + ``val/``
    split or a VOC one pooled), its training pairs first."""
    train, val = split_pairs(root, val_fraction=0.0, quiet=True)
    return [*train, *val]


def fold_pairs(pairs: Sequence[Pair], k: int, *, seed: int) -> list[tuple[list[Pair], list[Pair]]]:
    """The (train, val) pairs of each of ``k`` folds of ``pairs`` (:func:`fold_indices`)."""
    return [
        ([pairs[i] for i in train], [pairs[i] for i in val])
        for train, val in fold_indices(len(pairs), k, seed=seed)
    ]
