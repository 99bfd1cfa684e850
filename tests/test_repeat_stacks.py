"""Training again from the config.yaml of a run made before stacks were split by file (audit
s34 stacks 7) said the stacks had "moved between training and validation (the split drawn
again)" and that keeping the run's seed and fraction would repeat it: no file had moved, the
run had split its stacks page by page (session 35 repro 3)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.config import Config, save_config
from unetlab.data.datasets import split_pairs
from unetlab.data.split_record import split_record, write_split
from unetlab.train.repeat import other_data


@pytest.fixture
def stacks(tmp_path):
    """A data folder of three grey stacks (4, 3 and 5 pages of 16 x 16) and its config."""
    rng = np.random.default_rng(0)
    for name, pages in (("a", 4), ("b", 3), ("c", 5)):
        for folder, high in (("images", 255), ("masks", 2)):
            (tmp_path / "data" / folder).mkdir(parents=True, exist_ok=True)
            data = rng.integers(0, high, (pages, 16, 16), dtype=np.uint8)
            tifffile.imwrite(
                tmp_path / "data" / folder / f"{name}.tif", data, photometric="minisblack"
            )
    cfg = Config()
    cfg.data.root = str(tmp_path / "data")
    return tmp_path, cfg


def _run(tmp_path, cfg, record: dict):
    run = tmp_path / "runs" / "old"
    run.mkdir(parents=True)
    save_config(cfg, run / "config.yaml", header="resolved config of a unetlab run")
    write_split(run / "split.json", record)
    return run


def test_a_run_that_split_its_stacks_page_by_page_moved_no_file(stacks):
    tmp_path, cfg = stacks
    root = cfg.data.root
    run = _run(tmp_path, cfg, split_record(root, *split_pairs(root, by_page=True)))
    text = other_data(run / "config.yaml", cfg)
    assert "moved between training and validation" not in text
    assert "stacks whose pages that run split page by page" in text
    assert "no file moved or changed: 3 (images/a.tif, images/b.tif, images/c.tif)" in text
    assert text.endswith(f"split its pages as it did: add --split {run / 'split.json'}")
    assert "keep its data.seed" not in text


def test_a_page_split_drawn_with_another_seed_still_moved(stacks):
    tmp_path, cfg = stacks
    root = cfg.data.root
    drawn = [split_pairs(root, by_page=True, seed=s) for s in range(1, 20)]
    other = next(d for d in drawn if d != split_pairs(root, by_page=True))
    run = _run(tmp_path, cfg, split_record(root, *other))
    text = other_data(run / "config.yaml", cfg)
    assert "moved between training and validation (the split drawn again)" in text
