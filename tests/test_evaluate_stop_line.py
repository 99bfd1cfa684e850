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
from unetlab.data.io import write_png, write_tiff
from unetlab.evaluate import evaluate_model, evaluate_predictions, predictions, volumes
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


@pytest.mark.parametrize(("at", "scored"), [(2, "1 of at least 4 images"), (5, "4 of 6 images")])
def test_stopped_stacks_count_their_pages_at_least_until_every_file_is_open(
    tmp_path, monkeypatch, caplog, at, scored
):
    """s66 review: two 3-page stacks stopped in the first said "1 of 4 images" (the second
    counted as one page before it is opened); then "at least", exact once every file is."""
    rng = np.random.default_rng(0)
    for stem in ("a", "b"):
        mask = np.where(rng.random((3, 20, 24)) < 0.3, 0, 255).astype(np.uint8)
        write_tiff(tmp_path / "masks" / f"{stem}.tif", mask)
        write_tiff(tmp_path / "preds" / f"{stem}.tif", (mask > 0).astype(np.uint8))
    _stopped_at(monkeypatch, at, predictions, "_truth_nodata")
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        evaluate_predictions(
            tmp_path / "preds", tmp_path / "masks", label_values=[0, 255], progress=False
        )
    said = [m for m in caplog.messages if "interrupted" in m]
    assert len(said) == 1 and f"interrupted after scoring {scored} (" in said[0], said


def test_stopped_3d_objects_count_the_stacks_scored(tmp_path, monkeypatch, caplog):
    """s66 review: with objects_3d=True the line gave no count (the README says it does)."""
    from .test_evaluate_3d import _balls, _write

    for d in ("gt", "pred"):
        (tmp_path / d).mkdir()
    for stem in ("a", "b", "c"):
        _write(tmp_path / "gt" / f"{stem}.tif", _balls())
        _write(tmp_path / "pred" / f"{stem}_objects.tif", _balls())
    _stopped_at(monkeypatch, 2, volumes, "named_nodata")
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", objects_3d=True, progress=False)
    said = [m for m in caplog.messages if "interrupted" in m]
    assert len(said) == 1 and "interrupted after scoring 1 of 3 stacks (" in said[0], said


def test_a_stopped_3d_evaluation_of_a_model_counts_the_stacks_scored(tmp_path, monkeypatch, caplog):
    """evaluate_model(..., objects_3d=True) stopped: its line counts the stacks (s66 review)."""
    from .test_evaluate_3d_inputs import _truth
    from .test_objects_3d import _ball_stack, _write
    from .test_predict_objects import local_net

    for sub in ("images", "masks"):
        (tmp_path / "d" / sub).mkdir(parents=True)
        for stem in ("a", "b"):
            _write(
                tmp_path / "d" / sub / f"{stem}.tif",
                _ball_stack() if sub == "images" else _truth(),
                "ZYX",
            )
    _stopped_at(monkeypatch, 2, evaluate, "named_nodata")
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        evaluate_model(local_net(), tmp_path / "d", objects_3d=True, progress=False)
    said = [m for m in caplog.messages if "interrupted" in m]
    assert len(said) == 1 and "interrupted after scoring 1 of 2 stacks (" in said[0], said


def test_stopped_bmp_masks_count_one_page_each(tmp_path, monkeypatch, caplog):
    """A .bmp mask holds one page, as a PNG's: its count is exact before it is opened (the
    line said "1 of at least 4 images" of four .bmp masks, s67)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.where(rng.random((20, 24)) < 0.3, 0, 255).astype(np.uint8)
        (tmp_path / "masks").mkdir(exist_ok=True)
        Image.fromarray(mask).save(tmp_path / "masks" / f"{i}.bmp")
        write_png(tmp_path / "preds" / f"{i}.png", (mask > 0).astype(np.uint8))
    _stopped_at(monkeypatch, 2, predictions, "_truth_nodata")
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        evaluate_predictions(
            tmp_path / "preds", tmp_path / "masks", label_values=[0, 255], progress=False
        )
    said = [m for m in caplog.messages if "interrupted" in m]
    assert len(said) == 1 and "interrupted after scoring 1 of 4 images (" in said[0], said
