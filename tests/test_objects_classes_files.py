"""predict's objects of a multi-class semantic model (needs the files.py patch of session 31's
grainsfix): the CSV's class columns and the per-class counts of predict_folder and the CLI."""

import csv
import logging

import numpy as np
import tifffile

import unetlab
from tests.test_objects_classes import grains_and_pores, three_class_net
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.inference.objects import ObjectOptions


def test_predict_folder_writes_and_counts_each_objects_class(tmp_path):
    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "g.tif", labels.astype(np.float32))
    net = three_class_net()
    done = unetlab.predict_folder(
        net, tmp_path / "in", tmp_path / "out", objects=ObjectOptions(min_area=1)
    )
    with open(tmp_path / "out" / "g_objects.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:3] == ["id", "class", "class_name"]
    assert [r["class_name"] for r in rows] == ["grain", "pore", "grain", "pore"]
    assert done.classes == {tmp_path / "in" / "g.tif": {"grain": 2, "pore": 2}}


def test_cli_predict_says_the_objects_of_each_class(tmp_path, caplog, monkeypatch):
    from unetlab.cli import predict

    labels, _ = grains_and_pores()
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "g10.tif", labels.astype(np.float32))
    by_class = [None, {"count": 3, "area_p05": 40.0}, {"count": 3, "area_p05": 8.0}]
    save_model(tmp_path / "m.pt", three_class_net(by_class))
    monkeypatch.setattr(predict, "_load", lambda args, device, **_: three_class_net(by_class))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "out"), "--instances"]) == 0
    assert "g10.tif: 3 objects: 2 grain, 1 pore" in caplog.text
    assert "min area by class grain 10 px, pore 2 px" in caplog.text


def test_an_instance_models_table_has_no_class_column(tmp_path):
    from tests.test_predict_objects import local_net, nuclei_image

    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "a.tif", nuclei_image(60, 70))
    done = unetlab.predict_folder(local_net(), tmp_path / "in", tmp_path / "out", objects=True)
    with open(tmp_path / "out" / "a_objects.csv", newline="") as f:
        assert "class" not in next(csv.reader(f))
    assert done.classes == {}
