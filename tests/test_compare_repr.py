"""A comparison is one line as a notebook cell's value (s50 notebook walk: the dataclass's
repr was some 10,000 characters of rows and run records for two runs)."""

from unetlab.compare.table import Comparison


def test_a_comparison_shows_as_one_line():
    rows = [{"run": f"r{i}", "best_val_miou": 0.5 - i / 100} for i in range(7)] + [{"run": "new"}]
    many = Comparison(rows=rows, records=[], columns=["run"], settings=[], by="best")
    line = repr(many)
    assert "\n" not in line and len(line) < 200
    assert line.startswith("Comparison(8 runs by best_val_miou: r0 0.5000, r1 0.4900, ")
    assert "r4 0.4600 and 3 more; print(c.text()) for the table" in line
    two = Comparison(rows=rows[6:], records=[], columns=["run"], settings=[], by="best")
    assert "r6 0.4400, new -;" in repr(two)
