"""What a checkpoint records of its training that an evaluation needs: which of the images
scored it trained on (the mask value it ignored:
:func:`unetlab.inference.predict.training_ignore_value`, read by predict alike)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from unetlab.data.datasets import training_split
from unetlab.data.pairs import Pair
from unetlab.data.split_record import (
    EDITED_CHECKPOINT,
    checked_format,
    file_sha256,
    trained_flags,
)
from unetlab.errors import DatasetError, UnetlabError


def trained_on(data: dict | None) -> set[tuple[Path, int]]:
    """The (image file, page) pairs a checkpoint's run trained on, split from its data folder
    as its config's ``data`` section says (``model.training_data``); empty when that folder
    is gone."""
    try:  # a checkpoint with no split record predates s34's stack split: split by page
        train, _ = training_split(data, by_page=True)
    except DatasetError:  # no folder, or it has changed since: nothing to say
        return set()
    return {(p.image.resolve(), p.page) for p in train}


def training_overlap(pairs: Sequence[Pair], data: dict | None, split: dict | None = None) -> int:
    """How many of ``pairs`` trained a checkpoint (:func:`trained_images`)."""
    return sum(trained_images(pairs, data, split))


def trained_images(
    pairs: Sequence[Pair], data: dict | None, split: dict | None = None
) -> list[bool]:
    """Whether each of ``pairs`` trained a checkpoint: by its bytes, where the checkpoint
    records its files (``split``, :func:`unetlab.data.split_record.trained_flags`: renamed or
    copied files count, files added to its data folder since do not); else (a checkpoint
    from before runs recorded them) by the files its config's ``data`` section splits off
    now."""
    if split is not None:
        return trained_flags(pairs, checked_format(split, "the checkpoint", EDITED_CHECKPOINT))
    trained = trained_on(data)
    return [(p.image.resolve(), p.page) in trained for p in pairs]


def recorded_checkpoints(pred_dir: str | os.PathLike) -> dict[str, dict]:
    """The checkpoints that made the predictions of ``pred_dir``, as its ``predict.json``
    records them (:func:`unetlab.inference.records.read_records`), each with the split it
    records (:mod:`unetlab.data.split_record`); one gone, changed since (another sha256) or
    recording no split is left out: nothing can be said of it."""
    from unetlab.checkpoint import load_checkpoint
    from unetlab.inference.records import read_records

    found = {}
    for record in read_records(pred_dir).values():
        path = record.get("checkpoint") if isinstance(record, dict) else None
        if not path or path in found or not Path(path).is_file():
            continue
        try:
            if file_sha256(path) != record.get("sha256"):
                continue
            split = load_checkpoint(path).get("split")
        except (OSError, UnetlabError):
            continue
        if split:
            found[path] = checked_format(split, path, EDITED_CHECKPOINT)
    return found


class ScoredPage(NamedTuple):
    """A ground-truth page scored against a saved prediction: its mask file and page,
    whether its mask holds more than one value (:func:`varied`; a page of one value is
    matched by its image only), and its image file where known. It keeps no pixels: an
    evaluation of many large masks holds one at a time."""

    mask_file: Path
    page: int
    varied: bool
    image: Path | None


def varied(mask: np.ndarray) -> bool:
    """Whether ``mask`` holds more than one value (an empty field's mask tells nothing)."""
    return bool(np.ptp(mask)) if mask.size else False


def trained_pages(pages: Sequence[ScoredPage], split: dict) -> list[bool]:
    """Whether each of ``pages`` trained the run of ``split``: its image's bytes (and page)
    are a recorded training image's (:func:`trained_flags`), or, with no image known, its
    mask's bytes are a recorded training mask's (a mask of one value, such as an empty
    field's, tells nothing and counts as not trained)."""
    masks = {(e["mask_sha256"], e["page"]) for e in split["train"]}
    flags = []
    for p in pages:
        if p.image is not None:
            flags += trained_flags([Pair(p.image, p.mask_file, p.page)], split)
        else:
            flags.append(p.varied and (file_sha256(p.mask_file), p.page) in masks)
    return flags
