"""An evaluation report records how the images were predicted, the code, and the files scored
by content (audit s34 repro 3: reports made at another tile size or precision, or of other
data under one folder name, could not be told apart); ``evaluate --pred`` names the
predictions no mask scores (audit s34 messy 10)."""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import pytest
import torch

from unetlab import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions
from unetlab.evaluate.identity import files_identity
from unetlab.evaluate.predictions import predicted_by
from unetlab.models import UNet


@pytest.fixture
def data(tmp_path):
    """images/a.png, b.png with masks/, and model.pt."""
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        write_png(tmp_path / "images" / f"{name}.png", rng.integers(60, 200, (32, 24), np.uint8))
        mask = np.zeros((32, 24), np.uint8)
        mask[8:20, 6:18] = 255
        write_png(tmp_path / "masks" / f"{name}.png", mask)
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes, model.label_values = ["background", "cell"], [0, 255]
    save_model(tmp_path / "model.pt", model)
    return tmp_path


def _evaluate(root, name: str, *extra: str) -> dict:
    argv = ["evaluate", "--checkpoint", str(root / "model.pt"), "--data", str(root)]
    assert main([*argv, "--device", "cpu", "--json", str(root / f"{name}.json"), *extra]) == 0
    return json.loads((root / f"{name}.json").read_text())


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_report_records_the_settings_code_and_files_scored(data):
    plain = _evaluate(data, "plain")
    assert plain["tile_size"] is None and plain["blend"] == "mean"
    assert plain["precision"] == "fp32" and plain["device"] == "cpu"
    assert plain["code"]["unetlab"] and "torch" in plain["code"]
    files = plain["scored_files"]
    assert files["files"] == 4
    assert files["file_sha256"]["images/a.png"] == _sha(data / "images" / "a.png")
    assert files["file_sha256"]["masks/b.png"] == _sha(data / "masks" / "b.png")
    tiled = _evaluate(data, "tiled", "--tile-size", "16", "--blend", "gaussian")
    assert tiled["tile_size"] == 16 and tiled["blend"] == "gaussian"
    assert tiled["scored_files"] == files  # the same data
    mask = np.zeros((32, 24), np.uint8)
    write_png(data / "masks" / "b.png", mask)  # another mask under the same name
    other = _evaluate(data, "other")["scored_files"]
    assert other["sha256"] != files["sha256"]
    changed = [n for n, sha in other["file_sha256"].items() if files["file_sha256"][n] != sha]
    assert changed == ["masks/b.png"]


def test_files_identity_is_the_same_wherever_the_folder_is(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder / "m").mkdir(parents=True)
        (tmp_path / folder / "m" / "a.png").write_bytes(b"a")
    x = files_identity([tmp_path / "x" / "m" / "a.png"] * 2, tmp_path / "x")
    assert x == files_identity([tmp_path / "y" / "m" / "a.png"], tmp_path / "y")
    assert x["files"] == 1 and list(x["file_sha256"]) == ["m/a.png"]


def test_evaluate_pred_records_its_files_and_names_predictions_without_a_mask(data, caplog):
    pred = data / "pred"
    for name in ("a", "b", "extra1", "extra2"):
        write_png(pred / f"{name}.png", (np.arange(32 * 24).reshape(32, 24) % 2).astype(np.uint8))
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(pred, data / "masks", label_values=[0, 255])
    lines = [r.getMessage() for r in caplog.records if "not scored" in r.getMessage()]
    assert lines == [
        f"2 predictions in {pred} have no mask in {data / 'masks'} and are not scored: "
        "extra1, extra2"
    ]
    source = report.to_dict()
    assert source["prediction_files"]["files"] == 2
    assert sorted(source["prediction_files"]["file_sha256"]) == ["a.png", "b.png"]
    assert source["ground_truth_files"]["file_sha256"]["b.png"] == _sha(data / "masks" / "b.png")
    assert source["code"]["unetlab"]


def test_evaluate_pred_names_the_settings_the_predictions_were_made_with(data):
    argv = ["predict", "--checkpoint", str(data / "model.pt"), "--input", str(data / "images")]
    argv += ["--output", str(data / "pred"), "--device", "cpu", "--label-values"]
    assert main(argv) == 0
    assert main([*argv, "--tile-size", "16", "--overwrite"]) == 0
    report = evaluate_predictions(data / "pred", data / "masks")
    (made,) = report.to_dict()["predicted_by"]
    assert made["checkpoint"] == str(data / "model.pt")
    # the files scored were made at tile size 16: the first run's record no file carries
    (settings,) = made["settings"]
    assert settings["tile_size"] == 16 and settings["blend"] == "mean"
    (every,) = predicted_by(data / "pred")  # without names: every record of predict.json
    assert sorted(str(s.get("tile_size")) for s in every["settings"]) == ["16", "None"]


def test_predictions_of_a_checkpoint_trained_further_under_its_name_are_told_apart(data):
    argv = ["predict", "--checkpoint", str(data / "model.pt"), "--input", str(data / "images")]
    argv += ["--output", str(data / "pred"), "--device", "cpu", "--label-values"]
    assert main(argv) == 0  # a.png and b.png by the first weights
    first = hashlib.sha256((data / "model.pt").read_bytes()).hexdigest()
    torch.manual_seed(1)  # the same file name, other weights (as train --resume leaves it)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes, model.label_values = ["background", "cell"], [0, 255]
    save_model(data / "model.pt", model, overwrite=True)
    second = hashlib.sha256((data / "model.pt").read_bytes()).hexdigest()
    (data / "images" / "a.png").unlink()
    assert main([*argv, "--overwrite"]) == 0  # b.png by the second, a.png's kept
    every = predicted_by(data / "pred")
    assert sorted(m["checkpoint_sha256"] for m in every) == sorted([first, second])
    assert {m["checkpoint"] for m in every} == {str(data / "model.pt")}
    made = evaluate_predictions(data / "pred", data / "masks").to_dict()["predicted_by"]
    assert sorted(m["checkpoint_sha256"] for m in made) == sorted([first, second])
