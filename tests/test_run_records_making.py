"""A run trained again from a run's config.yaml, or resumed, with another unetlab commit,
torch or thread count than history.yaml records is told, in one line, that its results may
differ bitwise; it is not refused (audit s34 repro 5)."""

import pytest
import torch
import yaml

from tests.test_train import tiny_config, write_blobs
from unetlab.provenance import code_identity
from unetlab.run_records import making_differences, other_making
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")

CODE = {"commit": "10cf26bc9dce58d791706e7edb8a3696c9a18ad1", "dirty": False, "torch": "2.13"}


def test_the_commit_torch_and_threads_are_compared_where_both_record_them():
    before = {"code": CODE, "resolved": {"threads": 1}}
    now = {"code": CODE | {"commit": "407fe71ce821aa", "dirty": True}, "resolved": {"threads": 2}}
    assert making_differences(before, now) == [
        "unetlab commit 407fe71ce821 with uncommitted changes, not 10cf26bc9dce",
        "threads 2, not 1",
    ]
    assert making_differences(before, before) == []
    gpu = {"code": CODE, "resolved": {"threads": None}}  # a GPU run records no threads
    assert making_differences(gpu, now | {"code": CODE}) == []
    assert making_differences({}, now) == []  # an older history: nothing to compare


def _history(run, threads):
    entry = {"run": "start", "code": code_identity(), "resolved": {"threads": threads}}
    (run / "history.yaml").write_text(yaml.safe_dump([entry]))


def test_a_run_config_of_other_threads_gives_one_line(tmp_path):
    run = tmp_path / "a"
    run.mkdir()
    (run / "config.yaml").write_text("train: {}\n")
    _history(run, torch.get_num_threads())
    assert other_making(run / "config.yaml") is None  # the same: nothing said
    _history(run, torch.get_num_threads() + 1)
    said = other_making(run / "config.yaml")
    assert said.startswith(f"this run trains with threads {torch.get_num_threads()}, not ")
    assert "its results may differ bitwise (CPU results depend on the thread count)" in said
    assert "\n" not in said
    assert other_making(tmp_path / "elsewhere.yaml") is None and other_making(None) is None


def test_a_resume_with_other_threads_says_so_and_goes_on(tmp_path):
    data = write_blobs(tmp_path / "data", 5)
    run = tmp_path / "run"
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, progress=False)
    history = yaml.safe_load((run / "history.yaml").read_text())
    history[-1]["resolved"]["threads"] = torch.get_num_threads() + 1
    (run / "history.yaml").write_text(yaml.safe_dump(history, sort_keys=False))
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    log = (run / "train.log").read_text()
    said = [line for line in log.splitlines() if "results may differ bitwise" in line]
    assert len(said) == 1 and "this resume trains with threads" in said[0]
    assert len(yaml.safe_load((run / "history.yaml").read_text())) == 2  # it went on


def test_a_resume_with_another_commit_alone_gives_that_reason(tmp_path):
    """The resume's line said "(CPU results depend on the thread count)" where only the
    commit differed (s64 notebook): the reason said is the one that holds."""
    data = write_blobs(tmp_path / "data", 5)
    run = tmp_path / "run"
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, progress=False)
    history = yaml.safe_load((run / "history.yaml").read_text())
    history[-1]["code"] = code_identity() | {"commit": "10cf26bc9dce58d7", "dirty": False}
    (run / "history.yaml").write_text(yaml.safe_dump(history, sort_keys=False))
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    log = (run / "train.log").read_text()
    said = [line for line in log.splitlines() if "results may differ bitwise" in line]
    assert len(said) == 1 and "this resume trains with unetlab commit " in said[0], said
    assert said[0].endswith(
        "its results may differ bitwise from an uninterrupted run's (another unetlab commit "
        "or torch may compute them otherwise)"
    ), said[0]
    assert "thread" not in said[0]
