"""0/255 masks scored with --ignore-value 0 alone (review s64): 0 ignored leaves the masks
one class, 255, and the predictions' 0 was scored as a class of no mask (mIoU 0.4375 where
--label-values 0 255 gives 0.9175, without a word): refused in one line naming the fix."""

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions
from unetlab.evaluate.checks import MaskValuesError


def _binary(root):
    """A 0/255 mask and a prediction of the same values, 40 px of the square missed."""
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255
    pred = mask.copy()
    pred[10:12, 10:30] = 0
    write_png(root / "gt" / "a.png", mask)
    write_png(root / "pred" / "a.png", pred)
    return root / "pred", root / "gt"


def test_binary_masks_with_their_0_ignored_are_refused_naming_label_values(tmp_path):
    pred, gt = _binary(tmp_path)
    with pytest.raises(MaskValuesError) as refused:
        evaluate_predictions(pred, gt, ignore_value=0, progress=False)
    said = str(refused.value)
    assert "ignore_value=0 leaves them one class, 255, where the predictions hold 0 too" in said
    assert said.endswith(
        "give label_values=[0, 255] without ignore_value to score 0 as a class beside 255"
    )
    two = evaluate_predictions(pred, gt, label_values=[0, 255], progress=False)
    assert two.summary["miou"] > 0.9  # the fix scores them


def test_the_command_says_it_in_one_line_with_its_flags(tmp_path, capsys):
    pred, gt = _binary(tmp_path)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--ignore-value", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "--ignore-value 0 leaves them one class, 255" in err
    assert "give --label-values 0 255 without --ignore-value" in err


@pytest.mark.parametrize(
    "top, stray", [(1, None), (255, 128), (7, None)], ids=["0/1", "stray", "0/7"]
)
def test_the_refusal_is_decided_by_the_masks(tmp_path, capsys, top, stray):
    """Review s65: 0/1 masks (B: mIoU 0.45 beside 0.9) and a prediction holding one stray
    value (C) were scored; 0/7 masks whose 0 is void (G) were told 0 is 'the background'."""
    pred, gt = _binary(tmp_path)
    for folder in (gt, pred):
        values = (np.asarray(Image.open(folder / "a.png")) > 0) * top
        write_png(folder / "a.png", values.astype(np.uint8))
    if stray is not None:  # one pixel of the prediction
        values[0, 0] = stray
        write_png(pred / "a.png", values.astype(np.uint8))
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--ignore-value", "0"]) == 2
    err = capsys.readouterr().err
    assert f"give --label-values 0 {top} without --ignore-value to score 0 as a class" in err
    assert "background" not in err


def _void_copied(root, held_labelled: bool) -> None:
    """Cityscapes-like masks, classes 0..3 and 255 void in the top rows, and a prediction
    copying the void, with (``held_labelled``) 18 more pixels of 255 inside class 1."""
    mask = np.zeros((40, 40), np.uint8)
    mask[:, 10:20], mask[:, 20:30], mask[:, 30:], mask[:3] = 1, 2, 3, 255
    pred = mask.copy()
    pred[5:8, 12:18] = 255 if held_labelled else 2
    write_png(root / "gt" / "a.png", mask)
    write_png(root / "pred" / "a.png", pred)


@pytest.mark.parametrize("held_labelled", [False, True], ids=["void-only", "on-a-class"])
def test_a_predicted_ignore_value_scores_alike_with_label_values(tmp_path, held_labelled):
    """Review s65 (D): --ignore-value 255 alone scored such a map (mIoU 0.9762, 'scored
    nowhere' where the masks ignore it too); with --label-values 0 1 2 3 it was refused,
    told to write the class predicted there. Now both score it the same: nowhere where the
    masks ignore it, wrong for their class where they hold one (review s66: not as a class
    255 of IoU 0 in the mIoU, 0.7903; class 1's IoU 352/370 beside three of 1.0)."""
    _void_copied(tmp_path, held_labelled)
    said = []
    for given in (None, [0, 1, 2, 3]):
        s = evaluate_predictions(
            tmp_path / "pred", tmp_path / "gt", label_values=given, ignore_value=255, progress=False
        ).summary
        said.append((s["miou"], s["predicted_ignore_pixels"], s["predicted_ignore_scored"]))
    assert said[0] == said[1]
    miou = 0.9878 if held_labelled else 0.9762
    assert said[0] == (
        pytest.approx(miou, abs=1e-4),
        138 if held_labelled else 120,
        18 * held_labelled,
    )


