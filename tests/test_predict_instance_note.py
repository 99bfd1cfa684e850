"""An instance (nuclei) model predicted without objects says what its labels are (s42
README walk: ``predict`` of a Kromp model without ``--instances`` wrote background /
boundary / interior maps without a word, and ``evaluate --pred`` of them was refused)."""

import logging

import numpy as np

from unetlab import UNet, predict_folder
from unetlab.data.io import write_png


def _nuclei_net() -> UNet:
    net = UNet(1, 3, depth=2, base_channels=2).eval()
    net.classes = ["background", "boundary", "interior"]
    net.objects = {"target": "instances", "count": 2, "area_p05": 20.0, "area_median": 40.0}
    return net


def test_an_instance_model_without_objects_says_its_labels_are_classes(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    image = np.random.default_rng(0).integers(0, 255, (32, 40), np.uint8)
    write_png(tmp_path / "in" / "a.png", image)
    predict_folder(_nuclei_net(), tmp_path / "in", tmp_path / "out")
    (line,) = [r.getMessage() for r in caplog.records if "--instances" in r.getMessage()]
    assert "labels are its classes background, boundary, interior" in line, line
    assert "add --instances (objects=True)" in line and "\n" not in line
    caplog.clear()
    predict_folder(_nuclei_net(), tmp_path / "in", tmp_path / "objects", objects=True)
    assert "--instances" not in caplog.text
