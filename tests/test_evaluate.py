"""evaluate_predictions / evaluate_model / `unetlab evaluate`: exact values on tiny folders."""

from __future__ import annotations

import json
import logging
import math
import re
import shutil

import numpy as np
import pytest
import torch

from unetlab.cli import main
from unetlab.data.io import read_image, read_mask, write_png
from unetlab.errors import OutputError, UnetlabError
from unetlab.evaluate import evaluate_model, evaluate_predictions
from unetlab.metrics.isbi import information_score, rand_error
from unetlab.metrics.objects import instances
from unetlab.models import UNet

# ISBI-like: 0 membrane, 255 cell; two cells side by side split by a membrane column
GT = np.full((6, 8), 255, np.uint8)
GT[:, 3] = 0
GOOD = (GT == 255).astype(np.uint8)  # class indices: a perfect prediction
MERGED = np.ones((6, 8), np.uint8)  # every pixel cell: the two cells merged


def _folders(tmp_path, preds: dict):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    for name, pred in preds.items():
        write_png(gt_dir / f"{name}.png", GT)
        write_png(pred_dir / f"{name}.png", pred)
    return pred_dir, gt_dir


def test_evaluate_predictions_exact_values(tmp_path):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD, "b": MERGED})
    report = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    d = report.to_dict()
    # membrane: 6 px true, predicted 6 (all in a); cell: 42 true per image
    np.testing.assert_array_equal(report.matrix, [[6, 6], [0, 84]])
    assert d["pixel_accuracy"] == pytest.approx(90 / 96)
    assert d["pixel_error"] == pytest.approx(6 / 96)
    assert d["classes"]["0"]["iou"] == pytest.approx(6 / 12)
    assert d["classes"]["255"]["iou"] == pytest.approx(84 / 90)
    assert d["miou"] == pytest.approx((0.5 + 84 / 90) / 2)
    # Rand over the stack: a is perfect, b merges the 18 px and 24 px cells (pairs summed)
    truth = 2 * (18 * 17 + 24 * 23)
    both = truth
    pred_pairs = (18 * 17 + 24 * 23) + 42 * 41
    assert d["rand_error"] == pytest.approx(1 - 2 * both / (truth + pred_pairs))
    b_ids = instances(MERGED.astype(np.int64)), instances((GT == 255).astype(np.int64))
    assert d["information_score"] == pytest.approx((1 + information_score(*b_ids)) / 2)
    rows = {r["name"]: r for r in d["images"]}
    assert rows["b"]["rand_error"] == pytest.approx(rand_error(*b_ids))
    assert rows["a"]["miou"] == 1.0 and rows["a"]["seg"] == 1.0
    # SEG: 4 gt objects; in b both cells lie inside the 48 px merged object
    assert d["seg"] == pytest.approx((1 + 1 + 18 / 48 + 24 / 48) / 4)
    assert d["objects"] == 4
    # b: the merged object's IoU with the 24 px cell is 24/48, exactly 0.5: a match (IoU >=
    # t, as StarDist and cellpose count it); the 18 px cell is missed
    assert d["object_f1"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))
    assert d["worst_images"][0] == "b"
    assert d["mean_image_miou"] == pytest.approx((1.0 + (0 + 42 / 48) / 2) / 2)
    assert d["boundary_class"] == "0"
    assert "membrane" not in report.table() and "Rand error" in report.table()


def test_all_ignored_image_and_empty_class_are_nan_not_errors(tmp_path):
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    write_png(gt_dir / "x.png", np.full((4, 4), 9, np.uint8))
    write_png(pred_dir / "x.png", np.zeros((4, 4), np.uint8))
    write_png(gt_dir / "y.png", np.ones((4, 4), np.uint8))
    write_png(pred_dir / "y.png", np.ones((4, 4), np.uint8))
    report = evaluate_predictions(
        pred_dir, gt_dir, ignore_value=9, class_names=["bg", "fg", "x"], objects=True
    )
    rows = {r["name"]: r for r in report.images}
    assert math.isnan(rows["x"]["miou"]) and math.isnan(rows["x"]["rand_error"])
    assert math.isnan(report.summary["iou"][2]) and math.isnan(report.summary["iou"][0])
    assert report.summary["miou"] == 1.0 and report.summary["rand_error"] == 0.0
    assert report.worst()[-1]["name"] == "x"  # NaN last
    json.dumps(report.to_dict())


def test_a_class_in_no_mask_and_no_prediction_is_said_once(tmp_path, capsys):
    """Audit s41: --label-values 0 255 7 on 0/1 predictions scored a third class n/a without
    a word (and left the ISBI and object scores out, for 3 classes)."""
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD, "b": MERGED})
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir)]
    assert main([*argv, "--label-values", "0", "255", "7"]) == 0
    out = capsys.readouterr().out
    line = "7: in no mask and no prediction: IoU and Dice n/a, left out of mIoU and mean Dice"
    assert out.count(line) == 1
    assert main([*argv, "--label-values", "0", "255"]) == 0
    assert "in no mask and no prediction" not in capsys.readouterr().out


def test_a_class_in_no_mask_but_predicted_is_said_with_the_miou_of_the_others(tmp_path):
    """Audit s43 scenes: a rare class missing from the test masks scored IoU 0 from its
    false positives and pulled mIoU down, shown as 0.0000 beside 0 pixels without a word."""
    truth = np.zeros((4, 6), np.uint8)
    truth[:, 3:] = 1  # classes 0 and 1; class 2 (person) in no mask
    pred = truth.copy()
    pred[0, 0] = 2  # one false positive of person
    for folder, array in (("gt", truth), ("pred", pred)):
        write_png(tmp_path / folder / "a.png", array)
    report = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", class_names=["sky", "road", "person"]
    )
    assert report.summary["iou"] == pytest.approx([11 / 12, 1.0, 0.0])
    assert report.summary["miou"] == pytest.approx((11 / 12 + 1.0) / 3)
    line = (
        "person: in no mask, only predicted (false positives): IoU and Dice 0, counted in "
        f"mIoU; mIoU over the 2 classes the masks hold: {(11 / 12 + 1.0) / 2:.4f}"
    )
    assert line in report.table().splitlines()


def test_a_class_in_the_masks_never_predicted_is_said_with_where_its_pixels_went(tmp_path):
    """Audit s50 road scenes: person (661 px) scored 0.0000 IoU without a word, beside pole's
    0.0052 of a few hits: a class the model never outputs is named, with the class that
    took most of its pixels; a class predicted once is not."""
    truth = np.zeros((4, 6), np.uint8)
    truth[:, 3:] = 1
    truth[0, 3:5] = 2  # person: 2 px, predicted as road
    truth[3, 0] = 3  # pole: 1 px, hit
    pred = np.where(truth == 2, 1, truth).astype(np.uint8)
    for folder, array in (("gt", truth), ("pred", pred)):
        write_png(tmp_path / folder / "a.png", array)
    names = ["sky", "road", "person", "pole"]
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=names)
    assert report.summary["iou"][2] == 0.0
    lines = [line for line in report.table().splitlines() if "never predicted" in line]
    assert lines == [
        "person (2 px, never predicted, 100% predicted as road): in the masks but (nearly) "
        "never predicted right: IoU under 0.05; a rare class needs more training (more "
        "steps, or more images that hold it)"
    ]


def test_a_class_predicted_on_a_pixel_and_wrong_is_said_as_one_never_predicted(tmp_path):
    """s63: a rare class scoring IoU 0 was said only where never predicted; predicted on 1
    pixel, and wrong, it went unsaid. Every class the masks hold under IoU 0.05 is said,
    with its pixels and what it was predicted on; one at 0.05 or more is not."""
    truth = np.zeros((8, 10), np.uint8)
    truth[:, 5:] = 1  # road
    truth[0, 5:8] = 2  # person: 3 px, predicted as road
    truth[7, :2] = 3  # pole: 2 px, one found
    pred = np.where(truth == 2, 1, truth).astype(np.uint8)
    pred[4, 9] = 2  # one road pixel predicted as person
    pred[7, 1] = 0
    for folder, array in (("gt", truth), ("pred", pred)):
        write_png(tmp_path / folder / "a.png", array)
    names = ["sky", "road", "person", "pole"]
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=names)
    assert report.summary["iou"][2] == 0.0 and report.summary["iou"][3] == 0.5
    lines = [line for line in report.table().splitlines() if "IoU under" in line]
    assert len(lines) == 1 and lines[0].startswith(
        "person (3 px, IoU 0.0000, 0 px found, 1 px predicted as it, 100% predicted as road): "
        "in the masks but (nearly) never predicted right"
    )


