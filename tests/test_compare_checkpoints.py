"""unetlab compare: each evaluation column says which checkpoint the report scored, and the
curves run by training step where the runs' epochs differ in length (note32)."""

from __future__ import annotations

import json

import pytest

from unetlab.cli import main
from unetlab.compare import compare_runs, curve_axis, write_comparison
from unetlab.compare.records import read_run, scored_checkpoint
from unetlab.data.split_record import file_sha256
from unetlab.evaluate.predictions import predicted_by
from unetlab.plots import run_points

from .test_compare import COLUMNS, three_runs

REPORT = {"miou": 0.5, "confusion_matrix": [[1, 0], [0, 1]]}


def _report(run, name, **source):
    (run / f"{name}.json").write_text(json.dumps(REPORT | source))


def test_each_evaluation_says_the_checkpoint_it_scored(tmp_path):
    runs = three_runs(tmp_path)
    a, b, c = runs / "a", runs / "b", runs / "c"
    best = a / "checkpoints" / "best.pt"
    best.write_bytes(b"weights of epoch 3")
    _report(
        a, "test", checkpoint=str(best), checkpoint_sha256=file_sha256(best), checkpoint_epoch=3
    )
    (b / "checkpoints" / "last.pt").write_bytes(b"b's last")
    copy = tmp_path / "shared" / "b_last.pt"  # the run's last.pt copied elsewhere
    copy.parent.mkdir()
    copy.write_bytes(b"b's last")
    _report(b, "test", checkpoint=str(copy), checkpoint_sha256=file_sha256(copy))
    other = tmp_path / "shared" / "pretrained.pt"
    other.write_bytes(b"someone else's")
    _report(c, "test", checkpoint=str(other), checkpoint_sha256=file_sha256(other))
    table = compare_runs([runs])
    scored = {r["run"]: r["test checkpoint"] for r in table.rows}
    assert scored == {"a": "best.pt (epoch 3)", "b": "last.pt", "c": "other pretrained.pt"}
    assert "best.pt (epoch 3)" in table.text()

    best.write_bytes(b"weights of epoch 9")  # trained on: best.pt is another checkpoint now
    row = compare_runs([runs]).rows
    assert {r["run"]: r["test checkpoint"] for r in row}["a"] == "best.pt (epoch 3), replaced since"


def test_a_report_made_before_the_run_ended_scored_its_ended_best_pt(tmp_path):
    """best.pt rewritten at the run's end (same_model_sha256) holds the model a report made
    during the run scored: not 'replaced since'; another model there still is."""
    from unetlab import UNet, save_model
    from unetlab.checkpoint import update_checkpoint

    runs = three_runs(tmp_path)
    a = runs / "a"
    best = save_model(a / "checkpoints" / "best.pt", UNet(1, 2, depth=2, base_channels=2))
    _report(a, "during", checkpoint=str(best), checkpoint_sha256=file_sha256(best))
    update_checkpoint(best, same_model=True, run_progress={"finished": True})  # the run's end
    _report(
        a,
        "after",  # a report of the ended file: its bytes and its model's sha256
        checkpoint=str(best),
        checkpoint_sha256=file_sha256(best),
        checkpoint_model_sha256=read_model_sha(best),
    )
    update_checkpoint(best, same_model=True, run_progress={"finished": True, "again": 1})
    row = next(r for r in compare_runs([runs]).rows if r["run"] == "a")
    assert (row["during checkpoint"], row["after checkpoint"]) == ("best.pt", "best.pt")
    update_checkpoint(best, label_offset=[1.0, 0.0])  # another model
    row = next(r for r in compare_runs([runs]).rows if r["run"] == "a")
    assert row["during checkpoint"] == row["after checkpoint"] == "best.pt, replaced since"


def read_model_sha(path) -> str:
    from unetlab.checkpoint import load_checkpoint

    return load_checkpoint(path)["same_model_sha256"]


