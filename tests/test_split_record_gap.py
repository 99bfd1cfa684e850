"""A single stack's split leaves the page before its validation block out of both sides
(:mod:`unetlab.data.stack_split`): a resumed run, or a fold of ``train --folds``, must not
call that page an image added to the folder since the run began (audit s34 stacks 7)."""

from __future__ import annotations

import numpy as np
import tifffile

from unetlab.data.datasets import split_pairs
from unetlab.data.folds import fold_pairs
from unetlab.data.pairs import find_pairs
from unetlab.data.split_record import added_pairs, split_record


def _stack(root, pages: int) -> None:
    rng = np.random.default_rng(0)
    for folder, high in (("images", 255), ("masks", 2)):
        (root / folder).mkdir(parents=True)
        data = rng.integers(0, high, (pages, 8, 8), dtype=np.uint8)
        tifffile.imwrite(root / folder / "movie.tif", data, photometric="minisblack")


def test_a_stacks_gap_page_is_not_an_added_image(tmp_path):
    _stack(tmp_path / "data", 10)
    root = tmp_path / "data"
    train, val = split_pairs(root, val_fraction=0.2, seed=0)
    assert len(train) + len(val) == 9  # page 7: the gap
    now = find_pairs(root)
    assert added_pairs(split_record(root, train, val), now, root) == []
    for fold_train, fold_val in fold_pairs(now, 3, seed=0):
        assert added_pairs(split_record(root, fold_train, fold_val), now, root) == []
    (root / "images" / "new.tif").write_bytes((root / "images" / "movie.tif").read_bytes())
    (root / "masks" / "new.tif").write_bytes((root / "masks" / "movie.tif").read_bytes())
    added = added_pairs(split_record(root, train, val), find_pairs(root), root)
    assert {p.image.name for p in added} == {"new.tif"} and len(added) == 10
