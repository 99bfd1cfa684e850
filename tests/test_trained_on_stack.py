"""A checkpoint that records no split (from before runs recorded one) trained on the pages its
run split off page by page; evaluate's 'these images trained this checkpoint' must split its
stack so too, not by s34's stack split (review s34: pages 7-9 trained it but were not marked)."""

from __future__ import annotations

import numpy as np
import tifffile

from unetlab.data.datasets import split_indices
from unetlab.evaluate.training import trained_on


def test_a_checkpoint_without_a_split_record_trained_on_pages_split_one_by_one(tmp_path):
    rng = np.random.default_rng(0)
    for folder, stack in (
        ("images", rng.integers(0, 255, (10, 16, 16), dtype=np.uint8)),
        ("masks", (rng.random((10, 16, 16)) > 0.5).astype(np.uint8) * 255),
    ):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(
            tmp_path / folder / "movie.tif", stack, imagej=True, metadata={"axes": "TYX"}
        )
    data = {"root": str(tmp_path), "val_fraction": 0.2, "seed": 0}
    trained, _ = split_indices(10, val_fraction=0.2, seed=0)
    assert sorted(page for _, page in trained_on(data)) == trained
