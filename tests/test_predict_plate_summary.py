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
from unetlab.inference.objects_summary import summary_lines


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


def test_another_input_into_the_folder_keeps_the_earlier_inputs_rows(tmp_path):
    """A folder predicted input by input (audit s38 3d: a second stack into the same
    folder rewrote objects_summary.csv with its rows alone): the earlier run's inputs keep
    their rows, read from their tables, marked earlier-run, and count in the total."""
    net, out = local_net(), tmp_path / "out"
    objects = ObjectOptions.for_model(net)
    for i, well in enumerate(("A01", "B01", "C01")):
        write_png(tmp_path / "in" / f"{well}.png", nuclei_image(60, 70, seed=i))
    first = predict_folder(
        net, [tmp_path / "in" / "A01.png", tmp_path / "in" / "B01.png"], out, objects=objects
    )
    later = predict_folder(net, [tmp_path / "in" / "C01.png"], out, objects=objects)
    rows = _table(out / "objects_summary.csv")
    assert [(r["image"], r["status"]) for r in rows] == [
        ("A01.png", "earlier-run"),
        ("B01.png", "earlier-run"),
        ("C01.png", "done"),
    ]
    assert [r["objects"] for r in rows[:2]] == [str(r["objects"]) for r in first.summary]
    assert rows[0]["path"].endswith("in/A01.png") and float(rows[0]["focus"]) > 0
    assert [r["image"] for r in later.summary] == ["A01.png", "B01.png", "C01.png"]
    earlier = sum(r["objects"] for r in first.summary)
    line = f"({earlier} from an earlier run: 2 images not among this run's inputs)"
    assert line in summary_lines(later.summary)[0]


def test_one_2d_images_summary_is_returned_not_written(tmp_path):
    """Audit s38 apiaudit: predict_folder(objects=...) of a folder of one 2-D image gave
    ``.summary == []``; its row is returned (its figures its table's), no file written."""
    net = local_net()
    write_png(tmp_path / "in" / "A01.png", nuclei_image(60, 70, seed=0))
    out = tmp_path / "out"
    result = predict_folder(net, tmp_path / "in", out, objects=ObjectOptions.for_model(net))
    assert [(r["image"], r["status"], r["path"]) for r in result.summary] == [
        ("A01.png", "done", "A01.png")
    ]
    assert result.summary[0]["objects"] == len(_table(out / "A01_objects.csv")) > 0
    assert result.objects == {tmp_path / "in" / "A01.png": [result.summary[0]["objects"]]}
    assert not (out / "objects_summary.csv").exists()  # one image: its own table says it


def test_an_earlier_runs_rows_are_relative_as_this_runs(tmp_path, monkeypatch):
    """Audit s38 apiaudit: the rows rebuilt for an earlier run's inputs carried the input's
    resolved path (``/tmp/.../in/sub/A01.png``) where this run's carry it relative to the
    folder given (``C01.png``), or as given (``in/C01.png``)."""
    net = local_net()
    objects = ObjectOptions.for_model(net)
    monkeypatch.chdir(tmp_path)
    for i, name in enumerate(("sub/A01", "C01", "D01")):
        write_png(tmp_path / "in" / f"{name}.png", nuclei_image(60, 70, seed=i))
    predict_folder(net, "in/sub", "out", objects=objects)
    (tmp_path / "in" / "D01.png").rename(tmp_path / "D01.png")
    later = predict_folder(net, "in", "out", objects=objects)  # not --recursive: no sub/
    assert [(r["image"], r["status"], r["path"]) for r in later.summary] == [
        ("A01.png", "earlier-run", "sub/A01.png"),
        ("C01.png", "done", "C01.png"),
    ]
    assert [r["path"] for r in _table(tmp_path / "out" / "objects_summary.csv")] == [
        "sub/A01.png",
        "C01.png",
    ]
    files = predict_folder(net, ["D01.png"], "out", objects=objects)  # files: as given
    assert [r["path"] for r in files.summary] == ["in/sub/A01.png", "in/C01.png", "D01.png"]