def test_a_class_found_but_over_predicted_is_said_as_over_predicted(tmp_path):
    """Review s63: person's 4 px all found, but predicted on 100 px of road too (IoU 0.038),
    was said to be "(nearly) never predicted right" and to need more training: it is said
    over-predicted, with the pixels of other classes predicted as it and whose they are."""
    truth = np.zeros((20, 20), np.uint8)
    truth[:, 10:] = 1
    truth[0, 0:4] = 2
    pred = truth.copy()
    pred[5:15, 10:20] = 2  # 100 road pixels predicted as person
    for folder, array in (("gt", truth), ("pred", pred)):
        write_png(tmp_path / folder / "a.png", array)
    names = ["sky", "road", "person"]
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=names)
    lines = [line for line in report.table().splitlines() if "IoU under" in line]
    assert lines == [
        "person (4 px, IoU 0.0385, 4 px found): over-predicted: 100 px of other classes "
        "predicted as it (mostly road); IoU under 0.05 though most of its pixels are found"
    ]


def test_size_mismatch_and_missing_predictions_are_named(tmp_path):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    write_png(pred_dir / "a.png", GOOD[:, :5])
    with pytest.raises(ValueError, match=r"a\.png: prediction is 5x6 but its ground truth") as e:
        evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    assert f"its ground truth {gt_dir / 'a.png'} is 8x6" in str(e.value)  # not its stem, a
    (pred_dir / "a.png").unlink()
    with pytest.raises(ValueError, match="no prediction .* for 1 ground-truth file"):
        evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    write_png(pred_dir / "a.png", (GT == 255).astype(np.uint8) * 255)  # label values, not indices
    # no record says what they hold: 255 is no class index, so the folder's maps hold mask
    # values, read by the label values in either order (255 0 was refused: review s66)
    assert len(evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255]).class_names) == 2
    report = evaluate_predictions(pred_dir, gt_dir, label_values=[255, 0])
    assert report.class_names == ["255", "0"] and report.summary["miou"] == 1.0


def test_label_values_read_as_class_indices_are_refused_with_the_fix(tmp_path, capsys):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    with pytest.raises(ValueError, match=r"values 0 255 .* label_values=\[0, 255\] \(or class_"):
        evaluate_predictions(pred_dir, gt_dir)  # ISBI masks 0/255, no label values: in Python
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir)]
    assert main(argv) == 2  # the command line names its own flags
    said = capsys.readouterr().err
    assert "--label-values 0 255 (or --class-names" in said and "label_values=" not in said
    border = GOOD.copy()
    border[0, 0] = 255  # VOC-style: class indices plus a 255 border
    write_png(gt_dir / "a.png", border)
    with pytest.raises(
        ValueError, match="hold class indices 0..1; give ignore_value=255 if it marks"
    ):
        evaluate_predictions(pred_dir, gt_dir)
    assert main(argv) == 2 and "--ignore-value 255 if it marks" in capsys.readouterr().err
    report = evaluate_predictions(pred_dir, gt_dir, ignore_value=255)
    assert report.summary["pixel_accuracy"] == 1.0 and report.matrix.sum() == GOOD.size - 1
    names = evaluate_predictions(pred_dir, gt_dir, class_names=[str(i) for i in range(256)])
    assert names.matrix.shape == (256, 256)  # class names say they are indices: no refusal


def test_one_label_value_is_refused_with_one_per_class(tmp_path, capsys):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})  # audit s34 messy 11
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--label-values", "0"]
    assert main(argv) == 2
    said = capsys.readouterr().err
    assert "--label-values 0 gives one value" in said and "e.g. --label-values 0 255" in said
    assert "data.label_values" not in said


def test_instance_masks_keep_touching_objects_apart(tmp_path, capsys):
    ids = np.array([[7, 7, 9, 9, 0], [7, 7, 9, 9, 0]], np.uint16)  # two touching objects
    pred = (ids > 0).astype(np.uint8)  # pixel-perfect, but one connected region
    write_png(tmp_path / "gt" / "a.png", ids)
    write_png(tmp_path / "pred" / "a.png", pred)
    d = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True).to_dict()
    assert d["pixel_accuracy"] == 1.0 and set(d["classes"]) == {"background", "object"}
    assert d["objects"] == 2 and d["seg"] == pytest.approx((4 / 8 + 4 / 8) / 2)
    # IoU exactly 4/8 with each: one of them matches (IoU >= 0.5, one to one)
    assert d["object_f1"] == pytest.approx(2 / 3)
    assert d["rand_error"] == pytest.approx(1 - 2 * 24 / (24 + 56))  # 4 px cells, 8 px merged
    as_classes = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", label_values=[0, 7, 9], objects=True
    )
    assert as_classes.summary["objects"] == 2  # one region per class: apart only by chance
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--gt-instances"]) == 0 and "SEG                0.5000" in (
        capsys.readouterr().out
    )
    with pytest.raises(ValueError, match="object ids"):
        evaluate_predictions(
            tmp_path / "pred", tmp_path / "gt", gt_instances=True, label_values=[0, 1]
        )


def test_boundary_class_must_be_a_class(tmp_path):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    with pytest.raises(ValueError, match=r"boundary class 5 is not one of the classes 0\.\.1"):
        evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255], boundary_class=5)
    every = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255], boundary_class=None)
    assert every.summary["objects"] == 3  # the membrane column is an object too
    assert every.to_dict()["boundary_class"] is None


def test_ground_truth_as_a_data_folder_with_val(tmp_path):
    pred_dir, _ = _folders(tmp_path, {"a": GOOD})
    write_png(tmp_path / "data" / "val" / "masks" / "a.png", GT)
    write_png(tmp_path / "data" / "val" / "images" / "a.png", GT)
    report = evaluate_predictions(pred_dir, tmp_path / "data", label_values=[0, 255])
    assert report.summary["miou"] == 1.0 and report.summary["num_images"] == 1


def test_a_data_root_with_train_val_and_test_is_refused_naming_both(tmp_path):
    """ROOT/train, ROOT/val and ROOT/test: which one is meant is not known (audit s39 roads:
    evaluate --data ROOT scored val/, and left the held-out test/ out without a word)."""
    from unetlab.evaluate.masks import data_root, evaluation_pairs

    for split in ("train", "val", "test"):
        write_png(tmp_path / "d" / split / "images" / f"{split}.png", GT)
        write_png(tmp_path / "d" / split / "masks" / f"{split}.png", GT)
    d = tmp_path / "d"
    said = f"{d} holds val/ and test/: give {{}} {d / 'test'} to score the held-out images, or"
    with pytest.raises(UnetlabError, match=re.escape(said.format("evaluation_pairs' path"))) as err:
        evaluation_pairs(d)  # a direct call: its argument, not --data (s58)
    assert said.format("--data") in err.value.cli  # the command line's: its flag
    with pytest.raises(UnetlabError, match=re.escape(said.format("data_root's path"))):
        data_root(d)
    assert [p.image.name for p in evaluation_pairs(d / "test")] == ["test.png"]
    shutil.rmtree(tmp_path / "d" / "test")  # no test/: val/, as before
    assert [p.image.name for p in evaluation_pairs(tmp_path / "d")] == ["val.png"]


def _tiny_model():
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes = ["membrane", "cell"]
    model.label_values = [0, 255]
    return model


