"""A value beyond the classes read as a class index (VOC's 255 void in masks and predictions
beside classes 0..10) is said in one line with its pixels and the fix, and the empty classes
between are not printed one row each (audit s50 roads: 279 lines, 244 rows of n/a)."""

from __future__ import annotations

import json
import math

import numpy as np

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate.report import STRAY_GAP, stray_classes

NAN = math.nan


def _names(n: int, named: int = 0) -> list[str]:
    return [f"c{i}" if i < named else str(i) for i in range(n)]


def test_stray_classes_finds_the_gap_below_a_held_value_and_a_long_gap_last():
    iou = [1.0, 0.5] + [NAN] * STRAY_GAP + [1.0]
    gap, strays = stray_classes(iou, _names(len(iou)))
    assert gap == list(range(2, 2 + STRAY_GAP)) and strays == [2 + STRAY_GAP]
    assert stray_classes([1.0, 0.5] + [NAN] * STRAY_GAP, _names(2 + STRAY_GAP))[1] == []
    assert stray_classes([1.0, NAN, NAN, 1.0], _names(4)) == ([], [])  # a short gap: rows
    named = _names(len(iou), named=len(iou))  # classes named: their rows stay
    assert stray_classes(iou, named) == ([], [])


def _scenes(tmp_path, *, void_in_masks: bool):
    """Two 16x16 masks of classes 0..2 (named by a class_names.txt) and 255 in a corner,
    the same as predictions; ``void_in_masks`` False: 0 where the predictions hold 255."""
    root, pred = tmp_path / "gt", tmp_path / "pred"
    (root / "masks").mkdir(parents=True)
    (root.parent / "class_names.txt").write_text("road\nsky\ncar\n")
    for n in range(2):
        mask = np.zeros((16, 16), np.uint8)
        mask[:, 8:], mask[:4, :4], mask[12:, 12:] = 1, 2, 255
        write_png(pred / f"s{n}.png", mask)
        mask[12:, 12:] = 255 if void_in_masks else 0
        write_png(root / "masks" / f"s{n}.png", mask)
    return pred, root


def test_values_beyond_the_classes_are_said_once_without_empty_rows(tmp_path, capsys):
    pred, gt = _scenes(tmp_path, void_in_masks=True)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt / "masks")]) == 0
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.startswith("3 ")]  # no n/a rows
    said = "255 (32 px in the masks, 32 predicted): beyond the classes 0..2, scored as a class"
    assert (
        out.count(said) == 1
        and "--ignore-value 255 if it marks" in out
        and "ignore_value" not in out
    )
    assert out.count("3..254 (252 values, no rows): in no mask and no prediction") == 1


def test_values_only_predicted_are_not_told_to_be_ignored(tmp_path, capsys):
    pred, gt = _scenes(tmp_path, void_in_masks=False)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt / "masks")]) == 0
    out = capsys.readouterr().out
    assert "255 (0 px in the masks, 32 predicted): beyond the classes 0..2" in out
    assert "--ignore-value 255" not in out and "give --label-values the mask values" in out


def test_the_json_csv_and_confusion_png_hold_the_classes_present(tmp_path, monkeypatch):
    """255 scored as a class beside 0..2: the JSON's confusion matrix, its classes, the
    per-image figures, the CSV and the PNG hold 4 classes named by their values, not 256
    with zeros between (s51 scene255: a 256 x 256 matrix, its PNG unreadable)."""
    drawn = {}
    monkeypatch.setattr(
        "unetlab.evaluate.report.plot_confusion",
        lambda matrix, names, path, **_: drawn.update(shape=matrix.shape, names=list(names)),
    )
    pred, gt = _scenes(tmp_path, void_in_masks=True)
    out = tmp_path / "e.json"
    assert (
        main(["evaluate", "--pred", str(pred), "--gt", str(gt / "masks"), "--json", str(out)]) == 0
    )
    d = json.loads(out.read_text())
    names = ["0", "1", "2", "255"]
    assert d["confusion_classes"] == names and list(d["classes"]) == names
    assert np.array(d["confusion_matrix"]).shape == (4, 4)
    assert d["confusion_matrix"][3][3] == 32  # 16 px of 255 in each of the two images
    assert len(d["images"][0]["iou"]) == 4 and list(d["per_image"]["classes"]) == names
    header = (tmp_path / "e_images.csv").read_text().splitlines()[0].split(",")
    assert [c for c in header if c.startswith("iou_")] == [f"iou_{n}" for n in names]
    assert drawn == {"shape": (4, 4), "names": names}
