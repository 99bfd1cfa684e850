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


def test_pred_names_the_classes_as_the_model_did(tmp_path, caplog):
    """evaluate --pred P --gt G named a membrane/cell model's classes 0 and 255 (the label
    values): the record now holds the model's class names, and the report uses them; an
    older record without them still scores, by value."""
    import json

    rng = np.random.default_rng(1)
    root = tmp_path / "data"
    write_png(root / "images" / "a.png", rng.integers(0, 255, (32, 32), dtype=np.uint8))
    write_png(root / "masks" / "a.png", np.where(rng.random((32, 32)) > 0.5, 255, 0))
    net = _model(None)
    net.classes, net.label_values = ["membrane", "cell"], [0, 255]
    predict_file(net, root / "images" / "a.png", tmp_path / "out", label_values=True)
    (record,) = read_records(tmp_path / "out").values()
    assert record["class_names"] == ["membrane", "cell"]
    with caplog.at_level(logging.INFO):
        report = evaluate_predictions(tmp_path / "out", root)
    assert report.class_names == ["membrane", "cell"]
    assert "class names membrane cell from" in caplog.text
    rows = [line.split()[0] for line in report.table().splitlines() if line.strip()]
    assert {"membrane", "cell"} <= set(rows) and "255" not in rows  # its rows were 0 and 255
    named = evaluate_predictions(tmp_path / "out", root, class_names=["a", "b"])
    assert named.class_names == ["a", "b"]  # the caller's win
    data = json.loads((tmp_path / "out" / "predict.json").read_text())
    for kept in data["records"].values():
        del kept["class_names"]  # a record from before class names were recorded
    (tmp_path / "out" / "predict.json").write_text(json.dumps(data))
    assert evaluate_predictions(tmp_path / "out", root).class_names == ["0", "255"]
    plain = _model(None)
    plain.classes = ["0", "1"]  # never named: no names recorded
    predict_file(plain, root / "images" / "a.png", tmp_path / "digits")
    assert "class_names" not in next(iter(read_records(tmp_path / "digits").values()))


def _voided(root):
    """Masks of classes 0..2 with 255 (void) in rows 12..15, named road, sky, car; another
    tool's predictions: right everywhere, 255 on the void and on a 4x4 car square below it
    (16 px where the masks hold a class)."""
    (root / "gt").mkdir(parents=True)
    (root / "gt" / "class_names.txt").write_text("road\nsky\ncar\n")
    for n in range(2):
        mask = np.zeros((16, 16), np.uint8)
        mask[:, 8:], mask[:4, :4] = 1, 2
        pred = mask.copy()
        mask[12:] = 255
        pred[12:], pred[:4, :4] = 255, 255
        write_png(root / "gt" / "masks" / f"s{n}.png", mask)
        write_png(root / "pred" / f"s{n}.png", pred)
    return root / "pred", root / "gt" / "masks"


def test_predicted_ignore_values_are_said_and_form_no_objects(tmp_path):
    """The predictions holding the masks' ignore value 255 are said in one line (how many,
    how many scored nowhere, how many scored as 255) and form no objects: the per-class
    objects line lists no class 255 (s51 scene255: '255: 0 true, 4 predicted' as a class)."""
    pred, gt = _voided(tmp_path)
    report = evaluate_predictions(pred, gt, ignore_value=255, objects=True)
    s = report.summary
    assert (s["predicted_ignore_pixels"], s["predicted_ignore_scored"]) == (2 * 80, 2 * 16)
    assert 255 not in s["class_pq"] and s["pred_objects"] == 2  # sky; the car is 255
    table = report.table()
    said = (
        "160 predicted pixels hold 255, the value the masks ignore: 128 where the masks "
        "ignore them too (scored nowhere), 32 where the masks hold a class (scored as wrong for "
        "that class, no class of their own in mIoU)"
    )
    assert table.count(said) == 1 and "255: " not in table.split("per class")[1]
    assert "beyond the classes" not in table  # the stray line does not say it again
    plain = evaluate_predictions(pred, gt, ignore_value=255, objects=False)
    assert "predicted_ignore_pixels" in plain.summary  # said without object scores too


def test_a_cell_pixel_predicted_as_the_ignore_value_is_a_missed_cell_pixel(tmp_path):
    """The challenge's pixel error (1 - F-score of the cell pixels) of a map holding the
    masks' ignore value on cell pixels: they are misses of the cell, as mIoU counts them (it
    was 0.0, the pixels in no count: s68); an oracle from the pixels themselves."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 1
    mask[0, :6] = 255  # the masks' void
    pred = mask.copy()
    pred[6, 5:9] = 255  # 4 cell pixels predicted as void
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", pred)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", ignore_value=255)
    labelled = mask != 255
    cell, said = mask[labelled] == 1, pred[labelled] == 1
    tp, fp, fn = (cell & said).sum(), (~cell & said).sum(), (cell & ~said).sum()
    assert (tp, fp, fn) == (60, 0, 4)
    expected = 1 - 2 * tp / (2 * tp + fp + fn)
    assert report.summary["challenge_pixel_error"] == pytest.approx(expected)
    assert report.summary["iou"][1] == pytest.approx(60 / 64)  # as mIoU counts them