def test_evaluate_model_with_thresholds(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("p", "q"):
        write_png(tmp_path / "images" / f"{name}.png", rng.integers(0, 255, (20, 24), np.uint8))
        write_png(
            tmp_path / "masks" / f"{name}.png",
            np.where(rng.random((20, 24)) < 0.2, 0, 255).astype(np.uint8),
        )
    report = evaluate_model(_tiny_model(), tmp_path, thresholds=[0.3, 0.5, 0.7])
    d = report.to_dict()
    assert set(d["classes"]) == {"membrane", "cell"} and d["num_images"] == 2
    assert [r["threshold"] for r in d["best_threshold"]["per_threshold"]] == [0.3, 0.5, 0.7]
    assert 0 <= d["miou"] <= 1 and d["boundary_class"] == "membrane"


def test_evaluate_model_matches_at_the_iou_thresholds_given(tmp_path):
    """No keyword for evaluate --iou: a notebook set report.iou_thresholds after the call
    (review s48 apiwalk)."""
    write_png(tmp_path / "images" / "a.png", np.zeros((20, 24), np.uint8))
    write_png(tmp_path / "masks" / "a.png", np.full((20, 24), 255, np.uint8))
    report = evaluate_model(_tiny_model(), tmp_path, iou_thresholds=[0.9, 0.5])
    assert report.iou_thresholds == (0.5, 0.9)
    assert [r["threshold"] for r in report.to_dict()["matching"]] == [0.5, 0.9]


def test_evaluate_model_keeps_one_tuned_heap_for_all_its_images(tmp_path, monkeypatch):
    """A notebook's evaluation tunes malloc once for the whole folder, not once per image
    (each image would fault its pages in again), and gives the heap back at the end."""
    import unetlab.evaluate.model as evaluation
    from unetlab import runtime

    rng = np.random.default_rng(0)
    for name in ("p", "q", "r"):
        write_png(tmp_path / "images" / f"{name}.png", rng.integers(0, 255, (20, 24), np.uint8))
        write_png(tmp_path / "masks" / f"{name}.png", np.zeros((20, 24), np.uint8))
    score, open_blocks = evaluation._score_pair, []

    def counted(*args):
        open_blocks.append(runtime._sessions)
        return score(*args)

    monkeypatch.setattr(evaluation, "_score_pair", counted)
    evaluate_model(_tiny_model(), tmp_path)
    assert open_blocks == [1, 1, 1] and runtime._sessions == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(worst=-1), r"^worst must be 0 or more images, not -1$"),
        (dict(seed_threshold=0.9), r"^seed_threshold splits cells at each level of thresholds"),
        (dict(seed_threshold=2.0, thresholds=[0.5]), r"^seed_threshold is a probability in"),
        (dict(iou_thresholds=[0.5, 0]), r"IoU threshold is in \(0, 1\]"),
    ],
)
def test_evaluate_model_refuses_what_the_command_line_refused(tmp_path, arguments, message):
    """Rules only `unetlab evaluate` knew: a notebook gets them too, before any image."""
    with pytest.raises(UnetlabError, match=message):  # _tiny_model's label values: 0 255
        evaluate_model(_tiny_model(), tmp_path / "none", **arguments)
    if "thresholds" not in arguments and "seed_threshold" not in arguments:
        with pytest.raises(UnetlabError, match=message):
            evaluate_predictions(tmp_path / "p", tmp_path / "g", label_values=[0, 255], **arguments)


def test_an_ignore_value_among_the_label_values_given_is_refused_before_any_image(tmp_path):
    """An ignore value that is one of the label values given with it: evaluate_predictions
    refuses the two (one of a checkpoint's classes is scored, said:
    tests/test_evaluate_ignore_class.py)."""
    with pytest.raises(UnetlabError, match=r"^ignore_value 255 is also one of label_values"):
        evaluate_predictions(
            tmp_path / "p", tmp_path / "g", label_values=[0, 255], ignore_value=255
        )


def test_evaluate_model_records_what_made_the_predictions(tmp_path):
    """The label offset, the TTA transforms and (given a path) the checkpoint, in the JSON
    of a notebook's report as in the command's."""
    from unetlab.checkpoint import save_model

    write_png(tmp_path / "data" / "images" / "a.png", np.zeros((16, 16), np.uint8))
    write_png(tmp_path / "data" / "masks" / "a.png", np.full((16, 16), 255, np.uint8))
    model = _tiny_model()
    model.tta = ["identity", "hflip"]
    report = evaluate_model(model, tmp_path / "data", tta=True)
    assert report.source["label_offset"] == [0.0, 0.0]
    assert report.source["tta"] == ["identity", "hflip"] and "checkpoint" not in report.source
    assert report.source["data"] == str((tmp_path / "data").resolve())
    save_model(tmp_path / "m.pt", _tiny_model())
    saved = evaluate_model(tmp_path / "m.pt", tmp_path / "data").to_dict()
    assert saved["checkpoint"] == str((tmp_path / "m.pt").resolve()) and "tta" not in saved
    assert len(saved["checkpoint_sha256"]) == 64 and saved["label_offset"] == [0.0, 0.0]
    # the README's flow, model = load_model(path) then evaluate_model(model, ...), names the
    # file as evaluate --checkpoint and predict_folder's records do (audit s48 apiwalk)
    from unetlab.checkpoint import load_model

    loaded = evaluate_model(load_model(tmp_path / "m.pt"), tmp_path / "data").to_dict()
    keys = ("checkpoint", "checkpoint_sha256")
    assert [loaded.get(k) for k in keys] == [saved[k] for k in keys]


def test_evaluate_takes_predict_options_precision_and_channel(tmp_path, monkeypatch, capsys):
    """evaluate_model(model, data, PredictOptions(...)) as predict_image takes them, the old
    keywords still settings; `unetlab evaluate --precision bf16 --channel 1` reaches it."""
    import unetlab.inference.predict as predict
    from unetlab.checkpoint import save_model
    from unetlab.inference.predict import PredictOptions

    rgb = np.random.default_rng(0).integers(0, 255, (16, 16, 3), np.uint8)
    write_png(tmp_path / "data" / "images" / "a.png", rgb)
    write_png(tmp_path / "data" / "masks" / "a.png", np.full((16, 16), 255, np.uint8))
    seen = []
    predicted = predict.predict_fitted  # what evaluate predicts its fitted pages with
    monkeypatch.setattr(
        predict,
        "predict_fitted",
        lambda m, im, options, **kw: seen.append(options) or predicted(m, im, options, **kw),
    )
    monkeypatch.setattr("unetlab.runtime.supports_bf16", lambda device: True)
    options = PredictOptions(precision="bf16", channel=1, device="cpu")
    evaluate_model(_tiny_model(), tmp_path / "data", options, tile_size=16)
    # nodata None resolves to the model's data.nodata: "auto" for one that records none
    given = dict(tile_size=16, precision="bf16", channel=1, device="cpu", nodata="auto")
    assert seen[-1] == PredictOptions(**given)
    evaluate_model(_tiny_model(), tmp_path / "data", batch_size=2, blend="gaussian")
    assert (seen[-1].batch_size, seen[-1].blend, seen[-1].precision) == (2, "gaussian", "fp32")
    with pytest.raises(UnetlabError, match="not a valid input size"):  # before any image
        evaluate_model(_tiny_model(), tmp_path / "none", tile_size=73)
    save_model(tmp_path / "m.pt", _tiny_model())
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    assert main([*argv, "--device", "cpu", "--precision", "bf16", "--channel", "1"]) == 0
    assert (seen[-1].precision, seen[-1].channel) == ("bf16", 1)


def test_predict_and_evaluate_take_the_same_prediction_flags():
    from unetlab.cli import build_parser, common
    from unetlab.inference.tiling import BLENDS
    from unetlab.runtime import PRECISIONS

    assert (common.PRECISIONS, common.BLENDS) == (PRECISIONS, BLENDS)  # torch-free copies
    commands = build_parser()._subparsers._group_actions[0].choices
    for command in ("predict", "evaluate"):
        flags = {a.dest: a for a in commands[command]._actions}
        assert tuple(flags["precision"].choices) == PRECISIONS
        assert tuple(flags["blend"].choices) == BLENDS
        assert {"tile_size", "batch_size", "tta", "channel"} <= set(flags)


def test_best_threshold_of_known_probabilities(tmp_path, monkeypatch):
    """P(membrane) 0.6 on GT's membrane column, 0.2 elsewhere: the cell probability
    (1 - P(membrane)) is 0.4 / 0.8, so only 0.5 separates the two cells; exact figures."""
    import types

    import unetlab.inference.predict

    p_membrane = np.where(GT == 0, 0.6, 0.2).astype(np.float32)
    probs = np.stack([p_membrane, 1 - p_membrane])
    monkeypatch.setattr(
        unetlab.inference.predict, "predict_fitted", lambda model, image, **kw: probs
    )
    write_png(tmp_path / "images" / "a.png", np.zeros(GT.shape, np.uint8))
    write_png(tmp_path / "masks" / "a.png", GT)
    model = types.SimpleNamespace(
        classes=["membrane", "cell"], label_values=[0, 255], in_channels=1
    )
    t = evaluate_model(model, tmp_path, thresholds=[0.3, 0.5, 0.9]).to_dict()["best_threshold"]
    merged = 1 - 2 * (18 * 17 + 24 * 23) / ((18 * 17 + 24 * 23) + 42 * 41)
    rows = {r["threshold"]: r for r in t["per_threshold"]}
    assert rows[0.3]["rand_error"] == pytest.approx(merged)  # all cell: the two cells merged
    assert rows[0.3]["pixel_error"] == pytest.approx(6 / 48)
    assert rows[0.5]["rand_error"] == 0.0 and rows[0.5]["pixel_error"] == 0.0
    assert rows[0.9]["rand_error"] == 1.0 and rows[0.9]["pixel_error"] == pytest.approx(42 / 48)
    assert (t["rand_threshold"], t["rand_error"]) == (0.5, 0.0)
    assert (t["information_threshold"], t["information_score"]) == (0.5, 1.0)
    assert (t["pixel_threshold"], t["pixel_error"]) == (0.5, 0.0)


