"""train --folds K: K-fold cross-validation, each image validated exactly once (audit s31
fewshot 7)."""

from __future__ import annotations

import csv
import json

import pytest

from unetlab.cli import main
from unetlab.data.folds import fold_indices
from unetlab.errors import UnetlabError, first_line

from .test_train import write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = [
    "--no-plan",
    "--no-progress",
    "--epochs",
    "1",
    *("--set", "model.depth=2", "--set", "model.base_channels=4"),
    *("--set", "data.tile_size=32", "--set", "data.tiles_per_epoch=8"),
    *("--set", "train.batch_size=4", "--set", "train.device=cpu"),
]


@pytest.mark.parametrize(("n", "k"), [(5, 5), (7, 3), (10, 4)])
def test_each_index_validates_exactly_once(n, k):
    folds = fold_indices(n, k, seed=0)
    validated = sorted(i for _, val in folds for i in val)
    assert validated == list(range(n)) and len(folds) == k
    assert all(sorted(train + val) == list(range(n)) for train, val in folds)
    assert max(len(v) for _, v in folds) - min(len(v) for _, v in folds) <= 1
    assert folds == fold_indices(n, k, seed=0) != fold_indices(n, k, seed=1)


def test_fold_counts_are_refused_in_one_line():
    with pytest.raises(UnetlabError, match="at most 4 folds") as caught:
        fold_indices(4, 5, seed=0)
    # fit_folds' k as Python gives it (s53: it was told --folds); the command line's flag
    assert str(caught.value).startswith("k=5 but the data has 4 images: give at most 4 folds")
    assert first_line(caught.value, cli=True).startswith("--folds 5 but the data has 4 images")
    with pytest.raises(UnetlabError, match="2 folds or more") as caught:
        fold_indices(4, 1, seed=0)
    assert str(caught.value) == "k=1: cross-validation takes 2 folds or more"
    assert first_line(caught.value, cli=True) == "--folds 1: cross-validation takes 2 folds or more"


def test_train_folds_validates_every_image_once_and_writes_folds_csv(tmp_path, capsys):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    assert main(argv) == 0
    out = capsys.readouterr().out
    validated = []
    for i in (1, 2):
        record = json.loads((run / f"fold_{i}" / "split.json").read_text())
        assert len(record["train"]) == len(record["val"]) == 2
        validated += [e["image"] for e in record["val"]]
    assert sorted(validated) == [f"images/{i}.png" for i in range(4)]
    with (run / "folds.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["fold"] for r in rows] == ["1", "2"] and all(r["last_val_miou"] for r in rows)
    assert "2 folds, mean ± sd (min-max) over the folds: val mIoU of best.pt" in out
    assert "fold 1: validated on " in out
    capsys.readouterr()
    assert main([*argv, "--split", str(run / "fold_1")]) == 2
    assert "--folds trains new runs on splits of its own: drop --split" in capsys.readouterr().err


def test_folds_on_the_clock_say_the_budget_is_each_folds_and_differs(tmp_path, caplog):
    import logging

    from unetlab.config import load_config
    from unetlab.train.folds import fit_folds

    data = write_blobs(tmp_path / "data", 4)
    keys = [f"data.root={data}", "data.label_values=[0, 255]", "model.depth=2"]
    keys += ["model.base_channels=4", "data.tile_size=32", "data.tiles_per_epoch=8"]
    keys += ["train.batch_size=4", "train.device=cpu", "train.max_minutes=0.005"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        summary = fit_folds(load_config(None, keys), 2, run_dir=tmp_path / "cv", progress=False)
    assert "the budget is per fold: 0.01 min in all" in caplog.text
    # fit_folds in a notebook: as Python sets it (s53: it was told --epochs N)
    assert "cfg.train.epochs = N with cfg.train.max_minutes = 0 trains every fold" in caplog.text
    assert len(summary["folds"]) == 2 and (tmp_path / "cv" / "folds.csv").is_file()


def test_the_folds_on_the_clock_line_names_epochs_as_the_caller_sets_them(caplog):
    import logging

    from unetlab.config import load_config
    from unetlab.errors import command_spelling
    from unetlab.train.folds import _log_start

    cfg = load_config(None, ["train.max_minutes=1"])
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        _log_start(cfg, 2, 8, [4, 4])  # as the command line runs
    assert "lengths; --epochs N --minutes 0 trains every fold alike" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _log_start(cfg, 2, 8, [4, 4])
    assert "lengths; cfg.train.epochs = N with cfg.train.max_minutes = 0 trains" in caplog.text


def test_the_folds_by_epochs_fix_turns_the_clock_off_on_the_command_line(tmp_path):
    """--epochs alone kept a run's --minutes: epochs stayed an upper bound on the clock."""
    from unetlab.cli import build_parser
    from unetlab.cli.train import _settings
    from unetlab.config import load_config
    from unetlab.train.folds import BY_EPOCHS

    typed = ["train", "--data", str(tmp_path), "--folds", "2", "--minutes", "1"]
    fix = BY_EPOCHS.cli.replace("N", "3").split()
    cfg = load_config(*_settings(build_parser().parse_args(typed + fix)))
    assert (cfg.train.epochs, cfg.train.max_minutes) == (3, 0)


def stopped_in_fold_2(tmp_path, monkeypatch):
    """A 2-fold run of 4 images (``data``) into ``run``, stopped as Ctrl-C stops it when fold
    2 starts; ``fit`` is real again after; returns (data, run, the command's argv)."""
    from unetlab.train import folds

    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    real = folds.fit

    def second_stops(cfg, *, run_dir, **kw):
        if str(run_dir).endswith("fold_2"):
            raise KeyboardInterrupt
        return real(cfg, run_dir=run_dir, **kw)

    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    with monkeypatch.context() as m:
        m.setattr(folds, "fit", second_stops)
        assert main(argv) == 130
    return data, run, argv


def test_folds_csv_is_written_after_each_fold(tmp_path, monkeypatch):
    """A cross-validation stopped at fold k keeps the rows of folds 1..k-1 (review s31 7)."""
    data, run, argv = stopped_in_fold_2(tmp_path, monkeypatch)
    with (run / "folds.csv").open(newline="") as f:
        assert [r["fold"] for r in csv.DictReader(f)] == ["1"]


def test_a_fold_validating_on_unlabelled_images_is_refused_before_any_fold_trains(tmp_path, capsys):
    """s43 review: a fold whose validation images are all data.ignore_value was refused when
    that fold started, after the folds before it had trained; now before fold 1 starts."""
    import numpy as np

    from unetlab.data.folds import all_pairs, fold_pairs
    from unetlab.data.io import write_png

    data = write_blobs(tmp_path / "data", 6)
    last = fold_pairs(all_pairs(data), 3, seed=0)[-1][1]  # the last fold's val images
    for pair in last:
        write_png(pair.mask, np.full((48, 48), 128, np.uint8))
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "3", *TINY]
    assert main([*argv, "--set", "data.ignore_value=128"]) == 2
    err = capsys.readouterr().err
    assert "fold 3/3 would validate on images none of which holds a labelled pixel" in err
    assert not (run / "fold_1").exists()
