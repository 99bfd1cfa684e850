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
    (line,) = [r.getMessage() for r in caplog.records if "objects=True" in r.getMessage()]
    assert "labels are its classes background, boundary, interior" in line, line
    # the keyword alone in Python: it said "add --instances (objects=True)" (s54 new user)
    assert "add objects=True for one id" in line and "--" not in line and "\n" not in line
    caplog.clear()
    predict_folder(_nuclei_net(), tmp_path / "in", tmp_path / "objects", objects=True)
    assert "objects=True" not in caplog.text


def test_the_command_line_names_its_flags_and_python_its_keywords(tmp_path, caplog):
    """The same notes in the command's words (within command_spelling, as unetlab predict
    runs), and the OME-Zarr note of inputs read whole in each caller's words."""
    from unetlab.errors import command_spelling

    caplog.set_level(logging.INFO)
    image = np.random.default_rng(0).integers(0, 255, (32, 40), np.uint8)
    write_png(tmp_path / "in" / "a.png", image)
    with command_spelling():
        predict_folder(_nuclei_net(), tmp_path / "in", tmp_path / "cli", output_format="ome-zarr")
    said = caplog.text
    assert "without --instances its labels" in said and "add --instances for one id" in said
    assert "--output-format ome-zarr is for large images" in said and "--large-pixels N" in said
    assert "objects=True" not in said and "large_threshold" not in said
    caplog.clear()
    predict_folder(_nuclei_net(), tmp_path / "in", tmp_path / "api", output_format="ome-zarr")
    said = caplog.text
    assert "output_format='ome-zarr' is for large images" in said
    assert "(large_threshold=N streams" in said and "--" not in said
