"""train --folds K --resume: a stopped cross-validation goes on (the folds done kept, the
fold in progress resumed from its last.pt), and the warning of small validation sets is said
once for all folds (session 32)."""

from __future__ import annotations

import csv
import logging

import pytest
import torch

from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.run_records import read_history
from unetlab.train import fitting

from .test_train import write_blobs
from .test_train_folds import TINY, stopped_in_fold_2

pytestmark = pytest.mark.usefixtures("one_thread")


def _rows(run):
    with (run / "folds.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _weights(folder):
    return torch.load(folder / "checkpoints" / "last.pt", weights_only=True)["model"]


def test_a_stopped_cross_validation_resumes_where_it_stopped(tmp_path, monkeypatch, capsys, caplog):
    data = write_blobs(tmp_path / "data", 4)
    run, straight = tmp_path / "cv", tmp_path / "straight"
    argv = ["train", "--data", str(data), "--folds", "2", *TINY, "--epochs", "2"]
    real, calls = fitting.log_epoch, []

    def stop_in_fold_2(row, t, *pixels):  # Ctrl-C after fold 2's first epoch (fold 1 has 2)
        real(row, t, *pixels)
        calls.append(row["epoch"])
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(fitting, "log_epoch", stop_in_fold_2)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--run-dir", str(run)]) == 130
    said = (
        f"stopped in fold 2/2; continue it with: unetlab train --run-dir {run} --folds 2 --resume"
    )
    assert said in caplog.text
    # fit's own stop line named fold_2 alone as the run to resume, and Python's call too
    assert caplog.text.count("--resume") == 1 and "Python" not in caplog.text
    before, fold_1 = _rows(run), (run / "fold_1" / "checkpoints" / "last.pt").stat().st_mtime_ns
    assert [r["fold"] for r in before] == ["1"]
    monkeypatch.setattr(fitting, "log_epoch", real)

    assert main([*argv, "--run-dir", str(run)]) == 2  # not started again by mistake
    assert "already holds a cross-validation (fold_1, fold_2" in capsys.readouterr().err
    assert main([*argv, "--run-dir", str(run), "--resume"]) == 0
    assert (run / "fold_1" / "checkpoints" / "last.pt").stat().st_mtime_ns == fold_1
    after = _rows(run)
    assert after[0] == before[0] and [r["fold"] for r in after] == ["1", "2"]
    history = read_history(run / "fold_2")
    assert [e["run"] for e in history] == ["start", "resume"] and history[1]["at"][
        "epochs_done"
    ] == 1
    assert len(read_history(run / "fold_1")) == 1

    assert main([*argv, "--run-dir", str(straight)]) == 0  # the same folds, not stopped
    for fold in ("fold_1", "fold_2"):
        mine, theirs = _weights(run / fold), _weights(straight / fold)
        assert all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert [r["last_val_miou"] for r in _rows(straight)] == [r["last_val_miou"] for r in after]


def test_resume_without_folds_begun_is_refused_and_auto_starts_them(tmp_path, capsys):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    assert main([*argv, "--resume"]) == 2
    assert "holds no cross-validation to resume" in capsys.readouterr().err
    assert main([*argv, "--resume", "auto"]) == 0
    assert "no fold to resume: starting them" in capsys.readouterr().err
    assert [r["fold"] for r in _rows(run)] == ["1", "2"]


def test_folds_of_other_images_are_not_resumed(tmp_path, monkeypatch, capsys):
    data, run, argv = stopped_in_fold_2(tmp_path, monkeypatch)
    more = write_blobs(tmp_path / "more", 6)
    for kind in ("images", "masks"):
        (more / kind / "5.png").rename(data / kind / "5.png")
    assert main([*argv, "--resume"]) == 2
    assert "trained on other images than fold 1" in capsys.readouterr().err


def test_small_validation_sets_are_said_once_for_all_folds(tmp_path, caplog):
    data = write_blobs(tmp_path / "data", 4)
    argv = ["train", "--data", str(data), "--run-dir", str(tmp_path / "cv"), "--folds", "2"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, *TINY]) == 0
    assert caplog.text.count("each fold validates on only 2 images") == 1
    assert "only 2 validation images" not in caplog.text


