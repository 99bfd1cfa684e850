"""Masks of class indices that lack a class (a test set without a rare one) beside a void
value are told the ignore value, not label values of the values they hold (s51 scene255:
a road test set's 0 1 2 4 5 6 7 8 10 255 was told --label-values of those 10 values for 11
classes, which would read mask value 4 as class 3)."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_predictions
from unetlab.evaluate.checks import MaskValuesError, check_class_indices


def test_masks_lacking_a_class_beside_255_are_told_the_ignore_value():
    held = np.array([0, 1, 2, 4, 5, 6, 7, 8, 10, 255])
    with pytest.raises(MaskValuesError) as caught:
        check_class_indices(held, 10)
    assert "give ignore_value=255 if it marks pixels that count nowhere" in str(caught.value)
    assert "label_values" not in str(caught.value)


def test_binary_0_255_masks_are_still_told_label_values():
    with pytest.raises(MaskValuesError, match=r"label_values=\[0, 255\]"):
        check_class_indices(np.array([0, 255]), 1)


def test_named_classes_beside_a_255_are_told_the_ignore_value_which_scores_it_nowhere(
    tmp_path, capsys
):
    """Masks 0 1 255 with two class names: the refusal named fixing the mask or label
    values, not the ignore value; given it, the 255 counts nowhere (no class of IoU 0)."""
    from unetlab.cli import main
    from unetlab.data.io import write_png

    gt = np.zeros((32, 32), np.uint8)
    gt[10:20, 10:20] = 1
    write_png(tmp_path / "pred" / "a.png", gt)
    gt[:2] = 255
    write_png(tmp_path / "gt" / "a.png", gt)
    args = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*args, "--class-names", "bg", "fg"]) not in (0, None)
    err = capsys.readouterr().err.strip()
    said = "masks of object ids need {}, and a value that marks pixels that count nowhere "
    said += "(VOC's 255) {}"  # each caller its own form, not both (s56)
    assert err.endswith(said.format("--gt-instances", "--ignore-value 255")), err
    assert len(err.splitlines()) == 1 and "ignore_value" not in err
    with pytest.raises(UnetlabError) as error:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=["bg", "fg"])
    assert str(error.value).endswith(said.format("gt_instances=True", "ignore_value=255"))
    assert "(label_values=[...]: the mask value of each class)" in str(error.value)
    assert main([*args, "--class-names", "bg", "fg", "--ignore-value", "255"]) in (0, None)
    out = capsys.readouterr().out
    assert "mIoU               1.0000" in out and "6% ignored" in out


def test_the_tables_stray_value_line_gives_each_caller_its_form():
    """The evaluation table's line on a stray mask value told both forms at once ("--ignore-value
    255 (ignore_value=255)", s55 newuser2): Python's keywords to a notebook, the flags on the
    command line."""
    from unetlab.errors import command_spelling
    from unetlab.evaluate.report import _stray_line

    names = ["0", "1", "2", "3", "4", "255"]
    (python,) = _stray_line([2, 3, 4], [5], names, None)
    assert "ignore_value=255 if it marks" in python and "or label_values= the" in python
    assert "--" not in python
    with command_spelling():
        (cli,) = _stray_line([2, 3, 4], [5], names, None)
    assert "--ignore-value 255 if it marks" in cli and "--label-values the mask values" in cli
    assert "ignore_value" not in cli and "label_values" not in cli


def test_a_mask_value_no_class_of_the_checkpoint_has_is_told_each_caller_s_commands():
    """evaluate --checkpoint's refusal told a notebook to score object ids 'after unetlab
    predict --instances' (s56): each caller is told its own commands."""
    from unetlab.evaluate.checks import check_model_classes

    with pytest.raises(MaskValuesError) as error:
        check_model_classes(np.array([0, 1, 255]), ["background", "nuclei"], "m.png")
    assert str(error.value).endswith(
        "or with evaluate_predictions(..., gt_instances=True) after predict_folder(..., "
        "objects=True)"
    )
    assert error.value.cli.endswith(
        "or with evaluate --pred --gt-instances after unetlab predict --instances"
    )


def test_a_data_path_with_braces_is_named_whole_in_the_checkpoint_class_refusal(tmp_path, capsys):
    """check_model_classes ran str.format over a line holding the mask's path: a data folder
    "run {1}" raised ValueError ("cannot switch from manual field specification"), told
    "this is a bug" (s56 review E). Python and the command line each name it whole."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.data.io import write_png
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    root = tmp_path / "run {1}"
    write_png(root / "data" / "images" / "a.png", np.full((32, 32), 9, np.uint8))
    mask = np.zeros((32, 32), np.uint8)
    mask[4:10, 4:10], mask[0, 0] = 1, 5
    write_png(root / "data" / "masks" / "a.png", mask)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes = ["background", "{0} cell"]
    said = f"{root / 'data' / 'masks' / 'a.png'}: mask value 5 is no class of the "
    said += "checkpoint (class indices 0..1: background, {0} cell): fix that mask"
    with pytest.raises(MaskValuesError) as caught:
        evaluate_model(model, root / "data", progress=False)
    assert str(caught.value).startswith(said)
    assert "give ignore_value=5 if its pixels count nowhere" in str(caught.value)
    checkpoint = save_model(root / "m.pt", model)
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(root / "data")]
    assert main([*argv, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"unetlab evaluate: error: {said}") and "bug" not in err
    assert "give --ignore-value 5 if its pixels count nowhere" in err
