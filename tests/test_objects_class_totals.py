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


def test_the_totals_follow_the_models_class_order(caplog, tmp_path):
    """Not the order the classes were first met in (audit s35 multiclass 6's follow-up:
    "3284 apoptotic, 40 healthy" for a model of background, healthy, apoptotic)."""
    from unetlab.inference.objects_summary import summary_columns, table_figures

    kinds = {"a.tif": {"apoptotic": 7}, "b.tif": {"healthy": 3, "apoptotic": 2}}
    with caplog.at_level(logging.INFO, logger="unetlab.cli.predict"):
        _report_objects({"a.tif": [7], "b.tif": [5]}, kinds)
    assert "objects: 12 in 2 images: 3 healthy, 9 apoptotic" in caplog.text
    rows = [
        {"image": k, "status": DONE, "objects": sum(v.values()), "classes": v}
        for k, v in kinds.items()
    ]
    assert [c for c in summary_columns(rows) if c.startswith("objects_")] == [
        "objects_healthy",
        "objects_apoptotic",
    ]
    table = tmp_path / "c_objects.csv"  # its first object of the second class
    table.write_text(
        "id,area,class,class_name\n1,40,2,apoptotic\n2,30,1,healthy\n3,9,2,apoptotic\n"
    )
    assert list(table_figures(table)["classes"].items()) == [("healthy", 1), ("apoptotic", 2)]


def test_the_models_class_names_order_classes_no_image_has_together(caplog):
    from unetlab.inference.objects_summary import summary_columns

    kinds = {"a.tif": {"apoptotic": 7}, "b.tif": {"healthy": 3}}
    names = ["background", "healthy", "apoptotic"]
    with caplog.at_level(logging.INFO, logger="unetlab.cli.predict"):
        _report_objects({"a.tif": [7], "b.tif": [3]}, kinds, names=names)
    assert "objects: 10 in 2 images: 3 healthy, 7 apoptotic" in caplog.text
    rows = [
        {"image": k, "status": DONE, "objects": sum(v.values()), "classes": v}
        for k, v in kinds.items()
    ]
    (total,) = [line for line in summary_lines(rows, names) if line.startswith("objects:")]
    assert total.startswith("objects: 10 in 2 images: 3 healthy, 7 apoptotic;")
    columns = [c for c in summary_columns(rows, names) if c.startswith("objects_")]
    assert columns == ["objects_healthy", "objects_apoptotic"]


def test_predict_folder_gives_the_models_class_names(tmp_path):
    import numpy as np

    from unetlab.data.io import write_png
    from unetlab.inference.folders import predict_folder
    from unetlab.models import UNet

    net = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    net.classes = ["background", "healthy", "apoptotic"]
    write_png(tmp_path / "in" / "a.png", np.full((16, 16), 90, np.uint8))
    result = predict_folder(net, tmp_path / "in", tmp_path / "out")
    assert result.class_names == ["background", "healthy", "apoptotic"]


def test_a_class_cell_blank_or_not_a_number_keeps_the_tables_count(tmp_path):
    """A table with ``class`` and no ``class_name`` whose class cell was blank made the whole
    table unreadable (its count lost, s55 fixC): the row is counted without a class."""
    from unetlab.inference.objects_summary import page_figures, table_figures

    table = tmp_path / "t_objects.csv"
    table.write_text("id,class,area\n1,1,10\n2,,20\n3,x,5\n4,1.0,1\n")
    figures = table_figures(table, names=["bg", "cell"])
    assert (figures["objects"], figures["total_area"]) == (4, 36.0)
    assert figures["classes"] == {"cell": 2}
    table.write_text("id,page,class,class_name,area\n1,0,,cell,10\n2,1,nan,cell,20\n")
    assert [f["classes"] for f in page_figures(table, 2)] == [{"cell": 1}, {"cell": 1}]
