"""``evaluate_model`` and ``evaluate_predictions`` stopped part way (a notebook cell's Ctrl-C)
say in one line how many images they scored and that nothing was kept, as ``fit`` and
``predict_folder`` say their stops (s64 notebook: a bare KeyboardInterrupt; s66: from
evaluate_predictions); ``unetlab evaluate`` says its own line alone."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model, evaluate_predictions, predictions
from unetlab.evaluate import model as evaluate

from .test_evaluate import _tiny_model
from .test_folder_stop_line import _stopped_at


def _data(root, n=3):
    rng = np.random.default_rng(0)
    for i in range(n):
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (20, 24), np.uint8))
        write_png(root / "masks" / f"{i}.png", np.where(rng.random((20, 24)) < 0.2, 0, 255))
    return root


def test_a_stopped_evaluation_says_the_images_scored_and_the_call_again(
    tmp_path, monkeypatch, caplog
):
    data = _data(tmp_path / "data")
    _stopped_at(monkeypatch, 3, evaluate, "_score_pair")
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        evaluate_model(_tiny_model(), data, progress=False)
    said = [m for m in caplog.messages if "interrupted" in m]
    assert said == [
        "evaluate_model interrupted after scoring 2 of 3 images (a report is returned whole, "
        "at the end: none kept); run the same call again to score them all"
    ]


def test_a_stopped_evaluate_command_says_its_own_line_alone(tmp_path, monkeypatch, caplog, capsys):
    data = _data(tmp_path / "data")
    model = _tiny_model()
    save_model(tmp_path / "m.pt", model)
    _stopped_at(monkeypatch, 2, evaluate, "_score_pair")
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(data)]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--device", "cpu", "--no-progress"]) == 130
    assert "unetlab evaluate: interrupted" in capsys.readouterr().err
    assert not [m for m in caplog.messages if "interrupted" in m]


def test_stopped_saved_predictions_say_the_images_scored_and_the_call_again(
    tmp_path, monkeypatch, caplog
):
    data = _data(tmp_path / "data", n=4)
    for i in range(4):  # class indices 0/1, as predict writes them
        write_png(tmp_path / "preds" / f"{i}.png", np.zeros((20, 24), np.uint8))
    _stopped_at(monkeypatch, 3, predictions, "_truth_nodata")
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        evaluate_predictions(
            tmp_path / "preds", data / "masks", label_values=[0, 255], progress=False
        )
    said = [m for m in caplog.messages if "interrupted" in m]
    assert said == [
        "evaluate_predictions interrupted after scoring 2 of 4 images (a report is returned "
        "whole, at the end: none kept); run the same call again to score them all"
    ]
