"""evaluate --pred of what predict --instances writes for an instance model (its class map:
background / boundary / interior) against class masks, without --gt-instances: the pixels
scored are the objects' foreground, as evaluate --checkpoint scores an instance model, not
three classes compared with two (the boundary read as the masks' object class)."""

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import read_image, write_png
from unetlab.errors import DatasetError
from unetlab.evaluate import evaluate_predictions


@pytest.fixture
def predicted(tmp_path, instance_checkpoint):
    """An instance model's predict --instances output of one image, and its 0/1 class mask."""
    ids = np.zeros((24, 24), np.uint16)
    ids[2:8, 2:8], ids[2:8, 8:14], ids[15:21, 4:10] = 1, 2, 3
    write_png(tmp_path / "images" / "a.png", (ids > 0).astype(np.uint8) * 180 + 20)
    write_png(tmp_path / "gt" / "a.png", (ids > 0).astype(np.uint8))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "images")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--instances", "--device", "cpu"]) == 0
    return tmp_path


def test_an_instance_models_pixels_are_its_objects_foreground(predicted):
    root = predicted
    from unetlab.data.io import read_image

    ids = read_image(root / "out" / "a_objects.tif")
    mask = read_image(root / "gt" / "a.png")
    report = evaluate_predictions(root / "out", root / "gt")
    s = report.summary
    assert len(report.class_names) == 2  # not the map's background / boundary / interior
    expected = float(np.mean((ids > 0) == (mask > 0)))
    assert s["pixel_accuracy"] == pytest.approx(expected)


def test_an_instance_models_map_without_its_objects_is_refused(predicted):
    root = predicted
    (root / "out" / "a_objects.tif").unlink()
    with pytest.raises(DatasetError, match="background, boundary, interior.*gt_instances") as got:
        evaluate_predictions(root / "out", root / "gt")
    # each caller its form (s55 review: both at once, "(gt_instances=True, --gt-instances)")
    assert "give instance masks (gt_instances=True), or" in str(got.value)
    assert "give instance masks (--gt-instances), or" in got.value.cli


def test_an_instance_models_map_predicted_without_instances_is_refused(predicted, capsys):
    """predict without --instances wrote the 3-class map with no objects in its record:
    evaluate --pred scored background / boundary / interior against the masks' 2 classes.
    Its record now says the model's target; a record without it is read as before."""
    import json

    root = predicted
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--input", str(root / "images")]
    assert main([*argv, "--output", str(root / "plain"), "--device", "cpu"]) == 0
    record = json.loads((root / "plain" / "predict.json").read_text())
    assert [r["outputs"]["target"] for r in record["records"].values()] == ["instances"]
    assert main(["evaluate", "--pred", str(root / "plain"), "--gt", str(root / "gt")]) == 2
    err = capsys.readouterr().err
    assert "holds an instance model's background, boundary, interior (its record), not " in err
    assert "predict again with --instances, whose objects are scored, or " in err
    assert "evaluate --checkpoint CKPT --data DATA" in err
    assert "=True" not in err and "evaluate_model" not in err  # no Python keyword to a shell
    with pytest.raises(DatasetError, match="predicted without objects; predict again") as got:
        evaluate_predictions(root / "plain", root / "gt")
    # a notebook is told the keywords predict_folder and evaluate_model take (it was told
    # instances=True, which predict_folder refuses)
    said = str(got.value)
    assert "predict again with objects=True, whose objects are scored" in said
    assert "(evaluate_model(model, data))" in said and "--" not in said
    for r in record["records"].values():  # a record from before target: read as before
        del r["outputs"]["target"]
    (root / "plain" / "predict.json").write_text(json.dumps(record))
    assert len(evaluate_predictions(root / "plain", root / "gt").class_names) == 3
    # with --instances the objects' record says so (no target): their key is unchanged
    done = json.loads((root / "out" / "predict.json").read_text())
    assert all("target" not in r["outputs"] for r in done["records"].values())


def test_binary_masks_beside_an_instance_models_objects_say_what_is_scored(predicted, capsys):
    """0/255 masks against predict --instances of an instance model, whose maps hold 0..2:
    the refusal said 'the predictions class indices 0..1' (its objects' foreground, not the
    maps'); it names the object ids and the two classes scored; label_values reads them."""
    root = predicted
    mask = read_image(root / "gt" / "a.png")
    write_png(root / "bin" / "a.png", (mask > 0).astype(np.uint8) * 255)
    said = "the masks hold values 0 255 but the predictions hold object ids, scored as "
    said += "background (0) and object (1); pass the mask value of each class: "
    with pytest.raises(DatasetError) as refused:
        evaluate_predictions(root / "out", root / "bin")
    assert str(refused.value) == said + "label_values=[0, 255]"
    assert main(["evaluate", "--pred", str(root / "out"), "--gt", str(root / "bin")]) == 2
    # no "(or --class-names ...)": object ids' foreground is no class map (s49 review1)
    assert capsys.readouterr().err.endswith(f"error: {said}--label-values 0 255\n")
    report = evaluate_predictions(root / "out", root / "bin", label_values=[0, 255])
    assert len(report.class_names) == 2
