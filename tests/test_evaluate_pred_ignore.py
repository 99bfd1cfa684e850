"""evaluate --pred of a model trained with data.ignore_value: the predictions' records
(predict.json) say that value, and the masks' pixels holding it count nowhere, as
evaluate --checkpoint counts them (s37 bands C: masks with 255 = no data were refused,
"--ignore-value 255 if ...")."""

import logging

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions
from unetlab.inference.files import predict_file
from unetlab.inference.records import read_records
from unetlab.models import UNet


def _model(ignore_value):
    net = UNet(in_channels=1, num_classes=2, depth=2, base_channels=2, padding="same").eval()
    net.classes, net.label_values, net.ignore_value = ["land", "water"], [0, 1], ignore_value
    return net


def _data(root):
    rng = np.random.default_rng(0)
    mask = (rng.random((32, 32)) > 0.5).astype(np.uint8)
    mask[:8] = 255  # no data: a cloud, outside the swath
    write_png(root / "images" / "a.png", rng.integers(0, 255, (32, 32), dtype=np.uint8))
    write_png(root / "masks" / "a.png", mask)
    return root


def test_pred_of_a_model_with_an_ignore_value_ignores_it_in_the_masks(tmp_path, caplog):
    root = _data(tmp_path / "data")
    predict_file(_model(255), root / "images" / "a.png", tmp_path / "out")
    (record,) = read_records(tmp_path / "out").values()
    assert record["ignore_value"] == 255
    with caplog.at_level(logging.INFO):
        report = evaluate_predictions(tmp_path / "out", root)
    assert report.source["ignore_value"] == 255
    assert "ignore value 255 from" in caplog.text
    assert report.matrix.sum() == 24 * 32  # the 255 rows counted nowhere


def test_a_model_without_one_records_none_and_the_masks_255_is_refused_as_before(tmp_path):
    root = _data(tmp_path / "data")
    predict_file(_model(None), root / "images" / "a.png", tmp_path / "out")
    (record,) = read_records(tmp_path / "out").values()
    assert "ignore_value" not in record  # outputs of such models keep their record
    with pytest.raises(Exception, match="255"):
        evaluate_predictions(tmp_path / "out", root)
