"""A prediction's record holds the tile size where one is given (audit s34 repro 2: outputs
made at another --tile-size were skipped by --skip-existing as the same run's), and the
refusal of another model's outputs names the setting that differs (repro 7: a changed
--blend read the same on both sides)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import Provenance, prediction_record
from unetlab.outputs import RECORD_FILES


@pytest.fixture
def work(tmp_path):
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in ("00", "01"):
        image = rng.integers(0, 255, (24, 20), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "in" / f"{name}.png")
    torch.manual_seed(1)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work: Path, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *extra])


def _error(capsys) -> str:
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    return line


def test_skip_existing_does_not_take_another_tile_sizes_outputs_for_done(work, capsys):
    assert _predict(work) == 0
    assert _predict(work, "--tile-size", "16", "--skip-existing") == 2
    line = _error(capsys)
    assert "outputs made with other settings (the defaults there, tile size 16 here)" in line
    assert line.count(str(work / "m.pt")) == 1  # "made by X, not by this run's X" before
    assert line.endswith(
        f": those of 00.png and 1 more input, by checkpoint {work / 'm.pt'} (sha256 "
        f"{line.split('(sha256 ')[1][:12]}); give another --output folder, or add "
        "--overwrite to predict them again with these settings"
    )
    assert _predict(work, "--tile-size", "16", "--skip-existing", "--overwrite") == 0
    records = json.loads((work / "out" / RECORD_FILES["predict"]).read_text())["records"]
    assert {r["model"].get("tile_size") for r in records.values()} == {None, 16}
    stamps = {p.name: p.stat().st_mtime_ns for p in (work / "out").glob("*.png")}
    assert _predict(work, "--tile-size", "16", "--skip-existing") == 0  # done: skipped
    assert {p.name: p.stat().st_mtime_ns for p in (work / "out").glob("*.png")} == stamps


def test_the_refusal_names_the_blend_that_differs(work, capsys):
    assert _predict(work) == 0
    assert _predict(work, "--blend", "gaussian", "--skip-existing") == 2
    assert "other settings (the defaults there, gaussian blend here)" in _error(capsys)


def test_the_tile_size_is_in_the_key_only_where_given():
    torch.manual_seed(1)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    default = prediction_record(net, PredictOptions())
    assert "tile_size" not in default.model  # outputs made before keep their key
    square = prediction_record(net, PredictOptions(tile_size=(64, 64)))
    assert square.model["tile_size"] == 64
    assert square.key == prediction_record(net, PredictOptions(tile_size=64)).key
    assert square.model_key != default.model_key
    assert prediction_record(net, PredictOptions(tile_size=(64, 32))).model["tile_size"] == [64, 32]


def test_describe_names_each_setting_that_is_not_the_default():
    model = {"tta": [], "precision": "fp32", "blend": "gaussian", "tile_size": [64, 32]}
    model |= {"level": 1, "exclude_rows": {"top": 0, "bottom": 26}, "channel": 2}
    phrase = Provenance("/m.pt", "ab" * 32, model).describe()
    assert phrase == (
        "checkpoint /m.pt (sha256 abababababab), no TTA, fp32, gaussian blend, "
        "tile size 64x32, pyramid level 1, rows left out (bottom 26), channel 2"
    )
    plain = {"tta": [], "precision": "fp32", "blend": "mean", "level": 0, "channel": None}
    assert Provenance("/m.pt", "ab" * 32, plain).describe().endswith("no TTA, fp32")


def test_a_refusal_of_outputs_at_another_level_names_the_checkpoint_once(tmp_path, capsys):
    """``--skip-existing --level 1`` over level 0's outputs (s42: the checkpoint named twice)."""
    from .test_data_slides_levels import _tagged_pyramid

    (tmp_path / "in").mkdir()
    _tagged_pyramid(tmp_path / "in" / "p.tif", levels=2)
    save_model(tmp_path / "m.pt", UNet(3, 2, depth=2, base_channels=2, padding="same"))
    assert _predict(tmp_path) == 0
    assert _predict(tmp_path, "--level", "1", "--skip-existing") == 2
    line = _error(capsys)
    assert "made with other settings (the defaults there, pyramid level 1 here)" in line
    assert line.count(str(tmp_path / "m.pt")) == 1 and "not by this run's" not in line