def test_an_empty_prediction_holding_the_ignore_value_is_scored_too(tmp_path, capsys):
    """Review s65 (flip 'one'): 0/1 masks, 255 ignored; a prediction of 0 and 255 only (no
    object found) was told to give 255 among --label-values (refused as a class map of one
    class), where a prediction of 0, 1 and 255 was not; both are scored as without them."""
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30], mask[:2] = 1, 255
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", np.where(mask == 255, 255, 0).astype(np.uint8))
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    for given in ([], ["--label-values", "0", "1"]):
        assert main([*argv, *given, "--ignore-value", "255"]) == 0
        out = capsys.readouterr().out
        assert "mIoU               0.3684" in out
        assert "80 where the masks ignore them too (scored nowhere); they are no object" in out


def test_a_predictions_no_data_is_no_predicted_0(tmp_path):
    """Review s65: 0/7 masks whose 0 is void, a map of 7 everywhere but its no-data 9 (a PNG
    text key): the no-data pixels, 0 once scored nowhere, were counted as 0 predicted and
    the map refused as 'the predictions hold 0 too'."""
    mask = np.zeros((40, 40), np.uint8)
    mask[5:35, 5:35] = 7
    pred = np.full((40, 40), 7, np.uint8)
    pred[:, :4] = 9
    write_png(tmp_path / "gt" / "a.png", mask)
    info = PngImagePlugin.PngInfo()
    info.add_text("nodata", "9")
    (tmp_path / "pred").mkdir()
    Image.fromarray(pred).save(tmp_path / "pred" / "a.png", pnginfo=info)
    report = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", ignore_value=0, progress=False
    )
    assert report.summary["miou"] == pytest.approx(1.0)


def test_class_indices_copying_the_void_beside_label_values_are_scored(tmp_path, capsys):
    """Review s65: masks of 10/20/30 and 255 void; a map of class indices 0/1/2 copying the
    255 (scored 1.0 without it) was read as mask values by its 255 and refused 'give as
    --label-values the mask value of each class'."""
    mask = np.full((40, 40), 10, np.uint8)
    mask[:, 15:30], mask[:, 30:], mask[:3] = 20, 30, 255
    pred = np.select([mask == 10, mask == 20, mask == 30], [0, 1, 2], 255).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", pred)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--label-values", "10", "20", "30", "--ignore-value", "255"]) == 0
    out = capsys.readouterr().out
    assert "mIoU               1.0000" in out
    assert "120 where the masks ignore them too (scored nowhere); they are no object" in out


@pytest.mark.parametrize("void", [False, True], ids=["masks-without-255", "255-elsewhere"])
@pytest.mark.parametrize("given", [None, [0, 1]], ids=["indices", "label-values"])
def test_a_0_255_foreground_map_beside_0_1_masks_ignoring_255_is_refused(tmp_path, void, given):
    """Review s65 round 2: a Fiji-like 0/255 foreground map beside 0/1 masks, 255 ignored,
    was scored (mIoU 0.3226, 'predicted 255 ... 360 where the masks hold a class': as if
    the model predicted void). Its 255 is a class: none of it falls where the masks hold
    255 (or they hold none), so it is refused naming the mismatch and the fix."""
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 1
    if void:
        mask[:2] = 255
    pred = (mask == 1).astype(np.uint8) * 255
    pred[10:12, 10:30] = 0
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", pred)
    with pytest.raises(MaskValuesError) as refused:
        evaluate_predictions(
            tmp_path / "pred", tmp_path / "gt", label_values=given, ignore_value=255, progress=False
        )
    said = str(refused.value)
    where = "none where the masks hold it" if void else "the masks hold no 255"
    assert (
        f"a.png holds 255, the masks' ignore value (ignore_value=255), on 360 pixels, {where}: that 255 is a class, not void"
        in said
    )
    assert "write the maps in the masks' class values, each 255 as the class it marks" in said
    assert "without" not in said  # scored as a class (0.3226) or as void: the low score it stops
