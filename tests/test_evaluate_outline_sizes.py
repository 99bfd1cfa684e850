"""evaluate --pred P --gt G with outlines on both sides and no image beside either: the
size comes from the input predict drew the outlines on (its manifest names it), else one
line names the file to put beside the ground truth (s38 noticed: refused, naming the data
folder only)."""

from __future__ import annotations

import pytest
import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.errors import DatasetError
from unetlab.evaluate import evaluate_predictions
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.outlines import write_imagej_rois


def test_outlines_against_outlines_take_the_size_of_predicts_input(tmp_path):
    net = local_net()
    write_png(tmp_path / "in" / "a.png", nuclei_image(60, 70, seed=0))
    out = tmp_path / "pred"
    predict_folder(
        net, tmp_path / "in", out, objects=ObjectOptions.for_model(net), outlines="imagej"
    )
    ids = tifffile.imread(out / "a_objects.tif")
    assert ids.max() > 1
    write_imagej_rois(tmp_path / "gt" / "a.zip", ids)  # the truth: Fiji's RoiSet, no image
    for name in ("a.png", "a_objects.tif"):
        (out / name).unlink()  # the outlines alone, as a user keeps them
    report = evaluate_predictions(out, tmp_path / "gt")
    (image,) = report.images
    assert image["objects"] == ids.max() and image["object_f1"] == pytest.approx(1.0)
    (tmp_path / "in" / "a.png").unlink()  # no input either: the line says what to put where
    fix = r"put its image beside it \(.*gt.a\.tif, or any image format of that name\), or give"
    with pytest.raises(DatasetError, match=fix):
        evaluate_predictions(out, tmp_path / "gt")