def test_ground_truth_name_ending_in_a_bracket(tmp_path):
    """A single-page file named a[3].png is page 0 of a[3], not page 3 of a."""
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    write_png(gt_dir / "a[3].png", GT)
    write_png(pred_dir / "a[3].png", GOOD)
    report = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    assert [r["name"] for r in report.images] == ["a[3]"] and report.summary["miou"] == 1.0
    write_png(tmp_path / "data" / "images" / "a[3].png", GT)  # as a data folder too
    write_png(tmp_path / "data" / "masks" / "a[3].png", GT)
    report = evaluate_predictions(pred_dir, tmp_path / "data", label_values=[0, 255])
    assert [r["name"] for r in report.images] == ["a[3]"] and report.summary["miou"] == 1.0


@pytest.mark.parametrize(("pred_pages", "gt_pages"), [(3, 1), (1, 3), (3, 2)])
def test_a_stack_against_another_count_of_planes_is_refused(tmp_path, capsys, pred_pages, gt_pages):
    """A 5-plane prediction against the mask of its one annotated plane scored plane 0 (F1
    0.0 against plane 2's nuclei), silently: now one line naming both files and the fix."""
    import tifffile

    (tmp_path / "p").mkdir()
    (tmp_path / "gt").mkdir()
    tifffile.imwrite(
        tmp_path / "p" / "s.tif", np.stack([GOOD] * pred_pages), photometric="minisblack"
    )
    tifffile.imwrite(tmp_path / "gt" / "s.tif", np.stack([GT] * gt_pages), photometric="minisblack")
    with pytest.raises(UnetlabError) as caught:
        evaluate_predictions(tmp_path / "p", tmp_path / "gt", label_values=[0, 255])
    said = str(caught.value)
    assert f"p/s.tif has {({1: '1 page', 3: '3 pages'})[pred_pages]} but its ground truth " in said
    assert f"gt/s.tif has {gt_pages}" in said and "\n" not in said
    if gt_pages == 1:
        assert "save that plane of the prediction alone" in said
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--label-values", "0", "255"]) != 0
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("data_folder", [False, True])
def test_tiff_stack_predictions_pair_pages_in_order(tmp_path, monkeypatch, data_folder):
    import tifffile

    import unetlab.data.pairs
    import unetlab.evaluate.masks

    gt = np.stack([GT, np.where(GT == 0, 255, 0).astype(np.uint8), GT])  # pages differ
    pred = np.stack([GOOD, MERGED, 1 - GOOD])  # page 0 perfect, 1 all cell, 2 inverted
    tifffile.imwrite(tmp_path / "pred.tif", pred, photometric="minisblack")
    if data_folder:
        (tmp_path / "data" / "masks").mkdir(parents=True)
        (tmp_path / "data" / "images").mkdir()
        tifffile.imwrite(tmp_path / "data" / "images" / "s.tif", gt, photometric="minisblack")
        tifffile.imwrite(tmp_path / "data" / "masks" / "s.tif", gt, photometric="minisblack")
        gt_dir = tmp_path / "data"
    else:
        (tmp_path / "gt").mkdir()
        tifffile.imwrite(tmp_path / "gt" / "s.tif", gt, photometric="minisblack")
        gt_dir = tmp_path / "gt"
    (tmp_path / "p").mkdir()
    (tmp_path / "pred.tif").rename(tmp_path / "p" / "s.tif")
    reads = []
    real = unetlab.evaluate.masks.read_stack
    # the masks folder's reader, and pairs'
    for module in (unetlab.evaluate.masks, unetlab.data.pairs):
        monkeypatch.setattr(
            module, "read_stack", lambda path, **kw: reads.append(path.name) or real(path, **kw)
        )
    report = evaluate_predictions(tmp_path / "p", gt_dir, label_values=[0, 255])
    assert sorted(reads) == ["s.tif", "s.tif"]  # each file read once, not once per page
    rows = {r["name"]: r for r in report.images}
    assert list(rows) == ["s[0]", "s[1]", "s[2]"]
    assert rows["s[0]"]["pixel_error"] == 0.0
    assert rows["s[1]"]["pixel_error"] == pytest.approx(42 / 48)  # truth: one membrane column
    assert rows["s[2]"]["pixel_error"] == 1.0
    if data_folder:  # evaluate_model reads a stack's image and mask once each, too
        reads.clear()
        monkeypatch.setattr(
            "unetlab.inference.predict.predict_fitted",
            lambda model, image, **kw: np.stack([1 - image[..., 0] / 255, image[..., 0] / 255]),
        )
        model = _tiny_model()
        d = evaluate_model(model, gt_dir).to_dict()
        assert sorted(reads) == ["s.tif", "s.tif"] and d["pixel_accuracy"] == 1.0


def test_class_names_and_label_values_must_match(tmp_path, capsys):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    with pytest.raises(ValueError, match=r"3 class names \(bg, fg, extra\) but 2 label values"):
        evaluate_predictions(
            pred_dir, gt_dir, label_values=[0, 255], class_names=["bg", "fg", "extra"]
        )
    argv = [
        "evaluate",
        "--pred",
        str(pred_dir),
        "--gt",
        str(gt_dir),
        "--label-values",
        "0",
        "255",
        "--class-names",
        "bg",
    ]
    assert main(argv) == 2
    assert "1 class names (bg) but 2 label values" in capsys.readouterr().err


