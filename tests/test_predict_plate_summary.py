"""``predict --instances`` on a folder writes ``objects_summary.csv``: one row per input in
input order with its status, and a ``--skip-existing`` rerun's table and total cover every
image, the earlier run's read back from their tables (audit s33 plates 1, 5)."""

import csv
import logging

import numpy as np

import unetlab
from tests.test_predict_objects import local_net, nuclei_image
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def _table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _plate(tmp_path):
    for i, well in enumerate(("B01", "A01", "C01")):
        write_png(tmp_path / "in" / f"{well}_s1_w1.png", nuclei_image(60, 70, seed=i))
    (tmp_path / "in" / "D01_s1_w1.png").write_bytes(b"")  # a copy that failed
    return tmp_path / "in"


def test_a_folders_summary_and_a_resumed_runs_total(tmp_path, monkeypatch, caplog):
    net = local_net()  # one model for both runs
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    folder, out = _plate(tmp_path), tmp_path / "out"
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(folder), "--output", str(out)]
    assert main([*argv, "--instances"]) == 3  # one input failed
    rows = _table(out / "objects_summary.csv")
    assert [(r["image"], r["status"]) for r in rows] == [
        ("A01_s1_w1.png", "done"),
        ("B01_s1_w1.png", "done"),
        ("C01_s1_w1.png", "done"),
        ("D01_s1_w1.png", "failed"),
    ]
    assert rows[3]["reason"].endswith("D01_s1_w1.png: empty file (0 bytes); copy the file again")
    counts = [len(_table(out / f"{w}_s1_w1_objects.csv")) for w in ("A01", "B01", "C01")]
    assert [int(r["objects"]) for r in rows[:3]] == counts and min(counts) > 0
    assert float(rows[0]["mean_area"]) > 0 and float(rows[0]["focus"]) > 0
    for name in ("B01_s1_w1.png", "B01_s1_w1_objects.csv", "B01_s1_w1_objects.tif"):
        (out / name).unlink()  # redone by the rerun; A01 and C01 are skipped
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--instances", "--skip-existing"]) == 3
    again = _table(out / "objects_summary.csv")
    assert [r["status"] for r in again] == [
        "skipped-existing",
        "done",
        "skipped-existing",
        "failed",
    ]
    assert [r["objects"] for r in again] == [r["objects"] for r in rows]
    earlier = counts[0] + counts[2]
    total = (
        f"objects: {sum(counts)} in 3 images ({earlier} from an earlier run: 2 images "
        "skipped); one row per image in objects_summary.csv"
    )
    assert total in caplog.messages


def test_the_python_api_gives_the_same_rows(tmp_path):
    folder, out = _plate(tmp_path), tmp_path / "out"
    net = local_net()
    result = predict_folder(net, folder, out, objects=ObjectOptions.for_model(net))
    assert [r["image"] for r in result.summary] == [
        "A01_s1_w1.png",
        "B01_s1_w1.png",
        "C01_s1_w1.png",
        "D01_s1_w1.png",
    ]
    table = _table(out / "objects_summary.csv")
    assert [r["objects"] for r in table] == [str(r.get("objects", "")) for r in result.summary]
    assert [r["status"] for r in result.summary] == ["done"] * 3 + ["failed"]
    plain = predict_folder(net, folder, tmp_path / "labels")  # no objects: no table
    assert plain.summary == [] and not (tmp_path / "labels" / "objects_summary.csv").exists()
    assert np.isfinite(result.summary[0]["focus"])
