"""0/255 masks scored with --ignore-value 0 alone (review s64): 0 ignored leaves the masks
one class, 255, and the predictions' 0 was scored as a class of no mask (mIoU 0.4375 where
--label-values 0 255 gives 0.9175, without a word): refused in one line naming the fix."""

import numpy as np
import pytest
from PIL import Image

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


def test_a_prediction_holding_the_ignore_value_is_told_so(tmp_path, capsys):
    """Review s64: a class map holding the --ignore-value (128: the masks' outlines) was told
    to give it as one of --label-values, which an ignore value cannot be."""
    pred, gt = _binary(tmp_path)
    for folder in (gt, pred):
        values = np.asarray(Image.open(folder / "a.png"))
        values = values.copy()
        values[:2] = 128
        write_png(folder / "a.png", values)
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main([*argv, "--ignore-value", "128"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give as --label-values" not in err
    assert f"{pred / 'a.png'} holds 128, the masks' ignore value (--ignore-value 128)" in err
    assert err.rstrip().endswith(
        "is none of the label values 0 255 (another tool's void?): write the class predicted there"
    )
    with pytest.raises(MaskValuesError, match=r"ignore value \(ignore_value=128\)"):
        evaluate_predictions(pred, gt, label_values=[0, 255], ignore_value=128, progress=False)
