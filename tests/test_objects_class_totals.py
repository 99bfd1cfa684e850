"""predict's total line gives a semantic model's objects per class, with or without the
folder's summary table (audit s35 multiclass 6: "objects: 59 in 4 images", no class)."""

import logging

from unetlab.cli.predict import _report_objects
from unetlab.inference.objects_summary import DONE, summary_lines


def test_the_total_line_counts_each_class(caplog):
    kinds = {"a.tif": {"healthy": 9, "apoptotic": 11}, "b.tif": {"healthy": 9, "apoptotic": 6}}
    with caplog.at_level(logging.INFO, logger="unetlab.cli.predict"):
        _report_objects({"a.tif": [20], "b.tif": [15]}, kinds)
        _report_objects({"c.tif": [4], "d.tif": [3]})  # no classes: as before
    assert "objects: 35 in 2 images: 18 healthy, 17 apoptotic" in caplog.text
    assert "objects: 7 in 2 images\n" in caplog.text + "\n"


def test_the_summary_tables_total_counts_each_class():
    rows = [
        {"image": "a.tif", "status": DONE, "objects": 20, "classes": {"healthy": 9, "2": 11}},
        {"image": "b.tif", "status": DONE, "objects": 15, "classes": {"healthy": 9, "2": 6}},
    ]
    (total,) = [line for line in summary_lines(rows) if line.startswith("objects:")]
    assert total.startswith("objects: 35 in 2 images: 18 healthy, 17 class 2;")
