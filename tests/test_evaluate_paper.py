"""evaluate as a reader of the U-Net paper uses it: the boundary class follows the model's
classes (membrane = class 1 too), and every two-class run prints the challenge's pixel error
(1 - F-score of the cell pixels) beside the fraction of wrong pixels."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model, evaluate_predictions

# ISBI-like: 0 membrane, 255 cell; two cells split by a membrane column
GT = np.full((6, 8), 255, np.uint8)
GT[:, 3] = 0


def test_a_model_whose_membrane_is_class_1_scores_its_cells(tmp_path, monkeypatch):
    """label_values [255, 0]: class 0 is the cell, class 1 the membrane; the Rand error and
    the objects are those of the two cells, not of the membrane column."""
    import unetlab.inference.predict

    membrane = (GT == 0).astype(np.float32)
    probs = np.stack([1 - membrane, membrane])  # perfect: P(cell), P(membrane)
    monkeypatch.setattr(unetlab.inference.predict, "predict_fitted", lambda m, i, **kw: probs)
    write_png(tmp_path / "images" / "a.png", np.zeros(GT.shape, np.uint8))
    write_png(tmp_path / "masks" / "a.png", GT)
    model = types.SimpleNamespace(
        classes=["cell", "membrane"], label_values=[255, 0], in_channels=1
    )
    d = evaluate_model(model, tmp_path, thresholds=[0.5]).to_dict()
    assert d["boundary_class"] == "membrane"
    assert d["objects"] == d["pred_objects"] == 2 and d["rand_error"] == 0.0
    assert d["best_threshold"]["rand_error"] == 0.0
    assert d["challenge_pixel_error"] == 0.0
    # said otherwise, the other class is the boundary
    other = evaluate_model(model, tmp_path, boundary_class=0).to_dict()
    assert other["boundary_class"] == "cell" and other["objects"] == 1


def test_the_command_takes_the_boundary_class_from_the_class_names(tmp_path, capsys):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    write_png(gt_dir / "a.png", GT)
    write_png(pred_dir / "a.png", (GT == 0).astype(np.uint8))  # class 1 = membrane
    out = tmp_path / "e.json"
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--json", str(out)]
    argv += ["--label-values", "255", "0", "--class-names", "cell", "membrane"]
    assert main(argv) == 0
    d = json.loads(out.read_text())
    assert d["boundary_class"] == "membrane" and d["objects"] == 2
    out.unlink()
    assert main([*argv, "--boundary-class", "0"]) == 0
    assert json.loads(out.read_text())["boundary_class"] == "cell"


def test_two_classes_print_the_challenges_pixel_error_beside_the_wrong_pixels(tmp_path):
    """Membrane 6 px true, all predicted cell in b: cell tp 84, fp 6, fn 0 over a and b."""
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    for name, pred in {"a": (GT == 255), "b": np.ones(GT.shape, bool)}.items():
        write_png(gt_dir / f"{name}.png", GT)
        write_png(pred_dir / f"{name}.png", pred.astype(np.uint8))
    report = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    d = report.to_dict()
    assert d["pixel_error"] == pytest.approx(6 / 96)  # kept: the fraction of wrong pixels
    assert d["challenge_pixel_error"] == pytest.approx(1 - 2 * 84 / (2 * 84 + 6))
    assert "challenge_pixel_error" in d["averaging"]
    lines = {line.split("  ")[0]: line for line in report.table().splitlines()}
    assert "fraction of all pixels whose class is wrong" in lines["wrong pixels"]
    assert lines["pixel error"].startswith(f"pixel error        {6 / 174:.4f}")
    assert "1 - F-score of the 255 pixels" in lines["pixel error"]
    # no boundary class: no cell pixels to score
    none = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255], boundary_class=None)
    assert "challenge_pixel_error" not in none.to_dict()
    assert "pixel error " not in none.table()


def test_maps_of_mask_values_without_a_record_are_read_by_the_label_values(tmp_path):
    """Another tool's 0/255 maps (no predict.json record) are read as mask values by the
    label values in either order: 255 is no class index, so the folder's maps hold mask
    values. With --label-values 255 0 they were refused as unetlab predict's files ('predict
    again without --label-values', a fix that does not apply to them: review s66)."""
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    write_png(gt_dir / "a.png", GT)
    write_png(pred_dir / "a.png", GT)  # mask values, not class indices
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--no-progress"]
    assert main([*argv, "--label-values", "0", "255"]) == 0
    report = evaluate_predictions(pred_dir, gt_dir, label_values=[255, 0])
    assert report.class_names == ["255", "0"] and report.summary["miou"] == 1.0
    assert main([*argv, "--label-values", "255", "0", "--class-names", "cell", "membrane"]) == 0


def test_the_python_api_takes_the_boundary_class_as_the_command_does(tmp_path):
    """evaluate_predictions' default is the command's: the class named background or
    membrane, else that of mask value 0, else 0; with object ids 0."""
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    write_png(gt_dir / "a.png", GT)
    write_png(pred_dir / "a.png", (GT == 0).astype(np.uint8))  # class 1 = membrane
    by_value = evaluate_predictions(pred_dir, gt_dir, label_values=[255, 0]).to_dict()
    assert by_value["boundary_class"] == "0" and by_value["objects"] == 2
    # the name before the value: mask value 0 is class 1, but class 0 is named Membrane
    named = evaluate_predictions(
        pred_dir, gt_dir, label_values=[255, 0], class_names=["Membrane", "cell"]
    )
    assert named.to_dict()["boundary_class"] == "Membrane"
    (gt_dir / "class_names.txt").write_text("cell\nmembrane\n")  # the data set's names
    write_png(gt_dir / "a.png", (GT == 0).astype(np.uint8))  # masks of class indices
    from_file = evaluate_predictions(pred_dir, gt_dir).to_dict()
    assert from_file["boundary_class"] == "membrane" and from_file["objects"] == 2
    said = evaluate_predictions(pred_dir, gt_dir, boundary_class=0).to_dict()
    assert said["boundary_class"] == "cell" and said["objects"] == 1
    ids = evaluate_predictions(pred_dir, gt_dir, gt_instances=True, pred_instances=True)
    assert ids.to_dict()["boundary_class"] == "background"