def test_cli_pred_mode_writes_json_and_png(tmp_path, capsys):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD, "b": MERGED})
    out = tmp_path / "eval.json"
    code = main(
        [
            "evaluate",
            "--pred",
            str(pred_dir),
            "--gt",
            str(gt_dir),
            "--label-values",
            "0",
            "255",
            "--class-names",
            "membrane",
            "cell",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "membrane" in printed and "Rand error" in printed and "worst images" in printed
    d = json.loads(out.read_text())
    for key in (
        "miou",
        "pixel_accuracy",
        "rand_error",
        "pixel_error",
        "information_score",
        "seg",
        "object_f1",
        "classes",
        "images",
    ):
        assert key in d
    assert set(d["classes"]) == {"membrane", "cell"}
    assert d["images"][0]["name"] == "a" and "NaN" not in out.read_text()
    png = tmp_path / "eval_confusion.png"
    assert read_image(png).ndim == 3 and png.stat().st_size > 1000


def test_cli_refuses_to_write_its_confusion_picture_among_the_masks(tmp_path, capsys):
    """A PNG beside the ground truth would be read as a mask by the next evaluation."""
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--label-values", "0", "255"]
    assert main([*argv, "--json", str(gt_dir / "res.json")]) == 2
    err = capsys.readouterr().err
    assert "res.json: evaluate would write into" in err and "reads as data" in err
    assert sorted(p.name for p in gt_dir.iterdir()) == ["a.png"]
    assert main([*argv, "--json", str(tmp_path / "res.json")]) == 0


def test_cli_refuses_to_replace_a_report_of_other_predictions_without_overwrite(tmp_path, capsys):
    """Audit s45 newuser: a second evaluate --json eval.json (another model's predictions, or
    the README's --checkpoint line then its --pred line) replaced the first report silently;
    then (s57) it said so but still replaced it: the first report was lost. Now refused in
    one line naming the file and both fixes, before scoring, nothing written; with
    --overwrite replaced and said; the same evaluation again replaces its own report
    without a word."""
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    other = tmp_path / "other"
    shutil.copytree(pred_dir, other)
    report = tmp_path / "r.json"
    argv = ["evaluate", "--gt", str(gt_dir), "--label-values", "0", "255", "--json", str(report)]
    for _ in range(2):
        assert main([*argv, "--pred", str(pred_dir)]) == 0
        (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("JSON:")]
        assert "replaces" not in line, line
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert main([*argv, "--pred", str(other)]) == 2
    out, err = capsys.readouterr()
    assert "mIoU" not in out  # refused before scoring: no table
    err = err.strip().splitlines()[-1]
    assert f"{report} holds the report of the predictions {pred_dir} against {gt_dir}" in err
    assert "give --json another name to keep both, or add --overwrite" in err, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert main([*argv, "--pred", str(other), "--overwrite"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("JSON:")]
    assert f"replaces the report of the predictions {pred_dir} against {gt_dir}" in line
    assert json.loads(report.read_text())["predictions"] == str(other)


def test_python_write_json_keeps_a_report_of_something_else_unless_overwrite(tmp_path):
    """Report.write_json over an earlier report of other predictions: refused in the Python
    form (overwrite=True), the file kept; replaced with overwrite=True; its own again."""
    from unetlab.errors import OutputError
    from unetlab.evaluate import evaluate_predictions

    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    other = tmp_path / "other"
    shutil.copytree(pred_dir, other)
    first = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    second = evaluate_predictions(other, gt_dir, label_values=[0, 255])
    path = first.write_json(tmp_path / "r.json")
    first.write_json(path)  # its own report again
    kept = path.read_bytes()
    with pytest.raises(OutputError, match="another path to keep both, or pass overwrite=True"):
        second.write_json(path)
    assert path.read_bytes() == kept
    second.write_json(path, overwrite=True)
    assert json.loads(path.read_text())["predictions"] == str(other)


def test_a_report_without_objects_removes_the_earlier_reports_matching_csv(tmp_path, capsys):
    """evaluate --json r.json --object-scores, then --json r.json without: the line says the
    report was replaced with its CSVs, but r_matching.csv (the earlier report's objects)
    stayed beside the new JSON; now removed, said, and its manifest line dropped. A file of
    that name evaluate did not write is kept."""
    from unetlab.manifest import writers_of

    three = np.array([[0, 1, 2, 2], [0, 1, 1, 2]], np.uint8)  # 3 classes: no objects scored
    for folder in ("p3", "g3"):
        write_png(tmp_path / folder / "a.png", three)
    argv = ["evaluate", "--pred", str(tmp_path / "p3"), "--gt", str(tmp_path / "g3")]
    matching = tmp_path / "r_matching.csv"
    assert main([*argv, "--object-scores", "--json", str(tmp_path / "r.json")]) == 0
    assert matching.is_file()
    capsys.readouterr()
    assert main([*argv, "--json", str(tmp_path / "r.json")]) == 0
    assert f"matching table CSV: removed {matching}" in capsys.readouterr().out
    assert not matching.exists() and "r_matching.csv" not in writers_of(tmp_path)
    matching.write_text("mine\n")  # a user's own file of that name: kept
    assert main([*argv, "--json", str(tmp_path / "r.json"), "--overwrite"]) == 0
    assert matching.read_text() == "mine\n"


def test_the_predictions_record_is_never_replaced_by_a_report(tmp_path, capsys):
    """--pred P --json P/predict.json --overwrite replaced the predictions' record (which
    evaluate reads: label values, ignore value, classes) with the report; it is an input."""
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    record = pred_dir / "predict.json"
    record.write_text('{"label_values": [0, 255]}')
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--label-values", "0", "255"]
    assert main([*argv, "--json", str(record), "--overwrite"]) != 0
    assert f"would write over its input {record}" in capsys.readouterr().err
    assert record.read_text() == '{"label_values": [0, 255]}'


def test_cli_keeps_its_reports_out_of_the_rest_of_the_data_set(tmp_path, capsys):
    """Audit s37 paths E: --gt data/val/masks --json data/train/masks/e.json wrote
    e_confusion.png (and e.json and its CSVs) among the training masks, --gt data/masks
    --json data/images/e.json among the images; refused before any work, naming a place
    outside the data."""
    for split in ("train", "val"):
        for sub, array in (("images", GOOD * 200), ("masks", GT)):
            write_png(tmp_path / "data" / split / sub / "a.png", array)
    write_png(tmp_path / "pred" / "a.png", GOOD)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--label-values", "0", "255"]
    split = tmp_path / "data" / "train"
    for gt, into in (("val/masks", split / "masks"), ("train/masks", split / "images")):
        before = sorted(into.iterdir())
        assert (
            main([*argv, "--gt", str(tmp_path / "data" / gt), "--json", str(into / "e.json")]) == 2
        )
        err = capsys.readouterr().err
        assert f"{into / 'e.json'}: evaluate would write into {into}" in err
        assert f"e.g. {split / 'e.json'}" in err
        assert sorted(into.iterdir()) == before
    # the place named: written there, and the data set still reads the same
    assert main([*argv, "--gt", str(split / "masks"), "--json", str(split / "e.json")]) == 0
    assert (split / "e_confusion.png").is_file()
    assert sorted(p.name for p in (split / "masks").iterdir()) == ["a.png"]


def test_cli_lists_the_data_once_and_keeps_its_confusion_picture_out_of_it(
    tmp_path, monkeypatch, capsys
):
    """The pairs checked against the outputs are the pairs scored: one listing."""
    import unetlab.evaluate.masks
    from unetlab.checkpoint import save_model

    for name in "ab":
        write_png(tmp_path / "data" / "images" / f"{name}.png", np.zeros((16, 16), np.uint8))
        write_png(tmp_path / "data" / "masks" / f"{name}.png", np.full((16, 16), 255, np.uint8))
    save_model(tmp_path / "m.pt", _tiny_model())
    calls = []
    listing = unetlab.evaluate.masks.find_pairs
    monkeypatch.setattr(
        unetlab.evaluate.masks, "find_pairs", lambda *a, **k: calls.append(a) or listing(*a, **k)
    )
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    assert len(calls) == 1 and "images             2" in capsys.readouterr().out
    confusion = tmp_path / "data" / "masks" / "c.png"
    assert main([*argv, "--confusion", str(confusion)]) == 2
    assert "reads as data" in capsys.readouterr().err and not confusion.exists()


def test_cli_keeps_its_reports_out_of_the_training_split(tmp_path, capsys):
    """--data of a train/ and val/ split scores val/; its reports are refused among train/'s
    masks too (audit s37 paths E), as train/ reads them."""
    from unetlab.checkpoint import save_model

    for split in ("train", "val"):
        write_png(tmp_path / "data" / split / "images" / "a.png", np.zeros((16, 16), np.uint8))
        write_png(tmp_path / "data" / split / "masks" / "a.png", np.eye(16, dtype=np.uint8) * 255)
    save_model(tmp_path / "m.pt", _tiny_model())
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    masks = tmp_path / "data" / "train" / "masks"
    assert main([*argv, "--json", str(masks / "e.json")]) == 2
    assert f"would write into {masks}, which it reads as data" in capsys.readouterr().err
    assert sorted(p.name for p in masks.iterdir()) == ["a.png"]


@pytest.mark.parametrize("layout", ["flat", "split"])
def test_the_command_and_python_keep_reports_out_of_the_same_data_folders(tmp_path, capsys, layout):
    """The command listed the data folders from the pairs scored, Report.claim from the
    data set's layout (two listings, s49 tidy): one listing, the same refusals."""
    from unetlab.checkpoint import save_model

    data = tmp_path / "data"
    parts = [data] if layout == "flat" else [data / "train", data / "val"]
    for part in parts:
        write_png(part / "images" / "a.png", np.zeros((16, 16), np.uint8))
        write_png(part / "masks" / "a.png", np.eye(16, dtype=np.uint8) * 255)
    save_model(tmp_path / "m.pt", _tiny_model())
    report = evaluate_model(_tiny_model(), data)
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(data)]
    for part in parts:
        for folder in (part / "images", part / "masks"):
            with pytest.raises(OutputError, match="which it reads as data"):
                report.write_json(folder / "e.json")
            assert main([*argv, "--json", str(folder / "e.json")]) == 2
            assert "which it reads as data" in capsys.readouterr().err
            assert sorted(p.name for p in folder.iterdir()) == ["a.png"]


@pytest.mark.parametrize("flag", [[], ["--no-progress"]])
def test_no_progress_hides_the_images_bar_as_predict_does(tmp_path, capsys, monkeypatch, flag):
    """Audit s41: evaluate had no --no-progress (train and predict have one), nor a bar."""
    from unetlab.checkpoint import save_model

    monkeypatch.setattr("unetlab.progress.shown", lambda progress: progress)  # a tty
    write_png(tmp_path / "data" / "images" / "a.png", np.zeros((16, 16), np.uint8))
    write_png(tmp_path / "data" / "masks" / "a.png", np.full((16, 16), 255, np.uint8))
    save_model(tmp_path / "m.pt", _tiny_model())
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    assert main([*argv, "--device", "cpu", *flag]) == 0
    assert ("image/s]" in capsys.readouterr().err) == (not flag)


def test_cli_checkpoint_mode(tmp_path, capsys):
    from unetlab.checkpoint import save_model

    write_png(tmp_path / "data" / "images" / "a.png", np.zeros((16, 16), np.uint8))
    write_png(tmp_path / "data" / "masks" / "a.png", np.full((16, 16), 255, np.uint8))
    save_model(tmp_path / "m.pt", _tiny_model())
    code = main(
        [
            "evaluate",
            "--checkpoint",
            str(tmp_path / "m.pt"),
            "--data",
            str(tmp_path / "data"),
            "--device",
            "cpu",
            "--best-threshold",
        ]
    )
    assert code == 0
    assert "best threshold" in capsys.readouterr().out
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    split = [
        *argv,
        "--best-threshold",
        "--watershed-seeds",
        "0.9",
        "--json",
        str(tmp_path / "w.json"),
    ]
    assert main(split) == 0
    printed = capsys.readouterr().out
    assert "seeded watershed" in printed and "without the watershed: Rand error" in printed
    best = json.loads((tmp_path / "w.json").read_text())["best_threshold"]
    assert best["seed_threshold"] == 0.9 and "rand_threshold" in best["without_seeds"]


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "nothing to evaluate"),
        (["--pred", "x"], "--pred and --gt go together"),
        (["--checkpoint", "x", "--gt", "y"], "not both"),
        (["--pred", "x", "--gt", "y", "--best-threshold"], "needs probabilities"),
        (["--checkpoint", "x", "--data", "y", "--pred-instances"], "the model's mode decides"),
        (
            ["--pred", "x", "--gt", "y", "--watershed-seeds", "0.9"],
            "--watershed-seeds sets how a checkpoint's probabilities become objects",
        ),
        (
            ["--checkpoint", "x", "--data", "y", "--best-threshold", "--watershed-seeds", "9"],
            "a probability in [0, 1]",
        ),
        (["--pred", "x", "--gt", "y", "--worst", "-1"], "--worst must be 0 or more"),
        (
            ["--pred", "x", "--gt", "y", "--label-values", "0", "255", "--ignore-value", "255"],
            "either a class or ignored",
        ),
    ],
)
def test_cli_errors_are_one_line(argv, message, capsys):
    assert main(["evaluate", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_trivial_predictor_on_isbi(isbi_dir):
    """Sanity figures of 'every pixel is cell' on three ISBI masks (no model involved)."""
    from unetlab.metrics.isbi import pixel_error

    masks = [read_mask(isbi_dir / "train" / "masks" / f"{i:02d}.png") for i in range(3)]
    gt = [(m == 255).astype(np.int64) for m in masks]
    all_cell = np.ones_like(gt[0])
    membrane = np.mean([1 - g.mean() for g in gt])
    assert np.mean([pixel_error(all_cell, g) for g in gt]) == pytest.approx(membrane)
    assert 0.15 < membrane < 0.3
    # one segment for all cells: split score 1, merge score tiny -> Rand error near 1
    assert rand_error(instances(all_cell), instances(gt[0])) > 0.9


def test_object_predictions_are_scored_as_objects(tmp_path, capsys):
    """<stem>_objects.tif ids are the predicted objects; DSB, F1, PQ, SEG and counts."""
    from unetlab.data.io import write_tiff

    gt = np.zeros((4, 8), np.uint16)
    gt[:, :3], gt[:, 3:6] = 1, 2  # two touching objects, 12 px each
    objects = np.zeros_like(gt)
    objects[:, :3], objects[:, 3:5], objects[:, 5] = 5, 6, 7  # 1 exact, 2 split 8 + 4 px
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "gt" / "b.png", np.zeros_like(gt))  # nothing, nothing predicted
    write_tiff(tmp_path / "pred" / "a_objects.tif", objects)
    write_tiff(tmp_path / "pred" / "b_objects.tif", np.zeros_like(gt))
    d = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True).to_dict()
    # pixels from the ids: every object pixel is object, so pixel-perfect
    assert d["pixel_accuracy"] == 1.0
    assert (d["objects"], d["pred_objects"]) == (2, 3)
    # IoU 1 (matches at every t) and 8/12 (t = 0.50 .. 0.65): 4 x 2/(2+1+0), 6 x 1/(1+2+1)
    assert d["dsb"] == pytest.approx((4 * 2 / 3 + 6 * 1 / 4) / 10)  # image b (NaN) skipped
    assert d["images"][1]["dsb"] is None or math.isnan(d["images"][1]["dsb"])
    assert (d["object_precision"], d["object_recall"], d["object_f1"]) == pytest.approx(
        (2 / 3, 1.0, 0.8)
    )
    assert (d["sq"], d["rq"]) == pytest.approx(((1 + 8 / 12) / 2, 0.8))
    assert d["pq"] == pytest.approx(d["sq"] * d["rq"])
    assert d["seg"] == pytest.approx((1 + 8 / 12) / 2)
    # the same ids given as plain <stem> files with --pred-instances
    write_tiff(tmp_path / "ids" / "a.tif", objects)
    write_tiff(tmp_path / "ids" / "b.tif", np.zeros_like(gt))
    argv = ["evaluate", "--pred", str(tmp_path / "ids"), "--gt", str(tmp_path / "gt")]
    assert (
        main([*argv, "--gt-instances", "--pred-instances", "--json", str(tmp_path / "e.json")]) == 0
    )
    out = capsys.readouterr().out
    assert "3 predicted, 2 true (+50.0%: 1 too many)" in out and "DSB score          0.4167" in out
    assert "PQ" in out and json.loads((tmp_path / "e.json").read_text())["dsb"] == d["dsb"]
    # a class map alone: its connected regions, the touching objects merged into one
    write_png(tmp_path / "classes" / "a.png", (objects > 0).astype(np.uint8))
    write_png(tmp_path / "classes" / "b.png", np.zeros((4, 8), np.uint8))
    merged = evaluate_predictions(tmp_path / "classes", tmp_path / "gt", gt_instances=True)
    # IoU 12/24 = 0.5 exactly with either true object: one match (>=, one to one)
    assert merged.summary["pred_objects"] == 1
    assert merged.summary["object_f1"] == pytest.approx(2 / 3)
    with pytest.raises(UnetlabError, match=r"class index 7 \(in a\) but there are 2 classes"):
        evaluate_predictions(tmp_path / "ids", tmp_path / "gt", gt_instances=True)
    write_tiff(tmp_path / "bad" / "a_objects.tif", objects.astype(np.float32) / 2)
    write_tiff(tmp_path / "bad" / "b_objects.tif", np.zeros_like(gt))
    with pytest.raises(UnetlabError, match="a_objects.tif: object ids are integers"):
        evaluate_predictions(tmp_path / "bad", tmp_path / "gt", gt_instances=True)


