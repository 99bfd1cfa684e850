"""A comparison is one line as a notebook cell's value (s50 notebook walk: the dataclass's
repr was some 10,000 characters of rows and run records for two runs)."""

from unetlab.compare.table import Comparison


def test_a_comparison_shows_as_one_line():
    rows = [{"run": f"r{i}", "best_val_miou": 0.5 - i / 100} for i in range(7)] + [{"run": "new"}]
    many = Comparison(rows=rows, records=[], columns=["run"], settings=[], by="best")
    line = repr(many)
    assert "\n" not in line and len(line) < 200
    assert line.startswith("Comparison(8 runs by best_val_miou: r0 0.5000, r1 0.4900, ")
    assert "r4 0.4600 and 3 more; print(c.table()) for the table" in line
    two = Comparison(rows=rows[6:], records=[], columns=["run"], settings=[], by="best")
    assert "r6 0.4400, new -;" in repr(two)


def test_a_comparison_prints_its_table_by_the_name_a_report_uses():
    """s52 notebook: report.table() but comparison.text(), two names for one idea; table()
    now on both, text() kept."""
    rows = [{"run": "a", "best_val_miou": 0.5}, {"run": "b", "best_val_miou": 0.4}]
    two = Comparison(
        rows=rows, records=[], columns=["run", "best_val_miou"], settings=[], by="best"
    )
    lines = two.table().splitlines()
    assert lines[0].split() == ["run", "best_val_miou"] and lines[1].split()[0] == "a"
    assert two.text() == two.table()