def test_predictions_of_mask_values_are_read_back_by_their_record(tmp_path, capsys):
    """predict --label-values -> evaluate --pred (--label-values 0 255 or none): the file's
    record (predict.json, by the key it carries) says it holds mask values, and which, read
    back as classes."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from unetlab import UNet, save_model

    gt = np.full((24, 30), 255, np.uint8)
    gt[:, 10] = gt[12, :] = 0  # a membrane cross: four cells
    model = UNet(1, 2, depth=2, base_channels=2)
    model.label_values = [0, 255]
    save_model(tmp_path / "m.pt", model)
    write_png(tmp_path / "in" / "a.png", gt)
    write_png(tmp_path / "gt" / "a.png", gt)
    out, pred = tmp_path / "out", tmp_path / "out" / "a.png"
    predict = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*predict, "--output", str(out), "--label-values"]) == 0
    written = np.asarray(Image.open(pred))
    assert set(np.unique(written)) <= {0, 255}
    js = tmp_path / "e.json"
    argv = ["evaluate", "--pred", str(out), "--gt", str(tmp_path / "gt"), "--json", str(js)]
    assert main([*argv, "--label-values", "0", "255"]) == 0, capsys.readouterr().err
    wrong = np.count_nonzero(written != gt) / gt.size
    assert json.loads(js.read_text())["pixel_error"] == pytest.approx(wrong)
    # the same file, its record kept, holding the masks' values exactly: a perfect score
    with Image.open(pred) as im:
        info = PngInfo()
        for key, text in im.text.items():
            info.add_text(key, text)
    Image.fromarray(gt).save(pred, pnginfo=info)
    report = evaluate_predictions(out, tmp_path / "gt", label_values=[0, 255]).to_dict()
    assert report["miou"] == 1.0 and report["objects"] == report["pred_objects"] == 4
    # without --label-values: the values its record gives (the masks read by them too)
    js.unlink()
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads(js.read_text())["miou"] == 1.0
    # a record from before the values were recorded: refused without them, naming the fix
    records = json.loads((out / "predict.json").read_text())
    for record in records["records"].values():
        del record["outputs"]["label_values"]
    (out / "predict.json").write_text(json.dumps(records))
    js.unlink()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "a.png holds mask values (0 255), as unetlab predict --label-values" in err
    assert "give --label-values, the mask value of each class" in err
    assert main([*argv, "--label-values", "0", "128"]) == 2
    err = capsys.readouterr().err
    assert "holds 1 mask value 255, none of the label values 0 128; give as --label-values" in err
    with pytest.raises(ValueError, match="pass label_values=\\[...\\], the mask value"):
        evaluate_predictions(out, tmp_path / "gt")


def test_the_label_values_of_a_prediction_round_trip_through_its_record(tmp_path, capsys):
    """predict --label-values with a model of values [255, 0] (membrane, cell), then evaluate
    --pred with no extra flag: the values come from predict.json; the report names the
    classes by them and scores the file as --label-values 255 0 would."""
    from unetlab import UNet, save_model
    from unetlab.evaluate.masks import Written, recorded_label_values

    gt = np.full((24, 30), 255, np.uint8)
    gt[:, 10] = gt[12, :] = 0
    model = UNet(1, 2, depth=2, base_channels=2)
    model.label_values, model.classes = [255, 0], ["cell", "membrane"]
    save_model(tmp_path / "m.pt", model)
    write_png(tmp_path / "in" / "a.png", gt)
    write_png(tmp_path / "gt" / "a.png", gt)
    out = tmp_path / "out"
    predict = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*predict, "--output", str(out), "--label-values"]) == 0
    (record,) = json.loads((out / "predict.json").read_text())["records"].values()
    assert record["outputs"]["label_values"] == [255, 0]
    assert recorded_label_values(Written(out)) == [255, 0]
    argv = ["evaluate", "--pred", str(out), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--json", str(tmp_path / "a.json")]) == 0, capsys.readouterr().err
    given = ["--label-values", "255", "0", "--json", str(tmp_path / "b.json")]
    assert main([*argv, *given]) == 0
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a["miou"] == b["miou"] and a["pixel_error"] == b["pixel_error"]
    assert a["classes"] == b["classes"]
    # two predictions of other values in one folder: refused, naming both files
    model.label_values = [0, 255]
    save_model(tmp_path / "n.pt", model)
    write_png(tmp_path / "in2" / "b.png", gt)
    write_png(tmp_path / "gt" / "b.png", gt)
    other = ["--checkpoint", str(tmp_path / "n.pt"), "--input", str(tmp_path / "in2")]
    assert main(["predict", *other, "--output", str(out), "--label-values"]) == 0
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds the mask values" in err and "give --label-values" in err
