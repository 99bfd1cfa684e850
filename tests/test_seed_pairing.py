"""The plan's look for a ``data.seed`` that validates a class pairs the data set once for
all the seeds it tries (up to ``SEEDS_TRIED``): it paired it again for each, and 20 times
for nothing where train/ and val/ folders fix the split."""

from __future__ import annotations

import numpy as np

from tests.test_plan_sparse import _ten_pairs
from unetlab.data import datasets
from unetlab.data.write import write_dataset
from unetlab.plan import plan_training


def _pairings(monkeypatch) -> list[str]:
    """The folders paired (``find_pairs``) by the data set splits from now on."""
    paired: list[str] = []
    find = datasets.find_pairs

    def counting(folder, *args, **kwargs):
        paired.append(str(folder))
        return find(folder, *args, **kwargs)

    monkeypatch.setattr(datasets, "find_pairs", counting)
    return paired


def test_a_random_splits_seeds_are_tried_on_one_pairing(tmp_path, monkeypatch):
    root, cfg = _ten_pairs(tmp_path, {3: (0, 2)})  # the first seeds move both or neither
    paired = _pairings(monkeypatch)
    (line,) = [n for n in plan_training(cfg)[1].notes if "in no validation image" in n]
    assert "data.seed=" in line
    assert paired == [str(root)] * 2  # the plan's split, then every seed tried


def test_a_fixed_split_tries_no_seed(tmp_path, monkeypatch):
    """train/ and val/ folders, value 2 in two training images only: no seed moves it."""
    rng = np.random.default_rng(0)
    masks = [np.ones((32, 32), np.uint8) for _ in range(6)]
    masks[0][:4, :4] = masks[1][:4, :4] = 2
    images = [rng.integers(0, 255, (32, 32), np.uint8) for _ in masks]
    write_dataset(images[:4], masks[:4], tmp_path / "set" / "train")
    write_dataset(images[4:], masks[4:], tmp_path / "set" / "val")
    from unetlab.config import load_config

    cfg = load_config(None, [f"data.root={tmp_path / 'set'}", "data.label_values=[0,1,2]"])
    paired = _pairings(monkeypatch)
    (line,) = [n for n in plan_training(cfg)[1].notes if "in no validation image" in n]
    assert "move an image with it" in line and "data.seed=" not in line
    assert len(paired) == 2  # train/ and val/, by the plan's split alone