def test_binary_masks_as_instances_are_their_connected_components(tmp_path):
    gt = np.zeros((4, 7), np.uint8)
    gt[:, :2], gt[:, 4:] = 255, 255  # two objects apart, one mask value
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "pred" / "a.png", (gt > 0).astype(np.uint8))
    d = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True).summary
    assert (d["objects"], d["pred_objects"], d["object_f1"], d["dsb"]) == (2, 2, 1.0, 1.0)


def test_evaluate_model_scores_an_instance_model_on_its_objects(tmp_path, monkeypatch):
    import unetlab.inference.predict as predict
    from unetlab.data.instances import boundary_target

    model = UNet(1, 3, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values = ["background", "boundary", "interior"], None
    model.objects = {
        "target": "instances",
        "count": 4,
        "images": 1,
        "area_min": 9.0,
        "area_p05": 9.0,
        "area_median": 12.0,
        "area_p95": 16.0,
        "area_max": 16.0,
    }
    ids = np.zeros((16, 16), np.uint16)
    ids[2:6, 2:6], ids[2:6, 6:10], ids[10:14, 3:7], ids[9:13, 11:15] = 3, 4, 8, 9  # 3 and 4 touch
    write_png(tmp_path / "images" / "a.png", (ids > 0).astype(np.uint8) * 200)
    write_png(tmp_path / "masks" / "a.png", ids)
    # a net that predicts the three-class target exactly: the objects come back one to one
    target = boundary_target(ids.astype(np.int32), boundary_width=1)
    exact = np.stack([target == k for k in range(3)]).astype(np.float32)
    monkeypatch.setattr(predict, "predict_fitted", lambda *args, **kwargs: exact)
    report = evaluate_model(model, tmp_path, device="cpu", thresholds=[0.5])
    s = report.summary
    assert report.class_names == ["background", "object"] and s["pixel_accuracy"] == 1.0
    assert (s["objects"], s["pred_objects"], s["object_f1"], s["dsb"]) == (4, 4, 1.0, 1.0)
    assert report.threshold is not None


def test_evaluate_reads_what_predict_instances_writes(tmp_path, capsys):
    """predict --instances -> <stem>_objects.tif -> evaluate: the objects counted are the
    rows of predict's CSV."""
    from unetlab.checkpoint import save_model

    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values = ["background", "boundary", "interior"], None
    model.objects = {
        "target": "instances",
        "count": 3,
        "images": 1,
        "area_min": 4.0,
        "area_p05": 4.0,
        "area_median": 9.0,
        "area_p95": 16.0,
        "area_max": 16.0,
    }
    save_model(tmp_path / "m.pt", model)
    ids = np.zeros((24, 24), np.uint16)
    ids[2:8, 2:8], ids[2:8, 8:14], ids[15:21, 4:10] = 1, 2, 3
    write_png(tmp_path / "images" / "a.png", (ids > 0).astype(np.uint8) * 180 + 20)
    write_png(tmp_path / "gt" / "a.png", ids)
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                str(tmp_path / "m.pt"),
                "--input",
                str(tmp_path / "images"),
                "--output",
                str(tmp_path / "out"),
                "--instances",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    rows = (tmp_path / "out" / "a_objects.csv").read_text().strip().splitlines()[1:]
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(tmp_path / "out"),
                "--gt",
                str(tmp_path / "gt"),
                "--gt-instances",
            ]
        )
        == 0
    )
    assert f"objects            {len(rows)} predicted, 3 true" in capsys.readouterr().out


