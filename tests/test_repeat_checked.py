"""Training again from a run's config.yaml (or on its --split, or resuming) says that the
data were checked and match (audit s34 repro 10), and warns where this process trains with
other threads or code than the run's history.yaml records (audit s34 repro 5)."""

from __future__ import annotations

import logging

import pytest
import torch
import yaml

from tests.test_repeat import recorded  # noqa: F401 (a fixture)
from unetlab.cli import main
from unetlab.data.split_record import read_split
from unetlab.provenance import code_identity
from unetlab.train.repeat import checked_data
from unetlab.train.resume import listed_split

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_same_files_are_said_to_be_checked(recorded):  # noqa: F811
    _, config, cfg = recorded
    same, line = checked_data(config, cfg)
    assert same and line == (
        f"data checked against {config.parent / 'split.json'}: its 6 images and their "
        "masks are unchanged (sha256), split the same way (4 training, 2 validation)"
    )


def test_check_says_the_data_match_and_warns_of_other_threads(recorded, tmp_path, caplog):  # noqa: F811
    _, config, _ = recorded
    entry = {"run": "start", "code": code_identity()}
    entry["resolved"] = {"threads": torch.get_num_threads() + 1}
    (config.parent / "history.yaml").write_text(yaml.safe_dump([entry]))
    argv = ["train", "--config", str(config), "--run-dir", str(tmp_path / "again")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--check", "--no-plan"]) == 0
    said = [r for r in caplog.records if r.getMessage().startswith("data checked against")]
    assert len(said) == 1 and said[0].levelno == logging.INFO
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    bitwise = [m for m in warned if "results may differ bitwise" in m]
    assert len(bitwise) == 1 and f"threads {torch.get_num_threads()}, not" in bitwise[0]


def test_split_checks_its_files_once_and_warns_of_other_threads(recorded, tmp_path, caplog):  # noqa: F811
    _, config, _ = recorded
    entry = {"run": "start", "code": code_identity()}
    entry["resolved"] = {"threads": torch.get_num_threads() + 1}
    (config.parent / "history.yaml").write_text(yaml.safe_dump([entry]))
    argv = ["train", "--config", str(config), "--split", str(config.parent), "--check"]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--no-plan", "--run-dir", str(tmp_path / "again")]) == 0
    said = [r.getMessage() for r in caplog.records]
    assert len([m for m in said if m.startswith("data checked against")]) == 1
    assert len([m for m in said if "results may differ bitwise" in m]) == 1


def test_a_listed_split_of_unchanged_files_says_so(recorded, caplog):  # noqa: F811
    _, config, cfg = recorded
    with caplog.at_level(logging.INFO):
        listed_split(read_split(config.parent / "split.json"), cfg, doing="training")
    assert "data checked against the run's split.json: its 6 images" in caplog.text
    assert "split as it lists them (4 training, 2 validation)" in caplog.text


@pytest.mark.parametrize(
    "text, why",
    [
        ("{not json", "is unreadable"),
        ('{"train": [], "val": [], "format": 99}', "format 99"),
    ],
)
def test_an_unreadable_or_newer_split_record_beside_a_config_is_said(tmp_path, caplog, text, why):
    """s74: recorded_beside took an unreadable (or a newer unetlab's) split.json for none,
    unsaid: training again from that run's config.yaml checked nothing, without a word."""
    from unetlab.train.repeat import recorded_beside

    (tmp_path / "config.yaml").write_text("{}\n")
    (tmp_path / "split.json").write_text(text)
    with caplog.at_level(logging.WARNING, logger="unetlab.train.repeat"):
        assert recorded_beside(tmp_path / "config.yaml") is None
    (line,) = caplog.messages
    assert why in line and "split.json" in line
    assert "the data are not checked against that run's files" in line
