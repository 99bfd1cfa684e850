"""Frames of a stack stay on one side of the train/val split and of k folds (audit s34
stacks 7): neighbouring frames are near copies, so a validation frame between training
frames inflates the val figures."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.data.datasets import split_indices, split_pairs
from unetlab.data.folds import fold_indices, fold_pairs
from unetlab.data.pairs import find_pairs
from unetlab.data.split_record import recorded_pairs, split_differences, split_record
from unetlab.data.stack_split import (
    block_folds,
    block_split,
    file_folds,
    file_split,
    next_to_training,
)
from unetlab.errors import UnetlabError
from unetlab.train.log import log_validation


def _stack(root, name: str, pages: int, axes: str | None = None) -> None:
    rng = np.random.default_rng(pages)
    meta = {"axes": axes} if axes else {}
    for folder, high in (("images", 255), ("masks", 2)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        data = rng.integers(0, high, (pages, 8, 8), dtype=np.uint8)
        path = root / folder / f"{name}.tif"
        tifffile.imwrite(path, data, photometric="minisblack", metadata=meta)


def _png(root, name: str) -> None:
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / folder / f"{name}.png")


def _pages(pairs) -> list[tuple[str, int]]:
    return [(p.image.stem, p.page) for p in pairs]


def test_a_single_stack_holds_out_its_last_frames_after_a_gap(tmp_path, caplog):
    _stack(tmp_path, "movie", 15)
    with caplog.at_level(logging.INFO):
        train, val = split_pairs(tmp_path, val_fraction=0.2, seed=0)
    assert [p.page for p in val] == [12, 13, 14]
    assert [p.page for p in train] == list(range(11))  # page 11: the gap
    assert "movie.tif is one stack of 15 pages: validation is its last 3 (pages 12-14)" in (
        caplog.text
    )
    assert "page 11 left out as a gap" in caplog.text and not next_to_training(train, val)
    assert split_pairs(tmp_path, val_fraction=0.2, seed=5) == (train, val)  # no draw


def test_a_movies_held_out_frames_are_named_frames(tmp_path, caplog):
    """A movie's pages are frames in the split's line, as predict names them (was "pages")."""
    _stack(tmp_path, "movie", 15, axes="TYX")
    with caplog.at_level(logging.INFO):
        split_pairs(tmp_path, val_fraction=0.2, seed=0)
    assert "movie.tif is one stack of 15 frames: validation is its last 3 (frames 12-14), " in (
        caplog.text
    )
    assert "frame 11 left out as a gap, training the frames before" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):
        fold_pairs(find_pairs(tmp_path), 3, seed=0)
    assert "movie.tif is one stack of 15 frames: each of the 3 folds" in caplog.text
    assert "trains on the others but the frame on each side" in caplog.text


def test_block_split_small_stacks_and_no_validation():
    assert block_split(2, 0.2) == ([0], [1], [])  # no gap: training would keep nothing
    assert block_split(3, 0.2) == ([0], [2], [1])
    assert block_split(5, 0.0) == ([0, 1, 2, 3, 4], [], [])


def test_several_stacks_split_by_file(tmp_path, caplog):
    for i in range(5):
        _stack(tmp_path, f"movie{i}", 4)
    with caplog.at_level(logging.INFO):
        train, val = split_pairs(tmp_path, val_fraction=0.2, seed=3)
    assert len(val) == 4 and len(train) == 16  # one file of 4 pages: 20 % of the pages
    assert {p.image for p in train}.isdisjoint({p.image for p in val})
    assert "split by file, every page of a file on one side" in caplog.text
    assert "4 pages of 1 file validate (" in caplog.text  # not "page(s) of 1 file(s)"
    assert split_pairs(tmp_path, val_fraction=0.2, seed=3) == (train, val)
    seen = {split_pairs(tmp_path, val_fraction=0.2, seed=s)[1][0].image.stem for s in range(8)}
    assert len(seen) > 1  # the seed still draws which file validates


def test_a_stack_beside_single_images_stays_whole(tmp_path):
    _stack(tmp_path, "movie", 10)
    for i in range(4):
        _png(tmp_path, f"img{i}")
    for seed in range(6):
        train, val = split_pairs(tmp_path, val_fraction=0.2, seed=seed)
        movie = [p for p in val if p.image.stem == "movie"]
        assert movie == [] or len(movie) == 10
        assert {p.image for p in train}.isdisjoint({p.image for p in val})


def test_file_split_counts_pages_and_leaves_a_big_movie_to_train():
    assert file_split([100, 1, 1], 0.2, seed=0) == ([0], [1, 2])  # 20 pages asked: no movie
    assert file_split([15, 15], 0.2, seed=0)[1] in ([0], [1])  # none fits: one file
    assert file_split([3, 3], 0.0, seed=0) == ([0, 1], [])


def test_single_page_images_split_as_before(tmp_path):
    for i in range(10):
        _png(tmp_path, f"img{i}")
    pairs = find_pairs(tmp_path)
    t, v = split_indices(10, val_fraction=0.3, seed=4)
    assert split_pairs(tmp_path, val_fraction=0.3, seed=4) == (
        [pairs[i] for i in t],
        [pairs[i] for i in v],
    )
    assert fold_pairs(pairs, 3, seed=1) == [
        ([pairs[i] for i in a], [pairs[i] for i in b]) for a, b in fold_indices(10, 3, seed=1)
    ]


def test_folds_of_a_single_stack_are_contiguous_blocks(tmp_path):
    _stack(tmp_path, "movie", 9)
    folds = fold_pairs(find_pairs(tmp_path), 3, seed=0)
    assert [[p.page for p in val] for _, val in folds] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert [p.page for p in folds[1][0]] == [0, 1, 7, 8]  # pages 2 and 6: the gaps
    assert all(not next_to_training(train, val) for train, val in folds)
    assert block_folds(2, 2) == [([1], [0]), ([0], [1])]  # a gap would leave nothing


def test_folds_of_several_stacks_keep_each_file_in_one_fold(tmp_path):
    for i, n in enumerate((6, 2, 2, 3, 3)):
        _stack(tmp_path, f"movie{i}", n)
    pairs = find_pairs(tmp_path)
    folds = fold_pairs(pairs, 2, seed=0)
    vals = [{p.image.stem for p in val} for _, val in folds]
    assert vals[0].isdisjoint(vals[1]) and vals[0] | vals[1] == {f"movie{i}" for i in range(5)}
    assert sorted(len(val) for _, val in folds) == [8, 8]  # balanced by pages
    for train, val in folds:
        assert {p.image for p in train}.isdisjoint({p.image for p in val})
        assert len(train) + len(val) == 16
    with pytest.raises(UnetlabError, match="has 5 files"):
        file_folds([6, 2, 2, 3, 3], 6, seed=0)


def test_the_recorded_split_of_a_stack_is_found_again(tmp_path):
    _stack(tmp_path, "movie", 10)
    train, val = split_pairs(tmp_path, val_fraction=0.2, seed=0)
    record = split_record(tmp_path, train, val)
    assert recorded_pairs(record, tmp_path) == (train, val)
    differences = split_differences(record, train, val, tmp_path)
    assert not any(differences.values())  # the gap page is neither added nor moved


def test_validation_pages_next_to_training_pages_are_said(tmp_path, caplog):
    _stack(tmp_path, "movie", 6)
    pairs = find_pairs(tmp_path)
    with caplog.at_level(logging.WARNING):
        log_validation(([pairs[i] for i in (0, 1, 3, 5)], [pairs[2], pairs[4]]), tmp_path)
    assert "2 validation pages (" in caplog.text and "next to training pages" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        log_validation((pairs[:3], pairs[4:]), tmp_path)
    assert "next to training pages" not in caplog.text
