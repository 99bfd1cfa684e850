"""train --folds K --overwrite: the old folds wait aside, as a whole, until the new run has
trained all its folds; a new run stopped part way neither lost them nor shows them beside
its own folds (note32: fold 3..K of the old run were left beside new folds 1-2)."""

from __future__ import annotations

import csv
import logging

import pytest

from unetlab.cli import main
from unetlab.compare import compare_runs
from unetlab.errors import UnetlabError
from unetlab.train import folds
from unetlab.train.folds_aside import ASIDE

from .test_train import write_blobs
from .test_train_folds import TINY

pytestmark = pytest.mark.usefixtures("one_thread")


def _rows(folder):
    with (folder / "folds.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _stopping_in(monkeypatch, fold: int):
    """``fit`` stopped (Ctrl-C) as fold ``fold`` starts."""
    real = folds.fit

    def stops(cfg, *, run_dir, **kw):
        if str(run_dir).endswith(f"fold_{fold}"):
            raise KeyboardInterrupt
        return real(cfg, run_dir=run_dir, **kw)

    monkeypatch.setattr(folds, "fit", stops)
    return real


@pytest.mark.parametrize("stop", [1, 3])
def test_an_overwrite_stopped_in_a_fold_keeps_the_old_folds_aside_not_beside(
    stop, tmp_path, monkeypatch, caplog
):
    data = write_blobs(tmp_path / "data", 6)
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "3", *TINY]
    assert main(argv) == 0  # the old run: 1 epoch a fold
    old = {i: (run / f"fold_{i}" / "checkpoints" / "last.pt").read_bytes() for i in (1, 2, 3)}
    old_rows = _rows(run)

    real = _stopping_in(monkeypatch, stop)
    new = [*argv, "--epochs", "2", "--overwrite"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(new) == 130
    aside = run / ASIDE
    assert f"the cross-validation it overwrote waits in {aside} until this one" in caplog.text
    assert _rows(aside) == old_rows  # nothing of the old run lost
    for i, weights in old.items():
        assert (aside / f"fold_{i}" / "checkpoints" / "last.pt").read_bytes() == weights
    done = [f"fold_{i}" for i in range(1, stop)]
    assert sorted(p.name for p in run.glob("fold_*") if (p / "metrics.csv").is_file()) == done
    assert [r["fold"] for r in _rows(run)] == [str(i) for i in range(1, stop)]
    if stop == 3:  # compare reads the new run's folds only: 2 epochs each
        table = compare_runs([run])
        assert sorted(r["run"] for r in table.rows) == ["fold_1", "fold_2"]
        assert {r["epochs"] for r in table.rows} == {2}
    else:  # no fold of the new run began: none of the old ones is shown as its
        with pytest.raises(UnetlabError, match="holds no runs"):
            compare_runs([run])

    monkeypatch.setattr(folds, "fit", real)  # go on as the stop's line says
    assert main(new if stop == 1 else [*argv, "--epochs", "2", "--resume"]) == 0
    assert not any(p.name.startswith(ASIDE) for p in run.iterdir())  # replaced: gone
    assert [r["epochs"] for r in _rows(run)] == ["2", "2", "2"]


def test_an_overwrite_after_a_stopped_overwrite_keeps_the_run_that_finished(tmp_path, monkeypatch):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    assert main(argv) == 0
    old_rows = _rows(run)
    real = _stopping_in(monkeypatch, 2)
    assert main([*argv, "--overwrite"]) == 130  # fold 1 new, then stopped
    assert main([*argv, "--overwrite"]) == 130  # again: the finished run stays aside
    assert _rows(run / ASIDE) == old_rows
    monkeypatch.setattr(folds, "fit", real)
    assert main([*argv, "--overwrite"]) == 0
    assert not any(p.name.startswith(ASIDE) for p in run.iterdir())
    assert len(_rows(run)) == 2


def test_a_move_aside_cut_short_is_finished_by_the_next_overwrite(tmp_path):
    from unetlab.train.folds_aside import set_aside

    run = tmp_path / "cv"
    for i in (1, 2, 3):
        (run / f"fold_{i}").mkdir(parents=True)
        (run / f"fold_{i}" / "x").write_text(str(i))
    (run / "folds.csv").write_text("fold\n1\n2\n3\n")
    (run / f"{ASIDE}.part").mkdir()
    (run / "fold_1").rename(run / f"{ASIDE}.part" / "fold_1")  # killed after one move
    set_aside(run, complete=False)
    aside = run / ASIDE
    assert sorted(p.name for p in aside.iterdir()) == ["fold_1", "fold_2", "fold_3", "folds.csv"]
    assert sorted(p.name for p in run.iterdir()) == [ASIDE]


def test_folds_are_complete_when_folds_csv_lists_every_fold_there(tmp_path):
    from unetlab.train.folds import COLUMNS, folds_complete, write_folds

    run = tmp_path / "cv"
    for i in (1, 2):
        (run / f"fold_{i}").mkdir(parents=True)
    row = dict.fromkeys(COLUMNS) | {"run_dir": "x", "validated_on": "a.png"}
    write_folds(run / "folds.csv", [row | {"fold": 1}, row | {"fold": 2}])
    assert folds_complete(run)
    (run / "fold_3").mkdir()  # begun, not listed: stopped
    assert not folds_complete(run)
    (run / "folds.csv").write_text("fold,other\n1,x\n2,y\n")  # another version's table
    assert not folds_complete(run)