def test_evaluating_a_checkpoint_on_its_training_images_says_so(tmp_path, caplog):
    from unetlab import evaluate_model
    from unetlab.train import fit

    from .test_train import tiny_config, write_blobs

    data = write_blobs(tmp_path / "data", 5)
    trained = fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    argv = ["evaluate", "--checkpoint", trained["best_checkpoint"], "--device", "cpu"]
    caplog.clear()
    assert main([*argv, "--data", str(data)]) == 0
    assert "note: 4 of these 5 images trained this checkpoint" in caplog.text  # 1 validates
    unseen = write_blobs(tmp_path / "unseen", 3, seed=1)
    caplog.clear()
    report = evaluate_model(trained["best_checkpoint"], unseen, device="cpu")  # the library too
    assert "trained this checkpoint" not in caplog.text and report.source["trained_images"] == 0
    assert evaluate_model(trained["best_checkpoint"], data).source["trained_images"] == 4


def test_evaluate_scores_the_val_folder_of_a_split_data_set(tmp_path, capsys, caplog):
    from unetlab.train import fit

    from .test_train import tiny_config, write_blobs

    root = tmp_path / "split"
    write_blobs(root / "train", 3)
    write_blobs(root / "val", 2, seed=1)
    trained = fit(tiny_config(root, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    argv = ["evaluate", "--checkpoint", trained["best_checkpoint"], "--device", "cpu"]
    capsys.readouterr()
    caplog.clear()
    assert main([*argv, "--data", str(root), "--json", str(tmp_path / "e.json")]) == 0
    assert "images             2" in capsys.readouterr().out
    assert "trained this checkpoint" not in caplog.text  # the note is a log warning
    assert main([*argv, "--data", str(root / "train")]) == 0  # where the note is due
    assert "note: 3 of these 3 images trained this checkpoint" in caplog.text
    from unetlab import evaluate_model

    by_path = evaluate_model(trained["best_checkpoint"], root, device="cpu")  # as a notebook
    assert by_path.summary["num_images"] == 2


def test_a_palette_model_ignores_the_void_value_its_training_ignored(tmp_path, caplog):
    """VOC's 255 outlines count nowhere in training (palette masks): nor in evaluate."""
    from unetlab.checkpoint import load_checkpoint
    from unetlab.config import load_config
    from unetlab.data.scenes import write_voc_scenes
    from unetlab.train import fit

    voc = write_voc_scenes(tmp_path / "voc", n_train=3, n_val=1, size=48)
    settings = ["model.depth=2", "model.base_channels=4", "data.tile_size=48", "train.epochs=1"]
    cfg = load_config(None, [f"data.root={voc}", *settings, "data.tiles_per_epoch=2"])
    best = fit(cfg, run_dir=tmp_path / "run", progress=False)["best_checkpoint"]
    assert load_checkpoint(best)["ignore_value"] == 255  # recorded where training applied it
    argv = ["evaluate", "--checkpoint", str(best), "--data", str(voc), "--device", "cpu"]
    caplog.clear()
    caplog.set_level(logging.INFO, logger="unetlab.evaluate")
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    assert "mask value 255 counts nowhere, as in the training of this checkpoint" in caplog.text
    assert "; --ignore-value sets another" in caplog.text  # the command's form alone (s55)
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["ignore_value"] == 255
    assert evaluate_model(best, voc, ignore_value=255).summary["miou"] == report["miou"]
    caplog.clear()
    assert main([*argv, "--ignore-value", "6"]) == 2  # given: 255 is then a bad value
    assert "counts nowhere, as in the training" not in caplog.text


def test_training_ignore_value_reads_the_checkpoints_config_and_palette():
    from unetlab.evaluate import training_ignore_value

    model = _tiny_model()
    assert training_ignore_value(model) is None  # no palette, no training record
    model.ignore_value = 9  # what a checkpoint records
    assert training_ignore_value(model) == 9
    model.ignore_value = None  # a checkpoint from before it was recorded
    model.training_data = {"label_values": None, "ignore_value": 7}
    assert training_ignore_value(model) == 7
    model.training_data["ignore_value"] = None
    model.palette = [[0, 0, 0]] * 256
    model.label_values = [0, 1, 2]
    assert training_ignore_value(model) == 255  # palette masks' values found by training
    model.training_data["label_values"] = [0, 1, 2]
    assert training_ignore_value(model) is None  # set by the config: 255 was no void
    model.training_data["label_values"], model.label_values = None, [0, 255]
    assert training_ignore_value(model) is None  # 255 is a class


def _scene_folders(tmp_path):
    """Seven-class scene masks (sky .. person, class indices) and noisy predictions."""
    from unetlab.data.scenes import synthetic_scene

    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        _, mask = synthetic_scene(48, rng)
        pred = mask.copy()
        pred[rng.random(mask.shape) < 0.05] = 3
        write_png(tmp_path / "gt" / f"{name}.png", mask.astype(np.uint8))
        write_png(tmp_path / "pred" / f"{name}.png", pred.astype(np.uint8))
    return tmp_path / "pred", tmp_path / "gt"


OBJECT_LINES = ("Rand error", "information score", "DSB score", "object F1", "PQ ", "SEG ")


def test_scene_classes_leave_out_the_isbi_and_object_scores(tmp_path, capsys):
    """Seven semantic classes: class 0 (sky) as 'boundary' and regions as 'objects' mean
    nothing; the table says why in one line, the JSON and the rows leave them out."""
    pred_dir, gt_dir = _scene_folders(tmp_path)
    names = ["sky", "road", "building", "vegetation", "pole", "sign", "person"]
    for kwargs in ({"class_names": names}, {}):  # classes known up front, or found
        report = evaluate_predictions(pred_dir, gt_dir, **kwargs)
        table, d = report.table(), report.to_dict()
        assert not any(line in table for line in OBJECT_LINES) and "predicted," not in table
        assert "ISBI and object scores left out for 7 classes" in table
        assert "; objects=True computes them" in table and "mIoU" in table  # the API's word
        assert not {"rand_error", "dsb", "pq", "seg", "objects"} & set(d)
        assert not {"rand_error", "dsb", "objects"} & set(d["images"][0])
    asked = evaluate_predictions(pred_dir, gt_dir, class_names=names, objects=True)
    assert all(line in asked.table() for line in OBJECT_LINES) and "rand_error" in asked.summary
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--class-names", *names]
    capsys.readouterr()
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert "Rand error" not in out and "left out for 7 classes" in out and "person" in out
    assert "; --object-scores computes them" in out and "objects=True" not in out  # the CLI's
    assert "rand_error" not in json.loads((tmp_path / "e.json").read_text())
    assert main([*argv, "--object-scores"]) == 0
    assert "Rand error" in capsys.readouterr().out


def test_a_multi_class_model_is_scored_on_pixels_only(tmp_path, monkeypatch):
    import types

    import unetlab.inference.predict

    probs = np.zeros((3, 6, 8), np.float32)
    probs[0], probs[1, :, 4:], probs[2, 3:] = 0.5, 0.9, 0.95
    monkeypatch.setattr(
        unetlab.inference.predict, "predict_fitted", lambda model, image, **kw: probs
    )
    mask = np.argmax(probs, 0).astype(np.uint8)
    write_png(tmp_path / "images" / "a.png", np.zeros(mask.shape, np.uint8))
    write_png(tmp_path / "masks" / "a.png", mask)
    model = types.SimpleNamespace(
        classes=["sky", "road", "car"], label_values=[0, 1, 2], in_channels=1
    )
    report = evaluate_model(model, tmp_path)
    assert report.summary["miou"] == 1.0 and "rand_error" not in report.summary
    assert "left out for 3 classes" in report.table()
    asked = evaluate_model(model, tmp_path, objects=True).summary
    assert asked["objects"] == 2 and asked["rand_error"] == 0.0  # road, car; sky: "boundary"
    two = types.SimpleNamespace(classes=["membrane", "cell"], label_values=[0, 1], in_channels=1)
    monkeypatch.setattr(
        unetlab.inference.predict, "predict_fitted", lambda model, image, **kw: probs[:2]
    )
    write_png(tmp_path / "masks" / "a.png", np.argmax(probs[:2], 0).astype(np.uint8))
    assert "Rand error" in evaluate_model(two, tmp_path).table()


@pytest.mark.parametrize("gt", ["voc", "voc/SegmentationClass"])
def test_saved_predictions_of_a_voc_folder_take_its_void_value_and_class_names(
    tmp_path, caplog, gt
):
    """As training and evaluate --checkpoint do: palette masks' 255 counts nowhere, and the
    classes are named from class_names.txt (beside SegmentationClass/)."""
    from unetlab.data.scenes import SCENE_CLASSES, write_voc_scenes

    voc = write_voc_scenes(tmp_path / "voc", n_train=0, n_val=2, size=40)
    for path in sorted((voc / "SegmentationClass").glob("*.png")):
        mask = read_mask(path)
        write_png(tmp_path / "pred" / path.name, np.where(mask == 255, 0, mask).astype(np.uint8))
    caplog.set_level(logging.INFO, logger="unetlab.evaluate")
    report = evaluate_predictions(tmp_path / "pred", tmp_path / gt)
    assert report.class_names == list(SCENE_CLASSES) and report.summary["pixel_accuracy"] == 1.0
    assert report.source["ignore_value"] == 255
    voided = sum(int((read_mask(p) == 255).sum()) for p in (voc / "SegmentationClass").iterdir())
    assert report.matrix.sum() == 2 * 40 * 40 - voided > 0
    assert f"class names from {voc / 'class_names.txt'}" in caplog.text
    assert f"value 255 (VOC's void outlines, {voided} px) counts nowhere" in caplog.text
    # Python's spelling alone (s55 review: flag and keyword at once)
    assert "(class_names= gives others)" in caplog.text
    assert "training; ignore_value= or label_values= say otherwise" in caplog.text
    assert "--" not in caplog.text
    by_value = evaluate_predictions(tmp_path / "pred", voc, label_values=[0, 1, 2, 3, 4, 5, 6, 255])
    assert by_value.class_names == [*SCENE_CLASSES, "255"]  # 255 a class when listed
    given = evaluate_predictions(tmp_path / "pred", voc, class_names=list("abcdefg"))
    assert given.class_names == list("abcdefg")
    caplog.clear()
    with pytest.raises(UnetlabError, match=r"hold values 0 1 .* 255 but"):  # --ignore-value 6 wins
        evaluate_predictions(tmp_path / "pred", voc, ignore_value=6)
    assert "void outlines" not in caplog.text


def test_class_names_file_names_the_classes_found_beyond_it(tmp_path, caplog):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    (tmp_path / "class_names.txt").write_text("# a comment\nmembrane\n")
    caplog.set_level(logging.INFO, logger="unetlab.evaluate")
    report = evaluate_predictions(pred_dir, gt_dir, label_values=[0, 255])
    assert report.class_names == ["membrane", "255"] and "void" not in caplog.text
    write_png(gt_dir / "a.png", GOOD)  # class indices: 0 named, 1 found
    assert evaluate_predictions(pred_dir, gt_dir).class_names == ["membrane", "1"]


def test_cli_json_over_a_picture_is_a_typo_even_with_overwrite(tmp_path, capsys):
    pred_dir, gt_dir = _folders(tmp_path, {"a": GOOD})
    picture = tmp_path / "pic.png"
    picture.write_bytes(b"a picture")
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--label-values", "0", "255"]
    assert main([*argv, "--json", str(picture), "--overwrite"]) == 2
    assert "would replace this .png file with JSON" in capsys.readouterr().err
    assert picture.read_bytes() == b"a picture"


def test_a_movies_rows_end_with_page_frame_and_time_as_predicts_tables(tmp_path):
    """Audit s37: evaluate's per-image CSV named a movie's frames movie[1] only, where
    predict's tables give page, t and t_s: now the same columns, last (a one-page image's
    empty), the earlier columns as they were."""
    import csv

    import tifffile

    data, pred = tmp_path / "data", tmp_path / "p"
    for folder in (data / "images", data / "masks", pred):
        folder.mkdir(parents=True)
    write_png(data / "images" / "a.png", GT)
    write_png(data / "masks" / "a.png", GT)
    write_png(pred / "a.png", GOOD)
    movie = np.stack([GT, GT, GT])
    timed = dict(imagej=True, metadata={"axes": "TYX", "finterval": 2.5, "unit": "um"})
    tifffile.imwrite(data / "images" / "movie.tif", movie, **timed)
    tifffile.imwrite(data / "masks" / "movie.tif", movie, **timed)
    tifffile.imwrite(pred / "movie.tif", np.stack([GOOD, MERGED, GOOD]), **timed)
    report = evaluate_predictions(pred, data, label_values=[0, 255])
    with report.write_csv(tmp_path / "eval_images.csv").open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header[:4] == ["name", "miou", "mdice", "pixel_accuracy"]
    assert header[-3:] == ["page", "t", "t_s"]
    cells = {row[0]: dict(zip(header, row)) for row in rows}
    assert [cells["a"][k] for k in ("page", "t", "t_s")] == ["", "", ""]
    assert [cells["movie[2]"][k] for k in ("page", "t", "t_s")] == ["2", "2", "5"]
    assert float(cells["movie[1]"]["pixel_error"]) == pytest.approx(6 / 48)


def test_evaluate_model_gives_a_z_stacks_rows_their_page_and_plane(tmp_path):
    """The checkpoint's side of the audit s37 case: a z-stack's rows end with page and z
    (no t or t_s: it has no frames)."""
    import tifffile

    rng = np.random.default_rng(0)
    stack = rng.integers(0, 255, (2, 20, 24), np.uint8)
    for role, pages in (("images", stack), ("masks", np.where(stack < 50, 0, 255))):
        (tmp_path / role).mkdir()
        meta = dict(imagej=True, metadata={"axes": "ZYX"})
        tifffile.imwrite(tmp_path / role / "z.tif", pages.astype(np.uint8), **meta)
    rows = evaluate_model(_tiny_model(), tmp_path).images
    assert [r["name"] for r in rows] == ["z[0]", "z[1]"]
    assert [(r["page"], r["z"], "t" in r, "t_s" in r) for r in rows] == [
        (0, 0, False, False),
        (1, 1, False, False),
    ]


def test_a_class_index_beyond_the_classes_names_the_mask_that_holds_it(tmp_path):
    """Audit s43 scenes: a stray index 11 in one of a test set's palette masks, beside an
    11-class model's predictions, was refused without naming the mask."""
    truth = np.zeros((4, 6), np.uint8)
    truth[:, 3:] = 1
    for name in ("a", "b", "c"):
        stray = truth.copy()
        stray[0, 0] = 2 if name == "b" else 0
        write_png(tmp_path / "gt" / f"{name}.png", stray)
        write_png(tmp_path / "pred" / f"{name}.png", truth)
    with pytest.raises(UnetlabError) as err:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=["sky", "road"])
    assert str(err.value).startswith(
        "the masks hold class index 2 (in b) but there are 2 classes (sky, road): fix the "
        "mask where it is a stray value; else"
    )