def test_an_overwritten_cross_validation_drops_the_old_rows(tmp_path, monkeypatch, capsys):
    """Its old folds.csv rows would be read as folds done by a later --resume."""
    from unetlab.train import folds

    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    assert main(argv) == 0 and len(_rows(run)) == 2

    def stops(cfg, *, run_dir, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(folds, "fit", stops)
    assert main([*argv, "--overwrite"]) == 130
    assert _rows(run) == []


def test_a_folds_csv_unetlab_did_not_write_is_not_replaced(tmp_path, capsys):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    run.mkdir()
    (run / "folds.csv").write_text("my own table\n")
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    assert main(argv) == 2
    assert "folds.csv exists and was not written by unetlab" in capsys.readouterr().err
    assert (run / "folds.csv").read_text() == "my own table\n"


def test_a_folder_named_by_a_number_alone_is_no_fold(tmp_path):
    """A run folder's ``7/`` (not ``fold_7/``) was taken for a fold and let be."""
    from unetlab.errors import OutputError
    from unetlab.train.rundir import fold_dirs, refuse_others_than_folds

    for name in ("7", "fold_2", "fold_x", "fold_²"):  # "²".isdigit(): a traceback (s55 A3)
        (tmp_path / name).mkdir()
    assert fold_dirs(tmp_path) == [(2, tmp_path / "fold_2")]
    with pytest.raises(OutputError, match=r"other things than the folds .*\(7, fold_x, fold_²\)"):
        refuse_others_than_folds(tmp_path)


@pytest.mark.parametrize("stop", [KeyboardInterrupt, UnetlabError])
def test_a_cross_validation_stopped_before_a_checkpoint_says_the_command_that_works(
    stop, tmp_path, monkeypatch, caplog
):
    """No fold saved a last.pt, so --resume is refused: the line says to run the same
    command again, which starts the folds (review s32 8)."""
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "cv"
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--folds", "2", *TINY]
    real = fitting.setup_run

    def stops(*args, **kw):  # fold 1 set up, stopped before its first step
        real(*args, **kw)
        raise stop("bad data" if stop is UnetlabError else None)

    monkeypatch.setattr(fitting, "setup_run", stops)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(argv) == (130 if stop is KeyboardInterrupt else 2)
    assert "stopped in fold 1/2 before any fold saved a checkpoint: nothing to resume" in (
        caplog.text
    )
    assert ("once the problem above is fixed, run" in caplog.text) == (stop is UnetlabError)
    assert "--resume" not in caplog.text.replace("without --resume", "")
    monkeypatch.setattr(fitting, "setup_run", real)
    assert main(argv) == 0
    assert [r["fold"] for r in _rows(run)] == ["1", "2"]


def test_a_stopped_cross_validation_says_how_to_go_on_as_its_caller_spells_it(tmp_path):
    """The stop line said the command and "in Python: fit_folds(..., resume=True)" alike on
    the command line and in a notebook (s51 lead's re-read): each its own way now."""
    from unetlab.errors import command_spelling
    from unetlab.train.folds import stopped_note

    assert stopped_note(tmp_path, 3, 1).endswith(
        "nothing to resume; call the same fit_folds(...) again to start it (without resume=True)"
    )
    (tmp_path / "fold_1" / "checkpoints").mkdir(parents=True)
    (tmp_path / "fold_1" / "checkpoints" / "last.pt").touch()
    kept = " (the folds done are kept, fold 2 starts)"
    assert stopped_note(tmp_path, 3, 2).endswith(
        f"continue it with: fit_folds(..., resume=True){kept}"
    )
    with command_spelling():
        said = stopped_note(tmp_path, 3, 2)
    assert said.endswith(
        f"continue it with: unetlab train --run-dir {tmp_path} --folds 3 --resume{kept}"
    )


def test_a_stopped_folds_train_log_ends_with_the_line_that_goes_on(tmp_path, monkeypatch):
    """s52: a stopped fold's train.log ended at fit's "saved .../last.pt": the line that
    goes on with the folds (fit's own leaves it to them) was said on the console only."""
    from unetlab.config import load_config
    from unetlab.train import folds

    data = write_blobs(tmp_path / "data", 4)

    def stopped(cfg, folder, which, pairs, **fitting):  # fit stopped: its log, its last.pt
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "checkpoints" / "last.pt").touch()
        (folder / "train.log").write_text("2026-12-05 08:00:00 stopped ...: saved last.pt\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(folds, "_fit_fold", stopped)
    with pytest.raises(KeyboardInterrupt):
        folds.fit_folds(load_config(None, [f"data.root={data}"]), 2, run_dir=tmp_path / "cv")
    logged = (tmp_path / "cv" / "fold_1" / "train.log").read_text().splitlines()
    assert logged[0].endswith("saved last.pt") and len(logged) == 2, logged
    assert logged[1].endswith(
        "cross-validation stopped in fold 1/2; continue it with: fit_folds(..., resume=True) "
        "(the folds done are kept, fold 1 resumes)"
    )


def test_the_folds_stop_line_keeps_to_the_level_a_notebook_asked_for(tmp_path, monkeypatch):
    """s53 reviewA: written to the fold's train.log by lowering the ``unetlab`` logger to
    INFO, the INFO line reached a notebook's warnings-only handlers (basicConfig(WARNING))."""
    from unetlab.config import load_config
    from unetlab.train import folds

    data = write_blobs(tmp_path / "data", 4)

    def stopped(cfg, folder, which, pairs, **fitting):
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "checkpoints" / "last.pt").touch()
        (folder / "train.log").write_text("2026-12-05 08:00:00 stopped ...: saved last.pt\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(folds, "_fit_fold", stopped)
    root, shown = logging.getLogger(), []
    notebook = logging.Handler()  # basicConfig(level=WARNING)'s: the root at WARNING
    notebook.emit = lambda record: shown.append(record.getMessage())
    monkeypatch.setattr(root, "level", logging.WARNING)
    monkeypatch.setattr(logging.getLogger("unetlab"), "level", logging.NOTSET)
    monkeypatch.setattr(root, "handlers", [notebook])
    with pytest.raises(KeyboardInterrupt):
        folds.fit_folds(load_config(None, [f"data.root={data}"]), 2, run_dir=tmp_path / "cv")
    assert not [line for line in shown if "stopped in fold" in line], shown
    assert "stopped in fold 1/2" in (tmp_path / "cv" / "fold_1" / "train.log").read_text()
