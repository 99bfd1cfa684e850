"""TotalSegmentator's loop closed: a model trained on the cases, ``predict --recursive``
(``pred/s0001/ct.nii.gz``), ``evaluate --pred pred --gt cases`` scoring each case's
prediction against its structures, with the per-case rows ``--checkpoint`` gives."""

import json
from pathlib import Path

import pytest

from tests.test_totalseg import make_cases
from unetlab.cli import main

TINY = ["--no-plan", "--no-progress", "--set", "data.tile_size=16", "--set", "model.depth=2"]
TINY += ["--set", "model.base_channels=4", "--set", "model.padding=same"]


@pytest.fixture(scope="module")
def looped(tmp_path_factory):
    """(the cases, the predictions of predict --recursive, the report of evaluate
    --checkpoint, the checkpoint) of a tiny model trained one epoch on 3 cases of 3
    structures."""
    tmp = tmp_path_factory.mktemp("loop")
    root, run, pred = make_cases(tmp / "Totalsegmentator_dataset"), tmp / "run", tmp / "pred"
    assert main(["train", "--data", str(root), "--run-dir", str(run), "--epochs", "1", *TINY]) == 0
    best = str(run / "checkpoints" / "best.pt")
    predict = ["predict", "--checkpoint", best, "--input", str(root), "--recursive"]
    assert main([*predict, "--output", str(pred), "--no-progress"]) == 0
    evaluate = ["evaluate", "--checkpoint", best, "--data", str(root), "--no-progress"]
    assert main([*evaluate, "--json", str(tmp / "checkpoint.json")]) == 0
    return root, pred, json.loads((tmp / "checkpoint.json").read_text()), best


def _evaluated(looped, tmp_path) -> dict:
    root, pred, *_ = looped
    evaluate = ["evaluate", "--pred", str(pred), "--gt", str(root), "--no-progress"]
    assert main([*evaluate, "--json", str(tmp_path / "pred.json")]) == 0
    return json.loads((tmp_path / "pred.json").read_text())


def test_evaluate_pairs_each_cases_prediction_in_its_folder(looped, tmp_path):
    """predict --recursive wrote pred/s0001/ct.nii.gz, which evaluate --pred did not look for
    ("no prediction in pred for 3 ground-truth files: s0001, s0002, s0003", s75): the
    user renamed each to s0001.nii.gz. Scored as --checkpoint scores the model."""
    _, pred, checkpoint, _ = looped
    assert sorted(str(p.relative_to(pred)) for p in pred.rglob("*.gz")) == [
        f"s000{k}/ct.nii.gz" for k in (1, 2, 3)
    ]
    report = _evaluated(looped, tmp_path)
    assert len(report["images"]) == 48  # 3 cases of 16 slices
    assert {r["name"].split("[")[0] for r in report["images"]} == {"s0001", "s0002", "s0003"}
    assert report["miou"] == pytest.approx(checkpoint["miou"], abs=1e-12)


def test_evaluate_pred_gives_each_case_its_row(looped, tmp_path, capsys):
    """--pred gave the cases no per-case rows where --checkpoint did (s75): the same rows,
    each structure's Dice and its predicted and true volumes in mm3."""
    checkpoint = looped[2]
    report = _evaluated(looped, tmp_path)
    assert "each case        foreground Dice s0001" in capsys.readouterr().out
    assert [r["name"] for r in report["cases"]] == ["s0001", "s0002", "s0003"]
    for mine, theirs in zip(report["cases"], checkpoint["cases"]):
        assert mine["volume_unit"] == "mm3" and mine["true_volume"] == theirs["true_volume"]
        assert mine["dice"] == pytest.approx(theirs["dice"], nan_ok=True)
        assert mine["pred_volume"] == theirs["pred_volume"]


def _listings(monkeypatch) -> list[str]:
    """The cases whose segmentations/ are listed from now on (one entry a listing)."""
    listed, iterdir = [], Path.iterdir

    def counted(self):
        if self.name == "segmentations":
            listed.append(self.parent.name)
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", counted)
    return listed


def test_each_cases_structures_listed_once_a_command(looped, monkeypatch):
    """The classes and pairs were looked up 12 times by train --check and 3 by evaluate,
    each lookup listing every case's segmentations/ (1,228 on the real set; 1,801 listings
    for 100 cases, s75): once a case a command."""
    root, best = looped[0], looped[3]
    listed = _listings(monkeypatch)
    assert main(["train", "--data", str(root), "--check", *TINY]) == 0
    assert sorted(listed) == ["s0001", "s0002", "s0003"]
    listed.clear()
    assert main(["evaluate", "--checkpoint", best, "--data", str(root), "--no-progress"]) == 0
    assert sorted(listed) == ["s0001", "s0002", "s0003"]
