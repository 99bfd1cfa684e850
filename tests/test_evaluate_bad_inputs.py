"""evaluate refuses predictions and images it cannot score, in one line naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png, write_tiff
from unetlab.errors import UnetlabError, command_spelling
from unetlab.evaluate import evaluate_model, evaluate_predictions
from unetlab.models import UNet

GT = np.zeros((6, 8), np.uint8)
GT[:, 4:] = 1


def _folders(tmp_path, pred: np.ndarray):
    write_png(tmp_path / "gt" / "a.png", GT)
    write_tiff(tmp_path / "pred" / "a.tif", pred)
    return tmp_path / "pred", tmp_path / "gt"


@pytest.mark.parametrize("value", [0.9, np.nan, np.inf])
def test_a_class_map_of_fractions_or_nan_is_refused_naming_the_file(tmp_path, capsys, value):
    # a probability map saved under the labels' name: a cast read 0.9 as class 0, silently
    pred = GT.astype(np.float32)
    pred[0, 0] = value
    pred_dir, gt_dir = _folders(tmp_path, pred)
    with pytest.raises(UnetlabError, match=r"a\.tif: a class map holds class indices") as e:
        evaluate_predictions(pred_dir, gt_dir)
    fix = "each pixel (object ids: {}; probabilities: threshold them first, or evaluate the "
    fix += "checkpoint with {})"  # each caller its form (s56: Python was told the flags)
    assert str(e.value).endswith(
        fix.format("pred_instances=True", "evaluate_model(model, data_dir)")
    )
    assert main(["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a.tif" in err and "Traceback" not in err
    assert err.endswith(fix.format("--pred-instances", "--checkpoint --data"))


def test_a_negative_class_map_is_refused(tmp_path):
    pred_dir, gt_dir = _folders(tmp_path, GT.astype(np.int16) - 1)
    with pytest.raises(UnetlabError, match=r"a\.tif: a class map holds class indices .* -1"):
        evaluate_predictions(pred_dir, gt_dir)


def test_a_negative_mask_value_is_refused_naming_the_ignore_value_not_left_out(tmp_path, capsys):
    """A -1 in an int16 ground-truth mask (not given as the ignore value) was IGNORE_INDEX's
    own value: its pixels were left out unsaid, and the report called them "the masks'
    ignore value" (s51 walkbad). Given as the ignore value, they count nowhere."""
    gt = GT.astype(np.int16)
    gt[0, :3] = -1
    write_tiff(tmp_path / "gt" / "a.tif", gt)
    write_tiff(tmp_path / "pred" / "a.tif", GT)
    pred_dir, gt_dir = tmp_path / "pred", tmp_path / "gt"
    with pytest.raises(
        UnetlabError, match=r"a.tif: mask values -1..1 .* ignore_value=-1 if -1 marks"
    ):
        evaluate_predictions(pred_dir, gt_dir)
    assert main(["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--ignore-value -1 if -1 marks" in err
    report = evaluate_predictions(pred_dir, gt_dir, ignore_value=-1)
    assert report.matrix.sum() == GT.size - 3


def test_a_float_class_map_of_whole_numbers_is_scored(tmp_path):
    pred_dir, gt_dir = _folders(tmp_path, GT.astype(np.float32))
    assert evaluate_predictions(pred_dir, gt_dir).summary["miou"] == 1.0


def test_evaluate_model_names_the_image_with_nan_pixels(tmp_path):
    image = np.zeros((16, 16), np.float32)
    image[3, 4] = np.nan
    write_tiff(tmp_path / "images" / "b.tif", image)
    write_png(tmp_path / "masks" / "b.png", np.zeros((16, 16), np.uint8))
    model = UNet(1, 2, depth=1, base_channels=2, padding="same")
    model.classes = ["background", "object"]
    with pytest.raises(UnetlabError, match=r"images/b\.tif: 1 NaN or infinite pixel"):
        evaluate_model(model, tmp_path)


def test_a_mask_value_no_class_of_the_checkpoint_is_refused_naming_the_file(tmp_path, capsys):
    # refused once every image was predicted, without naming the file, and naming
    # --gt-instances, which --checkpoint refuses (s37)
    from unetlab.checkpoint import save_model

    for name, top in (("a", 1), ("b", 1), ("c", 255)):
        mask = np.zeros((16, 16), np.uint8)
        mask[4:9, 4:9] = 1
        mask[0:2, 0:2] = top
        write_png(tmp_path / "data" / "images" / f"{name}.png", np.full((16, 16), 9, np.uint8))
        write_png(tmp_path / "data" / "masks" / f"{name}.png", mask)
    model = UNet(1, 2, depth=1, base_channels=2, padding="same")
    model.classes = ["background", "cell"]
    with pytest.raises(UnetlabError, match=r"c\.png: mask value 255 is no class of the"):
        evaluate_model(model, tmp_path / "data")
    save_model(tmp_path / "m.pt", model)
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    assert main([*argv, "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "c.png" in err and "0..1: background, cell" in err
    assert "--ignore-value 255" in err and "gt_instances" not in err
    assert main([*argv, "--device", "cpu", "--ignore-value", "255"]) == 0  # its fix


def test_16_bit_object_ids_against_a_semantic_checkpoint_name_no_pred_flag(tmp_path):
    # told to pass --label-values, which --checkpoint refuses (s37)
    ids = np.zeros((16, 16), np.uint16)
    ids[2:6, 2:6], ids[8:12, 8:12] = 4100, 5000
    write_png(tmp_path / "images" / "a.png", np.full((16, 16), 9, np.uint8))
    write_tiff(tmp_path / "masks" / "a.tif", ids)
    model = UNet(1, 2, depth=1, base_channels=2, padding="same")
    model.classes = ["background", "cell"]
    with pytest.raises(UnetlabError, match=r"a\.tif: mask values 4100 5000 are no class") as e:
        evaluate_model(model, tmp_path)
    assert "label" not in str(e.value) and "instance" in str(e.value)


def test_the_masks_given_as_the_predictions_are_refused(tmp_path, capsys):
    """--pred and --gt the same folder (or --gt the data folder of --pred's masks/, or a link
    to it): every figure was 1.0 without a word (audit s37 paths)."""
    write_png(tmp_path / "data" / "images" / "a.png", GT)
    write_png(tmp_path / "data" / "masks" / "a.png", GT)
    masks = tmp_path / "data" / "masks"
    (tmp_path / "link").symlink_to(masks)
    for gt in (masks, tmp_path / "data", tmp_path / "link"):
        with pytest.raises(UnetlabError, match=r"a\.png is both\): they would score 1\.0"):
            evaluate_predictions(masks, gt)
    assert main(["evaluate", "--pred", f"{masks}/", "--gt", str(masks)]) == 2
    assert "give the folder of the predictions" in capsys.readouterr().err
    write_png(tmp_path / "pred" / "a.png", GT)  # a copy of the masks: scored, as before
    assert evaluate_predictions(tmp_path / "pred", masks).images[0]["miou"] == 1.0


def _tracked_masks(gt, pred, *, ids: int) -> None:
    """Three frames of a short tracked movie's masks (ids 1..``ids``, each one region, the
    same in every frame) and binary predictions of them."""
    gt.mkdir()
    pred.mkdir()
    for k in range(3):
        mask = np.zeros((40, 60), np.uint8)
        for i in range(1, ids + 1):
            mask[5 + k : 15 + k, i * 8 : i * 8 + 6] = i
        write_png(gt / f"f{k}.png", mask)
        write_png(pred / f"f{k}.png", (mask > 0).astype(np.uint8))


def test_masks_of_the_same_few_ids_read_as_classes_are_said_to_look_like_ids(tmp_path, caplog):
    """Instance masks holding ids 1..6 in every file were scored as 7 classes unsaid, where
    training says they look like object ids (9435883): evaluate says it, naming its flag."""
    _tracked_masks(tmp_path / "gt", tmp_path / "pred", ids=6)
    with caplog.at_level("WARNING", logger="unetlab"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    assert len(report.class_names) == 7  # scored as classes: said, not decided
    assert "they look like object ids: each of the 3 masks holds the same 6 values" in caplog.text
    assert "score them as objects with gt_instances=True" in caplog.text  # Python's form
    assert "--gt-instances" not in caplog.text  # s55 review: flag and keyword at once
    caplog.clear()
    _tracked_masks(tmp_path / "gt3", tmp_path / "pred3", ids=3)  # too few to look like ids
    with caplog.at_level("WARNING", logger="unetlab"):
        evaluate_predictions(tmp_path / "pred3", tmp_path / "gt3")
    assert "look like object ids" not in caplog.text


def test_a_class_model_scored_on_masks_of_the_same_few_ids_says_they_look_like_ids(
    tmp_path, caplog
):
    """evaluate --checkpoint --data scored a tracked movie's ids 1..6 as a 7-class model's
    classes unsaid, where training and evaluate --gt say they look like object ids."""
    (tmp_path / "data" / "images").mkdir(parents=True)
    _tracked_masks(tmp_path / "data" / "masks", tmp_path / "pred", ids=6)
    for k in range(3):
        write_png(tmp_path / "data" / "images" / f"f{k}.png", np.full((40, 60), 9, np.uint8))
    model = UNet(1, 7, depth=1, base_channels=2, padding="same")
    with caplog.at_level("WARNING", logger="unetlab"):
        evaluate_model(model, tmp_path / "data")
    assert "they look like object ids: each of the 3 masks holds the same 6 values" in caplog.text
    # evaluate_model in a notebook: as Python sets it (s53: it was told --set)
    assert "train an instance model on them (cfg.data.target = 'instances')" in caplog.text
    # ... or this model's objects scored against them as ids (s59: no gt_instances named)
    scored = "evaluate_predictions(..., gt_instances=True) after predict_folder(..., objects="
    assert f"or score this model's objects on them with {scored}True)" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="unetlab"), command_spelling():
        evaluate_model(model, tmp_path / "data")  # as the command line runs
    assert "train an instance model on them (--set data.target=instances)" in caplog.text
    scored = "with evaluate --pred --gt-instances after unetlab predict --instances"
    assert scored in caplog.text and "gt_instances" not in caplog.text
    caplog.clear()
    model.classes = ["bg", "a", "b", "c", "d", "e", "f"]  # named: the data set's classes
    with caplog.at_level("WARNING", logger="unetlab"):
        evaluate_model(model, tmp_path / "data")
    assert "look like object ids" not in caplog.text


def test_label_values_as_an_array_of_mask_values_are_taken_and_others_refused(tmp_path):
    # s53 badinput3: np.unique(mask) raised numpy's "truth value of an array ... is ambiguous"
    mask = GT * 255
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", GT)
    pred_dir, gt_dir = tmp_path / "pred", tmp_path / "gt"
    report = evaluate_predictions(pred_dir, gt_dir, label_values=np.unique(mask), progress=False)
    assert report.images[0]["pixel_accuracy"] == 1.0 and report.class_names == ["0", "255"]
    with pytest.raises(UnetlabError, match=r"^label_values must be a list of integers.*0\.5"):
        evaluate_predictions(pred_dir, gt_dir, label_values=np.array([0.5, 1.0]))
    # whole floats (np.unique of a float mask) were taken before s53 (reviewB s53)
    floats = np.unique(mask.astype(np.float32))
    report = evaluate_predictions(pred_dir, gt_dir, label_values=floats, progress=False)
    assert report.images[0]["pixel_accuracy"] == 1.0 and report.class_names == ["0", "255"]
    from unetlab.evaluate.checks import int_values

    assert int_values([0.0, 255.0], "label_values") == [0, 255]
    assert int_values((0, np.uint16(7)), "label_values") == [0, 7]
    for bad in ([0.0, np.nan], [0.0, 0.5], [0.0, np.inf], [True, 2], np.array([False, True])):
        with pytest.raises(UnetlabError, match=r"^label_values must be a list of integers"):
            int_values(bad, "label_values")


def test_one_class_name_against_two_classes_says_one_class_in_one_line(tmp_path, capsys):
    # s53 badinput3: "but there are 1 classes (a)"
    write_png(tmp_path / "gt" / "a.png", GT)
    write_png(tmp_path / "pred" / "a.png", GT)
    args = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*args, "--class-names", "a"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "but there is 1 class (a):" in err
    # the fix is more names, not other predictions (it said "predictions must hold class
    # indices (not label values such as 255 ...)")
    assert "give a name to each of the 2 classes" in err and "label values" not in err


def test_the_miou_over_the_one_class_the_masks_hold_is_said_in_the_singular():
    from unetlab.evaluate.report import _unseen_line

    s = {"iou": [1.0, 0.0], "pixels": [24, 0]}
    (line,) = _unseen_line(s, ["background", "cell"])
    assert "mIoU over the 1 class the masks hold: 1.0000" in line
