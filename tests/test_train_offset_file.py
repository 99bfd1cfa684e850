"""label_offset.json is one of a run's files: listed in the folder's manifest, removed by
--overwrite (a stale one survived a run that measured none), never called foreign (predict
into the run folder refused it as a file unetlab did not write)."""

import json

import pytest

from unetlab.errors import OutputError
from unetlab.outputs import MANIFEST, foreign_files, written_here
from unetlab.train import fit, prepare_run_dir

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def test_the_label_offset_file_is_the_runs_and_overwrite_removes_it(tmp_path):
    data = write_blobs(tmp_path / "data", 6)
    measured = ("data.val_fraction=0.5", "train.epochs=1")
    run = tmp_path / "run"
    fit(tiny_config(data, *measured, "train.label_offset=fit"), run_dir=run, progress=False)
    assert (run / "label_offset.json").is_file()
    assert "label_offset.json" in written_here(run, "train") and not foreign_files(run)
    fit(
        tiny_config(data, *measured, "train.label_offset=none"),
        run_dir=run,
        overwrite=True,
        progress=False,
    )
    assert not (run / "label_offset.json").exists()


OFFSET = {"offset": [-0.5, -0.25], "miou": 0.7, "unshifted_miou": 0.69, "images": 3}


def _older_run(folder, offset_text: str):
    """A run folder from before the manifest listed label_offset.json."""
    folder.mkdir()
    (folder / MANIFEST).write_text("".join(f"{n}\ttrain\n" for n in ("config.yaml", "checkpoints")))
    (folder / "config.yaml").write_text("x")
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.pt").write_text("x")
    (folder / "label_offset.json").write_text(offset_text)
    return folder


def test_an_older_runs_label_offset_is_still_its_own(tmp_path):
    run = _older_run(tmp_path / "run", json.dumps(OFFSET))
    prepare_run_dir(run, resume=True, overwrite=False)  # not refused as someone else's
    assert "label_offset.json" in written_here(run, "train")
    prepare_run_dir(run, resume=False, overwrite=True)
    assert not (run / "label_offset.json").exists()


def test_a_label_offset_file_unetlab_did_not_write_is_refused(tmp_path):
    run = _older_run(tmp_path / "run", "my notes\n")
    with pytest.raises(OutputError, match="label_offset.json exists and was not written by"):
        prepare_run_dir(run, resume=False, overwrite=True)
    assert (run / "label_offset.json").read_text() == "my notes\n"


def test_a_finished_run_resumed_keeps_its_label_offset_without_a_new_search(
    tmp_path, monkeypatch, caplog
):
    """``--resume`` of a run that had ended searched the offset again (13-30 s) and, out of
    budget, said "not measured ... give more --minutes" while best.pt kept its offset."""
    from unetlab.train import fitting

    data = write_blobs(tmp_path / "data", 6)
    cfg = tiny_config(data, "data.val_fraction=0.5", "train.epochs=1", "train.label_offset=fit")
    run = tmp_path / "run"
    first = fit(cfg, run_dir=run, progress=False)
    searched = []
    monkeypatch.setattr(fitting, "fit_label_offset", lambda *a, **k: searched.append(1))
    with caplog.at_level("INFO", logger="unetlab.train"):
        again = fit(cfg, run_dir=run, resume=True, progress=False)
    assert searched == [] and again["label_offset"] == first["label_offset"]
    assert "measured before, for this best.pt" in caplog.text
    (run / "checkpoints" / "best.pt").touch()  # a best.pt newer than the measurement
    fit(cfg, run_dir=run, resume=True, progress=False)
    assert searched == [1]


def test_a_recorded_fit_reads_back_with_its_best_move_and_smoothing(tmp_path):
    """label_offset.json keeps the best move and the smoothed baseline it was judged by;
    an older record without them still reads (audit s29 scenes, finding 2)."""
    from unetlab.train.offset import measured_offset

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "best.pt").write_text("x")
    left_out = {**OFFSET, "offset": [0.0, 0.0], "miou": 0.69, "searched": 81, "whole": 9}
    left_out |= {"best": [-0.5, 0.0], "best_miou": 0.70, "smoothed_miou": 0.71}
    (run / "label_offset.json").write_text(json.dumps(left_out))
    found = measured_offset(run)
    assert found.best == (-0.5, 0.0) and found.offset == (0.0, 0.0)
    assert "the best move, 0.50 px up, raises the validation mIoU 0.6900 -> 0.7000" in (
        found.describe()
    )
    (run / "label_offset.json").write_text(json.dumps(OFFSET))  # an older record
    older = measured_offset(run)
    assert older.best is None and "0.50 px up, 0.25 px left" in older.describe()


def test_an_offset_not_measured_says_what_measures_it_as_the_caller_asks(caplog):
    """s53: fit in a notebook was told "give more --minutes" and "train --resume"."""
    from unetlab.errors import command_spelling
    from unetlab.train.offset import _not_measured

    with caplog.at_level("INFO", logger="unetlab.train"):
        _not_measured(True, 1, 2)
        _not_measured(False, 1, 2)
    assert "(stopped); the same fit(...) with resume=True measures it" in caplog.text
    assert "1 of 2 validation predictions; give more time (cfg.train.max_minutes))" in (caplog.text)
    caplog.clear()
    with caplog.at_level("INFO", logger="unetlab.train"), command_spelling():
        _not_measured(True, 1, 2)  # as the command line runs
        _not_measured(False, 1, 2)
    assert "(stopped); train --resume measures it" in caplog.text
    assert "1 of 2 validation predictions; give more --minutes)" in caplog.text
