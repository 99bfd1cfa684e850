"""evaluate's matching table (evaluate/matching.py): per image and pooled rows from the
PairIoU an evaluation keeps, its CSV and its printed line."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from unetlab.evaluate.matching import POOLED, matching_line, matching_tables, write_matching_csv
from unetlab.metrics.matching import MATCHING_COLUMNS, matching_table
from unetlab.metrics.objects import object_scores


def _images():
    truth = np.zeros((4, 8), np.uint16)
    truth[0, :6], truth[2:4, :2], truth[3, 6:8] = 1, 2, 3
    pred = np.zeros_like(truth)
    pred[0, :3], pred[0, 3:6], pred[2:4, :2], pred[1, 0] = 4, 9, 7, 7
    empty = np.zeros_like(truth)
    return [("a", truth, pred), ("b", truth, empty), ("c", empty, empty)]


def _kept():
    return [(n, object_scores(prediction=p, truth=t)["pair_iou"]) for n, t, p in _images()]


def test_tables_equal_matching_table_per_image_and_sum_the_counts():
    per_image, pooled = matching_tables(_kept(), [0.5, 0.9])
    for (name, rows), (_, truth, pred) in zip(per_image, _images(), strict=True):
        expected = matching_table(truth=truth, prediction=pred, thresholds=[0.5, 0.9])
        assert len(rows) == len(expected), name
        for row, want in zip(rows, expected, strict=True):  # approx takes no list of dicts
            assert row.keys() == want.keys(), name
            for key, value in want.items():
                assert row[key] == pytest.approx(value, nan_ok=True), (name, key)
    assert [(r["tp"], r["fp"], r["fn"]) for r in pooled] == [(2, 1, 4), (0, 3, 6)]
    assert pooled[0]["accuracy"] == pytest.approx(2 / 7)
    assert [r["threshold"] for r in matching_tables(_kept())[1]][:2] == [0.1, 0.2]
    assert matching_tables([]) == ([], [])


def test_csv_has_a_row_per_image_and_threshold_then_the_pooled_rows(tmp_path):
    path = write_matching_csv(tmp_path / "e_matching.csv", *matching_tables(_kept(), [0.5]))
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["image", *MATCHING_COLUMNS]
    assert [r["image"] for r in rows] == ["a", "b", "c", POOLED]
    assert rows[0]["tp"] == "2" and rows[0]["accuracy"] == "0.5"
    assert rows[2]["accuracy"] == ""  # nothing true, nothing predicted: undefined, empty


def test_printed_line_names_what_ap_is():
    line = matching_line(matching_tables(_kept(), [0.5, 0.9])[1])
    assert line.startswith("AP at IoU >= t     0.5: 0.2857  0.9: 0.0000")
    assert "TP/(TP+FP+FN), StarDist's accuracy" in line
