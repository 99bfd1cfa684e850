"""fit's ``progress`` is the bar only; its log lines reach the console as logging is set up
(audit s32 notebook 12: ``progress=False`` hid the whole log, and a
``logging.basicConfig(level=WARNING)`` cell still got every INFO line)."""

from __future__ import annotations

import io
import logging

import pytest

from unetlab.train import fit

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def unconfigured(monkeypatch):
    """A fresh notebook's logging: no handlers on the root logger (pytest's, added once
    the test is called, set aside)."""

    def fresh():
        monkeypatch.setattr(logging.root, "handlers", [])
        monkeypatch.setattr(logging.root, "level", logging.WARNING)

    return fresh


@pytest.fixture
def data(tmp_path):
    return write_blobs(tmp_path / "data", 4)


def _fit(data, run_dir):
    fit(tiny_config(data, "train.epochs=1"), run_dir=run_dir, progress=False)
    package = logging.getLogger("unetlab")
    assert package.propagate and package.level == logging.NOTSET and not package.handlers
    assert "epoch 1/1" in (run_dir / "train.log").read_text()  # train.log has every line


def test_progress_false_keeps_the_log_on_stderr(unconfigured, data, tmp_path, capsys):
    unconfigured()
    _fit(data, tmp_path / "run")
    assert "epoch 1/1" in capsys.readouterr().err


def test_the_packages_own_level_is_kept(unconfigured, data, tmp_path, capsys):
    unconfigured()
    logging.getLogger("unetlab").setLevel(logging.WARNING)
    try:
        fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
        assert logging.getLogger("unetlab").level == logging.WARNING
    finally:
        logging.getLogger("unetlab").setLevel(logging.NOTSET)
    assert "epoch 1/1" not in capsys.readouterr().err
    assert "epoch 1/1" in (tmp_path / "run" / "train.log").read_text()


@pytest.mark.parametrize("level", [logging.WARNING, logging.INFO])
def test_a_basic_config_gets_the_lines_of_its_level(unconfigured, data, tmp_path, level):
    unconfigured()
    shown = io.StringIO()
    logging.basicConfig(level=level, stream=shown, format="%(levelname)s:%(name)s:%(message)s")
    _fit(data, tmp_path / "run")
    logging.getLogger("unetlab.train").warning("a warning after the run")
    lines = shown.getvalue()
    assert ("epoch 1/1" in lines) == (level == logging.INFO)  # the CLI's INFO: every line
    assert "WARNING:unetlab.train:a warning after the run" in lines
    assert lines.count("epoch 1/1") <= 1  # never twice
