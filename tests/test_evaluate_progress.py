"""evaluate_model(progress=True) draws a bar of the images, as fit and predict_folder do (it
raised "'bool' object is not callable" after the first image: audit s32 notebook 4)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import unetlab
from unetlab.cli import main
from unetlab.errors import UnetlabError


def test_progress_is_a_bar_a_function_or_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # a notebook
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 32, 32)).astype(np.uint8)
    unetlab.write_dataset(images, (images > 128).astype(np.uint8), tmp_path / "data")
    net = unetlab.UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    report = unetlab.evaluate_model(net, tmp_path / "data", progress=True)
    assert len(report.images) == 2 and "2/2" in capsys.readouterr().err
    names = []
    unetlab.evaluate_model(net, tmp_path / "data", progress=names.append)
    assert names == ["000", "001"]
    with pytest.raises(UnetlabError, match="progress must be True .* function of each image"):
        unetlab.evaluate_model(net, tmp_path / "data", progress=1)


def test_evaluate_predictions_takes_progress_as_evaluate_model_does(tmp_path, monkeypatch, capsys):
    """s52 review: evaluate_predictions(pred, gt, progress=False) raised TypeError."""
    from unetlab.data.io import write_png

    from .test_evaluate_3d import _balls, _folders

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # a notebook
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    for stem in ("a", "b"):
        write_png(tmp_path / "gt" / f"{stem}.png", mask)
        write_png(tmp_path / "pred" / f"{stem}.png", mask)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    capsys.readouterr()
    report = unetlab.evaluate_predictions(pred, gt, progress=False)
    assert len(report.images) == 2 and "images" not in capsys.readouterr().err
    unetlab.evaluate_predictions(pred, gt, progress=True)
    assert "images: 100%" in (err := capsys.readouterr().err) and "2/2" in err
    names = []
    unetlab.evaluate_predictions(pred, gt, progress=names.append)
    assert names == ["a", "b"]
    with pytest.raises(UnetlabError, match="progress must be True .* function of each image"):
        unetlab.evaluate_predictions(pred, gt, progress=1)
    stacks = []
    (tmp_path / "3d").mkdir()
    unetlab.evaluate_predictions(
        *_folders(tmp_path / "3d", _balls(), _balls()), objects_3d=True, progress=stacks.append
    )
    assert stacks == ["s"]
    monkeypatch.setattr("unetlab.progress.shown", lambda progress: progress)  # a terminal
    for flag in ([], ["--no-progress"]):
        assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), *flag]) == 0
        assert ("image/s]" in capsys.readouterr().err) == (not flag)


def test_evaluate_predictions_bar_counts_to_the_pages_of_the_masks(tmp_path, monkeypatch):
    """s52 notebook: the bar had no total (no share, no time left). Its total is the pages
    scored: one a mask file, a stack's pages as its first comes; a prediction no mask has
    is not counted."""
    import tifffile
    from tqdm import tqdm

    from unetlab.data.io import write_png

    bars = []

    def kept(**settings):
        bars.append(tqdm(**settings))
        return bars[-1]

    monkeypatch.setattr("unetlab.progress.progress_bar", kept)
    monkeypatch.setattr("unetlab.progress.shown", lambda progress: progress)  # a terminal
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    for stem in ("a", "b", "c"):
        write_png(tmp_path / "pred" / f"{stem}.png", mask)
        if stem != "c":  # a prediction without a mask: not scored, not counted
            write_png(tmp_path / "gt" / f"{stem}.png", mask)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    unetlab.evaluate_predictions(pred, gt, progress=True)
    assert (bars[-1].total, bars[-1].n) == (2, 2)
    for folder in (gt, pred):  # a stack of 4 pages
        tifffile.imwrite(folder / "s.tif", np.stack([mask] * 4), photometric="minisblack")
    report = unetlab.evaluate_predictions(pred, gt, progress=True)
    assert len(report.images) == 6 and (bars[-1].total, bars[-1].n) == (6, 6)
