"""Per-image counts, worst images by object F1 and the object-size figure of `evaluate`."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png, write_tiff
from unetlab.evaluate import count_table, evaluate_predictions
from unetlab.evaluate.report import count_off
from unetlab.metrics.objects import area_ratios, object_scores


def _square(img, y, x, size, value):
    img[y : y + size, x : x + size] = value


def test_area_ratios_are_predicted_over_true_area_of_matches():
    gt = np.zeros((20, 20), np.int64)
    pred = np.zeros_like(gt)
    _square(gt, 0, 0, 4, 1)  # 16 px, predicted 5x4 = 20 px: IoU 0.8, ratio 1.25
    pred[0:5, 0:4] = 3
    _square(gt, 10, 10, 4, 2)  # 16 px, predicted 2x4 = 8 px: IoU exactly 0.5, a match (>=)
    pred[10:12, 10:14] = 4
    _square(gt, 0, 10, 4, 5)  # 16 px, predicted 7 px: IoU 7/16, below 0.5: no match
    pred[0:2, 10:14] = 6
    pred[1, 13] = 0
    np.testing.assert_allclose(area_ratios(pred, gt), [1.25, 0.5])
    s = object_scores(pred, gt)
    assert s["area_ratio"] == pytest.approx(0.875) and s["tp"] == 2
    assert math.isnan(object_scores(np.zeros_like(gt), gt)["area_ratio"])


def _write(tmp_path, name, gt, pred):
    write_png(tmp_path / "gt" / f"{name}.png", gt.astype(np.uint16))
    write_tiff(tmp_path / "pred" / f"{name}_objects.tif", pred.astype(np.uint16))


def _data(tmp_path):
    """a: 2 true, both found exactly (F1 1); b: 2 true merged into 1 and a pixel more (IoU
    16/33 each: F1 0, -50%);
    c: 1 true found 1.5x too large plus 2 spurious objects (F1 0.5, +200%)."""
    a = np.zeros((12, 12), np.int64)
    _square(a, 0, 0, 4, 1)
    _square(a, 6, 6, 4, 2)
    _write(tmp_path, "a", a, a)
    b = np.zeros((12, 12), np.int64)
    b[0:4, 0:4], b[0:4, 4:8] = 1, 2
    merged = (b > 0).astype(np.int64)
    merged[4, 0] = 1  # without it IoU is exactly 0.5 with either, and one of them matches
    _write(tmp_path, "b", b, merged)
    c = np.zeros((12, 12), np.int64)
    c[0:4, 0:4] = 1
    cp = np.zeros_like(c)
    cp[0:6, 0:4] = 1  # 24 px over 16: IoU 16/24 > 0.5, size 1.5
    cp[8:10, 8:10], cp[10:12, 0:2] = 2, 3
    _write(tmp_path, "c", c, cp)


def test_rows_summary_and_worst_by_object_f1(tmp_path):
    _data(tmp_path)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True)
    d = report.to_dict()
    rows = {r["name"]: r for r in d["images"]}
    assert rows["b"]["count_error"] == -0.5 and rows["c"]["count_error"] == 2.0
    assert rows["c"]["area_ratio"] == pytest.approx(1.5) and math.isnan(rows["b"]["area_ratio"])
    # pooled over the 3 matched pairs: 1, 1, 1.5
    assert d["area_ratio"] == 1.0 and d["object_tp"] == 3
    assert "median" in d["averaging"]["area_ratio"]
    # all three have mIoU ranks that differ: the worst are ranked by object F1
    assert d["worst_images"] == ["b", "c", "a"] and d["worst_images_by"] == "object_f1"
    text = report.table()
    assert "worst images (object F1): b (0.0000), c (0.5000)" in text
    assert "object size        1.00" in text
    line = next(x for x in text.splitlines() if x.startswith("c "))
    assert line.split() == ["c", "1", "3", "+200.0%", "0.5000", _dsb_c(), "1.50"]


def _dsb_c() -> str:
    # IoU 16/24 = 0.667: a match at 0.50 .. 0.65 (4 of 10 levels): 1/(1+2+0), else 0/(0+3+1)
    return f"{4 * (1 / 3) / 10:.4f}"


def test_count_table_shows_the_largest_count_errors_beyond_the_limit():
    rows = [
        {
            "name": f"im{i}",
            "objects": 10,
            "pred_objects": 10 + i,
            "count_error": i / 10,
            "object_f1": 1.0,
            "dsb": 1.0,
            "area_ratio": 1.0,
        }
        for i in range(5)
    ]
    lines = count_table(rows, limit=2)
    shown = [x.split()[0] for x in lines if x.startswith("im") and not x.startswith("image")]
    assert shown == ["im4", "im3"]
    assert any("the 2 of 5 images with the largest |count error|" in x for x in lines)
    assert (
        len([x for x in count_table(rows) if x.startswith("im") and not x.startswith("image")]) == 5
    )


def test_the_count_tables_note_names_the_python_spelling_to_python_users(tmp_path):
    """Past COUNT_ROWS images the table says where every row is: ``report.images`` for a
    Python user, ``--json`` in the CLI's (note33: it named --json to Python users)."""
    _data(tmp_path)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True)
    report.images = report.images * 8  # 24 rows, over the 20 shown
    assert "largest |count error|; report.images has all)" in report.table()
    assert "--json" not in report.table()
    assert "largest |count error|; --json has all)" in report.table(every_row="--json")
    assert "--json" not in report.to_dict()["averaging"]["matching"].split("(evaluate")[0]


def test_cli_prints_counts_for_instance_data_only(tmp_path, capsys):
    _data(tmp_path)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--gt-instances", "--json", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert "F1@0.5" in out and "+200.0%" in out
    assert json.loads((tmp_path / "e.json").read_text())["area_ratio"] == 1.0
    # the CSV names the true count apart from predict's `objects` (its predicted count)
    header = (tmp_path / "e_images.csv").read_text().splitlines()[0].split(",")
    assert "true_objects" in header and "pred_objects" in header and "objects" not in header
    # the count error in the unit the table shows (+200.0%), its header saying so
    with open(tmp_path / "e_images.csv", newline="") as f:
        rows = {r["name"]: r for r in csv.DictReader(f)}
    assert (rows["b"]["count_error_percent"], rows["c"]["count_error_percent"]) == ("-50", "200")
    # class maps (no ids): no count table, worst images still ranked and named
    for name in "ab":
        write_png(tmp_path / "cls" / f"{name}.png", np.zeros((4, 4), np.uint8))
        write_png(tmp_path / "cm" / f"{name}.png", np.zeros((4, 4), np.uint8))
    assert main(["evaluate", "--pred", str(tmp_path / "cls"), "--gt", str(tmp_path / "cm")]) == 0
    assert "F1@0.5" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("true", "pred", "said"),
    [
        (1999, 1635, "-18.2%: 364 too few"),
        (2, 3, "+50.0%: 1 too many"),
        (23, 23, "+0.0%: as many"),
        (0, 4, "n/a"),
    ],
)
def test_the_objects_line_says_too_few_or_too_many_in_words(true, pred, said):
    """walkkromp s51: `1635 predicted, 1999 true (-18.2%)` left the reader to work out the
    direction; the line names it and by how many objects."""
    assert count_off(true, pred) == said
