"""compare's words (audit s33 readme3 8): an epoch's steps are a whole epoch's, not an
average over a last epoch cut short (5.25 steps), and model.num_classes left null in
config.yaml (the data set it) is the run's classes, not "-"."""

import json
import logging

import yaml

from unetlab.compare import compare_runs, curve_axis, epoch_steps
from unetlab.compare.records import read_run

from .test_compare import COLUMNS, fake_run


def test_an_epochs_steps_are_a_whole_epochs(tmp_path, caplog):
    rows = [{"epoch": e, "step": s} for e, s in ((1, 6), (2, 12), (3, 18), (4, 21))]
    assert epoch_steps(rows) == 6  # the last epoch cut short at 3 of 6 steps
    assert epoch_steps([{"epoch": 1, "step": 2}]) == 2 and epoch_steps([]) is None
    runs = tmp_path / "runs"
    for name, per_epoch in (("a", 2), ("b", 6)):
        run = fake_run(runs / name)
        steps = [per_epoch, 2 * per_epoch, 2 * per_epoch + 1]  # the last cut short
        lines = [COLUMNS] + [
            f"{e},{s},1.0,0.9,0.5,0.5,0.6,0.001,30" for e, s in enumerate(steps, 1)
        ]
        (run / "metrics.csv").write_text("\n".join(lines) + "\n")
    caplog.set_level(logging.INFO)
    assert curve_axis([read_run(runs / n) for n in "ab"]) == "step"
    assert "differ in length (2, 6 steps an epoch;" in caplog.text


def test_num_classes_the_data_set_is_filled_from_the_run(tmp_path):
    runs = tmp_path / "runs"
    fake_run(runs / "a")
    b = fake_run(runs / "b")
    for run, classes in ((runs / "a", 3), (b, None)):
        config = yaml.safe_load((run / "config.yaml").read_text())
        config["model"]["num_classes"] = classes
        (run / "config.yaml").write_text(yaml.safe_dump(config))
    summary = json.loads((b / "summary.json").read_text()) | {"classes": ["bg", "cell"]}
    (b / "summary.json").write_text(json.dumps(summary))
    table = compare_runs([runs])
    assert {r["run"]: r["model.num_classes"] for r in table.rows} == {"a": 3, "b": 2}
    assert " - " not in table.text()
    (b / "summary.json").unlink()  # killed: metrics.csv's per-class columns, if any
    assert read_run(b).config["model.num_classes"] is None  # fake_run's have none


def test_a_budget_runs_epoch_cut_short_is_not_its_length(tmp_path, caplog):
    """Two --minutes runs cut short in their first epoch (1 of 6 and 3 of 16 steps): the
    note gave 1 and 3 steps an epoch (audit s35 workshop 9); summary.json's repeat records
    the epoch's length."""
    runs = tmp_path / "runs"
    for name, (steps, per_epoch) in {"a": (1, 6), "b": (3, 16)}.items():
        run = fake_run(runs / name)
        (run / "metrics.csv").write_text(f"{COLUMNS}\n1,{steps},1.0,0.9,0.5,0.5,0.6,0.001,30\n")
        summary = json.loads((run / "summary.json").read_text())
        repeat = {"epochs": 1, "steps": steps, "steps_of_epochs": per_epoch}
        (run / "summary.json").write_text(json.dumps(summary | {"repeat": repeat}))
    caplog.set_level(logging.INFO)
    assert curve_axis([read_run(runs / n) for n in "ab"]) == "step"
    assert "differ in length (6, 16 steps an epoch;" in caplog.text
