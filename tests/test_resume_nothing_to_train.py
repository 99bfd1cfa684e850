"""A finished run resumed again (a notebook's resume=True cell run twice) trains nothing, so
it is not warned that it "trains with threads 2, not 1" (user trial s64); a resume that
trains on, or still measures the label offset, is looked at as before."""

import pytest

from unetlab.train import fit, fitting

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def test_only_a_resume_that_trains_is_compared_with_the_run_s_making(tmp_path, monkeypatch):
    looked = []
    monkeypatch.setattr(fitting, "say_resume_making", looked.append)
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "run"
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, progress=False)
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, resume=True, progress=False)
    assert looked == []  # ended: nothing trains
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    assert looked == [run]


def test_a_finished_run_whose_offset_is_measured_is_not_compared(tmp_path, monkeypatch):
    """label_offset "fit" measured already: the resume measures nothing either (it was
    still told 'trains with threads 2, not 1', review s64 user)."""
    looked = []
    monkeypatch.setattr(fitting, "say_resume_making", looked.append)
    data = write_blobs(tmp_path / "data", 6)
    cfg = tiny_config(data, "train.epochs=1", "data.val_fraction=0.5", "train.label_offset=fit")
    run = tmp_path / "run"
    fit(cfg, run_dir=run, progress=False)
    assert (run / "label_offset.json").is_file()
    fit(cfg, run_dir=run, resume=True, progress=False)
    assert looked == []
