"""The objects of a table there (an overlay drawn again from a finished folder) are counted
row by row, as the run that wrote it said them, without holding the table (a slide's has
millions of rows)."""

import tracemalloc

import numpy as np
import pytest

from unetlab.inference.drawn_again import table_counts
from unetlab.inference.measure import class_areas, class_counts


def test_the_counts_of_a_table_are_those_of_its_columns(tmp_path):
    rng = np.random.default_rng(0)
    n = 200
    page, kind = rng.integers(0, 3, n), rng.integers(1, 4, n)
    area = rng.random(n) * 10
    names = np.array(["cell", "dust", "fibre"])[kind - 1]
    table = tmp_path / "t.csv"
    lines = [
        f"{p},{i},{k},{c},{float(a)!r}"
        for i, (p, k, c, a) in enumerate(zip(page, kind, names, area))
    ]
    table.write_text("\n".join(["page,id,class,class_name,area_m2", *lines]) + "\n")
    counts, classes, areas = table_counts(table, 4)
    assert counts == np.bincount(page, minlength=4).tolist()
    columns = {"class": kind, "class_name": names, "area_m2": area}
    assert classes == class_counts(columns)
    assert areas == pytest.approx(class_areas(columns), rel=1e-12)


def test_the_areas_of_classes_without_names_are_summed(tmp_path):
    """A semantic model without class names writes ``class`` alone: its areas were keyed
    by the class read as a float ('1.0') and summed to 0 m² under '1'."""
    table = tmp_path / "t.csv"
    table.write_text("id,class,area_m2\n1,1,2.5\n2,2,1.0\n3,1,0.5\n")
    assert table_counts(table, 1) == ([3], {"1": 2, "2": 1}, {"1": 3.0, "2": 1.0})


def test_a_table_is_counted_without_holding_its_rows(tmp_path):
    table = tmp_path / "t.csv"
    row = "0,{},1,cell,12.5,3.25,7.125,slide.tif\n"
    rows = "".join(row.format(i) for i in range(20_000))
    table.write_text("page,id,class,class_name,area,centroid_y,centroid_x,image\n" + rows)
    tracemalloc.start()
    try:
        assert table_counts(table, 1) == ([20_000], {"cell": 20_000}, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1e6  # the rows held as dicts: 14.5 MB


def test_a_table_without_class_name_is_named_by_the_models_classes(tmp_path):
    """An earlier version's table (``class`` alone) of a model that names its classes: its
    counts and areas by the names (the index past them), not by "1" and "2"."""
    table = tmp_path / "t.csv"
    table.write_text("id,class,area_m2\n1,1,2.5\n2,2,1.0\n3,1,0.5\n4,3,1.5\n")
    names = ["background", "cell", "dust"]
    counts = ([4], {"cell": 2, "dust": 1, "3": 1}, {"cell": 3.0, "dust": 1.0, "3": 1.5})
    assert table_counts(table, 1, names) == counts