def test_an_evaluation_of_saved_predictions_names_the_checkpoints_that_made_them(tmp_path):
    runs = three_runs(tmp_path)
    a = runs / "a"
    last = a / "checkpoints" / "last.pt"
    pred = tmp_path / "pred"
    pred.mkdir()
    records = {"x": {"checkpoint": str(last), "sha256": file_sha256(last)}, "y": {"other": 1}}
    (pred / "predict.json").write_text(json.dumps({"records": records}))
    made = predicted_by(pred)
    assert made == [{"checkpoint": str(last), "checkpoint_sha256": file_sha256(last)}]
    _report(a, "pred_eval", predictions=str(pred), predicted_by=made)
    _report(a, "old_report")  # from before reports named it
    row = next(r for r in compare_runs([runs]).rows if r["run"] == "a")
    assert (row["pred_eval checkpoint"], row["old_report checkpoint"]) == ("last.pt", None)


def _steps(run, per_epoch: int, epochs: int = 3) -> None:
    lines = [COLUMNS] + [
        f"{e},{per_epoch * e},1.0,0.9,0.5,0.5,0.6,0.001,30" for e in range(1, epochs + 1)
    ]
    (run / "metrics.csv").write_text("\n".join(lines) + "\n")


def test_curves_run_by_step_where_the_runs_epochs_differ_in_length(tmp_path, monkeypatch):
    runs = three_runs(tmp_path)  # 2 steps an epoch each
    assert curve_axis([read_run(runs / n) for n in "abc"]) == "epoch"
    _steps(runs / "c", per_epoch=8)  # 4x the images an epoch
    assert curve_axis([read_run(runs / n) for n in "abc"]) == "step"

    drawn = []
    from unetlab import compare

    monkeypatch.setattr(compare, "plot_runs", lambda curves, path, *, x: drawn.append(x))
    table = compare_runs([runs])
    for x in ("auto", "epoch", "step"):
        write_comparison(table, tmp_path / f"out_{x}", x=x)
    assert drawn == ["step", "epoch", "step"]


def test_a_runs_points_by_step_ring_its_best_epoch():
    rows = [{"epoch": e, "step": 8.0 * e, "val_miou": m} for e, m in ((1, 0.4), (2, 0.6))]
    rows.append({"epoch": 3, "step": 24.0, "val_miou": None})
    assert run_points(rows, "val_miou", x="step", best=2) == ([8.0, 16.0], [0.4, 0.6], (16.0, 0.6))
    assert run_points(rows, "val_miou", x="epoch", best=None)[2] is None


def test_curves_by_is_a_choice_of_out(tmp_path, capsys):
    runs = three_runs(tmp_path)
    assert main(["compare", str(runs), "--curves-by", "step"]) == 2
    assert "--curves-by step draws --out's curves: add --out DIR" in capsys.readouterr().err
    out = tmp_path / "o"
    assert main(["compare", str(runs), "--curves-by", "step", "--out", str(out)]) == 0
    assert (out / "compare_curves.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(Exception, match="x must be"):
        write_comparison(compare_runs([runs]), out, x="time")


def test_a_run_s_checkpoints_are_read_once_for_many_reports(tmp_path, monkeypatch):
    """Review s46: each report naming another checkpoint loaded the run's best.pt and
    last.pt again (124 MB each: 50 reports 5.3 s); now once while they are unchanged."""
    from unetlab import UNet, checkpoint, save_model

    runs = three_runs(tmp_path)
    a = runs / "a"
    for name in ("best.pt", "last.pt"):
        (a / "checkpoints" / name).unlink(missing_ok=True)
        save_model(a / "checkpoints" / name, UNet(1, 2, depth=2, base_channels=2))
    other = tmp_path / "pretrained.pt"
    other.write_bytes(b"someone else's")
    loads = []
    real = checkpoint.load_checkpoint
    monkeypatch.setattr(checkpoint, "load_checkpoint", lambda p: loads.append(p) or real(p))
    for i in range(3):
        report = {"checkpoint": str(other), "checkpoint_sha256": f"{i:064x}"}
        assert scored_checkpoint(a, report) == "other pretrained.pt"
    assert len(loads) == 2
    save_model(a / "checkpoints" / "best.pt", UNet(1, 2, depth=2, base_channels=3), overwrite=True)
    assert scored_checkpoint(a, report) == "other pretrained.pt" and len(loads) == 3
